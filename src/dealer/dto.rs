//! Wire types of D1-D23. Money is rupees on the wire (`Paise` serializes as a JSON number in
//! rupees); ids are hex strings; dates ISO-8601 UTC with milliseconds. Unknown request keys
//! are ignored, as in v1 (every accepted field is listed here; nothing else is ever written).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    catalog::model::ItemDoc,
    dealer::model::{BankDetails, DealerDoc, LineDoc, OrderDoc, PaymentDoc},
    money::Paise,
    wire,
};

// ---------------------------------------------------------------- documents on the wire

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DealerWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub contact_person: String,
    pub phone_number: String,
    pub email: String,
    pub address: String,
    pub logo_url: String,
    pub gstin: String,
    pub payment_terms_days: Option<i64>,
    pub bank_details: BankDetails,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
}

impl From<DealerDoc> for DealerWire {
    fn from(d: DealerDoc) -> Self {
        DealerWire {
            id: d.id.to_hex(),
            client_id: d.client_id.to_hex(),
            name: d.name,
            contact_person: d.contact_person,
            phone_number: d.phone_number,
            email: d.email,
            address: d.address,
            logo_url: d.logo_url,
            gstin: d.gstin,
            payment_terms_days: d.payment_terms_days,
            bank_details: d.bank_details,
            is_active: d.is_active,
            created_at: wire::iso(d.created_at),
            updated_at: wire::iso(d.updated_at),
            v: d.version,
        }
    }
}

/// A catalog item as stored (raw document shape of v1, price in rupees).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DealerItemWire)]
pub struct ItemWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    pub group_id: Option<String>,
    pub name: String,
    #[schema(value_type = f64)]
    pub price: Paise,
    pub stock: i64,
    pub low_stock_quantity: i64,
    pub unit: String,
    pub description: String,
    pub dealer_ids: Vec<String>,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
}

impl From<ItemDoc> for ItemWire {
    fn from(i: ItemDoc) -> Self {
        ItemWire {
            id: i.id.to_hex(),
            client_id: i.client_id.to_hex(),
            group_id: i.group_id.map(|g| g.to_hex()),
            name: i.name,
            price: i.price,
            stock: i.stock,
            low_stock_quantity: i.low_stock_quantity,
            unit: i.unit,
            description: i.description,
            dealer_ids: i.dealer_ids.iter().map(|d| d.to_hex()).collect(),
            is_active: i.is_active,
            created_at: wire::iso(i.created_at),
            updated_at: wire::iso(i.updated_at),
            v: i.version,
        }
    }
}

/// D6: an item at or below its threshold.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LowStockItem {
    #[serde(flatten)]
    pub item: ItemWire,
    /// `max(2 x lowStockQuantity - stock, 1)` (v1 rule).
    pub suggested_qty: i64,
    pub is_low_stock: bool,
}

/// D7: a recommended order line (rule in docs/API.md, "Dealers").
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Recommendation {
    #[serde(flatten)]
    pub item: ItemWire,
    /// How many to order now.
    pub suggested_qty: i64,
    /// `stock <= lowStockQuantity`.
    pub is_low_stock: bool,
    /// Units already on order in this client's pending orders (any dealer).
    pub on_order_qty: i64,
    /// The level the order brings the item up to: `2 x lowStockQuantity` (at least 1).
    pub target_qty: i64,
    /// Human-readable explanation of the quantity.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAuditWire {
    pub delivered_by: String,
    pub delivery_note: String,
    pub delivered_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    pub dealer_id: String,
    pub order_number: String,
    /// `pending` | `delivered` | `cancelled`
    pub status: String,
    pub is_urgent: bool,
    pub delivery_instructions: String,
    pub notes: String,
    pub pdf_url: String,
    /// The dealer's bill in rupees, `null` until set.
    #[schema(value_type = Option<f64>)]
    pub total_amount: Option<Paise>,
    /// Sum of the payments against this order, in rupees.
    #[schema(value_type = f64)]
    pub paid_amount: Paise,
    pub due_date: Option<String>,
    pub delivered_at: Option<String>,
    pub cancelled_at: Option<String>,
    pub delivery_audit: DeliveryAuditWire,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
}

