//! HTTP hygiene: envelope for every failure, request ids, security headers, CORS, gzip,
//! body limit, health, OpenAPI and Postman, migrations.

use bson::{doc, oid::ObjectId};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{phone, test_config, TestApp};

#[tokio::test]
async fn health_is_200_with_the_database_and_503_without() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/health", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["success"], true);
    assert_eq!(r.body["database"], "up");
    assert!(r.body["timestamp"].as_str().unwrap().ends_with('Z'));

    // a server whose database is unreachable
    let mut cfg = test_config(&[]);
    cfg.mongo_url = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300&connectTimeoutMS=300".into();
    let client = mongodb::Client::with_uri_str(&cfg.mongo_url).await.unwrap();
    let db = client.database("unreachable");
    let sms = viveka::otp::sender::RecordingSender::new();
    let state = viveka::state::AppState::new(cfg, client, db, std::sync::Arc::new(sms.clone()));
    let down = TestApp::start(state, sms).await;
    down.get("/api/health", None).await.assert_envelope(503);
    // other requests fail fast with 503 too, never 500
    let r = down.post("/api/otp/send", None, json!({ "phoneNumber": phone(), "purpose": "register" })).await;
    r.assert_envelope(503);
}

#[tokio::test]
async fn malformed_json_wrong_type_and_content_type_are_4xx_envelopes() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let targets = [
        ("/api/otp/send".to_string(), Method::POST, None),
        ("/api/auth/register".to_string(), Method::POST, None),
        ("/api/auth/login".to_string(), Method::POST, None),
        ("/api/otp/verify".to_string(), Method::POST, None),
        ("/api/auth/logout".to_string(), Method::POST, Some(reg.token.clone())),
        (format!("/api/client/{}", reg.client_id), Method::PUT, Some(reg.token.clone())),
    ];
    for (path, method, token) in &targets {
        let url = format!("{}{}", app.base, path);
        let mut req = app
            .http
            .request(method.clone(), &url)
            .header("content-type", "application/json")
            .body("{\"phoneNumber\": ");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 400, "malformed JSON on {path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "MALFORMED_JSON");
        assert!(body["errors"].is_array());

        let mut req = app
            .http
            .request(method.clone(), &url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("phoneNumber=9890000000");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 415, "form body on {path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["success"], false);

        let mut req = app.http.request(method.clone(), &url).json(&json!([1, 2, 3]));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        assert_eq!(req.send().await.unwrap().status(), 400, "array body on {path}");
    }
    // wrong types name the field
    let r = app.post("/api/otp/send", None, json!({ "phoneNumber": ["9890000000"], "purpose": "login" })).await;
    r.assert_envelope(400);
    assert!(r.errors().starts_with("phoneNumber:"), "{}", r.body);
    let r = app
        .put(
            &format!("/api/client/{}", reg.client_id),
            Some(&reg.token),
            json!({ "clientSettings": { "billing": { "requireFullPayment": 1 } } }),
        )
        .await;
    r.assert_envelope(400);
    assert!(r.errors().contains("clientSettings.billing.requireFullPayment"), "{}", r.body);
}

#[tokio::test]
async fn oversized_body_is_413_and_unknown_routes_404() {
    let app = TestApp::spawn().await;
    let big = "x".repeat(1024 * 1024 + 10);
    let r = app
        .http
        .post(format!("{}/api/otp/send", app.base))
        .header("content-type", "application/json")
        .body(format!("{{\"phoneNumber\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["code"], "PAYLOAD_TOO_LARGE");

    let r = app.get("/api/nope", None).await;
    r.assert_envelope(404);
    assert_eq!(r.code(), "ROUTE_NOT_FOUND");
    let r = app.get("/totally/unknown", None).await;
    r.assert_envelope(404);
    // the v1 verify/clear "not routes" are routes here; v1's other non-routes stay 404
    app.post("/api/business/invoices/incomplete-sale-nope", None, json!({})).await.assert_envelope(401);
    // wrong method on a known route: 405 in the envelope
    let r = app.raw(Method::DELETE, "/api/otp/send", None, None).await;
    r.assert_envelope(405);
}

#[tokio::test]
async fn unknown_paths_under_authenticated_prefixes_check_the_token_first() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    app.get("/api/business/whatever", None).await.assert_envelope(401);
    app.get("/api/business/whatever", Some(&reg.token)).await.assert_envelope(404);
    app.get("/api/dashboard/none", Some("garbage")).await.assert_envelope(401);
}

#[tokio::test]
async fn responses_carry_request_id_and_security_headers() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/health", None).await;
    let rid = r.headers.get("x-request-id").expect("request id").to_str().unwrap();
    assert_eq!(rid.len(), 36);
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert!(r.headers.get("content-security-policy").is_some());
    // a caller's request id is echoed
    let r = app.http.get(format!("{}/api/health", app.base)).header("x-request-id", "abc-123").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    // errors too
    let r = app.get("/api/nope", None).await;
    assert!(r.headers.get("x-request-id").is_some());
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn cors_allows_listed_origins_and_plainly_denies_others() {
    let app = TestApp::spawn().await;
    let ok = app
        .http
        .get(format!("{}/api/health", app.base))
        .header("origin", "https://app.viveka.test")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["access-control-allow-origin"], "https://app.viveka.test");
    let bad =
        app.http.get(format!("{}/api/health", app.base)).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(bad.status(), 200, "no 500 for a foreign origin (U25)");
    assert!(bad.headers().get("access-control-allow-origin").is_none());
    let pre = app
        .http
        .request(Method::OPTIONS, format!("{}/api/auth/login", app.base))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(pre.status().as_u16() < 500);
    assert!(pre.headers().get("access-control-allow-origin").is_none());
    // no Origin (the mobile app): always fine
    assert_eq!(app.get("/api/health", None).await.status, 200);
}

