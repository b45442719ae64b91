//! Handlers of products. The tenant is always the token's; a foreign id answers 404 like a
//! missing one.

use axum::{extract::State, http::StatusCode, Json};

use crate::{
    catalog::{
        dto::ItemWire,
        product::{
            dto::{
                CreateProductRequest, ListProductsQuery, ProductDeletedResponse, ProductQuery, ProductResponse,
                ProductWithVariantsResponse, ProductsResponse, UpdateProductRequest,
            },
            service,
        },
    },
    error::AppResult,
    extract::{ApiJson, ApiPath, ApiQuery, AuthClient},
    openapi::ErrorBody,
    state::AppState,
    validate,
};

/// Create a product (what its variants share).
#[utoipa::path(post, path = "/business/products", tag = "catalog", security(("bearer" = [])),
    request_body = CreateProductRequest,
    responses(
        (status = 201, description = "Created", body = ProductResponse),
        (status = 400, description = "Validation, unknown fields, a foreign brandId or groupId", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks items_manage", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn create_product(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<CreateProductRequest>,
) -> AppResult<(StatusCode, Json<ProductResponse>)> {
    let p = service::create(&state, auth.client_id, req).await?;
    Ok((StatusCode::CREATED, Json(ProductResponse { success: true, product: p.into() })))
}

/// The shop's products, by name.
#[utoipa::path(get, path = "/business/products", tag = "catalog", security(("bearer" = [])),
    params(ListProductsQuery),
    responses(
        (status = 200, description = "Products", body = ProductsResponse),
        (status = 400, description = "Malformed filter", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks catalog_view", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("catalog_view"))),
)]
pub async fn list_products(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<ListProductsQuery>,
) -> AppResult<Json<ProductsResponse>> {
    let list = service::list(&state, auth.client_id, &q).await?;
    Ok(Json(ProductsResponse { success: true, products: list.into_iter().map(Into::into).collect() }))
}

/// One product with its variants (active ones; `all=true` adds deactivated ones).
#[utoipa::path(get, path = "/business/products/{productId}", tag = "catalog", security(("bearer" = [])),
    params(("productId" = String, Path, description = "Product id"), ProductQuery),
    responses(
        (status = 200, description = "The product and its variants", body = ProductWithVariantsResponse),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks catalog_view", body = ErrorBody),
        (status = 404, description = "No such product of this shop", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("catalog_view"))),
)]
pub async fn get_product(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ProductQuery>,
) -> AppResult<Json<ProductWithVariantsResponse>> {
    let id = validate::oid("params.productId", &id)?;
    let (p, variants) = service::get(&state, auth.client_id, id, q.all.unwrap_or(false)).await?;
    let defaults = crate::catalog::service::tax_defaults(&state, auth.client_id, &variants).await?;
    let variants = variants.into_iter().map(|i| ItemWire::with_defaults(i, &defaults)).collect();
    Ok(Json(ProductWithVariantsResponse { success: true, product: p.into(), variants }))
}

/// Edit a product (its variants without their own brand, category or tax code follow it).
#[utoipa::path(put, path = "/business/products/{productId}", tag = "catalog", security(("bearer" = [])),
    params(("productId" = String, Path, description = "Product id")),
    request_body = UpdateProductRequest,
    responses(
        (status = 200, description = "Updated", body = ProductResponse),
        (status = 400, description = "Validation, unknown fields, a foreign brandId or groupId", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks items_manage", body = ErrorBody),
        (status = 404, description = "No such product of this shop", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn update_product(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateProductRequest>,
) -> AppResult<Json<ProductResponse>> {
    let id = validate::oid("params.productId", &id)?;
    let p = service::update(&state, crate::audit::who(&auth), auth.client_id, id, req).await?;
    Ok(Json(ProductResponse { success: true, product: p.into() }))
}

/// Delete a product; 409 while an item is its variant.
#[utoipa::path(delete, path = "/business/products/{productId}", tag = "catalog", security(("bearer" = [])),
    params(("productId" = String, Path, description = "Product id")),
    responses(
        (status = 200, description = "Deleted", body = ProductDeletedResponse),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks items_manage", body = ErrorBody),
        (status = 404, description = "No such product of this shop", body = ErrorBody),
        (status = 409, description = "Items are its variants (code CONFLICT)", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn delete_product(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<ProductDeletedResponse>> {
    let id = validate::oid("params.productId", &id)?;
    service::delete(&state, auth.client_id, id).await?;
    Ok(Json(ProductDeletedResponse { success: true, message: "Product deleted".into() }))
}
