//! One set of input rules per entity (issue 12, section 3): every bad value is refused
//! online (400), by v1 `/api/sync` (the batch is a 400, nothing applied) and by v2 push (the
//! operation is `rejected`, nothing applied), because the three paths call the same rule
//! functions (`catalog::rules`, `customer::rules`, `billing::rules`). Each table row is one
//! bad value sent the three ways; a new rule that one path forgets fails its row.

use bson::{doc, oid::ObjectId};
use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    billing::seed_item,
    helpers::{phone, Registered, TestApp},
};

/// One bad value, written for each path (`None`: the path has no such field).
struct Row {
    what: &'static str,
    online: (Method, String, Value),
    v1: Option<Value>,
    /// `(entity, kind, payload)` of one v2 operation.
    v2: Option<(&'static str, &'static str, Value)>,
}

const COLLECTIONS: [&str; 6] = ["items", "itemgroups", "clientcustomers", "invoices", "payments", "stockmovements"];

async fn snapshot(app: &TestApp, client: ObjectId) -> Vec<u64> {
    let mut out = Vec::new();
    for c in COLLECTIONS {
        out.push(app.count(c, doc! { "clientId": client }).await);
    }
    out
}

async fn refused_everywhere(app: &TestApp, r: &Registered, rows: Vec<Row>) {
    let cid = ObjectId::parse_str(&r.client_id).unwrap();
    let now = chrono::Utc::now().to_rfc3339();
    for row in rows {
        let before = snapshot(app, cid).await;
        let (method, path, body) = row.online;
        let on = app.raw(method, &path, Some(&r.token), Some(&body)).await;
        assert_eq!(on.status, 400, "online must refuse {}: {}", row.what, on.body);
        on.assert_envelope(400);
        if let Some(batch) = row.v1 {
            let v1 = app.post("/api/sync", Some(&r.token), batch).await;
            assert_eq!(v1.status, 400, "v1 sync must refuse {}: {}", row.what, v1.body);
            v1.assert_envelope(400);
        }
        if let Some((entity, kind, payload)) = row.v2 {
            let op = json!({ "opId": uuid::Uuid::new_v4().to_string(), "entity": entity, "kind": kind,
                "payload": payload, "deviceTime": now });
            let v2 = app.post("/api/v2/sync/push", Some(&r.token), json!({ "operations": [op] })).await;
            assert_eq!(v2.status, 200, "{}: {}", row.what, v2.body);
            assert_eq!(v2.body["results"][0]["status"], "rejected", "v2 push must reject {}: {}", row.what, v2.body);
            assert!(v2.body["results"][0]["reason"].is_string(), "{}", v2.body);
        }
        assert_eq!(snapshot(app, cid).await, before, "{}: nothing may be written", row.what);
    }
}

fn long(n: usize) -> String {
    "a".repeat(n)
}

