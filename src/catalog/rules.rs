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
        model::{BarcodeType, ItemDetails, ItemDoc, UNITS},
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
    /// Codes, attributes and MRP (issue 16); `None`: none of them sent.
    pub details: Option<&'a DetailsIn>,
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
    /// Codes, attributes and MRP (`codes` filled by the decider).
    pub details: ItemDetails,
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
            details: self.details.clone(),
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
        details: {
            let mut d = ItemDetails::default();
            let mut patch = details(e, prefix, i.details.unwrap_or(&DetailsIn::default()));
            // a new item's tax code depends on nothing stored: settled here
            if let Some(Some(t)) = &patch.tax {
                match t.apply(None, crate::catalog::tax::GST_START) {
                    Ok(code) => patch.tax_set = Some(Some(code)),
                    Err(m) => e.add(&at(prefix, "tax"), m),
                }
            }
            patch.apply_to(&mut d);
            d
        },
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
    out.patch.details = i.details.map(|d| details(e, prefix, d)).unwrap_or_default();
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

// ---------------------------------------------------------------- codes, attributes, MRP

/// Colour, size and line type: at most 50 characters (blank clears).
pub const ATTRIBUTE_MAX: usize = 50;
/// `extra`: at most 20 entries, keys 1-30 characters, values at most 100.
pub const EXTRA_MAX: (usize, usize, usize) = (20, 30, 100);
/// `imageUrl`: an http(s) URL of at most 500 characters.
pub const IMAGE_URL_MAX: usize = 500;

/// The code, attribute and MRP fields of an item as one path received them (issue 16):
/// `None` = not sent, `Some(None)` = JSON null (cleared on an edit). Every door builds one of
/// these from its own wire type and [`details`] checks it.
#[derive(Debug, Default, Clone)]
pub struct DetailsIn {
    pub sku: Option<Option<String>>,
    pub barcode: Option<Option<String>>,
    /// `gtin` or `shop`; only with `barcode`.
    pub barcode_type: Option<Option<String>>,
    pub color: Option<Option<String>>,
    pub size: Option<Option<String>>,
    pub line_type: Option<Option<String>>,
    pub extra: Option<Option<std::collections::BTreeMap<String, String>>>,
    /// Rupees on the wire, paise here.
    pub mrp: Option<Option<Paise>>,
    pub has_expiry: Option<bool>,
    pub image_url: Option<Option<String>>,
    /// The `tax` object (`Some(None)`: null, the item's own tax code removed).
    pub tax: Option<Option<crate::catalog::tax::TaxIn>>,
    /// `variantOf`: a product id (`Some(None)` or blank: standalone).
    pub variant_of: Option<Option<String>>,
}

/// The checked fields of [`DetailsIn`] (`None` = not sent; `Some(None)` = cleared).
/// `codes` is not sent by anyone: the decider fills it (the new keys) when `sku` or `barcode`
/// change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetailsPatch {
    pub sku: Option<Option<String>>,
    pub barcode: Option<Option<(String, BarcodeType)>>,
    pub color: Option<Option<String>>,
    pub size: Option<Option<String>>,
    pub line_type: Option<Option<String>>,
    pub extra: Option<std::collections::BTreeMap<String, String>>,
    pub mrp: Option<Option<Paise>>,
    pub has_expiry: Option<bool>,
    pub image_url: Option<Option<String>>,
    pub codes: Option<Vec<String>>,
    /// The checked `tax` object (`Some(None)`: removed); resolved against the item's current
    /// code by the decider into `tax_set`.
    pub tax: Option<Option<crate::catalog::tax::TaxEdit>>,
    /// The tax code to store (`Some(None)`: none), filled by the decider, written by the repo.
    pub tax_set: Option<Option<crate::catalog::tax::TaxCode>>,
    /// The product named (`Some(None)`: standalone again).
    pub variant_of: Option<Option<ObjectId>>,
}

impl DetailsPatch {
    /// Whether the SKU or the barcode is sent (the item's code keys change).
    pub fn touches_codes(&self) -> bool {
        self.sku.is_some() || self.barcode.is_some()
    }

    /// The product an edit names (to check it is one of the shop's).
    pub fn product(&self) -> Option<ObjectId> {
        self.variant_of.flatten()
    }

    /// The keys of the SKU and barcode it sets (to find the items already holding them).
    pub fn sent_keys(&self) -> Vec<String> {
        let sku = self.sku.iter().flatten().map(|c| crate::barcode::key(c));
        let barcode = self.barcode.iter().flatten().map(|b| crate::barcode::key(&b.0));
        sku.chain(barcode).collect()
    }

