//! Batch routes (issue 16): the near-expiry report, an item's lots, and a stock adjustment
//! into a named lot. Tenant from the token; a foreign item id answers like a missing one.

use axum::{extract::State, http::StatusCode, Json};
use bson::oid::ObjectId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{check_batch_no, check_expiry, repo, BatchWire};
use crate::{
    catalog::stock::{self, Move, Moved, Reason},
    db,
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath, ApiQuery, AuthClient},
    money::Paise,
    openapi::ErrorBody,
    state::AppState,
    time, validate,
};

/// Routes of the batch module (behind the auth layer).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(expiring)).routes(routes!(item_batches, adjust_batch))
}

/// Default window of the near-expiry report (days).
pub const DEFAULT_DAYS: i64 = 30;
/// Longest window of the near-expiry report (days).
pub const MAX_DAYS: i64 = 3660;

/// `GET /business/items/expiring` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ExpiringQuery {
    /// Lots expiring within this many days of today (India date), 0-3660; default 30.
    pub days: Option<i64>,
}

/// One lot of the near-expiry report.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpiringLot {
    pub item_id: String,
    pub item_name: String,
    pub batch_no: String,
    /// `YYYY-MM-DD`.
    pub expiry_date: String,
    /// Base units left.
    pub quantity: i64,
    /// Days from today to the expiry date (0 = expires today; negative = expired).
    pub days_left: i64,
    /// Expired before today (never sold automatically).
    pub expired: bool,
}

/// The near-expiry report.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpiringResponse {
    pub success: bool,
    /// Today's India date the report is computed on.
    pub today: String,
    pub days: i64,
    /// Already expired first, then by expiry date.
    pub batches: Vec<ExpiringLot>,
}

/// Near-expiry report (issue 16): the shop's lots with units left that expire within
/// `days` days of today (India date), and the already expired ones (flagged `expired`).
#[utoipa::path(get, path = "/business/items/expiring", tag = "catalog", security(("bearer" = [])),
    params(ExpiringQuery),
    responses(
        (status = 200, description = "Lots expiring soon or expired", body = ExpiringResponse),
        (status = 400, description = "days not 0-3660", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("catalog_view"))),
)]
pub async fn expiring(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<ExpiringQuery>,
) -> AppResult<Json<ExpiringResponse>> {
    let days = q.days.unwrap_or(DEFAULT_DAYS);
    if !(0..=MAX_DAYS).contains(&days) {
        return Err(AppError::validation("days", format!("must be a whole number from 0 to {MAX_DAYS}")));
    }
    let today = time::ist_date(state.clock.now());
    let until = (today + chrono::Duration::days(days)).format("%Y-%m-%d").to_string();
    let lots = repo::expiring(&state.db, auth.client_id, &until).await?;
    let ids: Vec<ObjectId> = lots.iter().map(|l| l.item_id).collect();
    let names = repo::item_names(&state.db, auth.client_id, &ids).await?;
    let batches = lots
        .iter()
        .map(|l| {
            let days_left = l.expiry().map_or(i64::MIN, |d| (d - today).num_days());
            ExpiringLot {
                item_id: l.item_id.to_hex(),
                item_name: names.get(&l.item_id).cloned().unwrap_or_default(),
                batch_no: l.batch_no.clone(),
                expiry_date: l.expiry_date.clone(),
                quantity: l.quantity,
                days_left,
                expired: days_left < 0,
            }
        })
        .collect();
    Ok(Json(ExpiringResponse { success: true, today: today.format("%Y-%m-%d").to_string(), days, batches }))
}

/// An item's lots.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchesResponse {
    pub success: bool,
    /// By expiry date.
    pub batches: Vec<BatchWire>,
}

