//! Companies (manufacturers) and their brands (issue 16, seed 004): CRUD under
//! `/api/business/companies` and `/api/business/brands`. A brand belongs to a company; an item
//! may name a brand (`brandId`). Names are unique per shop ignoring case and spacing (a unique
//! index on `{clientId, nameKey}`, [`model::name_key`]), so of concurrent creates of one name
//! exactly one wins (409 `DUPLICATE` for the rest). A delete is refused (409 `CONFLICT`) while
//! referenced: a company by its brands, a brand by items. The reference check and the write
//! it guards share one transaction, and every write that adds a reference (an item naming a
//! brand, a brand naming a company) writes the referenced document's `usedAt` in its own
//! transaction, so a delete and a new reference conflict in MongoDB and cannot both commit.
//! Synced: every write appends its change-log row in its transaction, so the v2 pull carries
//! companies and brands (issue 16).

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod service;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// Routes of companies and brands (all behind the auth layer).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::create_company, handlers::list_companies))
        .routes(routes!(handlers::get_company, handlers::update_company, handlers::delete_company))
        .routes(routes!(handlers::create_brand, handlers::list_brands))
        .routes(routes!(handlers::get_brand, handlers::update_brand, handlers::delete_brand))
}
