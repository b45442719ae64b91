//! Billing: carts, invoices, payments, dues and reports (B14-B32, incomplete sale).

pub mod command;
pub mod credit;
pub mod decide;
pub mod dto;
pub mod handlers;
pub mod model;
pub mod numbering;
pub mod repo;
pub mod reports;
pub mod rules;
pub mod service;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::create_cart))
        .routes(routes!(handlers::add_item))
        .routes(routes!(handlers::remove_item))
        .routes(routes!(handlers::get_cart))
        .routes(routes!(handlers::clear_cart))
        .routes(routes!(handlers::generate))
        .routes(routes!(handlers::generate_with_products))
        .routes(routes!(handlers::incomplete_sale))
        .routes(routes!(handlers::quote))
        .routes(routes!(handlers::pay))
        // B21 and B23 share a path position whose value is a client id in one and an invoice
        // id in the other; the router needs one parameter name (`{id}`), so these two are
        // routed by hand and documented in `openapi::ApiDoc` with their real names.
        .route("/business/invoices/{id}", axum::routing::get(reports::list_invoices))
        .route("/business/invoices/{id}/payments", axum::routing::get(reports::invoice_payments))
        .routes(routes!(reports::purchase_history))
        .routes(routes!(reports::pending_invoices))
        .routes(routes!(reports::pending_invoices_of_customer))
        .routes(routes!(reports::paid_invoices_of_customer))
        .routes(routes!(reports::payment_report))
        .routes(routes!(reports::invoice_history_of_customer))
        .routes(routes!(reports::invoice_history))
        .routes(routes!(reports::payment_history_of_invoice))
        .routes(routes!(reports::payment_history))
        .merge(numbering::routes())
        .merge(credit::routes())
}
