//! Offline sync: v1 `/api/readytosync` + `/api/sync` made exactly-once, and the incremental
//! v2 protocol under `/api/v2/sync` (push of operations applied exactly once, pull by a
//! per-client sequence cursor). See `docs/sync.md`.

pub mod apply;
mod bulk;
pub mod changes;
pub mod codes;
pub mod ops;
pub mod receipts;
pub mod series;
pub mod v1;

use axum::{
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    db,
    error::{AppError, AppResult},
    extract::{from_value, ApiJson, ApiJsonOps, ApiQuery, AuthClient},
    idem,
    openapi::ErrorBody,
    state::AppState,
    validate::Errors,
};

/// Body limit of the sync routes (a 1,000-operation push is larger than the default).
pub const SYNC_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Routes of this module (all behind the auth layer).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ready_to_sync))
        .routes(routes!(sync_v1))
        .routes(routes!(push))
        .routes(routes!(pull))
        .routes(routes!(list_rejected))
        .routes(routes!(series::allot_series))
        .routes(routes!(series::get_series))
        .layer(DefaultBodyLimit::max(SYNC_BODY_LIMIT))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadyRequest {
    pub client_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadyResponse {
    pub success: bool,
    pub ready: bool,
    pub client_id: String,
}

/// S1: the server is reachable and the token valid.
#[utoipa::path(post, path = "/readytosync", tag = "sync", security(("bearer" = [])), request_body = ReadyRequest,
    responses((status = 200, body = ReadyResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    extensions(("x-permission" = json!("session"))),
)]
pub async fn ready_to_sync(auth: AuthClient, ApiJson(req): ApiJson<ReadyRequest>) -> AppResult<Json<ReadyResponse>> {
    if let Some(c) = &req.client_id {
        crate::validate::oid("clientId", c)?;
    }
    Ok(Json(ReadyResponse { success: true, ready: true, client_id: auth.client_id.to_hex() }))
}

fn idempotency_key(headers: &HeaderMap) -> AppResult<Option<String>> {
    match headers.get("x-idempotency-key") {
        None => Ok(None),
        Some(v) => idem::check_key(v.to_str().unwrap_or("")).map(Some),
    }
}

fn json_response(body: String, replayed: bool) -> Response {
    let mut r = (StatusCode::OK, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response();
    if replayed {
        r.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    r
}

/// S2: the offline batch (item creates, updates, deletes, invoice creates, payment creates,
/// in that order) in ONE transaction, plus a bounded download. With `X-Idempotency-Key`
/// (strongly recommended) a retry returns the stored first response and applies nothing.
#[utoipa::path(post, path = "/sync", tag = "sync", security(("bearer" = [])), request_body = v1::V1Batch,
    params(("X-Idempotency-Key" = Option<String>, Header, description = "Per-client key of this batch (kept 30 days)")),
    responses((status = 200, description = "`message, summary, synced, stockWarnings, priceOverrides, inactiveItems, duplicates, conflicts, data, truncated, dataLimit, incrementalPull`; `stockWarnings[]` = `{invoiceId, productId, itemName, quantity, stock}` for each invoice line that left an item's stock below zero (an offline sale always subtracts); `priceOverrides[]` = `{invoiceId, productId, itemName, price, catalogPrice}` (lines billed at the device's price, the price of record); `inactiveItems[]` = `{invoiceId, productId, itemName}` (sold after being deactivated online: accepted); `duplicates[]` = `{index, deviceRef, invoiceId, invoiceNumber}` (a sale this device already billed under that `deviceRef`, whatever the key: nothing issued); `conflicts[]` = `{index, id, version, current}` (an `item.update` whose `baseVersion` is older than an edit since: not applied). See docs/sync.md, \"Offline semantics\"", body = Object),
        (status = 400, body = ErrorBody), (status = 409, description = "same key still in flight", body = ErrorBody),
        (status = 422, description = "same key, different body", body = ErrorBody),
        (status = 504, description = "OUTCOME_UNKNOWN: timed out while the work may still complete; retry with the same X-Idempotency-Key", body = ErrorBody)),
    extensions(("x-permission" = json!("session"))),
)]
pub async fn sync_v1(
    State(state): State<AppState>,
    auth: AuthClient,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Response> {
    let key = idempotency_key(&headers)?;
    let hash = idem::hash("/api/sync", &body);
    v1::check_shape(&body)?;
    let batch: v1::V1Batch = from_value(body)?;
    let client_id = auth.client_id;
    let actor = auth.user.clone();
    let device = receipts::device_of(&state, &auth).await?;
    let st = state.clone();
    // detached from the request: a timeout cannot cut the batch half-way (504 OUTCOME_UNKNOWN)
    crate::http::detached(&state, async move { sync_v1_apply(&st, client_id, &actor, device, batch, key, hash).await })
        .await
}

/// The v1 batch, applied exactly once per `X-Idempotency-Key` (see [`sync_v1`]).
async fn sync_v1_apply(
    state: &AppState,
    client_id: bson::oid::ObjectId,
    actor: &crate::access::Actor,
    device: String,
    batch: v1::V1Batch,
    key: Option<String>,
    hash: String,
) -> AppResult<Response> {
    let ctx = v1::prepare(state, client_id, actor, &device, &batch)?;
    let Some(key) = key else {
        let _queue = state.shop_locks.lock(&client_id).await;
        let mut rounds = 0;
        loop {
            rounds += 1;
            match db::transaction(&state.client, &ctx, |s, ctx| Box::pin(v1::run(s, ctx))).await {
                Ok(out) => return Ok(json_response(out.to_string(), false)),
                // another instance billed one of these device references first: run again,
                // the sale now answers as a duplicate
                Err(AppError::Database(e)) if crate::error::is_duplicate_key(&e) && rounds < 3 => continue,
                Err(e) => return Err(e),
            }
        }
    };
    for _ in 0..3 {
        if let idem::Prior::Replay(stored) = idem::lookup(state, client_id, &key, &hash).await? {
            return Ok(json_response(stored, true));
        }
        let token = idem::acquire(state, client_id, &key).await?;
        let result = {
            let _queue = state.shop_locks.lock(&client_id).await;
            let c = (&ctx, key.clone(), hash.clone());
            db::transaction(&state.client, &c, |s, (ctx, key, hash)| {
                Box::pin(async move {
                    let out = v1::run(s, ctx).await?.to_string();
                    idem::record(ctx.state, s, ctx.client_id, key, hash, &out).await?;
                    Ok(out)
                })
            })
            .await
        };
        idem::release(state, client_id, &key, &token).await;
        match result {
            Ok(out) => return Ok(json_response(out, false)),
            // a twin committed first: answer with its stored response
            Err(AppError::Database(e)) if crate::error::is_duplicate_key(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(AppError::conflict(crate::error::code::CONFLICT, "Sync could not complete; retry with the same key"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushRequest {
    pub client_id: Option<String>,
    /// At most 1,000 operations: `{opId (UUID), entity: item|invoice|payment|customer|creditNote,
    /// kind: create|update|delete|cancel, payload, deviceTime (RFC 3339)}` (issue 18: `invoice
    /// cancel` and `creditNote create`, judged by the online cancel and credit-note rules; a
    /// refusal rejects that operation only). Item and customer
    /// updates may carry `baseVersion` (the `__v` the device last saw: an older one whose
    /// fields changed since answers `conflict`); a sale's `deviceRef` identifies it per device
    /// (the same reference again answers `duplicate` with the first invoice).
    /// Documented per operation type (`oneOf`, with examples) by
    /// `openapi::push_operations_schema`.
    #[schema(schema_with = crate::openapi::push_operations_schema)]
    pub operations: Vec<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushResponse {
    pub success: bool,
    pub results: Vec<ops::OpOutcome>,
    /// Counts per status: `{applied, duplicate, rejected, deferred, conflict}`.
    #[schema(value_type = Object)]
    pub summary: Value,
}

/// v2 push: each operation applied exactly once, ever (permanent unique (client, opId)).
#[utoipa::path(post, path = "/v2/sync/push", tag = "sync", security(("bearer" = [])), request_body = PushRequest,
    responses((status = 200, body = PushResponse), (status = 400, body = ErrorBody), (status = 413, description = "more than 1,000 operations", body = ErrorBody),
        (status = 504, description = "OUTCOME_UNKNOWN: timed out while the work may still complete; retry with the same X-Idempotency-Key", body = ErrorBody)),
    extensions(("x-permission" = json!("session"))),
)]
pub async fn push(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJsonOps(mut req): ApiJsonOps<PushRequest>,
) -> AppResult<Json<PushResponse>> {
    // sale lines by scanned code get their item (and packing unit) before parsing (issue 16)
    if req.operations.len() <= ops::MAX_OPS {
        codes::resolve(&state.db, auth.client_id, &mut req.operations).await?;
    }
    let parsed = ops::parse_ops(&req.operations)?;
    let device = receipts::device_of(&state, &auth).await?;
    let st = state.clone();
    let client_id = auth.client_id;
    let actor = auth.user.clone();
    // detached from the request: a timeout cannot cut the push half-way (504 OUTCOME_UNKNOWN;
    // pushing the same operations again answers each `duplicate` with its outcome)
    let results =
        crate::http::detached(&state, async move { ops::push(&st, client_id, &actor, &device, parsed).await }).await?;
    let count = |s: &str| results.iter().filter(|r| r.status == s).count();
    let summary = json!({
        "applied": count("applied"), "duplicate": count("duplicate"), "rejected": count("rejected"),
        "deferred": count("deferred"), "conflict": count("conflict"),
    });
    Ok(Json(PushResponse { success: true, results, summary }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PullQuery {
    /// `nextCursor` of the previous page; absent on the first pull.
    pub cursor: Option<String>,
    /// 1..2000, default 500.
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PullResponse {
    pub success: bool,
    /// `{seq, collection, id, op: upsert|delete, doc}` in sequence order.
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<Value>,
    pub next_cursor: String,
    pub has_more: bool,
    /// opIds of the device's operations applied (or rejected) whose effects this page covers.
    pub applied_ops: Vec<String>,
    pub rejected_ops: Vec<String>,
}

/// v2 pull: changes after a cursor (a per-client server sequence), paged, in one snapshot.
#[utoipa::path(get, path = "/v2/sync/pull", tag = "sync", security(("bearer" = [])), params(PullQuery),
    responses((status = 200, body = PullResponse), (status = 400, body = ErrorBody)),
    extensions(("x-permission" = json!("session"))),
)]
pub async fn pull(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<PullQuery>,
) -> AppResult<Json<PullResponse>> {
    let mut e = Errors::new();
    let cursor = match q.cursor.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => c.parse::<i64>().ok().filter(|c| *c >= 0).unwrap_or_else(|| {
            e.add("query.cursor", "must be a nextCursor returned by this endpoint");
            0
        }),
    };
    let limit = match q.limit.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => changes::DEFAULT_PULL,
        Some(l) => l.parse::<i64>().ok().filter(|l| (1..=changes::MAX_PULL).contains(l)).unwrap_or_else(|| {
            e.add("query.limit", format!("must be a whole number from 1 to {}", changes::MAX_PULL));
            1
        }),
    };
    e.finish()?;
    let page = changes::pull(&state, auth.client_id, cursor, limit).await?;
    Ok(Json(PullResponse {
        success: true,
        changes: page.changes,
        next_cursor: page.next_cursor.to_string(),
        has_more: page.has_more,
        applied_ops: page.applied_ops,
        rejected_ops: page.rejected_ops,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RejectedQuery {
    /// `_id` of the last row of the previous page.
    pub before: Option<String>,
    /// 1..200, default 50.
    pub limit: Option<String>,
}

/// The owner's list of rejected operations (newest first): nothing rejected vanishes.
#[utoipa::path(get, path = "/v2/sync/rejected", tag = "sync", security(("bearer" = [])), params(RejectedQuery),
    responses((status = 200, description = "`rejected: [{_id, opId, entity, kind, reason, payload, deviceTime, createdAt}]`", body = Object), (status = 400, body = ErrorBody)),
    extensions(("x-permission" = json!("session"))),
)]
pub async fn list_rejected(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<RejectedQuery>,
) -> AppResult<Json<Value>> {
    let mut e = Errors::new();
    let before = q.before.as_deref().filter(|b| !b.trim().is_empty()).and_then(|b| e.oid("query.before", b));
    let limit = q.limit.as_deref().map(|l| l.trim().parse::<i64>().unwrap_or(0)).unwrap_or(50);
    if !(1..=200).contains(&limit) {
        e.add("query.limit", "must be a whole number from 1 to 200");
    }
    e.finish()?;
    let rows = ops::rejected(&state, auth.client_id, before, limit).await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "_id": r.id.to_hex(), "opId": r.op_id, "entity": r.entity, "kind": r.kind, "reason": r.reason,
                "payload": serde_json::from_str::<Value>(&r.payload).unwrap_or(Value::Null),
                "deviceTime": r.device_time.map(crate::wire::iso), "createdAt": crate::wire::iso(r.created_at),
            })
        })
        .collect();
    let next = if rows.len() as i64 == limit { rows.last().map(|r| r.id.to_hex()) } else { None };
    Ok(Json(json!({ "success": true, "rejected": list, "next": next })))
}
