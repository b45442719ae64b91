//! Wire types of item groups and items (v1 keys: `itemGroup`, `itemGroups`, `item`, `items`).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    catalog::{
        model::{BarcodeType, ItemDoc, ItemGroupDoc},
        rules::DetailsIn,
    },
    money::Paise,
    wire,
};

/// An item group as the app reads it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemGroupWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub description: String,
    /// The main category of a sub category; absent for a main category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// The default tax code of the category's items that have none of their own (issue 16).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax: Option<crate::catalog::tax::TaxWire>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
}

impl From<ItemGroupDoc> for ItemGroupWire {
    fn from(g: ItemGroupDoc) -> Self {
        ItemGroupWire {
            id: g.id.to_hex(),
            client_id: g.client_id.to_hex(),
            name: g.name,
            description: g.description,
            parent_id: g.parent_id.map(|p| p.to_hex()),
            tax: g.tax.as_ref().map(|t| {
                let today = crate::time::ist_date_string(bson::DateTime::now());
                crate::catalog::tax::TaxWire::new(t, crate::catalog::tax::TaxSource::Category, &today)
            }),
            created_at: wire::iso(g.created_at),
            updated_at: wire::iso(g.updated_at),
            v: g.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemGroupResponse {
    pub success: bool,
    pub item_group: ItemGroupWire,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemGroupsResponse {
    pub success: bool,
    pub item_groups: Vec<ItemGroupWire>,
}

/// B4 answer: the group is gone and its items are ungrouped (`groupId: null`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupDeletedResponse {
    pub success: bool,
    pub message: String,
    /// How many items lost their group.
    pub ungrouped_items: u64,
}

/// B8 answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemDeletedResponse {
    pub success: bool,
    pub message: String,
}

/// B1. Only these fields are accepted (`_id`, `createdAt`, ... are a 400).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateGroupRequest {
    /// Optional; when sent it must be the token's client (403 otherwise).
    pub client_id: Option<String>,
    /// 2-100 characters, unique per shop ignoring case.
    #[schema(example = "Engine Parts")]
    pub name: String,
    pub description: Option<String>,
    /// Makes this a sub category of that main category of the shop (two levels: the parent
    /// must have no parent itself; 400 naming `parentId` otherwise).
    pub parent_id: Option<String>,
    /// The default tax code of the category's items that have none of their own (issue 16),
    /// as on an item.
    pub tax: Option<crate::catalog::tax::TaxIn>,
}

/// B3. An empty body only bumps `updatedAt`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateGroupRequest {
    pub client_id: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub description: Option<String>,
    /// A main category of the shop (this group becomes its sub category; a group that has
    /// sub categories cannot), or `null` (this group becomes a main category).
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub parent_id: Option<Option<String>>,
    /// The default tax code of the category's items (issue 16); null removes it.
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<crate::catalog::tax::TaxIn>, nullable)]
    pub tax: Option<Option<crate::catalog::tax::TaxIn>>,
}

/// An item as the app reads it: the document plus `productId` (= `_id`). Money in rupees.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemWire {
    #[serde(rename = "_id")]
    pub id: String,
    /// Same as `_id` (v1 key used by the billing screens).
    pub product_id: String,
    pub client_id: String,
    pub group_id: Option<String>,
    /// The item's brand (`/api/business/brands`); absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand_id: Option<String>,
    pub name: String,
    /// Rupees, at most two decimals.
    #[schema(value_type = f64, example = 2500)]
    pub price: Paise,
    pub dealer_ids: Vec<String>,
    pub stock: i64,
    pub low_stock_quantity: i64,
    #[schema(example = "nos")]
    pub unit: String,
    pub description: String,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
    /// Issue 16 (each absent when the item has none, so an item without them reads as before).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub barcode_type: Option<BarcodeType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<std::collections::BTreeMap<String, String>>,
    /// Maximum retail price, rupees.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, example = 7)]
    pub mrp: Option<Paise>,
    /// Only when true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_expiry: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// Packing units (issue 16; absent on an item without them): the base unit `stock`
    /// counts in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_unit_id: Option<String>,
    /// The units the item sells in, as declared (the base unit added last when not declared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units: Option<Vec<crate::catalog::unit::dto::ItemUnitWire>>,
    /// The stock in units, largest first (`"22 BOX 7 PCS"`); only on an item with units.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "22 BOX 7 PCS")]
    pub stock_display: Option<String>,
    /// GST codes (issue 16): the item's own, else its product's, else its category's default
    /// (`source`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax: Option<crate::catalog::tax::TaxWire>,
    /// The product this item is a variant of (issue 16); absent for a standalone item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_of: Option<String>,
    /// `hasExpiry` items only, on the list (B6) and the lookup (issue 16): the item's lots
    /// with units left, by expiry date (see `GET /business/items/{itemId}/batches`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batches: Option<Vec<crate::catalog::batch::BatchWire>>,
}

