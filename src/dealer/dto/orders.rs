//! Wire types of D8-D13: purchase orders, their lines and delivery.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    access::ByWire,
    dealer::model::{LineDoc, OrderDoc},
    money::Paise,
    wire,
};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAuditWire {
    /// Free text sent with the delivery (who brought the goods).
    pub delivered_by: String,
    pub delivery_note: String,
    pub delivered_at: Option<String>,
    /// The signed-in user who received the goods into stock (`{userId, name}`); absent
    /// before delivery and on deliveries recorded before it existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_by: Option<ByWire>,
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
    /// Sum of the payments against this order, in rupees. `null` for a user without
    /// `cost_view` (with `totalAmount`: what the shop pays its dealer is cost, issue 15).
    #[schema(value_type = Option<f64>)]
    pub paid_amount: Option<Paise>,
    pub due_date: Option<String>,
    pub delivered_at: Option<String>,
    pub cancelled_at: Option<String>,
    pub delivery_audit: DeliveryAuditWire,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
    /// Who placed the order (`{userId, name}`, the name as it was then); absent on orders
    /// placed before it was recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<ByWire>,
}

impl OrderWire {
    /// The order as `user` may see it: without `cost_view` (a stock keeper places and receives
    /// orders but does not see costs, issue 15's table) `totalAmount` and `paidAmount` are
    /// `null`.
    pub fn shown(o: OrderDoc, cost_view: bool) -> OrderWire {
        let mut w = OrderWire::from(o);
        if !cost_view {
            w.total_amount = None;
            w.paid_amount = None;
        }
        w
    }
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
            paid_amount: Some(o.paid_amount),
            due_date: o.due_date.map(wire::iso),
            delivered_at: o.delivered_at.map(wire::iso),
            cancelled_at: o.cancelled_at.map(wire::iso),
            delivery_audit: DeliveryAuditWire {
                delivered_by: o.delivery_audit.delivered_by,
                delivery_note: o.delivery_audit.delivery_note,
                delivered_at: o.delivery_audit.delivered_at.map(wire::iso),
                received_by: o.delivery_audit.received_by.as_ref().map(ByWire::from),
            },
            created_at: wire::iso(o.created_at),
            updated_at: wire::iso(o.updated_at),
            v: o.version,
            created_by: o.created_by.as_ref().map(ByWire::from),
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
    /// Issue 16, only on a line in a packing unit: the unit (snapshot), its factor and the
    /// ordered quantity in base units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "BOX")]
    pub unit_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factor: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_quantity: Option<i64>,
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
            unit_id: l.unit.as_ref().map(|u| u.unit_id.to_hex()),
            unit_name: l.unit.as_ref().map(|u| u.unit_name.clone()),
            factor: l.unit.as_ref().map(|u| u.factor),
            base_quantity: l.unit.as_ref().and_then(|u| l.quantity.checked_mul(u.factor)),
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderItemInput {
    pub item_id: Option<String>,
    /// Whole units, 1-1000000 (of `unitId` when sent).
    pub quantity: Option<i64>,
    /// Order in one of the item's packing units (issue 16): quantities count in it, delivery
    /// adds quantity x factor base units. A unit the item is not sold in: 400 naming it.
    pub unit_id: Option<String>,
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

/// One received line at delivery: `lineId` (the line `_id` from D10) or `itemId` (when the
/// item appears on exactly one line).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedInput {
    pub line_id: Option<String>,
    pub item_id: Option<String>,
    /// Whole units received, 0-1000000 (default: the ordered quantity).
    pub received_quantity: Option<i64>,
    /// The lot received (issue 16; `hasExpiry` items only), with `expiryDate`: the units go
    /// into this batch (created, or added to when the item has it, ignoring case). Absent:
    /// unbatched stock (older apps).
    pub batch_no: Option<String>,
    /// `YYYY-MM-DD`, required with `batchNo` (and equal to the lot's when it exists).
    pub expiry_date: Option<String>,
    /// Rupees printed on the lot (a new lot only).
    #[schema(value_type = Option<f64>)]
    pub mrp: Option<Paise>,
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
