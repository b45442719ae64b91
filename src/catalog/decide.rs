//! The rules of item writes, as pure functions (no I/O, no clock, no randomness): from a
//! [command](crate::catalog::command) and the documents it names, as loaded by
//! [`crate::catalog::repo`] (or held in memory by a v2 push), to an [`ItemPlan`] or a typed
//! [`Refusal`]. Online (`catalog::service`), v1 (`sync::apply`) and v2 (`sync::bulk`) call
//! these same functions, so the three doors cannot drift.

use bson::oid::ObjectId;

use crate::{
    access::By,
    catalog::{
        command::{CreateItem, DeleteItem, ItemPatch, StockChange, UpdateItem},
        model::ItemDoc,
        stock::Reason,
    },
    changelog,
    error::{code, AppError},
};

/// What the loader found of the references a command names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refs {
    /// The group named is one of the shop's (true when none is named).
    pub group_found: bool,
    /// The brand named is one of the shop's (true when none is named).
    pub brand_found: bool,
    /// The product named (`variantOf`) is one of the shop's (true when none is named).
    pub product_found: bool,
    /// How many of the dealers named are the shop's.
    pub dealers_found: usize,
    /// Code keys ([`crate::barcode::key`]) the command's SKU/barcode would take that another
    /// item of the shop already holds (as its SKU or its barcode): `(key, holder)`.
    pub codes_held: Vec<(String, ObjectId)>,
    /// The shop's packing units among those the item names (base and declared, issue 16);
    /// a unit named but absent here is not the shop's.
    pub units: Vec<crate::catalog::unit::UnitDoc>,
}

impl Refs {
    /// Every reference resolved (or none named).
    pub const OK: Refs = Refs {
        group_found: true,
        brand_found: true,
        product_found: true,
        dealers_found: 0,
        codes_held: Vec::new(),
        units: Vec::new(),
    };
}

/// A stale edit of an item (not applied): the shared [`crate::changelog::Conflict`].
pub type Conflict = crate::changelog::Conflict<ItemDoc>;

/// Why an item write is refused (nothing is written).
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The item is not the shop's (or does not exist).
    NotFound,
    /// `groupId` is not one of the shop's groups and/or a `dealerIds` entry is not one of its
    /// dealers.
    UnknownRefs { group: bool, dealers: bool, brand: bool, product: bool },
    /// The stock change would take the count beyond +-`limits::MAX_UNITS` (the field named).
    StockOutOfRange(&'static str),
    /// See [`Conflict`].
    Conflict(Box<Conflict>),
    /// The SKU or barcode (as sent) already names another item of the shop (one code never
    /// names two items, whichever field holds it).
    DuplicateCode(String),
    /// The `tax` edit leaves a rate period inconsistent (the reason; issue 16).
    BadTax(String),
    /// The selling price would exceed the item's MRP (Legal Metrology).
    PriceAboveMrp { price: crate::money::Paise, mrp: crate::money::Paise },
    /// The packing units declared are not the shop's, do not count in the item's base unit,
    /// or are priced above their MRP (issue 16): one `"<field>: <problem>"` each.
    Units(Vec<String>),
}

impl Refusal {
    /// The online answer (B5, B7, B8): 404 `Item not found`; 400 naming `groupId` /
    /// `dealerIds`; 400 `stock`; 409 `CONFLICT`.
    pub fn online(self) -> AppError {
        match self {
            Refusal::NotFound => AppError::not_found("Item not found"),
            other => other.common(),
        }
    }

    /// The answer of a sync entry, which names the item in its payload: 400 `id: is not an
    /// item of this shop` (v1 prefixes the entry, v2 renders it as the reason); the rest as
    /// online.
    pub fn synced(self) -> AppError {
        match self {
            Refusal::NotFound => AppError::validation("id", "is not an item of this shop"),
            other => other.common(),
        }
    }

    fn common(self) -> AppError {
        match self {
            Refusal::NotFound => AppError::not_found("Item not found"),
            Refusal::UnknownRefs { group, dealers, brand, product } => {
                let mut v = Vec::new();
                if product {
                    v.push("variantOf: no such product".to_string());
                }
                if brand {
                    v.push("brandId: no such brand".to_string());
                }
                if group {
                    v.push("groupId: no such item group".to_string());
                }
                if dealers {
                    v.push("dealerIds: every entry must be one of your dealers".to_string());
                }
                AppError::Validation(v)
            }
            Refusal::StockOutOfRange(field) => crate::limits::stock_out_of_range(field),
            Refusal::Conflict(c) => AppError::conflict(code::CONFLICT, c.reason()),
            Refusal::DuplicateCode(c) => duplicate_code(&c),
            Refusal::BadTax(m) => AppError::validation("tax", m),
            Refusal::PriceAboveMrp { price, mrp } => {
                AppError::validation("price", format!("{price} must not exceed the MRP {mrp}"))
            }
            Refusal::Units(v) => AppError::Validation(v),
        }
    }
}

