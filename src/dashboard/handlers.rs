//! Handlers of the dashboard (H1-H4) and the business reports. Each validates its query,
//! calls the pipelines of `repo`, and shapes the answer. The tenant is always the token's.

use axum::{
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    Json,
};
use bson::{oid::ObjectId, DateTime, Document};
use futures::TryStreamExt;

use crate::{
    csv,
    dashboard::{
        dto::*,
        repo::{self, Window},
    },
    error::{AppError, AppResult},
    extract::{ApiQuery, AuthClient},
    money::Paise,
    openapi::ErrorBody,
    state::AppState,
    time, wire,
};

/// An integer query parameter in `[min, max]` (decimals truncated, as v1); missing or
/// empty = `default`; anything else = 400 naming `query.<name>`.
pub fn int_param(name: &str, v: Option<&str>, min: i64, max: i64, default: i64) -> AppResult<i64> {
    let Some(s) = v.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(default);
    };
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && f.trunc() >= min as f64 && f.trunc() <= max as f64 => Ok(f.trunc() as i64),
        _ => Err(AppError::validation(&format!("query.{name}"), format!("must be a whole number from {min} to {max}"))),
    }
}

/// `from`/`to` as a window (`window::Window::parse`, the billing reports' rules: India days
/// or RFC 3339, `to` inclusive of its whole day, `from` after `to` is a 400).
pub fn window(from: &Option<String>, to: &Option<String>) -> AppResult<Window> {
    Window::parse(from.as_deref(), to.as_deref())
}

fn json_page(limit: &Option<String>, offset: &Option<String>) -> AppResult<(i64, i64)> {
    let p = crate::paging::page(limit.as_deref(), offset.as_deref())?;
    Ok((p.limit, p.offset))
}

/// `[start of day a, start of day b)` as an inclusive window.
fn days(a: chrono::NaiveDate, b_exclusive: chrono::NaiveDate) -> Window {
    Window {
        from: Some(time::ist_midnight(a)),
        to: Some(DateTime::from_millis(time::ist_midnight(b_exclusive).timestamp_millis() - 1)),
    }
}

const MONTHS_DEFAULT: i64 = 6;
const LIMIT_DEFAULT: i64 = 5;

fn month_rows(rows: Vec<repo::MonthFigures>) -> AppResult<Vec<MonthSales>> {
    use chrono::Datelike;
    rows.into_iter()
        .map(|f| {
            Ok(MonthSales {
                month: time::month_label(f.month).to_string(),
                year: f.month.year(),
                amount: f.paid_sales,
                gross_sales: f.gross,
                returns: f.returns,
                net_sales: repo::net(f.gross, f.returns)?,
            })
        })
        .collect()
}

async fn top_items(
    state: &AppState,
    client: ObjectId,
    w: Window,
    limit: i64,
    only: Option<&[ObjectId]>,
) -> AppResult<Vec<TopItem>> {
    if w.is_open() {
        repo::top_items_all(&state.db, client, limit, only).await
    } else {
        repo::top_items_in(&state.db, client, w, limit, only).await
    }
}

/// H4's data: summary, trends and top items computed concurrently (also used by the bench).
pub async fn dashboard_data(
    state: &AppState,
    client: ObjectId,
    months: i64,
    limit: i64,
) -> AppResult<DashboardResponse> {
    // Roll up finished months once, then read the rollups concurrently.
    repo::refresh_rollups(&state.db, client).await?;
    let ((summary, trends), top_items) = tokio::try_join!(
        repo::summary_and_trends(&state.db, client, months as i32),
        top_items(state, client, Window::default(), limit, None),
    )?;
    Ok(DashboardResponse { success: true, summary, sales_trends: month_rows(trends)?, top_items })
}

