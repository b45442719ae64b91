//! D1-D23: dealers, purchase orders, deliveries into stock, dealer bills and payments,
//! summaries and timelines; races, tenancy and bad input, checked against the database.

use bson::{doc, oid::ObjectId, DateTime, Document};
use futures::future::join_all;
use serde_json::{json, Value};
use viveka::{catalog::model::ItemDoc, money::Paise};

use crate::helpers::{phone, Registered, TestApp};

fn oid(s: &str) -> ObjectId {
    ObjectId::parse_str(s).unwrap()
}

/// Insert an item straight into `items` (the item endpoints live in another module).
async fn item(app: &TestApp, client: &str, name: &str, stock: i64, low: i64, dealers: &[&str]) -> String {
    let now = DateTime::now();
    let it = ItemDoc {
        id: ObjectId::new(),
        client_id: oid(client),
        group_id: None,
        brand_id: None,
        name: name.into(),
        price: Paise::new(1000),
        stock,
        low_stock_quantity: low,
        unit: "nos".into(),
        description: String::new(),
        dealer_ids: dealers.iter().map(|d| oid(d)).collect(),
        is_active: true,
        created_at: now,
        updated_at: now,
        version: 0,
        details: Default::default(),
    };
    app.db.collection::<ItemDoc>("items").insert_one(&it).await.unwrap();
    it.id.to_hex()
}

async fn dealer(app: &TestApp, r: &Registered, name: &str) -> String {
    let res = app.post("/api/dealer", Some(&r.token), json!({ "clientId": r.client_id, "name": name })).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["dealer"]["_id"].as_str().unwrap().to_string()
}

