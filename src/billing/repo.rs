//! Billing repository: the only billing code that builds BSON filters. Functions taking a
//! `ClientSession` run inside the caller's transaction.

use std::collections::HashMap;

use bson::{doc, oid::ObjectId, DateTime, Document};
use futures::TryStreamExt;
use mongodb::{options::ReturnDocument, ClientSession, Collection, Database};

use crate::{
    billing::{
        command::{CustomerRef, LineSource, RecordPayment, Sale},
        decide::{self, CustomerEffect, PaymentPlan, Refusal, SalePlan, ShopRules},
        model::*,
    },
    catalog::{
        model::{ItemDoc, ItemGroupDoc},
        stock::{self, Move, Moved, Reason, StockMovement},
    },
    client::model::ClientSettings,
    customer::model::CustomerDoc,
    db::scoped,
    error::AppError,
};

/// The name of a customer created without one (`decide::PLACEHOLDER_NAME`).
pub use crate::billing::decide::PLACEHOLDER_NAME;

pub fn carts(db: &Database) -> Collection<CartDoc> {
    db.collection("carts")
}
pub fn invoices(db: &Database) -> Collection<InvoiceDoc> {
    db.collection("invoices")
}
pub fn payments(db: &Database) -> Collection<PaymentDoc> {
    db.collection("payments")
}
pub fn histories(db: &Database) -> Collection<PurchaseHistoryDoc> {
    db.collection("purchasehistories")
}
fn customers(db: &Database) -> Collection<CustomerDoc> {
    db.collection("clientcustomers")
}

/// The shop's settings and GST profile (issue 17), in one read.
pub async fn shop_profile(
    db: &Database,
    client_id: ObjectId,
) -> Result<(ClientSettings, Option<crate::client::gst::GstProfile>), AppError> {
    let d = db
        .collection::<Document>("clients")
        .find_one(doc! { "_id": client_id })
        .projection(doc! { "clientSettings": 1, "gstProfile": 1 })
        .await?;
    let settings = d
        .as_ref()
        .and_then(|d| d.get_document("clientSettings").ok().cloned())
        .and_then(|s| bson::from_document(s).ok())
        .unwrap_or_default();
    let profile = match d.as_ref().and_then(|d| d.get_document("gstProfile").ok()) {
        Some(p) => Some(
            bson::from_document(p.clone()).map_err(|_| AppError::internal("the shop's gstProfile cannot be read"))?,
        ),
        None => None,
    };
    Ok((settings, profile))
}

pub async fn client_settings(db: &Database, client_id: ObjectId) -> Result<ClientSettings, AppError> {
    let d = db
        .collection::<Document>("clients")
        .find_one(doc! { "_id": client_id })
        .projection(doc! { "clientSettings": 1 })
        .await?;
    Ok(d.and_then(|d| d.get_document("clientSettings").ok().cloned())
        .and_then(|s| bson::from_document(s).ok())
        .unwrap_or_default())
}

// ---------- carts ----------

pub async fn insert_cart(db: &Database, cart: &CartDoc) -> Result<(), AppError> {
    carts(db).insert_one(cart).await?;
    Ok(())
}

pub async fn find_cart(db: &Database, client_id: ObjectId, id: ObjectId) -> Result<Option<CartDoc>, AppError> {
    Ok(carts(db).find_one(doc! { "_id": id, "clientId": client_id }).await?)
}

fn expiry() -> DateTime {
    DateTime::from_millis(DateTime::now().timestamp_millis() + 24 * 3600 * 1000)
}

/// Append a line to an open cart (and refresh its expiry). `None` when the cart is not an
/// open cart of this client.
pub async fn push_line(
    db: &Database,
    client_id: ObjectId,
    id: ObjectId,
    line: &CartLine,
    max_lines: usize,
) -> Result<Option<CartDoc>, AppError> {
    let line = bson::to_bson(line)?;
    let key = format!("lines.{}", max_lines.saturating_sub(1));
    Ok(carts(db)
        .find_one_and_update(
            doc! { "_id": id, "clientId": client_id, "status": CART_OPEN, key: { "$exists": false } },
            doc! { "$push": { "lines": line }, "$set": { "expiresAt": expiry(), "updatedAt": DateTime::now() }, "$inc": { "__v": 1 } },
        )
        .return_document(ReturnDocument::After)
        .await?)
}

