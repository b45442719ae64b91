//! Carts, invoices, payments, stock and dues (issue 4), on the real replica set.

use std::collections::HashSet;

use bson::{doc, oid::ObjectId, Document};
use futures::TryStreamExt;
use serde_json::{json, Value};
use viveka::{catalog::model::ItemDoc, money::Paise};

use crate::helpers::{phone, Registered, TestApp};

/// Put an item straight into the catalog (price in paise).
pub async fn seed_item(app: &TestApp, client: &str, name: &str, price: i64, stock: i64) -> String {
    let now = bson::DateTime::now();
    let item = ItemDoc {
        id: ObjectId::new(),
        client_id: ObjectId::parse_str(client).unwrap(),
        group_id: None,
        brand_id: None,
        name: name.to_string(),
        price: Paise::new(price),
        stock,
        low_stock_quantity: 5,
        unit: "nos".into(),
        description: String::new(),
        dealer_ids: vec![],
        is_active: true,
        created_at: now,
        updated_at: now,
        version: 0,
        details: Default::default(),
    };
    app.db.collection::<ItemDoc>("items").insert_one(&item).await.unwrap();
    item.id.to_hex()
}

async fn sell(app: &TestApp, r: &Registered, products: Value, paid: Value) -> crate::helpers::Resp {
    app.post(
        "/api/business/invoices/generatewithproducts",
        Some(&r.token),
        json!({ "clientId": r.client_id, "products": products, "paidAmount": paid }),
    )
    .await
}