#[tokio::test]
async fn gzip_when_asked() {
    let app = TestApp::spawn().await;
    // a client that does not decompress by itself, so the header stays visible
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let r = raw.get(format!("{}/api/openapi.json", app.base)).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
}

#[tokio::test]
async fn openapi_and_docs_are_served_and_cover_every_route() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/openapi.json", None).await;
    assert_eq!(r.status, 200);
    let paths = r.body["paths"].as_object().unwrap();
    for (p, m) in [
        ("/api/health", "get"),
        ("/api/otp/send", "post"),
        ("/api/mockotp/send", "post"),
        ("/api/otp/verify", "post"),
        ("/api/otp/clear", "post"),
        ("/api/auth/register", "post"),
        ("/api/auth/login", "post"),
        ("/api/auth/logout", "post"),
        ("/api/client/{clientId}", "get"),
        ("/api/client/{clientId}", "put"),
        ("/api/auth/client/{clientId}", "get"),
        ("/api/auth/client/{clientId}", "put"),
        ("/api/business/item-groups", "post"),
        ("/api/business/item-groups/{clientId}", "get"),
        ("/api/business/item-groups/{clientId}/{groupId}", "put"),
        ("/api/business/item-groups/{clientId}/{groupId}", "delete"),
        ("/api/business/items", "post"),
        ("/api/business/items/{clientId}", "get"),
        ("/api/business/items/{clientId}/{itemId}", "put"),
        ("/api/business/items/{clientId}/{itemId}", "delete"),
        ("/api/business/client-customers", "post"),
        ("/api/business/client-customers/{clientId}", "get"),
        ("/api/business/client-customers/{clientId}/{clientCustomerId}", "get"),
        ("/api/business/client-customers/{clientId}/{clientCustomerId}", "put"),
        ("/api/business/client-customers/{clientId}/{clientCustomerId}", "delete"),
    ] {
        assert!(paths.get(p).and_then(|o| o.get(m)).is_some(), "{m} {p} missing from the OpenAPI document");
    }
    let docs = app.http.get(format!("{}/api/docs", app.base)).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    // the page (served from the binary) loads the document through its initializer; every
    // asset: newcomer::docs_page_and_every_asset_it_references_are_served_by_the_server
    let init = app.http.get(format!("{}/api/docs/swagger-initializer.js", app.base)).send().await.unwrap();
    assert!(init.text().await.unwrap().contains("/api/openapi.json"));
}

