//! Offline sales deduplicated by the device's own reference (issue 14).
//!
//! A sale made offline carries the device's reference (`deviceRef`, e.g. `DEV-A-0042`). The
//! same sale may reach the server more than once under different transport identities (a
//! v1 batch re-sent with a new `X-Idempotency-Key`, a v2 operation re-queued with a new
//! `opId`). Every offline sale with a reference is recorded in `devicesales` under
//! `(clientId, deviceId, deviceRef)`, unique (migration 0009), in the transaction that
//! issues its invoice; a later sale with the same key issues nothing (no number, no stock)
//! and answers the first invoice.
//!
//! The device is the one the token's session was opened on: `deviceId` sent at login or
//! registration (`devicesessions.deviceId`); a shop has one active session at a time, so the
//! pushing device is the selling device.

use std::collections::HashMap;

use bson::{doc, oid::ObjectId, DateTime};
use mongodb::ClientSession;
use serde::{Deserialize, Serialize};

use crate::{error::AppResult, extract::AuthClient, state::AppState};

/// Collection of the device references already billed.
pub const DEVICE_SALES: &str = "devicesales";

/// One offline sale billed: the device's reference and the invoice it made.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceSale {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub device_id: String,
    pub device_ref: String,
    pub invoice_id: ObjectId,
    pub created_at: DateTime,
}

impl DeviceSale {
    /// The record of `invoice_id` sold on `device_id` as `device_ref`.
    pub fn new(client_id: ObjectId, device_id: &str, device_ref: &str, invoice_id: ObjectId, now: DateTime) -> Self {
        DeviceSale {
            id: ObjectId::new(),
            client_id,
            device_id: device_id.to_string(),
            device_ref: device_ref.to_string(),
            invoice_id,
            created_at: now,
        }
    }
}

/// The device id of the token's session (`devicesessions.deviceId`); an unknown session
/// (cannot happen after authentication) reads as `"unknown-device"`.
pub async fn device_of(state: &AppState, auth: &AuthClient) -> AppResult<String> {
    Ok(crate::auth::repo::find(&state.db, auth.session_id, auth.client_id)
        .await?
        .map(|s| s.device_id)
        .unwrap_or_else(|| "unknown-device".into()))
}

/// The invoices already billed for these references of the device (reference -> invoice id).
pub async fn billed(
    state: &AppState,
    s: &mut ClientSession,
    client_id: ObjectId,
    device_id: &str,
    refs: &[String],
) -> AppResult<HashMap<String, ObjectId>> {
    let mut out = HashMap::new();
    if refs.is_empty() {
        return Ok(out);
    }
    let filter = doc! { "clientId": client_id, "deviceId": device_id, "deviceRef": { "$in": refs } };
    let mut cur = state.db.collection::<DeviceSale>(DEVICE_SALES).find(filter).session(&mut *s).await?;
    while let Some(d) = cur.next(&mut *s).await.transpose()? {
        out.insert(d.device_ref, d.invoice_id);
    }
    Ok(out)
}

/// Record billed references (inside the transaction that issued their invoices; the unique
/// index refuses a second invoice for a reference, and the transaction is retried).
pub async fn record(state: &AppState, s: &mut ClientSession, rows: &[DeviceSale]) -> AppResult<()> {
    if !rows.is_empty() {
        state.db.collection::<DeviceSale>(DEVICE_SALES).insert_many(rows).session(&mut *s).await?;
    }
    Ok(())
}
