//! C1-C4 handlers. The `clientId` path parameter is bound to the token by the auth layer
//! (403 on mismatch) before these run.

use axum::{extract::State, Json};

use crate::{
    client::{
        dto::{ClientResponse, UpdateClientRequest},
        service,
    },
    error::AppResult,
    extract::{ApiJson, ApiPath, AuthClient},
    openapi::ErrorBody,
    state::AppState,
    validate,
};

async fn get_impl(state: AppState, auth: AuthClient, client_id: String) -> AppResult<Json<ClientResponse>> {
    validate::oid("params.clientId", &client_id)?;
    let c = service::get(&state, auth.client_id).await?;
    Ok(Json(ClientResponse { success: true, client: c.into() }))
}

async fn update_impl(
    state: AppState,
    auth: AuthClient,
    client_id: String,
    req: UpdateClientRequest,
) -> AppResult<Json<ClientResponse>> {
    validate::oid("params.clientId", &client_id)?;
    // settings changes are audited in the same transaction (issue 15)
    let c = service::update(&state, auth.client_id, req, crate::audit::who(&auth)).await?;
    Ok(Json(ClientResponse { success: true, client: c.into() }))
}

/// C1: the shop's profile.
#[utoipa::path(get, path = "/client/{clientId}", tag = "client", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client")),
    responses(
        (status = 200, description = "Profile", body = ClientResponse),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Another client's id", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("session"))),
)]
pub async fn get_profile(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(client_id): ApiPath<String>,
) -> AppResult<Json<ClientResponse>> {
    get_impl(state, auth, client_id).await
}

/// C2: update the profile and settings (whitelisted fields only).
#[utoipa::path(put, path = "/client/{clientId}", tag = "client", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client")),
    request_body = UpdateClientRequest,
    responses(
        (status = 200, description = "Updated profile", body = ClientResponse),
        (status = 400, description = "Validation or nothing to update", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("settings"))),
)]
pub async fn update_profile(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(client_id): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateClientRequest>,
) -> AppResult<Json<ClientResponse>> {
    update_impl(state, auth, client_id, req).await
}

/// C3: alias of C1.
#[utoipa::path(get, path = "/auth/client/{clientId}", tag = "client", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client")),
    responses(
        (status = 200, description = "Profile", body = ClientResponse),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Another client's id", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("session"))),
)]
pub async fn get_profile_alias(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(client_id): ApiPath<String>,
) -> AppResult<Json<ClientResponse>> {
    get_impl(state, auth, client_id).await
}

/// C4: alias of C2.
#[utoipa::path(put, path = "/auth/client/{clientId}", tag = "client", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client")),
    request_body = UpdateClientRequest,
    responses(
        (status = 200, description = "Updated profile", body = ClientResponse),
        (status = 400, description = "Validation or nothing to update", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("settings"))),
)]
pub async fn update_profile_alias(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(client_id): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateClientRequest>,
) -> AppResult<Json<ClientResponse>> {
    update_impl(state, auth, client_id, req).await
}

/// The answer of the GST profile routes; `gstProfile` is null until the shop sets one.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GstProfileResponse {
    pub success: bool,
    pub gst_profile: Option<crate::client::gst::GstProfile>,
}

/// Issue 17: the shop's GST profile (null until set: the shop bills as before, the app's
/// `totalTax` taken as sent).
#[utoipa::path(get, path = "/business/gst-profile", tag = "client", security(("bearer" = [])),
    responses((status = 200, body = GstProfileResponse), (status = 401, body = ErrorBody)),
    extensions(("x-permission" = json!("session"))),
)]
pub async fn get_gst_profile(State(state): State<AppState>, auth: AuthClient) -> AppResult<Json<GstProfileResponse>> {
    let c = service::get(&state, auth.client_id).await?;
    Ok(Json(GstProfileResponse { success: true, gst_profile: c.gst_profile }))
}

/// Issue 17: set the shop's GST profile (the whole of it): GSTIN (its first two digits are
/// the shop's state), legal and trade name, address, `gstScheme` regular | composition |
/// unregistered, turnover band, prices tax-inclusive or exclusive, round-off, the document
/// series prefixes. From then on every sale's tax is computed by the server. Audited.
#[utoipa::path(put, path = "/business/gst-profile", tag = "client", security(("bearer" = [])),
    request_body = crate::client::gst::GstProfileIn,
    responses((status = 200, body = GstProfileResponse), (status = 400, description = "A field is invalid (named)", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    extensions(("x-permission" = json!("settings"))),
)]
pub async fn put_gst_profile(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<crate::client::gst::GstProfileIn>,
) -> AppResult<Json<GstProfileResponse>> {
    let profile = crate::client::gst::check(&req)?;
    let c = service::set_gst_profile(&state, auth.client_id, profile, crate::audit::who(&auth)).await?;
    Ok(Json(GstProfileResponse { success: true, gst_profile: c.gst_profile }))
}
