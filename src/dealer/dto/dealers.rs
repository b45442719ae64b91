//! Wire types of D1-D7: dealers and the items they supply.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    catalog::model::ItemDoc,
    dealer::model::{BankDetails, DealerDoc},
    money::Paise,
    wire,
};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DealerWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub contact_person: String,
    /// The contact person's number (digits) or `''` (issue 16).
    pub contact_person_no: String,
    /// The contact person's email or `''` (issue 16).
    pub contact_person_email: String,
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
            contact_person_no: d.contact_person_no,
            contact_person_email: d.contact_person_email,
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
    /// The contact person's name, at most 100 characters (`contactPersonName` is accepted as
    /// an alias, seed 004).
    #[serde(alias = "contactPersonName")]
    pub contact_person: Option<String>,
    /// The contact person's number: a phone (normalised to digits) or `''`.
    pub contact_person_no: Option<String>,
    /// The contact person's email or `''`.
    pub contact_person_email: Option<String>,
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
