//! B9-B13: the shop's own customers (routes, handlers, service, repository).

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod rules;
pub mod service;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// Routes of this module (all behind the auth layer).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::create_customer))
        .routes(routes!(handlers::list_customers))
        .routes(routes!(handlers::get_customer, handlers::update_customer, handlers::delete_customer))
}
