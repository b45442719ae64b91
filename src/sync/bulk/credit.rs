//! Issue 18: the `invoice cancel` and `creditNote create` operations of a push, each applied
//! in its own step through the online write path (`billing::credit::service::{cancel_in,
//! issue_in}`: the same loader, decider and writer as `POST /business/invoices/{id}/cancel`
//! and `POST /business/credit-notes`), inside the push's transaction.
//!
//! **Why their own step, not the in-memory simulation.** A cancel or credit note reads and
//! writes much more than a sale (the invoice's lines and returns, its payments, lots, the
//! customer's history, the credit-note counter) and its rules live in one decider that works
//! on stored documents. Re-implementing it over the bulk `World` would be a second copy of
//! the rules. Instead [`super::run_push`] cuts the push at each such operation: the
//! operations before it are simulated and WRITTEN (`run_batch` on that run), then this step
//! runs the online service on the same session (a transaction reads its own writes, so a
//! sale earlier in the push is visible, numbered and paid), then the next run goes on. The
//! order sent is kept exactly (a sale, its return, then a payment of what is left: the
//! payment sees the credit). A push without these operations is one run, as before.
//!
//! **A refusal rejects only this operation.** The service answers a refusal (a 4xx
//! `AppError`) possibly after it wrote something in the session; a MongoDB transaction has
//! no savepoint, so the whole push's transaction is aborted and run again with this
//! operation turned into a rejection ([`PushCtx::refused`], read by `sync::ops::push`). The
//! other operations then apply as if it had never been there; each refused operation costs
//! one more run of the push, so a push is run at most once more per cancel / credit note.

use bson::{doc, oid::ObjectId};
use mongodb::ClientSession;
use serde_json::{json, Value};

use crate::{
    access::Permission,
    approval::{self, Subject},
    billing::{
        credit::{
            command::{CancelInvoice, IssueCreditNote},
            dto::credit_text,
            service,
        },
        model::InvoiceDoc,
        repo::Log,
    },
    error::{AppError, AppResult},
    sync::{
        changes,
        ops::{Action, Op, OpOutcome, OpRecord, PushCtx, Ref, OPS},
    },
};

/// Whether this operation is applied in its own step (a cancel or a credit note not recorded
/// yet).
pub(super) fn own_step(ctx: &PushCtx<'_>, op: &Op) -> bool {
    !ctx.skip.contains_key(&op.op_id)
        && matches!(op.action, Ok(Action::InvoiceCancel(_)) | Ok(Action::CreditNoteCreate(_)))
}

/// The text of the error that aborts the push's transaction after a refusal (never answered:
/// `sync::ops::push` reads [`PushCtx::refused`] and runs the push again).
pub const REFUSED: &str = "sync: a cancel or credit note was refused; the push runs again without it";

/// How a refusal of the online route reads in the push answer: the field errors of a 400
/// joined, else `CODE: message` (`NOT_FOUND: ...`, `CONFLICT: ...`).
pub fn reason_of(e: &AppError) -> String {
    match e {
        AppError::Validation(v) | AppError::ValidationWith { errors: v, .. } => v.join("; "),
        other => format!("{}: {other}", other.code()),
    }
}

/// Whether `e` is a refusal (the online route's 4xx): the operation is rejected. Anything else
/// (the database, a bug) fails the push (retried whole by the caller or answered 5xx).
fn is_refusal(e: &AppError) -> bool {
    e.status().is_client_error() && !matches!(e, AppError::TooManyRequests { .. })
}

/// The outcome of an operation that names a document by opId the server has not seen yet:
/// `deferred`, not recorded (as in `run_batch`).
fn deferred(op: &Op, reason: String) -> OpOutcome {
    OpOutcome {
        op_id: op.op_id.clone(),
        status: "deferred".into(),
        result: None,
        reason: Some(reason),
        original_status: None,
    }
}

