//! D1-D23 handlers: extract, parse ids, call the service. A `clientId` in the path or the
//! query is bound to the token by the auth layer (403), a body `clientId` by `ApiJson`.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::Value;

use crate::{
    access::Permission,
    dealer::{dto::*, service},
    error::{AppError, AppResult},
    extract::{from_value, ApiJson, ApiPath, ApiQuery, AuthClient},
    idem,
    openapi::ErrorBody,
    state::AppState,
};

/// D1: create a dealer (supplier)
#[utoipa::path(post, path = "/dealer", tag = "dealers", security(("bearer" = [])),
    request_body = DealerRequest,
    responses(
        (status = 201, description = "Created", body = DealerResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 409, description = "An active dealer with this name exists", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("dealers_manage"))),
)]
pub async fn create_dealer(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<DealerRequest>,
) -> AppResult<(StatusCode, Json<DealerResponse>)> {
    let d = service::create_dealer(&state, auth.client_id, req).await?;
    Ok((StatusCode::CREATED, Json(DealerResponse { success: true, dealer: d.into() })))
}

/// D2: active dealers, newest first
#[utoipa::path(get, path = "/dealer/{clientId}", tag = "dealers", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client")),
    responses(
        (status = 200, description = "Dealers", body = DealersResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("dealers_view"))),
)]
pub async fn list_dealers(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(_client): ApiPath<String>,
) -> AppResult<Json<DealersResponse>> {
    let ds = service::list_dealers(&state, auth.client_id).await?;
    Ok(Json(DealersResponse { success: true, dealers: ds.into_iter().map(Into::into).collect() }))
}

/// D3: update a dealer (active or deleted)
#[utoipa::path(put, path = "/dealer/{clientId}/{dealerId}", tag = "dealers", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client"), ("dealerId" = String, Path, description = "Dealer id (24 hex)")),
    request_body = DealerRequest,
    responses(
        (status = 200, description = "Updated", body = DealerResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
        (status = 409, description = "An active dealer with this name exists", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("dealers_manage"))),
)]
pub async fn update_dealer(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client, dealer)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<DealerRequest>,
) -> AppResult<Json<DealerResponse>> {
    let dealer = service::path_id("dealerId", &dealer)?;
    let d = service::update_dealer(&state, auth.client_id, dealer, req).await?;
    Ok(Json(DealerResponse { success: true, dealer: d.into() }))
}

/// D4: soft-delete a dealer (history kept)
#[utoipa::path(delete, path = "/dealer/{clientId}/{dealerId}", tag = "dealers", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client"), ("dealerId" = String, Path, description = "Dealer id (24 hex)")),
    responses(
        (status = 200, description = "Deleted", body = MessageResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("dealers_manage"))),
)]
pub async fn delete_dealer(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client, dealer)): ApiPath<(String, String)>,
) -> AppResult<Json<MessageResponse>> {
    let dealer = service::path_id("dealerId", &dealer)?;
    service::delete_dealer(&state, auth.client_id, dealer).await?;
    Ok(Json(MessageResponse { success: true, message: "Dealer deleted".into() }))
}

/// D5: active items supplied by the dealer
#[utoipa::path(get, path = "/dealer/{clientId}/{dealerId}/items", tag = "dealers", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client"), ("dealerId" = String, Path, description = "Dealer id (24 hex)")),
    responses(
        (status = 200, description = "Items", body = ItemsResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("dealers_view"))),
)]
pub async fn dealer_items(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client, dealer)): ApiPath<(String, String)>,
) -> AppResult<Json<ItemsResponse>> {
    let dealer = service::path_id("dealerId", &dealer)?;
    let items = service::dealer_items(&state, auth.client_id, dealer).await?;
    Ok(Json(ItemsResponse { success: true, items }))
}

/// D6: the dealer's items at or below their threshold
#[utoipa::path(get, path = "/dealer/{clientId}/{dealerId}/items/low-stock", tag = "dealers", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client"), ("dealerId" = String, Path, description = "Dealer id (24 hex)")),
    responses(
        (status = 200, description = "Low-stock items", body = LowStockResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("dealers_view"))),
)]
pub async fn low_stock(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client, dealer)): ApiPath<(String, String)>,
) -> AppResult<Json<LowStockResponse>> {
    let dealer = service::path_id("dealerId", &dealer)?;
    let items = service::low_stock(&state, auth.client_id, dealer).await?;
    Ok(Json(LowStockResponse { success: true, items }))
}

