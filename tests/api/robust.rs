//! Hardening (issue 12, sections 1 and 2): no input answers a panic or a 500; text that
//! reaches a query is escaped and control characters are refused; money and quantities stay
//! within documented bounds on every path (online, v1 `/api/sync`, v2 push, dealers), and
//! every report figure is the exact sum.

use std::sync::Arc;

use bson::{doc, oid::ObjectId};
use serde_json::{json, Value};
use viveka::{
    limits::{MAX_INVOICE, MAX_LINE, MAX_UNITS},
    money::Paise,
};

use crate::{
    billing::seed_item,
    helpers::{phone, test_config, Registered, TestApp},
};

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339()
}

/// Paise as the JSON rupee number the API speaks.
fn rupees(p: i64) -> Value {
    serde_json::to_value(Paise::new(p)).unwrap()
}

/// A JSON rupee amount as paise (exact: reads the decimal text).
fn p(v: &Value) -> i64 {
    Paise::parse_rupees(&v.to_string()).unwrap_or_else(|e| panic!("not money: {v} ({e})")).as_i64()
}

async fn push(app: &TestApp, r: &Registered, ops: Value) -> crate::helpers::Resp {
    app.post("/api/v2/sync/push", Some(&r.token), json!({ "operations": ops })).await
}

fn op(entity: &str, kind: &str, payload: Value) -> Value {
    json!({ "opId": uuid(), "entity": entity, "kind": kind, "deviceTime": now_iso(), "payload": payload })
}

// ------------------------------------------------------------------ 1. panics, envelope

/// The push stored the raw text of each operation cut at byte 8000, which panicked when the
/// cut fell inside a Devanagari letter (3 bytes): `500 text/plain "Service panicked"`.
#[tokio::test]
async fn push_with_long_devanagari_text_answers_an_envelope_not_a_panic() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    // three alignments of a 3-byte letter against byte 8000: at least two cut inside one
    let long: Vec<Value> = (0..3)
        .map(|k| op("item", "create", json!({ "name": format!("{}{}", "a".repeat(k), "क".repeat(3000)), "price": 10 })))
        .collect();
    let mut ops = long.clone();
    ops.push(op("item", "create", json!({ "name": "कार्बोरेटर", "price": 10, "description": "पुर्जा ".repeat(60) })));
    let res = push(&app, &r, Value::Array(ops)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["success"], true);
    let results = res.body["results"].as_array().unwrap();
    for x in &results[..3] {
        assert_eq!(x["status"], "rejected", "{x}");
        assert!(x["reason"].as_str().unwrap().contains("name"), "{x}");
    }
    assert_eq!(results[3]["status"], "applied", "{}", results[3]);
    // the stored raw text is a valid prefix of at most 8000 bytes
    let recs = app.db.collection::<bson::Document>("syncops");
    for x in &long {
        let rec = recs.find_one(doc! { "opId": x["opId"].as_str().unwrap() }).await.unwrap().unwrap();
        let stored = rec.get_str("payload").unwrap();
        assert!(stored.len() <= 8000 && stored.len() > 7990, "{}", stored.len());
        assert!(x.to_string().starts_with(stored));
    }
    // and the owner's list of rejected operations reads them back
    let rej = app.get("/api/v2/sync/rejected", Some(&r.token)).await;
    assert_eq!(rej.status, 200, "{}", rej.body);
}

async fn boom() -> &'static str {
    panic!("boom: a test-only panic")
}