/// A stock move a plan makes (recorded in `stockmovements` with its reason and note).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockMove {
    pub item_id: ObjectId,
    /// Signed units.
    pub delta: i64,
    /// `opening` for a new item's stock; an edit's adjustment kind (`stockReason`, default
    /// `other`).
    pub reason: Reason,
    /// The edit's `stockNote`.
    pub note: Option<String>,
}

/// The effects of one item command (data: a test asserts on it without a database).
#[derive(Debug, Clone, PartialEq)]
pub enum ItemPlan {
    /// Insert `item` (its `stock` is the opening stock) and record the opening stock as an
    /// `opening` movement, moved `by` the command's user.
    Insert { item: ItemDoc, opening: Option<StockMove>, by: Option<By> },
    /// `$set` the fields of `patch`, bump `__v`, move stock (recorded as moved `by` the
    /// command's user); guarded by the version decided on (`version`). `after` is the item
    /// once applied.
    Update { version: i32, patch: Box<ItemPatch>, stock: Option<StockMove>, after: ItemDoc, by: Option<By> },
    /// Set `isActive: false` and bump `__v`, guarded by `version`; logged as a delete.
    Deactivate { version: i32, after: ItemDoc },
}

impl ItemPlan {
    /// The item once the plan is applied.
    pub fn after(&self) -> &ItemDoc {
        match self {
            ItemPlan::Insert { item, .. } => item,
            ItemPlan::Update { after, .. } | ItemPlan::Deactivate { after, .. } => after,
        }
    }

    /// Who its stock movement is recorded as moved by (`None`: not attributed, or no move).
    pub fn by(&self) -> Option<&By> {
        match self {
            ItemPlan::Insert { by, .. } | ItemPlan::Update { by, .. } => by.as_ref(),
            ItemPlan::Deactivate { .. } => None,
        }
    }

    /// The change-log row it appends: `(collection, id, deleted)`.
    pub fn change(&self) -> (&'static str, ObjectId, bool) {
        (changelog::ITEMS, self.after().id, matches!(self, ItemPlan::Deactivate { .. }))
    }
}

/// 409 `DUPLICATE`: the code already names another item (also what a write answers when the
/// unique index `uniq_client_code` refuses it in a race).
pub fn duplicate_code(code: &str) -> AppError {
    AppError::conflict(code::DUPLICATE, format!("The code {code} already names another item of this shop"))
}

/// The item's codes and MRP after a write: `codes` recomputed from the SKU and barcode (and
/// put into `patch`, when one is given and the codes were sent, so the write stores them);
/// refused when a key is held by another item or the price exceeds the MRP.
fn settle_details(after: &mut ItemDoc, mut patch: Option<&mut ItemPatch>, refs: &Refs) -> Result<(), Refusal> {
    // packing units (issue 16): resolved against the shop's units when declared or changed
    let touched = patch.as_ref().is_none_or(|p| p.details.touches_units());
    if touched {
        let units =
            crate::catalog::unit::resolve_item_units(after.details.base_unit_id, &after.details.units, &refs.units)
                .map_err(Refusal::Units)?;
        after.details.units = units;
        if let Some(p) = patch.as_deref_mut() {
            p.details.units = Some(after.details.units.clone());
        }
    }
    check_units(after)?;
    after.details.codes = after.details.code_keys();
    for k in &after.details.codes {
        if refs.codes_held.iter().any(|(held, holder)| held == k && *holder != after.id) {
            let shown = [&after.details.sku, &after.details.barcode]
                .into_iter()
                .flatten()
                .find(|c| crate::barcode::key(c) == *k)
                .cloned()
                .unwrap_or_else(|| k.clone());
            return Err(Refusal::DuplicateCode(shown));
        }
    }
    if let Some(mrp) = after.details.mrp {
        if after.price > mrp {
            return Err(Refusal::PriceAboveMrp { price: after.price, mrp });
        }
    }
    if let Some(p) = patch {
        if p.details.touches_codes() {
            p.details.codes = Some(after.details.codes.clone());
        }
    }
    Ok(())
}

