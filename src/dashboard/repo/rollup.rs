//! The rollups of finished months (`dashsalesrollups`, `dashitemrollups`): all-time H1, H2
//! and H3 read them plus a live tail (docs/API.md "Indexes and pre-aggregation"). A child of
//! `dashboard::repo`, sharing its pipeline pieces.

use super::*;

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

/// The shape of the rollup rows: a state written by another version is rebuilt from
/// scratch (2: item rows carry `base`, the base units sold; issue 18).
const ROLLUP_VERSION: i32 = 2;

/// Bring the client's rollups up to date: every invoice whose ObjectId was made before the
/// current UTC month (less a 10-minute grace for in-flight transactions) is summed per
/// ObjectId month into `dashitemrollups` (per item: quantity, amount, base units) and
/// `dashsalesrollups` (per India month of `generatedAt`: Σ totalAmount, count). What is
/// summed (lines, totals, dates) never changes after an invoice is created (billing's
/// immutability rule) and invoices are never deleted, so a complete month's rollup is
/// final. Cancelled invoices (issue 18) are in the rollups like every other invoice: a
/// cancel only sets `isCancelled`, and the reads take the cancelled invoices below the
/// boundary back out live ([`cancelled_below`], a small partial index), while credit notes
/// are read live by their own date. So a cancel or a credit note never makes a rollup stale
/// and the write side touches no rollup. Each refresh recomputes whole months and replaces
/// their rows, so concurrent refreshes write the same values (idempotent). Returns the
/// boundary: invoices with `_id` at or after it are not in the rollups and are aggregated
/// live.
pub async fn refresh_rollups(db: &Database, client: ObjectId) -> AppResult<ObjectId> {
    let state = db.collection::<Document>("dashrollupstate");
    let target = oid_at(utc_month_start(chrono::Utc::now() - chrono::Duration::minutes(10)));
    let done = state
        .find_one(doc! { "_id": client })
        .await?
        .filter(|d| d.get_i32("v").ok() == Some(ROLLUP_VERSION))
        .and_then(|d| d.get_object_id("before").ok());
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
    items.push(doc! { "$group": with(doc! { "_id": { "c": client, "m": id_month.clone(), "k": item_key() } }, sold_fields(1)) });
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
    // `before` only grows within a version; another version's state is replaced
    let keep = doc! { "$and": [ { "$eq": ["$v", ROLLUP_VERSION] }, { "$gt": ["$before", target] } ] };
    state
        .update_one(
            doc! { "_id": client },
            vec![doc! { "$set": { "before": { "$cond": [keep, "$before", target] }, "v": ROLLUP_VERSION } }],
        )
        .upsert(true)
        .await?;
    Ok(target)
}

/// The filter of the cancelled invoices already in the rollups (`_id` below `boundary`),
/// served by the partial index `dash_client_cancelled` (migration 0027): they are taken back
/// out of the rolled-up figures live.
fn cancelled_below(client: ObjectId, boundary: ObjectId) -> Document {
    doc! { "clientId": client, "isCancelled": true, "_id": { "$lt": boundary } }
}

/// `YYYY-MM` of a date field in India.
fn ist_month(field: &str) -> Document {
    doc! { "$dateToString": { "format": "%Y-%m", "date": field, "timezone": TZ } }
}

/// Per India month (`YYYY-MM`): `(Σ totalAmount, count)` of the invoices not cancelled:
/// the sales rollup, less the cancelled invoices in it, plus the live tail (one pipeline).
async fn all_sales_by_month(
    db: &Database,
    client: ObjectId,
    boundary: ObjectId,
) -> AppResult<std::collections::HashMap<String, (i64, i64)>> {
    let mut live = doc! { "clientId": client, "_id": { "$gte": boundary } };
    live.extend(not_cancelled());
    let pipeline = vec![
        doc! { "$match": { "clientId": client } },
        doc! { "$project": { "_id": 0, "g": 1, "total": 1, "n": 1 } },
        doc! { "$unionWith": { "coll": "invoices", "pipeline": [
            { "$match": live },
            { "$group": { "_id": ist_month("$generatedAt"), "total": { "$sum": TOTAL }, "n": { "$sum": 1_i64 } } },
            { "$project": { "_id": 0, "g": "$_id", "total": 1, "n": 1 } },
        ] } },
        doc! { "$unionWith": { "coll": "invoices", "pipeline": [
            { "$match": cancelled_below(client, boundary) },
            { "$group": { "_id": ist_month("$generatedAt"), "total": { "$sum": { "$subtract": [0_i64, TOTAL] } }, "n": { "$sum": -1_i64 } } },
            { "$project": { "_id": 0, "g": "$_id", "total": 1, "n": 1 } },
        ] } },
        doc! { "$group": { "_id": "$g", "total": { "$sum": "$total" }, "n": { "$sum": "$n" } } },
    ];
    let rows: Vec<Document> =
        db.collection::<Document>("dashsalesrollups").aggregate(pipeline).await?.try_collect().await?;
    Ok(rows.iter().map(|d| (d.get_str("_id").unwrap_or("").to_string(), (int(d, "total"), int(d, "n")))).collect())
}

/// Per India month of issue (`YYYY-MM` of `issuedAt`, the month of `creditNoteDate`): Σ
/// `totalAmount` of the credit notes (issue 18: a return counts in the month of its own
/// date). Live, from the keys of `dash_client_issuedAt_total`: credit notes are few.
async fn returns_by_month(db: &Database, client: ObjectId) -> AppResult<std::collections::HashMap<String, i64>> {
    let pipeline = vec![
        doc! { "$match": { "clientId": client } },
        doc! { "$group": { "_id": ist_month("$issuedAt"), "t": { "$sum": TOTAL } } },
    ];
    let rows: Vec<Document> = credit_notes(db).aggregate(pipeline).await?.try_collect().await?;
    Ok(rows.iter().map(|d| (d.get_str("_id").unwrap_or("").to_string(), int(d, "t"))).collect())
}

