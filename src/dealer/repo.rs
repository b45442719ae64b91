//! Repository of `dealers`, `dealerorders`, `dealerorderitems`, `dealerpayments` and the
//! order-number counters: the only dealer code that builds BSON filters. Every query is
//! scoped by `clientId`.

use std::collections::HashMap;

use bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use futures::TryStreamExt;
use mongodb::{options::ReturnDocument, ClientSession, Collection, Database};

use crate::{
    catalog::model::ItemDoc,
    db::scoped,
    dealer::model::*,
    error::{code, is_duplicate_key, AppError},
    money::Paise,
};

fn dealers(db: &Database) -> Collection<DealerDoc> {
    db.collection(DEALERS)
}
fn orders(db: &Database) -> Collection<OrderDoc> {
    db.collection(ORDERS)
}
fn lines(db: &Database) -> Collection<LineDoc> {
    db.collection(LINES)
}
fn payments(db: &Database) -> Collection<PaymentDoc> {
    db.collection(PAYMENTS)
}
fn items(db: &Database) -> Collection<ItemDoc> {
    db.collection("items")
}

fn duplicate_name() -> AppError {
    AppError::conflict(code::DUPLICATE, "A dealer with this name already exists")
}

// ------------------------------------------------------------------------- dealers

pub async fn insert_dealer(db: &Database, d: &DealerDoc) -> Result<(), AppError> {
    dealers(db).insert_one(d).await.map_err(|e| if is_duplicate_key(&e) { duplicate_name() } else { e.into() })?;
    Ok(())
}

pub async fn active_dealers(db: &Database, client: ObjectId) -> Result<Vec<DealerDoc>, AppError> {
    Ok(dealers(db)
        .find(doc! { "clientId": client, "isActive": true })
        .sort(doc! { "createdAt": -1, "_id": -1 })
        .await?
        .try_collect()
        .await?)
}

pub async fn count_active_dealers(db: &Database, client: ObjectId) -> Result<u64, AppError> {
    Ok(dealers(db).count_documents(doc! { "clientId": client, "isActive": true }).await?)
}

/// The client's dealer, active or not (deleted dealers keep their history readable).
pub async fn find_dealer(db: &Database, client: ObjectId, id: ObjectId) -> Result<Option<DealerDoc>, AppError> {
    Ok(dealers(db).find_one(doc! { "_id": id, "clientId": client }).await?)
}

pub async fn find_dealer_s(
    db: &Database,
    s: &mut ClientSession,
    client: ObjectId,
    id: ObjectId,
) -> Result<Option<DealerDoc>, AppError> {
    Ok(dealers(db).find_one(doc! { "_id": id, "clientId": client }).session(s).await?)
}

pub async fn update_dealer(
    db: &Database,
    client: ObjectId,
    id: ObjectId,
    mut set: Document,
) -> Result<Option<DealerDoc>, AppError> {
    set.insert("updatedAt", DateTime::now());
    dealers(db)
        .find_one_and_update(doc! { "_id": id, "clientId": client }, doc! { "$set": set, "$inc": { "__v": 1 } })
        .return_document(ReturnDocument::After)
        .await
        .map_err(|e| if is_duplicate_key(&e) { duplicate_name() } else { e.into() })
}

/// Soft delete; false when the dealer is missing, foreign or already deleted.
pub async fn deactivate_dealer(db: &Database, client: ObjectId, id: ObjectId) -> Result<bool, AppError> {
    let r = dealers(db)
        .update_one(
            doc! { "_id": id, "clientId": client, "isActive": true },
            doc! { "$set": { "isActive": false, "updatedAt": DateTime::now() }, "$inc": { "__v": 1 } },
        )
        .await?;
    Ok(r.modified_count == 1)
}

