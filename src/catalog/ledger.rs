//! Issue 16, "Stock ledger": an item's stock ledger for a period of India dates
//! (`GET /business/items/{clientId}/{itemId}/stock-ledger`) and the stock of every item of
//! the shop at the end of a date (`GET /business/stock/summary`, JSON or CSV).
//!
//! **Computed backwards from the current stock**: the stock at an instant `t` is the item's
//! `stock` now minus the deltas of its `stockmovements` at or after `t`. Every stock change
//! (sale, return, delivery, opening stock, adjustment, count) writes its movement in the same
//! transaction as the `$inc`/`$set` of `stock` (`catalog::stock`), so this holds for any `t`,
//! also for an item created before movements were recorded (its unrecorded history lies before
//! the first movement, and only shows up as the opening of a period that starts earlier).
//!
//! **One consistent read**: the item, the sums and the page of movements are read in one
//! transaction with read concern `snapshot` (`db::transaction`), so a sale committing in the
//! middle is either wholly in (its stock and its movement) or wholly out. Careful ordering
//! (movements first, then the stock) could not give that: a sale between the two reads would
//! count its stock without its movement. A read-only snapshot transaction takes no locks and
//! conflicts with no writer.

use axum::{
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    Json,
};
use bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use chrono::NaiveDate;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    access::ByWire,
    catalog::{model::ItemDoc, stock::Reason},
    csv, db,
    error::{AppError, AppResult},
    extract::{ApiPath, ApiQuery, AuthClient},
    money::Paise,
    openapi::ErrorBody,
    paging::{self, Pagination},
    state::AppState,
    time, validate, wire,
};

// ------------------------------------------------------------------ wire

/// `GET /business/items/{clientId}/{itemId}/stock-ledger` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// First India date of the period, `YYYY-MM-DD` (default: the 1st of `to`'s month).
    pub from: Option<String>,
    /// Last India date of the period (inclusive), `YYYY-MM-DD` (default: today in India).
    pub to: Option<String>,
    /// Movements per page (default 100, at most 500).
    pub limit: Option<String>,
    /// Movements skipped (default 0).
    pub offset: Option<String>,
}

/// What moved stock in the period for one reason: units in (positive deltas) and out
/// (negative deltas, as a positive number), base units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StockReasonTotal)]
pub struct ReasonTotal {
    pub reason: Reason,
    #[serde(rename = "in")]
    pub units_in: i64,
    #[serde(rename = "out")]
    pub units_out: i64,
}

/// One movement of the ledger.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StockLedgerMovement)]
pub struct LedgerMovement {
    #[serde(rename = "_id")]
    pub id: String,
    /// ISO 8601 instant (UTC).
    pub at: String,
    pub reason: Reason,
    /// Signed base units.
    pub delta: i64,
    /// Stock after this movement.
    pub balance: i64,
    /// The invoice, dealer order or stock count that caused it (none for item edits).
    pub ref_id: Option<String>,
    /// Who moved it (none on movements written before issue 15).
    pub by: Option<ByWire>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The item a ledger is about.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StockLedgerItem)]
pub struct LedgerItem {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub unit: String,
    /// Its stock now.
    pub stock: i64,
}

/// An item's stock ledger over `from..=to` (India dates). Quantities are base units;
/// `closing = opening + totalIn - totalOut`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StockLedgerResponse)]
pub struct LedgerResponse {
    pub success: bool,
    pub item: LedgerItem,
    pub from: String,
    pub to: String,
    /// Stock at 00:00 IST of `from`.
    pub opening: i64,
    pub total_in: i64,
    pub total_out: i64,
    /// Stock at the end (24:00 IST) of `to`.
    pub closing: i64,
    /// In and out per reason, reasons in their declared order, only those that moved.
    pub by_reason: Vec<ReasonTotal>,
    /// The period's movements, oldest first, paged (`pagination.total` counts them all).
    pub movements: Vec<LedgerMovement>,
    pub pagination: Pagination,
}

/// `GET /business/stock/summary` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// India date, `YYYY-MM-DD`: stock at its end (default: today in India).
    pub at: Option<String>,
    /// Only items of this group.
    pub group_id: Option<String>,
    /// Only items of this brand.
    pub brand_id: Option<String>,
    /// `json` (default) or `csv` (also `Accept: text/csv`).
    pub format: Option<String>,
}