/// Remove one line from an open cart. `None` when no open cart of this client has that line.
pub async fn pull_line(
    db: &Database,
    client_id: ObjectId,
    id: ObjectId,
    line_id: ObjectId,
) -> Result<Option<CartDoc>, AppError> {
    Ok(carts(db)
        .find_one_and_update(
            doc! { "_id": id, "clientId": client_id, "status": CART_OPEN, "lines._id": line_id },
            doc! { "$pull": { "lines": { "_id": line_id } }, "$set": { "expiresAt": expiry(), "updatedAt": DateTime::now() }, "$inc": { "__v": 1 } },
        )
        .return_document(ReturnDocument::After)
        .await?)
}

pub async fn delete_open_cart(db: &Database, client_id: ObjectId, id: ObjectId) -> Result<bool, AppError> {
    Ok(carts(db).delete_one(doc! { "_id": id, "clientId": client_id, "status": CART_OPEN }).await?.deleted_count == 1)
}

pub async fn find_cart_in(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Option<CartDoc>, AppError> {
    Ok(carts(db).find_one(doc! { "_id": id, "clientId": client_id }).session(&mut *s).await?)
}

// ---------- catalog reads ----------

/// The client's items with these ids (any active state).
pub async fn items_by_id(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    ids: &[ObjectId],
) -> Result<HashMap<ObjectId, ItemDoc>, AppError> {
    let mut cur = db
        .collection::<ItemDoc>("items")
        .find(doc! { "_id": { "$in": ids }, "clientId": client_id })
        .session(&mut *s)
        .await?;
    let mut out = HashMap::new();
    while let Some(i) = cur.next(&mut *s).await.transpose()? {
        out.insert(i.id, i);
    }
    Ok(out)
}

pub async fn item_for_cart(db: &Database, client_id: ObjectId, id: ObjectId) -> Result<Option<ItemDoc>, AppError> {
    Ok(db.collection::<ItemDoc>("items").find_one(doc! { "_id": id, "clientId": client_id, "isActive": true }).await?)
}

pub async fn group_names(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    ids: &[ObjectId],
) -> Result<HashMap<ObjectId, String>, AppError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut cur = db
        .collection::<ItemGroupDoc>("itemgroups")
        .find(doc! { "_id": { "$in": ids }, "clientId": client_id })
        .session(&mut *s)
        .await?;
    let mut out = HashMap::new();
    while let Some(g) = cur.next(&mut *s).await.transpose()? {
        out.insert(g.id, g.name);
    }
    Ok(out)
}

// ---------- customers ----------

