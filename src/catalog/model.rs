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
    /// The default tax code of the category's items that have none of their own (issue 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<crate::catalog::tax::TaxCode>,
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
    /// Codes, attributes and MRP (issue 16), stored as top-level fields; all absent on an
    /// item that uses none of them.
    #[serde(flatten)]
    pub details: ItemDetails,
}

/// How a barcode is checked: `gtin` (EAN-13, UPC-A, EAN-8, GTIN-14: the GS1 check digit is
/// enforced) or `shop` (a shop-made code: letters and digits, no check digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BarcodeType {
    Gtin,
    Shop,
}

/// The codes, attributes and MRP of an item (issue 16). Each field is absent (or `false` /
/// empty) on an item that does not use it, so such an item's document and wire are as before.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemDetails {
    /// Stock-keeping unit, unique per shop (by its [`crate::barcode::key`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The barcode as printed (leading zeros kept), unique per shop (by its key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode_type: Option<BarcodeType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Ruling of a notebook (single line, four line, ...), or any line/type attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_type: Option<String>,
    /// Free-form attributes (short strings).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub extra: std::collections::BTreeMap<String, String>,
    /// Maximum retail price in paise (Legal Metrology): no sale above it.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_paise")]
    pub mrp: Option<Paise>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub has_expiry: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// The normalised keys of `sku` and `barcode` ([`crate::barcode::key`]): the field the
    /// partial unique index `uniq_client_code` (migration 0014) and the lookup use, so one
    /// code never names two items, whichever field holds it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
    /// GST codes: HSN, UQC and the effective-dated rates ([`crate::catalog::tax`]); absent
    /// when the item has none of its own (its category's default applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<crate::catalog::tax::TaxCode>,
    /// The product this item is a variant of (`catalog::product`); absent for a standalone item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_of: Option<ObjectId>,
}

impl ItemDetails {
    /// The keys of its SKU and barcode (deduplicated), the value of `codes`.
    pub fn code_keys(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in [&self.sku, &self.barcode].into_iter().flatten() {
            let k = crate::barcode::key(c);
            if !out.contains(&k) {
                out.push(k);
            }
        }
        out
    }
}

/// `Option<Paise>` as plain `i64` paise (or null) in the database.
mod opt_paise {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::money::Paise;

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

fn default_low_stock() -> i64 {
    5
}

fn default_unit() -> String {
    "nos".to_string()
}
