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
    /// Sum of `totalAmount` of fully paid invoices (nothing due; never a cancelled one).
    #[schema(value_type = f64)]
    pub total_sales: Paise,
    /// Sum of what is due (`totalAmount - creditedAmount - paidAmount`) of invoices not fully
    /// paid (issue 18: a credit note adjusted to dues lowers it; cancelled invoices owe nothing).
    #[schema(value_type = f64)]
    pub pending_amount: Paise,
    /// Number of invoices not fully paid.
    pub pending_invoices: i64,
    /// Issue 18: Sum of `totalAmount` of every invoice not cancelled (any payment state).
    #[schema(value_type = f64)]
    pub gross_sales: Paise,
    /// Issue 18: Sum of `totalAmount` of the credit notes issued in the period (by their own
    /// date, whatever the invoice's date).
    #[schema(value_type = f64)]
    pub returns: Paise,
    /// Issue 18: `grossSales - returns`.
    #[schema(value_type = f64)]
    pub net_sales: Paise,
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
    /// Issue 18: Sum of `totalAmount` of the month's invoices not cancelled.
    #[serde(rename = "grossSales")]
    #[schema(value_type = f64)]
    pub gross_sales: Paise,
    /// Issue 18: Sum of the credit notes dated in the month (a September sale returned on
    /// 1 October is a September sale and an October return).
    #[schema(value_type = f64)]
    pub returns: Paise,
    /// Issue 18: `grossSales - returns`.
    #[serde(rename = "netSales")]
    #[schema(value_type = f64)]
    pub net_sales: Paise,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopItem {
    pub item_name: String,
    /// Sum of the quantities (in the units sold) of the item's lines on invoices not cancelled.
    pub quantity: i64,
    /// Sum of the `lineTotal` of those lines (quantity x unit price; with tax after discounts
    /// on a GST invoice).
    #[schema(value_type = f64)]
    pub amount: Paise,
    /// Issue 18: base units returned by credit notes (of the period, by their own date).
    pub returned_quantity: i64,
    /// Issue 18: Sum of the credited line totals of those returns.
    #[schema(value_type = f64)]
    pub returns: Paise,
    /// Issue 18: base units sold less base units returned (a line sold in a packing unit
    /// counts its base units).
    pub net_quantity: i64,
    /// Issue 18: `amount - returns`. Items are ranked by it (then `amount`).
    #[schema(value_type = f64)]
    pub net_amount: Paise,
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
    /// Sum of `totalAmount` of invoices generated in the window (any payment state; never a
    /// cancelled one): gross sales.
    #[schema(value_type = f64)]
    pub sales: Paise,
    pub invoice_count: i64,
    /// Sum of payments received in the window (by `paidAt`), whatever the invoice's date, net
    /// of the refunds paid out in it (issue 18).
    #[schema(value_type = f64)]
    pub collections: Paise,
    /// Payments received (refunds not counted).
    pub payment_count: i64,
    /// Issue 18: Sum of the credit notes issued in the window.
    #[schema(value_type = f64)]
    pub returns: Paise,
    pub credit_note_count: i64,
    /// Issue 18: `sales - returns`.
    #[schema(value_type = f64)]
    pub net_sales: Paise,
    /// Issue 18: money paid back in the window (refund payments, as a positive sum).
    #[schema(value_type = f64)]
    pub refunds: Paise,
    pub refund_count: i64,
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
    /// Issue 18: Sum of `creditedAmount` (credit notes) of the window's invoices.
    #[schema(value_type = f64)]
    pub credited: Paise,
    /// Unpaid balance (what is due) of the window's invoices.
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
    /// What is due: `totalAmount - creditedAmount - paidAmount` (at least 0; 0 when cancelled).
    #[schema(value_type = f64)]
    pub balance: Paise,
    /// `Unpaid`, `Partial`, `Paid` or (issue 18) `Cancelled`.
    pub status: String,
    pub kind: String,
    /// Issue 18: Sum of the credit notes against it.
    #[schema(value_type = f64)]
    pub credited_amount: Paise,
    /// Issue 18: Sum of the refunds paid out on it (positive; `paidAmount` is net of them).
    #[schema(value_type = f64)]
    pub refunded_amount: Paise,
    /// Issue 18: cancelled (it keeps its number and counts in no sales figure).
    pub is_cancelled: bool,
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
    /// Negative for a refund (issue 18).
    pub amount: Paise,
    pub method: String,
    pub note: String,
    /// `payment`, or `refund` (issue 18: money paid back, a negative amount).
    pub kind: String,
}

pub use crate::paging::Pagination;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceReportResponse {
    pub success: bool,
    pub invoices: Vec<InvoiceRow>,
    /// Totals over the whole range (not just the page) of the invoices not cancelled.
    #[schema(value_type = f64)]
    pub total_amount: Paise,
    #[schema(value_type = f64)]
    pub paid_amount: Paise,
    /// Σ of the rows' `balance` (what is due).
    #[schema(value_type = f64)]
    pub balance: Paise,
    /// Issue 18: Σ `creditedAmount` of the invoices not cancelled.
    #[schema(value_type = f64)]
    pub credited_amount: Paise,
    /// Issue 18: cancelled invoices in the range (listed, counted in no total above).
    pub cancelled_count: i64,
    /// Issue 18: Σ `totalAmount` of the cancelled invoices in the range.
    #[schema(value_type = f64)]
    pub cancelled_amount: Paise,
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
    /// `invoice`, `payment`, or (issue 18) `cancelledInvoice` (listed at its issue, counted in
    /// no sales figure), `creditNote` (a return, negative amount) or `refund` (money paid
    /// back, negative amount).
    #[serde(rename = "type")]
    pub kind: String,
    /// The invoice's id (for a payment: the paid invoice).
    pub invoice_id: String,
    pub invoice_number: Option<String>,
    pub customer_name: String,
    /// Invoice total, the payment amount, or minus a credit note's total or a refund.
    #[schema(value_type = f64)]
    pub amount: Paise,
    /// Payment or refund method (`''` for invoices and credit notes).
    pub method: String,
    /// The credit note's number (`creditNote` rows only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_note_number: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayBookResponse {
    pub success: bool,
    pub from: String,
    pub to: String,
    pub entries: Vec<DayBookEntry>,
    /// Σ `invoice` rows (gross sales; cancelled invoices not counted).
    #[schema(value_type = f64)]
    pub sales: Paise,
    /// Σ `payment` and `refund` rows: collections net of refunds.
    #[schema(value_type = f64)]
    pub collections: Paise,
    /// Issue 18: −Σ `creditNote` rows (returns, positive).
    #[schema(value_type = f64)]
    pub returns: Paise,
    /// Issue 18: `sales - returns`.
    #[schema(value_type = f64)]
    pub net_sales: Paise,
    /// Issue 18: −Σ `refund` rows (money paid back, positive).
    #[schema(value_type = f64)]
    pub refunds: Paise,
}
