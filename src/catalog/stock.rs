//! Stock moves only by deltas (or, for a physical count, by a set guarded on the stock it was
//! compared with: [`set_counted`]), atomically, and every move is recorded in
//! `stockmovements` with its [`Reason`] (opening stock, purchase delivery, return, sale, the
//! adjustment kinds of GST rule 56(2), count correction), its user and its note, in the same
//! transaction: `catalog::ledger` computes any past stock level back from the current one.
//! Shared by billing, dealers, counts and sync.
//!
//! Every applied move also logs its item in the change log ([`crate::changelog::append`]) in
//! the caller's transaction, so every stock change (an online sale, a dealer delivery, a
//! manual adjustment, a v1 sync) reaches the v2 pull exactly when it commits.

use bson::{doc, oid::ObjectId, DateTime};
use mongodb::{ClientSession, Database};
use serde::{Deserialize, Serialize};

use utoipa::ToSchema;

use crate::{access::By, changelog, error::AppError, validate::Errors};

/// Why stock moved: every `stockmovements` row names one (issue 16, "Stock ledger"). Stored
/// and answered in camelCase (`"countCorrection"`). The adjustment kinds are the ones GST rule
/// 56(2) asks a shop to account for (goods lost, stolen, destroyed, written off or given away
/// as free samples), plus a physical count's correction and `other`.
///
/// Rows written before issue 16 say `"adjustment"`: they read as [`Reason::Other`] (kept as
/// stored; the alias maps them). [`Reason::Adjustment`] names the same kind in code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StockReason)]
pub enum Reason {
    /// The stock an item was created with.
    Opening,
    /// A dealer order delivered into stock (delta > 0).
    Purchase,
    /// Goods a customer brought back (delta > 0; issue 18).
    Return,
    /// An invoice line (delta < 0).
    Sale,
    /// A cancelled invoice's lines back on the shelf (delta > 0; issue 18).
    Cancel,
    /// Adjustment: damaged goods written off.
    Damaged,
    /// Adjustment: goods lost.
    Lost,
    /// Adjustment: goods stolen.
    Stolen,
    /// Adjustment: goods past their expiry written off.
    Expired,
    /// Adjustment: goods given away as free samples or gifts.
    FreeSample,
    /// Adjustment: the difference a physical count found (`POST /business/stock/counts`).
    CountCorrection,
    /// Adjustment of any other kind (the default of a manual stock edit; legacy `adjustment`
    /// rows read as this).
    #[serde(alias = "adjustment")]
    Other,
}

#[allow(non_upper_case_globals)]
impl Reason {
    /// The pre-issue-16 name of a manual adjustment: the same kind as [`Reason::Other`].
    pub const Adjustment: Reason = Reason::Other;

    /// Every reason, in declaration order (the order of a ledger's `byReason`).
    pub const ALL: [Reason; 12] = [
        Reason::Opening,
        Reason::Purchase,
        Reason::Return,
        Reason::Sale,
        Reason::Cancel,
        Reason::Damaged,
        Reason::Lost,
        Reason::Stolen,
        Reason::Expired,
        Reason::FreeSample,
        Reason::CountCorrection,
        Reason::Other,
    ];

    /// The stored and wire name (`"freeSample"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Sale => "sale",
            Reason::Return => "return",
            Reason::Cancel => "cancel",
            Reason::Purchase => "purchase",
            Reason::Opening => "opening",
            Reason::Damaged => "damaged",
            Reason::Lost => "lost",
            Reason::Stolen => "stolen",
            Reason::Expired => "expired",
            Reason::FreeSample => "freeSample",
            Reason::CountCorrection => "countCorrection",
            Reason::Other => "other",
        }
    }

    /// The reason stored as `s` (legacy `"adjustment"` is [`Reason::Other`]).
    pub fn parse(s: &str) -> Option<Reason> {
        if s == "adjustment" {
            return Some(Reason::Other);
        }
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether a user may name this reason for a manual stock change (a stock edit, a v2
    /// `stockDelta`): the adjustment kinds of GST rule 56(2) and `other`. Sales, returns,
    /// purchases and opening stock only come from their own documents.
    pub fn is_adjustment(self) -> bool {
        matches!(
            self,
            Reason::Damaged
                | Reason::Lost
                | Reason::Stolen
                | Reason::Expired
                | Reason::FreeSample
                | Reason::CountCorrection
                | Reason::Other
        )
    }
}

/// Longest note kept on a stock movement or count (characters, after trimming).
pub const NOTE_MAX: usize = 200;

/// Why and with what note a manual stock change is made: the `stockReason` and `stockNote` of
/// an item edit (online B7, v2 `item.update` with `stockDelta`). Default: `other`, no note
/// (what an edit without them recorded before issue 16, as `adjustment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjust {
    pub reason: Reason,
    pub note: Option<String>,
}

