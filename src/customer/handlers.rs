//! B9-B13 handlers. A `clientId` in the path or body is bound to the token before these run
//! (403 on mismatch); the tenant used below is always the token's.

use axum::{extract::State, http::StatusCode, Json};

use crate::{
    customer::{
        dto::{
            CreateCustomerRequest, CreateCustomerResponse, CustomerDeletedResponse, CustomerResponse,
            CustomersResponse, ListCustomersQuery, MaybeCustomerResponse, UpdateCustomerRequest,
        },
        service,
    },
    error::AppResult,
    extract::{ApiJson, ApiPath, ApiQuery, AuthClient},
    openapi::ErrorBody,
    state::AppState,
    validate,
};

/// B9: get-or-create a customer by phone (201 for both; `isNew` tells which).
#[utoipa::path(post, path = "/business/client-customers", tag = "customers", security(("bearer" = [])),
    request_body = CreateCustomerRequest,
    responses(
        (status = 201, description = "The customer (new or existing)", body = CreateCustomerResponse),
        (status = 400, description = "Validation, unknown fields, an enabled field missing on create", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Body clientId is another client's", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn create_customer(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<CreateCustomerRequest>,
) -> AppResult<(StatusCode, Json<CreateCustomerResponse>)> {
    let (c, is_new) = service::create(&state, auth.client_id, req).await?;
    Ok((StatusCode::CREATED, Json(CreateCustomerResponse { success: true, client_customer: c.into(), is_new })))
}

/// B10: the shop's customers, newest first, with search and optional paging.
#[utoipa::path(get, path = "/business/client-customers/{clientId}", tag = "customers", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client"), ListCustomersQuery),
    responses(
        (status = 200, description = "Customers (`nextCursor` only when `limit` was sent)", body = CustomersResponse),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("customers_view"))),
)]
pub async fn list_customers(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(client_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListCustomersQuery>,
) -> AppResult<Json<CustomersResponse>> {
    validate::oid("params.clientId", &client_id)?;
    let (list, next_cursor) = service::list(&state, auth.client_id, q).await?;
    Ok(Json(CustomersResponse {
        success: true,
        client_customers: list.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// B11: a customer by phone (v1 route `/:clientId/:phone`; `null` when unknown) or by id
/// (404 when not this shop's). The segment is shared with B12/B13, hence its name.
#[utoipa::path(get, path = "/business/client-customers/{clientId}/{clientCustomerId}", tag = "customers",
    security(("bearer" = [])),
    params(
        ("clientId" = String, Path, description = "Must be the token's client"),
        ("clientCustomerId" = String, Path, description = "The customer's phone number (v1) or id"),
    ),
    responses(
        (status = 200, description = "The customer, or null for an unknown phone", body = MaybeCustomerResponse),
        (status = 400, description = "Neither a phone number nor an id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Another client's id", body = ErrorBody),
        (status = 404, description = "No customer with this id for this client", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("customers_view"))),
)]
pub async fn get_customer(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client_id, key)): ApiPath<(String, String)>,
) -> AppResult<Json<MaybeCustomerResponse>> {
    let c = service::get(&state, auth.client_id, &key).await?;
    Ok(Json(MaybeCustomerResponse { success: true, client_customer: c.map(Into::into) }))
}

/// B12: update name and enabled optional fields (the phone cannot change).
#[utoipa::path(put, path = "/business/client-customers/{clientId}/{clientCustomerId}", tag = "customers",
    security(("bearer" = [])),
    params(
        ("clientId" = String, Path, description = "Must be the token's client"),
        ("clientCustomerId" = String, Path, description = "Customer id"),
    ),
    request_body = UpdateCustomerRequest,
    responses(
        (status = 200, description = "Updated", body = CustomerResponse),
        (status = 400, description = "Validation, unknown fields, malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Another client's id", body = ErrorBody),
        (status = 404, description = "No such customer for this client", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn update_customer(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client_id, customer_id)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<UpdateCustomerRequest>,
) -> AppResult<Json<CustomerResponse>> {
    let id = validate::oid("params.clientCustomerId", &customer_id)?;
    let c = service::update(&state, auth.client_id, id, req).await?;
    Ok(Json(CustomerResponse { success: true, client_customer: c.into() }))
}

/// B13: delete a customer (refused while they owe money). A customer with documents
/// (invoices) is deactivated instead (`status: inactive`, answered `deactivated: true` with the
/// v1 text); one without is deleted for real.
#[utoipa::path(delete, path = "/business/client-customers/{clientId}/{clientCustomerId}", tag = "customers",
    security(("bearer" = [])),
    params(
        ("clientId" = String, Path, description = "Must be the token's client"),
        ("clientCustomerId" = String, Path, description = "Customer id"),
    ),
    responses(
        (status = 200, description = "Deleted, or deactivated when the customer has documents (`deactivated`)", body = CustomerDeletedResponse),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Another client's id", body = ErrorBody),
        (status = 404, description = "No such customer for this client", body = ErrorBody),
        (status = 409, description = "The customer has an outstanding balance", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("customers_manage"))),
)]
pub async fn delete_customer(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client_id, customer_id)): ApiPath<(String, String)>,
) -> AppResult<Json<CustomerDeletedResponse>> {
    let id = validate::oid("params.clientCustomerId", &customer_id)?;
    let deactivated = service::delete(&state, auth.client_id, id).await?;
    Ok(Json(CustomerDeletedResponse { success: true, message: "Customer deleted".into(), deactivated }))
}
