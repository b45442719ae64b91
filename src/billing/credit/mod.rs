//! Cancelling invoices and credit notes (issue 18): an issued invoice is never changed or
//! deleted (seed 003); a mistaken bill is cancelled (it keeps its number, status
//! `Cancelled`), and goods taken back or an overcharge corrected is a credit note (CGST Act
//! s.34, rule 53(1A)) in its own consecutive series, referencing the invoice.
//!
//! The one write path: `command` -> `decide` (pure) -> a plan -> `repo` applies it in one
//! transaction with its change-log rows; online routes and the v2 push share the deciders.

pub mod command;
pub mod decide;
pub mod dto;
pub mod figures;
pub mod handlers;
pub mod lots;
pub mod model;
pub mod repo;
pub mod service;
#[cfg(test)]
mod tests;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// The routes of issue 18 (merged into billing's).
pub fn routes() -> OpenApiRouter<AppState> {
    // the cancel shares its path position with B21/B23's `{id}` (see `billing::routes`):
    // routed by hand, documented in `openapi::ApiDoc` with its real name `{invoiceId}`
    OpenApiRouter::new()
        .route("/business/invoices/{id}/cancel", axum::routing::post(handlers::cancel))
        .routes(routes!(handlers::create, handlers::list))
        .routes(routes!(handlers::one))
}
