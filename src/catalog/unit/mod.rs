//! Packing units (issue 16, seed 004): a shop's units `{name, uqc, conversionFactor,
//! baseUnitId}` (CRUD under `/api/business/units`), the units an item is sold in
//! ([`ItemUnit`], embedded in the item with a snapshot of the unit's name and factor), and the
//! pure rules every door shares: which units an item may declare
//! ([`resolve_item_units`]), a unit's price and MRP ([`ItemUnit::price_of`],
//! [`ItemUnit::mrp_of`]) and how stock reads in units ([`stock_display`]).
//!
//! Stock is always kept in integer base units; a unit is `conversionFactor` base units
//! (a base unit is 1 of itself; a unit's base is always a base unit: no chains). A factor in
//! use (any item of the shop sells in that unit) never changes (409), so the factor an item
//! and a sale line snapshot stays true; the sale line keeps its own snapshot anyway.
//! Unit writes are single-door (online) and logged in the change log (`units`), so the v2
//! pull carries them.

pub mod dto;
pub mod handlers;
pub mod repo;
pub mod service;

use bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{money::Paise, state::AppState};

/// The collection of units.
pub const UNITS: &str = "units";

/// The largest conversion factor (base units in one unit).
pub const MAX_FACTOR: i64 = 1_000_000;

/// Unit names: 1 to 30 characters (trimmed), unique per shop ignoring case and spacing.
pub const NAME_LEN: (usize, usize) = (1, 30);

/// The UQC `code` normalised (trimmed, upper case) when it is a GST unit quantity code: the
/// one list is `catalog::tax::UQC` (shared with the items' tax codes).
pub fn uqc(code: &str) -> Option<String> {
    crate::catalog::tax::uqc(code).map(str::to_string)
}

/// A shop's unit (collection `units`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub name: String,
    /// `catalog::brand::model::name_key` of `name`: unique per shop (index `uniq_client_nameKey`).
    pub name_key: String,
    /// A GST unit quantity code (`catalog::tax::UQC`).
    pub uqc: String,
    /// Base units in one of this unit (1 for a base unit).
    pub conversion_factor: i64,
    /// The base unit this one counts in; absent for a base unit (its base is itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_unit_id: Option<ObjectId>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
}

impl UnitDoc {
    /// The base unit it counts in (itself for a base unit).
    pub fn base(&self) -> ObjectId {
        self.base_unit_id.unwrap_or(self.id)
    }
}

/// A unit an item is sold in (embedded in the item's `units`): the unit's id with a snapshot
/// of its name and factor (kept true: a factor in use never changes, a rename rewrites it),
/// the item's own price and MRP of one such unit (rupees on the wire, paise stored; absent:
/// factor x the item's) and its own barcode (unique per shop among every item code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemUnit {
    pub unit_id: ObjectId,
    #[serde(default)]
    pub name: String,
    /// Base units in one of this unit (>= 1).
    #[serde(default = "one")]
    pub factor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::catalog::model::opt_paise")]
    pub price: Option<Paise>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::catalog::model::opt_paise")]
    pub mrp: Option<Paise>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
}

fn one() -> i64 {
    1
}

impl ItemUnit {
    /// The price of one such unit: its own, else `factor` x the item's (base unit) price;
    /// `None` when that overflows.
    pub fn price_of(&self, base_price: Paise) -> Option<Paise> {
        match self.price {
            Some(p) => Some(p),
            None => base_price.checked_mul(self.factor),
        }
    }

    /// The MRP of one such unit: its own, else `factor` x the item's MRP (none for loose
    /// goods without an MRP); `Err(())` when that overflows.
    #[allow(clippy::result_unit_err)]
    pub fn mrp_of(&self, item_mrp: Option<Paise>) -> Result<Option<Paise>, ()> {
        match (self.mrp, item_mrp) {
            (Some(m), _) => Ok(Some(m)),
            (None, Some(m)) => m.checked_mul(self.factor).map(Some).ok_or(()),
            (None, None) => Ok(None),
        }
    }
}