pub async fn customer_by_id(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Option<CustomerDoc>, AppError> {
    Ok(customers(db).find_one(doc! { "_id": id, "clientId": client_id }).session(&mut *s).await?)
}

/// Get or create the customer with this phone. A name is written only when the customer is
/// new or still has no real name: a stored name is never replaced by a placeholder (U9).
pub async fn upsert_customer(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    phone: &str,
    name: Option<&str>,
) -> Result<CustomerDoc, AppError> {
    let now = DateTime::now();
    let c = customers(db)
        .find_one_and_update(
            doc! { "clientId": client_id, "phoneNumber": phone },
            doc! { "$setOnInsert": {
                "name": name.unwrap_or(PLACEHOLDER_NAME), "address": "", "emailId": "", "gstNo": "",
                "outstandingBalance": 0_i64, "firstSeenAt": now, "lastPurchaseAt": bson::Bson::Null,
                "createdAt": now, "updatedAt": now, "__v": 0,
            } },
        )
        .upsert(true)
        .return_document(ReturnDocument::After)
        .session(&mut *s)
        .await?
        .ok_or_else(|| AppError::internal("customer upsert returned nothing"))?;
    if let Some(n) = name {
        if c.name.is_empty() || c.name == PLACEHOLDER_NAME {
            customers(db)
                .update_one(scoped(client_id, doc! { "_id": c.id }), doc! { "$set": { "name": n, "updatedAt": now } })
                .session(&mut *s)
                .await?;
            return Ok(CustomerDoc { name: n.to_string(), ..c });
        }
    }
    Ok(c)
}

pub async fn upsert_customer_plain(
    db: &Database,
    client: &mongodb::Client,
    client_id: ObjectId,
    phone: &str,
    name: Option<&str>,
) -> Result<CustomerDoc, AppError> {
    let ctx = (db, client_id, phone, name);
    crate::db::transaction(client, &ctx, |s, (db, client_id, phone, name)| {
        Box::pin(async move {
            let before =
                customers(db).find_one(doc! { "clientId": *client_id, "phoneNumber": *phone }).session(&mut *s).await?;
            let c = upsert_customer(db, s, *client_id, phone, *name).await?;
            // a new customer, or a placeholder name replaced: logged for the pull
            if before.as_ref().is_none_or(|b| b.name != c.name) {
                crate::changelog::append(db, s, *client_id, &[(crate::changelog::CUSTOMERS, c.id, false)]).await?;
            }
            Ok(c)
        })
    })
    .await
}

// ---------- invoices and payments ----------

/// Take `n` consecutive numbers of the counter `key` at once; returns the last one.
pub async fn reserve_seq(db: &Database, s: &mut ClientSession, key: &str, n: i64) -> Result<i64, AppError> {
    let d = db
        .collection::<Document>("counters")
        .find_one_and_update(doc! { "_id": key }, doc! { "$inc": { "seq": n } })
        .upsert(true)
        .return_document(ReturnDocument::After)
        .session(&mut *s)
        .await?
        .ok_or_else(|| AppError::internal("counter upsert returned nothing"))?;
    d.get_i64("seq").map_err(|_| AppError::internal("counter without seq"))
}

/// The ids of this shop's invoices (any kind) matching `filter` (e.g. one customer's), read
/// by id only.
pub async fn invoice_ids(db: &Database, client_id: ObjectId, filter: Document) -> Result<Vec<ObjectId>, AppError> {
    let docs: Vec<Document> = invoices(db)
        .clone_with_type::<Document>()
        .find(scoped(client_id, filter))
        .projection(doc! { "_id": 1 })
        .await?
        .try_collect()
        .await?;
    Ok(docs.iter().filter_map(|d| d.get_object_id("_id").ok()).collect())
}

pub async fn find_invoice_in(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Option<InvoiceDoc>, AppError> {
    Ok(invoices(db).find_one(doc! { "_id": id, "clientId": client_id }).session(&mut *s).await?)
}

pub async fn find_invoice(db: &Database, client_id: ObjectId, id: ObjectId) -> Result<Option<InvoiceDoc>, AppError> {
    Ok(invoices(db).find_one(doc! { "_id": id, "clientId": client_id }).await?)
}

pub async fn payments_of(
    db: &Database,
    client_id: ObjectId,
    invoice_id: ObjectId,
) -> Result<Vec<PaymentDoc>, AppError> {
    Ok(payments(db)
        .find(doc! { "clientId": client_id, "invoiceId": invoice_id })
        .sort(doc! { "paidAt": 1, "_id": 1 })
        .await?
        .try_collect()
        .await?)
}

// ---------- the write path of a sale and a payment: load, then apply a decided plan ----------

/// Where the change-log rows of an applied plan go.
pub enum Log<'a> {
    /// Appended now, in the caller's transaction (`changelog::append`): one write, one block
    /// of the shop's sequence (online sales and payments).
    Now,
    /// Added to the caller's batch, which appends them once at the end of its transaction
    /// (v1 `/api/sync`).
    Into(&'a mut Vec<(&'static str, ObjectId, bool)>),
}

impl Log<'_> {
    /// Write (or collect) the change-log rows of an applied plan.
    pub async fn write(
        self,
        db: &Database,
        s: &mut ClientSession,
        client_id: ObjectId,
        changes: Vec<(&'static str, ObjectId, bool)>,
    ) -> Result<(), AppError> {
        match self {
            Log::Now => {
                crate::changelog::append(db, s, client_id, &changes).await?;
            }
            Log::Into(batch) => batch.extend(changes),
        }
        Ok(())
    }
}

/// The documents a sale is decided on (`decide::SaleInputs`), read in the caller's
/// transaction: one read per collection.
pub struct LoadedSale {
    pub cart: Option<CartDoc>,
    pub items: HashMap<ObjectId, ItemDoc>,
    pub groups: HashMap<ObjectId, String>,
    pub customer: Option<CustomerDoc>,
    pub shop: ShopRules,
    /// The lots of the lines' `hasExpiry` items and the shop's `allowExpiredSale` (issue 16).
    pub lots: crate::catalog::batch::Lots,
    /// What the sale's printed number is judged against (issue 17; empty without one).
    pub numbers: crate::billing::numbering::Numbers,
    /// The shop's GST profile and the inherited tax codes of the lines' items (issue 17).
    pub gst: Option<crate::client::gst::GstProfile>,
    pub tax_codes: HashMap<ObjectId, crate::catalog::tax::TaxCode>,
}

