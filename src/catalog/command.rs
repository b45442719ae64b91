//! Typed commands on items: what an online request (B5, B7, B8), a v1 `/api/sync` entry
//! (`item.create/update/delete`, a sale's auto-created product) or a v2 operation
//! (`item.create/update/delete`) asks for, after its input was checked by
//! [`crate::catalog::rules`]. Ids and the time are inputs, so [`crate::catalog::decide`] stays
//! pure. The flow: handler or sync parser -> command -> `decide` -> `repo::apply`.

use bson::{oid::ObjectId, DateTime};

use crate::{
    access::By,
    catalog::{
        dto::{CreateItemRequest, UpdateItemRequest},
        model::ItemDoc,
        rules::{self, ItemInput, NewItem},
        stock::{adjust_input, Adjust},
    },
    error::AppResult,
    money::Paise,
    validate::Errors,
};

/// The catalog fields an edit sends (`None` = not sent), each already checked by
/// [`rules::item_edit`]. Never `stock` (see [`StockChange`]) nor `isActive` (see
/// [`DeleteItem`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemPatch {
    pub name: Option<String>,
    /// Unit price in paise.
    pub price: Option<Paise>,
    /// Whole units.
    pub low_stock_quantity: Option<i64>,
    pub unit: Option<String>,
    pub description: Option<String>,
    /// `Some(None)`: no group any more.
    pub group_id: Option<Option<ObjectId>>,
    /// `Some(None)`: no brand any more.
    pub brand_id: Option<Option<ObjectId>>,
    /// The item's dealers (online only); `Some(vec![])` clears them.
    pub dealer_ids: Option<Vec<ObjectId>>,
    /// Codes, attributes and MRP sent (issue 16).
    pub details: rules::DetailsPatch,
}

impl ItemPatch {
    /// Nothing sent.
    pub fn is_empty(&self) -> bool {
        *self == ItemPatch::default()
    }

    /// The stored names of the fields sent whose value differs from `item`'s (the fields an
    /// edit based on an older version would overwrite).
    pub fn differing(&self, item: &ItemDoc) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut check = |sent: bool, same: bool, field: &'static str| {
            if sent && !same {
                out.push(field);
            }
        };
        check(self.name.is_some(), self.name.as_deref() == Some(item.name.as_str()), "name");
        check(self.price.is_some(), self.price == Some(item.price), "price");
        check(
            self.low_stock_quantity.is_some(),
            self.low_stock_quantity == Some(item.low_stock_quantity),
            "lowStockQuantity",
        );
        check(self.unit.is_some(), self.unit.as_deref() == Some(item.unit.as_str()), "unit");
        check(
            self.description.is_some(),
            self.description.as_deref() == Some(item.description.as_str()),
            "description",
        );
        check(self.group_id.is_some(), self.group_id == Some(item.group_id), "groupId");
        check(self.brand_id.is_some(), self.brand_id == Some(item.brand_id), "brandId");
        check(self.dealer_ids.is_some(), self.dealer_ids.as_ref() == Some(&item.dealer_ids), "dealerIds");
        out.extend(self.details.differing(&item.details));
        out
    }

    /// Write the fields sent into `item` (in memory).
    pub fn apply_to(&self, item: &mut ItemDoc) {
        if let Some(v) = &self.name {
            item.name = v.clone();
        }
        if let Some(v) = self.price {
            item.price = v;
        }
        if let Some(v) = self.low_stock_quantity {
            item.low_stock_quantity = v;
        }
        if let Some(v) = &self.unit {
            item.unit = v.clone();
        }
        if let Some(v) = &self.description {
            item.description = v.clone();
        }
        if let Some(v) = self.group_id {
            item.group_id = v;
        }
        if let Some(v) = self.brand_id {
            item.brand_id = v;
        }
        if let Some(v) = &self.dealer_ids {
            item.dealer_ids = v.clone();
        }
        self.details.apply_to(&mut item.details);
    }

    /// Fold a later edit into this one (a field sent later wins), as one combined write.
    pub fn merge(&mut self, later: &ItemPatch) {
        fn take<T: Clone>(into: &mut Option<T>, later: &Option<T>) {
            if later.is_some() {
                into.clone_from(later);
            }
        }
        take(&mut self.name, &later.name);
        take(&mut self.price, &later.price);
        take(&mut self.low_stock_quantity, &later.low_stock_quantity);
        take(&mut self.unit, &later.unit);
        take(&mut self.description, &later.description);
        take(&mut self.group_id, &later.group_id);
        take(&mut self.brand_id, &later.brand_id);
        take(&mut self.dealer_ids, &later.dealer_ids);
        self.details.merge(&later.details);
    }

    /// The group the edit names (to check it is one of the shop's).
    pub fn group(&self) -> Option<ObjectId> {
        self.group_id.flatten()
    }

    /// The brand the edit names (to check it is one of the shop's).
    pub fn brand(&self) -> Option<ObjectId> {
        self.brand_id.flatten()
    }
}

