//! Batches and expiry (issue 16): lots received by adjustment and dealer delivery, sold
//! first-expiring-first-out by the bill's date on every door (online B20, v1 `/api/sync`,
//! v2 push), expired lots never picked and refused by name unless the shop allows it, the
//! near-expiry report, the v2 pull, and tenant isolation.

use bson::{doc, DateTime};
use chrono::{Days, NaiveDate};
use serde_json::{json, Value};
use viveka::time;

use crate::helpers::{phone, post_keyed, Registered, Resp, TestApp};

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// An India date `n` days from today (negative: before).
fn days_from_today(n: i64) -> String {
    let t = time::today_ist();
    date(if n >= 0 { t + Days::new(n as u64) } else { t - Days::new(n.unsigned_abs()) })
}

/// A hasExpiry item of the shop (Rs 10, stock 0).
async fn expiring_item(app: &TestApp, r: &Registered, name: &str) -> String {
    expiring_item_of(app, r, name, json!([])).await
}

/// A hasExpiry item supplied by `dealers`.
async fn expiring_item_of(app: &TestApp, r: &Registered, name: &str, dealers: Value) -> String {
    let body = json!({ "name": name, "price": 10, "stock": 0, "hasExpiry": true, "dealerIds": dealers });
    let res = app.post("/api/business/items", Some(&r.token), body).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["item"]["_id"].as_str().unwrap().to_string()
}

async fn adjust(app: &TestApp, r: &Registered, item: &str, batch: &str, expiry: &str, qty: i64) -> Resp {
    app.post(
        &format!("/api/business/items/{item}/batches"),
        Some(&r.token),
        json!({ "batchNo": batch, "expiryDate": expiry, "quantity": qty }),
    )
    .await
}

async fn lot_in(app: &TestApp, r: &Registered, item: &str, batch: &str, expiry: &str, qty: i64) {
    let res = adjust(app, r, item, batch, expiry, qty).await;
    assert_eq!(res.status, 201, "{}", res.body);
}

/// The item's lots as `batchNo -> quantity`.
async fn lots(app: &TestApp, r: &Registered, item: &str) -> Vec<(String, i64)> {
    let res = app.get(&format!("/api/business/items/{item}/batches"), Some(&r.token)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["batchNo"].as_str().unwrap().to_string(), b["quantity"].as_i64().unwrap()))
        .collect()
}