/// The units of an item, whoever changed: a unit's barcode is not another code of the same
/// item, and a unit's price (its own, else factor x the price) does not exceed its MRP (its
/// own, else factor x the MRP), with checked arithmetic.
fn check_units(item: &ItemDoc) -> Result<(), Refusal> {
    let mut errors = Vec::new();
    let mut seen: Vec<String> =
        [&item.details.sku, &item.details.barcode].into_iter().flatten().map(|c| crate::barcode::key(c)).collect();
    for (i, u) in item.details.units.iter().enumerate() {
        if let Some(b) = &u.barcode {
            let k = crate::barcode::key(b);
            if seen.contains(&k) {
                errors.push(format!("units[{i}].barcode: {b} is already a code of this item"));
            }
            seen.push(k);
        }
        let price = u.price_of(item.price);
        let mrp = u.mrp_of(item.details.mrp);
        match (price, mrp) {
            (None, _) | (_, Err(())) => errors.push(format!("units[{i}]: the price or MRP of {} is too large", u.name)),
            (Some(p), Ok(Some(m))) if p > m => {
                errors.push(format!("units[{i}].price: {p} of one {} must not exceed its MRP {m}", u.name))
            }
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Units(errors))
    }
}

fn check_refs(
    group: Option<ObjectId>,
    brand: Option<ObjectId>,
    product: Option<ObjectId>,
    dealers: &[ObjectId],
    refs: &Refs,
) -> Result<(), Refusal> {
    let group = group.is_some() && !refs.group_found;
    let brand = brand.is_some() && !refs.brand_found;
    let product = product.is_some() && !refs.product_found;
    let dealers = !dealers.is_empty() && refs.dealers_found != dealers.len();
    if group || dealers || brand || product {
        return Err(Refusal::UnknownRefs { group, dealers, brand, product });
    }
    Ok(())
}

/// A new item: its group and dealers must be the shop's; its SKU and barcode name no other
/// item; its price does not exceed its MRP; opening stock is an `opening` movement.
pub fn create_item(cmd: &CreateItem, refs: &Refs) -> Result<ItemPlan, Refusal> {
    check_refs(cmd.item.group_id, cmd.item.brand_id, cmd.item.details.variant_of, &cmd.dealer_ids, refs)?;
    let mut item = cmd.item.doc(cmd.id, cmd.client_id, cmd.item.stock, cmd.now);
    item.dealer_ids = cmd.dealer_ids.clone();
    settle_details(&mut item, None, refs)?;
    let opening = (cmd.item.stock != 0).then_some(StockMove {
        item_id: cmd.id,
        delta: cmd.item.stock,
        reason: Reason::Opening,
        note: None,
    });
    Ok(ItemPlan::Insert { item, opening, by: cmd.by.clone() })
}

/// An edit: the item must be the shop's (deactivated ones too), its group and dealers the
/// shop's; an edit based on an older version whose fields changed since is a [`Conflict`];
/// its SKU and barcode name no other item and the price stays within the MRP (issue 16);
/// stock stays within +-`limits::MAX_UNITS`. Every edit bumps `__v`.
pub fn update_item(cmd: &UpdateItem, current: Option<&ItemDoc>, refs: &Refs) -> Result<ItemPlan, Refusal> {
    let current = current.ok_or(Refusal::NotFound)?;
    check_refs(
        cmd.patch.group(),
        cmd.patch.brand(),
        cmd.patch.details.product(),
        cmd.patch.dealer_ids.as_deref().unwrap_or_default(),
        refs,
    )?;
    let fields = changelog::stale(current.version, cmd.base, || cmd.patch.differing(current));
    if !fields.is_empty() {
        return Err(Refusal::Conflict(Box::new(Conflict {
            id: current.id,
            version: current.version,
            base: cmd.base.unwrap_or_default(),
            fields,
            current: current.clone(),
        })));
    }
    let (delta, field) = match cmd.stock {
        StockChange::Keep => (0, "stock"),
        StockChange::Delta(d) => (d, "stockDelta"),
        StockChange::To(n) => (n.checked_sub(current.stock).ok_or(Refusal::StockOutOfRange("stock"))?, "stock"),
    };
    let stock = crate::limits::stock_after(current.stock, delta).ok_or(Refusal::StockOutOfRange(field))?;
    // the stock counts in the base unit: another base unit would silently mean other goods
    if let (Some(Some(new)), Some(old)) = (cmd.patch.details.base_unit_id, current.details.base_unit_id) {
        if new != old && current.stock != 0 {
            return Err(Refusal::Units(vec![format!(
                "baseUnitId: cannot change while the item has stock ({} in its base unit); bring the stock to 0 first",
                current.stock
            )]));
        }
    }
    let mut after = current.clone();
    let mut patch = cmd.patch.clone();
    if let Some(edit) = &patch.details.tax {
        let today = crate::time::ist_date_string(cmd.now);
        let code = match edit {
            None => None,
            Some(t) => Some(t.apply(current.details.tax.as_ref(), &today).map_err(Refusal::BadTax)?),
        };
        patch.details.tax_set = Some(code);
    }
    patch.apply_to(&mut after);
    settle_details(&mut after, Some(&mut patch), refs)?;
    after.stock = stock;
    after.version = current.version.saturating_add(1);
    after.updated_at = cmd.now;
    let stock = (delta != 0).then(|| StockMove {
        item_id: current.id,
        delta,
        reason: cmd.adjust.reason,
        note: cmd.adjust.note.clone(),
    });
    Ok(ItemPlan::Update { version: current.version, patch: Box::new(patch), stock, after, by: cmd.by.clone() })
}