pub async fn dealers_by_ids(
    db: &Database,
    client: ObjectId,
    ids: Vec<ObjectId>,
) -> Result<HashMap<ObjectId, DealerDoc>, AppError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let v: Vec<DealerDoc> =
        dealers(db).find(doc! { "clientId": client, "_id": { "$in": ids } }).await?.try_collect().await?;
    Ok(v.into_iter().map(|d| (d.id, d)).collect())
}

// ------------------------------------------------------------------------- items

/// Active items of the client mapped to the dealer, `updatedAt` desc.
pub async fn dealer_items(db: &Database, client: ObjectId, dealer: ObjectId) -> Result<Vec<ItemDoc>, AppError> {
    Ok(items(db)
        .find(doc! { "clientId": client, "isActive": true, "dealerIds": dealer })
        .sort(doc! { "updatedAt": -1, "_id": -1 })
        .await?
        .try_collect()
        .await?)
}

/// The client's items among `ids` (any state), read in the transaction.
pub async fn items_by_ids_s(
    db: &Database,
    s: &mut ClientSession,
    client: ObjectId,
    ids: Vec<ObjectId>,
) -> Result<HashMap<ObjectId, ItemDoc>, AppError> {
    let mut cur = items(db).find(doc! { "clientId": client, "_id": { "$in": ids } }).session(&mut *s).await?;
    let mut out = HashMap::new();
    while let Some(i) = cur.next(&mut *s).await.transpose()? {
        out.insert(i.id, i);
    }
    Ok(out)
}

/// Units on order per item in the client's pending orders (any dealer).
pub async fn on_order(
    db: &Database,
    client: ObjectId,
    item_ids: Vec<ObjectId>,
) -> Result<HashMap<ObjectId, i64>, AppError> {
    if item_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let pending: Vec<ObjectId> = orders(db)
        .clone_with_type::<Document>()
        .find(doc! { "clientId": client, "status": STATUS_PENDING })
        .projection(doc! { "_id": 1 })
        .await?
        .try_collect::<Vec<Document>>()
        .await?
        .iter()
        .filter_map(|d| d.get_object_id("_id").ok())
        .collect();
    if pending.is_empty() {
        return Ok(HashMap::new());
    }
    let pipeline = vec![
        doc! { "$match": { "clientId": client, "orderId": { "$in": pending }, "itemId": { "$in": item_ids } } },
        doc! { "$group": { "_id": "$itemId", "qty": { "$sum": "$quantity" } } },
    ];
    let rows: Vec<Document> = lines(db).aggregate(pipeline).await?.try_collect().await?;
    Ok(rows.iter().filter_map(|d| Some((d.get_object_id("_id").ok()?, as_i64(d.get("qty")?)))).collect())
}

fn as_i64(b: &Bson) -> i64 {
    match b {
        Bson::Int32(i) => *i as i64,
        Bson::Int64(i) => *i,
        Bson::Double(f) => *f as i64,
        _ => 0,
    }
}

fn get_i64(d: &Document, k: &str) -> i64 {
    d.get(k).map(as_i64).unwrap_or(0)
}

// ------------------------------------------------------------------------- orders

