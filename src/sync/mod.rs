//! sync module (routes, handlers, service, repository).

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Routes of this module (all behind the auth layer).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
