//! `/api/staff` (issue 15): staff management (permission `staff`), staff sign-in (public),
//! and the signed-in user's own approval PIN.

use axum::{extract::State, http::StatusCode, Json};
use bson::oid::ObjectId;

use crate::{
    access::{Grants, Role},
    auth::{service::Credential, AuthClient},
    error::AppResult,
    extract::{ApiJson, ApiPath, ApiQuery},
    openapi::ErrorBody,
    staff::{
        dto::*,
        service::{self, Change, NewUser, StatusChange},
    },
    state::AppState,
    users::UserDoc,
    validate::Errors,
};

/// Percent with at most two decimals, 0-100, as basis points.
fn percent_bp(e: &mut Errors, field: &str, n: &serde_json::Number) -> Option<u32> {
    match crate::money::Paise::parse_rupees(&n.to_string()) {
        Ok(p) if (0..=10_000).contains(&p.as_i64()) => u32::try_from(p.as_i64()).ok(),
        _ => {
            e.add(field, "must be a percent from 0 to 100 with at most two decimals");
            None
        }
    }
}

fn employee_id(e: &mut Errors, v: &str) -> String {
    let t = e.text("employeeId", v, 1, 20);
    if !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        e.add("employeeId", "may hold letters, digits, - and _ only");
    }
    t
}

fn email(e: &mut Errors, v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| e.email("email", s).to_lowercase())
}

fn check_password(e: &mut Errors, p: &str) {
    if !(8..=128).contains(&p.chars().count()) {
        e.add("password", "must be 8 to 128 characters");
    }
}

fn device(e: &mut Errors, v: &Option<String>) -> String {
    e.opt_text("deviceId", v, 1, 200).unwrap_or_else(|| "default-device".into())
}

async fn wire(state: &AppState, u: &UserDoc) -> AppResult<UserWire> {
    Ok(UserWire::new(u, service::effective_of(state, u).await?))
}

/// Invite a staff member (pending until they accept with an OTP and a password).
#[utoipa::path(operation_id = "staff_invite", post, path = "/staff", tag = "staff", security(("bearer" = [])), request_body = InviteRequest,
    responses(
        (status = 201, description = "Invited (status pending_approval)", body = StaffResponse),
        (status = 400, body = ErrorBody),
        (status = 403, description = "Not allowed (only the owner invites an admin)", body = ErrorBody),
        (status = 409, description = "Phone, email or employee id already used in the shop", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("staff"))),
)]
pub async fn invite(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<InviteRequest>,
) -> AppResult<(StatusCode, Json<StaffResponse>)> {
    let mut e = Errors::new();
    let phone = e.phone("phoneNumber", &req.phone_number);
    let first_name = e.text("firstName", &req.first_name, 1, 60);
    let last_name = e.opt_text("lastName", &req.last_name, 0, 60).unwrap_or_default();
    let email = email(&mut e, &req.email);
    let employee_id = employee_id(&mut e, &req.employee_id);
    let max_discount_bp = req.max_discount_percent.as_ref().and_then(|n| percent_bp(&mut e, "maxDiscountPercent", n));
    let profile_image = req.profile_image.as_deref().map(|u| e.url("profileImage", u));
    e.finish()?;
    let new = NewUser {
        phone,
        first_name,
        last_name,
        email,
        employee_id,
        role: req.role,
        max_discount_bp,
        permissions: req.permissions.unwrap_or_default(),
        profile_image,
    };
    let u = service::invite(&state, &auth, new).await?;
    Ok((StatusCode::CREATED, Json(StaffResponse { success: true, user: wire(&state, &u).await? })))
}

/// The shop's users, the owner first.
#[utoipa::path(operation_id = "staff_list", get, path = "/staff", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = StaffListResponse)),
    extensions(("x-permission" = json!("staff"))),
)]
pub async fn list(State(state): State<AppState>, auth: AuthClient) -> AppResult<Json<StaffListResponse>> {
    // the shop's staff rules are read once for the whole list
    let shop = crate::client::repo::access(&state.db, auth.client_id).await?.unwrap_or_default();
    let users = crate::users::repo::list(&state.db, auth.client_id)
        .await?
        .iter()
        .map(|u| UserWire::new(u, service::effective_in(&shop, u).list()))
        .collect();
    Ok(Json(StaffListResponse { success: true, users }))
}

fn user_id(v: &str) -> AppResult<ObjectId> {
    crate::validate::oid("userId", v)
}

