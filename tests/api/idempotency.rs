//! `X-Idempotency-Key` on sales and payments (issue 8): a retried checkout or payment is
//! applied once, on one instance or on two sharing the database.

use std::collections::HashSet;

use bson::{doc, oid::ObjectId, Document};
use serde_json::json;

use crate::{
    billing::seed_item,
    helpers::{phone, post_keyed, TestApp},
};

/// 20 copies of one checkout with one key, at once, spread over `bases`: every answer is
/// the stored first one (201, same invoice) or 409 (twin in flight), and exactly one sale,
/// one payment and one stock movement exist.
async fn twenty_identical_checkouts(app: &TestApp, bases: &[String]) {
    let r = app.register(&phone()).await;
    let item = seed_item(app, &r.client_id, "Clutch plate", 45000, 50).await;
    let key = uuid::Uuid::new_v4().to_string();
    let body = json!({ "products": [{ "productId": item, "quantity": 3 }], "paidAmount": 1000, "notes": "idem" });
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (http, base, token, key, body) =
            (app.http.clone(), bases[i % bases.len()].clone(), r.token.clone(), key.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            post_keyed(&http, &base, "/api/business/invoices/generatewithproducts", &token, &key, &body).await
        }));
    }
    let mut numbers = HashSet::new();
    let (mut created, mut replayed, mut busy) = (0, 0, 0);
    for t in tasks {
        let res = t.await.unwrap();
        match res.status.as_u16() {
            201 => {
                numbers.insert(res.body["invoice"]["invoiceNumber"].as_str().expect("number").to_string());
                if res.headers.get("idempotent-replayed").is_some() {
                    replayed += 1;
                } else {
                    created += 1;
                }
            }
            409 => {
                res.assert_envelope(409);
                busy += 1;
            }
            other => panic!("unexpected {other}: {}", res.body),
        }
    }
    assert_eq!(created, 1, "one request did the sale ({replayed} replayed, {busy} busy)");
    assert_eq!(numbers.len(), 1, "every 201 carries the same invoice: {numbers:?}");
    // a retry now gets the stored answer, byte for byte the first one
    let again =
        post_keyed(&app.http, &bases[0], "/api/business/invoices/generatewithproducts", &r.token, &key, &body).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert!(numbers.contains(again.body["invoice"]["invoiceNumber"].as_str().unwrap()));
    let cid = ObjectId::parse_str(&r.client_id).unwrap();
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 1);
    assert_eq!(app.count("payments", doc! { "clientId": cid }).await, 1);
    assert_eq!(app.count("stockmovements", doc! { "clientId": cid, "reason": "sale" }).await, 1);
    assert_eq!(app.stock_of(&item).await, 47);
    assert_eq!(app.count("idempotencykeys", doc! { "clientId": cid, "key": &key }).await, 1);
}

#[tokio::test]
async fn twenty_concurrent_identical_checkouts_with_one_key_make_one_sale() {
    let app = TestApp::spawn().await;
    twenty_identical_checkouts(&app, std::slice::from_ref(&app.base)).await;
}

/// Part 5: the key holds across two API instances on one database (their in-process shop
/// queues are separate; the record's unique index in MongoDB decides).
#[tokio::test]
async fn one_checkout_key_sent_to_two_instances_at_once_makes_one_sale() {
    let app = TestApp::spawn().await;
    let second = app.second_instance().await;
    twenty_identical_checkouts(&app, &[app.base.clone(), second.base.clone()]).await;
}

