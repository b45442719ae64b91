//! Repository of `devicesessions`: at most one active session per USER of a shop (issue 15; the
//! owner is a user whose id is the shop's), enforced by a partial unique index (`clientId`,
//! `userId` where `isActive: true`, migration 0013) and written in a transaction.

use bson::{doc, oid::ObjectId, DateTime};
use mongodb::{ClientSession, Collection, Database};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub const ENDED_REPLACED: &str = "replaced";
pub const ENDED_LOGOUT: &str = "logout";
/// Ended by the owner or an admin (`DELETE /api/staff/sessions/{id}`).
pub const ENDED_BY_ADMIN: &str = "ended_by_admin";
/// The user was deactivated.
pub const ENDED_DEACTIVATED: &str = "deactivated";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceSession {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    /// The signed-in user (`None` on sessions older than staff: the owner, whose id is
    /// `client_id`; migration 0013 fills it).
    #[serde(default)]
    pub user_id: Option<ObjectId>,
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

impl DeviceSession {
    /// The signed-in user (the owner for a session older than staff).
    pub fn user(&self) -> ObjectId {
        self.user_id.unwrap_or(self.client_id)
    }
}

/// Deactivate every active session of the same USER of the shop (marking them replaced by
/// the new one) and insert the new active one: a new login of user A ends A's other sessions
/// only. Runs inside the caller's transaction.
pub async fn replace_active(db: &Database, s: &mut ClientSession, new: &DeviceSession) -> Result<(), AppError> {
    let now = DateTime::now();
    coll(db)
        .update_many(
            doc! { "clientId": new.client_id, "userId": new.user(), "isActive": true },
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

/// The active sessions of a shop (of one user when `user_id` is given), newest first.
pub async fn active(
    db: &Database,
    client_id: ObjectId,
    user_id: Option<ObjectId>,
) -> Result<Vec<DeviceSession>, AppError> {
    use futures::TryStreamExt;
    let mut filter = doc! { "clientId": client_id, "isActive": true };
    if let Some(u) = user_id {
        filter.insert("userId", u);
    }
    Ok(coll(db).find(filter).sort(doc! { "createdAt": -1 }).limit(500).await?.try_collect().await?)
}

/// How many different users other than `except` hold an active session in the shop (seats).
pub async fn users_signed_in(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    except: ObjectId,
) -> Result<u64, AppError> {
    let users = coll(db)
        .distinct("userId", doc! { "clientId": client_id, "isActive": true, "userId": { "$ne": except } })
        .session(s)
        .await?;
    Ok(users.len() as u64)
}

/// End sessions of the shop with `reason` (an admin ending one session, or every session of a
/// deactivated user). Returns how many were ended.
pub async fn end_where(
    db: &Database,
    client_id: ObjectId,
    session_id: Option<ObjectId>,
    user_id: Option<ObjectId>,
    reason: &str,
) -> Result<u64, AppError> {
    let now = DateTime::now();
    let mut filter = doc! { "clientId": client_id, "isActive": true };
    if let Some(id) = session_id {
        filter.insert("_id", id);
    }
    if let Some(u) = user_id {
        filter.insert("userId", u);
    }
    let r = coll(db)
        .update_many(
            filter,
            doc! { "$set": { "isActive": false, "endedAt": now, "endedReason": reason, "updatedAt": now } },
        )
        .await?;
    Ok(r.modified_count)
}

/// Write the shop's seat counter (`counters/seats:<clientId>`) in the caller's transaction, so
/// that two logins of a shop with `maxActiveUsers` that check the seats at the same time
/// conflict and one retries (then sees the other's session).
pub async fn seat_guard(db: &Database, s: &mut ClientSession, client_id: ObjectId) -> Result<(), AppError> {
    let key = format!("seats:{}", client_id.to_hex());
    db.collection::<bson::Document>("counters")
        .update_one(doc! { "_id": key }, doc! { "$inc": { "logins": 1_i64 } })
        .upsert(true)
        .session(s)
        .await?;
    Ok(())
}
