//! The bulk apply of a v2 push: the whole batch in a few round trips.
//!
//! Applying operations one by one through the online code paths costs ~5 round trips per
//! operation (a 1,000-operation push took ~3 s). Here, inside the push transaction:
//!
//! 1. **Read** everything the batch refers to, one query per collection: the results of
//!    earlier operations it names by `opId`, the items, invoices, customers (by id and by
//!    phone) and item groups.
//! 2. **Simulate** the operations in order, in memory: sales and payments are decided by
//!    billing's own deciders (`billing::decide::{sale, payment}`, the functions the online
//!    routes and v1 call) on the batch's in-memory documents, and their plans are folded in;
//!    an operation that breaks a rule is rejected before it changes anything, so the others
//!    still apply and later operations see the effects of earlier ones (a price edit, then a
//!    sale at the new price).
//! 3. **Write** the result: `insert_many` for new items, customers, invoices, payments, stock
//!    movements and purchase histories; one update per existing document touched (stock moves
//!    by `$inc` deltas, catalog fields by `$set` of the fields sent); one `$inc` per financial
//!    year on the invoice counter (consecutive numbers in operation order); the change log and
//!    the operation records.
//!
//! The transaction reads a snapshot and the shop's queue is held, so the in-memory view is
//! the database's; a concurrent writer outside the queue makes the commit fail with a write
//! conflict and the whole push is retried.
//!
//! One file per step: `load.rs` (1), `simulate.rs` (2, with the `World`'s folds),
//! `write.rs` (3); `render.rs` renders each applied operation's answer. This file holds the
//! in-memory `World`, its slots, the outcome types and the entry point [`run_batch`].

pub(super) mod credit;
mod load;
mod render;
mod simulate;
mod write;

use load::load;
use render::render;
use simulate::{simulate, Queued};
use write::write;

use std::collections::{HashMap, HashSet};

use bson::oid::ObjectId;
use mongodb::ClientSession;
use serde_json::Value;

use crate::{
    billing::model::{InvoiceDoc, PaymentDoc, PurchaseHistoryDoc, StockWarning},
    catalog::{decide as catalog_decide, model::ItemDoc, stock::StockMovement},
    client::model::CustomerFields,
    customer::{decide as customer_decide, model::CustomerDoc},
    error::AppResult,
    money::Paise,
    sync::{
        changes,
        ops::{Op, OpOutcome, OpRecord, PushCtx, OPS},
        receipts::DeviceSale,
    },
};

struct ItemSlot {
    doc: ItemDoc,
    new: bool,
    /// The edits and stock moves of an existing item, written as one update.
    folded: catalog_decide::Folded,
}

struct CustomerSlot {
    doc: CustomerDoc,
    new: bool,
    /// The edits of an existing customer, written as one update with its dues.
    folded: customer_decide::Folded,
    dues: i64,
    purchased: bool,
    deleted: bool,
    /// An invoice names the customer (stored, or created by this push): a delete deactivates.
    has_documents: bool,
}

struct InvoiceSlot {
    doc: InvoiceDoc,
    new: bool,
    original_paid: Paise,
    payments: i32,
    /// An existing incomplete sale numbered now (its date becomes today).
    numbered_now: bool,
}

/// What an applied operation answers (rendered once the numbers are known).
enum Res {
    Id(ObjectId),
    /// The invoice, the payments taken with it (one per paid part), the lines that left
    /// stock below zero, and the offline flags (`{priceOverrides[], inactiveItems[]}`).
    Invoice(ObjectId, Vec<ObjectId>, Vec<StockWarning>, Value),
    /// The payments recorded (one per paid part; never empty) and their invoice.
    Payment(Vec<ObjectId>, ObjectId),
    /// A sale whose `deviceRef` this device already sold: the first invoice (nothing issued).
    Duplicate(ObjectId),
}

/// Why an operation did not apply (nothing of it was changed).
enum Fail {
    /// Final: recorded `rejected` for its opId.
    Rejected(String),
    /// A document it names by opId has not arrived (yet): answered `deferred`, NOT recorded,
    /// so the same opId applies once its dependency is pushed (this push or a later one).
    Deferred(String),
    /// An edit based on an older version of a field changed since: recorded `conflict`,
    /// answered `{id, version, current}`.
    Conflict(Value, String),
}

impl From<String> for Fail {
    fn from(r: String) -> Self {
        Fail::Rejected(r)
    }
}