#[tokio::test]
async fn same_key_other_body_is_422_and_another_shop_has_its_own_keys() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let b = app.register(&phone()).await;
    let item_a = seed_item(&app, &a.client_id, "Spark plug", 12000, 10).await;
    let item_b = seed_item(&app, &b.client_id, "Spark plug", 12000, 10).await;
    let key = "checkout-0001";
    let path = "/api/business/invoices/generatewithproducts";
    let body_a = json!({ "products": [{ "productId": item_a, "quantity": 1 }], "paidAmount": 120 });
    let first = post_keyed(&app.http, &app.base, path, &a.token, key, &body_a).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());

    // same key, another body: 422, nothing written
    let other = json!({ "products": [{ "productId": item_a, "quantity": 2 }], "paidAmount": 120 });
    let r = post_keyed(&app.http, &app.base, path, &a.token, key, &other).await;
    r.assert_envelope(422);
    // same key on another route is another request too
    let r = post_keyed(&app.http, &app.base, "/api/business/invoices/incomplete-sale", &a.token, key, &body_a).await;
    r.assert_envelope(422);
    let cid_a = ObjectId::parse_str(&a.client_id).unwrap();
    assert_eq!(app.count("invoices", doc! { "clientId": cid_a }).await, 1);
    assert_eq!(app.stock_of(&item_a).await, 9);

    // another shop with the same key: independent
    let body_b = json!({ "products": [{ "productId": item_b, "quantity": 4 }], "paidAmount": 0 });
    let rb = post_keyed(&app.http, &app.base, path, &b.token, key, &body_b).await;
    assert_eq!(rb.status, 201, "{}", rb.body);
    assert!(rb.headers.get("idempotent-replayed").is_none(), "not a replay of shop A's answer");
    assert_ne!(rb.body["invoice"]["_id"], first.body["invoice"]["_id"]);
    assert_eq!(rb.body["invoice"]["clientId"], json!(b.client_id));
    assert_eq!(app.stock_of(&item_b).await, 6);

    // a malformed key is refused before anything happens
    let r = post_keyed(&app.http, &app.base, path, &a.token, &"k".repeat(256), &body_a).await;
    r.assert_envelope(400);
    assert_eq!(app.count("invoices", doc! { "clientId": cid_a }).await, 1);
}