    /// Write the fields sent into `d` (in memory); `codes` is recomputed by the caller.
    pub fn apply_to(&self, d: &mut ItemDetails) {
        if let Some(v) = &self.sku {
            d.sku.clone_from(v);
        }
        if let Some(v) = &self.barcode {
            d.barcode = v.as_ref().map(|b| b.0.clone());
            d.barcode_type = v.as_ref().map(|b| b.1);
        }
        if let Some(v) = &self.color {
            d.color.clone_from(v);
        }
        if let Some(v) = &self.size {
            d.size.clone_from(v);
        }
        if let Some(v) = &self.line_type {
            d.line_type.clone_from(v);
        }
        if let Some(v) = &self.extra {
            d.extra.clone_from(v);
        }
        if let Some(v) = self.mrp {
            d.mrp = v;
        }
        if let Some(v) = self.has_expiry {
            d.has_expiry = v;
        }
        if let Some(v) = &self.image_url {
            d.image_url.clone_from(v);
        }
        if let Some(v) = &self.codes {
            d.codes.clone_from(v);
        }
        if let Some(v) = &self.tax_set {
            d.tax.clone_from(v);
        }
        if let Some(v) = self.variant_of {
            d.variant_of = v;
        }
    }

    /// The stored names of the fields sent whose value differs from `d`'s.
    pub fn differing(&self, d: &ItemDetails) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut after = d.clone();
        self.apply_to(&mut after);
        let tax_changes = match &self.tax {
            None => false,
            Some(None) => d.tax.is_some(),
            // what a rate change sent without a date would do to the period in force last
            Some(Some(t)) => {
                let last = d
                    .tax
                    .as_ref()
                    .and_then(|c| c.rates.last())
                    .map_or(crate::catalog::tax::GST_START, |p| p.from.as_str());
                t.apply(d.tax.as_ref(), last).ok().as_ref() != d.tax.as_ref()
            }
        };
        let pairs: [(bool, bool, &'static str); 11] = [
            (self.sku.is_some(), after.sku == d.sku, "sku"),
            (self.barcode.is_some(), after.barcode == d.barcode && after.barcode_type == d.barcode_type, "barcode"),
            (self.color.is_some(), after.color == d.color, "color"),
            (self.size.is_some(), after.size == d.size, "size"),
            (self.line_type.is_some(), after.line_type == d.line_type, "lineType"),
            (self.extra.is_some(), after.extra == d.extra, "extra"),
            (self.mrp.is_some(), after.mrp == d.mrp, "mrp"),
            (self.has_expiry.is_some(), after.has_expiry == d.has_expiry, "hasExpiry"),
            (self.image_url.is_some(), after.image_url == d.image_url, "imageUrl"),
            (tax_changes, false, "tax"),
            (self.variant_of.is_some(), after.variant_of == d.variant_of, "variantOf"),
        ];
        for (sent, same, f) in pairs {
            if sent && !same {
                out.push(f);
            }
        }
        out
    }

    /// Fold a later edit into this one (a field sent later wins).
    pub fn merge(&mut self, later: &DetailsPatch) {
        fn take<T: Clone>(into: &mut Option<T>, later: &Option<T>) {
            if later.is_some() {
                into.clone_from(later);
            }
        }
        take(&mut self.sku, &later.sku);
        take(&mut self.barcode, &later.barcode);
        take(&mut self.color, &later.color);
        take(&mut self.size, &later.size);
        take(&mut self.line_type, &later.line_type);
        take(&mut self.extra, &later.extra);
        take(&mut self.mrp, &later.mrp);
        take(&mut self.has_expiry, &later.has_expiry);
        take(&mut self.image_url, &later.image_url);
        take(&mut self.codes, &later.codes);
        take(&mut self.tax, &later.tax);
        take(&mut self.tax_set, &later.tax_set);
        take(&mut self.variant_of, &later.variant_of);
    }
}

fn attribute(e: &mut Errors, field: &str, v: &Option<Option<String>>) -> Option<Option<String>> {
    v.as_ref().map(|v| {
        let t = e.text(field, v.as_deref().unwrap_or(""), 0, ATTRIBUTE_MAX);
        (!t.is_empty()).then_some(t)
    })
}