/// The panic guard answers in the JSON envelope (a route that panics exists only in this
/// test's router: `build_router_with` is given it here, the server binary never is).
#[tokio::test]
async fn a_panicking_handler_answers_the_500_envelope() {
    let cfg = test_config(&[]);
    let sms = viveka::otp::sender::RecordingSender::new();
    let state = viveka::build_state(cfg, Arc::new(sms.clone())).await.unwrap();
    let extra: axum::Router<viveka::state::AppState> =
        axum::Router::new().route("/api/test-only/panic", axum::routing::get(boom)).route(
            "/api/test-only/panic-in-task",
            axum::routing::post(|| async {
                let s = String::from("कार्बोरेटर");
                // the very fault of the push: a byte cut inside a letter
                let cut = &s[..4];
                cut.to_string()
            }),
        );
    let (router, _) = viveka::build_router_with(state.clone(), extra);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(viveka::serve_router(listener, router, async {
        let _ = rx.await;
    }));
    let http = reqwest::Client::new();
    for (method, path) in
        [(reqwest::Method::GET, "/api/test-only/panic"), (reqwest::Method::POST, "/api/test-only/panic-in-task")]
    {
        let res = http.request(method, format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status(), 500);
        let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        assert!(ct.starts_with("application/json"), "{ct}");
        assert!(res.headers().contains_key("x-request-id"));
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["success"], false, "{body}");
        assert_eq!(body["code"], "INTERNAL_ERROR", "{body}");
        assert_eq!(body["message"], "Internal server error", "{body}");
        assert!(!body.to_string().contains("boom"), "the panic text leaked: {body}");
    }
    // the server still serves after the panics
    assert_eq!(http.get(format!("{base}/api/health")).send().await.unwrap().status(), 200);
    let _ = tx.send(());
    let _ = state.db.drop().await;
}

// ------------------------------------------------------------------ 1. text reaching queries

/// `q=%00abc` reached a MongoDB regular expression, which refuses an embedded NUL (a 500).
#[tokio::test]
async fn a_nul_byte_in_search_text_is_400_on_item_and_customer_lists() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    for path in
        [format!("/api/business/items/{}", r.client_id), format!("/api/business/client-customers/{}", r.client_id)]
    {
        for q in ["%00abc", "abc%00", "%01", "a%0Ab", "%7F", "%C2%85"] {
            let res = app.get(&format!("{path}?q={q}"), Some(&r.token)).await;
            res.assert_envelope(400);
            assert!(res.errors().contains("query.q: must not contain control characters"), "{q}: {}", res.body);
            let res = app.get(&format!("{path}?search={q}"), Some(&r.token)).await;
            res.assert_envelope(400);
        }
    }
}

/// Search text is a literal: regular-expression syntax matches itself and nothing else.
#[tokio::test]
async fn regex_metacharacters_in_search_are_literal_text() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    seed_item(&app, &r.client_id, "Bolt (M8) 2.5*", 100, 5).await;
    seed_item(&app, &r.client_id, "Nut", 100, 5).await;
    let items = format!("/api/business/items/{}", r.client_id);
    let names = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect()
    };
    for (q, want) in [
        ("(M8)", vec!["Bolt (M8) 2.5*"]),
        ("2.5*", vec!["Bolt (M8) 2.5*"]),
        (".*", vec![]),
        ("N.t", vec![]),
        ("Nut|Bolt", vec![]),
        ("%5B", vec![]),
        ("%5C", vec![]),
        ("%24where", vec![]),
        ("nut", vec!["Nut"]),
    ] {
        let res = app.get(&format!("{items}?q={q}"), Some(&r.token)).await;
        assert_eq!(res.status, 200, "{q}: {}", res.body);
        assert_eq!(names(&res.body), want, "{q}");
    }
    let c = app
        .post(
            "/api/business/client-customers",
            Some(&r.token),
            json!({ "name": "Ravi (Shop) *", "phoneNumber": phone() }),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    let list = format!("/api/business/client-customers/{}", r.client_id);
    for (q, n) in [("(Shop)", 1), ("*", 1), (".*", 0), ("R.vi", 0), ("%5B", 0), ("%2B91", 0)] {
        let res = app.get(&format!("{list}?q={q}"), Some(&r.token)).await;
        assert_eq!(res.status, 200, "{q}: {}", res.body);
        let found =
            res.body["clientCustomers"].as_array().or_else(|| res.body["customers"].as_array()).map_or(0, Vec::len);
        assert_eq!(found, n, "{q}: {}", res.body);
    }
}

