//! Viveka: the billing backend behind the shop app.
//!
//! `build_app` assembles the router (routes -> handlers -> services -> repositories) and
//! `serve` runs it on any listener with a shutdown future, so tests start the real server
//! on `127.0.0.1:0`.

pub mod access;
pub mod address;
pub mod approval;
#[cfg(test)]
mod arb;
pub mod audit;
pub mod auth;
pub mod barcode;
pub mod billing;
pub mod catalog;
pub mod changelog;
pub mod client;
pub mod config;
pub mod csv;
pub mod customer;
pub mod dashboard;
pub mod db;
pub mod dealer;
pub mod error;
pub mod extract;
pub mod gst;
pub mod gstin;
pub mod health;
pub mod http;
pub mod idem;
pub mod limits;
pub mod money;
pub mod openapi;
pub mod otp;
pub mod paging;
pub mod postman;
pub mod ratelimit;
pub mod security;
pub mod staff;
pub mod state;
pub mod states;
pub mod sync;
pub mod telemetry;
pub mod time;
pub mod users;
pub mod validate;
pub mod window;
pub mod wire;

use std::{future::Future, net::SocketAddr, sync::Arc};

use axum::{
    extract::{DefaultBodyLimit, MatchedPath, Request},
    middleware,
    routing::get,
    Router,
};
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::{config::Config, otp::sender::SmsSender, state::AppState};

/// The full router and its OpenAPI document.
pub fn build_router(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    build_router_with(state, Router::new())
}

/// [`build_router`] with `extra` routes served behind the same layers (envelope, panic guard,
/// timeout, ...) but absent from the OpenAPI document. Only the tests pass any (e.g. a route
/// that panics, to check the panic guard); the server binary never does, so such routes are
/// unreachable in production.
pub fn build_router_with(state: AppState, extra: Router<AppState>) -> (Router, utoipa::openapi::OpenApi) {
    let cfg = &state.config;
    let public = OpenApiRouter::new()
        .merge(health::routes())
        .merge(otp::routes(cfg.is_production()))
        .merge(auth::public_routes())
        .merge(staff::public_routes());
    let protected = OpenApiRouter::new()
        .merge(auth::protected_routes())
        .merge(client::routes())
        .merge(catalog::routes())
        .merge(customer::routes())
        .merge(billing::routes())
        .merge(dealer::routes())
        .merge(dashboard::routes())
        .merge(sync::routes())
        .merge(staff::routes())
        .merge(audit::routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_auth));
    let (api, mut doc) =
        OpenApiRouter::with_openapi(openapi::ApiDoc::openapi()).nest("/api", public.merge(protected)).split_for_parts();
    openapi::add_common_responses(&mut doc);
    openapi::type_integer_query_params(&mut doc);
    // the guard (`auth::require_auth`) reads each route's `x-permission` from this table
    let permissions = std::sync::Arc::new(access::RoutePermissions::from_openapi(&doc));
    let doc_for_route = doc.clone();
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    let router = api
        .route("/api/openapi.json", get(move || openapi::openapi_json(doc_for_route.clone())))
        .merge(openapi::docs_router())
        .merge(extra)
        .fallback(http::fallback)
        .layer(axum::Extension(permissions))
        .layer(middleware::from_fn_with_state(cfg.request_timeout, http::timeout))
        .layer(DefaultBodyLimit::max(cfg.body_limit_bytes))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let path = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
                let rid = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                tracing::info_span!("request", method = %req.method(), path = path.as_deref().unwrap_or("<unmatched>"), request_id = %rid)
            }),
        )
        // the panic guard answers the JSON envelope itself (a 500 `INTERNAL_ERROR`), so the
        // client never sees tower-http's `text/plain` "Service panicked"
        .layer(CatchPanicLayer::custom(http::panic_response))
        .layer(middleware::from_fn(http::normalize_errors))
        .layer(CompressionLayer::new().gzip(true))
        .layer(http::cors(cfg))
        .layer(middleware::from_fn(http::security_headers))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state);
    (router, doc)
}

/// Connect to MongoDB, apply migrations, and build the state.
pub async fn build_state(config: Config, sms: Arc<dyn SmsSender>) -> anyhow::Result<AppState> {
    let client = db::connect(&config).await?;
    let db_name = db::database_name(&config).await;
    let database = client.database(&db_name);
    let applied = db::migrations::run(&database).await?;
    if !applied.is_empty() {
        tracing::info!(?applied, "migrations applied");
    }
    Ok(AppState::new(config, client, database, sms))
}

/// The SMS sender chosen by `OTP_PROVIDER`.
pub fn sms_sender(config: &Config) -> Arc<dyn SmsSender> {
    match (config.otp_provider, &config.twofactor_api_key) {
        (config::OtpProvider::TwoFactor, Some(key)) => Arc::new(otp::sender::TwoFactorSender::new(key.clone())),
        _ => Arc::new(otp::sender::ConsoleSender),
    }
}

/// Serve until `shutdown` resolves, then drain in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // the change log is append-only on the write path; superseded rows go in the background
    let pruner = tokio::spawn(changelog::prune_forever(state.db.clone()));
    let (router, _) = build_router(state);
    let served = serve_router(listener, router, shutdown).await;
    pruner.abort();
    served
}

/// Serve an already built router (see [`build_router_with`]) until `shutdown` resolves.
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
