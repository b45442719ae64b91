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
    paths(
        crate::billing::reports::list_invoices,
        crate::billing::reports::invoice_payments,
        crate::billing::credit::handlers::cancel
    ),
    components(schemas(ErrorBody)),
    modifiers(&SecurityAddon),
    tags(
        (name = "health"), (name = "otp"), (name = "auth"), (name = "client"), (name = "catalog"), (name = "brands", description = "Companies and their brands (issue 16): names unique per shop ignoring case; deletes refused while referenced"), (name = "units", description = "Packing units (issue 16): base units and units of several base units; items sell in them, stock stays in base units"), (name = "customers"), (name = "billing"), (name = "bill-books", description = "Paper bill books (issue 17): pre-printed books registered as number series; a paper bill entered later keeps its printed number"),
        (name = "dealers", description = "Dealers (suppliers), purchase orders, deliveries into stock, dealer bills and payments"),
        (name = "dashboard", description = "Dashboard (H1-H4) and business reports in India time; money in rupees"),
        (name = "audit", description = "Append-only audit trail: who did what, when, before and after; kept at least 72 months (GST section 36)"),
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

/// The schema of `operations` in `POST /api/v2/sync/push`: a list (at most 1,000) of
/// operations, `oneOf` one schema per `entity` x `kind` with its payload and an example.
/// The shapes are those `sync::ops` parses (unknown payload fields are rejected); the rules
/// (what is refused and why) are in docs/sync.md. Money in rupees, quantities whole units.
pub fn push_operations_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema};
    let value = push_operations_json();
    match serde_json::from_value::<Schema>(value) {
        Ok(s) => s.into(),
        // unreachable (a unit test deserialises it); keep the document valid regardless
        Err(_) => ArrayBuilder::new().items(ObjectBuilder::new()).build().into(),
    }
}