impl From<ItemDoc> for ItemWire {
    fn from(i: ItemDoc) -> Self {
        ItemWire {
            id: i.id.to_hex(),
            product_id: i.id.to_hex(),
            client_id: i.client_id.to_hex(),
            group_id: i.group_id.map(|g| g.to_hex()),
            brand_id: i.brand_id.map(|b| b.to_hex()),
            name: i.name,
            price: i.price,
            dealer_ids: i.dealer_ids.iter().map(|d| d.to_hex()).collect(),
            stock: i.stock,
            low_stock_quantity: i.low_stock_quantity,
            unit: i.unit,
            description: i.description,
            is_active: i.is_active,
            created_at: wire::iso(i.created_at),
            updated_at: wire::iso(i.updated_at),
            v: i.version,
            sku: i.details.sku,
            barcode: i.details.barcode,
            barcode_type: i.details.barcode_type,
            color: i.details.color,
            size: i.details.size,
            line_type: i.details.line_type,
            extra: (!i.details.extra.is_empty()).then_some(i.details.extra),
            mrp: i.details.mrp,
            has_expiry: i.details.has_expiry.then_some(true),
            image_url: i.details.image_url,
            base_unit_id: i.details.base_unit_id.map(|b| b.to_hex()),
            stock_display: (!i.details.units.is_empty())
                .then(|| crate::catalog::unit::stock_display(i.stock, &i.details.units)),
            units: (!i.details.units.is_empty()).then(|| {
                i.details
                    .units
                    .iter()
                    .map(|u| crate::catalog::unit::dto::ItemUnitWire {
                        unit_id: u.unit_id.to_hex(),
                        name: u.name.clone(),
                        factor: u.factor,
                        price: u.price,
                        effective_price: u.price_of(i.price).unwrap_or(Paise::ZERO),
                        mrp: u.mrp,
                        barcode: u.barcode.clone(),
                    })
                    .collect()
            }),
            tax: i.details.tax.as_ref().map(|t| {
                let today = crate::time::ist_date_string(bson::DateTime::now());
                crate::catalog::tax::TaxWire::new(t, crate::catalog::tax::TaxSource::Item, &today)
            }),
            variant_of: i.details.variant_of.map(|v| v.to_hex()),
            batches: None,
        }
    }
}

/// Where items without their own tax code take one from (loaded by
/// `catalog::service::tax_defaults` for a page of items): the products they are variants of
/// (id, code, category) and the shop's categories (id, default code, main category).
#[derive(Debug, Default)]
pub struct TaxDefaults {
    pub products: Vec<(bson::oid::ObjectId, Option<crate::catalog::tax::TaxCode>, Option<bson::oid::ObjectId>)>,
    pub groups: Vec<(bson::oid::ObjectId, Option<crate::catalog::tax::TaxCode>, Option<bson::oid::ObjectId>)>,
}

impl TaxDefaults {
    fn group(
        &self,
        id: bson::oid::ObjectId,
    ) -> Option<(&Option<crate::catalog::tax::TaxCode>, Option<bson::oid::ObjectId>)> {
        self.groups.iter().find(|g| g.0 == id).map(|g| (&g.1, g.2))
    }

    /// A category's default: its own, else its main category's (`catalog::tax::effective`).
    pub fn for_group(&self, group: Option<bson::oid::ObjectId>) -> Option<&crate::catalog::tax::TaxCode> {
        let (own, parent) = self.group(group?)?;
        let main = parent.and_then(|p| self.group(p)).and_then(|(t, _)| t.as_ref());
        crate::catalog::tax::effective(None, own.as_ref(), main).map(|(t, _)| t)
    }