impl From<OrderDoc> for OrderWire {
    fn from(o: OrderDoc) -> Self {
        OrderWire {
            id: o.id.to_hex(),
            client_id: o.client_id.to_hex(),
            dealer_id: o.dealer_id.to_hex(),
            order_number: o.order_number,
            status: o.status,
            is_urgent: o.is_urgent,
            delivery_instructions: o.delivery_instructions,
            notes: o.notes,
            pdf_url: o.pdf_url,
            total_amount: o.total_amount,
            paid_amount: o.paid_amount,
            due_date: o.due_date.map(wire::iso),
            delivered_at: o.delivered_at.map(wire::iso),
            cancelled_at: o.cancelled_at.map(wire::iso),
            delivery_audit: DeliveryAuditWire {
                delivered_by: o.delivery_audit.delivered_by,
                delivery_note: o.delivery_audit.delivery_note,
                delivered_at: o.delivery_audit.delivered_at.map(wire::iso),
            },
            created_at: wire::iso(o.created_at),
            updated_at: wire::iso(o.updated_at),
            v: o.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub order_id: String,
    pub item_id: String,
    pub item_name_snapshot: String,
    pub quantity: i64,
    /// Units received at delivery (`null` before delivery).
    pub received_quantity: Option<i64>,
    #[serde(rename = "__v")]
    pub v: i32,
}

impl From<LineDoc> for LineWire {
    fn from(l: LineDoc) -> Self {
        LineWire {
            id: l.id.to_hex(),
            order_id: l.order_id.to_hex(),
            item_id: l.item_id.to_hex(),
            item_name_snapshot: l.item_name_snapshot,
            quantity: l.quantity,
            received_quantity: l.received_quantity,
            v: l.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DealerPaymentWire)]
pub struct PaymentWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    pub dealer_id: String,
    pub order_id: Option<String>,
    #[schema(value_type = f64)]
    pub amount: Paise,
    /// `cash` | `card` | `upi` | `bank` | `other`
    pub method: String,
    pub note: String,
    pub proof_url: String,
    pub paid_at: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
}

impl From<PaymentDoc> for PaymentWire {
    fn from(p: PaymentDoc) -> Self {
        PaymentWire {
            id: p.id.to_hex(),
            client_id: p.client_id.to_hex(),
            dealer_id: p.dealer_id.to_hex(),
            order_id: p.order_id.map(|o| o.to_hex()),
            amount: p.amount,
            method: p.method,
            note: p.note,
            proof_url: p.proof_url,
            paid_at: wire::iso(p.paid_at),
            created_at: wire::iso(p.created_at),
            updated_at: wire::iso(p.updated_at),
            v: p.version,
        }
    }
}

// ---------------------------------------------------------------- requests

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BankDetailsInput {
    pub bank_name: Option<String>,
    /// Digits only, 6-20 (spaces removed), or `''`.
    pub account_no: Option<String>,
    /// `^[A-Z]{4}0[A-Z0-9]{6}$`, or `''`.
    pub ifsc: Option<String>,
}

/// D1 (and D3, where every field is optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DealerRequest {
    /// Optional (the tenant is the token's); when sent it must be the token's client.
    pub client_id: Option<String>,
    /// 2-100 characters; unique (case-insensitively) among the client's active dealers.
    #[schema(example = "Sharma Distributors")]
    pub name: Option<String>,
    pub contact_person: Option<String>,
    /// Phone (normalised to digits) or `''`.
    pub phone_number: Option<String>,
    /// Email or `''`.
    pub email: Option<String>,
    pub address: Option<String>,
    /// Absolute http(s) URL or `''`.
    pub logo_url: Option<String>,
    /// 15-character GSTIN or `''`.
    pub gstin: Option<String>,
    /// Credit days, 0-365.
    pub payment_terms_days: Option<i64>,
    pub bank_details: Option<BankDetailsInput>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderItemInput {
    pub item_id: Option<String>,
    /// Whole units, 1-1000000.
    pub quantity: Option<i64>,
}

/// D8
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrderRequest {
    pub client_id: Option<String>,
    pub dealer_id: Option<String>,
    /// 1-200 lines; every item active, the client's own and mapped to this dealer.
    pub items: Option<Vec<OrderItemInput>>,
    pub notes: Option<String>,
    pub delivery_instructions: Option<String>,
    pub is_urgent: Option<bool>,
}

/// D11
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientBody {
    pub client_id: Option<String>,
}

/// One received line at delivery: `lineId` (the line `_id` from D10) or `itemId` (when the
/// item appears on exactly one line).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedInput {
    pub line_id: Option<String>,
    pub item_id: Option<String>,
    /// Whole units received, 0-1000000 (default: the ordered quantity).
    pub received_quantity: Option<i64>,
}

/// D12
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarkDeliveredRequest {
    pub client_id: Option<String>,
    /// The dealer's bill in rupees (>= 0, at most two decimals).
    #[schema(value_type = Option<f64>)]
    pub total_amount: Option<Paise>,
    /// ISO-8601 datetime ending in `Z`, or `YYYY-MM-DD`.
    #[schema(example = "2026-05-31")]
    pub due_date: Option<String>,
    pub delivered_by: Option<String>,
    pub delivery_note: Option<String>,
    /// Optional per-line received quantities; unlisted lines are received in full.
    pub items: Option<Vec<ReceivedInput>>,
}

/// D13
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetTotalRequest {
    pub client_id: Option<String>,
    #[schema(value_type = Option<f64>)]
    pub total_amount: Option<Paise>,
    #[schema(example = "2026-05-31")]
    pub due_date: Option<String>,
}

/// D15
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatePaymentRequest {
    pub client_id: Option<String>,
    pub dealer_id: Option<String>,
    /// Optional: an order of this client and dealer with a bill total; the payment may not
    /// exceed what is still owed on it.
    pub order_id: Option<String>,
    /// Rupees, > 0, at most two decimals.
    #[schema(value_type = Option<f64>, example = 500)]
    pub amount: Option<Paise>,
    /// `cash` (default) | `card` | `upi` | `bank` | `other`
    pub method: Option<String>,
    pub note: Option<String>,
    /// Absolute http(s) URL or `''`.
    pub proof_url: Option<String>,
}

// ---------------------------------------------------------------- queries

/// `clientId` is optional (the tenant is the token's); when sent it must be the token's.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ClientQuery {
    #[param(rename = "clientId")]
    pub client_id: Option<String>,
}

