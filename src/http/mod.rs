//! HTTP plumbing: client address, error-envelope normalisation, timeout, security headers,
//! CORS, and the fallback for unknown routes.

use std::{net::SocketAddr, time::Duration};

use axum::{
    body::Body,
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{header, request::Parts, HeaderName, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{
    config::Config,
    error::{code, envelope, AppError},
    state::AppState,
};

/// The caller's IP: the socket peer, or the first `X-Forwarded-For` hop when
/// `TRUST_PROXY=true` (behind a load balancer).
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if state.config.trust_proxy {
            if let Some(first) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty())
            {
                return Ok(ClientIp(first.to_string()));
            }
        }
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip().to_string())
            .unwrap_or_else(|| "unknown".to_string());
        Ok(ClientIp(ip))
    }
}

/// Any error response that is not already our JSON envelope (405 from the router, 408/413
/// from layers, a panic) is rewritten into it, keeping its status.
pub async fn normalize_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let (code_, text) = match status {
        StatusCode::NOT_FOUND => (code::ROUTE_NOT_FOUND, "Route not found"),
        StatusCode::METHOD_NOT_ALLOWED => (code::METHOD_NOT_ALLOWED, "Method not allowed on this route"),
        StatusCode::PAYLOAD_TOO_LARGE => (code::PAYLOAD_TOO_LARGE, "request body too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (code::UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json"),
        StatusCode::REQUEST_TIMEOUT => (code::TIMEOUT, "Request timed out"),
        StatusCode::BAD_REQUEST => (code::BAD_REQUEST, "body: bad request"),
        s if s.is_server_error() => (code::INTERNAL, "Internal server error"),
        _ => (code::BAD_REQUEST, "Request rejected"),
    };
    let mut out = envelope(status, code_, text);
    for h in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = resp.headers().get(&h) {
            out.headers_mut().insert(h, v.clone());
        }
    }
    out
}

/// Bound every request: past the limit the client gets 503 in the envelope (the work is
/// dropped; database writes are transactional so nothing is half-written).
pub async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => envelope(StatusCode::SERVICE_UNAVAILABLE, code::TIMEOUT, "The request took too long; please retry"),
    }
}

/// Standard hardening headers on every response. The docs page (`/api/docs/...`) gets a CSP
/// that lets it run Swagger UI from this server only (its files are in the binary; no other
/// host); everything else is JSON and gets `default-src 'none'`.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let is_docs = req.uri().path() == "/api/docs" || req.uri().path().starts_with("/api/docs/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    };
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    set(h, "strict-transport-security", "max-age=15552000; includeSubDomains");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "cross-origin-resource-policy", "same-site");
    set(h, "x-dns-prefetch-control", "off");
    if is_docs {
        set(
            h,
            "content-security-policy",
            "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'",
        );
    } else {
        set(h, "content-security-policy", "default-src 'none'; frame-ancestors 'none'");
    }
    resp
}

/// CORS: requests without `Origin` (the mobile app) are unaffected; browser origins must be
/// listed in `CORS_ORIGINS`. An unlisted origin simply gets no CORS headers (the browser
/// blocks it) instead of the v1 500.
pub fn cors(config: &Config) -> CorsLayer {
    let origins: Vec<HeaderValue> = config.cors_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-idempotency-key"),
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id")])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600))
}

/// Unknown routes: 404 in the envelope. Under the authenticated prefixes the token is
/// checked first (401 without one), as in v1.
pub async fn fallback(State(state): State<AppState>, req: Request<Body>) -> Response {
    let path = req.uri().path();
    let protected = ["/api/business", "/api/dealer", "/api/dashboard", "/api/client", "/api/v2"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")));
    if protected {
        if let Err(e) = crate::auth::authenticate(&state, req.headers()).await {
            return e.into_response();
        }
    }
    envelope(StatusCode::NOT_FOUND, code::ROUTE_NOT_FOUND, "Route not found")
}