async fn order(app: &TestApp, r: &Registered, dealer: &str, lines: Value) -> Value {
    let res = app
        .post(
            "/api/dealer/orders",
            Some(&r.token),
            json!({ "clientId": r.client_id, "dealerId": dealer, "items": lines }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["order"].clone()
}

async fn deliver(app: &TestApp, r: &Registered, order: &str, extra: Value) -> crate::helpers::Resp {
    let mut body = json!({ "clientId": r.client_id });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.post(&format!("/api/dealer/orders/{order}/mark-delivered"), Some(&r.token), body).await
}

async fn pay(app: &TestApp, r: &Registered, dealer: &str, order: Option<&str>, amount: Value) -> crate::helpers::Resp {
    let mut body = json!({ "clientId": r.client_id, "dealerId": dealer, "amount": amount, "method": "upi" });
    if let Some(o) = order {
        body["orderId"] = json!(o);
    }
    app.post("/api/dealer/payments", Some(&r.token), body).await
}

fn fy_label() -> String {
    viveka::time::financial_year(DateTime::now())
}

#[tokio::test]
async fn procurement_flow_to_the_paisa_summary_and_timeline_agree() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let t = Some(r.token.as_str());
    // D1 with the supplier fields of seed 004
    let res = app
        .post(
            "/api/dealer",
            t,
            json!({
                "clientId": r.client_id, "name": "Sharma Distributors", "contactPerson": "Rajesh",
                "phoneNumber": "+91 98900-11111", "email": "rajesh@sharma.example.com", "address": "45 Industrial Area",
                "logoUrl": "", "gstin": "23aaaaa1111a1z4", "paymentTermsDays": 15,
                "bankDetails": { "bankName": "Axis Bank", "accountNo": "1234 5678 9012", "ifsc": "utib0001234" },
                "isActive": false, "unknownKey": 1
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let d = &res.body["dealer"];
    assert_eq!(d["phoneNumber"], "9890011111");
    assert_eq!(d["gstin"], "23AAAAA1111A1Z4");
    assert_eq!(
        d["bankDetails"],
        json!({ "bankName": "Axis Bank", "accountNo": "123456789012", "ifsc": "UTIB0001234" })
    );
    assert_eq!(d["paymentTermsDays"], 15);
    assert_eq!(d["isActive"], true, "isActive is not accepted from the body");
    assert_eq!(d["__v"], 0);
    let dealer_id = d["_id"].as_str().unwrap().to_string();
    let other_dealer = dealer(&app, &r, "Gupta Traders").await;

    // D2 newest first
    let res = app.get(&format!("/api/dealer/{}", r.client_id), t).await;
    let names: Vec<&str> =
        res.body["dealers"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Gupta Traders", "Sharma Distributors"]);

    let a = item(&app, &r.client_id, "Brake pads", 2, 5, &[&dealer_id]).await;
    let b = item(&app, &r.client_id, "Oil filter", 20, 5, &[&dealer_id, &other_dealer]).await;
    let _c = item(&app, &r.client_id, "Spark plug", 0, 3, &[&other_dealer]).await;

    // D5 / D6 / D7
    let base = format!("/api/dealer/{}/{}", r.client_id, dealer_id);
    let res = app.get(&format!("{base}/items"), t).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(res.body["items"][0]["price"], 10);
    let res = app.get(&format!("{base}/items/low-stock"), t).await;
    let low = res.body["items"].as_array().unwrap();
    assert_eq!(low.len(), 1);
    assert_eq!(low[0]["_id"], a.as_str());
    assert_eq!(low[0]["suggestedQty"], 8);
    assert_eq!(low[0]["isLowStock"], true);
    let res = app.get(&format!("{base}/orders/recommendations"), t).await;
    let rec = res.body["recommendations"].as_array().unwrap();
    assert_eq!(rec.len(), 1);
    assert_eq!(rec[0]["suggestedQty"], 8);
    assert_eq!(rec[0]["onOrderQty"], 0);
    assert_eq!(rec[0]["targetQty"], 10);
    assert!(rec[0]["reason"].as_str().unwrap().contains("threshold 5"));

    // D8: order the recommendation; the number is PO/<fy>/0001
    let o = order(&app, &r, &dealer_id, json!([{ "itemId": a, "quantity": 8 }])).await;
    assert_eq!(o["orderNumber"], format!("PO/{}/0001", fy_label()));
    assert_eq!(o["status"], "pending");
    assert_eq!(o["totalAmount"], Value::Null);
    let order_id = o["_id"].as_str().unwrap().to_string();
    // what is on order is not recommended again; the low-stock list (v1 rule) still shows it
    let res = app.get(&format!("{base}/orders/recommendations"), t).await;
    assert_eq!(res.body["recommendations"], json!([]), "{}", res.body);
    assert_eq!(app.get(&format!("{base}/items/low-stock"), t).await.body["items"].as_array().unwrap().len(), 1);
    // a partly covered item: stock 2 + on order 1 = 3 <= 5 -> order 7 more
    let o2 = order(&app, &r, &dealer_id, json!([{ "itemId": b, "quantity": 1 }])).await;
    let cancelled_id = o2["_id"].as_str().unwrap().to_string();
    assert_eq!(o2["orderNumber"], format!("PO/{}/0002", fy_label()));

    // D10 lines
    let res = app.get(&format!("/api/dealer/orders/{order_id}?clientId={}", r.client_id), t).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["items"][0]["itemNameSnapshot"], "Brake pads");
    assert_eq!(res.body["items"][0]["quantity"], 8);

    // D11 cancel the second order; a second cancel is 400
    let res =
        app.post(&format!("/api/dealer/orders/{cancelled_id}/cancel"), t, json!({ "clientId": r.client_id })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["order"]["status"], "cancelled");
    assert!(res.body["order"]["cancelledAt"].is_string());
    app.post(&format!("/api/dealer/orders/{cancelled_id}/cancel"), t, json!({ "clientId": r.client_id }))
        .await
        .assert_envelope(400);
    // a cancelled order cannot be delivered and gets no bill
    deliver(&app, &r, &cancelled_id, json!({})).await.assert_envelope(400);
    app.put(
        &format!("/api/dealer/orders/{cancelled_id}/total"),
        t,
        json!({ "clientId": r.client_id, "totalAmount": 5 }),
    )
    .await
    .assert_envelope(400);

    // D12: 7 of the 8 arrive; the bill and a (past) due date are set
    let res = deliver(
        &app,
        &r,
        &order_id,
        json!({ "totalAmount": 1234.56, "dueDate": "2020-01-31", "deliveredBy": "Ramu", "deliveryNote": "one short",
                "items": [{ "itemId": a, "receivedQuantity": 7 }] }),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let o = &res.body["order"];
    assert_eq!(o["status"], "delivered");
    assert_eq!(o["totalAmount"], 1234.56);
    assert_eq!(o["dueDate"], "2020-01-31T00:00:00.000Z");
    assert_eq!(o["deliveryAudit"]["deliveredBy"], "Ramu");
    assert!(o["deliveredAt"].is_string());
    assert_eq!(app.stock_of(&a).await, 9);
    let mv = app
        .db
        .collection::<Document>("stockmovements")
        .find_one(doc! { "refId": oid(&order_id) })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mv.get_i64("delta").unwrap(), 7);
    assert_eq!(mv.get_str("reason").unwrap(), "purchase");
    let res = app.get(&format!("/api/dealer/orders/{order_id}"), t).await;
    assert_eq!(res.body["items"][0]["receivedQuantity"], 7);

    // D13: the corrected bill
    let res = app
        .put(
            &format!("/api/dealer/orders/{order_id}/total"),
            t,
            json!({ "clientId": r.client_id, "totalAmount": 1500.75 }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["order"]["totalAmount"], 1500.75);

    // D15: two partial payments (and one not tied to an order)
    let p1 = pay(&app, &r, &dealer_id, Some(&order_id), json!(500.25)).await;
    assert_eq!(p1.status, 201, "{}", p1.body);
    assert_eq!(p1.body["payment"]["amount"], 500.25);
    assert_eq!(p1.body["payment"]["method"], "upi");
    let p2 = pay(&app, &r, &dealer_id, Some(&order_id), json!(300.5)).await;
    assert_eq!(p2.status, 201, "{}", p2.body);
    let p3 = pay(&app, &r, &dealer_id, None, json!(0.25)).await;
    assert_eq!(p3.status, 201, "{}", p3.body);
    assert_eq!(p3.body["payment"]["orderId"], Value::Null);
    let stored = app.db.collection::<Document>("dealerorders").find_one(doc! { "_id": oid(&order_id) }).await.unwrap();
    assert_eq!(stored.unwrap().get_i64("paidAmount").unwrap(), 80075, "paise in the database");

    // D14
    let res = app.get(&format!("/api/dealer/orders/{order_id}/payments"), t).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["summary"], json!({ "totalPaid": 800.75, "remaining": 700, "isPaidInFull": false }));
    assert_eq!(res.body["payments"][0]["amount"], 300.5, "paidAt desc");
    // D18
    let pid = p1.body["payment"]["_id"].as_str().unwrap();
    let res = app.get(&format!("/api/dealer/payments/{pid}?clientId={}", r.client_id), t).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["payment"]["amount"], 500.25);
    assert_eq!(res.body["paymentId"], pid);
    // D16
    let res = app.get(&format!("{base}/payments"), t).await;
    assert_eq!(res.body["payments"].as_array().unwrap().len(), 3);
    // D17
    let res = app.get(&format!("/api/dealer/{}/payments/all?orderId={order_id}", r.client_id), t).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["summary"], json!({ "totalPayments": 2, "totalAmount": 800.75 }));
    assert_eq!(res.body["payments"][0]["orderNumber"], format!("PO/{}/0001", fy_label()));
    assert_eq!(res.body["payments"][0]["dealerName"], "Sharma Distributors");
    // D19
    let res = app.get(&format!("/api/dealer/{}/order-payments?status=partial", r.client_id), t).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["totalCount"], 1);
    let row = &res.body["orders"][0];
    assert_eq!(row["paymentStatus"], "partial");
    assert_eq!(row["totalPaid"], 800.75);
    assert_eq!(row["remaining"], 700);
    assert_eq!(row["paymentCount"], 2);
    assert_eq!(res.body["summary"]["totalOrders"], 1, "cancelled excluded: {}", res.body);
    assert_eq!(res.body["summary"]["totalRemaining"], 700);
    for (s, n) in [("paid", 0), ("pending", 0), ("no-bill", 0), ("all", 1)] {
        let res = app.get(&format!("/api/dealer/{}/order-payments?status={s}", r.client_id), t).await;
        assert_eq!(res.body["totalCount"], n, "{s}: {}", res.body);
    }
    // D20
    let res = app.get(&format!("/api/dealer/orders/{order_id}/payment-details"), t).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["order"]["dealerName"], "Sharma Distributors");
    assert_eq!(res.body["order"]["dealerPhone"], "9890011111");
    assert_eq!(
        res.body["paymentSummary"],
        json!({ "paymentStatus": "partial", "totalPaid": 800.75, "remaining": 700, "isPaidInFull": false })
    );

    // D21: to the paisa
    let res = app.get(&format!("{base}/summary"), t).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let s = &res.body;
    assert_eq!(s["totalOrdered"], 1500.75);
    assert_eq!(s["totalBilled"], 1500.75);
    assert_eq!(s["totalDelivered"], 1500.75);
    assert_eq!(s["totalPaid"], 801, "800.75 on the order + 0.25 on account");
    assert_eq!(s["payable"], 699.75);
    assert_eq!(s["outstanding"], 699.75);
    assert_eq!(s["overdue"], 700, "the order's unpaid part is past its due date");
    assert_eq!(s["overdueOrders"], 1);
    assert_eq!(s["orders"], json!({ "pending": 0, "delivered": 1, "cancelled": 1 }));
    assert_eq!(s["timeline"].as_array().unwrap().len(), 4, "1 order (cancelled excluded) + 3 payments");

    // D23: the timeline's rows sum to the summary
    let res = app.get(&format!("{base}/transactions"), t).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["totalCount"], 4);
    assert_eq!(res.body["dealer"]["name"], "Sharma Distributors");
    let rows = res.body["transactions"].as_array().unwrap();
    let sum = |kind: &str| -> i64 {
        rows.iter()
            .filter(|r| r["type"] == kind)
            .filter_map(|r| r["amount"].as_f64())
            .map(|a| (a * 100.0).round() as i64)
            .sum()
    };
    assert_eq!(sum("order"), 150075);
    assert_eq!(sum("payment"), 80100);
    assert_eq!(res.body["summary"]["totalOrders"], 1500.75);
    assert_eq!(res.body["summary"]["totalPayments"], 801);
    assert!(rows.iter().all(|r| r["transactionId"].as_str() != Some(cancelled_id.as_str())));
    let ord = rows.iter().find(|r| r["type"] == "order").unwrap();
    assert_eq!(ord["orderNumber"], format!("PO/{}/0001", fy_label()));
    assert_eq!(ord["details"]["isUrgent"], false);
    // D22 over all dealers agrees too
    let res = app.get(&format!("/api/dealer/{}/transactions", r.client_id), t).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.body["summary"],
        json!({ "totalDealers": 2, "totalOrders": 1500.75, "totalPayments": 801, "pendingPayable": 699.75 })
    );

    // D9 lists both orders, newest first
    let res = app.get(&format!("{base}/orders"), t).await;
    let nums: Vec<&str> =
        res.body["orders"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(nums, ["cancelled", "delivered"]);

    // D3 / D4: update, then soft delete (history stays readable)
    let res = app.put(&base, t, json!({ "contactPerson": "Suresh", "bankDetails": { "ifsc": "SBIN0000001" } })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["dealer"]["contactPerson"], "Suresh");
    assert_eq!(res.body["dealer"]["bankDetails"]["bankName"], "Axis Bank", "other bank fields kept");
    assert_eq!(res.body["dealer"]["bankDetails"]["ifsc"], "SBIN0000001");
    let res = app.delete(&base, t).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body["message"].is_string());
    app.delete(&base, t).await.assert_envelope(404);
    let res = app.get(&format!("/api/dealer/{}", r.client_id), t).await;
    assert_eq!(res.body["dealers"].as_array().unwrap().len(), 1);
    assert_eq!(app.get(&format!("{base}/transactions"), t).await.status, 200);
    // no new orders for a deleted dealer
    let res = app
        .post(
            "/api/dealer/orders",
            t,
            json!({ "clientId": r.client_id, "dealerId": dealer_id, "items": [{ "itemId": a, "quantity": 1 }] }),
        )
        .await;
    res.assert_envelope(404);
}