async fn set_billing(app: &TestApp, r: &Registered, settings: Value) {
    let res = app
        .put(
            &format!("/api/client/{}", r.client_id),
            Some(&r.token),
            json!({ "clientSettings": { "billing": settings } }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
}

#[tokio::test]
async fn cart_flow_snapshots_catalog_and_really_removes_lines() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let oil = seed_item(&app, &r.client_id, "Engine Oil 1L", 45050, 10).await;
    let plug = seed_item(&app, &r.client_id, "Spark Plug", 12000, 10).await;
    let cust_phone = phone();
    let c = app
        .post(
            "/api/business/carts",
            Some(&r.token),
            json!({ "clientId": r.client_id, "clientCustomerPhone": cust_phone }),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    let cart = c.body["cart"]["_id"].as_str().unwrap().to_string();
    assert_eq!(c.body["cart"]["totalAmount"], 0);
    assert!(c.body["cart"]["clientCustomerId"].is_string(), "customer got-or-created");
    let a = app
        .post(
            "/api/business/carts/add-item",
            Some(&r.token),
            json!({ "cartId": cart, "itemId": oil, "itemName": "whatever", "unitPrice": 450.5, "quantity": 2 }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["cartItem"]["itemNameSnapshot"], "Engine Oil 1L", "name comes from the catalog");
    assert_eq!(a.body["cartItem"]["lineTotal"], 901);
    assert_eq!(a.body["cartItem"]["priceOverridden"], false);
    let b = app
        .post(
            "/api/business/carts/add-item",
            Some(&r.token),
            json!({ "cartId": cart, "itemId": plug, "unitPrice": 99.99, "quantity": 3 }),
        )
        .await;
    assert_eq!(b.body["cartItem"]["priceOverridden"], true);
    assert_eq!(b.body["cartItem"]["catalogPrice"], 120);
    assert_eq!(b.body["cartItem"]["lineTotal"], 299.97);
    let g = app.get(&format!("/api/business/carts/{cart}"), Some(&r.token)).await;
    assert_eq!(g.body["cart"]["totalAmount"], 1200.97);
    assert_eq!(g.body["cart"]["itemCount"], 2);
    assert_eq!(g.body["cartItems"].as_array().unwrap().len(), 2);
    let line = b.body["cartItem"]["_id"].as_str().unwrap();
    let rm = app
        .post("/api/business/carts/remove-item", Some(&r.token), json!({ "cartId": cart, "cartItemId": line }))
        .await;
    assert_eq!(rm.status, 200);
    let again = app
        .post("/api/business/carts/remove-item", Some(&r.token), json!({ "cartId": cart, "cartItemId": line }))
        .await;
    again.assert_envelope(400);
    let g = app.get(&format!("/api/business/carts/{cart}"), Some(&r.token)).await;
    assert_eq!(g.body["cart"]["totalAmount"], 901, "a removed line is gone and totals never go negative (U9)");
    assert_eq!(g.body["cartItems"].as_array().unwrap().len(), 1);
    // invoice it, then it cannot change
    let inv = app
        .post(
            "/api/business/invoices/generate",
            Some(&r.token),
            json!({ "clientId": r.client_id, "cartId": cart, "paidAmount": 901 }),
        )
        .await;
    assert_eq!(inv.status, 201, "{}", inv.body);
    assert_eq!(inv.body["invoice"]["clientCustomerPhone"], cust_phone.as_str());
    let late = app
        .post("/api/business/carts/add-item", Some(&r.token), json!({ "cartId": cart, "itemId": oil, "quantity": 1 }))
        .await;
    late.assert_envelope(409);
    app.post("/api/business/carts/clear", Some(&r.token), json!({ "cartId": cart })).await.assert_envelope(409);
    let g = app.get(&format!("/api/business/carts/{cart}"), Some(&r.token)).await;
    assert_eq!(g.body["cart"]["isFinalized"], true);
    // clear really deletes an open cart
    let c2 = app.post("/api/business/carts", Some(&r.token), json!({ "clientId": r.client_id })).await;
    let cart2 = c2.body["cart"]["_id"].as_str().unwrap().to_string();
    assert_eq!(app.post("/api/business/carts/clear", Some(&r.token), json!({ "cartId": cart2 })).await.status, 200);
    app.get(&format!("/api/business/carts/{cart2}"), Some(&r.token)).await.assert_envelope(400);
}

#[tokio::test]
async fn cart_bad_input_writes_nothing() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let other = app.register(&phone()).await;
    let item = seed_item(&app, &r.client_id, "Fuse", 1000, 5).await;
    let foreign_item = seed_item(&app, &other.client_id, "Foreign", 1000, 5).await;
    let cart = app.post("/api/business/carts", Some(&r.token), json!({ "clientId": r.client_id })).await.body["cart"]
        ["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let foreign_cart =
        app.post("/api/business/carts", Some(&other.token), json!({ "clientId": other.client_id })).await.body["cart"]
            ["_id"]
            .as_str()
            .unwrap()
            .to_string();
    for body in [
        json!({ "cartId": cart, "itemId": item, "quantity": 0 }),
        json!({ "cartId": cart, "itemId": item, "quantity": -2 }),
        json!({ "cartId": cart, "itemId": item, "quantity": 1.5 }),
        json!({ "cartId": cart, "itemId": item, "quantity": "2" }),
        json!({ "cartId": cart, "itemId": item, "quantity": 1, "unitPrice": 10.005 }),
        json!({ "cartId": cart, "itemId": item, "quantity": 1, "unitPrice": -1 }),
        json!({ "cartId": cart, "itemId": "xyz", "quantity": 1 }),
        json!({ "cartId": cart, "itemId": foreign_item, "quantity": 1 }),
        json!({ "cartId": foreign_cart, "itemId": item, "quantity": 1 }),
        json!({ "itemId": item, "quantity": 1 }),
    ] {
        let res = app.post("/api/business/carts/add-item", Some(&r.token), body.clone()).await;
        res.assert_envelope(400);
    }
    let d = app
        .db
        .collection::<bson::Document>("carts")
        .find_one(doc! { "_id": ObjectId::parse_str(&foreign_cart).unwrap() })
        .await
        .unwrap()
        .unwrap();
    assert!(d.get_array("lines").unwrap().is_empty());
    let mine = app.get(&format!("/api/business/carts/{cart}"), Some(&r.token)).await;
    assert_eq!(mine.body["cartItems"].as_array().unwrap().len(), 0);
    app.get(&format!("/api/business/carts/{foreign_cart}"), Some(&r.token)).await.assert_envelope(400);
    app.post("/api/business/carts", Some(&r.token), json!({ "clientId": r.client_id, "clientCustomerPhone": "12" }))
        .await
        .assert_envelope(400);
    app.post("/api/business/carts", Some(&r.token), json!({ "clientId": other.client_id })).await.assert_envelope(403);
    // an empty cart cannot be invoiced
    let res = app
        .post("/api/business/invoices/generate", Some(&r.token), json!({ "clientId": r.client_id, "cartId": cart }))
        .await;
    res.assert_envelope(400);
    assert_eq!(app.count("invoices", doc! {}).await, 0);
}

#[tokio::test]
async fn invoice_from_products_is_exact_and_writes_everything_in_one_go() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let a = seed_item(&app, &r.client_id, "Wire 1m", 3333, 50).await;
    let b = seed_item(&app, &r.client_id, "Switch", 1, 50).await;
    let cust = phone();
    let res = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({
                "clientId": r.client_id, "clientCustomerPhone": cust, "clientCustomerName": "Ravi",
                "products": [
                    { "productId": a, "itemName": "ignored", "quantity": 3 },
                    { "productId": b, "itemName": "ignored", "quantity": 7 }
                ],
                "totalAmount": 100.06, "paidAmount": 50.03, "paymentMethod": "upi"
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let inv = &res.body["invoice"];
    assert_eq!(inv["subtotal"], 100.06);
    assert_eq!(inv["totalAmount"], 100.06);
    assert_eq!(inv["paidAmount"], 50.03);
    assert_eq!(inv["pendingAmount"], 50.03);
    assert_eq!(inv["status"], "Partial");
    assert_eq!(inv["isFinalized"], false);
    assert_eq!(inv["products"][0]["itemName"], "Wire 1m", "catalog name, not the client's");
    assert_eq!(inv["products"][0]["costPerUnit"], 33.33, "the catalog price when no costPerUnit is sent");
    let number = inv["invoiceNumber"].as_str().unwrap();
    assert!(number.starts_with("INV/") && number.ends_with("/00001") && number.len() <= 16, "{number}");
    assert_eq!(inv["invoiceDate"].as_str().unwrap().len(), 10);
    assert_eq!(app.stock_of(&a).await, 47);
    assert_eq!(app.stock_of(&b).await, 43);
    let iid = ObjectId::parse_str(inv["_id"].as_str().unwrap()).unwrap();
    let pays =
        app.db.collection::<bson::Document>("payments").find_one(doc! { "invoiceId": iid }).await.unwrap().unwrap();
    assert_eq!(pays.get_i64("amount").unwrap(), 5003);
    assert_eq!(pays.get_str("method").unwrap(), "upi");
    assert_eq!(app.count("stockmovements", doc! { "refId": iid }).await, 2);
    let c = app
        .db
        .collection::<bson::Document>("clientcustomers")
        .find_one(doc! { "phoneNumber": &cust })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.get_str("name").unwrap(), "Ravi");
    assert_eq!(c.get_i64("outstandingBalance").unwrap(), 5003);
    assert!(c.get_datetime("lastPurchaseAt").is_ok());
    assert_eq!(app.count("purchasehistories", doc! {}).await, 0, "history is written when paid in full");
    // the stored money is integer paise
    let stored = app.db.collection::<bson::Document>("invoices").find_one(doc! { "_id": iid }).await.unwrap().unwrap();
    assert_eq!(stored.get_i64("totalAmount").unwrap(), 10006);

    // pay the rest in two steps; the completing payment finalises once
    let p1 = app
        .post(
            "/api/business/invoices/pay",
            Some(&r.token),
            json!({ "clientId": r.client_id, "invoiceId": iid.to_hex(), "amount": 0.03 }),
        )
        .await;
    assert_eq!(p1.status, 200, "{}", p1.body);
    assert_eq!(p1.body["invoice"]["status"], "Partial");
    let over = app
        .post(
            "/api/business/invoices/pay",
            Some(&r.token),
            json!({ "clientId": r.client_id, "invoiceId": iid.to_hex(), "amount": 50.01 }),
        )
        .await;
    over.assert_envelope(400);
    let p2 = app
        .post(
            "/api/business/invoices/pay",
            Some(&r.token),
            json!({ "clientId": r.client_id, "invoiceId": iid.to_hex(), "amount": 50, "method": "cash" }),
        )
        .await;
    assert_eq!(p2.status, 200, "{}", p2.body);
    assert_eq!(p2.body["invoice"]["status"], "Paid");
    assert_eq!(p2.body["invoice"]["isFinalized"], true);
    assert_eq!(p2.body["payment"]["amount"], 50);
    app.post(
        "/api/business/invoices/pay",
        Some(&r.token),
        json!({ "clientId": r.client_id, "invoiceId": iid.to_hex(), "amount": 0.01 }),
    )
    .await
    .assert_envelope(400);
    assert_eq!(app.count("purchasehistories", doc! { "invoiceId": iid }).await, 1);
    let c = app
        .db
        .collection::<bson::Document>("clientcustomers")
        .find_one(doc! { "phoneNumber": &cust })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.get_i64("outstandingBalance").unwrap(), 0);
    let ps = app
        .get(&format!("/api/business/invoices/{}/payments?clientId={}", iid.to_hex(), r.client_id), Some(&r.token))
        .await;
    assert_eq!(ps.status, 200);
    let sum: f64 = ps.body["payments"].as_array().unwrap().iter().map(|p| p["amount"].as_f64().unwrap()).sum();
    assert!((sum - 100.06).abs() < 1e-9);
}

#[tokio::test]
async fn invoice_bad_input_writes_nothing() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let other = app.register(&phone()).await;
    let item = seed_item(&app, &r.client_id, "Bulb", 5000, 10).await;
    let foreign = seed_item(&app, &other.client_id, "Foreign Bulb", 5000, 10).await;
    let gone = seed_item(&app, &r.client_id, "Old Bulb", 5000, 10).await;
    app.db
        .collection::<bson::Document>("items")
        .update_one(doc! { "_id": ObjectId::parse_str(&gone).unwrap() }, doc! { "$set": { "isActive": false } })
        .await
        .unwrap();
    let cases = [
        json!({ "products": [] }),
        json!({ "products": [{ "itemName": "x", "quantity": 1, "costPerUnit": 1 }] }),
        json!({ "products": [{ "productId": foreign, "itemName": "x", "quantity": 1, "costPerUnit": 1 }] }),
        json!({ "products": [{ "productId": gone, "itemName": "x", "quantity": 1, "costPerUnit": 1 }] }),
        json!({ "products": [{ "productId": "nope", "quantity": 1 }] }),
        json!({ "products": [{ "productId": item, "quantity": 0 }] }),
        json!({ "products": [{ "productId": item, "quantity": -1 }] }),
        json!({ "products": [{ "productId": item, "quantity": 0.5 }] }),
        json!({ "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 50.01 }),
        json!({ "products": [{ "productId": item, "quantity": 1 }], "paidAmount": -1 }),
        json!({ "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 1.001 }),
        json!({ "products": [{ "productId": item, "quantity": 1 }], "totalAmount": 49.99 }),
        json!({ "products": [{ "productId": item, "quantity": 1 }], "paymentMethod": "barter" }),
        json!({ "products": [{ "productId": item, "quantity": 1 }], "clientCustomerId": ObjectId::new().to_hex() }),
        json!({ "products": "all" }),
    ];
    for body in cases {
        let res = app.post("/api/business/invoices/generatewithproducts", Some(&r.token), body.clone()).await;
        res.assert_envelope(400);
    }
    let res = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "clientId": other.client_id, "products": [{ "productId": item, "quantity": 1 }] }),
        )
        .await;
    res.assert_envelope(403);
    assert_eq!(app.count("invoices", doc! {}).await, 0);
    assert_eq!(app.count("payments", doc! {}).await, 0);
    assert_eq!(app.count("stockmovements", doc! {}).await, 0);
    assert_eq!(app.stock_of(&item).await, 10);
    assert_eq!(app.stock_of(&foreign).await, 10);
    // payments: foreign invoice, malformed id, zero/negative/fractional-paisa amounts
    let mine = sell(&app, &r, json!([{ "productId": item, "quantity": 1 }]), json!(0)).await;
    let iid = mine.body["invoice"]["_id"].as_str().unwrap().to_string();
    for body in [
        json!({ "invoiceId": iid, "amount": 0 }),
        json!({ "invoiceId": iid, "amount": -5 }),
        json!({ "invoiceId": iid, "amount": 0.005 }),
        json!({ "invoiceId": iid, "amount": "5" }),
        json!({ "invoiceId": "bad", "amount": 5 }),
        json!({ "invoiceId": iid, "amount": 5, "method": "barter" }),
        json!({ "invoiceId": iid, "amount": 50.01 }),
    ] {
        app.post("/api/business/invoices/pay", Some(&r.token), body).await.assert_envelope(400);
    }
    app.post("/api/business/invoices/pay", Some(&other.token), json!({ "invoiceId": iid, "amount": 5 }))
        .await
        .assert_envelope(400);
    app.get(&format!("/api/business/invoices/{iid}/payments"), Some(&other.token)).await.assert_envelope(404);
    assert_eq!(app.count("payments", doc! {}).await, 0);
}

#[tokio::test]
async fn stock_shortage_is_409_naming_items_unless_negative_stock_is_allowed() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let a = seed_item(&app, &r.client_id, "Battery", 200000, 1).await;
    let b = seed_item(&app, &r.client_id, "Horn", 50000, 10).await;
    // a strict shop (the default allows negative stock since issue 12)
    set_billing(&app, &r, json!({ "allowNegativeStock": false })).await;
    let res =
        sell(&app, &r, json!([{ "productId": b, "quantity": 2 }, { "productId": a, "quantity": 2 }]), json!(0)).await;
    res.assert_envelope(409);
    assert_eq!(res.code(), "INSUFFICIENT_STOCK");
    assert!(res.body["message"].as_str().unwrap().contains("Battery"));
    assert_eq!(app.stock_of(&b).await, 10, "nothing moved (U10)");
    assert_eq!(app.count("invoices", doc! {}).await, 0);
    set_billing(&app, &r, json!({ "allowNegativeStock": true })).await;
    let res = sell(&app, &r, json!([{ "productId": a, "quantity": 3 }]), json!(0)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(app.stock_of(&a).await, -2);
}

#[tokio::test]
async fn full_payment_mode_uses_incomplete_sales_numbered_when_paid() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = seed_item(&app, &r.client_id, "Cable", 10000, 10).await;
    set_billing(&app, &r, json!({ "requireFullPayment": true })).await;
    let res = sell(&app, &r, json!([{ "productId": item, "quantity": 1 }]), json!(40)).await;
    res.assert_envelope(400);
    assert!(res.errors().contains("incomplete-sale"), "{}", res.body);
    let full = sell(&app, &r, json!([{ "productId": item, "quantity": 1 }]), json!(100)).await;
    assert_eq!(full.status, 201);
    assert!(full.body["invoice"]["invoiceNumber"].as_str().unwrap().ends_with("00001"));
    let inc = app
        .post("/api/business/invoices/incomplete-sale", Some(&r.token), json!({ "products": [{ "productId": item, "quantity": 2 }], "paidAmount": 50, "clientCustomerPhone": phone() }))
        .await;
    assert_eq!(inc.status, 201, "{}", inc.body);
    assert!(inc.body["invoice"]["invoiceNumber"].is_null(), "no financial document yet");
    assert_eq!(inc.body["invoice"]["kind"], "incomplete");
    assert_eq!(app.stock_of(&item).await, 7, "the goods left the shop");
    let id = inc.body["invoice"]["_id"].as_str().unwrap();
    let pending = app.get(&format!("/api/business/pending-invoices/{}", r.client_id), Some(&r.token)).await;
    assert_eq!(pending.body["pendingInvoices"].as_array().unwrap().len(), 1);
    let p = app.post("/api/business/invoices/pay", Some(&r.token), json!({ "invoiceId": id, "amount": 150 })).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body["invoice"]["invoiceNumber"].as_str().unwrap().ends_with("00002"),
        "numbered when paid in full: {}",
        p.body
    );
    assert_eq!(p.body["invoice"]["status"], "Paid");
    assert_eq!(p.body["invoice"]["kind"], "invoice", "numbered = issued: {}", p.body);
    // the completed sale is listed with the invoices (B21) and in the history (B30), whose
    // totals agree with the payment report (B28)
    let list = app.get(&format!("/api/business/invoices/{}", r.client_id), Some(&r.token)).await;
    let numbers: Vec<&str> =
        list.body["invoices"].as_array().unwrap().iter().filter_map(|i| i["invoiceNumber"].as_str()).collect();
    assert!(numbers.iter().any(|n| n.ends_with("00002")), "B21 lists the completed sale: {numbers:?}");
    let hist = app.get(&format!("/api/business/invoice-history/{}", r.client_id), Some(&r.token)).await;
    let report = app.get(&format!("/api/business/payment-report/{}", r.client_id), Some(&r.token)).await;
    assert_eq!(hist.body["data"]["analytics"]["summary"]["totalInvoices"], json!(2), "{}", hist.body);
    assert_eq!(
        hist.body["data"]["analytics"]["summary"]["totalRevenue"], report.body["summary"]["totalAmount"],
        "{} / {}",
        hist.body, report.body
    );
    // the default (seed 001) rule: part-paid invoices are issued
    set_billing(&app, &r, json!({ "requireFullPayment": false })).await;
    let part = sell(&app, &r, json!([{ "productId": item, "quantity": 1 }]), json!(40)).await;
    assert_eq!(part.status, 201);
    assert_eq!(part.body["invoice"]["status"], "Partial");
}

