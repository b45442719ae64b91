//! The Postman collection (v2.1) and environment, generated from the OpenAPI document by
//! `viveka postman [DIR]` (committed under `postman/`; a test fails when they are stale).
//!
//! Two folders:
//! * **Getting started**: an ordered flow that runs as is (Postman's "Run folder", or
//!   `newman run ... --folder "Getting started"`, which `scripts/newman.sh` does against a live
//!   development server): mock OTP, register (captures `token` and `clientId` into collection
//!   variables), item group, items, customer, cart, a sale from the cart with part payment
//!   (`X-Idempotency-Key: {{$guid}}`), a payment, reports, v2 push and pull, and cleanup last.
//!   Every request has tests (status and the key fields, with the amounts worked by hand).
//! * **Reference**: every operation of the document by tag, with `{{clientId}}` and the ids
//!   the flow captured wherever a path, query or body needs them.
//!
//! The flow is written here, but each step's method and path must be an operation of the
//! document and each body field a property of its request schema: [`postman`] panics
//! otherwise (a generator, never on a request path), so a renamed field or route fails the
//! `committed_postman_files_match_the_openapi_document` test instead of shipping a broken flow.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// Variables the flow captures (collection variables). The environment file must not define
/// them: an environment value would shadow the captured one.
const CAPTURED: &[&str] = &[
    "phone",
    "customerPhone",
    "token",
    "clientId",
    "groupId",
    "itemId",
    "itemId2",
    "clientCustomerId",
    "cartId",
    "invoiceId",
    "invoiceNumber",
    "opItem",
    "opSale",
    "opPay",
    "deviceTime",
    "splitInvoiceId",
    "mistakeId",
];

/// A check of one response: `pm.expect(actual).to.eql(expected)`, or truthiness.
enum Check {
    Eq(&'static str, &'static str),
    Ok(&'static str),
}

/// One request of the "Getting started" flow.
struct Step {
    name: &'static str,
    /// As in the document (lower case).
    method: &'static str,
    /// The document's path; `{x}` becomes `{{x}}` (the variable of the same name).
    path: &'static str,
    query: &'static [(&'static str, &'static str)],
    body: Option<Value>,
    /// Sends `X-Idempotency-Key: {{$guid}}` (a retried sale or payment is applied once).
    idempotent: bool,
    prerequest: &'static [&'static str],
    status: u16,
    checks: Vec<Check>,
    /// `(variable, JavaScript expression over the parsed body b)`.
    capture: &'static [(&'static str, &'static str)],
}

fn step(name: &'static str, method: &'static str, path: &'static str, status: u16) -> Step {
    Step {
        name,
        method,
        path,
        query: &[],
        body: None,
        idempotent: false,
        prerequest: &[],
        status,
        checks: vec![Check::Eq("b.success", if status < 400 { "true" } else { "false" })],
        capture: &[],
    }
}

impl Step {
    fn body(mut self, b: Value) -> Self {
        self.body = Some(b);
        self
    }
    fn query(mut self, q: &'static [(&'static str, &'static str)]) -> Self {
        self.query = q;
        self
    }
    fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }
    fn pre(mut self, js: &'static [&'static str]) -> Self {
        self.prerequest = js;
        self
    }
    fn eq(mut self, actual: &'static str, expected: &'static str) -> Self {
        self.checks.push(Check::Eq(actual, expected));
        self
    }
    fn ok(mut self, actual: &'static str) -> Self {
        self.checks.push(Check::Ok(actual));
        self
    }
    fn capture(mut self, c: &'static [(&'static str, &'static str)]) -> Self {
        self.capture = c;
        self
    }
}