/// One item's stock at the end of the date.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StockSummaryRow)]
pub struct SummaryRow {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub unit: String,
    pub group_id: Option<String>,
    pub brand_id: Option<String>,
    pub is_active: bool,
    /// Base units at the end of the date (negative when the shop sold below zero).
    pub stock: i64,
    /// The item's current selling price, rupees.
    #[schema(value_type = f64)]
    pub price: Paise,
    /// `stock x price`, rupees.
    #[schema(value_type = f64)]
    pub value: Paise,
}

/// The shop's stock at the end of `at`: items created by then, by name.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StockSummaryResponse)]
pub struct SummaryResponse {
    pub success: bool,
    pub at: String,
    pub items: Vec<SummaryRow>,
    /// Sum of the rows' `value`, rupees.
    #[schema(value_type = f64)]
    pub total_value: Paise,
}

// ------------------------------------------------------------------ pure parts

/// The totals of a period, from the summed movements (pure; see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Totals {
    pub opening: i64,
    pub closing: i64,
    pub total_in: i64,
    pub total_out: i64,
    pub by_reason: Vec<ReasonTotal>,
}

/// One summed group of movements: its reason, whether it lies after the period (else in it),
/// and the sums of its positive and of its negative deltas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sums {
    pub reason: Reason,
    pub after: bool,
    pub plus: i64,
    pub minus: i64,
}

/// Opening, in/out by reason and closing of a period, from the item's stock now and the sums
/// of its movements in and after the period. `None` when a sum overflows (only a corrupt
/// ledger could: every stock level is within +-`limits::MAX_UNITS`).
pub fn totals(stock_now: i64, sums: &[Sums]) -> Option<Totals> {
    let mut after = 0i64;
    let mut by_reason: Vec<ReasonTotal> = Vec::new();
    for s in sums {
        if s.after {
            after = after.checked_add(s.plus)?.checked_add(s.minus)?;
            continue;
        }
        let row = match by_reason.iter_mut().find(|r| r.reason == s.reason) {
            Some(r) => r,
            None => {
                by_reason.push(ReasonTotal { reason: s.reason, units_in: 0, units_out: 0 });
                by_reason.last_mut()?
            }
        };
        row.units_in = row.units_in.checked_add(s.plus)?;
        row.units_out = row.units_out.checked_sub(s.minus)?;
    }
    by_reason.retain(|r| r.units_in != 0 || r.units_out != 0);
    by_reason.sort_by_key(|r| Reason::ALL.iter().position(|x| *x == r.reason));
    let total_in = by_reason.iter().try_fold(0i64, |a, r| a.checked_add(r.units_in))?;
    let total_out = by_reason.iter().try_fold(0i64, |a, r| a.checked_add(r.units_out))?;
    let closing = stock_now.checked_sub(after)?;
    let opening = closing.checked_sub(total_in)?.checked_add(total_out)?;
    Some(Totals { opening, closing, total_in, total_out, by_reason })
}

/// The period `from..=to` of a ledger query as instants `[start, end)`: 00:00 IST of `from`
/// to 00:00 IST of the day after `to`. Defaults: `to` today (India, `today`), `from` the 1st
/// of `to`'s month. 400 naming `query.from`/`query.to` for a malformed date or `from > to`.
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> AppResult<(NaiveDate, NaiveDate, DateTime, DateTime)> {
    let mut e = validate::Errors::new();
    let to = date_param(&mut e, "query.to", to).unwrap_or(today);
    let from = date_param(&mut e, "query.from", from).unwrap_or_else(|| time::month_start(to));
    if from > to {
        e.add("query.from", "must not be after to");
    }
    e.finish()?;
    let end = to.succ_opt().ok_or_else(|| AppError::validation("query.to", "is out of range"))?;
    Ok((from, to, time::ist_midnight(from), time::ist_midnight(end)))
}

fn date_param(e: &mut validate::Errors, field: &str, v: Option<&str>) -> Option<NaiveDate> {
    let v = v.map(str::trim).filter(|s| !s.is_empty())?;
    let d = time::parse_date(v);
    if d.is_none() {
        e.add(field, "must be a date YYYY-MM-DD");
    }
    d
}

// ------------------------------------------------------------------ reads

fn movements(db: &mongodb::Database) -> mongodb::Collection<Document> {
    db.collection("stockmovements")
}

fn int(d: &Document, k: &str) -> i64 {
    match d.get(k) {
        Some(Bson::Int64(v)) => *v,
        Some(Bson::Int32(v)) => i64::from(*v),
        _ => 0,
    }
}