#[tokio::test]
async fn a_payment_retried_with_its_key_is_paid_once() {
    let app = TestApp::spawn().await;
    let second = app.second_instance().await;
    let r = app.register(&phone()).await;
    let item = seed_item(&app, &r.client_id, "Battery", 100000, 10).await;
    let inv = post_keyed(
        &app.http,
        &app.base,
        "/api/business/invoices/incomplete-sale",
        &r.token,
        "sale-1",
        &json!({ "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 200 }),
    )
    .await;
    assert_eq!(inv.status, 201, "{}", inv.body);
    assert!(inv.body["invoice"]["invoiceNumber"].is_null(), "incomplete: no number yet");
    let iid = inv.body["invoice"]["_id"].as_str().unwrap().to_string();

    // the payment that completes it, sent 10 times at once to two instances, then again
    let pay = json!({ "invoiceId": iid, "amount": 800, "method": "upi" });
    let mut tasks = Vec::new();
    for i in 0..10 {
        let base = if i % 2 == 0 { app.base.clone() } else { second.base.clone() };
        let (http, token, pay) = (app.http.clone(), r.token.clone(), pay.clone());
        tasks.push(tokio::spawn(async move {
            post_keyed(&http, &base, "/api/business/invoices/pay", &token, "pay-1", &pay).await
        }));
    }
    let mut payment_ids = HashSet::new();
    for t in tasks {
        let res = t.await.unwrap();
        match res.status.as_u16() {
            200 => {
                payment_ids.insert(res.body["payment"]["_id"].as_str().unwrap().to_string());
                assert_eq!(res.body["invoice"]["status"], "Paid");
            }
            409 => res.assert_envelope(409),
            other => panic!("unexpected {other}: {}", res.body),
        }
    }
    let again = post_keyed(&app.http, &app.base, "/api/business/invoices/pay", &r.token, "pay-1", &pay).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    payment_ids.insert(again.body["payment"]["_id"].as_str().unwrap().to_string());
    assert_eq!(payment_ids.len(), 1, "every 200 is the same payment");
    assert!(again.body["invoice"]["invoiceNumber"].as_str().unwrap().ends_with("00001"));

    let oid = ObjectId::parse_str(&iid).unwrap();
    let d: Document = app.db.collection("invoices").find_one(doc! { "_id": oid }).await.unwrap().unwrap();
    assert_eq!(d.get_i64("paidAmount").unwrap(), 100000);
    assert_eq!(app.count("payments", doc! { "invoiceId": oid }).await, 2, "the initial one and this one");
    // a new payment needs a new key: this one would overpay, so it is refused
    let extra = post_keyed(&app.http, &app.base, "/api/business/invoices/pay", &r.token, "pay-2", &pay).await;
    extra.assert_envelope(400);
    // the key of the payment used with another body: 422
    let other = json!({ "invoiceId": iid, "amount": 1, "method": "upi" });
    post_keyed(&app.http, &app.base, "/api/business/invoices/pay", &r.token, "pay-1", &other)
        .await
        .assert_envelope(422);
}

#[tokio::test]
async fn a_cart_checkout_retried_with_its_key_answers_the_same_invoice() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = seed_item(&app, &r.client_id, "Fuse", 500, 10).await;
    let cart = app.post("/api/business/carts", Some(&r.token), json!({})).await;
    assert_eq!(cart.status, 201, "{}", cart.body);
    let cart_id = cart.body["cart"]["_id"].as_str().unwrap().to_string();
    let add = app
        .post(
            "/api/business/carts/add-item",
            Some(&r.token),
            json!({ "cartId": cart_id, "itemId": item, "quantity": 2 }),
        )
        .await;
    assert_eq!(add.status, 200, "{}", add.body);
    let body = json!({ "cartId": cart_id, "paidAmount": 10 });
    let path = "/api/business/invoices/generate";
    let first = post_keyed(&app.http, &app.base, path, &r.token, "cart-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let again = post_keyed(&app.http, &app.base, path, &r.token, "cart-1", &body).await;
    assert_eq!(again.status, 201, "a retry is not 'cart already invoiced': {}", again.body);
    assert_eq!(again.body, first.body, "the stored answer");
    // without the key the retry is the cart rule's 409
    app.post(path, Some(&r.token), body.clone()).await.assert_envelope(409);
    assert_eq!(app.stock_of(&item).await, 8);
}

/// Found under load (two instances, ten twins of one keyed payment): a twin that committed
/// while another was between its look-up and its run made the other run the payment again,
/// which the paid invoice refused with 400 "exceeds the outstanding balance 0" instead of the
/// replay. `idem::once` now looks again after taking the lease, and after a refusal; the
/// second interleaving is forced here by a `run` that plays the twin (writes the record).
#[tokio::test]
async fn a_twin_that_commits_first_is_replayed_never_refused() {
    use viveka::{error::AppError, idem};
    let app = TestApp::spawn().await;
    let client = ObjectId::new();
    let hash = idem::hash("POST /x", &json!({ "a": 1 }));

    // 1. the twin commits while this request runs; this one is refused by the twin's effects
    let mut s = app.state.client.start_session().await.unwrap();
    let answer = idem::once(&app.state, client, "k-1", &hash, 30, 200, || {
        let (state, hash) = (app.state.clone(), hash.clone());
        async move {
            let mut s = state.client.start_session().await.unwrap();
            idem::record_status(&state, &mut s, client, "k-1", &hash, 200, r#"{"twin":true}"#).await?;
            Err::<String, _>(AppError::validation("amount", "exceeds the outstanding balance 0"))
        }
    })
    .await
    .expect("the twin's answer, not the refusal");
    match answer {
        idem::Answer::Replayed(200, body) => assert_eq!(body, r#"{"twin":true}"#),
        idem::Answer::Replayed(st, b) => panic!("replayed {st} {b}"),
        idem::Answer::Fresh(st, b) => panic!("fresh {st} {b}"),
    }

    // 2. a refusal with no twin stays a refusal (the look-up finds nothing)
    let refused = idem::once(&app.state, client, "k-2", &hash, 30, 200, || async {
        Err::<String, _>(AppError::validation("amount", "exceeds the outstanding balance 0"))
    })
    .await;
    assert!(matches!(refused, Err(AppError::Validation(_))), "{:?}", refused.err());

    // 3. a completed key never runs again
    idem::record_status(&app.state, &mut s, client, "k-3", &hash, 201, r#"{"first":1}"#).await.unwrap();
    let again = idem::once(&app.state, client, "k-3", &hash, 30, 201, || async {
        panic!("a completed key must not run again");
        #[allow(unreachable_code)]
        Ok::<String, AppError>(String::new())
    })
    .await
    .unwrap();
    assert!(matches!(again, idem::Answer::Replayed(201, ref b) if b == r#"{"first":1}"#));
}