/// The flow. Amounts (rupees) worked by hand: a cart of 1 x Carburetor at 2500 and
/// 2 x Spark plug at 150.50 = 2801.00; 1000 paid with the sale leaves 1801.00; a payment of
/// 801 leaves 1000.00. The offline sale of 2 x Air filter at 320 = 640 is paid 200 in the
/// push and 440 by a later operation of the same push: paid in full.
fn flow() -> Vec<Step> {
    let cid = "{{clientId}}";
    vec![
        step("Health", "get", "/api/health", 200).eq("b.database", "\"up\""),
        step("Send a mock OTP (development only: the code is 1234)", "post", "/api/mockotp/send", 200)
            .pre(&[
                "// a fresh phone number for every run: registering twice answers 400",
                "pm.collectionVariables.set(\"phone\", \"9\" + String(Math.floor(Math.random() * 1e9)).padStart(9, \"0\"));",
                "pm.collectionVariables.set(\"customerPhone\", \"8\" + String(Math.floor(Math.random() * 1e9)).padStart(9, \"0\"));",
            ])
            .body(json!({ "phoneNumber": "{{phone}}", "purpose": "register" })),
        step("Register the shop (captures token and clientId)", "post", "/api/auth/register", 201)
            .body(json!({
                "phoneNumber": "{{phone}}", "otp": "1234", "ownerName": "Asha Rao",
                "businessName": "Rao Auto Spares", "deviceId": "postman"
            }))
            .ok("b.token")
            .ok("/^[0-9a-f]{24}$/.test(b.clientId)")
            .eq("b.businessName", "\"Rao Auto Spares\"")
            .capture(&[("token", "b.token"), ("clientId", "b.clientId")]),
        step("Create an item group", "post", "/api/business/item-groups", 201)
            .body(json!({ "clientId": cid, "name": "Engine Parts" }))
            .eq("b.itemGroup.name", "\"Engine Parts\"")
            .capture(&[("groupId", "b.itemGroup._id")]),
        step("Create an item (Carburetor, 2500.00, 10 in stock)", "post", "/api/business/items", 201)
            .body(json!({ "clientId": cid, "name": "Carburetor", "price": 2500, "stock": 10, "groupId": "{{groupId}}" }))
            .eq("b.item.price", "2500")
            .eq("b.item.stock", "10")
            .eq("b.item.groupId", "pm.collectionVariables.get(\"groupId\")")
            .capture(&[("itemId", "b.item._id")]),
        step("Create an item (Spark plug, 150.50, MRP 175, a UPC-A barcode, 100 in stock)", "post", "/api/business/items", 201)
            .body(json!({ "clientId": cid, "name": "Spark plug", "price": 150.5, "stock": 100, "unit": "pcs",
                "sku": "SPK-150", "barcode": "036000291452", "mrp": 175 }))
            .eq("b.item.price", "150.5")
            .eq("b.item.barcodeType", "\"gtin\"")
            .capture(&[("itemId2", "b.item._id")]),
        step("Scan to bill: find the Spark plug by the EAN-13 form of its barcode", "get", "/api/business/items/lookup", 200)
            .query(&[("code", "0036000291452")])
            .eq("b.item._id", "pm.collectionVariables.get(\"itemId2\")"),
        step("List the items", "get", "/api/business/items/{clientId}", 200).eq("b.items.length", "2"),
        step("Create a customer (sent as phone, answered as phoneNumber)", "post", "/api/business/client-customers", 201)
            .body(json!({ "clientId": cid, "phone": "{{customerPhone}}", "name": "Ravi Kumar" }))
            .eq("b.clientCustomer.phoneNumber", "pm.collectionVariables.get(\"customerPhone\")")
            .eq("b.isNew", "true")
            .capture(&[("clientCustomerId", "b.clientCustomer._id")]),
        step("Open a cart for the customer", "post", "/api/business/carts", 201)
            .body(json!({ "clientId": cid, "clientCustomerId": "{{clientCustomerId}}" }))
            .eq("b.cart.status", "\"open\"")
            .capture(&[("cartId", "b.cart._id")]),
        step("Add 1 Carburetor to the cart", "post", "/api/business/carts/add-item", 200)
            .body(json!({ "cartId": "{{cartId}}", "itemId": "{{itemId}}", "quantity": 1 }))
            .eq("b.cartItem.lineTotal", "2500"),
        step("Add 2 Spark plugs to the cart", "post", "/api/business/carts/add-item", 200)
            .body(json!({ "cartId": "{{cartId}}", "itemId": "{{itemId2}}", "quantity": 2 }))
            .eq("b.cartItem.lineTotal", "301"),
        step("Sell the cart, 1000.00 paid now (X-Idempotency-Key)", "post", "/api/business/invoices/generate", 201)
            .idempotent()
            .body(json!({
                "clientId": cid, "cartId": "{{cartId}}", "clientCustomerId": "{{clientCustomerId}}",
                "paidAmount": 1000, "paymentMethod": "cash"
            }))
            .eq("b.invoice.totalAmount", "2801")
            .eq("b.invoice.paidAmount", "1000")
            .eq("b.invoice.pendingAmount", "1801")
            .ok("b.invoice.invoiceNumber")
            .capture(&[("invoiceId", "b.invoice._id"), ("invoiceNumber", "b.invoice.invoiceNumber")]),
        step("Take a payment of 801.00 (X-Idempotency-Key)", "post", "/api/business/invoices/pay", 200)
            .idempotent()
            .body(json!({ "clientId": cid, "invoiceId": "{{invoiceId}}", "amount": 801, "method": "upi" }))
            .eq("b.payment.amount", "801")
            .eq("b.invoice.paidAmount", "1801")
            .eq("b.invoice.pendingAmount", "1000"),
        step("Count stock: 8 Carburetors on the shelf (the sale left 9)", "post", "/api/business/stock/counts", 201)
            .body(json!({ "lines": [{ "itemId": "{{itemId}}", "counted": 8 }], "note": "shelf check" }))
            .eq("b.count.lines[0].difference", "-1"),
        step("Stock ledger of the Carburetor (this month: opening, sale, count, closing)", "get",
            "/api/business/items/{clientId}/{itemId}/stock-ledger", 200)
            .eq("b.closing", "8")
            .eq("b.byReason.map(r => r.reason).join()", "\"opening,sale,countCorrection\""),
        step("Stock summary at the end of today (CSV with ?format=csv)", "get", "/api/business/stock/summary", 200)
            .eq("b.items.length", "2"),
        step("Report: the customer's pending invoices", "get", "/api/business/pending-invoices/{clientId}", 200)
            .ok("JSON.stringify(b).includes(pm.collectionVariables.get(\"invoiceId\"))"),
        step("Report: payments of the invoice", "get", "/api/business/payment-history/{clientId}/{invoiceId}", 200)
            .ok("JSON.stringify(b).includes(\"801\")"),
        step("Report: dashboard summary (fully paid sales, what is pending)", "get", "/api/dashboard/summary", 200)
            .eq("b.pendingAmount", "1000")
            .eq("b.pendingInvoices", "1"),
        step("Report: dues by age (CSV with ?format=csv)", "get", "/api/dashboard/reports/dues", 200)
            .eq("b.totalOutstanding", "1000")
            .eq("b.invoiceCount", "1"),
        step("v2 push: an offline item, a sale of it and its payment", "post", "/api/v2/sync/push", 200)
            .pre(&[
                "// every operation has its own UUID opId: a replay answers `duplicate`",
                "pm.collectionVariables.set(\"opItem\", pm.variables.replaceIn(\"{{$guid}}\"));",
                "pm.collectionVariables.set(\"opSale\", pm.variables.replaceIn(\"{{$guid}}\"));",
                "pm.collectionVariables.set(\"opPay\", pm.variables.replaceIn(\"{{$guid}}\"));",
                "pm.collectionVariables.set(\"deviceTime\", new Date().toISOString());",
            ])
            .body(json!({
                "clientId": cid,
                "operations": [
                    { "opId": "{{opItem}}", "entity": "item", "kind": "create", "deviceTime": "{{deviceTime}}",
                      "payload": { "name": "Air filter", "price": 320, "stock": 5 } },
                    { "opId": "{{opSale}}", "entity": "invoice", "kind": "create", "deviceTime": "{{deviceTime}}",
                      "payload": { "products": [{ "productOpId": "{{opItem}}", "quantity": 2 }],
                                   "clientCustomerPhone": "{{customerPhone}}", "paidAmount": 200, "method": "cash" } },
                    { "opId": "{{opPay}}", "entity": "payment", "kind": "create", "deviceTime": "{{deviceTime}}",
                      "payload": { "invoiceOpId": "{{opSale}}", "amount": 440, "method": "upi" } }
                ]
            }))
            .eq("b.summary.applied", "3")
            .eq("b.summary.rejected", "0")
            .eq("b.results.map(r => r.status).join()", "\"applied,applied,applied\"")
            .ok("b.results[1].result.invoiceNumber"),
        step("v2 pull: the changes since the start", "get", "/api/v2/sync/pull", 200)
            .query(&[("limit", "500")])
            .ok("b.changes.length > 0")
            .ok("b.appliedOps.includes(pm.collectionVariables.get(\"opSale\"))")
            .eq("b.hasMore", "false"),
        step("Split payment: a walk-in buys 1 Spark plug, UPI 100.00 + cash 100.00 handed over (change 49.50)", "post",
            "/api/business/invoices/generatewithproducts", 201)
            .body(json!({
                "clientId": cid, "products": [{ "productId": "{{itemId2}}", "quantity": 1 }],
                "payments": [{ "method": "upi", "amount": 100, "reference": "UPI-4411" }, { "method": "cash", "tendered": 100 }]
            }))
            .eq("b.invoice.paidAmount", "150.5")
            .eq("b.invoice.status", "\"Paid\"")
            .eq("b.invoice.paymentMethod", "\"Multiple\"")
            .eq("b.tender.change", "49.5")
            .capture(&[("splitInvoiceId", "b.invoice._id")]),
        step("Return: the walk-in brings the Spark plug back (credit note CN/.., refunded in cash)", "post",
            "/api/business/credit-notes", 201)
            .idempotent()
            .body(json!({
                "invoiceId": "{{splitInvoiceId}}", "lines": [{ "lineId": 0, "quantity": 1 }],
                "settlement": { "type": "refund", "method": "cash" }, "reason": "Wrong size"
            }))
            .eq("b.creditNote.totalAmount", "150.5")
            .eq("b.creditNote.settlement.refund", "150.5")
            .ok("b.creditNote.creditNoteNumber.startsWith(\"CN/\")")
            .eq("b.invoice.creditedAmount", "150.5")
            .eq("b.invoice.paidAmount", "0"),
        step("A mistaken bill of 1 Spark plug, nothing paid", "post", "/api/business/invoices/generatewithproducts", 201)
            .body(json!({ "clientId": cid, "products": [{ "productId": "{{itemId2}}", "quantity": 1 }], "paidAmount": 0 }))
            .capture(&[("mistakeId", "b.invoice._id")]),
        step("Cancel it: it keeps its number, the stock goes back", "post", "/api/business/invoices/{invoiceId}/cancel", 200)
            .pre(&["pm.collectionVariables.set(\"invoiceId\", pm.collectionVariables.get(\"mistakeId\"));"])
            .body(json!({ "reason": "Billed twice" }))
            .eq("b.invoice.status", "\"Cancelled\"")
            .eq("b.invoice.isCancelled", "true")
            .ok("b.invoice.invoiceNumber"),
        step("Cleanup: delete the Carburetor item", "delete", "/api/business/items/{clientId}/{itemId}", 200),
        step("Cleanup: log out", "post", "/api/auth/logout", 200),
        step("After logout the token is refused", "get", "/api/client/{clientId}", 401),
    ]
}