#[tokio::test]
async fn concurrent_payments_never_overpay() {
    let app = TestApp::spawn().await;
    // a second API instance on the same database, with its own in-process queues: the
    // invariant must come from MongoDB, not from the per-shop queue
    let second = app.second_instance().await;
    let r = app.register(&phone()).await;
    let item = seed_item(&app, &r.client_id, "Rs100 item", 10000, 1000).await;
    for round in 0..3 {
        let inv = sell(&app, &r, json!([{ "productId": item, "quantity": 1 }]), json!(0)).await;
        let iid = inv.body["invoice"]["_id"].as_str().unwrap().to_string();
        let mut tasks = Vec::new();
        for i in 0..50 {
            let base = if i % 2 == 0 { &app.base } else { &second.base };
            let (http, url, token, iid) =
                (app.http.clone(), format!("{base}/api/business/invoices/pay"), r.token.clone(), iid.clone());
            tasks.push(tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(token)
                    .json(&json!({ "invoiceId": iid, "amount": 3 }))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                200 => ok += 1,
                400 => {}
                other => panic!("unexpected status {other}"),
            }
        }
        assert_eq!(ok, 33, "round {round}");
        let oid = ObjectId::parse_str(&iid).unwrap();
        let d = app.db.collection::<bson::Document>("invoices").find_one(doc! { "_id": oid }).await.unwrap().unwrap();
        assert_eq!(d.get_i64("paidAmount").unwrap(), 9900);
        let pays: Vec<bson::Document> = futures::TryStreamExt::try_collect(
            app.db.collection::<bson::Document>("payments").find(doc! { "invoiceId": oid }).await.unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(pays.len(), 33);
        assert_eq!(
            pays.iter().map(|p| p.get_i64("amount").unwrap()).sum::<i64>(),
            9900,
            "records sum to the paid amount"
        );
    }
}

#[tokio::test]
async fn concurrent_invoices_get_consecutive_numbers_per_client() {
    let app = TestApp::spawn().await;
    let mut shops = Vec::new();
    for _ in 0..4 {
        let r = app.register(&phone()).await;
        let item = seed_item(&app, &r.client_id, "Pen", 1000, 100_000).await;
        shops.push((r, item));
    }
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (r, item) = &shops[i % 4];
        let (http, url, token, item) = (
            app.http.clone(),
            format!("{}/api/business/invoices/generatewithproducts", app.base),
            r.token.clone(),
            item.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let res = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 10 }))
                .send()
                .await
                .unwrap();
            let status = res.status();
            assert_eq!(status, 201, "{}", res.text().await.unwrap_or_default());
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for (r, item) in &shops {
        let cid = ObjectId::parse_str(&r.client_id).unwrap();
        let docs: Vec<bson::Document> = futures::TryStreamExt::try_collect(
            app.db.collection::<bson::Document>("invoices").find(doc! { "clientId": cid }).await.unwrap(),
        )
        .await
        .unwrap();
        let mut seqs: Vec<i64> = docs.iter().map(|d| d.get_i64("seq").unwrap()).collect();
        seqs.sort();
        assert_eq!(seqs, (1..=50).collect::<Vec<_>>(), "numbers are exactly 1..50 with no gap or duplicate");
        let numbers: HashSet<String> = docs.iter().map(|d| d.get_str("invoiceNumber").unwrap().to_string()).collect();
        assert_eq!(numbers.len(), 50);
        assert_eq!(app.stock_of(item).await, 100_000 - 50);
    }
}

#[tokio::test]
async fn concurrent_sales_never_oversell() {
    let app = TestApp::spawn().await;
    let second = app.second_instance().await;
    let r = app.register(&phone()).await;
    // a strict shop keeps the guarantee: exactly N units sold of N
    set_billing(&app, &r, json!({ "allowNegativeStock": false })).await;
    for round in 0..2 {
        let item = seed_item(&app, &r.client_id, &format!("Scarce {round}"), 500, 100).await;
        let mut tasks = Vec::new();
        for i in 0..200 {
            let base = if i % 2 == 0 { &app.base } else { &second.base };
            let (http, url, token, item) = (
                app.http.clone(),
                format!("{base}/api/business/invoices/generatewithproducts"),
                r.token.clone(),
                item.clone(),
            );
            tasks.push(tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(token)
                    .json(&json!({ "products": [{ "productId": item, "quantity": 1 }] }))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                201 => ok += 1,
                409 => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(ok, 100, "round {round}");
        assert_eq!(app.stock_of(&item).await, 0);
        let iid = ObjectId::parse_str(&item).unwrap();
        assert_eq!(app.count("stockmovements", doc! { "itemId": iid }).await, 100);
        let sold = app.count("invoices", doc! { "products.productId": iid }).await;
        assert_eq!(sold, 100);
    }
}

#[tokio::test]
async fn a_cart_invoiced_twice_at_once_yields_one_invoice() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = seed_item(&app, &r.client_id, "Tape", 2500, 1000).await;
    for _ in 0..3 {
        let cart = app.post("/api/business/carts", Some(&r.token), json!({ "clientId": r.client_id })).await.body
            ["cart"]["_id"]
            .as_str()
            .unwrap()
            .to_string();
        app.post(
            "/api/business/carts/add-item",
            Some(&r.token),
            json!({ "cartId": cart, "itemId": item, "quantity": 2 }),
        )
        .await;
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let (http, url, token, cart) = (
                app.http.clone(),
                format!("{}/api/business/invoices/generate", app.base),
                r.token.clone(),
                cart.clone(),
            );
            tasks.push(tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(token)
                    .json(&json!({ "cartId": cart, "paidAmount": 50 }))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }));
        }
        let statuses: Vec<u16> = futures::future::join_all(tasks).await.into_iter().map(|s| s.unwrap()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
        let cid = ObjectId::parse_str(&cart).unwrap();
        assert_eq!(app.count("invoices", doc! { "cartId": cid }).await, 1);
    }
    assert_eq!(app.stock_of(&item).await, 1000 - 6);
}