#[tokio::test]
async fn ten_concurrent_mark_delivered_raise_stock_exactly_once() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let d = dealer(&app, &r, "Race Dealer").await;
    let a = item(&app, &r.client_id, "Bolt", 3, 5, &[&d]).await;
    let b = item(&app, &r.client_id, "Nut", 0, 5, &[&d]).await;
    let o = order(&app, &r, &d, json!([{ "itemId": a, "quantity": 10 }, { "itemId": b, "quantity": 4 }])).await;
    let oid_s = o["_id"].as_str().unwrap().to_string();
    let futs = (0..10).map(|_| deliver(&app, &r, &oid_s, json!({ "totalAmount": 99 })));
    let results = join_all(futs).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "{:?}", results.iter().map(|r| (r.status, r.body.clone())).collect::<Vec<_>>());
    for res in results.iter().filter(|r| r.status != 200) {
        res.assert_envelope(400);
        assert!(res.errors().contains("not pending"), "{}", res.body);
    }
    assert_eq!(app.stock_of(&a).await, 13);
    assert_eq!(app.stock_of(&b).await, 4);
    assert_eq!(app.count("stockmovements", doc! { "refId": oid(&oid_s) }).await, 2);
    assert_eq!(app.count("stockmovements", doc! { "refId": oid(&oid_s), "itemId": oid(&a), "delta": 10_i64 }).await, 1);
}

#[tokio::test]
async fn concurrent_payments_cannot_overpay_an_order() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let d = dealer(&app, &r, "Pay Dealer").await;
    let a = item(&app, &r.client_id, "Bolt", 3, 5, &[&d]).await;
    let o = order(&app, &r, &d, json!([{ "itemId": a, "quantity": 1 }])).await;
    let order_id = o["_id"].as_str().unwrap().to_string();
    // no bill yet: refused
    let res = pay(&app, &r, &d, Some(&order_id), json!(10)).await;
    res.assert_envelope(400);
    assert!(res.errors().contains("no bill total"), "{}", res.body);
    assert_eq!(deliver(&app, &r, &order_id, json!({ "totalAmount": 100 })).await.status, 200);
    let results = join_all((0..10).map(|_| pay(&app, &r, &d, Some(&order_id), json!(30)))).await;
    let ok = results.iter().filter(|r| r.status == 201).count();
    assert_eq!(ok, 3, "{:?}", results.iter().map(|r| r.status).collect::<Vec<_>>());
    for res in results.iter().filter(|r| r.status != 201) {
        res.assert_envelope(400);
    }
    let stored = app.db.collection::<Document>("dealerorders").find_one(doc! { "_id": oid(&order_id) }).await.unwrap();
    assert_eq!(stored.unwrap().get_i64("paidAmount").unwrap(), 9000);
    assert_eq!(app.count("dealerpayments", doc! { "orderId": oid(&order_id) }).await, 3);
    // overpaying the rest: 400 with errors, nothing written; the exact rest is fine
    let res = pay(&app, &r, &d, Some(&order_id), json!(10.01)).await;
    res.assert_envelope(400);
    assert!(res.errors().starts_with("amount:"), "{}", res.body);
    assert_eq!(app.count("dealerpayments", doc! {}).await, 3);
    assert_eq!(pay(&app, &r, &d, Some(&order_id), json!(10)).await.status, 201);
    let res = app.get(&format!("/api/dealer/orders/{order_id}/payments"), Some(&r.token)).await;
    assert_eq!(res.body["summary"], json!({ "totalPaid": 100, "remaining": 0, "isPaidInFull": true }));
    // the bill cannot be lowered below what is paid; a paid order cannot be cancelled
    let res = app
        .put(
            &format!("/api/dealer/orders/{order_id}/total"),
            Some(&r.token),
            json!({ "clientId": r.client_id, "totalAmount": 99.99 }),
        )
        .await;
    res.assert_envelope(400);
    let res = app.get(&format!("/api/dealer/{}/order-payments?status=paid", r.client_id), Some(&r.token)).await;
    assert_eq!(res.body["totalCount"], 1);
}

#[tokio::test]
async fn order_numbers_are_consecutive_under_20_concurrent_creates() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let d = dealer(&app, &r, "Number Dealer").await;
    let a = item(&app, &r.client_id, "Bolt", 3, 5, &[&d]).await;
    let body = json!({ "clientId": r.client_id, "dealerId": d, "items": [{ "itemId": a, "quantity": 1 }] });
    let results = join_all((0..20).map(|_| app.post("/api/dealer/orders", Some(&r.token), body.clone()))).await;
    let mut nums: Vec<String> = results
        .iter()
        .map(|res| {
            assert_eq!(res.status, 201, "{}", res.body);
            res.body["order"]["orderNumber"].as_str().unwrap().to_string()
        })
        .collect();
    nums.sort();
    let expected: Vec<String> = (1..=20).map(|i| format!("PO/{}/{i:04}", fy_label())).collect();
    assert_eq!(nums, expected);
    assert_eq!(app.count("dealerorders", doc! {}).await, 20);
    assert_eq!(app.count("dealerorderitems", doc! {}).await, 20);
    // another client starts at 0001
    let r2 = app.register(&phone()).await;
    let d2 = dealer(&app, &r2, "Number Dealer").await;
    let a2 = item(&app, &r2.client_id, "Bolt", 3, 5, &[&d2]).await;
    let o = order(&app, &r2, &d2, json!([{ "itemId": a2, "quantity": 1 }])).await;
    assert_eq!(o["orderNumber"], format!("PO/{}/0001", fy_label()));
}

