//! The queries and aggregation pipelines of the billing reports (B21, B23-B32): the only
//! place in `billing::reports` that builds BSON. Filters come in typed
//! ([`InvoiceFilter`], [`PaymentFilter`]), rows go out typed (the `$facet` results as
//! structs); turning rows into report values is `analytics`' job.

use std::collections::HashMap;

use bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use futures::TryStreamExt;
use mongodb::Database;

use crate::{
    billing::{
        model::{InvoiceDoc, PaymentDoc, PurchaseHistoryDoc},
        repo,
    },
    customer::model::CustomerDoc,
    error::AppResult,
    money::Paise,
    paging::Page,
    time,
    window::Window,
};

use super::analytics::ON_TIME_DAYS;

/// The exact customer match of a list: by id and/or by (normalised) phone.
#[derive(Debug, Clone, Default)]
pub struct CustomerMatch {
    pub id: Option<ObjectId>,
    pub phone: Option<String>,
}

impl CustomerMatch {
    pub fn is_empty(&self) -> bool {
        self.id.is_none() && self.phone.is_none()
    }

    fn filter(&self) -> Document {
        let mut f = Document::new();
        if let Some(id) = self.id {
            f.insert("clientCustomerId", id);
        }
        if let Some(p) = &self.phone {
            f.insert("clientCustomerPhone", p);
        }
        f
    }
}

/// Which of the shop's invoices (sales documents) a report reads.
#[derive(Debug, Clone)]
pub struct InvoiceFilter {
    pub client_id: ObjectId,
    /// Only `kind: "invoice"` (not every sales document).
    pub invoices_only: bool,
    /// `isFinalized` (paid in full) when set; either way a cancelled invoice (finalized too,
    /// issue 18) is then left out: it is neither paid nor pending.
    pub finalized: Option<bool>,
    pub customer: CustomerMatch,
    /// On `generatedAt`.
    pub generated: Window,
    /// Only invoices this user billed (`billedBy.userId`), when set.
    pub billed_by: Option<ObjectId>,
}

impl InvoiceFilter {
    /// Every sales document of the shop.
    pub fn shop(client_id: ObjectId) -> Self {
        InvoiceFilter {
            client_id,
            invoices_only: false,
            finalized: None,
            customer: CustomerMatch::default(),
            generated: Window::default(),
            billed_by: None,
        }
    }

    fn doc(&self) -> Document {
        let mut f = doc! { "clientId": self.client_id };
        if self.invoices_only {
            f.insert("kind", "invoice");
        }
        if let Some(v) = self.finalized {
            f.insert("isFinalized", v);
            f.extend(not_cancelled());
        }
        f.extend(self.customer.filter());
        f.extend(self.generated.filter("generatedAt"));
        if let Some(u) = self.billed_by {
            f.insert("billedBy.userId", u);
        }
        f
    }
}

/// Which of the shop's payments a report reads.
#[derive(Debug, Clone)]
pub struct PaymentFilter {
    pub client_id: ObjectId,
    /// On `paidAt`.
    pub paid: Window,
    /// Only payments of these invoices, when set.
    pub invoice_ids: Option<Vec<ObjectId>>,
    /// Only payments this user recorded (`recordedBy.userId`), when set.
    pub recorded_by: Option<ObjectId>,
}

impl PaymentFilter {
    fn doc(&self) -> Document {
        let mut f = doc! { "clientId": self.client_id };
        f.extend(self.paid.filter("paidAt"));
        if let Some(ids) = &self.invoice_ids {
            f.insert("invoiceId", doc! { "$in": ids.clone() });
        }
        if let Some(u) = self.recorded_by {
            f.insert("recordedBy.userId", u);
        }
        f
    }
}

/// The filter of invoices that count in sales and dues (issue 18): not cancelled
/// (`isCancelled` is absent on every invoice that was never cancelled).
fn not_cancelled() -> Document {
    doc! { "isCancelled": { "$ne": true } }
}

