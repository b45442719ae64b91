//! Repository of `clientcustomers`. Every filter carries the token's `clientId`.

use bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use futures::TryStreamExt;
use mongodb::{options::ReturnDocument, ClientSession, Collection, Database};

use crate::{
    customer::model::CustomerDoc,
    error::{is_duplicate_key, AppError},
};

pub fn coll(db: &Database) -> Collection<CustomerDoc> {
    db.collection("clientcustomers")
}

pub async fn find_by_phone(db: &Database, client_id: ObjectId, phone: &str) -> Result<Option<CustomerDoc>, AppError> {
    Ok(coll(db).find_one(doc! { "clientId": client_id, "phoneNumber": phone }).await?)
}

pub async fn find_by_id(db: &Database, client_id: ObjectId, id: ObjectId) -> Result<Option<CustomerDoc>, AppError> {
    Ok(coll(db).find_one(doc! { "_id": id, "clientId": client_id }).await?)
}

/// Outcome of an atomic insert-if-absent.
pub enum Upserted {
    /// This call inserted `new`.
    Inserted,
    /// The phone was already a customer of this client.
    Existing(CustomerDoc),
    /// A concurrent insert of the same phone won the unique index; read again.
    Raced,
}

/// Insert `new` unless the client already has a customer with this phone (one atomic
/// upsert on the unique `{clientId, phoneNumber}` index), inside the caller's transaction.
/// On [`Upserted::Raced`] the caller must abort the transaction (the write failed).
pub async fn insert_if_absent(db: &Database, s: &mut ClientSession, new: &CustomerDoc) -> Result<Upserted, AppError> {
    let mut on_insert = bson::to_document(new)?;
    on_insert.remove("clientId");
    on_insert.remove("phoneNumber");
    let r = coll(db)
        .find_one_and_update(
            doc! { "clientId": new.client_id, "phoneNumber": &new.phone_number },
            doc! { "$setOnInsert": on_insert },
        )
        .upsert(true)
        .return_document(ReturnDocument::Before)
        .session(s)
        .await;
    match r {
        Ok(None) => Ok(Upserted::Inserted),
        Ok(Some(existing)) => Ok(Upserted::Existing(existing)),
        Err(e) if is_duplicate_key(&e) => Ok(Upserted::Raced),
        Err(e) => Err(e.into()),
    }
}

/// `$set` validated fields (plus `updatedAt`) inside the caller's transaction; `None` when
/// the customer is not this client's.
pub async fn update_fields(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
    mut set: Document,
) -> Result<Option<CustomerDoc>, AppError> {
    set.insert("updatedAt", DateTime::now());
    Ok(coll(db)
        .find_one_and_update(doc! { "_id": id, "clientId": client_id }, doc! { "$set": set, "$inc": { "__v": 1 } })
        .return_document(ReturnDocument::After)
        .session(s)
        .await?)
}

/// Customers of the client, newest first (`createdAt` desc, then `_id` desc).
pub async fn list(
    db: &Database,
    client_id: ObjectId,
    search: Option<Document>,
    after: Option<(DateTime, ObjectId)>,
    limit: Option<i64>,
) -> Result<Vec<CustomerDoc>, AppError> {
    let mut and = vec![doc! { "clientId": client_id }];
    if let Some(s) = search {
        and.push(s);
    }
    if let Some((at, id)) = after {
        and.push(doc! { "$or": [
            { "createdAt": { "$lt": at } },
            { "createdAt": at, "_id": { "$lt": id } },
        ] });
    }
    let coll = coll(db);
    let mut find = coll.find(doc! { "$and": and }).sort(doc! { "createdAt": -1, "_id": -1 });
    if let Some(l) = limit {
        find = find.limit(l);
    }
    Ok(find.await?.try_collect().await?)
}

pub enum Deleted {
    Done,
    NotFound,
    /// The customer still owes money (`outstandingBalance` > 0).
    HasBalance,
}

/// Delete for real (inside the caller's transaction), unless the customer still has an
/// outstanding balance.
pub async fn delete(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Deleted, AppError> {
    let r = coll(db)
        .delete_one(doc! {
            "_id": id, "clientId": client_id,
            "$or": [ { "outstandingBalance": { "$lte": 0 } }, { "outstandingBalance": Bson::Null } ],
        })
        .session(&mut *s)
        .await?;
    if r.deleted_count > 0 {
        return Ok(Deleted::Done);
    }
    let exists = coll(db).count_documents(doc! { "_id": id, "clientId": client_id }).session(&mut *s).await? > 0;
    Ok(if exists { Deleted::HasBalance } else { Deleted::NotFound })
}
