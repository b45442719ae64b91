//! The aggregation pipelines of the dashboard and reports. Every figure is computed by
//! MongoDB; only the (small) grouped results come back. The `$match` stages lead with
//! `clientId` and use the covering indexes of `migrations/0006_dashboard.json`, so the money
//! sums read index keys instead of whole invoice documents.

use bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use chrono::NaiveDate;
use futures::TryStreamExt;
use mongodb::{Collection, Cursor, Database};

use crate::{
    dashboard::dto::{AgeingBucket, MethodFigure, MethodSplit, SummaryWire, TopItem},
    error::{AppError, AppResult},
    money::Paise,
    time,
};

pub const TZ: &str = crate::time::TZ_NAME;

pub fn invoices(db: &Database) -> Collection<Document> {
    db.collection("invoices")
}
pub fn payments(db: &Database) -> Collection<Document> {
    db.collection("payments")
}

/// An integer field of an aggregation result (sums of Int64 are Int64; an empty `$sum` is Int32 0).
pub fn int(d: &Document, k: &str) -> i64 {
    match d.get(k) {
        Some(Bson::Int64(v)) => *v,
        Some(Bson::Int32(v)) => i64::from(*v),
        Some(Bson::Double(v)) => *v as i64,
        _ => 0,
    }
}

/// The exact sum of report figures, or an error when it leaves `i64` (never a wrapped,
/// saturated or partial figure; the bounds of `limits` keep real shops far below).
pub fn checked_total(values: impl IntoIterator<Item = i64>) -> AppResult<i64> {
    values.into_iter().try_fold(0_i64, i64::checked_add).ok_or_else(too_large)
}

/// A report figure does not fit `i64` (a 500: unreachable within the bounds of `limits`).
pub fn too_large() -> AppError {
    crate::limits::report_too_large()
}

/// `a / b` in percent rounded to 2 decimals; 0 when `b` is 0 (never NaN or null).
pub fn percent(a: i64, b: i64) -> f64 {
    if b == 0 {
        0.0
    } else {
        ((a as f64 * 100.0 / b as f64) * 100.0).round() / 100.0
    }
}

/// The date window of the dashboard's queries (shared with the billing reports).
pub use crate::window::Window;

fn with(mut a: Document, b: Document) -> Document {
    a.extend(b);
    a
}

async fn first(mut cur: Cursor<Document>) -> AppResult<Document> {
    Ok(cur.try_next().await?.unwrap_or_default())
}

const PAID: &str = "$paidAmount";
const TOTAL: &str = "$totalAmount";

/// H1: fully paid sales, pending balance and pending count (one covered `$group`).
pub async fn summary(db: &Database, client: ObjectId, w: Window) -> AppResult<SummaryWire> {
    let unpaid = doc! { "$lt": [PAID, TOTAL] };
    let pipeline = vec![
        doc! { "$match": with(doc! { "clientId": client }, w.filter("generatedAt")) },
        doc! { "$group": {
            "_id": Bson::Null,
            "sales": { "$sum": { "$cond": [unpaid.clone(), 0_i64, TOTAL] } },
            "pending": { "$sum": { "$cond": [unpaid.clone(), { "$subtract": [TOTAL, PAID] }, 0_i64] } },
            "n": { "$sum": { "$cond": [unpaid, 1_i64, 0_i64] } },
        } },
    ];
    let d = first(invoices(db).aggregate(pipeline).await?).await?;
    Ok(SummaryWire {
        total_sales: Paise::new(int(&d, "sales")),
        pending_amount: Paise::new(int(&d, "pending")),
        pending_invoices: int(&d, "n"),
    })
}

/// The grouping key of a top-items line: the product id, or the item name for free-text
/// lines without one.
fn item_key() -> Bson {
    Bson::Document(doc! { "$ifNull": ["$products.productId", "$products.itemName"] })
}

/// Keep only the grouped rows of these items (a brand filter; rows keyed by item id).
fn only_items(only: Option<&[ObjectId]>) -> Option<Document> {
    only.map(|ids| doc! { "$match": { "_id": { "$in": ids } } })
}

/// Sorting and shaping of grouped item rows `{_id, name:{at, n}, quantity, amount}`.
fn top_tail(limit: i64) -> Vec<Document> {
    vec![doc! { "$sort": { "amount": -1, "quantity": -1, "_id": 1 } }, doc! { "$limit": limit }]
}

