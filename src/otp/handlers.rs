//! O1, O2 and the OTP verify/clear endpoints.

use axum::{extract::State, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    error::AppResult,
    extract::ApiJson,
    http::ClientIp,
    openapi::ErrorBody,
    otp::service::{self, Purpose, VerifyError},
    state::AppState,
    validate::Errors,
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendOtpRequest {
    #[schema(example = "9890000000")]
    pub phone_number: String,
    /// `register`, `login`, or `staff` (a staff member accepting an invitation, joining a
    /// shop or logging in by OTP).
    #[schema(example = "register")]
    pub purpose: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendOtpResponse {
    pub success: bool,
    pub message: String,
    pub phone_number: String,
    pub expires_in_seconds: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyOtpRequest {
    pub phone_number: String,
    pub otp: String,
    pub purpose: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClearOtpRequest {
    pub phone_number: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    pub success: bool,
    pub message: String,
}

fn parse_send(req: &SendOtpRequest) -> AppResult<(String, Purpose)> {
    let mut e = Errors::new();
    let phone = e.phone("phoneNumber", &req.phone_number);
    let purpose = Purpose::parse(req.purpose.as_deref());
    if purpose.is_err() {
        e.add("purpose", "must be register, login or staff");
    }
    e.finish()?;
    Ok((phone, purpose?))
}

async fn do_send(
    state: &AppState,
    ip: &str,
    req: SendOtpRequest,
    fixed: Option<String>,
) -> AppResult<Json<SendOtpResponse>> {
    let (phone, purpose) = parse_send(&req)?;
    service::send(state, &phone, purpose, ip, fixed).await?;
    Ok(Json(SendOtpResponse {
        success: true,
        message: "OTP sent".into(),
        phone_number: phone,
        expires_in_seconds: state.config.otp_ttl.as_secs(),
    }))
}

/// Send a one-time code by SMS (purpose `register` or `login`). Same answer whether or not
/// the phone has an account; limited per phone and per IP.
#[utoipa::path(post, path = "/otp/send", tag = "otp", request_body = SendOtpRequest,
    responses(
        (status = 200, description = "Code sent (if the phone is eligible)", body = SendOtpResponse),
        (status = 400, description = "Validation", body = ErrorBody),
        (status = 429, description = "Send limit reached", body = ErrorBody),
        (status = 503, description = "SMS provider unavailable", body = ErrorBody),
    ))]
pub async fn send(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(req): ApiJson<SendOtpRequest>,
) -> AppResult<Json<SendOtpResponse>> {
    do_send(&state, &ip.0, req, None).await
}

/// Development only (404 in production): issue the fixed code `1234` without SMS.
#[utoipa::path(post, path = "/mockotp/send", tag = "otp", request_body = SendOtpRequest,
    responses(
        (status = 200, description = "Fixed code issued", body = SendOtpResponse),
        (status = 400, description = "Validation", body = ErrorBody),
        (status = 429, description = "Send limit reached", body = ErrorBody),
    ))]
pub async fn mock_send(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(req): ApiJson<SendOtpRequest>,
) -> AppResult<Json<SendOtpResponse>> {
    let code = service::mock_code(state.config.otp_length);
    do_send(&state, &ip.0, req, Some(code)).await
}

/// Check a code without spending it (the app may verify before showing the sign-up form).
/// Each check counts as one of the code's 5 attempts.
#[utoipa::path(post, path = "/otp/verify", tag = "otp", request_body = VerifyOtpRequest,
    responses(
        (status = 200, description = "Code is valid", body = MessageResponse),
        (status = 400, description = "Validation, or invalid/expired code", body = ErrorBody),
        (status = 429, description = "Too many failed attempts today", body = ErrorBody),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<VerifyOtpRequest>,
) -> AppResult<Json<MessageResponse>> {
    let mut e = Errors::new();
    let phone = e.phone("phoneNumber", &req.phone_number);
    let len = state.config.otp_length;
    if req.otp.trim().len() != len || !req.otp.trim().bytes().all(|b| b.is_ascii_digit()) {
        e.add("otp", format!("must be exactly {len} digits"));
    }
    let purpose = Purpose::parse(req.purpose.as_deref());
    if purpose.is_err() {
        e.add("purpose", "must be register, login or staff");
    }
    e.finish()?;
    match service::verify(&state, &phone, purpose?, req.otp.trim(), false).await? {
        Ok(()) => Ok(Json(MessageResponse { success: true, message: "OTP verified".into() })),
        Err(VerifyError::Invalid) => Err(crate::error::AppError::validation("otp", "invalid or expired OTP")),
        Err(VerifyError::Locked) => Err(crate::error::AppError::TooManyRequests {
            message: "Too many failed OTP attempts today".into(),
            retry_after_secs: 3600,
        }),
    }
}

/// Development only (404 in production): forget the phone's codes and OTP counters.
#[utoipa::path(post, path = "/otp/clear", tag = "otp", request_body = ClearOtpRequest,
    responses(
        (status = 200, description = "Cleared", body = MessageResponse),
        (status = 400, description = "Validation", body = ErrorBody),
    ))]
pub async fn clear(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ClearOtpRequest>,
) -> AppResult<Json<MessageResponse>> {
    let mut e = Errors::new();
    let phone = e.phone("phoneNumber", &req.phone_number);
    e.finish()?;
    let n = service::clear(&state, &phone).await?;
    Ok(Json(MessageResponse { success: true, message: format!("Cleared {n} OTP session(s)") }))
}
