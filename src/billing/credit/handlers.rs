//! Issue 18's routes: cancel an invoice, issue and read credit notes.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use bson::{doc, oid::ObjectId};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::{
    command::{CancelInvoice, IssueCreditNote},
    dto::*,
    model::CreditNoteDoc,
    repo, service,
};
use crate::{
    access::Permission,
    approval::{Approver, Subject},
    billing::{dto::InvoiceWire, model::InvoiceDoc},
    error::{AppError, AppResult},
    extract::{from_value, ApiPath, ApiQuery, AuthClient},
    idem,
    openapi::ErrorBody,
    paging::Pagination,
    state::AppState,
    validate::{self, Errors},
};

fn lease_secs(state: &AppState) -> i64 {
    (state.config.request_timeout.as_secs() as i64 + 5).min(idem::LEASE_SECS)
}

fn to_json<T: serde::Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(|e| AppError::internal(format!("response serialization: {e}")))
}

/// The approver of an action the user may not do alone (no `cancel` permission): the
/// approval token sent, consumed for exactly `subject`. Without a token: 403
/// `APPROVAL_REQUIRED`. A user holding `cancel` needs none (`None`).
async fn approval(
    state: &AppState,
    auth: &AuthClient,
    token: Option<&str>,
    subject: Subject,
    what: &str,
) -> AppResult<Option<Approver>> {
    if auth.can(Permission::Cancel) {
        return Ok(None);
    }
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
        return Err(crate::approval::approval_required(&subject, what));
    };
    let (approver, _) = crate::approval::consume(&state.db, auth.client_id, auth.user.user_id, token, &subject).await?;
    Ok(Some(approver))
}

fn cancel_answer(inv: &InvoiceDoc) -> CancelResponse {
    CancelResponse { success: true, message: "Invoice cancelled".into(), invoice: InvoiceWire::from_doc(inv) }
}

fn note_answer(done: &(CreditNoteDoc, InvoiceDoc)) -> CreditNoteResponse {
    CreditNoteResponse {
        success: true,
        message: format!("Credit note {} issued", done.0.credit_note_number),
        credit_note: CreditNoteWire::from(&done.0),
        invoice: InvoiceWire::from_doc(&done.1),
    }
}