fn top_rows(rows: Vec<Document>) -> Vec<TopItem> {
    rows.iter()
        .map(|d| {
            let name = d.get_document("name").ok().and_then(|n| n.get_str("n").ok()).unwrap_or("");
            TopItem {
                item_name: if name.trim().is_empty() { "Unknown".to_string() } else { name.to_string() },
                quantity: int(d, "quantity"),
                amount: Paise::new(int(d, "amount")),
            }
        })
        .collect()
}

/// Lines of the matched invoices, one row per line: `{k, at, n, q, a}`.
fn line_stages() -> Vec<Document> {
    vec![
        doc! { "$project": { "_id": 1, "products.productId": 1, "products.itemName": 1, "products.quantity": 1, "products.lineTotal": 1 } },
        doc! { "$unwind": "$products" },
    ]
}

/// H3 over a `from`/`to` window: live over the invoices of the window.
pub async fn top_items_in(
    db: &Database,
    client: ObjectId,
    w: Window,
    limit: i64,
    only: Option<&[ObjectId]>,
) -> AppResult<Vec<TopItem>> {
    let mut pipeline = vec![doc! { "$match": with(doc! { "clientId": client }, w.filter("generatedAt")) }];
    pipeline.extend(line_stages());
    pipeline.push(doc! { "$group": {
        "_id": item_key(),
        "name": { "$max": { "at": "$_id", "n": "$products.itemName" } },
        "quantity": { "$sum": "$products.quantity" },
        "amount": { "$sum": "$products.lineTotal" },
    } });
    pipeline.extend(only_items(only));
    pipeline.extend(top_tail(limit));
    let rows: Vec<Document> = invoices(db).aggregate(pipeline).await?.try_collect().await?;
    Ok(top_rows(rows))
}

/// The first ObjectId of the UTC month starting at `t` (ObjectIds carry their creation second).
fn oid_at(t: chrono::DateTime<chrono::Utc>) -> ObjectId {
    let secs = t.timestamp().clamp(0, i64::from(u32::MAX)) as u32;
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&secs.to_be_bytes());
    ObjectId::from_bytes(b)
}

/// Start of the UTC month containing `t`.
fn utc_month_start(t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::{Datelike, TimeZone};
    chrono::Utc.with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0).single().unwrap_or(t)
}

/// Bring the client's rollups up to date: every invoice whose ObjectId was made before the
/// current UTC month (less a 10-minute grace for in-flight transactions) is summed per
/// ObjectId month into `dashitemrollups` (per item: quantity, amount) and
/// `dashsalesrollups` (per India month of `generatedAt`: Σ totalAmount, count). What is
/// summed (lines, totals, dates) never changes after an invoice is created (billing's
/// immutability rule) and invoices are never deleted, so a complete month's rollup is
/// final. Each refresh recomputes whole months and replaces their rows, so concurrent
/// refreshes write the same values (idempotent). Returns the boundary: invoices with `_id`
/// at or after it are not in the rollups and are aggregated live.
pub async fn refresh_rollups(db: &Database, client: ObjectId) -> AppResult<ObjectId> {
    let state = db.collection::<Document>("dashrollupstate");
    let target = oid_at(utc_month_start(chrono::Utc::now() - chrono::Duration::minutes(10)));
    let done = state.find_one(doc! { "_id": client }).await?.and_then(|d| d.get_object_id("before").ok());
    if let Some(b) = done.filter(|b| *b >= target) {
        return Ok(b);
    }
    let mut id_range = doc! { "$lt": target };
    if let Some(b) = done {
        id_range.insert("$gte", b);
    }
    let id_month = doc! { "$dateToString": { "format": "%Y-%m", "date": { "$toDate": "$_id" } } };
    let m = doc! { "$match": { "clientId": client, "_id": id_range } };
    let mut items = vec![m.clone()];
    items.extend(line_stages());
    items.push(doc! { "$group": {
        "_id": { "c": client, "m": id_month.clone(), "k": item_key() },
        "name": { "$max": { "at": "$_id", "n": "$products.itemName" } },
        "quantity": { "$sum": "$products.quantity" },
        "amount": { "$sum": "$products.lineTotal" },
    } });
    items.push(doc! { "$addFields": { "clientId": "$_id.c", "month": "$_id.m" } });
    items.push(doc! { "$merge": { "into": "dashitemrollups", "on": "_id", "whenMatched": "replace", "whenNotMatched": "insert" } });
    let sales = vec![
        m,
        doc! { "$group": {
            "_id": { "c": client, "m": id_month, "g": ist_month("$generatedAt") },
            "total": { "$sum": TOTAL },
            "n": { "$sum": 1_i64 },
        } },
        doc! { "$addFields": { "clientId": "$_id.c", "month": "$_id.m", "g": "$_id.g" } },
        doc! { "$merge": { "into": "dashsalesrollups", "on": "_id", "whenMatched": "replace", "whenNotMatched": "insert" } },
    ];
    invoices(db).aggregate(items).await?.try_collect::<Vec<_>>().await?;
    invoices(db).aggregate(sales).await?.try_collect::<Vec<_>>().await?;
    state.update_one(doc! { "_id": client }, doc! { "$max": { "before": target } }).upsert(true).await?;
    Ok(target)
}

