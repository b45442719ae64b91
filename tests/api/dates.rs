//! Issue 12 §5, dates of device-dated records, on all three paths (online, v1 `/api/sync`,
//! v2 push): an offline sale keeps the device's India calendar date; the device's clock
//! reading is kept as `deviceTime` but the record is filed no later than the server received
//! it; a payment is never dated before its invoice. (The dealer due dates are in
//! `dealers.rs`; the India-midnight property of every helper is `time::tests`.)

use bson::{doc, oid::ObjectId, DateTime};
use chrono::{Days, FixedOffset, SecondsFormat};
use serde_json::{json, Value};
use viveka::{
    billing::model::{InvoiceDoc, PaymentDoc},
    time,
};

use crate::{
    billing::seed_item,
    helpers::{phone, post_keyed, Registered, Resp, TestApp},
};

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `t` as the app's phone writes it: RFC 3339 in India time, milliseconds.
fn ist(t: DateTime) -> String {
    t.to_chrono().with_timezone(&FixedOffset::east_opt(19_800).unwrap()).to_rfc3339_opts(SecondsFormat::Millis, false)
}

fn plus_minutes(t: DateTime, m: i64) -> DateTime {
    DateTime::from_millis(t.timestamp_millis() + m * 60_000)
}

/// A wire date-time (`...Z`).
fn wire(v: &Value) -> DateTime {
    DateTime::parse_rfc3339_str(v.as_str().unwrap_or_else(|| panic!("not a date: {v}"))).unwrap()
}

async fn v1(app: &TestApp, r: &Registered, body: Value) -> Resp {
    post_keyed(&app.http, &app.base, "/api/sync", &r.token, &uuid(), &body).await
}