/// A delete deactivates (idempotent: an inactive item is deactivated again); the item must be
/// the shop's.
pub fn delete_item(cmd: &DeleteItem, current: Option<&ItemDoc>) -> Result<ItemPlan, Refusal> {
    let current = current.ok_or(Refusal::NotFound)?;
    let mut after = current.clone();
    after.is_active = false;
    after.version = current.version.saturating_add(1);
    after.updated_at = cmd.now;
    Ok(ItemPlan::Deactivate { version: current.version, after })
}

/// The edits of one push folded per existing item, written as one update
/// (`repo::write_folded`): the fields sent (a later edit wins), whether it was deactivated,
/// the stock delta and the number of edits (`__v` increment).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Folded {
    pub patch: ItemPatch,
    pub deactivated: bool,
    pub stock_delta: i64,
    pub edits: i32,
}

impl Folded {
    /// Fold one more plan of the same item (after its own decision).
    pub fn fold(&mut self, plan: &ItemPlan) {
        match plan {
            ItemPlan::Insert { .. } => {}
            ItemPlan::Update { patch, stock, .. } => {
                self.patch.merge(patch);
                self.stock_delta = self.stock_delta.saturating_add(stock.as_ref().map_or(0, |m| m.delta));
                self.edits += 1;
            }
            ItemPlan::Deactivate { .. } => {
                self.deactivated = true;
                self.edits += 1;
            }
        }
    }

    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.edits == 0 && self.stock_delta == 0
    }
}

#[cfg(test)]
mod tests {
    use bson::DateTime;

    use super::*;
    use crate::{catalog::rules::NewItem, money::Paise};

    fn item(version: i32) -> ItemDoc {
        let mut i = new_item(5).doc(ObjectId::new(), ObjectId::new(), 5, DateTime::from_millis(0));
        i.version = version;
        i.name = "Bulb".into();
        i.price = Paise::new(5500);
        i
    }

    fn new_item(stock: i64) -> NewItem {
        NewItem {
            name: "Bulb".into(),
            price: Paise::new(5000),
            stock,
            low_stock_quantity: 5,
            unit: "nos".into(),
            group_id: None,
            brand_id: None,
            description: String::new(),
            details: Default::default(),
        }
    }

    fn edit(id: ObjectId, patch: ItemPatch, stock: StockChange, base: Option<i32>) -> UpdateItem {
        UpdateItem {
            client_id: ObjectId::new(),
            id,
            patch,
            stock,
            base,
            now: DateTime::from_millis(1000),
            by: None,
            adjust: Default::default(),
        }
    }

    fn price(p: i64) -> ItemPatch {
        ItemPatch { price: Some(Paise::new(p)), ..Default::default() }
    }

