//! Repository of `clientcustomers`. Every filter carries the token's `clientId`.

use bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use futures::TryStreamExt;
use mongodb::{ClientSession, Collection, Database};

use crate::{
    changelog,
    customer::{
        command::CustomerPatch,
        decide::{CustomerPlan, Folded},
        model::CustomerDoc,
    },
    error::{code, is_duplicate_key, AppError},
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

// ---------------------------------------------------------------- the write path

/// The customer with this phone (inside the caller's transaction).
pub async fn load_by_phone(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    phone: &str,
) -> Result<Option<CustomerDoc>, AppError> {
    Ok(coll(db).find_one(doc! { "clientId": client_id, "phoneNumber": phone }).session(s).await?)
}

/// The customer with this id (inside the caller's transaction).
pub async fn load(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Option<CustomerDoc>, AppError> {
    Ok(coll(db).find_one(doc! { "_id": id, "clientId": client_id }).session(s).await?)
}

/// The `$set` of the fields an edit writes.
pub fn patch_set(p: &CustomerPatch) -> Document {
    let mut set = Document::new();
    for (k, v) in [("name", &p.name), ("address", &p.address), ("emailId", &p.email_id), ("gstNo", &p.gst_no)] {
        if let Some(v) = v {
            set.insert(k, v.as_str());
        }
    }
    let pr = &p.profile;
    for (k, v) in [("customerType", &pr.customer_type), ("status", &pr.status)] {
        if let Some(v) = v {
            set.insert(k, v.as_str());
        }
    }
    let bson_of = |v: Option<Bson>| v.unwrap_or(Bson::Null);
    if let Some(a) = &pr.billing_address {
        set.insert("billingAddress", bson_of(a.as_ref().and_then(|a| bson::to_bson(a).ok())));
    }
    if let Some(a) = &pr.shipping_address {
        set.insert("shippingAddress", bson_of(a.as_ref().and_then(|a| bson::to_bson(a).ok())));
    }
    if let Some(c) = &pr.contact_person {
        set.insert("contactPerson", bson_of(c.as_ref().and_then(|c| bson::to_bson(c).ok())));
    }
    set
}

/// Whether the customer has documents: an invoice of the shop names them (payments belong to
/// invoices). One indexed read (`client_customer_generatedAt`), inside the caller's
/// transaction. Decides between a real delete and a deactivation.
pub async fn has_documents(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<bool, AppError> {
    let found = db
        .collection::<Document>(changelog::INVOICES)
        .find_one(doc! { "clientId": client_id, "clientCustomerId": id })
        .projection(doc! { "_id": 1 })
        .session(s)
        .await?;
    Ok(found.is_some())
}

/// The customers of `ids` that have documents (see [`has_documents`]); one read.
pub async fn with_documents(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    ids: &[ObjectId],
) -> Result<Vec<ObjectId>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = db
        .collection::<Document>(changelog::INVOICES)
        .distinct("clientCustomerId", doc! { "clientId": client_id, "clientCustomerId": { "$in": ids } })
        .session(s)
        .await?;
    Ok(found.into_iter().filter_map(|b| b.as_object_id()).collect())
}

/// The text of a create that lost a race for the phone to a concurrent one (retry).
pub const RACED: &str = "The customer is being created by another request; please retry";

fn changed_meanwhile() -> AppError {
    AppError::conflict(code::CONFLICT, "The customer changed meanwhile; please retry")
}

/// Apply `plan` inside the caller's transaction: the guarded write (an update guarded by the
/// version decided on, a delete by `outstandingBalance <= 0`) and, in the same transaction,
/// the change-log row the pull reads (a delete is logged as `deleted: true`). A new customer
/// whose phone a concurrent create took answers 409 [`RACED`]. An unchanged customer writes
/// nothing.
pub async fn apply(db: &Database, s: &mut ClientSession, plan: &CustomerPlan) -> Result<(), AppError> {
    let c = plan.after();
    let filter = doc! { "_id": c.id, "clientId": c.client_id };
    match plan {
        CustomerPlan::Unchanged(_) => return Ok(()),
        CustomerPlan::Insert(new) => match coll(db).insert_one(new).session(&mut *s).await {
            Ok(_) => {}
            Err(e) if is_duplicate_key(&e) => return Err(AppError::conflict(code::CONFLICT, RACED)),
            Err(e) => return Err(e.into()),
        },
        CustomerPlan::Update { version, patch, after } => {
            let mut set = patch_set(patch);
            set.insert("updatedAt", after.updated_at);
            let mut guarded = filter;
            guarded.insert("__v", version);
            let r = coll(db).update_one(guarded, doc! { "$set": set, "$inc": { "__v": 1 } }).session(&mut *s).await?;
            if r.matched_count != 1 {
                return Err(changed_meanwhile());
            }
        }
        CustomerPlan::Delete(_) => {
            let mut guarded = filter;
            guarded.insert(
                "$or",
                vec![doc! { "outstandingBalance": { "$lte": 0 } }, doc! { "outstandingBalance": Bson::Null }],
            );
            let r = coll(db).delete_one(guarded).session(&mut *s).await?;
            if r.deleted_count != 1 {
                return Err(changed_meanwhile());
            }
        }
    }
    changelog::append(db, s, c.client_id, &[plan.change()]).await?;
    Ok(())
}

/// Insert the customers a push created (one round trip).
pub async fn insert_many(db: &Database, s: &mut ClientSession, new: &[&CustomerDoc]) -> Result<(), AppError> {
    if !new.is_empty() {
        coll(db).insert_many(new.iter().copied()).session(s).await?;
    }
    Ok(())
}

/// Delete a customer a push deleted (its decider checked the dues in memory). `false`: it is
/// not there any more.
pub async fn remove(db: &Database, s: &mut ClientSession, client_id: ObjectId, id: ObjectId) -> Result<bool, AppError> {
    let r = coll(db).delete_one(doc! { "_id": id, "clientId": client_id }).session(s).await?;
    Ok(r.deleted_count == 1)
}

/// Write what one push did to an existing customer in one update: the folded edits (`__v` by
/// their number), the dues moved by its sales and payments (`$inc`, paise) and, when it
/// bought, `lastPurchaseAt`. `false`: the customer is not there any more.
#[allow(clippy::too_many_arguments)]
pub async fn write_folded(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
    f: &Folded,
    dues: i64,
    last_purchase_at: Option<DateTime>,
    now: DateTime,
) -> Result<bool, AppError> {
    let mut set = patch_set(&f.patch);
    set.insert("updatedAt", now);
    if let Some(at) = last_purchase_at {
        set.insert("lastPurchaseAt", at);
    }
    let update = doc! { "$set": set, "$inc": { "outstandingBalance": dues, "__v": f.edits } };
    let r = coll(db).update_one(doc! { "_id": id, "clientId": client_id }, update).session(s).await?;
    Ok(r.matched_count == 1)
}
