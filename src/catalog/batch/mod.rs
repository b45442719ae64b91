//! Batches and expiry (issue 16): for items with `hasExpiry`, the stock is split into lots
//! `{batchNo, expiryDate, quantity}` (collection `batches`, migration 0018). `items.stock`
//! stays the total authority; a batch's quantity is its share of it, and what no batch
//! covers is "unbatched" stock (old deliveries, adjustments that named no batch).
//!
//! - Received through dealer deliveries (`dealer::service::orders::mark_delivered`, a line
//!   with `batchNo` + `expiryDate`) and stock adjustments (`PATCH /business/items/{id}`
//!   with `batch`), through [`repo::receive`] (create the lot or add to it).
//! - Sold first-expiring-first-out by the BILL's date ([`fefo`], pure): every door (online
//!   billing, v1 `/api/sync`, v2 push) runs `billing::decide::sale`, which calls it, and the
//!   repository applies the guarded decrements ([`repo::take`]) in the sale's transaction.
//! - Returns put quantity back into a named lot even when it has expired since
//!   ([`put_back`], [`repo::put_back`]).
//! - The near-expiry report (`GET /business/items/expiring`, [`handlers::expiring`]).
//! - The v2 pull carries them (`changelog::BATCHES`, [`BatchWire`]).

pub mod handlers;
pub mod repo;

use bson::{oid::ObjectId, DateTime};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{access::By, money::Paise};

/// The code of a sale line that names an expired batch while the shop does not allow it
/// (`clientSettings.catalog.allowExpiredSale`).
pub const BATCH_EXPIRED: &str = "BATCH_EXPIRED";
/// The code of a sale line or return that names a batch the item does not have.
pub const BATCH_NOT_FOUND: &str = "BATCH_NOT_FOUND";
/// Longest batch number (characters).
pub const MAX_BATCH_NO: usize = 40;

/// One lot of an item (`batches`). `batchKey` (the trimmed, upper-cased `batchNo`) is unique
/// per item and shop, so `b-12` and `B-12` are one batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub item_id: ObjectId,
    /// As first received (trimmed).
    pub batch_no: String,
    /// [`batch_key`] of `batch_no`: the unique key.
    pub batch_key: String,
    /// India date `YYYY-MM-DD`: the lot may be sold up to and including this day.
    pub expiry_date: String,
    /// Base units left in the lot (never below zero).
    pub quantity: i64,
    /// The lot's MRP in paise, when printed on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mrp: Option<i64>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    /// Who received it first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<By>,
}

impl BatchDoc {
    /// The expiry as a date (`None` if stored malformed: then it is never picked automatically).
    pub fn expiry(&self) -> Option<NaiveDate> {
        crate::time::parse_date(&self.expiry_date)
    }
}

/// The unique key of a batch number: trimmed and upper-cased (`b-12` = `B-12`).
pub fn batch_key(batch_no: &str) -> String {
    batch_no.trim().to_uppercase()
}

/// Check a batch number (`field` names it in errors): 1-40 visible characters.
pub fn check_batch_no(e: &mut crate::validate::Errors, field: &str, v: &str) -> Option<String> {
    let t = v.trim();
    if t.is_empty() || t.chars().count() > MAX_BATCH_NO || t.chars().any(|c| c.is_control()) {
        e.add(field, format!("must be 1-{MAX_BATCH_NO} characters without control characters"));
        return None;
    }
    Some(t.to_string())
}

/// The batch a sale line names (`batchNo`): absent or blank = none (first-expiring-first-out);
/// else checked by [`check_batch_no`]. The one rule of the three sale doors.
pub fn line_batch(e: &mut crate::validate::Errors, field: &str, v: &Option<String>) -> Option<String> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => check_batch_no(e, field, s),
    }
}

/// Check an expiry date (`YYYY-MM-DD`).
pub fn check_expiry(e: &mut crate::validate::Errors, field: &str, v: &str) -> Option<NaiveDate> {
    let d = crate::time::parse_date(v.trim());
    if d.is_none() {
        e.add(field, "must be a YYYY-MM-DD date");
    }
    d
}

/// Where a sale line's units came from, stored on the invoice line (`allocations`):
/// a lot (`batchNo`, `expiryDate`) or, with both `null`, unbatched stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    /// `null`: the units no lot covered (taken from unbatched stock).
    pub batch_no: Option<String>,
    /// `YYYY-MM-DD`; `null` for unbatched units.
    pub expiry_date: Option<String>,
    /// Base units.
    pub quantity: i64,
}

/// A guarded decrement of one lot (planned by a sale, applied by [`repo::take`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Take {
    pub batch: ObjectId,
    pub item: ObjectId,
    pub quantity: i64,
}

