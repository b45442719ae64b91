//! Wire types of D21-D23: the dealer summary and the timelines.

use serde::Serialize;
use utoipa::ToSchema;

use crate::money::Paise;

/// One entry of the D21 timeline: `data` is the order or the payment document.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// `order` | `payment`
    #[serde(rename = "type")]
    pub kind: String,
    pub at: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderCounts {
    pub pending: u64,
    pub delivered: u64,
    pub cancelled: u64,
}

/// D21. Cancelled orders are excluded from every amount (and from the timelines).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DealerSummaryResponse {
    pub success: bool,
    /// Sum of the bill totals of the non-cancelled orders that have one (v1 name).
    #[schema(value_type = f64)]
    pub total_ordered: Paise,
    /// Same amount as `totalOrdered` (what the dealer has billed).
    #[schema(value_type = f64)]
    pub total_billed: Paise,
    /// Bill totals of the delivered orders.
    #[schema(value_type = f64)]
    pub total_delivered: Paise,
    /// Every payment to this dealer (with or without an order).
    #[schema(value_type = f64)]
    pub total_paid: Paise,
    /// `max(totalBilled - totalPaid, 0)` (v1 name).
    #[schema(value_type = f64)]
    pub payable: Paise,
    /// Same as `payable`.
    #[schema(value_type = f64)]
    pub outstanding: Paise,
    /// `max(totalPaid - totalBilled, 0)`: paid ahead of bills.
    #[schema(value_type = f64)]
    pub advance: Paise,
    /// Unpaid remainder of the non-cancelled orders whose `dueDate` has passed.
    #[schema(value_type = f64)]
    pub overdue: Paise,
    pub overdue_orders: u64,
    pub orders: OrderCounts,
    /// Up to 20 latest orders and 20 latest payments, `at` desc.
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderTxnDetails {
    pub is_urgent: bool,
    pub delivered_at: Option<String>,
    pub cancelled_at: Option<String>,
    pub notes: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentTxnDetails {
    pub note: String,
    pub proof_url: String,
}

/// A timeline row (D22, D23): an order (`type: order`) or a payment (`type: payment`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionRow {
    /// `order` | `payment`
    #[serde(rename = "type")]
    pub kind: String,
    pub transaction_id: String,
    pub dealer_id: String,
    pub dealer_name: String,
    /// Orders only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    /// Payments only (may be `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<Option<String>>,
    /// Order: its bill total (`null` when not billed yet). Payment: the amount.
    #[schema(value_type = Option<f64>)]
    pub amount: Option<Paise>,
    /// Orders only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Orders only (may be `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<Option<String>>,
    /// Payments only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Order: `createdAt`; payment: `paidAt`.
    pub date: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionsSummary {
    /// Active dealers of the client (D22) or 1 (D23).
    pub total_dealers: u64,
    /// Sum of the `amount` of every order row (cancelled orders excluded).
    #[schema(value_type = f64)]
    pub total_orders: Paise,
    /// Sum of the `amount` of every payment row.
    #[schema(value_type = f64)]
    pub total_payments: Paise,
    /// `max(totalOrders - totalPayments, 0)`
    #[schema(value_type = f64)]
    pub pending_payable: Paise,
}

/// D22
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionsResponse {
    pub success: bool,
    pub summary: TransactionsSummary,
    pub total_count: u64,
    pub limit: i64,
    pub skip: u64,
    pub transactions: Vec<TransactionRow>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DealerBrief {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub contact_person: String,
    pub phone_number: String,
}

/// D23
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DealerTransactionsResponse {
    pub success: bool,
    pub dealer: DealerBrief,
    pub summary: TransactionsSummary,
    pub total_count: u64,
    pub limit: i64,
    pub skip: u64,
    pub transactions: Vec<TransactionRow>,
}
