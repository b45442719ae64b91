//! OTP rules: expiry, 5-attempt lock, single use, purpose binding, send limits, CSPRNG codes.

use bson::doc;
use serde_json::json;

use crate::helpers::{phone, TestApp};

#[tokio::test]
async fn otp_is_random_hashed_and_of_configured_length() {
    let app = TestApp::spawn_with(&[("OTP_LENGTH", "6")]).await;
    let p = phone();
    let code = app.otp(&p, "register").await;
    assert_eq!(code.len(), 6);
    let stored =
        app.db.collection::<bson::Document>("otpsessions").find_one(doc! { "phoneNumber": &p }).await.unwrap().unwrap();
    let hash = stored.get_str("codeHash").unwrap();
    assert!(!hash.contains(&code), "code must not be stored in clear");
    assert_eq!(hash.len(), 64);
    // the default app sends exactly 4 digits
    let app4 = TestApp::spawn().await;
    assert_eq!(app4.otp(&phone(), "register").await.len(), 4);
}

#[tokio::test]
async fn otp_send_validates_purpose_and_phone() {
    let app = TestApp::spawn().await;
    let r = app.post("/api/otp/send", None, json!({ "phoneNumber": "98765" , "purpose": "register"})).await;
    r.assert_envelope(400);
    assert!(r.errors().contains("phoneNumber"));
    let r = app.post("/api/otp/send", None, json!({ "phoneNumber": phone() })).await;
    r.assert_envelope(400);
    assert!(r.errors().contains("purpose"));
    let r = app.post("/api/otp/send", None, json!({ "phoneNumber": phone(), "purpose": "generic" })).await;
    r.assert_envelope(400);
    let r = app.post("/api/otp/send", None, json!({ "phoneNumber": 9876543210u64, "purpose": "login" })).await;
    r.assert_envelope(400);
}

#[tokio::test]
async fn otp_expired_code_is_refused_even_before_ttl_monitor() {
    let app = TestApp::spawn().await;
    let p = phone();
    let code = app.otp(&p, "register").await;
    let past = bson::DateTime::from_millis(bson::DateTime::now().timestamp_millis() - 1000);
    app.db
        .collection::<bson::Document>("otpsessions")
        .update_one(doc! { "phoneNumber": &p }, doc! { "$set": { "expiresAt": past } })
        .await
        .unwrap();
    let r = app.post("/api/otp/verify", None, json!({ "phoneNumber": p, "otp": code, "purpose": "register" })).await;
    r.assert_envelope(400);
    assert!(r.errors().contains("otp"));
}

#[tokio::test]
async fn otp_ttl_index_removes_expired_sessions() {
    let app = TestApp::spawn().await;
    let p = phone();
    app.otp(&p, "register").await;
    let coll = app.db.collection::<bson::Document>("otpsessions");
    let past = bson::DateTime::from_millis(bson::DateTime::now().timestamp_millis() - 1000);
    coll.update_one(doc! { "phoneNumber": &p }, doc! { "$set": { "expiresAt": past } }).await.unwrap();
    // ttlMonitorSleepSecs=1 on the test server: the monitor removes it within seconds.
    let mut gone = false;
    for _ in 0..60 {
        if coll.count_documents(doc! { "phoneNumber": &p }).await.unwrap() == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(gone, "TTL monitor did not remove the expired OTP session");
}

#[tokio::test]
async fn otp_five_attempts_then_locked_even_with_right_code() {
    let app = TestApp::spawn().await;
    let p = phone();
    let code = app.otp(&p, "register").await;
    let wrong = if code == "0000" { "1111" } else { "0000" };
    for _ in 0..5 {
        let r =
            app.post("/api/otp/verify", None, json!({ "phoneNumber": p, "otp": wrong, "purpose": "register" })).await;
        r.assert_envelope(400);
    }
    let r = app.post("/api/otp/verify", None, json!({ "phoneNumber": p, "otp": code, "purpose": "register" })).await;
    r.assert_envelope(400);
    // and register with the right code fails too
    let r = app
        .post(
            "/api/auth/register",
            None,
            json!({ "phoneNumber": p, "otp": code, "ownerName": "Asha", "businessName": "Asha Stores" }),
        )
        .await;
    r.assert_envelope(400);
    assert_eq!(app.db.collection::<bson::Document>("clients").count_documents(doc! {}).await.unwrap(), 0);
}

#[tokio::test]
async fn otp_attempt_counter_is_atomic_under_concurrency() {
    let app = TestApp::spawn().await;
    let p = phone();
    let code = app.otp(&p, "register").await;
    let wrong = if code == "0000" { "1111" } else { "0000" };
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (http, url, p) = (app.http.clone(), format!("{}/api/otp/verify", app.base), p.clone());
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .json(&json!({ "phoneNumber": p, "otp": wrong, "purpose": "register" }))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 400);
    }
    let s =
        app.db.collection::<bson::Document>("otpsessions").find_one(doc! { "phoneNumber": &p }).await.unwrap().unwrap();
    assert_eq!(s.get_i32("attempts").unwrap(), 5, "the counter stops at 5 whatever the concurrency");
    let r = app.post("/api/otp/verify", None, json!({ "phoneNumber": p, "otp": code, "purpose": "register" })).await;
    r.assert_envelope(400);
}

