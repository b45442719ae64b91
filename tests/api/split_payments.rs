//! Issue 17, split payments and cash tendered: a sale or payment carrying
//! `payments: [{method, amount?, reference?, tendered?}]` on every door (online, v1
//! `/api/sync`, v2 push), one payment document per paid part, the change of a cash part's
//! `tendered`, and the same 400 naming `payments` for a bad split wherever it comes from.

use bson::{doc, oid::ObjectId, Document};
use serde_json::{json, Value};

use crate::helpers::{phone, Registered, Resp, TestApp};

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn op(entity: &str, kind: &str, payload: Value) -> Value {
    json!({ "opId": uuid(), "entity": entity, "kind": kind, "deviceTime": chrono::Utc::now().to_rfc3339(), "payload": payload })
}

async fn push(app: &TestApp, r: &Registered, ops: Vec<Value>) -> Vec<Value> {
    let res = app.post("/api/v2/sync/push", Some(&r.token), json!({ "operations": ops })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["results"].as_array().cloned().unwrap_or_default()
}

async fn v1(app: &TestApp, r: &Registered, body: Value) -> Resp {
    app.post("/api/sync", Some(&r.token), body).await
}

/// An item of Rs 231.00 (the bill), stock 100.
async fn kettle(app: &TestApp, r: &Registered) -> String {
    let res =
        app.post("/api/business/items", Some(&r.token), json!({ "name": "Kettle", "price": 231, "stock": 100 })).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["item"]["_id"].as_str().unwrap().to_string()
}

/// The split: UPI 100.00 (with its reference) and cash with 200.00 handed over.
fn known_split() -> Value {
    json!([{ "method": "upi", "amount": 100, "reference": "UPI-4411" }, { "method": "cash", "tendered": 200 }])
}

/// A stored payment as (method, amount, reference, tendered, change), paise.
type Stored = (String, i64, Option<String>, Option<i64>, Option<i64>);

/// The payment documents of an invoice, in the order recorded.
async fn stored_payments(app: &TestApp, invoice: &str) -> Vec<Stored> {
    let id = ObjectId::parse_str(invoice).unwrap();
    let mut cur =
        app.db.collection::<Document>("payments").find(doc! { "invoiceId": id }).sort(doc! { "_id": 1 }).await.unwrap();
    let mut out = vec![];
    while cur.advance().await.unwrap() {
        let d: Document = cur.deserialize_current().unwrap();
        out.push((
            d.get_str("method").unwrap().to_string(),
            d.get_i64("amount").unwrap(),
            d.get_str("reference").ok().map(str::to_string),
            d.get_i64("tendered").ok(),
            d.get_i64("change").ok(),
        ));
    }
    out
}

async fn stored_invoice(app: &TestApp, invoice: &str) -> Document {
    let id = ObjectId::parse_str(invoice).unwrap();
    app.db.collection::<Document>("invoices").find_one(doc! { "_id": id }).await.unwrap().unwrap()
}

async fn dues_of(app: &TestApp, phone: &str) -> i64 {
    let c = app
        .db
        .collection::<Document>("clientcustomers")
        .find_one(doc! { "phoneNumber": phone })
        .await
        .unwrap()
        .unwrap();
    c.get_i64("outstandingBalance").unwrap()
}

fn known_payments() -> Vec<Stored> {
    vec![
        ("upi".into(), 10_000, Some("UPI-4411".into()), None, None),
        ("cash".into(), 13_100, None, Some(20_000), Some(6_900)),
    ]
}

/// The known answer online: two payment documents (upi 100.00; cash 131.00 of
/// 200.00 handed over, change 69.00), the invoice Paid with `paymentMethod: Multiple`,
/// nothing outstanding, the customer owes nothing; the answer gives `tender`.
#[tokio::test]
async fn the_known_answer_online_two_payments_change_69_nothing_due() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = kettle(&app, &r).await;
    let cust = phone();
    let res = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "products": [{ "productId": item, "quantity": 1 }], "clientCustomerPhone": cust, "payments": known_split() }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["tender"], json!({ "tendered": 200, "change": 69 }));
    let inv = &res.body["invoice"];
    assert_eq!(inv["paidAmount"], json!(231));
    assert_eq!(inv["pendingAmount"], json!(0));
    assert_eq!(inv["status"], json!("Paid"));
    assert_eq!(inv["paymentMethod"], json!("Multiple"));
    let id = inv["_id"].as_str().unwrap();
    assert_eq!(stored_payments(&app, id).await, known_payments());
    let stored = stored_invoice(&app, id).await;
    assert_eq!(stored.get_i64("paidAmount").unwrap(), 23_100);
    assert_eq!(stored.get_str("paymentMethod").unwrap(), "Multiple");
    assert_eq!(dues_of(&app, &cust).await, 0);
    // each payment is in the change log (the pull sees both)
    let ids: Vec<ObjectId> = app
        .db
        .collection::<Document>("payments")
        .find(doc! { "invoiceId": ObjectId::parse_str(id).unwrap() })
        .await
        .unwrap()
        .deserialize_current_all()
        .await;
    assert_eq!(ids.len(), 2);
    for p in ids {
        assert_eq!(app.count("syncchanges", doc! { "coll": "payments", "docId": p }).await, 1, "{p} logged");
    }
    // the invoice's payments list (B23) shows the tender on the cash part
    let list = app.get(&format!("/api/business/invoices/{id}/payments?clientId={}", r.client_id), Some(&r.token)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let cash: Vec<&Value> =
        list.body["payments"].as_array().unwrap().iter().filter(|p| p["method"] == "cash").collect();
    assert_eq!(cash.len(), 1);
    assert_eq!((&cash[0]["amount"], &cash[0]["tendered"], &cash[0]["change"]), (&json!(131), &json!(200), &json!(69)));
}