/// H1: dashboard summary.
///
/// Fully paid sales, pending amount and pending invoice count.
#[utoipa::path(get, path = "/dashboard/summary", tag = "dashboard", security(("bearer" = [])), params(SummaryQuery),
    responses((status = 200, body = SummaryResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn summary(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<SummaryQuery>,
) -> AppResult<Json<SummaryResponse>> {
    let w = window(&q.from, &q.to)?;
    let summary = if w.is_open() {
        repo::summary_and_trends(&state.db, auth.client_id, 1).await?.0
    } else {
        repo::summary(&state.db, auth.client_id, w).await?
    };
    Ok(Json(SummaryResponse { success: true, summary }))
}

/// H2: sales trends by month.
///
/// Fully paid sales per India month, exactly `months` entries oldest to current (a bare
/// array, no `success` key).
#[utoipa::path(get, path = "/dashboard/sales-trends", tag = "dashboard", security(("bearer" = [])), params(TrendsQuery),
    responses((status = 200, body = Vec<MonthSales>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn sales_trends(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<TrendsQuery>,
) -> AppResult<Json<Vec<MonthSales>>> {
    let months = int_param("months", q.months.as_deref(), 1, 24, MONTHS_DEFAULT)?;
    Ok(Json(month_rows(repo::summary_and_trends(&state.db, auth.client_id, months as i32).await?.1)?))
}

/// H3: top items.
///
/// Best-selling items by amount (a bare array, no `success` key).
#[utoipa::path(get, path = "/dashboard/top-items", tag = "dashboard", security(("bearer" = [])), params(TopItemsQuery),
    responses((status = 200, body = Vec<TopItem>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn top_items_handler(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<TopItemsQuery>,
) -> AppResult<Json<Vec<TopItem>>> {
    let limit = int_param("limit", q.limit.as_deref(), 1, 50, LIMIT_DEFAULT)?;
    let w = window(&q.from, &q.to)?;
    let mut e = crate::validate::Errors::new();
    let id = |e: &mut crate::validate::Errors, f: &str, v: &Option<String>| {
        v.as_deref().map(str::trim).filter(|v| !v.is_empty()).and_then(|v| e.oid(f, v))
    };
    let (brand, company) = (id(&mut e, "query.brandId", &q.brand_id), id(&mut e, "query.companyId", &q.company_id));
    e.finish()?;
    let only = crate::catalog::service::items_of_brand(&state, auth.client_id, brand, company).await?;
    Ok(Json(top_items(&state, auth.client_id, w, limit, only.as_deref()).await?))
}

/// H4: combined dashboard.
///
/// Summary, sales trends and top items in one answer (computed concurrently).
#[utoipa::path(get, path = "/dashboard", tag = "dashboard", security(("bearer" = [])), params(DashboardQuery),
    responses((status = 200, body = DashboardResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn dashboard(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<DashboardQuery>,
) -> AppResult<Json<DashboardResponse>> {
    let mut e = crate::validate::Errors::new();
    let months = int_param("months", q.months.as_deref(), 1, 24, MONTHS_DEFAULT).unwrap_or_else(|err| {
        e.0.extend(err_lines(err));
        MONTHS_DEFAULT
    });
    let limit = int_param("limit", q.limit.as_deref(), 1, 50, LIMIT_DEFAULT).unwrap_or_else(|err| {
        e.0.extend(err_lines(err));
        LIMIT_DEFAULT
    });
    e.finish()?;
    Ok(Json(dashboard_data(&state, auth.client_id, months, limit).await?))
}

fn err_lines(e: AppError) -> Vec<String> {
    match e {
        AppError::Validation(v) => v,
        other => vec![other.to_string()],
    }
}

fn period(w: Window, f: repo::Figures) -> AppResult<PeriodFigures> {
    Ok(PeriodFigures {
        from: w.from.map(wire::iso).unwrap_or_default(),
        to: w.to.map(wire::iso).unwrap_or_default(),
        sales: f.sales,
        invoice_count: f.invoices,
        collections: f.collections,
        payment_count: f.payments,
        returns: f.returns,
        credit_note_count: f.credit_notes,
        net_sales: repo::net(f.sales, f.returns)?,
        refunds: f.refunds,
        refund_count: f.refund_count,
    })
}

/// Sales and collections by period.
///
/// Today, this week (Monday-Sunday), this month and this financial year (April-March), all
/// in India time; plus the `from`/`to` window if given.
#[utoipa::path(get, path = "/dashboard/reports/periods", tag = "dashboard", security(("bearer" = [])), params(RangeQuery),
    responses((status = 200, body = PeriodsResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn periods(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<PeriodsResponse>> {
    let range = window(&q.from, &q.to)?;
    let today = time::today_ist();
    let tomorrow = today + chrono::Days::new(1);
    let wins = [
        days(today, tomorrow),
        days(time::week_start(today), tomorrow),
        days(time::month_start(today), tomorrow),
        days(time::fy_start(today), tomorrow),
    ];
    let (db, c) = (&state.db, auth.client_id);
    let (a, b, m, y, r) = tokio::try_join!(
        repo::figures(db, c, wins[0]),
        repo::figures(db, c, wins[1]),
        repo::figures(db, c, wins[2]),
        repo::figures(db, c, wins[3]),
        async {
            if range.is_open() {
                Ok(None)
            } else {
                repo::figures(db, c, range).await.map(Some)
            }
        },
    )?;
    Ok(Json(PeriodsResponse {
        success: true,
        as_of: today.format("%Y-%m-%d").to_string(),
        today: period(wins[0], a)?,
        this_week: period(wins[1], b)?,
        this_month: period(wins[2], m)?,
        this_financial_year: period(wins[3], y)?,
        range: r.map(|f| period(range, f)).transpose()?,
    }))
}

/// The window of a report: `from`/`to` when given, else the current India month.
pub fn window_or_month(q: &RangeQuery) -> AppResult<Window> {
    let w = window(&q.from, &q.to)?;
    if w.is_open() {
        let today = time::today_ist();
        Ok(days(time::month_start(today), today + chrono::Days::new(1)))
    } else {
        Ok(w)
    }
}

/// Sales against collections.
///
/// Over `from`/`to` (default: this India month), with the collection split by payment method.
#[utoipa::path(get, path = "/dashboard/reports/sales-vs-collections", tag = "dashboard", security(("bearer" = [])), params(RangeQuery),
    responses((status = 200, body = SalesVsCollectionsResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn sales_vs_collections(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<SalesVsCollectionsResponse>> {
    let w = window_or_month(&q)?;
    let (f, by_method) = tokio::try_join!(
        repo::figures(&state.db, auth.client_id, w),
        repo::method_split(&state.db, auth.client_id, w)
    )?;
    Ok(Json(SalesVsCollectionsResponse {
        success: true,
        collection_rate: repo::percent(f.collections.as_i64(), f.sales.as_i64()),
        outstanding_from_sales: f.outstanding,
        figures: period(w, f)?,
        by_method,
    }))
}

/// Outstanding dues with ageing.
///
/// Aged by days past the due date (India calendar), over invoices generated in `from`/`to`
/// (default: all).
#[utoipa::path(get, path = "/dashboard/reports/dues", tag = "dashboard", security(("bearer" = [])), params(RangeQuery),
    responses((status = 200, body = DuesResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn dues(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<DuesResponse>> {
    let w = window(&q.from, &q.to)?;
    let today = time::today_ist();
    let buckets = repo::dues(&state.db, auth.client_id, w, today).await?;
    Ok(Json(DuesResponse {
        success: true,
        as_of: today.format("%Y-%m-%d").to_string(),
        total_outstanding: Paise::new(repo::checked_total(buckets.iter().map(|b| b.amount.as_i64()))?),
        invoice_count: repo::checked_total(buckets.iter().map(|b| b.invoices))?,
        buckets,
    }))
}

/// Top customers by sales.
///
/// Over invoices generated in `from`/`to` (default: all).
#[utoipa::path(get, path = "/dashboard/reports/top-customers", tag = "dashboard", security(("bearer" = [])), params(TopCustomersQuery),
    responses((status = 200, body = TopCustomersResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn top_customers(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<TopCustomersQuery>,
) -> AppResult<Json<TopCustomersResponse>> {
    let limit = int_param("limit", q.limit.as_deref(), 1, 50, 10)?;
    let w = window(&q.from, &q.to)?;
    let rows = repo::top_customers(&state.db, auth.client_id, w, limit).await?;
    let customers = rows
        .iter()
        .map(|d| {
            let c = d.get_array("c").ok().and_then(|a| a.first()).and_then(|c| c.as_document());
            let s = |k: &str| c.and_then(|c| c.get_str(k).ok()).unwrap_or("").to_string();
            TopCustomer {
                client_customer_id: d.get_object_id("_id").map(|o| o.to_hex()).unwrap_or_default(),
                name: s("name"),
                phone_number: s("phoneNumber"),
                invoices: repo::int(d, "n"),
                sales: Paise::new(repo::int(d, "sales")),
                paid: Paise::new(repo::int(d, "paid")),
                credited: Paise::new(repo::int(d, "credited")),
                outstanding: Paise::new(repo::int(d, "out")),
            }
        })
        .collect();
    Ok(Json(TopCustomersResponse { success: true, customers }))
}

/// Low-stock count.
///
/// Low-stock and out-of-stock counts of active items (a snapshot of now: `from`/`to` are
/// validated but a stock level has no date range).
#[utoipa::path(get, path = "/dashboard/reports/stock", tag = "dashboard", security(("bearer" = [])), params(RangeQuery),
    responses((status = 200, body = StockResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    extensions(("x-permission" = json!("catalog_view"))),
)]
pub async fn stock(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<StockResponse>> {
    window(&q.from, &q.to)?;
    let (low, out) = repo::stock_counts(&state.db, auth.client_id).await?;
    Ok(Json(StockResponse { success: true, low_stock_count: low, out_of_stock_count: out }))
}

/// Dealer payables.
///
/// What the shop owes its dealers: unpaid balances of non-cancelled dealer orders (created
/// in `from`/`to`, default all), and the overdue part.
#[utoipa::path(get, path = "/dashboard/reports/dealer-payables", tag = "dashboard", security(("bearer" = [])), params(RangeQuery),
    responses((status = 200, body = DealerPayablesResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    extensions(("x-permission" = json!("dealers_view"))),
)]
pub async fn dealer_payables(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<DealerPayablesResponse>> {
    let w = window(&q.from, &q.to)?;
    let (total_payable, order_count, overdue, overdue_count) =
        repo::dealer_payables(&state.db, auth.client_id, w, time::overdue_cutoff(state.clock.now())).await?;
    Ok(Json(DealerPayablesResponse { success: true, total_payable, order_count, overdue, overdue_count }))
}

pub use super::rows::{
    day_book_csv, day_book_entry, invoice_csv, invoice_row, payment_csv, payment_row, DAY_BOOK_HEADER, INVOICE_HEADER,
    PAYMENT_HEADER,
};

/// Invoice report (JSON or CSV).
///
/// Every invoice generated in `from`/`to` (default: all), oldest first. JSON is paged
/// (`limit`/`offset`) with totals over the whole range; CSV (`format=csv` or
/// `Accept: text/csv`) streams every row.
#[utoipa::path(get, path = "/dashboard/reports/invoices", tag = "dashboard", security(("bearer" = [])), params(ListReportQuery),
    responses(
        (status = 200, description = "JSON, or RFC 4180 CSV (streamed; header row first; amounts in rupees with 2 decimals) for `format=csv` or `Accept: text/csv`",
            content((InvoiceReportResponse = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn invoice_report(
    State(state): State<AppState>,
    auth: AuthClient,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ListReportQuery>,
) -> AppResult<Response> {
    let w = window(&q.from, &q.to)?;
    let user = q
        .user_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|u| crate::validate::oid("query.userId", u.trim()))
        .transpose()?;
    if csv::wants_csv(q.format.as_deref(), &headers)? {
        let cur = repo::invoice_rows(&state.db, auth.client_id, w, user, None).await?;
        return Ok(csv::stream("invoices.csv", INVOICE_HEADER, cur, invoice_csv));
    }
    let (limit, offset) = json_page(&q.limit, &q.offset)?;
    let (rows, totals) = tokio::try_join!(
        async {
            let cur = repo::invoice_rows(&state.db, auth.client_id, w, user, Some((limit, offset))).await?;
            Ok::<Vec<Document>, AppError>(cur.try_collect().await?)
        },
        repo::invoice_totals(&state.db, auth.client_id, w, user),
    )?;
    Ok(Json(InvoiceReportResponse {
        success: true,
        invoices: rows.iter().map(invoice_row).collect(),
        total_amount: totals.total,
        paid_amount: totals.paid,
        balance: totals.balance,
        credited_amount: totals.credited,
        cancelled_count: totals.cancelled,
        cancelled_amount: totals.cancelled_amount,
        pagination: Pagination { total: totals.count, limit, offset, has_more: offset + limit < totals.count },
    })
    .into_response())
}

/// Payment report (JSON or CSV).
///
/// Every payment received in `from`/`to` (default: all), oldest first, with the paid
/// invoice's number and customer. JSON paged; CSV streamed.
#[utoipa::path(get, path = "/dashboard/reports/payments", operation_id = "dashboard_payment_report", tag = "dashboard", security(("bearer" = [])), params(ListReportQuery),
    responses(
        (status = 200, description = "JSON, or RFC 4180 CSV (streamed; header row first; amounts in rupees with 2 decimals) for `format=csv` or `Accept: text/csv`",
            content((PaymentReportResponse = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn payment_report(
    State(state): State<AppState>,
    auth: AuthClient,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ListReportQuery>,
) -> AppResult<Response> {
    let w = window(&q.from, &q.to)?;
    let user = q
        .user_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|u| crate::validate::oid("query.userId", u.trim()))
        .transpose()?;
    if csv::wants_csv(q.format.as_deref(), &headers)? {
        let cur = repo::payment_rows(&state.db, auth.client_id, w, user, None).await?;
        return Ok(csv::stream("payments.csv", PAYMENT_HEADER, cur, payment_csv));
    }
    let (limit, offset) = json_page(&q.limit, &q.offset)?;
    let (rows, (total, amount)) = tokio::try_join!(
        async {
            let cur = repo::payment_rows(&state.db, auth.client_id, w, user, Some((limit, offset))).await?;
            Ok::<Vec<Document>, AppError>(cur.try_collect().await?)
        },
        repo::payment_totals(&state.db, auth.client_id, w, user),
    )?;
    Ok(Json(PaymentReportResponse {
        success: true,
        payments: rows.iter().map(payment_row).collect(),
        total_amount: amount,
        pagination: Pagination { total, limit, offset, has_more: offset + limit < total },
    })
    .into_response())
}

/// Longest day-book window answered as JSON (CSV has no limit: it streams).
const DAY_BOOK_JSON_MAX_DAYS: i64 = 31;

/// Day book (JSON or CSV).
///
/// Every invoice issued and payment received on one India day (`date`, default today) or in
/// `from`/`to`, in time order. JSON windows are limited to 31 days; CSV streams.
#[utoipa::path(get, path = "/dashboard/reports/day-book", tag = "dashboard", security(("bearer" = [])), params(DayBookQuery),
    responses(
        (status = 200, description = "JSON, or RFC 4180 CSV (streamed; header row first; amounts in rupees with 2 decimals) for `format=csv` or `Accept: text/csv`",
            content((DayBookResponse = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn day_book(
    State(state): State<AppState>,
    auth: AuthClient,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<DayBookQuery>,
) -> AppResult<Response> {
    let ranged = window(&q.from, &q.to)?;
    let w = if ranged.is_open() {
        let day = match q.date.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => time::today_ist(),
            Some(s) => time::parse_date(s).ok_or_else(|| AppError::validation("query.date", "must be YYYY-MM-DD"))?,
        };
        days(day, day + chrono::Days::new(1))
    } else {
        ranged
    };
    let wants_csv = csv::wants_csv(q.format.as_deref(), &headers)?;
    if wants_csv {
        let cur = repo::day_book(&state.db, auth.client_id, w).await?;
        return Ok(csv::stream("day-book.csv", DAY_BOOK_HEADER, cur, day_book_csv));
    }
    let (from, to) = (w.from.unwrap_or(DateTime::MIN), w.to.unwrap_or_else(DateTime::now));
    // saturating: `to` alone leaves `from` at DateTime::MIN (found by schemathesis: a 500)
    if to.timestamp_millis().saturating_sub(from.timestamp_millis()) > DAY_BOOK_JSON_MAX_DAYS * 86_400_000 {
        return Err(AppError::validation("query.to", "a JSON day book covers at most 31 days (use format=csv)"));
    }
    let rows: Vec<Document> = repo::day_book(&state.db, auth.client_id, w).await?.try_collect().await?;
    let entries: Vec<DayBookEntry> = rows.iter().map(day_book_entry).collect();
    let sum = |kinds: &[&str]| {
        Paise::checked_sum(entries.iter().filter(|e| kinds.contains(&e.kind.as_str())).map(|e| e.amount))
            .ok_or_else(|| AppError::internal("day book total does not fit i64 paise"))
    };
    let minus = |v: Paise| Paise::ZERO.checked_sub(v).ok_or_else(repo::too_large);
    let sales = sum(&["invoice"])?;
    let returns = minus(sum(&["creditNote"])?)?;
    Ok(Json(DayBookResponse {
        success: true,
        from: wire::iso(from),
        to: wire::iso(to),
        sales,
        collections: sum(&["payment", "refund"])?,
        returns,
        net_sales: repo::net(sales, returns)?,
        refunds: minus(sum(&["refund"])?)?,
        entries,
    })
    .into_response())
}