/// `YYYY-MM` of a date field in India.
fn ist_month(field: &str) -> Document {
    doc! { "$dateToString": { "format": "%Y-%m", "date": field, "timezone": TZ } }
}

/// Per India month (`YYYY-MM`): `(Σ totalAmount of all invoices, count)`, from the sales
/// rollup plus the live tail (one pipeline).
async fn all_sales_by_month(
    db: &Database,
    client: ObjectId,
    boundary: ObjectId,
) -> AppResult<std::collections::HashMap<String, (i64, i64)>> {
    let pipeline = vec![
        doc! { "$match": { "clientId": client } },
        doc! { "$project": { "_id": 0, "g": 1, "total": 1, "n": 1 } },
        doc! { "$unionWith": { "coll": "invoices", "pipeline": [
            { "$match": { "clientId": client, "_id": { "$gte": boundary } } },
            { "$group": { "_id": ist_month("$generatedAt"), "total": { "$sum": TOTAL }, "n": { "$sum": 1_i64 } } },
            { "$project": { "_id": 0, "g": "$_id", "total": 1, "n": 1 } },
        ] } },
        doc! { "$group": { "_id": "$g", "total": { "$sum": "$total" }, "n": { "$sum": "$n" } } },
    ];
    let rows: Vec<Document> =
        db.collection::<Document>("dashsalesrollups").aggregate(pipeline).await?.try_collect().await?;
    Ok(rows.iter().map(|d| (d.get_str("_id").unwrap_or("").to_string(), (int(d, "total"), int(d, "n")))).collect())
}

/// Per India month: `(Σ totalAmount, Σ balance, count)` of invoices not fully paid
/// (`isFinalized: false`, covered by `dash_client_finalized_due_money`).
async fn unpaid_by_month(
    db: &Database,
    client: ObjectId,
) -> AppResult<std::collections::HashMap<String, (i64, i64, i64)>> {
    let unpaid = doc! { "$lt": [PAID, TOTAL] };
    let pipeline = vec![
        doc! { "$match": { "clientId": client, "isFinalized": false } },
        doc! { "$group": {
            "_id": ist_month("$generatedAt"),
            "total": { "$sum": { "$cond": [unpaid.clone(), TOTAL, 0_i64] } },
            "bal": { "$sum": { "$cond": [unpaid.clone(), { "$subtract": [TOTAL, PAID] }, 0_i64] } },
            "n": { "$sum": { "$cond": [unpaid, 1_i64, 0_i64] } },
        } },
    ];
    let rows: Vec<Document> = invoices(db).aggregate(pipeline).await?.try_collect().await?;
    Ok(rows
        .iter()
        .map(|d| (d.get_str("_id").unwrap_or("").to_string(), (int(d, "total"), int(d, "bal"), int(d, "n"))))
        .collect())
}

