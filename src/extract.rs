//! Extractors whose rejections are `AppError`s in the v1 envelope.
//!
//! * [`AuthClient`] is the verified tenant that `auth::require_auth` put on the request (401
//!   without it); it lives here, not in `auth`, so every feature takes it without depending
//!   on the auth feature.
//! * [`ApiJson`] reads a JSON body (an empty body = `{}` whatever its content type, so every
//!   route whose body is optional accepts a bare POST), answers 415 for a non-empty body of
//!   another content type,
//!   413 past the body limit, 400 for malformed JSON or wrong types (`"<path>: <text>"`), and
//!   403 when the body carries a `clientId` that is not the token's client (an empty
//!   `"clientId": ""` counts as absent).
//! * [`ApiQuery`] and [`ApiPath`] map their rejections to 400 with `query.` / `params.` paths.
//! * Control characters: a JSON body with a forbidden control character in any string or key
//!   (NUL, the other C0 controls but tab and line breaks, DEL, C1; see
//!   `validate::is_forbidden_control`) is a 400 naming the field, before any handler runs; a
//!   query or path parameter may hold no control character at all. So no such text ever
//!   reaches a query, a regular expression or the database. The v2 push reads its body with
//!   [`ApiJsonOps`] instead, which leaves this check to each operation (a rejected operation,
//!   not a refused push the device would resend forever).

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts, StatusCode},
};
use bson::oid::ObjectId;
use serde::de::DeserializeOwned;

use crate::error::{code, AppError};

/// The authenticated client (tenant), resolved from a verified token whose device session
/// is still active. Handlers take it as an extractor; every repository call filters by
/// `client_id`. `user` is the person working (issue 15): the shop's owner for a v1 token.
#[derive(Debug, Clone)]
pub struct AuthClient {
    pub client_id: ObjectId,
    pub session_id: ObjectId,
    /// The signed-in user's phone (the shop's phone for its owner).
    pub phone: String,
    pub user: crate::access::Actor,
}

impl AuthClient {
    /// True when the signed-in user holds `p`.
    pub fn can(&self, p: crate::access::Permission) -> bool {
        self.user.grants.contains(p)
    }

    /// Who did it, to record on a document (`billedBy`, `recordedBy`, `createdBy`).
    pub fn by(&self) -> crate::access::By {
        self.user.by()
    }

    /// 403 unless `other` (a `clientId` from a path, body or query) is this client.
    pub fn ensure_same(&self, other: &str) -> Result<(), AppError> {
        if other.trim() == self.client_id.to_hex() {
            Ok(())
        } else {
            Err(AppError::forbidden(code::TENANT_MISMATCH, "clientId does not match the authenticated client"))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuthClient {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<AuthClient>()
            .cloned()
            .ok_or_else(|| AppError::unauthorized(code::UNAUTHORIZED, "Authentication required"))
    }
}

/// JSON body extractor (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_json(req, state, true).await.map(ApiJson)
    }
}

/// [`ApiJson`] without the body-wide control-character check, for the v2 push (each
/// operation is checked on its own and rejected alone).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJsonOps<T>(pub T);

impl<S, T> FromRequest<S> for ApiJsonOps<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_json(req, state, false).await.map(ApiJsonOps)
    }
}

async fn read_json<S: Send + Sync, T: DeserializeOwned>(
    req: Request,
    state: &S,
    check_text: bool,
) -> Result<T, AppError> {
    let is_json = req.headers().get(header::CONTENT_TYPE).is_none_or(|ct| {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let mime = ct.split(';').next().unwrap_or("").trim();
        mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
    });
    let auth = req.extensions().get::<AuthClient>().cloned();
    let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::bad_request_code(code::MALFORMED_JSON, "body: could not be read")
        }
    })?;
    // an empty body is an empty body whatever its content type (axios puts
    // `application/x-www-form-urlencoded` on a bare POST): it reads as `{}`, so a route
    // whose body is optional accepts it; a non-empty body must be JSON
    if !is_json && !is_blank(&bytes) {
        return Err(AppError::UnsupportedMediaType("Content-Type must be application/json".to_string()));
    }
    let mut value = parse_body(&bytes)?;
    drop_empty_client_id(&mut value);
    if let Some(auth) = auth {
        check_body_client(&auth, &value)?;
    }
    if check_text {
        if let Some(field) = crate::validate::control_char_path(&value) {
            return Err(AppError::validation(&field, crate::validate::CONTROL_CHARS));
        }
    }
    from_value(value)
}

