//! The OpenAPI document (generated from the handlers' annotations by utoipa), the docs page,
//! and the Postman collection generated from the document.

use axum::{response::Html, Json};
use serde::Serialize;
use serde_json::{json, Map, Value};
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

/// `GET /api/docs`: Swagger UI (loaded by the browser from unpkg) over `/api/openapi.json`.
pub async fn docs_page() -> Html<&'static str> {
    Html(
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Viveka API</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#ui" });</script>
</body></html>"##,
    )
}

/// Postman collection (v2.1) and environment generated from the OpenAPI document.
pub fn postman(doc: &Value) -> (Value, Value) {
    let mut folders: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    let mut vars: std::collections::BTreeSet<String> = Default::default();
    let empty = Map::new();
    let paths = doc.get("paths").and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = paths.keys().collect();
    keys.sort();
    for path in keys {
        let ops = paths[path].as_object().unwrap_or(&empty);
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = ops.get(method) else { continue };
            let tag = op["tags"].get(0).and_then(Value::as_str).unwrap_or("other").to_string();
            let segments: Vec<String> = path
                .trim_start_matches('/')
                .split('/')
                .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(v) => {
                        vars.insert(v.to_string());
                        format!("{{{{{v}}}}}")
                    }
                    None => s.to_string(),
                })
                .collect();
            let raw = format!("{{{{baseUrl}}}}/{}", segments.join("/"));
            let mut request = json!({
                "method": method.to_uppercase(),
                "header": [],
                "url": { "raw": raw, "host": ["{{baseUrl}}"], "path": segments },
            });
            if op.get("security").is_none() {
                request["auth"] = json!({ "type": "noauth" });
            }
            if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                let body = example(doc, schema, 0);
                request["header"] = json!([{ "key": "Content-Type", "value": "application/json" }]);
                request["body"] = json!({
                    "mode": "raw",
                    "raw": serde_json::to_string_pretty(&body).unwrap_or_default(),
                    "options": { "raw": { "language": "json" } },
                });
            }
            let name = op
                .get("summary")
                .and_then(Value::as_str)
                .map(|s| s.to_string())
                .unwrap_or_else(|| format!("{} {}", method.to_uppercase(), path));
            folders.entry(tag).or_default().push(json!({ "name": name, "request": request }));
        }
    }
    let items: Vec<Value> = folders.into_iter().map(|(name, item)| json!({ "name": name, "item": item })).collect();
    let collection = json!({
        "info": {
            "name": "Viveka API",
            "description": "Generated from /api/openapi.json by `cargo run -- postman`. Do not edit by hand.",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "auth": { "type": "bearer", "bearer": [{ "key": "token", "value": "{{token}}", "type": "string" }] },
        "variable": [{ "key": "baseUrl", "value": "http://localhost:10000" }],
        "item": items,
    });
    let mut values = vec![
        json!({ "key": "baseUrl", "value": "http://localhost:10000", "enabled": true }),
        json!({ "key": "token", "value": "", "enabled": true }),
    ];
    for v in vars {
        values.push(json!({ "key": v, "value": "", "enabled": true }));
    }
    let env = json!({ "name": "Viveka local", "values": values });
    (collection, env)
}

/// A small example value for a schema (follows `$ref`, uses `example` when given).
fn example(doc: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 6 {
        return Value::Null;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or("");
        return match doc.pointer(&format!("/components/schemas/{name}")) {
            Some(s) => example(doc, s, depth + 1),
            None => Value::Null,
        };
    }
    if let Some(e) = schema.get("example") {
        return e.clone();
    }
    if let Some(all) = schema.get("allOf").or_else(|| schema.get("oneOf")).and_then(Value::as_array) {
        return all.first().map(|s| example(doc, s, depth + 1)).unwrap_or(Value::Null);
    }
    let ty = match schema.get("type") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => {
            a.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null").to_string()
        }
        _ => {
            if schema.get("properties").is_some() {
                "object".into()
            } else {
                "null".into()
            }
        }
    };
    match ty.as_str() {
        "object" => {
            let mut m = Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, v) in props {
                    m.insert(k.clone(), example(doc, v, depth + 1));
                }
            }
            Value::Object(m)
        }
        "array" => match schema.get("items") {
            Some(i) => json!([example(doc, i, depth + 1)]),
            None => json!([]),
        },
        "string" => json!(""),
        "integer" => json!(0),
        "number" => json!(0),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}