/// All-time H1 and the H2 months from the rollups: fully paid sales = Σ totals of all
/// invoices − Σ totals of the not fully paid ones (an invoice is finalised exactly when
/// `paidAmount >= totalAmount`, see billing). Reads the small rollup, the live tail of this
/// month's invoices and the unpaid invoices' index keys, never every invoice.
pub async fn summary_and_trends(
    db: &Database,
    client: ObjectId,
    months: i32,
) -> AppResult<(SummaryWire, Vec<(NaiveDate, Paise)>)> {
    let boundary = refresh_rollups(db, client).await?;
    let (all, unpaid) = tokio::try_join!(all_sales_by_month(db, client, boundary), unpaid_by_month(db, client))?;
    let all_total = checked_total(all.values().map(|v| v.0))?;
    let unpaid_total = checked_total(unpaid.values().map(|v| v.0))?;
    let summary = SummaryWire {
        total_sales: Paise::new(all_total.checked_sub(unpaid_total).ok_or_else(too_large)?),
        pending_amount: Paise::new(checked_total(unpaid.values().map(|v| v.1))?),
        pending_invoices: checked_total(unpaid.values().map(|v| v.2))?,
    };
    let current = time::month_start(time::today_ist());
    let start = time::add_months(current, 1 - months);
    let trends = (0..months)
        .map(|i| {
            let m = time::add_months(start, i);
            let key = m.format("%Y-%m").to_string();
            let total = all.get(&key).map(|v| v.0).unwrap_or(0);
            let open = unpaid.get(&key).map(|v| v.0).unwrap_or(0);
            total.checked_sub(open).map(|v| (m, Paise::new(v))).ok_or_else(too_large)
        })
        .collect::<AppResult<_>>()?;
    Ok((summary, trends))
}

/// H3 over all time: the rollup of finished months plus the live tail of newer invoices,
/// summed by one pipeline (`$unionWith`).
pub async fn top_items_all(
    db: &Database,
    client: ObjectId,
    limit: i64,
    only: Option<&[ObjectId]>,
) -> AppResult<Vec<TopItem>> {
    let boundary = refresh_rollups(db, client).await?;
    let mut live = vec![doc! { "$match": { "clientId": client, "_id": { "$gte": boundary } } }];
    live.extend(line_stages());
    live.push(doc! { "$group": {
        "_id": item_key(),
        "name": { "$max": { "at": "$_id", "n": "$products.itemName" } },
        "quantity": { "$sum": "$products.quantity" },
        "amount": { "$sum": "$products.lineTotal" },
    } });
    let mut pipeline = vec![
        doc! { "$match": { "clientId": client } },
        doc! { "$project": { "_id": "$_id.k", "name": 1, "quantity": 1, "amount": 1 } },
        doc! { "$unionWith": { "coll": "invoices", "pipeline": live } },
        doc! { "$group": {
            "_id": "$_id",
            "name": { "$max": "$name" },
            "quantity": { "$sum": "$quantity" },
            "amount": { "$sum": "$amount" },
        } },
    ];
    pipeline.extend(only_items(only));
    pipeline.extend(top_tail(limit));
    let rows: Vec<Document> =
        db.collection::<Document>("dashitemrollups").aggregate(pipeline).await?.try_collect().await?;
    Ok(top_rows(rows))
}

/// Sales (invoices generated) and collections (payments received) in a window.
#[derive(Debug, Default, Clone, Copy)]
pub struct Figures {
    pub sales: Paise,
    pub invoices: i64,
    pub outstanding: Paise,
    pub collections: Paise,
    pub payments: i64,
}

pub async fn figures(db: &Database, client: ObjectId, w: Window) -> AppResult<Figures> {
    let inv = vec![
        doc! { "$match": with(doc! { "clientId": client }, w.filter("generatedAt")) },
        doc! { "$group": {
            "_id": Bson::Null,
            "sales": { "$sum": TOTAL },
            "n": { "$sum": 1_i64 },
            "out": { "$sum": { "$cond": [{ "$lt": [PAID, TOTAL] }, { "$subtract": [TOTAL, PAID] }, 0_i64] } },
        } },
    ];
    let pay = vec![
        doc! { "$match": with(doc! { "clientId": client }, w.filter("paidAt")) },
        doc! { "$group": { "_id": Bson::Null, "amount": { "$sum": "$amount" }, "n": { "$sum": 1_i64 } } },
    ];
    let (i, p) = tokio::try_join!(async { first(invoices(db).aggregate(inv).await?).await }, async {
        first(payments(db).aggregate(pay).await?).await
    },)?;
    Ok(Figures {
        sales: Paise::new(int(&i, "sales")),
        invoices: int(&i, "n"),
        outstanding: Paise::new(int(&i, "out")),
        collections: Paise::new(int(&p, "amount")),
        payments: int(&p, "n"),
    })
}