/// Every GET operation of the OpenAPI document, every documented query parameter: a control
/// character is a 400 envelope, regular-expression syntax and odd text are 2xx/4xx, never
/// a 5xx (a new list route with a search parameter is covered without being named here).
#[tokio::test]
async fn every_query_parameter_refuses_control_chars_and_never_answers_500() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let doc = app.get("/api/openapi.json", None).await.body;
    let fake = ObjectId::new().to_hex();
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let Some(get) = ops.get("get") else { continue };
        let params: Vec<&str> = get["parameters"]
            .as_array()
            .map(|a| a.iter().filter(|p| p["in"] == "query").filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default();
        if params.is_empty() {
            continue;
        }
        let mut url = path.replace("{clientId}", &r.client_id);
        while let (Some(a), Some(b)) = (url.find('{'), url.find('}')) {
            url.replace_range(a..=b, &fake);
        }
        for name in params {
            for v in ["%00abc", "x%01", "%0A", "%1B%5B31m"] {
                let res = app.get(&format!("{url}?{name}={v}"), Some(&r.token)).await;
                // a `clientId` that is not the token's is a 403 before any handler runs
                let want = if name == "clientId" && res.status == 403 { 403 } else { 400 };
                res.assert_envelope(want);
            }
            for v in [
                ".*",
                "(",
                "%5B",
                "%5C",
                "%24ne",
                "a%7Cb",
                "%5E%24",
                "क्या",
                "%F0%9F%98%80",
                "9999999999999999999999",
                "-1",
            ] {
                let res = app.get(&format!("{url}?{name}={v}"), Some(&r.token)).await;
                assert!(res.status.as_u16() < 500, "GET {url}?{name}={v}: {} {}", res.status, res.body);
                if !res.status.is_success() {
                    res.assert_envelope(res.status.as_u16());
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} query parameters found");
}

/// Every operation of the OpenAPI document that takes a JSON body refuses a body with a NUL
/// (in a value or in a key) with the 400 envelope before doing anything, never a 5xx.
#[tokio::test]
async fn every_json_body_refuses_control_characters_with_the_400_envelope() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let doc = app.get("/api/openapi.json", None).await.body;
    let fake = ObjectId::new().to_hex();
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if op.get("requestBody").is_none() {
                continue;
            }
            let mut url = path.replace("{clientId}", &r.client_id);
            while let (Some(a), Some(b)) = (url.find('{'), url.find('}')) {
                url.replace_range(a..=b, &fake);
            }
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for body in [
                json!({ "name": "a\u{0}b", "notes": "x" }),
                json!({ "k\u{1}": 1 }),
                json!({ "a": [{ "b": "\u{7f}" }] }),
            ] {
                let res = app.raw(m.clone(), &url, Some(&r.token), Some(&body)).await;
                if url == "/api/v2/sync/push" {
                    // the push checks each operation (this body has none: a 400 all the same)
                    res.assert_envelope(400);
                    continue;
                }
                assert_eq!(res.status, 400, "{method} {url} {body}: {}", res.body);
                res.assert_envelope(400);
                assert!(res.errors().contains("must not contain control characters"), "{method} {url}: {}", res.body);
            }
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} operations with a body");
}