#[tokio::test]
async fn carts_expire_by_ttl() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let cart = app.post("/api/business/carts", Some(&r.token), json!({ "clientId": r.client_id })).await.body["cart"]
        ["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let expires = app.get(&format!("/api/business/carts/{cart}"), Some(&r.token)).await.body["cart"]["expiresAt"]
        .as_str()
        .unwrap()
        .to_string();
    let exp = chrono::DateTime::parse_from_rfc3339(&expires).unwrap();
    let hours = (exp.timestamp() - chrono::Utc::now().timestamp()) / 3600;
    assert!((23..=24).contains(&hours), "24 hours from now");
    let id = ObjectId::parse_str(&cart).unwrap();
    let past = bson::DateTime::from_millis(bson::DateTime::now().timestamp_millis() - 1000);
    app.db
        .collection::<bson::Document>("carts")
        .update_one(doc! { "_id": id }, doc! { "$set": { "expiresAt": past } })
        .await
        .unwrap();
    let mut gone = false;
    for _ in 0..60 {
        if app.count("carts", doc! { "_id": id }).await == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(gone, "the TTL monitor removes an expired cart with its lines");
}

#[tokio::test]
async fn dues_reports_have_v1_shapes_and_filters() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let other = app.register(&phone()).await;
    let item = seed_item(&app, &r.client_id, "Nut", 1050, 1000).await;
    let oitem = seed_item(&app, &other.client_id, "Bolt", 1000, 1000).await;
    let cust = phone();
    let mk = |paid: f64| json!({ "products": [{ "productId": item, "quantity": 2 }], "paidAmount": paid, "clientCustomerPhone": cust, "clientCustomerName": "Meena" });
    let full = app.post("/api/business/invoices/generatewithproducts", Some(&r.token), mk(21.0)).await;
    let part = app.post("/api/business/invoices/generatewithproducts", Some(&r.token), mk(1.5)).await;
    let none = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "products": [{ "productId": item, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(none.status, 201);
    sell(&app, &other, json!([{ "productId": oitem, "quantity": 1 }]), json!(0)).await;
    let cust_id = full.body["invoice"]["clientCustomerId"].as_str().unwrap().to_string();
    let base = "/api/business";
    let all = app.get(&format!("{base}/invoices/{}", r.client_id), Some(&r.token)).await;
    assert_eq!(all.status, 200, "{}", all.body);
    let list = all.body["invoices"].as_array().unwrap();
    assert_eq!(list.len(), 3, "only this shop's invoices");
    assert!(list.iter().any(|i| i["clientCustomerId"]["name"] == "Meena"), "customer populated");
    let pending = app.get(&format!("{base}/pending-invoices/{}", r.client_id), Some(&r.token)).await;
    assert_eq!(pending.body["pendingInvoices"].as_array().unwrap().len(), 2);
    let pc = app.get(&format!("{base}/pending-invoices/{}/{cust_id}", r.client_id), Some(&r.token)).await;
    let pcs = pc.body["pendingInvoices"].as_array().unwrap();
    assert_eq!(pcs.len(), 1);
    assert_eq!(pcs[0]["pendingAmount"], 19.5);
    assert_eq!(pcs[0]["previousBalance"], 0, "the first invoice was paid in full");
    let paid = app.get(&format!("{base}/paid-invoices/{}/{cust_id}", r.client_id), Some(&r.token)).await;
    assert_eq!(paid.body["invoices"].as_array().unwrap().len(), 1);
    let report = app.get(&format!("{base}/payment-report/{}", r.client_id), Some(&r.token)).await;
    assert_eq!(
        report.body["summary"],
        json!({ "totalInvoices": 3, "totalAmount": 52.5, "totalPaid": 22.5, "totalPending": 30 })
    );
    let hist =
        app.get(&format!("{base}/purchase-history/{}?clientCustomerPhone={cust}", r.client_id), Some(&r.token)).await;
    let rows = hist.body["purchaseHistory"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["invoiceId"]["totalAmount"], 21);
    let ih = app.get(&format!("{base}/invoice-history/{}/{cust_id}?limit=1", r.client_id), Some(&r.token)).await;
    assert_eq!(ih.status, 200, "{}", ih.body);
    let d = &ih.body["data"];
    assert_eq!(d["clientCustomer"]["name"], "Meena");
    assert_eq!(d["invoices"].as_array().unwrap().len(), 1);
    assert_eq!(d["pagination"], json!({ "total": 2, "limit": 1, "offset": 0, "hasMore": true }));
    assert_eq!(d["analytics"]["summary"]["totalRevenue"], 42);
    assert_eq!(d["analytics"]["summary"]["averageInvoiceValue"], 21);
    assert_eq!(d["analytics"]["purchasePatterns"]["frequentlyPurchasedItems"][0]["itemName"], "Nut");
    let ih_all = app.get(&format!("{base}/invoice-history/{}?status=pending", r.client_id), Some(&r.token)).await;
    assert_eq!(ih_all.body["data"]["invoices"].as_array().unwrap().len(), 2);
    assert_eq!(ih_all.body["data"]["analytics"]["summary"]["totalBusinessValue"], 52.5);
    let part_id = part.body["invoice"]["_id"].as_str().unwrap();
    app.post(
        &format!("{base}/invoices/pay"),
        Some(&r.token),
        json!({ "invoiceId": part_id, "amount": 10, "method": "upi" }),
    )
    .await;
    let ph = app.get(&format!("{base}/payment-history/{}/{part_id}", r.client_id), Some(&r.token)).await;
    let pays = ph.body["data"]["payments"].as_array().unwrap();
    assert_eq!(pays.len(), 2);
    assert_eq!(pays[1]["paymentNumber"], 2);
    assert_eq!(pays[1]["cumulativeAmount"], 11.5);
    assert_eq!(pays[1]["remainingBalance"], 9.5);
    assert_eq!(ph.body["data"]["analytics"]["paymentMethodBreakdown"]["upi"]["count"], 1);
    // B31 works for an invoice with no customer (v1 crashed)
    let none_id = none.body["invoice"]["_id"].as_str().unwrap();
    let nc = app.get(&format!("{base}/payment-history/{}/{none_id}", r.client_id), Some(&r.token)).await;
    assert_eq!(nc.status, 200);
    assert!(nc.body["data"]["invoice"]["clientCustomerId"].is_null());
    let all_pay = app.get(&format!("{base}/payment-history/{}", r.client_id), Some(&r.token)).await;
    assert_eq!(all_pay.body["data"]["analytics"]["paymentSummary"]["totalAmountPaid"], 32.5);
    assert_eq!(all_pay.body["data"]["payments"].as_array().unwrap().len(), 3);
    // bad filters and paging are 400s, foreign ids 404 or 403
    app.get(&format!("{base}/invoices/{}?limit=abc", r.client_id), Some(&r.token)).await.assert_envelope(400);
    app.get(&format!("{base}/invoices/{}?offset=-1", r.client_id), Some(&r.token)).await.assert_envelope(400);
    app.get(&format!("{base}/invoices/{}?from=yesterday", r.client_id), Some(&r.token)).await.assert_envelope(400);
    app.get(&format!("{base}/invoices/{}?from=2030-01-02&to=2030-01-01", r.client_id), Some(&r.token))
        .await
        .assert_envelope(400);
    let future = app.get(&format!("{base}/invoices/{}?from=2999-01-01", r.client_id), Some(&r.token)).await;
    assert_eq!(future.body["invoices"].as_array().unwrap().len(), 0);
    app.get(&format!("{base}/invoices/{}", other.client_id), Some(&r.token)).await.assert_envelope(403);
    app.get(&format!("{base}/payment-history/{}/{part_id}", other.client_id), Some(&other.token))
        .await
        .assert_envelope(404);
    app.get(&format!("{base}/invoice-history/{}/{cust_id}", other.client_id), Some(&other.token))
        .await
        .assert_envelope(404);
}

// ---------- issue 12, section 0: what the current app sends keeps working ----------

/// An item created through B5 without `stock` (stock 0), as most small shops do.
async fn unstocked_item(app: &TestApp, r: &Registered, name: &str, price: Value) -> String {
    let res = app
        .post("/api/business/items", Some(&r.token), json!({ "clientId": r.client_id, "name": name, "price": price }))
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["item"]["stock"], 0);
    res.body["item"]["_id"].as_str().unwrap().to_string()
}

/// A new shop allows negative stock: an item never stocked sells, the answer lists the
/// lines that went below zero (and only those), and the stock views show the negative count.
#[tokio::test]
async fn a_new_shop_sells_below_zero_stock_and_the_answer_lists_the_lines() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let profile = app.get(&format!("/api/client/{}", r.client_id), Some(&r.token)).await;
    assert_eq!(profile.body["client"]["clientSettings"]["billing"]["allowNegativeStock"], true, "{}", profile.body);
    let bare = unstocked_item(&app, &r, "Wiper Blade", json!(120)).await;
    let stocked = seed_item(&app, &r.client_id, "Horn", 50000, 10).await;
    let res = sell(
        &app,
        &r,
        json!([{ "productId": bare, "quantity": 2 }, { "productId": stocked, "quantity": 3 }]),
        json!(0),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(
        res.body["stockWarnings"],
        json!([{ "productId": bare, "itemName": "Wiper Blade", "quantity": 2, "stock": -2 }]),
        "{}",
        res.body
    );
    assert_eq!(app.stock_of(&bare).await, -2);
    assert_eq!(app.stock_of(&stocked).await, 7);
    // a sale that leaves every line at or above zero has no warnings
    let ok = sell(&app, &r, json!([{ "productId": stocked, "quantity": 7 }]), json!(0)).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.body["stockWarnings"], json!([]));
    // the stock views show it
    let list = app.get(&format!("/api/business/items/{}", r.client_id), Some(&r.token)).await;
    let row = list.body["items"].as_array().unwrap().iter().find(|i| i["_id"] == bare.as_str()).unwrap().clone();
    assert_eq!(row["stock"], -2, "{row}");
    let report = app.get("/api/dashboard/reports/stock", Some(&r.token)).await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(report.body["outOfStockCount"], 2, "{}", report.body);
}

