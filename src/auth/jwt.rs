//! HS256 tokens bound to a device session. The algorithm is pinned (no `alg:none`, no RS/HS
//! confusion); `exp`, `iss`, `aud` and `sub` are required.

use jsonwebtoken::{decode, encode, errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::{
    config::Config,
    error::{code, AppError},
};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The client (tenant) id, hex.
    pub sub: String,
    /// v1 claim names, kept for the app.
    #[serde(rename = "clientId")]
    pub client_id: String,
    #[serde(rename = "deviceSessionId")]
    pub device_session_id: String,
    #[serde(rename = "phoneNumber")]
    pub phone_number: String,
    /// The signed-in user (issue 15), hex; absent in tokens issued before staff existed and in
    /// the owner's: the owner, whose user id is the client id.
    #[serde(rename = "userId", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_secs: i64,
}

impl JwtKeys {
    pub fn new(config: &Config) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        JwtKeys {
            encoding: EncodingKey::from_secret(config.jwt_secret.as_bytes()),
            decoding: DecodingKey::from_secret(config.jwt_secret.as_bytes()),
            validation,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            ttl_secs: config.jwt_ttl.as_secs() as i64,
        }
    }

    /// A token for `session_id` of `client_id`; `user_id`: a staff member (`None`: the owner,
    /// the v1 shape unchanged).
    pub fn issue(
        &self,
        client_id: &str,
        session_id: &str,
        phone: &str,
        user_id: Option<&str>,
    ) -> Result<String, AppError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: client_id.to_string(),
            client_id: client_id.to_string(),
            device_session_id: session_id.to_string(),
            phone_number: phone.to_string(),
            user_id: user_id.map(str::to_string),
            iat: now,
            exp: now + self.ttl_secs,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::internal(format!("jwt encode: {e}")))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => {
                AppError::unauthorized(code::TOKEN_EXPIRED, "Token expired, please log in again")
            }
            _ => AppError::unauthorized(code::TOKEN_INVALID, "Invalid token"),
        })?;
        if data.claims.sub != data.claims.client_id {
            return Err(AppError::unauthorized(code::TOKEN_INVALID, "Invalid token"));
        }
        Ok(data.claims)
    }
}