    #[test]
    fn the_base_unit_of_an_item_with_stock_does_not_change() {
        let mut cur = item(0);
        cur.details.base_unit_id = Some(ObjectId::new());
        let mut patch = ItemPatch::default();
        patch.details.base_unit_id = Some(Some(ObjectId::new()));
        let r = update_item(&edit(cur.id, patch.clone(), StockChange::Keep, None), Some(&cur), &Refs::OK);
        assert!(matches!(&r, Err(Refusal::Units(v)) if v[0].starts_with("baseUnitId: cannot change")), "{r:?}");
        // with no stock it may (then resolved against the shop's units: here none, so refused as unknown)
        cur.stock = 0;
        let r = update_item(&edit(cur.id, patch, StockChange::Keep, None), Some(&cur), &Refs::OK);
        assert!(matches!(&r, Err(Refusal::Units(v)) if v[0].contains("is not a base unit")), "{r:?}");
    }

    #[test]
    fn a_stale_base_with_a_changed_field_conflicts_and_answers_the_current_item() {
        let cur = item(1);
        let r = update_item(&edit(cur.id, price(6000), StockChange::Keep, Some(0)), Some(&cur), &Refs::OK);
        let Err(Refusal::Conflict(c)) = r.clone() else { panic!("expected a conflict: {r:?}") };
        assert_eq!(c.fields, vec!["price"]);
        assert_eq!((c.version, c.base), (1, 0));
        assert_eq!(c.current, cur);
        assert!(c.reason().contains("price changed since baseVersion 0 (now version 1)"), "{}", c.reason());
    }

    #[test]
    fn a_stale_base_with_an_unchanged_field_does_not_conflict() {
        let cur = item(3);
        // the price already holds the value sent; the name was changed since: only it conflicts
        let same = update_item(&edit(cur.id, price(5500), StockChange::Keep, Some(0)), Some(&cur), &Refs::OK);
        assert!(matches!(same, Ok(ItemPlan::Update { .. })), "{same:?}");
        let both = ItemPatch { name: Some("LED".into()), ..price(5500) };
        let r = update_item(&edit(cur.id, both, StockChange::Keep, Some(0)), Some(&cur), &Refs::OK);
        assert!(matches!(&r, Err(Refusal::Conflict(c)) if c.fields == vec!["name"]), "{r:?}");
        // based on the current version, or on none: applied as sent
        for base in [Some(3), None] {
            let r = update_item(&edit(cur.id, price(6000), StockChange::Keep, base), Some(&cur), &Refs::OK);
            assert!(matches!(r, Ok(ItemPlan::Update { .. })), "{base:?}: {r:?}");
        }
    }

    #[test]
    fn an_item_created_with_opening_stock_records_an_adjustment_movement() {
        let id = ObjectId::new();
        let cmd = CreateItem {
            client_id: ObjectId::new(),
            id,
            item: new_item(12),
            dealer_ids: vec![],
            now: DateTime::from_millis(7),
            by: Some(By { user_id: ObjectId::new(), name: "Kiran".into() }),
        };
        let Ok(ItemPlan::Insert { item, opening, by }) = create_item(&cmd, &Refs::OK) else { panic!() };
        assert_eq!(by, cmd.by, "the opening stock is moved by the command's user");
        assert_eq!((item.id, item.stock, item.version, item.is_active), (id, 12, 0, true));
        assert_eq!(item.created_at, DateTime::from_millis(7), "the command's time, not the clock's");
        assert_eq!(opening, Some(StockMove { item_id: id, delta: 12, reason: Reason::Opening, note: None }));
        let none = CreateItem { item: new_item(0), ..cmd };
        assert!(matches!(create_item(&none, &Refs::OK), Ok(ItemPlan::Insert { opening: None, .. })));
    }

    #[test]
    fn an_absolute_stock_becomes_an_adjustment_of_the_difference() {
        let cur = item(0);
        let who = By { user_id: ObjectId::new(), name: "Kiran".into() };
        let cmd = UpdateItem { by: Some(who.clone()), ..edit(cur.id, ItemPatch::default(), StockChange::To(2), None) };
        let Ok(plan @ ItemPlan::Update { .. }) = update_item(&cmd, Some(&cur), &Refs::OK) else { panic!() };
        assert_eq!(plan.by(), Some(&who), "the adjustment is moved by the command's user");
        let ItemPlan::Update { stock, after, version, .. } = plan else { panic!() };
        assert_eq!(stock, Some(StockMove { item_id: cur.id, delta: -3, reason: Reason::Other, note: None }));
        assert_eq!((after.stock, after.version, version), (2, 1, 0));
        let r =
            update_item(&edit(cur.id, ItemPatch::default(), StockChange::Delta(i64::MAX), None), Some(&cur), &Refs::OK);
        assert_eq!(r, Err(Refusal::StockOutOfRange("stockDelta")));
    }

