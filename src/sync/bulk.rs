//! The bulk apply of a v2 push: the whole batch in a few round trips.
//!
//! Applying operations one by one through the online code paths costs ~5 round trips per
//! operation (a 1,000-operation push took ~3 s). Here, inside the push transaction:
//!
//! 1. **Read** everything the batch refers to, one query per collection: the results of
//!    earlier operations it names by `opId`, the items, invoices, customers (by id and by
//!    phone) and item groups.
//! 2. **Simulate** the operations in order, in memory, with the billing rules themselves
//!    (`billing::service::{price_lines, sale_total, build_invoice, payment_refusal, settle}`):
//!    an operation that breaks a rule is rejected before it changes anything, so the others
//!    still apply and later operations see the effects of earlier ones (a price edit, then a
//!    sale at the new price).
//! 3. **Write** the result: `insert_many` for new items, customers, invoices, payments, stock
//!    movements and purchase histories; one update per existing document touched (stock moves
//!    by `$inc` deltas, catalog fields by `$set` of the fields sent); one `$inc` per financial
//!    year on the invoice counter (consecutive numbers in operation order); the change log and
//!    the operation records.
//!
//! The transaction reads a snapshot and the shop's queue is held, so the in-memory view is
//! the database's; a concurrent writer outside the queue makes the commit fail with a write
//! conflict and the whole push is retried.

use std::collections::{HashMap, HashSet};

use bson::{doc, oid::ObjectId, DateTime, Document};
use mongodb::ClientSession;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};

use crate::{
    billing::{
        model::{InvoiceDoc, PaymentDoc, PurchaseHistoryDoc, StockWarning},
        repo as billing_repo,
        service::{self as billing, CustomerRef, Draft, LineSource, Payment, Sale},
    },
    catalog::dto::ItemWire,
    catalog::{
        model::{ItemDoc, ItemGroupDoc},
        stock::{Reason, StockMovement},
    },
    client::model::CustomerFields,
    customer::{dto::CustomerWire, model::CustomerDoc, rules as customer_rules},
    error::{AppError, AppResult},
    money::Paise,
    sync::{
        apply::{CUSTOMERS, INVOICES, ITEMS, PAYMENTS},
        changes,
        ops::{Action, OpOutcome, OpRecord, PushCtx, Ref, OPS},
        receipts::{self, DeviceSale},
    },
    time,
    validate::Errors,
};

struct ItemSlot {
    doc: ItemDoc,
    new: bool,
    /// Fields to `$set` on an existing item (later edits overwrite earlier ones).
    set: Document,
    stock_delta: i64,
    edits: i32,
}

struct CustomerSlot {
    doc: CustomerDoc,
    new: bool,
    set: Document,
    dues: i64,
    purchased: bool,
    deleted: bool,
    edits: i32,
}

struct InvoiceSlot {
    doc: InvoiceDoc,
    new: bool,
    original_paid: Paise,
    payments: i32,
    /// An existing incomplete sale numbered now (its date becomes today).
    numbered_now: bool,
}

/// What an applied operation answers (rendered once the numbers are known).
enum Res {
    Id(ObjectId),
    /// The invoice, its first payment, the lines that left stock below zero, and the
    /// offline flags (`{priceOverrides[], inactiveItems[]}`).
    Invoice(ObjectId, Option<ObjectId>, Vec<StockWarning>, Value),
    Payment(ObjectId, ObjectId),
    /// A sale whose `deviceRef` this device already sold: the first invoice (nothing issued).
    Duplicate(ObjectId),
}

/// Why an operation did not apply (nothing of it was changed).
enum Fail {
    /// Final: recorded `rejected` for its opId.
    Rejected(String),
    /// A document it names by opId has not arrived (yet): answered `deferred`, NOT recorded,
    /// so the same opId applies once its dependency is pushed (this push or a later one).
    Deferred(String),
    /// An edit based on an older version of a field changed since: recorded `conflict`,
    /// answered `{id, version, current}`.
    Conflict(Value, String),
}

impl From<String> for Fail {
    fn from(r: String) -> Self {
        Fail::Rejected(r)
    }
}

