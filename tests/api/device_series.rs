//! Device number series (issue 17): a v2 device is allotted its own series for the financial
//! year (`D1-26-27/00001`, GST rule 46 allows several), numbers its bills offline, and the
//! push keeps each number when it is the device's and unused; a duplicate is rejected (the
//! same sale again stays idempotent), a gap is reported (push result and `GET
//! /api/v2/sync/series/{id}`), never a lost sale. The v1 app keeps numbers given at sync.

use bson::doc;
use serde_json::{json, Value};
use viveka::time;

use crate::{
    catalog::item,
    helpers::{phone, post_keyed, Registered, TestApp},
};

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn fy() -> String {
    time::financial_year(bson::DateTime::now())
}

async fn allot(app: &TestApp, token: &str) -> Value {
    let res = app.post("/api/v2/sync/series", Some(token), json!({})).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["series"].clone()
}

fn sale(item: &str, number: &str, device_ref: &str) -> Value {
    json!({ "opId": uuid(), "entity": "invoice", "kind": "create",
        "deviceTime": bson::DateTime::now().try_to_rfc3339_string().unwrap(),
        "payload": { "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 10,
            "invoiceNumber": number, "deviceRef": device_ref } })
}

async fn push(app: &TestApp, token: &str, ops: Vec<Value>) -> Vec<Value> {
    let res = app.post("/api/v2/sync/push", Some(token), json!({ "operations": ops })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["results"].as_array().unwrap().clone()
}

async fn shop(app: &TestApp) -> (Registered, String) {
    let r = app.register(&phone()).await;
    let i =
        item(app, &r, json!({ "name": "Pen", "price": 10, "stock": 100 })).await["_id"].as_str().unwrap().to_string();
    (r, i)
}

#[tokio::test]
async fn a_device_is_allotted_its_own_series_for_the_year() {
    let app = TestApp::spawn().await;
    let (r, _) = shop(&app).await;
    let s = allot(&app, &r.token).await;
    let prefix = format!("D1-{}/", fy());
    assert_eq!((s["prefix"].as_str(), s["deviceId"].as_str()), (Some(prefix.as_str()), Some("phone-1")));
    assert_eq!(s["nextNumber"], json!(format!("{prefix}00001")));
    assert!(s["nextNumber"].as_str().unwrap().len() <= 16, "GST rule 46: at most 16 characters");
    // asking again answers the same series
    assert_eq!(allot(&app, &r.token).await["_id"], s["_id"]);
    // another device of the shop gets a series of its own
    let login = app.login_otp(&r.phone, "phone-2").await;
    let t2 = login.body["token"].as_str().unwrap().to_string();
    let s2 = allot(&app, &t2).await;
    assert_eq!(s2["prefix"], json!(format!("D2-{}/", fy())));
    assert_ne!(s2["_id"], s["_id"]);
    let bad = app.post("/api/v2/sync/series", Some(&t2), json!({ "financialYear": "2026" })).await;
    bad.assert_envelope(400);
}

#[tokio::test]
async fn bills_pushed_with_their_numbers_keep_them_and_a_gap_is_reported() {
    let app = TestApp::spawn().await;
    let (r, pen) = shop(&app).await;
    let s = allot(&app, &r.token).await;
    let prefix = s["prefix"].as_str().unwrap().to_string();
    let n = |q: u32| format!("{prefix}{q:05}");
    let out = push(&app, &r.token, vec![sale(&pen, &n(1), "R1"), sale(&pen, &n(2), "R2")]).await;
    for (k, o) in out.iter().enumerate() {
        assert_eq!(o["status"], "applied", "{o}");
        assert_eq!(o["result"]["invoiceNumber"], json!(n(k as u32 + 1)));
        assert!(o["result"]["numberGap"].is_null(), "{o}");
    }
    // 3 and 4 were printed but not received: the push reports them
    let out = push(&app, &r.token, vec![sale(&pen, &n(5), "R5")]).await;
    assert_eq!(out[0]["status"], "applied", "{}", out[0]);
    assert_eq!(out[0]["result"]["invoiceNumber"], json!(n(5)));
    assert_eq!(out[0]["result"]["numberGap"]["missing"], json!([n(3), n(4)]));
    assert_eq!(out[0]["result"]["numberGap"]["missingCount"], json!(2));
    let id = s["_id"].as_str().unwrap();
    let got = app.get(&format!("/api/v2/sync/series/{id}"), Some(&r.token)).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["missing"], json!([n(3), n(4)]));
    assert_eq!(
        (got.body["series"]["highest"].as_i64(), got.body["series"]["nextNumber"].as_str()),
        (Some(5), Some(n(6).as_str()))
    );
    // a late bill fills the gap, and no counter number was ever taken
    let out = push(&app, &r.token, vec![sale(&pen, &n(3), "R3")]).await;
    assert_eq!(out[0]["status"], "applied", "{}", out[0]);
    assert!(out[0]["result"]["numberGap"].is_null());
    let got = app.get(&format!("/api/v2/sync/series/{id}"), Some(&r.token)).await;
    assert_eq!((got.body["missing"].clone(), got.body["missingCount"].as_i64()), (json!([n(4)]), Some(1)));
    assert_eq!(app.count("counters", doc! { "_id": { "$regex": "^inv:" } }).await, 0);
}

