//! Dashboard (H1-H4, v1 shapes) and business reports, computed by MongoDB aggregation
//! pipelines in India time. Definitions of every figure: docs/API.md, "Dashboard and reports".

pub mod closing;
pub mod dto;
pub mod gst;
pub mod handlers;
pub mod repo;
pub mod rows;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// Routes of this module (all behind the auth layer).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::summary))
        .routes(routes!(handlers::sales_trends))
        .routes(routes!(handlers::top_items_handler))
        .routes(routes!(handlers::dashboard))
        .routes(routes!(handlers::periods))
        .routes(routes!(handlers::sales_vs_collections))
        .routes(routes!(handlers::dues))
        .routes(routes!(handlers::top_customers))
        .routes(routes!(handlers::stock))
        .routes(routes!(handlers::dealer_payables))
        .routes(routes!(handlers::invoice_report))
        .routes(routes!(handlers::payment_report))
        .routes(routes!(handlers::day_book))
        .routes(routes!(closing::day_closing))
        .routes(routes!(gst::gst_summary))
}