/// The ledger of one item (see [`LedgerResponse`]); 404 when the item is not the shop's.
pub async fn ledger(
    state: &AppState,
    client_id: ObjectId,
    item_id: ObjectId,
    q: &LedgerQuery,
) -> AppResult<LedgerResponse> {
    let (from, to, start, end) = period(q.from.as_deref(), q.to.as_deref(), time::ist_date(state.clock.now()))?;
    let page = paging::page(q.limit.as_deref(), q.offset.as_deref())?;
    let ctx = (&state.db, client_id, item_id, start, end, page);
    let (item, sums, total, before, rows) =
        db::transaction(&state.client, &ctx, |s, (database, client_id, item_id, start, end, page)| {
            Box::pin(async move {
                let item = database
                    .collection::<ItemDoc>("items")
                    .find_one(db::scoped(*client_id, doc! { "_id": *item_id }))
                    .session(&mut *s)
                    .await?
                    .ok_or_else(|| AppError::not_found("Item not found"))?;
                let base = doc! { "clientId": *client_id, "itemId": *item_id };
                let pipeline = vec![
                    doc! { "$match": { "clientId": *client_id, "itemId": *item_id, "at": { "$gte": *start } } },
                    doc! { "$group": {
                        "_id": { "reason": "$reason", "after": { "$gte": ["$at", *end] } },
                        "plus": { "$sum": { "$cond": [{ "$gt": ["$delta", 0] }, "$delta", 0] } },
                        "minus": { "$sum": { "$cond": [{ "$lt": ["$delta", 0] }, "$delta", 0] } },
                        "n": { "$sum": 1 },
                    } },
                ];
                let groups: Vec<Document> = movements(database)
                    .aggregate(pipeline)
                    .session(&mut *s)
                    .await?
                    .stream(&mut *s)
                    .try_collect()
                    .await?;
                let mut sums = Vec::new();
                let mut total = 0i64;
                for g in &groups {
                    let key = g.get_document("_id").ok();
                    let after = key.and_then(|k| k.get_bool("after").ok()).unwrap_or(false);
                    let reason =
                        key.and_then(|k| k.get_str("reason").ok()).and_then(Reason::parse).unwrap_or(Reason::Other);
                    if !after {
                        total += int(g, "n");
                    }
                    sums.push(Sums { reason, after, plus: int(g, "plus"), minus: int(g, "minus") });
                }
                let mut in_period = base.clone();
                in_period.insert("at", doc! { "$gte": *start, "$lt": *end });
                // the deltas of the period's movements before this page (for the running balance)
                let before = if page.offset > 0 {
                    let p = vec![
                        doc! { "$match": in_period.clone() },
                        doc! { "$sort": { "at": 1, "_id": 1 } },
                        doc! { "$limit": page.offset },
                        doc! { "$group": { "_id": null, "d": { "$sum": "$delta" } } },
                    ];
                    let r: Vec<Document> =
                        movements(database).aggregate(p).session(&mut *s).await?.stream(&mut *s).try_collect().await?;
                    r.first().map_or(0, |d| int(d, "d"))
                } else {
                    0
                };
                let rows: Vec<Document> = movements(database)
                    .find(in_period)
                    .sort(doc! { "at": 1, "_id": 1 })
                    .skip(page.offset as u64)
                    .limit(page.limit)
                    .session(&mut *s)
                    .await?
                    .stream(&mut *s)
                    .try_collect()
                    .await?;
                Ok((item, sums, total, before, rows))
            })
        })
        .await?;
    let t = totals(item.stock, &sums).ok_or_else(|| AppError::internal("stock ledger sums overflow"))?;
    let mut balance = t.opening.saturating_add(before);
    let movements = rows
        .iter()
        .map(|m| {
            let delta = int(m, "delta");
            balance = balance.saturating_add(delta);
            LedgerMovement {
                id: m.get_object_id("_id").map(|i| i.to_hex()).unwrap_or_default(),
                at: m.get_datetime("at").map(|d| wire::iso(*d)).unwrap_or_default(),
                reason: m.get_str("reason").ok().and_then(Reason::parse).unwrap_or(Reason::Other),
                delta,
                balance,
                ref_id: m.get_object_id("refId").ok().map(|i| i.to_hex()),
                by: m.get_document("by").ok().and_then(|b| {
                    Some(ByWire {
                        user_id: b.get_object_id("userId").ok()?.to_hex(),
                        name: b.get_str("name").ok()?.into(),
                    })
                }),
                note: m.get_str("note").ok().map(str::to_string),
            }
        })
        .collect();
    Ok(LedgerResponse {
        success: true,
        item: LedgerItem { id: item.id.to_hex(), name: item.name, unit: item.unit, stock: item.stock },
        from: from.format("%Y-%m-%d").to_string(),
        to: to.format("%Y-%m-%d").to_string(),
        opening: t.opening,
        total_in: t.total_in,
        total_out: t.total_out,
        closing: t.closing,
        by_reason: t.by_reason,
        movements,
        pagination: Pagination::of(page, total),
    })
}

