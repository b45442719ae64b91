//! catalog module (routes, handlers, service, repository).

pub mod model;
pub mod stock;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Routes of this module (all behind the auth layer).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