/// The stock of a sale in a shop that allows negative stock moves in one `update_many`
/// (`catalog::stock::move_many`): an item on two lines takes both, each line keeps its own
/// stock movement, and the other items move by their own quantity.
#[tokio::test]
async fn one_sale_moves_every_line_and_an_item_on_two_lines_takes_both() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let a = seed_item(&app, &r.client_id, "Clutch plate", 80000, 10).await;
    let b = seed_item(&app, &r.client_id, "Brake shoe", 30000, 4).await;
    let lines = json!([{ "productId": a, "quantity": 2 }, { "productId": b, "quantity": 5 }, { "productId": a, "quantity": 3 }]);
    let res = sell(&app, &r, lines, json!(0)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(app.stock_of(&a).await, 5, "10 - 2 - 3");
    assert_eq!(app.stock_of(&b).await, -1, "4 - 5");
    assert_eq!(
        res.body["stockWarnings"],
        json!([{ "productId": b, "itemName": "Brake shoe", "quantity": 5, "stock": -1 }])
    );
    let a_id = ObjectId::parse_str(&a).unwrap();
    let deltas: Vec<i64> = app
        .db
        .collection::<Document>("stockmovements")
        .find(doc! { "itemId": a_id, "reason": "sale" })
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .iter()
        .map(|m| m.get_i64("delta").unwrap())
        .collect();
    let mut sorted = deltas.clone();
    sorted.sort();
    assert_eq!(sorted, vec![-3, -2], "one movement per line: {deltas:?}");
}

/// A new cart holding one unit of `item`.
async fn cart_with(app: &TestApp, r: &Registered, item: &str) -> String {
    let c = app.post("/api/business/carts", Some(&r.token), json!({})).await;
    let id = c.body["cart"]["_id"].as_str().unwrap().to_string();
    let add = app
        .post("/api/business/carts/add-item", Some(&r.token), json!({ "cartId": id, "itemId": item, "quantity": 1 }))
        .await;
    assert_eq!(add.status, 200, "{}", add.body);
    id
}

/// Every online sale path (cart, product list, incomplete sale from products and from a
/// cart) takes stock below zero with warnings by default, and refuses with 409 nothing written
/// in a strict shop.
#[tokio::test]
async fn every_online_sale_path_warns_by_default_and_refuses_in_a_strict_shop() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = unstocked_item(&app, &r, "Fuse", json!(10)).await;
    for strict in [false, true] {
        if strict {
            set_billing(&app, &r, json!({ "allowNegativeStock": false })).await;
        }
        let paths: Vec<(&str, Value)> = vec![
            ("/api/business/invoices/generate", json!({ "cartId": cart_with(&app, &r, &item).await })),
            (
                "/api/business/invoices/generatewithproducts",
                json!({ "products": [{ "productId": item, "quantity": 1 }] }),
            ),
            ("/api/business/invoices/incomplete-sale", json!({ "products": [{ "productId": item, "quantity": 1 }] })),
            ("/api/business/invoices/incomplete-sale", json!({ "cartId": cart_with(&app, &r, &item).await })),
        ];
        for (path, body) in paths {
            let before = app.stock_of(&item).await;
            let invoices = app.count("invoices", doc! {}).await;
            let res = app.post(path, Some(&r.token), body.clone()).await;
            if strict {
                res.assert_envelope(409);
                assert_eq!(res.code(), "INSUFFICIENT_STOCK", "{path}");
                assert_eq!(app.stock_of(&item).await, before, "{path}: nothing moved");
                assert_eq!(app.count("invoices", doc! {}).await, invoices, "{path}: nothing written");
            } else {
                assert_eq!(res.status, 201, "{path}: {}", res.body);
                assert_eq!(app.stock_of(&item).await, before - 1, "{path}");
                assert_eq!(
                    res.body["stockWarnings"],
                    json!([{ "productId": item, "itemName": "Fuse", "quantity": 1, "stock": before - 1 }]),
                    "{path}"
                );
            }
        }
    }
    assert_eq!(app.stock_of(&item).await, -4);
}

/// An idempotent retry of a sale gets the same answer, warnings included.
#[tokio::test]
async fn a_replayed_sale_answers_the_same_stock_warnings() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = unstocked_item(&app, &r, "Clamp", json!(5)).await;
    let body = json!({ "products": [{ "productId": item, "quantity": 3 }] });
    let path = "/api/business/invoices/generatewithproducts";
    let first = crate::helpers::post_keyed(&app.http, &app.base, path, &r.token, "k-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["stockWarnings"][0]["stock"], -3);
    let again = crate::helpers::post_keyed(&app.http, &app.base, path, &r.token, "k-1", &body).await;
    assert_eq!(again.body, first.body);
    assert_eq!(app.stock_of(&item).await, -3);
}

/// Migration 0008 gives shops that never set the flag the new default, and leaves a shop
/// that chose strict stock alone.
#[tokio::test]
async fn migration_0008_defaults_allow_negative_stock_only_where_unset() {
    let app = TestApp::spawn().await;
    let old = app.register(&phone()).await;
    let strict = app.register(&phone()).await;
    set_billing(&app, &strict, json!({ "allowNegativeStock": false })).await;
    let clients = app.db.collection::<bson::Document>("clients");
    // a shop stored before the flag existed
    let old_id = ObjectId::parse_str(&old.client_id).unwrap();
    clients
        .update_one(doc! { "_id": old_id }, doc! { "$unset": { "clientSettings.billing.allowNegativeStock": "" } })
        .await
        .unwrap();
    app.db.collection::<bson::Document>("_migrations").delete_one(doc! { "_id": 8 }).await.unwrap();
    let applied = viveka::db::migrations::run(&app.db).await.unwrap();
    assert_eq!(applied, vec!["0008_compat"]);
    let flag = |d: bson::Document| {
        d.get_document("clientSettings")
            .unwrap()
            .get_document("billing")
            .unwrap()
            .get_bool("allowNegativeStock")
            .unwrap()
    };
    assert!(flag(clients.find_one(doc! { "_id": old_id }).await.unwrap().unwrap()));
    let strict_id = ObjectId::parse_str(&strict.client_id).unwrap();
    assert!(!flag(clients.find_one(doc! { "_id": strict_id }).await.unwrap().unwrap()));
}

/// B20 honours the price the customer was charged (the app's `costPerUnit`): 2 x Rs 500 of
/// an item whose catalog price is Rs 120, `totalAmount` 1000, is billed 1000 with the
/// override recorded beside the catalog price; a line without `costPerUnit` takes the catalog
/// price.
#[tokio::test]
async fn generatewithproducts_bills_the_price_the_customer_was_charged() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = seed_item(&app, &r.client_id, "Brake Shoe", 12000, 100).await;
    let res = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "clientId": r.client_id, "products": [{ "productId": item, "itemName": "Brake Shoe", "quantity": 2, "costPerUnit": 500 }],
                    "totalAmount": 1000, "paidAmount": 1000 }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let inv = &res.body["invoice"];
    assert_eq!(inv["totalAmount"], 1000);
    assert_eq!(inv["subtotal"], 1000);
    assert_eq!(inv["status"], "Paid");
    assert_eq!(
        (&inv["products"][0]["costPerUnit"], &inv["products"][0]["lineTotal"]),
        (&json!(500), &json!(1000)),
        "{inv}"
    );
    assert_eq!(inv["products"][0]["priceOverridden"], true);
    assert_eq!(inv["products"][0]["catalogPrice"], 120);
    let iid = ObjectId::parse_str(inv["_id"].as_str().unwrap()).unwrap();
    let stored = app.db.collection::<bson::Document>("invoices").find_one(doc! { "_id": iid }).await.unwrap().unwrap();
    let line = stored.get_array("products").unwrap()[0].as_document().unwrap().clone();
    assert_eq!((line.get_i64("costPerUnit").unwrap(), line.get_i64("catalogPrice").unwrap()), (50000, 12000));
    // without costPerUnit: the catalog price, not an override
    let res = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "products": [{ "productId": item, "quantity": 2 }], "totalAmount": 240 }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["invoice"]["products"][0]["costPerUnit"], 120);
    assert_eq!(res.body["invoice"]["products"][0]["priceOverridden"], false);
    // a costPerUnit equal to the catalog price is not an override; a total that disagrees
    // with the charged prices is still refused
    let res = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "products": [{ "productId": item, "quantity": 1, "costPerUnit": 120 }] }),
        )
        .await;
    assert_eq!(res.body["invoice"]["products"][0]["priceOverridden"], false, "{}", res.body);
    let res = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "products": [{ "productId": item, "quantity": 2, "costPerUnit": 500 }], "totalAmount": 240 }),
        )
        .await;
    res.assert_envelope(400);
    assert!(res.errors().contains("totalAmount"), "{}", res.body);
}

// ---------- issue 12, sections 0 and 6: the analytics keys the app reads (B28-B32) ----------

