//! The input rules of items and item groups, defined ONCE and called by every path that
//! writes them: the online routes (B1-B7, `catalog::service`), v1 `/api/sync`
//! (`sync::v1::plan`) and v2 push (`sync::ops::parse_action`). A value one path refuses,
//! every path refuses (issue 12, section 3; proof: `tests/api/rules.rs`).
//!
//! Every function adds its complaints to `e` under `<prefix><field>` (the online routes pass
//! `""`, v1 passes `item.create[i].`), so each path keeps its own error paths.

use bson::{oid::ObjectId, DateTime};

use crate::{
    catalog::{
        command::ItemPatch,
        model::{ItemDoc, UNITS},
    },
    money::Paise,
    validate::Errors,
};

/// Item group names: 2 to 100 characters (trimmed).
pub const GROUP_NAME_LEN: (usize, usize) = (2, 100);
/// Item names: 2 to 200 characters (trimmed).
pub const ITEM_NAME_LEN: (usize, usize) = (2, 200);
/// Item and group descriptions: at most 500 characters.
pub const DESCRIPTION_MAX: usize = 500;
/// `lowStockQuantity` of an item created without one.
pub const DEFAULT_LOW_STOCK: i64 = 5;
/// `unit` of an item created without one.
pub const DEFAULT_UNIT: &str = "nos";

fn at(prefix: &str, field: &str) -> String {
    format!("{prefix}{field}")
}

/// A group name, trimmed: 2-100 characters.
pub fn group_name(e: &mut Errors, prefix: &str, v: &str) -> String {
    e.text(&at(prefix, "name"), v, GROUP_NAME_LEN.0, GROUP_NAME_LEN.1)
}

/// A group or item description, trimmed: at most 500 characters.
pub fn description(e: &mut Errors, prefix: &str, v: &str) -> String {
    e.text(&at(prefix, "description"), v, 0, DESCRIPTION_MAX)
}

/// An item name, trimmed: 2-200 characters.
pub fn item_name(e: &mut Errors, prefix: &str, v: &str) -> String {
    e.text(&at(prefix, "name"), v, ITEM_NAME_LEN.0, ITEM_NAME_LEN.1)
}

/// A catalog price: rupees, 0 to Rs 1 crore (`limits::price`).
pub fn price(e: &mut Errors, prefix: &str, p: Paise) {
    crate::limits::price(e, &at(prefix, "price"), p);
}

/// `stock` or `lowStockQuantity`: whole units, 0 to `limits::MAX_UNITS`.
pub fn count(e: &mut Errors, prefix: &str, field: &str, v: i64) {
    crate::limits::units(e, &at(prefix, field), v, 0);
}

/// One of [`UNITS`] (trimmed).
pub fn unit(e: &mut Errors, prefix: &str, v: &str) -> String {
    let u = v.trim().to_string();
    if !UNITS.contains(&u.as_str()) {
        e.add(&at(prefix, "unit"), format!("must be one of {}", UNITS.join(", ")));
    }
    u
}

/// `groupId` as sent: `None` = not sent; `Some(None)` or blank = no group; else a 24-hex id
/// (whether it is one of the shop's groups is checked against the database by the caller).
pub fn group_ref(e: &mut Errors, prefix: &str, v: Option<Option<&str>>) -> Option<Option<ObjectId>> {
    match v.map(|g| g.map(str::trim)) {
        None => None,
        Some(None) | Some(Some("")) => Some(None),
        Some(Some(g)) => Some(e.oid(&at(prefix, "groupId"), g)),
    }
}

/// `brandId` as sent, like [`group_ref`] (whether it is one of the shop's brands is checked
/// when applied: `catalog::brand::repo::touch_brands`).
pub fn brand_ref(e: &mut Errors, prefix: &str, v: Option<Option<&str>>) -> Option<Option<ObjectId>> {
    match v.map(|b| b.map(str::trim)) {
        None => None,
        Some(None) | Some(Some("")) => Some(None),
        Some(Some(b)) => Some(e.oid(&at(prefix, "brandId"), b)),
    }
}

/// The catalog fields of an item as one path received them (`None` = not sent).
#[derive(Debug, Default, Clone, Copy)]
pub struct ItemInput<'a> {
    pub name: Option<&'a str>,
    pub price: Option<Paise>,
    pub stock: Option<i64>,
    pub low_stock_quantity: Option<i64>,
    pub unit: Option<&'a str>,
    pub description: Option<&'a str>,
    /// `Some(None)` (JSON null) or `Some(Some(""))`: no group.
    pub group_id: Option<Option<&'a str>>,
    /// As `group_id`, for the brand (`brandId`).
    pub brand_id: Option<Option<&'a str>>,
}

