//! Billing repository: the only billing code that builds BSON filters. Functions taking a
//! `ClientSession` run inside the caller's transaction.

use std::collections::HashMap;

use bson::{doc, oid::ObjectId, DateTime, Document};
use futures::TryStreamExt;
use mongodb::{options::ReturnDocument, ClientSession, Collection, Database};

use crate::{
    billing::model::*,
    catalog::model::{ItemDoc, ItemGroupDoc},
    client::model::ClientSettings,
    customer::model::CustomerDoc,
    db::scoped,
    error::AppError,
    money::Paise,
};

pub const PLACEHOLDER_NAME: &str = "clientCustomer";

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

/// Claim an open cart for invoicing (inside the invoice transaction): only one claim can
/// ever succeed. Returns the cart as it was.
pub async fn claim_cart(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
    invoice_id: ObjectId,
) -> Result<Option<CartDoc>, AppError> {
    Ok(carts(db)
        .find_one_and_update(
            doc! { "_id": id, "clientId": client_id, "status": CART_OPEN },
            doc! { "$set": { "status": CART_INVOICED, "invoiceId": invoice_id, "updatedAt": DateTime::now() }, "$inc": { "__v": 1 } },
        )
        .session(&mut *s)
        .await?)
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
        Box::pin(async move { upsert_customer(db, s, *client_id, phone, *name).await })
    })
    .await
}

/// Move a customer's dues and purchase time in the sale/payment transaction.
/// `purchased_at`: the sale's date of record (`generatedAt`: the device time of an offline
/// sale), `None` for a payment. The v2 push sets the same (`sync::bulk`), so an offline sale
/// synced later does not make the customer's last purchase the sync time.
pub async fn customer_after_sale(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
    dues_delta: Paise,
    purchased_at: Option<DateTime>,
) -> Result<(), AppError> {
    let now = DateTime::now();
    let mut update = doc! { "$inc": { "outstandingBalance": dues_delta.as_i64() }, "$set": { "updatedAt": now } };
    if let Some(at) = purchased_at {
        // an older offline sale synced later never moves it back (null sorts below a date)
        update.insert("$max", doc! { "lastPurchaseAt": at });
    }
    customers(db).update_one(scoped(client_id, doc! { "_id": id }), update).session(&mut *s).await?;
    Ok(())
}

// ---------- invoices and payments ----------

/// Next consecutive number for (client, financial year), inside the invoice transaction
/// (an aborted sale gives its number back). Done last in the transaction so the counter
/// document is held for the shortest time.
pub async fn next_seq(db: &Database, s: &mut ClientSession, key: &str) -> Result<i64, AppError> {
    reserve_seq(db, s, key, 1).await
}

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

pub async fn insert_invoice(db: &Database, s: &mut ClientSession, inv: &InvoiceDoc) -> Result<(), AppError> {
    invoices(db).insert_one(inv).session(&mut *s).await?;
    Ok(())
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

#[allow(clippy::too_many_arguments)]
pub async fn set_number(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
    number: &str,
    fy: &str,
    seq: i64,
    date: &str,
) -> Result<(), AppError> {
    invoices(db)
        .update_one(
            scoped(client_id, doc! { "_id": id, "invoiceNumber": bson::Bson::Null }),
            // numbered = issued: an incomplete sale becomes an invoice (listed by B21/B29/B30)
            doc! { "$set": { "invoiceNumber": number, "financialYear": fy, "seq": seq, "invoiceDate": date, "kind": "invoice" } },
        )
        .session(&mut *s)
        .await?;
    Ok(())
}

pub async fn insert_payment(db: &Database, s: &mut ClientSession, p: &PaymentDoc) -> Result<(), AppError> {
    payments(db).insert_one(p).session(&mut *s).await?;
    Ok(())
}

/// Re-date a payment just inserted in this transaction (`billing::service::date_after_invoice`).
pub async fn set_payment_time(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
    paid_at: DateTime,
) -> Result<(), AppError> {
    payments(db)
        .update_one(doc! { "_id": id, "clientId": client_id }, doc! { "$set": { "paidAt": paid_at } })
        .session(&mut *s)
        .await?;
    Ok(())
}

/// Add `amount` to the invoice's paid amount only if it stays within the total (the guard is
/// in the filter, so concurrent payments can never overpay), and set the payment state
/// (`status`, `isFinalized`, `finalizedAt`) in the same single-document write. Only payment
/// fields change: an issued invoice is otherwise immutable.
pub async fn add_payment(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
    amount: Paise,
) -> Result<Option<InvoiceDoc>, AppError> {
    let now = DateTime::now();
    let paid_all = doc! { "$gte": ["$paidAmount", "$totalAmount"] };
    let pipeline = vec![
        doc! { "$set": { "paidAmount": { "$add": ["$paidAmount", amount.as_i64()] }, "updatedAt": now, "__v": { "$add": ["$__v", 1] } } },
        doc! { "$set": {
            "isFinalized": paid_all.clone(),
            "status": { "$switch": {
                "branches": [
                    { "case": paid_all.clone(), "then": STATUS_PAID },
                    { "case": { "$gt": ["$paidAmount", 0_i64] }, "then": STATUS_PARTIAL },
                ],
                "default": STATUS_UNPAID,
            } },
            "finalizedAt": { "$cond": [paid_all, now, "$$REMOVE"] },
        } },
    ];
    Ok(invoices(db)
        .find_one_and_update(
            doc! {
                "_id": id, "clientId": client_id, "isFinalized": false,
                "$expr": { "$lte": [ { "$add": ["$paidAmount", amount.as_i64()] }, "$totalAmount" ] },
            },
            pipeline,
        )
        .return_document(ReturnDocument::After)
        .session(&mut *s)
        .await?)
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

/// Purchase history, exactly once per invoice (unique index on `invoiceId`).
pub async fn insert_history(db: &Database, s: &mut ClientSession, h: &PurchaseHistoryDoc) -> Result<(), AppError> {
    histories(db).insert_one(h).session(&mut *s).await?;
    Ok(())
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