/// Record `op` (its effects visible at `seq`) and answer it.
async fn record(
    s: &mut ClientSession,
    ctx: &PushCtx<'_>,
    op: &Op,
    seq: i64,
    applied: Result<Value, String>,
) -> AppResult<OpOutcome> {
    let (status, result, reason) = match applied {
        Ok(v) => ("applied", Some(v), None),
        Err(r) => ("rejected", None, Some(r)),
    };
    let rec = OpRecord {
        id: ObjectId::new(),
        client_id: ctx.client_id,
        op_id: op.op_id.clone(),
        entity: op.entity.clone(),
        kind: op.kind.clone(),
        status: status.into(),
        result: result.as_ref().map(Value::to_string),
        reason: reason.clone(),
        payload: op.raw.clone(),
        device_time: op.device_time,
        seq,
        created_at: ctx.state.clock.now(),
    };
    ctx.state.db.collection::<OpRecord>(OPS).insert_one(&rec).session(&mut *s).await?;
    Ok(OpOutcome { op_id: op.op_id.clone(), status: status.into(), result, reason, original_status: None })
}

/// The invoice an operation names: its server id, or the id the sale operation `opId`
/// created (recorded by an earlier push, or by an earlier run of this push: the transaction
/// reads its own writes). `Err(Ok(reason))`: that operation was not applied (final);
/// `Err(Err(reason))`: it has not arrived yet (deferred).
async fn invoice_of(
    s: &mut ClientSession,
    ctx: &PushCtx<'_>,
    r: &Ref,
) -> AppResult<Result<ObjectId, Result<String, String>>> {
    let o = match r {
        Ref::Id(id) => return Ok(Ok(*id)),
        Ref::Op(o) => o,
    };
    let rec = ctx
        .state
        .db
        .collection::<OpRecord>(OPS)
        .find_one(doc! { "clientId": ctx.client_id, "opId": o })
        .session(&mut *s)
        .await?;
    Ok(match rec {
        None => Err(Err(format!(
            "depends on operation {o}, which has not arrived yet: push this operation again with or after it"
        ))),
        Some(rec) if rec.status != "applied" => Err(Ok(format!("depends on operation {o}, which was not applied"))),
        Some(rec) => rec
            .result
            .as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .and_then(|v| v.get("id").and_then(Value::as_str).and_then(|h| ObjectId::parse_str(h).ok()))
            .ok_or_else(|| Ok(format!("operation {o} created no invoice"))),
    })
}

/// The push answer of an applied cancel: the invoice as it now stands.
fn cancelled(inv: &InvoiceDoc) -> Value {
    json!({
        "id": inv.id.to_hex(),
        "invoiceNumber": inv.invoice_number,
        "status": inv.status,
        "isCancelled": inv.is_cancelled,
        "totalAmount": inv.total_amount,
        "paidAmount": inv.paid_amount,
        "refundedAmount": inv.refunded_amount,
        "pendingAmount": inv.pending(),
        "cancellation": inv.cancellation.as_ref().map(|c| json!({
            "at": crate::wire::iso(c.at),
            "by": crate::access::ByWire::from(&c.by),
            "reason": c.reason,
            "approvedBy": c.approved_by,
        })),
    })
}

/// The invoice's figures after a credit note (what the device shows as its state).
fn invoice_state(inv: &InvoiceDoc) -> Value {
    json!({
        "id": inv.id.to_hex(),
        "invoiceNumber": inv.invoice_number,
        "status": inv.status,
        "totalAmount": inv.total_amount,
        "paidAmount": inv.paid_amount,
        "creditedAmount": inv.credited_amount,
        "refundedAmount": inv.refunded_amount,
        "pendingAmount": inv.pending(),
    })
}