/// A line's allocations as `(batchNo or "-", quantity)`.
fn allocations(line: &Value) -> Vec<(String, i64)> {
    line["allocations"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| (x["batchNo"].as_str().unwrap_or("-").to_string(), x["quantity"].as_i64().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

fn pairs(v: &[(&str, i64)]) -> Vec<(String, i64)> {
    v.iter().map(|(a, b)| (a.to_string(), *b)).collect()
}

async fn sell_online(app: &TestApp, r: &Registered, item: &str, qty: i64, batch: Option<&str>) -> Resp {
    let mut line = json!({ "productId": item, "quantity": qty });
    if let Some(b) = batch {
        line["batchNo"] = json!(b);
    }
    app.post(
        "/api/business/invoices/generatewithproducts",
        Some(&r.token),
        json!({ "products": [line], "paidAmount": 10 * qty }),
    )
    .await
}

async fn sell_v1(
    app: &TestApp,
    r: &Registered,
    item: &str,
    qty: i64,
    batch: Option<&str>,
    at: Option<DateTime>,
) -> Resp {
    let mut line = json!({ "productId": item, "itemName": "x", "quantity": qty, "costPerUnit": 10 });
    if let Some(b) = batch {
        line["batchNo"] = json!(b);
    }
    let mut inv = json!({ "products": [line], "paidAmount": 10 * qty });
    if let Some(t) = at {
        inv["deviceTime"] = json!(t.try_to_rfc3339_string().unwrap());
    }
    post_keyed(&app.http, &app.base, "/api/sync", &r.token, &uuid(), &json!({ "invoice": { "create": [inv] } })).await
}

async fn sell_v2(app: &TestApp, r: &Registered, item: &str, qty: i64, batch: Option<&str>, at: DateTime) -> Value {
    let mut line = json!({ "productId": item, "quantity": qty });
    if let Some(b) = batch {
        line["batchNo"] = json!(b);
    }
    let op = json!({ "opId": uuid(), "entity": "invoice", "kind": "create",
        "deviceTime": at.try_to_rfc3339_string().unwrap(),
        "payload": { "products": [line], "paidAmount": 10 * qty } });
    let res = app.post("/api/v2/sync/push", Some(&r.token), json!({ "operations": [op] })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["results"][0].clone()
}

/// The stored invoice's first line (the wire form).
async fn first_line(app: &TestApp, r: &Registered, invoice: &str) -> Value {
    let res = app.get(&format!("/api/business/invoices/{}/{invoice}", r.client_id), Some(&r.token)).await;
    if res.status == 200 {
        return res.body["invoice"]["products"][0].clone();
    }
    let id = bson::oid::ObjectId::parse_str(invoice).unwrap();
    let d = app.db.collection::<bson::Document>("invoices").find_one(doc! { "_id": id }).await.unwrap().unwrap();
    serde_json::to_value(d.get_array("products").unwrap()[0].clone().into_relaxed_extjson()).unwrap()
}

async fn allow_expired(app: &TestApp, r: &Registered, allow: bool) {
    let res = app
        .put(
            &format!("/api/client/{}", r.client_id),
            Some(&r.token),
            json!({ "clientSettings": { "catalog": { "allowExpiredSale": allow } } }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
}

/// Lots received out of expiry order; a sale of 10 takes the earliest-expiring lot first,
/// never the expired one, and the units no lot covers unbatched (stock rules as today).
#[tokio::test]
async fn an_online_sale_takes_lots_first_expiring_first_out() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = expiring_item(&app, &r, "Cough syrup").await;
    lot_in(&app, &r, &item, "LATE", &days_from_today(60), 5).await;
    lot_in(&app, &r, &item, "SOON", &days_from_today(20), 3).await;
    lot_in(&app, &r, &item, "GONE", &days_from_today(-5), 10).await;
    assert_eq!(app.stock_of(&item).await, 18, "adjustments move the item's stock with the lot");

    let res = sell_online(&app, &r, &item, 10, None).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let line = &res.body["invoice"]["products"][0];
    assert_eq!(allocations(line), pairs(&[("SOON", 3), ("LATE", 5), ("-", 2)]), "{line}");
    assert_eq!(app.stock_of(&item).await, 8);
    let mut left = lots(&app, &r, &item).await;
    left.sort();
    assert_eq!(left, pairs(&[("GONE", 10), ("LATE", 0), ("SOON", 0)]), "the expired lot was not touched");
    // the stored line keeps its allocations
    let stored = first_line(&app, &r, res.body["invoice"]["_id"].as_str().unwrap()).await;
    assert_eq!(allocations(&stored), pairs(&[("SOON", 3), ("LATE", 5), ("-", 2)]));
    // an item without hasExpiry records no allocations and refuses a batch name
    let plain =
        app.post("/api/business/items", Some(&r.token), json!({ "name": "Pen", "price": 10, "stock": 5 })).await;
    let plain = plain.body["item"]["_id"].as_str().unwrap().to_string();
    let res = sell_online(&app, &r, &plain, 1, None).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert!(res.body["invoice"]["products"][0].get("allocations").is_none(), "{}", res.body);
    // the item list carries a hasExpiry item's lots with units left, and no key for others
    let list = app.get(&format!("/api/business/items/{}", r.client_id), Some(&r.token)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let find = |id: &str| list.body["items"].as_array().unwrap().iter().find(|i| i["_id"] == id).cloned().unwrap();
    let listed = find(&item);
    assert_eq!(listed["batches"].as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(
        (listed["batches"][0]["batchNo"].as_str(), listed["batches"][0]["quantity"].as_i64()),
        (Some("GONE"), Some(10))
    );
    assert!(find(&plain).get("batches").is_none(), "v1 shape for other items");
    let res = sell_online(&app, &r, &plain, 1, Some("B1")).await;
    res.assert_envelope(400);
    assert_eq!(res.code(), "BATCH_NOT_FOUND");
}

/// Naming an expired batch is refused (400 BATCH_EXPIRED) until the shop allows it; an
/// unknown batch is 400 BATCH_NOT_FOUND; a named batch is matched ignoring case.
#[tokio::test]
async fn an_expired_batch_by_name_is_refused_unless_the_shop_allows_it() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = expiring_item(&app, &r, "Eye drops").await;
    lot_in(&app, &r, &item, "OLD-1", &days_from_today(-1), 4).await;
    lot_in(&app, &r, &item, "NEW-1", &days_from_today(90), 4).await;

    let res = sell_online(&app, &r, &item, 1, Some("old-1")).await;
    res.assert_envelope(400);
    assert_eq!(res.code(), "BATCH_EXPIRED", "{}", res.body);
    assert!(res.errors().contains("products[0].batchNo"), "{}", res.body);
    let res = sell_online(&app, &r, &item, 1, Some("NOPE")).await;
    res.assert_envelope(400);
    assert_eq!(res.code(), "BATCH_NOT_FOUND", "{}", res.body);
    assert_eq!(app.stock_of(&item).await, 8, "nothing sold");

    allow_expired(&app, &r, true).await;
    let res = sell_online(&app, &r, &item, 1, Some("old-1")).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(allocations(&res.body["invoice"]["products"][0]), pairs(&[("OLD-1", 1)]));
    // allowed by name only: FEFO still never picks it
    let res = sell_online(&app, &r, &item, 2, None).await;
    assert_eq!(allocations(&res.body["invoice"]["products"][0]), pairs(&[("NEW-1", 2)]));
    allow_expired(&app, &r, false).await;
    assert_eq!(sell_online(&app, &r, &item, 1, Some("OLD-1")).await.code(), "BATCH_EXPIRED");
}

/// An offline bill made 11 days ago and pushed today takes the lot it would have taken that
/// day (a lot that expired 6 days ago, still good on the bill's date), while a bill of today
/// skips that lot (issue 16's example: a bill of 20 October synced on 31 October; the pure
/// FEFO test works those very dates). The same through v1 `/api/sync` (its deviceTime dates
/// the bill).
#[tokio::test]
async fn an_offline_bill_takes_the_lots_of_its_own_date() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = expiring_item(&app, &r, "Insulin").await;
    lot_in(&app, &r, &item, "EARLY", &days_from_today(-6), 4).await;
    lot_in(&app, &r, &item, "LATER", &days_from_today(30), 10).await;
    let now = app.state.clock.now();
    let sold = DateTime::from_millis(now.timestamp_millis() - 11 * 86_400_000);

    let res = sell_v2(&app, &r, &item, 3, None, sold).await;
    assert_eq!(res["status"], "applied", "{res}");
    let line = first_line(&app, &r, res["result"]["id"].as_str().unwrap()).await;
    assert_eq!(allocations(&line), pairs(&[("EARLY", 3)]), "{line}");
    let res = sell_v2(&app, &r, &item, 2, None, now).await;
    let line = first_line(&app, &r, res["result"]["id"].as_str().unwrap()).await;
    assert_eq!(allocations(&line), pairs(&[("LATER", 2)]), "today the early lot is expired");

    let res = sell_v1(&app, &r, &item, 1, None, Some(sold)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let id = res.body["synced"]["invoicesCreated"][0].as_str().unwrap().to_string();
    assert_eq!(allocations(&first_line(&app, &r, &id).await), pairs(&[("EARLY", 1)]));
    let mut left = lots(&app, &r, &item).await;
    left.sort();
    assert_eq!(left, pairs(&[("EARLY", 0), ("LATER", 8)]));
    // an offline sale is never refused for lot quantities: what the lots lack is unbatched
    let res = sell_v2(&app, &r, &item, 20, None, sold).await;
    assert_eq!(res["status"], "applied", "{res}");
    let line = first_line(&app, &r, res["result"]["id"].as_str().unwrap()).await;
    assert_eq!(allocations(&line), pairs(&[("LATER", 8), ("-", 12)]));
    assert_eq!(app.stock_of(&item).await, 14 - 3 - 2 - 1 - 20);
}

/// The same sales through the three doors give the same allocations and refusals.
#[tokio::test]
async fn the_three_doors_apply_the_same_batch_rules() {
    let app = TestApp::spawn().await;
    let now = app.state.clock.now();
    let mut seen = Vec::new();
    for door in ["online", "v1", "v2"] {
        let r = app.register(&phone()).await;
        let item = expiring_item(&app, &r, "Vitamin C").await;
        lot_in(&app, &r, &item, "A", &days_from_today(40), 2).await;
        lot_in(&app, &r, &item, "B", &days_from_today(10), 2).await;
        lot_in(&app, &r, &item, "X", &days_from_today(-2), 9).await;
        // (FEFO sale of 3, named A sale of 1, named expired X, unknown batch)
        let (fefo, named, expired, unknown): (Value, Value, String, String) = match door {
            "online" => {
                let a = sell_online(&app, &r, &item, 3, None).await.body["invoice"]["products"][0].clone();
                let b = sell_online(&app, &r, &item, 1, Some("a")).await.body["invoice"]["products"][0].clone();
                let x = sell_online(&app, &r, &item, 1, Some("X")).await;
                let u = sell_online(&app, &r, &item, 1, Some("Q")).await;
                (a, b, format!("{} {}", x.status, x.body), format!("{} {}", u.status, u.body))
            }
            "v1" => {
                let mut lines = Vec::new();
                for batch in [None, Some("a")] {
                    let res = sell_v1(&app, &r, &item, if batch.is_none() { 3 } else { 1 }, batch, None).await;
                    assert_eq!(res.status, 200, "{}", res.body);
                    let id = res.body["synced"]["invoicesCreated"][0].as_str().unwrap().to_string();
                    lines.push(first_line(&app, &r, &id).await);
                }
                let x = sell_v1(&app, &r, &item, 1, Some("X"), None).await;
                let u = sell_v1(&app, &r, &item, 1, Some("Q"), None).await;
                (
                    lines[0].clone(),
                    lines[1].clone(),
                    format!("{} {}", x.status, x.body),
                    format!("{} {}", u.status, u.body),
                )
            }
            _ => {
                let mut lines = Vec::new();
                for batch in [None, Some("a")] {
                    let res = sell_v2(&app, &r, &item, if batch.is_none() { 3 } else { 1 }, batch, now).await;
                    assert_eq!(res["status"], "applied", "{res}");
                    lines.push(first_line(&app, &r, res["result"]["id"].as_str().unwrap()).await);
                }
                let x = sell_v2(&app, &r, &item, 1, Some("X"), now).await;
                let u = sell_v2(&app, &r, &item, 1, Some("Q"), now).await;
                (lines[0].clone(), lines[1].clone(), x.to_string(), u.to_string())
            }
        };
        assert_eq!(allocations(&fefo), pairs(&[("B", 2), ("A", 1)]), "{door}: {fefo}");
        assert_eq!(allocations(&named), pairs(&[("A", 1)]), "{door}: {named}");
        assert!(expired.contains("expired on"), "{door}: {expired}");
        assert!(!expired.starts_with("20"), "{door}: refused, not applied: {expired}");
        assert!(unknown.contains("has no batch Q"), "{door}: {unknown}");
        let mut left = lots(&app, &r, &item).await;
        left.sort();
        assert_eq!(left, pairs(&[("A", 0), ("B", 0), ("X", 9)]), "{door}");
        assert_eq!(app.stock_of(&item).await, 13 - 4, "{door}");
        seen.push(door);
    }
    assert_eq!(seen.len(), 3);
}

/// A dealer delivery line with batchNo + expiryDate creates the lot (or adds to it, ignoring
/// case); a line without them stays unbatched stock; another expiry for a known lot is 400.
#[tokio::test]
async fn a_delivery_with_batches_creates_lots() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let dealer = app.post("/api/dealer", Some(&r.token), json!({ "clientId": r.client_id, "name": "Medi Dist" })).await;
    let dealer = dealer.body["dealer"]["_id"].as_str().unwrap().to_string();
    let item = expiring_item_of(&app, &r, "Antiseptic", json!([dealer])).await;
    let mut orders = Vec::new();
    for _ in 0..3 {
        let o = app
            .post(
                "/api/dealer/orders",
                Some(&r.token),
                json!({ "clientId": r.client_id, "dealerId": dealer, "items": [{ "itemId": item, "quantity": 6 }] }),
            )
            .await;
        assert_eq!(o.status, 201, "{}", o.body);
        orders.push(o.body["order"]["_id"].as_str().unwrap().to_string());
    }
    let res = deliver(
        &app,
        &r,
        &orders[0],
        json!({ "itemId": item, "receivedQuantity": 6, "batchNo": "AB-7", "expiryDate": "2027-03-31" }),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    // another expiry for the same batch is refused, nothing received
    let res = deliver(
        &app,
        &r,
        &orders[1],
        json!({ "itemId": item, "receivedQuantity": 4, "batchNo": "ab-7", "expiryDate": "2027-04-30" }),
    )
    .await;
    res.assert_envelope(400);
    assert_eq!(app.stock_of(&item).await, 6, "the refused delivery moved nothing");
    // batchNo without expiryDate is a field error
    let res = deliver(&app, &r, &orders[1], json!({ "itemId": item, "receivedQuantity": 4, "batchNo": "ab-7" })).await;
    res.assert_envelope(400);
    assert!(res.errors().contains("items[0].expiryDate"), "{}", res.body);
    let res = deliver(
        &app,
        &r,
        &orders[1],
        json!({ "itemId": item, "receivedQuantity": 4, "batchNo": "ab-7", "expiryDate": "2027-03-31" }),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    // an old app sends no batch: unbatched stock
    let res = deliver(&app, &r, &orders[2], json!({ "itemId": item, "receivedQuantity": 5 })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(lots(&app, &r, &item).await, pairs(&[("AB-7", 10)]));
    assert_eq!(app.stock_of(&item).await, 15);
    assert_eq!(app.count("batches", doc! {}).await, 1, "one lot for both deliveries");
}

/// The near-expiry report: lots with units left expiring within N days (default 30) and the
/// expired ones, flagged, with daysLeft from today's India date.
#[tokio::test]
async fn the_near_expiry_report_lists_lots_expiring_within_n_days() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = expiring_item(&app, &r, "Paracetamol").await;
    lot_in(&app, &r, &item, "EXPIRED", &days_from_today(-3), 2).await;
    lot_in(&app, &r, &item, "TEN", &days_from_today(10), 5).await;
    lot_in(&app, &r, &item, "FORTY", &days_from_today(40), 7).await;
    lot_in(&app, &r, &item, "EMPTY", &days_from_today(5), 1).await;
    assert_eq!(adjust(&app, &r, &item, "EMPTY", &days_from_today(5), -1).await.status, 201);

    let rows = |v: &Value| -> Vec<(String, i64, i64, bool)> {
        v["batches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                assert_eq!(b["itemName"], "Paracetamol");
                (
                    b["batchNo"].as_str().unwrap().to_string(),
                    b["quantity"].as_i64().unwrap(),
                    b["daysLeft"].as_i64().unwrap(),
                    b["expired"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    let res = app.get("/api/business/items/expiring", Some(&r.token)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["days"], 30);
    assert_eq!(rows(&res.body), vec![("EXPIRED".into(), 2, -3, true), ("TEN".into(), 5, 10, false)]);
    let res = app.get("/api/business/items/expiring?days=40", Some(&r.token)).await;
    assert_eq!(rows(&res.body).last().cloned(), Some(("FORTY".into(), 7, 40, false)));
    let res = app.get("/api/business/items/expiring?days=9", Some(&r.token)).await;
    assert_eq!(rows(&res.body), vec![("EXPIRED".into(), 2, -3, true)]);
    app.get("/api/business/items/expiring?days=-1", Some(&r.token)).await.assert_envelope(400);
    // taking more out of a lot than it holds is refused
    let res = adjust(&app, &r, &item, "TEN", &days_from_today(10), -6).await;
    res.assert_envelope(409);
}

/// Another shop sees none of the lots: not in its report, not by item id, cannot adjust
/// them; the v2 pull carries a shop's own lots only.
#[tokio::test]
async fn batches_are_the_shops_own_and_reach_the_pull() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let b = app.register(&phone()).await;
    let item = expiring_item(&app, &a, "Ointment").await;
    lot_in(&app, &a, &item, "LOT-A", &days_from_today(3), 4).await;

    let res = app.get("/api/business/items/expiring", Some(&b.token)).await;
    assert_eq!(res.body["batches"], json!([]), "{}", res.body);
    app.get(&format!("/api/business/items/{item}/batches"), Some(&b.token)).await.assert_envelope(404);
    adjust(&app, &b, &item, "LOT-A", &days_from_today(3), 1).await.assert_envelope(404);
    assert_eq!(lots(&app, &a, &item).await, pairs(&[("LOT-A", 4)]));

    let pull = app.get("/api/v2/sync/pull?limit=2000", Some(&a.token)).await;
    assert_eq!(pull.status, 200, "{}", pull.body);
    let lot = pull.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["collection"] == "batches")
        .cloned()
        .unwrap_or_else(|| panic!("no batch in the pull: {}", pull.body));
    assert_eq!((lot["doc"]["batchNo"].as_str(), lot["doc"]["quantity"].as_i64()), (Some("LOT-A"), Some(4)));
    assert_eq!(lot["doc"]["itemId"], json!(item));
    let pull = app.get("/api/v2/sync/pull?limit=2000", Some(&b.token)).await;
    assert!(!pull.body["changes"].as_array().unwrap().iter().any(|c| c["collection"] == "batches"), "{}", pull.body);
}

async fn deliver(app: &TestApp, r: &Registered, order: &str, line: Value) -> Resp {
    let body = json!({ "clientId": r.client_id, "items": [line] });
    app.post(&format!("/api/dealer/orders/{order}/mark-delivered"), Some(&r.token), body).await
}

/// Issue 18: restocked lines go back to the right batch. A sale of 5 took 3 from the
/// earlier-expiring lot A and 2 from B; a return of 4 puts 3 back into A and 1 into B (the
/// lots in the order taken), a named batch takes the last unit; a cancelled sale puts every
/// unit back into the lots it came from.
#[tokio::test]
async fn returns_and_cancels_put_units_back_into_the_lots_they_came_from() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = expiring_item(&app, &r, "Syrup").await;
    lot_in(&app, &r, &item, "A", &days_from_today(30), 3).await;
    lot_in(&app, &r, &item, "B", &days_from_today(90), 10).await;
    let sold = sell_online(&app, &r, &item, 5, None).await;
    assert_eq!(sold.status, 201, "{}", sold.body);
    let inv = sold.body["invoice"]["_id"].as_str().unwrap().to_string();
    assert_eq!(allocations(&sold.body["invoice"]["products"][0]), pairs(&[("A", 3), ("B", 2)]));
    assert_eq!(lots(&app, &r, &item).await, pairs(&[("A", 0), ("B", 8)]));
    let ret = |q: i64, batch: Option<&str>| {
        let mut l = json!({ "lineId": 0, "quantity": q });
        if let Some(b) = batch {
            l["batchNo"] = json!(b);
        }
        json!({ "invoiceId": inv, "lines": [l], "reason": "back", "settlement": { "type": "refund", "method": "cash" } })
    };
    let cn = app.post("/api/business/credit-notes", Some(&r.token), ret(4, None)).await;
    assert_eq!(cn.status, 201, "{}", cn.body);
    assert_eq!(
        allocations(&json!({ "allocations": cn.body["creditNote"]["lines"][0]["restocked"] })),
        pairs(&[("A", 3), ("B", 1)])
    );
    assert_eq!(lots(&app, &r, &item).await, pairs(&[("A", 3), ("B", 9)]));
    let bad = app.post("/api/business/credit-notes", Some(&r.token), ret(1, Some("Z"))).await;
    assert_eq!((bad.status.as_u16(), bad.code()), (400, "BATCH_NOT_FOUND"), "{}", bad.body);
    let cn = app.post("/api/business/credit-notes", Some(&r.token), ret(1, Some("a"))).await;
    assert_eq!(cn.status, 201, "{}", cn.body);
    assert_eq!(lots(&app, &r, &item).await, pairs(&[("A", 4), ("B", 9)]), "the named lot, matched in any case");

    let again = sell_online(&app, &r, &item, 6, None).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(allocations(&again.body["invoice"]["products"][0]), pairs(&[("A", 4), ("B", 2)]));
    let id = again.body["invoice"]["_id"].as_str().unwrap();
    let res = app
        .post(
            &format!("/api/business/invoices/{id}/cancel"),
            Some(&r.token),
            json!({ "reason": "x", "refund": { "method": "cash" } }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(lots(&app, &r, &item).await, pairs(&[("A", 4), ("B", 9)]));
    assert_eq!(app.stock_of(&item).await, 13);
}

/// Issue 18 (found in review): a return that names a lot counts against that lot, so later
/// returns fill the other lots the sale took from, and no lot gets back more than it gave.
/// B1 = 3, B2 = 10; a sale of 5 takes B1:3, B2:2; returns of 1 (into B1), 1 named B2, 1 not
/// restocked, then the last 2: B1 is back to 3 and B2 to 9 (never 11).
#[tokio::test]
async fn a_named_lot_return_counts_against_that_lot() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = expiring_item(&app, &r, "Drops").await;
    lot_in(&app, &r, &item, "B1", &days_from_today(20), 3).await;
    lot_in(&app, &r, &item, "B2", &days_from_today(80), 10).await;
    let sold = sell_online(&app, &r, &item, 5, None).await;
    assert_eq!(sold.status, 201, "{}", sold.body);
    let inv = sold.body["invoice"]["_id"].as_str().unwrap().to_string();
    let ret = |q: i64, batch: Option<&str>, restock: bool| {
        let mut l = json!({ "lineId": 0, "quantity": q });
        if let Some(b) = batch {
            l["batchNo"] = json!(b);
        }
        json!({ "invoiceId": inv, "lines": [l], "restock": restock, "reason": "back", "settlement": { "type": "refund", "method": "cash" } })
    };
    for body in [ret(1, None, true), ret(1, Some("b2"), true), ret(1, None, false), ret(2, None, true)] {
        let res = app.post("/api/business/credit-notes", Some(&r.token), body).await;
        assert_eq!(res.status, 201, "{}", res.body);
    }
    assert_eq!(lots(&app, &r, &item).await, pairs(&[("B1", 3), ("B2", 9)]));
    assert_eq!(app.stock_of(&item).await, 12, "13 - 5 + 4 restocked");
}