#[tokio::test]
async fn dealer_names_unique_per_client_among_active_dealers() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let d = dealer(&app, &r, "Sharma Traders").await;
    let res =
        app.post("/api/dealer", Some(&r.token), json!({ "clientId": r.client_id, "name": "  sharma TRADERS " })).await;
    res.assert_envelope(409);
    assert_eq!(res.code(), "DUPLICATE");
    let other = dealer(&app, &r, "Other").await;
    let res = app
        .put(&format!("/api/dealer/{}/{other}", r.client_id), Some(&r.token), json!({ "name": "SHARMA traders" }))
        .await;
    res.assert_envelope(409);
    // another client may use the name; after a delete the name is free again
    let r2 = app.register(&phone()).await;
    dealer(&app, &r2, "Sharma Traders").await;
    assert_eq!(app.delete(&format!("/api/dealer/{}/{d}", r.client_id), Some(&r.token)).await.status, 200);
    dealer(&app, &r, "Sharma Traders").await;
    assert_eq!(app.count("dealers", doc! { "clientId": oid(&r.client_id) }).await, 3);
}

#[tokio::test]
async fn order_rules_items_dealer_and_status() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let t = Some(r.token.as_str());
    let d = dealer(&app, &r, "Rules Dealer").await;
    let d2 = dealer(&app, &r, "Second Dealer").await;
    let mapped = item(&app, &r.client_id, "Mapped", 1, 5, &[&d]).await;
    let unmapped = item(&app, &r.client_id, "Unmapped", 1, 5, &[&d2]).await;
    let inactive = item(&app, &r.client_id, "Inactive", 1, 5, &[&d]).await;
    app.db
        .collection::<Document>("items")
        .update_one(doc! { "_id": oid(&inactive) }, doc! { "$set": { "isActive": false } })
        .await
        .unwrap();
    let r2 = app.register(&phone()).await;
    let foreign = item(&app, &r2.client_id, "Foreign", 1, 5, &[&d]).await;
    let res = app
        .post(
            "/api/dealer/orders",
            t,
            json!({ "clientId": r.client_id, "dealerId": d, "items": [
                { "itemId": mapped, "quantity": 1 }, { "itemId": unmapped, "quantity": 1 },
                { "itemId": inactive, "quantity": 1 }, { "itemId": foreign, "quantity": 1 },
                { "itemId": ObjectId::new().to_hex(), "quantity": 1 } ] }),
        )
        .await;
    res.assert_envelope(400);
    let errs = res.errors();
    for s in ["items[1].itemId", "items[2].itemId", "items[3].itemId", "items[4].itemId"] {
        assert!(errs.contains(s), "{s}: {errs}");
    }
    assert!(!errs.contains("items[0]"), "{errs}");
    assert_eq!(app.count("dealerorders", doc! {}).await, 0);
    // a failed order does not use up a number
    let o =
        order(&app, &r, &d, json!([{ "itemId": mapped, "quantity": 2 }, { "itemId": mapped, "quantity": 3 }])).await;
    assert_eq!(o["orderNumber"], format!("PO/{}/0001", fy_label()));
    let oid_s = o["_id"].as_str().unwrap().to_string();
    // the item is on two lines: itemId is ambiguous, lineId is not
    let res = deliver(&app, &r, &oid_s, json!({ "items": [{ "itemId": mapped, "receivedQuantity": 1 }] })).await;
    res.assert_envelope(400);
    let lines = app.get(&format!("/api/dealer/orders/{oid_s}"), t).await.body["items"].clone();
    let l0 = lines[0]["_id"].as_str().unwrap();
    let res = deliver(&app, &r, &oid_s, json!({ "items": [{ "lineId": l0, "receivedQuantity": 0 }] })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(app.stock_of(&mapped).await, 4, "line 1 received 0, line 2 received its 3");
    // delivered: cannot cancel (400, as v1), can still set the bill; payment terms give a due date
    app.post(&format!("/api/dealer/orders/{oid_s}/cancel"), t, json!({ "clientId": r.client_id }))
        .await
        .assert_envelope(400);
    let res = app
        .put(
            &format!("/api/dealer/orders/{oid_s}/total"),
            t,
            json!({ "clientId": r.client_id, "totalAmount": 12.5, "dueDate": "2030-04-01T10:00:00.5Z" }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["order"]["dueDate"], "2030-04-01T10:00:00.500Z");
    // payment terms: a delivery without dueDate is due paymentTermsDays later
    app.put(&format!("/api/dealer/{}/{d2}", r.client_id), t, json!({ "paymentTermsDays": 30 })).await;
    let o2 = order(&app, &r, &d2, json!([{ "itemId": unmapped, "quantity": 1 }])).await;
    let res = deliver(&app, &r, o2["_id"].as_str().unwrap(), json!({})).await;
    assert_eq!(res.status, 200, "{}", res.body);
    // (30 India calendar days after the India date of delivery, stored as that date)
    let due = DateTime::parse_rfc3339_str(res.body["order"]["dueDate"].as_str().unwrap()).unwrap();
    let delivered = DateTime::parse_rfc3339_str(res.body["order"]["deliveredAt"].as_str().unwrap()).unwrap();
    assert_eq!(viveka::time::days_between(delivered, due), 30);
    assert_eq!(due, viveka::time::date_instant(viveka::time::ist_date(delivered) + chrono::Days::new(30)));
    // a payment against another dealer's order is refused
    let res = pay(&app, &r, &d, Some(o2["_id"].as_str().unwrap()), json!(1)).await;
    res.assert_envelope(400);
}

#[tokio::test]
async fn timeline_paging_really_works() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let t = Some(r.token.as_str());
    let d = dealer(&app, &r, "Paging Dealer").await;
    let a = item(&app, &r.client_id, "Bolt", 3, 5, &[&d]).await;
    for _ in 0..6 {
        let o = order(&app, &r, &d, json!([{ "itemId": a, "quantity": 1 }])).await;
        let res = deliver(&app, &r, o["_id"].as_str().unwrap(), json!({ "totalAmount": 10 })).await;
        assert_eq!(res.status, 200);
    }
    for _ in 0..6 {
        assert_eq!(pay(&app, &r, &d, None, json!(1.5)).await.status, 201);
    }
    let path = format!("/api/dealer/{}/{d}/transactions", r.client_id);
    let mut seen = Vec::new();
    for skip in [0, 5, 10] {
        let res = app.get(&format!("{path}?skip={skip}&limit=5"), t).await;
        assert_eq!(res.status, 200, "{}", res.body);
        assert_eq!(res.body["totalCount"], 12);
        let rows = res.body["transactions"].as_array().unwrap();
        assert_eq!(rows.len(), if skip == 10 { 2 } else { 5 }, "skip={skip} (v1 returned rows 10..104)");
        seen.extend(rows.iter().map(|r| r["transactionId"].as_str().unwrap().to_string()));
    }
    let mut uniq = seen.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), 12, "pages do not overlap");
    let all = app.get(&path, t).await;
    let dates: Vec<&str> =
        all.body["transactions"].as_array().unwrap().iter().map(|r| r["date"].as_str().unwrap()).collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted, "date desc");
    assert_eq!(all.body["limit"], 50);
    assert_eq!(app.get(&format!("{path}?limit=100000"), t).await.body["limit"], 200, "capped");
    for q in ["limit=-1", "skip=-5", "limit=abc", "skip=1.5", "limit=0"] {
        app.get(&format!("{path}?{q}"), t).await.assert_envelope(400);
        app.get(&format!("/api/dealer/{}/transactions?{q}", r.client_id), t).await.assert_envelope(400);
        app.get(&format!("/api/dealer/{}/payments/all?{q}", r.client_id), t).await.assert_envelope(400);
        app.get(&format!("/api/dealer/{}/order-payments?{q}", r.client_id), t).await.assert_envelope(400);
    }
    let res = app.get(&format!("/api/dealer/{}/payments/all?limit=4&skip=4", r.client_id), t).await;
    assert_eq!(res.body["totalCount"], 6);
    assert_eq!(res.body["payments"].as_array().unwrap().len(), 2);
    assert_eq!(res.body["summary"]["totalAmount"], 9);
    let res = app.get(&format!("/api/dealer/{}/order-payments?limit=4&skip=4", r.client_id), t).await;
    assert_eq!(res.body["totalCount"], 6);
    assert_eq!(res.body["orders"].as_array().unwrap().len(), 2);
}

