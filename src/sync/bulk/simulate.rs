//! Step 2 of the bulk apply: run the features' deciders over the in-memory `World` and
//! fold their plans in, one operation at a time.

use std::collections::{HashMap, HashSet};

use bson::{oid::ObjectId, DateTime};
use serde_json::{json, Value};

use crate::{
    access::{Actor, By},
    billing::{
        command::{CustomerRef, LineSource, RecordPayment, Sale, SaleOptions, SellerRights, KIND_INVOICE},
        decide::{self, CustomerEffect, PaymentInputs, Refusal, SaleInputs, ShopRules},
        model::InvoiceDoc,
        numbering,
    },
    catalog::dto::ItemWire,
    catalog::{
        command::{CreateItem, DeleteItem, StockChange, UpdateItem},
        decide as catalog_decide,
        model::ItemDoc,
        stock::StockMovement,
    },
    customer::{
        command::{CreateCustomer, DeleteCustomer, UpdateCustomer},
        decide as customer_decide,
        dto::CustomerWire,
        model::CustomerDoc,
    },
    error::AppError,
    money::Paise,
    sync::{
        ops::{Action, PushCtx, Ref},
        receipts::DeviceSale,
    },
};

use super::{CustomerSlot, Fail, InvoiceSlot, ItemSlot, Res, World};

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

