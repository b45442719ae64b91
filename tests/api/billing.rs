//! Carts, invoices, payments, stock and dues (issue 4), on the real replica set.

use std::collections::HashSet;

use bson::{doc, oid::ObjectId};
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
                    { "productId": a, "itemName": "ignored", "quantity": 3, "costPerUnit": 1 },
                    { "productId": b, "itemName": "ignored", "quantity": 7, "costPerUnit": 0.01 }
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
    assert_eq!(inv["products"][0]["costPerUnit"], 33.33, "catalog price, not the client's");
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
        json!({ "products": [{ "productId": item, "quantity": 1 }], "paymentMethod": "cheque" }),
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