#[tokio::test]
async fn bad_item_and_item_group_values_are_refused_online_by_v1_and_by_v2() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = seed_item(&app, &r.client_id, "Headlamp", 40000, 10).await;
    let create = |field: &str, v: Value| {
        let mut body = json!({ "name": "Tail lamp", "price": 120 });
        body[field] = v;
        body
    };
    let mut rows = Vec::new();
    // item create
    for (field, v) in [
        ("lowStockQuantity", json!(-1)),
        ("stock", json!(-1)),
        ("price", json!(-1)),
        ("name", json!("X")),
        ("name", json!(long(201))),
        ("unit", json!("box")),
        ("description", json!(long(501))),
        // item group references: not an id, and not a group of this shop
        ("groupId", json!("not-a-group")),
        ("groupId", json!(ObjectId::new().to_hex())),
    ] {
        rows.push(Row {
            what: "item create",
            online: (Method::POST, "/api/business/items".into(), create(field, v.clone())),
            v1: Some(json!({ "item": { "create": [create(field, v.clone())] } })),
            v2: Some(("item", "create", create(field, v))),
        });
    }
    // item update
    for (field, v) in [
        ("stock", json!(-1)),
        ("lowStockQuantity", json!(-1)),
        ("price", json!(-0.5)),
        ("name", json!("")),
        ("unit", json!("dozen")),
        ("description", json!(long(501))),
        ("groupId", json!("zz")),
        ("groupId", json!(ObjectId::new().to_hex())),
    ] {
        let mut online = json!({});
        online[field] = v.clone();
        let mut v1 = json!({ "_id": item });
        v1[field] = v.clone();
        let mut v2 = json!({ "id": item });
        v2[field] = v;
        rows.push(Row {
            what: "item update",
            online: (Method::PUT, format!("/api/business/items/{}/{item}", r.client_id), online),
            v1: Some(json!({ "item": { "update": [v1] } })),
            v2: Some(("item", "update", v2)),
        });
    }
    // the shape: a list where an object belongs (`{"item": []}` was an empty v1 batch)
    rows.push(Row {
        what: "a list instead of an object",
        online: (Method::POST, "/api/business/items".into(), json!([])),
        v1: Some(json!({ "item": [] })),
        v2: Some(("item", "create", json!([]))),
    });
    rows.push(Row {
        what: "an item as a list",
        online: (Method::POST, "/api/business/items".into(), json!(["Pen", 5])),
        v1: Some(json!({ "item": { "create": [["Pen", 5]] } })),
        v2: Some(("item", "create", json!(["Pen", 5]))),
    });
    // item groups: the group's own fields (online only: sync does not create groups)
    rows.push(Row {
        what: "group name",
        online: (Method::POST, "/api/business/item-groups".into(), json!({ "name": "G" })),
        v1: None,
        v2: None,
    });
    refused_everywhere(&app, &r, rows).await;
    // the item is as it was (no path changed it)
    let stored = app
        .db
        .collection::<bson::Document>("items")
        .find_one(doc! { "_id": ObjectId::parse_str(&item).unwrap() })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.get_i64("stock").unwrap(), 10);
    assert_eq!(stored.get_i64("lowStockQuantity").unwrap(), 5);
}

