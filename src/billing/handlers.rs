//! B14-B23 and the incomplete sale: carts, invoice generation, payments.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::Value;

use crate::{
    billing::{
        command::{CustomerRef, LineSource, RecordPayment, Sale, SellerRights},
        dto::*,
        model::{InvoiceDoc, PaymentDoc},
        rules::{self, method, non_negative, quantity},
        service::{self, Keyed},
    },
    error::{AppError, AppResult},
    extract::{from_value, ApiJson, ApiPath, AuthClient},
    idem,
    money::Paise,
    openapi::ErrorBody,
    state::AppState,
    validate::Errors,
};

/// The in-flight lease of a keyed sale or payment: the request cannot outlive the request
/// timeout, so a crashed or timed-out holder blocks its retries (409) only about that long.
fn lease_secs(state: &AppState) -> i64 {
    (state.config.request_timeout.as_secs() as i64 + 5).min(idem::LEASE_SECS)
}

fn to_json<T: serde::Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(|e| AppError::internal(format!("response serialization: {e}")))
}

fn render_invoice(inv: &InvoiceDoc) -> AppResult<String> {
    to_json(&InvoiceResponse::of(inv))
}

fn render_payment(payments: &[PaymentDoc], inv: &InvoiceDoc) -> AppResult<String> {
    to_json(&PayResponse::of(payments, inv)?)
}

/// Issue a sale; with `X-Idempotency-Key` exactly once per (client, key) (`idem`):
/// a retry gets the stored first answer (`Idempotent-Replayed: true`), another body 422, a
/// twin in flight 409. The work runs detached from the request (`http::detached`): a
/// request timeout cannot cut it, and answers 504 `OUTCOME_UNKNOWN` meanwhile.
/// An approval token sent with a sale, and who sends it.
pub(crate) struct Approval {
    token: Option<String>,
    requested_by: bson::oid::ObjectId,
}

impl Approval {
    fn of(auth: &AuthClient, token: Option<String>) -> Approval {
        Approval {
            token: token.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()),
            requested_by: auth.user.user_id,
        }
    }

    /// Consume the token for exactly this sale (`approval::Subject::Sale`) and record its
    /// approver on the sale; nothing without a token. 403 `APPROVAL_INVALID` when it is not an
    /// unused, unexpired approval of this very sale by this user. Called only when the sale is
    /// about to be decided (never for a keyed replay), so a retry does not spend it again; a
    /// sale refused after it (stock, total) has used it up.
    async fn apply(&self, state: &AppState, mut sale: Sale) -> AppResult<Sale> {
        let Some(token) = &self.token else { return Ok(sale) };
        let (cart_id, lines) = match &sale.lines {
            LineSource::Cart(c) => (Some(*c), vec![]),
            LineSource::Products(p) => {
                (None, p.iter().map(|(i, id, q, price)| (*id, *q, *price, sale.units.get(i).copied())).collect())
            }
        };
        let subject = crate::approval::Subject::Sale { cart_id, lines, discount: sale.discount };
        let (approver, _) =
            crate::approval::consume(&state.db, sale.client_id, self.requested_by, token, &subject).await?;
        sale.rights.approved_by = Some(approver);
        Ok(sale)
    }
}

async fn issue_answer(
    state: &AppState,
    sale: Sale,
    approval: Approval,
    key: Option<String>,
    route: &str,
    body: &Value,
) -> AppResult<Response> {
    let hash = key.as_ref().map(|_| idem::hash(route, body));
    let st = state.clone();
    crate::http::detached(state, async move {
        let state = &st;
        let (Some(key), Some(hash)) = (key, hash) else {
            let sale = approval.apply(state, sale).await?;
            let inv = service::issue(state, sale).await?;
            return Ok((StatusCode::CREATED, Json(InvoiceResponse::of(&inv))).into_response());
        };
        let hook = Keyed { key: &key, hash: &hash, status: 201, render: &render_invoice as &service::RenderInvoice };
        let client_id = sale.client_id;
        let answer = idem::once(state, client_id, &key, &hash, lease_secs(state), 201, || async {
            let sale = approval.apply(state, sale.clone()).await?;
            let (_, out) = service::issue_keyed(state, sale, Some(&hook)).await?;
            out.ok_or_else(|| AppError::internal("keyed sale without a response"))
        })
        .await?;
        Ok(answer.into_response())
    })
    .await
}