/// What is still due on an invoice, as an aggregation expression: [`InvoiceDoc::pending`]
/// (`totalAmount - creditedAmount - paidAmount`, never below 0); callers leave cancelled
/// invoices out.
fn due() -> Document {
    doc! { "$max": [0_i64, { "$subtract": [
    { "$subtract": ["$totalAmount", { "$ifNull": ["$creditedAmount", 0_i64] }] }, "$paidAmount" ] }] }
}

/// `$cond`: `v` on an invoice not cancelled, else 0 (issue 18: a cancelled invoice is listed
/// but counts in no sales figure).
fn live(v: impl Into<Bson>) -> Document {
    doc! { "$cond": [{ "$eq": ["$isCancelled", true] }, 0_i64, v.into()] }
}

fn int(d: &Document, k: &str) -> i64 {
    match d.get(k) {
        Some(Bson::Int64(v)) => *v,
        Some(Bson::Int32(v)) => *v as i64,
        _ => 0,
    }
}

/// The shop's customers with these ids (others', unknown ones are simply absent).
pub async fn customers_by_id(
    db: &Database,
    client_id: ObjectId,
    ids: Vec<ObjectId>,
) -> AppResult<HashMap<ObjectId, CustomerDoc>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let list: Vec<CustomerDoc> = db
        .collection::<CustomerDoc>("clientcustomers")
        .find(doc! { "clientId": client_id, "_id": { "$in": ids } })
        .await?
        .try_collect()
        .await?;
    Ok(list.into_iter().map(|c| (c.id, c)).collect())
}

/// One page of invoices, newest first (`generatedAt` desc, then `_id` desc).
pub async fn find_invoices(db: &Database, filter: &InvoiceFilter, page: Page) -> AppResult<Vec<InvoiceDoc>> {
    Ok(repo::invoices(db)
        .find(filter.doc())
        .sort(doc! { "generatedAt": -1, "_id": -1 })
        .skip(page.offset as u64)
        .limit(page.limit)
        .await?
        .try_collect()
        .await?)
}

/// How many invoices match.
pub async fn count_invoices(db: &Database, filter: &InvoiceFilter) -> AppResult<i64> {
    Ok(repo::invoices(db).count_documents(filter.doc()).await? as i64)
}

/// The shop's invoices that are not finalized and have nothing paid (nor credited).
pub async fn count_unpaid(db: &Database, client_id: ObjectId) -> AppResult<i64> {
    let mut f = doc! { "clientId": client_id, "paidAmount": 0_i64, "isFinalized": false };
    f.extend(not_cancelled());
    f.insert("creditedAmount", doc! { "$in": [Bson::Null, Bson::Int64(0)] });
    Ok(repo::invoices(db).count_documents(f).await? as i64)
}

/// The shop's invoices with these ids (any order).
pub async fn invoices_by_id(
    db: &Database,
    client_id: ObjectId,
    ids: Vec<ObjectId>,
) -> AppResult<HashMap<ObjectId, InvoiceDoc>> {
    let list: Vec<InvoiceDoc> =
        repo::invoices(db).find(doc! { "clientId": client_id, "_id": { "$in": ids } }).await?.try_collect().await?;
    Ok(list.into_iter().map(|i| (i.id, i)).collect())
}

/// Totals over a filter, computed by MongoDB (issue 18: over the invoices not cancelled).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Invoices not cancelled.
    pub n: i64,
    /// Σ totalAmount.
    pub total: Paise,
    /// Σ paidAmount (net of refunds).
    pub paid: Paise,
    /// Σ what is due (`total − credited − paid`, each at least 0).
    pub pending: Paise,
}

/// [`Totals`] of the invoices of `filter`.
pub async fn totals(db: &Database, filter: &InvoiceFilter) -> AppResult<Totals> {
    let pipeline = vec![
        doc! { "$match": filter.doc() },
        doc! { "$group": {
            "_id": Bson::Null,
            "n": { "$sum": live(1_i64) },
            "total": { "$sum": live("$totalAmount") },
            "paid": { "$sum": live("$paidAmount") },
            "pending": { "$sum": live(due()) },
        } },
    ];
    let mut cur = repo::invoices(db).aggregate(pipeline).await?;
    Ok(cur
        .try_next()
        .await?
        .map(|d| Totals {
            n: int(&d, "n"),
            total: Paise::new(int(&d, "total")),
            paid: Paise::new(int(&d, "paid")),
            pending: Paise::new(int(&d, "pending")),
        })
        .unwrap_or_default())
}

