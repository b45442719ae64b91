//! Wire types of D14-D20: dealer payments and the payment views.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{access::ByWire, dealer::model::PaymentDoc, money::Paise, wire};

use super::LineWire;

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
    /// Who recorded it (`{userId, name}`, the name as it was then); absent on payments
    /// recorded before it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<ByWire>,
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
            created_by: p.created_by.as_ref().map(ByWire::from),
        }
    }
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