fn customer(
    e: &mut Errors,
    id: &Option<String>,
    phone: &Option<String>,
    name: &Option<String>,
) -> (CustomerRef, Option<String>, Option<String>) {
    let name = rules::sale_customer_name(e, "clientCustomerName", name);
    let phone = phone.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(|p| e.phone("clientCustomerPhone", p));
    let id = id.as_deref().map(str::trim).filter(|i| !i.is_empty()).and_then(|i| e.oid("clientCustomerId", i));
    let r = match (id, &phone) {
        (Some(id), _) => CustomerRef::Id(id),
        (None, Some(p)) => CustomerRef::Phone { phone: p.clone(), name: name.clone() },
        (None, None) => CustomerRef::None,
    };
    (r, name, phone)
}

/// B14: open a cart, optionally for a customer phone (get-or-create the customer).
#[utoipa::path(post, path = "/business/carts", tag = "billing", security(("bearer" = [])), request_body = CreateCartRequest,
    responses((status = 201, body = CartResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn create_cart(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<CreateCartRequest>,
) -> AppResult<(StatusCode, Json<CartResponse>)> {
    let mut e = Errors::new();
    if let Some(id) = req.client_customer_id.as_deref().filter(|i| !i.trim().is_empty()) {
        e.oid("clientCustomerId", id);
    }
    let phone = req
        .client_customer_phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| e.phone("clientCustomerPhone", p));
    let name = rules::sale_customer_name(&mut e, "clientCustomerName", &req.client_customer_name);
    e.finish()?;
    let cart = service::create_cart(&state, auth.client_id, phone, name).await?;
    Ok((StatusCode::CREATED, Json(CartResponse { success: true, cart: CartWire::from_doc(&cart)? })))
}

/// B15: add a line. Name and catalog price come from the item; a different `unitPrice` is
/// a counter price, recorded as an override.
#[utoipa::path(post, path = "/business/carts/add-item", tag = "billing", security(("bearer" = [])), request_body = AddCartItemRequest,
    responses((status = 200, body = CartItemResponse), (status = 400, body = ErrorBody), (status = 409, description = "Cart already invoiced", body = ErrorBody)),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn add_item(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<AddCartItemRequest>,
) -> AppResult<Json<CartItemResponse>> {
    let mut e = Errors::new();
    let cart_id = e.oid("cartId", &req.cart_id);
    let item_id = e.oid("itemId", &req.item_id);
    quantity(&mut e, "quantity", req.quantity);
    if req.unit_price.is_some() {
        rules::unit_price(&mut e, "unitPrice", req.unit_price);
    }
    e.finish()?;
    let (cart_id, item_id) = (cart_id.unwrap_or_default(), item_id.unwrap_or_default());
    let over = service::Override {
        may_override: auth.can(crate::access::Permission::PriceOverride),
        approval_token: req.approval_token.clone(),
        reason: req
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| crate::validate::cut(r, 500).to_string()),
        who: crate::audit::who(&auth),
    };
    let (cart, line) =
        service::add_item(&state, auth.client_id, cart_id, item_id, req.quantity, req.unit_price, over).await?;
    Ok(Json(CartItemResponse { success: true, cart_item: CartItemWire::from_line(&cart.id.to_hex(), &line) }))
}