/// Payments in the window split by method (every method present, zeros included).
pub async fn method_split(db: &Database, client: ObjectId, w: Window) -> AppResult<MethodSplit> {
    let pipeline = vec![
        doc! { "$match": with(doc! { "clientId": client }, w.filter("paidAt")) },
        doc! { "$group": { "_id": "$method", "amount": { "$sum": "$amount" }, "n": { "$sum": 1_i64 } } },
    ];
    let rows: Vec<Document> = payments(db).aggregate(pipeline).await?.try_collect().await?;
    let total = checked_total(rows.iter().map(|d| int(d, "amount")))?;
    let get = |m: &str| -> AppResult<MethodFigure> {
        let mine: Vec<&Document> = rows
            .iter()
            .filter(|d| d.get_str("_id").unwrap_or("other") == m || (m == "other" && !is_known(d.get_str("_id").ok())))
            .collect();
        let amount = checked_total(mine.iter().map(|d| int(d, "amount")))?;
        let count = checked_total(mine.iter().map(|d| int(d, "n")))?;
        Ok(MethodFigure { amount: Paise::new(amount), count, percentage: percent(amount, total) })
    };
    Ok(MethodSplit {
        cash: get("cash")?,
        upi: get("upi")?,
        card: get("card")?,
        bank: get("bank")?,
        other: get("other")?,
    })
}

fn is_known(m: Option<&str>) -> bool {
    matches!(m, Some("cash" | "upi" | "card" | "bank" | "other"))
}

/// Outstanding balances of unfinalised invoices, aged by days past `dueDate` (an India
/// `YYYY-MM-DD` string, so string comparison is date comparison).
pub async fn dues(db: &Database, client: ObjectId, w: Window, today: NaiveDate) -> AppResult<Vec<AgeingBucket>> {
    let day = |n: u64| (today - chrono::Days::new(n)).format("%Y-%m-%d").to_string();
    let today_s = today.format("%Y-%m-%d").to_string();
    let bucket = doc! { "$switch": { "branches": [
        { "case": { "$gt": ["$dueDate", &today_s] }, "then": "current" },
        { "case": { "$gte": ["$dueDate", day(30)] }, "then": "0-30" },
        { "case": { "$gte": ["$dueDate", day(60)] }, "then": "31-60" },
        { "case": { "$gte": ["$dueDate", day(90)] }, "then": "61-90" },
    ], "default": "90+" } };
    let pipeline = vec![
        doc! { "$match": with(doc! { "clientId": client, "isFinalized": false }, w.filter("generatedAt")) },
        doc! { "$group": {
            "_id": bucket,
            "amount": { "$sum": { "$cond": [{ "$lt": [PAID, TOTAL] }, { "$subtract": [TOTAL, PAID] }, 0_i64] } },
            "n": { "$sum": { "$cond": [{ "$lt": [PAID, TOTAL] }, 1_i64, 0_i64] } },
        } },
    ];
    let rows: Vec<Document> = invoices(db).aggregate(pipeline).await?.try_collect().await?;
    Ok(["current", "0-30", "31-60", "61-90", "90+"]
        .iter()
        .map(|b| {
            let d = rows.iter().find(|d| d.get_str("_id").ok() == Some(b));
            AgeingBucket {
                bucket: b.to_string(),
                amount: Paise::new(d.map(|d| int(d, "amount")).unwrap_or(0)),
                invoices: d.map(|d| int(d, "n")).unwrap_or(0),
            }
        })
        .collect())
}

/// Customers by sales in the window: `{_id: customerId, n, sales, paid, out}`.
pub async fn top_customers(db: &Database, client: ObjectId, w: Window, limit: i64) -> AppResult<Vec<Document>> {
    let pipeline = vec![
        doc! { "$match": with(doc! { "clientId": client }, w.filter("generatedAt")) },
        doc! { "$match": { "clientCustomerId": { "$type": "objectId" } } },
        doc! { "$group": {
            "_id": "$clientCustomerId",
            "n": { "$sum": 1_i64 },
            "sales": { "$sum": TOTAL },
            "paid": { "$sum": PAID },
            "out": { "$sum": { "$cond": [{ "$lt": [PAID, TOTAL] }, { "$subtract": [TOTAL, PAID] }, 0_i64] } },
        } },
        doc! { "$sort": { "sales": -1, "_id": 1 } },
        doc! { "$limit": limit },
        doc! { "$lookup": {
            "from": "clientcustomers", "localField": "_id", "foreignField": "_id", "as": "c",
            "pipeline": [ { "$match": { "clientId": client } }, { "$project": { "name": 1, "phoneNumber": 1 } } ],
        } },
    ];
    Ok(invoices(db).aggregate(pipeline).await?.try_collect().await?)
}

