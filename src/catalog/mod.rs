//! B1-B8: item groups and items (routes, handlers, service, repository), the shared
//! stock-move primitive, and the stock ledger, summary and counts (issue 16: [`ledger`],
//! [`count`]).
//!
//! An item write flows one way, whichever door it comes through (online B5/B7/B8, v1
//! `/api/sync`, v2 push): [`command`] (typed, ids and time as inputs) -> [`decide`] (the
//! rules, pure) -> [`repo`] (load, and apply the plan with its change-log row in the caller's
//! transaction; the only BSON). A v2 push folds the plans into its in-memory batch instead
//! (`sync::bulk`) and writes them together.

pub mod batch;
pub mod brand;
pub mod command;
pub mod count;
pub mod decide;
pub mod dto;
pub mod handlers;
pub mod ledger;
pub mod model;
pub mod product;
pub mod refs;
pub mod repo;
pub mod rules;
pub mod service;
pub mod stock;
pub mod tax;
pub mod unit;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// Routes of this module (all behind the auth layer).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::create_group))
        .routes(routes!(handlers::list_groups))
        .routes(routes!(handlers::update_group, handlers::delete_group))
        .routes(routes!(handlers::create_item))
        .routes(routes!(handlers::list_items))
        .routes(routes!(handlers::lookup_item))
        .routes(routes!(handlers::update_item, handlers::delete_item))
        .routes(routes!(ledger::item_ledger))
        .routes(routes!(ledger::stock_summary))
        .routes(routes!(count::create_count, count::get_counts))
        .merge(brand::routes())
        .merge(unit::routes())
        .merge(product::routes())
        .merge(batch::handlers::routes())
}