/// D7: what to order (pending orders subtracted; rule in docs/API.md)
#[utoipa::path(get, path = "/dealer/{clientId}/{dealerId}/orders/recommendations", tag = "dealers", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client"), ("dealerId" = String, Path, description = "Dealer id (24 hex)")),
    responses(
        (status = 200, description = "Recommendations", body = RecommendationsResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("dealers_view"))),
)]
pub async fn recommendations(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client, dealer)): ApiPath<(String, String)>,
) -> AppResult<Json<RecommendationsResponse>> {
    let dealer = service::path_id("dealerId", &dealer)?;
    let recommendations = service::recommendations(&state, auth.client_id, dealer).await?;
    Ok(Json(RecommendationsResponse { success: true, recommendations }))
}

/// D8: place an order (number PO/<fy>/<seq>)
#[utoipa::path(post, path = "/dealer/orders", tag = "dealers", security(("bearer" = [])),
    request_body = CreateOrderRequest,
    responses(
        (status = 201, description = "Created (lines not included)", body = OrderResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("dealer_orders"))),
)]
pub async fn create_order(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<CreateOrderRequest>,
) -> AppResult<(StatusCode, Json<OrderResponse>)> {
    let o = service::create_order(&state, auth.client_id, auth.by(), req).await?;
    Ok((
        StatusCode::CREATED,
        Json(OrderResponse { success: true, order: OrderWire::shown(o, auth.can(Permission::CostView)) }),
    ))
}

/// D9: the dealer's orders, newest first
#[utoipa::path(get, path = "/dealer/{clientId}/{dealerId}/orders", tag = "dealers", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client"), ("dealerId" = String, Path, description = "Dealer id (24 hex)")),
    responses(
        (status = 200, description = "Orders", body = OrdersResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("dealers_view"))),
)]
pub async fn dealer_orders(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client, dealer)): ApiPath<(String, String)>,
) -> AppResult<Json<OrdersResponse>> {
    let dealer = service::path_id("dealerId", &dealer)?;
    let os = service::dealer_orders(&state, auth.client_id, dealer).await?;
    Ok(Json(OrdersResponse {
        success: true,
        orders: os.into_iter().map(|o| OrderWire::shown(o, auth.can(Permission::CostView))).collect(),
    }))
}

/// D10: an order with its lines
#[utoipa::path(get, path = "/dealer/orders/{orderId}", tag = "dealers", security(("bearer" = [])),
    params(("orderId" = String, Path, description = "Order id (24 hex)"), ClientQuery),
    responses(
        (status = 200, description = "Order and lines", body = OrderWithLinesResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("dealers_view"))),
)]
pub async fn get_order(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(order): ApiPath<String>,
    ApiQuery(_q): ApiQuery<ClientQuery>,
) -> AppResult<Json<OrderWithLinesResponse>> {
    let order = service::path_id("orderId", &order)?;
    let (o, lines) = service::order_with_lines(&state, auth.client_id, order).await?;
    Ok(Json(OrderWithLinesResponse {
        success: true,
        order: OrderWire::shown(o, auth.can(Permission::CostView)),
        items: lines.into_iter().map(Into::into).collect(),
    }))
}

/// D11: cancel a pending, unpaid order
#[utoipa::path(post, path = "/dealer/orders/{orderId}/cancel", tag = "dealers", security(("bearer" = [])),
    params(("orderId" = String, Path, description = "Order id (24 hex)")),
    request_body = ClientBody,
    responses(
        (status = 200, description = "Cancelled", body = OrderResponse),
        (status = 400, description = "Validation, or the order is not pending / has payments", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("dealer_orders"))),
)]
pub async fn cancel_order(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(order): ApiPath<String>,
    ApiJson(req): ApiJson<ClientBody>,
) -> AppResult<Json<OrderResponse>> {
    let order = service::path_id("orderId", &order)?;
    let o = service::cancel_order(&state, auth.client_id, order, req).await?;
    Ok(Json(OrderResponse { success: true, order: OrderWire::shown(o, auth.can(Permission::CostView)) }))
}

/// D12: receive the order into stock (exactly once)
#[utoipa::path(post, path = "/dealer/orders/{orderId}/mark-delivered", tag = "dealers", security(("bearer" = [])),
    params(("orderId" = String, Path, description = "Order id (24 hex)")),
    request_body = MarkDeliveredRequest,
    responses(
        (status = 200, description = "Delivered", body = OrderResponse),
        (status = 400, description = "Validation, or the order is not pending / has no lines", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
        (status = 409, description = "OVER_RECEIPT: a receivedQuantity above the ordered quantity plus the shop's overReceiptAllowancePercent", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("dealer_orders"))),
)]
pub async fn mark_delivered(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(order): ApiPath<String>,
    ApiJson(req): ApiJson<MarkDeliveredRequest>,
) -> AppResult<Json<OrderResponse>> {
    let order = service::path_id("orderId", &order)?;
    let o = service::mark_delivered(&state, auth.client_id, order, auth.by(), req).await?;
    Ok(Json(OrderResponse { success: true, order: OrderWire::shown(o, auth.can(Permission::CostView)) }))
}

