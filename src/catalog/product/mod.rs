//! Products (issue 16, seed 004): a product groups the variants of one article (a notebook in
//! three rulings and two sizes) and carries what they share: name, brand, main/sub category,
//! default tax code (HSN, rates), images and description. Every sellable variant stays an item
//! (its own SKU, barcode, attributes, MRP, price and stock; the v1 item routes and sale lines
//! are unchanged) that names its product with `variantOf`. A variant without its own brand,
//! category or tax code takes the product's.
//!
//! CRUD under `/api/business/products`; `GET /api/business/products/{id}` answers the product
//! with its variants. A delete is refused (409) while an item names the product; a write that
//! names a product writes its `usedAt` in the same transaction, so a delete and a new
//! reference conflict in MongoDB and cannot both commit (as brands). Products are synced: the
//! v2 pull carries them (`products`).

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod service;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// Routes of products (all behind the auth layer).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handlers::create_product, handlers::list_products)).routes(routes!(
        handlers::get_product,
        handlers::update_product,
        handlers::delete_product
    ))
}
