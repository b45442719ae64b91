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

mod rollup;
pub use rollup::{refresh_rollups, summary_and_trends, top_items_all, MonthFigures};

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

/// The credit notes (issue 18): `billing::credit::model::CreditNoteDoc`.
pub fn credit_notes(db: &Database) -> Collection<Document> {
    db.collection(crate::changelog::CREDIT_NOTES)
}

/// The filter of invoices that count in sales and dues (issue 18): not cancelled
/// (`isCancelled` is absent on every invoice that was never cancelled).
pub fn not_cancelled() -> Document {
    doc! { "isCancelled": { "$ne": true } }
}

/// `true` on a cancelled invoice (an aggregation expression).
fn cancelled() -> Document {
    doc! { "$eq": ["$isCancelled", true] }
}

/// What is still due on an invoice (issue 18, billing's `InvoiceDoc::pending`; the billing
/// reports spell the same expression): `totalAmount -
/// creditedAmount - paidAmount`, never below 0 (an aggregation expression; the caller
/// excludes cancelled invoices, whose `paidAmount` is 0 but nothing is due).
pub fn due() -> Document {
    doc! { "$max": [0_i64, { "$subtract": [
    { "$subtract": [TOTAL, { "$ifNull": ["$creditedAmount", 0_i64] }] }, PAID ] }] }
}

/// `true` while something is due on an invoice (`due() > 0`).
fn open() -> Document {
    doc! { "$gt": [due(), 0_i64] }
}

/// The `kind` of a refund payment document (issue 18; the value of billing's
/// `model::KIND_REFUND`, spelled here because the dashboard reads the sales collections
/// through its own pipelines and does not depend on billing).
pub const KIND_REFUND: &str = "refund";

/// `true` on a refund payment (`kind: "refund"`, a negative amount; issue 18).
fn is_refund() -> Document {
    doc! { "$eq": ["$kind", KIND_REFUND] }
}

/// Σ `totalAmount` of the shop's credit notes issued in the window (by `issuedAt`), paise,
/// and their count: the returns of a period (a note counts in the period of its own date).
pub async fn returns_in(db: &Database, client: ObjectId, w: Window) -> AppResult<(Paise, i64)> {
    let pipeline = vec![
        doc! { "$match": with(doc! { "clientId": client }, w.filter("issuedAt")) },
        doc! { "$group": { "_id": Bson::Null, "t": { "$sum": TOTAL }, "n": { "$sum": 1_i64 } } },
    ];
    let d = first(credit_notes(db).aggregate(pipeline).await?).await?;
    Ok((Paise::new(int(&d, "t")), int(&d, "n")))
}

/// `gross - returns`, checked.
pub fn net(gross: Paise, returns: Paise) -> AppResult<Paise> {
    gross.checked_sub(returns).ok_or_else(too_large)
}