/// Every D-route, called by client B with client A's ids: 404 (or 403 for A's clientId),
/// and nothing in the database changes.
#[tokio::test]
async fn cross_tenant_ids_answer_404_or_403_and_write_nothing() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let b = app.register(&phone()).await;
    let da = dealer(&app, &a, "A Dealer").await;
    let ia = item(&app, &a.client_id, "A item", 1, 5, &[&da]).await;
    let oa = order(&app, &a, &da, json!([{ "itemId": ia, "quantity": 2 }])).await["_id"].as_str().unwrap().to_string();
    let ob = order(&app, &a, &da, json!([{ "itemId": ia, "quantity": 2 }])).await["_id"].as_str().unwrap().to_string();
    assert_eq!(deliver(&app, &a, &ob, json!({ "totalAmount": 50 })).await.status, 200);
    let pa = pay(&app, &a, &da, Some(&ob), json!(5)).await.body["payment"]["_id"].as_str().unwrap().to_string();
    let db_ = dealer(&app, &b, "B Dealer").await;

    let snapshot = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            let mut out = Vec::new();
            for c in ["dealers", "dealerorders", "dealerorderitems", "dealerpayments", "items", "stockmovements"] {
                let docs: Vec<Document> = {
                    use futures::TryStreamExt;
                    db.collection::<Document>(c).find(doc! {}).await.unwrap().try_collect().await.unwrap()
                };
                out.push(format!("{c}:{docs:?}"));
            }
            out
        }
    };
    let before = snapshot(&app).await;
    let tb = Some(b.token.as_str());
    let (ac, bc) = (a.client_id.as_str(), b.client_id.as_str());
    // B's own clientId with A's ids: 404
    let not_found: Vec<crate::helpers::Resp> = vec![
        app.put(&format!("/api/dealer/{bc}/{da}"), tb, json!({ "name": "Hijacked" })).await,
        app.delete(&format!("/api/dealer/{bc}/{da}"), tb).await,
        app.get(&format!("/api/dealer/{bc}/{da}/items"), tb).await,
        app.get(&format!("/api/dealer/{bc}/{da}/items/low-stock"), tb).await,
        app.get(&format!("/api/dealer/{bc}/{da}/orders/recommendations"), tb).await,
        app.post(
            "/api/dealer/orders",
            tb,
            json!({ "clientId": bc, "dealerId": da, "items": [{ "itemId": ia, "quantity": 1 }] }),
        )
        .await,
        app.get(&format!("/api/dealer/{bc}/{da}/orders"), tb).await,
        app.get(&format!("/api/dealer/orders/{oa}"), tb).await,
        app.get(&format!("/api/dealer/orders/{oa}?clientId={bc}"), tb).await,
        app.post(&format!("/api/dealer/orders/{oa}/cancel"), tb, json!({ "clientId": bc })).await,
        app.post(&format!("/api/dealer/orders/{oa}/mark-delivered"), tb, json!({ "clientId": bc })).await,
        app.put(&format!("/api/dealer/orders/{ob}/total"), tb, json!({ "clientId": bc, "totalAmount": 1 })).await,
        app.get(&format!("/api/dealer/orders/{ob}/payments"), tb).await,
        app.post("/api/dealer/payments", tb, json!({ "clientId": bc, "dealerId": da, "amount": 1 })).await,
        app.post("/api/dealer/payments", tb, json!({ "clientId": bc, "dealerId": db_, "orderId": ob, "amount": 1 }))
            .await,
        app.get(&format!("/api/dealer/{bc}/{da}/payments"), tb).await,
        app.get(&format!("/api/dealer/{bc}/payments/all?dealerId={da}"), tb).await,
        app.get(&format!("/api/dealer/{bc}/payments/all?orderId={ob}"), tb).await,
        app.get(&format!("/api/dealer/payments/{pa}"), tb).await,
        app.get(&format!("/api/dealer/{bc}/order-payments?dealerId={da}"), tb).await,
        app.get(&format!("/api/dealer/orders/{ob}/payment-details"), tb).await,
        app.get(&format!("/api/dealer/{bc}/{da}/summary"), tb).await,
        app.get(&format!("/api/dealer/{bc}/{da}/transactions"), tb).await,
    ];
    for (i, res) in not_found.iter().enumerate() {
        res.assert_envelope(404);
        assert!(res.body["message"].as_str().is_some(), "#{i}");
    }
    // A's clientId in the path, query or body: 403
    let forbidden: Vec<crate::helpers::Resp> = vec![
        app.post("/api/dealer", tb, json!({ "clientId": ac, "name": "Sneaky" })).await,
        app.get(&format!("/api/dealer/{ac}"), tb).await,
        app.put(&format!("/api/dealer/{ac}/{da}"), tb, json!({ "name": "Hijacked" })).await,
        app.delete(&format!("/api/dealer/{ac}/{da}"), tb).await,
        app.get(&format!("/api/dealer/{ac}/{da}/items"), tb).await,
        app.get(&format!("/api/dealer/{ac}/{da}/items/low-stock"), tb).await,
        app.get(&format!("/api/dealer/{ac}/{da}/orders/recommendations"), tb).await,
        app.post(
            "/api/dealer/orders",
            tb,
            json!({ "clientId": ac, "dealerId": da, "items": [{ "itemId": ia, "quantity": 1 }] }),
        )
        .await,
        app.get(&format!("/api/dealer/{ac}/{da}/orders"), tb).await,
        app.get(&format!("/api/dealer/orders/{oa}?clientId={ac}"), tb).await,
        app.post(&format!("/api/dealer/orders/{oa}/cancel"), tb, json!({ "clientId": ac })).await,
        app.post(&format!("/api/dealer/orders/{oa}/mark-delivered"), tb, json!({ "clientId": ac })).await,
        app.put(&format!("/api/dealer/orders/{ob}/total"), tb, json!({ "clientId": ac, "totalAmount": 1 })).await,
        app.get(&format!("/api/dealer/orders/{ob}/payments?clientId={ac}"), tb).await,
        app.post("/api/dealer/payments", tb, json!({ "clientId": ac, "dealerId": da, "amount": 1 })).await,
        app.get(&format!("/api/dealer/{ac}/{da}/payments"), tb).await,
        app.get(&format!("/api/dealer/{ac}/payments/all"), tb).await,
        app.get(&format!("/api/dealer/payments/{pa}?clientId={ac}"), tb).await,
        app.get(&format!("/api/dealer/{ac}/order-payments"), tb).await,
        app.get(&format!("/api/dealer/orders/{ob}/payment-details?clientId={ac}"), tb).await,
        app.get(&format!("/api/dealer/{ac}/{da}/summary"), tb).await,
        app.get(&format!("/api/dealer/{ac}/transactions"), tb).await,
        app.get(&format!("/api/dealer/{ac}/{da}/transactions"), tb).await,
    ];
    for res in &forbidden {
        res.assert_envelope(403);
    }
    // B's own lists show nothing of A's
    let res = app.get(&format!("/api/dealer/{bc}/transactions"), tb).await;
    assert_eq!(res.body["totalCount"], 0);
    let res = app.get(&format!("/api/dealer/{bc}/payments/all"), tb).await;
    assert_eq!(res.body["totalCount"], 0);
    assert_eq!(snapshot(&app).await, before, "nothing was written");
    // without a token: 401
    app.get(&format!("/api/dealer/{ac}"), None).await.assert_envelope(401);
}

