//! A1-A3: register, login, logout.

use axum::{extract::State, http::StatusCode, Json};

use crate::{
    auth::{
        dto::*,
        service::{self, Credential, NewClient},
        AuthClient,
    },
    error::{AppError, AppResult},
    extract::ApiJson,
    http::ClientIp,
    openapi::ErrorBody,
    state::AppState,
    validate::Errors,
};

fn check_otp_format(errs: &mut Errors, otp: &str, len: usize) {
    let t = otp.trim();
    if t.len() != len || !t.bytes().all(|b| b.is_ascii_digit()) {
        errs.add("otp", format!("must be exactly {len} digits"));
    }
}

fn check_password(errs: &mut Errors, p: &str) {
    let n = p.chars().count();
    if !(8..=128).contains(&n) {
        errs.add("password", "must be 8 to 128 characters");
    }
}

/// Register a shop (OTP purpose `register`); answers the token of its first device session.
/// The OTP is checked before anything else about the phone, so without a valid code a
/// registered and an unregistered phone get the same answer; attempts are limited per IP
/// (`REGISTER_LIMIT_PER_IP`) and per phone (`REGISTER_LIMIT_PER_PHONE`) per hour.
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and logged in", body = RegisterResponse),
        (status = 400, description = "Validation, OTP invalid (checked first), or phone already registered (only with a valid OTP)", body = ErrorBody),
        (status = 429, description = "Too many registration attempts from this IP or for this phone", body = ErrorBody),
    ))]
pub async fn register(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> AppResult<(StatusCode, Json<RegisterResponse>)> {
    let mut e = Errors::new();
    // every missing required field is reported, not only the first
    let required = [
        ("phoneNumber", &req.phone_number),
        ("otp", &req.otp),
        ("ownerName", &req.owner_name),
        ("businessName", &req.business_name),
    ];
    for (field, v) in required {
        if v.trim().is_empty() {
            e.add(field, "is required");
        }
    }
    let present = |v: &str| !v.trim().is_empty();
    let phone = if present(&req.phone_number) { e.phone("phoneNumber", &req.phone_number) } else { String::new() };
    if present(&req.otp) {
        check_otp_format(&mut e, &req.otp, state.config.otp_length);
    }
    let owner_name =
        if present(&req.owner_name) { e.text("ownerName", &req.owner_name, 2, 100) } else { String::new() };
    let business_name =
        if present(&req.business_name) { e.text("businessName", &req.business_name, 2, 150) } else { String::new() };
    let shop_name = e.opt_text("shopName", &req.shop_name, 0, 150).unwrap_or_default();
    let location = e.opt_text("location", &req.location, 0, 500).unwrap_or_default();
    let city = e.opt_text("city", &req.city, 0, 100).unwrap_or_default();
    let st = e.opt_text("state", &req.state, 0, 100).unwrap_or_default();
    let gstin = req.gstin.as_deref().map(|g| e.gstin("gstin", g)).unwrap_or_default();
    let profile_url = req.profile_url.as_deref().map(|u| e.url("profileUrl", u)).unwrap_or_default();
    if let Some(p) = &req.password {
        check_password(&mut e, p);
    }
    let device_id = e.opt_text("deviceId", &req.device_id, 1, 200).unwrap_or_else(|| "registration-device".into());
    if let Some(s) = &req.client_settings {
        s.check(&mut e);
    }
    e.finish()?;
    let issued = service::register(
        &state,
        req.otp.trim(),
        &device_id,
        &ip.0,
        NewClient {
            phone,
            owner_name,
            business_name,
            shop_name,
            location,
            city,
            state: st,
            gstin,
            profile_url,
            password: req.password,
            settings: req.client_settings.unwrap_or_default(),
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(RegisterResponse {
            success: true,
            message: "Registration successful".into(),
            client_id: issued.client.id.to_hex(),
            phone_number: issued.client.phone_number,
            owner_name: issued.client.owner_name,
            business_name: issued.client.business_name,
            token: issued.token,
            device_session_id: issued.session_id.to_hex(),
        }),
    ))
}

/// Log in by phone + OTP (purpose `login`) or phone + password. Every other device session
/// of the client ends at once (its token answers 401 `SESSION_REPLACED`).
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 400, description = "Validation", body = ErrorBody),
        (status = 401, description = "Invalid credentials", body = ErrorBody),
        (status = 429, description = "Too many attempts", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let mut e = Errors::new();
    let phone = e.phone("phoneNumber", &req.phone_number);
    let cred = match (&req.otp, &req.password) {
        (Some(otp), None) => {
            check_otp_format(&mut e, otp, state.config.otp_length);
            Some(Credential::Otp(otp.trim().to_string()))
        }
        (None, Some(p)) => {
            if p.is_empty() || p.chars().count() > 128 {
                e.add("password", "must be 1 to 128 characters");
            }
            Some(Credential::Password(p.clone()))
        }
        (Some(_), Some(_)) => {
            e.add("otp", "send either otp or password, not both");
            None
        }
        (None, None) => {
            e.add("otp", "is required (or password)");
            None
        }
    };
    let device_id = e.opt_text("deviceId", &req.device_id, 1, 200).unwrap_or_else(|| "default-device".into());
    e.finish()?;
    let cred = cred.ok_or_else(|| AppError::validation("otp", "is required"))?;
    let issued = service::login(&state, &phone, cred, &device_id, &ip.0).await?;
    let who = crate::audit::Who::new(issued.client.id.to_hex(), issued.client.owner_name.clone(), "super_admin")
        .session(issued.session_id.to_hex())
        .device(device_id.as_str());
    crate::audit::note(
        &state.db,
        crate::audit::Entry::builder(issued.client.id, who, crate::audit::Action::Login, "devicesessions")
            .entity_id(issued.session_id.to_hex())
            .build(),
    )
    .await?;
    Ok(Json(LoginResponse {
        success: true,
        message: "Login successful".into(),
        client_id: issued.client.id.to_hex(),
        token: issued.token,
        device_session_id: issued.session_id.to_hex(),
        phone_number: issued.client.phone_number,
    }))
}

/// End the token's device session.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", request_body(content = LogoutRequest, description = "Optional; nothing is required"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Logged out", body = LogoutResponse),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "clientId mismatch", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("session"))),
)]
pub async fn logout(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiJson(_req): ApiJson<LogoutRequest>,
) -> AppResult<Json<LogoutResponse>> {
    service::logout(&state, auth.client_id, auth.session_id).await?;
    crate::audit::note(
        &state.db,
        crate::audit::Entry::builder(
            auth.client_id,
            crate::audit::who(&auth),
            crate::audit::Action::Logout,
            "devicesessions",
        )
        .entity_id(auth.session_id.to_hex())
        .build(),
    )
    .await?;
    Ok(Json(LogoutResponse {
        success: true,
        message: "Logged out".into(),
        device_session_id: auth.session_id.to_hex(),
    }))
}