/// The JavaScript of a step's test event.
fn test_script(s: &Step) -> Vec<String> {
    let mut js = vec![
        format!(
            "pm.test(\"{} {} answers {}\", function () {{ pm.response.to.have.status({}); }});",
            s.method.to_uppercase(),
            s.path,
            s.status,
            s.status
        ),
        "const b = pm.response.json();".to_string(),
    ];
    for c in &s.checks {
        js.push(match c {
            Check::Eq(a, e) => format!(
                "pm.test({}, function () {{ pm.expect({a}).to.eql({e}); }});",
                Value::String(format!("{a} is {e}"))
            ),
            Check::Ok(a) => {
                format!("pm.test({}, function () {{ pm.expect({a}).to.be.ok; }});", Value::String(a.to_string()))
            }
        });
    }
    for (var, expr) in s.capture {
        js.push(format!("pm.collectionVariables.set(\"{var}\", {expr});"));
    }
    js
}

/// `/api/items/{clientId}` -> (`{{baseUrl}}/api/items/{{clientId}}`, path segments).
fn url_parts(path: &str) -> Vec<String> {
    path.trim_start_matches('/')
        .split('/')
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(v) => format!("{{{{{v}}}}}"),
            None => s.to_string(),
        })
        .collect()
}

fn url(path: &str, query: &[Value]) -> Value {
    let segments = url_parts(path);
    let mut raw = format!("{{{{baseUrl}}}}/{}", segments.join("/"));
    let enabled: Vec<String> = query
        .iter()
        .filter(|q| !q.get("disabled").and_then(Value::as_bool).unwrap_or(false))
        .filter_map(|q| Some(format!("{}={}", q["key"].as_str()?, q["value"].as_str()?)))
        .collect();
    if !enabled.is_empty() {
        raw = format!("{raw}?{}", enabled.join("&"));
    }
    let mut u = json!({ "raw": raw, "host": ["{{baseUrl}}"], "path": segments });
    if !query.is_empty() {
        u["query"] = Value::Array(query.to_vec());
    }
    u
}

