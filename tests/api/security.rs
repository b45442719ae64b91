//! Security findings of issue 12 (section 4), each shown on the real server and database:
//! spoofed `X-Forwarded-For`, parallel password guessing, registration enumeration, key order
//! in idempotent retries, and money work that outlives the request timeout.

use std::time::Duration;

use bson::{doc, oid::ObjectId};
use futures::future::join_all;
use serde_json::{json, Value};

use viveka::{otp::sender::RecordingSender, state::AppState};

use crate::{
    billing::seed_item,
    helpers::{phone, post_keyed, Resp, TestApp},
};

async fn send_otp_via(app: &TestApp, xff: &str, phone: &str) -> Resp {
    let resp = app
        .http
        .post(format!("{}/api/otp/send", app.base))
        .header("X-Forwarded-For", xff)
        .json(&json!({ "phoneNumber": phone, "purpose": "register" }))
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    Resp { status, body, headers }
}

/// Finding: with `TRUST_PROXY=true` the FIRST `X-Forwarded-For` hop, written by the caller,
/// was the client IP, so a new made-up address per request walked past the per-IP OTP limit.
#[tokio::test]
async fn spoofed_leftmost_forwarded_for_does_not_bypass_the_per_ip_otp_limit() {
    let app = TestApp::spawn_with(&[("TRUST_PROXY", "true"), ("OTP_SEND_LIMIT_PER_IP", "3")]).await;
    // the attacker behind our proxy (which appended 203.0.113.9) invents a new first hop each time
    let mut statuses = Vec::new();
    for i in 0..5 {
        let r = send_otp_via(&app, &format!("10.9.{i}.{i}, 203.0.113.9"), &phone()).await;
        statuses.push(r.status.as_u16());
        if r.status == 429 {
            r.assert_envelope(429);
        }
    }
    assert_eq!(statuses, vec![200, 200, 200, 429, 429], "the limit follows the address our proxy saw");
    // and it is per address: another client behind the same proxy is not limited
    let other = send_otp_via(&app, "10.9.0.0, 198.51.100.7", &phone()).await;
    assert_eq!(other.status, 200, "{}", other.body);
    // the counters are keyed by the proxy-appended hop, never by the spoofed one
    let keys: Vec<String> = app
        .db
        .collection::<bson::Document>("ratelimits")
        .distinct("_id", doc! {})
        .await
        .unwrap()
        .into_iter()
        .filter_map(|b| b.as_str().map(str::to_string))
        .filter(|k| k.starts_with("otp-send:ip:"))
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.iter().all(|k| k.contains("203.0.113.9") || k.contains("198.51.100.7")), "{keys:?}");
}

/// Finding: the failed-password limit read the counter, hashed, then counted, so a parallel
/// burst all read "under the cap". Counting first, atomically, lets exactly the cap through.
#[tokio::test]
async fn a_parallel_burst_of_wrong_passwords_cannot_pass_the_cap() {
    let app = TestApp::spawn().await;
    let p = phone();
    app.register_with(&p, json!({ "password": "right-password-1" })).await;
    let tries = (0..20).map(|i| {
        let (http, base, p) = (app.http.clone(), app.base.clone(), p.clone());
        async move {
            http.post(format!("{base}/api/auth/login"))
                .json(&json!({ "phoneNumber": p, "password": format!("wrong-password-{i}"), "deviceId": "d" }))
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        }
    });
    let statuses = join_all(tries).await;
    let refused = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((refused, limited), (10, 10), "exactly the cap of 10 reaches the password check: {statuses:?}");
    // the cap now holds even for the right password
    let right = app
        .post("/api/auth/login", None, json!({ "phoneNumber": p, "password": "right-password-1", "deviceId": "d" }))
        .await;
    right.assert_envelope(429);
}