/// How an edit moves stock: sync moves it by a signed delta (v2 `stockDelta`), the online
/// route sets an absolute count (the difference is recorded as an adjustment).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StockChange {
    #[default]
    Keep,
    /// Add this many units (may be negative).
    Delta(i64),
    /// Set the count to this (online B7 `stock`).
    To(i64),
}

/// Create an item (B5; v1 `item.create[]`; v2 `item.create`; a v1 sale line without a
/// `productId`). Opening stock is recorded as an adjustment.
#[derive(Debug, Clone)]
pub struct CreateItem {
    pub client_id: ObjectId,
    /// The new item's id.
    pub id: ObjectId,
    pub item: NewItem,
    /// Its dealers (online only; sync sends none).
    pub dealer_ids: Vec<ObjectId>,
    pub now: DateTime,
    /// Who creates it: the `by` of its opening-stock movement (issue 15). `None`: not
    /// attributed.
    pub by: Option<By>,
}

/// Edit an item (B7; v1 `item.update[]`; v2 `item.update`).
#[derive(Debug, Clone)]
pub struct UpdateItem {
    pub client_id: ObjectId,
    pub id: ObjectId,
    pub patch: ItemPatch,
    pub stock: StockChange,
    /// The item's `__v` the device last saw (`baseVersion`; `None`: applied as sent).
    pub base: Option<i32>,
    pub now: DateTime,
    /// Who edits it: the `by` of the stock adjustment it makes (issue 15). `None`: not
    /// attributed.
    pub by: Option<By>,
    /// The reason and note its stock move is recorded with (issue 16; default `other`).
    pub adjust: Adjust,
}

/// Deactivate an item (B8; v1 `item.delete[]`; v2 `item.delete`): it stays readable in old
/// invoices.
#[derive(Debug, Clone)]
pub struct DeleteItem {
    pub client_id: ObjectId,
    pub id: ObjectId,
    pub now: DateTime,
}

impl CreateItem {
    /// From the B5 body (400 naming each bad field); `by` is the signed-in user.
    pub fn from_request(
        client_id: ObjectId,
        id: ObjectId,
        now: DateTime,
        by: By,
        req: &CreateItemRequest,
    ) -> AppResult<Self> {
        let mut e = Errors::new();
        let details = req.details_in();
        let input = ItemInput {
            details: Some(&details),
            name: Some(&req.name),
            price: Some(req.price),
            stock: req.stock,
            low_stock_quantity: req.low_stock_quantity,
            unit: req.unit.as_deref(),
            description: req.description.as_deref(),
            group_id: req.group_id.as_deref().map(Some),
            brand_id: req.brand_id.as_deref().map(Some),
        };
        let item = rules::new_item(&mut e, "", &input);
        let dealer_ids = rules::dealer_ids(&mut e, req.dealer_ids.as_deref().unwrap_or_default());
        e.finish()?;
        Ok(CreateItem { client_id, id, item, dealer_ids, now, by: Some(by) })
    }
}

impl UpdateItem {
    /// From the B7 body (400 naming each bad field); `by` is the signed-in user. The online
    /// route sends no base version.
    pub fn from_request(
        client_id: ObjectId,
        id: ObjectId,
        now: DateTime,
        by: By,
        req: &UpdateItemRequest,
    ) -> AppResult<Self> {
        let mut e = Errors::new();
        let details = req.details_in();
        let input = ItemInput {
            details: Some(&details),
            name: req.name.as_deref(),
            price: req.price,
            stock: req.stock,
            low_stock_quantity: req.low_stock_quantity,
            unit: req.unit.as_deref(),
            description: req.description.as_deref(),
            group_id: req.group_id.as_ref().map(|g| g.as_deref()),
            brand_id: req.brand_id.as_ref().map(|b| b.as_deref()),
        };
        let rules::ItemEdit { mut patch, stock } = rules::item_edit(&mut e, "", &input);
        patch.dealer_ids = req.dealer_ids.as_ref().map(|d| rules::dealer_ids(&mut e, d));
        let adjust = adjust_input(&mut e, "", req.stock_reason.as_deref(), req.stock_note.as_deref());
        e.finish()?;
        let stock = stock.map_or(StockChange::Keep, StockChange::To);
        Ok(UpdateItem { client_id, id, patch, stock, base: None, now, by: Some(by), adjust })
    }
}