/// An empty or whitespace-only body.
fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| b.is_ascii_whitespace())
}

/// Parse raw bytes as a JSON object (empty or whitespace-only = `{}`).
pub fn parse_body(bytes: &[u8]) -> Result<serde_json::Value, AppError> {
    if is_blank(bytes) {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        AppError::bad_request_code(
            code::MALFORMED_JSON,
            format!("body: malformed JSON ({})", strip_position(&e.to_string())),
        )
    })?;
    if !value.is_object() {
        return Err(AppError::validation("body", "must be a JSON object"));
    }
    Ok(value)
}

/// `"clientId": ""` (or only spaces) is treated as absent: the tenant is the token's, and
/// clients (the v1 app's blank forms, generated Postman bodies) send an empty placeholder.
/// Any other value is checked by `check_body_client`.
fn drop_empty_client_id(value: &mut serde_json::Value) {
    if let Some(obj) = value.as_object_mut() {
        if obj.get("clientId").and_then(serde_json::Value::as_str).is_some_and(|s| s.trim().is_empty()) {
            obj.remove("clientId");
        }
    }
}

/// A body `clientId` must be the token's client (403 otherwise), as in v1.
fn check_body_client(auth: &AuthClient, value: &serde_json::Value) -> Result<(), AppError> {
    match value.get("clientId") {
        None | Some(serde_json::Value::Null) => Ok(()),
        Some(serde_json::Value::String(s)) if s.trim() == auth.client_id.to_hex() => Ok(()),
        Some(_) => Err(AppError::forbidden(code::TENANT_MISMATCH, "clientId does not match the authenticated client")),
    }
}

/// Deserialize a JSON value into `T`, reporting errors as `"<field.path>: <text>"`.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, AppError> {
    serde_path_to_error::deserialize(value).map_err(|e| AppError::Validation(vec![describe(&e, "")]))
}

fn describe<E: std::fmt::Display>(e: &serde_path_to_error::Error<E>, prefix: &str) -> String {
    let raw = strip_position(&e.inner().to_string());
    let path = e.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let join = |field: &str| {
        let mut p = String::from(prefix);
        if !path.is_empty() {
            p.push_str(&path);
            if !field.is_empty() {
                p.push('.');
            }
        }
        p.push_str(field);
        if p.is_empty() {
            "body".to_string()
        } else {
            p
        }
    };
    if let Some(f) = backticked(&raw, "missing field `") {
        return format!("{}: is required", join(&f));
    }
    if let Some(f) = backticked(&raw, "unknown field `") {
        return format!("{}: is not an accepted field", join(&f));
    }
    let text = raw.replace("invalid type: ", "wrong type: ").replace("serde_json::number::Number", "a number");
    format!("{}: {}", join(""), text)
}

fn backticked(s: &str, prefix: &str) -> Option<String> {
    let rest = s.strip_prefix(prefix)?;
    Some(rest.split('`').next()?.to_string())
}

fn strip_position(s: &str) -> String {
    match s.find(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// Query-string extractor: 400 with `query.<field>` paths.
#[derive(Debug, Clone, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let bad: Vec<String> = form_urlencoded::parse(q.as_bytes())
            .filter(|(k, v)| k.chars().chain(v.chars()).any(char::is_control))
            .map(|(k, _)| format!("query.{}: {}", k.escape_default(), crate::validate::CONTROL_CHARS))
            .collect();
        if !bad.is_empty() {
            return Err(AppError::Validation(bad));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| AppError::Validation(vec![describe(&e, "query.")]))
    }
}

/// Path extractor: 400 with a `params.` prefix on failure.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Ok(raw) = axum::extract::RawPathParams::from_request_parts(parts, state).await {
            if let Some((k, _)) = raw.iter().find(|(_, v)| v.chars().any(char::is_control)) {
                return Err(AppError::validation(&format!("params.{k}"), crate::validate::CONTROL_CHARS));
            }
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|e| AppError::validation("params", e.body_text()))
    }
}