fn push_operations_json() -> serde_json::Value {
    use serde_json::json;
    let money = || json!({ "type": "number", "format": "double", "description": "rupees, at most two decimals" });
    let text = |d: &str| json!({ "type": "string", "description": d });
    let count = |d: &str| json!({ "type": "integer", "format": "int64", "description": d });
    let opref = |d: &str| json!({ "type": "string", "format": "uuid", "description": d });
    let item_fields = || {
        json!({
            "name": text("2-200 characters"),
            "price": money(),
            "lowStockQuantity": count(">= 0 (default 5)"),
            "unit": { "type": "string", "enum": ["nos", "kg", "litre", "meter", "pcs"] },
            "groupId": text("an item group of the shop (24 hex), or '' for none"),
            "description": text("at most 500 characters"),
        })
    };
    let customer_fields = || {
        json!({
            "name": text("2-100 characters"),
            "address": text("at most 300 characters"),
            "emailId": text("an email, or ''"),
            "gstNo": text("a GSTIN, or ''"),
        })
    };
    let merge = |mut a: serde_json::Value, b: serde_json::Value| {
        if let (Some(a), Some(b)) = (a.as_object_mut(), b.as_object()) {
            for (k, v) in b {
                a.insert(k.clone(), v.clone());
            }
        }
        a
    };
    let target = |entity: &str| {
        json!({
            "id": text(&format!("the server id of the {entity} (24 hex)")),
            format!("{entity}OpId"): opref(&format!("or: the opId of the operation that created the {entity} (same push or earlier)")),
        })
    };
    let payload = |props: serde_json::Value, required: &[&str]| {
        let mut p = json!({ "type": "object", "additionalProperties": false, "properties": props });
        if !required.is_empty() {
            p["required"] = json!(required);
        }
        p
    };
    let op = |entity: &str, kind: &str, title: &str, payload: serde_json::Value, example: serde_json::Value| {
        json!({
            "type": "object",
            "title": title,
            "required": ["opId", "entity", "kind", "payload"],
            "properties": {
                "opId": opref("UUID chosen by the device; an operation is applied once per opId, ever"),
                "entity": { "type": "string", "enum": [entity] },
                "kind": { "type": "string", "enum": [kind] },
                "deviceTime": { "type": "string", "format": "date-time", "description": "RFC 3339; required for sales, payments, cancels and credit notes (at most 5 min ahead, 30 days old)" },
                "payload": payload,
            },
            "examples": [merge(json!({ "opId": "7c0e6f1e-3b7a-4a53-9d0e-2f4b8f0a1c11", "entity": entity, "kind": kind, "deviceTime": "2026-11-20T10:15:00+05:30" }), json!({ "payload": example }))],
        })
    };
    let line = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["quantity"],
        "properties": {
            "productId": text("the item's server id"),
            "productOpId": opref("or: the opId that created the item"),
            "code": text("or: a scanned barcode, SKU or packing-unit barcode of the shop (issue 16)"),
            "quantity": count("whole units sold (in unitId when sent), 1-1000000000"),
            "costPerUnit": merge(money(), json!({ "description": "rupees; default the item's price" })),
            "unitId": text("a packing unit the item is sold in (issue 16)"),
            "batchNo": text("the batch sold, for a hasExpiry item (issue 16)"),
            "discountPercent": { "type": "number", "minimum": 0, "maximum": 100, "description": "issue 17: line discount before tax, percent of the line (two decimals); not with discountAmount" },
            "discountAmount": merge(money(), json!({ "description": "issue 17: line discount before tax, rupees" })),
            "itemName": text("ignored (the server's name is used)"),
            "itemGroup": text("ignored"),
        },
    });
    // split payment (issue 17; docs/API.md "Split payments")
    let parts = json!({
        "type": "array",
        "minItems": 1,
        "maxItems": crate::billing::rules::MAX_PAYMENT_PARTS,
        "description": "split payment (issue 17): each paid part becomes its own payment; credit = the part left due (no payment). The paid amount, when sent beside it, must equal what the parts pay",
        "items": {
            "type": "object",
            "additionalProperties": false,
            "required": ["method"],
            "properties": {
                "method": { "type": "string", "enum": crate::billing::model::METHODS.iter().copied().chain([crate::billing::decide::tender::CREDIT]).collect::<Vec<_>>() },
                "amount": merge(money(), json!({ "description": "rupees, > 0; required except on a cash part with tendered (then: what is still due, at most tendered) and on credit" })),
                "reference": text("UPI reference, cheque number, ... (at most 50 characters)"),
                "tendered": merge(money(), json!({ "description": "cash only (one part at most): rupees handed over; the result gives the change" })),
            },
        },
    });
    json!({
        "type": "array",
        "maxItems": 1000,
        "description": "At most 1,000 operations, applied in order in one transaction; each is applied, a duplicate (replayed opId) or rejected with a reason. See docs/sync.md.",
        "items": { "oneOf": [
            op("item", "create", "item create",
                payload(merge(item_fields(), json!({ "stock": count("initial stock, >= 0 (default 0)") })), &["name", "price"]),
                json!({ "name": "Air filter", "price": 320, "stock": 5, "unit": "nos" })),
            op("item", "update", "item update",
                payload(merge(merge(item_fields(), target("item")), json!({ "stockDelta": count("signed stock change (stock itself is never overwritten by sync)") })), &[]),
                json!({ "id": "665000000000000000000001", "price": 340, "stockDelta": -2 })),
            op("item", "delete", "item delete", payload(target("item"), &[]), json!({ "id": "665000000000000000000001" })),
            op("customer", "create", "customer create",
                payload(merge(customer_fields(), json!({ "phoneNumber": text("10-15 digits (+91/0 prefixes dropped)") })), &["phoneNumber"]),
                json!({ "phoneNumber": "9891112222", "name": "Ravi Kumar" })),
            op("customer", "update", "customer update",
                payload(merge(merge(customer_fields(), target("customer")), json!({ "phoneNumber": text("refused: the phone identifies the customer") })), &[]),
                json!({ "id": "665000000000000000000002", "address": "MG Road, Pune" })),
            op("customer", "delete", "customer delete", payload(target("customer"), &[]), json!({ "customerOpId": "1f0e6f1e-3b7a-4a53-9d0e-2f4b8f0a1c12" })),
            op("invoice", "create", "invoice create (a sale)",
                payload(json!({
                    "products": { "type": "array", "items": line, "minItems": 1, "maxItems": crate::billing::rules::MAX_INVOICE_LINES },
                    "clientCustomerId": text("an existing customer (24 hex)"),
                    "clientCustomerPhone": text("or: a phone (found or created)"),
                    "clientCustomerName": text("name for a new customer"),
                    "totalAmount": merge(money(), json!({ "description": "rupees; when sent it must equal the computed total" })),
                    "totalTax": money(),
                    "totalDiscount": money(),
                    "paidAmount": merge(money(), json!({ "description": "rupees paid with the sale (default 0)" })),
                    "method": { "type": "string", "enum": crate::billing::model::METHODS },
                    "payments": parts.clone(),
                    "discount1Amount": merge(money(), json!({ "description": "issue 17 (GST profile): first bill discount before tax, rupees" })),
                    "discount2Amount": merge(money(), json!({ "description": "issue 17: second bill discount before tax, rupees" })),
                    "placeOfSupply": text("issue 17: GST state code or name, when not the buyer's"),
                    "reverseCharge": { "type": "boolean", "description": "issue 17: tax payable on reverse charge (a registered buyer only)" },
                    "notes": text("at most 1000 characters"),
                    "deviceRef": text("the device's own bill reference (1-100 characters)"),
                    "offlineBillRef": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["serial"],
                        "description": "issue 17: a paper bill book's leaf (bookId or bookNo); the invoice keeps its printed number",
                        "properties": {
                            "bookId": text("the book's id (24 hex)"),
                            "bookNo": text("or: the book's number"),
                            "financialYear": text("with bookNo: the book's year (26-27); default the bill's"),
                            "serial": count("the leaf's serial, within the book"),
                        },
                    },
                    "invoiceNumber": text("issue 17: the number the device printed in its own series (POST /api/v2/sync/series), e.g. D1-26-27/00001; not with offlineBillRef"),
                }), &["products"]),
                json!({ "products": [{ "productOpId": "7c0e6f1e-3b7a-4a53-9d0e-2f4b8f0a1c10", "quantity": 2 }], "clientCustomerPhone": "9891112222", "paidAmount": 200, "method": "cash" })),
            op("payment", "create", "payment create",
                payload(json!({
                    "invoiceId": text("the invoice's server id"),
                    "invoiceOpId": opref("or: the opId of the invoice create"),
                    "amount": merge(money(), json!({ "description": "rupees, > 0, at most the balance; required unless payments is sent" })),
                    "method": { "type": "string", "enum": crate::billing::model::METHODS },
                    "payments": parts,
                    "note": text("at most 500 characters"),
                }), &[]),
                json!({ "invoiceOpId": "7c0e6f1e-3b7a-4a53-9d0e-2f4b8f0a1c11", "amount": 440, "method": "upi" })),
            // issue 18: applied through the online cancel / credit-note rules, in push order;
            // a refusal of the online route rejects the operation (the others apply)
            op("invoice", "cancel", "invoice cancel (issue 18)",
                payload(json!({
                    "invoiceId": text("the invoice's server id"),
                    "invoiceOpId": opref("or: the opId of the invoice create (same push or earlier)"),
                    "reason": text("why, 1-500 characters"),
                    "refund": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["method"],
                        "description": "refund what is paid on it (net) in this method, as part of the cancel; without it nothing may be paid on it",
                        "properties": { "method": { "type": "string", "enum": crate::billing::model::METHODS } },
                    },
                    "approvalToken": text("a manager's approval token (issued online, POST /api/staff/approvals) for a user without the cancel permission"),
                }), &["reason"]),
                json!({ "invoiceOpId": "7c0e6f1e-3b7a-4a53-9d0e-2f4b8f0a1c11", "reason": "billed to the wrong customer", "refund": { "method": "cash" } })),
            op("creditNote", "create", "credit note create (issue 18: goods returned or an amount adjusted)",
                payload(json!({
                    "invoiceId": text("the invoice's server id"),
                    "invoiceOpId": opref("or: the opId of the invoice create (same push or earlier)"),
                    "lines": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": crate::billing::rules::MAX_INVOICE_LINES,
                        "description": "goods returned (not with amount)",
                        "items": {
                            "type": "object",
                            "additionalProperties": false,
                            "required": ["lineId"],
                            "properties": {
                                "lineId": count("the invoice line: its 0-based index in the invoice's products"),
                                "quantity": count("returned, in the unit the line sold in (or in unitId); 0 credits nothing"),
                                "unitId": text("a packing unit of the item the quantity counts in"),
                                "baseQuantity": count("or: returned, in base units"),
                                "batchNo": text("the lot the units go back to (hasExpiry items)"),
                            },
                        },
                    },
                    "amount": merge(money(), json!({ "description": "rupees, tax included: an amount-only adjustment (not with lines)" })),
                    "restock": { "type": "boolean", "description": "put the returned goods back on the shelf (default true)" },
                    "settlement": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["type"],
                        "description": "{type: refund, method, amount?} (cash back; amount default all of it, the rest adjusted to dues) or {type: adjustToDues}",
                        "properties": {
                            "type": { "type": "string", "enum": ["refund", "adjustToDues"] },
                            "method": { "type": "string", "enum": crate::billing::model::METHODS },
                            "amount": merge(money(), json!({ "description": "rupees refunded (refund only)" })),
                        },
                    },
                    "reason": text("why, 1-500 characters"),
                    "approvalToken": text("a manager's approval token (issued online) for a user without the cancel permission"),
                    "deviceRef": text("the device's own reference of the note (1-100 characters)"),
                }), &["settlement", "reason"]),
                json!({ "invoiceOpId": "7c0e6f1e-3b7a-4a53-9d0e-2f4b8f0a1c11", "lines": [{ "lineId": 0, "quantity": 1 }], "restock": true, "settlement": { "type": "refund", "method": "cash" }, "reason": "damaged in transit", "deviceRef": "CN-DEV-0007" })),
        ]},
    })
}

/// Query parameters that are whole numbers (`limit`, `offset`, `skip`, `months`): the
/// handlers read them as text to answer a precise 400 for `abc` or `-1`, so their derived
/// schema was `string`; the document says what a client must send: an integer.
pub const INTEGER_QUERY_PARAMS: &[&str] = &["limit", "offset", "skip", "months"];

/// Type the [`INTEGER_QUERY_PARAMS`] as integers in every operation.
pub fn type_integer_query_params(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{
        path::ParameterIn,
        schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type},
    };
    for item in doc.paths.paths.values_mut() {
        for op in
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
        {
            for p in op.parameters.iter_mut().flatten() {
                if p.parameter_in == ParameterIn::Query && INTEGER_QUERY_PARAMS.contains(&p.name.as_str()) {
                    p.schema = Some(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                            .into(),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The push-operation schema survives utoipa's types unchanged (an untagged enum could
    /// have read it as another variant and dropped fields).
    #[test]
    fn push_operations_schema_round_trips_through_utoipa() {
        let built = serde_json::to_value(push_operations_schema()).unwrap();
        assert_eq!(built, push_operations_json());
        assert_eq!(built["items"]["oneOf"].as_array().unwrap().len(), 10);
    }
}
