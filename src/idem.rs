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

/// sha256 of the route and the canonical body ([`canonical`]: object keys sorted at every
/// depth), so a retry from another serializer (another key order, other whitespace) is the
/// same request and gets the replay, not a 422.
pub fn hash(route: &str, body: &serde_json::Value) -> String {
    let mut h = Sha256::new();
    h.update(route.as_bytes());
    h.update([0]);
    h.update(canonical(body).as_bytes());
    hex::encode(h.finalize())
}

/// The canonical JSON text of `v`: object keys sorted (by their UTF-8 bytes) at every depth,
/// no whitespace; arrays keep their order (it is meaningful), scalars are written as
/// `serde_json` writes them. `serde_json` here keeps insertion order (`preserve_order` is
/// enabled by a dependency), so `to_string` alone would depend on the client's key order.
pub fn canonical(v: &serde_json::Value) -> String {
    fn write(v: &serde_json::Value, out: &mut String) {
        use serde_json::Value;
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    if let Some(x) = m.get(k) {
                        write(x, out);
                    }
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
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
    Ok(match stored(state, client_id, key, hash).await? {
        None => Prior::None,
        Some((_, response)) => Prior::Replay(response),
    })
}

/// The stored (status, response) for (client, key) if its body matches; 422 if not.
pub async fn stored(state: &AppState, client_id: ObjectId, key: &str, hash: &str) -> AppResult<Option<(u16, String)>> {
    let rec = state.db.collection::<KeyRecord>(KEYS).find_one(doc! { "clientId": client_id, "key": key }).await?;
    match rec {
        None => Ok(None),
        Some(r) if r.request_hash == hash => Ok(Some((u16::try_from(r.status).unwrap_or(200), r.response))),
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
    acquire_for(state, client_id, key, LEASE_SECS).await
}

/// [`acquire`] with a lease of `lease_secs` (a request bounded by the request timeout needs
/// no longer lease: a crashed or timed-out holder then blocks its retries only that long).
pub async fn acquire_for(state: &AppState, client_id: ObjectId, key: &str, lease_secs: i64) -> AppResult<String> {
    let locks = state.db.collection::<Document>(LOCKS);
    let token = uuid::Uuid::new_v4().to_string();
    let now = DateTime::now();
    let lease = DateTime::from_millis(now.timestamp_millis() + lease_secs * 1000);
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
    record_status(state, s, client_id, key, hash, 200, response).await
}

/// [`record`] for a response of another status (201 for a created invoice).
pub async fn record_status(
    state: &AppState,
    s: &mut ClientSession,
    client_id: ObjectId,
    key: &str,
    hash: &str,
    status: u16,
    response: &str,
) -> AppResult<()> {
    let now = DateTime::now();
    let rec = KeyRecord {
        id: ObjectId::new(),
        client_id,
        key: key.to_string(),
        request_hash: hash.to_string(),
        status: i32::from(status),
        response: response.to_string(),
        created_at: now,
        expires_at: DateTime::from_millis(now.timestamp_millis() + KEEP_DAYS * 86_400_000),
    };
    state.db.collection::<KeyRecord>(KEYS).insert_one(&rec).session(&mut *s).await?;
    Ok(())
}

/// The answer of a keyed request: the response it produced now, or the stored one.
pub enum Answer {
    Fresh(u16, String),
    Replayed(u16, String),
}

impl axum::response::IntoResponse for Answer {
    fn into_response(self) -> axum::response::Response {
        use axum::http::{header, HeaderValue, StatusCode};
        let (status, body, replayed) = match self {
            Answer::Fresh(s, b) => (s, b, false),
            Answer::Replayed(s, b) => (s, b, true),
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        let mut r = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
        if replayed {
            r.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
        }
        r
    }
}

/// Run a keyed request exactly once: the stored response when (client, key) already
/// completed with this body (422 with another body), 409 while a twin is in flight, else
/// `run`, which must record its response with [`record_status`] inside its transaction and
/// return it. A twin that committed first (duplicate key on the record) is answered with its
/// stored response.
pub async fn once<F, Fut>(
    state: &AppState,
    client_id: ObjectId,
    key: &str,
    hash: &str,
    lease_secs: i64,
    status: u16,
    mut run: F,
) -> AppResult<Answer>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = AppResult<String>>,
{
    for _ in 0..3 {
        if let Some((status, body)) = stored(state, client_id, key, hash).await? {
            return Ok(Answer::Replayed(status, body));
        }
        let token = acquire_for(state, client_id, key, lease_secs).await?;
        // a twin may have committed and released its lease between the look-up above and
        // taking the lease: its answer is the answer (nothing is run again)
        let done = match stored(state, client_id, key, hash).await {
            Ok(done) => done,
            Err(e) => {
                release(state, client_id, key, &token).await;
                return Err(e);
            }
        };
        if let Some((status, body)) = done {
            release(state, client_id, key, &token).await;
            return Ok(Answer::Replayed(status, body));
        }
        let result = run().await;
        release(state, client_id, key, &token).await;
        match result {
            Ok(body) => return Ok(Answer::Fresh(status, body)),
            Err(AppError::Database(e)) if crate::error::is_duplicate_key(&e) => continue,
            Err(e) => {
                // A twin whose lease ran out under load may have committed while this one
                // ran: its effects are what refused this one (a payment "exceeds the
                // outstanding balance"), so its stored answer is the answer, not the refusal.
                if let Some((status, body)) = stored(state, client_id, key, hash).await? {
                    return Ok(Answer::Replayed(status, body));
                }
                return Err(e);
            }
        }
    }
    Err(AppError::conflict(code::CONFLICT, "The request could not complete; retry with the same X-Idempotency-Key"))
}

/// The `X-Idempotency-Key` header, checked (400 when malformed).
pub fn key_from(headers: &axum::http::HeaderMap) -> AppResult<Option<String>> {
    match headers.get("x-idempotency-key") {
        None => Ok(None),
        Some(v) => check_key(v.to_str().unwrap_or("")).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Finding (issue 12, 4): `{"a":1,"b":2}` and `{"b":2,"a":1}` hashed differently, so a
    /// retry from another serializer got 422 instead of the replay.
    #[test]
    fn body_hash_ignores_key_order_at_every_depth() {
        let a: serde_json::Value = serde_json::from_str(r#"{"a":1,"b":2}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"b":2,"a":1}"#).unwrap();
        assert_ne!(a.to_string(), b.to_string(), "serde_json keeps the client's key order");
        assert_eq!(hash("r", &a), hash("r", &b));
        let deep1: serde_json::Value = serde_json::from_str(r#"{"x":{"q":[{"k":1,"j":2}],"p":"s"},"y":null}"#).unwrap();
        let deep2: serde_json::Value =
            serde_json::from_str(r#"{ "y" : null, "x" : { "p" : "s", "q" : [ { "j" : 2, "k" : 1 } ] } }"#).unwrap();
        assert_eq!(hash("r", &deep1), hash("r", &deep2));
        assert_eq!(canonical(&deep1), r#"{"x":{"p":"s","q":[{"j":2,"k":1}]},"y":null}"#);
        // what differs still differs: a value, an array order, the route
        assert_ne!(hash("r", &json!({"a": 1, "b": 2})), hash("r", &json!({"a": 1, "b": 3})));
        assert_ne!(hash("r", &json!({"l": [1, 2]})), hash("r", &json!({"l": [2, 1]})));
        assert_ne!(hash("r", &a), hash("s", &a));
        // keys that need escaping stay unambiguous
        assert_ne!(hash("r", &json!({"a\"": 1})), hash("r", &json!({"a": 1})));
    }
}
