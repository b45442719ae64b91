//! Repository of `itemgroups`, `items` (and the dealer ownership check). Every filter
//! carries the token's `clientId`.

use bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use futures::TryStreamExt;
use mongodb::{
    options::{Collation, CollationStrength, ReturnDocument},
    ClientSession, Collection, Database,
};

use crate::{
    catalog::model::{ItemDoc, ItemGroupDoc},
    error::{code, is_duplicate_key, AppError},
};

pub fn groups(db: &Database) -> Collection<ItemGroupDoc> {
    db.collection("itemgroups")
}

pub fn items(db: &Database) -> Collection<ItemDoc> {
    db.collection("items")
}

/// The collation of the unique group-name index (case-insensitive English).
pub fn name_collation() -> Collation {
    Collation::builder().locale("en").strength(CollationStrength::Secondary).build()
}

fn group_conflict(e: mongodb::error::Error) -> AppError {
    if is_duplicate_key(&e) {
        AppError::conflict(code::DUPLICATE, "An item group with this name already exists")
    } else {
        e.into()
    }
}

pub async fn insert_group(db: &Database, g: &ItemGroupDoc) -> Result<(), AppError> {
    groups(db).insert_one(g).await.map_err(group_conflict)?;
    Ok(())
}

pub async fn list_groups(db: &Database, client_id: ObjectId) -> Result<Vec<ItemGroupDoc>, AppError> {
    let cur = groups(db)
        .find(doc! { "clientId": client_id })
        .sort(doc! { "name": 1, "_id": 1 })
        .collation(name_collation())
        .await?;
    Ok(cur.try_collect().await?)
}

/// `$set` validated fields (plus `updatedAt`); `None` when the group is not this client's.
pub async fn update_group(
    db: &Database,
    client_id: ObjectId,
    id: ObjectId,
    mut set: Document,
) -> Result<Option<ItemGroupDoc>, AppError> {
    set.insert("updatedAt", DateTime::now());
    groups(db)
        .find_one_and_update(doc! { "_id": id, "clientId": client_id }, doc! { "$set": set, "$inc": { "__v": 1 } })
        .return_document(ReturnDocument::After)
        .await
        .map_err(group_conflict)
}

pub async fn group_exists(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<bool, AppError> {
    Ok(groups(db).count_documents(doc! { "_id": id, "clientId": client_id }).session(s).await? > 0)
}

/// Delete the group and ungroup its items (call inside a transaction). `None` when the
/// group is not this client's; otherwise the number of items ungrouped.
pub async fn delete_group(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Option<u64>, AppError> {
    let r = groups(db).delete_one(doc! { "_id": id, "clientId": client_id }).session(&mut *s).await?;
    if r.deleted_count == 0 {
        return Ok(None);
    }
    let u = items(db)
        .update_many(
            doc! { "clientId": client_id, "groupId": id },
            doc! { "$set": { "groupId": Bson::Null, "updatedAt": DateTime::now() }, "$inc": { "__v": 1 } },
        )
        .session(&mut *s)
        .await?;
    Ok(Some(u.modified_count))
}

/// How many of `ids` are dealers of this client (active or not).
pub async fn count_dealers(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    ids: &[ObjectId],
) -> Result<u64, AppError> {
    Ok(db
        .collection::<Document>("dealers")
        .count_documents(doc! { "_id": { "$in": ids }, "clientId": client_id })
        .session(s)
        .await?)
}

pub async fn insert_item(db: &Database, s: &mut ClientSession, item: &ItemDoc) -> Result<(), AppError> {
    items(db).insert_one(item).session(s).await?;
    Ok(())
}

pub async fn find_item(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Option<ItemDoc>, AppError> {
    Ok(items(db).find_one(doc! { "_id": id, "clientId": client_id }).session(s).await?)
}

/// Item list filter, built by the service from validated input.
#[derive(Debug, Default)]
pub struct ItemFilter {
    /// `None` = active and inactive.
    pub is_active: Option<bool>,
    pub group_id: Option<ObjectId>,
    /// Already regex-escaped pattern (case-insensitive).
    pub name_pattern: Option<String>,
    /// Only items after this id (cursor paging, ascending `_id`).
    pub after: Option<ObjectId>,
}

pub async fn list_items(
    db: &Database,
    client_id: ObjectId,
    f: &ItemFilter,
    limit: Option<i64>,
) -> Result<Vec<ItemDoc>, AppError> {
    let mut filter = doc! { "clientId": client_id };
    if let Some(a) = f.is_active {
        filter.insert("isActive", a);
    }
    if let Some(g) = f.group_id {
        filter.insert("groupId", g);
    }
    if let Some(p) = &f.name_pattern {
        filter.insert("name", doc! { "$regex": p, "$options": "i" });
    }
    if let Some(a) = f.after {
        filter.insert("_id", doc! { "$gt": a });
    }
    let coll = items(db);
    let mut find = coll.find(filter).sort(doc! { "_id": 1 });
    if let Some(l) = limit {
        find = find.limit(l);
    }
    Ok(find.await?.try_collect().await?)
}

/// `$set` validated catalog fields (plus `updatedAt`) inside the caller's transaction.
pub async fn update_item(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
    mut set: Document,
) -> Result<Option<ItemDoc>, AppError> {
    set.insert("updatedAt", DateTime::now());
    Ok(items(db)
        .find_one_and_update(doc! { "_id": id, "clientId": client_id }, doc! { "$set": set, "$inc": { "__v": 1 } })
        .return_document(ReturnDocument::After)
        .session(s)
        .await?)
}

/// Soft delete (idempotent). `false` when the item is not this client's.
pub async fn deactivate_item(db: &Database, client_id: ObjectId, id: ObjectId) -> Result<bool, AppError> {
    let r = items(db)
        .update_one(
            doc! { "_id": id, "clientId": client_id },
            doc! { "$set": { "isActive": false, "updatedAt": DateTime::now() }, "$inc": { "__v": 1 } },
        )
        .await?;
    Ok(r.matched_count > 0)
}
