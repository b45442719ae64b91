//! Step 1 of the bulk apply: read everything the batch names, one query per collection.

use std::collections::{HashMap, HashSet};

use bson::{doc, oid::ObjectId, Document};
use mongodb::ClientSession;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    billing::repo as billing_repo,
    catalog::model::{ItemDoc, ItemGroupDoc},
    customer::{model::CustomerDoc, repo as customer_repo},
    error::AppResult,
    sync::{
        apply::{CUSTOMERS, ITEMS},
        ops::{Action, OpRecord, PushCtx, Ref, OPS},
        receipts,
    },
};

use super::{CustomerSlot, InvoiceSlot, ItemSlot, World};

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
    brands: Vec<ObjectId>,
    /// The products item writes name (`variantOf`).
    products: Vec<ObjectId>,
    /// The code keys item creates and edits set (their holders are loaded, so the decider
    /// sees every item that already holds one).
    codes: Vec<String>,
}

fn wanted<'a>(ctx: &'a PushCtx<'_>) -> Wanted<'a> {
    let mut w = Wanted::default();
    for op in ctx.ops.iter().filter(|o| !ctx.skip.contains_key(&o.op_id)) {
        let Ok(action) = &op.action else { continue };
        match action {
            Action::ItemCreate(n) => {
                w.groups.extend(n.group_id);
                w.brands.extend(n.brand_id);
                w.products.extend(n.details.variant_of);
                w.codes.extend(n.details.code_keys());
            }
            Action::ItemUpdate { target, patch, .. } => {
                w.items.push((target, true));
                w.groups.extend(patch.group());
                w.brands.extend(patch.brand());
                w.products.extend(patch.details.product());
                w.codes.extend(patch.details.sent_keys());
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
            // applied in their own step (`super::credit`), through the online write path
            Action::InvoiceCancel(_) | Action::CreditNoteCreate(_) => {}
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
pub(super) async fn load(s: &mut ClientSession, ctx: &PushCtx<'_>) -> AppResult<(World, Earlier)> {
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
    // printed numbers (issue 17): the books named, this device's series, the numbers used
    let printed: Vec<&crate::billing::numbering::PrintedRef> = ctx
        .ops
        .iter()
        .filter(|o| !ctx.skip.contains_key(&o.op_id))
        .filter_map(|o| match &o.action {
            Ok(Action::InvoiceCreate(a)) => a.printed.as_ref(),
            _ => None,
        })
        .collect();
    world.numbers = crate::billing::numbering::repo::load(db, s, client_id, &printed, Some(ctx.device_id)).await?;
    world.series_high = world.numbers.series.iter().map(|d| (d.id, d.highest)).collect();

    let item_ids: HashSet<ObjectId> = w.items.iter().filter_map(|(r, _)| id_of(r)).collect();
    if !item_ids.is_empty() {
        let ids: Vec<ObjectId> = item_ids.into_iter().collect();
        for doc in
            find_all(s, db.collection::<ItemDoc>(ITEMS), doc! { "_id": { "$in": ids }, "clientId": client_id }).await?
        {
            world.items.insert(doc.id, ItemSlot { doc, new: false, folded: Default::default() });
        }
    }
    if !w.codes.is_empty() {
        let filter = crate::catalog::repo::code_filter(client_id, &w.codes);
        for doc in find_all(s, db.collection::<ItemDoc>(ITEMS), filter).await? {
            world.items.entry(doc.id).or_insert(ItemSlot { doc, new: false, folded: Default::default() });
        }
    }

    // the lots of the sold items (issue 16): FEFO runs on them in memory
    let sold: Vec<ObjectId> = ctx
        .ops
        .iter()
        .filter(|o| !ctx.skip.contains_key(&o.op_id))
        .filter_map(|o| match &o.action {
            Ok(Action::InvoiceCreate(a)) => Some(a.lines.iter().filter_map(|(r, _, _)| id_of(r)).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if !sold.is_empty() {
        // the shop's GST profile and the tax codes the sold items inherit (issue 17)
        world.gst = billing_repo::shop_profile(db, client_id).await?.1;
        if world.gst.is_some() {
            let items: HashMap<ObjectId, ItemDoc> =
                world.items.iter().map(|(id, slot)| (*id, slot.doc.clone())).collect();
            world.tax_codes = billing_repo::inherited_codes(db, client_id, &items).await?;
        }
        world.lots.by_item = crate::catalog::batch::repo::for_items(db, s, client_id, &sold).await?;
        if !world.lots.by_item.is_empty() {
            world.lots.allow_expired = billing_repo::client_settings(db, client_id).await?.catalog.allow_expired_sale;
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
                    folded: Default::default(),
                    dues: 0,
                    purchased: false,
                    deleted: false,
                    has_documents: false,
                },
            );
        }
        // a delete of a customer with documents deactivates it (customer::decide::delete_customer)
        if ctx.ops.iter().any(|o| matches!(o.action, Ok(Action::CustomerDelete(_)))) {
            let ids: Vec<ObjectId> = world.customers.keys().copied().collect();
            for id in customer_repo::with_documents(db, s, client_id, &ids).await? {
                if let Some(slot) = world.customers.get_mut(&id) {
                    slot.has_documents = true;
                }
            }
        }
    }

    if !w.brands.is_empty() {
        let ids: Vec<ObjectId> = w.brands.iter().copied().collect::<HashSet<_>>().into_iter().collect();
        // written (`usedAt`) in the push's transaction, so a concurrent delete conflicts
        crate::catalog::brand::repo::touch_brands(db, s, client_id, &ids).await?;
        let filter = doc! { "_id": { "$in": ids }, "clientId": client_id };
        for b in find_all(s, crate::catalog::brand::repo::brands(db), filter).await? {
            world.brands.insert(b.id);
        }
    }

    if !w.products.is_empty() {
        let ids: Vec<ObjectId> = w.products.iter().copied().collect::<HashSet<_>>().into_iter().collect();
        // written (`usedAt`) in the push's transaction, so a concurrent delete conflicts
        crate::catalog::product::repo::touch(db, s, client_id, &ids).await?;
        let filter = doc! { "_id": { "$in": ids }, "clientId": client_id };
        for p in find_all(s, crate::catalog::product::repo::products(db), filter).await? {
            world.products.insert(p.id);
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