/// A control character in a JSON body is refused on each path: online 400 naming the field,
/// v1 `/api/sync` 400, v2 push: the operation alone is rejected. Free text keeps its line
/// breaks; a one-line name does not take them.
#[tokio::test]
async fn control_characters_in_bodies_are_refused_on_all_three_paths() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let t = Some(r.token.as_str());
    let items = "/api/business/items".to_string();
    for bad in ["Bolt\u{0}", "\u{1}Bolt", "Bo\u{7f}lt", "Bolt\u{85}", "Bo\nlt", "Bo\tlt"] {
        let res = app.post(&items, t, json!({ "name": bad, "price": 10 })).await;
        res.assert_envelope(400);
        assert!(res.errors().contains("name: must not contain control characters"), "{bad:?}: {}", res.body);
        let v1 = app.post("/api/sync", t, json!({ "item": { "create": [{ "name": bad, "price": 10 }] } })).await;
        v1.assert_envelope(400);
        assert!(v1.errors().contains("control characters"), "{bad:?}: {}", v1.body);
        let v2 = push(&app, &r, json!([op("item", "create", json!({ "name": bad, "price": 10 }))])).await;
        assert_eq!(v2.status, 200, "{}", v2.body);
        assert_eq!(v2.body["results"][0]["status"], "rejected", "{bad:?}: {}", v2.body);
        assert!(v2.body["results"][0]["reason"].as_str().unwrap().contains("control characters"), "{}", v2.body);
    }
    // a key with NUL, nested deep
    let res = app.post(&items, t, json!({ "name": "Bolt", "price": 10, "x\u{0}": 1 })).await;
    res.assert_envelope(400);
    // free text: line breaks and tabs are kept
    let ok = app.post(&items, t, json!({ "name": "Bolt", "price": 10, "description": "line 1\nline 2\tend" })).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.body["item"]["description"], "line 1\nline 2\tend");
    let ok = push(&app, &r, json!([op("item", "create", json!({ "name": "Nut", "price": 1, "description": "a\nb" }))]))
        .await;
    assert_eq!(ok.body["results"][0]["status"], "applied", "{}", ok.body);
    assert_eq!(app.count("items", doc! { "name": { "$regex": "\u{1}|\u{7f}|\u{85}" } }).await, 0);
}

// ------------------------------------------------------------------ 2. bounds

/// The reported overflow: Rs 10^12 x 92,233 was accepted and the second such sale answered
/// 500 (the `$inc` of the customer's balance overflowed). Now refused with 400 on every path,
/// as many times as it is sent.
#[tokio::test]
async fn rs_10_pow_12_times_92233_is_refused_on_every_path() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let t = Some(r.token.as_str());
    let huge = json!(1_000_000_000_000_i64);
    let cust = phone();
    // online: no such price can enter the catalog or a cart
    let items = "/api/business/items";
    let res = app.post(items, t, json!({ "name": "Gold", "price": huge })).await;
    res.assert_envelope(400);
    assert!(res.errors().contains("price: must be at most Rs 1 crore"), "{}", res.body);
    let item = seed_item(&app, &r.client_id, "Gold", 100, 1_000_000).await;
    let cart = app.post("/api/business/carts", t, json!({ "clientCustomerPhone": cust })).await;
    let cart_id = cart.body["cart"]["_id"].as_str().unwrap().to_string();
    let add = app
        .post(
            "/api/business/carts/add-item",
            t,
            json!({ "cartId": cart_id, "itemId": item, "quantity": 92_233, "unitPrice": huge }),
        )
        .await;
    add.assert_envelope(400);
    for _ in 0..2 {
        // v1 sync
        let v1 = app
            .post(
                "/api/sync",
                t,
                json!({ "invoice": { "create": [{ "products": [{ "productId": item, "itemName": "Gold", "quantity": 92_233, "costPerUnit": huge }], "clientCustomerPhone": cust }] } }),
            )
            .await;
        v1.assert_envelope(400);
        assert!(v1.errors().contains("costPerUnit: must be at most Rs 1 crore"), "{}", v1.body);
        // v2 push
        let v2 = push(
            &app,
            &r,
            json!([op("invoice", "create", json!({ "products": [{ "productId": item, "quantity": 92_233, "costPerUnit": huge }], "clientCustomerPhone": cust }))]),
        )
        .await;
        assert_eq!(v2.status, 200, "{}", v2.body);
        assert_eq!(v2.body["results"][0]["status"], "rejected", "{}", v2.body);
    }
    assert_eq!(app.count("invoices", doc! {}).await, 0);
}