/// A correct password is not counted as a failure (the attempt is given back).
#[tokio::test]
async fn successful_password_logins_do_not_use_up_the_cap() {
    let app = TestApp::spawn().await;
    let p = phone();
    app.register_with(&p, json!({ "password": "right-password-1" })).await;
    for _ in 0..12 {
        let ok = app
            .post("/api/auth/login", None, json!({ "phoneNumber": p, "password": "right-password-1", "deviceId": "d" }))
            .await;
        assert_eq!(ok.status, 200, "{}", ok.body);
    }
}

/// Finding: register answered "already registered" before checking the OTP, so anyone could
/// tell registered shops from the rest. Without a valid code both answers are now identical.
#[tokio::test]
async fn register_without_a_valid_otp_answers_the_same_for_registered_and_new_phones() {
    let app = TestApp::spawn().await;
    let registered = app.register(&phone()).await;
    let fresh = phone();
    // a live register code for the fresh phone, so "no code at all" is not what differs
    app.otp(&fresh, "register").await;
    let attempt = |p: String| {
        let body =
            json!({ "phoneNumber": p, "otp": "0000", "ownerName": "Asha Rao", "businessName": "Rao Auto Spares" });
        app.post("/api/auth/register", None, body)
    };
    let a = attempt(registered.phone.clone()).await;
    let b = attempt(fresh.clone()).await;
    a.assert_envelope(400);
    assert_eq!((a.status, &a.body), (b.status, &b.body), "registered vs new phone must not be told apart");
    assert!(a.errors().contains("otp"), "{}", a.body);
    assert!(!a.errors().contains("registered"), "{}", a.body);
    // no register code is ever issued to a registered phone, so it can never pass the check
    let sent = app.sms.count(&registered.phone);
    let res = app.post("/api/otp/send", None, json!({ "phoneNumber": registered.phone, "purpose": "register" })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(app.sms.count(&registered.phone), sent, "no register code for a registered phone");
    assert_eq!(app.count("otpsessions", doc! { "phoneNumber": &registered.phone, "purpose": "register" }).await, 0);
}

/// Register attempts are limited per phone and per IP (429 in the envelope).
#[tokio::test]
async fn register_attempts_are_limited_per_phone_and_per_ip() {
    let app = TestApp::spawn_with(&[("REGISTER_LIMIT_PER_PHONE", "3"), ("REGISTER_LIMIT_PER_IP", "5")]).await;
    let body =
        |p: &str| json!({ "phoneNumber": p, "otp": "0000", "ownerName": "Asha Rao", "businessName": "Rao Auto" });
    let p = phone();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(app.post("/api/auth/register", None, body(&p)).await.status.as_u16());
    }
    assert_eq!(statuses, vec![400, 400, 400, 429], "per phone");
    // two more phones: the IP has used 4 of 5, so the 6th attempt from it is refused
    let first = app.post("/api/auth/register", None, body(&phone())).await;
    assert_eq!(first.status, 400, "{}", first.body);
    let second = app.post("/api/auth/register", None, body(&phone())).await;
    second.assert_envelope(429);
    assert!(second.headers.get("retry-after").is_some());
}

async fn post_raw_keyed(app: &TestApp, path: &str, token: &str, key: &str, raw: &str) -> Resp {
    let resp = app
        .http
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("X-Idempotency-Key", key)
        .header("Content-Type", "application/json")
        .body(raw.to_string())
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    Resp { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)), headers }
}

