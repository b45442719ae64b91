//! One error type for the whole API and the v1 JSON envelope.
//!
//! * 400 answers carry `errors: [string]` (the v1 app reads that array), never `message`;
//! * every other error carries `message`;
//! * every error carries a stable machine-readable `code`.
//!
//! Driver and internal errors are logged (with the request id of the current span) and
//! answer a generic text: no database error string ever reaches a client.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

/// Stable machine-readable codes (the `code` field of every error envelope).
pub mod code {
    pub const VALIDATION: &str = "VALIDATION_ERROR";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const MALFORMED_JSON: &str = "MALFORMED_JSON";
    pub const UNAUTHORIZED: &str = "UNAUTHORIZED";
    pub const TOKEN_INVALID: &str = "TOKEN_INVALID";
    pub const TOKEN_EXPIRED: &str = "TOKEN_EXPIRED";
    pub const SESSION_REPLACED: &str = "SESSION_REPLACED";
    pub const SESSION_ENDED: &str = "SESSION_ENDED";
    pub const INVALID_CREDENTIALS: &str = "INVALID_CREDENTIALS";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const TENANT_MISMATCH: &str = "TENANT_MISMATCH";
    pub const ACCOUNT_INACTIVE: &str = "ACCOUNT_INACTIVE";
    /// A staff user waiting for the shop's approval or the invitation's acceptance.
    pub const ACCOUNT_PENDING: &str = "ACCOUNT_PENDING";
    /// Every seat of the shop (`maxActiveUsers`) is signed in.
    pub const SEATS_FULL: &str = "SEATS_FULL";
    /// The action needs a manager's approval token (issue 15).
    pub const APPROVAL_REQUIRED: &str = "APPROVAL_REQUIRED";
    /// The approval token is unknown, used, expired or bound to another action.
    pub const APPROVAL_INVALID: &str = "APPROVAL_INVALID";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const ROUTE_NOT_FOUND: &str = "ROUTE_NOT_FOUND";
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub const CONFLICT: &str = "CONFLICT";
    pub const DUPLICATE: &str = "DUPLICATE";
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub const UNPROCESSABLE: &str = "UNPROCESSABLE";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    pub const TIMEOUT: &str = "REQUEST_TIMEOUT";
    /// 504: the request timed out while money-moving work it started may still commit
    /// (retry with the same `X-Idempotency-Key`).
    pub const OUTCOME_UNKNOWN: &str = "OUTCOME_UNKNOWN";
    pub const INTERNAL: &str = "INTERNAL_ERROR";
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400 with one string per failed field: `"<field.path>: <text>"`.
    #[error("validation failed: {0:?}")]
    Validation(Vec<String>),
    /// 400 `VALIDATION` like [`AppError::Validation`], with more of the answer's body
    /// (`detail`'s fields are added to it: e.g. `computed`, the server's figures of a sale
    /// whose client total disagreed, issue 17).
    #[error("validation failed: {errors:?}")]
    ValidationWith { errors: Vec<String>, detail: serde_json::Value },
    /// 400 for a business rule (`"<operation failed>: <reason>"`).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_secs: u64 },
    #[error("{0}")]
    ServiceUnavailable(String),
    #[error("database error: {0}")]
    Database(#[from] mongodb::error::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn validation(field: &str, text: impl std::fmt::Display) -> Self {
        AppError::Validation(vec![format!("{field}: {text}")])
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        AppError::BadRequest { code: code::BAD_REQUEST, message: message.into() }
    }
    pub fn bad_request_code(code: &'static str, message: impl Into<String>) -> Self {
        AppError::BadRequest { code, message: message.into() }
    }
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Unauthorized { code, message: message.into() }
    }
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Forbidden { code, message: message.into() }
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound(what.into())
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict { code, message: message.into() }
    }
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Unprocessable { code, message: message.into() }
    }
    pub fn internal(message: impl Into<String>) -> Self {
        AppError::Internal(message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation(_) | AppError::ValidationWith { .. } | AppError::BadRequest { .. } => {
                StatusCode::BAD_REQUEST
            }
            AppError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(e) if is_unavailable(e) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) | AppError::ValidationWith { .. } => code::VALIDATION,
            AppError::BadRequest { code, .. }
            | AppError::Unauthorized { code, .. }
            | AppError::Forbidden { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::Unprocessable { code, .. } => code,
            AppError::NotFound(_) => code::NOT_FOUND,
            AppError::PayloadTooLarge => code::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => code::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests { .. } => code::RATE_LIMITED,
            AppError::ServiceUnavailable(_) => code::SERVICE_UNAVAILABLE,
            AppError::Database(e) if is_unavailable(e) => code::SERVICE_UNAVAILABLE,
            AppError::Database(_) | AppError::Internal(_) => code::INTERNAL,
        }
    }
}

