//! Wire types of the dashboard (H1-H4, v1 shapes) and the business reports.
//! Money is `Paise` inside and rupees (JSON numbers) on the wire.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::money::Paise;

// ---------- queries ----------

/// H1: `clientId` is bound to the token by the auth layer; `from`/`to` optionally narrow
/// the invoices counted (by `generatedAt`).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    pub client_id: Option<String>,
    /// `YYYY-MM-DD` (India day) or RFC 3339; inclusive.
    pub from: Option<String>,
    /// `YYYY-MM-DD` (India day, whole day included) or RFC 3339; inclusive.
    pub to: Option<String>,
}

/// H2: `months` 1-24 (default 6; decimals truncated).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendsQuery {
    pub months: Option<String>,
}

/// H3: `limit` 1-50 (default 5); optional `from`/`to` on `generatedAt`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
#[into_params(rename_all = "camelCase")]
pub struct TopItemsQuery {
    pub limit: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Only the items of this brand (issue 16; with its products' variants).
    pub brand_id: Option<String>,
    /// Only the items of this company's brands (with `brandId`: that brand, if the company's).
    pub company_id: Option<String>,
}

/// H4: `months` as H2, `limit` as H3.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    pub months: Option<String>,
    pub limit: Option<String>,
}

/// A `from`/`to` range (India days or RFC 3339 instants, inclusive).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Top customers: range plus `limit` 1-50 (default 10).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopCustomersQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<String>,
}

/// Invoice and payment reports: range, paging (JSON only; CSV streams every row) and
/// `format=json|csv` (or `Accept: text/csv`).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListReportQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    /// Page size for JSON (default 100, at most 500).
    pub limit: Option<String>,
    pub offset: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
    /// Only what this user did (24-hex user id): invoices they billed (`billedBy.userId`),
    /// payments they recorded (`recordedBy.userId`). An unknown or foreign id matches nothing.
    #[serde(rename = "userId")]
    pub user_id: Option<String>,
}

/// Day book: one India day (`date`, default today) or a `from`/`to` range; `format=json|csv`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayBookQuery {
    /// `YYYY-MM-DD` (India day). Ignored when `from` or `to` is given.
    pub date: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub format: Option<String>,
}

