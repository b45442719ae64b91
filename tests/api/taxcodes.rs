//! Issue 16, tax codes: an item's HSN code, UQC, taxability and effective-dated GST and cess
//! rates, the same on every door (online, v1 `/api/sync`, v2 push), a category's default for
//! its items without their own, and the audit of a tax change.

use bson::{doc, oid::ObjectId, Document};
use futures::TryStreamExt;
use serde_json::{json, Value};

use crate::helpers::{phone, Registered, TestApp};

fn op(entity: &str, kind: &str, payload: Value) -> Value {
    json!({ "opId": uuid::Uuid::new_v4().to_string(), "entity": entity, "kind": kind,
            "deviceTime": chrono::Utc::now().to_rfc3339(), "payload": payload })
}

async fn create_ok(app: &TestApp, r: &Registered, body: Value) -> Value {
    let res = app.post("/api/business/items", Some(&r.token), body).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["item"].clone()
}

async fn listed(app: &TestApp, r: &Registered, id: &str) -> Value {
    let res = app.get(&format!("/api/business/items/{}", r.client_id), Some(&r.token)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["items"].as_array().unwrap().iter().find(|i| i["_id"] == id).cloned().unwrap_or(Value::Null)
}

async fn stored_tax(app: &TestApp, id: &str) -> Document {
    let oid = ObjectId::parse_str(id).unwrap();
    let item = app.db.collection::<Document>("items").find_one(doc! { "_id": oid }).await.unwrap().unwrap();
    item.get_document("tax").cloned().unwrap_or_default()
}

/// A geometry box went from 12 % to 5 % on 22 September 2025 (GST.md): the history keeps both
/// periods, today's answer shows 5 %, and the change is audited with before and after.
#[tokio::test]
async fn a_rate_change_from_a_date_keeps_the_history_and_is_audited() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let item = create_ok(
        &app,
        &r,
        json!({ "name": "Geometry box", "price": 60, "tax": { "hsnCode": "9017", "uqc": "pcs", "gstRate": 12 } }),
    )
    .await;
    let id = item["_id"].as_str().unwrap().to_string();
    assert_eq!(item["tax"]["gstRate"], json!(12.0), "{item}");
    assert_eq!(item["tax"]["uqc"], "PCS");
    assert_eq!(item["tax"]["source"], "item");
    assert_eq!(
        item["tax"]["rates"],
        json!([{ "from": "2017-07-01", "taxability": "taxable", "gstRate": 12.0, "cessRate": 0.0 }])
    );

    let up = app
        .put(
            &format!("/api/business/items/{}/{id}", r.client_id),
            Some(&r.token),
            json!({ "tax": { "gstRate": 5, "effectiveFrom": "2025-09-22" } }),
        )
        .await;
    assert_eq!(up.status, 200, "{}", up.body);
    let it = listed(&app, &r, &id).await;
    assert_eq!(it["tax"]["gstRate"], json!(5.0), "{it}");
    assert_eq!(it["tax"]["hsnCode"], "9017");
    let froms: Vec<&str> = it["tax"]["rates"].as_array().unwrap().iter().map(|p| p["from"].as_str().unwrap()).collect();
    assert_eq!(froms, ["2017-07-01", "2025-09-22"]);
    // stored in basis points
    let t = stored_tax(&app, &id).await;
    let rates = t.get_array("rates").unwrap();
    let bps: Vec<i64> = rates
        .iter()
        .map(|p| {
            let p = p.as_document().unwrap();
            p.get_i64("gstBp").or_else(|_| p.get_i32("gstBp").map(i64::from)).unwrap()
        })
        .collect();
    assert_eq!(bps, [1200, 500]);

    let audits: Vec<Document> = app
        .db
        .collection::<Document>("auditlog")
        .find(doc! { "action": "tax_changed", "entityId": &id })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(audits.len(), 1, "{audits:?}");
    let text = format!("{:?}", audits[0]);
    assert!(text.contains("2025-09-22") && text.contains("1200"), "{text}");

    // the same change again changes nothing and records nothing
    let again = app
        .put(
            &format!("/api/business/items/{}/{id}", r.client_id),
            Some(&r.token),
            json!({ "tax": { "gstRate": 5, "effectiveFrom": "2025-09-22" } }),
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(app.count("auditlog", doc! { "action": "tax_changed", "entityId": &id }).await, 1);

    // null removes the item's own code
    let gone =
        app.put(&format!("/api/business/items/{}/{id}", r.client_id), Some(&r.token), json!({ "tax": null })).await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert!(gone.body["item"].get("tax").is_none(), "{}", gone.body);
    assert!(stored_tax(&app, &id).await.is_empty());
}

#[tokio::test]
async fn bad_tax_codes_are_a_400_naming_the_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let cid = ObjectId::parse_str(&r.client_id).unwrap();
    for (tax, field) in [
        (json!({ "hsnCode": "96O9" }), "tax.hsnCode"),
        (json!({ "uqc": "PIECES" }), "tax.uqc"),
        (json!({ "gstRate": 13 }), "tax"),
        (json!({ "gstRate": 0 }), "tax"),
        (json!({ "taxability": "exempt", "gstRate": 5 }), "tax"),
        (json!({ "gstRate": 5, "effectiveFrom": "2017-06-30" }), "tax.effectiveFrom"),
        (json!({ "gstRate": 5, "rates": [] }), "tax.rates"),
        (json!({ "gstRate": 5, "colour": "red" }), "colour"),
    ] {
        let res =
            app.post("/api/business/items", Some(&r.token), json!({ "name": "Pen", "price": 5, "tax": tax })).await;
        assert_eq!(res.status, 400, "{tax}: {}", res.body);
        assert!(res.errors().contains(field), "{tax}: {}", res.body);
    }
    assert_eq!(app.count("items", doc! { "clientId": cid }).await, 0);

    // an edit whose new period contradicts the taxability in force: 400, nothing changes
    let item = create_ok(&app, &r, json!({ "name": "Pen", "price": 5, "tax": { "taxability": "exempt" } })).await;
    let id = item["_id"].as_str().unwrap();
    let res = app
        .put(
            &format!("/api/business/items/{}/{id}", r.client_id),
            Some(&r.token),
            json!({ "tax": { "taxability": "taxable", "effectiveFrom": "2026-01-01" } }),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(res.errors().contains("tax"), "{}", res.body);
    assert_eq!(listed(&app, &r, id).await["tax"]["rates"].as_array().unwrap().len(), 1);
}

/// The same tax object through v1 `/api/sync` and v2 push stores the same code as online; a
/// bad one is refused on each door.
#[tokio::test]
async fn the_sync_doors_take_the_same_tax_codes() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let tax = json!({ "hsnCode": "4820", "uqc": "NOS", "rates": [
        { "from": "2017-07-01", "gstRate": 12 },
        { "from": "2025-09-22", "taxability": "nilRated" }
    ] });
    let online = create_ok(&app, &r, json!({ "name": "Exercise book", "price": 40, "tax": tax })).await;
    let v1 = app
        .post(
            "/api/sync",
            Some(&r.token),
            json!({ "item": { "create": [{ "name": "Exercise book", "price": 40, "tax": tax }] } }),
        )
        .await;
    assert_eq!(v1.status, 200, "{}", v1.body);
    let v2 = app
        .post(
            "/api/v2/sync/push",
            Some(&r.token),
            json!({ "operations": [
                op("item", "create", json!({ "name": "Exercise book", "price": 40, "tax": tax })),
                op("item", "create", json!({ "name": "Bad", "price": 40, "tax": { "hsnCode": "12345" } })),
            ] }),
        )
        .await;
    assert_eq!(v2.status, 200, "{}", v2.body);
    assert_eq!(v2.body["results"][0]["status"], "applied", "{}", v2.body);
    assert_eq!(v2.body["results"][1]["status"], "rejected", "{}", v2.body);
    assert!(v2.body["results"][1]["reason"].as_str().unwrap_or_default().contains("hsnCode"), "{}", v2.body);

    let want = stored_tax(&app, online["_id"].as_str().unwrap()).await;
    let cid = ObjectId::parse_str(&r.client_id).unwrap();
    let all: Vec<Document> = app
        .db
        .collection::<Document>("items")
        .find(doc! { "clientId": cid, "name": "Exercise book" })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    for i in &all {
        assert_eq!(i.get_document("tax").unwrap(), &want, "{i:?}");
    }
    assert_eq!(online["tax"]["taxability"], "nilRated", "{online}");
    assert_eq!(online["tax"]["gstRate"], json!(0.0));

    let bad = app
        .post(
            "/api/sync",
            Some(&r.token),
            json!({ "item": { "create": [{ "name": "Bad", "price": 1, "tax": { "uqc": "X" } }] } }),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.errors().contains("tax.uqc"), "{}", bad.body);
}