/// B16: remove a line (really removes it; totals are recomputed from the lines).
#[utoipa::path(post, path = "/business/carts/remove-item", tag = "billing", security(("bearer" = [])), request_body = RemoveCartItemRequest,
    responses((status = 200, body = MessageResponse), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn remove_item(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<RemoveCartItemRequest>,
) -> AppResult<Json<MessageResponse>> {
    let mut e = Errors::new();
    let cart_id = e.oid("cartId", &req.cart_id);
    let line_id = e.oid("cartItemId", &req.cart_item_id);
    e.finish()?;
    service::remove_item(&state, auth.client_id, cart_id.unwrap_or_default(), line_id.unwrap_or_default()).await?;
    Ok(Json(MessageResponse { success: true, message: "Item removed from cart".into() }))
}

/// B17: the cart and its lines (totals computed from the lines).
#[utoipa::path(get, path = "/business/carts/{cartId}", tag = "billing", security(("bearer" = [])),
    params(("cartId" = String, Path)),
    responses((status = 200, body = CartDetailResponse), (status = 400, body = ErrorBody)),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn get_cart(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(cart_id): ApiPath<String>,
) -> AppResult<Json<CartDetailResponse>> {
    let id = crate::validate::oid("params.cartId", &cart_id)?;
    let cart = service::get_cart(&state, auth.client_id, id).await?;
    let hex = cart.id.to_hex();
    Ok(Json(CartDetailResponse {
        success: true,
        cart_items: cart.lines.iter().map(|l| CartItemWire::from_line(&hex, l)).collect(),
        cart: CartWire::from_doc(&cart)?,
    }))
}

/// B18: delete an open cart and its lines.
#[utoipa::path(post, path = "/business/carts/clear", tag = "billing", security(("bearer" = [])), request_body = CartIdRequest,
    responses((status = 200, body = MessageResponse), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn clear_cart(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<CartIdRequest>,
) -> AppResult<Json<MessageResponse>> {
    let id = crate::validate::oid("cartId", &req.cart_id)?;
    service::clear_cart(&state, auth.client_id, id).await?;
    Ok(Json(MessageResponse { success: true, message: "Cart cleared".into() }))
}

fn sale_common(
    e: &mut Errors,
    paid: Option<Paise>,
    tax: Option<Paise>,
    discount: Option<Paise>,
    total: Option<Paise>,
    m: &Option<String>,
    notes: &Option<String>,
) -> (Paise, Paise, Paise, Option<Paise>, String, String) {
    let paid = non_negative(e, "paidAmount", paid);
    let tax = non_negative(e, "totalTax", tax);
    let discount = non_negative(e, "totalDiscount", discount);
    let total = rules::total(e, "totalAmount", total);
    let method = method(e, "paymentMethod", m);
    let notes = rules::notes(e, "notes", notes);
    (paid, tax, discount, total, method, notes)
}

/// B19: invoice from a cart, in one transaction (a cart invoiced twice yields one invoice:
/// the second answers 409).
#[utoipa::path(post, path = "/business/invoices/generate", tag = "billing", security(("bearer" = [])), request_body = GenerateFromCartRequest,
    params(("X-Idempotency-Key" = Option<String>, Header, description = "Per-client key of this sale (1-255 visible ASCII, e.g. a UUID; kept 30 days): a retry gets the stored first answer with `Idempotent-Replayed: true`")),
    responses((status = 201, body = InvoiceResponse), (status = 400, body = ErrorBody), (status = 409, description = "Cart already invoiced, not enough stock (INSUFFICIENT_STOCK, only when the shop sets allowNegativeStock false), or the same X-Idempotency-Key still in flight", body = ErrorBody),
        (status = 422, description = "X-Idempotency-Key already used with another body", body = ErrorBody),
        (status = 504, description = "OUTCOME_UNKNOWN: timed out while the work may still complete; retry with the same X-Idempotency-Key", body = ErrorBody)),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn generate(
    State(state): State<AppState>,
    auth: AuthClient,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Response> {
    let key = idem::key_from(&headers)?;
    let req: GenerateFromCartRequest = from_value(body.clone())?;
    let mut e = Errors::new();
    let lines = e.oid("cartId", &req.cart_id).map(LineSource::Cart);
    let gst = rules::sale_gst(
        &mut e,
        "",
        Default::default(),
        req.discount1_amount,
        req.discount2_amount,
        req.place_of_supply.as_deref(),
        req.reverse_charge,
    );
    let head = SaleHead {
        customer_id: &req.client_customer_id,
        phone: &req.client_customer_phone,
        name: &req.client_customer_name,
        paid: req.paid_amount,
        tax: req.total_tax,
        discount: req.total_discount,
        total: req.total_amount,
        method: &req.payment_method,
        payments: &req.payments,
        notes: &req.notes,
    };
    let mut sale = build_sale(e, &auth, lines, head, "invoice")?;
    sale.gst = gst;
    let approval = Approval::of(&auth, req.approval_token);
    issue_answer(&state, sale, approval, key, "POST /api/business/invoices/generate", &body).await
}

/// The packing units the lines name (issue 16), by line index: `unitId` a 24-hex id (400
/// naming `products[i].unitId` otherwise); whether the item sells in it is the decider's.
fn line_units(
    e: &mut Errors,
    products: &[ProductLineRequest],
) -> std::collections::BTreeMap<usize, bson::oid::ObjectId> {
    let mut out = std::collections::BTreeMap::new();
    for (i, p) in products.iter().enumerate() {
        if let Some(u) = p.unit_id.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            if let Some(id) = e.oid(&format!("products[{i}].unitId"), u) {
                out.insert(i, id);
            }
        }
    }
    out
}

fn product_lines(
    e: &mut Errors,
    products: &[ProductLineRequest],
) -> Vec<(usize, bson::oid::ObjectId, i64, Option<Paise>)> {
    rules::line_count(e, "products", products.len());
    let mut out = Vec::new();
    for (i, p) in products.iter().enumerate() {
        let field = format!("products[{i}].productId");
        let id = match p.product_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => e.oid(&field, s),
            None => {
                e.add(&field, "is required");
                None
            }
        };
        quantity(e, &format!("products[{i}].quantity"), p.quantity);
        rules::unit_price(e, &format!("products[{i}].costPerUnit"), p.cost_per_unit);
        if let Some(id) = id {
            // the price the customer was charged; none = the catalog price
            out.push((i, id, p.quantity, p.cost_per_unit));
        }
    }
    out
}

/// B20: invoice from a product list; names and groups come from the catalog, the price is
/// the line's `costPerUnit` (a counter price, recorded as `priceOverridden` beside the
/// catalog price) or else the catalog price.
#[utoipa::path(post, path = "/business/invoices/generatewithproducts", tag = "billing", security(("bearer" = [])), request_body = GenerateWithProductsRequest,
    params(("X-Idempotency-Key" = Option<String>, Header, description = "Per-client key of this sale (1-255 visible ASCII, e.g. a UUID; kept 30 days): a retry gets the stored first answer with `Idempotent-Replayed: true`")),
    responses((status = 201, body = InvoiceResponse), (status = 400, body = ErrorBody), (status = 409, description = "Not enough stock (INSUFFICIENT_STOCK, only when the shop sets allowNegativeStock false), or the same X-Idempotency-Key still in flight", body = ErrorBody),
        (status = 422, description = "X-Idempotency-Key already used with another body", body = ErrorBody),
        (status = 504, description = "OUTCOME_UNKNOWN: timed out while the work may still complete; retry with the same X-Idempotency-Key", body = ErrorBody)),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn generate_with_products(
    State(state): State<AppState>,
    auth: AuthClient,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Response> {
    let key = idem::key_from(&headers)?;
    let req: GenerateWithProductsRequest = from_value(body.clone())?;
    let approval = Approval::of(&auth, req.approval_token.clone());
    let sale = products_sale(&auth, req, "invoice")?;
    issue_answer(&state, sale, approval, key, "POST /api/business/invoices/generatewithproducts", &body).await
}

/// Issue 17: the full GST computation of a draft sale (the body of
/// `/invoices/generatewithproducts`), written nowhere: each line's rate, taxable value,
/// CGST/SGST or IGST, cess, the discounts' shares, the round-off, the document type and the
/// place of supply. The sale routes compute identically. Stock, full payment and approvals
/// are not judged here (the sale will).
#[utoipa::path(post, path = "/business/invoices/quote", tag = "billing", security(("bearer" = [])), request_body = GenerateWithProductsRequest,
    responses((status = 200, body = QuoteResponse), (status = 400, description = "A field is invalid (named), TAX_CODE_MISSING, MRP_EXCEEDED", body = ErrorBody)),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn quote(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<GenerateWithProductsRequest>,
) -> AppResult<Json<QuoteResponse>> {
    let sale = products_sale(&auth, req, "invoice")?;
    let inv = service::quote(&state, sale).await?;
    Ok(Json(QuoteResponse { success: true, quote: InvoiceWire::from_doc(&inv) }))
}

fn products_sale(auth: &AuthClient, req: GenerateWithProductsRequest, kind: &'static str) -> AppResult<Sale> {
    let mut e = Errors::new();
    let lines = match req.cart_id.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) if kind == "incomplete" && req.products.is_empty() => e.oid("cartId", c).map(LineSource::Cart),
        _ => Some(LineSource::Products(product_lines(&mut e, &req.products))),
    };
    let units = line_units(&mut e, &req.products);
    let batch_nos: Vec<Option<String>> = req
        .products
        .iter()
        .enumerate()
        .map(|(i, p)| crate::catalog::batch::line_batch(&mut e, &format!("products[{i}].batchNo"), &p.batch_no))
        .collect();
    // a paper bill entered later keeps its printed number (issue 17); only a sale issued now
    let printed = match (&req.offline_bill_ref, kind) {
        (Some(r), "invoice") => r.parse(&mut e, "offlineBillRef"),
        (Some(_), _) => {
            e.add("offlineBillRef", "only a sale issued now (generatewithproducts) keeps a printed number");
            None
        }
        (None, _) => None,
    };
    let mut discounts = std::collections::BTreeMap::new();
    for (i, p) in req.products.iter().enumerate() {
        let d = rules::line_discount(&mut e, &format!("products[{i}]"), p.discount_percent.as_ref(), p.discount_amount);
        if let Some(d) = d {
            discounts.insert(i, d);
        }
    }
    let gst = rules::sale_gst(
        &mut e,
        "",
        discounts,
        req.discount1_amount,
        req.discount2_amount,
        req.place_of_supply.as_deref(),
        req.reverse_charge,
    );
    let head = SaleHead {
        customer_id: &req.client_customer_id,
        phone: &req.client_customer_phone,
        name: &req.client_customer_name,
        paid: req.paid_amount,
        tax: req.total_tax,
        discount: req.total_discount,
        total: req.total_amount,
        method: &req.payment_method,
        payments: &req.payments,
        notes: &req.notes,
    };
    let mut sale = build_sale(e, auth, lines, head, kind)?;
    sale.units = units;
    sale.batch_nos = batch_nos;
    sale.options.printed = printed;
    sale.gst = gst;
    Ok(sale)
}