/// Paging: `limit` 1-200 (default 50; larger values are capped at 200), `skip` >= 0 (default 0).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub limit: Option<String>,
    pub skip: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PaymentsAllQuery {
    #[param(rename = "dealerId")]
    pub dealer_id: Option<String>,
    #[param(rename = "orderId")]
    pub order_id: Option<String>,
    pub limit: Option<String>,
    pub skip: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct OrderPaymentsQuery {
    /// `all` (default) | `pending` | `partial` | `paid` | `no-bill`
    pub status: Option<String>,
    #[param(rename = "dealerId")]
    pub dealer_id: Option<String>,
    pub limit: Option<String>,
    pub skip: Option<String>,
}

// ---------------------------------------------------------------- responses

#[derive(Debug, Serialize, ToSchema)]
pub struct DealerResponse {
    pub success: bool,
    pub dealer: DealerWire,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DealersResponse {
    pub success: bool,
    pub dealers: Vec<DealerWire>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    pub success: bool,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DealerItemsResponse)]
pub struct ItemsResponse {
    pub success: bool,
    pub items: Vec<ItemWire>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LowStockResponse {
    pub success: bool,
    pub items: Vec<LowStockItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecommendationsResponse {
    pub success: bool,
    pub recommendations: Vec<Recommendation>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderResponse {
    pub success: bool,
    pub order: OrderWire,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrdersResponse {
    pub success: bool,
    pub orders: Vec<OrderWire>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderWithLinesResponse {
    pub success: bool,
    pub order: OrderWire,
    pub items: Vec<LineWire>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentResponse {
    pub success: bool,
    pub payment: PaymentWire,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentByIdResponse {
    pub success: bool,
    pub payment_id: String,
    pub payment: PaymentWire,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DealerPaymentsResponse)]
pub struct PaymentsResponse {
    pub success: bool,
    pub payments: Vec<PaymentWire>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderBrief {
    #[serde(rename = "_id")]
    pub id: String,
    pub order_number: String,
    #[schema(value_type = Option<f64>)]
    pub total_amount: Option<Paise>,
    pub due_date: Option<String>,
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderPaySummary {
    #[schema(value_type = f64)]
    pub total_paid: Paise,
    #[schema(value_type = f64)]
    pub remaining: Paise,
    pub is_paid_in_full: bool,
}

/// D14
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPaymentsResponse {
    pub success: bool,
    pub order: OrderBrief,
    pub payments: Vec<PaymentWire>,
    pub summary: OrderPaySummary,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DealerPaymentRow)]
pub struct PaymentRow {
    #[serde(rename = "_id")]
    pub id: String,
    pub dealer_id: String,
    pub dealer_name: String,
    pub order_id: Option<String>,
    pub order_number: Option<String>,
    #[schema(value_type = f64)]
    pub amount: Paise,
    pub method: String,
    pub note: String,
    pub proof_url: String,
    pub paid_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentsAllSummary {
    pub total_payments: u64,
    #[schema(value_type = f64)]
    pub total_amount: Paise,
}

/// D17
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentsAllResponse {
    pub success: bool,
    pub summary: PaymentsAllSummary,
    pub total_count: u64,
    pub limit: i64,
    pub skip: u64,
    pub payments: Vec<PaymentRow>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderPaymentsSummary {
    pub total_orders: u64,
    pub pending_orders: u64,
    pub partial_orders: u64,
    pub paid_orders: u64,
    pub no_bill_orders: u64,
    #[schema(value_type = f64)]
    pub total_amount: Paise,
    #[schema(value_type = f64)]
    pub total_paid: Paise,
    #[schema(value_type = f64)]
    pub total_remaining: Paise,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderPaymentRow {
    #[serde(rename = "_id")]
    pub id: String,
    pub order_number: String,
    pub dealer_id: String,
    pub dealer_name: String,
    pub status: String,
    #[schema(value_type = Option<f64>)]
    pub total_amount: Option<Paise>,
    pub due_date: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
    /// `no-bill` | `pending` | `partial` | `paid`
    pub payment_status: String,
    #[schema(value_type = f64)]
    pub total_paid: Paise,
    #[schema(value_type = f64)]
    pub remaining: Paise,
    pub payment_count: u64,
}

/// D19
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderPaymentsListResponse {
    pub success: bool,
    pub summary: OrderPaymentsSummary,
    pub total_count: u64,
    pub limit: i64,
    pub skip: u64,
    pub orders: Vec<OrderPaymentRow>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDetailsOrder {
    #[serde(rename = "_id")]
    pub id: String,
    pub order_number: String,
    pub dealer_id: String,
    pub dealer_name: String,
    pub dealer_contact: String,
    pub dealer_phone: String,
    pub status: String,
    #[schema(value_type = Option<f64>)]
    pub total_amount: Option<Paise>,
    pub due_date: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
    pub notes: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentSummaryWire {
    pub payment_status: String,
    #[schema(value_type = f64)]
    pub total_paid: Paise,
    #[schema(value_type = f64)]
    pub remaining: Paise,
    pub is_paid_in_full: bool,
}

/// D20
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDetailsResponse {
    pub success: bool,
    pub order: PaymentDetailsOrder,
    pub items: Vec<LineWire>,
    pub payment_summary: PaymentSummaryWire,
    pub payments: Vec<PaymentWire>,
}

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
