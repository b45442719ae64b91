//! Documents of `itemgroups` and `items`. Money is integer paise; stock and thresholds are
//! integer units. Shared by the catalog, billing, dealer and sync modules.

use bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};

use crate::money::{self, Paise};

pub const UNITS: &[&str] = &["nos", "kg", "litre", "meter", "pcs"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemGroupDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The main category of a sub category (two levels: a parent never has a parent itself);
    /// absent for a main category (issue 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<ObjectId>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    #[serde(default)]
    pub group_id: Option<ObjectId>,
    /// One of the shop's brands (`catalog::brand`); absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_id: Option<ObjectId>,
    pub name: String,
    /// Unit price in paise.
    #[serde(with = "money::db")]
    pub price: Paise,
    /// Units in stock (may go negative only when the client allows negative stock).
    #[serde(default)]
    pub stock: i64,
    #[serde(default = "default_low_stock")]
    pub low_stock_quantity: i64,
    #[serde(default = "default_unit")]
    pub unit: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub dealer_ids: Vec<ObjectId>,
    pub is_active: bool,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
}

fn default_low_stock() -> i64 {
    5
}

fn default_unit() -> String {
    "nos".to_string()
}
