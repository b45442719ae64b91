//! The OpenAPI document (generated from the handlers' annotations by utoipa), the docs page,
//! and the Postman collection generated from the document.

use axum::Json;
use serde::Serialize;
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi, ToSchema,
};

/// Every error: `errors` on 400, `message` otherwise, and always a machine-readable `code`.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    #[schema(example = false)]
    pub success: bool,
    #[schema(example = "VALIDATION_ERROR")]
    pub code: String,
    /// Present on every status except 400.
    pub message: Option<String>,
    /// Present on 400: one `"<field.path>: <text>"` per problem.
    pub errors: Option<Vec<String>>,
}

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
            );
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Viveka API",
        description = "Billing backend for small Indian shops. Money is sent and returned in rupees (JSON numbers, at most two decimals); errors use the envelope `{success:false, code, message|errors}`.",
    ),
    paths(crate::billing::reports::list_invoices, crate::billing::reports::invoice_payments),
    components(schemas(ErrorBody)),
    modifiers(&SecurityAddon),
    tags(
        (name = "health"), (name = "otp"), (name = "auth"), (name = "client"), (name = "catalog"), (name = "customers"), (name = "billing"),
        (name = "dealers", description = "Dealers (suppliers), purchase orders, deliveries into stock, dealer bills and payments"),
        (name = "dashboard", description = "Dashboard (H1-H4) and business reports in India time; money in rupees"),
        (name = "sync", description = "Offline sync: v1 batch made exactly-once with X-Idempotency-Key; v2 push (operations applied exactly once) and pull (per-client sequence cursor). See docs/sync.md"),
    )
)]
pub struct ApiDoc;

/// Responses that a layer in front of every handler gives, added to each operation that does
/// not list them already (found by schemathesis: the annotations of many handlers left them
/// out, so the document did not describe what the server really answers):
///
/// * operations with `security`: 401 (`require_auth`: no, bad, expired or ended token) and
///   403 (inactive account, or a `clientId` that is not the token's);
/// * operations with a JSON request body (`ApiJson`): 400 (malformed JSON), 413 (over
///   `BODY_LIMIT_BYTES`) and 415 (a Content-Type other than JSON).
pub fn add_common_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{path::Operation, ContentBuilder, Ref, RefOr, ResponseBuilder};

    fn error(description: &str) -> RefOr<utoipa::openapi::Response> {
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
        RefOr::T(ResponseBuilder::new().description(description).content("application/json", content).build())
    }
    fn complete(op: &mut Operation) {
        let mut add = |status: &str, description: &str| {
            op.responses.responses.entry(status.to_string()).or_insert_with(|| error(description));
        };
        if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
            add("401", "Not logged in: token missing, invalid, expired or its session ended");
            add("403", "Account inactive, or a clientId that is not the token's");
        }
        if op.request_body.is_some() {
            add("400", "Malformed JSON or validation");
            add("413", "Body over the size limit");
            add("415", "Content-Type is not application/json");
        }
    }
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.options,
            &mut item.head,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
        {
            complete(op);
        }
    }
}

/// `GET /api/openapi.json`
pub async fn openapi_json(doc: utoipa::openapi::OpenApi) -> Json<utoipa::openapi::OpenApi> {
    Json(doc)
}

/// `GET /api/docs`: Swagger UI over `/api/openapi.json`, every file served from the binary
/// (`utoipa-swagger-ui` with its `vendored` feature: the Swagger UI release is a crate, not a
/// CDN), so the page works on a shop's LAN without internet. `/api/docs` redirects to
/// `/api/docs/` (the page loads its assets relative to it).
pub fn docs_router<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    let config = utoipa_swagger_ui::Config::new(["/api/openapi.json"])
        .persist_authorization(true)
        .display_operation_id(false)
        .try_it_out_enabled(true);
    utoipa_swagger_ui::SwaggerUi::new("/api/docs").config(config).into()
}

/// Postman collection and environment generated from the OpenAPI document (see
/// [`crate::postman`]).
pub use crate::postman::postman;