/// D13: set the dealer's bill total and/or due date
#[utoipa::path(put, path = "/dealer/orders/{orderId}/total", tag = "dealers", security(("bearer" = [])),
    params(("orderId" = String, Path, description = "Order id (24 hex)")),
    request_body = SetTotalRequest,
    responses(
        (status = 200, description = "Updated", body = OrderResponse),
        (status = 400, description = "Validation, cancelled order, or total below the amount paid", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("dealer_orders"))),
)]
pub async fn set_total(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(order): ApiPath<String>,
    ApiJson(req): ApiJson<SetTotalRequest>,
) -> AppResult<Json<OrderResponse>> {
    let order = service::path_id("orderId", &order)?;
    let o = service::set_total(&state, auth.client_id, order, req).await?;
    Ok(Json(OrderResponse { success: true, order: OrderWire::shown(o, auth.can(Permission::CostView)) }))
}

/// D14: payments of an order
#[utoipa::path(get, path = "/dealer/orders/{orderId}/payments", tag = "dealers", security(("bearer" = [])),
    params(("orderId" = String, Path, description = "Order id (24 hex)"), ClientQuery),
    responses(
        (status = 200, description = "Order payments", body = OrderPaymentsResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("cost_view"))),
)]
pub async fn order_payments(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(order): ApiPath<String>,
    ApiQuery(_q): ApiQuery<ClientQuery>,
) -> AppResult<Json<OrderPaymentsResponse>> {
    let order = service::path_id("orderId", &order)?;
    Ok(Json(service::order_payments(&state, auth.client_id, order).await?))
}

/// D15: record a payment to a dealer (optionally against an order). With
/// `X-Idempotency-Key` exactly once per (client, key): a retry gets the stored first answer
/// (`Idempotent-Replayed: true`), another body 422, a twin in flight 409. The payment runs
/// detached from the request: a request timeout answers 504 `OUTCOME_UNKNOWN` and the
/// payment still completes (retry with the same key to get its answer).
#[utoipa::path(post, path = "/dealer/payments", tag = "dealers", security(("bearer" = [])),
    request_body = CreatePaymentRequest,
    params(("X-Idempotency-Key" = Option<String>, Header, description = "Per-client key of this payment (1-255 visible ASCII, e.g. a UUID; kept 30 days): a retry gets the stored first answer with `Idempotent-Replayed: true`")),
    responses(
        (status = 201, description = "Created", body = PaymentResponse),
        (status = 400, description = "Validation, or beyond what the order still owes", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
        (status = 409, description = "The same X-Idempotency-Key still in flight", body = ErrorBody),
        (status = 422, description = "X-Idempotency-Key already used with another body", body = ErrorBody),
        (status = 504, description = "OUTCOME_UNKNOWN: timed out while the payment may still complete; retry with the same X-Idempotency-Key", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("dealers_manage"))),
)]
pub async fn create_payment(
    State(state): State<AppState>,
    auth: AuthClient,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Response> {
    let key = idem::key_from(&headers)?;
    let req: CreatePaymentRequest = from_value(body.clone())?;
    let hash = key.as_ref().map(|_| idem::hash("POST /api/dealer/payments", &body));
    let client = auth.client_id;
    let by = auth.by();
    let st = state.clone();
    crate::http::detached(&state, async move {
        let state = st;
        let (Some(key), Some(hash)) = (key, hash) else {
            let p = service::create_payment(&state, client, by, req).await?;
            return Ok(
                (StatusCode::CREATED, Json(PaymentResponse { success: true, payment: p.into() })).into_response()
            );
        };
        // as for sales: the lease need not outlive the request bound by much
        let lease = (state.config.request_timeout.as_secs() as i64 + 5).min(idem::LEASE_SECS);
        let answer = idem::once(&state, client, &key, &hash, lease, 201, || async {
            let (_, out) =
                service::create_payment_keyed(&state, client, by.clone(), req.clone(), Some((&key, &hash))).await?;
            out.ok_or_else(|| AppError::internal("keyed dealer payment without a response"))
        })
        .await?;
        Ok(answer.into_response())
    })
    .await
}

/// D16: the dealer's payments, newest first
#[utoipa::path(get, path = "/dealer/{clientId}/{dealerId}/payments", tag = "dealers", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client"), ("dealerId" = String, Path, description = "Dealer id (24 hex)")),
    responses(
        (status = 200, description = "Payments", body = PaymentsResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("cost_view"))),
)]
pub async fn dealer_payments(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client, dealer)): ApiPath<(String, String)>,
) -> AppResult<Json<PaymentsResponse>> {
    let dealer = service::path_id("dealerId", &dealer)?;
    let ps = service::dealer_payments(&state, auth.client_id, dealer).await?;
    Ok(Json(PaymentsResponse { success: true, payments: ps.into_iter().map(Into::into).collect() }))
}

