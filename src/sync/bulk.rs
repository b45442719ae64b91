//! The bulk apply of a v2 push: the whole batch in a few round trips.
//!
//! Applying operations one by one through the online code paths costs ~5 round trips per
//! operation (a 1,000-operation push took ~3 s). Here, inside the push transaction:
//!
//! 1. **Read** everything the batch refers to, one query per collection: the results of
//!    earlier operations it names by `opId`, the items, invoices, customers (by id and by
//!    phone) and item groups.
//! 2. **Simulate** the operations in order, in memory: sales and payments are decided by
//!    billing's own deciders (`billing::decide::{sale, payment}`, the functions the online
//!    routes and v1 call) on the batch's in-memory documents, and their plans are folded in;
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
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::{
    billing::{
        command::{CustomerRef, LineSource, RecordPayment, Sale, SaleOptions, KIND_INVOICE},
        decide::{self, CustomerEffect, PaymentInputs, Refusal, SaleInputs, ShopRules},
        model::{InvoiceDoc, PaymentDoc, PurchaseHistoryDoc, StockWarning},
        repo as billing_repo,
    },
    catalog::dto::ItemWire,
    catalog::{
        command::{CreateItem, DeleteItem, StockChange, UpdateItem},
        decide as catalog_decide,
        model::{ItemDoc, ItemGroupDoc},
        repo as catalog_repo,
        stock::{Reason, StockMovement},
    },
    client::model::CustomerFields,
    customer::{
        command::{CreateCustomer, DeleteCustomer, UpdateCustomer},
        decide as customer_decide,
        dto::CustomerWire,
        model::CustomerDoc,
        repo as customer_repo,
    },
    error::{AppError, AppResult},
    money::Paise,
    sync::{
        apply::{CUSTOMERS, ITEMS},
        changes,
        ops::{Action, OpOutcome, OpRecord, PushCtx, Ref, OPS},
        receipts::{self, DeviceSale},
    },
    time,
};

struct ItemSlot {
    doc: ItemDoc,
    new: bool,
    /// The edits and stock moves of an existing item, written as one update.
    folded: catalog_decide::Folded,
}

