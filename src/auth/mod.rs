//! Authentication: OTP/password login, one active device per client, and the tenant guard.

pub mod cache;
pub mod dto;
pub mod handlers;
pub mod jwt;
pub mod repo;
pub mod service;

use std::sync::Arc;

use axum::{
    extract::{MatchedPath, RawPathParams, Request, State},
    http::header,
    middleware::Next,
    response::Response,
};
use bson::oid::ObjectId;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    access::{Actor, RoutePermissions},
    error::{code, AppError},
    state::AppState,
};

/// The authenticated client; it lives with the other extractors in [`crate::extract`] (so a
/// feature module can take it without depending on `auth`) and is re-exported here.
pub use crate::extract::AuthClient;

fn bearer(parts: &axum::http::HeaderMap) -> Option<&str> {
    let v = parts.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ").map(str::trim).filter(|t| !t.is_empty())
}

/// Resolve the token into an [`AuthClient`]: signature and claims, an active device session
/// of the token's user (a replaced one answers 401 `SESSION_REPLACED`, an ended one 401
/// `SESSION_ENDED`), an active shop (else 403), and for a staff member an active user, whose
/// role and grants are read here (so a role change or a deactivation takes effect on the next
/// request, within `SESSION_CACHE_MS` on other instances). A session confirmed less than
/// `SESSION_CACHE_MS` ago is not read again (see [`cache`]). The owner (a token without
/// `userId`, or with the shop's id) needs no user read.
pub async fn authenticate(state: &AppState, headers: &axum::http::HeaderMap) -> Result<AuthClient, AppError> {
    let token = bearer(headers).ok_or_else(|| AppError::unauthorized(code::UNAUTHORIZED, "Authentication required"))?;
    let claims = state.jwt.verify(token)?;
    let invalid = || AppError::unauthorized(code::TOKEN_INVALID, "Invalid token");
    let client_id = ObjectId::parse_str(&claims.client_id).map_err(|_| invalid())?;
    let session_id = ObjectId::parse_str(&claims.device_session_id).map_err(|_| invalid())?;
    let user_id = match &claims.user_id {
        Some(u) => ObjectId::parse_str(u).map_err(|_| invalid())?,
        None => client_id,
    };
    if let Some(user) = state.sessions.is_fresh(session_id, client_id).filter(|a| a.user_id == user_id) {
        return Ok(AuthClient { client_id, session_id, phone: claims.phone_number, user });
    }
    let (generation, checked_at) = (state.sessions.generation(), std::time::Instant::now());
    let staff = async {
        if user_id == client_id {
            Ok(None)
        } else {
            crate::users::repo::find(&state.db, client_id, user_id).await
        }
    };
    let (session, shop, user) = tokio::try_join!(
        repo::find(&state.db, session_id, client_id),
        crate::client::repo::access(&state.db, client_id),
        staff
    )?;
    let session = session.filter(|s| s.user() == user_id).ok_or_else(invalid)?;
    if !session.is_active {
        return Err(match session.ended_reason.as_deref() {
            Some(repo::ENDED_REPLACED) => AppError::unauthorized(
                code::SESSION_REPLACED,
                "This account was logged in on another device; please log in again",
            ),
            Some(repo::ENDED_DEACTIVATED) => {
                AppError::unauthorized(code::SESSION_ENDED, "This user was deactivated by the shop")
            }
            _ => AppError::unauthorized(code::SESSION_ENDED, "Session ended; please log in again"),
        });
    }
    let shop = shop
        .filter(|s| s.is_active)
        .ok_or_else(|| AppError::forbidden(code::ACCOUNT_INACTIVE, "Account is inactive"))?;
    let actor = if user_id == client_id {
        Actor::owner(client_id, &shop.owner_name)
    } else {
        let u = user.ok_or_else(invalid)?;
        if u.status != crate::users::UserStatus::Active {
            return Err(AppError::unauthorized(code::SESSION_ENDED, "This user was deactivated by the shop"));
        }
        u.actor(shop.staff.role_grants.get(&u.role))
    };
    if chrono::Utc::now().timestamp_millis() - session.last_seen_at.timestamp_millis() > 60_000 {
        repo::touch(&state.db, client_id, session_id).await?;
    }
    state.sessions.remember(session_id, client_id, actor.clone(), generation, checked_at);
    Ok(AuthClient { client_id, session_id, phone: claims.phone_number, user: actor })
}

/// Route layer for every protected route: authenticates, then binds any `clientId` in the
/// path or the query string to the token (403 on mismatch). Bodies are checked by
/// [`crate::extract::ApiJson`].
pub async fn require_auth(
    State(state): State<AppState>,
    params: Result<RawPathParams, axum::extract::rejection::RawPathParamsRejection>,
    mut req: Request,
    next: Next,
) -> Result<Response, AppError> {
    let auth = authenticate(&state, req.headers()).await?;
    if let Ok(params) = &params {
        for (name, value) in params.iter() {
            if name == "clientId" {
                auth.ensure_same(value)?;
            }
        }
    }
    if let Some(q) = req.uri().query() {
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            // `?clientId=` (empty) is absent, as an empty body clientId is (ApiJson); any other
            // value, blanks and control characters included, must be the token's client
            if k == "clientId" && !v.is_empty() {
                auth.ensure_same(&v)?;
            }
        }
    }
    // the route's declared permission (`x-permission`, read from the OpenAPI document into
    // `RoutePermissions`); a protected route that declares none is refused to everyone
    let needed = match (req.extensions().get::<Arc<RoutePermissions>>(), req.extensions().get::<MatchedPath>()) {
        (Some(table), Some(path)) => table.needed(req.method(), path.as_str()),
        _ => None,
    };
    match needed {
        Some(p) if auth.can(p) => {}
        Some(p) => {
            return Err(AppError::forbidden(
                code::FORBIDDEN,
                format!(
                    "Your role ({}) may not do this: it needs the {} permission",
                    auth.user.role.as_str(),
                    p.as_str()
                ),
            ))
        }
        None => return Err(AppError::forbidden(code::FORBIDDEN, "This route declares no permission")),
    }
    req.extensions_mut().insert(auth);
    Ok(next.run(req).await)
}

/// Public auth routes (register, login).
pub fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handlers::register)).routes(routes!(handlers::login))
}

/// Routes that need a token.
pub fn protected_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handlers::logout))
}