/// D17: all dealer payments, filtered and paged
#[utoipa::path(get, path = "/dealer/{clientId}/payments/all", tag = "dealers", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client"), PaymentsAllQuery),
    responses(
        (status = 200, description = "Payments page", body = PaymentsAllResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("cost_view"))),
)]
pub async fn all_payments(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(_client): ApiPath<String>,
    ApiQuery(q): ApiQuery<PaymentsAllQuery>,
) -> AppResult<Json<PaymentsAllResponse>> {
    Ok(Json(service::all_payments(&state, auth.client_id, q).await?))
}

/// D18: one payment
#[utoipa::path(get, path = "/dealer/payments/{paymentId}", tag = "dealers", security(("bearer" = [])),
    params(("paymentId" = String, Path, description = "Payment id (24 hex)"), ClientQuery),
    responses(
        (status = 200, description = "Payment", body = PaymentByIdResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("cost_view"))),
)]
pub async fn get_payment(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(payment): ApiPath<String>,
    ApiQuery(_q): ApiQuery<ClientQuery>,
) -> AppResult<Json<PaymentByIdResponse>> {
    let id = service::path_id("paymentId", &payment)?;
    let p = service::payment(&state, auth.client_id, id).await?;
    Ok(Json(PaymentByIdResponse { success: true, payment_id: id.to_hex(), payment: p.into() }))
}

/// D19: orders by payment status, paged
#[utoipa::path(get, path = "/dealer/{clientId}/order-payments", tag = "dealers", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client"), OrderPaymentsQuery),
    responses(
        (status = 200, description = "Orders page", body = OrderPaymentsListResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("cost_view"))),
)]
pub async fn order_payment_status(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(_client): ApiPath<String>,
    ApiQuery(q): ApiQuery<OrderPaymentsQuery>,
) -> AppResult<Json<OrderPaymentsListResponse>> {
    Ok(Json(service::order_payment_status(&state, auth.client_id, q).await?))
}

/// D20: an order with dealer, lines and payments
#[utoipa::path(get, path = "/dealer/orders/{orderId}/payment-details", tag = "dealers", security(("bearer" = [])),
    params(("orderId" = String, Path, description = "Order id (24 hex)"), ClientQuery),
    responses(
        (status = 200, description = "Payment details", body = PaymentDetailsResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("cost_view"))),
)]
pub async fn payment_details(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(order): ApiPath<String>,
    ApiQuery(_q): ApiQuery<ClientQuery>,
) -> AppResult<Json<PaymentDetailsResponse>> {
    let order = service::path_id("orderId", &order)?;
    Ok(Json(service::payment_details(&state, auth.client_id, order).await?))
}

/// D21: what is owed to a dealer
#[utoipa::path(get, path = "/dealer/{clientId}/{dealerId}/summary", tag = "dealers", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client"), ("dealerId" = String, Path, description = "Dealer id (24 hex)")),
    responses(
        (status = 200, description = "Summary", body = DealerSummaryResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("cost_view"))),
)]
pub async fn dealer_summary(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client, dealer)): ApiPath<(String, String)>,
) -> AppResult<Json<DealerSummaryResponse>> {
    let dealer = service::path_id("dealerId", &dealer)?;
    Ok(Json(service::dealer_summary(&state, auth.client_id, dealer).await?))
}

/// D22: orders and payments of every dealer, paged
#[utoipa::path(get, path = "/dealer/{clientId}/transactions", tag = "dealers", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client"), PageQuery),
    responses(
        (status = 200, description = "Timeline page", body = TransactionsResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("cost_view"))),
)]
pub async fn all_transactions(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(_client): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<TransactionsResponse>> {
    Ok(Json(service::all_transactions(&state, auth.client_id, q).await?))
}

/// D23: one dealer's orders and payments, paged
#[utoipa::path(get, path = "/dealer/{clientId}/{dealerId}/transactions", tag = "dealers", security(("bearer" = [])),
    params(("clientId" = String, Path, description = "Must be the token's client"), ("dealerId" = String, Path, description = "Dealer id (24 hex)"), PageQuery),
    responses(
        (status = 200, description = "Timeline page", body = DealerTransactionsResponse),
        (status = 400, description = "Validation error or malformed id", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId is not the token's client", body = ErrorBody),
        (status = 404, description = "Missing or another client's id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("cost_view"))),
)]
pub async fn dealer_transactions(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath((_client, dealer)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<DealerTransactionsResponse>> {
    let dealer = service::path_id("dealerId", &dealer)?;
    Ok(Json(service::dealer_transactions(&state, auth.client_id, dealer, q).await?))
}
