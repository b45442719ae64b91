//! Stock moves only by deltas, atomically, and every move is recorded in `stockmovements`
//! (sale, purchase delivery, adjustment, sync). Shared by billing, dealers and sync.
//!
//! Every applied move also logs its item in the change log ([`crate::changelog::append`]) in
//! the caller's transaction, so every stock change (an online sale, a dealer delivery, a
//! manual adjustment, a v1 sync) reaches the v2 pull exactly when it commits.

use bson::{doc, oid::ObjectId, DateTime};
use mongodb::{ClientSession, Database};
use serde::{Deserialize, Serialize};

use crate::{changelog, error::AppError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Reason {
    /// An invoice line (delta < 0).
    Sale,
    /// A dealer order delivered into stock (delta > 0).
    Purchase,
    /// A manual correction through the item endpoints.
    Adjustment,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockMovement {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub item_id: ObjectId,
    pub delta: i64,
    pub reason: Reason,
    /// The invoice, dealer order, ... that caused it.
    pub ref_id: Option<ObjectId>,
    pub at: DateTime,
}

/// Outcome of a guarded decrement.
#[derive(Debug, PartialEq, Eq)]
pub enum Moved {
    Done,
    /// The item is not the client's (or does not exist).
    NotFound,
    /// Stock would go below zero and negative stock is not allowed.
    Insufficient,
    /// Stock would leave the bounds of +-`limits::MAX_UNITS` (nothing moved).
    OutOfRange,
}

/// The guard of a move: the item, and a stock level from which `delta` keeps it within
/// +-`limits::MAX_UNITS` (and, for a decrement without `allow_negative`, not below zero).
fn guard(m: &Move) -> bson::Document {
    let max = crate::limits::MAX_UNITS;
    let mut filter = doc! { "_id": m.item_id, "clientId": m.client_id };
    // stock + delta within [-max, max]  <=>  stock within [-max - delta, max - delta]; the
    // saturating ends are exact where it matters (a stock level is an i64)
    let (low, high) = (-max.saturating_add(m.delta), max.saturating_sub(m.delta));
    let low = if m.delta < 0 && !m.allow_negative { low.max(m.delta.saturating_neg()) } else { low };
    filter.insert("stock", doc! { "$gte": low, "$lte": high });
    filter
}

/// Why a guarded move matched nothing: the item is missing, or the stock it holds.
async fn refusal(db: &Database, s: &mut ClientSession, m: &Move) -> Result<Moved, AppError> {
    let item = db
        .collection::<bson::Document>("items")
        .find_one(doc! { "_id": m.item_id, "clientId": m.client_id })
        .projection(doc! { "stock": 1 })
        .session(&mut *s)
        .await?;
    let Some(item) = item else { return Ok(Moved::NotFound) };
    let stock = match item.get("stock") {
        Some(bson::Bson::Int64(v)) => *v,
        Some(bson::Bson::Int32(v)) => i64::from(*v),
        _ => return Ok(Moved::OutOfRange),
    };
    Ok(if crate::limits::stock_after(stock, m.delta).is_none() { Moved::OutOfRange } else { Moved::Insufficient })
}

/// One requested stock move.
#[derive(Debug, Clone)]
pub struct Move {
    pub client_id: ObjectId,
    pub item_id: ObjectId,
    pub delta: i64,
    /// Let a decrement take stock below zero (client setting `allowNegativeStock`).
    pub allow_negative: bool,
    pub reason: Reason,
    pub ref_id: Option<ObjectId>,
}

/// Apply `mv` inside the caller's transaction, record it and log the item for the pull. Without `allow_negative`, a
/// decrement only applies while `stock >= -delta` (the guard is in the filter, so concurrent
/// sales can never oversell); and no move takes stock beyond +-`limits::MAX_UNITS`
/// (`Moved::OutOfRange`, checked in the same filter).
pub async fn apply(db: &Database, s: &mut ClientSession, mv: &Move) -> Result<Moved, AppError> {
    let Move { client_id, item_id, delta, reason, ref_id, .. } = mv.clone();
    let items = db.collection::<bson::Document>("items");
    let now = DateTime::now();
    let r = items
        .update_one(guard(mv), doc! { "$inc": { "stock": delta }, "$set": { "updatedAt": now } })
        .session(&mut *s)
        .await?;
    if r.matched_count == 0 {
        return refusal(db, s, mv).await;
    }
    let m = StockMovement { id: ObjectId::new(), client_id, item_id, delta, reason, ref_id, at: now };
    db.collection::<StockMovement>("stockmovements").insert_one(&m).session(&mut *s).await?;
    changelog::append(db, s, client_id, &[(changelog::ITEMS, item_id, false)]).await?;
    Ok(Moved::Done)
}

/// Apply several guarded moves in the caller's transaction, in order, WITHOUT recording them
/// (the caller inserts the `stockmovements` it planned and logs the items for the pull, e.g.
/// `billing::repo::apply_sale` with its plan's change-log rows).
/// Returns the outcome of each move; the caller aborts the transaction on any failure.
pub async fn move_many(db: &Database, s: &mut ClientSession, moves: &[Move]) -> Result<Vec<Moved>, AppError> {
    let items = db.collection::<bson::Document>("items");
    let now = DateTime::now();
    let mut out = Vec::with_capacity(moves.len());
    for m in moves {
        let r = items
            .update_one(guard(m), doc! { "$inc": { "stock": m.delta }, "$set": { "updatedAt": now } })
            .session(&mut *s)
            .await?;
        out.push(if r.matched_count == 1 { Moved::Done } else { refusal(db, s, m).await? });
    }
    Ok(out)
}