#[derive(Default)]
struct World {
    items: HashMap<ObjectId, ItemSlot>,
    new_items: Vec<ObjectId>,
    groups: HashMap<ObjectId, String>,
    customers: HashMap<ObjectId, CustomerSlot>,
    new_customers: Vec<ObjectId>,
    phones: HashMap<String, ObjectId>,
    invoices: HashMap<ObjectId, InvoiceSlot>,
    new_invoices: Vec<ObjectId>,
    payments: Vec<PaymentDoc>,
    movements: Vec<StockMovement>,
    histories: Vec<PurchaseHistoryDoc>,
    /// Invoices to number, in operation order: (invoice, financial year).
    numbering: Vec<(ObjectId, String)>,
    /// The shop's `clientSettings.customerFields` (read only when the push has customer
    /// operations): the same optional-field rules as the online routes.
    customer_fields: CustomerFields,
    changed: Vec<(&'static str, ObjectId, bool)>,
    /// This device's references already billed (earlier pushes and this one) -> invoice.
    billed: HashMap<String, ObjectId>,
    device_sales: Vec<DeviceSale>,
}

fn readable(e: AppError) -> String {
    match e {
        AppError::Validation(v) => v.join("; "),
        other => other.to_string(),
    }
}

fn not_item() -> String {
    readable(AppError::validation("id", "is not an item of this shop"))
}

fn not_customer() -> String {
    readable(AppError::validation("id", "is not a customer of this shop"))
}

/// `$set` the fields of `set` on a typed document in memory.
fn merge<T: Serialize + DeserializeOwned>(target: &mut T, set: &Document) -> AppResult<()> {
    let mut d = bson::to_document(target)?;
    for (k, v) in set {
        d.insert(k.clone(), v.clone());
    }
    *target =
        bson::from_document(d).map_err(|_| AppError::internal("sync: a field update does not fit the document"))?;
    Ok(())
}

fn merge_set(into: &mut Document, set: &Document) {
    for (k, v) in set {
        into.insert(k.clone(), v.clone());
    }
}

/// Every `Ref::Op` of the batch, and the ids named directly per target collection.
#[derive(Default)]
struct Wanted<'a> {
    op_refs: HashSet<&'a str>,
    items: Vec<(&'a Ref, bool)>,
    customers: Vec<&'a Ref>,
    invoices: Vec<&'a Ref>,
    customer_ids: Vec<ObjectId>,
    phones: Vec<String>,
    groups: Vec<ObjectId>,
}

fn wanted<'a>(ctx: &'a PushCtx<'_>) -> Wanted<'a> {
    let mut w = Wanted::default();
    for op in ctx.ops.iter().filter(|o| !ctx.skip.contains_key(&o.op_id)) {
        let Ok(action) = &op.action else { continue };
        match action {
            Action::ItemCreate(n) => w.groups.extend(n.group_id),
            Action::ItemUpdate { target, group, .. } => {
                w.items.push((target, true));
                w.groups.extend(*group);
            }
            Action::ItemDelete(target) => w.items.push((target, true)),
            Action::CustomerCreate { phone, .. } => w.phones.push(phone.clone()),
            Action::CustomerUpdate { target, .. } | Action::CustomerDelete(target) => w.customers.push(target),
            Action::InvoiceCreate(inv) => {
                w.items.extend(inv.lines.iter().map(|(r, _, _)| (r, false)));
                match (&inv.customer_id, &inv.phone) {
                    (Some(id), _) => w.customer_ids.push(*id),
                    (None, Some(p)) => w.phones.push(p.clone()),
                    (None, None) => {}
                }
            }
            Action::PaymentCreate { invoice, .. } => w.invoices.push(invoice),
        }
    }
    let refs = w.items.iter().map(|(r, _)| *r).chain(w.customers.iter().copied()).chain(w.invoices.iter().copied());
    for r in refs {
        if let Ref::Op(o) = r {
            w.op_refs.insert(o.as_str());
        }
    }
    w
}

/// The server id created by each earlier (committed) operation the batch names, and the
/// named operations recorded as not applied (rejected or conflict: final).
async fn earlier_results(
    s: &mut ClientSession,
    ctx: &PushCtx<'_>,
    op_refs: &HashSet<&str>,
) -> AppResult<(HashMap<String, ObjectId>, HashSet<String>)> {
    let mut failed = HashSet::new();
    if op_refs.is_empty() {
        return Ok((HashMap::new(), failed));
    }
    let list: Vec<&str> = op_refs.iter().copied().collect();
    let mut cur = ctx
        .state
        .db
        .collection::<OpRecord>(OPS)
        .find(doc! { "clientId": ctx.client_id, "opId": { "$in": list } })
        .session(&mut *s)
        .await?;
    let mut out = HashMap::new();
    while let Some(rec) = cur.next(&mut *s).await.transpose()? {
        if rec.status != "applied" {
            failed.insert(rec.op_id);
            continue;
        }
        let id = rec
            .result
            .as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .and_then(|v| v.get("id").and_then(Value::as_str).and_then(|h| ObjectId::parse_str(h).ok()));
        if let Some(id) = id {
            out.insert(rec.op_id, id);
        }
    }
    Ok((out, failed))
}

async fn find_all<T>(s: &mut ClientSession, coll: mongodb::Collection<T>, filter: Document) -> AppResult<Vec<T>>
where
    T: DeserializeOwned + Unpin + Send + Sync,
{
    let mut cur = coll.find(filter).session(&mut *s).await?;
    let mut out = Vec::new();
    while let Some(d) = cur.next(&mut *s).await.transpose()? {
        out.push(d);
    }
    Ok(out)
}

/// What step 1 read besides the documents: earlier operations' ids, and the earlier
/// operations named that did not apply.
type Earlier = (HashMap<String, ObjectId>, HashSet<String>);

/// Step 1: read what the batch refers to.
async fn load(s: &mut ClientSession, ctx: &PushCtx<'_>) -> AppResult<(World, Earlier)> {
    let db = &ctx.state.db;
    let client_id = ctx.client_id;
    let w = wanted(ctx);
    let (earlier, failed) = earlier_results(s, ctx, &w.op_refs).await?;
    let id_of = |r: &Ref| match r {
        Ref::Id(id) => Some(*id),
        Ref::Op(o) => earlier.get(o).copied(),
    };
    let mut world = World::default();
    let has_customer_ops = ctx.ops.iter().any(|o| {
        matches!(o.action, Ok(Action::CustomerCreate { .. }) | Ok(Action::CustomerUpdate { .. }))
            && !ctx.skip.contains_key(&o.op_id)
    });
    if has_customer_ops {
        world.customer_fields = billing_repo::client_settings(db, client_id).await?.customer_fields;
    }
    // offline sales this device already billed (by its own reference)
    let refs: Vec<String> = ctx
        .ops
        .iter()
        .filter(|o| !ctx.skip.contains_key(&o.op_id))
        .filter_map(|o| match &o.action {
            Ok(Action::InvoiceCreate(a)) => a.device_ref.clone(),
            _ => None,
        })
        .collect();
    world.billed = receipts::billed(ctx.state, s, client_id, ctx.device_id, &refs).await?;

    let item_ids: HashSet<ObjectId> = w.items.iter().filter_map(|(r, _)| id_of(r)).collect();
    if !item_ids.is_empty() {
        let ids: Vec<ObjectId> = item_ids.into_iter().collect();
        for doc in
            find_all(s, db.collection::<ItemDoc>(ITEMS), doc! { "_id": { "$in": ids }, "clientId": client_id }).await?
        {
            world.items.insert(doc.id, ItemSlot { doc, new: false, set: Document::new(), stock_delta: 0, edits: 0 });
        }
    }

    let mut invoice_ids: HashSet<ObjectId> = w.invoices.iter().filter_map(|r| id_of(r)).collect();
    invoice_ids.extend(world.billed.values().copied());
    let mut customer_ids: HashSet<ObjectId> = w.customers.iter().filter_map(|r| id_of(r)).collect();
    customer_ids.extend(w.customer_ids.iter().copied());
    if !invoice_ids.is_empty() {
        let ids: Vec<ObjectId> = invoice_ids.into_iter().collect();
        let filter = doc! { "_id": { "$in": ids }, "clientId": client_id };
        for doc in find_all(s, billing_repo::invoices(db), filter).await? {
            customer_ids.extend(doc.client_customer_id);
            let original_paid = doc.paid_amount;
            world
                .invoices
                .insert(doc.id, InvoiceSlot { doc, new: false, original_paid, payments: 0, numbered_now: false });
        }
    }

    if !customer_ids.is_empty() || !w.phones.is_empty() {
        let ids: Vec<ObjectId> = customer_ids.into_iter().collect();
        let filter = doc! { "clientId": client_id, "$or": [ { "_id": { "$in": ids } }, { "phoneNumber": { "$in": &w.phones } } ] };
        for doc in find_all(s, db.collection::<CustomerDoc>(CUSTOMERS), filter).await? {
            world.phones.insert(doc.phone_number.clone(), doc.id);
            world.customers.insert(
                doc.id,
                CustomerSlot {
                    doc,
                    new: false,
                    set: Document::new(),
                    dues: 0,
                    purchased: false,
                    deleted: false,
                    edits: 0,
                },
            );
        }
    }

    let mut group_ids: HashSet<ObjectId> = w.groups.iter().copied().collect();
    group_ids.extend(world.items.values().filter_map(|i| i.doc.group_id));
    if !group_ids.is_empty() {
        let ids: Vec<ObjectId> = group_ids.into_iter().collect();
        let filter = doc! { "_id": { "$in": ids }, "clientId": client_id };
        for g in find_all(s, db.collection::<ItemGroupDoc>("itemgroups"), filter).await? {
            world.groups.insert(g.id, g.name);
        }
    }
    Ok((world, (earlier, failed)))
}

/// An edit based on `base` of a document now at `version`: the fields of `set` whose
/// current value differs from the one sent, when the document was edited since `base`
/// (empty: apply). Versions are per document (`__v`, bumped by every edit, not by stock
/// moves or dues), so a field that already holds the sent value is no conflict.
pub(super) fn stale_fields<T: Serialize>(doc: &T, version: i32, base: Option<i32>, set: &Document) -> Vec<String> {
    let Some(base) = base else { return vec![] };
    if version <= base {
        return vec![];
    }
    let current = bson::to_document(doc).unwrap_or_default();
    set.iter().filter(|(k, v)| current.get(k.as_str()) != Some(v)).map(|(k, _)| k.clone()).collect()
}

fn conflict(id: ObjectId, version: i32, base: Option<i32>, fields: &[String], current: Value) -> Fail {
    Fail::Conflict(
        json!({ "id": id.to_hex(), "version": version, "current": current }),
        format!(
            "conflict: {} changed since baseVersion {} (now version {version}); not applied, the current value is kept",
            fields.join(", "),
            base.unwrap_or_default()
        ),
    )
}

impl World {
    fn movement(
        &mut self,
        client_id: ObjectId,
        item_id: ObjectId,
        delta: i64,
        reason: Reason,
        ref_id: Option<ObjectId>,
        now: DateTime,
    ) {
        self.movements.push(StockMovement { id: ObjectId::new(), client_id, item_id, delta, reason, ref_id, at: now });
    }