#[tokio::test]
async fn bad_input_on_every_endpoint_is_a_4xx_envelope_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let t = Some(r.token.as_str());
    let c = r.client_id.as_str();
    let d = dealer(&app, &r, "Input Dealer").await;
    let it = item(&app, c, "Bolt", 1, 5, &[&d]).await;
    let o = order(&app, &r, &d, json!([{ "itemId": it, "quantity": 1 }])).await["_id"].as_str().unwrap().to_string();
    let before: Vec<u64> = {
        let mut v = Vec::new();
        for coll in ["dealers", "dealerorders", "dealerorderitems", "dealerpayments", "stockmovements"] {
            v.push(app.count(coll, doc! {}).await);
        }
        v
    };
    let bad = "not-an-id";
    let cases: Vec<(crate::helpers::Resp, &str)> = vec![
        // D1
        (app.post("/api/dealer", t, json!({ "clientId": c })).await, "name"),
        // clientId is optional (issue 13; an empty one is absent): the name is still checked
        (app.post("/api/dealer", t, json!({ "clientId": "", "name": "X" })).await, "name"),
        (app.post("/api/dealer", t, json!({ "clientId": c, "name": "X" })).await, "name"),
        (app.post("/api/dealer", t, json!({ "clientId": c, "name": 42 })).await, "name"),
        (
            app.post(
                "/api/dealer",
                t,
                json!({ "clientId": c, "name": "Fine", "phoneNumber": "12ab", "email": "nope", "logoUrl": "ftp:x",
                        "gstin": "BADGSTIN", "paymentTermsDays": 400,
                        "bankDetails": { "accountNo": "12", "ifsc": "XXXX" } }),
            )
            .await,
            "phoneNumber",
        ),
        (app.raw(reqwest::Method::POST, "/api/dealer", t, None).await, "name"),
        // D2-D7, D9, D16, D21, D23 with a malformed dealer id
        (app.get(&format!("/api/dealer/{c}/{bad}/items"), t).await, "dealerId"),
        (app.get(&format!("/api/dealer/{c}/{bad}/items/low-stock"), t).await, "dealerId"),
        (app.get(&format!("/api/dealer/{c}/{bad}/orders/recommendations"), t).await, "dealerId"),
        (app.get(&format!("/api/dealer/{c}/{bad}/orders"), t).await, "dealerId"),
        (app.get(&format!("/api/dealer/{c}/{bad}/payments"), t).await, "dealerId"),
        (app.get(&format!("/api/dealer/{c}/{bad}/summary"), t).await, "dealerId"),
        (app.get(&format!("/api/dealer/{c}/{bad}/transactions"), t).await, "dealerId"),
        (app.put(&format!("/api/dealer/{c}/{bad}"), t, json!({ "name": "Fine" })).await, "dealerId"),
        (app.put(&format!("/api/dealer/{c}/{d}"), t, json!({ "email": "x@" })).await, "email"),
        (app.delete(&format!("/api/dealer/{c}/{bad}"), t).await, "dealerId"),
        // D8
        (app.post("/api/dealer/orders", t, json!({ "clientId": c, "dealerId": d })).await, "items"),
        (app.post("/api/dealer/orders", t, json!({ "clientId": c, "dealerId": d, "items": [] })).await, "items"),
        (
            app.post(
                "/api/dealer/orders",
                t,
                json!({ "clientId": c, "dealerId": bad, "items": [{ "itemId": it, "quantity": 1 }] }),
            )
            .await,
            "dealerId",
        ),
        (
            app.post(
                "/api/dealer/orders",
                t,
                json!({ "clientId": c, "dealerId": d, "items": [{ "itemId": it, "quantity": 0 }] }),
            )
            .await,
            "items[0].quantity",
        ),
        (
            app.post(
                "/api/dealer/orders",
                t,
                json!({ "clientId": c, "dealerId": d, "items": [{ "itemId": it, "quantity": 1.5 }] }),
            )
            .await,
            "quantity",
        ),
        (
            app.post("/api/dealer/orders", t, json!({ "clientId": c, "dealerId": d, "items": [{ "quantity": 1 }] }))
                .await,
            "items[0].itemId",
        ),
        // D10-D14, D20 with a malformed order id
        (app.get(&format!("/api/dealer/orders/{bad}"), t).await, "orderId"),
        (app.post(&format!("/api/dealer/orders/{bad}/cancel"), t, json!({ "clientId": c })).await, "orderId"),
        // clientId is optional on every dealer write (issue 13): a malformed id is still a 400
        (app.post(&format!("/api/dealer/orders/{bad}/cancel"), t, json!({})).await, "orderId"),
        (app.post(&format!("/api/dealer/orders/{bad}/mark-delivered"), t, json!({ "clientId": c })).await, "orderId"),
        (
            app.post(&format!("/api/dealer/orders/{o}/mark-delivered"), t, json!({ "clientId": c, "totalAmount": -1 }))
                .await,
            "totalAmount",
        ),
        (
            app.post(
                &format!("/api/dealer/orders/{o}/mark-delivered"),
                t,
                json!({ "clientId": c, "totalAmount": 1.001 }),
            )
            .await,
            "totalAmount",
        ),
        (
            app.post(
                &format!("/api/dealer/orders/{o}/mark-delivered"),
                t,
                json!({ "clientId": c, "totalAmount": "10" }),
            )
            .await,
            "totalAmount",
        ),
        (
            app.post(
                &format!("/api/dealer/orders/{o}/mark-delivered"),
                t,
                json!({ "clientId": c, "dueDate": "31/05/2026" }),
            )
            .await,
            "dueDate",
        ),
        (
            app.post(
                &format!("/api/dealer/orders/{o}/mark-delivered"),
                t,
                json!({ "clientId": c, "dueDate": "2026-05-31T10:00:00+05:30" }),
            )
            .await,
            "dueDate",
        ),
        (
            app.post(
                &format!("/api/dealer/orders/{o}/mark-delivered"),
                t,
                json!({ "clientId": c, "items": [{ "itemId": it, "receivedQuantity": -1 }] }),
            )
            .await,
            "receivedQuantity",
        ),
        (
            app.post(
                &format!("/api/dealer/orders/{o}/mark-delivered"),
                t,
                json!({ "clientId": c, "items": [{ "lineId": ObjectId::new().to_hex(), "receivedQuantity": 1 }] }),
            )
            .await,
            "items[0]",
        ),
        (
            app.put(&format!("/api/dealer/orders/{bad}/total"), t, json!({ "clientId": c, "totalAmount": 1 })).await,
            "orderId",
        ),
        (app.put(&format!("/api/dealer/orders/{o}/total"), t, json!({ "clientId": c })).await, "body"),
        (
            app.put(&format!("/api/dealer/orders/{o}/total"), t, json!({ "clientId": c, "totalAmount": -5 })).await,
            "totalAmount",
        ),
        (
            app.put(&format!("/api/dealer/orders/{o}/total"), t, json!({ "clientId": c, "dueDate": "2026-13-01" }))
                .await,
            "dueDate",
        ),
        (app.get(&format!("/api/dealer/orders/{bad}/payments"), t).await, "orderId"),
        (app.get(&format!("/api/dealer/orders/{bad}/payment-details"), t).await, "orderId"),
        // D15
        (app.post("/api/dealer/payments", t, json!({ "clientId": c, "dealerId": d })).await, "amount"),
        (app.post("/api/dealer/payments", t, json!({ "clientId": c, "dealerId": d, "amount": 0 })).await, "amount"),
        (app.post("/api/dealer/payments", t, json!({ "clientId": c, "dealerId": d, "amount": -3 })).await, "amount"),
        (app.post("/api/dealer/payments", t, json!({ "clientId": c, "dealerId": d, "amount": 0.001 })).await, "amount"),
        (
            app.post(
                "/api/dealer/payments",
                t,
                json!({ "clientId": c, "dealerId": d, "amount": 5, "method": "cheque" }),
            )
            .await,
            "method",
        ),
        (
            app.post(
                "/api/dealer/payments",
                t,
                json!({ "clientId": c, "dealerId": d, "amount": 5, "proofUrl": "not a url" }),
            )
            .await,
            "proofUrl",
        ),
        (app.post("/api/dealer/payments", t, json!({ "clientId": c, "dealerId": bad, "amount": 5 })).await, "dealerId"),
        (
            app.post("/api/dealer/payments", t, json!({ "clientId": c, "dealerId": d, "orderId": bad, "amount": 5 }))
                .await,
            "orderId",
        ),
        // D17-D19, D22 queries
        (app.get(&format!("/api/dealer/{c}/payments/all?dealerId={bad}"), t).await, "query.dealerId"),
        (app.get(&format!("/api/dealer/{c}/payments/all?orderId={bad}"), t).await, "query.orderId"),
        (app.get(&format!("/api/dealer/payments/{bad}"), t).await, "paymentId"),
        (app.get(&format!("/api/dealer/{c}/order-payments?status=overdue"), t).await, "query.status"),
        (app.get(&format!("/api/dealer/{c}/order-payments?dealerId={bad}"), t).await, "query.dealerId"),
        (app.get(&format!("/api/dealer/{c}/transactions?limit=ten"), t).await, "query.limit"),
    ];
    for (i, (res, field)) in cases.iter().enumerate() {
        res.assert_envelope(400);
        assert!(res.errors().contains(field), "case #{i}: expected {field} in {}", res.body);
    }
    // malformed JSON and a wrong content type: 4xx envelopes too
    let res = app
        .http
        .post(format!("{}/api/dealer/payments", app.base))
        .bearer_auth(&r.token)
        .header("content-type", "application/json")
        .body("{\"amount\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = app
        .http
        .post(format!("{}/api/dealer/orders", app.base))
        .bearer_auth(&r.token)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    // missing ids that are well-formed: 404
    let missing = ObjectId::new().to_hex();
    app.get(&format!("/api/dealer/orders/{missing}"), t).await.assert_envelope(404);
    app.get(&format!("/api/dealer/payments/{missing}"), t).await.assert_envelope(404);
    app.get(&format!("/api/dealer/{c}/{missing}/summary"), t).await.assert_envelope(404);
    let mut after = Vec::new();
    for coll in ["dealers", "dealerorders", "dealerorderitems", "dealerpayments", "stockmovements"] {
        after.push(app.count(coll, doc! {}).await);
    }
    assert_eq!(before, after, "nothing written by bad input");
}

