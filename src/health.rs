//! Z1: liveness plus a database round trip.

use std::time::Duration;

use axum::{extract::State, http::StatusCode, response::IntoResponse, Json};
use bson::doc;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{code, envelope},
    openapi::ErrorBody,
    state::AppState,
};

#[derive(Serialize, ToSchema)]
pub struct HealthResponse {
    pub success: bool,
    pub message: String,
    pub timestamp: String,
    pub database: String,
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

/// 200 when the database answers a ping within 2 s, 503 otherwise.
#[utoipa::path(get, path = "/health", tag = "health",
    responses(
        (status = 200, description = "Up", body = HealthResponse),
        (status = 503, description = "Database unreachable", body = ErrorBody),
    ))]
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let ping = tokio::time::timeout(Duration::from_secs(2), state.db.run_command(doc! { "ping": 1 })).await;
    match ping {
        Ok(Ok(_)) => Json(HealthResponse {
            success: true,
            message: "OK".into(),
            timestamp: crate::wire::iso(bson::DateTime::now()),
            database: "up".into(),
        })
        .into_response(),
        _ => envelope(StatusCode::SERVICE_UNAVAILABLE, code::SERVICE_UNAVAILABLE, "Database unreachable"),
    }
}
