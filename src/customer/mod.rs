//! B9-B13: the shop's own customers (routes, handlers, service, repository).
//!
//! A customer write flows one way, online (B9/B12/B13) or through a v2 push: [`command`]
//! (typed, ids and time as inputs) -> [`decide`] (the rules, pure, given the shop's
//! `customerFields`) -> [`repo`] (load, and apply the plan with its change-log row in the
//! caller's transaction; the only BSON). A v2 push folds the plans into its in-memory batch
//! (`sync::bulk`) and writes them together.

pub mod command;
pub mod decide;
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