/// The shop's stock at the end of the India date `q.at` (see [`SummaryResponse`]): the
/// items created by then (optionally of one group or brand), each at its current stock minus
/// its movements after that date, valued at its current price. One snapshot transaction:
/// the items, then one aggregation of the movements after the date summed per item (index
/// `client_at`).
pub async fn summary(state: &AppState, client_id: ObjectId, q: &SummaryQuery) -> AppResult<SummaryResponse> {
    let mut e = validate::Errors::new();
    let at = date_param(&mut e, "query.at", q.at.as_deref()).unwrap_or_else(|| time::ist_date(state.clock.now()));
    let group = q.group_id.as_deref().filter(|s| !s.trim().is_empty()).and_then(|g| e.oid("query.groupId", g));
    let brand = q.brand_id.as_deref().filter(|s| !s.trim().is_empty()).and_then(|b| e.oid("query.brandId", b));
    e.finish()?;
    let end = time::ist_midnight(at.succ_opt().ok_or_else(|| AppError::validation("query.at", "is out of range"))?);
    let mut filter = doc! { "clientId": client_id, "createdAt": { "$lt": end } };
    if let Some(g) = group {
        filter.insert("groupId", g);
    }
    if let Some(b) = brand {
        filter.insert("brandId", b);
    }
    let ctx = (&state.db, client_id, filter, end);
    let (items, after) = db::transaction(&state.client, &ctx, |s, (database, client_id, filter, end)| {
        Box::pin(async move {
            let items: Vec<ItemDoc> = database
                .collection::<ItemDoc>("items")
                .find(filter.clone())
                .sort(doc! { "name": 1, "_id": 1 })
                .session(&mut *s)
                .await?
                .stream(&mut *s)
                .try_collect()
                .await?;
            let pipeline = vec![
                doc! { "$match": { "clientId": *client_id, "at": { "$gte": *end } } },
                doc! { "$group": { "_id": "$itemId", "d": { "$sum": "$delta" } } },
            ];
            let after: Vec<Document> =
                movements(database).aggregate(pipeline).session(&mut *s).await?.stream(&mut *s).try_collect().await?;
            let after: std::collections::HashMap<ObjectId, i64> =
                after.iter().filter_map(|d| Some((d.get_object_id("_id").ok()?, int(d, "d")))).collect();
            Ok((items, after))
        })
    })
    .await?;
    let overflow = || AppError::internal("stock summary overflow");
    let mut rows = Vec::with_capacity(items.len());
    let mut total = Paise::ZERO;
    for i in items {
        let stock = i.stock.checked_sub(after.get(&i.id).copied().unwrap_or(0)).ok_or_else(overflow)?;
        let value = i.price.checked_mul(stock).ok_or_else(overflow)?;
        total = total.checked_add(value).ok_or_else(overflow)?;
        rows.push(SummaryRow {
            id: i.id.to_hex(),
            name: i.name,
            unit: i.unit,
            group_id: i.group_id.map(|g| g.to_hex()),
            brand_id: i.brand_id.map(|b| b.to_hex()),
            is_active: i.is_active,
            stock,
            price: i.price,
            value,
        });
    }
    Ok(SummaryResponse { success: true, at: at.format("%Y-%m-%d").to_string(), items: rows, total_value: total })
}

// ------------------------------------------------------------------ handlers

/// An item's stock ledger for a period of India dates (issue 16): opening, in and out by
/// reason, closing, and the movements (paged) with reason, delta, running balance, reference,
/// user and note. Computed from the current stock minus the movements after the period, in
/// one snapshot read.
#[utoipa::path(get, path = "/business/items/{clientId}/{itemId}/stock-ledger", tag = "catalog", security(("bearer" = [])),
    params(
        ("clientId" = String, Path, description = "Must be the token's client"),
        ("itemId" = String, Path, description = "Item id"),
        LedgerQuery,
    ),
    responses(
        (status = 200, description = "The ledger", body = LedgerResponse),
        (status = 400, description = "Malformed id or date, from after to, bad limit/offset", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Another client's id, or no catalog_view", body = ErrorBody),
        (status = 404, description = "No such item for this client", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("catalog_view"))),
)]
pub async fn item_ledger(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client_id, item_id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<LedgerQuery>,
) -> AppResult<Json<LedgerResponse>> {
    let id = validate::oid("params.itemId", &item_id)?;
    Ok(Json(ledger(&state, auth.client_id, id, &q).await?))
}

