//! Step 3 of the bulk apply: the combined write of the batch through the repositories.

use bson::{doc, oid::ObjectId, DateTime};
use mongodb::ClientSession;

use crate::{
    billing::{decide, model::InvoiceDoc, repo as billing_repo},
    catalog::{model::ItemDoc, repo as catalog_repo, stock::StockMovement},
    customer::{model::CustomerDoc, repo as customer_repo},
    error::{AppError, AppResult},
    sync::{ops::PushCtx, receipts},
    time,
};

use super::World;

/// Step 3: write the outcome of the batch.
pub(super) async fn write(s: &mut ClientSession, ctx: &PushCtx<'_>, world: &mut World, now: DateTime) -> AppResult<()> {
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
    for a in &world.audits {
        crate::audit::record(db, Some(&mut *s), a).await?;
    }

    // the lots the sales took (issue 16), each guarded on what it holds
    crate::catalog::batch::repo::take(db, s, client_id, &world.batch_takes).await?;

    // existing items: the fields sent, and stock by its delta
    for (id, it) in world.items.iter().filter(|(_, i)| !i.new && !i.folded.is_empty()) {
        if !catalog_repo::write_folded(db, s, client_id, *id, &it.folded, now).await? {
            return Err(changed_doc());
        }
    }

    // the contended writes last: consecutive numbers (one `$inc` per financial year, given
    // out in operation order), then the invoices
    // (financial year, series) -> invoices, in operation order (issue 17: each document
    // type numbers in its own series)
    // (financial year, series prefix)
    type Series = (String, Option<String>);
    let mut per_year: Vec<(Series, Vec<ObjectId>)> = Vec::new();
    for (id, fy) in &world.numbering {
        let key = (fy.clone(), world.invoices.get(id).and_then(|i| i.doc.series.clone()));
        match per_year.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(*id),
            None => per_year.push((key, vec![*id])),
        }
    }
    let today = time::ist_date_string(now);
    for ((fy, series), list) in per_year {
        let key = billing_repo::number_key(client_id, &fy, series.as_deref());
        let last = billing_repo::reserve_seq(db, s, &key, list.len() as i64).await?;
        let first = last - list.len() as i64 + 1;
        for (k, id) in list.iter().enumerate() {
            if let Some(slot) = world.invoices.get_mut(id) {
                let seq = first + k as i64;
                decide::number(&mut slot.doc, &fy, seq);
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
            "paymentMethod": d.payment_method.as_deref(),
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
        // printed numbers (issue 17): each book leaf and device series number used
        crate::billing::numbering::repo::record_uses(db, s, client_id, &new_invoices).await?;
        billing_repo::invoices(db).insert_many(new_invoices).session(&mut *s).await?;
    }
    Ok(())
}