/// Resolve the units an item declares against the shop's units `known` (those among them
/// that exist): every unit named must be the shop's and count in the item's base unit
/// `base` (or be it), named once; units need a base unit, which must be a base unit of the
/// shop. Fills each entry's name and factor from the unit, keeps the declared order (so
/// `units[i]` of a message is the request's) and adds the base unit last (factor 1) when not
/// declared. `Err`: one `"<field>: <problem>"` per fault.
pub fn resolve_item_units(
    base: Option<ObjectId>,
    declared: &[ItemUnit],
    known: &[UnitDoc],
) -> Result<Vec<ItemUnit>, Vec<String>> {
    let find = |id: ObjectId| known.iter().find(|u| u.id == id);
    let mut errors = Vec::new();
    let Some(base) = base else {
        if !declared.is_empty() {
            errors.push("baseUnitId: is required with units".to_string());
            return Err(errors);
        }
        return Ok(vec![]);
    };
    let Some(b) = find(base).filter(|u| u.base_unit_id.is_none()) else {
        return Err(vec!["baseUnitId: is not a base unit of this shop".to_string()]);
    };
    let mut out: Vec<ItemUnit> = Vec::with_capacity(declared.len() + 1);
    for (i, d) in declared.iter().enumerate() {
        let Some(u) = find(d.unit_id) else {
            errors.push(format!("units[{i}].unitId: no such unit"));
            continue;
        };
        if u.base() != base {
            errors.push(format!("units[{i}].unitId: {} does not count in the item's base unit {}", u.name, b.name));
            continue;
        }
        if out.iter().any(|e| e.unit_id == u.id) {
            errors.push(format!("units[{i}].unitId: {} is named twice", u.name));
            continue;
        }
        let factor = if u.id == base { 1 } else { u.conversion_factor.max(1) };
        out.push(ItemUnit { name: u.name.clone(), factor, ..d.clone() });
    }
    // the base unit is always sold (added last, so the declared entries keep their indexes)
    if !out.iter().any(|e| e.unit_id == base) {
        out.push(ItemUnit { unit_id: b.id, name: b.name.clone(), factor: 1, price: None, mrp: None, barcode: None });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Stock in base units as the shop reads it, largest unit first: `227` with `BOX` = 10 and
/// base `PCS` is `"22 BOX 7 PCS"`. Units with nothing left over are omitted (`220` is
/// `"22 BOX"`); zero is `"0 <base>"`; negative stock reads with a leading `-` of the same
/// breakdown. Integer arithmetic only. `units` must hold a factor-1 entry (the base unit, as
/// [`resolve_item_units`] makes it); without one the remainder is shown in `units`' smallest.
pub fn stock_display(stock: i64, units: &[ItemUnit]) -> String {
    let mut sorted: Vec<&ItemUnit> = units.iter().filter(|u| u.factor >= 1).collect();
    sorted.sort_by_key(|u| std::cmp::Reverse(u.factor));
    sorted.dedup_by(|a, b| a.factor == b.factor);
    let Some(smallest) = sorted.last() else { return stock.to_string() };
    let mut left = stock.unsigned_abs();
    let mut parts = Vec::new();
    for (i, u) in sorted.iter().enumerate() {
        let f = u.factor.unsigned_abs();
        let n = if i + 1 == sorted.len() { left } else { left / f };
        if i + 1 < sorted.len() {
            left %= f;
        }
        if n > 0 {
            parts.push(format!("{n} {}", u.name));
        }
    }
    if parts.is_empty() {
        return format!("0 {}", smallest.name);
    }
    let s = parts.join(" ");
    if stock < 0 {
        format!("-{s}")
    } else {
        s
    }
}

/// Routes of units (all behind the auth layer).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handlers::create_unit, handlers::list_units)).routes(routes!(
        handlers::get_unit,
        handlers::update_unit,
        handlers::delete_unit
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn unit(name: &str, factor: i64, base: Option<ObjectId>) -> UnitDoc {
        UnitDoc {
            id: ObjectId::new(),
            client_id: ObjectId::new(),
            name: name.into(),
            name_key: name.to_lowercase(),
            uqc: "PCS".into(),
            conversion_factor: factor,
            base_unit_id: base,
            created_at: DateTime::from_millis(0),
            updated_at: DateTime::from_millis(0),
            version: 0,
        }
    }

    fn decl(u: &UnitDoc, price: Option<i64>) -> ItemUnit {
        ItemUnit {
            unit_id: u.id,
            name: String::new(),
            factor: 0,
            price: price.map(Paise::new),
            mrp: None,
            barcode: None,
        }
    }

    #[test]
    fn the_pen_reads_22_box_7_pcs() {
        let pcs = unit("PCS", 1, None);
        let bx = unit("BOX", 10, Some(pcs.id));
        let units = resolve_item_units(Some(pcs.id), &[decl(&bx, Some(4500))], &[pcs.clone(), bx.clone()]).unwrap();
        assert_eq!(units.iter().map(|u| (u.name.as_str(), u.factor)).collect::<Vec<_>>(), [("BOX", 10), ("PCS", 1)]);
        assert_eq!(stock_display(227, &units), "22 BOX 7 PCS");
        assert_eq!(stock_display(220, &units), "22 BOX");
        assert_eq!(stock_display(7, &units), "7 PCS");
        assert_eq!(stock_display(0, &units), "0 PCS");
        assert_eq!(stock_display(-13, &units), "-1 BOX 3 PCS");
        // a box costs its own price, a piece factor x the base price
        assert_eq!(units[0].price_of(Paise::new(500)), Some(Paise::new(4500)));
        assert_eq!(units[1].price_of(Paise::new(500)), Some(Paise::new(500)));
    }

    #[test]
    fn an_item_declares_only_units_of_its_base() {
        let pcs = unit("PCS", 1, None);
        let kg = unit("KGS", 1, None);
        let bx = unit("BOX", 10, Some(pcs.id));
        let all = [pcs.clone(), kg.clone(), bx.clone()];
        let r = resolve_item_units(None, &[decl(&bx, None)], &all);
        assert_eq!(r, Err(vec!["baseUnitId: is required with units".to_string()]));
        let r = resolve_item_units(Some(bx.id), &[], &all);
        assert_eq!(r, Err(vec!["baseUnitId: is not a base unit of this shop".to_string()]));
        let r = resolve_item_units(Some(kg.id), &[decl(&bx, None)], &all).unwrap_err();
        assert!(r[0].starts_with("units[0].unitId: BOX does not count"), "{r:?}");
        let r = resolve_item_units(Some(pcs.id), &[decl(&bx, None), decl(&bx, None)], &all).unwrap_err();
        assert!(r[0].contains("named twice"), "{r:?}");
        // a unit not among the shop's (a foreign id) is unknown, like a missing one
        let foreign = unit("CTN", 100, Some(pcs.id));
        let r = resolve_item_units(Some(pcs.id), &[decl(&foreign, None)], &all).unwrap_err();
        assert_eq!(r, vec!["units[0].unitId: no such unit".to_string()]);
    }

    proptest! {
        /// Any stock and any units: the display reads back to exactly the stock (integer
        /// breakdown, largest unit first, nothing lost or invented).
        #[test]
        fn the_stock_display_reads_back_to_the_stock(
            factors in proptest::collection::vec(2i64..=MAX_FACTOR, 0..4),
            stock in -10_000_000_000i64..10_000_000_000,
        ) {
            let base = unit("PCS", 1, None);
            let mut units = vec![ItemUnit { unit_id: base.id, name: "PCS".into(), factor: 1, price: None, mrp: None, barcode: None }];
            for (i, f) in factors.iter().enumerate() {
                units.push(ItemUnit { unit_id: ObjectId::new(), name: format!("U{i}"), factor: *f, price: None, mrp: None, barcode: None });
            }
            // the display reads back to the stock
            let shown = stock_display(stock, &units);
            let mut back: i128 = 0;
            let digits = shown.trim_start_matches('-');
            let parts: Vec<&str> = digits.split(' ').collect();
            for pair in parts.chunks(2) {
                let n: i128 = pair[0].parse().unwrap();
                let f = units.iter().filter(|u| u.name == pair[1]).map(|u| u.factor).max().unwrap();
                back += n * i128::from(f);
            }
            if shown.starts_with('-') { back = -back; }
            prop_assert_eq!(back, i128::from(stock));
        }
    }
}