/// An invoice of `customer` straight into the database (amounts in paise).
async fn past_invoice(
    app: &TestApp,
    client: ObjectId,
    customer: ObjectId,
    total: i64,
    paid: i64,
    generated: bson::DateTime,
) -> ObjectId {
    use viveka::billing::model::{status_for, InvoiceDoc};
    let finalized = paid >= total;
    let id = ObjectId::new();
    let inv = InvoiceDoc {
        id,
        client_id: client,
        client_customer_id: Some(customer),
        client_customer_name: "Customer".into(),
        client_customer_phone: String::new(),
        invoice_number: Some(format!("T/{}", id.to_hex())),
        financial_year: None,
        seq: None,
        kind: "invoice".into(),
        invoice_date: viveka::time::ist_date_string(generated),
        due_date: "2026-12-31".into(),
        subtotal: Paise::new(total),
        total_tax: Paise::new(0),
        total_discount: Paise::new(0),
        total_amount: Paise::new(total),
        paid_amount: Paise::new(paid),
        previous_balance: Paise::new(0),
        status: status_for(Paise::new(paid), Paise::new(total)).to_string(),
        is_finalized: finalized,
        products: vec![],
        notes: String::new(),
        cart_id: None,
        source: "test".into(),
        generated_at: generated,
        finalized_at: None,
        device_ref: None,
        created_at: generated,
        updated_at: generated,
        version: 0,
        stock_warnings: vec![],
        billed_by: None,
        review_flags: vec![],
        approved_by: None,
        offline_bill_ref: None,
        device_series: None,
        series: None,
        gst: None,
        payment_method: None,
        tender: None,
        is_cancelled: false,
        cancellation: None,
        credited_amount: Paise::ZERO,
        refunded_amount: Paise::ZERO,
        device_time: None,
    };
    app.db.collection::<InvoiceDoc>("invoices").insert_one(&inv).await.unwrap();
    inv.id
}

async fn past_payment(
    app: &TestApp,
    client: ObjectId,
    invoice: ObjectId,
    amount: i64,
    method: &str,
    t: bson::DateTime,
) {
    let p = viveka::billing::model::PaymentDoc {
        id: ObjectId::new(),
        client_id: client,
        invoice_id: invoice,
        amount: Paise::new(amount),
        method: method.into(),
        note: String::new(),
        paid_at: t,
        created_at: t,
        updated_at: t,
        version: 0,
        recorded_by: None,
        reference: None,
        tendered: None,
        change: None,
        kind: None,
        credit_note_id: None,
        device_time: None,
    };
    app.db.collection::<viveka::billing::model::PaymentDoc>("payments").insert_one(&p).await.unwrap();
}

/// Hand-made history (rupees; T0 = 2026-01-10T06:00:00Z, d = days after T0):
///
/// | inv | customer | total | generated | payments                          | finalized | days to full |
/// |-----|----------|-------|-----------|-----------------------------------|-----------|--------------|
/// | J1  | C        | 1000  | T0        | 400 cash at T0, 600 upi at d3     | yes       | 3            |
/// | J2  | C        | 500   | d1        | 500 cash at d11                   | yes       | 10           |
/// | J3  | C        | 300   | d2        | 100 card at d2 + 1 h              | no        | -            |
/// | J4  | C        | 200   | d5        | none                              | no        | -            |
/// | J5  | D        | 50    | d6        | 50 cash at d6 + 12 h              | yes       | 0            |
/// | J6  | D        | 100   | T0        | 100 cash at d40                   | yes       | 40           |
///
/// B29 (C: J1-J4): averagePaymentTime = averageDaysToPayment = (3 + 10) / 2 = 6.5;
/// onTimePaymentRate = 1 (J1) / 2 = 0.5; partialPaymentFrequency = 2 (J1: two payments, J3:
/// one, not finalized) / 4 = 0.5; paymentMethodPreference = {card 1, cash 2, upi 1}.
/// B30 (all): (3 + 10 + 0 + 40) / 4 = 13.25; on time J1, J5: 2 / 4 = 0.5; partial 2 / 6 =
/// 0.3333; methods {card 1, cash 4, upi 1}.
#[tokio::test]
async fn invoice_and_payment_history_carry_every_key_the_app_reads() {
    use viveka::customer::model::CustomerDoc;
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let cid = ObjectId::parse_str(&r.client_id).unwrap();
    let t0 = bson::DateTime::parse_rfc3339_str("2026-01-10T06:00:00Z").unwrap();
    let d = |days: i64, hours: i64| {
        bson::DateTime::from_millis(t0.timestamp_millis() + days * 86_400_000 + hours * 3_600_000)
    };
    let now = bson::DateTime::now();
    let c = CustomerDoc::new(cid, "9876500001", "Meena", now);
    let dd = CustomerDoc::new(cid, "9876500002", "Ravi", now);
    app.db.collection::<CustomerDoc>("clientcustomers").insert_many([&c, &dd]).await.unwrap();
    let j1 = past_invoice(&app, cid, c.id, 100000, 100000, d(0, 0)).await;
    past_payment(&app, cid, j1, 40000, "cash", d(0, 0)).await;
    past_payment(&app, cid, j1, 60000, "upi", d(3, 0)).await;
    let j2 = past_invoice(&app, cid, c.id, 50000, 50000, d(1, 0)).await;
    past_payment(&app, cid, j2, 50000, "cash", d(11, 0)).await;
    let j3 = past_invoice(&app, cid, c.id, 30000, 10000, d(2, 0)).await;
    past_payment(&app, cid, j3, 10000, "card", d(2, 1)).await;
    let j4 = past_invoice(&app, cid, c.id, 20000, 0, d(5, 0)).await;
    let j5 = past_invoice(&app, cid, dd.id, 5000, 5000, d(6, 0)).await;
    past_payment(&app, cid, j5, 5000, "cash", d(6, 12)).await;
    let j6 = past_invoice(&app, cid, dd.id, 10000, 10000, d(0, 0)).await;
    past_payment(&app, cid, j6, 10000, "cash", d(40, 0)).await;
    let base = "/api/business";

    // B29: rows and paymentBehavior
    let h = app.get(&format!("{base}/invoice-history/{}/{}", r.client_id, c.id.to_hex()), Some(&r.token)).await;
    assert_eq!(h.status, 200, "{}", h.body);
    let data = &h.body["data"];
    let row = |id: ObjectId| {
        data["invoices"].as_array().unwrap().iter().find(|i| i["_id"] == id.to_hex().as_str()).unwrap().clone()
    };
    let iso = |t: bson::DateTime| viveka::wire::iso(t);
    let r1 = row(j1);
    assert_eq!(
        (&r1["paymentStatus"], &r1["paymentCount"], &r1["firstPaymentDate"], &r1["lastPaymentDate"]),
        (&json!("paid"), &json!(2), &json!(iso(d(0, 0))), &json!(iso(d(3, 0)))),
        "{r1}"
    );
    assert_eq!(r1["daysToFullPayment"], 3);
    assert_eq!(r1["pendingAmount"], 0);
    assert_eq!(row(j2)["daysToFullPayment"], 10);
    let r3 = row(j3);
    assert_eq!(
        (&r3["paymentStatus"], &r3["paymentCount"], &r3["pendingAmount"]),
        (&json!("partial"), &json!(1), &json!(200))
    );
    assert!(r3["daysToFullPayment"].is_null());
    let r4 = row(j4);
    assert_eq!((&r4["paymentStatus"], &r4["paymentCount"]), (&json!("unpaid"), &json!(0)));
    assert!(r4["firstPaymentDate"].is_null() && r4["lastPaymentDate"].is_null() && r4["daysToFullPayment"].is_null());
    let a = &data["analytics"];
    assert_eq!(
        a["paymentBehavior"],
        json!({ "onTimePaymentRate": 0.5, "averageDaysToPayment": 6.5, "partialPaymentFrequency": 0.5,
                "paymentMethodPreference": { "card": 1, "cash": 2, "upi": 1 } }),
        "{a}"
    );
    assert_eq!(a["summary"]["averagePaymentTime"], 6.5);
    assert_eq!(a["summary"]["customerLifetimeValue"], 2000);
    for (section, keys) in [
        (
            "summary",
            &[
                "totalInvoices",
                "finalizedInvoices",
                "pendingInvoices",
                "totalRevenue",
                "totalPaid",
                "totalPending",
                "averageInvoiceValue",
                "averagePaymentTime",
                "customerLifetimeValue",
            ][..],
        ),
        (
            "purchasePatterns",
            &["frequentlyPurchasedItems", "preferredItemGroups", "averageItemsPerInvoice", "averageQuantityPerInvoice"]
                [..],
        ),
        (
            "timeline",
            &[
                "firstInvoiceDate",
                "lastInvoiceDate",
                "customerTenure",
                "averageDaysBetweenPurchases",
                "monthlyPurchaseFrequency",
            ][..],
        ),
        ("trends", &["monthlyRevenue", "revenueGrowthRate", "purchaseFrequencyTrend"][..]),
    ] {
        for k in keys {
            assert!(a[section].get(*k).is_some(), "B29 analytics.{section}.{k} missing: {a}");
        }
    }
    for k in ["_id", "name", "phoneNumber", "emailId", "address", "gstNo"] {
        assert!(data["clientCustomer"].get(k).is_some(), "clientCustomer.{k}");
    }
    for k in ["total", "limit", "offset", "hasMore"] {
        assert!(data["pagination"].get(k).is_some(), "pagination.{k}");
    }

    // B30: over every invoice, same row keys
    let h = app.get(&format!("{base}/invoice-history/{}", r.client_id), Some(&r.token)).await;
    let a = &h.body["data"]["analytics"];
    assert_eq!(
        a["paymentBehavior"],
        json!({ "onTimePaymentRate": 0.5, "averageDaysToPayment": 13.25, "partialPaymentFrequency": 0.3333,
                "paymentMethodPreference": { "card": 1, "cash": 4, "upi": 1 } }),
        "{a}"
    );
    assert_eq!(a["summary"]["averagePaymentTime"], 13.25);
    for (section, k) in [
        ("summary", "totalBusinessValue"),
        ("timeline", "businessTenure"),
        ("timeline", "averageDaysBetweenInvoices"),
        ("timeline", "monthlyInvoiceFrequency"),
        ("trends", "invoiceFrequencyTrend"),
    ] {
        assert!(a[section].get(k).is_some(), "B30 analytics.{section}.{k} missing: {a}");
    }
    let rows = h.body["data"]["invoices"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    let r6 = rows.iter().find(|i| i["_id"] == j6.to_hex().as_str()).unwrap();
    assert_eq!((&r6["paymentStatus"], &r6["daysToFullPayment"]), (&json!("paid"), &json!(40)));

    // B31: rows, timeline, pattern and insights
    let p = app.get(&format!("{base}/payment-history/{}/{}", r.client_id, j1.to_hex()), Some(&r.token)).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let pd = &p.body["data"];
    let pays = pd["payments"].as_array().unwrap();
    assert_eq!(
        pays.iter()
            .map(|x| (
                x["paymentNumber"].clone(),
                x["cumulativeAmount"].clone(),
                x["remainingBalance"].clone(),
                x["percentagePaid"].clone(),
                x["daysFromInvoice"].clone()
            ))
            .collect::<Vec<_>>(),
        vec![
            (json!(1), json!(400), json!(600), json!(40.0), json!(0)),
            (json!(2), json!(1000), json!(0), json!(100.0), json!(3))
        ]
    );
    let an = &pd["analytics"];
    assert_eq!(an["paymentTimeline"]["averageDaysBetweenPayments"], 3.0);
    assert_eq!(an["paymentTimeline"]["daysToFirstPayment"], 0);
    assert_eq!(an["paymentPattern"]["largestPayment"], json!({ "amount": 600, "method": "upi", "date": iso(d(3, 0)) }));
    assert_eq!(
        an["paymentPattern"]["smallestPayment"],
        json!({ "amount": 400, "method": "cash", "date": iso(d(0, 0)) })
    );
    assert_eq!(an["paymentPattern"]["initialPaymentPercentage"], 40.0);
    assert_eq!((&an["insights"]["paymentBehavior"], &an["insights"]["creditRisk"]), (&json!("prompt"), &json!("low")));
    for k in ["paymentSummary", "paymentTimeline", "paymentMethodBreakdown", "paymentPattern", "milestones", "insights"]
    {
        assert!(an.get(k).is_some(), "B31 analytics.{k}");
    }
    let insights = |inv: ObjectId| {
        let app = &app;
        let (token, client) = (r.token.clone(), r.client_id.clone());
        async move {
            let p = app.get(&format!("/api/business/payment-history/{client}/{}", inv.to_hex()), Some(&token)).await;
            let i = p.body["data"]["analytics"]["insights"].clone();
            assert!(
                i["recommendations"].as_array().is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string)),
                "{i}"
            );
            (i["paymentBehavior"].as_str().unwrap().to_string(), i["creditRisk"].as_str().unwrap().to_string())
        }
    };
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(insights(j2).await, pair("delayed", "medium"), "paid in full after 10 days");
    assert_eq!(insights(j3).await, pair("partial", "high"), "part-paid, older than 30 days");
    assert_eq!(insights(j4).await, pair("overdue", "high"), "nothing paid in over 30 days");
    assert_eq!(insights(j5).await, pair("prompt", "low"));
    assert_eq!(insights(j6).await, pair("overdue", "high"), "paid in full only after 40 days");

    // B32: per-invoice numbers and running totals over all of the invoice's payments, not
    // only the page (paidAt order: J1 400, J3 100, J1 600, J5 50, J2 500, J6 100)
    let all = app.get(&format!("{base}/payment-history/{}?limit=2&offset=1", r.client_id), Some(&r.token)).await;
    assert_eq!(all.status, 200, "{}", all.body);
    let rows = all.body["data"]["payments"].as_array().unwrap();
    assert_eq!(
        rows.iter()
            .map(|x| (
                x["invoiceId"].clone(),
                x["paymentNumber"].clone(),
                x["cumulativeAmount"].clone(),
                x["remainingBalance"].clone(),
                x["daysFromInvoice"].clone()
            ))
            .collect::<Vec<_>>(),
        vec![
            (json!(j3.to_hex()), json!(1), json!(100), json!(200), json!(0)),
            (json!(j1.to_hex()), json!(2), json!(1000), json!(0), json!(3))
        ],
        "{}",
        all.body
    );
    let an = &all.body["data"]["analytics"];
    let recs = an["insights"]["recommendations"].as_array().unwrap();
    assert!(recs.iter().any(|s| s.as_str().unwrap().starts_with("1 invoice(s) have no payment yet")), "{recs:?}");
    assert!(recs.iter().any(|s| s.as_str().unwrap().starts_with("1 invoice(s) are part-paid")), "{recs:?}");
    for k in ["paymentSummary", "paymentTimeline", "paymentMethodBreakdown", "trends", "insights"] {
        assert!(an.get(k).is_some(), "B32 analytics.{k}");
    }

    // a fresh unpaid sale: no payment yet, risk still to be assessed
    let item = seed_item(&app, &r.client_id, "Chain", 10000, 5).await;
    let fresh = sell(&app, &r, json!([{ "productId": item, "quantity": 1 }]), json!(0)).await;
    let fresh = ObjectId::parse_str(fresh.body["invoice"]["_id"].as_str().unwrap()).unwrap();
    assert_eq!(insights(fresh).await, pair("no_payment", "pending_assessment"));
}