#[tokio::test]
async fn a_duplicate_number_is_refused_and_the_same_sale_stays_idempotent() {
    let app = TestApp::spawn().await;
    let (r, pen) = shop(&app).await;
    let prefix = allot(&app, &r.token).await["prefix"].as_str().unwrap().to_string();
    let one = format!("{prefix}00001");
    let first = push(&app, &r.token, vec![sale(&pen, &one, "R1")]).await;
    assert_eq!(first[0]["status"], "applied", "{}", first[0]);
    let invoice = first[0]["result"]["id"].clone();
    // the same sale again (same deviceRef, new opId): the first invoice, nothing issued
    let again = push(&app, &r.token, vec![sale(&pen, &one, "R1")]).await;
    assert_eq!((again[0]["status"].as_str(), &again[0]["result"]["id"]), (Some("duplicate"), &invoice), "{}", again[0]);
    // another sale with that number: rejected, and within one push the second of two
    let dup = push(&app, &r.token, vec![sale(&pen, &one, "R2")]).await;
    assert_eq!(dup[0]["status"], "rejected", "{}", dup[0]);
    assert!(dup[0]["reason"].as_str().unwrap().contains("already"), "{}", dup[0]);
    let two = format!("{prefix}00002");
    let pair = push(&app, &r.token, vec![sale(&pen, &two, "R3"), sale(&pen, &two, "R4")]).await;
    assert_eq!((pair[0]["status"].as_str(), pair[1]["status"].as_str()), (Some("applied"), Some("rejected")));
    assert_eq!(app.count("invoices", doc! {}).await, 2);
}

#[tokio::test]
async fn a_number_outside_the_devices_series_is_refused() {
    let app = TestApp::spawn().await;
    let (r, pen) = shop(&app).await;
    let d1 = allot(&app, &r.token).await["prefix"].as_str().unwrap().to_string();
    let t2 = app.login_otp(&r.phone, "phone-2").await.body["token"].as_str().unwrap().to_string();
    allot(&app, &t2).await;
    for number in [format!("{d1}00001"), format!("D9-{}/00001", fy()), format!("{d1}1"), format!("{d1}00000")] {
        let out = push(&app, &t2, vec![sale(&pen, &number, &uuid())]).await;
        assert_eq!(out[0]["status"], "rejected", "{number}: {}", out[0]);
        assert!(out[0]["reason"].as_str().unwrap().contains("invoiceNumber"), "{}", out[0]);
    }
    // a paper bill's leaf and a series number at once: which one is the bill's?
    let mut both = sale(&pen, &format!("{d1}00001"), &uuid());
    both["payload"]["offlineBillRef"] = json!({ "bookNo": "1", "serial": 1 });
    let out = push(&app, &t2, vec![both]).await;
    assert_eq!(out[0]["status"], "rejected", "{}", out[0]);
    assert!(out[0]["reason"].as_str().unwrap().contains("not both"), "{}", out[0]);
    assert_eq!(app.count("invoices", doc! {}).await, 0);
}

#[tokio::test]
async fn the_v1_app_keeps_numbers_given_at_sync() {
    let app = TestApp::spawn().await;
    let (r, pen) = shop(&app).await;
    allot(&app, &r.token).await;
    let inv = json!({ "products": [{ "productId": pen, "itemName": "Pen", "quantity": 1, "costPerUnit": 10 }],
        "totalAmount": 10, "paidAmount": 10 });
    let res =
        post_keyed(&app.http, &app.base, "/api/sync", &r.token, &uuid(), &json!({ "invoice": { "create": [inv] } }))
            .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let n = format!("INV/{}/00001", fy());
    assert_eq!(app.count("invoices", doc! { "invoiceNumber": n }).await, 1);
}

#[tokio::test]
async fn another_shop_cannot_see_or_use_a_series() {
    let app = TestApp::spawn().await;
    let (a, _) = shop(&app).await;
    let (b, pen_b) = shop(&app).await;
    let sa = allot(&app, &a.token).await;
    let got = app.get(&format!("/api/v2/sync/series/{}", sa["_id"].as_str().unwrap()), Some(&b.token)).await;
    assert_eq!(got.status, 404, "{}", got.body);
    // B's device has its own D1 of B's shop; a number of A's series is only B's when B's own
    // series prints it, so B pushing before it has a series is refused
    let out = push(&app, &b.token, vec![sale(&pen_b, &format!("{}00001", sa["prefix"].as_str().unwrap()), "X")]).await;
    assert_eq!(out[0]["status"], "rejected", "{}", out[0]);
}