/// One user of the shop (404 for another shop's).
#[utoipa::path(operation_id = "staff_get", get, path = "/staff/{userId}", tag = "staff", security(("bearer" = [])),
    params(("userId" = String, Path)),
    responses((status = 200, body = StaffResponse), (status = 400, description = "A malformed id", body = ErrorBody), (status = 404, body = ErrorBody)),
    extensions(("x-permission" = json!("staff"))),
)]
pub async fn get(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<StaffResponse>> {
    let u = service::get(&state, &auth, user_id(&id)?).await?;
    Ok(Json(StaffResponse { success: true, user: wire(&state, &u).await? }))
}

/// Change a user's role, discount cap, grants or details (takes effect on their next request).
#[utoipa::path(operation_id = "staff_update", patch, path = "/staff/{userId}", tag = "staff", security(("bearer" = [])),
    params(("userId" = String, Path)), request_body = UpdateStaffRequest,
    responses(
        (status = 200, body = StaffResponse),
        (status = 400, body = ErrorBody),
        (status = 403, description = "Only the owner manages admins", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The owner cannot be changed; stale baseVersion; duplicate email or employee id", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("staff"))),
)]
pub async fn update(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateStaffRequest>,
) -> AppResult<Json<StaffResponse>> {
    let id = user_id(&id)?;
    let mut e = Errors::new();
    let change = Change {
        role: req.role,
        max_discount_bp: req.max_discount_percent.as_ref().and_then(|n| percent_bp(&mut e, "maxDiscountPercent", n)),
        permissions: req.permissions,
        first_name: req.first_name.as_deref().map(|v| e.text("firstName", v, 1, 60)),
        last_name: req.last_name.as_deref().map(|v| e.text("lastName", v, 0, 60)),
        email: email(&mut e, &req.email),
        employee_id: req.employee_id.as_deref().map(|v| employee_id(&mut e, v)),
        profile_image: req.profile_image.as_deref().map(|u| e.url("profileImage", u)),
        base_version: req.base_version,
    };
    e.finish()?;
    let u = service::update(&state, &auth, id, change).await?;
    Ok(Json(StaffResponse { success: true, user: wire(&state, &u).await? }))
}

/// Optional body of approve: the role to give (default: as asked, `cashier`).
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApproveRequest {
    pub role: Option<Role>,
}

async fn status(
    state: &AppState,
    auth: &AuthClient,
    id: &str,
    change: StatusChange,
    role: Option<Role>,
) -> AppResult<Json<StaffResponse>> {
    let u = service::set_status(state, auth, user_id(id)?, change, role).await?;
    Ok(Json(StaffResponse { success: true, user: wire(state, &u).await? }))
}

/// Deactivate a user: refused from their next request on, every session ended.
#[utoipa::path(operation_id = "staff_deactivate", post, path = "/staff/{userId}/deactivate", tag = "staff", security(("bearer" = [])),
    params(("userId" = String, Path)),
    responses((status = 200, body = StaffResponse), (status = 400, description = "A malformed id", body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    extensions(("x-permission" = json!("staff"))),
)]
pub async fn deactivate(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<StaffResponse>> {
    status(&state, &auth, &id, StatusChange::Deactivate, None).await
}

/// Reactivate a deactivated user.
#[utoipa::path(operation_id = "staff_reactivate", post, path = "/staff/{userId}/reactivate", tag = "staff", security(("bearer" = [])),
    params(("userId" = String, Path)),
    responses((status = 200, body = StaffResponse), (status = 400, description = "A malformed id", body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    extensions(("x-permission" = json!("staff"))),
)]
pub async fn reactivate(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<StaffResponse>> {
    status(&state, &auth, &id, StatusChange::Reactivate, None).await
}

/// Approve a self-registered user (optionally with a role).
#[utoipa::path(operation_id = "staff_approve", post, path = "/staff/{userId}/approve", tag = "staff", security(("bearer" = [])),
    params(("userId" = String, Path)), request_body = ApproveRequest,
    responses((status = 200, body = StaffResponse), (status = 400, description = "A malformed id", body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    extensions(("x-permission" = json!("staff"))),
)]
pub async fn approve(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<ApproveRequest>,
) -> AppResult<Json<StaffResponse>> {
    status(&state, &auth, &id, StatusChange::Approve, req.role).await
}

/// The shop's active sessions (of one user with `userId`).
#[utoipa::path(operation_id = "staff_sessions", get, path = "/staff/sessions", tag = "staff", security(("bearer" = [])),
    params(SessionsQuery),
    responses((status = 200, body = SessionsResponse), (status = 400, body = ErrorBody)),
    extensions(("x-permission" = json!("staff"))),
)]
pub async fn sessions(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<SessionsQuery>,
) -> AppResult<Json<SessionsResponse>> {
    let user = q.user_id.as_deref().map(user_id).transpose()?;
    let iso = |d: &bson::DateTime| d.try_to_rfc3339_string().unwrap_or_default();
    let sessions = service::list_sessions(&state, &auth, user)
        .await?
        .iter()
        .map(|s| SessionWire {
            id: s.id.to_hex(),
            user_id: s.user().to_hex(),
            device_id: s.device_id.clone(),
            last_seen_at: iso(&s.last_seen_at),
            created_at: iso(&s.created_at),
        })
        .collect();
    Ok(Json(SessionsResponse { success: true, sessions }))
}

/// End one active session of the shop (its token answers 401 `SESSION_ENDED` from now on).
#[utoipa::path(operation_id = "staff_end_session", delete, path = "/staff/sessions/{sessionId}", tag = "staff", security(("bearer" = [])),
    params(("sessionId" = String, Path)),
    responses((status = 200, body = StaffMessage), (status = 400, description = "A malformed id", body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    extensions(("x-permission" = json!("staff"))),
)]
pub async fn end_session(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<StaffMessage>> {
    let id = crate::validate::oid("sessionId", &id)?;
    service::end_session(&state, &auth, id).await?;
    Ok(Json(StaffMessage { success: true, message: "Session ended".into() }))
}

/// Set the signed-in user's approval PIN (4 to 6 digits; used when they approve a cashier's
/// action on the cashier's device).
#[utoipa::path(operation_id = "staff_set_pin", put, path = "/staff/me/pin", tag = "staff", security(("bearer" = [])), request_body = PinRequest,
    responses((status = 200, body = StaffMessage), (status = 400, body = ErrorBody)),
    extensions(("x-permission" = json!("session"))),
)]
pub async fn set_pin(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<PinRequest>,
) -> AppResult<Json<StaffMessage>> {
    let pin = req.pin.trim().to_string();
    let mut e = Errors::new();
    e.check((4..=6).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()), "pin", "must be 4 to 6 digits");
    e.finish()?;
    service::set_pin(&state, &auth, pin).await?;
    Ok(Json(StaffMessage { success: true, message: "PIN set".into() }))
}

