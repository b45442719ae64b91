//! Dues and reports (B21, B23-B32): date-range filters, paging with a cap, and aggregates
//! computed by MongoDB. Money stays integer paise until the wire.

use std::collections::HashMap;

use axum::{extract::State, Json};
use bson::{doc, oid::ObjectId, Bson, Document};
use futures::TryStreamExt;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::{
    billing::{
        dto::{InvoiceWire, ListQuery, PaymentWire},
        model::{InvoiceDoc, PaymentDoc, PurchaseHistoryDoc},
        repo,
    },
    customer::model::CustomerDoc,
    error::{AppError, AppResult},
    extract::{ApiPath, ApiQuery, AuthClient},
    money::Paise,
    openapi::ErrorBody,
    state::AppState,
    time, validate, wire,
};

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

/// `limit` (default 100, at most 500) and `offset` (default 0), parsed as integers: a
/// non-numeric or negative value is a 400 (v1 silently dropped the limit, U13).
pub fn page(q: &ListQuery) -> AppResult<Page> {
    let mut e = validate::Errors::new();
    let limit = match q.limit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 1 => n.min(MAX_LIMIT),
            _ => {
                e.add("query.limit", "must be a whole number of at least 1");
                DEFAULT_LIMIT
            }
        },
    };
    let offset = match q.offset.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                e.add("query.offset", "must be a whole number of at least 0");
                0
            }
        },
    };
    e.finish()?;
    Ok(Page { limit, offset })
}

/// The optional customer filters of the shop-wide invoice lists (B21, B25, B28, B30):
/// `clientCustomerId` (an id; a foreign or unknown one simply matches nothing) and
/// `clientCustomerPhone` (normalised), both exact; 400 when malformed.
fn customer_query_filter(q: &ListQuery) -> AppResult<Document> {
    let mut f = Document::new();
    if let Some(id) = q.client_customer_id.as_deref().filter(|s| !s.trim().is_empty()) {
        f.insert("clientCustomerId", validate::oid("query.clientCustomerId", id)?);
    }
    if let Some(p) = q.client_customer_phone.as_deref().filter(|s| !s.trim().is_empty()) {
        f.insert("clientCustomerPhone", validate::phone_field("query.clientCustomerPhone", p)?);
    }
    Ok(f)
}

/// `generatedAt` bounds from `from`/`to` (or v1's `startDate`/`endDate`).
pub fn date_filter(q: &ListQuery, field: &str) -> AppResult<Document> {
    let mut e = validate::Errors::new();
    let from = q.from.as_deref().or(q.start_date.as_deref()).filter(|s| !s.trim().is_empty());
    let to = q.to.as_deref().or(q.end_date.as_deref()).filter(|s| !s.trim().is_empty());
    let mut range = Document::new();
    if let Some(f) = from {
        match time::parse_bound(f, false) {
            Some(t) => {
                range.insert("$gte", t);
            }
            None => e.add("query.from", "must be YYYY-MM-DD or an ISO-8601 time"),
        }
    }
    if let Some(t) = to {
        match time::parse_bound(t, true) {
            Some(t) => {
                range.insert("$lte", t);
            }
            None => e.add("query.to", "must be YYYY-MM-DD or an ISO-8601 time"),
        }
    }
    if let (Ok(a), Ok(b)) = (range.get_datetime("$gte"), range.get_datetime("$lte")) {
        if a > b {
            e.add("query.from", "must not be after to");
        }
    }
    e.finish()?;
    Ok(if range.is_empty() {
        doc! {}
    } else {
        doc! { field: range }
    })
}

/// The customer document as the customer endpoints show it (for populated references).
pub fn customer_json(c: &CustomerDoc) -> Value {
    json!(crate::customer::dto::CustomerWire::from(c.clone()))
}

async fn customers_by_id(
    state: &AppState,
    client_id: ObjectId,
    ids: Vec<ObjectId>,
) -> AppResult<HashMap<ObjectId, CustomerDoc>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let list: Vec<CustomerDoc> = state
        .db
        .collection::<CustomerDoc>("clientcustomers")
        .find(doc! { "clientId": client_id, "_id": { "$in": ids } })
        .await?
        .try_collect()
        .await?;
    Ok(list.into_iter().map(|c| (c.id, c)).collect())
}

/// Invoices with `clientCustomerId` replaced by the customer document (or null).
async fn populate(state: &AppState, client_id: ObjectId, invoices: &[InvoiceDoc]) -> AppResult<Vec<InvoiceWire>> {
    let ids = invoices.iter().filter_map(|i| i.client_customer_id).collect();
    let map = customers_by_id(state, client_id, ids).await?;
    Ok(invoices
        .iter()
        .map(|i| {
            let c = i.client_customer_id.and_then(|id| map.get(&id)).map(customer_json).unwrap_or(Value::Null);
            InvoiceWire::with_customer(i, c)
        })
        .collect())
}

async fn find_invoices(state: &AppState, filter: Document, page: Page) -> AppResult<Vec<InvoiceDoc>> {
    Ok(repo::invoices(&state.db)
        .find(filter)
        .sort(doc! { "generatedAt": -1, "_id": -1 })
        .skip(page.offset as u64)
        .limit(page.limit)
        .await?
        .try_collect()
        .await?)
}

fn merge(mut a: Document, b: Document) -> Document {
    a.extend(b);
    a
}