/// One page of purchase histories (B24), newest first (`purchasedAt` desc, then `_id` desc).
pub async fn histories_page(
    db: &Database,
    client_id: ObjectId,
    customer: &CustomerMatch,
    purchased: Window,
    page: Page,
) -> AppResult<Vec<PurchaseHistoryDoc>> {
    let mut filter = doc! { "clientId": client_id };
    filter.extend(customer.filter());
    filter.extend(purchased.filter("purchasedAt"));
    Ok(repo::histories(db)
        .find(filter)
        .sort(doc! { "purchasedAt": -1, "_id": -1 })
        .skip(page.offset as u64)
        .limit(page.limit)
        .await?
        .try_collect()
        .await?)
}

/// The `summary` facet of [`invoice_facets`].
#[derive(Debug, Clone, Copy, Default)]
pub struct InvoiceSummaryRow {
    pub n: i64,
    pub finalized: i64,
    pub total: Paise,
    pub paid: Paise,
    /// Σ what is due (issue 18: `total − credited − paid`).
    pub pending: Paise,
    pub first: Option<DateTime>,
    pub last: Option<DateTime>,
    /// Σ product lines.
    pub lines: i64,
    /// Σ quantities of all lines.
    pub qty: i64,
}

/// A line of the `items` facet: one (item name, group) over all lines.
#[derive(Debug, Clone)]
pub struct ItemRow {
    pub name: String,
    pub group: String,
    pub qty: i64,
    pub revenue: Paise,
    /// Lines of this item.
    pub count: i64,
}

/// A line of the `groups` facet.
#[derive(Debug, Clone)]
pub struct GroupRow {
    pub name: String,
    pub revenue: Paise,
    /// Invoices with a line of the group.
    pub invoices: i64,
}

/// A line of a monthly facet: India month `YYYY-MM`, amount, count.
#[derive(Debug, Clone)]
pub struct MonthRow {
    pub month: String,
    pub amount: Paise,
    pub n: i64,
}

/// The B29/B30 analytics inputs over every invoice of a filter (one `$facet`): the summary,
/// the 10 most frequent items, the 5 top groups by revenue, the last 6 India months (oldest
/// first).
#[derive(Debug, Clone, Default)]
pub struct InvoiceFacets {
    pub summary: InvoiceSummaryRow,
    pub items: Vec<ItemRow>,
    pub groups: Vec<GroupRow>,
    pub months: Vec<MonthRow>,
}

