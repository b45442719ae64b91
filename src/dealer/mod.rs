//! Dealers (suppliers) and procurement: D1-D23 of the contract. Purchase orders with
//! consecutive per-financial-year numbers, delivery into stock exactly once, dealer bills and
//! payments that can never exceed a bill, summaries and paged timelines that agree.

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod service;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// Routes of this module (all behind the auth layer).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::create_dealer))
        .routes(routes!(handlers::list_dealers))
        .routes(routes!(handlers::update_dealer, handlers::delete_dealer))
        .routes(routes!(handlers::dealer_items))
        .routes(routes!(handlers::low_stock))
        .routes(routes!(handlers::recommendations))
        .routes(routes!(handlers::create_order))
        .routes(routes!(handlers::dealer_orders))
        .routes(routes!(handlers::get_order))
        .routes(routes!(handlers::cancel_order))
        .routes(routes!(handlers::mark_delivered))
        .routes(routes!(handlers::set_total))
        .routes(routes!(handlers::order_payments))
        .routes(routes!(handlers::create_payment))
        .routes(routes!(handlers::dealer_payments))
        .routes(routes!(handlers::all_payments))
        .routes(routes!(handlers::get_payment))
        .routes(routes!(handlers::order_payment_status))
        .routes(routes!(handlers::payment_details))
        .routes(routes!(handlers::dealer_summary))
        .routes(routes!(handlers::all_transactions))
        .routes(routes!(handlers::dealer_transactions))
}