/// The bounds themselves: a line of exactly Rs 1 crore and an invoice of exactly Rs 100 crore
/// are accepted, one paisa more is refused, on each path.
#[tokio::test]
async fn line_and_invoice_bounds_are_exact_on_every_path() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let t = Some(r.token.as_str());
    let (line, inv) = (MAX_LINE.as_i64(), MAX_INVOICE.as_i64());
    let cheap = seed_item(&app, &r.client_id, "Washer", 1, MAX_UNITS).await;
    let dear = seed_item(&app, &r.client_id, "Press", line, 1_000).await;
    let sales = "/api/business/invoices/generatewithproducts";
    // online (catalog prices): 1 paisa x 10^9 = Rs 1 crore is one full line
    let ok = app.post(sales, t, json!({ "products": [{ "productId": cheap, "quantity": MAX_UNITS }] })).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    let over = app.post(sales, t, json!({ "products": [{ "productId": cheap, "quantity": MAX_UNITS + 1 }] })).await;
    over.assert_envelope(400);
    let two = app.post(sales, t, json!({ "products": [{ "productId": dear, "quantity": 2 }] })).await;
    two.assert_envelope(400);
    assert!(two.errors().contains("line total"), "{}", two.body);
    // 100 lines of Rs 1 crore = Rs 100 crore; the tax of one paisa more is refused
    let hundred: Vec<Value> = (0..100).map(|_| json!({ "productId": dear, "quantity": 1 })).collect();
    let full = app.post(sales, t, json!({ "products": hundred.clone() })).await;
    assert_eq!(full.status, 201, "{}", full.body);
    assert_eq!(p(&full.body["invoice"]["totalAmount"]), inv);
    let more = app.post(sales, t, json!({ "products": hundred, "totalTax": 0.01 })).await;
    more.assert_envelope(400);
    let tax = app
        .post(sales, t, json!({ "products": [{ "productId": cheap, "quantity": 1 }], "totalTax": rupees(inv + 1) }))
        .await;
    tax.assert_envelope(400);
    // v1 sync
    let v1 = |cost: i64, qty: i64| json!({ "invoice": { "create": [{ "products": [{ "productId": cheap, "itemName": "Washer", "quantity": qty, "costPerUnit": rupees(cost) }] }] } });
    assert_eq!(app.post("/api/sync", t, v1(line, 1)).await.status, 200);
    app.post("/api/sync", t, v1(line + 1, 1)).await.assert_envelope(400);
    app.post("/api/sync", t, v1(line, 2)).await.assert_envelope(400);
    app.post("/api/sync", t, v1(1, MAX_UNITS + 1)).await.assert_envelope(400);
    // v2 push
    let v2 = |cost: i64, qty: i64| {
        op(
            "invoice",
            "create",
            json!({ "products": [{ "productId": cheap, "quantity": qty, "costPerUnit": rupees(cost) }] }),
        )
    };
    let res =
        push(&app, &r, json!([v2(line, 1), v2(line + 1, 1), v2(line, 2), v2(1, MAX_UNITS + 1), v2(2, MAX_UNITS / 2)]))
            .await;
    let st: Vec<&str> = res.body["results"].as_array().unwrap().iter().map(|x| x["status"].as_str().unwrap()).collect();
    assert_eq!(st, ["applied", "rejected", "rejected", "rejected", "applied"], "{}", res.body);
    // payments above the bound are refused before anything else
    let pay = push(
        &app,
        &r,
        json!([op("payment", "create", json!({ "invoiceId": ObjectId::new().to_hex(), "amount": rupees(inv + 1) }))]),
    )
    .await;
    assert!(pay.body["results"][0]["reason"].as_str().unwrap().contains("at most Rs 100 crore"), "{}", pay.body);
}

