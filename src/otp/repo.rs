//! `otpsessions`: one live code per (phone, purpose), stored only as an HMAC.

use bson::{doc, oid::ObjectId, DateTime, Document};
use mongodb::{options::ReturnDocument, Collection, Database};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtpSession {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub phone_number: String,
    pub purpose: String,
    pub code_hash: String,
    pub expires_at: DateTime,
    pub attempts: i32,
    #[serde(default)]
    pub is_verified: bool,
    pub created_at: DateTime,
}

fn coll(db: &Database) -> Collection<OtpSession> {
    db.collection("otpsessions")
}

/// Replace the live code for (phone, purpose): attempts reset, new expiry.
pub async fn replace(
    db: &Database,
    phone: &str,
    purpose: &str,
    code_hash: &str,
    expires_at: DateTime,
) -> Result<(), AppError> {
    let now = DateTime::now();
    coll(db)
        .update_one(
            doc! { "phoneNumber": phone, "purpose": purpose },
            doc! {
                "$set": { "codeHash": code_hash, "expiresAt": expires_at, "attempts": 0, "isVerified": false, "createdAt": now },
                "$setOnInsert": { "_id": ObjectId::new() },
            },
        )
        .upsert(true)
        .await?;
    Ok(())
}

/// Count one attempt atomically on a live code that still has attempts left; `None` when
/// there is no such code (missing, expired, or attempts exhausted). Expiry is checked here,
/// not left to the TTL monitor.
pub async fn take_attempt(
    db: &Database,
    phone: &str,
    purpose: &str,
    max_attempts: i32,
) -> Result<Option<OtpSession>, AppError> {
    Ok(coll(db)
        .find_one_and_update(
            doc! {
                "phoneNumber": phone,
                "purpose": purpose,
                "expiresAt": { "$gt": DateTime::now() },
                "attempts": { "$lt": max_attempts },
            },
            doc! { "$inc": { "attempts": 1 } },
        )
        .return_document(ReturnDocument::After)
        .await?)
}

/// Consume the code (single use). False when another request consumed it first.
pub async fn consume(db: &Database, id: ObjectId) -> Result<bool, AppError> {
    Ok(coll(db).delete_one(doc! { "_id": id }).await?.deleted_count == 1)
}

pub async fn mark_verified(db: &Database, id: ObjectId) -> Result<(), AppError> {
    coll(db).update_one(doc! { "_id": id }, doc! { "$set": { "isVerified": true } }).await?;
    Ok(())
}

pub async fn clear(db: &Database, phone: &str) -> Result<u64, AppError> {
    Ok(db.collection::<Document>("otpsessions").delete_many(doc! { "phoneNumber": phone }).await?.deleted_count)
}
