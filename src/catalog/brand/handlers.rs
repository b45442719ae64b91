//! Handlers of companies and brands. The tenant is always the token's; a foreign id answers
//! 404 like a missing one.

use axum::{extract::State, http::StatusCode, Json};

use crate::{
    catalog::brand::{
        dto::{
            BrandResponse, BrandsResponse, CompaniesResponse, CompanyResponse, CreateBrandRequest,
            CreateCompanyRequest, DeletedResponse, ListBrandsQuery, UpdateBrandRequest, UpdateCompanyRequest,
        },
        service,
    },
    error::AppResult,
    extract::{ApiJson, ApiPath, ApiQuery, AuthClient},
    openapi::ErrorBody,
    state::AppState,
    validate,
};

/// Create a company (name unique per shop ignoring case).
#[utoipa::path(post, path = "/business/companies", tag = "brands", security(("bearer" = [])),
    request_body = CreateCompanyRequest,
    responses(
        (status = 201, description = "Created", body = CompanyResponse),
        (status = 400, description = "Validation, unknown fields", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks items_manage", body = ErrorBody),
        (status = 409, description = "A company with this name exists (code DUPLICATE)", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn create_company(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<CreateCompanyRequest>,
) -> AppResult<(StatusCode, Json<CompanyResponse>)> {
    let c = service::create_company(&state, auth.client_id, req).await?;
    Ok((StatusCode::CREATED, Json(CompanyResponse { success: true, company: c.into() })))
}

/// The shop's companies, by name.
#[utoipa::path(get, path = "/business/companies", tag = "brands", security(("bearer" = [])),
    responses(
        (status = 200, description = "Companies", body = CompaniesResponse),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks catalog_view", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("catalog_view"))),
)]
pub async fn list_companies(State(state): State<AppState>, auth: AuthClient) -> AppResult<Json<CompaniesResponse>> {
    let list = service::list_companies(&state, auth.client_id).await?;
    Ok(Json(CompaniesResponse { success: true, companies: list.into_iter().map(Into::into).collect() }))
}

/// One company of the shop.
#[utoipa::path(get, path = "/business/companies/{companyId}", tag = "brands", security(("bearer" = [])),
    params(("companyId" = String, Path, description = "Company id")),
    responses(
        (status = 200, description = "The company", body = CompanyResponse),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks catalog_view", body = ErrorBody),
        (status = 404, description = "No such company for this shop", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("catalog_view"))),
)]
pub async fn get_company(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<CompanyResponse>> {
    let id = validate::oid("params.companyId", &id)?;
    let c = service::get_company(&state, auth.client_id, id).await?;
    Ok(Json(CompanyResponse { success: true, company: c.into() }))
}

/// Edit a company.
#[utoipa::path(put, path = "/business/companies/{companyId}", tag = "brands", security(("bearer" = [])),
    params(("companyId" = String, Path, description = "Company id")),
    request_body = UpdateCompanyRequest,
    responses(
        (status = 200, description = "Updated", body = CompanyResponse),
        (status = 400, description = "Validation, unknown fields, malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks items_manage", body = ErrorBody),
        (status = 404, description = "No such company for this shop", body = ErrorBody),
        (status = 409, description = "A company with this name exists (code DUPLICATE)", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn update_company(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateCompanyRequest>,
) -> AppResult<Json<CompanyResponse>> {
    let id = validate::oid("params.companyId", &id)?;
    let c = service::update_company(&state, auth.client_id, id, req).await?;
    Ok(Json(CompanyResponse { success: true, company: c.into() }))
}

/// Delete a company (409 while a brand belongs to it).
#[utoipa::path(delete, path = "/business/companies/{companyId}", tag = "brands", security(("bearer" = [])),
    params(("companyId" = String, Path, description = "Company id")),
    responses(
        (status = 200, description = "Deleted", body = DeletedResponse),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks items_manage", body = ErrorBody),
        (status = 404, description = "No such company for this shop", body = ErrorBody),
        (status = 409, description = "Brands belong to it (code CONFLICT)", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn delete_company(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<DeletedResponse>> {
    let id = validate::oid("params.companyId", &id)?;
    service::delete_company(&state, auth.client_id, id).await?;
    Ok(Json(DeletedResponse { success: true, message: "Company deleted".into() }))
}

/// Create a brand of one of the shop's companies (name unique per shop ignoring case).
#[utoipa::path(post, path = "/business/brands", tag = "brands", security(("bearer" = [])),
    request_body = CreateBrandRequest,
    responses(
        (status = 201, description = "Created", body = BrandResponse),
        (status = 400, description = "Validation, unknown fields, companyId not the shop's", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks items_manage", body = ErrorBody),
        (status = 409, description = "A brand with this name exists (code DUPLICATE)", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn create_brand(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<CreateBrandRequest>,
) -> AppResult<(StatusCode, Json<BrandResponse>)> {
    let b = service::create_brand(&state, auth.client_id, req).await?;
    Ok((StatusCode::CREATED, Json(BrandResponse { success: true, brand: b.into() })))
}

/// The shop's brands by name, optionally of one company.
#[utoipa::path(get, path = "/business/brands", tag = "brands", security(("bearer" = [])),
    params(ListBrandsQuery),
    responses(
        (status = 200, description = "Brands", body = BrandsResponse),
        (status = 400, description = "Malformed companyId", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks catalog_view", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("catalog_view"))),
)]
pub async fn list_brands(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<ListBrandsQuery>,
) -> AppResult<Json<BrandsResponse>> {
    let list = service::list_brands(&state, auth.client_id, q.company_id.as_deref()).await?;
    Ok(Json(BrandsResponse { success: true, brands: list.into_iter().map(Into::into).collect() }))
}

/// One brand of the shop.
#[utoipa::path(get, path = "/business/brands/{brandId}", tag = "brands", security(("bearer" = [])),
    params(("brandId" = String, Path, description = "Brand id")),
    responses(
        (status = 200, description = "The brand", body = BrandResponse),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks catalog_view", body = ErrorBody),
        (status = 404, description = "No such brand for this shop", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("catalog_view"))),
)]
pub async fn get_brand(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<BrandResponse>> {
    let id = validate::oid("params.brandId", &id)?;
    let b = service::get_brand(&state, auth.client_id, id).await?;
    Ok(Json(BrandResponse { success: true, brand: b.into() }))
}

/// Edit a brand.
#[utoipa::path(put, path = "/business/brands/{brandId}", tag = "brands", security(("bearer" = [])),
    params(("brandId" = String, Path, description = "Brand id")),
    request_body = UpdateBrandRequest,
    responses(
        (status = 200, description = "Updated", body = BrandResponse),
        (status = 400, description = "Validation, unknown fields, malformed id, companyId not the shop's", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks items_manage", body = ErrorBody),
        (status = 404, description = "No such brand for this shop", body = ErrorBody),
        (status = 409, description = "A brand with this name exists (code DUPLICATE)", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn update_brand(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateBrandRequest>,
) -> AppResult<Json<BrandResponse>> {
    let id = validate::oid("params.brandId", &id)?;
    let b = service::update_brand(&state, auth.client_id, id, req).await?;
    Ok(Json(BrandResponse { success: true, brand: b.into() }))
}

/// Delete a brand (409 while an item names it).
#[utoipa::path(delete, path = "/business/brands/{brandId}", tag = "brands", security(("bearer" = [])),
    params(("brandId" = String, Path, description = "Brand id")),
    responses(
        (status = 200, description = "Deleted", body = DeletedResponse),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Lacks items_manage", body = ErrorBody),
        (status = 404, description = "No such brand for this shop", body = ErrorBody),
        (status = 409, description = "Items name it (code CONFLICT)", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("items_manage"))),
)]
pub async fn delete_brand(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<DeletedResponse>> {
    let id = validate::oid("params.brandId", &id)?;
    service::delete_brand(&state, auth.client_id, id).await?;
    Ok(Json(DeletedResponse { success: true, message: "Brand deleted".into() }))
}