/// [`InvoiceFacets`] of the invoices of `filter` that are not cancelled (issue 18).
pub async fn invoice_facets(db: &Database, filter: &InvoiceFilter) -> AppResult<InvoiceFacets> {
    let month = doc! { "$dateToString": { "format": "%Y-%m", "date": "$generatedAt", "timezone": "Asia/Kolkata" } };
    let pipeline = vec![
        doc! { "$match": filter.doc() },
        doc! { "$match": not_cancelled() },
        doc! { "$facet": {
            "summary": [ { "$group": {
                "_id": "all", "n": { "$sum": 1_i64 },
                "finalized": { "$sum": { "$cond": ["$isFinalized", 1_i64, 0_i64] } },
                "total": { "$sum": "$totalAmount" }, "paid": { "$sum": "$paidAmount" }, "pending": { "$sum": due() },
                "first": { "$min": "$generatedAt" }, "last": { "$max": "$generatedAt" },
                "lines": { "$sum": { "$size": "$products" } },
                "qty": { "$sum": { "$sum": "$products.quantity" } },
            } } ],
            "items": [
                { "$unwind": "$products" },
                { "$group": {
                    "_id": { "name": "$products.itemName", "group": "$products.itemGroup" },
                    "qty": { "$sum": "$products.quantity" }, "revenue": { "$sum": "$products.lineTotal" }, "count": { "$sum": 1_i64 },
                } },
                { "$sort": { "count": -1, "revenue": -1 } }, { "$limit": 10 },
            ],
            "groups": [
                { "$unwind": "$products" },
                { "$group": { "_id": "$products.itemGroup", "revenue": { "$sum": "$products.lineTotal" }, "invoices": { "$addToSet": "$_id" } } },
                { "$project": { "revenue": 1, "n": { "$size": "$invoices" } } },
                { "$sort": { "revenue": -1 } }, { "$limit": 5 },
            ],
            "months": [
                { "$group": { "_id": month, "revenue": { "$sum": "$totalAmount" }, "n": { "$sum": 1_i64 } } },
                { "$sort": { "_id": -1 } }, { "$limit": 6 }, { "$sort": { "_id": 1 } },
            ],
        } },
    ];
    let mut cur = repo::invoices(db).aggregate(pipeline).await?;
    let facets = cur.try_next().await?.unwrap_or_default();
    let arr = |k: &str| facets.get_array(k).cloned().unwrap_or_default();
    let s = arr("summary").first().and_then(|b| b.as_document().cloned()).unwrap_or_default();
    let summary = InvoiceSummaryRow {
        n: int(&s, "n"),
        finalized: int(&s, "finalized"),
        total: Paise::new(int(&s, "total")),
        paid: Paise::new(int(&s, "paid")),
        pending: Paise::new(int(&s, "pending")),
        first: s.get_datetime("first").ok().copied(),
        last: s.get_datetime("last").ok().copied(),
        lines: int(&s, "lines"),
        qty: int(&s, "qty"),
    };
    let items = arr("items")
        .iter()
        .filter_map(|b| b.as_document())
        .map(|d| {
            let id = d.get_document("_id").cloned().unwrap_or_default();
            ItemRow {
                name: id.get_str("name").unwrap_or("").to_string(),
                group: id.get_str("group").unwrap_or("").to_string(),
                qty: int(d, "qty"),
                revenue: Paise::new(int(d, "revenue")),
                count: int(d, "count"),
            }
        })
        .collect();
    let groups = arr("groups")
        .iter()
        .filter_map(|b| b.as_document())
        .map(|d| GroupRow {
            name: d.get_str("_id").unwrap_or("").to_string(),
            revenue: Paise::new(int(d, "revenue")),
            invoices: int(d, "n"),
        })
        .collect();
    let months = arr("months")
        .iter()
        .filter_map(|b| b.as_document())
        .map(|d| MonthRow {
            month: d.get_str("_id").unwrap_or("").to_string(),
            amount: Paise::new(int(d, "revenue")),
            n: int(d, "n"),
        })
        .collect();
    Ok(InvoiceFacets { summary, items, groups, months })
}

/// The B29/B30 `paymentBehavior` inputs over every invoice of a filter (see
/// `analytics::payment_behavior` for the rule).
#[derive(Debug, Clone, Default)]
pub struct BehaviorRow {
    /// Invoices.
    pub n: i64,
    /// Finalized invoices.
    pub finalized: i64,
    /// Σ daysToFullPayment (India calendar days) over finalized invoices with payments.
    pub days_sum: i64,
    /// Finalized invoices paid in full within `ON_TIME_DAYS`.
    pub on_time: i64,
    /// Invoices with more than one payment, or one payment and not finalized.
    pub partial: i64,
    /// (method, number of payments), by method.
    pub methods: Vec<(String, i64)>,
}

