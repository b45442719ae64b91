//! Documents of `dealers`, `dealerorders`, `dealerorderitems` and `dealerpayments`.
//! Money is integer paise (`money::db`); quantities are integer units.

use bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};

use crate::{
    access::By,
    money::{self, Paise},
};

pub const DEALERS: &str = "dealers";
pub const ORDERS: &str = "dealerorders";
pub const LINES: &str = "dealerorderitems";
pub const PAYMENTS: &str = "dealerpayments";
pub const COUNTERS: &str = "counters";

pub const STATUS_PENDING: &str = "pending";
pub const STATUS_DELIVERED: &str = "delivered";
pub const STATUS_CANCELLED: &str = "cancelled";

pub const METHODS: &[&str] = &["cash", "card", "upi", "bank", "other"];

/// Bank account of a supplier (seed 004 `bankDetails`). Every field may be `''`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct BankDetails {
    pub bank_name: String,
    pub account_no: String,
    pub ifsc: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DealerDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub name: String,
    /// The contact person's name (seed 004 `contactPersonName`).
    #[serde(default)]
    pub contact_person: String,
    /// The contact person's own number (seed 004 `contactPersonNo`), normalised digits or `''`.
    #[serde(default)]
    pub contact_person_no: String,
    /// The contact person's own email, or `''`.
    #[serde(default)]
    pub contact_person_email: String,
    #[serde(default)]
    pub phone_number: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub logo_url: String,
    /// Supplier GSTIN (`''` when unknown).
    #[serde(default)]
    pub gstin: String,
    /// Credit days the dealer gives: a delivery without an explicit `dueDate` is due this
    /// many days after delivery. `None` = no terms recorded.
    #[serde(default)]
    pub payment_terms_days: Option<i64>,
    #[serde(default)]
    pub bank_details: BankDetails,
    pub is_active: bool,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
}

/// `Option<Paise>` stored as `i64` paise or `null`.
pub mod opt_paise {
    use crate::money::Paise;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &Option<Paise>, s: S) -> Result<S::Ok, S::Error> {
        match p {
            Some(p) => s.serialize_i64(p.as_i64()),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Paise>, D::Error> {
        Ok(Option::<i64>::deserialize(d)?.map(Paise::new))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeliveryAudit {
    /// Free text sent with the delivery (who brought the goods; the dealer's person).
    pub delivered_by: String,
    pub delivery_note: String,
    pub delivered_at: Option<DateTime>,
    /// The signed-in user who received the goods into stock (issue 15, "who did it"); the
    /// stock movements of the delivery carry the same `by`. Deliveries recorded before it
    /// existed have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_by: Option<By>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub dealer_id: ObjectId,
    /// `PO/<fy>/<seq>`, consecutive per client per Indian financial year.
    pub order_number: String,
    pub status: String,
    #[serde(default)]
    pub is_urgent: bool,
    #[serde(default)]
    pub delivery_instructions: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub pdf_url: String,
    /// The dealer's bill, in paise (`null` until known).
    #[serde(with = "opt_paise", default)]
    pub total_amount: Option<Paise>,
    /// Sum of the payments recorded against this order, in paise. Only ever changed by a
    /// guarded `$inc` in the payment transaction, so it never exceeds `totalAmount`.
    #[serde(with = "money::db", default)]
    pub paid_amount: Paise,
    #[serde(default)]
    pub due_date: Option<DateTime>,
    #[serde(default)]
    pub delivered_at: Option<DateTime>,
    #[serde(default)]
    pub cancelled_at: Option<DateTime>,
    #[serde(default)]
    pub delivery_audit: DeliveryAudit,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
    /// Who placed the order (issue 15, "who did it": the signed-in user, name as it was
    /// then). Orders placed before it existed have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<By>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub order_id: ObjectId,
    pub client_id: ObjectId,
    pub item_id: ObjectId,
    pub item_name_snapshot: String,
    pub quantity: i64,
    /// Units actually received at delivery (`null` before delivery).
    #[serde(default)]
    pub received_quantity: Option<i64>,
    #[serde(rename = "__v", default)]
    pub version: i32,
    /// The packing unit ordered in (issue 16): `quantity` and `receivedQuantity` count in it
    /// and the stock receives `factor` base units for each; absent = the item's base unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<OrderUnit>,
}

/// The snapshot of the packing unit an order line is in (its factor never changes while an
/// item sells in the unit, `catalog::unit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderUnit {
    pub unit_id: ObjectId,
    pub unit_name: String,
    /// Base units in one unit ordered.
    pub factor: i64,
}

impl LineDoc {
    /// `q` units of this line in base units (`q x factor`); `None` on overflow.
    pub fn base_units(&self, q: i64) -> Option<i64> {
        q.checked_mul(self.unit.as_ref().map_or(1, |u| u.factor))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub dealer_id: ObjectId,
    #[serde(default)]
    pub order_id: Option<ObjectId>,
    #[serde(with = "money::db")]
    pub amount: Paise,
    pub method: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub proof_url: String,
    pub paid_at: DateTime,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
    /// Who recorded the payment to the dealer (issue 15, "who did it"). Payments recorded
    /// before it existed have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<By>,
}

/// Payment state of an order (D19, D20).
pub fn payment_status(o: &OrderDoc) -> &'static str {
    match o.total_amount {
        None => "no-bill",
        Some(t) if t.as_i64() == 0 => "no-bill",
        Some(t) if o.paid_amount >= t => "paid",
        Some(_) if o.paid_amount.as_i64() > 0 => "partial",
        Some(_) => "pending",
    }
}

/// What is still owed on an order: `max(total - paid, 0)`.
pub fn remaining(o: &OrderDoc) -> Paise {
    let total = o.total_amount.unwrap_or(Paise::ZERO);
    Paise::new((total.as_i64() - o.paid_amount.as_i64()).max(0))
}