/// The customer and money fields every sale request carries.
struct SaleHead<'a> {
    customer_id: &'a Option<String>,
    phone: &'a Option<String>,
    name: &'a Option<String>,
    paid: Option<Paise>,
    tax: Option<Paise>,
    discount: Option<Paise>,
    total: Option<Paise>,
    method: &'a Option<String>,
    /// Split payment (issue 17).
    payments: &'a Option<Vec<PaymentPartRequest>>,
    notes: &'a Option<String>,
}

/// Check the common fields (adding to `e`, whose errors are answered together) and build the
/// sale; `lines` is `None` only when `e` already holds why.
fn build_sale(
    mut e: Errors,
    auth: &AuthClient,
    lines: Option<LineSource>,
    h: SaleHead<'_>,
    kind: &'static str,
) -> AppResult<Sale> {
    let (customer, customer_name, customer_phone) = customer(&mut e, h.customer_id, h.phone, h.name);
    let (paid, tax, discount, claimed_total, method, notes) =
        sale_common(&mut e, h.paid, h.tax, h.discount, h.total, h.method, h.notes);
    let split = rules::payment_parts(&mut e, "payments", h.payments, h.paid);
    e.finish()?;
    Ok(Sale {
        client_id: auth.client_id,
        lines: lines.unwrap_or(LineSource::Products(vec![])),
        customer,
        customer_name,
        customer_phone,
        claimed_total,
        paid,
        tax,
        discount,
        method,
        split,
        notes,
        kind,
        options: Default::default(),
        by: auth.by(),
        rights: SellerRights::of(&auth.user),
        units: Default::default(),
        batch_nos: vec![],
        gst: Default::default(),
    })
}