/// H1 over a window: fully paid sales (Σ `totalAmount` of invoices with nothing due),
/// pending balance and count, and (issue 18) gross sales (every invoice not cancelled),
/// returns (credit notes issued in the window) and net sales. Cancelled invoices count in
/// none of them.
pub async fn summary(db: &Database, client: ObjectId, w: Window) -> AppResult<SummaryWire> {
    let mut m = with(doc! { "clientId": client }, w.filter("generatedAt"));
    m.extend(not_cancelled());
    let pipeline = vec![
        doc! { "$match": m },
        doc! { "$group": {
            "_id": Bson::Null,
            "sales": { "$sum": { "$cond": [open(), 0_i64, TOTAL] } },
            "gross": { "$sum": TOTAL },
            "pending": { "$sum": due() },
            "n": { "$sum": { "$cond": [open(), 1_i64, 0_i64] } },
        } },
    ];
    let (d, (returns, _)) =
        tokio::try_join!(async { first(invoices(db).aggregate(pipeline).await?).await }, returns_in(db, client, w))?;
    let gross = Paise::new(int(&d, "gross"));
    Ok(SummaryWire {
        total_sales: Paise::new(int(&d, "sales")),
        pending_amount: Paise::new(int(&d, "pending")),
        pending_invoices: int(&d, "n"),
        gross_sales: gross,
        returns,
        net_sales: net(gross, returns)?,
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

/// Sorting and shaping of grouped item rows `{_id, name:{at, n}, quantity, amount, base,
/// rq, ra}`: the net figures, then best net amount first.
fn top_tail(limit: i64) -> Vec<Document> {
    vec![
        doc! { "$set": {
            "netQuantity": { "$subtract": ["$base", "$rq"] },
            "netAmount": { "$subtract": ["$amount", "$ra"] },
        } },
        doc! { "$sort": { "netAmount": -1, "amount": -1, "quantity": -1, "_id": 1 } },
        doc! { "$limit": limit },
    ]
}

fn top_rows(rows: Vec<Document>) -> Vec<TopItem> {
    rows.iter()
        .map(|d| {
            let name = d.get_document("name").ok().and_then(|n| n.get_str("n").ok()).unwrap_or("");
            TopItem {
                item_name: if name.trim().is_empty() { "Unknown".to_string() } else { name.to_string() },
                quantity: int(d, "quantity"),
                amount: Paise::new(int(d, "amount")),
                returned_quantity: int(d, "rq"),
                returns: Paise::new(int(d, "ra")),
                net_quantity: int(d, "netQuantity"),
                net_amount: Paise::new(int(d, "netAmount")),
            }
        })
        .collect()
}

/// Lines of the matched invoices, one row per line: `{k, at, n, q, a}`.
fn line_stages() -> Vec<Document> {
    vec![
        doc! { "$project": { "_id": 1, "products.productId": 1, "products.itemName": 1, "products.quantity": 1,
        "products.lineTotal": 1, "products.baseQuantity": 1 } },
        doc! { "$unwind": "$products" },
    ]
}

/// The base units of an unwound invoice line (`baseQuantity`, else `quantity`).
fn line_base() -> Document {
    doc! { "$ifNull": ["$products.baseQuantity", "$products.quantity"] }
}

/// The `$group` fields of item rows from unwound invoice lines, each multiplied by `sign`
/// (`-1` takes lines back out: the cancelled invoices already in the rollup).
fn sold_fields(sign: i64) -> Document {
    doc! {
        "name": { "$max": { "at": "$_id", "n": "$products.itemName" } },
        "quantity": { "$sum": { "$multiply": ["$products.quantity", sign] } },
        "amount": { "$sum": { "$multiply": ["$products.lineTotal", sign] } },
        "base": { "$sum": { "$multiply": [line_base(), sign] } },
    }
}

/// Item rows of the lines of the invoices matching `m` (`sign` as [`sold_fields`]).
fn sold_rows(m: Document, sign: i64) -> Vec<Document> {
    let mut p = vec![doc! { "$match": m }];
    p.extend(line_stages());
    let mut group = sold_fields(sign);
    group.insert("_id", item_key());
    p.push(doc! { "$group": group });
    p
}

/// Item rows of the credit-note lines issued in `w` (issue 18): `rq` returned base units,
/// `ra` Σ line `total` credited (paise), keyed like invoice lines (product id, else name).
fn returned_rows(client: ObjectId, w: Window) -> Vec<Document> {
    vec![
        doc! { "$match": with(doc! { "clientId": client }, w.filter("issuedAt")) },
        doc! { "$project": { "_id": 1, "lines.productId": 1, "lines.itemName": 1, "lines.baseQuantity": 1, "lines.total": 1 } },
        doc! { "$unwind": "$lines" },
        doc! { "$group": {
            "_id": { "$ifNull": ["$lines.productId", "$lines.itemName"] },
            "name": { "$max": { "at": "$_id", "n": "$lines.itemName" } },
            "rq": { "$sum": "$lines.baseQuantity" },
            "ra": { "$sum": "$lines.total" },
        } },
    ]
}

/// Sum item rows of several sources into one row per item.
fn merge_items() -> Document {
    doc! { "$group": {
        "_id": "$_id",
        "name": { "$max": "$name" },
        "quantity": { "$sum": "$quantity" },
        "amount": { "$sum": "$amount" },
        "base": { "$sum": "$base" },
        "rq": { "$sum": "$rq" },
        "ra": { "$sum": "$ra" },
    } }
}

/// H3 over a `from`/`to` window: live over the invoices of the window (not cancelled) and
/// the credit notes issued in it (their lines are the returns: a September sale returned in
/// October is a September sale and an October return).
pub async fn top_items_in(
    db: &Database,
    client: ObjectId,
    w: Window,
    limit: i64,
    only: Option<&[ObjectId]>,
) -> AppResult<Vec<TopItem>> {
    let m = with(with(doc! { "clientId": client }, w.filter("generatedAt")), not_cancelled());
    let mut pipeline = sold_rows(m, 1);
    pipeline
        .push(doc! { "$unionWith": { "coll": crate::changelog::CREDIT_NOTES, "pipeline": returned_rows(client, w) } });
    pipeline.push(merge_items());
    pipeline.extend(only_items(only));
    pipeline.extend(top_tail(limit));
    let rows: Vec<Document> = invoices(db).aggregate(pipeline).await?.try_collect().await?;
    Ok(top_rows(rows))
}

/// Sales (invoices generated) and collections (payments received) in a window (issue 18:
/// cancelled invoices count nowhere; returns are the credit notes issued in the window;
/// collections are net of the refunds paid out in it).
#[derive(Debug, Default, Clone, Copy)]
pub struct Figures {
    /// Σ totalAmount of the window's invoices not cancelled (gross sales).
    pub sales: Paise,
    pub invoices: i64,
    /// Σ due of those invoices today.
    pub outstanding: Paise,
    /// Σ amount of the window's payment documents, refunds (negative) included: net.
    pub collections: Paise,
    /// Payments received (refunds not counted).
    pub payments: i64,
    /// Σ totalAmount of the credit notes issued in the window.
    pub returns: Paise,
    pub credit_notes: i64,
    /// Money paid back in the window (Σ |refund amount|, positive).
    pub refunds: Paise,
    pub refund_count: i64,
}

pub async fn figures(db: &Database, client: ObjectId, w: Window) -> AppResult<Figures> {
    let inv = vec![
        doc! { "$match": with(with(doc! { "clientId": client }, w.filter("generatedAt")), not_cancelled()) },
        doc! { "$group": {
            "_id": Bson::Null,
            "sales": { "$sum": TOTAL },
            "n": { "$sum": 1_i64 },
            "out": { "$sum": due() },
        } },
    ];
    let pay = vec![
        doc! { "$match": with(doc! { "clientId": client }, w.filter("paidAt")) },
        doc! { "$group": {
            "_id": Bson::Null,
            "amount": { "$sum": "$amount" },
            "n": { "$sum": { "$cond": [is_refund(), 0_i64, 1_i64] } },
            "refunds": { "$sum": { "$cond": [is_refund(), { "$subtract": [0_i64, "$amount"] }, 0_i64] } },
            "rn": { "$sum": { "$cond": [is_refund(), 1_i64, 0_i64] } },
        } },
    ];
    let (i, p, (returns, notes)) = tokio::try_join!(
        async { first(invoices(db).aggregate(inv).await?).await },
        async { first(payments(db).aggregate(pay).await?).await },
        returns_in(db, client, w),
    )?;
    Ok(Figures {
        sales: Paise::new(int(&i, "sales")),
        invoices: int(&i, "n"),
        outstanding: Paise::new(int(&i, "out")),
        collections: Paise::new(int(&p, "amount")),
        payments: int(&p, "n"),
        returns,
        credit_notes: notes,
        refunds: Paise::new(int(&p, "refunds")),
        refund_count: int(&p, "rn"),
    })
}

/// Payments in the window split by method (every method present, zeros included): amounts
/// net of the refunds paid out in that method (issue 18), counts of payments received.
pub async fn method_split(db: &Database, client: ObjectId, w: Window) -> AppResult<MethodSplit> {
    let pipeline = vec![
        doc! { "$match": with(doc! { "clientId": client }, w.filter("paidAt")) },
        doc! { "$group": { "_id": "$method", "amount": { "$sum": "$amount" }, "n": { "$sum": { "$cond": [is_refund(), 0_i64, 1_i64] } } } },
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

/// Outstanding balances (what is due: total − credited − paid) of unfinalised invoices not
/// cancelled, aged by days past `dueDate` (an India
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
        doc! { "$match": with(
            with(doc! { "clientId": client, "isFinalized": false }, w.filter("generatedAt")),
            not_cancelled(),
        ) },
        doc! { "$group": {
            "_id": bucket,
            "amount": { "$sum": due() },
            "n": { "$sum": { "$cond": [open(), 1_i64, 0_i64] } },
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

/// Customers by sales in the window (invoices not cancelled): `{_id: customerId, n, sales,
/// paid, credited, out}` (`credited`: Σ creditedAmount of those invoices, issue 18).
pub async fn top_customers(db: &Database, client: ObjectId, w: Window, limit: i64) -> AppResult<Vec<Document>> {
    let pipeline = vec![
        doc! { "$match": with(with(doc! { "clientId": client }, w.filter("generatedAt")), not_cancelled()) },
        doc! { "$match": { "clientCustomerId": { "$type": "objectId" } } },
        doc! { "$group": {
            "_id": "$clientCustomerId",
            "n": { "$sum": 1_i64 },
            "sales": { "$sum": TOTAL },
            "paid": { "$sum": PAID },
            "credited": { "$sum": { "$ifNull": ["$creditedAmount", 0_i64] } },
            "out": { "$sum": due() },
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

/// Totals of the invoice report (issue 18: cancelled invoices are listed but count in no
/// sales figure; they are counted apart).
#[derive(Debug, Default, Clone, Copy)]
pub struct InvoiceTotals {
    /// Every listed invoice, cancelled ones included.
    pub count: i64,
    /// Σ totalAmount of the invoices not cancelled.
    pub total: Paise,
    /// Σ paidAmount (net of refunds) of the invoices not cancelled.
    pub paid: Paise,
    /// Σ creditedAmount of the invoices not cancelled.
    pub credited: Paise,
    /// Σ due (`total − credited − paid`, each at least 0) of the invoices not cancelled.
    pub balance: Paise,
    pub cancelled: i64,
    /// Σ totalAmount of the cancelled ones.
    pub cancelled_amount: Paise,
}

/// [`InvoiceTotals`] of the invoice report's window.
pub async fn invoice_totals(
    db: &Database,
    client: ObjectId,
    w: Window,
    user: Option<ObjectId>,
) -> AppResult<InvoiceTotals> {
    let live = |v: Bson| Bson::Document(doc! { "$cond": [cancelled(), 0_i64, v] });
    let pipeline = vec![
        doc! { "$match": with(of_user(client, "billedBy.userId", user), w.filter("generatedAt")) },
        doc! { "$group": {
            "_id": Bson::Null,
            "n": { "$sum": 1_i64 },
            "t": { "$sum": live(TOTAL.into()) },
            "p": { "$sum": live(PAID.into()) },
            "c": { "$sum": live(doc! { "$ifNull": ["$creditedAmount", 0_i64] }.into()) },
            "b": { "$sum": live(due().into()) },
            "xn": { "$sum": { "$cond": [cancelled(), 1_i64, 0_i64] } },
            "xt": { "$sum": { "$cond": [cancelled(), TOTAL, 0_i64] } },
        } },
    ];
    let d = first(invoices(db).aggregate(pipeline).await?).await?;
    Ok(InvoiceTotals {
        count: int(&d, "n"),
        total: Paise::new(int(&d, "t")),
        paid: Paise::new(int(&d, "p")),
        credited: Paise::new(int(&d, "c")),
        balance: Paise::new(int(&d, "b")),
        cancelled: int(&d, "xn"),
        cancelled_amount: Paise::new(int(&d, "xt")),
    })
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

/// Day book: invoices issued, payments received, refunds paid out and credit notes issued
/// in the window, merged in time order (invoices, then credit notes, then payments and
/// refunds at the same instant). Rows: `{at, type, invoiceId, invoiceNumber, customerName,
/// amount, method, creditNoteNumber?}` where `type` is `invoice`, `cancelledInvoice` (listed
/// at its issue, counted in no sales figure), `creditNote` (amount = −its total: a return),
/// `payment` or `refund` (amount negative, as stored).
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
            "at": "$paidAt", "type": { "$cond": [is_refund(), "refund", "payment"] }, "order": { "$literal": 2_i32 },
            "invoiceId": "$invoiceId",
            "invoiceNumber": { "$first": "$inv.invoiceNumber" }, "customerName": { "$first": "$inv.clientCustomerName" },
            "amount": "$amount", "method": "$method",
        } },
    ];
    let notes = vec![
        doc! { "$match": with(doc! { "clientId": client }, w.filter("issuedAt")) },
        doc! { "$project": {
            "at": "$issuedAt", "type": "creditNote", "order": { "$literal": 1_i32 }, "invoiceId": "$invoiceId",
            "invoiceNumber": 1, "customerName": "$clientCustomerName", "amount": { "$subtract": [0_i64, TOTAL] },
            "method": "", "creditNoteNumber": 1,
        } },
    ];
    let pipeline = vec![
        doc! { "$match": with(doc! { "clientId": client }, w.filter("generatedAt")) },
        doc! { "$project": {
            "at": "$generatedAt", "type": { "$cond": [cancelled(), "cancelledInvoice", "invoice"] },
            "order": { "$literal": 0_i32 }, "invoiceId": "$_id",
            "invoiceNumber": 1, "customerName": "$clientCustomerName", "amount": TOTAL, "method": "",
        } },
        doc! { "$unionWith": { "coll": crate::changelog::CREDIT_NOTES, "pipeline": notes } },
        doc! { "$unionWith": { "coll": "payments", "pipeline": pays } },
        doc! { "$sort": { "at": 1, "order": 1, "_id": 1 } },
    ];
    Ok(invoices(db).aggregate(pipeline).await?)
}
