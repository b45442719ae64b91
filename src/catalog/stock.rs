//! Stock moves only by deltas, atomically, and every move is recorded in `stockmovements`
//! (sale, purchase delivery, adjustment, sync). Shared by billing, dealers and sync.
//!
//! Every applied move also logs its item in the change log ([`crate::changelog::append`]) in
//! the caller's transaction, so every stock change (an online sale, a dealer delivery, a
//! manual adjustment, a v1 sync) reaches the v2 pull exactly when it commits.

use bson::{doc, oid::ObjectId, DateTime};
use mongodb::{options::ReturnDocument, ClientSession, Database};
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

/// The outcome of one move of [`apply_many`]: what happened, and the item's stock after it
/// when it applied.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub moved: Moved,
    /// The stock right after this move (`Some` iff `moved` is [`Moved::Done`]).
    pub stock_after: Option<i64>,
}

/// Apply several moves in the caller's transaction, ordered to keep hot documents locked for
/// the shortest time: the movement records first (never contended), then the guarded stock
/// updates (each returns the new stock, so a sale can say which lines went below zero).
/// Returns the outcome of each move; the caller aborts the transaction on any failure,
/// which also discards the records.
pub async fn apply_many(db: &Database, s: &mut ClientSession, moves: &[Move]) -> Result<Vec<Outcome>, AppError> {
    if moves.is_empty() {
        return Ok(vec![]);
    }
    let now = DateTime::now();
    let records: Vec<StockMovement> = moves
        .iter()
        .map(|m| StockMovement {
            id: ObjectId::new(),
            client_id: m.client_id,
            item_id: m.item_id,
            delta: m.delta,
            reason: m.reason,
            ref_id: m.ref_id,
            at: now,
        })
        .collect();
    db.collection::<StockMovement>("stockmovements").insert_many(&records).session(&mut *s).await?;
    let items = db.collection::<bson::Document>("items");
    let mut out = Vec::with_capacity(moves.len());
    for m in moves {
        let after = items
            .find_one_and_update(guard(m), doc! { "$inc": { "stock": m.delta }, "$set": { "updatedAt": now } })
            .projection(doc! { "stock": 1 })
            .return_document(ReturnDocument::After)
            .session(&mut *s)
            .await?;
        out.push(match after {
            Some(d) => Outcome { moved: Moved::Done, stock_after: Some(stock_of(&d)) },
            None => Outcome { moved: refusal(db, s, m).await?, stock_after: None },
        });
    }
    // the items that moved, logged for the pull in this transaction (a refused move makes the
    // caller abort, which discards the rows too); one block per client
    let mut moved: Vec<(ObjectId, Vec<changelog::Change>)> = Vec::new();
    for (m, o) in moves.iter().zip(&out) {
        if o.moved != Moved::Done {
            continue;
        }
        match moved.iter_mut().find(|(c, _)| *c == m.client_id) {
            Some((_, rows)) => rows.push((changelog::ITEMS, m.item_id, false)),
            None => moved.push((m.client_id, vec![(changelog::ITEMS, m.item_id, false)])),
        }
    }
    for (client_id, rows) in &moved {
        changelog::append(db, s, *client_id, rows).await?;
    }
    Ok(out)
}

/// `stock` of an item document, whatever integer type stored it.
fn stock_of(d: &bson::Document) -> i64 {
    match d.get("stock") {
        Some(bson::Bson::Int64(v)) => *v,
        Some(bson::Bson::Int32(v)) => i64::from(*v),
        Some(bson::Bson::Double(v)) => *v as i64,
        _ => 0,
    }
}