async fn push(app: &TestApp, r: &Registered, ops: Value) -> Resp {
    let res = app.post("/api/v2/sync/push", Some(&r.token), json!({ "operations": ops })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res
}

async fn stored_invoice(app: &TestApp, id: &str) -> InvoiceDoc {
    let id = ObjectId::parse_str(id).unwrap();
    app.db.collection::<InvoiceDoc>("invoices").find_one(doc! { "_id": id }).await.unwrap().unwrap()
}

async fn stored_payments(app: &TestApp, invoice: &str) -> Vec<PaymentDoc> {
    use futures::TryStreamExt;
    let id = ObjectId::parse_str(invoice).unwrap();
    let coll = app.db.collection::<PaymentDoc>("payments");
    coll.find(doc! { "invoiceId": id }).sort(doc! { "paidAt": 1 }).await.unwrap().try_collect().await.unwrap()
}

async fn day_book(app: &TestApp, r: &Registered, day: chrono::NaiveDate) -> Vec<Value> {
    let res = app.get(&format!("/api/dashboard/reports/day-book?date={day}"), Some(&r.token)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["entries"].as_array().unwrap().clone()
}

fn line(item: &str) -> Value {
    json!({ "productId": item, "itemName": "Bulb", "quantity": 1, "costPerUnit": 50 })
}

/// The example: an offline invoice sent through `/api/sync` with the device's date,
/// yesterday, was stored as today.
#[tokio::test]
async fn v1_offline_invoice_keeps_the_devices_calendar_date() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let item = seed_item(&app, &a.client_id, "Bulb", 5000, 10).await;
    let yesterday = time::today_ist() - Days::new(1);
    let body = json!({ "invoice": { "create": [{
        "products": [line(&item)], "paidAmount": 20, "invoiceDate": yesterday.to_string(),
    }]}});
    let r = v1(&app, &a, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let inv = &r.body["data"]["invoices"][0];
    assert_eq!(inv["invoiceDate"], yesterday.to_string(), "{inv}");
    assert_eq!(time::ist_date(wire(&inv["generatedAt"])), yesterday);
    assert_eq!(inv["dueDate"], (yesterday + Days::new(30)).to_string());
    assert!(inv.get("deviceTime").is_none(), "no device time was sent: {inv}");
    let pay = &r.body["data"]["payments"][0];
    assert_eq!(time::ist_date(wire(&pay["paidAt"])), yesterday);
    // the day book of yesterday lists the sale and its payment, today's does not
    let id = inv["_id"].as_str().unwrap();
    let entries = day_book(&app, &a, yesterday).await;
    let kinds: Vec<_> = entries.iter().filter(|e| e["invoiceId"] == id).map(|e| e["type"].clone()).collect();
    assert_eq!(kinds, vec![json!("invoice"), json!("payment")]);
    assert!(day_book(&app, &a, yesterday + Days::new(1)).await.iter().all(|e| e["invoiceId"] != id));

    // today's date is dated now; out-of-bounds or malformed dates are a 400 naming the
    // field, and the batch writes nothing
    let today = time::today_ist();
    let r = v1(
        &app,
        &a,
        json!({ "invoice": { "create": [{ "products": [line(&item)], "invoiceDate": today.to_string() }]}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let newest = r.body["data"]["invoices"].as_array().unwrap().iter().find(|i| i["_id"] != id).unwrap().clone();
    assert_eq!(newest["invoiceDate"], today.to_string());
    for bad in
        [today - Days::new(31), today + Days::new(2)].map(|d| d.to_string()).into_iter().chain(["28/11/2026".into()])
    {
        let r =
            v1(&app, &a, json!({ "invoice": { "create": [{ "products": [line(&item)], "invoiceDate": bad }]}})).await;
        r.assert_envelope(400);
        assert!(r.errors().contains("invoice.create[0].invoiceDate"), "{bad}: {}", r.errors());
    }
    assert_eq!(app.count("invoices", doc! {}).await, 2);
}

/// A device clock 4 minutes fast: the sale and its payments keep the device time as
/// `deviceTime` but are dated no later than the server's receipt (v1 and v2).
#[tokio::test]
async fn a_fast_device_clock_never_dates_a_record_after_its_receipt() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let item = seed_item(&app, &a.client_id, "Bulb", 5000, 100).await;

    // v1: the sale (with a first payment) in one batch, a later payment in another
    let fast = plus_minutes(DateTime::now(), 4);
    let r = v1(
        &app,
        &a,
        json!({ "invoice": { "create": [{ "products": [line(&item)], "paidAmount": 20, "deviceTime": ist(fast) }]}}),
    )
    .await;
    let received = DateTime::now();
    assert_eq!(r.status, 200, "{}", r.body);
    let inv = r.body["data"]["invoices"][0].clone();
    let generated = wire(&inv["generatedAt"]);
    assert!(generated <= received, "generatedAt {generated} is after the receipt {received}");
    assert_eq!(wire(&inv["deviceTime"]), fast, "the device's time is kept");
    assert_eq!(inv["invoiceDate"], time::ist_date_string(generated));
    let first = &r.body["data"]["payments"][0];
    assert_eq!(wire(&first["paidAt"]), generated);
    assert_eq!(wire(&first["deviceTime"]), fast);
    let id = inv["_id"].as_str().unwrap().to_string();

    let fast2 = plus_minutes(DateTime::now(), 4);
    let r =
        v1(&app, &a, json!({ "payment": { "create": [{ "invoiceId": id, "amount": 10, "paidAt": ist(fast2) }]}})).await;
    let received2 = DateTime::now();
    assert_eq!(r.status, 200, "{}", r.body);
    let pays = stored_payments(&app, &id).await;
    assert_eq!(pays.len(), 2);
    let later = pays.iter().find(|p| p.device_time == Some(fast2)).expect("deviceTime kept");
    assert!(later.paid_at <= received2 && later.paid_at >= generated, "{later:?}");

    // v2: a sale and a payment in one push
    let (sale, payment) = (uuid(), uuid());
    let fast = plus_minutes(DateTime::now(), 4);
    let res = push(
        &app,
        &a,
        json!([
            { "opId": sale, "entity": "invoice", "kind": "create", "deviceTime": ist(fast),
              "payload": { "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 10 } },
            { "opId": payment, "entity": "payment", "kind": "create", "deviceTime": ist(fast),
              "payload": { "invoiceOpId": sale, "amount": 5 } },
        ]),
    )
    .await;
    let received = DateTime::now();
    assert_eq!(res.body["summary"]["applied"], 2, "{}", res.body);
    let inv = stored_invoice(&app, res.body["results"][0]["result"]["id"].as_str().unwrap()).await;
    assert!(inv.generated_at <= received, "{inv:?}");
    assert_eq!(inv.device_time, Some(fast));
    assert_eq!(inv.invoice_date, time::ist_date_string(inv.generated_at));
    let pays = stored_payments(&app, &inv.id.to_hex()).await;
    assert_eq!(pays.len(), 2);
    for p in &pays {
        assert!(p.paid_at <= received && p.paid_at >= inv.generated_at, "{p:?}");
        assert_eq!(p.device_time, Some(fast));
    }
    // the pull shows the device time beside the record's date
    let pull = app.get("/api/v2/sync/pull?limit=2000", Some(&a.token)).await;
    let doc = pull.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == inv.id.to_hex())
        .map(|c| c["doc"].clone())
        .unwrap();
    assert_eq!(wire(&doc["deviceTime"]), fast);
    assert_eq!(wire(&doc["generatedAt"]), inv.generated_at);
}

/// A payment whose device time is before its invoice's is dated at the invoice (and listed
/// after the sale in the day book), on all three paths; its device time is kept.
#[tokio::test]
async fn a_payment_is_never_dated_before_its_invoice() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let item = seed_item(&app, &a.client_id, "Bulb", 5000, 100).await;
    let check = |inv: &InvoiceDoc, pays: &[PaymentDoc], early: DateTime| {
        let p = pays.iter().find(|p| p.device_time == Some(early)).unwrap_or_else(|| panic!("{pays:?}"));
        assert_eq!(p.paid_at, inv.generated_at, "dated at the invoice: {p:?} {inv:?}");
    };

    // v2, one push: the sale at T, its payment from a device clock an hour behind
    let t = plus_minutes(DateTime::now(), -120);
    let early = plus_minutes(t, -60);
    let sale = uuid();
    let res = push(
        &app,
        &a,
        json!([
            { "opId": sale, "entity": "invoice", "kind": "create", "deviceTime": ist(t),
              "payload": { "products": [{ "productId": item, "quantity": 1 }] } },
            { "opId": uuid(), "entity": "payment", "kind": "create", "deviceTime": ist(early),
              "payload": { "invoiceOpId": sale, "amount": 5 } },
        ]),
    )
    .await;
    assert_eq!(res.body["summary"]["applied"], 2, "{}", res.body);
    let v2_id = res.body["results"][0]["result"]["id"].as_str().unwrap().to_string();
    let inv = stored_invoice(&app, &v2_id).await;
    assert_eq!(inv.generated_at, t);
    check(&inv, &stored_payments(&app, &v2_id).await, early);
    // the day book lists the sale, then its payment
    let entries = day_book(&app, &a, time::ist_date(t)).await;
    let kinds: Vec<_> = entries.iter().filter(|e| e["invoiceId"] == v2_id).map(|e| e["type"].clone()).collect();
    assert_eq!(kinds, vec![json!("invoice"), json!("payment")], "{entries:?}");

    // v2, a later push paying that invoice by id, still earlier than it
    let earlier = plus_minutes(t, -90);
    let res = push(
        &app,
        &a,
        json!([{ "opId": uuid(), "entity": "payment", "kind": "create", "deviceTime": ist(earlier),
                 "payload": { "invoiceId": v2_id, "amount": 5 } }]),
    )
    .await;
    assert_eq!(res.body["summary"]["applied"], 1, "{}", res.body);
    check(&inv, &stored_payments(&app, &v2_id).await, earlier);

    // v1: an invoice of one batch, paid in the next with a time before it
    let r = v1(&app, &a, json!({ "invoice": { "create": [{ "products": [line(&item)], "deviceTime": ist(t) }]}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v1_id = r.body["synced"]["invoicesCreated"][0].as_str().unwrap().to_string();
    let r =
        v1(&app, &a, json!({ "payment": { "create": [{ "invoiceId": v1_id, "amount": 10, "paidAt": ist(early) }]}}))
            .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let inv = stored_invoice(&app, &v1_id).await;
    assert_eq!(inv.generated_at, t);
    check(&inv, &stored_payments(&app, &v1_id).await, early);
    let wire_pay =
        r.body["data"]["payments"].as_array().unwrap().iter().find(|p| p["invoiceId"] == v1_id).unwrap().clone();
    assert_eq!(wire(&wire_pay["paidAt"]), t);
    assert_eq!(wire(&wire_pay["deviceTime"]), early);

    // online: an invoice dated after now (as the old rule stored a fast device's sale) is
    // paid now: the payment is dated at the invoice, not before it
    let r = v1(&app, &a, json!({ "invoice": { "create": [{ "products": [line(&item)] }]}})).await;
    let online_id = r.body["synced"]["invoicesCreated"][0].as_str().unwrap().to_string();
    let ahead = plus_minutes(DateTime::now(), 4);
    app.db
        .collection::<bson::Document>("invoices")
        .update_one(doc! { "_id": ObjectId::parse_str(&online_id).unwrap() }, doc! { "$set": { "generatedAt": ahead } })
        .await
        .unwrap();
    let p = app
        .post(
            "/api/business/invoices/pay",
            Some(&a.token),
            json!({ "clientId": a.client_id, "invoiceId": online_id, "amount": 10 }),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(wire(&p.body["payment"]["paidAt"]), ahead, "{}", p.body);
    assert!(p.body["payment"].get("deviceTime").is_none(), "an online payment has no device time: {}", p.body);
    let pays = stored_payments(&app, &online_id).await;
    assert_eq!(pays.len(), 1);
    assert_eq!(pays[0].paid_at, ahead, "the stored record too");
}

/// Day counts in the analytics are India calendar days, not 24-hour spans: a sale at
/// 23:00 IST paid at 09:00 IST the next morning (10 hours) was paid 1 day later.
#[tokio::test]
async fn analytics_count_india_calendar_days() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let item = seed_item(&app, &a.client_id, "Bulb", 5000, 100).await;
    let today = time::today_ist();
    let sold = DateTime::from_millis(time::ist_midnight(today - Days::new(2)).timestamp_millis() + 23 * 3_600_000);
    let paid = DateTime::from_millis(time::ist_midnight(today - Days::new(1)).timestamp_millis() + 9 * 3_600_000);
    let sale = uuid();
    let res = push(
        &app,
        &a,
        json!([
            { "opId": sale, "entity": "invoice", "kind": "create", "deviceTime": ist(sold),
              "payload": { "products": [{ "productId": item, "quantity": 1 }] } },
            { "opId": uuid(), "entity": "payment", "kind": "create", "deviceTime": ist(paid),
              "payload": { "invoiceOpId": sale, "amount": 5 } },
        ]),
    )
    .await;
    assert_eq!(res.body["summary"]["applied"], 2, "{}", res.body);
    let id = res.body["results"][0]["result"]["id"].as_str().unwrap();
    let h = app.get(&format!("/api/business/payment-history/{}/{id}", a.client_id), Some(&a.token)).await;
    assert_eq!(h.status, 200, "{}", h.body);
    assert_eq!(wire(&h.body["data"]["payments"][0]["paidAt"]), paid);
    assert_eq!(h.body["data"]["payments"][0]["daysFromInvoice"], 1, "{}", h.body);
    assert_eq!(h.body["data"]["analytics"]["paymentTimeline"]["daysToFirstPayment"], 1);
}

/// The example, at the boundary: a sale at 23:57 IST from a phone 4 minutes fast
/// (its clock says 00:01 the next day) stays on its day, through v1 and v2. The server's
/// clock is pinned at 23:57 IST yesterday (within the sync bounds whatever the real time).
#[tokio::test]
async fn a_sale_at_2357_from_a_clock_4_minutes_fast_stays_on_its_day() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let item = seed_item(&app, &a.client_id, "Bulb", 5000, 100).await;
    let today = time::today_ist();
    let yesterday = today - Days::new(1);
    let received = plus_minutes(time::ist_midnight(today), -3); // 23:57 IST yesterday
    let device = plus_minutes(received, 4); // 00:01 IST today on the phone
    app.state.clock.pin(Some(received));

    let r = v1(
        &app,
        &a,
        json!({ "invoice": { "create": [{ "products": [line(&item)], "paidAmount": 20, "deviceTime": ist(device) }]}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v1_id = r.body["synced"]["invoicesCreated"][0].as_str().unwrap().to_string();
    let sale = uuid();
    let res = push(
        &app,
        &a,
        json!([
            { "opId": sale, "entity": "invoice", "kind": "create", "deviceTime": ist(device),
              "payload": { "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 10 } },
            { "opId": uuid(), "entity": "payment", "kind": "create", "deviceTime": ist(device),
              "payload": { "invoiceOpId": sale, "amount": 5 } },
        ]),
    )
    .await;
    assert_eq!(res.body["summary"]["applied"], 2, "{}", res.body);
    let v2_id = res.body["results"][0]["result"]["id"].as_str().unwrap().to_string();
    for id in [&v1_id, &v2_id] {
        let inv = stored_invoice(&app, id).await;
        assert_eq!(inv.generated_at, received, "{inv:?}");
        assert_eq!(inv.invoice_date, yesterday.to_string());
        assert_eq!(inv.device_time, Some(device));
        for p in stored_payments(&app, id).await {
            assert_eq!((p.paid_at, p.device_time), (received, Some(device)), "{p:?}");
        }
    }
    // the day book of yesterday has both sales and their payments; today's has none of them
    let entries = day_book(&app, &a, yesterday).await;
    for id in [&v1_id, &v2_id] {
        assert!(entries.iter().any(|e| e["invoiceId"] == **id && e["type"] == "invoice"), "{entries:?}");
    }
    assert_eq!(entries.iter().filter(|e| e["type"] == "payment").count(), 3);
    assert!(day_book(&app, &a, today).await.is_empty());
}

/// A v2 sale made two hours before its push dates the customer's `lastPurchaseAt` at the sale
/// (as an online sale does), not at the push; an older sale pushed later never moves it back.
#[tokio::test]
async fn a_pushed_sale_dates_the_customers_last_purchase_at_the_sale() {
    use viveka::customer::model::CustomerDoc;
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let item = seed_item(&app, &a.client_id, "Bulb", 5000, 100).await;
    let cust = phone();
    let sale = |t: DateTime| {
        json!({ "opId": uuid(), "entity": "invoice", "kind": "create", "deviceTime": ist(t),
                "payload": { "products": [{ "productId": item, "quantity": 1 }], "clientCustomerPhone": cust } })
    };
    let last = || async {
        let c = app.db.collection::<CustomerDoc>("clientcustomers").find_one(doc! { "phoneNumber": &cust }).await;
        c.unwrap().unwrap_or_else(|| panic!("customer {cust} not stored")).last_purchase_at
    };
    let t = plus_minutes(DateTime::now(), -120);
    let res = push(&app, &a, json!([sale(t)])).await;
    assert_eq!(res.body["summary"]["applied"], 1, "{}", res.body);
    assert_eq!(last().await, Some(t), "the sale's time, not the push's");
    let older = plus_minutes(t, -60);
    let res = push(&app, &a, json!([sale(older)])).await;
    assert_eq!(res.body["summary"]["applied"], 1, "{}", res.body);
    assert_eq!(last().await, Some(t), "an older sale pushed later does not move it back");
}