/// Why a line's batch choice is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// 400 [`BATCH_NOT_FOUND`]: the named batch is not one of the item's.
    NotFound(String),
    /// 400 [`BATCH_EXPIRED`]: the named batch expired before the bill's date.
    Expired { batch_no: String, expiry_date: String },
}

/// The lots chosen for one line: `(index into lots, units)` and the units left unbatched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chosen {
    pub taken: Vec<(usize, i64)>,
    pub unbatched: i64,
}

/// First-expiring-first-out for one line of `qty` base units billed on `bill_date` (the
/// bill's India date, not the day it reached the server), over the item's `lots` with their
/// quantities left (`left[i]` for `lots[i]`, so several lines of one bill share them).
///
/// - A named batch (`named`, matched case-insensitively) is taken first, up to what it
///   holds; it must exist ([`Pick::NotFound`]) and, unless `allow_expired`, not be expired
///   on the bill's date ([`Pick::Expired`]: `expiryDate < bill_date`).
/// - The rest comes from the lots in order of expiry (then batch number), skipping
///   expired ones (never picked automatically, whatever the setting) and empty ones.
/// - What no lot covers is `unbatched` (taken from the item's stock as today).
pub fn fefo(
    lots: &[BatchDoc],
    left: &[i64],
    qty: i64,
    bill_date: NaiveDate,
    named: Option<&str>,
    allow_expired: bool,
) -> Result<Chosen, Pick> {
    let mut out = Chosen::default();
    let mut need = qty.max(0);
    let take = |i: usize, need: &mut i64, out: &mut Chosen| {
        let have = left.get(i).copied().unwrap_or(0).max(0);
        let q = have.min(*need);
        if q > 0 {
            out.taken.push((i, q));
            *need -= q;
        }
    };
    let mut skip = None;
    if let Some(name) = named {
        let key = batch_key(name);
        let i = lots.iter().position(|l| l.batch_key == key).ok_or_else(|| Pick::NotFound(name.trim().to_string()))?;
        let lot = &lots[i];
        let expired = lot.expiry().is_none_or(|d| d < bill_date);
        if expired && !allow_expired {
            return Err(Pick::Expired { batch_no: lot.batch_no.clone(), expiry_date: lot.expiry_date.clone() });
        }
        take(i, &mut need, &mut out);
        skip = Some(i);
    }
    let mut order: Vec<(NaiveDate, &str, usize)> = lots
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != skip)
        .filter_map(|(i, l)| l.expiry().filter(|d| *d >= bill_date).map(|d| (d, l.batch_key.as_str(), i)))
        .collect();
    order.sort();
    for (_, _, i) in order {
        if need == 0 {
            break;
        }
        take(i, &mut need, &mut out);
    }
    out.unbatched = need;
    Ok(out)
}

/// A return into a named lot (issue 18 calls it from its return route): the lot's quantity
/// after adding `qty` units. An expired lot is accepted (the goods come back whatever their
/// date; the report flags them). `None` when the lot is unknown (`lots` has no such key)
/// or the quantity would overflow.
pub fn put_back(lots: &[BatchDoc], batch_no: &str, qty: i64) -> Option<(ObjectId, i64)> {
    let key = batch_key(batch_no);
    let lot = lots.iter().find(|l| l.batch_key == key)?;
    Some((lot.id, lot.quantity.checked_add(qty.max(0))?))
}

/// The lots a sale is decided on: the shop's lots of the sale's `hasExpiry` items (any
/// quantity, as read in the sale's transaction or the push's in-memory view) and the shop's
/// `clientSettings.catalog.allowExpiredSale`.
#[derive(Debug, Clone, Default)]
pub struct Lots {
    pub by_item: std::collections::HashMap<ObjectId, Vec<BatchDoc>>,
    pub allow_expired: bool,
}

/// A batch as the app reads it (item answers, the v2 pull, the near-expiry report).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub item_id: String,
    pub batch_no: String,
    /// `YYYY-MM-DD` (India date).
    pub expiry_date: String,
    /// Base units left.
    pub quantity: i64,
    /// Rupees, when printed on the lot.
    #[schema(value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrp: Option<Paise>,
    pub updated_at: String,
}

impl From<&BatchDoc> for BatchWire {
    fn from(b: &BatchDoc) -> Self {
        BatchWire {
            id: b.id.to_hex(),
            item_id: b.item_id.to_hex(),
            batch_no: b.batch_no.clone(),
            expiry_date: b.expiry_date.clone(),
            quantity: b.quantity,
            mrp: b.mrp.map(Paise::new),
            updated_at: crate::wire::iso(b.updated_at),
        }
    }
}

#[cfg(test)]
mod tests;