fn schema_of<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            doc.pointer(&format!("/components/schemas/{}", r.rsplit('/').next().unwrap_or(""))).unwrap_or(schema)
        }
        None => schema,
    }
}

/// The request of one step, checked against the document.
fn flow_item(doc: &Value, s: &Step) -> Value {
    let op =
        doc.pointer(&format!("/paths/{}/{}", s.path.replace('~', "~0").replace('/', "~1"), s.method)).unwrap_or_else(
            || panic!("postman flow step {:?}: {} {} is not in the OpenAPI document", s.name, s.method, s.path),
        );
    let mut header = vec![];
    if let Some(body) = &s.body {
        let schema = op
            .pointer("/requestBody/content/application~1json/schema")
            .map(|sc| schema_of(doc, sc))
            .unwrap_or_else(|| panic!("postman flow step {:?}: the document has no JSON body for it", s.name));
        let props = schema.get("properties").and_then(Value::as_object);
        for key in body.as_object().map(|m| m.keys().collect::<Vec<_>>()).unwrap_or_default() {
            assert!(
                props.is_some_and(|p| p.contains_key(key)),
                "postman flow step {:?}: body field {key} is not in the document's request schema",
                s.name
            );
        }
        header.push(json!({ "key": "Content-Type", "value": "application/json" }));
    }
    let params = op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
    for (k, _) in s.query {
        assert!(
            params.iter().any(|p| p["in"] == "query" && p["name"] == *k),
            "postman flow step {:?}: query parameter {k} is not in the document",
            s.name
        );
    }
    if s.idempotent {
        assert!(
            params.iter().any(|p| p["in"] == "header"
                && p["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case("x-idempotency-key"))),
            "postman flow step {:?}: the document does not list X-Idempotency-Key",
            s.name
        );
        header.push(json!({ "key": "X-Idempotency-Key", "value": "{{$guid}}" }));
    }
    let query: Vec<Value> = s.query.iter().map(|(k, v)| json!({ "key": k, "value": v })).collect();
    let mut request = json!({ "method": s.method.to_uppercase(), "header": header, "url": url(s.path, &query) });
    if op.get("security").is_none() {
        request["auth"] = json!({ "type": "noauth" });
    }
    if let Some(body) = &s.body {
        request["body"] = raw_json(body);
    }
    let summary = op.get("summary").and_then(Value::as_str).unwrap_or("");
    request["description"] = Value::String(format!("{} {}: {summary}", s.method.to_uppercase(), s.path));
    let mut event = vec![];
    if !s.prerequest.is_empty() {
        event.push(json!({ "listen": "prerequest", "script": { "type": "text/javascript", "exec": s.prerequest } }));
    }
    event.push(json!({ "listen": "test", "script": { "type": "text/javascript", "exec": test_script(s) } }));
    json!({ "name": s.name, "event": event, "request": request })
}

fn raw_json(body: &Value) -> Value {
    json!({
        "mode": "raw",
        "raw": serde_json::to_string_pretty(body).unwrap_or_default(),
        "options": { "raw": { "language": "json" } },
    })
}

/// Postman collection (v2.1) and environment generated from the OpenAPI document.
pub fn postman(doc: &Value) -> (Value, Value) {
    let flow: Vec<Value> = flow().iter().map(|s| flow_item(doc, s)).collect();
    let reference = reference(doc);
    // the captured variables, then the other path variables of Reference (dealerId, ...),
    // declared empty so that Postman lists them to be filled
    let mut names: Vec<String> = CAPTURED.iter().map(|v| v.to_string()).collect();
    let mut others = std::collections::BTreeSet::new();
    for path in doc.get("paths").and_then(Value::as_object).map(|p| p.keys().collect::<Vec<_>>()).unwrap_or_default() {
        for seg in path.split('/') {
            if let Some(v) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                if !names.iter().any(|n| n == v) {
                    others.insert(v.to_string());
                }
            }
        }
    }
    names.extend(others);
    let mut variable = vec![json!({ "key": "baseUrl", "value": "http://localhost:10000" })];
    variable.extend(names.iter().map(|v| json!({ "key": v, "value": "" })));
    let collection = json!({
        "info": {
            "name": "Viveka API",
            "description": "Generated from /api/openapi.json by `cargo run -- postman`. Do not edit by hand.\n\n\
                Run the folder \"Getting started\" first (Postman: Run folder; or `newman run \
                postman/viveka.postman_collection.json --folder \"Getting started\" --env-var baseUrl=http://localhost:10000`) \
                against a development server (`./scripts/run.sh`: mock OTP on). It registers a new shop and \
                captures the token, clientId and ids into collection variables, which the requests of \
                \"Reference\" then use.",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "auth": { "type": "bearer", "bearer": [{ "key": "token", "value": "{{token}}", "type": "string" }] },
        "variable": variable,
        "item": [
            { "name": "Getting started", "description": "An ordered flow with tests; cleanup last.", "item": flow },
            { "name": "Reference", "description": "Every operation of the OpenAPI document, by tag.", "item": reference },
        ],
    });
    let env = json!({
        "name": "Viveka local",
        "values": [{ "key": "baseUrl", "value": "http://localhost:10000", "enabled": true }],
    });
    (collection, env)
}

/// Every operation of the document, one folder per tag.
fn reference(doc: &Value) -> Vec<Value> {
    let mut folders: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let empty = Map::new();
    let paths = doc.get("paths").and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = paths.keys().collect();
    keys.sort();
    for path in keys {
        let ops = paths[path].as_object().unwrap_or(&empty);
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = ops.get(method) else { continue };
            let tag = op["tags"].get(0).and_then(Value::as_str).unwrap_or("other").to_string();
            let params = op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
            let query: Vec<Value> = params
                .iter()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| {
                    let name = p["name"].as_str()?;
                    let mut q = match variable_for(name) {
                        Some(v) => json!({ "key": name, "value": format!("{{{{{v}}}}}") }),
                        None => json!({ "key": name, "value": "", "disabled": true }),
                    };
                    if let Some(d) = p.get("description").and_then(Value::as_str) {
                        q["description"] = Value::String(d.to_string());
                    }
                    Some(q)
                })
                .collect();
            let mut header = vec![];
            let mut request = json!({ "method": method.to_uppercase(), "url": url(path, &query) });
            if op.get("security").is_none() {
                request["auth"] = json!({ "type": "noauth" });
            }
            if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                header.push(json!({ "key": "Content-Type", "value": "application/json" }));
                request["body"] = raw_json(&example(doc, schema, 0, None));
            }
            if params.iter().any(|p| {
                p["in"] == "header" && p["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case("x-idempotency-key"))
            }) {
                header.push(json!({ "key": "X-Idempotency-Key", "value": "{{$guid}}" }));
            }
            request["header"] = Value::Array(header);
            if let Some(summary) = op.get("summary").and_then(Value::as_str) {
                request["description"] = Value::String(summary.to_string());
            }
            let name = format!("{} {}", method.to_uppercase(), path);
            folders.entry(tag).or_default().push(json!({ "name": name, "request": request }));
        }
    }
    folders.into_iter().map(|(name, item)| json!({ "name": name, "item": item })).collect()
}