/// The database cannot be reached right now (answer 503, the client may retry).
///
/// Besides "no server" and network errors this covers what a restarting or stepping-down
/// node answers (shutdown, not primary, interrupted), and transaction errors the driver
/// labels retryable that outlived the transaction retry budget.
pub fn is_unavailable(e: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT};
    if matches!(*e.kind, ErrorKind::ServerSelection { .. } | ErrorKind::Io(_) | ErrorKind::ConnectionPoolCleared { .. })
    {
        return true;
    }
    if [TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT, "RetryableWriteError"]
        .iter()
        .any(|l| e.contains_label(l))
    {
        return true;
    }
    let server_code = match &*e.kind {
        ErrorKind::Command(c) => Some(c.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(c)) => Some(c.code),
        ErrorKind::Write(WriteFailure::WriteError(c)) => Some(c.code),
        _ => None,
    };
    // HostUnreachable, HostNotFound, MaxTimeMSExpired, WriteConcernFailed, NetworkTimeout,
    // ShutdownInProgress, ReadConcernMajorityNotAvailableYet, PrimarySteppedDown,
    // ExceededTimeLimit, SocketException, NotWritablePrimary, InterruptedAtShutdown,
    // InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary
    const UNAVAILABLE: [i32; 15] = [6, 7, 50, 64, 89, 91, 134, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436];
    server_code.is_some_and(|c| UNAVAILABLE.contains(&c))
}

/// The JSON error body: `{success:false, code, errors}` for 400, `{success:false, code, message}` otherwise.
pub fn envelope(status: StatusCode, code: &str, text: &str) -> Response {
    let body = if status == StatusCode::BAD_REQUEST {
        json!({ "success": false, "code": code, "errors": [text] })
    } else {
        json!({ "success": false, "code": code, "message": text })
    };
    (status, Json(body)).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = self.code();
        match &self {
            AppError::Database(e) => {
                tracing::error!(error = %e, "database error");
            }
            AppError::Internal(e) => {
                tracing::error!(error = %e, "internal error")
            }
            _ if status.is_server_error() => tracing::warn!(error = %self, "request failed"),
            _ => tracing::debug!(error = %self, status = status.as_u16(), "request rejected"),
        }
        let message = match &self {
            AppError::Validation(errors) => {
                let body = json!({ "success": false, "code": code, "errors": errors });
                return (status, Json(body)).into_response();
            }
            AppError::ValidationWith { errors, detail } => {
                let mut body = json!({ "success": false, "code": code, "errors": errors });
                if let (Some(b), Some(d)) = (body.as_object_mut(), detail.as_object()) {
                    for (k, v) in d {
                        b.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                return (status, Json(body)).into_response();
            }
            AppError::Database(_) if status == StatusCode::SERVICE_UNAVAILABLE => {
                "The database is temporarily unavailable; please retry".to_string()
            }
            AppError::Database(_) | AppError::Internal(_) => "Internal server error".to_string(),
            other => other.to_string(),
        };
        let mut resp = envelope(status, code, &message);
        if let AppError::TooManyRequests { retry_after_secs, .. } = self {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

impl From<bson::oid::Error> for AppError {
    fn from(_: bson::oid::Error) -> Self {
        AppError::validation("id", "must be a 24-character hex ObjectId")
    }
}

impl From<bson::ser::Error> for AppError {
    fn from(e: bson::ser::Error) -> Self {
        AppError::Internal(format!("bson serialization: {e}"))
    }
}

impl From<bson::de::Error> for AppError {
    fn from(e: bson::de::Error) -> Self {
        AppError::Internal(format!("bson deserialization: {e}"))
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(format!("blocking task failed: {e}"))
    }
}

/// Duplicate-key (E11000) detection for the repository layer.
pub fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    match &*e.kind {
        ErrorKind::Write(WriteFailure::WriteError(we)) => we.code == 11000,
        ErrorKind::Command(ce) => ce.code == 11000,
        ErrorKind::InsertMany(ime) => {
            ime.write_errors.as_ref().is_some_and(|errs| errs.iter().any(|we| we.code == 11000))
        }
        _ => e.to_string().contains("E11000"),
    }
}
