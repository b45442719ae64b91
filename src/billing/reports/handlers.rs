//! HTTP of the billing reports (B21, B23-B32): each handler validates its query (paging,
//! date window, customer match), reads through `repo` and shapes the answer, with the
//! computations in `analytics`. No BSON here.

use std::collections::HashMap;

use axum::{extract::State, Json};
use bson::oid::ObjectId;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::{
    access::Permission,
    billing::{
        dto::{InvoiceWire, ListQuery, PaymentWire},
        model::InvoiceDoc,
        repo as billing_repo,
    },
    customer::model::CustomerDoc,
    error::{AppError, AppResult},
    extract::{ApiPath, ApiQuery, AuthClient},
    openapi::ErrorBody,
    paging::{self, Page},
    state::AppState,
    time, validate,
    window::Window,
    wire,
};

use super::{
    analytics,
    repo::{self, CustomerMatch, InvoiceFilter, PaymentFilter},
};

/// The page of a report query (`limit`/`offset`, `paging::page`).
fn page(q: &ListQuery) -> AppResult<Page> {
    paging::page(q.limit.as_deref(), q.offset.as_deref())
}

/// The date window of a report query: `from`/`to` (or v1's `startDate`/`endDate`).
fn window(q: &ListQuery) -> AppResult<Window> {
    Window::parse(q.from.as_deref().or(q.start_date.as_deref()), q.to.as_deref().or(q.end_date.as_deref()))
}

/// The optional customer filters of the shop-wide invoice lists (B21, B25, B28, B30):
/// `clientCustomerId` (an id; a foreign or unknown one simply matches nothing) and
/// `clientCustomerPhone` (normalised), both exact; 400 when malformed.
fn customer_query(q: &ListQuery) -> AppResult<CustomerMatch> {
    let mut m = CustomerMatch::default();
    if let Some(id) = q.client_customer_id.as_deref().filter(|s| !s.trim().is_empty()) {
        m.id = Some(validate::oid("query.clientCustomerId", id)?);
    }
    if let Some(p) = q.client_customer_phone.as_deref().filter(|s| !s.trim().is_empty()) {
        m.phone = Some(validate::phone_field("query.clientCustomerPhone", p)?);
    }
    Ok(m)
}

/// The optional `userId` filter (who billed an invoice, who recorded a payment); 400 when
/// it is not an id.
fn user_of(q: &ListQuery) -> AppResult<Option<ObjectId>> {
    q.user_id.as_deref().filter(|s| !s.trim().is_empty()).map(|u| validate::oid("query.userId", u.trim())).transpose()
}

/// The invoice list of a user without `sales_view` (issue 15's table: a cashier sees "own
/// sales today"): the invoices they billed on India day `today` (`YYYY-MM-DD`). Asking for
/// another user (`userId`) or another day (`from`/`to` other than `today`) is 403 `FORBIDDEN`
/// rather than a silently narrower answer.
fn own_sales_today(auth: &AuthClient, q: &ListQuery, today: String) -> AppResult<(Window, Option<ObjectId>)> {
    let asked = user_of(q)?;
    let dates = [&q.from, &q.start_date, &q.to, &q.end_date];
    let other_day = dates.iter().filter_map(|d| d.as_deref()).map(str::trim).any(|d| !d.is_empty() && d != today);
    if asked.is_some_and(|u| u != auth.user.user_id) || other_day {
        return Err(AppError::forbidden(
            crate::error::code::FORBIDDEN,
            "Without sales_view only your own sales of today can be listed",
        ));
    }
    Ok((Window::parse(Some(&today), Some(&today))?, Some(auth.user.user_id)))
}

/// The customer match of B26/B27: the id in the path (and an optional phone).
fn customer_of_path(customer: ObjectId, q: &ListQuery) -> AppResult<CustomerMatch> {
    let mut m = CustomerMatch { id: Some(customer), phone: None };
    if let Some(p) = q.client_customer_phone.as_deref().filter(|p| !p.trim().is_empty()) {
        m.phone = Some(validate::phone_field("query.clientCustomerPhone", p)?);
    }
    Ok(m)
}

/// B29/B30 `status`: `finalized` | `pending` | anything else = all.
fn status(q: &ListQuery) -> Option<bool> {
    match q.status.as_deref() {
        Some("finalized") => Some(true),
        Some("pending") => Some(false),
        _ => None,
    }
}