/// 404 unless the customer is this client's (a foreign id looks exactly like a missing one).
async fn require_customer(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppResult<CustomerDoc> {
    customers_by_id(state, client_id, vec![id])
        .await?
        .remove(&id)
        .ok_or_else(|| AppError::not_found("Customer not found"))
}

/// The customer filter of B26/B27/B29: the id in the path (and an optional phone).
fn customer_filter(customer: ObjectId, q: &ListQuery) -> AppResult<Document> {
    let mut f = doc! { "clientCustomerId": customer };
    if let Some(p) = q.client_customer_phone.as_deref().filter(|p| !p.trim().is_empty()) {
        f.insert("clientCustomerPhone", validate::phone_field("query.clientCustomerPhone", p)?);
    }
    Ok(f)
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
#[utoipa::path(get, path = "/api/business/invoices/{clientId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "The token's client id"), ListQuery),
    responses((status = 200, body = InvoicesResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_invoices(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<InvoicesResponse>> {
    auth.ensure_same(&id)?;
    let page = page(&q)?;
    let filter = merge(
        merge(doc! { "clientId": auth.client_id, "kind": "invoice" }, customer_query_filter(&q)?),
        date_filter(&q, "generatedAt")?,
    );
    let list = find_invoices(&state, filter, page).await?;
    Ok(Json(InvoicesResponse { success: true, invoices: populate(&state, auth.client_id, &list).await? }))
}

/// B23: payments of one invoice (oldest first). A foreign or unknown invoice answers 404.
#[utoipa::path(get, path = "/api/business/invoices/{invoiceId}/payments", tag = "billing", security(("bearer" = [])),
    params(("invoiceId" = String, Path, description = "Invoice id"), ("clientId" = Option<String>, Query, description = "Must be the token's client when sent")),
    responses((status = 200, body = PaymentsListResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn invoice_payments(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<PaymentsListResponse>> {
    let invoice_id = validate::oid("params.invoiceId", &id)?;
    repo::find_invoice(&state.db, auth.client_id, invoice_id)
        .await?
        .ok_or_else(|| AppError::not_found("Invoice not found"))?;
    let list = repo::payments_of(&state.db, auth.client_id, invoice_id).await?;
    Ok(Json(PaymentsListResponse { success: true, payments: list.iter().map(PaymentWire::from).collect() }))
}

/// B24: purchase history (paid-in-full invoices), by customer id or phone; customer and
/// invoice populated.
#[utoipa::path(get, path = "/business/purchase-history/{clientId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path), ListQuery),
    responses((status = 200, body = HistoryResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn purchase_history(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(_client): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<HistoryResponse>> {
    let page = page(&q)?;
    let mut filter = merge(doc! { "clientId": auth.client_id }, customer_query_filter(&q)?);
    filter.extend(date_filter(&q, "purchasedAt")?);
    let rows: Vec<PurchaseHistoryDoc> = repo::histories(&state.db)
        .find(filter)
        .sort(doc! { "purchasedAt": -1, "_id": -1 })
        .skip(page.offset as u64)
        .limit(page.limit)
        .await?
        .try_collect()
        .await?;
    let customers =
        customers_by_id(&state, auth.client_id, rows.iter().map(|r| r.client_customer_id).collect()).await?;
    let inv_ids: Vec<ObjectId> = rows.iter().map(|r| r.invoice_id).collect();
    let invoices: Vec<InvoiceDoc> = repo::invoices(&state.db)
        .find(doc! { "clientId": auth.client_id, "_id": { "$in": inv_ids } })
        .await?
        .try_collect()
        .await?;
    let invoices: HashMap<ObjectId, InvoiceDoc> = invoices.into_iter().map(|i| (i.id, i)).collect();
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
    responses((status = 200, body = PendingResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn pending_invoices(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(_c): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<PendingResponse>> {
    let filter = merge(
        merge(doc! { "clientId": auth.client_id, "isFinalized": false }, customer_query_filter(&q)?),
        date_filter(&q, "generatedAt")?,
    );
    let list = find_invoices(&state, filter, page(&q)?).await?;
    Ok(Json(PendingResponse { success: true, pending_invoices: list.iter().map(InvoiceWire::from_doc).collect() }))
}

/// B26: one customer's unpaid invoices, customer populated.
#[utoipa::path(get, path = "/business/pending-invoices/{clientId}/{clientCustomerId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path), ("clientCustomerId" = String, Path), ListQuery),
    responses((status = 200, body = PendingResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "Customer not found (or another shop's)", body = ErrorBody)))]
pub async fn pending_invoices_of_customer(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_c, cust)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<PendingResponse>> {
    let cust = validate::oid("params.clientCustomerId", &cust)?;
    require_customer(&state, auth.client_id, cust).await?;
    let filter = merge(
        merge(doc! { "clientId": auth.client_id, "isFinalized": false }, customer_filter(cust, &q)?),
        date_filter(&q, "generatedAt")?,
    );
    let list = find_invoices(&state, filter, page(&q)?).await?;
    Ok(Json(PendingResponse { success: true, pending_invoices: populate(&state, auth.client_id, &list).await? }))
}

/// B27: one customer's paid invoices, customer populated.
#[utoipa::path(get, path = "/business/paid-invoices/{clientId}/{clientCustomerId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path), ("clientCustomerId" = String, Path), ListQuery),
    responses((status = 200, body = InvoicesResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "Customer not found (or another shop's)", body = ErrorBody)))]
pub async fn paid_invoices_of_customer(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_c, cust)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<InvoicesResponse>> {
    let cust = validate::oid("params.clientCustomerId", &cust)?;
    require_customer(&state, auth.client_id, cust).await?;
    let filter = merge(
        merge(doc! { "clientId": auth.client_id, "isFinalized": true }, customer_filter(cust, &q)?),
        date_filter(&q, "generatedAt")?,
    );
    let list = find_invoices(&state, filter, page(&q)?).await?;
    Ok(Json(InvoicesResponse { success: true, invoices: populate(&state, auth.client_id, &list).await? }))
}

/// Totals over a filter, computed by MongoDB: (count, Σ total, Σ paid).
async fn totals(state: &AppState, filter: Document) -> AppResult<(i64, Paise, Paise)> {
    let pipeline = vec![
        doc! { "$match": filter },
        doc! { "$group": { "_id": Value::Null.to_string(), "n": { "$sum": 1_i64 }, "total": { "$sum": "$totalAmount" }, "paid": { "$sum": "$paidAmount" } } },
    ];
    let mut cur = repo::invoices(&state.db).aggregate(pipeline).await?;
    match cur.try_next().await? {
        Some(d) => Ok((int(&d, "n"), Paise::new(int(&d, "total")), Paise::new(int(&d, "paid")))),
        None => Ok((0, Paise::ZERO, Paise::ZERO)),
    }
}

fn int(d: &Document, k: &str) -> i64 {
    match d.get(k) {
        Some(bson::Bson::Int64(v)) => *v,
        Some(bson::Bson::Int32(v)) => *v as i64,
        _ => 0,
    }
}

/// B28: every invoice with a summary (count, total, paid, pending) computed by MongoDB over
/// the whole filter (not just the page).
#[utoipa::path(get, path = "/business/payment-report/{clientId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path), ListQuery),
    responses((status = 200, body = ReportResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn payment_report(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(_c): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<ReportResponse>> {
    let filter =
        merge(merge(doc! { "clientId": auth.client_id }, customer_query_filter(&q)?), date_filter(&q, "generatedAt")?);
    let (n, total, paid) = totals(&state, filter.clone()).await?;
    let list = find_invoices(&state, filter, page(&q)?).await?;
    Ok(Json(ReportResponse {
        success: true,
        report: list.iter().map(InvoiceWire::from_doc).collect(),
        summary: json!({ "totalInvoices": n, "totalAmount": total, "totalPaid": paid, "totalPending": total.checked_sub(paid).unwrap_or_default() }),
    }))
}

fn ratio(a: i64, b: i64) -> f64 {
    if b == 0 {
        0.0
    } else {
        ((a as f64 / b as f64) * 10_000.0).round() / 10_000.0
    }
}

/// Average money rounded half up to the paisa (integer arithmetic).
fn avg(total: Paise, n: i64) -> Paise {
    if n <= 0 {
        Paise::ZERO
    } else {
        // in i128: exact for every i64 total
        let v = (i128::from(total.as_i64()) * 2 + i128::from(n)) / (2 * i128::from(n));
        Paise::try_from(v).unwrap_or(total)
    }
}

/// The analytics of B29/B30, computed over every invoice in the filter by one `$facet`.
async fn invoice_analytics(state: &AppState, filter: Document, customer_scope: bool) -> AppResult<Value> {
    let month = doc! { "$dateToString": { "format": "%Y-%m", "date": "$generatedAt", "timezone": "Asia/Kolkata" } };
    let pipeline = vec![
        doc! { "$match": filter },
        doc! { "$facet": {
            "summary": [ { "$group": {
                "_id": "all", "n": { "$sum": 1_i64 },
                "finalized": { "$sum": { "$cond": ["$isFinalized", 1_i64, 0_i64] } },
                "total": { "$sum": "$totalAmount" }, "paid": { "$sum": "$paidAmount" },
                "first": { "$min": "$generatedAt" }, "last": { "$max": "$generatedAt" },
                "lines": { "$sum": { "$size": "$products" } },
                "qty": { "$sum": { "$sum": "$products.quantity" } },
            } } ],
            "items": [
                { "$unwind": "$products" },
                { "$group": {
                    "_id": { "name": "$products.itemName", "group": "$products.itemGroup" },
                    "qty": { "$sum": "$products.quantity" }, "revenue": { "$sum": "$products.lineTotal" }, "count": { "$sum": 1_i64 },
                } },
                { "$sort": { "count": -1, "revenue": -1 } }, { "$limit": 10 },
            ],
            "groups": [
                { "$unwind": "$products" },
                { "$group": { "_id": "$products.itemGroup", "revenue": { "$sum": "$products.lineTotal" }, "invoices": { "$addToSet": "$_id" } } },
                { "$project": { "revenue": 1, "n": { "$size": "$invoices" } } },
                { "$sort": { "revenue": -1 } }, { "$limit": 5 },
            ],
            "months": [
                { "$group": { "_id": month, "revenue": { "$sum": "$totalAmount" }, "n": { "$sum": 1_i64 } } },
                { "$sort": { "_id": -1 } }, { "$limit": 6 }, { "$sort": { "_id": 1 } },
            ],
        } },
    ];
    let mut cur = repo::invoices(&state.db).aggregate(pipeline).await?;
    let facets = cur.try_next().await?.unwrap_or_default();
    let arr = |k: &str| facets.get_array(k).cloned().unwrap_or_default();
    let s = arr("summary").first().and_then(|b| b.as_document().cloned()).unwrap_or_default();
    let (n, finalized) = (int(&s, "n"), int(&s, "finalized"));
    let (total, paid) = (Paise::new(int(&s, "total")), Paise::new(int(&s, "paid")));
    let first = s.get_datetime("first").ok().copied();
    let last = s.get_datetime("last").ok().copied();
    let tenure_days = match (first, last) {
        (Some(f), Some(_)) => crate::time::days_between(f, bson::DateTime::now()),
        _ => 0,
    };
    let items: Vec<Value> = arr("items")
        .iter()
        .filter_map(|b| b.as_document())
        .map(|d| {
            let id = d.get_document("_id").cloned().unwrap_or_default();
            let group = id.get_str("group").unwrap_or("");
            json!({
                "itemName": id.get_str("name").unwrap_or(""),
                "itemGroup": if group.is_empty() { "Uncategorized" } else { group },
                "totalQuantity": int(d, "qty"), "totalRevenue": Paise::new(int(d, "revenue")), "purchaseCount": int(d, "count"),
            })
        })
        .collect();
    let groups: Vec<Value> = arr("groups")
        .iter()
        .filter_map(|b| b.as_document())
        .map(|d| {
            let g = d.get_str("_id").unwrap_or("");
            json!({ "groupName": if g.is_empty() { "Uncategorized" } else { g }, "invoiceCount": int(d, "n"), "totalRevenue": Paise::new(int(d, "revenue")) })
        })
        .collect();
    let months: Vec<(String, Paise, i64)> = arr("months")
        .iter()
        .filter_map(|b| b.as_document())
        .map(|d| (d.get_str("_id").unwrap_or("").to_string(), Paise::new(int(d, "revenue")), int(d, "n")))
        .collect();
    let growth = match months.len() {
        l if l >= 2 => {
            let (prev, cur) = (months[l - 2].1.as_i64(), months[l - 1].1.as_i64());
            ratio(cur - prev, prev)
        }
        _ => 0.0,
    };
    let trend = match months.len() {
        l if l >= 2 => match months[l - 1].2.cmp(&months[l - 2].2) {
            std::cmp::Ordering::Greater => "increasing",
            std::cmp::Ordering::Less => "decreasing",
            std::cmp::Ordering::Equal => "stable",
        },
        _ => "stable",
    };
    let between = if n > 1 { ratio(tenure_days, n - 1) } else { 0.0 };
    let per_month = if tenure_days > 0 { ratio(n * 30, tenure_days) } else { 0.0 };
    let value_key = if customer_scope { "customerLifetimeValue" } else { "totalBusinessValue" };
    let mut summary = json!({
        "totalInvoices": n, "finalizedInvoices": finalized, "pendingInvoices": n - finalized,
        "totalRevenue": total, "totalPaid": paid, "totalPending": total.checked_sub(paid).unwrap_or_default(),
        "averageInvoiceValue": avg(total, n),
    });
    summary[value_key] = json!(total);
    let mut timeline = json!({
        "firstInvoiceDate": first.map(wire::iso), "lastInvoiceDate": last.map(wire::iso),
    });
    let (tenure_key, between_key, freq_key, trend_key) = if customer_scope {
        ("customerTenure", "averageDaysBetweenPurchases", "monthlyPurchaseFrequency", "purchaseFrequencyTrend")
    } else {
        ("businessTenure", "averageDaysBetweenInvoices", "monthlyInvoiceFrequency", "invoiceFrequencyTrend")
    };
    timeline[tenure_key] = json!(tenure_days);
    timeline[between_key] = json!(between);
    timeline[freq_key] = json!(per_month);
    let mut trends = json!({
        "monthlyRevenue": months.iter().map(|(m, r, c)| json!({ "month": m, "revenue": r, "invoiceCount": c })).collect::<Vec<_>>(),
        "revenueGrowthRate": growth,
    });
    trends[trend_key] = json!(trend);
    Ok(json!({
        "summary": summary,
        "purchasePatterns": {
            "frequentlyPurchasedItems": items, "preferredItemGroups": groups,
            "averageItemsPerInvoice": ratio(int(&s, "lines"), n), "averageQuantityPerInvoice": ratio(int(&s, "qty"), n),
        },
        "timeline": timeline,
        "trends": trends,
    }))
}

fn status_filter(q: &ListQuery) -> Document {
    match q.status.as_deref() {
        Some("finalized") => doc! { "isFinalized": true },
        Some("pending") => doc! { "isFinalized": false },
        _ => doc! {},
    }
}

async fn invoice_history_data(
    state: &AppState,
    auth: &AuthClient,
    q: &ListQuery,
    customer: Option<ObjectId>,
) -> AppResult<Value> {
    let page = page(q)?;
    let mut base = merge(doc! { "clientId": auth.client_id, "kind": "invoice" }, date_filter(q, "generatedAt")?);
    if customer.is_none() {
        base.extend(customer_query_filter(q)?);
    }
    if let Some(c) = customer {
        base.insert("clientCustomerId", c);
    }
    let listed = merge(base.clone(), status_filter(q));
    let total_rows = repo::invoices(&state.db).count_documents(listed.clone()).await? as i64;
    let list = find_invoices(state, listed, page).await?;
    let mut analytics = invoice_analytics(state, base.clone(), customer.is_some()).await?;
    let (behavior, average_payment_time) = payment_behavior(state, auth.client_id, base).await?;
    analytics["paymentBehavior"] = behavior;
    analytics["summary"]["averagePaymentTime"] = json!(average_payment_time);
    let stats = payment_stats(state, auth.client_id, list.iter().map(|i| i.id).collect()).await?;
    let invoices: Vec<Value> = list.iter().map(|i| history_row(i, stats.get(&i.id))).collect();
    Ok(json!({
        "invoices": invoices,
        "analytics": analytics,
        "pagination": { "total": total_rows, "limit": page.limit, "offset": page.offset, "hasMore": page.offset + page.limit < total_rows },
    }))
}

/// The payments of one invoice, summed up: (count, first `paidAt`, last `paidAt`).
#[derive(Debug, Clone, Copy, Default)]
struct PayStats {
    count: i64,
    first: Option<bson::DateTime>,
    last: Option<bson::DateTime>,
}

/// [`PayStats`] of each of these invoices (one aggregation over the payments index).
async fn payment_stats(
    state: &AppState,
    client_id: ObjectId,
    ids: Vec<ObjectId>,
) -> AppResult<HashMap<ObjectId, PayStats>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let pipeline = vec![
        doc! { "$match": { "clientId": client_id, "invoiceId": { "$in": ids } } },
        doc! { "$group": { "_id": "$invoiceId", "n": { "$sum": 1_i64 }, "first": { "$min": "$paidAt" }, "last": { "$max": "$paidAt" } } },
    ];
    let rows: Vec<Document> = repo::payments(&state.db).aggregate(pipeline).await?.try_collect().await?;
    Ok(rows
        .iter()
        .filter_map(|d| {
            let id = d.get_object_id("_id").ok()?;
            let stats = PayStats {
                count: int(d, "n"),
                first: d.get_datetime("first").ok().copied(),
                last: d.get_datetime("last").ok().copied(),
            };
            Some((id, stats))
        })
        .collect())
}

/// `paid` if finalized, `partial` if something was paid, else `unpaid` (ENDPOINTS B29).
fn payment_status(i: &InvoiceDoc) -> &'static str {
    if i.is_finalized {
        "paid"
    } else if i.paid_amount.is_positive() {
        "partial"
    } else {
        "unpaid"
    }
}

/// A B29/B30 row: the invoice plus `paymentStatus`, `paymentCount`, `firstPaymentDate`,
/// `lastPaymentDate` (payment `paidAt`, null without payments) and `daysToFullPayment`
/// (whole days from `generatedAt` to the last payment of a finalized invoice, else null).
fn history_row(i: &InvoiceDoc, stats: Option<&PayStats>) -> Value {
    let st = stats.copied().unwrap_or_default();
    let mut row = json!(InvoiceWire::from_doc(i));
    row["paymentStatus"] = json!(payment_status(i));
    row["paymentCount"] = json!(st.count);
    row["firstPaymentDate"] = json!(st.first.map(wire::iso));
    row["lastPaymentDate"] = json!(st.last.map(wire::iso));
    row["daysToFullPayment"] =
        json!(st.last.filter(|_| i.is_finalized && st.count > 0).map(|l| days_between(i.generated_at, l)));
    row
}

/// Invoices paid in full within this many days count as paid on time (ENDPOINTS B29).
pub const ON_TIME_DAYS: i64 = 7;

/// B29/B30 `paymentBehavior` over every invoice of `filter`, and `summary.averagePaymentTime`:
/// * `averageDaysToPayment` = `averagePaymentTime` = Σ daysToFullPayment / #finalized;
/// * `onTimePaymentRate` = #finalized with daysToFullPayment <= 7 / #finalized (a fraction);
/// * `partialPaymentFrequency` = #invoices with more than one payment, or one payment and
///   not finalized / #invoices (a fraction);
/// * `paymentMethodPreference` = `{method: number of payments}`.
///
/// A zero denominator gives 0. One aggregation: each invoice's payments are looked up by the
/// `(clientId, invoiceId, paidAt)` index.
async fn payment_behavior(state: &AppState, client_id: ObjectId, filter: Document) -> AppResult<(Value, f64)> {
    let days = doc! { "$cond": [
        { "$and": ["$isFinalized", { "$gt": ["$n", 0] }] },
        // India calendar days, as `time::days_between` (23:00 sale paid 09:00 next day = 1)
        { "$dateDiff": { "startDate": "$generatedAt", "endDate": "$last", "unit": "day", "timezone": crate::time::TZ_NAME } },
        Bson::Null,
    ] };
    let pipeline = vec![
        doc! { "$match": filter },
        doc! { "$project": { "isFinalized": 1, "generatedAt": 1 } },
        doc! { "$lookup": {
            "from": "payments",
            "let": { "inv": "$_id" },
            "pipeline": [
                { "$match": { "$expr": { "$and": [ { "$eq": ["$clientId", client_id] }, { "$eq": ["$invoiceId", "$$inv"] } ] } } },
                { "$project": { "_id": 0, "method": 1, "paidAt": 1 } },
            ],
            "as": "pays",
        } },
        doc! { "$project": {
            "isFinalized": 1, "generatedAt": 1, "n": { "$size": "$pays" },
            "last": { "$max": "$pays.paidAt" }, "methods": "$pays.method",
        } },
        doc! { "$set": { "days": days } },
        doc! { "$facet": {
            "all": [ { "$group": {
                "_id": "all", "n": { "$sum": 1_i64 },
                "finalized": { "$sum": { "$cond": ["$isFinalized", 1_i64, 0_i64] } },
                "daysSum": { "$sum": { "$ifNull": ["$days", 0_i64] } },
                "onTime": { "$sum": { "$cond": [ { "$and": [ { "$ne": ["$days", Bson::Null] }, { "$lte": ["$days", ON_TIME_DAYS] } ] }, 1_i64, 0_i64 ] } },
                "partial": { "$sum": { "$cond": [ { "$or": [ { "$gt": ["$n", 1] }, { "$and": [ { "$eq": ["$n", 1] }, { "$not": ["$isFinalized"] } ] } ] }, 1_i64, 0_i64 ] } },
            } } ],
            "methods": [ { "$unwind": "$methods" }, { "$group": { "_id": "$methods", "n": { "$sum": 1_i64 } } }, { "$sort": { "_id": 1 } } ],
        } },
    ];
    let facets: Document = repo::invoices(&state.db).aggregate(pipeline).await?.try_next().await?.unwrap_or_default();
    let all =
        facets.get_array("all").ok().and_then(|a| a.first()).and_then(|b| b.as_document().cloned()).unwrap_or_default();
    let (n, finalized) = (int(&all, "n"), int(&all, "finalized"));
    let average = ratio(int(&all, "daysSum"), finalized);
    let methods: serde_json::Map<String, Value> = facets
        .get_array("methods")
        .map(|a| {
            a.iter()
                .filter_map(|b| b.as_document())
                .map(|d| (d.get_str("_id").unwrap_or("").to_string(), json!(int(d, "n"))))
                .collect()
        })
        .unwrap_or_default();
    let behavior = json!({
        "onTimePaymentRate": ratio(int(&all, "onTime"), finalized),
        "averageDaysToPayment": average,
        "partialPaymentFrequency": ratio(int(&all, "partial"), n),
        "paymentMethodPreference": methods,
    });
    Ok((behavior, average))
}

/// B29: one customer's invoice history with analytics (`data`). A foreign or unknown
/// customer answers 404 (v1: 500).
#[utoipa::path(get, path = "/business/invoice-history/{clientId}/{clientCustomerId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path), ("clientCustomerId" = String, Path), ListQuery),
    responses((status = 200, body = DataResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn invoice_history_of_customer(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_c, cust)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<DataResponse>> {
    let cust = validate::oid("params.clientCustomerId", &cust)?;
    let c = customers_by_id(&state, auth.client_id, vec![cust])
        .await?
        .remove(&cust)
        .ok_or_else(|| AppError::not_found("Customer not found"))?;
    let mut data = invoice_history_data(&state, &auth, &q, Some(cust)).await?;
    data["clientCustomer"] = json!({ "_id": c.id.to_hex(), "name": c.name, "phoneNumber": c.phone_number, "emailId": c.email_id, "address": c.address, "gstNo": c.gst_no, "outstandingBalance": c.outstanding_balance });
    Ok(Json(DataResponse { success: true, data }))
}

/// B30: the client's invoice history with analytics (`data`).
#[utoipa::path(get, path = "/business/invoice-history/{clientId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path), ListQuery),
    responses((status = 200, body = DataResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn invoice_history(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(_c): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<DataResponse>> {
    let data = invoice_history_data(&state, &auth, &q, None).await?;
    Ok(Json(DataResponse { success: true, data }))
}

fn method_breakdown(payments: &[PaymentDoc]) -> AppResult<Value> {
    let too_large = crate::limits::report_too_large;
    let total = Paise::checked_sum(payments.iter().map(|p| p.amount)).ok_or_else(too_large)?;
    let mut by: std::collections::BTreeMap<String, (i64, Paise)> = Default::default();
    for p in payments {
        let e = by.entry(p.method.clone()).or_default();
        e.0 += 1;
        e.1 = e.1.checked_add(p.amount).ok_or_else(too_large)?;
    }
    Ok(Value::Object(
        by.into_iter()
            .map(|(m, (n, amt))| (m, json!({ "count": n, "totalAmount": amt, "percentage": ratio_of(amt, total) })))
            .collect(),
    ))
}

/// `a / b` as a percentage, as `ratio(a * 100, b)` but without an `i64` product that could
/// overflow (0 when `b` is 0).
fn pct(a: i64, b: i64) -> f64 {
    if b == 0 {
        0.0
    } else {
        ((a as f64 * 100.0 / b as f64) * 10_000.0).round() / 10_000.0
    }
}

fn ratio_of(a: Paise, b: Paise) -> f64 {
    pct(a.as_i64(), b.as_i64())
}

// India calendar days (not 24-hour spans): an invoice at 23:00 paid at 09:00 the next
// morning was paid 1 day later.
use crate::time::days_between;

/// A B31/B32 payment row: the payment plus `paymentNumber` (1-based, per invoice, in
/// `paidAt` order), `cumulativeAmount` (paid on the invoice up to and including it),
/// `remainingBalance` (>= 0), `percentagePaid` (<= 100) and `daysFromInvoice`.
fn payment_row(p: &PaymentDoc, inv: &InvoiceDoc, number: i64, cumulative: Paise) -> Value {
    let total = inv.total_amount;
    let remaining = total.checked_sub(cumulative).filter(|r| !r.is_negative()).unwrap_or_default();
    let mut row = json!(PaymentWire::from(p));
    row["paymentNumber"] = json!(number);
    row["cumulativeAmount"] = json!(cumulative);
    row["remainingBalance"] = json!(remaining);
    row["percentagePaid"] =
        json!(if total.is_positive() { pct(cumulative.as_i64(), total.as_i64()).min(100.0) } else { 100.0 });
    row["daysFromInvoice"] = json!(days_between(inv.generated_at, p.paid_at));
    row
}

/// (`paymentNumber`, `cumulativeAmount`) of every payment of these invoices, counted over all
/// of each invoice's payments (not only those of a page), in `paidAt` order as B31.
async fn running_balances(
    state: &AppState,
    client_id: ObjectId,
    invoices: &HashMap<ObjectId, InvoiceDoc>,
) -> AppResult<HashMap<ObjectId, (i64, Paise)>> {
    if invoices.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<ObjectId> = invoices.keys().copied().collect();
    let all: Vec<PaymentDoc> = repo::payments(&state.db)
        .find(doc! { "clientId": client_id, "invoiceId": { "$in": ids } })
        .sort(doc! { "invoiceId": 1, "paidAt": 1, "_id": 1 })
        .await?
        .try_collect()
        .await?;
    let mut out = HashMap::with_capacity(all.len());
    let mut at: HashMap<ObjectId, (i64, Paise)> = HashMap::new();
    for p in &all {
        let e = at.entry(p.invoice_id).or_insert((0, Paise::ZERO));
        e.0 += 1;
        e.1 = e.1.checked_add(p.amount).unwrap_or(e.1);
        out.insert(p.id, *e);
    }
    Ok(out)
}

/// `{amount, method, date}` of a payment (B31 `largestPayment` / `smallestPayment`).
fn payment_brief(p: &PaymentDoc) -> Value {
    json!({ "amount": p.amount, "method": p.method, "date": wire::iso(p.paid_at) })
}

/// Days after which an unpaid or part-paid invoice counts as overdue (ENDPOINTS B31).
pub const OVERDUE_DAYS: i64 = 30;

/// B31 `insights` of one invoice (`now` = when asked):
///
/// | payments | state | `paymentBehavior` | `creditRisk` |
/// | --- | --- | --- | --- |
/// | none | invoice at most 30 days old | `no_payment` | `pending_assessment` |
/// | none | older than 30 days | `overdue` | `high` |
/// | some | finalized within 7 days of the invoice | `prompt` | `low` |
/// | some | finalized within 30 days | `delayed` | `medium` |
/// | some | finalized later | `overdue` | `high` |
/// | some | not finalized, invoice at most 30 days old | `partial` | `medium` |
/// | some | not finalized, older | `partial` | `high` |
///
/// A finalized invoice without payments (nothing was owed) is `prompt` / `low`. Days are
/// whole days (`floor`), as `daysToFullPayment`. `recommendations` are free-text strings
/// (at least one).
fn invoice_insights(inv: &InvoiceDoc, pays: &[PaymentDoc], now: bson::DateTime) -> Value {
    let age = days_between(inv.generated_at, now);
    let due = inv.total_amount.checked_sub(inv.paid_amount).filter(|d| !d.is_negative()).unwrap_or_default();
    let (behavior, risk, advice) = match pays.last() {
        None if inv.is_finalized => ("prompt", "low", "Nothing is owed on this invoice.".to_string()),
        None if age > OVERDUE_DAYS => {
            ("overdue", "high", format!("No payment in {age} days: follow up with the customer for Rs {due}."))
        }
        None => (
            "no_payment",
            "pending_assessment",
            format!("No payment yet: remind the customer of Rs {due} before the due date {}.", inv.due_date),
        ),
        Some(last) if inv.is_finalized => match days_between(inv.generated_at, last.paid_at) {
            d if d <= ON_TIME_DAYS => ("prompt", "low", "Paid promptly: a reliable customer.".to_string()),
            d if d <= OVERDUE_DAYS => {
                ("delayed", "medium", format!("Paid in full after {d} days: a reminder in the first week may help."))
            }
            d => (
                "overdue",
                "high",
                format!("Paid in full only after {d} days: consider asking for part payment at the sale."),
            ),
        },
        Some(_) => (
            "partial",
            if age > OVERDUE_DAYS { "high" } else { "medium" },
            format!("Rs {due} is still due: follow up with the customer for the balance."),
        ),
    };
    json!({ "paymentBehavior": behavior, "creditRisk": risk, "recommendations": [advice] })
}

/// B32 `insights.recommendations` from the shop's payment summary (at least one string).
fn shop_recommendations(n_invoices: i64, unpaid: i64, partial: i64, due: Paise, paid: Paise) -> Vec<String> {
    let mut out = Vec::new();
    let open = due.checked_sub(paid).filter(|d| d.is_positive());
    if unpaid > 0 {
        out.push(format!("{unpaid} invoice(s) have no payment yet: follow up with those customers."));
    }
    if partial > 0 {
        out.push(format!("{partial} invoice(s) are part-paid: collect the balance."));
    }
    if let Some(open) = open {
        if paid.as_i64().saturating_mul(2) < due.as_i64() {
            out.push(format!("Less than half of the amount billed is collected: Rs {open} is still due."));
        }
    }
    if out.is_empty() {
        out.push(if n_invoices == 0 {
            "No invoices yet: payments will show here once you bill.".to_string()
        } else {
            "Every invoice is paid in full.".to_string()
        });
    }
    out
}

/// B31: one invoice's payments with running balances and analytics. Works for invoices
/// without a customer (v1 crashed, U19).
#[utoipa::path(get, path = "/business/payment-history/{clientId}/{invoiceId}", tag = "billing", security(("bearer" = [])),
    params(("clientId" = String, Path), ("invoiceId" = String, Path)),
    responses((status = 200, body = DataResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn payment_history_of_invoice(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_c, inv)): ApiPath<(String, String)>,
) -> AppResult<Json<DataResponse>> {
    let inv_id = validate::oid("params.invoiceId", &inv)?;
    let inv = repo::find_invoice(&state.db, auth.client_id, inv_id)
        .await?
        .ok_or_else(|| AppError::not_found("Invoice not found"))?;
    let pays = repo::payments_of(&state.db, auth.client_id, inv_id).await?;
    let customer = match inv.client_customer_id {
        Some(c) => customers_by_id(&state, auth.client_id, vec![c])
            .await?
            .remove(&c)
            .map(|c| json!({ "_id": c.id.to_hex(), "name": c.name, "phoneNumber": c.phone_number })),
        None => None,
    };
    let total = inv.total_amount;
    let mut cumulative = Paise::ZERO;
    let mut rows = Vec::new();
    let mut milestones = vec![
        json!({ "date": wire::iso(inv.generated_at), "event": "Invoice Generated", "amount": total, "balance": total }),
    ];
    for (i, p) in pays.iter().enumerate() {
        cumulative = cumulative.checked_add(p.amount).unwrap_or(cumulative);
        let remaining = total.checked_sub(cumulative).filter(|r| !r.is_negative()).unwrap_or_default();
        rows.push(payment_row(p, &inv, i as i64 + 1, cumulative));
        let event = if remaining == Paise::ZERO {
            "Invoice Finalized"
        } else if i == 0 {
            "First Payment Received"
        } else {
            "Payment Received"
        };
        milestones.push(json!({ "date": wire::iso(p.paid_at), "event": event, "amount": p.amount, "balance": remaining, "method": p.method }));
    }
    let first = pays.first().map(|p| p.paid_at);
    let last = pays.last().map(|p| p.paid_at);
    let duration = match (first, last) {
        (Some(f), Some(l)) => days_between(f, l),
        _ => 0,
    };
    // the earliest payment wins a tie
    let largest = pays.iter().rev().max_by_key(|p| p.amount);
    let smallest = pays.iter().min_by_key(|p| p.amount);
    let remaining = total.checked_sub(inv.paid_amount).filter(|r| !r.is_negative()).unwrap_or_default();
    let analytics = json!({
        "paymentSummary": {
            "totalPayments": pays.len(), "totalAmountPaid": inv.paid_amount, "totalAmountDue": total, "remainingBalance": remaining,
            "paymentCompletionRate": if total.is_positive() { pct(inv.paid_amount.as_i64(), total.as_i64()).min(100.0) } else { 100.0 },
            "isFullyPaid": inv.is_finalized, "isPending": !inv.is_finalized,
        },
        "paymentTimeline": {
            "invoiceGeneratedDate": wire::iso(inv.generated_at),
            "firstPaymentDate": first.map(wire::iso), "lastPaymentDate": last.map(wire::iso),
            "finalizedDate": inv.finalized_at.map(wire::iso),
            "daysToFirstPayment": first.map(|f| days_between(inv.generated_at, f)),
            "daysToFullPayment": inv.finalized_at.filter(|_| !pays.is_empty()).map(|f| days_between(inv.generated_at, f)),
            "totalPaymentDuration": duration,
            "averageDaysBetweenPayments": if pays.len() > 1 { ratio(duration, pays.len() as i64 - 1) } else { 0.0 },
        },
        "paymentMethodBreakdown": method_breakdown(&pays)?,
        "paymentPattern": {
            "averagePaymentSize": avg(inv.paid_amount, pays.len() as i64),
            "largestPayment": largest.map(payment_brief),
            "smallestPayment": smallest.map(payment_brief),
            "initialPaymentPercentage": pays.first().map(|p| pct(p.amount.as_i64(), total.as_i64())).unwrap_or(0.0),
            "paymentFrequency": match pays.len() { 0 => "none", 1 => "single", _ => "multiple" },
            "isPartialPayment": !inv.is_finalized && inv.paid_amount.is_positive(),
        },
        "milestones": milestones,
        "insights": invoice_insights(&inv, &pays, bson::DateTime::now()),
    });
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
    responses((status = 200, body = DataResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn payment_history(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(_c): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<DataResponse>> {
    let page = page(&q)?;
    let mut filter = merge(doc! { "clientId": auth.client_id }, date_filter(&q, "paidAt")?);
    let customer = customer_query_filter(&q)?;
    if !customer.is_empty() {
        // payments name their invoice, not the customer: the customer's invoices first
        let ids = repo::invoice_ids(&state.db, auth.client_id, customer).await?;
        filter.insert("invoiceId", doc! { "$in": ids });
    }
    let pays: Vec<PaymentDoc> = repo::payments(&state.db)
        .find(filter.clone())
        .sort(doc! { "paidAt": 1, "_id": 1 })
        .skip(page.offset as u64)
        .limit(page.limit)
        .await?
        .try_collect()
        .await?;
    let inv_ids: Vec<ObjectId> = pays.iter().map(|p| p.invoice_id).collect();
    let invoices: Vec<InvoiceDoc> = repo::invoices(&state.db)
        .find(doc! { "clientId": auth.client_id, "_id": { "$in": inv_ids } })
        .await?
        .try_collect()
        .await?;
    let customers =
        customers_by_id(&state, auth.client_id, invoices.iter().filter_map(|i| i.client_customer_id).collect()).await?;
    let invoices: HashMap<ObjectId, InvoiceDoc> = invoices.into_iter().map(|i| (i.id, i)).collect();
    let running = running_balances(&state, auth.client_id, &invoices).await?;
    let rows: Vec<Value> = pays
        .iter()
        .map(|p| {
            let mut row = match (running.get(&p.id), invoices.get(&p.invoice_id)) {
                (Some((number, cumulative)), Some(inv)) => payment_row(p, inv, *number, *cumulative),
                _ => json!(PaymentWire::from(p)),
            };
            row["invoice"] = invoices
                .get(&p.invoice_id)
                .map(|i| {
                    let c = i
                        .client_customer_id
                        .and_then(|c| customers.get(&c))
                        .map(|c| json!({ "_id": c.id.to_hex(), "name": c.name, "phoneNumber": c.phone_number }));
                    json!({ "invoiceNumber": i.invoice_number, "totalAmount": i.total_amount, "clientCustomer": c })
                })
                .unwrap_or(Value::Null);
            row
        })
        .collect();
    let (n_inv, due, paid) = totals(&state, doc! { "clientId": auth.client_id }).await?;
    let fully = repo::invoices(&state.db)
        .count_documents(doc! { "clientId": auth.client_id, "isFinalized": true })
        .await? as i64;
    let unpaid = repo::invoices(&state.db)
        .count_documents(doc! { "clientId": auth.client_id, "paidAmount": 0_i64, "isFinalized": false })
        .await? as i64;
    let month = doc! { "$dateToString": { "format": "%Y-%m", "date": "$paidAt", "timezone": "Asia/Kolkata" } };
    let stats: Vec<Document> = repo::payments(&state.db)
        .aggregate(vec![
            doc! { "$match": filter },
            doc! { "$facet": {
                "all": [ { "$group": { "_id": "all", "n": { "$sum": 1_i64 }, "amount": { "$sum": "$amount" }, "first": { "$min": "$paidAt" }, "last": { "$max": "$paidAt" } } } ],
                "methods": [ { "$group": { "_id": "$method", "n": { "$sum": 1_i64 }, "amount": { "$sum": "$amount" } } }, { "$sort": { "_id": 1 } } ],
                "months": [ { "$group": { "_id": month, "n": { "$sum": 1_i64 }, "amount": { "$sum": "$amount" } } }, { "$sort": { "_id": -1 } }, { "$limit": 6 }, { "$sort": { "_id": 1 } } ],
            } },
        ])
        .await?
        .try_collect()
        .await?;
    let facets = stats.into_iter().next().unwrap_or_default();
    let arr = |k: &str| facets.get_array(k).cloned().unwrap_or_default();
    let all = arr("all").first().and_then(|b| b.as_document().cloned()).unwrap_or_default();
    let (n_pay, amount) = (int(&all, "n"), int(&all, "amount"));
    let first = all.get_datetime("first").ok().copied();
    let last = all.get_datetime("last").ok().copied();
    let methods: serde_json::Map<String, Value> = arr("methods")
        .iter()
        .filter_map(|b| b.as_document())
        .map(|d| (d.get_str("_id").unwrap_or("").to_string(), json!({ "count": int(d, "n"), "totalAmount": Paise::new(int(d, "amount")), "percentage": pct(int(d, "amount"), amount) })))
        .collect();
    let months: Vec<Value> = arr("months")
        .iter()
        .filter_map(|b| b.as_document())
        .map(|d| json!({ "month": d.get_str("_id").unwrap_or(""), "totalAmount": Paise::new(int(d, "amount")), "paymentCount": int(d, "n") }))
        .collect();
    let analytics = json!({
        "paymentSummary": {
            "totalPayments": n_pay, "totalAmountPaid": Paise::new(amount), "totalAmountDue": due,
            "remainingBalance": due.checked_sub(paid).unwrap_or_default(),
            "paymentCompletionRate": if due.is_positive() { pct(paid.as_i64(), due.as_i64()).min(100.0) } else { 0.0 },
            "totalInvoices": n_inv, "fullyPaidInvoices": fully, "partiallyPaidInvoices": n_inv - fully - unpaid, "unpaidInvoices": unpaid,
        },
        "paymentTimeline": {
            "firstPaymentDate": first.map(wire::iso), "lastPaymentDate": last.map(wire::iso),
            "totalPaymentDuration": match (first, last) { (Some(f), Some(l)) => days_between(f, l), _ => 0 },
            "averagePaymentSize": avg(Paise::new(amount), n_pay),
        },
        "paymentMethodBreakdown": methods,
        "trends": { "monthlyPayments": months },
        "insights": { "recommendations": shop_recommendations(n_inv, unpaid, n_inv - fully - unpaid, due, paid) },
    });
    Ok(Json(DataResponse {
        success: true,
        data: json!({
            "payments": rows, "analytics": analytics,
            "pagination": { "total": n_pay, "limit": page.limit, "offset": page.offset, "hasMore": page.offset + page.limit < n_pay },
        }),
    }))
}
