//! `/api/staff` (issue 15): the shop's staff, their roles, sessions and sign-in. Users live in
//! [`crate::users`]; sessions and tokens in [`crate::auth`]; permissions in [`crate::access`].

pub mod dto;
pub mod handlers;
pub mod service;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// Staff sign-in routes (no token): accept an invitation, ask to join, log in.
pub fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::accept))
        .routes(routes!(handlers::join))
        .routes(routes!(handlers::login))
}

/// Staff management routes (token; each declares its permission).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::invite, handlers::list))
        .routes(routes!(handlers::sessions))
        .routes(routes!(handlers::end_session))
        .routes(routes!(handlers::set_pin))
        .routes(routes!(handlers::approve_action))
        .routes(routes!(handlers::get, handlers::update))
        .routes(routes!(handlers::deactivate))
        .routes(routes!(handlers::reactivate))
        .routes(routes!(handlers::approve))
}