/// Finding: the body hash kept the client's key order, so a retry from another serializer
/// (`{"b":..,"a":..}`) got 422 instead of the stored answer.
#[tokio::test]
async fn a_retry_with_the_body_keys_in_another_order_replays() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = seed_item(&app, &r.client_id, "Brake pad", 30000, 10).await;
    let key = uuid::Uuid::new_v4().to_string();
    let path = "/api/business/invoices/generatewithproducts";
    let first = format!(r#"{{"products":[{{"productId":"{item}","quantity":2}}],"paidAmount":100,"notes":"n"}}"#);
    let reordered =
        format!(r#"{{ "notes": "n", "paidAmount": 100, "products": [ {{ "quantity": 2, "productId": "{item}" }} ] }}"#);
    let a = post_raw_keyed(&app, path, &r.token, &key, &first).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let b = post_raw_keyed(&app, path, &r.token, &key, &reordered).await;
    assert_eq!(b.status, 201, "{}", b.body);
    assert_eq!(b.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(a.body, b.body);
    // another value is still another request
    let other = first.replace("\"quantity\":2", "\"quantity\":3");
    post_raw_keyed(&app, path, &r.token, &key, &other).await.assert_envelope(422);
    let cid = ObjectId::parse_str(&r.client_id).unwrap();
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 1);
}

/// Poll the database (bounded) until `coll` holds `n` documents matching `filter`.
async fn wait_for(app: &TestApp, coll: &str, filter: bson::Document, n: u64) {
    for _ in 0..200 {
        if app.count(coll, filter.clone()).await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{coll} never reached {n} documents matching {filter}");
}

fn assert_outcome_unknown(r: &Resp) {
    r.assert_envelope(504);
    assert_eq!(r.code(), "OUTCOME_UNKNOWN", "{}", r.body);
}

/// Finding: a request timing out after its transaction committed answered 503 "retry", and a
/// retry without a key sold twice. Money work now runs to its end in its own task; the
/// request answers 504 `OUTCOME_UNKNOWN`, and a retry with the same key gets the outcome.
/// (The server sleeps after each money transaction for longer than the request timeout; the
/// retries go to a second instance on the same database without that delay.)
#[tokio::test]
async fn money_work_outlives_the_request_timeout_and_a_keyed_retry_gets_its_outcome() {
    let app = TestApp::spawn_with(&[("REQUEST_TIMEOUT_SECS", "2"), ("TEST_DELAY_AFTER_COMMIT_MS", "2500")]).await;
    let retry = {
        let st = &app.state;
        let mut config = st.config.clone();
        config.test_delay_after_commit = Duration::ZERO;
        config.request_timeout = Duration::from_secs(15);
        let sms = RecordingSender::new();
        let state = AppState::new(config, st.client.clone(), st.db.clone(), std::sync::Arc::new(sms.clone()));
        // the first instance drops the database
        std::mem::ManuallyDrop::new(TestApp::start(state, sms).await)
    };
    // the set-up goes through the instance with the long timeout: on a loaded machine an OTP
    // round or a password hash can take longer than the 2 s under test
    let r = retry.register(&phone()).await;
    let cid = ObjectId::parse_str(&r.client_id).unwrap();
    let item = seed_item(&retry, &r.client_id, "Chain set", 50000, 100).await;
    let sale = json!({ "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 100 });

    // a sale without a key: 504, and the sale is stored all the same (exactly one)
    let res = app.post("/api/business/invoices/generatewithproducts", Some(&r.token), sale.clone()).await;
    assert_outcome_unknown(&res);
    wait_for(&app, "invoices", doc! { "clientId": cid }, 1).await;

    // a keyed sale: 504, then the retry with the key replays the stored answer
    let key = uuid::Uuid::new_v4().to_string();
    let path = "/api/business/invoices/generatewithproducts";
    assert_outcome_unknown(&post_keyed(&app.http, &app.base, path, &r.token, &key, &sale).await);
    wait_for(&app, "idempotencykeys", doc! { "clientId": cid, "key": &key }, 1).await;
    let again = post_keyed(&retry.http, &retry.base, path, &r.token, &key, &sale).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    let invoice = again.body["invoice"]["_id"].as_str().unwrap().to_string();
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 2, "two sales, not three");

    // a keyed payment
    let key = uuid::Uuid::new_v4().to_string();
    let pay = json!({ "invoiceId": invoice, "amount": 50 });
    let path = "/api/business/invoices/pay";
    assert_outcome_unknown(&post_keyed(&app.http, &app.base, path, &r.token, &key, &pay).await);
    wait_for(&app, "idempotencykeys", doc! { "clientId": cid, "key": &key }, 1).await;
    let again = post_keyed(&retry.http, &retry.base, path, &r.token, &key, &pay).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    let oid = ObjectId::parse_str(&invoice).unwrap();
    assert_eq!(app.count("payments", doc! { "clientId": cid, "invoiceId": oid }).await, 2, "first payment + one");

    // a keyed v1 sync batch
    let key = uuid::Uuid::new_v4().to_string();
    let batch = json!({ "item": { "create": [{ "name": "Synced bell", "price": 20 }] } });
    assert_outcome_unknown(&post_keyed(&app.http, &app.base, "/api/sync", &r.token, &key, &batch).await);
    wait_for(&app, "idempotencykeys", doc! { "clientId": cid, "key": &key }, 1).await;
    let again = post_keyed(&retry.http, &retry.base, "/api/sync", &r.token, &key, &batch).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(app.count("items", doc! { "clientId": cid, "name": "Synced bell" }).await, 1);

    // a v2 push: pushing the same operations again answers `duplicate` with the outcome
    let op = uuid::Uuid::new_v4().to_string();
    let push = json!({ "operations": [{ "opId": op, "entity": "item", "kind": "create",
        "payload": { "name": "Pushed horn", "price": 35 } }] });
    assert_outcome_unknown(&app.post("/api/v2/sync/push", Some(&r.token), push.clone()).await);
    wait_for(&app, "syncops", doc! { "clientId": cid, "opId": &op }, 1).await;
    let again = retry.post("/api/v2/sync/push", Some(&r.token), push).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["results"][0]["status"], "duplicate", "{}", again.body);
    assert_eq!(again.body["results"][0]["originalStatus"], "applied", "{}", again.body);
    assert_eq!(app.count("items", doc! { "clientId": cid, "name": "Pushed horn" }).await, 1);

    // a keyed dealer payment (D15 takes X-Idempotency-Key too)
    let dealer =
        app.post("/api/dealer", Some(&r.token), json!({ "clientId": r.client_id, "name": "Shree Traders" })).await;
    assert_eq!(dealer.status, 201, "{}", dealer.body);
    let dealer_id = dealer.body["dealer"]["_id"].as_str().unwrap().to_string();
    let key = uuid::Uuid::new_v4().to_string();
    let pay = json!({ "clientId": r.client_id, "dealerId": dealer_id, "amount": 700, "method": "upi" });
    assert_outcome_unknown(&post_keyed(&app.http, &app.base, "/api/dealer/payments", &r.token, &key, &pay).await);
    wait_for(&app, "idempotencykeys", doc! { "clientId": cid, "key": &key }, 1).await;
    let again = post_keyed(&retry.http, &retry.base, "/api/dealer/payments", &r.token, &key, &pay).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(app.count("dealerpayments", doc! { "clientId": cid }).await, 1);
}

/// D15 with `X-Idempotency-Key` (no timeout involved): a retry is answered from the record,
/// another body is 422, and one payment exists.
#[tokio::test]
async fn dealer_payments_are_idempotent_by_key() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let dealer =
        app.post("/api/dealer", Some(&r.token), json!({ "clientId": r.client_id, "name": "Ganesh Agencies" })).await;
    let dealer_id = dealer.body["dealer"]["_id"].as_str().unwrap().to_string();
    let key = uuid::Uuid::new_v4().to_string();
    let pay = json!({ "clientId": r.client_id, "dealerId": dealer_id, "amount": 250.5 });
    let first = post_keyed(&app.http, &app.base, "/api/dealer/payments", &r.token, &key, &pay).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let again = post_keyed(&app.http, &app.base, "/api/dealer/payments", &r.token, &key, &pay).await;
    assert_eq!((again.status.as_u16(), &again.body), (201, &first.body));
    assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    let other = json!({ "clientId": r.client_id, "dealerId": dealer_id, "amount": 251 });
    post_keyed(&app.http, &app.base, "/api/dealer/payments", &r.token, &key, &other).await.assert_envelope(422);
    let cid = ObjectId::parse_str(&r.client_id).unwrap();
    assert_eq!(app.count("dealerpayments", doc! { "clientId": cid }).await, 1);
}