/// CSV columns of the stock summary.
const SUMMARY_CSV: &[&str] = &["itemId", "name", "unit", "active", "stock", "price", "value"];

/// The stock of every item of the shop at the end of an India date (issue 16), valued at the
/// current selling price; filter by `groupId` / `brandId`; JSON, or CSV for `format=csv` or
/// `Accept: text/csv`.
#[utoipa::path(get, path = "/business/stock/summary", tag = "catalog", security(("bearer" = [])),
    params(SummaryQuery),
    responses(
        (status = 200, description = "JSON, or RFC 4180 CSV (header row first) for `format=csv` or `Accept: text/csv`",
            content((SummaryResponse = "application/json"), (String = "text/csv"))),
        (status = 400, description = "Malformed date or id, unknown format", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "No catalog_view", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("catalog_view"))),
)]
pub async fn stock_summary(
    State(state): State<AppState>,
    auth: AuthClient,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<SummaryQuery>,
) -> AppResult<Response> {
    let as_csv = csv::wants_csv(q.format.as_deref(), &headers)?;
    let s = summary(&state, auth.client_id, &q).await?;
    if !as_csv {
        return Ok(Json(s).into_response());
    }
    let mut body = csv::record(&SUMMARY_CSV.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    for r in &s.items {
        body.push_str(&csv::record(&[
            r.id.clone(),
            csv::field(&r.name),
            csv::field(&r.unit),
            r.is_active.to_string(),
            r.stock.to_string(),
            csv::rupees(r.price),
            csv::rupees(r.value),
        ]));
    }
    Ok(csv::attachment(&format!("stock-{}.csv", s.at), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(v: &[(Reason, bool, i64, i64)]) -> Vec<Sums> {
        v.iter().map(|&(reason, after, plus, minus)| Sums { reason, after, plus, minus }).collect()
    }

    #[test]
    fn totals_work_backwards_from_the_stock_now() {
        // opening 10 (before the period); in it: +5 purchase, -3 sale, -1 damaged; after it: -2 sale, +4 purchase
        let t = totals(
            13,
            &sums(&[
                (Reason::Sale, false, 0, -3),
                (Reason::Purchase, false, 5, 0),
                (Reason::Damaged, false, 0, -1),
                (Reason::Sale, true, 0, -2),
                (Reason::Purchase, true, 4, 0),
            ]),
        )
        .unwrap();
        assert_eq!((t.opening, t.total_in, t.total_out, t.closing), (10, 5, 4, 11));
        let reasons: Vec<Reason> = t.by_reason.iter().map(|r| r.reason).collect();
        assert_eq!(reasons, [Reason::Purchase, Reason::Sale, Reason::Damaged], "declared order");
        assert_eq!(t.by_reason[1], ReasonTotal { reason: Reason::Sale, units_in: 0, units_out: 3 });
    }

    #[test]
    fn legacy_adjustment_rows_count_as_other_and_overflow_is_none() {
        assert_eq!(Reason::parse("adjustment"), Some(Reason::Other));
        let t = totals(0, &sums(&[(Reason::Other, false, 2, 0), (Reason::Other, false, 0, -5)])).unwrap();
        assert_eq!(t.by_reason, [ReasonTotal { reason: Reason::Other, units_in: 2, units_out: 5 }]);
        assert_eq!((t.opening, t.closing), (3, 0));
        assert_eq!(totals(i64::MIN, &sums(&[(Reason::Sale, true, 1, 0)])), None);
    }

    #[test]
    fn a_period_is_india_days() {
        let today = NaiveDate::from_ymd_opt(2026, 4, 15).unwrap();
        let (from, to, start, end) = period(Some("2026-03-31"), Some("2026-04-01"), today).unwrap();
        assert_eq!((from.to_string(), to.to_string()), ("2026-03-31".into(), "2026-04-01".into()));
        assert_eq!(start.try_to_rfc3339_string().unwrap(), "2026-03-30T18:30:00Z");
        assert_eq!(end.try_to_rfc3339_string().unwrap(), "2026-04-01T18:30:00Z");
        let (from, to, ..) = period(None, None, today).unwrap();
        assert_eq!((from.to_string(), to.to_string()), ("2026-04-01".into(), "2026-04-15".into()));
        assert!(period(Some("2026-04-02"), Some("2026-04-01"), today).is_err());
        assert!(period(Some("1 April"), None, today).is_err());
    }
}