fn login_response(
    u: &UserDoc,
    issued: crate::auth::service::Issued,
    effective: Vec<crate::access::Permission>,
    message: &str,
) -> StaffLoginResponse {
    StaffLoginResponse {
        success: true,
        message: message.into(),
        client_id: issued.client.id.to_hex(),
        token: issued.token,
        device_session_id: issued.session_id.to_hex(),
        user: UserWire::new(u, effective),
    }
}

/// An invited staff member accepts: proves the phone (OTP purpose `staff`), sets a password,
/// and is logged in on this device.
#[utoipa::path(operation_id = "staff_accept", post, path = "/staff/accept", tag = "staff", request_body = AcceptRequest,
    responses(
        (status = 200, body = StaffLoginResponse),
        (status = 400, description = "Validation, or OTP invalid (also: no pending invitation for this phone in this shop)", body = ErrorBody),
    ))]
pub async fn accept(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<AcceptRequest>,
) -> AppResult<Json<StaffLoginResponse>> {
    let mut e = Errors::new();
    let client_id = e.oid("clientId", &req.client_id);
    let phone = e.phone("phoneNumber", &req.phone_number);
    e.check(!req.otp.trim().is_empty(), "otp", "is required");
    check_password(&mut e, &req.password);
    let device_id = device(&mut e, &req.device_id);
    e.finish()?;
    let Some(client_id) = client_id else { return Err(crate::error::AppError::validation("clientId", "is not an id")) };
    let (u, issued) = service::accept(&state, client_id, &phone, req.otp.trim(), req.password, &device_id).await?;
    let eff = service::effective_of(&state, &u).await?;
    Ok(Json(login_response(&u, issued, eff, "Invitation accepted")))
}

