//! The credit notes repository (issue 18): the only code of `billing::credit` that builds
//! BSON. Functions taking a `ClientSession` run inside the caller's transaction.

use std::collections::HashMap;

use bson::{doc, oid::ObjectId, Bson, Document};
use futures::TryStreamExt;
use mongodb::{ClientSession, Collection, Database};

use super::{decide::Plan, model::CreditNoteDoc};
use crate::{
    billing::{
        model::InvoiceDoc,
        repo::{self as billing, Log},
    },
    catalog::{
        batch::BatchDoc,
        model::ItemDoc,
        stock::{self, Move, Moved, StockMovement},
    },
    db::scoped,
    error::AppError,
};

pub fn credit_notes(db: &Database) -> Collection<CreditNoteDoc> {
    db.collection(crate::changelog::CREDIT_NOTES)
}

/// What a cancel or credit note is decided on, read in the caller's transaction.
pub struct Loaded {
    pub invoice: Option<InvoiceDoc>,
    pub items: HashMap<ObjectId, ItemDoc>,
    pub lots: HashMap<ObjectId, Vec<BatchDoc>>,
    /// The shop's GST profile `roundOff` (false without a profile).
    pub round_off: bool,
    /// The credit note series prefix (`series.creditNote`, default `CN`).
    pub series: String,
}

impl Loaded {
    /// The decider's view of what was read.
    pub fn inputs(&self) -> super::decide::Inputs<'_> {
        super::decide::Inputs {
            invoice: self.invoice.as_ref(),
            items: &self.items,
            lots: &self.lots,
            round_off: self.round_off && self.invoice.as_ref().is_some_and(|i| i.gst.is_some()),
            series: &self.series,
        }
    }
}

/// Read the invoice `invoice_id` of the shop, the items of its lines (any active state),
/// their lots, and the shop's rounding and credit note series.
pub async fn load(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    invoice_id: ObjectId,
) -> Result<Loaded, AppError> {
    let invoice = billing::find_invoice_in(db, s, client_id, invoice_id).await?;
    let ids: Vec<ObjectId> = invoice.iter().flat_map(|i| i.products.iter().filter_map(|l| l.product_id)).collect();
    let items = if ids.is_empty() { HashMap::new() } else { billing::items_by_id(db, s, client_id, &ids).await? };
    let expiring: Vec<ObjectId> = items.values().filter(|i| i.details.has_expiry).map(|i| i.id).collect();
    let lots = if expiring.is_empty() {
        HashMap::new()
    } else {
        crate::catalog::batch::repo::for_items(db, s, client_id, &expiring).await?
    };
    let (_, gst) = billing::shop_profile(db, client_id).await?;
    let (round_off, series) = match gst {
        Some(p) => (p.round_off, p.series.credit_note),
        None => (false, crate::client::gst::CREDIT_NOTE_PREFIX.to_string()),
    };
    Ok(Loaded { invoice, items, lots, round_off, series })
}

/// `_id` of a shop's credit note counter for a financial year and series in `counters`
/// (`cn:<client>:26-27`, `cn:<client>:26-27:<prefix>` for a prefix other than `CN`).
pub fn number_key(client_id: ObjectId, fy: &str, series: &str) -> String {
    if series == crate::client::gst::CREDIT_NOTE_PREFIX {
        format!("cn:{}:{fy}", client_id.to_hex())
    } else {
        format!("cn:{}:{fy}:{series}", client_id.to_hex())
    }
}

/// The filter of a write guarded on the invoice's version (`__v`; absent on some old
/// documents reads as 0).
fn at_version(client_id: ObjectId, id: ObjectId, version: i32) -> Document {
    let v = if version == 0 { Bson::Document(doc! { "$in": [0, Bson::Null] }) } else { Bson::Int32(version) };
    doc! { "_id": id, "clientId": client_id, "__v": v }
}