impl LoadedSale {
    /// The decider's view of what was read.
    pub fn inputs(&self) -> decide::SaleInputs<'_> {
        decide::SaleInputs {
            cart: self.cart.as_ref(),
            items: &self.items,
            groups: &self.groups,
            customer: self.customer.as_ref(),
            shop: self.shop,
            lots: &self.lots,
            numbers: &self.numbers,
            gst: self.gst.as_ref(),
            tax_codes: &self.tax_codes,
        }
    }
}

/// Read what `sale` names: its cart, the shop's items of its lines (any active state) and
/// their groups, its customer (by id, or by phone; the cart's when the sale names none),
/// and the shop's billing settings when the sale defers to them.
pub async fn load_for_sale(db: &Database, s: &mut ClientSession, sale: &Sale) -> Result<LoadedSale, AppError> {
    let client_id = sale.client_id;
    let (settings, gst) = shop_profile(db, client_id).await?;
    let shop = if sale.options.allow_negative.is_none() || sale.options.require_full.is_none() {
        let b = settings.billing;
        ShopRules { allow_negative_stock: b.allow_negative_stock, require_full_payment: b.require_full_payment }
    } else {
        ShopRules::default()
    };
    let cart = match &sale.lines {
        LineSource::Cart(id) => find_cart_in(db, s, client_id, *id).await?,
        LineSource::Products(_) => None,
    };
    let ids: Vec<ObjectId> = sale.wanted(cart.as_ref()).iter().map(|w| w.1).collect();
    let items = if ids.is_empty() { HashMap::new() } else { items_by_id(db, s, client_id, &ids).await? };
    let group_ids: Vec<ObjectId> = items.values().filter_map(|i| i.group_id).collect();
    let groups = group_names(db, s, client_id, &group_ids).await?;
    let customer = match sale.customer_ref(cart.as_ref()) {
        CustomerRef::None => None,
        CustomerRef::Id(id) => customer_by_id(db, s, client_id, id).await?,
        CustomerRef::Phone { phone, .. } => {
            customers(db).find_one(doc! { "clientId": client_id, "phoneNumber": phone }).session(&mut *s).await?
        }
    };
    let lots = load_lots(db, s, client_id, &items).await?;
    let tax_codes = match &gst {
        Some(_) => inherited_codes(db, client_id, &items).await?,
        None => HashMap::new(),
    };
    // a paper bill's book (online and v1 name no device series)
    let printed: Vec<&crate::billing::numbering::PrintedRef> = sale.options.printed.iter().collect();
    let numbers = crate::billing::numbering::repo::load(db, s, client_id, &printed, None).await?;
    Ok(LoadedSale { cart, items, groups, customer, shop, lots, gst, tax_codes, numbers })
}

/// The tax codes the items without one of their own inherit (their product's, else their
/// category's; `billing::decide::tax::inherited`).
pub async fn inherited_codes(
    db: &Database,
    client_id: ObjectId,
    items: &HashMap<ObjectId, ItemDoc>,
) -> Result<HashMap<ObjectId, crate::catalog::tax::TaxCode>, AppError> {
    let bare: Vec<ItemDoc> = items.values().filter(|i| i.details.tax.is_none()).cloned().collect();
    if bare.is_empty() {
        return Ok(HashMap::new());
    }
    let defaults = crate::catalog::service::tax_defaults_in(db, client_id, &bare).await?;
    Ok(decide::tax::inherited(items, &defaults))
}

/// The lots of the `hasExpiry` items among `items` and the shop's `allowExpiredSale` (read
/// only when a line's item tracks expiry), in the caller's transaction.
pub async fn load_lots(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    items: &HashMap<ObjectId, ItemDoc>,
) -> Result<crate::catalog::batch::Lots, AppError> {
    let expiring: Vec<ObjectId> = items.values().filter(|i| i.details.has_expiry).map(|i| i.id).collect();
    if expiring.is_empty() {
        return Ok(Default::default());
    }
    Ok(crate::catalog::batch::Lots {
        by_item: crate::catalog::batch::repo::for_items(db, s, client_id, &expiring).await?,
        allow_expired: client_settings(db, client_id).await?.catalog.allow_expired_sale,
    })
}