/// Check the code, attribute and MRP fields (issue 16), the same on every door:
/// - `sku`: 1-40 letters, digits and `- _ . /` (leading zeros kept; null or blank clears);
/// - `barcode`: with `barcodeType` `gtin` the GS1 check digit of an EAN-13, UPC-A, EAN-8 or
///   GTIN-14 must hold; `shop` is 1-40 letters and digits with no check; without a type, a
///   code with a valid GTIN check digit is a `gtin`, any other a `shop` code. `barcodeType`
///   is only accepted with `barcode`;
/// - `color`, `size`, `lineType`: at most 50 characters; `extra`: at most 20 entries, keys
///   1-30 characters, values at most 100; `imageUrl`: an http(s) URL of at most 500;
/// - `mrp`: rupees, above 0 and at most Rs 1 crore (null clears). That the price does not
///   exceed it is checked by the decider (it knows the item's current price and MRP).
///
/// Uniqueness (one code never names two items) is the decider's and MongoDB's.
pub fn details(e: &mut Errors, prefix: &str, d: &DetailsIn) -> DetailsPatch {
    let sku = d.sku.as_ref().map(|v| match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(c) => match crate::barcode::check_code(c, false) {
            Ok(()) => Some(c.to_string()),
            Err(m) => {
                e.add(&at(prefix, "sku"), m);
                None
            }
        },
    });
    let mut out = DetailsPatch { sku, ..Default::default() };
    let kind = match d.barcode_type.as_ref().map(|t| t.as_deref().map(str::trim)) {
        None | Some(None) | Some(Some("")) => None,
        Some(Some("gtin")) => Some(BarcodeType::Gtin),
        Some(Some("shop")) => Some(BarcodeType::Shop),
        Some(Some(_)) => {
            e.add(&at(prefix, "barcodeType"), "must be gtin or shop");
            None
        }
    };
    if d.barcode_type.is_some() && d.barcode.is_none() {
        e.add(&at(prefix, "barcodeType"), "is only accepted with barcode");
    }
    out.barcode = d.barcode.as_ref().map(|b| {
        let c = b.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        let kind = kind.unwrap_or(if crate::barcode::is_valid_gtin(c) { BarcodeType::Gtin } else { BarcodeType::Shop });
        let ok = match kind {
            BarcodeType::Gtin if !crate::barcode::is_valid_gtin(c) => Err(
                "is not a valid GTIN (EAN-13, UPC-A, EAN-8 or GTIN-14 with its check digit); send barcodeType shop for a shop-made code"
                    .to_string(),
            ),
            BarcodeType::Gtin => Ok(()),
            BarcodeType::Shop => crate::barcode::check_code(c, true),
        };
        match ok {
            Ok(()) => Some((c.to_string(), kind)),
            Err(m) => {
                e.add(&at(prefix, "barcode"), m);
                None
            }
        }
    });
    out.color = attribute(e, &at(prefix, "color"), &d.color);
    out.size = attribute(e, &at(prefix, "size"), &d.size);
    out.line_type = attribute(e, &at(prefix, "lineType"), &d.line_type);
    out.extra = d.extra.as_ref().map(|m| {
        let m = m.clone().unwrap_or_default();
        if m.len() > EXTRA_MAX.0 {
            e.add(&at(prefix, "extra"), format!("must have at most {} entries", EXTRA_MAX.0));
        }
        let mut clean = std::collections::BTreeMap::new();
        for (k, v) in &m {
            let key = e.text(&at(prefix, &format!("extra.{k}")), k, 1, EXTRA_MAX.1);
            let val = e.text(&at(prefix, &format!("extra.{k}")), v, 0, EXTRA_MAX.2);
            clean.insert(key, val);
        }
        clean
    });
    if let Some(Some(p)) = d.mrp {
        if !p.is_positive() {
            e.add(&at(prefix, "mrp"), "must be above 0 (send null for loose goods without an MRP)");
        }
        crate::limits::price(e, &at(prefix, "mrp"), p);
    }
    out.mrp = d.mrp;
    out.has_expiry = d.has_expiry;
    out.variant_of = d.variant_of.as_ref().map(|v| match v.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) => e.oid(&at(prefix, "variantOf"), id),
    });
    out.tax = d.tax.as_ref().map(|t| t.as_ref().map(|t| crate::catalog::tax::check(e, prefix, t)));
    out.image_url = d.image_url.as_ref().map(|u| {
        let u = u.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        if u.chars().count() > IMAGE_URL_MAX
            || !(u.starts_with("https://") || u.starts_with("http://"))
            || u.chars().any(char::is_whitespace)
        {
            e.add(&at(prefix, "imageUrl"), format!("must be an http(s) URL of at most {IMAGE_URL_MAX} characters"));
        }
        Some(u.to_string())
    });
    out
}