/// Apply a decided cancel or credit note in the caller's transaction: the invoice replaced
/// by its decided state, guarded on the version it was decided on (a concurrent change makes
/// it match nothing: 409 `CONFLICT`, retry; never a double return); the refund payment; the
/// customer's dues (`$inc`); the purchase history row (a cancel); the stock back (`$inc`,
/// with the planned movements) and into the lots; the credit note with the next number of
/// its series and financial year; the audit entry; the change-log rows. Returns the invoice
/// after it and the credit note as stored (numbered).
pub async fn apply(
    db: &Database,
    s: &mut ClientSession,
    plan: Plan,
    log: Log<'_>,
) -> Result<(InvoiceDoc, Option<CreditNoteDoc>), AppError> {
    let changes = plan.changes();
    let Plan { invoice, version_before, note, refund, restock, movements, customer, drop_history, audit } = plan;
    let client_id = invoice.client_id;
    let now = invoice.updated_at;
    let r = billing::invoices(db)
        .replace_one(at_version(client_id, invoice.id, version_before), &invoice)
        .session(&mut *s)
        .await?;
    if r.matched_count != 1 {
        return Err(AppError::conflict(crate::error::code::CONFLICT, "The invoice changed meanwhile; retry"));
    }
    if let Some(p) = &refund {
        billing::payments(db).insert_one(p).session(&mut *s).await?;
    }
    if let Some((c, dues)) = customer {
        db.collection::<Document>("clientcustomers")
            .update_one(
                scoped(client_id, doc! { "_id": c }),
                doc! { "$inc": { "outstandingBalance": dues.as_i64() }, "$set": { "updatedAt": now } },
            )
            .session(&mut *s)
            .await?;
    }
    if drop_history {
        billing::histories(db)
            .delete_many(doc! { "clientId": client_id, "invoiceId": invoice.id })
            .session(&mut *s)
            .await?;
    }
    if !movements.is_empty() {
        db.collection::<StockMovement>("stockmovements").insert_many(&movements).session(&mut *s).await?;
    }
    let moves: Vec<Move> = restock
        .iter()
        .map(|r| Move {
            client_id,
            item_id: r.item,
            delta: r.units,
            allow_negative: true,
            reason: movements.first().map_or(stock::Reason::Return, |m| m.reason),
            ref_id: movements.first().and_then(|m| m.ref_id),
            by: None,
        })
        .collect();
    for (m, outcome) in moves.iter().zip(stock::move_many(db, s, &moves).await?) {
        match outcome {
            Moved::Done | Moved::Insufficient => {}
            Moved::OutOfRange => return Err(crate::limits::stock_out_of_range(&m.item_id.to_hex())),
            Moved::NotFound => {
                return Err(AppError::conflict(
                    crate::error::code::CONFLICT,
                    "An item of the invoice changed meanwhile; retry",
                ))
            }
        }
    }
    let lots: Vec<(ObjectId, i64)> = restock.iter().flat_map(|r| r.lots.iter().copied()).collect();
    crate::catalog::batch::repo::give_back(db, s, client_id, &lots, now).await?;
    let note = match note {
        Some(mut n) => {
            let key = number_key(client_id, &n.financial_year, &n.series);
            n.seq = billing::reserve_seq(db, s, &key, 1).await?;
            n.credit_note_number = crate::billing::decide::format_in_series(&n.series, &n.financial_year, n.seq);
            credit_notes(db).insert_one(&n).session(&mut *s).await?;
            Some(n)
        }
        None => None,
    };
    if let Some(a) = &audit {
        crate::audit::record(db, Some(&mut *s), a).await?;
    }
    log.write(db, s, client_id, changes).await?;
    Ok((invoice, note))
}

/// One credit note of the shop (a foreign or unknown id: `None`).
pub async fn find(db: &Database, client_id: ObjectId, id: ObjectId) -> Result<Option<CreditNoteDoc>, AppError> {
    Ok(credit_notes(db).find_one(doc! { "_id": id, "clientId": client_id }).await?)
}

/// The shop's credit notes matching `filter` (an invoice's, a customer's, a date range), newest
/// first, a page of `limit` after `skip`, and how many match in all.
pub async fn list(
    db: &Database,
    client_id: ObjectId,
    filter: Document,
    skip: u64,
    limit: i64,
) -> Result<(Vec<CreditNoteDoc>, u64), AppError> {
    let filter = scoped(client_id, filter);
    let total = credit_notes(db).count_documents(filter.clone()).await?;
    let docs = credit_notes(db)
        .find(filter)
        .sort(doc! { "issuedAt": -1, "_id": -1 })
        .skip(skip)
        .limit(limit)
        .await?
        .try_collect()
        .await?;
    Ok((docs, total))
}

/// The filter of [`list`] for one invoice's notes.
pub fn of_invoice(invoice_id: ObjectId) -> Document {
    doc! { "invoiceId": invoice_id }
}