/// `(low, out)`: active items at or below their low-stock level, and at or below zero.
pub async fn stock_counts(db: &Database, client: ObjectId) -> AppResult<(i64, i64)> {
    let pipeline = vec![
        doc! { "$match": { "clientId": client, "isActive": true } },
        doc! { "$group": {
            "_id": Bson::Null,
            "low": { "$sum": { "$cond": [{ "$lte": ["$stock", { "$ifNull": ["$lowStockQuantity", 5_i64] }] }, 1_i64, 0_i64] } },
            "out": { "$sum": { "$cond": [{ "$lte": ["$stock", 0_i64] }, 1_i64, 0_i64] } },
        } },
    ];
    let d = first(db.collection::<Document>("items").aggregate(pipeline).await?).await?;
    Ok((int(&d, "low"), int(&d, "out")))
}

/// Dealer payables read from the dealers module's `dealerorders` (absent collection or
/// documents count as zero): `(payable, orders, overdue, overdueOrders)`. Overdue: a
/// `dueDate` before `cutoff` (`time::overdue_cutoff(now)`, today's India midnight).
pub async fn dealer_payables(
    db: &Database,
    client: ObjectId,
    w: Window,
    cutoff: DateTime,
) -> AppResult<(Paise, i64, Paise, i64)> {
    let bal = doc! { "$max": [0_i64, { "$subtract": [
    { "$ifNull": ["$totalAmount", 0_i64] }, { "$ifNull": ["$paidAmount", 0_i64] } ] }] };
    let overdue = doc! { "$and": [
    { "$eq": [{ "$type": "$dueDate" }, "date"] }, { "$lt": ["$dueDate", cutoff] } ] };
    let pipeline = vec![
        doc! { "$match": with(doc! { "clientId": client, "status": { "$ne": "cancelled" } }, w.filter("createdAt")) },
        doc! { "$project": { "bal": bal, "overdue": overdue } },
        doc! { "$match": { "bal": { "$gt": 0_i64 } } },
        doc! { "$group": {
            "_id": Bson::Null,
            "payable": { "$sum": "$bal" },
            "n": { "$sum": 1_i64 },
            "overdue": { "$sum": { "$cond": ["$overdue", "$bal", 0_i64] } },
            "overdueN": { "$sum": { "$cond": ["$overdue", 1_i64, 0_i64] } },
        } },
    ];
    let d = first(db.collection::<Document>("dealerorders").aggregate(pipeline).await?).await?;
    Ok((Paise::new(int(&d, "payable")), int(&d, "n"), Paise::new(int(&d, "overdue")), int(&d, "overdueN")))
}

/// Invoice report rows (oldest first), optionally one page.
/// The shop's documents, only `user`'s when set (`field`: `billedBy.userId` of invoices,
/// `recordedBy.userId` of payments).
fn of_user(client: ObjectId, field: &str, user: Option<ObjectId>) -> Document {
    let mut d = doc! { "clientId": client };
    if let Some(u) = user {
        d.insert(field, u);
    }
    d
}

pub async fn invoice_rows(
    db: &Database,
    client: ObjectId,
    w: Window,
    user: Option<ObjectId>,
    page: Option<(i64, i64)>,
) -> AppResult<Cursor<Document>> {
    let coll = invoices(db);
    let mut find = coll
        .find(with(of_user(client, "billedBy.userId", user), w.filter("generatedAt")))
        .sort(doc! { "generatedAt": 1, "_id": 1 })
        .projection(doc! { "products": 0 });
    if let Some((limit, offset)) = page {
        find = find.skip(offset as u64).limit(limit);
    }
    Ok(find.await?)
}

