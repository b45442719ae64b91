//! Issue 16, "Stock ledger": a physical stock count. `POST /business/stock/counts` takes the
//! units counted per item; in ONE transaction each difference from the stored stock is posted
//! as a `countCorrection` movement (guarded on the stock it was compared with:
//! [`stock::set_counted`]), the count is kept in `stockcounts` and the audit trail records it
//! (`stock_adjusted`, entity `stockcounts`, one change per corrected item, who counted).
//! `GET /business/stock/counts` lists past counts, newest first. Permission `stock_adjust`.

use axum::{extract::State, http::StatusCode, Json};
use bson::{doc, oid::ObjectId, DateTime, Document};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::{
    access::{By, ByWire},
    audit,
    catalog::{model::ItemDoc, stock},
    db,
    error::{code, AppError, AppResult},
    extract::{ApiJson, ApiQuery, AuthClient},
    openapi::ErrorBody,
    paging::{self, Pagination},
    state::AppState,
    validate::Errors,
    wire,
};

/// Most lines one count may carry.
pub const MAX_LINES: usize = 500;

// ------------------------------------------------------------------ wire

/// One counted item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = StockCountLineRequest)]
pub struct CountLineRequest {
    pub item_id: String,
    /// Base units found on the shelf (a whole number, 0 or more).
    pub counted: i64,
}

/// `POST /business/stock/counts`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = StockCountRequest)]
pub struct CountRequest {
    /// Optional; must be the token's client (403 otherwise), as on the other catalog bodies.
    #[serde(default)]
    pub client_id: Option<String>,
    /// 1 to 500 lines, each item at most once.
    pub lines: Vec<CountLineRequest>,
    /// Up to 200 characters, one line (recorded on the count, its movements and the audit entry).
    #[serde(default)]
    pub note: Option<String>,
}

/// `GET /business/stock/counts` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CountsQuery {
    /// Counts per page (default 100, at most 500).
    pub limit: Option<String>,
    /// Counts skipped (default 0).
    pub offset: Option<String>,
}

/// One line of a stored count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StockCountLine)]
pub struct CountLine {
    #[schema(value_type = String)]
    pub item_id: ObjectId,
    /// The item's name when counted.
    pub name: String,
    /// The stored stock it was compared with.
    pub expected: i64,
    pub counted: i64,
    /// `counted - expected`: posted as a `countCorrection` movement when not 0.
    pub difference: i64,
}

/// A count as stored in `stockcounts`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub at: DateTime,
    pub by: By,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub lines: Vec<CountLine>,
}

/// A count as answered.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StockCountWire)]
pub struct CountWire {
    #[serde(rename = "_id")]
    pub id: String,
    /// ISO 8601 instant (UTC).
    pub at: String,
    pub by: ByWire,
    pub note: Option<String>,
    pub lines: Vec<CountLineWire>,
    /// Lines whose difference is not 0.
    pub corrected: usize,
}

/// A count line as answered (`itemId` as hex).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StockCountLineWire)]
pub struct CountLineWire {
    pub item_id: String,
    pub name: String,
    pub expected: i64,
    pub counted: i64,
    pub difference: i64,
}