/// Per India month: `(Σ totalAmount, Σ due, count)` of invoices not fully paid
/// (`isFinalized: false`, covered by `dash_client_open_due`; a cancelled invoice is
/// finalized and so never here, and a credit note adjusted to dues lowers the due).
async fn unpaid_by_month(
    db: &Database,
    client: ObjectId,
) -> AppResult<std::collections::HashMap<String, (i64, i64, i64)>> {
    let mut m = doc! { "clientId": client, "isFinalized": false };
    m.extend(not_cancelled());
    let pipeline = vec![
        doc! { "$match": m },
        doc! { "$group": {
            "_id": ist_month("$generatedAt"),
            "total": { "$sum": { "$cond": [open(), TOTAL, 0_i64] } },
            "bal": { "$sum": due() },
            "n": { "$sum": { "$cond": [open(), 1_i64, 0_i64] } },
        } },
    ];
    let rows: Vec<Document> = invoices(db).aggregate(pipeline).await?.try_collect().await?;
    Ok(rows
        .iter()
        .map(|d| (d.get_str("_id").unwrap_or("").to_string(), (int(d, "total"), int(d, "bal"), int(d, "n"))))
        .collect())
}

/// One month of H2 (issue 18 adds gross, returns and net to v1's fully paid `amount`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthFigures {
    /// The first day of the India month.
    pub month: NaiveDate,
    /// Σ totalAmount of the month's invoices with nothing due (v1's `amount`).
    pub paid_sales: Paise,
    /// Σ totalAmount of the month's invoices not cancelled.
    pub gross: Paise,
    /// Σ totalAmount of the credit notes dated in the month.
    pub returns: Paise,
}

/// All-time H1 and the H2 months from the rollups: fully paid sales = Σ totals of all
/// invoices not cancelled − Σ totals of the not fully paid ones (an invoice is finalised
/// exactly when nothing is due on it, see billing). Reads the small rollup, the live tail of
/// this month's invoices, the few cancelled invoices, the credit notes and the unpaid
/// invoices' index keys, never every invoice.
pub async fn summary_and_trends(
    db: &Database,
    client: ObjectId,
    months: i32,
) -> AppResult<(SummaryWire, Vec<MonthFigures>)> {
    let boundary = refresh_rollups(db, client).await?;
    let (all, unpaid, returns) = tokio::try_join!(
        all_sales_by_month(db, client, boundary),
        unpaid_by_month(db, client),
        returns_by_month(db, client)
    )?;
    let all_total = checked_total(all.values().map(|v| v.0))?;
    let unpaid_total = checked_total(unpaid.values().map(|v| v.0))?;
    let all_returns = Paise::new(checked_total(returns.values().copied())?);
    let summary = SummaryWire {
        total_sales: Paise::new(all_total.checked_sub(unpaid_total).ok_or_else(too_large)?),
        pending_amount: Paise::new(checked_total(unpaid.values().map(|v| v.1))?),
        pending_invoices: checked_total(unpaid.values().map(|v| v.2))?,
        gross_sales: Paise::new(all_total),
        returns: all_returns,
        net_sales: net(Paise::new(all_total), all_returns)?,
    };
    let current = time::month_start(time::today_ist());
    let start = time::add_months(current, 1 - months);
    let trends = (0..months)
        .map(|i| {
            let m = time::add_months(start, i);
            let key = m.format("%Y-%m").to_string();
            let total = all.get(&key).map(|v| v.0).unwrap_or(0);
            let open = unpaid.get(&key).map(|v| v.0).unwrap_or(0);
            let paid = total.checked_sub(open).ok_or_else(too_large)?;
            Ok(MonthFigures {
                month: m,
                paid_sales: Paise::new(paid),
                gross: Paise::new(total),
                returns: Paise::new(returns.get(&key).copied().unwrap_or(0)),
            })
        })
        .collect::<AppResult<_>>()?;
    Ok((summary, trends))
}

/// H3 over all time: the rollup of finished months, less the cancelled invoices in it, plus
/// the live tail of newer invoices, less every credit note's lines, summed by one pipeline
/// (`$unionWith`).
pub async fn top_items_all(
    db: &Database,
    client: ObjectId,
    limit: i64,
    only: Option<&[ObjectId]>,
) -> AppResult<Vec<TopItem>> {
    let boundary = refresh_rollups(db, client).await?;
    let live = with(doc! { "clientId": client, "_id": { "$gte": boundary } }, not_cancelled());
    let mut pipeline = vec![
        doc! { "$match": { "clientId": client } },
        doc! { "$project": { "_id": "$_id.k", "name": 1, "quantity": 1, "amount": 1, "base": 1 } },
        doc! { "$unionWith": { "coll": "invoices", "pipeline": sold_rows(live, 1) } },
        doc! { "$unionWith": { "coll": "invoices", "pipeline": sold_rows(cancelled_below(client, boundary), -1) } },
        doc! { "$unionWith": { "coll": crate::changelog::CREDIT_NOTES, "pipeline": returned_rows(client, Window::default()) } },
        merge_items(),
    ];
    pipeline.extend(only_items(only));
    pipeline.extend(top_tail(limit));
    let rows: Vec<Document> =
        db.collection::<Document>("dashitemrollups").aggregate(pipeline).await?.try_collect().await?;
    Ok(top_rows(rows))
}