impl World {
    fn movement(&mut self, client_id: ObjectId, m: catalog_decide::StockMove, by: Option<By>, now: DateTime) {
        // an item command's stock move (no document caused it), moved by the op's user
        self.movements.push(StockMovement {
            id: ObjectId::new(),
            client_id,
            item_id: m.item_id,
            delta: m.delta,
            reason: m.reason,
            ref_id: None,
            at: now,
            by,
            note: m.note,
        });
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

    /// What the catalog decider needs to know of the group and brand a command names and of
    /// the items (loaded or created in this push) already holding the code keys it sets.
    fn item_refs(
        &self,
        group: Option<ObjectId>,
        brand: Option<ObjectId>,
        product: Option<ObjectId>,
        codes: &[String],
    ) -> catalog_decide::Refs {
        let codes_held = self
            .items
            .values()
            .flat_map(|s| s.doc.details.codes.iter().filter(|c| codes.contains(c)).map(|c| (c.clone(), s.doc.id)))
            .collect();
        catalog_decide::Refs {
            group_found: group.is_none_or(|g| self.groups.contains_key(&g)),
            brand_found: brand.is_none_or(|b| self.brands.contains(&b)),
            product_found: product.is_none_or(|p| self.products.contains(&p)),
            dealers_found: 0,
            codes_held,
            // packing units are declared online only (issue 16): a push names none
            units: vec![],
        }
    }

    /// Fold an item plan into the batch: the document as it now is, the edits and stock
    /// moves to write, the movement record, the change-log row. Returns the item's id.
    fn fold_item(&mut self, client_id: ObjectId, plan: catalog_decide::ItemPlan, now: DateTime) -> ObjectId {
        use catalog_decide::ItemPlan;
        let change = plan.change();
        let id = change.1;
        let moved = match &plan {
            ItemPlan::Insert { opening, .. } => opening.clone(),
            ItemPlan::Update { stock, .. } => stock.clone(),
            ItemPlan::Deactivate { .. } => None,
        };
        if let Some(m) = moved {
            self.movement(client_id, m, plan.by().cloned(), now);
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
                    has_documents: false,
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

/// An operation to simulate: its action and who it is recorded and judged as (its `userId`'s
/// user, else the pushing session's).
#[derive(Clone, Copy)]
pub(super) struct Queued<'a> {
    pub action: &'a Action,
    pub actor: &'a Actor,
}

/// Step 2 for one operation: `Ok` with what it answers, or the reason it is rejected (then
/// nothing was changed).
pub(super) fn simulate(
    world: &mut World,
    ctx: &PushCtx<'_>,
    ids: &HashMap<String, ObjectId>,
    earlier: &HashMap<String, ObjectId>,
    failed: &HashSet<String>,
    queued: Queued<'_>,
    now: DateTime,
) -> Result<Res, Fail> {
    let Queued { action, actor } = queued;
    let by = &actor.by();
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
            let cmd = CreateItem {
                client_id,
                id: ObjectId::new(),
                item: n.clone(),
                dealer_ids: vec![],
                now,
                by: Some(by.clone()),
            };
            let plan = catalog_decide::create_item(
                &cmd,
                &world.item_refs(n.group_id, n.brand_id, n.details.variant_of, &n.details.code_keys()),
            )
            .map_err(item_refusal)?;
            Ok(Res::Id(world.fold_item(client_id, plan, now)))
        }
        Action::ItemUpdate { target, patch, stock_delta, base, adjust } => {
            let id = resolve(target)?;
            let stock = StockChange::Delta(*stock_delta);
            let cmd = UpdateItem {
                client_id,
                id,
                patch: (**patch).clone(),
                stock,
                base: *base,
                now,
                by: Some(by.clone()),
                adjust: adjust.clone(),
            };
            let current = world.items.get(&id).map(|s| &s.doc);
            let plan = catalog_decide::update_item(
                &cmd,
                current,
                &world.item_refs(patch.group(), patch.brand(), patch.details.product(), &patch.details.sent_keys()),
            )
            .map_err(item_refusal)?;
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
            let slot = world.customers.get(&id).filter(|c| !c.deleted);
            let documents = slot.is_some_and(|c| c.has_documents || c.purchased);
            let plan =
                customer_decide::delete_customer(&cmd, slot.map(|c| &c.doc), documents).map_err(customer_refusal)?;
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
                split: a.split.clone(),
                notes: a.notes.clone(),
                kind: KIND_INVOICE,
                options: SaleOptions {
                    printed: a.printed.clone(),
                    ..SaleOptions::offline(Some(a.at), None, a.device_ref.clone())
                },
                by: by.clone(),
                rights: SellerRights::of(actor),
                units: a.units.clone(),
                batch_nos: a.batch_nos.clone(),
                gst: a.gst.clone(),
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
                    lots: &world.lots,
                    numbers: &world.numbers,
                    gst: world.gst.as_ref(),
                    tax_codes: &world.tax_codes,
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
            // the lots the sale took: later sales of the batch see what is left
            for t in plan.batch_takes {
                if let Some(l) =
                    world.lots.by_item.get_mut(&t.item).and_then(|v| v.iter_mut().find(|l| l.id == t.batch))
                {
                    l.quantity -= t.quantity;
                }
                match world.batch_takes.iter_mut().find(|x| x.batch == t.batch) {
                    Some(x) => x.quantity += t.quantity,
                    None => world.batch_takes.push(t),
                }
            }
            world.audits.extend(plan.audit);
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
                            has_documents: true,
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
            let mut flags = offline_flags(&plan.invoice, &plan.inactive);
            // a printed number (issue 17): used now; a device series number above the highest
            // received + 1 reports the numbers between as a gap (bills not received yet)
            let printed = plan.invoice.offline_bill_ref.is_some() || plan.invoice.device_series.is_some();
            if let (Some(n), true) = (&plan.invoice.invoice_number, printed) {
                world.numbers.taken.insert(n.clone());
            }
            if let Some(sn) = &plan.invoice.device_series {
                let high = world.series_high.entry(sn.series_id).or_insert(0);
                if sn.seq > *high + 1 {
                    let prefix = world.numbers.series.iter().find(|d| d.id == sn.series_id).map(|d| d.prefix.clone());
                    let first = *high + 1;
                    let missing: Vec<String> = (first..sn.seq)
                        .take(100)
                        .map(|q| {
                            numbering::rules::leaf_number(
                                prefix.as_deref().unwrap_or(""),
                                q,
                                numbering::rules::SERIES_WIDTH,
                            )
                        })
                        .collect();
                    flags["numberGap"] = json!({
                        "seriesId": sn.series_id.to_hex(), "missing": missing, "missingCount": sn.seq - first,
                    });
                }
                *high = (*high).max(sn.seq);
            }
            let warnings = plan.invoice.stock_warnings.clone();
            let payment_ids = plan.payments.iter().map(|p| p.id).collect();
            world.payments.extend(plan.payments);
            let original_paid = plan.invoice.paid_amount;
            world.invoices.insert(
                id,
                InvoiceSlot { doc: plan.invoice, new: true, original_paid, payments: 0, numbered_now: false },
            );
            world.new_invoices.push(id);
            Ok(Res::Invoice(id, payment_ids, warnings, flags))
        }
        Action::PaymentCreate { invoice, amount, method, split, note, at } => {
            let invoice_id = resolve(invoice)?;
            let cmd = RecordPayment {
                client_id,
                invoice_id,
                amount: *amount,
                method: method.clone(),
                split: split.clone(),
                note: note.clone(),
                paid_at: Some(*at),
                by: by.clone(),
            };
            let inputs = PaymentInputs { invoice: world.invoices.get(&invoice_id).map(|s| &s.doc) };
            let plan = decide::payment(&cmd, &inputs, now, &mut ObjectId::new).map_err(refused)?;
            // the combined write adds this payment's dues move to the others' (checked first)
            if let Some((c, dues)) = plan.customer {
                world.check_dues(c, dues.as_i64())?;
            }
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
            let pids = plan.payments.iter().map(|p| p.id).collect();
            world.payments.extend(plan.payments);
            Ok(Res::Payment(pids, invoice_id))
        }
        // applied in their own step (`super::credit`, between the batches of the others):
        // never simulated here
        Action::InvoiceCancel(_) | Action::CreditNoteCreate(_) => {
            Err(Fail::Rejected("a cancel or credit note is applied in its own step".into()))
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
