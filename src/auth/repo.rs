//! Repository of `devicesessions`: at most one active session per client, enforced by a
//! partial unique index (`clientId` where `isActive: true`) and written in a transaction.

use bson::{doc, oid::ObjectId, DateTime};
use mongodb::{ClientSession, Collection, Database};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub const ENDED_REPLACED: &str = "replaced";
pub const ENDED_LOGOUT: &str = "logout";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceSession {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub device_id: String,
    pub is_active: bool,
    pub last_seen_at: DateTime,
    #[serde(default)]
    pub ended_at: Option<DateTime>,
    #[serde(default)]
    pub ended_reason: Option<String>,
    #[serde(default)]
    pub replaced_by: Option<ObjectId>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

pub fn coll(db: &Database) -> Collection<DeviceSession> {
    db.collection("devicesessions")
}

/// Deactivate every active session of the client (marking them replaced by `new_id`) and
/// insert the new active one. Runs inside the caller's transaction.
pub async fn replace_active(db: &Database, s: &mut ClientSession, new: &DeviceSession) -> Result<(), AppError> {
    let now = DateTime::now();
    coll(db)
        .update_many(
            doc! { "clientId": new.client_id, "isActive": true },
            doc! { "$set": {
                "isActive": false, "endedAt": now, "endedReason": ENDED_REPLACED,
                "replacedBy": new.id, "updatedAt": now,
            } },
        )
        .session(&mut *s)
        .await?;
    coll(db).insert_one(new).session(&mut *s).await?;
    Ok(())
}

pub async fn find(db: &Database, id: ObjectId, client_id: ObjectId) -> Result<Option<DeviceSession>, AppError> {
    Ok(coll(db).find_one(doc! { "_id": id, "clientId": client_id }).await?)
}

/// End an active session (logout). False when it was not active any more.
pub async fn end(db: &Database, id: ObjectId, client_id: ObjectId) -> Result<bool, AppError> {
    let now = DateTime::now();
    let r = coll(db)
        .update_one(
            doc! { "_id": id, "clientId": client_id, "isActive": true },
            doc! { "$set": { "isActive": false, "endedAt": now, "endedReason": ENDED_LOGOUT, "updatedAt": now } },
        )
        .await?;
    Ok(r.modified_count == 1)
}

/// Refresh `lastSeenAt`, at most once a minute (the filter makes it a no-op otherwise).
pub async fn touch(db: &Database, client_id: ObjectId, id: ObjectId) -> Result<(), AppError> {
    let now = DateTime::now();
    let minute_ago = DateTime::from_millis(now.timestamp_millis() - 60_000);
    coll(db)
        .update_one(
            doc! { "_id": id, "clientId": client_id, "isActive": true, "lastSeenAt": { "$lt": minute_ago } },
            doc! { "$set": { "lastSeenAt": now } },
        )
        .await?;
    Ok(())
}