/// Stock stays within +-10^9 on every path: an item created with stock i64::MAX used to be
/// accepted and a later `stockDelta` answered 500.
#[tokio::test]
async fn stock_bounds_hold_on_every_path() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let t = Some(r.token.as_str());
    let items = format!("/api/business/items/{}", r.client_id);
    for stock in [json!(i64::MAX), json!(MAX_UNITS + 1), json!(-1)] {
        app.post("/api/business/items", t, json!({ "name": "Bolt", "price": 1, "stock": stock }))
            .await
            .assert_envelope(400);
        app.post("/api/sync", t, json!({ "item": { "create": [{ "name": "Bolt", "price": 1, "stock": stock }] } }))
            .await
            .assert_envelope(400);
        let v2 =
            push(&app, &r, json!([op("item", "create", json!({ "name": "Bolt", "price": 1, "stock": stock }))])).await;
        assert_eq!(v2.body["results"][0]["status"], "rejected", "{}", v2.body);
    }
    let create = "/api/business/items";
    app.post(create, t, json!({ "name": "Bolt", "price": 1, "lowStockQuantity": i64::MAX })).await.assert_envelope(400);
    // at the bound: created; one more unit by any path is refused, nothing moves
    let full = app.post(create, t, json!({ "name": "Full", "price": 1, "stock": MAX_UNITS })).await;
    assert_eq!(full.status, 201, "{}", full.body);
    let id = full.body["item"]["_id"].as_str().unwrap().to_string();
    let up = push(
        &app,
        &r,
        json!([
            op("item", "update", json!({ "id": id, "stockDelta": 1 })),
            op("item", "update", json!({ "id": id, "stockDelta": -5 }))
        ]),
    )
    .await;
    assert_eq!(up.body["results"][0]["status"], "rejected", "{}", up.body);
    assert!(up.body["results"][0]["reason"].as_str().unwrap().contains("bounds"), "{}", up.body);
    assert_eq!(up.body["results"][1]["status"], "applied", "{}", up.body);
    assert_eq!(app.stock_of(&id).await, MAX_UNITS - 5);
    // a legacy item beyond the bounds (written before them): refused, never a 500
    let legacy = seed_item(&app, &r.client_id, "Legacy", 1, i64::MAX).await;
    let res = push(&app, &r, json!([op("item", "update", json!({ "id": legacy, "stockDelta": 1 }))])).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["results"][0]["status"], "rejected", "{}", res.body);
    let sale = app
        .post(
            "/api/business/invoices/generatewithproducts",
            t,
            json!({ "products": [{ "productId": legacy, "quantity": 1 }] }),
        )
        .await;
    sale.assert_envelope(400);
    assert!(sale.errors().contains("bounds"), "{}", sale.body);
    assert_eq!(app.stock_of(&legacy).await, i64::MAX);
    // setting an absolute stock within the bounds repairs it
    let res = app.put(&format!("{items}/{legacy}"), t, json!({ "stock": 7 })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(app.stock_of(&legacy).await, 7);
    // negative stock has the same bound (offline sales always subtract)
    let low = seed_item(&app, &r.client_id, "Low", 1, -MAX_UNITS + 3).await;
    let sale = |q: i64| op("invoice", "create", json!({ "products": [{ "productId": low, "quantity": q }] }));
    let res = push(&app, &r, json!([sale(3), sale(1)])).await;
    let st: Vec<&str> = res.body["results"].as_array().unwrap().iter().map(|x| x["status"].as_str().unwrap()).collect();
    assert_eq!(st, ["applied", "rejected"], "{}", res.body);
    assert_eq!(app.stock_of(&low).await, -MAX_UNITS);
    let v1 = app
        .post("/api/sync", t, json!({ "invoice": { "create": [{ "products": [{ "productId": low, "itemName": "Low", "quantity": 1, "costPerUnit": 1 }] }] } }))
        .await;
    v1.assert_envelope(400);
    assert_eq!(app.stock_of(&low).await, -MAX_UNITS);
}