    /// The code an item takes when it has none of its own: its product's (a variant), else its
    /// category's (the item's own category, else its product's).
    pub fn for_item(&self, item: &ItemDoc) -> Option<(&crate::catalog::tax::TaxCode, crate::catalog::tax::TaxSource)> {
        use crate::catalog::tax::TaxSource;
        let product = item.details.variant_of.and_then(|v| self.products.iter().find(|p| p.0 == v));
        if let Some(t) = product.and_then(|p| p.1.as_ref()) {
            return Some((t, TaxSource::Product));
        }
        let group = item.group_id.or(product.and_then(|p| p.2));
        self.for_group(group).map(|t| (t, TaxSource::Category))
    }
}

impl ItemWire {
    /// The item as answered; without a tax code of its own, with its product's or category's
    /// (`tax.source` says which).
    pub fn with_defaults(item: ItemDoc, defaults: &TaxDefaults) -> ItemWire {
        let inherited =
            if item.details.tax.is_none() { defaults.for_item(&item).map(|(t, src)| (t.clone(), src)) } else { None };
        let mut w = ItemWire::from(item);
        if let Some((t, src)) = inherited {
            let today = crate::time::ist_date_string(bson::DateTime::now());
            w.tax = Some(crate::catalog::tax::TaxWire::new(&t, src, &today));
        }
        w
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemResponse {
    pub success: bool,
    pub item: ItemWire,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemsResponse {
    pub success: bool,
    pub items: Vec<ItemWire>,
    /// Only when `limit` was sent: the `cursor` of the next page, `null` on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub next_cursor: Option<Option<String>>,
}

/// B5. Only these fields are accepted (`_id`, `isActive`, `createdAt`, ... are a 400).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateItemRequest {
    /// Optional; when sent it must be the token's client (403 otherwise).
    pub client_id: Option<String>,
    #[schema(example = "Carburetor")]
    pub name: String,
    /// Rupees as a JSON number, at most two decimals, 0 allowed.
    #[schema(value_type = f64, example = 2500)]
    pub price: Paise,
    /// Whole units, >= 0 (default 0).
    pub stock: Option<i64>,
    /// Whole units, >= 0 (default 5).
    pub low_stock_quantity: Option<i64>,
    /// `nos` (default), `kg`, `litre`, `meter` or `pcs`.
    pub unit: Option<String>,
    /// An item group of this shop, or null.
    pub group_id: Option<String>,
    /// Dealers of this shop (no duplicates).
    pub dealer_ids: Option<Vec<String>>,
    pub description: Option<String>,
    /// A brand of this shop, or null.
    pub brand_id: Option<String>,
    /// Stock-keeping unit: 1-40 letters, digits and `- _ . /`, unique per shop (leading zeros kept; null clears). Issue 16.
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub sku: Option<Option<String>>,
    /// The barcode as printed (leading zeros kept), unique per shop; a 12-digit UPC-A and its 13-digit EAN form are one code. Null clears.
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub barcode: Option<Option<String>>,
    /// `gtin` (the GS1 check digit is enforced) or `shop` (letters and digits, no check); default: `gtin` when the check digit holds, else `shop`. Only with `barcode`.
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub barcode_type: Option<Option<String>>,
    /// At most 50 characters (null or blank clears).
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub color: Option<Option<String>>,
    /// At most 50 characters (null or blank clears).
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub size: Option<Option<String>>,
    /// Ruling or type (e.g. `single line`), at most 50 characters.
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub line_type: Option<Option<String>>,
    /// Free-form attributes: at most 20, keys 1-30 characters, values at most 100.
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<Object>, nullable)]
    pub extra: Option<Option<std::collections::BTreeMap<String, String>>>,
    /// Maximum retail price in rupees (> 0); `price` may not exceed it, nor may any sale line. Null: no MRP (loose goods).
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<f64>, nullable)]
    pub mrp: Option<Option<Paise>>,
    /// The item's stock expires (batches come with issue 16's batch work).
    #[serde(default, deserialize_with = "wire::non_null")]
    pub has_expiry: Option<bool>,
    /// An http(s) URL, at most 500 characters.
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub image_url: Option<Option<String>>,
    /// Packing units (issue 16): the base unit `stock` counts in, one of the shop's base units
    /// (`/api/business/units`); required with `units`. Null clears (only without units).
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub base_unit_id: Option<Option<String>>,
    /// Packing units: the units the item sells in (each counting in `baseUnitId`), with the
    /// item's own price, MRP and barcode of one such unit; the base unit is added (last)
    /// when not listed. Null or `[]` clears.
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<Vec<crate::catalog::unit::dto::ItemUnitRequest>>, nullable)]
    pub units: Option<Option<Vec<crate::catalog::unit::dto::ItemUnitRequest>>>,
    /// GST codes (issue 16): `{hsnCode, uqc, taxability, gstRate, cessRate, effectiveFrom}` or `{rates: [...]}`; null removes the item's own code.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<crate::catalog::tax::TaxIn>, nullable)]
    pub tax: Option<Option<crate::catalog::tax::TaxIn>>,
    /// The product this item is a variant of (a product of this shop; null or blank: standalone). Issue 16.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub variant_of: Option<Option<String>>,
}