/// Collecting a cursor's `_id`s (a tiny helper for the change-log check).
trait Ids {
    async fn deserialize_current_all(self) -> Vec<ObjectId>;
}

impl Ids for mongodb::Cursor<Document> {
    async fn deserialize_current_all(mut self) -> Vec<ObjectId> {
        let mut out = vec![];
        while self.advance().await.unwrap() {
            let d: Document = self.deserialize_current().unwrap();
            out.push(d.get_object_id("_id").unwrap());
        }
        out
    }
}

/// The same sale online, in a v1 batch and in a v2 push stores identical payments and the
/// same invoice payment state; the v2 result returns the figures.
#[tokio::test]
async fn the_same_split_sale_online_v1_and_v2_stores_identical_payments() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = kettle(&app, &r).await;

    let online = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "products": [{ "productId": item, "quantity": 1 }], "payments": known_split(), "paidAmount": 231 }),
        )
        .await;
    assert_eq!(online.status, 201, "{}", online.body);
    let online_id = online.body["invoice"]["_id"].as_str().unwrap().to_string();

    let res = v1(
        &app,
        &r,
        json!({ "invoice": { "create": [{
            "products": [{ "productId": item, "itemName": "Kettle", "quantity": 1, "costPerUnit": 231 }],
            "payments": known_split(),
        }]}}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let v1_id = res.body["synced"]["invoicesCreated"][0].as_str().unwrap().to_string();
    assert_eq!(res.body["synced"]["paymentsCreated"].as_array().map(Vec::len), Some(2), "{}", res.body);

    let results = push(
        &app,
        &r,
        vec![op(
            "invoice",
            "create",
            json!({ "products": [{ "productId": item, "quantity": 1 }], "payments": known_split() }),
        )],
    )
    .await;
    assert_eq!(results[0]["status"], json!("applied"), "{}", results[0]);
    let out = &results[0]["result"];
    assert_eq!(out["tender"], json!({ "tendered": 200, "change": 69 }));
    assert_eq!(out["paidAmount"], json!(231));
    assert_eq!(out["paymentMethod"], json!("Multiple"));
    assert_eq!(out["paymentIds"].as_array().map(Vec::len), Some(2));
    assert_eq!(out["paymentId"], out["paymentIds"][0]);
    let v2_id = out["id"].as_str().unwrap().to_string();

    for id in [&online_id, &v1_id, &v2_id] {
        assert_eq!(stored_payments(&app, id).await, known_payments(), "invoice {id}");
        let inv = stored_invoice(&app, id).await;
        assert_eq!(inv.get_i64("paidAmount").unwrap(), 23_100, "invoice {id}");
        assert_eq!(inv.get_str("status").unwrap(), "Paid", "invoice {id}");
        assert_eq!(inv.get_str("paymentMethod").unwrap(), "Multiple", "invoice {id}");
    }
}

/// A credit part documents what is left due: not a payment document; the invoice is part
/// paid and the customer owes the rest (an incomplete sale here: it stays unnumbered).
#[tokio::test]
async fn a_credit_part_leaves_the_rest_due() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = kettle(&app, &r).await;
    let cust = phone();
    let res = app
        .post(
            "/api/business/invoices/incomplete-sale",
            Some(&r.token),
            json!({
                "products": [{ "productId": item, "quantity": 1 }], "clientCustomerPhone": cust,
                "payments": [{ "method": "upi", "amount": 100 }, { "method": "credit", "amount": 131 }],
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert!(res.body.get("tender").is_none(), "no cash tendered: {}", res.body);
    let inv = &res.body["invoice"];
    assert_eq!(
        (&inv["paidAmount"], &inv["pendingAmount"], &inv["status"]),
        (&json!(100), &json!(131), &json!("Partial"))
    );
    assert_eq!(inv["paymentMethod"], json!("upi"));
    let id = inv["_id"].as_str().unwrap();
    assert_eq!(stored_payments(&app, id).await, vec![("upi".to_string(), 10_000, None, None, None)]);
    assert_eq!(dues_of(&app, &cust).await, 13_100);
}

/// A split payment on `/invoices/pay`, in a v1 `payment.create` and a v2 `payment.create`:
/// one document per part, the change of the cash part, the invoice paid in full.
#[tokio::test]
async fn a_split_payment_on_each_door_records_each_part_and_the_change() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = kettle(&app, &r).await;
    let cust = phone();
    let mut unpaid = vec![];
    for _ in 0..3 {
        let res = app
            .post(
                "/api/business/invoices/generatewithproducts",
                Some(&r.token),
                json!({ "products": [{ "productId": item, "quantity": 1 }], "clientCustomerPhone": cust }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        unpaid.push(res.body["invoice"]["_id"].as_str().unwrap().to_string());
    }
    assert_eq!(dues_of(&app, &cust).await, 3 * 23_100);
    // due 231.00: card 50.00 (slip 7781), cash 181.00 of 500.00 handed over, change 319.00
    let parts = json!([{ "method": "card", "amount": 50, "reference": "7781" }, { "method": "cash", "tendered": 500 }]);
    let expected = vec![
        ("card".to_string(), 5_000, Some("7781".to_string()), None, None),
        ("cash".to_string(), 18_100, None, Some(50_000), Some(31_900)),
    ];

    let res = app
        .post("/api/business/invoices/pay", Some(&r.token), json!({ "invoiceId": unpaid[0], "payments": parts }))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["tender"], json!({ "tendered": 500, "change": 319 }));
    assert_eq!(res.body["payments"].as_array().map(Vec::len), Some(2));
    assert_eq!(res.body["payment"], res.body["payments"][0]);
    assert_eq!(res.body["invoice"]["status"], json!("Paid"));
    assert_eq!(res.body["invoice"]["paymentMethod"], json!("Multiple"));

    let res = v1(&app, &r, json!({ "payment": { "create": [{ "invoiceId": unpaid[1], "payments": parts }] } })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["synced"]["paymentsCreated"].as_array().map(Vec::len), Some(2), "{}", res.body);

    let results =
        push(&app, &r, vec![op("payment", "create", json!({ "invoiceId": unpaid[2], "payments": parts }))]).await;
    assert_eq!(results[0]["status"], json!("applied"), "{}", results[0]);
    let out = &results[0]["result"];
    assert_eq!(out["tender"], json!({ "tendered": 500, "change": 319 }));
    assert_eq!(out["amount"], json!(231));
    assert_eq!(out["paymentMethod"], json!("Multiple"));
    assert_eq!(out["paymentIds"].as_array().map(Vec::len), Some(2));

    for id in &unpaid {
        assert_eq!(stored_payments(&app, id).await, expected, "invoice {id}");
        let inv = stored_invoice(&app, id).await;
        assert_eq!((inv.get_i64("paidAmount").unwrap(), inv.get_bool("isFinalized").unwrap()), (23_100, true));
        assert_eq!(inv.get_str("paymentMethod").unwrap(), "Multiple");
    }
    assert_eq!(dues_of(&app, &cust).await, 0);
}

/// Each kind of bad split, on every door: 400 naming the field (v1: under its entry; v2: the
/// operation rejected with the same reason), and nothing written.
#[tokio::test]
async fn a_bad_split_is_refused_naming_the_field_on_every_door() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = kettle(&app, &r).await;
    let open = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "products": [{ "productId": item, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(open.status, 201, "{}", open.body);
    let invoice = open.body["invoice"]["_id"].as_str().unwrap().to_string();
    // (parts, paid amount sent beside them, the field the refusal names)
    let cases: Vec<(Value, Option<i64>, &str)> = vec![
        (json!([{ "method": "cash", "amount": 131, "tendered": 100 }]), None, "payments[0].tendered"),
        (json!([{ "method": "upi", "tendered": 100 }]), None, "payments[0].tendered"),
        (json!([{ "method": "upi" }]), None, "payments[0].amount"),
        (json!([{ "method": "barter", "amount": 10 }]), None, "payments[0].method"),
        (json!([{ "method": "upi", "amount": 10, "reference": "x".repeat(51) }]), None, "payments[0].reference"),
        (json!([{ "method": "upi", "amount": 0 }]), None, "payments[0].amount"),
        (json!([{ "method": "upi", "amount": 100 }, { "method": "cash", "tendered": 200 }]), Some(200), "payments"),
        (json!([{ "method": "upi", "amount": 200 }, { "method": "card", "amount": 31.01 }]), None, "payments"),
        (json!([]), None, "payments"),
    ];
    let before = app.count("payments", doc! {}).await;
    let invoices = app.count("invoices", doc! {}).await;
    for (parts, paid, field) in &cases {
        let named = |text: &str, prefix: &str| text.contains(&format!("{prefix}{field}: "));
        // a sale
        let mut sale = json!({ "products": [{ "productId": item, "quantity": 1 }], "payments": parts });
        let mut line = json!({ "products": [{ "productId": item, "itemName": "Kettle", "quantity": 1, "costPerUnit": 231 }], "payments": parts });
        if let Some(p) = paid {
            sale["paidAmount"] = json!(p);
            line["paidAmount"] = json!(p);
        }
        let res = app.post("/api/business/invoices/generatewithproducts", Some(&r.token), sale.clone()).await;
        res.assert_envelope(400);
        assert!(named(&res.errors(), ""), "online sale {parts}: {}", res.body);
        let res = v1(&app, &r, json!({ "invoice": { "create": [line] } })).await;
        res.assert_envelope(400);
        assert!(named(&res.errors(), "invoice.create[0]."), "v1 sale {parts}: {}", res.body);
        let out = push(&app, &r, vec![op("invoice", "create", sale)]).await;
        assert_eq!(out[0]["status"], json!("rejected"), "v2 sale {parts}: {}", out[0]);
        assert!(named(out[0]["reason"].as_str().unwrap_or(""), ""), "v2 sale {parts}: {}", out[0]);
        // a payment
        let mut pay = json!({ "invoiceId": invoice, "payments": parts });
        if let Some(p) = paid {
            pay["amount"] = json!(p);
        }
        let res = app.post("/api/business/invoices/pay", Some(&r.token), pay.clone()).await;
        res.assert_envelope(400);
        assert!(named(&res.errors(), ""), "online payment {parts}: {}", res.body);
        let res = v1(&app, &r, json!({ "payment": { "create": [pay.clone()] } })).await;
        res.assert_envelope(400);
        assert!(named(&res.errors(), "payment.create[0]."), "v1 payment {parts}: {}", res.body);
        let out = push(&app, &r, vec![op("payment", "create", pay)]).await;
        assert_eq!(out[0]["status"], json!("rejected"), "v2 payment {parts}: {}", out[0]);
        assert!(named(out[0]["reason"].as_str().unwrap_or(""), ""), "v2 payment {parts}: {}", out[0]);
    }
    assert_eq!(app.count("payments", doc! {}).await, before, "nothing paid");
    assert_eq!(app.count("invoices", doc! {}).await, invoices, "nothing sold");
    // a payment with neither amount nor payments names amount
    let res = app.post("/api/business/invoices/pay", Some(&r.token), json!({ "invoiceId": invoice })).await;
    res.assert_envelope(400);
    assert!(res.errors().contains("amount: "), "{}", res.body);
}