/// Dealer orders, deliveries and payments take the same bounds; a delivery that would take
/// stock past 10^9 is refused as a whole.
#[tokio::test]
async fn dealer_bounds_hold() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let t = Some(r.token.as_str());
    let d = app
        .post("/api/dealer", t, json!({ "clientId": r.client_id, "name": "Acme Traders", "phoneNumber": phone() }))
        .await;
    assert_eq!(d.status, 201, "{}", d.body);
    let dealer = d.body["dealer"]["_id"].as_str().unwrap().to_string();
    let items = "/api/business/items".to_string();
    let it =
        app.post(&items, t, json!({ "name": "Pipe", "price": 1, "stock": MAX_UNITS - 5, "dealerIds": [dealer] })).await;
    assert_eq!(it.status, 201, "{}", it.body);
    let item = it.body["item"]["_id"].as_str().unwrap().to_string();
    let order =
        |q: i64| json!({ "clientId": r.client_id, "dealerId": dealer, "items": [{ "itemId": item, "quantity": q }] });
    app.post("/api/dealer/orders", t, order(MAX_UNITS + 1)).await.assert_envelope(400);
    let o = app.post("/api/dealer/orders", t, order(10)).await;
    assert_eq!(o.status, 201, "{}", o.body);
    let oid = o.body["order"]["_id"].as_str().unwrap().to_string();
    let deliver = |total: Value| json!({ "clientId": r.client_id, "totalAmount": total });
    let path = format!("/api/dealer/orders/{oid}/mark-delivered");
    app.post(&path, t, deliver(rupees(MAX_INVOICE.as_i64() + 1))).await.assert_envelope(400);
    let res = app.post(&path, t, deliver(json!(100))).await;
    res.assert_envelope(400);
    assert!(res.errors().contains("bounds") || res.body.to_string().contains("bounds"), "{}", res.body);
    assert_eq!(app.stock_of(&item).await, MAX_UNITS - 5);
    let pay = json!({ "clientId": r.client_id, "dealerId": dealer, "amount": rupees(MAX_INVOICE.as_i64() + 1) });
    app.post("/api/dealer/payments", t, pay).await.assert_envelope(400);
}

// ------------------------------------------------------------------ 2. exact report figures

/// One generated sale: lines of (cost per unit in paise, quantity), the part paid with it
/// (per mille of the total) and a later payment (per mille of what is left), and whether it
/// goes through v1 `/api/sync` or the v2 push.
#[derive(Debug, Clone)]
struct GenSale {
    lines: Vec<(i64, i64)>,
    paid_permille: i64,
    later_permille: i64,
    v2: bool,
}

fn gen_sale() -> impl proptest::strategy::Strategy<Value = GenSale> {
    use proptest::prelude::*;
    let max = MAX_LINE.as_i64();
    // costs biased to the bound: a line of up to Rs 1 crore, up to 4 lines per sale
    let cost = prop_oneof![1i64..=100, max / 4..=max, Just(max)];
    let line = cost.prop_flat_map(move |c| (Just(c), 1i64..=(max / c).clamp(1, 1000)));
    (prop::collection::vec(line, 1..=4), prop_oneof![Just(0i64), Just(1000), 0i64..=1000], 0i64..=1000, any::<bool>())
        .prop_map(|(lines, paid_permille, later_permille, v2)| GenSale { lines, paid_permille, later_permille, v2 })
}

/// Any accepted sales keep every report figure equal to the exact (i128) sum computed here:
/// dashboard summary, day book, payment report (B28) and the customer's dues. Sales near
/// the bounds, through v1 and v2, with payments at the sale and later.
/// Cases: `PROPTEST_CASES` (default 6; each case is a new shop on the real database).
#[test]
fn prop_report_figures_equal_exact_sums_of_accepted_sales() {
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let app = rt.block_on(TestApp::spawn());
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(6);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let strategy = proptest::collection::vec(gen_sale(), 1..=5);
    let result =
        runner.run(&strategy, |sales| rt.block_on(check_report_figures(&app, &sales)).map_err(TestCaseError::fail));
    if let Err(e) = result {
        panic!("{e}");
    }
}