    /// Whether the moves `(item, delta)` all keep stock within +-`limits::MAX_UNITS` (the
    /// guard `stock::apply` puts in its filter), taken together in order; `Err` names the
    /// item that would leave the bounds. Nothing is changed.
    fn check_stock(&self, moves: &[(ObjectId, i64)]) -> Result<(), String> {
        let mut after: HashMap<ObjectId, i64> = HashMap::new();
        for (id, d) in moves {
            let Some(slot) = self.items.get(id) else { continue };
            let now = after.get(id).copied().unwrap_or(slot.doc.stock);
            match crate::limits::stock_after(now, *d) {
                Some(s) => {
                    after.insert(*id, s);
                }
                None => return Err(readable(crate::limits::stock_out_of_range(&slot.doc.name))),
            }
        }
        Ok(())
    }

    /// Move stock in memory (after [`World::check_stock`]: cannot leave the bounds); returns
    /// the stock after the move.
    fn move_stock(&mut self, item_id: ObjectId, delta: i64) -> Option<i64> {
        let slot = self.items.get_mut(&item_id)?;
        slot.doc.stock = slot.doc.stock.saturating_add(delta);
        if !slot.new {
            slot.stock_delta = slot.stock_delta.saturating_add(delta);
        }
        Some(slot.doc.stock)
    }

    fn check_group(&self, group: Option<ObjectId>) -> Result<(), String> {
        match group {
            Some(g) if !self.groups.contains_key(&g) => {
                Err(readable(AppError::validation("groupId", "is not an item group of this shop")))
            }
            _ => Ok(()),
        }
    }

    /// Get or create the customer with this phone (billing's rule: a name is written only to
    /// a new customer or one still without a real name).
    fn customer_by_phone(&mut self, client_id: ObjectId, phone: &str, name: Option<&str>, now: DateTime) -> ObjectId {
        if let Some(id) = self.phones.get(phone) {
            if let (Some(n), Some(slot)) = (name, self.customers.get_mut(id)) {
                if slot.doc.name.is_empty() || slot.doc.name == billing_repo::PLACEHOLDER_NAME {
                    slot.doc.name = n.to_string();
                    if !slot.new {
                        slot.set.insert("name", n);
                    }
                }
            }
            return *id;
        }
        let doc = CustomerDoc::new(client_id, phone, name.unwrap_or(billing_repo::PLACEHOLDER_NAME), now);
        let id = doc.id;
        self.phones.insert(phone.to_string(), id);
        self.new_customers.push(id);
        self.customers.insert(
            id,
            CustomerSlot { doc, new: true, set: Document::new(), dues: 0, purchased: false, deleted: false, edits: 0 },
        );
        id
    }

