//! Issue 16, item side: codes (SKU, barcode gtin|shop), attributes, MRP on the one catalog
//! write path (online, v1 `/api/sync`, v2 push), one code never naming two items (MongoDB's
//! unique index under 20 concurrent creates), the scan-to-bill lookup (UPC-A = EAN-13 form,
//! never an internal id, weighed-goods labels), and the MRP on every sale door.

use bson::{doc, oid::ObjectId};
use serde_json::{json, Value};

use crate::helpers::{phone, Registered, TestApp};

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339()
}

async fn create(app: &TestApp, r: &Registered, body: Value) -> crate::helpers::Resp {
    app.post("/api/business/items", Some(&r.token), body).await
}

async fn create_ok(app: &TestApp, r: &Registered, body: Value) -> String {
    let res = create(app, r, body).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["item"]["_id"].as_str().unwrap().to_string()
}

async fn lookup(app: &TestApp, r: &Registered, code: &str) -> crate::helpers::Resp {
    app.get(&format!("/api/business/items/lookup?code={}", urlencode(code)), Some(&r.token)).await
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn push(app: &TestApp, r: &Registered, ops: Vec<Value>) -> crate::helpers::Resp {
    let res = app.post("/api/v2/sync/push", Some(&r.token), json!({ "operations": ops })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res
}

fn op(entity: &str, kind: &str, payload: Value) -> Value {
    json!({ "opId": uuid(), "entity": entity, "kind": kind, "deviceTime": now_iso(), "payload": payload })
}

/// The keys an item carried on the wire before issue 16.
const V1_ITEM_KEYS: &[&str] = &[
    "_id",
    "productId",
    "clientId",
    "groupId",
    "name",
    "price",
    "dealerIds",
    "stock",
    "lowStockQuantity",
    "unit",
    "description",
    "isActive",
    "createdAt",
    "updatedAt",
    "__v",
];

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn codes_and_attributes_are_kept_as_sent_and_an_item_without_them_reads_as_before() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let res = create(
        &app,
        &r,
        json!({ "name": "Classmate notebook", "price": 45, "sku": "0042", "barcode": "036000291452",
            "color": "Blue", "size": "A4", "lineType": "single line", "extra": { "pages": "172" },
            "mrp": 50, "hasExpiry": false, "imageUrl": "https://img.example/nb.png" }),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let it = &res.body["item"];
    assert_eq!(it["sku"], "0042", "leading zeros kept");
    assert_eq!(it["barcode"], "036000291452", "as printed");
    assert_eq!(it["barcodeType"], "gtin", "a valid check digit makes it a GTIN");
    assert_eq!(
        (it["color"].as_str(), it["size"].as_str(), it["lineType"].as_str()),
        (Some("Blue"), Some("A4"), Some("single line"))
    );
    assert_eq!(it["extra"], json!({ "pages": "172" }));
    assert_eq!(it["mrp"], 50);
    assert!(it.get("hasExpiry").is_none(), "false is omitted");

    // an item that uses none of it: exactly the keys of before, on create, list and v1 sync
    let plain = create(&app, &r, json!({ "name": "Loose rice", "price": 60 })).await;
    let mut want: Vec<String> = V1_ITEM_KEYS.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(keys(&plain.body["item"]), want);
    let list = app.get(&format!("/api/business/items/{}", r.client_id), Some(&r.token)).await;
    let rice = list.body["items"].as_array().unwrap().iter().find(|i| i["name"] == "Loose rice").unwrap();
    assert_eq!(keys(rice), want);
    let v1 =
        app.post("/api/sync", Some(&r.token), json!({ "item": { "create": [{ "name": "Salt", "price": 20 }] } })).await;
    assert_eq!(v1.status, 200, "{}", v1.body);
    let stored: bson::Document = app.db.collection("items").find_one(doc! { "name": "Salt" }).await.unwrap().unwrap();
    for k in ["sku", "barcode", "codes", "mrp", "extra", "hasExpiry"] {
        assert!(!stored.contains_key(k), "{k} stored on an item without it: {stored}");
    }

    // checks: a GTIN with a wrong check digit; a shop code with marks; bad attributes
    let bad =
        create(&app, &r, json!({ "name": "Pen", "price": 5, "barcode": "036000291453", "barcodeType": "gtin" })).await;
    bad.assert_envelope(400);
    assert!(bad.errors().contains("barcode: is not a valid GTIN"), "{}", bad.body);
    let shop = create(&app, &r, json!({ "name": "Pen", "price": 5, "barcode": "036000291453" })).await;
    assert_eq!(shop.body["item"]["barcodeType"], "shop", "{}", shop.body);
    let bad = create(
        &app,
        &r,
        json!({ "name": "Pen", "price": 5, "barcode": "AB-1", "barcodeType": "shop",
        "sku": "a b", "imageUrl": "ftp://x", "mrp": 0, "barcodeTypo": 1 }),
    )
    .await;
    bad.assert_envelope(400);
    let bad = create(
        &app,
        &r,
        json!({ "name": "Pen", "price": 5, "barcode": "AB-1", "barcodeType": "shop",
        "sku": "a b", "imageUrl": "ftp://x", "mrp": 0 }),
    )
    .await;
    for f in ["barcode:", "sku:", "imageUrl:", "mrp:"] {
        assert!(bad.errors().contains(f), "{f} in {}", bad.body);
    }

    // an edit clears with null; the pull carries the fields (the item wire)
    let id = it["_id"].as_str().unwrap();
    let up = app
        .put(
            &format!("/api/business/items/{}/{id}", r.client_id),
            Some(&r.token),
            json!({ "color": null, "sku": "NB-172" }),
        )
        .await;
    assert_eq!(up.status, 200, "{}", up.body);
    assert!(up.body["item"].get("color").is_none());
    assert_eq!(up.body["item"]["sku"], "NB-172");
    assert_eq!(lookup(&app, &r, "0042").await.status, 404, "the old SKU is free again");
    let pull = app.get("/api/v2/sync/pull", Some(&r.token)).await;
    let mine = pull.body["changes"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap().clone();
    assert_eq!(mine["doc"]["sku"], "NB-172", "{mine}");
    assert_eq!(mine["doc"]["mrp"], 50, "{mine}");
}

#[tokio::test]
async fn one_code_never_names_two_items_on_every_door() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let a =
        create_ok(&app, &r, json!({ "name": "Pen blue", "price": 10, "sku": "PEN-BLU", "barcode": "8901030865275" }))
            .await;
    create_ok(&app, &r, json!({ "name": "Pen red", "price": 10, "barcode": "036000291452" })).await;
    // the same code in either field, another case, the UPC-A's EAN-13 form: 409 DUPLICATE
    for body in [
        json!({ "name": "Copy 1", "price": 1, "sku": "PEN-BLU" }),
        json!({ "name": "Copy 2", "price": 1, "sku": "pen-blu" }),
        json!({ "name": "Copy 3", "price": 1, "barcode": "PENBLU0" , "sku": "8901030865275" }),
        json!({ "name": "Copy 4", "price": 1, "barcode": "0036000291452" }),
    ] {
        let res = create(&app, &r, body.clone()).await;
        res.assert_envelope(409);
        assert_eq!(res.code(), "DUPLICATE", "{body}: {}", res.body);
    }
    // an item may hold one code in both fields; another shop may use the same codes
    create_ok(&app, &r, json!({ "name": "Eraser", "price": 3, "sku": "4006381333931", "barcode": "4006381333931" }))
        .await;
    let other = app.register(&phone()).await;
    create_ok(&app, &other, json!({ "name": "Pen blue", "price": 10, "sku": "PEN-BLU" })).await;
    // an edit taking another item's code: refused; re-sending its own: fine
    let b = create_ok(&app, &r, json!({ "name": "Pencil", "price": 5 })).await;
    let res = app
        .put(&format!("/api/business/items/{}/{b}", r.client_id), Some(&r.token), json!({ "sku": "8901030865275" }))
        .await;
    assert_eq!((res.status.as_u16(), res.code()), (409, "DUPLICATE"), "{}", res.body);
    let res =
        app.put(&format!("/api/business/items/{}/{a}", r.client_id), Some(&r.token), json!({ "sku": "PEN-BLU" })).await;
    assert_eq!(res.status, 200, "{}", res.body);

    // v1: the batch is refused (nothing applied)
    let cid = ObjectId::parse_str(&r.client_id).unwrap();
    let before = app.count("items", doc! { "clientId": cid }).await;
    let v1 = app
        .post(
            "/api/sync",
            Some(&r.token),
            json!({ "item": { "create": [{ "name": "Dup", "price": 1, "sku": "PEN-BLU" }] } }),
        )
        .await;
    assert_eq!((v1.status.as_u16(), v1.code()), (409, "DUPLICATE"), "{}", v1.body);
    let v1 = app
        .post("/api/sync", Some(&r.token), json!({ "item": { "update": [{ "_id": b, "sku": "036000291452" }] } }))
        .await;
    assert_eq!((v1.status.as_u16(), v1.code()), (409, "DUPLICATE"), "{}", v1.body);
    assert_eq!(app.count("items", doc! { "clientId": cid }).await, before);

    // v2: per operation, against stored items and items created earlier in the same push
    let res = push(
        &app,
        &r,
        vec![
            op("item", "create", json!({ "name": "Dup", "price": 1, "sku": "8901030865275" })),
            op("item", "create", json!({ "name": "New A", "price": 1, "sku": "NEW1" })),
            op("item", "create", json!({ "name": "New B", "price": 1, "barcode": "new1", "barcodeType": "shop" })),
            op("item", "update", json!({ "id": b, "sku": "PEN-BLU" })),
            op("item", "update", json!({ "id": b, "sku": "PENCIL-1" })),
        ],
    )
    .await;
    let st: Vec<&str> = res.body["results"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(st, ["rejected", "applied", "rejected", "rejected", "applied"], "{}", res.body);
    let reason = res.body["results"][0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("8901030865275") && reason.contains("already names another item"), "{reason}");
    assert_eq!(app.count("items", doc! { "clientId": cid, "codes": "NEW1" }).await, 1);
    assert_eq!(lookup(&app, &r, "pencil-1").await.body["item"]["_id"], b.as_str());
}

#[tokio::test]
async fn twenty_concurrent_creates_of_one_code_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    for (field, code) in [("sku", "RACE-SKU-1"), ("barcode", "4006381333931")] {
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (http, base, token) = (app.http.clone(), app.base.clone(), r.token.clone());
            let body = json!({ "name": format!("Racer {i}"), "price": 10, field: code });
            tasks.push(tokio::spawn(async move {
                let res = http
                    .post(format!("{base}/api/business/items"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                let body: Value = res.json().await.unwrap();
                (status, body["code"].as_str().unwrap_or("").to_string())
            }));
        }
        let mut won = 0;
        for t in tasks {
            match t.await.unwrap() {
                (201, _) => won += 1,
                (409, c) => assert_eq!(c, "DUPLICATE"),
                other => panic!("{field}: unexpected {other:?}"),
            }
        }
        assert_eq!(won, 1, "{field}: exactly one create wins");
        let cid = ObjectId::parse_str(&r.client_id).unwrap();
        let key = viveka::barcode::key(code);
        assert_eq!(app.count("items", doc! { "clientId": cid, "codes": key }).await, 1);
    }
}

#[tokio::test]
async fn lookup_finds_by_sku_or_barcode_and_never_by_an_internal_id() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let plain = create_ok(&app, &r, json!({ "name": "No codes", "price": 5 })).await;
    let upc = create_ok(&app, &r, json!({ "name": "Soap", "price": 30, "barcode": "036000291452" })).await;
    let short =
        create_ok(&app, &r, json!({ "name": "Shop 22", "price": 3, "barcode": "22", "barcodeType": "shop" })).await;
    let zero = create_ok(&app, &r, json!({ "name": "Shop 0002", "price": 3, "sku": "0002" })).await;
    let found = |res: &crate::helpers::Resp| res.body["item"]["_id"].as_str().map(str::to_string);
    // the UPC-A and its EAN-13 form find the same item
    assert_eq!(found(&lookup(&app, &r, "036000291452").await), Some(upc.clone()));
    assert_eq!(found(&lookup(&app, &r, "0036000291452").await), Some(upc.clone()));
    // leading zeros count; a code matches whole codes only
    assert_eq!(found(&lookup(&app, &r, "22").await), Some(short.clone()));
    assert_eq!(found(&lookup(&app, &r, "0002").await), Some(zero.clone()));
    for miss in ["2", "022", "00002", "036000", &plain, &plain[20..], &upc[..6]] {
        let res = lookup(&app, &r, miss).await;
        assert_eq!(res.status, 404, "{miss}: {}", res.body);
    }
    // one indexed read: the lookup's filter is served by uniq_client_code, one document examined
    let filter = viveka::catalog::repo::code_filter(ObjectId::parse_str(&r.client_id).unwrap(), &["22".to_string()]);
    let plan = app
        .db
        .run_command(doc! { "explain": { "find": "items", "filter": filter }, "verbosity": "executionStats" })
        .await
        .unwrap();
    let text = plan.to_string();
    assert!(text.contains("uniq_client_code") && text.contains("IXSCAN"), "{text}");
    let stats = plan.get_document("executionStats").unwrap();
    assert_eq!(stats.get_i32("totalDocsExamined").unwrap(), 1, "{stats}");
    // an item's id ending in 22 is not found by the shop code 22 (only the item holding 22 is)
    let lookup_22 = lookup(&app, &r, "22").await;
    assert_eq!(lookup_22.body["item"]["name"], "Shop 22");
    // another shop's codes are not found; blank or too long: 400
    let other = app.register(&phone()).await;
    assert_eq!(lookup(&app, &other, "22").await.status, 404);
    lookup(&app, &r, "").await.assert_envelope(400);
    lookup(&app, &r, &"9".repeat(41)).await.assert_envelope(400);
    assert_eq!(app.get("/api/business/items/lookup", Some(&r.token)).await.status, 400);
}

#[tokio::test]
async fn a_weighed_goods_label_reads_the_item_and_the_amount() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let dal = create_ok(
        &app,
        &r,
        json!({ "name": "Toor dal (loose)", "price": 140, "barcode": "0002", "barcodeType": "shop" }),
    )
    .await;
    // without a layout the label is just an unknown code
    assert_eq!(lookup(&app, &r, "2000021019409").await.status, 404);
    let bad = app
        .put(
            &format!("/api/client/{}", r.client_id),
            Some(&r.token),
            json!({ "clientSettings": { "catalog": { "scaleLabel": "20-IIII-PPPPPP" } } }),
        )
        .await;
    bad.assert_envelope(400);
    assert!(bad.errors().contains("clientSettings.catalog.scaleLabel"), "{}", bad.body);
    let set = app
        .put(
            &format!("/api/client/{}", r.client_id),
            Some(&r.token),
            json!({ "clientSettings": { "catalog": { "scaleLabel": "20-IIII-V-PPPPP-C" } } }),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    // the known answer: item 0002 at Rs 19.40
    let res = lookup(&app, &r, "2000021019409").await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["item"]["_id"], dal.as_str());
    assert_eq!(res.body["label"], json!({ "itemCode": "0002", "amount": 19.4 }));
    // a wrong check digit or price check digit is not a label; a plain code has no label
    assert_eq!(lookup(&app, &r, "2000021019408").await.status, 404);
    assert_eq!(lookup(&app, &r, "2000022019406").await.status, 404);
    assert!(lookup(&app, &r, "0002").await.body.get("label").is_none());
}

#[tokio::test]
async fn the_price_never_exceeds_the_mrp_on_item_save_on_every_door() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let res = create(&app, &r, json!({ "name": "Pen", "price": 8, "mrp": 7 })).await;
    res.assert_envelope(400);
    assert!(res.errors().starts_with("price: "), "{}", res.body);
    let pen = create_ok(&app, &r, json!({ "name": "Pen", "price": 7, "mrp": 7 })).await;
    for body in [json!({ "price": 8 }), json!({ "mrp": 6.5 })] {
        let res = app.put(&format!("/api/business/items/{}/{pen}", r.client_id), Some(&r.token), body.clone()).await;
        res.assert_envelope(400);
        assert!(res.errors().contains("price:"), "{body}: {}", res.body);
    }
    let ok = app
        .put(&format!("/api/business/items/{}/{pen}", r.client_id), Some(&r.token), json!({ "mrp": null, "price": 9 }))
        .await;
    assert_eq!(ok.status, 200, "loose goods have no MRP: {}", ok.body);
    let v1 = app
        .post("/api/sync", Some(&r.token), json!({ "item": { "create": [{ "name": "Pen", "price": 8, "mrp": 7 }] } }))
        .await;
    v1.assert_envelope(400);
    let res = push(&app, &r, vec![op("item", "create", json!({ "name": "Pen", "price": 8, "mrp": 7 }))]).await;
    assert_eq!(res.body["results"][0]["status"], "rejected", "{}", res.body);
    assert!(res.body["results"][0]["reason"].as_str().unwrap().contains("MRP"), "{}", res.body);
}

