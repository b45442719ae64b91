//! HTTP plumbing: client address, error-envelope normalisation, timeout, security headers,
//! CORS, and the fallback for unknown routes.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

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

/// The caller's IP: the socket peer, or, with `TRUST_PROXY=true` (behind our own load
/// balancer), the address our proxy saw ([`forwarded_client`]).
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if state.config.trust_proxy {
            if let Some(ip) = forwarded_client(&parts.headers, state.config.trusted_proxy_hops) {
                return Ok(ClientIp(ip.to_string()));
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

/// The client address behind `hops` proxies of our own (`TRUSTED_PROXY_HOPS`, default 1).
///
/// Every proxy APPENDS the address it received the request from to `X-Forwarded-For`
/// (several header lines are one list, in order), so only the last `hops` entries were
/// written by our proxies; everything to their left was written by the caller and proves
/// nothing. The client is therefore the `hops`-th entry from the RIGHT, as `axum-client-ip`'s
/// rightmost source takes it (for one hop). `None` (use the socket peer) when the list has
/// fewer entries than `hops` or that entry is not an IP address. Taking the FIRST entry, as
/// before, let a caller pick any address and so walk past the per-IP OTP and password limits.
pub fn forwarded_client(headers: &axum::http::HeaderMap, hops: usize) -> Option<std::net::IpAddr> {
    if hops == 0 {
        return None;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let i = entries.len().checked_sub(hops)?;
    entries.get(i).and_then(|e| e.parse::<std::net::IpAddr>().ok())
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

/// The answer of the panic guard (`CatchPanicLayer`): a 500 in the JSON envelope with code
/// `INTERNAL_ERROR`. The panic message is logged (with the request span), never sent.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = %detail, "request handler panicked");
    envelope(StatusCode::INTERNAL_SERVER_ERROR, code::INTERNAL, "Internal server error")
}

tokio::task_local! {
    /// Set by [`detached`] when the request has handed money-moving work to its own task.
    static OUTCOME_PENDING: Arc<AtomicBool>;
}

/// Bound every request by `REQUEST_TIMEOUT_SECS`.
///
/// Past the limit the handler is dropped. If it had not started money-moving work, nothing
/// was written (writes are transactional) and the client gets 503 `REQUEST_TIMEOUT`, "please
/// retry". If it had ([`detached`]: sales, payments, sync batches, dealer payments), that work
/// goes on to its end in its own task and may commit: the client gets 504 `OUTCOME_UNKNOWN`,
/// to retry with the SAME `X-Idempotency-Key` (which answers the stored outcome), never
/// blindly without one (that could sell twice).
pub async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    let pending = Arc::new(AtomicBool::new(false));
    match tokio::time::timeout(limit, OUTCOME_PENDING.scope(pending.clone(), next.run(req))).await {
        Ok(r) => r,
        Err(_) if pending.load(Ordering::SeqCst) => envelope(
            StatusCode::GATEWAY_TIMEOUT,
            code::OUTCOME_UNKNOWN,
            "The request took too long and may still complete; retry with the same X-Idempotency-Key to get its outcome (without a key, check the list before sending it again)",
        ),
        Err(_) => envelope(StatusCode::SERVICE_UNAVAILABLE, code::TIMEOUT, "The request took too long; please retry"),
    }
}

/// Run money-moving work (a sale, a payment, a sync batch, a dealer payment) in a task of its
/// own that the request timeout cannot cancel, and wait for its result.
///
/// Dropping a request future half-way through a transaction cannot un-send a commit: the
/// sale may be stored while the client is told to retry, and a retry without a key sells
/// twice. Here the work (transaction, idempotency record, lock release) always runs to its
/// end; when the request timeout fires first, [`timeout`] answers 504 `OUTCOME_UNKNOWN`.
/// With `TEST_DELAY_AFTER_COMMIT_MS` (development only) the task sleeps after its work, so
/// tests can make the answer arrive after the timeout.
pub async fn detached<T, F>(state: &AppState, work: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, AppError>> + Send + 'static,
{
    let _ = OUTCOME_PENDING.try_with(|p| p.store(true, Ordering::SeqCst));
    let delay = state.config.test_delay_after_commit;
    tokio::spawn(async move {
        let out = work.await;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        out
    })
    .await?
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn xff(lines: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for l in lines {
            h.append("x-forwarded-for", HeaderValue::from_str(l).unwrap());
        }
        h
    }

    /// Finding (issue 12, 4): the first hop is whatever the caller wrote.
    #[test]
    fn forwarded_client_is_the_hop_our_proxy_appended() {
        // the caller wrote "1.2.3.4"; our one proxy appended the real peer 203.0.113.9
        let h = xff(&["1.2.3.4, 203.0.113.9"]);
        assert_eq!(forwarded_client(&h, 1), "203.0.113.9".parse().ok());
        // two proxies of ours: the client is the second from the right
        let h = xff(&["6.6.6.6, 198.51.100.7, 10.0.0.2"]);
        assert_eq!(forwarded_client(&h, 2), "198.51.100.7".parse().ok());
        // several header lines are one list
        let h = xff(&["6.6.6.6", "198.51.100.7"]);
        assert_eq!(forwarded_client(&h, 1), "198.51.100.7".parse().ok());
        // whatever the caller prepends, the answer does not move
        for spoof in ["", "9.9.9.9, ", "1.1.1.1, 2.2.2.2, ", "garbage, "] {
            let h = xff(&[&format!("{spoof}203.0.113.9")]);
            assert_eq!(forwarded_client(&h, 1), "203.0.113.9".parse().ok(), "{spoof:?}");
        }
        // fewer entries than hops, no header, junk, zero hops: the socket peer decides
        assert_eq!(forwarded_client(&xff(&["203.0.113.9"]), 2), None);
        assert_eq!(forwarded_client(&HeaderMap::new(), 1), None);
        assert_eq!(forwarded_client(&xff(&["1.2.3.4, not-an-ip"]), 1), None);
        assert_eq!(forwarded_client(&xff(&["1.2.3.4"]), 0), None);
        assert_eq!(forwarded_client(&xff(&["2001:db8::1"]), 1), "2001:db8::1".parse().ok());
    }
}
