//! C1-C4: the shop's own profile and settings (mounted at `/client` and `/auth/client`).

pub mod dto;
pub mod gst;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod service;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::get_profile, handlers::update_profile))
        .routes(routes!(handlers::get_profile_alias, handlers::update_profile_alias))
        .routes(routes!(handlers::get_gst_profile, handlers::put_gst_profile))
}