/// Make sure the counter exists (outside any transaction, idempotent), so the transaction
/// only ever `$inc`s an existing document and concurrent first orders cannot race on an
/// upsert.
pub async fn ensure_counter(db: &Database, key: &str) -> Result<(), AppError> {
    let r = db
        .collection::<Document>(COUNTERS)
        .update_one(doc! { "_id": key }, doc! { "$setOnInsert": { "seq": 0_i64 } })
        .upsert(true)
        .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) if is_duplicate_key(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Next value of the counter, inside the order's transaction (a concurrent order conflicts
/// and retries, so numbers are consecutive and a rolled-back order leaves no gap).
pub async fn next_seq(db: &Database, s: &mut ClientSession, key: &str) -> Result<i64, AppError> {
    let d = db
        .collection::<Document>(COUNTERS)
        .find_one_and_update(doc! { "_id": key }, doc! { "$inc": { "seq": 1_i64 } })
        .return_document(ReturnDocument::After)
        .session(s)
        .await?
        .ok_or_else(|| AppError::internal("order counter missing"))?;
    Ok(get_i64(&d, "seq"))
}

pub async fn insert_order(db: &Database, s: &mut ClientSession, o: &OrderDoc, ls: &[LineDoc]) -> Result<(), AppError> {
    orders(db).insert_one(o).session(&mut *s).await.map_err(|e| {
        if is_duplicate_key(&e) {
            AppError::conflict(code::CONFLICT, "Order number already used; please retry")
        } else {
            e.into()
        }
    })?;
    lines(db).insert_many(ls).session(&mut *s).await?;
    Ok(())
}

pub async fn find_order(db: &Database, client: ObjectId, id: ObjectId) -> Result<Option<OrderDoc>, AppError> {
    Ok(orders(db).find_one(doc! { "_id": id, "clientId": client }).await?)
}

pub async fn find_order_s(
    db: &Database,
    s: &mut ClientSession,
    client: ObjectId,
    id: ObjectId,
) -> Result<Option<OrderDoc>, AppError> {
    Ok(orders(db).find_one(doc! { "_id": id, "clientId": client }).session(s).await?)
}

pub async fn dealer_orders(db: &Database, client: ObjectId, dealer: ObjectId) -> Result<Vec<OrderDoc>, AppError> {
    Ok(orders(db)
        .find(doc! { "clientId": client, "dealerId": dealer })
        .sort(doc! { "createdAt": -1, "_id": -1 })
        .await?
        .try_collect()
        .await?)
}

pub async fn order_lines(db: &Database, client: ObjectId, order: ObjectId) -> Result<Vec<LineDoc>, AppError> {
    Ok(lines(db)
        .find(doc! { "orderId": order, "clientId": client })
        .sort(doc! { "_id": 1 })
        .await?
        .try_collect()
        .await?)
}

pub async fn order_lines_s(
    db: &Database,
    s: &mut ClientSession,
    client: ObjectId,
    order: ObjectId,
) -> Result<Vec<LineDoc>, AppError> {
    let mut cur =
        lines(db).find(doc! { "orderId": order, "clientId": client }).sort(doc! { "_id": 1 }).session(&mut *s).await?;
    let mut out = Vec::new();
    while let Some(l) = cur.next(&mut *s).await.transpose()? {
        out.push(l);
    }
    Ok(out)
}

/// pending -> cancelled, only while pending and unpaid. `None` when the guard did not match.
pub async fn cancel_order(db: &Database, client: ObjectId, id: ObjectId) -> Result<Option<OrderDoc>, AppError> {
    let now = DateTime::now();
    Ok(orders(db)
        .find_one_and_update(
            doc! { "_id": id, "clientId": client, "status": STATUS_PENDING, "paidAmount": 0_i64 },
            doc! { "$set": { "status": STATUS_CANCELLED, "cancelledAt": now, "updatedAt": now }, "$inc": { "__v": 1 } },
        )
        .return_document(ReturnDocument::After)
        .await?)
}

/// pending -> delivered inside the delivery transaction. The status guard is in the filter:
/// of several racing deliveries exactly one matches; the others conflict, retry, and then
/// match nothing.
pub async fn mark_delivered_s(
    db: &Database,
    s: &mut ClientSession,
    client: ObjectId,
    id: ObjectId,
    mut set: Document,
) -> Result<Option<OrderDoc>, AppError> {
    set.insert("status", STATUS_DELIVERED);
    Ok(orders(db)
        .find_one_and_update(
            doc! { "_id": id, "clientId": client, "status": STATUS_PENDING },
            doc! { "$set": set, "$inc": { "__v": 1 } },
        )
        .return_document(ReturnDocument::After)
        .session(s)
        .await?)
}

pub async fn set_line_received(
    db: &Database,
    s: &mut ClientSession,
    client: ObjectId,
    line: ObjectId,
    qty: i64,
) -> Result<(), AppError> {
    lines(db)
        .update_one(scoped(client, doc! { "_id": line }), doc! { "$set": { "receivedQuantity": qty } })
        .session(s)
        .await?;
    Ok(())
}

/// D13: set the bill total and/or due date unless cancelled; a new total may not be below
/// what is already paid (guard in the filter, so a concurrent payment cannot slip under it).
pub async fn set_total(
    db: &Database,
    client: ObjectId,
    id: ObjectId,
    total: Option<Paise>,
    due: Option<DateTime>,
) -> Result<Option<OrderDoc>, AppError> {
    let mut filter = doc! { "_id": id, "clientId": client, "status": { "$ne": STATUS_CANCELLED } };
    let mut set = doc! { "updatedAt": DateTime::now() };
    if let Some(t) = total {
        filter.insert("paidAmount", doc! { "$lte": t.as_i64() });
        set.insert("totalAmount", t.as_i64());
    }
    if let Some(d) = due {
        set.insert("dueDate", d);
    }
    Ok(orders(db)
        .find_one_and_update(filter, doc! { "$set": set, "$inc": { "__v": 1 } })
        .return_document(ReturnDocument::After)
        .await?)
}

/// Add `amount` to the order's `paidAmount` only while the result stays within the bill
/// total (and the order is billed and not cancelled). False when the guard fails.
pub async fn inc_paid_s(
    db: &Database,
    s: &mut ClientSession,
    client: ObjectId,
    dealer: ObjectId,
    order: ObjectId,
    amount: Paise,
) -> Result<bool, AppError> {
    let r = orders(db)
        .update_one(
            doc! {
                "_id": order, "clientId": client, "dealerId": dealer,
                "status": { "$ne": STATUS_CANCELLED },
                "totalAmount": { "$type": "number" },
                "$expr": { "$lte": [ { "$add": [ "$paidAmount", amount.as_i64() ] }, "$totalAmount" ] },
            },
            doc! { "$inc": { "paidAmount": amount.as_i64(), "__v": 1 }, "$set": { "updatedAt": DateTime::now() } },
        )
        .session(s)
        .await?;
    Ok(r.modified_count == 1)
}

/// Summary of the client's non-cancelled orders (optionally one dealer), computed in the
/// database: counts per payment status and the amounts.
pub struct OrderTotals {
    pub total_orders: u64,
    pub pending: u64,
    pub partial: u64,
    pub paid: u64,
    pub no_bill: u64,
    pub billed: Paise,
    pub paid_amount: Paise,
    pub remaining: Paise,
}

pub async fn order_payment_totals(
    db: &Database,
    client: ObjectId,
    dealer: Option<ObjectId>,
) -> Result<OrderTotals, AppError> {
    let mut m = doc! { "clientId": client, "status": { "$ne": STATUS_CANCELLED } };
    if let Some(d) = dealer {
        m.insert("dealerId", d);
    }
    let billed = doc! { "$gt": [ { "$ifNull": [ "$totalAmount", 0 ] }, 0 ] };
    let pipeline = vec![
        doc! { "$match": m },
        doc! { "$group": {
            "_id": Bson::Null,
            "n": { "$sum": 1 },
            "noBill": { "$sum": { "$cond": [ billed.clone(), 0, 1 ] } },
            "paid": { "$sum": { "$cond": [ { "$and": [ billed.clone(), { "$gte": [ "$paidAmount", "$totalAmount" ] } ] }, 1, 0 ] } },
            "partial": { "$sum": { "$cond": [ { "$and": [ billed.clone(), { "$gt": [ "$paidAmount", 0 ] }, { "$lt": [ "$paidAmount", "$totalAmount" ] } ] }, 1, 0 ] } },
            "pending": { "$sum": { "$cond": [ { "$and": [ billed.clone(), { "$eq": [ { "$ifNull": [ "$paidAmount", 0 ] }, 0 ] } ] }, 1, 0 ] } },
            "billed": { "$sum": { "$ifNull": [ "$totalAmount", 0 ] } },
            "paidAmount": { "$sum": { "$ifNull": [ "$paidAmount", 0 ] } },
            "remaining": { "$sum": { "$max": [ { "$subtract": [ { "$ifNull": [ "$totalAmount", 0 ] }, { "$ifNull": [ "$paidAmount", 0 ] } ] }, 0 ] } },
        } },
    ];
    let row: Option<Document> = orders(db).aggregate(pipeline).await?.try_next().await?;
    let d = row.unwrap_or_default();
    Ok(OrderTotals {
        total_orders: get_i64(&d, "n") as u64,
        pending: get_i64(&d, "pending") as u64,
        partial: get_i64(&d, "partial") as u64,
        paid: get_i64(&d, "paid") as u64,
        no_bill: get_i64(&d, "noBill") as u64,
        billed: Paise::new(get_i64(&d, "billed")),
        paid_amount: Paise::new(get_i64(&d, "paidAmount")),
        remaining: Paise::new(get_i64(&d, "remaining")),
    })
}

/// D19 filter for a payment status (`all` = none).
pub fn payment_status_filter(status: &str) -> Document {
    match status {
        "no-bill" => doc! { "$or": [ { "totalAmount": Bson::Null }, { "totalAmount": 0_i64 } ] },
        "paid" => doc! { "totalAmount": { "$gt": 0_i64 }, "$expr": { "$gte": [ "$paidAmount", "$totalAmount" ] } },
        "partial" => doc! {
            "totalAmount": { "$gt": 0_i64 }, "paidAmount": { "$gt": 0_i64 },
            "$expr": { "$lt": [ "$paidAmount", "$totalAmount" ] },
        },
        "pending" => doc! { "totalAmount": { "$gt": 0_i64 }, "paidAmount": 0_i64 },
        _ => Document::new(),
    }
}

/// A page of the client's non-cancelled orders (createdAt desc) matching `extra`, and the count.
pub async fn orders_page(
    db: &Database,
    client: ObjectId,
    dealer: Option<ObjectId>,
    extra: Document,
    limit: i64,
    skip: u64,
) -> Result<(Vec<OrderDoc>, u64), AppError> {
    let mut filter = doc! { "clientId": client, "status": { "$ne": STATUS_CANCELLED } };
    if let Some(d) = dealer {
        filter.insert("dealerId", d);
    }
    filter.extend(extra);
    let count = orders(db).count_documents(filter.clone()).await?;
    let rows = orders(db)
        .find(filter)
        .sort(doc! { "createdAt": -1, "_id": -1 })
        .skip(skip)
        .limit(limit)
        .await?
        .try_collect()
        .await?;
    Ok((rows, count))
}

/// Non-cancelled orders of a dealer with a passed due date and something still owed:
/// (unpaid remainder, count). `cutoff` is `time::overdue_cutoff(now)`: a due date before it
/// is on an earlier India date than today.
pub async fn overdue(
    db: &Database,
    client: ObjectId,
    dealer: ObjectId,
    cutoff: DateTime,
) -> Result<(Paise, u64), AppError> {
    let pipeline = vec![
        doc! { "$match": {
            "clientId": client, "dealerId": dealer, "status": { "$ne": STATUS_CANCELLED },
            "dueDate": { "$lt": cutoff }, "totalAmount": { "$gt": 0_i64 },
            "$expr": { "$lt": [ "$paidAmount", "$totalAmount" ] },
        } },
        doc! { "$group": { "_id": Bson::Null, "n": { "$sum": 1 },
        "owed": { "$sum": { "$subtract": [ "$totalAmount", "$paidAmount" ] } } } },
    ];
    let d = orders(db).aggregate(pipeline).await?.try_next().await?.unwrap_or_default();
    Ok((Paise::new(get_i64(&d, "owed")), get_i64(&d, "n") as u64))
}

/// Order counts per status for a dealer, and the bill totals of delivered orders.
pub async fn status_counts(
    db: &Database,
    client: ObjectId,
    dealer: ObjectId,
) -> Result<(HashMap<String, u64>, Paise), AppError> {
    let pipeline = vec![
        doc! { "$match": { "clientId": client, "dealerId": dealer } },
        doc! { "$group": { "_id": "$status", "n": { "$sum": 1 }, "billed": { "$sum": { "$ifNull": [ "$totalAmount", 0 ] } } } },
    ];
    let rows: Vec<Document> = orders(db).aggregate(pipeline).await?.try_collect().await?;
    let mut counts = HashMap::new();
    let mut delivered = Paise::ZERO;
    for r in rows {
        let status = r.get_str("_id").unwrap_or("").to_string();
        if status == STATUS_DELIVERED {
            delivered = Paise::new(get_i64(&r, "billed"));
        }
        counts.insert(status, get_i64(&r, "n") as u64);
    }
    Ok((counts, delivered))
}

pub async fn latest_orders(
    db: &Database,
    client: ObjectId,
    dealer: ObjectId,
    n: i64,
) -> Result<Vec<OrderDoc>, AppError> {
    Ok(orders(db)
        .find(doc! { "clientId": client, "dealerId": dealer, "status": { "$ne": STATUS_CANCELLED } })
        .sort(doc! { "createdAt": -1, "_id": -1 })
        .limit(n)
        .await?
        .try_collect()
        .await?)
}

pub async fn orders_by_ids(
    db: &Database,
    client: ObjectId,
    ids: Vec<ObjectId>,
) -> Result<HashMap<ObjectId, OrderDoc>, AppError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let v: Vec<OrderDoc> =
        orders(db).find(doc! { "clientId": client, "_id": { "$in": ids } }).await?.try_collect().await?;
    Ok(v.into_iter().map(|o| (o.id, o)).collect())
}

