//! Cancels and credit notes (issue 18): command -> `repo::load` -> `decide` -> `repo::apply`,
//! in one transaction with the change-log rows, behind the shop's write queue.

use bson::oid::ObjectId;

use super::{
    command::{CancelInvoice, IssueCreditNote},
    decide,
    model::CreditNoteDoc,
    repo,
};
use crate::{
    billing::{model::InvoiceDoc, repo::Log},
    db,
    error::{AppError, AppResult},
    state::AppState,
};

/// Cancel inside the caller's transaction `s` (the caller holds the shop queue); the
/// change-log rows go to `log`. Returns the invoice as cancelled. Refusals: see
/// [`decide::cancel`].
pub async fn cancel_in(
    s: &mut mongodb::ClientSession,
    state: &AppState,
    cmd: &CancelInvoice,
    log: Log<'_>,
) -> AppResult<InvoiceDoc> {
    let loaded = repo::load(&state.db, s, cmd.client_id, cmd.invoice_id).await?;
    let plan = decide::cancel(cmd, &loaded.inputs(), state.clock.now(), &mut ObjectId::new)?;
    Ok(repo::apply(&state.db, s, plan, log).await?.0)
}

/// Issue a credit note inside the caller's transaction `s` (the caller holds the shop
/// queue); the change-log rows go to `log`. Returns the note (numbered) and the invoice after
/// it. Refusals: see [`decide::credit_note`].
pub async fn issue_in(
    s: &mut mongodb::ClientSession,
    state: &AppState,
    cmd: &IssueCreditNote,
    log: Log<'_>,
) -> AppResult<(CreditNoteDoc, InvoiceDoc)> {
    let loaded = repo::load(&state.db, s, cmd.client_id, cmd.invoice_id).await?;
    let plan = decide::credit_note(cmd, &loaded.inputs(), state.clock.now(), &mut ObjectId::new)?;
    let (invoice, note) = repo::apply(&state.db, s, plan, log).await?;
    let note = note.ok_or_else(|| AppError::internal("credit note plan without a note"))?;
    Ok((note, invoice))
}

/// Renders the answer recorded under an idempotency key.
pub type Render<T> = dyn Fn(&T) -> AppResult<String> + Sync;

/// An idempotency key, the hash of its request, and how to render the answer it keeps.
pub struct Keyed<'a, T> {
    pub key: &'a str,
    pub hash: &'a str,
    pub status: u16,
    pub render: &'a Render<T>,
}

/// [`cancel_in`] in its own transaction, behind the shop's write queue; with `keyed`, the
/// rendered answer is recorded in the same transaction (returned as the second value).
pub async fn cancel(
    state: &AppState,
    cmd: &CancelInvoice,
    keyed: Option<&Keyed<'_, InvoiceDoc>>,
) -> AppResult<(InvoiceDoc, Option<String>)> {
    let _queue = state.shop_locks.lock(&cmd.client_id).await;
    let ctx = (state, cmd, keyed);
    db::transaction(&state.client, &ctx, |s, (state, cmd, keyed)| {
        Box::pin(async move {
            let inv = cancel_in(s, state, cmd, Log::Now).await?;
            let out = match keyed {
                Some(k) => Some(record(s, state, cmd.client_id, k, (k.render)(&inv)?).await?),
                None => None,
            };
            Ok((inv, out))
        })
    })
    .await
}

/// [`issue_in`] in its own transaction, behind the shop's write queue; with `keyed`, the
/// rendered answer is recorded in the same transaction (a retry gets it back: never a second
/// credit note or refund).
pub async fn issue(
    state: &AppState,
    cmd: &IssueCreditNote,
    keyed: Option<&Keyed<'_, (CreditNoteDoc, InvoiceDoc)>>,
) -> AppResult<(CreditNoteDoc, InvoiceDoc, Option<String>)> {
    let _queue = state.shop_locks.lock(&cmd.client_id).await;
    let ctx = (state, cmd, keyed);
    db::transaction(&state.client, &ctx, |s, (state, cmd, keyed)| {
        Box::pin(async move {
            let done = issue_in(s, state, cmd, Log::Now).await?;
            let out = match keyed {
                Some(k) => Some(record(s, state, cmd.client_id, k, (k.render)(&done)?).await?),
                None => None,
            };
            Ok((done.0, done.1, out))
        })
    })
    .await
}

async fn record<T>(
    s: &mut mongodb::ClientSession,
    state: &AppState,
    client_id: ObjectId,
    k: &Keyed<'_, T>,
    out: String,
) -> AppResult<String> {
    crate::idem::record_status(state, s, client_id, k.key, k.hash, k.status, &out).await?;
    Ok(out)
}