/// A new item, checked by [`new_item`] (the group's existence is checked when applied).
#[derive(Debug, Clone)]
pub struct NewItem {
    pub name: String,
    pub price: Paise,
    pub stock: i64,
    pub low_stock_quantity: i64,
    pub unit: String,
    pub group_id: Option<ObjectId>,
    pub brand_id: Option<ObjectId>,
    pub description: String,
}

impl NewItem {
    /// The item document `id`, active, with this opening stock.
    pub fn doc(&self, id: ObjectId, client_id: ObjectId, stock: i64, now: DateTime) -> ItemDoc {
        ItemDoc {
            id,
            client_id,
            group_id: self.group_id,
            brand_id: self.brand_id,
            name: self.name.clone(),
            price: self.price,
            stock,
            low_stock_quantity: self.low_stock_quantity,
            unit: self.unit.clone(),
            description: self.description.clone(),
            dealer_ids: vec![],
            is_active: true,
            created_at: now,
            updated_at: now,
            version: 0,
        }
    }
}

/// Check a new item: `name` and `price` required; `stock` (default 0) and
/// `lowStockQuantity` (default 5) whole units >= 0; `unit` one of [`UNITS`] (default `nos`);
/// `description` at most 500 characters; `groupId` a 24-hex id or none.
pub fn new_item(e: &mut Errors, prefix: &str, i: &ItemInput<'_>) -> NewItem {
    let name = match i.name {
        Some(n) => item_name(e, prefix, n),
        None => {
            e.add(&at(prefix, "name"), "is required");
            String::new()
        }
    };
    let price_ = i.price.unwrap_or_default();
    match i.price {
        Some(p) => price(e, prefix, p),
        None => e.add(&at(prefix, "price"), "is required"),
    }
    let stock = i.stock.unwrap_or(0);
    count(e, prefix, "stock", stock);
    let low = i.low_stock_quantity.unwrap_or(DEFAULT_LOW_STOCK);
    count(e, prefix, "lowStockQuantity", low);
    NewItem {
        name,
        price: price_,
        stock,
        low_stock_quantity: low,
        unit: unit(e, prefix, i.unit.unwrap_or(DEFAULT_UNIT)),
        group_id: group_ref(e, prefix, i.group_id).flatten(),
        brand_id: brand_ref(e, prefix, i.brand_id).flatten(),
        description: i.description.map(|d| description(e, prefix, d)).unwrap_or_default(),
    }
}

/// An edit of an existing item, checked by [`item_edit`].
#[derive(Debug, Clone, Default)]
pub struct ItemEdit {
    /// The catalog fields sent (`name`, `price`, `lowStockQuantity`, `unit`, `description`,
    /// `groupId`); never `stock`.
    pub patch: ItemPatch,
    /// The absolute stock sent, checked (only the online route applies it; sync moves stock
    /// by deltas).
    pub stock: Option<i64>,
}

/// Check an edit: every field sent obeys the same rule as in [`new_item`].
pub fn item_edit(e: &mut Errors, prefix: &str, i: &ItemInput<'_>) -> ItemEdit {
    let mut out = ItemEdit::default();
    out.patch.name = i.name.map(|n| item_name(e, prefix, n));
    if let Some(p) = i.price {
        price(e, prefix, p);
        out.patch.price = Some(p);
    }
    if let Some(s) = i.stock {
        count(e, prefix, "stock", s);
        out.stock = Some(s);
    }
    if let Some(l) = i.low_stock_quantity {
        count(e, prefix, "lowStockQuantity", l);
        out.patch.low_stock_quantity = Some(l);
    }
    out.patch.unit = i.unit.map(|u| unit(e, prefix, u));
    out.patch.description = i.description.map(|d| description(e, prefix, d));
    out.patch.group_id = group_ref(e, prefix, i.group_id);
    out.patch.brand_id = brand_ref(e, prefix, i.brand_id);
    out
}

/// `dealerIds` (online only): 24-hex ids, no duplicates, at most 100 (whether they are the
/// shop's dealers is checked against the database by the caller).
pub fn dealer_ids(e: &mut Errors, ids: &[String]) -> Vec<ObjectId> {
    let mut out = Vec::with_capacity(ids.len());
    for (i, s) in ids.iter().enumerate() {
        if let Some(id) = e.oid(&format!("dealerIds.{i}"), s) {
            if out.contains(&id) {
                e.add(&format!("dealerIds.{i}"), "is a duplicate");
            } else {
                out.push(id);
            }
        }
    }
    if ids.len() > 100 {
        e.add("dealerIds", "must have at most 100 entries");
    }
    out
}