#[tokio::test]
async fn committed_postman_files_match_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/openapi.json", None).await.body;
    let (collection, env) = viveka::openapi::postman(&doc);
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |f: &str| -> Value {
        let text = std::fs::read_to_string(format!("{root}/postman/{f}"))
            .unwrap_or_else(|_| panic!("postman/{f} missing: run `cargo run -- postman`"));
        serde_json::from_str(&text).unwrap()
    };
    assert_eq!(
        read("viveka.postman_collection.json"),
        collection,
        "postman/ is out of date: run `cargo run -- postman`"
    );
    assert_eq!(read("viveka.postman_environment.json"), env, "postman/ is out of date: run `cargo run -- postman`");
    // every operation of the document is in the collection's Reference folder
    let ops: usize = doc["paths"].as_object().unwrap().values().map(|m| m.as_object().unwrap().len()).sum();
    let folders = collection["item"].as_array().unwrap();
    let reference = folders.iter().find(|f| f["name"] == "Reference").expect("Reference folder");
    let items: usize = reference["item"].as_array().unwrap().iter().map(|f| f["item"].as_array().unwrap().len()).sum();
    assert_eq!(ops, items);
    // the runnable flow comes first, every request of it has tests, and it ends with cleanup
    // (run by scripts/newman.sh against a live server)
    assert_eq!(folders[0]["name"], "Getting started");
    let flow = folders[0]["item"].as_array().unwrap();
    for step in flow {
        let tests = step["event"].as_array().and_then(|e| e.iter().find(|e| e["listen"] == "test"));
        assert!(
            tests.is_some_and(|t| t["script"]["exec"].as_array().is_some_and(|l| l.len() >= 2)),
            "{}",
            step["name"]
        );
    }
    assert!(flow.last().unwrap()["name"].as_str().unwrap().contains("logout"));
    // every {{variable}} the collection uses is declared (captured by the flow or listed to fill)
    let declared: Vec<&str> =
        collection["variable"].as_array().unwrap().iter().filter_map(|v| v["key"].as_str()).collect();
    let used = regex::Regex::new(r"\{\{([A-Za-z0-9_]+)\}\}").unwrap();
    for c in used.captures_iter(&collection.to_string()) {
        assert!(declared.contains(&&c[1]), "{{{{{}}}}} is used but not declared", &c[1]);
    }
    // no body of the collection sends a literal empty clientId
    let text = collection.to_string();
    assert!(!text.contains(r#"\"clientId\": \"\""#), "a body sends \"clientId\": \"\"");
}

#[tokio::test]
async fn migrations_are_recorded_and_idempotent() {
    let app = TestApp::spawn().await;
    let again = viveka::db::migrations::run(&app.db).await.unwrap();
    assert!(again.is_empty(), "nothing re-applied: {again:?}");
    let n = app.db.collection::<bson::Document>("_migrations").count_documents(doc! {}).await.unwrap();
    assert_eq!(n as usize, viveka::db::migrations::MIGRATIONS.len());
    let idx = app.db.collection::<bson::Document>("otpsessions").list_index_names().await.unwrap();
    assert!(idx.contains(&"ttl_expiresAt".to_string()));
    // a forced re-apply is harmless
    app.db.collection::<bson::Document>("_migrations").delete_many(doc! {}).await.unwrap();
    let all = viveka::db::migrations::run(&app.db).await.unwrap();
    assert_eq!(all.len(), viveka::db::migrations::MIGRATIONS.len());
}

#[tokio::test]
async fn one_active_session_is_an_index_invariant() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let cid = bson::oid::ObjectId::parse_str(&reg.client_id).unwrap();
    let now = bson::DateTime::now();
    let r = app
        .db
        .collection::<bson::Document>("devicesessions")
        .insert_one(doc! { "clientId": cid, "userId": cid, "deviceId": "rogue", "isActive": true, "lastSeenAt": now, "createdAt": now, "updatedAt": now })
        .await;
    assert!(r.is_err(), "a second active session of the same user must violate the partial unique index");
    // one active session per USER (issue 15): another user of the shop may be signed in at once
    let other = app
        .db
        .collection::<bson::Document>("devicesessions")
        .insert_one(doc! { "clientId": cid, "userId": bson::oid::ObjectId::new(), "deviceId": "cashier", "isActive": true, "lastSeenAt": now, "createdAt": now, "updatedAt": now })
        .await;
    assert!(other.is_ok(), "{other:?}");
}

/// An empty body is an empty body whatever its content type: the app's HTTP client (axios)
/// puts `application/x-www-form-urlencoded` on a bare POST, and `POST /api/readytosync` used
/// to answer 415. Every route with a body (from the OpenAPI document) answers an empty body
/// the same under every content type, never 415; a non-empty non-JSON body is still 415.
#[tokio::test]
async fn an_empty_body_is_an_empty_body_whatever_its_content_type() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let send = |method: Method, path: String, token: String, ct: Option<&'static str>, body: &'static str| {
        let req = app.http.request(method, format!("{}{}", app.base, path)).bearer_auth(token).body(body);
        let req = match ct {
            Some(ct) => req.header("content-type", ct),
            None => req,
        };
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let form = Some("application/x-www-form-urlencoded");
    let r = send(Method::POST, "/api/readytosync".into(), reg.token.clone(), form, "").await;
    assert_eq!(r, 200, "the app's bare POST");
    assert_eq!(send(Method::POST, "/api/readytosync".into(), reg.token.clone(), form, "a=b").await, 415);

    let doc = app.get("/api/openapi.json", None).await.body;
    let mut token = reg.token.clone();
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (m, op) in ops.as_object().unwrap() {
            if op.get("requestBody").is_none() {
                continue;
            }
            let method = Method::from_bytes(m.to_ascii_uppercase().as_bytes()).unwrap();
            let url = path
                .split('/')
                .map(|seg| match seg {
                    "{clientId}" => reg.client_id.clone(),
                    s if s.starts_with('{') => ObjectId::new().to_hex(),
                    s => s.to_string(),
                })
                .collect::<Vec<_>>()
                .join("/");
            let mut statuses = Vec::new();
            for ct in
                [None, Some("application/json"), form, Some("text/plain"), Some("multipart/form-data; boundary=x")]
            {
                statuses.push((ct, send(method.clone(), url.clone(), token.clone(), ct, "").await));
                // a route that ends the session (logout): sign in again for the next request
                if app.get(&format!("/api/client/{}", reg.client_id), Some(&token)).await.status == 401 {
                    let r = app.login_otp(&reg.phone, "phone-1").await;
                    token = r.body["token"].as_str().expect("login").to_string();
                }
            }
            assert!(statuses.iter().all(|(_, s)| *s != 415), "{m} {path}: {statuses:?}");
            assert!(statuses.iter().all(|(_, s)| *s == statuses[0].1), "{m} {path}: {statuses:?}");
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} routes with a body");
}