impl Default for Adjust {
    fn default() -> Self {
        Adjust { reason: Reason::Other, note: None }
    }
}

/// The input rule of an adjustment's reason and note, shared by every door: `reason` one of
/// the adjustment kinds ([`Reason::is_adjustment`], camelCase names; absent: `other`),
/// `note` 1..=[`NOTE_MAX`] characters, one line (blank: none). Errors are added under
/// `{prefix}stockReason` / `{prefix}stockNote`.
pub fn adjust_input(e: &mut Errors, prefix: &str, reason: Option<&str>, note: Option<&str>) -> Adjust {
    let reason = match reason.map(str::trim) {
        None => Reason::Other,
        Some(r) => match Reason::parse(r).filter(|r| r.is_adjustment()) {
            Some(r) => r,
            None => {
                e.add(
                    &format!("{prefix}stockReason"),
                    "must be one of damaged, lost, stolen, expired, freeSample, countCorrection, other",
                );
                Reason::Other
            }
        },
    };
    let note = note.filter(|n| !n.trim().is_empty()).map(|n| e.text(&format!("{prefix}stockNote"), n, 1, NOTE_MAX));
    Adjust { reason, note }
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
    /// The user's note on a manual adjustment or count (issue 16); none on other moves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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
    apply_noted(db, s, mv, None).await
}

/// [`apply`], recording `note` on the movement (a manual adjustment's `stockNote`).
pub async fn apply_noted(
    db: &Database,
    s: &mut ClientSession,
    mv: &Move,
    note: Option<&str>,
) -> Result<Moved, AppError> {
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
    let note = note.map(str::to_string);
    let m = StockMovement { id: ObjectId::new(), client_id, item_id, delta, reason, ref_id, at: now, by, note };
    db.collection::<StockMovement>("stockmovements").insert_one(&m).session(&mut *s).await?;
    changelog::append(db, s, client_id, &[(changelog::ITEMS, item_id, false)]).await?;
    Ok(Moved::Done)
}

/// A physical count of one item, as [`set_counted`] posts it.
#[derive(Debug, Clone)]
pub struct Counted {
    pub client_id: ObjectId,
    pub item_id: ObjectId,
    /// The stock the count was compared with (read in the caller's transaction).
    pub expected: i64,
    /// The units counted (0..=`limits::MAX_UNITS`).
    pub counted: i64,
    /// The count (`stockcounts` id): the movement's `refId`.
    pub count_id: ObjectId,
    pub at: DateTime,
    pub by: By,
    pub note: Option<String>,
}

/// Post a count's difference inside the caller's transaction: set the item's stock to
/// `counted` only while it still holds `expected` (guarded in the filter, so a sale that
/// slipped in between makes it `false` and the caller aborts instead of losing the sale),
/// record the difference as a `countCorrection` movement and log the item for the pull. A
/// count that found no difference writes nothing and answers `true`.
pub async fn set_counted(db: &Database, s: &mut ClientSession, c: &Counted) -> Result<bool, AppError> {
    let delta = c.counted.checked_sub(c.expected).ok_or_else(|| crate::limits::stock_out_of_range("counted"))?;
    if delta == 0 {
        return Ok(true);
    }
    let r = db
        .collection::<bson::Document>("items")
        .update_one(
            doc! { "_id": c.item_id, "clientId": c.client_id, "stock": c.expected },
            doc! { "$set": { "stock": c.counted, "updatedAt": c.at } },
        )
        .session(&mut *s)
        .await?;
    if r.matched_count != 1 {
        return Ok(false);
    }
    let m = StockMovement {
        id: ObjectId::new(),
        client_id: c.client_id,
        item_id: c.item_id,
        delta,
        reason: Reason::CountCorrection,
        ref_id: Some(c.count_id),
        at: c.at,
        by: Some(c.by.clone()),
        note: c.note.clone(),
    };
    db.collection::<StockMovement>("stockmovements").insert_one(&m).session(&mut *s).await?;
    changelog::append(db, s, c.client_id, &[(changelog::ITEMS, c.item_id, false)]).await?;
    Ok(true)
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