// ---------- H1-H4 ----------

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SummaryWire {
    /// Sum of `totalAmount` of fully paid invoices.
    #[schema(value_type = f64)]
    pub total_sales: Paise,
    /// Sum of `totalAmount - paidAmount` of invoices not fully paid.
    #[schema(value_type = f64)]
    pub pending_amount: Paise,
    /// Number of invoices not fully paid.
    pub pending_invoices: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SummaryResponse {
    pub success: bool,
    #[serde(flatten)]
    pub summary: SummaryWire,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthSales {
    /// `Jan`..`Dec` (India calendar).
    pub month: String,
    pub year: i32,
    /// Sum of `totalAmount` of fully paid invoices generated in the month.
    #[schema(value_type = f64)]
    pub amount: Paise,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopItem {
    pub item_name: String,
    pub quantity: i64,
    /// Sum of quantity x unit price over the item's invoice lines.
    #[schema(value_type = f64)]
    pub amount: Paise,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DashboardResponse {
    pub success: bool,
    pub summary: SummaryWire,
    pub sales_trends: Vec<MonthSales>,
    pub top_items: Vec<TopItem>,
}

// ---------- reports ----------

/// Sales and collections of one window `[from, to]`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeriodFigures {
    /// First instant of the window (ISO-8601 UTC).
    pub from: String,
    /// Last instant of the window (ISO-8601 UTC, inclusive).
    pub to: String,
    /// Sum of `totalAmount` of invoices generated in the window (any payment state).
    #[schema(value_type = f64)]
    pub sales: Paise,
    pub invoice_count: i64,
    /// Sum of payments received in the window (by `paidAt`), whatever the invoice's date.
    #[schema(value_type = f64)]
    pub collections: Paise,
    pub payment_count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeriodsResponse {
    pub success: bool,
    /// Today's India date `YYYY-MM-DD`.
    pub as_of: String,
    pub today: PeriodFigures,
    /// Monday 00:00 IST to now.
    pub this_week: PeriodFigures,
    pub this_month: PeriodFigures,
    /// From April 1 (IST) to now.
    pub this_financial_year: PeriodFigures,
    /// The `from`/`to` window of the query, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<PeriodFigures>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MethodFigure {
    #[schema(value_type = f64)]
    pub amount: Paise,
    pub count: i64,
    /// Share of all collections in the window, in percent (0 when nothing was collected).
    pub percentage: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MethodSplit {
    pub cash: MethodFigure,
    pub upi: MethodFigure,
    pub card: MethodFigure,
    pub bank: MethodFigure,
    pub other: MethodFigure,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalesVsCollectionsResponse {
    pub success: bool,
    #[serde(flatten)]
    pub figures: PeriodFigures,
    /// collections / sales in percent, rounded to 2 decimals (0 when sales are 0).
    pub collection_rate: f64,
    /// Part of the window's sales still unpaid today (sum of balances of those invoices).
    #[schema(value_type = f64)]
    pub outstanding_from_sales: Paise,
    pub by_method: MethodSplit,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgeingBucket {
    /// `current` (not yet due), `0-30`, `31-60`, `61-90`, `90+` days past the due date.
    pub bucket: String,
    #[schema(value_type = f64)]
    pub amount: Paise,
    pub invoices: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DuesResponse {
    pub success: bool,
    /// Today's India date the ages are measured from.
    pub as_of: String,
    #[schema(value_type = f64)]
    pub total_outstanding: Paise,
    pub invoice_count: i64,
    pub buckets: Vec<AgeingBucket>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopCustomer {
    pub client_customer_id: String,
    pub name: String,
    pub phone_number: String,
    pub invoices: i64,
    #[schema(value_type = f64)]
    pub sales: Paise,
    #[schema(value_type = f64)]
    pub paid: Paise,
    /// Unpaid balance of the window's invoices.
    #[schema(value_type = f64)]
    pub outstanding: Paise,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopCustomersResponse {
    pub success: bool,
    pub customers: Vec<TopCustomer>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockResponse {
    pub success: bool,
    /// Active items with `stock <= lowStockQuantity` (includes out of stock).
    pub low_stock_count: i64,
    /// Active items with `stock <= 0`.
    pub out_of_stock_count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DealerPayablesResponse {
    pub success: bool,
    /// Sum over non-cancelled dealer orders of `totalAmount - paidAmount` (when positive).
    #[schema(value_type = f64)]
    pub total_payable: Paise,
    pub order_count: i64,
    /// The part of `totalPayable` whose order `dueDate` is before now.
    #[schema(value_type = f64)]
    pub overdue: Paise,
    pub overdue_count: i64,
}

/// One row of the invoice report (JSON and CSV).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceRow {
    #[serde(rename = "_id")]
    pub id: String,
    pub invoice_number: Option<String>,
    /// `YYYY-MM-DD` (India).
    pub invoice_date: String,
    pub due_date: String,
    pub generated_at: String,
    pub customer_name: String,
    pub customer_phone: String,
    #[schema(value_type = f64)]
    pub total_amount: Paise,
    #[schema(value_type = f64)]
    pub paid_amount: Paise,
    #[schema(value_type = f64)]
    pub balance: Paise,
    pub status: String,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRow {
    #[serde(rename = "_id")]
    pub id: String,
    pub paid_at: String,
    pub invoice_id: String,
    pub invoice_number: Option<String>,
    pub customer_name: String,
    #[schema(value_type = f64)]
    pub amount: Paise,
    pub method: String,
    pub note: String,
}

pub use crate::paging::Pagination;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceReportResponse {
    pub success: bool,
    pub invoices: Vec<InvoiceRow>,
    /// Totals over the whole range (not just the page).
    #[schema(value_type = f64)]
    pub total_amount: Paise,
    #[schema(value_type = f64)]
    pub paid_amount: Paise,
    #[schema(value_type = f64)]
    pub balance: Paise,
    pub pagination: Pagination,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentReportResponse {
    pub success: bool,
    pub payments: Vec<PaymentRow>,
    #[schema(value_type = f64)]
    pub total_amount: Paise,
    pub pagination: Pagination,
}

/// One day-book entry: an invoice issued or a payment received.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayBookEntry {
    /// ISO-8601 UTC instant.
    pub at: String,
    /// `invoice` or `payment`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The invoice's id (for a payment: the paid invoice).
    pub invoice_id: String,
    pub invoice_number: Option<String>,
    pub customer_name: String,
    /// Invoice total, or the payment amount.
    #[schema(value_type = f64)]
    pub amount: Paise,
    /// Payment method (payments only; `''` for invoices).
    pub method: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayBookResponse {
    pub success: bool,
    pub from: String,
    pub to: String,
    pub entries: Vec<DayBookEntry>,
    #[schema(value_type = f64)]
    pub sales: Paise,
    #[schema(value_type = f64)]
    pub collections: Paise,
}
