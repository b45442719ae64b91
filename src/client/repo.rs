//! Repository of the `clients` collection.

use bson::{doc, oid::ObjectId, DateTime, Document};
use mongodb::{ClientSession, Collection, Database};

use crate::{client::model::ClientDoc, error::AppError};

pub fn coll(db: &Database) -> Collection<ClientDoc> {
    db.collection("clients")
}

pub async fn find_by_phone(db: &Database, phone: &str) -> Result<Option<ClientDoc>, AppError> {
    Ok(coll(db).find_one(doc! { "phoneNumber": phone }).await?)
}

pub async fn find_by_id(db: &Database, id: ObjectId) -> Result<Option<ClientDoc>, AppError> {
    Ok(coll(db).find_one(doc! { "_id": id }).await?)
}

/// What the per-request check needs of a shop: its active flag, its owner's name and its
/// staff rules (role grants, seats).
#[derive(Debug, Clone, Default)]
pub struct ShopAccess {
    pub is_active: bool,
    pub owner_name: String,
    pub staff: crate::client::model::StaffSettings,
}

/// [`ShopAccess`] of shop `id` (one read of three fields); `None`: no such shop.
pub async fn access(db: &Database, id: ObjectId) -> Result<Option<ShopAccess>, AppError> {
    let d = db
        .collection::<Document>("clients")
        .find_one(doc! { "_id": id })
        .projection(doc! { "isActive": 1, "ownerName": 1, "clientSettings.staff": 1 })
        .await?;
    Ok(d.map(|d| ShopAccess {
        is_active: d.get_bool("isActive").unwrap_or(true),
        owner_name: d.get_str("ownerName").unwrap_or_default().to_string(),
        staff: d
            .get_document("clientSettings")
            .ok()
            .and_then(|c| c.get_document("staff").ok())
            .and_then(|s| bson::from_document(s.clone()).ok())
            .unwrap_or_default(),
    }))
}

pub async fn insert(db: &Database, s: &mut ClientSession, c: &ClientDoc) -> Result<(), mongodb::error::Error> {
    coll(db).insert_one(c).session(s).await?;
    Ok(())
}

pub async fn touch_login(db: &Database, s: &mut ClientSession, id: ObjectId) -> Result<(), AppError> {
    coll(db).update_one(doc! { "_id": id }, doc! { "$set": { "lastLoginAt": DateTime::now() } }).session(s).await?;
    Ok(())
}

/// `$set` the given fields (already validated and whitelisted by the service).
pub async fn update_fields(db: &Database, id: ObjectId, mut set: Document) -> Result<Option<ClientDoc>, AppError> {
    set.insert("updatedAt", DateTime::now());
    Ok(coll(db)
        .find_one_and_update(doc! { "_id": id }, doc! { "$set": set, "$inc": { "__v": 1 } })
        .return_document(mongodb::options::ReturnDocument::After)
        .await?)
}

/// [`update_fields`] inside the caller's transaction, returning the shop before and after
/// (`None`: no such shop), for the settings audit entry written in the same transaction.
pub async fn update_fields_in(
    db: &Database,
    s: &mut ClientSession,
    id: ObjectId,
    mut set: Document,
) -> Result<Option<(ClientDoc, ClientDoc)>, AppError> {
    set.insert("updatedAt", DateTime::now());
    let shops = coll(db);
    let Some(before) = shops.find_one(doc! { "_id": id }).session(&mut *s).await? else {
        return Ok(None);
    };
    let after = shops
        .find_one_and_update(doc! { "_id": id }, doc! { "$set": set, "$inc": { "__v": 1 } })
        .return_document(mongodb::options::ReturnDocument::After)
        .session(&mut *s)
        .await?;
    Ok(after.map(|a| (before, a)))
}