/// Issue 18: cancel an invoice. It keeps its number and shows status `Cancelled` with who,
/// when and why; its stock goes back (reason `cancel`), the customer's dues and purchase
/// history are corrected. Money paid on it must be refunded: send `refund.method` and the
/// net paid amount is refunded in the same transaction (a negative payment, `kind:
/// refund`). A user without `cancel` (a cashier) sends a manager's `approvalToken`. 409
/// `ALREADY_CANCELLED`, `HAS_CREDIT_NOTES`, `REFUND_REQUIRED`; another shop's invoice: 404.
#[utoipa::path(post, path = "/api/business/invoices/{invoiceId}/cancel", tag = "billing", security(("bearer" = [])), request_body = CancelRequest,
    params(("invoiceId" = String, Path, description = "Invoice id"),
        ("X-Idempotency-Key" = Option<String>, Header, description = "Per-client key: a retry gets the stored first answer")),
    responses((status = 200, body = CancelResponse), (status = 400, body = ErrorBody),
        (status = 403, description = "APPROVAL_REQUIRED / APPROVAL_INVALID (a user without cancel)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "ALREADY_CANCELLED, HAS_CREDIT_NOTES, REFUND_REQUIRED; the same X-Idempotency-Key still in flight", body = ErrorBody),
        (status = 422, description = "X-Idempotency-Key already used with another body", body = ErrorBody),
        (status = 504, description = "OUTCOME_UNKNOWN: timed out while the work may still complete; retry with the same X-Idempotency-Key", body = ErrorBody)),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn cancel(
    State(state): State<AppState>,
    auth: AuthClient,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    crate::extract::ApiJson(body): crate::extract::ApiJson<Value>,
) -> AppResult<Response> {
    let key = idem::key_from(&headers)?;
    let invoice_id = validate::oid("params.invoiceId", &id)?;
    let req: CancelRequest = from_value(body.clone())?;
    let mut e = Errors::new();
    let (reason, refund_method) = check_cancel(&mut e, &req);
    e.finish()?;
    let mut cmd = CancelInvoice {
        client_id: auth.client_id,
        invoice_id,
        reason,
        refund_method,
        by: auth.by(),
        who: crate::audit::who(&auth),
        approved_by: None,
        at: None,
    };
    let hash = key.as_ref().map(|_| idem::hash(&format!("POST /api/business/invoices/{id}/cancel"), &body));
    let st = state.clone();
    crate::http::detached(&state, async move {
        let state = st;
        let token = req.approval_token.clone();
        let subject = Subject::Cancel { invoice_id, refund: cmd.refund_method.clone() };
        let (Some(key), Some(hash)) = (key, hash) else {
            cmd.approved_by = approval(&state, &auth, token.as_deref(), subject, "Cancelling an invoice").await?;
            let (inv, _) = service::cancel(&state, &cmd, None).await?;
            return Ok(Json(cancel_answer(&inv)).into_response());
        };
        let render = |inv: &InvoiceDoc| to_json(&cancel_answer(inv));
        let hook =
            service::Keyed { key: &key, hash: &hash, status: 200, render: &render as &service::Render<InvoiceDoc> };
        let answer = idem::once(&state, cmd.client_id, &key, &hash, lease_secs(&state), 200, || async {
            let mut cmd = cmd.clone();
            cmd.approved_by =
                approval(&state, &auth, token.as_deref(), subject.clone(), "Cancelling an invoice").await?;
            let (_, out) = service::cancel(&state, &cmd, Some(&hook)).await?;
            out.ok_or_else(|| AppError::internal("keyed cancel without a response"))
        })
        .await?;
        Ok(answer.into_response())
    })
    .await
}

/// Issue 18: a credit note (CGST Act s.34, rule 53(1A)) against an invoice: goods returned
/// (`lines`: each credits its stored taxable value and tax pro rata, the last return of a
/// line takes the remainder; quantities counted in base units whatever unit is named) or an
/// amount (`amount`, tax included). Numbered `CN/26-27/00001` per financial year, dated
/// today. Settled by a refund (`settlement.type: refund`, at most what is paid on the
/// invoice net) and/or adjusted to the invoice's dues. A user without `cancel` sends a
/// manager's `approvalToken`. 409 `RETURN_EXCEEDS_SOLD`, `REFUND_EXCEEDS_PAID`,
/// `CREDIT_EXCEEDS_PENDING`, `CREDIT_EXCEEDS_INVOICE`, `INVOICE_CANCELLED`,
/// `INVOICE_NOT_ISSUED`; 422 `CREDIT_NOTE_TIME_BARRED` after 30 November following the
/// invoice's financial year; another shop's invoice: 404.
#[utoipa::path(post, path = "/business/credit-notes", tag = "billing", security(("bearer" = [])), request_body = CreditNoteRequest,
    params(("X-Idempotency-Key" = Option<String>, Header, description = "Per-client key: a retry gets the stored first answer (never a second note or refund)")),
    responses((status = 201, body = CreditNoteResponse), (status = 400, body = ErrorBody),
        (status = 403, description = "APPROVAL_REQUIRED / APPROVAL_INVALID (a user without cancel)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "RETURN_EXCEEDS_SOLD, REFUND_EXCEEDS_PAID, CREDIT_EXCEEDS_PENDING, CREDIT_EXCEEDS_INVOICE, INVOICE_CANCELLED, INVOICE_NOT_ISSUED", body = ErrorBody),
        (status = 422, description = "CREDIT_NOTE_TIME_BARRED; X-Idempotency-Key already used with another body", body = ErrorBody),
        (status = 504, description = "OUTCOME_UNKNOWN: timed out while the work may still complete; retry with the same X-Idempotency-Key", body = ErrorBody)),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn create(
    State(state): State<AppState>,
    auth: AuthClient,
    headers: HeaderMap,
    crate::extract::ApiJson(body): crate::extract::ApiJson<Value>,
) -> AppResult<Response> {
    let key = idem::key_from(&headers)?;
    let req: CreditNoteRequest = from_value(body.clone())?;
    let mut e = Errors::new();
    let invoice_id = e.oid("invoiceId", req.invoice_id.trim());
    let note = check_note(&mut e, &req);
    e.finish()?;
    let (Some(invoice_id), Some(note)) = (invoice_id, note) else {
        return Err(AppError::validation("lines", "could not be read"));
    };
    let subject = Subject::CreditNote { invoice_id, credit: credit_text(&note.credit, note.restock, &note.settlement) };
    let cmd = IssueCreditNote {
        client_id: auth.client_id,
        invoice_id,
        credit: note.credit,
        restock: note.restock,
        settlement: note.settlement,
        reason: note.reason,
        by: auth.by(),
        who: crate::audit::who(&auth),
        approved_by: None,
        at: None,
        device_ref: None,
        source: "online",
    };
    let hash = key.as_ref().map(|_| idem::hash("POST /api/business/credit-notes", &body));
    let st = state.clone();
    crate::http::detached(&state, async move {
        let state = st;
        let token = req.approval_token.clone();
        let (Some(key), Some(hash)) = (key, hash) else {
            let mut cmd = cmd;
            cmd.approved_by = approval(&state, &auth, token.as_deref(), subject, "A credit note").await?;
            let (n, inv, _) = service::issue(&state, &cmd, None).await?;
            return Ok((StatusCode::CREATED, Json(note_answer(&(n, inv)))).into_response());
        };
        let render = |done: &(CreditNoteDoc, InvoiceDoc)| to_json(&note_answer(done));
        let hook = service::Keyed {
            key: &key,
            hash: &hash,
            status: 201,
            render: &render as &service::Render<(CreditNoteDoc, InvoiceDoc)>,
        };
        let answer = idem::once(&state, cmd.client_id, &key, &hash, lease_secs(&state), 201, || async {
            let mut cmd = cmd.clone();
            cmd.approved_by = approval(&state, &auth, token.as_deref(), subject.clone(), "A credit note").await?;
            let (_, _, out) = service::issue(&state, &cmd, Some(&hook)).await?;
            out.ok_or_else(|| AppError::internal("keyed credit note without a response"))
        })
        .await?;
        Ok(answer.into_response())
    })
    .await
}

/// Filters of the credit note list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CreditNotesQuery {
    /// One invoice's notes.
    pub invoice_id: Option<String>,
    /// One customer's notes.
    pub client_customer_id: Option<String>,
    /// India dates `YYYY-MM-DD` (inclusive) of `creditNoteDate`.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Default 100, at most 500.
    pub limit: Option<String>,
    pub offset: Option<String>,
}

/// Issue 18: the shop's credit notes, newest first (filters: invoice, customer, dates).
#[utoipa::path(get, path = "/business/credit-notes", tag = "billing", security(("bearer" = [])),
    params(CreditNotesQuery),
    responses((status = 200, body = CreditNotesResponse), (status = 400, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<CreditNotesQuery>,
) -> AppResult<Json<CreditNotesResponse>> {
    let page = crate::paging::page(q.limit.as_deref(), q.offset.as_deref())?;
    let mut e = Errors::new();
    let mut filter = doc! {};
    if let Some(i) = q.invoice_id.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        if let Some(id) = e.oid("query.invoiceId", i) {
            filter.insert("invoiceId", id);
        }
    }
    if let Some(c) = q.client_customer_id.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        if let Some(id) = e.oid("query.clientCustomerId", c) {
            filter.insert("clientCustomerId", id);
        }
    }
    let mut dates = doc! {};
    for (name, op, v) in [("query.from", "$gte", &q.from), ("query.to", "$lte", &q.to)] {
        if let Some(d) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            match crate::time::parse_date(d) {
                Some(d) => {
                    dates.insert(op, d.format("%Y-%m-%d").to_string());
                }
                None => e.add(name, "must be a date YYYY-MM-DD"),
            }
        }
    }
    e.finish()?;
    if !dates.is_empty() {
        filter.insert("creditNoteDate", dates);
    }
    let (notes, total) = repo::list(&state.db, auth.client_id, filter, page.offset as u64, page.limit).await?;
    Ok(Json(CreditNotesResponse {
        success: true,
        credit_notes: notes.iter().map(CreditNoteWire::from).collect(),
        pagination: Pagination::of(page, total as i64),
    }))
}

/// Issue 18: one credit note. Another shop's or an unknown id: 404.
#[utoipa::path(get, path = "/business/credit-notes/{creditNoteId}", tag = "billing", security(("bearer" = [])),
    params(("creditNoteId" = String, Path, description = "Credit note id")),
    responses((status = 200, body = CreditNoteOne), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn one(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<CreditNoteOne>> {
    let id: ObjectId = validate::oid("params.creditNoteId", &id)?;
    let note =
        repo::find(&state.db, auth.client_id, id).await?.ok_or_else(|| AppError::not_found("Credit note not found"))?;
    Ok(Json(CreditNoteOne { success: true, credit_note: CreditNoteWire::from(&note) }))
}