    fn edit_customer(&mut self, id: ObjectId, set: &Document) -> Result<(), String> {
        let slot = self.customers.get_mut(&id).filter(|c| !c.deleted).ok_or_else(not_customer)?;
        merge(&mut slot.doc, set).map_err(readable)?;
        merge_set(&mut slot.set, set);
        slot.edits += 1;
        if slot.new {
            slot.doc.version += 1;
        }
        self.changed.push((CUSTOMERS, id, false));
        Ok(())
    }

    /// Whether the customer's dues can move by `delta` (checked; `Err` when they would leave
    /// `i64` paise, which the database's `$inc` would refuse). Nothing is changed.
    fn check_dues(&self, id: ObjectId, delta: i64) -> Result<(), String> {
        match self.customers.get(&id).filter(|c| !c.deleted) {
            Some(slot)
                if slot.doc.outstanding_balance.checked_add(Paise::new(delta)).is_none()
                    || slot.dues.checked_add(delta).is_none() =>
            {
                Err(readable(AppError::validation("clientCustomerId", "the customer's dues would overflow")))
            }
            _ => Ok(()),
        }
    }

    /// Dues move with a sale (`purchased`, made at `at`: `lastPurchaseAt` becomes the latest
    /// sale time) or a payment, as `customer_after_sale` does (after [`World::check_dues`]).
    fn dues(&mut self, id: ObjectId, delta: i64, purchased: bool, at: DateTime) {
        if let Some(slot) = self.customers.get_mut(&id).filter(|c| !c.deleted) {
            slot.doc.outstanding_balance =
                slot.doc.outstanding_balance.checked_add(Paise::new(delta)).unwrap_or(slot.doc.outstanding_balance);
            slot.dues = slot.dues.saturating_add(delta);
            if purchased {
                slot.purchased = true;
                slot.doc.last_purchase_at = Some(slot.doc.last_purchase_at.map_or(at, |p| p.max(at)));
            }
        }
    }
}

/// Step 2 for one operation: `Ok` with what it answers, or the reason it is rejected (then
/// nothing was changed).
fn simulate(
    world: &mut World,
    ctx: &PushCtx<'_>,
    ids: &HashMap<String, ObjectId>,
    earlier: &HashMap<String, ObjectId>,
    failed: &HashSet<String>,
    action: &Action,
    now: DateTime,
) -> Result<Res, Fail> {
    let client_id = ctx.client_id;
    // a dependency recorded as not applied is final; one not seen yet may still arrive
    let resolve = |r: &Ref| -> Result<ObjectId, Fail> {
        match r {
            Ref::Id(id) => Ok(*id),
            Ref::Op(op) => ids.get(op).or_else(|| earlier.get(op)).copied().ok_or_else(|| {
                if failed.contains(op) {
                    Fail::Rejected(format!("depends on operation {op}, which was not applied"))
                } else {
                    Fail::Deferred(format!(
                        "depends on operation {op}, which has not arrived yet: push this operation again with or after it"
                    ))
                }
            }),
        }
    };
    match action {
        Action::ItemCreate(n) => {
            world.check_group(n.group_id)?;
            let doc = n.doc(client_id, n.stock, now);
            let id = doc.id;
            if n.stock != 0 {
                world.movement(client_id, id, n.stock, Reason::Adjustment, None, now);
            }
            world.items.insert(id, ItemSlot { doc, new: true, set: Document::new(), stock_delta: 0, edits: 0 });
            world.new_items.push(id);
            world.changed.push((ITEMS, id, false));
            Ok(Res::Id(id))
        }
        Action::ItemUpdate { target, set, group, stock_delta, base } => {
            let id = resolve(target)?;
            world.check_group(*group)?;
            if !world.items.contains_key(&id) {
                return Err(not_item().into());
            }
            world.check_stock(&[(id, *stock_delta)])?;
            let slot = world.items.get_mut(&id).ok_or_else(not_item)?;
            let stale = stale_fields(&slot.doc, slot.doc.version, *base, set);
            if !stale.is_empty() {
                let current = serde_json::to_value(ItemWire::from(slot.doc.clone())).unwrap_or_default();
                return Err(conflict(id, slot.doc.version, *base, &stale, current));
            }
            merge(&mut slot.doc, set).map_err(readable)?;
            merge_set(&mut slot.set, set);
            slot.edits += 1;
            if slot.new {
                // a document created by this push is inserted as it is in memory: its
                // version counts this edit as online (an existing one gets `$inc edits`)
                slot.doc.version += 1;
            }
            if *stock_delta != 0 {
                world.move_stock(id, *stock_delta);
                world.movement(client_id, id, *stock_delta, Reason::Adjustment, None, now);
            }
            world.changed.push((ITEMS, id, false));
            Ok(Res::Id(id))
        }
        Action::ItemDelete(target) => {
            let id = resolve(target)?;
            let slot = world.items.get_mut(&id).ok_or_else(not_item)?;
            slot.doc.is_active = false;
            slot.set.insert("isActive", false);
            slot.edits += 1;
            if slot.new {
                slot.doc.version += 1;
            }
            world.changed.push((ITEMS, id, true));
            Ok(Res::Id(id))
        }
        Action::CustomerCreate { phone, name, extra } => {
            // the online rules (`customer::rules`): enabled optional fields checked, and
            // required for a new customer; disabled ones ignored
            let mut e = Errors::new();
            let fields = customer_rules::optional_fields(&mut e, "", &world.customer_fields, extra);
            let known = world.phones.contains_key(phone);
            if !known {
                customer_rules::require_enabled(&mut e, "", &world.customer_fields, &fields);
            }
            e.finish().map_err(readable)?;
            let id = world.customer_by_phone(client_id, phone, None, now);
            let mut all = Document::new();
            // a known customer keeps a stored value unless a new non-empty one is sent
            for (k, v) in fields.iter().filter(|(_, v)| !known || !v.is_empty()) {
                all.insert(*k, v.as_str());
            }
            // the name it already has is no edit (as online: no version move)
            let current = world.customers.get(&id).map(|c| c.doc.name.as_str());
            if let Some(n) = name.as_deref().filter(|n| !n.is_empty() && Some(*n) != current) {
                all.insert("name", n);
            }
            if all.is_empty() {
                world.changed.push((CUSTOMERS, id, false));
            } else if let Some(slot) = world.customers.get_mut(&id).filter(|c| c.new && !known) {
                // a new customer is created with its fields (version 0, as online), not edited
                merge(&mut slot.doc, &all).map_err(readable)?;
                world.changed.push((CUSTOMERS, id, false));
            } else {
                world.edit_customer(id, &all)?;
            }
            Ok(Res::Id(id))
        }
        Action::CustomerUpdate { target, name, extra, base } => {
            let mut e = Errors::new();
            let fields = customer_rules::optional_fields(&mut e, "", &world.customer_fields, extra);
            e.finish().map_err(readable)?;
            let mut set = Document::new();
            if let Some(n) = name {
                set.insert("name", n.as_str());
            }
            for (k, v) in fields {
                set.insert(k, v);
            }
            let id = resolve(target)?;
            if let Some(slot) = world.customers.get(&id).filter(|c| !c.deleted) {
                let stale = stale_fields(&slot.doc, slot.doc.version, *base, &set);
                if !stale.is_empty() {
                    let current = serde_json::to_value(CustomerWire::from(slot.doc.clone())).unwrap_or_default();
                    return Err(conflict(id, slot.doc.version, *base, &stale, current));
                }
            }
            world.edit_customer(id, &set)?;
            Ok(Res::Id(id))
        }
        Action::CustomerDelete(target) => {
            let id = resolve(target)?;
            let slot = world.customers.get_mut(&id).filter(|c| !c.deleted).ok_or_else(not_customer)?;
            if slot.doc.outstanding_balance.is_positive() {
                return Err(
                    readable(AppError::bad_request("Customer not deleted: they have an outstanding balance")).into()
                );
            }
            slot.deleted = true;
            let phone = slot.doc.phone_number.clone();
            world.phones.remove(&phone);
            world.changed.push((CUSTOMERS, id, true));
            Ok(Res::Id(id))
        }
        Action::InvoiceCreate(a) => {
            let mut wanted = Vec::with_capacity(a.lines.len());
            for (i, (r, q, price)) in a.lines.iter().enumerate() {
                wanted.push((format!("products[{i}].productId"), resolve(r)?, *q, *price));
            }
            // the same sale again (its device reference already billed): the first invoice
            if let Some(first) = a.device_ref.as_ref().and_then(|r| world.billed.get(r)) {
                return Ok(Res::Duplicate(*first));
            }
            let catalog: HashMap<ObjectId, ItemDoc> =
                wanted.iter().filter_map(|w| world.items.get(&w.1).map(|s| (w.1, s.doc.clone()))).collect();
            // an item deactivated since the device pulled still sells (the sale happened)
            let (lines, subtotal) =
                billing::price_lines_in(&wanted, &catalog, &world.groups, true).map_err(readable)?;
            let flags = offline_flags(&lines, &catalog);
            let sale = Sale {
                client_id,
                lines: LineSource::Products(vec![]),
                customer: CustomerRef::None,
                customer_name: a.name.clone(),
                customer_phone: a.phone.clone(),
                claimed_total: a.total,
                paid: a.paid,
                tax: a.tax,
                discount: a.discount,
                method: a.method.clone(),
                notes: a.notes.clone(),
                kind: "invoice",
            };
            let total = billing::sale_total(&sale, subtotal, false).map_err(readable)?;
            // the bounds, before anything changes: stock within +-10^9, dues within i64
            let moves: Vec<(ObjectId, i64)> =
                lines.iter().filter_map(|l| l.product_id.map(|p| (p, -l.quantity))).collect();
            world.check_stock(&moves)?;
            let known = a.customer_id.or_else(|| a.phone.as_ref().and_then(|p| world.phones.get(p).copied()));
            if let Some(c) = known {
                world.check_dues(c, total.checked_sub(a.paid).unwrap_or_default().as_i64())?;
            }
            let customer = match (&a.customer_id, &a.phone) {
                (Some(id), _) => {
                    Some(world.customers.get(id).filter(|c| !c.deleted).map(|c| c.id_doc()).ok_or_else(|| {
                        readable(AppError::validation("clientCustomerId", "is not a customer of this shop"))
                    })?)
                }
                (None, Some(p)) => {
                    let id = world.customer_by_phone(client_id, p, a.name.as_deref(), now);
                    world.customers.get(&id).map(|c| c.id_doc())
                }
                (None, None) => None,
            };
            let inv = billing::build_invoice(Draft {
                id: ObjectId::new(),
                sale: &sale,
                customer: customer.as_ref(),
                lines,
                subtotal,
                total,
                at: billing::sale_time(Some(a.at), None, now),
                now,
                cart_id: None,
                device_ref: a.device_ref.clone(),
                device_time: Some(a.at),
            });
            let id = inv.id;
            if let Some(r) = &a.device_ref {
                world.billed.insert(r.clone(), id);
                world.device_sales.push(DeviceSale::new(client_id, ctx.device_id, r, id, now));
            }
            world.changed.push((INVOICES, id, false));
            let payment = billing::first_payment(&inv, &sale.method, now);
            if let Some(p) = &payment {
                world.changed.push((PAYMENTS, p.id, false));
            }
            let mut warnings = Vec::new();
            for l in &inv.products {
                if let Some(item) = l.product_id {
                    // an offline sale always subtracts, even below zero (the goods are gone)
                    if let Some(after) = world.move_stock(item, -l.quantity).filter(|a| *a < 0) {
                        warnings.push(StockWarning {
                            product_id: item.to_hex(),
                            item_name: l.item_name.clone(),
                            quantity: l.quantity,
                            stock: after,
                        });
                    }
                    world.movement(client_id, item, -l.quantity, Reason::Sale, Some(id), now);
                    world.changed.push((ITEMS, item, false));
                }
            }
            if let Some(c) = &customer {
                let pending = inv.total_amount.checked_sub(inv.paid_amount).unwrap_or_default().as_i64();
                // the customer last bought when the sale was made, not when it was pushed
                world.dues(c.id, pending, true, inv.generated_at);
                if inv.is_finalized {
                    world.histories.push(billing::history(&inv, c.id, inv.generated_at));
                }
                world.changed.push((CUSTOMERS, c.id, false));
            }
            world.numbering.push((id, time::financial_year(inv.generated_at)));
            let payment_id = payment.as_ref().map(|p| p.id);
            world.payments.extend(payment);
            let original_paid = inv.paid_amount;
            world
                .invoices
                .insert(id, InvoiceSlot { doc: inv, new: true, original_paid, payments: 0, numbered_now: false });
            world.new_invoices.push(id);
            Ok(Res::Invoice(id, payment_id, warnings, flags))
        }
        Action::PaymentCreate { invoice, amount, method, note, at } => {
            let invoice_id = resolve(invoice)?;
            if let Some(c) = world.invoices.get(&invoice_id).and_then(|i| i.doc.client_customer_id) {
                world.check_dues(c, -amount.as_i64())?;
            }
            let slot = world
                .invoices
                .get_mut(&invoice_id)
                .ok_or_else(|| readable(AppError::bad_request("Payment failed: invoice not found")))?;
            if let Some(e) = billing::payment_refusal(&slot.doc, *amount) {
                return Err(readable(e).into());
            }
            let mut p = billing::payment_doc(
                &Payment {
                    client_id,
                    invoice_id,
                    amount: *amount,
                    method: method.clone(),
                    note: note.clone(),
                    paid_at: Some(*at),
                },
                now,
            );
            billing::date_after_invoice(&mut p, &slot.doc);
            billing::settle(&mut slot.doc, *amount, now);
            slot.payments += 1;
            let finalized = slot.doc.is_finalized;
            // an incomplete sale of an earlier push is numbered when paid in full; a sale of
            // this push is already queued for its number
            let number_now = finalized && slot.doc.invoice_number.is_none() && !slot.new;
            slot.numbered_now = number_now;
            let customer = slot.doc.client_customer_id;
            let history = match customer {
                Some(c) if finalized => Some(billing::history(&slot.doc, c, now)),
                _ => None,
            };
            if number_now {
                world.numbering.push((invoice_id, time::financial_year(now)));
            }
            world.histories.extend(history);
            world.changed.push((PAYMENTS, p.id, false));
            world.changed.push((INVOICES, invoice_id, false));
            if let Some(c) = customer {
                world.dues(c, -amount.as_i64(), false, now);
                world.changed.push((CUSTOMERS, c, false));
            }
            let pid = p.id;
            world.payments.push(p);
            Ok(Res::Payment(pid, invoice_id))
        }
    }
}

/// The offline flags of a sale's lines: `priceOverrides` (billed at the device's price, not
/// the catalog's: the price of record is what the customer was shown) and `inactiveItems`
/// (items deactivated since the device pulled).
fn offline_flags(lines: &[crate::billing::model::InvoiceLine], catalog: &HashMap<ObjectId, ItemDoc>) -> Value {
    let overrides: Vec<Value> = lines
        .iter()
        .filter(|l| l.price_overridden)
        .map(|l| {
            json!({
                "productId": l.product_id.map(|p| p.to_hex()), "itemName": l.item_name,
                "price": l.cost_per_unit, "catalogPrice": l.catalog_price,
            })
        })
        .collect();
    let inactive: Vec<Value> = lines
        .iter()
        .filter(|l| l.product_id.and_then(|p| catalog.get(&p)).is_some_and(|i| !i.is_active))
        .map(|l| json!({ "productId": l.product_id.map(|p| p.to_hex()), "itemName": l.item_name }))
        .collect();
    json!({ "priceOverrides": overrides, "inactiveItems": inactive })
}

impl CustomerSlot {
    fn id_doc(&self) -> CustomerDoc {
        self.doc.clone()
    }
}

/// Step 3: write the outcome of the batch.
async fn write(s: &mut ClientSession, ctx: &PushCtx<'_>, world: &mut World, now: DateTime) -> AppResult<()> {
    let db = &ctx.state.db;
    let client_id = ctx.client_id;
    let changed_doc = || AppError::internal("sync: a document changed during the push");

    // uncontended inserts first
    let new_items: Vec<&ItemDoc> =
        world.new_items.iter().filter_map(|id| world.items.get(id)).map(|s| &s.doc).collect();
    if !new_items.is_empty() {
        db.collection::<ItemDoc>(ITEMS).insert_many(new_items).session(&mut *s).await?;
    }
    // existing customers first (a deleted customer's phone may be reused by a new one)
    for (id, c) in world.customers.iter().filter(|(_, c)| !c.new) {
        let filter = doc! { "_id": id, "clientId": client_id };
        if c.deleted {
            let r = db.collection::<Document>(CUSTOMERS).delete_one(filter).session(&mut *s).await?;
            if r.deleted_count != 1 {
                return Err(changed_doc());
            }
            continue;
        }
        if c.edits == 0 && c.dues == 0 && !c.purchased && c.set.is_empty() {
            continue;
        }
        let mut set = c.set.clone();
        set.insert("updatedAt", now);
        if let Some(at) = c.doc.last_purchase_at.filter(|_| c.purchased) {
            set.insert("lastPurchaseAt", at);
        }
        let update = doc! { "$set": set, "$inc": { "outstandingBalance": c.dues, "__v": c.edits } };
        let r = db.collection::<Document>(CUSTOMERS).update_one(filter, update).session(&mut *s).await?;
        if r.matched_count != 1 {
            return Err(changed_doc());
        }
    }

    let new_customers: Vec<&CustomerDoc> = world
        .new_customers
        .iter()
        .filter_map(|id| world.customers.get(id))
        .filter(|c| !c.deleted)
        .map(|c| &c.doc)
        .collect();
    if !new_customers.is_empty() {
        db.collection::<CustomerDoc>(CUSTOMERS).insert_many(new_customers).session(&mut *s).await?;
    }
    if !world.payments.is_empty() {
        billing_repo::payments(db).insert_many(&world.payments).session(&mut *s).await?;
    }
    if !world.movements.is_empty() {
        db.collection::<StockMovement>("stockmovements").insert_many(&world.movements).session(&mut *s).await?;
    }
    if !world.histories.is_empty() {
        billing_repo::histories(db).insert_many(&world.histories).session(&mut *s).await?;
    }
    receipts::record(ctx.state, s, &world.device_sales).await?;

    // existing items: the fields sent, and stock by its delta
    for (id, it) in world.items.iter().filter(|(_, i)| !i.new && (i.edits > 0 || i.stock_delta != 0)) {
        let mut set = it.set.clone();
        set.insert("updatedAt", now);
        let update = doc! { "$set": set, "$inc": { "stock": it.stock_delta, "__v": it.edits } };
        let r = db
            .collection::<Document>(ITEMS)
            .update_one(doc! { "_id": id, "clientId": client_id }, update)
            .session(&mut *s)
            .await?;
        if r.matched_count != 1 {
            return Err(changed_doc());
        }
    }

    // the contended writes last: consecutive numbers (one `$inc` per financial year, given
    // out in operation order), then the invoices
    let mut per_year: Vec<(String, Vec<ObjectId>)> = Vec::new();
    for (id, fy) in &world.numbering {
        match per_year.iter_mut().find(|(f, _)| f == fy) {
            Some((_, v)) => v.push(*id),
            None => per_year.push((fy.clone(), vec![*id])),
        }
    }
    let today = time::ist_date_string(now);
    for (fy, list) in per_year {
        let key = format!("inv:{}:{fy}", client_id.to_hex());
        let last = billing_repo::reserve_seq(db, s, &key, list.len() as i64).await?;
        let first = last - list.len() as i64 + 1;
        for (k, id) in list.iter().enumerate() {
            if let Some(slot) = world.invoices.get_mut(id) {
                let seq = first + k as i64;
                slot.doc.invoice_number = Some(billing::format_number(&fy, seq));
                slot.doc.financial_year = Some(fy.clone());
                slot.doc.seq = Some(seq);
                if slot.numbered_now {
                    slot.doc.invoice_date = today.clone();
                    // numbered = issued: an incomplete sale becomes an invoice
                    slot.doc.kind = "invoice".to_string();
                }
            }
        }
    }
    for (id, inv) in world.invoices.iter().filter(|(_, i)| !i.new && i.payments > 0) {
        let d = &inv.doc;
        let mut set = doc! {
            "paidAmount": d.paid_amount.as_i64(), "status": &d.status, "isFinalized": d.is_finalized, "updatedAt": now,
        };
        if let Some(f) = d.finalized_at {
            set.insert("finalizedAt", f);
        }
        if inv.numbered_now {
            set.insert("kind", d.kind.as_str());
            set.insert("invoiceNumber", d.invoice_number.clone());
            set.insert("financialYear", d.financial_year.clone());
            set.insert("seq", d.seq);
            set.insert("invoiceDate", &d.invoice_date);
        }
        let filter =
            doc! { "_id": id, "clientId": client_id, "isFinalized": false, "paidAmount": inv.original_paid.as_i64() };
        let update = doc! { "$set": set, "$inc": { "__v": inv.payments } };
        let r = billing_repo::invoices(db).update_one(filter, update).session(&mut *s).await?;
        if r.matched_count != 1 {
            return Err(changed_doc());
        }
    }
    let new_invoices: Vec<&InvoiceDoc> =
        world.new_invoices.iter().filter_map(|id| world.invoices.get(id)).map(|i| &i.doc).collect();
    if !new_invoices.is_empty() {
        billing_repo::invoices(db).insert_many(new_invoices).session(&mut *s).await?;
    }
    Ok(())
}

fn render(world: &World, res: &Res) -> Value {
    match res {
        Res::Id(id) => json!({ "id": id.to_hex() }),
        Res::Invoice(id, payment, warnings, flags) => {
            let inv = world.invoices.get(id).map(|i| &i.doc);
            json!({
                "id": id.to_hex(),
                "invoiceNumber": inv.and_then(|i| i.invoice_number.clone()),
                "paymentId": payment.map(|p| p.to_hex()),
                "totalAmount": inv.map(|i| i.total_amount),
                "stockWarnings": warnings,
                "priceOverrides": flags["priceOverrides"],
                "inactiveItems": flags["inactiveItems"],
            })
        }
        Res::Duplicate(id) => {
            let inv = world.invoices.get(id).map(|i| &i.doc);
            json!({
                "id": id.to_hex(),
                "invoiceNumber": inv.and_then(|i| i.invoice_number.clone()),
                "totalAmount": inv.map(|i| i.total_amount),
                "deviceRef": inv.and_then(|i| i.device_ref.clone()),
            })
        }
        Res::Payment(id, invoice) => json!({
            "id": id.to_hex(),
            "invoiceId": invoice.to_hex(),
            "invoiceNumber": world.invoices.get(invoice).and_then(|i| i.doc.invoice_number.clone()),
        }),
    }
}

/// Apply the batch (inside the push transaction). One outcome per operation, in order.
/// Operations whose dependency is missing are tried again after the others (a payment
/// pushed before its invoice in the same push applies); those still missing one answer
/// `deferred` and are not recorded.
pub(super) async fn run_batch(s: &mut ClientSession, ctx: &PushCtx<'_>) -> AppResult<Vec<OpOutcome>> {
    // the receipt time, which dates no record later than it (`billing::sale_time`)
    let now = ctx.state.clock.now();
    let (mut world, (earlier, mut failed)) = load(s, ctx).await?;
    let mut ids: HashMap<String, ObjectId> = HashMap::new();
    let mut steps: Vec<Option<Result<Res, Fail>>> = Vec::with_capacity(ctx.ops.len());
    let note =
        |step: &Result<Res, Fail>, op_id: &str, ids: &mut HashMap<String, ObjectId>, failed: &mut HashSet<String>| {
            match step {
                Ok(res) => {
                    let id = match res {
                        Res::Id(id) | Res::Invoice(id, _, _, _) | Res::Payment(id, _) | Res::Duplicate(id) => *id,
                    };
                    ids.insert(op_id.to_string(), id);
                }
                Err(Fail::Rejected(_) | Fail::Conflict(..)) => {
                    failed.insert(op_id.to_string());
                }
                Err(Fail::Deferred(_)) => {}
            }
        };
    for op in ctx.ops {
        if ctx.skip.contains_key(&op.op_id) {
            steps.push(None);
            continue;
        }
        let step = match &op.action {
            Err(reason) => Err(Fail::Rejected(reason.clone())),
            Ok(action) => simulate(&mut world, ctx, &ids, &earlier, &failed, action, now),
        };
        note(&step, &op.op_id, &mut ids, &mut failed);
        steps.push(Some(step));
    }
    // dependencies that arrived later in this push
    loop {
        let mut progress = false;
        for (op, step) in ctx.ops.iter().zip(steps.iter_mut()) {
            let (Some(Err(Fail::Deferred(_))), Ok(action)) = (&step, &op.action) else { continue };
            let again = simulate(&mut world, ctx, &ids, &earlier, &failed, action, now);
            if !matches!(again, Err(Fail::Deferred(_))) {
                progress = true;
                note(&again, &op.op_id, &mut ids, &mut failed);
                *step = Some(again);
            }
        }
        if !progress {
            break;
        }
    }

    let mut out = Vec::with_capacity(ctx.ops.len());
    let deferred = |op_id: &str, reason: &str| OpOutcome {
        op_id: op_id.to_string(),
        status: "deferred".into(),
        result: None,
        reason: Some(reason.to_string()),
        original_status: None,
    };
    if steps.iter().all(|s| matches!(s, None | Some(Err(Fail::Deferred(_))))) {
        for (op, step) in ctx.ops.iter().zip(&steps) {
            match step {
                Some(Err(Fail::Deferred(r))) => out.push(deferred(&op.op_id, r)),
                _ => out.push(duplicate(ctx, &op.op_id)),
            }
        }
        return Ok(out);
    }
    write(s, ctx, &mut world, now).await?;
    let seq = changes::append(&ctx.state.db, s, ctx.client_id, &world.changed).await?;

    let mut records = Vec::new();
    for (op, step) in ctx.ops.iter().zip(steps) {
        let Some(step) = step else {
            out.push(duplicate(ctx, &op.op_id));
            continue;
        };
        // (status recorded, status answered, result, reason)
        let (status, answer, result, reason) = match step {
            Ok(res @ Res::Duplicate(_)) => {
                let r = render(&world, &res);
                let why = format!("deviceRef already billed as invoice {}", r["id"].as_str().unwrap_or_default());
                ("applied", "duplicate", Some(r), Some(why))
            }
            Ok(res) => ("applied", "applied", Some(render(&world, &res)), None),
            Err(Fail::Rejected(r)) => ("rejected", "rejected", None, Some(r)),
            Err(Fail::Conflict(v, r)) => ("conflict", "conflict", Some(v), Some(r)),
            Err(Fail::Deferred(r)) => {
                out.push(deferred(&op.op_id, &r));
                continue;
            }
        };
        records.push(OpRecord {
            id: ObjectId::new(),
            client_id: ctx.client_id,
            op_id: op.op_id.clone(),
            entity: op.entity.clone(),
            kind: op.kind.clone(),
            status: status.into(),
            result: result.as_ref().map(|v| v.to_string()),
            reason: reason.clone(),
            payload: op.raw.clone(),
            device_time: op.device_time,
            seq,
            created_at: now,
        });
        out.push(OpOutcome {
            op_id: op.op_id.clone(),
            status: answer.into(),
            result,
            reason,
            original_status: (answer == "duplicate").then(|| status.to_string()),
        });
    }
    if !records.is_empty() {
        ctx.state.db.collection::<OpRecord>(OPS).insert_many(&records).session(&mut *s).await?;
    }
    Ok(out)
}

fn duplicate(ctx: &PushCtx<'_>, op_id: &str) -> OpOutcome {
    let rec = ctx.skip.get(op_id);
    OpOutcome {
        op_id: op_id.to_string(),
        status: "duplicate".into(),
        result: rec.and_then(|r| r.result.as_deref()).and_then(|t| serde_json::from_str(t).ok()),
        reason: rec.and_then(|r| r.reason.clone()),
        original_status: rec.map(|r| r.status.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_conflicts_only_when_the_document_moved_past_its_base_and_a_sent_field_differs() {
        let current = doc! { "name": "Bulb", "price": 5500_i64, "__v": 1 };
        let set = doc! { "price": 6000_i64 };
        assert_eq!(stale_fields(&current, 1, Some(0), &set), vec!["price".to_string()]);
        assert!(stale_fields(&current, 1, Some(1), &set).is_empty(), "based on the current version");
        assert!(stale_fields(&current, 1, None, &set).is_empty(), "no base: applied as sent");
        let same = doc! { "price": 5500_i64 };
        assert!(stale_fields(&current, 1, Some(0), &same).is_empty(), "already the current value");
        let both = doc! { "name": "LED", "price": 5500_i64 };
        assert_eq!(stale_fields(&current, 3, Some(0), &both), vec!["name".to_string()]);
    }
}