#[tokio::test]
async fn every_dealer_route_is_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/openapi.json", None).await.body;
    let paths = doc["paths"].as_object().unwrap();
    let ops = [
        ("/api/dealer", "post"),
        ("/api/dealer/{clientId}", "get"),
        ("/api/dealer/{clientId}/{dealerId}", "put"),
        ("/api/dealer/{clientId}/{dealerId}", "delete"),
        ("/api/dealer/{clientId}/{dealerId}/items", "get"),
        ("/api/dealer/{clientId}/{dealerId}/items/low-stock", "get"),
        ("/api/dealer/{clientId}/{dealerId}/orders/recommendations", "get"),
        ("/api/dealer/orders", "post"),
        ("/api/dealer/{clientId}/{dealerId}/orders", "get"),
        ("/api/dealer/orders/{orderId}", "get"),
        ("/api/dealer/orders/{orderId}/cancel", "post"),
        ("/api/dealer/orders/{orderId}/mark-delivered", "post"),
        ("/api/dealer/orders/{orderId}/total", "put"),
        ("/api/dealer/orders/{orderId}/payments", "get"),
        ("/api/dealer/payments", "post"),
        ("/api/dealer/{clientId}/{dealerId}/payments", "get"),
        ("/api/dealer/{clientId}/payments/all", "get"),
        ("/api/dealer/payments/{paymentId}", "get"),
        ("/api/dealer/{clientId}/order-payments", "get"),
        ("/api/dealer/orders/{orderId}/payment-details", "get"),
        ("/api/dealer/{clientId}/{dealerId}/summary", "get"),
        ("/api/dealer/{clientId}/transactions", "get"),
        ("/api/dealer/{clientId}/{dealerId}/transactions", "get"),
    ];
    for (p, m) in ops {
        let op = paths.get(p).and_then(|o| o.get(m)).unwrap_or_else(|| panic!("{m} {p} missing"));
        assert_eq!(op["tags"][0], "dealers", "{m} {p}");
        assert!(op.get("security").is_some(), "{m} {p} needs bearer security");
    }
}

// ------------------------------------------------------------------ dates (issue 12 §5)

fn at(s: &str) -> DateTime {
    DateTime::parse_rfc3339_str(s).unwrap()
}

async fn overdue_now(app: &TestApp, r: &Registered, dealer: &str) -> (Value, Value, Value, Value) {
    let s = app.get(&format!("/api/dealer/{}/{dealer}/summary", r.client_id), Some(&r.token)).await;
    assert_eq!(s.status, 200, "{}", s.body);
    let d = app.get("/api/dashboard/reports/dealer-payables", Some(&r.token)).await;
    assert_eq!(d.status, 200, "{}", d.body);
    (
        s.body["overdue"].clone(),
        s.body["overdueOrders"].clone(),
        d.body["overdue"].clone(),
        d.body["overdueCount"].clone(),
    )
}