impl CreateItemRequest {
    /// The code, attribute and MRP fields sent (issue 16), for `catalog::rules::details`.
    pub fn details_in(&self) -> DetailsIn {
        DetailsIn {
            sku: self.sku.clone(),
            barcode: self.barcode.clone(),
            barcode_type: self.barcode_type.clone(),
            color: self.color.clone(),
            size: self.size.clone(),
            line_type: self.line_type.clone(),
            extra: self.extra.clone(),
            mrp: self.mrp,
            has_expiry: self.has_expiry,
            image_url: self.image_url.clone(),
            base_unit_id: self.base_unit_id.clone(),
            units: self.units.clone(),
            tax: self.tax.clone(),
            variant_of: self.variant_of.clone(),
        }
    }
}

/// B7: only the catalog fields. `groupId: null` ungroups, `dealerIds: []` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateItemRequest {
    pub client_id: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    #[schema(value_type = Option<f64>)]
    pub price: Option<Paise>,
    /// Absolute stock; the difference is recorded as an adjustment in `stockmovements`.
    #[serde(default, deserialize_with = "wire::non_null")]
    pub stock: Option<i64>,
    /// Why `stock` changed (issue 16, GST rule 56(2)): `damaged`, `lost`, `stolen`, `expired`,
    /// `freeSample`, `countCorrection` or `other` (the default). Recorded on the movement.
    #[serde(default, deserialize_with = "wire::non_null")]
    pub stock_reason: Option<String>,
    /// A note on the stock change (up to 200 characters, one line), recorded on the movement.
    #[serde(default, deserialize_with = "wire::non_null")]
    pub stock_note: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub low_stock_quantity: Option<i64>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub unit: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub group_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub dealer_ids: Option<Vec<String>>,
    /// A brand of this shop; `null` clears it.
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub brand_id: Option<Option<String>>,
    /// Stock-keeping unit: 1-40 letters, digits and `- _ . /`, unique per shop (leading zeros kept; null clears). Issue 16.
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub sku: Option<Option<String>>,
    /// The barcode as printed (leading zeros kept), unique per shop; a 12-digit UPC-A and its 13-digit EAN form are one code. Null clears.
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub barcode: Option<Option<String>>,
    /// `gtin` (the GS1 check digit is enforced) or `shop` (letters and digits, no check); default: `gtin` when the check digit holds, else `shop`. Only with `barcode`.
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub barcode_type: Option<Option<String>>,
    /// At most 50 characters (null or blank clears).
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub color: Option<Option<String>>,
    /// At most 50 characters (null or blank clears).
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub size: Option<Option<String>>,
    /// Ruling or type (e.g. `single line`), at most 50 characters.
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub line_type: Option<Option<String>>,
    /// Free-form attributes: at most 20, keys 1-30 characters, values at most 100.
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<Object>, nullable)]
    pub extra: Option<Option<std::collections::BTreeMap<String, String>>>,
    /// Maximum retail price in rupees (> 0); `price` may not exceed it, nor may any sale line. Null: no MRP (loose goods).
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<f64>, nullable)]
    pub mrp: Option<Option<Paise>>,
    /// The item's stock expires (batches come with issue 16's batch work).
    #[serde(default, deserialize_with = "wire::non_null")]
    pub has_expiry: Option<bool>,
    /// An http(s) URL, at most 500 characters.
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub image_url: Option<Option<String>>,
    /// Packing units (issue 16): the base unit `stock` counts in, one of the shop's base units
    /// (`/api/business/units`); required with `units`. Null clears (only without units).
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub base_unit_id: Option<Option<String>>,
    /// Packing units: the units the item sells in (each counting in `baseUnitId`), with the
    /// item's own price, MRP and barcode of one such unit; the base unit is added (last)
    /// when not listed. Null or `[]` clears.
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<Vec<crate::catalog::unit::dto::ItemUnitRequest>>, nullable)]
    pub units: Option<Option<Vec<crate::catalog::unit::dto::ItemUnitRequest>>>,
    /// GST codes (issue 16): `{hsnCode, uqc, taxability, gstRate, cessRate, effectiveFrom}` or `{rates: [...]}`; null removes the item's own code.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<crate::catalog::tax::TaxIn>, nullable)]
    pub tax: Option<Option<crate::catalog::tax::TaxIn>>,
    /// The product this item is a variant of (a product of this shop; null or blank: standalone). Issue 16.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub variant_of: Option<Option<String>>,
}