#[derive(Default)]
struct World {
    items: HashMap<ObjectId, ItemSlot>,
    new_items: Vec<ObjectId>,
    groups: HashMap<ObjectId, String>,
    /// The shop's brands the push's items name (touched in its transaction: a concurrent
    /// delete of one conflicts with the push).
    brands: HashSet<ObjectId>,
    /// The shop's products the push's items name (`variantOf`; touched likewise).
    products: HashSet<ObjectId>,
    customers: HashMap<ObjectId, CustomerSlot>,
    new_customers: Vec<ObjectId>,
    phones: HashMap<String, ObjectId>,
    invoices: HashMap<ObjectId, InvoiceSlot>,
    new_invoices: Vec<ObjectId>,
    payments: Vec<PaymentDoc>,
    movements: Vec<StockMovement>,
    histories: Vec<PurchaseHistoryDoc>,
    /// Invoices to number, in operation order: (invoice, financial year).
    numbering: Vec<(ObjectId, String)>,
    /// The shop's `clientSettings.customerFields` (read only when the push has customer
    /// operations): the same optional-field rules as the online routes.
    customer_fields: CustomerFields,
    changed: Vec<(&'static str, ObjectId, bool)>,
    /// This device's references already billed (earlier pushes and this one) -> invoice.
    billed: HashMap<String, ObjectId>,
    device_sales: Vec<DeviceSale>,
    /// Audit entries of the batch (offline sales applied without an approval they needed).
    audits: Vec<crate::audit::Entry>,
    /// The lots of the sold items (their quantities as the batch's sales took them) and the
    /// shop's `allowExpiredSale` (issue 16).
    lots: crate::catalog::batch::Lots,
    /// The lot decrements of the batch's sales, written guarded (`catalog::batch::repo::take`).
    batch_takes: Vec<crate::catalog::batch::Take>,
    /// The books and this device's series the batch's printed numbers name, and the numbers
    /// already used (stored, and given by earlier sales of the batch) (issue 17).
    numbers: crate::billing::numbering::Numbers,
    /// The highest sequence received per device series (stored, then the batch's): a number
    /// above highest + 1 reports the numbers between as a gap.
    series_high: HashMap<ObjectId, i64>,
    /// The shop's GST profile (issue 17; read when the push has sales) and the inherited tax
    /// codes of the loaded items that have none of their own.
    gst: Option<crate::client::gst::GstProfile>,
    tax_codes: HashMap<ObjectId, crate::catalog::tax::TaxCode>,
}

/// Apply a push (inside its transaction). One outcome per operation, in order.
///
/// A push without cancels or credit notes is one bulk run ([`run_batch`]). With them, the
/// push is cut at each one (issue 18, `credit`): the run of operations before it is
/// simulated and written, the cancel or credit note is applied through the online write
/// path on the same session (it sees what the run wrote), then the next run goes on, so the
/// order sent is kept. Operations left `deferred` (a document they name by opId arrives
/// later in the push) are tried again, in order, once everything else has run, until a pass
/// applies none of them.
pub(super) async fn run_push(s: &mut ClientSession, ctx: &PushCtx<'_>) -> AppResult<Vec<OpOutcome>> {
    if !ctx.ops.iter().any(|op| credit::own_step(ctx, op)) {
        return run_batch(s, ctx).await;
    }
    let mut out: Vec<Option<OpOutcome>> = vec![None; ctx.ops.len()];
    let mut pending: Vec<usize> = (0..ctx.ops.len()).collect();
    loop {
        let mut i = 0;
        while i < pending.len() {
            let op = &ctx.ops[pending[i]];
            if credit::own_step(ctx, op) {
                out[pending[i]] = Some(credit::apply(s, ctx, op).await?);
                i += 1;
                continue;
            }
            let mut j = i;
            while j < pending.len() && !credit::own_step(ctx, &ctx.ops[pending[j]]) {
                j += 1;
            }
            let run: Vec<Op> = pending[i..j].iter().map(|k| ctx.ops[*k].clone()).collect();
            let sub = PushCtx { ops: &run, ..*ctx };
            for (k, o) in pending[i..j].iter().zip(run_batch(s, &sub).await?) {
                out[*k] = Some(o);
            }
            i = j;
        }
        let still: Vec<usize> =
            pending.iter().copied().filter(|k| out[*k].as_ref().is_some_and(|o| o.status == "deferred")).collect();
        if still.is_empty() || still.len() == pending.len() {
            break;
        }
        pending = still;
    }
    Ok(out.into_iter().zip(ctx.ops).map(|(o, op)| o.unwrap_or_else(|| duplicate(ctx, &op.op_id))).collect())
}

/// Apply the batch (inside the push transaction). One outcome per operation, in order.
/// Operations whose dependency is missing are tried again after the others (a payment
/// pushed before its invoice in the same push applies); those still missing one answer
/// `deferred` and are not recorded.
async fn run_batch(s: &mut ClientSession, ctx: &PushCtx<'_>) -> AppResult<Vec<OpOutcome>> {
    // the receipt time, which dates no record later than it (`billing::sale_time`)
    let now = ctx.state.clock.now();
    let (mut world, (earlier, mut failed)) = load(s, ctx).await?;
    let mut ids: HashMap<String, ObjectId> = HashMap::new();
    let mut steps: Vec<Option<Result<Res, Fail>>> = Vec::with_capacity(ctx.ops.len());
    let note =
        |step: &Result<Res, Fail>, op_id: &str, ids: &mut HashMap<String, ObjectId>, failed: &mut HashSet<String>| {
            match step {
                Ok(res) => {
                    let id = match res {
                        Res::Id(id) | Res::Invoice(id, _, _, _) | Res::Duplicate(id) => *id,
                        // a payment is named by its first document (nothing refers to one)
                        Res::Payment(ids, invoice) => ids.first().copied().unwrap_or(*invoice),
                    };
                    ids.insert(op_id.to_string(), id);
                }
                Err(Fail::Rejected(_) | Fail::Conflict(..)) => {
                    failed.insert(op_id.to_string());
                }
                Err(Fail::Deferred(_)) => {}
            }
        };
    for op in ctx.ops {
        if ctx.skip.contains_key(&op.op_id) {
            steps.push(None);
            continue;
        }
        let step = match &op.action {
            Err(reason) => Err(Fail::Rejected(reason.clone())),
            Ok(action) => simulate(
                &mut world,
                ctx,
                &ids,
                &earlier,
                &failed,
                Queued { action, actor: op.actor.as_ref().unwrap_or(ctx.actor) },
                now,
            ),
        };
        note(&step, &op.op_id, &mut ids, &mut failed);
        steps.push(Some(step));
    }
    // dependencies that arrived later in this push
    loop {
        let mut progress = false;
        for (op, step) in ctx.ops.iter().zip(steps.iter_mut()) {
            let (Some(Err(Fail::Deferred(_))), Ok(action)) = (&step, &op.action) else { continue };
            let again = simulate(
                &mut world,
                ctx,
                &ids,
                &earlier,
                &failed,
                Queued { action, actor: op.actor.as_ref().unwrap_or(ctx.actor) },
                now,
            );
            if !matches!(again, Err(Fail::Deferred(_))) {
                progress = true;
                note(&again, &op.op_id, &mut ids, &mut failed);
                *step = Some(again);
            }
        }
        if !progress {
            break;
        }
    }

    let mut out = Vec::with_capacity(ctx.ops.len());
    let deferred = |op_id: &str, reason: &str| OpOutcome {
        op_id: op_id.to_string(),
        status: "deferred".into(),
        result: None,
        reason: Some(reason.to_string()),
        original_status: None,
    };
    if steps.iter().all(|s| matches!(s, None | Some(Err(Fail::Deferred(_))))) {
        for (op, step) in ctx.ops.iter().zip(&steps) {
            match step {
                Some(Err(Fail::Deferred(r))) => out.push(deferred(&op.op_id, r)),
                _ => out.push(duplicate(ctx, &op.op_id)),
            }
        }
        return Ok(out);
    }
    write(s, ctx, &mut world, now).await?;
    let seq = changes::append(&ctx.state.db, s, ctx.client_id, &world.changed).await?;

    let mut records = Vec::new();
    for (op, step) in ctx.ops.iter().zip(steps) {
        let Some(step) = step else {
            out.push(duplicate(ctx, &op.op_id));
            continue;
        };
        // (status recorded, status answered, result, reason)
        let (status, answer, result, reason) = match step {
            Ok(res @ Res::Duplicate(_)) => {
                let r = render(&world, &res);
                let why = format!("deviceRef already billed as invoice {}", r["id"].as_str().unwrap_or_default());
                ("applied", "duplicate", Some(r), Some(why))
            }
            Ok(res) => ("applied", "applied", Some(render(&world, &res)), None),
            Err(Fail::Rejected(r)) => ("rejected", "rejected", None, Some(r)),
            Err(Fail::Conflict(v, r)) => ("conflict", "conflict", Some(v), Some(r)),
            Err(Fail::Deferred(r)) => {
                out.push(deferred(&op.op_id, &r));
                continue;
            }
        };
        records.push(OpRecord {
            id: ObjectId::new(),
            client_id: ctx.client_id,
            op_id: op.op_id.clone(),
            entity: op.entity.clone(),
            kind: op.kind.clone(),
            status: status.into(),
            result: result.as_ref().map(|v| v.to_string()),
            reason: reason.clone(),
            payload: op.raw.clone(),
            device_time: op.device_time,
            seq,
            created_at: now,
        });
        out.push(OpOutcome {
            op_id: op.op_id.clone(),
            status: answer.into(),
            result,
            reason,
            original_status: (answer == "duplicate").then(|| status.to_string()),
        });
    }
    if !records.is_empty() {
        ctx.state.db.collection::<OpRecord>(OPS).insert_many(&records).session(&mut *s).await?;
    }
    Ok(out)
}

fn duplicate(ctx: &PushCtx<'_>, op_id: &str) -> OpOutcome {
    let rec = ctx.skip.get(op_id);
    OpOutcome {
        op_id: op_id.to_string(),
        status: "duplicate".into(),
        result: rec.and_then(|r| r.result.as_deref()).and_then(|t| serde_json::from_str(t).ok()),
        reason: rec.and_then(|r| r.reason.clone()),
        original_status: rec.map(|r| r.status.clone()),
    }
}