/// Every key ENDPOINTS.md defines for B28-B32 is in the answer (the app reads them; a key
/// added to the contract list below and missing from the code fails here). `a.b[0].c`: `[0]`
/// is the first element of an array.
#[tokio::test]
async fn analytics_answers_carry_every_key_of_the_v1_contract() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = seed_item(&app, &r.client_id, "Tyre", 150000, 10).await;
    let sale = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 500, "clientCustomerPhone": phone(), "clientCustomerName": "Meena" }),
        )
        .await;
    assert_eq!(sale.status, 201, "{}", sale.body);
    let inv = sale.body["invoice"]["_id"].as_str().unwrap().to_string();
    let cust = sale.body["invoice"]["clientCustomerId"].as_str().unwrap().to_string();
    let pay = app
        .post("/api/business/invoices/pay", Some(&r.token), json!({ "invoiceId": inv, "amount": 200, "method": "upi" }))
        .await;
    assert_eq!(pay.status, 200, "{}", pay.body);

    fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
        path.split('.').try_fold(v, |v, seg| match seg.strip_suffix("[0]") {
            Some(k) => v.get(k)?.get(0),
            None => v.get(seg),
        })
    }
    /// `p.{a b}` -> `p.a`, `p.b`; other words as they are; every path prefixed with `prefix`.
    fn expand(prefix: &str, spec: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = spec.trim();
        while !rest.is_empty() {
            let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            match rest.find('{').filter(|b| *b < word_end) {
                Some(b) => {
                    let close = b + rest[b..].find('}').unwrap();
                    out.extend(rest[b + 1..close].split_whitespace().map(|k| format!("{prefix}{}{k}", &rest[..b])));
                    rest = rest[close + 1..].trim_start();
                }
                None => {
                    out.push(format!("{prefix}{}", &rest[..word_end]));
                    rest = rest[word_end..].trim_start();
                }
            }
        }
        out
    }
    let common29 = "analytics.summary.{totalInvoices finalizedInvoices pendingInvoices totalRevenue totalPaid totalPending averageInvoiceValue averagePaymentTime}
        analytics.paymentBehavior.{onTimePaymentRate averageDaysToPayment partialPaymentFrequency paymentMethodPreference}
        analytics.purchasePatterns.{frequentlyPurchasedItems preferredItemGroups averageItemsPerInvoice averageQuantityPerInvoice}
        analytics.purchasePatterns.frequentlyPurchasedItems[0].{itemName itemGroup totalQuantity totalRevenue purchaseCount}
        analytics.purchasePatterns.preferredItemGroups[0].{groupName invoiceCount totalRevenue}
        analytics.timeline.{firstInvoiceDate lastInvoiceDate} analytics.trends.{monthlyRevenue revenueGrowthRate}
        analytics.trends.monthlyRevenue[0].{month revenue invoiceCount}
        invoices[0].{pendingAmount paymentStatus paymentCount firstPaymentDate lastPaymentDate daysToFullPayment}
        pagination.{total limit offset hasMore}";
    let pay_row = "{_id clientId invoiceId amount method note paymentNumber cumulativeAmount remainingBalance percentagePaid daysFromInvoice createdAt updatedAt}";
    let contract: Vec<(String, Vec<String>)> = vec![
        (
            format!("/api/business/payment-report/{}", r.client_id),
            expand("", "report summary.{totalInvoices totalAmount totalPaid totalPending}"),
        ),
        (
            format!("/api/business/invoice-history/{}/{cust}", r.client_id),
            [
                expand("data.", common29),
                expand(
                    "data.",
                    "clientCustomer.{_id name phoneNumber emailId address gstNo} analytics.summary.customerLifetimeValue
                     analytics.timeline.{customerTenure averageDaysBetweenPurchases monthlyPurchaseFrequency} analytics.trends.purchaseFrequencyTrend",
                ),
            ]
            .concat(),
        ),
        (
            format!("/api/business/invoice-history/{}", r.client_id),
            [
                expand("data.", common29),
                expand(
                    "data.",
                    "analytics.summary.totalBusinessValue analytics.timeline.{businessTenure averageDaysBetweenInvoices monthlyInvoiceFrequency}
                     analytics.trends.invoiceFrequencyTrend",
                ),
            ]
            .concat(),
        ),
        (
            format!("/api/business/payment-history/{}/{inv}", r.client_id),
            [
                expand("data.payments[0].", pay_row),
                expand(
                    "data.",
                    "invoice.clientCustomerId.{_id name phoneNumber}
                     analytics.paymentSummary.{totalPayments totalAmountPaid totalAmountDue remainingBalance paymentCompletionRate isFullyPaid isPending}
                     analytics.paymentTimeline.{invoiceGeneratedDate firstPaymentDate lastPaymentDate finalizedDate daysToFirstPayment daysToFullPayment totalPaymentDuration averageDaysBetweenPayments}
                     analytics.paymentMethodBreakdown.upi.{count totalAmount percentage}
                     analytics.paymentPattern.{averagePaymentSize largestPayment smallestPayment initialPaymentPercentage paymentFrequency isPartialPayment}
                     analytics.paymentPattern.largestPayment.{amount method date}
                     analytics.milestones[0].{date event amount balance} analytics.insights.{paymentBehavior creditRisk recommendations}",
                ),
            ]
            .concat(),
        ),
        (
            format!("/api/business/payment-history/{}", r.client_id),
            [
                expand("data.payments[0].", pay_row),
                expand(
                    "data.",
                    "payments[0].invoice.{invoiceNumber totalAmount clientCustomer}
                     analytics.paymentSummary.{totalPayments totalAmountPaid totalAmountDue remainingBalance paymentCompletionRate totalInvoices fullyPaidInvoices partiallyPaidInvoices unpaidInvoices}
                     analytics.paymentTimeline.{firstPaymentDate lastPaymentDate totalPaymentDuration averagePaymentSize}
                     analytics.paymentMethodBreakdown.cash.{count totalAmount percentage}
                     analytics.trends.monthlyPayments[0].{month totalAmount paymentCount} analytics.insights.recommendations",
                ),
            ]
            .concat(),
        ),
    ];
    let total: usize = contract.iter().map(|c| c.1.len()).sum();
    assert!(total > 150, "the key list expanded to {total} paths only");
    let mut missing = Vec::new();
    for (url, paths) in &contract {
        let res = app.get(url, Some(&r.token)).await;
        assert_eq!(res.status, 200, "{url}: {}", res.body);
        for p in paths {
            if get(&res.body, p).is_none() {
                missing.push(format!("{url}: {p}"));
            }
        }
    }
    assert!(missing.is_empty(), "keys of ENDPOINTS.md B28-B32 missing:\n{}", missing.join("\n"));
}

