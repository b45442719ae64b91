//! Fixed-window counters kept in MongoDB (`ratelimits`, TTL on `expiresAt`), so limits hold
//! across server instances and restarts. One atomic upsert-`$inc` per hit.

use std::time::Duration;

use bson::{doc, Document};
use mongodb::{options::ReturnDocument, Database};

use crate::error::{is_duplicate_key, AppError};

fn window_start(window: Duration) -> i64 {
    let w = window.as_secs().max(1) as i64;
    chrono::Utc::now().timestamp() / w * w
}

/// Count one hit on `key` in the current window. `Err(TooManyRequests)` when over `limit`.
pub async fn hit(db: &Database, key: &str, window: Duration, limit: i64, message: &str) -> Result<(), AppError> {
    let count = incr(db, key, window).await?;
    if count > limit {
        let start = window_start(window);
        let retry = (start + window.as_secs() as i64 - chrono::Utc::now().timestamp()).max(1) as u64;
        return Err(AppError::TooManyRequests { message: message.to_string(), retry_after_secs: retry });
    }
    Ok(())
}

/// Increment and return the count of `key` in the current window.
pub async fn incr(db: &Database, key: &str, window: Duration) -> Result<i64, AppError> {
    let coll = db.collection::<Document>("ratelimits");
    let start = window_start(window);
    let id = format!("{key}@{start}");
    let expires = bson::DateTime::from_millis((start + window.as_secs() as i64) * 1000);
    for _ in 0..3 {
        let res = coll
            .find_one_and_update(
                doc! { "_id": &id },
                doc! { "$inc": { "count": 1_i64 }, "$setOnInsert": { "expiresAt": expires } },
            )
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await;
        match res {
            Ok(Some(d)) => return Ok(d.get_i64("count").unwrap_or(1)),
            Ok(None) => return Ok(1),
            // two first hits raced on the upsert: the loser retries as an update
            Err(e) if is_duplicate_key(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::internal("rate-limit counter kept colliding"))
}

/// Take back one hit of `key` in the current window (a counted attempt that turned out not
/// to be a failure, e.g. a correct password). Never below zero.
pub async fn undo(db: &Database, key: &str, window: Duration) -> Result<(), AppError> {
    let coll = db.collection::<Document>("ratelimits");
    let id = format!("{key}@{}", window_start(window));
    coll.update_one(doc! { "_id": id, "count": { "$gt": 0_i64 } }, doc! { "$inc": { "count": -1_i64 } }).await?;
    Ok(())
}

/// The count of `key` in the current window, without counting.
pub async fn current(db: &Database, key: &str, window: Duration) -> Result<i64, AppError> {
    let coll = db.collection::<Document>("ratelimits");
    let id = format!("{key}@{}", window_start(window));
    Ok(coll.find_one(doc! { "_id": id }).await?.and_then(|d| d.get_i64("count").ok()).unwrap_or(0))
}

/// Forget every counter of `key` (development `otp/clear`).
pub async fn reset(db: &Database, key_prefix: &str) -> Result<(), AppError> {
    let coll = db.collection::<Document>("ratelimits");
    let pattern = format!("^{}", regex::escape(key_prefix));
    coll.delete_many(doc! { "_id": { "$regex": pattern } }).await?;
    Ok(())
}