// ------------------------------------------------------------------------- payments

pub async fn insert_payment(db: &Database, s: &mut ClientSession, p: &PaymentDoc) -> Result<(), AppError> {
    payments(db).insert_one(p).session(s).await?;
    Ok(())
}

pub async fn find_payment(db: &Database, client: ObjectId, id: ObjectId) -> Result<Option<PaymentDoc>, AppError> {
    Ok(payments(db).find_one(doc! { "_id": id, "clientId": client }).await?)
}

pub async fn order_payments(db: &Database, client: ObjectId, order: ObjectId) -> Result<Vec<PaymentDoc>, AppError> {
    Ok(payments(db)
        .find(doc! { "clientId": client, "orderId": order })
        .sort(doc! { "paidAt": -1, "_id": -1 })
        .await?
        .try_collect()
        .await?)
}

pub async fn dealer_payments(
    db: &Database,
    client: ObjectId,
    dealer: ObjectId,
    limit: Option<i64>,
) -> Result<Vec<PaymentDoc>, AppError> {
    let coll = payments(db);
    let mut f = coll.find(doc! { "clientId": client, "dealerId": dealer }).sort(doc! { "paidAt": -1, "_id": -1 });
    if let Some(n) = limit {
        f = f.limit(n);
    }
    Ok(f.await?.try_collect().await?)
}

