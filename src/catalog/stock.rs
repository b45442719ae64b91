//! Stock moves only by deltas, atomically, and every move is recorded in `stockmovements`
//! (sale, purchase delivery, adjustment, sync). Shared by billing, dealers and sync.
//!
//! Every applied move also logs its item in the change log ([`crate::changelog::append`]) in
//! the caller's transaction, so every stock change (an online sale, a dealer delivery, a
//! manual adjustment, a v1 sync) reaches the v2 pull exactly when it commits.

use bson::{doc, oid::ObjectId, DateTime};
use mongodb::{ClientSession, Database};
use serde::{Deserialize, Serialize};

use crate::{access::By, changelog, error::AppError};

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
    /// Who moved it. Movements written before it existed have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<By>,
}

/// Outcome of a guarded decrement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Who moves it (recorded as the movement's `by` by [`apply`]; `None` for moves whose
    /// records the caller writes itself, [`move_many`]).
    pub by: Option<By>,
}

/// Apply `mv` inside the caller's transaction, record it and log the item for the pull. Without `allow_negative`, a
/// decrement only applies while `stock >= -delta` (the guard is in the filter, so concurrent
/// sales can never oversell); and no move takes stock beyond +-`limits::MAX_UNITS`
/// (`Moved::OutOfRange`, checked in the same filter).
pub async fn apply(db: &Database, s: &mut ClientSession, mv: &Move) -> Result<Moved, AppError> {
    let Move { client_id, item_id, delta, reason, ref_id, by, .. } = mv.clone();
    let items = db.collection::<bson::Document>("items");
    let now = DateTime::now();
    let r = items
        .update_one(guard(mv), doc! { "$inc": { "stock": delta }, "$set": { "updatedAt": now } })
        .session(&mut *s)
        .await?;
    if r.matched_count == 0 {
        return refusal(db, s, mv).await;
    }
    let m = StockMovement { id: ObjectId::new(), client_id, item_id, delta, reason, ref_id, at: now, by };
    db.collection::<StockMovement>("stockmovements").insert_one(&m).session(&mut *s).await?;
    changelog::append(db, s, client_id, &[(changelog::ITEMS, item_id, false)]).await?;
    Ok(Moved::Done)
}

/// Apply several guarded moves in the caller's transaction, in order, WITHOUT recording them
/// (the caller inserts the `stockmovements` it planned and logs the items for the pull, e.g.
/// `billing::repo::apply_sale` with its plan's change-log rows).
/// Returns the outcome of each move; the caller aborts the transaction on any failure.
///
/// When every move may take stock below zero (the default shop setting, and every offline
/// sale), the moves are one `update_many` (one round trip for the whole sale instead of one
/// per line): each item's summed delta is added by an update pipeline, under the same bounds
/// guard. The caller decided the moves on the snapshot of its transaction, so a guard cannot
/// fail unless the caller's decision was wrong; if one does, the transaction is aborted with
/// an internal error (a concurrent writer makes the update a retried write conflict instead).
pub async fn move_many(db: &Database, s: &mut ClientSession, moves: &[Move]) -> Result<Vec<Moved>, AppError> {
    if moves.len() > 1 && moves.iter().all(|m| m.allow_negative) {
        if let Some(out) = move_together(db, s, moves).await? {
            return Ok(out);
        }
    }
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

/// The moves (all allowed below zero) as one `update_many`: per item the summed delta, the
/// bounds guard of [`guard`] for that sum, `$add` through an update pipeline. `Some(outcomes)`
/// (all `Done`) when every item matched its guard; `None` (nothing written) when a summed
/// delta overflows, for the per-move path; an internal error (the transaction aborts) when a
/// guard failed, which a decision made on the same snapshot rules out.
async fn move_together(db: &Database, s: &mut ClientSession, moves: &[Move]) -> Result<Option<Vec<Moved>>, AppError> {
    let mut summed: Vec<Move> = Vec::new();
    for m in moves {
        match summed.iter_mut().find(|x| x.item_id == m.item_id && x.client_id == m.client_id) {
            Some(x) => match x.delta.checked_add(m.delta) {
                Some(d) => x.delta = d,
                None => return Ok(None),
            },
            None => summed.push(m.clone()),
        }
    }
    let ids: Vec<ObjectId> = summed.iter().map(|m| m.item_id).collect();
    let deltas: Vec<i64> = summed.iter().map(|m| m.delta).collect();
    let guards: Vec<bson::Document> = summed.iter().map(guard).collect();
    let now = DateTime::now();
    let update = vec![doc! { "$set": {
        "stock": { "$add": [ "$stock", { "$arrayElemAt": [ &deltas, { "$indexOfArray": [ &ids, "$_id" ] } ] } ] },
        "updatedAt": now,
    } }];
    let r =
        db.collection::<bson::Document>("items").update_many(doc! { "$or": guards }, update).session(&mut *s).await?;
    if r.matched_count != summed.len() as u64 {
        // the caller decided these moves on its transaction's snapshot (items present, within
        // bounds): a guard that fails here is a broken decision, and part of the batch moved;
        // an error aborts the whole transaction
        return Err(AppError::internal("a sale's stock moves did not all match their guards"));
    }
    Ok(Some(vec![Moved::Done; moves.len()]))
}