/// Apply a decided sale in the caller's transaction, the contended writes last: claim the
/// cart (guarded on `open`), the customer (a new one inserted: the unique phone index
/// refuses a twin; an existing one's dues by `$inc`), its payments (one per paid part), the purchase
/// history, the stock movements, the stock moves (guarded: without `below_zero` a
/// concurrent sale that took the stock makes this one 409 `INSUFFICIENT_STOCK`), the next
/// consecutive number of the plan's financial year (or the use of the printed number the
/// invoice keeps, issue 17), the invoice, then the change-log rows.
/// Returns the invoice as stored (numbered), with its `stock_warnings`.
pub async fn apply_sale(
    db: &Database,
    s: &mut ClientSession,
    plan: SalePlan,
    log: Log<'_>,
) -> Result<InvoiceDoc, AppError> {
    let changes = plan.changes();
    let SalePlan {
        mut invoice,
        number_in,
        payments: sale_payments,
        cart,
        moves,
        movements,
        customer,
        history,
        audit,
        batch_takes,
        ..
    } = plan;
    let client_id = invoice.client_id;
    let now = invoice.created_at;
    if let Some(cart) = cart {
        let r = carts(db)
            .update_one(
                doc! { "_id": cart, "clientId": client_id, "status": CART_OPEN },
                doc! { "$set": { "status": CART_INVOICED, "invoiceId": invoice.id, "updatedAt": now }, "$inc": { "__v": 1 } },
            )
            .session(&mut *s)
            .await?;
        if r.matched_count != 1 {
            return Err(Refusal::CartInvoiced.into());
        }
    }
    match &customer {
        Some(CustomerEffect::New(c)) => {
            // inserted unless the phone became a customer since it was read (then the plan is
            // stale: refused, the caller retries)
            let mut fields = bson::to_document(c.as_ref())?;
            fields.remove("clientId");
            fields.remove("phoneNumber");
            let r = customers(db)
                .update_one(
                    doc! { "clientId": client_id, "phoneNumber": &c.phone_number },
                    doc! { "$setOnInsert": fields },
                )
                .upsert(true)
                .session(&mut *s)
                .await?;
            if r.upserted_id.is_none() {
                return Err(AppError::conflict(
                    crate::error::code::CONFLICT,
                    "Invoice generation failed: the customer was created meanwhile; retry",
                ));
            }
        }
        Some(CustomerEffect::Existing { id, dues, purchased_at, name }) => {
            let mut set = doc! { "updatedAt": now };
            if let Some(n) = name {
                set.insert("name", n.as_str());
            }
            customers(db)
                .update_one(
                    scoped(client_id, doc! { "_id": *id }),
                    doc! { "$inc": { "outstandingBalance": dues.as_i64() }, "$set": set, "$max": { "lastPurchaseAt": *purchased_at } },
                )
                .session(&mut *s)
                .await?;
        }
        None => {}
    }
    if !sale_payments.is_empty() {
        payments(db).insert_many(&sale_payments).session(&mut *s).await?;
    }
    if let Some(h) = &history {
        histories(db).insert_one(h).session(&mut *s).await?;
    }
    if let Some(a) = &audit {
        // an offline sale made without an approval it needed: flagged for review
        crate::audit::record(db, Some(&mut *s), a).await?;
    }
    if !movements.is_empty() {
        db.collection::<StockMovement>("stockmovements").insert_many(&movements).session(&mut *s).await?;
    }
    let guarded: Vec<Move> = moves
        .iter()
        .map(|m| Move {
            client_id,
            item_id: m.item,
            delta: m.delta,
            allow_negative: m.below_zero,
            reason: Reason::Sale,
            ref_id: Some(invoice.id),
            // recorded by the plan's `movements`
            by: None,
        })
        .collect();
    let moved = stock::move_many(db, s, &guarded).await?;
    let mut short = Vec::new();
    for (m, outcome) in moves.iter().zip(moved) {
        let name = || invoice.products.iter().find(|l| l.product_id == Some(m.item)).map(|l| l.item_name.clone());
        match outcome {
            Moved::Done => {}
            Moved::Insufficient => short.extend(name()),
            Moved::OutOfRange => return Err(crate::limits::stock_out_of_range(&name().unwrap_or_default())),
            Moved::NotFound => {
                return Err(AppError::validation(
                    "products",
                    format!("{} is not an item of this shop", name().unwrap_or_default()),
                ))
            }
        }
    }
    if !short.is_empty() {
        return Err(Refusal::InsufficientStock(short).into());
    }
    // the lots of hasExpiry items, each guarded on what it holds
    crate::catalog::batch::repo::take(db, s, client_id, &batch_takes).await?;
    if let Some(fy) = number_in {
        let seq = reserve_seq(db, s, &number_key(client_id, &fy, invoice.series.as_deref()), 1).await?;
        decide::number(&mut invoice, &fy, seq);
    }
    // a printed number (issue 17): its book leaf or device series records the use, and the
    // unique number index answers a twin 409 NUMBER_USED
    crate::billing::numbering::repo::record_uses(db, s, client_id, &[&invoice]).await?;
    invoices(db).insert_one(&invoice).session(&mut *s).await.map_err(|e| {
        crate::billing::numbering::repo::number_clash(&e, &invoice).unwrap_or_else(|| AppError::from(e))
    })?;
    log.write(db, s, client_id, changes).await?;
    Ok(invoice)
}