async fn enable_customer_fields(app: &TestApp, r: &Registered, fields: Value) {
    let res = app
        .put(
            &format!("/api/client/{}", r.client_id),
            Some(&r.token),
            json!({ "clientSettings": { "customerFields": fields } }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
}

#[tokio::test]
async fn bad_customer_values_are_refused_online_by_v1_and_by_v2() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = seed_item(&app, &r.client_id, "Mirror", 15000, 10).await;
    enable_customer_fields(&app, &r, json!({ "address": true, "emailId": true })).await;
    let good = |p: &str| json!({ "phoneNumber": p, "name": "Ravi Kumar", "address": "12 MG Road", "emailId": "ravi@example.in" });
    let mut rows = Vec::new();
    for (field, v) in [
        ("address", json!(long(501))),
        ("emailId", json!("ravi@")),
        ("name", json!("R")),
        ("name", json!(long(101))),
        ("phoneNumber", json!("12345")),
    ] {
        let mut body = good(&phone());
        body[field] = v;
        rows.push(Row {
            what: "customer create",
            online: (Method::POST, "/api/business/client-customers".into(), body.clone()),
            // v1 has no customer entity: a bad phone on a sale is its only customer input
            v1: (field == "phoneNumber").then(|| {
                json!({ "invoice": { "create": [{ "products": [{ "productId": item, "itemName": "Mirror", "quantity": 1, "costPerUnit": 150 }],
                    "clientCustomerPhone": "12345" }] } })
            }),
            v2: Some(("customer", "create", body)),
        });
    }
    // an enabled field is required for a NEW customer (v2 ignored the shop's fields)
    for missing in ["address", "emailId"] {
        let mut body = good(&phone());
        body.as_object_mut().unwrap().remove(missing);
        rows.push(Row {
            what: "customer create without an enabled field",
            online: (Method::POST, "/api/business/client-customers".into(), body.clone()),
            v1: None,
            v2: Some(("customer", "create", body)),
        });
    }
    // update of an existing customer
    let existing = app.post("/api/business/client-customers", Some(&r.token), good(&phone())).await;
    assert_eq!(existing.status, 201, "{}", existing.body);
    let cust = existing.body["clientCustomer"]["_id"].as_str().unwrap().to_string();
    for (field, v) in [("address", json!(long(501))), ("emailId", json!("x@y")), ("name", json!("Q"))] {
        let mut online = json!({});
        online[field] = v.clone();
        let mut v2 = json!({ "id": cust });
        v2[field] = v;
        rows.push(Row {
            what: "customer update",
            online: (Method::PUT, format!("/api/business/client-customers/{}/{cust}", r.client_id), online),
            v1: None,
            v2: Some(("customer", "update", v2)),
        });
    }
    refused_everywhere(&app, &r, rows).await;

    // and what one path accepts the other does too: an address of 400 characters (v2 capped
    // at 300) is stored by both; a disabled field is ignored by both
    enable_customer_fields(&app, &r, json!({ "address": true, "emailId": false })).await;
    let (p1, p2) = (phone(), phone());
    let body = |p: &str| json!({ "phoneNumber": p, "name": "Meena", "address": long(400), "emailId": "not-an-email" });
    let on = app.post("/api/business/client-customers", Some(&r.token), body(&p1)).await;
    assert_eq!(on.status, 201, "{}", on.body);
    let op = json!({ "opId": uuid::Uuid::new_v4().to_string(), "entity": "customer", "kind": "create", "payload": body(&p2) });
    let v2 = app.post("/api/v2/sync/push", Some(&r.token), json!({ "operations": [op] })).await;
    assert_eq!(v2.body["results"][0]["status"], "applied", "{}", v2.body);
    let cid = ObjectId::parse_str(&r.client_id).unwrap();
    for p in [&p1, &p2] {
        let c = app
            .db
            .collection::<bson::Document>("clientcustomers")
            .find_one(doc! { "clientId": cid, "phoneNumber": p })
            .await
            .unwrap()
            .expect("stored");
        assert_eq!(c.get_str("address").unwrap().len(), 400, "{c}");
        assert_eq!(c.get_str("emailId").unwrap(), "", "a disabled field is not stored: {c}");
    }
}

#[tokio::test]
async fn bad_sale_line_and_payment_values_are_refused_online_by_v1_and_by_v2() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = seed_item(&app, &r.client_id, "Horn", 25000, 100).await;
    let sale = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 0 }),
        )
        .await;
    assert_eq!(sale.status, 201, "{}", sale.body);
    let invoice = sale.body["invoice"]["_id"].as_str().unwrap().to_string();

    let line = json!({ "productId": item, "itemName": "Horn", "quantity": 1, "costPerUnit": 250 });
    let mut rows = Vec::new();
    // sale lines and sale fields
    let mut variants: Vec<(&str, Value, Value)> = Vec::new(); // (what, line, extra sale fields)
    for (f, v) in
        [("quantity", json!(0)), ("quantity", json!(-2)), ("quantity", json!(1_000_001)), ("costPerUnit", json!(-1))]
    {
        let mut l = line.clone();
        l[f] = v;
        variants.push(("sale line", l, json!({})));
    }
    for (f, v) in [
        ("paidAmount", json!(-1)),
        ("totalAmount", json!(-1)),
        ("notes", json!(long(1001))),
        ("clientCustomerName", json!(long(101))),
        ("clientCustomerPhone", json!("98765")),
    ] {
        let mut extra = json!({});
        extra[f] = v;
        variants.push(("sale field", line.clone(), extra));
    }
    for (what, l, extra) in variants {
        let mut online = json!({ "products": [l.clone()] });
        let mut v1 = json!({ "products": [l.clone()] });
        let mut v2 = json!({ "products": [{ "productId": l["productId"], "quantity": l["quantity"], "costPerUnit": l["costPerUnit"] }] });
        for (k, v) in extra.as_object().unwrap() {
            online[k] = v.clone();
            v1[k] = v.clone();
            v2[k] = v.clone();
        }
        rows.push(Row {
            what,
            online: (Method::POST, "/api/business/invoices/generatewithproducts".into(), online),
            v1: Some(json!({ "invoice": { "create": [v1] } })),
            v2: Some(("invoice", "create", v2)),
        });
    }
    rows.push(Row {
        what: "a sale without lines",
        online: (Method::POST, "/api/business/invoices/generatewithproducts".into(), json!({ "products": [] })),
        v1: Some(json!({ "invoice": { "create": [{ "products": [] }] } })),
        v2: Some(("invoice", "create", json!({ "products": [] }))),
    });
    // payments
    for (f, v) in [("amount", json!(0)), ("amount", json!(-5)), ("method", json!("barter")), ("note", json!(long(501)))]
    {
        let mut body = json!({ "invoiceId": invoice, "amount": 10 });
        body[f] = v;
        rows.push(Row {
            what: "payment",
            online: (Method::POST, "/api/business/invoices/pay".into(), body.clone()),
            v1: Some(json!({ "payment": { "create": [body.clone()] } })),
            v2: Some(("payment", "create", body)),
        });
    }
    refused_everywhere(&app, &r, rows).await;
}
