//! Handlers of units. The tenant is always the token's; a foreign id answers 404 like a
//! missing one.

use axum::{extract::State, http::StatusCode, Json};

use crate::{
    catalog::unit::{
        dto::{CreateUnitRequest, UnitDeletedResponse, UnitResponse, UnitsResponse, UpdateUnitRequest},
        service,
    },
    error::AppResult,
    extract::{ApiJson, ApiPath, AuthClient},
    openapi::ErrorBody,
    state::AppState,
    validate,
};

/// Create a unit: a base unit (no `baseUnitId`, factor 1) or `conversionFactor` base units of
/// one of the shop's base units.
#[utoipa::path(post, path = "/business/units", tag = "units", security(("bearer" = [])),
    request_body = CreateUnitRequest,
    responses(
        (status = 201, description = "Created", body = UnitResponse),
        (status = 400, description = "Validation (name, uqc, conversionFactor, baseUnitId not a base unit of the shop), unknown fields", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks items_manage", body = ErrorBody),
        (status = 409, description = "A unit with this name exists (code DUPLICATE)", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn create_unit(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<CreateUnitRequest>,
) -> AppResult<(StatusCode, Json<UnitResponse>)> {
    let u = service::create(&state, auth.client_id, req).await?;
    Ok((StatusCode::CREATED, Json(UnitResponse { success: true, unit: u.into() })))
}

/// The shop's units: base units first, then by name.
#[utoipa::path(get, path = "/business/units", tag = "units", security(("bearer" = [])),
    responses(
        (status = 200, description = "Units", body = UnitsResponse),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks catalog_view", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("catalog_view"))),
)]
pub async fn list_units(State(state): State<AppState>, auth: AuthClient) -> AppResult<Json<UnitsResponse>> {
    let list = service::list(&state, auth.client_id).await?;
    Ok(Json(UnitsResponse { success: true, units: list.into_iter().map(Into::into).collect() }))
}

/// One unit of the shop.
#[utoipa::path(get, path = "/business/units/{unitId}", tag = "units", security(("bearer" = [])),
    params(("unitId" = String, Path, description = "Unit id")),
    responses(
        (status = 200, description = "The unit", body = UnitResponse),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks catalog_view", body = ErrorBody),
        (status = 404, description = "No such unit for this shop", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("catalog_view"))),
)]
pub async fn get_unit(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<UnitResponse>> {
    let id = validate::oid("params.unitId", &id)?;
    let u = service::get(&state, auth.client_id, id).await?;
    Ok(Json(UnitResponse { success: true, unit: u.into() }))
}

/// Edit a unit (name, uqc, conversionFactor). A factor in use cannot change.
#[utoipa::path(put, path = "/business/units/{unitId}", tag = "units", security(("bearer" = [])),
    params(("unitId" = String, Path, description = "Unit id")),
    request_body = UpdateUnitRequest,
    responses(
        (status = 200, description = "Updated", body = UnitResponse),
        (status = 400, description = "Validation (a base unit's factor stays 1), unknown fields, malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks items_manage", body = ErrorBody),
        (status = 404, description = "No such unit for this shop", body = ErrorBody),
        (status = 409, description = "DUPLICATE name, or UNIT_IN_USE: the factor of a unit items sell in cannot change", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn update_unit(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateUnitRequest>,
) -> AppResult<Json<UnitResponse>> {
    let id = validate::oid("params.unitId", &id)?;
    let u = service::update(&state, auth.client_id, id, req).await?;
    Ok(Json(UnitResponse { success: true, unit: u.into() }))
}

/// Delete a unit (409 while items sell in it or other units count in it).
#[utoipa::path(delete, path = "/business/units/{unitId}", tag = "units", security(("bearer" = [])),
    params(("unitId" = String, Path, description = "Unit id")),
    responses(
        (status = 200, description = "Deleted", body = UnitDeletedResponse),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks items_manage", body = ErrorBody),
        (status = 404, description = "No such unit for this shop", body = ErrorBody),
        (status = 409, description = "UNIT_IN_USE: items or units use it", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn delete_unit(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<UnitDeletedResponse>> {
    let id = validate::oid("params.unitId", &id)?;
    service::delete(&state, auth.client_id, id).await?;
    Ok(Json(UnitDeletedResponse { success: true, message: "Unit deleted".into() }))
}