/// `_id` of the invoice counter of a shop, financial year and series in `counters`: the
/// default series (`None`, `INV`) keeps the key it had before issue 17, so numbering carries
/// on; another series counts on its own (`inv:<client>:26-27:BOS`).
pub fn number_key(client_id: ObjectId, fy: &str, series: Option<&str>) -> String {
    match series.filter(|p| *p != crate::client::gst::DEFAULT_PREFIX) {
        None => format!("inv:{}:{fy}", client_id.to_hex()),
        Some(p) => format!("inv:{}:{fy}:{p}", client_id.to_hex()),
    }
}

/// Read the invoice a payment names (in the caller's transaction).
pub async fn load_for_payment(
    db: &Database,
    s: &mut ClientSession,
    p: &RecordPayment,
) -> Result<Option<InvoiceDoc>, AppError> {
    find_invoice_in(db, s, p.client_id, p.invoice_id).await
}

/// Apply a decided payment in the caller's transaction: the payment records (one per paid
/// part of a split payment), the customer's
/// dues (`$inc`), the purchase history (when it completes the invoice), the number (an
/// incomplete sale completed), then the invoice's payment state by a write guarded on the
/// paid amount it was decided on and `isFinalized: false` (a concurrent payment makes it
/// match nothing: 409, never an overpayment), then the change-log rows.
pub async fn apply_payment(
    db: &Database,
    s: &mut ClientSession,
    plan: PaymentPlan,
    log: Log<'_>,
) -> Result<(Vec<PaymentDoc>, InvoiceDoc), AppError> {
    let changes = plan.changes();
    let PaymentPlan { payments: recorded, mut invoice, paid_before, number_in, customer, history } = plan;
    let client_id = invoice.client_id;
    payments(db).insert_many(&recorded).session(&mut *s).await?;
    if let Some((c, dues)) = customer {
        customers(db)
            .update_one(
                scoped(client_id, doc! { "_id": c }),
                doc! { "$inc": { "outstandingBalance": dues.as_i64() }, "$set": { "updatedAt": invoice.updated_at } },
            )
            .session(&mut *s)
            .await?;
    }
    if let Some(h) = &history {
        histories(db).insert_one(h).session(&mut *s).await?;
    }
    let d = &invoice;
    let mut set = doc! {
        "paidAmount": d.paid_amount.as_i64(), "status": &d.status, "isFinalized": d.is_finalized,
        "updatedAt": d.updated_at, "finalizedAt": d.finalized_at, "paymentMethod": d.payment_method.as_deref(),
    };
    if let Some(fy) = &number_in {
        let seq = reserve_seq(db, s, &number_key(client_id, fy, invoice.series.as_deref()), 1).await?;
        decide::number(&mut invoice, fy, seq);
        let d = &invoice;
        set.insert("kind", d.kind.as_str());
        set.insert("invoiceNumber", d.invoice_number.clone());
        set.insert("financialYear", d.financial_year.clone());
        set.insert("seq", d.seq);
        set.insert("invoiceDate", d.invoice_date.as_str());
    }
    let filter = doc! {
        "_id": invoice.id, "clientId": client_id, "isFinalized": false, "paidAmount": paid_before.as_i64(),
    };
    let r = invoices(db).update_one(filter, doc! { "$set": set, "$inc": { "__v": 1 } }).session(&mut *s).await?;
    if r.matched_count != 1 {
        return Err(Refusal::InvoiceChanged.into());
    }
    log.write(db, s, client_id, changes).await?;
    Ok((recorded, invoice))
}