fn payment_filter(client: ObjectId, dealer: Option<ObjectId>, order: Option<ObjectId>) -> Document {
    let mut f = doc! { "clientId": client };
    if let Some(d) = dealer {
        f.insert("dealerId", d);
    }
    if let Some(o) = order {
        f.insert("orderId", o);
    }
    f
}

/// (count, sum) of the matching payments.
pub async fn payment_totals(
    db: &Database,
    client: ObjectId,
    dealer: Option<ObjectId>,
    order: Option<ObjectId>,
) -> Result<(u64, Paise), AppError> {
    let pipeline = vec![
        doc! { "$match": payment_filter(client, dealer, order) },
        doc! { "$group": { "_id": Bson::Null, "n": { "$sum": 1 }, "sum": { "$sum": "$amount" } } },
    ];
    let d = payments(db).aggregate(pipeline).await?.try_next().await?.unwrap_or_default();
    Ok((get_i64(&d, "n") as u64, Paise::new(get_i64(&d, "sum"))))
}

pub async fn payments_page(
    db: &Database,
    client: ObjectId,
    dealer: Option<ObjectId>,
    order: Option<ObjectId>,
    limit: i64,
    skip: u64,
) -> Result<Vec<PaymentDoc>, AppError> {
    Ok(payments(db)
        .find(payment_filter(client, dealer, order))
        .sort(doc! { "paidAt": -1, "_id": -1 })
        .skip(skip)
        .limit(limit)
        .await?
        .try_collect()
        .await?)
}