/// The lots of an item (any quantity), by expiry date.
#[utoipa::path(get, path = "/business/items/{itemId}/batches", tag = "catalog", security(("bearer" = [])),
    params(("itemId" = String, Path, description = "Item id")),
    responses(
        (status = 200, description = "The item's lots", body = BatchesResponse),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such item of this shop", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("catalog_view"))),
)]
pub async fn item_batches(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<BatchesResponse>> {
    let id = validate::oid("params.itemId", &id)?;
    if repo::item_names(&state.db, auth.client_id, &[id]).await?.is_empty() {
        return Err(AppError::not_found("Item"));
    }
    let lots = repo::of_item(&state.db, auth.client_id, id).await?;
    Ok(Json(BatchesResponse { success: true, batches: lots.iter().map(BatchWire::from).collect() }))
}

/// A stock adjustment into (or out of) a named lot.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdjustBatchRequest {
    /// 1-40 characters; matched ignoring case (`b-12` is `B-12`). A new number creates the lot.
    pub batch_no: String,
    /// `YYYY-MM-DD`; must equal the lot's when it exists.
    pub expiry_date: String,
    /// Signed base units: > 0 received into the lot, < 0 taken out (never below zero). The
    /// item's stock moves by the same amount (a stock adjustment).
    pub quantity: i64,
    /// Rupees printed on the lot (a new lot only).
    #[schema(value_type = Option<f64>)]
    pub mrp: Option<Paise>,
}

/// The lot after an adjustment, and the item's stock.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    pub success: bool,
    pub batch: BatchWire,
}

struct Adjust {
    db: mongodb::Database,
    client: ObjectId,
    item: ObjectId,
    receive: repo::Receive,
}

/// Stock adjustment naming a batch (issue 16): the item's stock and the lot move together
/// in one transaction (the stock movement is an `adjustment`). Only for `hasExpiry` items.
#[utoipa::path(post, path = "/business/items/{itemId}/batches", tag = "catalog", security(("bearer" = [])),
    params(("itemId" = String, Path, description = "Item id")),
    request_body = AdjustBatchRequest,
    responses(
        (status = 201, description = "The lot after the adjustment", body = BatchResponse),
        (status = 400, description = "Validation; the item has no hasExpiry; another expiry for an existing lot; BATCH_NOT_FOUND (taking from an unknown lot)", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such item of this shop", body = ErrorBody),
        (status = 409, description = "INSUFFICIENT_STOCK: the lot holds fewer units than taken out", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("stock_adjust"))),
)]
pub async fn adjust_batch(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<AdjustBatchRequest>,
) -> AppResult<(StatusCode, Json<BatchResponse>)> {
    let item = validate::oid("params.itemId", &id)?;
    let mut e = validate::Errors::new();
    let batch_no = check_batch_no(&mut e, "batchNo", &req.batch_no);
    let expiry = check_expiry(&mut e, "expiryDate", &req.expiry_date);
    if req.quantity == 0 {
        e.add("quantity", "must not be 0");
    }
    crate::limits::delta(&mut e, "quantity", req.quantity);
    if let Some(m) = req.mrp {
        crate::limits::amount(&mut e, "mrp", m);
    }
    e.finish()?;
    let (Some(batch_no), Some(expiry)) = (batch_no, expiry) else {
        return Err(AppError::validation("batchNo", "invalid"));
    };
    let ctx = Adjust {
        db: state.db.clone(),
        client: auth.client_id,
        item,
        receive: repo::Receive {
            client_id: auth.client_id,
            item_id: item,
            batch_no,
            expiry_date: expiry.format("%Y-%m-%d").to_string(),
            quantity: req.quantity,
            mrp: req.mrp.map(|m| m.as_i64()),
            by: Some(auth.by()),
            now: state.clock.now(),
        },
    };
    let lot = db::transaction(&state.client, &ctx, |s, c| {
        Box::pin(async move {
            let it = crate::catalog::repo::find_item(&c.db, s, c.client, c.item)
                .await?
                .filter(|i| i.is_active)
                .ok_or_else(|| AppError::not_found("Item"))?;
            if !it.details.has_expiry {
                return Err(AppError::validation(
                    "params.itemId",
                    "the item does not track expiry (hasExpiry is false)",
                ));
            }
            let lot = repo::receive(&c.db, s, &c.receive).await?;
            let mv = Move {
                client_id: c.client,
                item_id: c.item,
                delta: c.receive.quantity,
                allow_negative: true,
                reason: Reason::Adjustment,
                ref_id: Some(lot.id),
                by: c.receive.by.clone(),
            };
            match stock::apply(&c.db, s, &mv).await? {
                Moved::Done => Ok(lot),
                Moved::OutOfRange => Err(crate::limits::stock_out_of_range(&it.name)),
                _ => Err(AppError::not_found("Item")),
            }
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(BatchResponse { success: true, batch: BatchWire::from(&lot) })))
}
