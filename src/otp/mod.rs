//! OTP: send, development mock send, verify, development clear.

pub mod handlers;
pub mod repo;
pub mod sender;
pub mod service;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// `/otp/send`, `/otp/verify`; in development also `/mockotp/send` and `/otp/clear`.
pub fn routes(production: bool) -> OpenApiRouter<AppState> {
    let r = OpenApiRouter::new().routes(routes!(handlers::send)).routes(routes!(handlers::verify));
    if production {
        r
    } else {
        r.routes(routes!(handlers::mock_send)).routes(routes!(handlers::clear))
    }
}
