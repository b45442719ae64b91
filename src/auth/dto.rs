//! Wire types of register / login / logout.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::client::model::ClientSettings;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterRequest {
    // The four required fields default to "" so that the handler reports every missing one
    // at once ("<field>: is required"), not only the first that serde meets.
    #[serde(default)]
    #[schema(example = "9890000000", required = true)]
    pub phone_number: String,
    /// The OTP from `/api/otp/send` with purpose `register` (digits, `OTP_LENGTH` long).
    #[serde(default)]
    #[schema(example = "1234", required = true)]
    pub otp: String,
    /// 2-100 characters.
    #[serde(default)]
    #[schema(example = "Asha Rao", required = true)]
    pub owner_name: String,
    /// 2-150 characters.
    #[serde(default)]
    #[schema(example = "Rao Auto Spares", required = true)]
    pub business_name: String,
    pub device_id: Option<String>,
    pub shop_name: Option<String>,
    pub location: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub gstin: Option<String>,
    pub profile_url: Option<String>,
    /// Optional password (8-128 characters) for later logins without OTP.
    pub password: Option<String>,
    pub client_settings: Option<ClientSettings>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterResponse {
    pub success: bool,
    pub message: String,
    pub client_id: String,
    pub phone_number: String,
    pub owner_name: String,
    pub business_name: String,
    pub token: String,
    pub device_session_id: String,
}

/// Log in with the phone and either an OTP (purpose `login`) or the password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    pub phone_number: String,
    pub otp: Option<String>,
    pub password: Option<String>,
    pub device_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    pub success: bool,
    pub message: String,
    pub client_id: String,
    pub token: String,
    pub device_session_id: String,
    pub phone_number: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogoutRequest {
    /// Ignored (the token's session is ended); kept for the v1 app.
    pub device_session_id: Option<String>,
    pub client_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogoutResponse {
    pub success: bool,
    pub message: String,
    pub device_session_id: String,
}