/// The customer document as the customer endpoints show it (for populated references).
pub fn customer_json(c: &CustomerDoc) -> Value {
    json!(crate::customer::dto::CustomerWire::from(c.clone()))
}

/// `{_id, name, phoneNumber}` of a customer (B31, B32).
fn customer_brief(c: &CustomerDoc) -> Value {
    json!({ "_id": c.id.to_hex(), "name": c.name, "phoneNumber": c.phone_number })
}

/// Invoices with `clientCustomerId` replaced by the customer document (or null).
async fn populate(state: &AppState, client_id: ObjectId, invoices: &[InvoiceDoc]) -> AppResult<Vec<InvoiceWire>> {
    let ids = invoices.iter().filter_map(|i| i.client_customer_id).collect();
    let map = repo::customers_by_id(&state.db, client_id, ids).await?;
    Ok(invoices
        .iter()
        .map(|i| {
            let c = i.client_customer_id.and_then(|id| map.get(&id)).map(customer_json).unwrap_or(Value::Null);
            InvoiceWire::with_customer(i, c)
        })
        .collect())
}

/// 404 unless the customer is this client's (a foreign id looks exactly like a missing one).
async fn require_customer(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppResult<CustomerDoc> {
    repo::customers_by_id(&state.db, client_id, vec![id])
        .await?
        .remove(&id)
        .ok_or_else(|| AppError::not_found("Customer not found"))
}

/// The shop's invoices (`kind: invoice` when `invoices_only`), by finalized state, customer
/// and `generatedAt` window.
fn invoices(
    client_id: ObjectId,
    invoices_only: bool,
    finalized: Option<bool>,
    customer: CustomerMatch,
    generated: Window,
    billed_by: Option<ObjectId>,
) -> InvoiceFilter {
    InvoiceFilter { client_id, invoices_only, finalized, customer, generated, billed_by }
}

#[derive(Serialize, ToSchema)]
pub struct InvoicesResponse {
    pub success: bool,
    pub invoices: Vec<InvoiceWire>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingResponse {
    pub success: bool,
    pub pending_invoices: Vec<InvoiceWire>,
}

#[derive(Serialize, ToSchema)]
pub struct PaymentsListResponse {
    pub success: bool,
    pub payments: Vec<PaymentWire>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryResponse {
    pub success: bool,
    #[schema(value_type = Vec<Object>)]
    pub purchase_history: Vec<Value>,
}

#[derive(Serialize, ToSchema)]
pub struct ReportResponse {
    pub success: bool,
    pub report: Vec<InvoiceWire>,
    #[schema(value_type = Object)]
    pub summary: Value,
}

/// B29-B32: payload under `data`.
#[derive(Serialize, ToSchema)]
pub struct DataResponse {
    pub success: bool,
    #[schema(value_type = Object)]
    pub data: Value,
}

/// B21: the client's invoices, newest first, customers populated; `from`/`to`, paging.
/// (The router names this segment `{id}`: it shares its position with B23's invoice id.)
/// A user without `sales_view` (a cashier, issue 15: "own sales today") sees only the
/// invoices they billed today (India): see [`own_sales_today`].
#[utoipa::path(get, path = "/api/business/invoices/{clientId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "The token's client id"), ListQuery),
    responses((status = 200, body = InvoicesResponse), (status = 400, body = ErrorBody), (status = 403, description = "Another shop's id; or, without sales_view, another user's sales or another day", body = ErrorBody)),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn list_invoices(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<InvoicesResponse>> {
    auth.ensure_same(&id)?;
    let page = page(&q)?;
    let (window, user) = if auth.can(Permission::SalesView) {
        (window(&q)?, user_of(&q)?)
    } else {
        own_sales_today(&auth, &q, time::ist_date_string(state.clock.now()))?
    };
    let filter = invoices(auth.client_id, true, None, customer_query(&q)?, window, user);
    let list = repo::find_invoices(&state.db, &filter, page).await?;
    Ok(Json(InvoicesResponse { success: true, invoices: populate(&state, auth.client_id, &list).await? }))
}

/// B23: payments of one invoice (oldest first). A foreign or unknown invoice answers 404.
#[utoipa::path(get, path = "/api/business/invoices/{invoiceId}/payments", tag = "billing", security(("bearer" = [])),
    params(("invoiceId" = String, Path, description = "Invoice id"), ("clientId" = Option<String>, Query, description = "Must be the token's client when sent")),
    responses((status = 200, body = PaymentsListResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn invoice_payments(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<PaymentsListResponse>> {
    let invoice_id = validate::oid("params.invoiceId", &id)?;
    billing_repo::find_invoice(&state.db, auth.client_id, invoice_id)
        .await?
        .ok_or_else(|| AppError::not_found("Invoice not found"))?;
    let list = billing_repo::payments_of(&state.db, auth.client_id, invoice_id).await?;
    Ok(Json(PaymentsListResponse { success: true, payments: list.iter().map(PaymentWire::from).collect() }))
}

/// B24: purchase history (paid-in-full invoices), by customer id or phone; customer and
/// invoice populated.
#[utoipa::path(get, path = "/business/purchase-history/{clientId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path), ListQuery),
    responses((status = 200, body = HistoryResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    extensions(("x-permission" = json!("customers_view"))),
)]
pub async fn purchase_history(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(_client): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<HistoryResponse>> {
    let page = page(&q)?;
    let customer = customer_query(&q)?;
    let rows = repo::histories_page(&state.db, auth.client_id, &customer, window(&q)?, page).await?;
    let customers =
        repo::customers_by_id(&state.db, auth.client_id, rows.iter().map(|r| r.client_customer_id).collect()).await?;
    let invoices = repo::invoices_by_id(&state.db, auth.client_id, rows.iter().map(|r| r.invoice_id).collect()).await?;
    let out = rows
        .iter()
        .map(|r| {
            json!({
                "_id": r.id.to_hex(), "clientId": r.client_id.to_hex(),
                "clientCustomerId": customers.get(&r.client_customer_id).map(customer_json).unwrap_or(Value::Null),
                "clientCustomerPhone": r.client_customer_phone,
                "invoiceId": invoices.get(&r.invoice_id).map(|i| json!(InvoiceWire::from_doc(i))).unwrap_or(Value::Null),
                "totalAmount": r.total_amount, "purchasedAt": wire::iso(r.purchased_at), "__v": r.version,
            })
        })
        .collect();
    Ok(Json(HistoryResponse { success: true, purchase_history: out }))
}

/// B25: invoices not yet paid in full (incomplete sales included), with `pendingAmount`.
#[utoipa::path(get, path = "/business/pending-invoices/{clientId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path), ListQuery),
    responses((status = 200, body = PendingResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn pending_invoices(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(_c): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<PendingResponse>> {
    let filter = invoices(auth.client_id, false, Some(false), customer_query(&q)?, window(&q)?, user_of(&q)?);
    let list = repo::find_invoices(&state.db, &filter, page(&q)?).await?;
    Ok(Json(PendingResponse { success: true, pending_invoices: list.iter().map(InvoiceWire::from_doc).collect() }))
}

/// B26: one customer's unpaid invoices, customer populated.
#[utoipa::path(get, path = "/business/pending-invoices/{clientId}/{clientCustomerId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path), ("clientCustomerId" = String, Path), ListQuery),
    responses((status = 200, body = PendingResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "Customer not found (or another shop's)", body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn pending_invoices_of_customer(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_c, cust)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<PendingResponse>> {
    let cust = validate::oid("params.clientCustomerId", &cust)?;
    require_customer(&state, auth.client_id, cust).await?;
    let filter = invoices(auth.client_id, false, Some(false), customer_of_path(cust, &q)?, window(&q)?, user_of(&q)?);
    let list = repo::find_invoices(&state.db, &filter, page(&q)?).await?;
    Ok(Json(PendingResponse { success: true, pending_invoices: populate(&state, auth.client_id, &list).await? }))
}

/// B27: one customer's paid invoices, customer populated.
#[utoipa::path(get, path = "/business/paid-invoices/{clientId}/{clientCustomerId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path), ("clientCustomerId" = String, Path), ListQuery),
    responses((status = 200, body = InvoicesResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "Customer not found (or another shop's)", body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn paid_invoices_of_customer(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_c, cust)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<InvoicesResponse>> {
    let cust = validate::oid("params.clientCustomerId", &cust)?;
    require_customer(&state, auth.client_id, cust).await?;
    let filter = invoices(auth.client_id, false, Some(true), customer_of_path(cust, &q)?, window(&q)?, user_of(&q)?);
    let list = repo::find_invoices(&state.db, &filter, page(&q)?).await?;
    Ok(Json(InvoicesResponse { success: true, invoices: populate(&state, auth.client_id, &list).await? }))
}

/// B28: every invoice with a summary (count, total, paid, pending) computed by MongoDB over
/// the whole filter (not just the page).
#[utoipa::path(get, path = "/business/payment-report/{clientId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path), ListQuery),
    responses((status = 200, body = ReportResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn payment_report(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(_c): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<ReportResponse>> {
    let filter = invoices(auth.client_id, false, None, customer_query(&q)?, window(&q)?, user_of(&q)?);
    let t = repo::totals(&state.db, &filter).await?;
    let list = repo::find_invoices(&state.db, &filter, page(&q)?).await?;
    Ok(Json(ReportResponse {
        success: true,
        report: list.iter().map(InvoiceWire::from_doc).collect(),
        // the v1 shape exactly (ENDPOINTS B28); the figures leave cancelled invoices out
        summary: json!({ "totalInvoices": t.n, "totalAmount": t.total, "totalPaid": t.paid, "totalPending": t.pending }),
    }))
}

/// B29 (`customer` set) / B30: the invoice page, the analytics over every invoice of the
/// window, and the pagination.
async fn invoice_history_data(
    state: &AppState,
    auth: &AuthClient,
    q: &ListQuery,
    customer: Option<ObjectId>,
) -> AppResult<Value> {
    let page = page(q)?;
    let generated = window(q)?;
    // the keys name one customer (B29) or the shop (B30), whatever the query's filters
    let scoped = customer.is_some();
    let customer = match customer {
        None => customer_query(q)?,
        Some(c) => CustomerMatch { id: Some(c), phone: None },
    };
    let base = invoices(auth.client_id, true, None, customer, generated, user_of(q)?);
    let listed = InvoiceFilter { finalized: status(q), ..base.clone() };
    let total_rows = repo::count_invoices(&state.db, &listed).await?;
    let list = repo::find_invoices(&state.db, &listed, page).await?;
    let facets = repo::invoice_facets(&state.db, &base).await?;
    let mut analytics = analytics::invoice_analytics(&facets, scoped, bson::DateTime::now());
    let behavior = repo::payment_behavior(&state.db, auth.client_id, &base).await?;
    let (behavior, average_payment_time) = analytics::payment_behavior(&behavior);
    analytics["paymentBehavior"] = behavior;
    analytics["summary"]["averagePaymentTime"] = json!(average_payment_time);
    let stats = repo::payment_stats(&state.db, auth.client_id, list.iter().map(|i| i.id).collect()).await?;
    let invoices: Vec<Value> = list.iter().map(|i| analytics::history_row(i, stats.get(&i.id))).collect();
    Ok(json!({
        "invoices": invoices,
        "analytics": analytics,
        "pagination": { "total": total_rows, "limit": page.limit, "offset": page.offset, "hasMore": page.offset + page.limit < total_rows },
    }))
}

/// B29: one customer's invoice history with analytics (`data`). A foreign or unknown
/// customer answers 404 (v1: 500).
#[utoipa::path(get, path = "/business/invoice-history/{clientId}/{clientCustomerId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path), ("clientCustomerId" = String, Path), ListQuery),
    responses((status = 200, body = DataResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn invoice_history_of_customer(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_c, cust)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<DataResponse>> {
    let cust = validate::oid("params.clientCustomerId", &cust)?;
    let c = require_customer(&state, auth.client_id, cust).await?;
    let mut data = invoice_history_data(&state, &auth, &q, Some(cust)).await?;
    data["clientCustomer"] = json!({ "_id": c.id.to_hex(), "name": c.name, "phoneNumber": c.phone_number, "emailId": c.email_id, "address": c.address, "gstNo": c.gst_no, "outstandingBalance": c.outstanding_balance });
    Ok(Json(DataResponse { success: true, data }))
}

/// B30: the client's invoice history with analytics (`data`).
#[utoipa::path(get, path = "/business/invoice-history/{clientId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path), ListQuery),
    responses((status = 200, body = DataResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn invoice_history(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(_c): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<DataResponse>> {
    let data = invoice_history_data(&state, &auth, &q, None).await?;
    Ok(Json(DataResponse { success: true, data }))
}

/// B31: one invoice's payments with running balances and analytics. Works for invoices
/// without a customer (v1 crashed, U19).
#[utoipa::path(get, path = "/business/payment-history/{clientId}/{invoiceId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path), ("invoiceId" = String, Path)),
    responses((status = 200, body = DataResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn payment_history_of_invoice(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_c, inv)): ApiPath<(String, String)>,
) -> AppResult<Json<DataResponse>> {
    let inv_id = validate::oid("params.invoiceId", &inv)?;
    let inv = billing_repo::find_invoice(&state.db, auth.client_id, inv_id)
        .await?
        .ok_or_else(|| AppError::not_found("Invoice not found"))?;
    let pays = billing_repo::payments_of(&state.db, auth.client_id, inv_id).await?;
    let customer = match inv.client_customer_id {
        Some(c) => {
            repo::customers_by_id(&state.db, auth.client_id, vec![c]).await?.remove(&c).map(|c| customer_brief(&c))
        }
        None => None,
    };
    let (rows, analytics) = analytics::invoice_payment_history(&inv, &pays, bson::DateTime::now())?;
    let mut invoice = json!(InvoiceWire::from_doc(&inv));
    invoice["clientCustomerId"] = customer.unwrap_or(Value::Null);
    Ok(Json(DataResponse {
        success: true,
        data: json!({ "invoice": invoice, "payments": rows, "analytics": analytics }),
    }))
}

/// B32: all payments (oldest first, paged) with their invoice and analytics.
#[utoipa::path(get, path = "/business/payment-history/{clientId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path), ListQuery),
    responses((status = 200, body = DataResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn payment_history(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(_c): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<DataResponse>> {
    let page = page(&q)?;
    let mut filter =
        PaymentFilter { client_id: auth.client_id, paid: window(&q)?, invoice_ids: None, recorded_by: user_of(&q)? };
    let customer = customer_query(&q)?;
    if !customer.is_empty() {
        // payments name their invoice, not the customer: the customer's invoices first
        filter.invoice_ids = Some(repo::invoice_ids_of(&state.db, auth.client_id, &customer).await?);
    }
    let pays = repo::payments_page(&state.db, &filter, page).await?;
    let invoices = repo::invoices_by_id(&state.db, auth.client_id, pays.iter().map(|p| p.invoice_id).collect()).await?;
    let customers = repo::customers_by_id(
        &state.db,
        auth.client_id,
        invoices.values().filter_map(|i| i.client_customer_id).collect(),
    )
    .await?;
    let running = if invoices.is_empty() {
        HashMap::new()
    } else {
        let all = repo::payments_of_invoices(&state.db, auth.client_id, invoices.keys().copied().collect()).await?;
        analytics::running_balances(&all)
    };
    let rows: Vec<Value> = pays
        .iter()
        .map(|p| {
            let mut row = match (running.get(&p.id), invoices.get(&p.invoice_id)) {
                (Some((number, cumulative)), Some(inv)) => analytics::payment_row(p, inv, *number, *cumulative),
                _ => json!(PaymentWire::from(p)),
            };
            row["invoice"] = invoices
                .get(&p.invoice_id)
                .map(|i| {
                    let c = i.client_customer_id.and_then(|c| customers.get(&c)).map(customer_brief);
                    json!({ "invoiceNumber": i.invoice_number, "totalAmount": i.total_amount, "clientCustomer": c })
                })
                .unwrap_or(Value::Null);
            row
        })
        .collect();
    let shop = InvoiceFilter::shop(auth.client_id);
    let repo::Totals { n: invoices, total: due, paid, pending, .. } = repo::totals(&state.db, &shop).await?;
    let finalized = repo::count_invoices(&state.db, &InvoiceFilter { finalized: Some(true), ..shop }).await?;
    let unpaid = repo::count_unpaid(&state.db, auth.client_id).await?;
    let facets = repo::payment_facets(&state.db, &filter).await?;
    let dues = analytics::ShopDues { invoices, finalized, unpaid, due, paid, pending };
    let analytics = analytics::payment_history_analytics(&facets, dues);
    let n_pay = facets.n;
    Ok(Json(DataResponse {
        success: true,
        data: json!({
            "payments": rows, "analytics": analytics,
            "pagination": { "total": n_pay, "limit": page.limit, "offset": page.offset, "hasMore": page.offset + page.limit < n_pay },
        }),
    }))
}
