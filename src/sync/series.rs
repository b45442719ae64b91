//! A v2 device's own invoice number series (issue 17): `POST /api/v2/sync/series` allots the
//! calling device (the token's session's `deviceId`) its series for a financial year, so the
//! bills it prints offline carry their final number; `GET /api/v2/sync/series/{seriesId}`
//! lists the numbers missing below the highest received (gaps). The rules and storage are
//! `billing::numbering`; a pushed `invoice.create` with `invoiceNumber` is checked there.

use axum::{extract::State, Json};

use crate::{
    billing::numbering::{
        dto::{AllotSeriesRequest, SeriesDetailResponse, SeriesResponse},
        service,
    },
    error::AppResult,
    extract::{ApiJson, ApiPath, AuthClient},
    openapi::ErrorBody,
    state::AppState,
    sync::receipts,
    validate,
};

/// The most missing numbers `GET .../series/{seriesId}` lists.
pub const MAX_LISTED: usize = 1000;

/// Allot (or answer again) the calling device's series for a financial year (`{}`: the
/// current one): `D<n>-<fy>/` + five digits, unique per shop and year; `nextNumber` is the
/// number after the highest received.
#[utoipa::path(post, path = "/v2/sync/series", tag = "sync", security(("bearer" = [])),
    request_body = AllotSeriesRequest,
    responses(
        (status = 200, description = "The device's series", body = SeriesResponse),
        (status = 400, description = "financialYear malformed; unknown fields", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks sell", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn allot_series(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<AllotSeriesRequest>,
) -> AppResult<Json<SeriesResponse>> {
    let device = receipts::device_of(&state, &auth).await?;
    let d = service::allot_series(&state, auth.client_id, &device, req.financial_year).await?;
    Ok(Json(SeriesResponse { success: true, series: (&d).into() }))
}

/// A series of the shop and the numbers missing below its highest received (bills the
/// device numbered but the server has not received: a gap to chase, never a lost sale).
#[utoipa::path(get, path = "/v2/sync/series/{seriesId}", tag = "sync", security(("bearer" = [])),
    params(("seriesId" = String, Path, description = "Series id")),
    responses(
        (status = 200, description = "The series and its gaps", body = SeriesDetailResponse),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks sell", body = ErrorBody),
        (status = 404, description = "No such series for this shop", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn get_series(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<SeriesDetailResponse>> {
    let id = validate::oid("params.seriesId", &id)?;
    let (d, missing, count) = service::series_gaps(&state, auth.client_id, id, MAX_LISTED).await?;
    Ok(Json(SeriesDetailResponse { success: true, series: (&d).into(), missing, missing_count: count }))
}