/// The collection variable a field or parameter of this name takes, if the flow captures one.
fn variable_for(name: &str) -> Option<&'static str> {
    Some(match name {
        "clientId" => "clientId",
        "groupId" => "groupId",
        "itemId" | "productId" => "itemId",
        "clientCustomerId" => "clientCustomerId",
        "cartId" => "cartId",
        "invoiceId" => "invoiceId",
        _ => return None,
    })
}

/// A small example value for a schema (follows `$ref`, uses `example` when given, and the
/// flow's variables for the fields named like them).
fn example(doc: &Value, schema: &Value, depth: usize, field: Option<&str>) -> Value {
    if depth > 6 {
        return Value::Null;
    }
    if let Some(v) = field.and_then(variable_for) {
        return Value::String(format!("{{{{{v}}}}}"));
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or("");
        return match doc.pointer(&format!("/components/schemas/{name}")) {
            Some(s) => example(doc, s, depth + 1, None),
            None => Value::Null,
        };
    }
    if let Some(e) = schema.get("example") {
        return e.clone();
    }
    if let Some(e) = schema.get("examples").and_then(Value::as_array).and_then(|a| a.first()) {
        return e.clone();
    }
    if let Some(all) = schema.get("allOf").or_else(|| schema.get("oneOf")).and_then(Value::as_array) {
        return all.first().map(|s| example(doc, s, depth + 1, None)).unwrap_or(Value::Null);
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
                    m.insert(k.clone(), example(doc, v, depth + 1, Some(k)));
                }
            }
            Value::Object(m)
        }
        "array" => match schema.get("items") {
            Some(i) => json!([example(doc, i, depth + 1, None)]),
            None => json!([]),
        },
        "string" => json!(""),
        "integer" => json!(0),
        "number" => json!(0),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}
