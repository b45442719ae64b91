//! Wire types of units.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{catalog::unit::UnitDoc, wire};

/// A unit as the app reads it. `baseUnitId` is the unit's own id for a base unit (a base
/// unit's base is itself, factor 1).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnitWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    #[schema(example = "BOX")]
    pub name: String,
    /// GST unit quantity code (`NOS`, `PCS`, `BOX`, `PAC`, `DOZ`, `KGS`, `LTR`, `MTR`, ...).
    #[schema(example = "BOX")]
    pub uqc: String,
    /// Base units in one of this unit.
    #[schema(example = 10)]
    pub conversion_factor: i64,
    pub base_unit_id: String,
    /// True for a base unit (stock of items is kept in base units).
    pub is_base: bool,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
}

impl From<UnitDoc> for UnitWire {
    fn from(u: UnitDoc) -> Self {
        UnitWire {
            id: u.id.to_hex(),
            client_id: u.client_id.to_hex(),
            base_unit_id: u.base().to_hex(),
            is_base: u.base_unit_id.is_none(),
            name: u.name,
            uqc: u.uqc,
            conversion_factor: u.conversion_factor,
            created_at: wire::iso(u.created_at),
            updated_at: wire::iso(u.updated_at),
            v: u.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnitResponse {
    pub success: bool,
    pub unit: UnitWire,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnitsResponse {
    pub success: bool,
    pub units: Vec<UnitWire>,
}

/// Create a unit. Without `baseUnitId` (or with `conversionFactor` 1 and no base) it is a
/// base unit; with one, `conversionFactor` base units of that base unit make one of it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUnitRequest {
    /// 1-30 characters, unique per shop ignoring case and spacing.
    #[schema(example = "BOX")]
    pub name: String,
    /// One of the GST UQC codes (`catalog::tax::UQC`), any case.
    #[schema(example = "BOX")]
    pub uqc: String,
    /// Integer >= 1 (at most 1,000,000); must be 1 (or absent) for a base unit. Default 1.
    #[schema(example = 10)]
    pub conversion_factor: Option<i64>,
    /// A base unit of the shop (400 otherwise); absent or null: this is a base unit.
    pub base_unit_id: Option<String>,
}

/// Edit a unit: the fields sent. `conversionFactor` cannot change while any item of the shop
/// sells in the unit (409 `UNIT_IN_USE`), and stays 1 for a base unit.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateUnitRequest {
    #[serde(default, deserialize_with = "wire::non_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub uqc: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub conversion_factor: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnitDeletedResponse {
    pub success: bool,
    pub message: String,
}

/// A unit an item is sold in, as the app reads it (inside an item's `units`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemUnitWire {
    pub unit_id: String,
    #[schema(example = "BOX")]
    pub name: String,
    /// Base units in one of it.
    #[schema(example = 10)]
    pub factor: i64,
    /// The item's own price of one such unit (rupees); null: `factor` x the item's price.
    #[schema(value_type = Option<f64>, example = 45)]
    pub price: Option<crate::money::Paise>,
    /// What one such unit sells for: `price`, else `factor` x the item's price (rupees).
    #[schema(value_type = f64, example = 45)]
    pub effective_price: crate::money::Paise,
    /// The MRP of one such unit (rupees); null: `factor` x the item's MRP.
    #[schema(value_type = Option<f64>)]
    pub mrp: Option<crate::money::Paise>,
    /// The unit's own barcode (a carton's), unique per shop among all item codes.
    pub barcode: Option<String>,
}

/// A unit an item declares (create/edit an item: `units`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemUnitRequest {
    /// One of the shop's units counting in the item's `baseUnitId` (or the base unit itself).
    pub unit_id: String,
    /// Rupees for one such unit; absent or null: `factor` x the item's price.
    #[schema(value_type = Option<f64>, example = 45)]
    pub price: Option<crate::money::Paise>,
    /// Rupees; absent or null: `factor` x the item's MRP.
    #[schema(value_type = Option<f64>)]
    pub mrp: Option<crate::money::Paise>,
    /// The unit's own barcode (a GTIN with a valid check digit or a shop code of letters and
    /// digits), unique per shop among every item's SKU and barcodes.
    pub barcode: Option<String>,
}