impl UpdateItemRequest {
    /// The code, attribute and MRP fields sent (issue 16), for `catalog::rules::details`.
    pub fn details_in(&self) -> DetailsIn {
        DetailsIn {
            sku: self.sku.clone(),
            barcode: self.barcode.clone(),
            barcode_type: self.barcode_type.clone(),
            color: self.color.clone(),
            size: self.size.clone(),
            line_type: self.line_type.clone(),
            extra: self.extra.clone(),
            mrp: self.mrp,
            has_expiry: self.has_expiry,
            image_url: self.image_url.clone(),
            base_unit_id: self.base_unit_id.clone(),
            units: self.units.clone(),
            tax: self.tax.clone(),
            variant_of: self.variant_of.clone(),
        }
    }
}

/// B6 query. Without `limit` the whole (filtered) list is returned, as in v1.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListItemsQuery {
    /// Only the items of this group.
    pub group_id: Option<String>,
    /// Only the items of this brand.
    pub brand_id: Option<String>,
    /// Only the items of the brands of this company.
    pub company_id: Option<String>,
    /// `true` (default), `false` (deleted items only) or `all`.
    pub is_active: Option<String>,
    /// Case-insensitive name search (substring).
    pub q: Option<String>,
    /// Alias of `q`.
    pub search: Option<String>,
    /// Page size, 1-200 (larger values are capped at 200).
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// `GET /api/business/items/lookup` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// A scanned or typed SKU or barcode (1-40 characters, leading zeros count), or a
    /// weighed-goods label of the shop's `clientSettings.catalog.scaleLabel` layout.
    pub code: Option<String>,
}

/// What a weighed-goods label says.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LabelWire {
    /// The item code printed in the label (the item's SKU or barcode).
    #[schema(example = "0002")]
    pub item_code: String,
    /// The amount printed on the label, rupees.
    #[schema(value_type = f64, example = 19.4)]
    pub amount: Paise,
}

/// The item a code names; `label` only when the code was a weighed-goods label.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LookupResponse {
    pub success: bool,
    pub item: ItemWire,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<LabelWire>,
    /// Only when the code was the barcode of one of the item's packing units (issue 16).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<LookupUnitWire>,
}

/// The packing unit a scanned barcode names: bill `unitId` on the sale line.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LookupUnitWire {
    pub unit_id: String,
    #[schema(example = "BOX")]
    pub name: String,
    /// Base units in one of it.
    #[schema(example = 10)]
    pub factor: i64,
    /// The price of one such unit, rupees (its own, else factor x the item's price).
    #[schema(value_type = f64, example = 45)]
    pub price: Paise,
}