#[tokio::test]
async fn otp_is_single_use() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let code = app.otp(&reg.phone, "login").await;
    let body = json!({ "phoneNumber": reg.phone, "otp": code, "deviceId": "d2" });
    assert_eq!(app.post("/api/auth/login", None, body.clone()).await.status, 200);
    let again = app.post("/api/auth/login", None, body).await;
    again.assert_envelope(401);
    assert_eq!(again.code(), "INVALID_CREDENTIALS");
}

#[tokio::test]
async fn otp_is_bound_to_its_purpose() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    // a login code cannot register, a register code cannot log in
    let login_code = app.otp(&reg.phone, "login").await;
    let p2 = phone();
    let reg_code = app.otp(&p2, "register").await;
    let r = app.post("/api/auth/login", None, json!({ "phoneNumber": p2, "otp": reg_code })).await;
    r.assert_envelope(401);
    let r = app
        .post("/api/otp/verify", None, json!({ "phoneNumber": reg.phone, "otp": login_code, "purpose": "register" }))
        .await;
    r.assert_envelope(400);
    // verify without consuming keeps the code usable for the real step
    let r = app
        .post("/api/otp/verify", None, json!({ "phoneNumber": reg.phone, "otp": login_code, "purpose": "login" }))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.post("/api/auth/login", None, json!({ "phoneNumber": reg.phone, "otp": login_code })).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn otp_send_limit_per_phone_holds_and_answers_429() {
    let app = TestApp::spawn_with(&[("OTP_SEND_LIMIT_PER_PHONE", "3")]).await;
    let p = phone();
    for _ in 0..3 {
        app.otp(&p, "register").await;
    }
    let r = app.post("/api/otp/send", None, json!({ "phoneNumber": p, "purpose": "register" })).await;
    r.assert_envelope(429);
    assert!(r.headers.get("retry-after").is_some());
    assert_eq!(app.sms.count(&p), 3, "no SMS past the limit");
    // another phone is not affected
    app.otp(&phone(), "register").await;
}

#[tokio::test]
async fn otp_send_limit_per_ip_holds_across_server_instances() {
    let a = TestApp::spawn_with(&[("OTP_SEND_LIMIT_PER_IP", "4")]).await;
    // a second instance on the same database shares the counters
    let b = TestApp::start(a.state.clone(), a.sms.clone()).await;
    for i in 0..4 {
        let app = if i % 2 == 0 { &a } else { &b };
        app.otp(&phone(), "register").await;
    }
    let r = b.post("/api/otp/send", None, json!({ "phoneNumber": phone(), "purpose": "register" })).await;
    r.assert_envelope(429);
    std::mem::forget(b); // shares a's database; a drops it
}

#[tokio::test]
async fn otp_send_does_not_reveal_registration() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let before = app.sms.count(&reg.phone);
    // register code for a registered phone, login code for an unknown phone: same 200, no SMS
    let a = app.post("/api/otp/send", None, json!({ "phoneNumber": reg.phone, "purpose": "register" })).await;
    let unknown = phone();
    let b = app.post("/api/otp/send", None, json!({ "phoneNumber": unknown, "purpose": "login" })).await;
    assert_eq!(a.status, 200);
    assert_eq!(b.status, 200);
    assert_eq!(a.body["message"], b.body["message"]);
    assert_eq!(app.sms.count(&reg.phone), before);
    assert_eq!(app.sms.count(&unknown), 0);
}

#[tokio::test]
async fn otp_failed_verifications_have_a_daily_cap() {
    let app = TestApp::spawn_with(&[("OTP_FAILED_VERIFY_LIMIT_PER_DAY", "7")]).await;
    let p = phone();
    let code = app.otp(&p, "register").await;
    let wrong = if code == "0000" { "1111" } else { "0000" };
    for _ in 0..5 {
        app.post("/api/otp/verify", None, json!({ "phoneNumber": p, "otp": wrong, "purpose": "register" })).await;
    }
    let code = app.otp(&p, "register").await;
    for _ in 0..2 {
        app.post("/api/otp/verify", None, json!({ "phoneNumber": p, "otp": wrong, "purpose": "register" })).await;
    }
    let r = app.post("/api/otp/verify", None, json!({ "phoneNumber": p, "otp": code, "purpose": "register" })).await;
    r.assert_envelope(429);
}

#[tokio::test]
async fn mock_otp_and_clear_are_development_only() {
    let dev = TestApp::spawn().await;
    let p = phone();
    let r = dev.post("/api/mockotp/send", None, json!({ "phoneNumber": p, "purpose": "register" })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = dev
        .post(
            "/api/auth/register",
            None,
            json!({ "phoneNumber": p, "otp": "1234", "ownerName": "Asha", "businessName": "Asha Stores" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = dev.post("/api/otp/clear", None, json!({ "phoneNumber": p })).await;
    assert_eq!(r.status, 200);

    let prod =
        TestApp::spawn_with(&[("APP_ENV", "production"), ("OTP_PROVIDER", "twofactor"), ("TWOFACTOR_API_KEY", "k")])
            .await;
    prod.post("/api/mockotp/send", None, json!({ "phoneNumber": phone(), "purpose": "register" }))
        .await
        .assert_envelope(404);
    prod.post("/api/otp/clear", None, json!({ "phoneNumber": phone() })).await.assert_envelope(404);
}

#[tokio::test]
async fn sms_failure_answers_503_not_500() {
    let app = TestApp::spawn().await;
    app.sms.set_failing(true);
    let r = app.post("/api/otp/send", None, json!({ "phoneNumber": phone(), "purpose": "register" })).await;
    r.assert_envelope(503);
}