/// Every shop-wide list whose OpenAPI entry documents the `clientCustomerId` /
/// `clientCustomerPhone` query filters (B21, B24, B25, B28, B30, B32) honours them: only the
/// named customer's rows come back, an unknown id matches nothing, a malformed one is a 400.
#[tokio::test]
async fn documented_customer_query_filters_are_honoured_by_every_list() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = seed_item(&app, &r.client_id, "Pen", 1000, 100).await;
    let (meena, ravi) = (phone(), phone());
    let mut meena_id = String::new();
    for (cust, paid) in [(&meena, 5), (&meena, 0), (&ravi, 3)] {
        let res = app
            .post(
                "/api/business/invoices/generatewithproducts",
                Some(&r.token),
                json!({ "products": [{ "productId": item, "quantity": 1 }], "paidAmount": paid, "clientCustomerPhone": cust }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        if cust == &meena {
            meena_id = res.body["invoice"]["clientCustomerId"].as_str().unwrap_or_default().to_string();
            if meena_id.is_empty() {
                meena_id = res.body["invoice"]["clientCustomerId"]["_id"].as_str().unwrap_or_default().to_string();
            }
        }
    }
    assert!(!meena_id.is_empty());
    let c = &r.client_id;
    // (route, how many rows Meena has there, where the rows are)
    let lists: [(String, usize, &[&str]); 6] = [
        (format!("/api/business/invoices/{c}"), 2, &["invoices"]),
        (format!("/api/business/purchase-history/{c}"), 0, &["purchaseHistory"]),
        (format!("/api/business/pending-invoices/{c}"), 2, &["pendingInvoices"]),
        (format!("/api/business/payment-report/{c}"), 2, &["report"]),
        (format!("/api/business/invoice-history/{c}"), 2, &["data", "invoices"]),
        (format!("/api/business/payment-history/{c}"), 1, &["data", "payments"]),
    ];
    let rows = |body: &Value, at: &[&str]| {
        let mut v = body;
        for k in at {
            v = &v[*k];
        }
        v.as_array().map(Vec::len)
    };
    for (route, want, at) in &lists {
        for q in [format!("clientCustomerId={meena_id}"), format!("clientCustomerPhone=%2B91{meena}")] {
            let res = app.get(&format!("{route}?{q}"), Some(&r.token)).await;
            assert_eq!(res.status, 200, "{route}?{q}: {}", res.body);
            assert_eq!(rows(&res.body, at), Some(*want), "{route}?{q}: {}", res.body);
        }
        let all = app.get(route, Some(&r.token)).await;
        let unfiltered = rows(&all.body, at).unwrap_or_default();
        assert!(unfiltered > *want || (unfiltered == 0 && *want == 0), "{route}: the filter narrows ({unfiltered})");
        let none = app.get(&format!("{route}?clientCustomerId={}", ObjectId::new().to_hex()), Some(&r.token)).await;
        assert_eq!(rows(&none.body, at), Some(0), "{route}: an unknown id matches nothing: {}", none.body);
        app.get(&format!("{route}?clientCustomerId=nope"), Some(&r.token)).await.assert_envelope(400);
    }
}

/// The change-log rows (collection, document) of a shop, in sequence order.
async fn logged(app: &TestApp, client: ObjectId) -> Vec<(String, ObjectId, i64)> {
    use futures::TryStreamExt;
    let rows: Vec<bson::Document> = app
        .db
        .collection::<bson::Document>("syncchanges")
        .find(doc! { "clientId": client })
        .sort(doc! { "seq": 1 })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    rows.iter()
        .map(|r| (r.get_str("coll").unwrap().to_string(), r.get_object_id("docId").unwrap(), r.get_i64("seq").unwrap()))
        .collect()
}

/// Issue 14, one write path: an online sale and an online payment append the change-log rows
/// of every synced document they write (invoice, payment, items, customer) inside their own
/// transaction, so the pull sees them by sequence and never by a clock; a refused sale
/// writes none. (The same plan's rows as v1 and v2 write: `SalePlan::changes`.)
#[tokio::test]
async fn online_sales_and_payments_log_every_synced_document_they_write() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let cid = ObjectId::parse_str(&r.client_id).unwrap();
    let bulb = seed_item(&app, &r.client_id, "Bulb", 5000, 10).await;
    let fan = seed_item(&app, &r.client_id, "Fan", 100000, 1).await;
    let sale = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({
                "clientId": r.client_id, "products": [{ "productId": bulb, "quantity": 2 }, { "productId": fan, "quantity": 1 }],
                "paidAmount": 40, "clientCustomerPhone": "9876512345", "clientCustomerName": "Asha",
            }),
        )
        .await;
    assert_eq!(sale.status, 201, "{}", sale.body);
    let oid = |v: &Value| ObjectId::parse_str(v.as_str().unwrap()).unwrap();
    let invoice = oid(&sale.body["invoice"]["_id"]);
    let customer = oid(&sale.body["invoice"]["clientCustomerId"]);
    let first_payment = app
        .db
        .collection::<bson::Document>("payments")
        .find_one(doc! { "invoiceId": invoice })
        .await
        .unwrap()
        .unwrap()
        .get_object_id("_id")
        .unwrap();
    let after_sale = logged(&app, cid).await;
    let docs: HashSet<(String, ObjectId)> = after_sale.iter().map(|(c, d, _)| (c.clone(), *d)).collect();
    let want: HashSet<(String, ObjectId)> = [
        ("invoices", invoice),
        ("payments", first_payment),
        ("items", ObjectId::parse_str(&bulb).unwrap()),
        ("items", ObjectId::parse_str(&fan).unwrap()),
        ("clientcustomers", customer),
    ]
    .into_iter()
    .map(|(c, d)| (c.to_string(), d))
    .collect();
    assert_eq!(docs, want, "every synced document of the sale, once");

    // a refused sale (strict stock, the fan is sold out) logs nothing
    set_billing(&app, &r, json!({ "allowNegativeStock": false })).await;
    let refused = sell(&app, &r, json!([{ "productId": fan, "quantity": 1 }]), json!(0)).await;
    assert_eq!((refused.status.as_u16(), refused.code()), (409, "INSUFFICIENT_STOCK"), "{}", refused.body);
    assert_eq!(logged(&app, cid).await, after_sale);

    // the payment: its record, the invoice and the customer, after everything the sale logged
    let pay = app
        .post(
            "/api/business/invoices/pay",
            Some(&r.token),
            json!({ "clientId": r.client_id, "invoiceId": invoice.to_hex(), "amount": 10 }),
        )
        .await;
    assert_eq!(pay.status, 200, "{}", pay.body);
    let payment = oid(&pay.body["payment"]["_id"]);
    let last_seq = after_sale.iter().map(|r| r.2).max().unwrap();
    let newer: HashSet<(String, ObjectId)> =
        logged(&app, cid).await.into_iter().filter(|r| r.2 > last_seq).map(|(c, d, _)| (c, d)).collect();
    let want: HashSet<(String, ObjectId)> =
        [("payments", payment), ("invoices", invoice), ("clientcustomers", customer)]
            .into_iter()
            .map(|(c, d)| (c.to_string(), d))
            .collect();
    assert_eq!(newer, want);
}