/// Phase 1 (seeds 000, 003): a part-paid sale recorded with no invoice number; it gets its
/// consecutive number when `/invoices/pay` completes it. Takes a product list or a `cartId`.
#[utoipa::path(post, path = "/business/invoices/incomplete-sale", tag = "billing", security(("bearer" = [])), request_body = GenerateWithProductsRequest,
    params(("X-Idempotency-Key" = Option<String>, Header, description = "Per-client key of this sale (1-255 visible ASCII, e.g. a UUID; kept 30 days): a retry gets the stored first answer with `Idempotent-Replayed: true`")),
    responses((status = 201, body = InvoiceResponse), (status = 400, body = ErrorBody), (status = 409, description = "Cart already invoiced, not enough stock (INSUFFICIENT_STOCK, only when the shop sets allowNegativeStock false), or the same X-Idempotency-Key still in flight", body = ErrorBody),
        (status = 422, description = "X-Idempotency-Key already used with another body", body = ErrorBody),
        (status = 504, description = "OUTCOME_UNKNOWN: timed out while the work may still complete; retry with the same X-Idempotency-Key", body = ErrorBody)),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn incomplete_sale(
    State(state): State<AppState>,
    auth: AuthClient,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Response> {
    let key = idem::key_from(&headers)?;
    let req: GenerateWithProductsRequest = from_value(body.clone())?;
    let approval = Approval::of(&auth, req.approval_token.clone());
    let sale = products_sale(&auth, req, "incomplete")?;
    issue_answer(&state, sale, approval, key, "POST /api/business/invoices/incomplete-sale", &body).await
}

/// B22: record a payment (0 < amount <= outstanding), or a split payment (`payments`, issue
/// 17: one payment per paid part; `tender` answers the change of a cash part's `tendered`).
#[utoipa::path(post, path = "/business/invoices/pay", tag = "billing", security(("bearer" = [])), request_body = PayRequest,
    params(("X-Idempotency-Key" = Option<String>, Header, description = "Per-client key of this payment (1-255 visible ASCII, e.g. a UUID; kept 30 days): a retry gets the stored first answer with `Idempotent-Replayed: true`")),
    responses((status = 200, body = PayResponse), (status = 400, description = "Validation, unknown invoice, or amount above the balance", body = ErrorBody),
        (status = 409, description = "The same X-Idempotency-Key still in flight", body = ErrorBody),
        (status = 422, description = "X-Idempotency-Key already used with another body", body = ErrorBody),
        (status = 504, description = "OUTCOME_UNKNOWN: timed out while the work may still complete; retry with the same X-Idempotency-Key", body = ErrorBody)),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn pay(
    State(state): State<AppState>,
    auth: AuthClient,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Response> {
    let key = idem::key_from(&headers)?;
    let req: PayRequest = from_value(body.clone())?;
    let mut e = Errors::new();
    let invoice_id = e.oid("invoiceId", &req.invoice_id);
    match req.amount {
        Some(a) => rules::payment_amount(&mut e, "amount", a),
        None if req.payments.is_none() => e.add("amount", "is required (or send payments)"),
        None => {}
    }
    let method = method(&mut e, "method", &req.method);
    let note = rules::payment_note(&mut e, "note", &req.note);
    let split = rules::payment_parts(&mut e, "payments", &req.payments, req.amount);
    e.finish()?;
    let p = RecordPayment {
        client_id: auth.client_id,
        invoice_id: invoice_id.unwrap_or_default(),
        amount: req.amount.unwrap_or_default(),
        method,
        split,
        note,
        paid_at: None,
        by: auth.by(),
    };
    let hash = key.as_ref().map(|_| idem::hash("POST /api/business/invoices/pay", &body));
    let st = state.clone();
    crate::http::detached(&state, async move {
        let state = st;
        let (Some(key), Some(hash)) = (key, hash) else {
            let (payments, invoice) = service::pay(&state, p).await?;
            return Ok(Json(PayResponse::of(&payments, &invoice)?).into_response());
        };
        let hook = Keyed { key: &key, hash: &hash, status: 200, render: &render_payment as &service::RenderPayment };
        let answer = idem::once(&state, p.client_id, &key, &hash, lease_secs(&state), 200, || async {
            let (_, _, out) = service::pay_keyed(&state, &p, Some(&hook)).await?;
            out.ok_or_else(|| AppError::internal("keyed payment without a response"))
        })
        .await?;
        Ok(answer.into_response())
    })
    .await
}