    #[test]
    fn foreign_references_and_missing_items_are_refused() {
        let cur = item(0);
        let g = ObjectId::new();
        let patch =
            ItemPatch { group_id: Some(Some(g)), dealer_ids: Some(vec![ObjectId::new()]), ..Default::default() };
        let refs = Refs { group_found: false, ..Refs::OK };
        let r = update_item(&edit(cur.id, patch.clone(), StockChange::Keep, None), Some(&cur), &refs);
        assert_eq!(r, Err(Refusal::UnknownRefs { group: true, dealers: true, brand: false, product: false }));
        let ok = Refs { dealers_found: 1, ..Refs::OK };
        assert!(update_item(&edit(cur.id, patch, StockChange::Keep, None), Some(&cur), &ok).is_ok());
        assert_eq!(update_item(&edit(cur.id, price(1), StockChange::Keep, None), None, &ok), Err(Refusal::NotFound));
        let del = DeleteItem { client_id: cur.client_id, id: cur.id, now: DateTime::from_millis(1) };
        assert_eq!(delete_item(&del, None), Err(Refusal::NotFound));
        let Ok(plan) = delete_item(&del, Some(&cur)) else { panic!() };
        assert_eq!(plan.change(), (changelog::ITEMS, cur.id, true), "a delete is logged as a delete");
        assert!(!plan.after().is_active);
    }

    #[test]
    fn a_code_held_by_another_item_or_a_price_above_the_mrp_is_refused() {
        let cur = item(0);
        let other = ObjectId::new();
        let held = |k: &str, by: ObjectId| Refs { codes_held: vec![(k.to_string(), by)], ..Refs::OK };
        let sku = |c: &str| ItemPatch {
            details: crate::catalog::rules::DetailsPatch { sku: Some(Some(c.into())), ..Default::default() },
            ..Default::default()
        };
        // the UPC-A form of a code another item holds as its EAN-13: refused, named as sent
        let r = update_item(
            &edit(cur.id, sku("036000291452"), StockChange::Keep, None),
            Some(&cur),
            &held("0036000291452", other),
        );
        assert_eq!(r, Err(Refusal::DuplicateCode("036000291452".into())));
        // held by the item itself: fine, and the plan stores the key
        let Ok(ItemPlan::Update { patch, after, .. }) = update_item(
            &edit(cur.id, sku("036000291452"), StockChange::Keep, None),
            Some(&cur),
            &held("0036000291452", cur.id),
        ) else {
            panic!()
        };
        assert_eq!(patch.details.codes, Some(vec!["0036000291452".to_string()]));
        assert_eq!(after.details.codes, vec!["0036000291452".to_string()]);
        // MRP: a price edit above it, or an MRP below the price, is refused
        let mut with_mrp = cur.clone();
        with_mrp.details.mrp = Some(Paise::new(6000));
        let r = update_item(&edit(cur.id, price(6001), StockChange::Keep, None), Some(&with_mrp), &Refs::OK);
        assert_eq!(r, Err(Refusal::PriceAboveMrp { price: Paise::new(6001), mrp: Paise::new(6000) }));
        let lower = ItemPatch {
            details: crate::catalog::rules::DetailsPatch { mrp: Some(Some(Paise::new(5000))), ..Default::default() },
            ..Default::default()
        };
        let r = update_item(&edit(cur.id, lower, StockChange::Keep, None), Some(&cur), &Refs::OK);
        assert!(matches!(r, Err(Refusal::PriceAboveMrp { .. })), "price 55.00 above a new MRP of 50.00: {r:?}");
        assert!(update_item(&edit(cur.id, price(6000), StockChange::Keep, None), Some(&with_mrp), &Refs::OK).is_ok());
    }

    #[test]
    fn folded_edits_keep_the_latest_field_and_count_every_edit() {
        let cur = item(0);
        let mut f = Folded::default();
        let a = update_item(&edit(cur.id, price(6000), StockChange::Delta(2), None), Some(&cur), &Refs::OK).unwrap();
        let b =
            update_item(&edit(cur.id, price(7000), StockChange::Delta(-1), None), Some(a.after()), &Refs::OK).unwrap();
        f.fold(&a);
        f.fold(&b);
        assert_eq!((f.patch.price, f.stock_delta, f.edits), (Some(Paise::new(7000)), 1, 2));
        assert_eq!(b.after().version, 2);
    }
}