#[tokio::test]
async fn a_sale_above_the_mrp_is_refused_on_every_door() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    // the known answer: a pen with MRP Rs 7 sold at Rs 8 is refused; at Rs 7 it passes
    let pen = create_ok(&app, &r, json!({ "name": "Pen", "price": 6, "mrp": 7, "stock": 100 })).await;
    let loose = create_ok(&app, &r, json!({ "name": "Rice", "price": 60, "stock": 100 })).await;
    let sell = |price: f64| {
        json!({ "clientId": r.client_id, "paidAmount": 0, "products": [
            { "productId": loose, "quantity": 1, "costPerUnit": 999 },
            { "productId": pen, "quantity": 1, "costPerUnit": price } ] })
    };
    let res = app.post("/api/business/invoices/generatewithproducts", Some(&r.token), sell(8.0)).await;
    res.assert_envelope(400);
    assert_eq!(res.code(), "MRP_EXCEEDED");
    assert!(res.errors().starts_with("products[1]: "), "{}", res.body);
    let res = app.post("/api/business/invoices/generatewithproducts", Some(&r.token), sell(7.0)).await;
    assert_eq!(res.status, 201, "{}", res.body);

    // cart: the line is refused when added
    let c = app.post("/api/business/carts", Some(&r.token), json!({ "clientId": r.client_id })).await;
    let cart = c.body["cart"]["_id"].as_str().unwrap().to_string();
    let add = |p: f64| json!({ "cartId": cart, "itemId": pen, "unitPrice": p, "quantity": 2 });
    let res = app.post("/api/business/carts/add-item", Some(&r.token), add(8.0)).await;
    assert_eq!((res.status.as_u16(), res.code()), (400, "MRP_EXCEEDED"), "{}", res.body);
    let res = app.post("/api/business/carts/add-item", Some(&r.token), add(7.0)).await;
    assert_eq!(res.status, 200, "{}", res.body);

    // v1: the batch is refused naming the entry and the line
    let v1 = |p: f64| {
        json!({ "invoice": { "create": [{ "products": [
        { "productId": pen, "itemName": "Pen", "quantity": 1, "costPerUnit": p } ] }] } })
    };
    let res = app.post("/api/sync", Some(&r.token), v1(8.0)).await;
    assert_eq!((res.status.as_u16(), res.code()), (400, "MRP_EXCEEDED"), "{}", res.body);
    assert!(res.errors().contains("products[0]"), "{}", res.body);
    let res = app.post("/api/sync", Some(&r.token), v1(7.0)).await;
    assert_eq!(res.status, 200, "{}", res.body);

    // v2: the operation is rejected naming the line
    let v2 = |p: f64| {
        op("invoice", "create", json!({ "products": [{ "productId": pen, "quantity": 1, "costPerUnit": p }] }))
    };
    let res = push(&app, &r, vec![v2(8.0), v2(7.0)]).await;
    let results = res.body["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "rejected", "{}", res.body);
    assert!(
        results[0]["reason"].as_str().unwrap().contains("products[0]: the unit price 8 exceeds the MRP 7"),
        "{}",
        res.body
    );
    assert_eq!(results[1]["status"], "applied", "{}", res.body);
    let cid = ObjectId::parse_str(&r.client_id).unwrap();
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 3, "one per door at Rs 7");
}