impl From<&CountDoc> for CountWire {
    fn from(c: &CountDoc) -> Self {
        CountWire {
            id: c.id.to_hex(),
            at: wire::iso(c.at),
            by: ByWire::from(&c.by),
            note: c.note.clone(),
            lines: c
                .lines
                .iter()
                .map(|l| CountLineWire {
                    item_id: l.item_id.to_hex(),
                    name: l.name.clone(),
                    expected: l.expected,
                    counted: l.counted,
                    difference: l.difference,
                })
                .collect(),
            corrected: c.lines.iter().filter(|l| l.difference != 0).count(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StockCountResponse)]
pub struct CountResponse {
    pub success: bool,
    pub count: CountWire,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StockCountsResponse)]
pub struct CountsResponse {
    pub success: bool,
    pub counts: Vec<CountWire>,
    pub pagination: Pagination,
}

// ------------------------------------------------------------------ rules

/// A count's checked lines (item, units counted) and note.
pub type Checked = (Vec<(ObjectId, i64)>, Option<String>);

/// The checked lines of a count: 1..=[`MAX_LINES`], each a hex item id at most once with
/// `counted` in 0..=`limits::MAX_UNITS`; the note 1..=`stock::NOTE_MAX` characters, one line
/// (blank: none). 400 naming each bad field (`lines[2].counted`).
pub fn check(req: &CountRequest) -> AppResult<Checked> {
    let mut e = Errors::new();
    if req.lines.is_empty() || req.lines.len() > MAX_LINES {
        e.add("lines", format!("must hold 1 to {MAX_LINES} lines"));
    }
    let mut lines: Vec<(ObjectId, i64)> = Vec::with_capacity(req.lines.len());
    for (i, l) in req.lines.iter().enumerate() {
        let id = e.oid(&format!("lines[{i}].itemId"), &l.item_id);
        if !(0..=crate::limits::MAX_UNITS).contains(&l.counted) {
            e.add(
                &format!("lines[{i}].counted"),
                format!("must be a whole number from 0 to {}", crate::limits::MAX_UNITS),
            );
        }
        if let Some(id) = id {
            if lines.iter().any(|(x, _)| *x == id) {
                e.add(&format!("lines[{i}].itemId"), "is counted twice");
            }
            lines.push((id, l.counted));
        }
    }
    let note = req.note.as_deref().filter(|n| !n.trim().is_empty()).map(|n| e.text("note", n, 1, stock::NOTE_MAX));
    e.finish()?;
    Ok((lines, note))
}

// ------------------------------------------------------------------ service

fn counts(db: &mongodb::Database) -> mongodb::Collection<CountDoc> {
    db.collection("stockcounts")
}

/// Post a physical count (see the module doc). Every line's item must be the shop's (400
/// naming `lines[i].itemId` otherwise, nothing written). `at` is the server's clock.
pub async fn post_count(
    state: &AppState,
    client_id: ObjectId,
    by: By,
    who: audit::Who,
    req: &CountRequest,
) -> AppResult<CountDoc> {
    let (lines, note) = check(req)?;
    let ctx = (&state.db, client_id, by, who, lines, note, state.clock.now());
    db::transaction(&state.client, &ctx, |s, (database, client_id, by, who, lines, note, at)| {
        Box::pin(async move {
            let ids: Vec<ObjectId> = lines.iter().map(|(id, _)| *id).collect();
            let items: Vec<ItemDoc> = database
                .collection::<ItemDoc>("items")
                .find(doc! { "clientId": *client_id, "_id": { "$in": &ids } })
                .session(&mut *s)
                .await?
                .stream(&mut *s)
                .try_collect()
                .await?;
            let mut e = Errors::new();
            let mut out = Vec::with_capacity(lines.len());
            for (i, (id, counted)) in lines.iter().enumerate() {
                match items.iter().find(|it| it.id == *id) {
                    None => e.add(&format!("lines[{i}].itemId"), "is not an item of this shop"),
                    Some(it) => out.push(CountLine {
                        item_id: *id,
                        name: it.name.clone(),
                        expected: it.stock,
                        counted: *counted,
                        difference: counted
                            .checked_sub(it.stock)
                            .ok_or_else(|| crate::limits::stock_out_of_range("counted"))?,
                    }),
                }
            }
            e.finish()?;
            let count = CountDoc {
                id: ObjectId::new(),
                client_id: *client_id,
                at: *at,
                by: by.clone(),
                note: note.clone(),
                lines: out,
            };
            for l in &count.lines {
                let c = stock::Counted {
                    client_id: *client_id,
                    item_id: l.item_id,
                    expected: l.expected,
                    counted: l.counted,
                    count_id: count.id,
                    at: *at,
                    by: by.clone(),
                    note: note.clone(),
                };
                if !stock::set_counted(database, s, &c).await? {
                    return Err(AppError::conflict(code::CONFLICT, "The stock changed meanwhile; please count again"));
                }
            }
            counts(database).insert_one(&count).session(&mut *s).await?;
            let changes = count
                .lines
                .iter()
                .filter(|l| l.difference != 0)
                .map(|l| {
                    audit::Change::new(
                        format!("items.{}.stock", l.item_id.to_hex()),
                        json!(l.expected),
                        json!(l.counted),
                    )
                })
                .collect();
            let reason = match &count.note {
                Some(n) => format!("stock count of {} items: {n}", count.lines.len()),
                None => format!("stock count of {} items", count.lines.len()),
            };
            let entry = audit::Entry::builder(*client_id, who.clone(), audit::Action::StockAdjusted, "stockcounts")
                .entity_id(count.id.to_hex())
                .at(*at)
                .changes(changes)
                .reason(reason)
                .build()?;
            audit::record(database, Some(&mut *s), &entry).await?;
            Ok(count)
        })
    })
    .await
}

/// Past counts of the shop, newest first, paged; and how many there are.
pub async fn list_counts(state: &AppState, client_id: ObjectId, q: &CountsQuery) -> AppResult<(Vec<CountDoc>, i64)> {
    let page = paging::page(q.limit.as_deref(), q.offset.as_deref())?;
    let filter: Document = doc! { "clientId": client_id };
    let (rows, total) = tokio::try_join!(
        async {
            let cur = counts(&state.db)
                .find(filter.clone())
                .sort(doc! { "at": -1, "_id": -1 })
                .skip(page.offset as u64)
                .limit(page.limit)
                .await?;
            Ok::<Vec<CountDoc>, AppError>(cur.try_collect().await?)
        },
        async { Ok::<i64, AppError>(counts(&state.db).count_documents(filter.clone()).await? as i64) },
    )?;
    Ok((rows, total))
}

// ------------------------------------------------------------------ handlers

/// Post a physical stock count (issue 16): each difference from the stored stock becomes a
/// `countCorrection` movement, in one transaction with the count and its audit entry.
/// Answers the count with each line's expected, counted and difference.
#[utoipa::path(post, path = "/business/stock/counts", tag = "catalog", security(("bearer" = [])),
    request_body = CountRequest,
    responses(
        (status = 201, description = "Posted: the differences", body = CountResponse),
        (status = 400, description = "Validation; an item that is not the shop's (`lines[i].itemId`)", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "No stock_adjust", body = ErrorBody),
        (status = 409, description = "The stock changed while posting (CONFLICT)", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("stock_adjust"))),
)]
pub async fn create_count(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<CountRequest>,
) -> AppResult<(StatusCode, Json<CountResponse>)> {
    let c = post_count(&state, auth.client_id, auth.by(), audit::who(&auth), &req).await?;
    Ok((StatusCode::CREATED, Json(CountResponse { success: true, count: CountWire::from(&c) })))
}