/// Count and totals of the invoice report.
pub async fn invoice_totals(
    db: &Database,
    client: ObjectId,
    w: Window,
    user: Option<ObjectId>,
) -> AppResult<(i64, Paise, Paise)> {
    let pipeline = vec![
        doc! { "$match": with(of_user(client, "billedBy.userId", user), w.filter("generatedAt")) },
        doc! { "$group": { "_id": Bson::Null, "n": { "$sum": 1_i64 }, "t": { "$sum": TOTAL }, "p": { "$sum": PAID } } },
    ];
    let d = first(invoices(db).aggregate(pipeline).await?).await?;
    Ok((int(&d, "n"), Paise::new(int(&d, "t")), Paise::new(int(&d, "p"))))
}

/// Payment report rows (oldest first) with the paid invoice's number and customer name.
pub async fn payment_rows(
    db: &Database,
    client: ObjectId,
    w: Window,
    user: Option<ObjectId>,
    page: Option<(i64, i64)>,
) -> AppResult<Cursor<Document>> {
    let mut pipeline = vec![
        doc! { "$match": with(of_user(client, "recordedBy.userId", user), w.filter("paidAt")) },
        doc! { "$sort": { "paidAt": 1, "_id": 1 } },
    ];
    if let Some((limit, offset)) = page {
        pipeline.push(doc! { "$skip": offset });
        pipeline.push(doc! { "$limit": limit });
    }
    pipeline.extend(invoice_lookup(client));
    Ok(payments(db).aggregate(pipeline).await?)
}

/// `inv: [{invoiceNumber, clientCustomerName}]`: the paid invoice, joined by `_id` (a plain
/// equality `$lookup`, which runs much faster than one with a sub-pipeline) and kept only
/// when it belongs to the same client.
fn invoice_lookup(client: ObjectId) -> Vec<Document> {
    vec![
        doc! { "$lookup": { "from": "invoices", "localField": "invoiceId", "foreignField": "_id", "as": "inv" } },
        doc! { "$set": { "inv": { "$map": {
            "input": { "$filter": { "input": "$inv", "cond": { "$eq": ["$$this.clientId", client] } } },
            "in": { "invoiceNumber": "$$this.invoiceNumber", "clientCustomerName": "$$this.clientCustomerName" },
        } } } },
    ]
}

pub async fn payment_totals(
    db: &Database,
    client: ObjectId,
    w: Window,
    user: Option<ObjectId>,
) -> AppResult<(i64, Paise)> {
    let pipeline = vec![
        doc! { "$match": with(of_user(client, "recordedBy.userId", user), w.filter("paidAt")) },
        doc! { "$group": { "_id": Bson::Null, "n": { "$sum": 1_i64 }, "a": { "$sum": "$amount" } } },
    ];
    let d = first(payments(db).aggregate(pipeline).await?).await?;
    Ok((int(&d, "n"), Paise::new(int(&d, "a"))))
}

/// Day book: invoices issued and payments received in the window, merged in time order
/// (invoices before payments at the same instant). Rows:
/// `{at, type, invoiceId, invoiceNumber, customerName, amount, method}`.
pub async fn day_book(db: &Database, client: ObjectId, w: Window) -> AppResult<Cursor<Document>> {
    let lookup = {
        let mut l = invoice_lookup(client).into_iter();
        (l.next().unwrap_or_default(), l.next().unwrap_or_default())
    };
    let pays = vec![
        doc! { "$match": with(doc! { "clientId": client }, w.filter("paidAt")) },
        lookup.0,
        lookup.1,
        doc! { "$project": {
            "at": "$paidAt", "type": "payment", "order": { "$literal": 1_i32 }, "invoiceId": "$invoiceId",
            "invoiceNumber": { "$first": "$inv.invoiceNumber" }, "customerName": { "$first": "$inv.clientCustomerName" },
            "amount": "$amount", "method": "$method",
        } },
    ];
    let pipeline = vec![
        doc! { "$match": with(doc! { "clientId": client }, w.filter("generatedAt")) },
        doc! { "$project": {
            "at": "$generatedAt", "type": "invoice", "order": { "$literal": 0_i32 }, "invoiceId": "$_id",
            "invoiceNumber": 1, "customerName": "$clientCustomerName", "amount": TOTAL, "method": "",
        } },
        doc! { "$unionWith": { "coll": "payments", "pipeline": pays } },
        doc! { "$sort": { "at": 1, "order": 1, "_id": 1 } },
    ];
    Ok(invoices(db).aggregate(pipeline).await?)
}