/// Ask to join a shop as staff (phone proven by OTP purpose `staff`); waits for approval.
#[utoipa::path(operation_id = "staff_join", post, path = "/staff/join", tag = "staff", request_body = JoinRequest,
    responses(
        (status = 201, description = "Pending the shop's approval", body = StaffResponse),
        (status = 400, body = ErrorBody),
        (status = 409, description = "Phone, email or employee id already used in the shop", body = ErrorBody),
    ))]
pub async fn join(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<JoinRequest>,
) -> AppResult<(StatusCode, Json<StaffResponse>)> {
    let mut e = Errors::new();
    let client_id = e.oid("clientId", &req.client_id);
    let phone = e.phone("phoneNumber", &req.phone_number);
    e.check(!req.otp.trim().is_empty(), "otp", "is required");
    let first_name = e.text("firstName", &req.first_name, 1, 60);
    let last_name = e.opt_text("lastName", &req.last_name, 0, 60).unwrap_or_default();
    let email = email(&mut e, &req.email);
    let employee_id = employee_id(&mut e, &req.employee_id);
    check_password(&mut e, &req.password);
    e.finish()?;
    let Some(client_id) = client_id else { return Err(crate::error::AppError::validation("clientId", "is not an id")) };
    let new = NewUser {
        phone,
        first_name,
        last_name,
        email,
        employee_id,
        role: Role::Cashier,
        max_discount_bp: None,
        permissions: Grants::default(),
        profile_image: None,
    };
    let u = service::join(&state, client_id, req.otp.trim(), req.password, new).await?;
    Ok((StatusCode::CREATED, Json(StaffResponse { success: true, user: wire(&state, &u).await? })))
}