/// [`BehaviorRow`] of the invoices of `filter`. One aggregation: each invoice's payments are
/// looked up by the `(clientId, invoiceId, paidAt)` index.
pub async fn payment_behavior(db: &Database, client_id: ObjectId, filter: &InvoiceFilter) -> AppResult<BehaviorRow> {
    let days = doc! { "$cond": [
        { "$and": ["$isFinalized", { "$gt": ["$n", 0] }] },
        // India calendar days, as `time::days_between` (23:00 sale paid 09:00 next day = 1)
        { "$dateDiff": { "startDate": "$generatedAt", "endDate": "$last", "unit": "day", "timezone": time::TZ_NAME } },
        Bson::Null,
    ] };
    let pipeline = vec![
        doc! { "$match": filter.doc() },
        doc! { "$match": not_cancelled() },
        doc! { "$project": { "isFinalized": 1, "generatedAt": 1 } },
        doc! { "$lookup": {
            "from": "payments",
            "let": { "inv": "$_id" },
            "pipeline": [
                { "$match": { "$expr": { "$and": [ { "$eq": ["$clientId", client_id] }, { "$eq": ["$invoiceId", "$$inv"] } ] } } },
                { "$project": { "_id": 0, "method": 1, "paidAt": 1 } },
            ],
            "as": "pays",
        } },
        doc! { "$project": {
            "isFinalized": 1, "generatedAt": 1, "n": { "$size": "$pays" },
            "last": { "$max": "$pays.paidAt" }, "methods": "$pays.method",
        } },
        doc! { "$set": { "days": days } },
        doc! { "$facet": {
            "all": [ { "$group": {
                "_id": "all", "n": { "$sum": 1_i64 },
                "finalized": { "$sum": { "$cond": ["$isFinalized", 1_i64, 0_i64] } },
                "daysSum": { "$sum": { "$ifNull": ["$days", 0_i64] } },
                "onTime": { "$sum": { "$cond": [ { "$and": [ { "$ne": ["$days", Bson::Null] }, { "$lte": ["$days", ON_TIME_DAYS] } ] }, 1_i64, 0_i64 ] } },
                "partial": { "$sum": { "$cond": [ { "$or": [ { "$gt": ["$n", 1] }, { "$and": [ { "$eq": ["$n", 1] }, { "$not": ["$isFinalized"] } ] } ] }, 1_i64, 0_i64 ] } },
            } } ],
            "methods": [ { "$unwind": "$methods" }, { "$group": { "_id": "$methods", "n": { "$sum": 1_i64 } } }, { "$sort": { "_id": 1 } } ],
        } },
    ];
    let facets: Document = repo::invoices(db).aggregate(pipeline).await?.try_next().await?.unwrap_or_default();
    let all =
        facets.get_array("all").ok().and_then(|a| a.first()).and_then(|b| b.as_document().cloned()).unwrap_or_default();
    let methods = facets
        .get_array("methods")
        .map(|a| {
            a.iter()
                .filter_map(|b| b.as_document())
                .map(|d| (d.get_str("_id").unwrap_or("").to_string(), int(d, "n")))
                .collect()
        })
        .unwrap_or_default();
    Ok(BehaviorRow {
        n: int(&all, "n"),
        finalized: int(&all, "finalized"),
        days_sum: int(&all, "daysSum"),
        on_time: int(&all, "onTime"),
        partial: int(&all, "partial"),
        methods,
    })
}

/// The payments of one invoice, summed up: (count, first `paidAt`, last `paidAt`).
#[derive(Debug, Clone, Copy, Default)]
pub struct PayStats {
    pub count: i64,
    pub first: Option<DateTime>,
    pub last: Option<DateTime>,
}

/// [`PayStats`] of each of these invoices (one aggregation over the payments index).
pub async fn payment_stats(
    db: &Database,
    client_id: ObjectId,
    ids: Vec<ObjectId>,
) -> AppResult<HashMap<ObjectId, PayStats>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let pipeline = vec![
        doc! { "$match": { "clientId": client_id, "invoiceId": { "$in": ids } } },
        doc! { "$group": { "_id": "$invoiceId", "n": { "$sum": 1_i64 }, "first": { "$min": "$paidAt" }, "last": { "$max": "$paidAt" } } },
    ];
    let rows: Vec<Document> = repo::payments(db).aggregate(pipeline).await?.try_collect().await?;
    Ok(rows
        .iter()
        .filter_map(|d| {
            let id = d.get_object_id("_id").ok()?;
            let stats = PayStats {
                count: int(d, "n"),
                first: d.get_datetime("first").ok().copied(),
                last: d.get_datetime("last").ok().copied(),
            };
            Some((id, stats))
        })
        .collect())
}