/// Number of payments per order.
pub async fn payment_counts(
    db: &Database,
    client: ObjectId,
    order_ids: Vec<ObjectId>,
) -> Result<HashMap<ObjectId, u64>, AppError> {
    if order_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let pipeline = vec![
        doc! { "$match": { "clientId": client, "orderId": { "$in": order_ids } } },
        doc! { "$group": { "_id": "$orderId", "n": { "$sum": 1 } } },
    ];
    let rows: Vec<Document> = payments(db).aggregate(pipeline).await?.try_collect().await?;
    Ok(rows.iter().filter_map(|d| Some((d.get_object_id("_id").ok()?, get_i64(d, "n") as u64))).collect())
}

// ------------------------------------------------------------------------- timeline

/// One row of the merged timeline, as read from the database.
pub enum TimelineDoc {
    Order(OrderDoc),
    Payment(PaymentDoc),
}

/// The merged order + payment timeline (cancelled orders excluded), `date` desc, paged in
/// the database with `$unionWith`, plus the total number of rows.
pub async fn timeline(
    db: &Database,
    client: ObjectId,
    dealer: Option<ObjectId>,
    limit: i64,
    skip: u64,
) -> Result<(Vec<TimelineDoc>, u64), AppError> {
    let mut om = doc! { "clientId": client, "status": { "$ne": STATUS_CANCELLED } };
    let mut pm = doc! { "clientId": client };
    if let Some(d) = dealer {
        om.insert("dealerId", d);
        pm.insert("dealerId", d);
    }
    let pipeline = vec![
        doc! { "$match": om },
        doc! { "$addFields": { "_kind": "order", "_date": "$createdAt" } },
        doc! { "$unionWith": { "coll": PAYMENTS, "pipeline": [
            { "$match": pm },
            { "$addFields": { "_kind": "payment", "_date": "$paidAt" } },
        ] } },
        doc! { "$sort": { "_date": -1, "_id": -1 } },
        doc! { "$facet": {
            "rows": [ { "$skip": skip as i64 }, { "$limit": limit } ],
            "total": [ { "$count": "n" } ],
        } },
    ];
    let d = orders(db).aggregate(pipeline).await?.try_next().await?.unwrap_or_default();
    let total = d
        .get_array("total")
        .ok()
        .and_then(|a| a.first())
        .and_then(|b| b.as_document())
        .map(|t| get_i64(t, "n") as u64)
        .unwrap_or(0);
    let mut rows = Vec::new();
    for b in d.get_array("rows").cloned().unwrap_or_default() {
        let Bson::Document(mut doc) = b else { continue };
        let kind = doc.get_str("_kind").unwrap_or("").to_string();
        doc.remove("_kind");
        doc.remove("_date");
        if kind == "order" {
            rows.push(TimelineDoc::Order(bson::from_document(doc)?));
        } else {
            rows.push(TimelineDoc::Payment(bson::from_document(doc)?));
        }
    }
    Ok((rows, total))
}