struct CustomerSlot {
    doc: CustomerDoc,
    new: bool,
    /// The edits of an existing customer, written as one update with its dues.
    folded: customer_decide::Folded,
    dues: i64,
    purchased: bool,
    deleted: bool,
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

/// A refusal of billing's decider, as a push answers it (`rejected`, final).
fn refused(r: Refusal) -> Fail {
    Fail::Rejected(r.message())
}

/// A refused item command as a push answers it: a stale edit is a `conflict` answered with
/// the current item; the rest are rejected with the refusal's message.
fn item_refusal(r: catalog_decide::Refusal) -> Fail {
    match r {
        catalog_decide::Refusal::Conflict(c) => {
            let reason = c.reason();
            let current = serde_json::to_value(ItemWire::from(c.current)).unwrap_or_default();
            Fail::Conflict(json!({ "id": c.id.to_hex(), "version": c.version, "current": current }), reason)
        }
        other => Fail::Rejected(readable(other.synced())),
    }
}

/// A refused customer command as a push answers it (see [`item_refusal`]).
fn customer_refusal(r: customer_decide::Refusal) -> Fail {
    match r {
        customer_decide::Refusal::Conflict(c) => {
            let reason = c.reason();
            let current = serde_json::to_value(CustomerWire::from(c.current)).unwrap_or_default();
            Fail::Conflict(json!({ "id": c.id.to_hex(), "version": c.version, "current": current }), reason)
        }
        other => Fail::Rejected(readable(other.synced())),
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
            Action::ItemUpdate { target, patch, .. } => {
                w.items.push((target, true));
                w.groups.extend(patch.group());
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
            world.items.insert(doc.id, ItemSlot { doc, new: false, folded: Default::default() });
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
                CustomerSlot { doc, new: false, folded: Default::default(), dues: 0, purchased: false, deleted: false },
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

    /// Move stock in memory (the decider checked the bounds); returns the stock after the move.
    fn move_stock(&mut self, item_id: ObjectId, delta: i64) -> Option<i64> {
        let slot = self.items.get_mut(&item_id)?;
        slot.doc.stock = slot.doc.stock.saturating_add(delta);
        if !slot.new {
            slot.folded.stock_delta = slot.folded.stock_delta.saturating_add(delta);
        }
        Some(slot.doc.stock)
    }

    /// What the catalog decider needs to know of the group a command names.
    fn item_refs(&self, group: Option<ObjectId>) -> catalog_decide::Refs {
        catalog_decide::Refs { group_found: group.is_none_or(|g| self.groups.contains_key(&g)), dealers_found: 0 }
    }

    /// Fold an item plan into the batch: the document as it now is, the edits and stock
    /// moves to write, the movement record, the change-log row. Returns the item's id.
    fn fold_item(&mut self, client_id: ObjectId, plan: catalog_decide::ItemPlan, now: DateTime) -> ObjectId {
        use catalog_decide::ItemPlan;
        let change = plan.change();
        let id = change.1;
        let moved = match &plan {
            ItemPlan::Insert { opening, .. } => *opening,
            ItemPlan::Update { stock, .. } => *stock,
            ItemPlan::Deactivate { .. } => None,
        };
        if let Some(m) = moved {
            self.movement(client_id, m.item_id, m.delta, m.reason, None, now);
        }
        match self.items.get_mut(&id) {
            Some(slot) => {
                if !slot.new {
                    slot.folded.fold(&plan);
                }
                slot.doc = plan.after().clone();
            }
            None => {
                self.items.insert(id, ItemSlot { doc: plan.after().clone(), new: true, folded: Default::default() });
                self.new_items.push(id);
            }
        }
        self.changed.push(change);
        id
    }

    /// The customer with this phone, unless deleted in this push.
    fn by_phone(&self, phone: &str) -> Option<&CustomerDoc> {
        self.phones.get(phone).and_then(|id| self.customers.get(id)).filter(|c| !c.deleted).map(|c| &c.doc)
    }

    /// Fold a customer plan into the batch (see [`World::fold_item`]). Returns its id.
    fn fold_customer(&mut self, plan: customer_decide::CustomerPlan) -> ObjectId {
        use customer_decide::CustomerPlan;
        let change = plan.change();
        let id = change.1;
        match plan {
            CustomerPlan::Insert(doc) => {
                self.phones.insert(doc.phone_number.clone(), id);
                self.new_customers.push(id);
                let slot = CustomerSlot {
                    doc,
                    new: true,
                    folded: Default::default(),
                    dues: 0,
                    purchased: false,
                    deleted: false,
                };
                self.customers.insert(id, slot);
            }
            CustomerPlan::Unchanged(_) => {}
            CustomerPlan::Update { .. } => {
                if let Some(slot) = self.customers.get_mut(&id) {
                    if !slot.new {
                        slot.folded.fold(&plan);
                    }
                    slot.doc = plan.after().clone();
                }
            }
            CustomerPlan::Delete(doc) => {
                if let Some(slot) = self.customers.get_mut(&id) {
                    slot.deleted = true;
                }
                self.phones.remove(&doc.phone_number);
            }
        }
        self.changed.push(change);
        id
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
            let cmd = CreateItem { client_id, id: ObjectId::new(), item: n.clone(), dealer_ids: vec![], now };
            let plan = catalog_decide::create_item(&cmd, &world.item_refs(n.group_id)).map_err(item_refusal)?;
            Ok(Res::Id(world.fold_item(client_id, plan, now)))
        }
        Action::ItemUpdate { target, patch, stock_delta, base } => {
            let id = resolve(target)?;
            let stock = StockChange::Delta(*stock_delta);
            let cmd = UpdateItem { client_id, id, patch: patch.clone(), stock, base: *base, now };
            let current = world.items.get(&id).map(|s| &s.doc);
            let plan =
                catalog_decide::update_item(&cmd, current, &world.item_refs(patch.group())).map_err(item_refusal)?;
            Ok(Res::Id(world.fold_item(client_id, plan, now)))
        }
        Action::ItemDelete(target) => {
            let id = resolve(target)?;
            let cmd = DeleteItem { client_id, id, now };
            let plan = catalog_decide::delete_item(&cmd, world.items.get(&id).map(|s| &s.doc)).map_err(item_refusal)?;
            Ok(Res::Id(world.fold_item(client_id, plan, now)))
        }
        Action::CustomerCreate { phone, name, extra } => {
            let cmd = CreateCustomer {
                client_id,
                id: ObjectId::new(),
                phone: phone.clone(),
                name: name.clone(),
                extra: extra.clone(),
                now,
            };
            let plan = customer_decide::create_customer(&cmd, &world.customer_fields, world.by_phone(phone))
                .map_err(customer_refusal)?;
            Ok(Res::Id(world.fold_customer(plan)))
        }
        Action::CustomerUpdate { target, name, extra, base } => {
            let id = resolve(target)?;
            let cmd = UpdateCustomer { client_id, id, name: name.clone(), extra: extra.clone(), base: *base, now };
            let current = world.customers.get(&id).filter(|c| !c.deleted).map(|c| &c.doc);
            let plan =
                customer_decide::update_customer(&cmd, &world.customer_fields, current).map_err(customer_refusal)?;
            Ok(Res::Id(world.fold_customer(plan)))
        }
        Action::CustomerDelete(target) => {
            let id = resolve(target)?;
            let cmd = DeleteCustomer { client_id, id, now };
            let current = world.customers.get(&id).filter(|c| !c.deleted).map(|c| &c.doc);
            let plan = customer_decide::delete_customer(&cmd, current).map_err(customer_refusal)?;
            Ok(Res::Id(world.fold_customer(plan)))
        }
        Action::InvoiceCreate(a) => {
            let mut products = Vec::with_capacity(a.lines.len());
            for (i, (r, q, price)) in a.lines.iter().enumerate() {
                products.push((i, resolve(r)?, *q, *price));
            }
            // the same sale again (its device reference already billed): the first invoice
            if let Some(first) = a.device_ref.as_ref().and_then(|r| world.billed.get(r)) {
                return Ok(Res::Duplicate(*first));
            }
            let sale = Sale {
                client_id,
                lines: LineSource::Products(products),
                customer: match (&a.customer_id, &a.phone) {
                    (Some(id), _) => CustomerRef::Id(*id),
                    (None, Some(p)) => CustomerRef::Phone { phone: p.clone(), name: a.name.clone() },
                    (None, None) => CustomerRef::None,
                },
                customer_name: a.name.clone(),
                customer_phone: a.phone.clone(),
                claimed_total: a.total,
                paid: a.paid,
                tax: a.tax,
                discount: a.discount,
                method: a.method.clone(),
                notes: a.notes.clone(),
                kind: KIND_INVOICE,
                options: SaleOptions::offline(Some(a.at), None, a.device_ref.clone()),
            };
            // billing's decider, on the batch's in-memory view (earlier operations included)
            let plan = {
                let catalog: HashMap<ObjectId, ItemDoc> = sale
                    .wanted(None)
                    .iter()
                    .filter_map(|w| world.items.get(&w.1).map(|s| (w.1, s.doc.clone())))
                    .collect();
                let customer = match &sale.customer {
                    CustomerRef::Id(id) => world.customers.get(id).filter(|c| !c.deleted).map(|c| &c.doc),
                    CustomerRef::Phone { phone, .. } => {
                        world.phones.get(phone).and_then(|id| world.customers.get(id)).map(|c| &c.doc)
                    }
                    CustomerRef::None => None,
                };
                let inputs = SaleInputs {
                    cart: None,
                    items: &catalog,
                    groups: &world.groups,
                    customer,
                    shop: ShopRules::default(),
                };
                decide::sale(&sale, &inputs, now, &mut ObjectId::new).map_err(refused)?
            };
            // the combined write adds this sale's dues to the others' (checked before anything changes)
            if let Some(CustomerEffect::Existing { id, dues, .. }) = &plan.customer {
                world.check_dues(*id, dues.as_i64())?;
            }
            // fold the plan into the batch
            let id = plan.invoice.id;
            if let Some(r) = &a.device_ref {
                world.billed.insert(r.clone(), id);
                world.device_sales.push(DeviceSale::new(client_id, ctx.device_id, r, id, now));
            }
            world.changed.extend(plan.changes());
            for m in &plan.moves {
                world.move_stock(m.item, m.delta);
            }
            world.movements.extend(plan.movements);
            match plan.customer {
                Some(CustomerEffect::New(doc)) => {
                    let c = doc.id;
                    world.phones.insert(doc.phone_number.clone(), c);
                    world.new_customers.push(c);
                    world.customers.insert(
                        c,
                        CustomerSlot {
                            doc: *doc,
                            new: true,
                            folded: Default::default(),
                            dues: 0,
                            purchased: false,
                            deleted: false,
                        },
                    );
                }
                Some(CustomerEffect::Existing { id: c, dues, purchased_at, name }) => {
                    if let (Some(n), Some(slot)) = (name, world.customers.get_mut(&c)) {
                        if !slot.new {
                            slot.folded.patch.name = Some(n.clone());
                        }
                        slot.doc.name = n;
                    }
                    world.dues(c, dues.as_i64(), true, purchased_at);
                }
                None => {}
            }
            world.histories.extend(plan.history);
            if let Some(fy) = plan.number_in {
                world.numbering.push((id, fy));
            }
            let flags = offline_flags(&plan.invoice, &plan.inactive);
            let warnings = plan.invoice.stock_warnings.clone();
            let payment_id = plan.first_payment.as_ref().map(|p| p.id);
            world.payments.extend(plan.first_payment);
            let original_paid = plan.invoice.paid_amount;
            world.invoices.insert(
                id,
                InvoiceSlot { doc: plan.invoice, new: true, original_paid, payments: 0, numbered_now: false },
            );
            world.new_invoices.push(id);
            Ok(Res::Invoice(id, payment_id, warnings, flags))
        }
        Action::PaymentCreate { invoice, amount, method, note, at } => {
            let invoice_id = resolve(invoice)?;
            if let Some(c) = world.invoices.get(&invoice_id).and_then(|i| i.doc.client_customer_id) {
                world.check_dues(c, -amount.as_i64())?;
            }
            let cmd = RecordPayment {
                client_id,
                invoice_id,
                amount: *amount,
                method: method.clone(),
                note: note.clone(),
                paid_at: Some(*at),
            };
            let inputs = PaymentInputs { invoice: world.invoices.get(&invoice_id).map(|s| &s.doc) };
            let plan = decide::payment(&cmd, &inputs, now, &mut ObjectId::new).map_err(refused)?;
            // fold the plan into the batch
            world.changed.extend(plan.changes());
            let slot = world.invoices.get_mut(&invoice_id).ok_or_else(|| refused(Refusal::InvoiceNotFound))?;
            slot.doc = plan.invoice;
            slot.payments += 1;
            if let Some(fy) = plan.number_in {
                // an incomplete sale of an earlier push, numbered now it is paid in full
                slot.numbered_now = true;
                world.numbering.push((invoice_id, fy));
            }
            world.histories.extend(plan.history);
            if let Some((c, dues)) = plan.customer {
                world.dues(c, dues.as_i64(), false, now);
            }
            let pid = plan.payment.id;
            world.payments.push(plan.payment);
            Ok(Res::Payment(pid, invoice_id))
        }
    }
}

/// The offline flags of a sale's lines: `priceOverrides` (billed at the device's price, not
/// the catalog's: the price of record is what the customer was shown) and `inactiveItems`
/// (items deactivated since the device pulled: `inactive`, from the plan).
fn offline_flags(inv: &InvoiceDoc, inactive: &[ObjectId]) -> Value {
    let overrides: Vec<Value> = inv
        .products
        .iter()
        .filter(|l| l.price_overridden)
        .map(|l| {
            json!({
                "productId": l.product_id.map(|p| p.to_hex()), "itemName": l.item_name,
                "price": l.cost_per_unit, "catalogPrice": l.catalog_price,
            })
        })
        .collect();
    let inactive: Vec<Value> = inactive
        .iter()
        .map(|id| {
            let name = inv.products.iter().find(|l| l.product_id == Some(*id)).map(|l| l.item_name.as_str());
            json!({ "productId": id.to_hex(), "itemName": name })
        })
        .collect();
    json!({ "priceOverrides": overrides, "inactiveItems": inactive })
}

/// Step 3: write the outcome of the batch.
async fn write(s: &mut ClientSession, ctx: &PushCtx<'_>, world: &mut World, now: DateTime) -> AppResult<()> {
    let db = &ctx.state.db;
    let client_id = ctx.client_id;
    let changed_doc = || AppError::internal("sync: a document changed during the push");

    // uncontended inserts first
    let new_items: Vec<&ItemDoc> =
        world.new_items.iter().filter_map(|id| world.items.get(id)).map(|s| &s.doc).collect();
    catalog_repo::insert_many(db, s, &new_items).await?;
    // existing customers first (a deleted customer's phone may be reused by a new one)
    for (id, c) in world.customers.iter().filter(|(_, c)| !c.new) {
        if c.deleted {
            if !customer_repo::remove(db, s, client_id, *id).await? {
                return Err(changed_doc());
            }
            continue;
        }
        if c.folded.is_empty() && c.dues == 0 && !c.purchased {
            continue;
        }
        let last_purchase = c.doc.last_purchase_at.filter(|_| c.purchased);
        if !customer_repo::write_folded(db, s, client_id, *id, &c.folded, c.dues, last_purchase, now).await? {
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
    customer_repo::insert_many(db, s, &new_customers).await?;
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
    for (id, it) in world.items.iter().filter(|(_, i)| !i.new && !i.folded.is_empty()) {
        if !catalog_repo::write_folded(db, s, client_id, *id, &it.folded, now).await? {
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
        let key = billing_repo::number_key(client_id, &fy);
        let last = billing_repo::reserve_seq(db, s, &key, list.len() as i64).await?;
        let first = last - list.len() as i64 + 1;
        for (k, id) in list.iter().enumerate() {
            if let Some(slot) = world.invoices.get_mut(id) {
                let seq = first + k as i64;
                slot.doc.invoice_number = Some(decide::format_number(&fy, seq));
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
