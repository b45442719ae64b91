//! `X-Idempotency-Key` (Stripe / IETF draft semantics), per client.
//!
//! * `idempotencykeys` holds the first response of a completed request under a unique index
//!   on (clientId, key), written in the SAME transaction as the request's effects, kept 30
//!   days (TTL on `expiresAt`). Same key + same body hash: that stored response, nothing
//!   applied again. Same key + another body: 422.
//! * `idempotencylocks` is the in-flight marker, written before the transaction with a short
//!   lease, so a concurrent duplicate answers 409 instead of waiting. It only decides the
//!   answer code: exactly-once comes from the unique index inside the transaction.

use bson::{doc, oid::ObjectId, DateTime, Document};
use mongodb::ClientSession;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    error::{code, AppError, AppResult},
    state::AppState,
};

pub const KEYS: &str = "idempotencykeys";
pub const LOCKS: &str = "idempotencylocks";
/// Records are kept this long (a shop can be offline for a week or more).
pub const KEEP_DAYS: i64 = 30;
/// An in-flight marker older than this is abandoned (its request crashed or timed out).
pub const LEASE_SECS: i64 = 60;
pub const MAX_KEY_LEN: usize = 255;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRecord {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub key: String,
    pub request_hash: String,
    pub status: i32,
    /// The JSON body of the first response.
    pub response: String,
    pub created_at: DateTime,
    pub expires_at: DateTime,
}

/// sha256 of the route and the canonical body (object keys sorted).
pub fn hash(route: &str, body: &serde_json::Value) -> String {
    let mut h = Sha256::new();
    h.update(route.as_bytes());
    h.update([0]);
    h.update(body.to_string().as_bytes());
    hex::encode(h.finalize())
}

pub fn check_key(key: &str) -> AppResult<String> {
    let k = key.trim();
    if k.is_empty() || k.len() > MAX_KEY_LEN || !k.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(AppError::validation(
            "X-Idempotency-Key",
            format!("must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
        ));
    }
    Ok(k.to_string())
}

/// What a previous request with this key left.
pub enum Prior {
    None,
    Replay(String),
}

/// The stored response for (client, key) if its body matches; 422 if not.
pub async fn lookup(state: &AppState, client_id: ObjectId, key: &str, hash: &str) -> AppResult<Prior> {
    let rec = state.db.collection::<KeyRecord>(KEYS).find_one(doc! { "clientId": client_id, "key": key }).await?;
    match rec {
        None => Ok(Prior::None),
        Some(r) if r.request_hash == hash => Ok(Prior::Replay(r.response)),
        Some(_) => Err(mismatch()),
    }
}

fn mismatch() -> AppError {
    AppError::unprocessable(
        code::UNPROCESSABLE,
        "X-Idempotency-Key was already used with a different request body; use a new key for a new batch",
    )
}

fn lock_id(client_id: ObjectId, key: &str) -> String {
    format!("{}:{key}", client_id.to_hex())
}

/// Take the in-flight marker; 409 while another request with this key holds a live lease.
pub async fn acquire(state: &AppState, client_id: ObjectId, key: &str) -> AppResult<String> {
    let locks = state.db.collection::<Document>(LOCKS);
    let token = uuid::Uuid::new_v4().to_string();
    let now = DateTime::now();
    let lease = DateTime::from_millis(now.timestamp_millis() + LEASE_SECS * 1000);
    let id = lock_id(client_id, key);
    match locks.insert_one(doc! { "_id": &id, "token": &token, "leaseUntil": lease }).await {
        Ok(_) => Ok(token),
        Err(e) if crate::error::is_duplicate_key(&e) => {
            // an abandoned lease can be taken over
            let took = locks
                .find_one_and_update(
                    doc! { "_id": &id, "leaseUntil": { "$lt": now } },
                    doc! { "$set": { "token": &token, "leaseUntil": lease } },
                )
                .await?;
            if took.is_some() {
                Ok(token)
            } else {
                Err(AppError::conflict(
                    code::CONFLICT,
                    "A request with this X-Idempotency-Key is still being processed; retry shortly",
                ))
            }
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn release(state: &AppState, client_id: ObjectId, key: &str, token: &str) {
    let _ = state
        .db
        .collection::<Document>(LOCKS)
        .delete_one(doc! { "_id": lock_id(client_id, key), "token": token })
        .await;
}

/// Record the response inside the request's transaction (unique index: a concurrent twin
/// that got this far too makes this transaction fail with a duplicate key).
pub async fn record(
    state: &AppState,
    s: &mut ClientSession,
    client_id: ObjectId,
    key: &str,
    hash: &str,
    response: &str,
) -> AppResult<()> {
    let now = DateTime::now();
    let rec = KeyRecord {
        id: ObjectId::new(),
        client_id,
        key: key.to_string(),
        request_hash: hash.to_string(),
        status: 200,
        response: response.to_string(),
        created_at: now,
        expires_at: DateTime::from_millis(now.timestamp_millis() + KEEP_DAYS * 86_400_000),
    };
    state.db.collection::<KeyRecord>(KEYS).insert_one(&rec).session(&mut *s).await?;
    Ok(())
}