/// Past stock counts, newest first (issue 16).
#[utoipa::path(get, path = "/business/stock/counts", tag = "catalog", security(("bearer" = [])),
    params(CountsQuery),
    responses(
        (status = 200, description = "Counts", body = CountsResponse),
        (status = 400, description = "Bad limit/offset", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "No stock_adjust", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("stock_adjust"))),
)]
pub async fn get_counts(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<CountsQuery>,
) -> AppResult<Json<CountsResponse>> {
    let page = paging::page(q.limit.as_deref(), q.offset.as_deref())?;
    let (rows, total) = list_counts(&state, auth.client_id, &q).await?;
    Ok(Json(CountsResponse {
        success: true,
        counts: rows.iter().map(CountWire::from).collect(),
        pagination: Pagination::of(page, total),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(lines: serde_json::Value) -> CountRequest {
        serde_json::from_value(json!({ "lines": lines, "note": " shelf A " })).unwrap()
    }

    #[test]
    fn count_lines_are_checked_per_field() {
        let a = ObjectId::new().to_hex();
        let (lines, note) = check(&req(json!([{ "itemId": a, "counted": 4 }]))).unwrap();
        assert_eq!((lines.len(), lines[0].1, note.as_deref()), (1, 4, Some("shelf A")));
        let bad = check(&req(
            json!([{ "itemId": a, "counted": -1 }, { "itemId": a, "counted": 2 }, { "itemId": "x", "counted": 1 }]),
        ));
        let text = format!("{:?}", bad.unwrap_err());
        for f in ["lines[0].counted", "lines[1].itemId: is counted twice", "lines[2].itemId"] {
            assert!(text.contains(f), "{f} in {text}");
        }
        assert!(check(&req(json!([]))).is_err(), "an empty count");
    }
}