/// Apply one cancel or credit note of the push (see the module docs). `Ok` with its outcome
/// (applied, rejected for a dependency, or deferred); `Err(AppError::Internal(REFUSED))`
/// after setting `ctx.refused` when the online rules refuse it (the caller runs the push
/// again); other errors fail the push.
pub(super) async fn apply(s: &mut ClientSession, ctx: &PushCtx<'_>, op: &Op) -> AppResult<OpOutcome> {
    let actor = op.actor.as_ref().unwrap_or(ctx.actor);
    let (target, token) = match &op.action {
        Ok(Action::InvoiceCancel(a)) => (&a.invoice, a.approval_token.as_deref()),
        Ok(Action::CreditNoteCreate(a)) => (&a.invoice, a.approval_token.as_deref()),
        _ => return Err(AppError::internal("sync: not a cancel or credit note")),
    };
    let invoice_id = match invoice_of(s, ctx, target).await? {
        Ok(id) => id,
        Err(Err(why)) => return Ok(deferred(op, why)),
        Err(Ok(why)) => {
            let seq = changes::append(&ctx.state.db, s, ctx.client_id, &[]).await?;
            return record(s, ctx, op, seq, Err(why)).await;
        }
    };
    // the audit trail names the user who queued it, and the pushing device
    let who = || {
        crate::audit::Who::new(actor.user_id.to_hex(), actor.name.clone(), actor.role.as_str()).device(ctx.device_id)
    };
    let mut changed = Vec::new();
    let outcome: AppResult<Value> = async {
        // a user without `cancel` needs a manager's approval of exactly this (issued online),
        // as online; its token is spent only if the push commits
        let approved_by = if actor.grants.contains(Permission::Cancel) {
            None
        } else {
            let (subject, what) = match &op.action {
                Ok(Action::CreditNoteCreate(a)) => {
                    let credit = credit_text(&a.credit, a.restock, &a.settlement);
                    (Subject::CreditNote { invoice_id, credit }, "A credit note")
                }
                Ok(Action::InvoiceCancel(a)) => {
                    (Subject::Cancel { invoice_id, refund: a.refund_method.clone() }, "Cancelling an invoice")
                }
                _ => return Err(AppError::internal("sync: not a cancel or credit note")),
            };
            let Some(token) = token else { return Err(approval::approval_required(&subject, what)) };
            let db = &ctx.state.db;
            Some(approval::consume_in(db, s, ctx.client_id, actor.user_id, token, &subject).await?.0)
        };
        match &op.action {
            Ok(Action::InvoiceCancel(a)) => {
                let cmd = CancelInvoice {
                    client_id: ctx.client_id,
                    invoice_id,
                    reason: a.reason.clone(),
                    refund_method: a.refund_method.clone(),
                    by: actor.by(),
                    who: who(),
                    approved_by,
                    at: Some(a.at),
                };
                let inv = service::cancel_in(s, ctx.state, &cmd, Log::Into(&mut changed)).await?;
                Ok(cancelled(&inv))
            }
            Ok(Action::CreditNoteCreate(a)) => {
                let cmd = IssueCreditNote {
                    client_id: ctx.client_id,
                    invoice_id,
                    credit: a.credit.clone(),
                    restock: a.restock,
                    settlement: a.settlement.clone(),
                    reason: a.reason.clone(),
                    by: actor.by(),
                    who: who(),
                    approved_by,
                    at: Some(a.at),
                    device_ref: a.device_ref.clone(),
                    source: "sync",
                };
                let (note, inv) = service::issue_in(s, ctx.state, &cmd, Log::Into(&mut changed)).await?;
                Ok(json!({
                    "id": note.id.to_hex(),
                    "creditNoteNumber": note.credit_note_number,
                    "creditNoteDate": note.credit_note_date,
                    "invoiceId": note.invoice_id.to_hex(),
                    "invoiceNumber": note.invoice_number,
                    "totalAmount": note.total_amount,
                    "taxableValue": note.taxable_value,
                    "cgst": note.cgst,
                    "sgst": note.sgst,
                    "igst": note.igst,
                    "cess": note.cess,
                    "roundOff": note.round_off,
                    "settlement": {
                        "refund": note.settlement.refund,
                        "refundMethod": note.settlement.refund_method,
                        "refundPaymentId": note.settlement.refund_payment_id.map(|p| p.to_hex()),
                        "duesAdjusted": note.settlement.dues_adjusted,
                    },
                    "invoice": invoice_state(&inv),
                }))
            }
            _ => Err(AppError::internal("sync: not a cancel or credit note")),
        }
    }
    .await;
    match outcome {
        Ok(result) => {
            let seq = changes::append(&ctx.state.db, s, ctx.client_id, &changed).await?;
            record(s, ctx, op, seq, Ok(result)).await
        }
        Err(e) if is_refusal(&e) => {
            if let Ok(mut r) = ctx.refused.lock() {
                *r = Some((op.op_id.clone(), reason_of(&e)));
            }
            Err(AppError::internal(REFUSED))
        }
        Err(e) => Err(e),
    }
}