/// A category's default applies to its items without their own code (a sub category without
/// one takes its main category's); an item's own code wins; the default is audited.
#[tokio::test]
async fn items_without_their_own_code_take_their_categorys() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let main = app
        .post(
            "/api/business/item-groups",
            Some(&r.token),
            json!({ "name": "Stationery", "tax": { "hsnCode": "9608", "uqc": "PCS", "gstRate": 18 } }),
        )
        .await;
    assert_eq!(main.status, 201, "{}", main.body);
    assert_eq!(main.body["itemGroup"]["tax"]["gstRate"], json!(18.0), "{}", main.body);
    let main_id = main.body["itemGroup"]["_id"].as_str().unwrap().to_string();
    let sub =
        app.post("/api/business/item-groups", Some(&r.token), json!({ "name": "Pens", "parentId": main_id })).await;
    assert_eq!(sub.status, 201, "{}", sub.body);
    let sub_id = sub.body["itemGroup"]["_id"].as_str().unwrap().to_string();

    let plain = create_ok(&app, &r, json!({ "name": "Ball pen", "price": 10, "groupId": sub_id })).await;
    let own =
        create_ok(&app, &r, json!({ "name": "Gel pen", "price": 20, "groupId": sub_id, "tax": { "gstRate": 12 } }))
            .await;
    let loose = create_ok(&app, &r, json!({ "name": "Loose", "price": 20 })).await;
    let p = listed(&app, &r, plain["_id"].as_str().unwrap()).await;
    assert_eq!((p["tax"]["source"].as_str(), p["tax"]["gstRate"].as_f64()), (Some("category"), Some(18.0)), "{p}");
    let o = listed(&app, &r, own["_id"].as_str().unwrap()).await;
    assert_eq!((o["tax"]["source"].as_str(), o["tax"]["gstRate"].as_f64()), (Some("item"), Some(12.0)), "{o}");
    assert!(listed(&app, &r, loose["_id"].as_str().unwrap()).await.get("tax").is_none());

    // the sub category's own default wins over the main one's
    let up = app
        .put(
            &format!("/api/business/item-groups/{}/{sub_id}", r.client_id),
            Some(&r.token),
            json!({ "tax": { "gstRate": 5 } }),
        )
        .await;
    assert_eq!(up.status, 200, "{}", up.body);
    let p = listed(&app, &r, plain["_id"].as_str().unwrap()).await;
    assert_eq!(p["tax"]["gstRate"], json!(5.0), "{p}");
    assert_eq!(app.count("auditlog", doc! { "action": "tax_changed", "entityId": &sub_id }).await, 1);
    // the scan-to-bill lookup answers the same
    let sku = app
        .put(
            &format!("/api/business/items/{}/{}", r.client_id, plain["_id"].as_str().unwrap()),
            Some(&r.token),
            json!({ "sku": "BP-1" }),
        )
        .await;
    assert_eq!(sku.status, 200, "{}", sku.body);
    let found = app.get("/api/business/items/lookup?code=BP-1", Some(&r.token)).await;
    assert_eq!(found.body["item"]["tax"]["gstRate"], json!(5.0), "{}", found.body);

    // another shop's items never see these defaults
    let other = app.register(&phone()).await;
    let theirs = create_ok(&app, &other, json!({ "name": "Ball pen", "price": 10 })).await;
    assert!(listed(&app, &other, theirs["_id"].as_str().unwrap()).await.get("tax").is_none());
}