/// Ids of the shop's invoices of this customer (payments name their invoice, not the
/// customer).
pub async fn invoice_ids_of(db: &Database, client_id: ObjectId, customer: &CustomerMatch) -> AppResult<Vec<ObjectId>> {
    repo::invoice_ids(db, client_id, customer.filter()).await
}

/// One page of payments, oldest first (`paidAt`, then `_id`).
pub async fn payments_page(db: &Database, filter: &PaymentFilter, page: Page) -> AppResult<Vec<PaymentDoc>> {
    Ok(repo::payments(db)
        .find(filter.doc())
        .sort(doc! { "paidAt": 1, "_id": 1 })
        .skip(page.offset as u64)
        .limit(page.limit)
        .await?
        .try_collect()
        .await?)
}

/// Every payment of these invoices, by invoice then `paidAt` then `_id`.
pub async fn payments_of_invoices(
    db: &Database,
    client_id: ObjectId,
    ids: Vec<ObjectId>,
) -> AppResult<Vec<PaymentDoc>> {
    Ok(repo::payments(db)
        .find(doc! { "clientId": client_id, "invoiceId": { "$in": ids } })
        .sort(doc! { "invoiceId": 1, "paidAt": 1, "_id": 1 })
        .await?
        .try_collect()
        .await?)
}

/// A line of the `methods` facet of [`payment_facets`]: method, count, amount.
#[derive(Debug, Clone)]
pub struct MethodRow {
    pub method: String,
    pub n: i64,
    pub amount: i64,
}

/// The B32 analytics inputs over every payment of a filter (one `$facet`): count, Σ amount
/// (paise), first and last `paidAt`, per method (by method), the last 6 India months (oldest
/// first).
#[derive(Debug, Clone, Default)]
pub struct PaymentFacets {
    pub n: i64,
    pub amount: i64,
    pub first: Option<DateTime>,
    pub last: Option<DateTime>,
    pub methods: Vec<MethodRow>,
    pub months: Vec<MonthRow>,
}

/// [`PaymentFacets`] of the payments of `filter`.
pub async fn payment_facets(db: &Database, filter: &PaymentFilter) -> AppResult<PaymentFacets> {
    let month = doc! { "$dateToString": { "format": "%Y-%m", "date": "$paidAt", "timezone": "Asia/Kolkata" } };
    let stats: Vec<Document> = repo::payments(db)
        .aggregate(vec![
            doc! { "$match": filter.doc() },
            doc! { "$facet": {
                "all": [ { "$group": { "_id": "all", "n": { "$sum": 1_i64 }, "amount": { "$sum": "$amount" }, "first": { "$min": "$paidAt" }, "last": { "$max": "$paidAt" } } } ],
                "methods": [ { "$group": { "_id": "$method", "n": { "$sum": 1_i64 }, "amount": { "$sum": "$amount" } } }, { "$sort": { "_id": 1 } } ],
                "months": [ { "$group": { "_id": month, "n": { "$sum": 1_i64 }, "amount": { "$sum": "$amount" } } }, { "$sort": { "_id": -1 } }, { "$limit": 6 }, { "$sort": { "_id": 1 } } ],
            } },
        ])
        .await?
        .try_collect()
        .await?;
    let facets = stats.into_iter().next().unwrap_or_default();
    let arr = |k: &str| facets.get_array(k).cloned().unwrap_or_default();
    let all = arr("all").first().and_then(|b| b.as_document().cloned()).unwrap_or_default();
    let methods = arr("methods")
        .iter()
        .filter_map(|b| b.as_document())
        .map(|d| MethodRow {
            method: d.get_str("_id").unwrap_or("").to_string(),
            n: int(d, "n"),
            amount: int(d, "amount"),
        })
        .collect();
    let months = arr("months")
        .iter()
        .filter_map(|b| b.as_document())
        .map(|d| MonthRow {
            month: d.get_str("_id").unwrap_or("").to_string(),
            amount: Paise::new(int(d, "amount")),
            n: int(d, "n"),
        })
        .collect();
    Ok(PaymentFacets {
        n: int(&all, "n"),
        amount: int(&all, "amount"),
        first: all.get_datetime("first").ok().copied(),
        last: all.get_datetime("last").ok().copied(),
        methods,
        months,
    })
}