/// The example: an order due on 1 April was overdue from 05:30 IST that morning
/// (the date read as 00:00 UTC). It is overdue only from 2 April 00:00 IST, in the dealer
/// summary (D21) and the dashboard's dealer payables alike. The order number's financial
/// year follows the India date too (the dealer module's own copy of the rule is gone).
#[tokio::test]
async fn an_order_due_on_1_april_is_overdue_only_from_2_april_ist() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let d = dealer(&app, &r, "Kisan Traders").await;
    let it = item(&app, &r.client_id, "Bolt", 0, 1, &[&d]).await;
    // 23:59:59 IST on 31 March is still FY 25-26; 00:00 IST on 1 April starts 26-27
    app.state.clock.pin(Some(at("2026-03-31T18:29:59Z")));
    let o1 = order(&app, &r, &d, json!([{ "itemId": it, "quantity": 1 }])).await;
    assert_eq!(o1["orderNumber"], "PO/25-26/0001");
    app.state.clock.pin(Some(at("2026-03-31T18:30:00Z")));
    let o = order(&app, &r, &d, json!([{ "itemId": it, "quantity": 1 }])).await;
    assert_eq!(o["orderNumber"], "PO/26-27/0001");
    let o = o["_id"].as_str().unwrap().to_string();
    let res = deliver(&app, &r, &o, json!({ "totalAmount": 500, "dueDate": "2026-04-01" })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["order"]["dueDate"], "2026-04-01T00:00:00.000Z", "the v1 wire form of a date is kept");

    for (now, overdue) in [
        ("2026-04-01T00:00:01Z", false), // 05:30:01 IST on the due day (the old rule: overdue)
        ("2026-04-01T12:00:00Z", false), // 17:30 IST
        ("2026-04-01T18:29:59.999Z", false), // 23:59:59.999 IST
        ("2026-04-01T18:30:00Z", true),  // 00:00 IST, 2 April
        ("2026-04-20T00:00:00Z", true),
    ] {
        app.state.clock.pin(Some(at(now)));
        let want = if overdue {
            (json!(500), json!(1), json!(500), json!(1))
        } else {
            (json!(0), json!(0), json!(0), json!(0))
        };
        assert_eq!(overdue_now(&app, &r, &d).await, want, "at {now}");
    }
}

/// Payment terms were `now + n x 24 h`: delivered at 10:00 IST with 30 days, the order was
/// overdue from 10:00 on its due day. It is due the India date 30 days after the delivery
/// date, all of that day.
#[tokio::test]
async fn payment_terms_count_india_calendar_days() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let d = dealer(&app, &r, "Kisan Traders").await;
    let res =
        app.put(&format!("/api/dealer/{}/{d}", r.client_id), Some(&r.token), json!({ "paymentTermsDays": 30 })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let it = item(&app, &r.client_id, "Bolt", 0, 1, &[&d]).await;
    let o = order(&app, &r, &d, json!([{ "itemId": it, "quantity": 1 }])).await;
    let o = o["_id"].as_str().unwrap().to_string();
    app.state.clock.pin(Some(at("2026-04-01T04:30:00Z"))); // 10:00 IST, 1 April
    let res = deliver(&app, &r, &o, json!({ "totalAmount": 100 })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["order"]["deliveredAt"], "2026-04-01T04:30:00.000Z");
    assert_eq!(res.body["order"]["dueDate"], "2026-05-01T00:00:00.000Z", "due 1 May (a date)");
    app.state.clock.pin(Some(at("2026-05-01T09:30:00Z"))); // 15:00 IST, 1 May: still due today
    assert_eq!(overdue_now(&app, &r, &d).await.0, json!(0));
    app.state.clock.pin(Some(at("2026-05-01T18:30:00Z"))); // 00:00 IST, 2 May
    assert_eq!(overdue_now(&app, &r, &d).await.0, json!(100));
    // delivered at 00:10 IST on 2 April (still 1 April in UTC): due 2 May
    let o = order(&app, &r, &d, json!([{ "itemId": it, "quantity": 1 }])).await;
    app.state.clock.pin(Some(at("2026-04-01T18:40:00Z")));
    let res = deliver(&app, &r, o["_id"].as_str().unwrap(), json!({})).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["order"]["dueDate"], "2026-05-02T00:00:00.000Z");
}

// ------------------------------------------------------------- over-receipt (issue 12 §6)

/// The example: an order for 10 units marked delivered with `receivedQuantity: 100`
/// raised stock by 100. Refused with 409 `OVER_RECEIPT` (nothing changes) unless within the
/// shop's `overReceiptAllowancePercent`.
#[tokio::test]
async fn over_receipt_is_refused_beyond_the_shops_allowance() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let t = Some(r.token.as_str());
    let d = dealer(&app, &r, "Kisan Traders").await;
    let it = item(&app, &r.client_id, "Bolt", 5, 1, &[&d]).await;
    let o = order(&app, &r, &d, json!([{ "itemId": it, "quantity": 10 }])).await;
    let o = o["_id"].as_str().unwrap().to_string();

    // default allowance 0: 100 of 10 and even 11 of 10 are refused, and nothing is written
    let client = app.get(&format!("/api/client/{}", r.client_id), t).await;
    assert_eq!(
        client.body["client"]["clientSettings"]["purchases"]["overReceiptAllowancePercent"], 0,
        "{}",
        client.body
    );
    for q in [100, 11] {
        let res = deliver(&app, &r, &o, json!({ "items": [{ "itemId": it, "receivedQuantity": q }] })).await;
        res.assert_envelope(409);
        assert_eq!(res.code(), "OVER_RECEIPT");
        assert!(res.body["message"].as_str().unwrap().contains("items[0].receivedQuantity"), "{}", res.body);
    }
    assert_eq!(app.stock_of(&it).await, 5);
    let view = app.get(&format!("/api/dealer/orders/{o}"), t).await;
    assert_eq!(view.body["order"]["status"], "pending");
    assert_eq!(view.body["items"][0]["receivedQuantity"], Value::Null);
    assert_eq!(app.count("stockmovements", doc! {}).await, 0);

    // the setting: a whole percent 0-100, refused otherwise (profile update and register)
    for bad in [json!(101), json!(-1), json!(2.5), json!("10")] {
        let res = app
            .put(
                &format!("/api/client/{}", r.client_id),
                t,
                json!({ "clientSettings": { "purchases": { "overReceiptAllowancePercent": bad } } }),
            )
            .await;
        res.assert_envelope(400);
    }
    let res = app
        .put(
            &format!("/api/client/{}", r.client_id),
            t,
            json!({ "clientSettings": { "purchases": { "overReceiptAllowancePercent": 10 } } }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["client"]["clientSettings"]["purchases"]["overReceiptAllowancePercent"], 10);

    // 10 % of 10 ordered: at most 11
    let res = deliver(&app, &r, &o, json!({ "items": [{ "itemId": it, "receivedQuantity": 12 }] })).await;
    res.assert_envelope(409);
    assert!(res.body["message"].as_str().unwrap().contains("at most 11"), "{}", res.body);
    let res = deliver(&app, &r, &o, json!({ "items": [{ "itemId": it, "receivedQuantity": 11 }] })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(app.stock_of(&it).await, 16);
    let view = app.get(&format!("/api/dealer/orders/{o}"), t).await;
    assert_eq!(view.body["items"][0]["receivedQuantity"], 11);
}

#[tokio::test]
async fn register_refuses_an_out_of_range_over_receipt_allowance() {
    let app = TestApp::spawn().await;
    let p = phone();
    let code = app.otp(&p, "register").await;
    let res = app
        .post(
            "/api/auth/register",
            None,
            json!({ "phoneNumber": p, "otp": code, "ownerName": "Asha Rao", "businessName": "Rao Auto Spares",
                    "clientSettings": { "purchases": { "overReceiptAllowancePercent": 500 } } }),
        )
        .await;
    res.assert_envelope(400);
    assert!(res.errors().contains("overReceiptAllowancePercent"), "{}", res.errors());
    assert_eq!(app.count("clients", doc! {}).await, 0);
    let r =
        app.register_with(&p, json!({ "clientSettings": { "purchases": { "overReceiptAllowancePercent": 5 } } })).await;
    let c = app.get(&format!("/api/client/{}", r.client_id), Some(&r.token)).await;
    assert_eq!(c.body["client"]["clientSettings"]["purchases"]["overReceiptAllowancePercent"], 5);
}