/// Staff login: phone or email, and password or OTP (purpose `staff`). Ends this user's other
/// sessions only.
#[utoipa::path(operation_id = "staff_login", post, path = "/staff/login", tag = "staff", request_body = StaffLoginRequest,
    responses(
        (status = 200, body = StaffLoginResponse),
        (status = 400, body = ErrorBody),
        (status = 401, description = "Unknown, wrong or deactivated: one answer", body = ErrorBody),
        (status = 403, description = "ACCOUNT_PENDING: waiting for approval", body = ErrorBody),
        (status = 409, description = "SEATS_FULL", body = ErrorBody),
        (status = 429, description = "Locked after repeated failures", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<StaffLoginRequest>,
) -> AppResult<Json<StaffLoginResponse>> {
    let mut e = Errors::new();
    let client_id = req.client_id.as_deref().filter(|c| !c.trim().is_empty()).and_then(|c| e.oid("clientId", c));
    let phone = req.phone_number.as_deref().filter(|p| !p.trim().is_empty()).map(|p| e.phone("phoneNumber", p));
    let email = email(&mut e, &req.email);
    if phone.is_none() && email.is_none() {
        e.add("phoneNumber", "phoneNumber or email is required");
    }
    let cred = match (&req.password, &req.otp) {
        (Some(p), None) if !p.is_empty() => Some(Credential::Password(p.clone())),
        (None, Some(o)) if !o.trim().is_empty() => Some(Credential::Otp(o.trim().to_string())),
        _ => {
            e.add("password", "give a password or an otp, not both");
            None
        }
    };
    let device_id = device(&mut e, &req.device_id);
    e.finish()?;
    let Some(cred) = cred else { return Err(crate::error::AppError::validation("password", "is required")) };
    let (u, issued) = service::login(&state, client_id, phone.as_deref(), email.as_deref(), cred, &device_id).await?;
    let eff = service::effective_of(&state, &u).await?;
    Ok(Json(login_response(&u, issued, eff, "Login successful")))
}

/// A manager or admin approves a cashier's counter price on the cashier's device (issue 15):
/// one-time token bound to the cart line, valid 5 minutes. Wrong PINs are limited per approver.
#[utoipa::path(operation_id = "staff_approve_action", post, path = "/staff/approvals", tag = "staff", security(("bearer" = [])), request_body = ApprovalRequest,
    responses(
        (status = 201, body = ApprovalResponse),
        (status = 400, body = ErrorBody),
        (status = 403, description = "Unknown approver, wrong PIN, no right to approve, or self-approval: one answer", body = ErrorBody),
        (status = 429, description = "Too many wrong PINs for this approver", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn approve_action(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(req): ApiJson<ApprovalRequest>,
) -> AppResult<(StatusCode, Json<ApprovalResponse>)> {
    let mut e = Errors::new();
    let approver = e.oid("approverId", &req.approver_id);
    let reason = e.text("reason", &req.reason, 1, 500);
    e.check(!req.pin.trim().is_empty(), "pin", "is required");
    let cart = req.cart_id.as_deref().map(str::trim).filter(|c| !c.is_empty()).and_then(|c| e.oid("cartId", c));
    let subject = match req.action.as_str() {
        "price_override" => {
            let item = match req.item_id.as_deref() {
                Some(i) => e.oid("itemId", i),
                None => {
                    e.add("itemId", "is required");
                    None
                }
            };
            e.check(cart.is_some() || req.cart_id.is_some(), "cartId", "is required");
            let quantity = req.quantity.unwrap_or(0);
            e.check(quantity > 0, "quantity", "must be a whole number of at least 1");
            e.check(req.unit_price.is_some(), "unitPrice", "is required");
            crate::billing::rules::unit_price(&mut e, "unitPrice", req.unit_price);
            match (cart, item, req.unit_price) {
                (Some(cart_id), Some(item_id), Some(unit_price)) => {
                    Some(crate::approval::Subject::PriceOverride { cart_id, item_id, unit_price, quantity })
                }
                _ => None,
            }
        }
        "sale" => {
            let mut lines = Vec::with_capacity(req.products.len());
            if cart.is_none() {
                crate::billing::rules::line_count(&mut e, "products", req.products.len());
            }
            for (i, p) in req.products.iter().enumerate() {
                let id = e.oid(&format!("products[{i}].productId"), p.product_id.as_deref().unwrap_or(""));
                e.check(p.quantity > 0, &format!("products[{i}].quantity"), "must be a whole number of at least 1");
                crate::billing::rules::unit_price(&mut e, &format!("products[{i}].costPerUnit"), p.cost_per_unit);
                let unit = p
                    .unit_id
                    .as_deref()
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .and_then(|u| e.oid(&format!("products[{i}].unitId"), u));
                lines.extend(id.map(|id| (id, p.quantity, p.cost_per_unit, unit)));
            }
            let discount = req.total_discount.unwrap_or(crate::money::Paise::ZERO);
            crate::limits::amount(&mut e, "totalDiscount", discount);
            Some(crate::approval::Subject::Sale { cart_id: cart, lines, discount })
        }
        "cancel" => {
            let invoice = req.invoice_id.as_deref().map(str::trim).unwrap_or_default();
            let refund = req.refund.as_ref().map(|r| {
                let m = r.method.as_deref().map(str::trim).unwrap_or_default();
                e.check(!m.is_empty(), "refund.method", "is required for a refund");
                crate::billing::rules::method(&mut e, "refund.method", &r.method)
            });
            e.oid("invoiceId", invoice).map(|invoice_id| crate::approval::Subject::Cancel { invoice_id, refund })
        }
        "credit_note" => {
            let invoice = req.invoice_id.as_deref().map(str::trim).unwrap_or_default();
            let invoice_id = e.oid("invoiceId", invoice);
            let credit = crate::billing::credit::dto::check_credit(&mut e, &req.lines, req.amount);
            let settlement = match &req.settlement {
                Some(s) => Some(crate::billing::credit::dto::check_settlement(&mut e, s)),
                None => {
                    e.add("settlement", "is required (as the credit note will send it)");
                    None
                }
            };
            let restock = req.restock.unwrap_or(true);
            match (invoice_id, credit, settlement) {
                (Some(invoice_id), Some(c), Some(s)) => Some(crate::approval::Subject::CreditNote {
                    invoice_id,
                    credit: crate::billing::credit::dto::credit_text(&c, restock, &s),
                }),
                _ => None,
            }
        }
        _ => {
            e.add("action", "must be price_override, sale, cancel or credit_note");
            None
        }
    };
    e.finish()?;
    let (Some(approver), Some(subject)) = (approver, subject) else {
        return Err(crate::error::AppError::validation("approverId", "is not an id"));
    };
    let issued = service::approve_action(&state, &auth, approver, req.pin.trim().to_string(), subject, &reason).await?;
    Ok((
        StatusCode::CREATED,
        Json(ApprovalResponse {
            success: true,
            approval_token: issued.token,
            expires_at: issued.expires_at.try_to_rfc3339_string().unwrap_or_default(),
            approver: issued.approver,
        }),
    ))
}