async fn check_report_figures(app: &TestApp, sales: &[GenSale]) -> Result<(), String> {
    let r = app.register(&phone()).await;
    let t = Some(r.token.as_str());
    let cust = phone();
    let item = seed_item(app, &r.client_id, "Cement", 1, MAX_UNITS).await;
    let from = chrono::Utc::now() - chrono::Duration::minutes(1);
    // the exact expectations, in i128
    let (mut sold, mut collected, mut settled, mut pending, mut open) = (0i128, 0i128, 0i128, 0i128, 0i64);
    for s in sales {
        let total: i128 = s.lines.iter().map(|(c, q)| i128::from(*c) * i128::from(*q)).sum();
        let paid = total * i128::from(s.paid_permille) / 1000;
        let later = (total - paid) * i128::from(s.later_permille) / 1000;
        let (total64, paid64, later64) = (total as i64, paid as i64, later as i64);
        let v1_lines: Vec<Value> = s
            .lines
            .iter()
            .map(|(c, q)| json!({ "productId": item, "itemName": "Cement", "quantity": q, "costPerUnit": rupees(*c) }))
            .collect();
        if s.v2 {
            let sale_op = uuid();
            let lines: Vec<Value> = s
                .lines
                .iter()
                .map(|(c, q)| json!({ "productId": item, "quantity": q, "costPerUnit": rupees(*c) }))
                .collect();
            let mut ops = vec![
                json!({ "opId": sale_op, "entity": "invoice", "kind": "create", "deviceTime": now_iso(),
                "payload": { "products": lines, "clientCustomerPhone": cust, "paidAmount": rupees(paid64), "totalAmount": rupees(total64) } }),
            ];
            if later > 0 {
                ops.push(op("payment", "create", json!({ "invoiceOpId": sale_op, "amount": rupees(later64) })));
            }
            let res = push(app, &r, Value::Array(ops.clone())).await;
            let applied = res.body["summary"]["applied"].as_u64();
            if res.status != 200 || applied != Some(ops.len() as u64) {
                return Err(format!("push not applied: {} {}", res.status, res.body));
            }
        } else {
            let body = json!({ "invoice": { "create": [{ "products": v1_lines, "clientCustomerPhone": cust,
                "paidAmount": rupees(paid64), "totalAmount": rupees(total64) }] } });
            let res = app.post("/api/sync", t, body).await;
            if res.status != 200 {
                return Err(format!("v1 sync refused: {} {}", res.status, res.body));
            }
            if later > 0 {
                let id = app
                    .db
                    .collection::<bson::Document>("invoices")
                    .find_one(doc! { "clientId": ObjectId::parse_str(&r.client_id).unwrap() })
                    .sort(doc! { "_id": -1 })
                    .await
                    .map_err(|e| e.to_string())?
                    .and_then(|d| d.get_object_id("_id").ok())
                    .ok_or("no invoice")?;
                let body =
                    json!({ "payment": { "create": [{ "invoiceId": id.to_hex(), "amount": rupees(later64) }] } });
                let res = app.post("/api/sync", t, body).await;
                if res.status != 200 {
                    return Err(format!("v1 payment refused: {} {}", res.status, res.body));
                }
            }
        }
        sold += total;
        collected += paid + later;
        if paid + later >= total {
            settled += total;
        } else {
            pending += total - paid - later;
            open += 1;
        }
    }
    let to = chrono::Utc::now() + chrono::Duration::minutes(1);
    let figure = |v: &Value| i128::from(p(v));
    let s = app.get("/api/dashboard/summary", t).await;
    let got = (figure(&s.body["totalSales"]), figure(&s.body["pendingAmount"]), s.body["pendingInvoices"].as_i64());
    if got != (settled, pending, Some(open)) {
        return Err(format!("dashboard summary {} != ({settled}, {pending}, {open})", s.body));
    }
    let window = format!(
        "from={}&to={}",
        from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let db = app.get(&format!("/api/dashboard/reports/day-book?{window}"), t).await;
    if (figure(&db.body["sales"]), figure(&db.body["collections"])) != (sold, collected) {
        return Err(format!("day book {} != ({sold}, {collected})", db.body));
    }
    let pr = app.get(&format!("/api/business/payment-report/{}", r.client_id), t).await;
    let sm = &pr.body["summary"];
    let got = (
        figure(&sm["totalAmount"]),
        figure(&sm["totalPaid"]),
        figure(&sm["totalPending"]),
        sm["totalInvoices"].as_u64(),
    );
    if got != (sold, collected, sold - collected, Some(sales.len() as u64)) {
        return Err(format!("payment report {} != ({sold}, {collected})", pr.body));
    }
    let c = app
        .db
        .collection::<bson::Document>("clientcustomers")
        .find_one(doc! { "phoneNumber": &cust })
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no customer")?;
    let dues = c.get_i64("outstandingBalance").map_err(|e| e.to_string())?;
    if i128::from(dues) != sold - collected {
        return Err(format!("customer dues {dues} != {}", sold - collected));
    }
    Ok(())
}
