//! Issue 16, packing units: a shop's units (`/api/business/units`), items sold in them with
//! stock kept in base units (`stockDisplay`), a unit's own barcode on the scan-to-bill lookup,
//! and sale lines in units on every door (online, v1 `/api/sync`, v2 push) through the one
//! rule `billing::decide::units::sold_in`.

use bson::{doc, oid::ObjectId, Document};
use serde_json::{json, Value};

use crate::helpers::{phone, Registered, Resp, TestApp};

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn op(entity: &str, kind: &str, payload: Value) -> Value {
    json!({ "opId": uuid(), "entity": entity, "kind": kind, "deviceTime": chrono::Utc::now().to_rfc3339(), "payload": payload })
}

async fn unit(app: &TestApp, r: &Registered, body: Value) -> Resp {
    app.post("/api/business/units", Some(&r.token), body).await
}

async fn unit_ok(app: &TestApp, r: &Registered, body: Value) -> String {
    let res = unit(app, r, body).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["unit"]["_id"].as_str().unwrap().to_string()
}

/// PCS (base) and BOX = 10 PCS.
async fn pcs_and_box(app: &TestApp, r: &Registered) -> (String, String) {
    let pcs = unit_ok(app, r, json!({ "name": "PCS", "uqc": "pcs" })).await;
    let bx = unit_ok(app, r, json!({ "name": "BOX", "uqc": "BOX", "conversionFactor": 10, "baseUnitId": pcs })).await;
    (pcs, bx)
}

async fn item(app: &TestApp, r: &Registered, body: Value) -> Resp {
    app.post("/api/business/items", Some(&r.token), body).await
}

/// The pen: base PCS at Rs 5, BOX = 10 at Rs 45, stock 250.
async fn pen(app: &TestApp, r: &Registered, pcs: &str, bx: &str, barcode: Option<&str>) -> Value {
    let mut u = json!({ "unitId": bx, "price": 45 });
    if let Some(b) = barcode {
        u["barcode"] = json!(b);
    }
    let res = item(app, r, json!({ "name": "Pen", "price": 5, "stock": 250, "baseUnitId": pcs, "units": [u] })).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["item"].clone()
}

async fn stored_item(app: &TestApp, id: &str) -> Document {
    app.db
        .collection::<Document>("items")
        .find_one(doc! { "_id": ObjectId::parse_str(id).unwrap() })
        .await
        .unwrap()
        .unwrap()
}

async fn listed(app: &TestApp, r: &Registered, id: &str) -> Value {
    let res = app.get(&format!("/api/business/items/{}?isActive=all", r.client_id), Some(&r.token)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["items"].as_array().unwrap().iter().find(|i| i["_id"] == json!(id)).cloned().unwrap()
}

/// The stored invoice whose lines sell `item`.
async fn invoice_of(app: &TestApp, item: &str) -> Document {
    app.db
        .collection::<Document>("invoices")
        .find_one(doc! { "products.productId": ObjectId::parse_str(item).unwrap() })
        .await
        .unwrap()
        .expect("an invoice of the item")
}

/// The stored lines: (unitName, factor, quantity, baseQuantity, costPerUnit paise).
fn lines(inv: &Document) -> Vec<(String, i64, i64, i64, i64)> {
    inv.get_array("products")
        .unwrap()
        .iter()
        .map(|l| {
            let l = l.as_document().unwrap();
            let u = l.get_document("unit").ok();
            (
                u.map(|u| u.get_str("unitName").unwrap().to_string()).unwrap_or_default(),
                u.map(|u| u.get_i64("factor").unwrap()).unwrap_or(1),
                l.get_i64("quantity").unwrap(),
                l.get_i64("baseQuantity").unwrap_or_else(|_| l.get_i64("quantity").unwrap()),
                l.get_i64("costPerUnit").unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_pen_sells_2_boxes_and_3_pieces_for_105_leaving_22_box_7_pcs_on_every_door() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let (pcs, bx) = pcs_and_box(&app, &r).await;
    let online = pen(&app, &r, &pcs, &bx, None).await;
    assert_eq!(online["stockDisplay"], "25 BOX", "{online}");
    assert_eq!(online["baseUnitId"], json!(pcs));
    let units = online["units"].as_array().unwrap();
    assert_eq!(units.len(), 2, "the base unit is added (last): {online}");
    assert_eq!((units[1]["name"].clone(), units[1]["factor"].clone()), (json!("PCS"), json!(1)));
    assert_eq!((units[0]["name"].clone(), units[0]["effectivePrice"].clone()), (json!("BOX"), json!(45)));
    let id = |v: &Value| v["_id"].as_str().unwrap().to_string();
    let (p_online, p_v1, p_v2) =
        (id(&online), id(&pen(&app, &r, &pcs, &bx, None).await), id(&pen(&app, &r, &pcs, &bx, None).await));

    // online B20: 2 BOX + 3 PCS (the piece line names the base unit)
    let res = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "clientId": r.client_id, "paidAmount": 105, "products": [
                { "productId": p_online, "quantity": 2, "unitId": bx },
                { "productId": p_online, "quantity": 3, "unitId": pcs } ] }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["invoice"]["totalAmount"], json!(105), "{}", res.body);
    let l0 = &res.body["invoice"]["products"][0];
    assert_eq!(
        (l0["unitName"].clone(), l0["factor"].clone(), l0["baseQuantity"].clone(), l0["costPerUnit"].clone()),
        (json!("BOX"), json!(10), json!(20), json!(45)),
        "{l0}"
    );
    assert_eq!(l0["priceOverridden"], json!(false), "the box's own price is its catalog price: {l0}");

    // v1: the device sends its prices per unit sold; the piece line is a plain line
    let res = app
        .post(
            "/api/sync",
            Some(&r.token),
            json!({ "invoice": { "create": [{ "totalAmount": 105, "paidAmount": 105, "products": [
                { "productId": p_v1, "itemName": "Pen", "quantity": 2, "costPerUnit": 45, "unitId": bx },
                { "productId": p_v1, "itemName": "Pen", "quantity": 3, "costPerUnit": 5 } ] }] } }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);

    // v2 push: catalog prices
    let res = app
        .post(
            "/api/v2/sync/push",
            Some(&r.token),
            json!({ "operations": [op("invoice", "create", json!({ "paidAmount": 105, "products": [
                { "productId": p_v2, "quantity": 2, "unitId": bx },
                { "productId": p_v2, "quantity": 3 } ] }))] }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["results"][0]["status"], "applied", "{}", res.body);
    assert_eq!(res.body["results"][0]["result"]["totalAmount"], json!(105), "{}", res.body);

    for (door, p) in [("online", &p_online), ("v1", &p_v1), ("v2", &p_v2)] {
        assert_eq!(app.stock_of(p).await, 227, "{door}");
        assert_eq!(listed(&app, &r, p).await["stockDisplay"], "22 BOX 7 PCS", "{door}");
        let inv = invoice_of(&app, p).await;
        assert_eq!(inv.get_i64("totalAmount").unwrap(), 10_500, "{door}: Rs 105.00");
        let l = lines(&inv);
        assert_eq!(l[0], ("BOX".into(), 10, 2, 20, 4500), "{door}");
        assert_eq!((l[1].2, l[1].3, l[1].4), (3, 3, 500), "{door}");
        // the stock movements are in base units
        let moved: i64 = app
            .db
            .collection::<Document>("stockmovements")
            .find(doc! { "itemId": ObjectId::parse_str(p).unwrap(), "reason": "sale" })
            .await
            .unwrap()
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .iter()
            .map(|m| m.get_i64("delta").unwrap())
            .sum();
        assert_eq!(moved, -23, "{door}");
    }
}

use futures::TryStreamExt;

#[tokio::test]
async fn a_unit_the_item_is_not_sold_in_is_refused_on_every_door() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let (pcs, bx) = pcs_and_box(&app, &r).await;
    let ctn =
        unit_ok(&app, &r, json!({ "name": "CTN", "uqc": "CTN", "conversionFactor": 100, "baseUnitId": pcs })).await;
    let p = pen(&app, &r, &pcs, &bx, None).await["_id"].as_str().unwrap().to_string();
    let plain = item(&app, &r, json!({ "name": "Rice", "price": 60, "stock": 10 })).await.body["item"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    // a unit of the shop the pen does not declare, a unit on a plain item, an unknown id
    for (what, product, u) in
        [("undeclared", &p, ctn.clone()), ("plain item", &plain, bx.clone()), ("unknown", &p, ObjectId::new().to_hex())]
    {
        let res = app
            .post(
                "/api/business/invoices/generatewithproducts",
                Some(&r.token),
                json!({ "clientId": r.client_id, "products": [{ "productId": product, "quantity": 1, "unitId": u }] }),
            )
            .await;
        res.assert_envelope(400);
        assert_eq!(res.code(), "UNIT_NOT_SOLD", "{what}: {}", res.body);
        assert!(res.errors().starts_with("products[0].unitId: "), "{what}: {}", res.body);

        let res = app
            .post(
                "/api/sync",
                Some(&r.token),
                json!({ "invoice": { "create": [{ "products": [
                    { "productId": product, "itemName": "x", "quantity": 1, "costPerUnit": 5, "unitId": u } ] }] } }),
            )
            .await;
        assert_eq!((res.status.as_u16(), res.code()), (400, "UNIT_NOT_SOLD"), "{what}: {}", res.body);
        assert!(res.errors().contains("invoice.create[0]"), "{what}: {}", res.body);

        let res = app
            .post(
                "/api/v2/sync/push",
                Some(&r.token),
                json!({ "operations": [op("invoice", "create", json!({ "products": [
                    { "productId": product, "quantity": 1, "unitId": u } ] }))] }),
            )
            .await;
        assert_eq!(res.body["results"][0]["status"], "rejected", "{what}: {}", res.body);
        assert!(
            res.body["results"][0]["reason"].as_str().unwrap().contains(&format!("is not sold in the unit {u}")),
            "{what}: {}",
            res.body
        );
    }
    // a malformed unit id is a field error
    let res = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "clientId": r.client_id, "products": [{ "productId": p, "quantity": 1, "unitId": "box" }] }),
        )
        .await;
    res.assert_envelope(400);
    assert!(res.errors().contains("products[0].unitId"), "{}", res.body);
    let cid = ObjectId::parse_str(&r.client_id).unwrap();
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 0, "nothing billed");
    assert_eq!(app.stock_of(&p).await, 250);
}

#[tokio::test]
async fn a_unit_is_priced_within_its_mrp_on_save_and_on_sale() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let (pcs, bx) = pcs_and_box(&app, &r).await;
    // MRP Rs 7 a piece: a box's MRP is Rs 70 unless it has its own
    let res = item(
        &app,
        &r,
        json!({ "name": "Pen", "price": 5, "mrp": 7, "baseUnitId": pcs, "units": [{ "unitId": bx, "price": 71 }] }),
    )
    .await;
    res.assert_envelope(400);
    assert!(res.errors().contains("units[0].price"), "{}", res.body);
    let res = item(&app, &r, json!({ "name": "Pen", "price": 5, "mrp": 7, "stock": 100, "baseUnitId": pcs, "units": [{ "unitId": bx, "price": 70 }] })).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let p = res.body["item"]["_id"].as_str().unwrap().to_string();
    let sell = |price: f64| json!({ "clientId": r.client_id, "products": [{ "productId": p, "quantity": 1, "unitId": bx, "costPerUnit": price }] });
    let res = app.post("/api/business/invoices/generatewithproducts", Some(&r.token), sell(70.01)).await;
    assert_eq!((res.status.as_u16(), res.code()), (400, "MRP_EXCEEDED"), "{}", res.body);
    let res = app.post("/api/business/invoices/generatewithproducts", Some(&r.token), sell(70.0)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(app.stock_of(&p).await, 90);
}

#[tokio::test]
async fn a_factor_in_use_cannot_change_and_a_unit_in_use_is_not_deleted() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let (pcs, bx) = pcs_and_box(&app, &r).await;
    let ctn =
        unit_ok(&app, &r, json!({ "name": "CTN", "uqc": "CTN", "conversionFactor": 100, "baseUnitId": pcs })).await;
    let p = pen(&app, &r, &pcs, &bx, None).await["_id"].as_str().unwrap().to_string();
    let put = |u: &str, body: Value| {
        let path = format!("/api/business/units/{u}");
        let app = &app;
        let t = r.token.clone();
        async move { app.put(&path, Some(&t), body).await }
    };
    let res = put(&bx, json!({ "conversionFactor": 12 })).await;
    res.assert_envelope(409);
    assert_eq!(res.code(), "UNIT_IN_USE", "{}", res.body);
    // the factor the item and its sales count by is unchanged
    assert_eq!(
        stored_item(&app, &p).await.get_array("units").unwrap()[0].as_document().unwrap().get_i64("factor").unwrap(),
        10
    );
    let res = app.get(&format!("/api/business/units/{bx}"), Some(&r.token)).await;
    assert_eq!(res.body["unit"]["conversionFactor"], json!(10));
    // the same factor again, a rename and a new UQC are fine; the rename reaches the item
    let res = put(&bx, json!({ "conversionFactor": 10, "name": "Box", "uqc": "pac" })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["unit"]["uqc"], "PAC");
    assert_eq!(listed(&app, &r, &p).await["stockDisplay"], "25 Box");
    // a unit no item sells in may change its factor
    let res = put(&ctn, json!({ "conversionFactor": 50 })).await;
    assert_eq!((res.status.as_u16(), res.body["unit"]["conversionFactor"].clone()), (200, json!(50)), "{}", res.body);
    // a base unit's factor stays 1
    let res = put(&pcs, json!({ "conversionFactor": 2 })).await;
    res.assert_envelope(400);
    // deletes: refused while an item sells in it or a unit counts in it
    let res = app.delete(&format!("/api/business/units/{bx}"), Some(&r.token)).await;
    assert_eq!((res.status.as_u16(), res.code()), (409, "UNIT_IN_USE"), "{}", res.body);
    let res = app.delete(&format!("/api/business/units/{pcs}"), Some(&r.token)).await;
    assert_eq!((res.status.as_u16(), res.code()), (409, "UNIT_IN_USE"), "{}", res.body);
    let res = app.delete(&format!("/api/business/units/{ctn}"), Some(&r.token)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    // the item drops its units: the box is free again (its factor may change)
    let res = app
        .put(
            &format!("/api/business/items/{}/{p}", r.client_id),
            Some(&r.token),
            json!({ "units": null, "baseUnitId": null }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body["item"].get("stockDisplay").is_none(), "{}", res.body);
    let res = put(&bx, json!({ "conversionFactor": 12 })).await;
    assert_eq!(res.status, 200, "{}", res.body);
}

#[tokio::test]
async fn unit_rules_names_uqc_and_bases() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let (pcs, bx) = pcs_and_box(&app, &r).await;
    let res = unit(&app, &r, json!({ "name": "box", "uqc": "BOX" })).await;
    assert_eq!((res.status.as_u16(), res.code()), (409, "DUPLICATE"), "names are unique ignoring case: {}", res.body);
    let res = unit(&app, &r, json!({ "name": "Tray", "uqc": "TRAYS" })).await;
    res.assert_envelope(400);
    assert!(res.errors().contains("uqc"), "{}", res.body);
    let res = unit(&app, &r, json!({ "name": "Tray", "uqc": "NOS", "conversionFactor": 0, "baseUnitId": pcs })).await;
    assert!(res.errors().contains("conversionFactor"), "{}", res.body);
    let res = unit(&app, &r, json!({ "name": "Tray", "uqc": "NOS", "conversionFactor": 5 })).await;
    assert!(res.errors().contains("conversionFactor: must be 1 for a base unit"), "{}", res.body);
    // a unit counts in a base unit, never in another derived unit (no chains)
    let res = unit(&app, &r, json!({ "name": "Tray", "uqc": "NOS", "conversionFactor": 5, "baseUnitId": bx })).await;
    res.assert_envelope(400);
    assert!(res.errors().contains("baseUnitId: is not a base unit of this shop"), "{}", res.body);
    let list = app.get("/api/business/units", Some(&r.token)).await;
    let names: Vec<&str> = list.body["units"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["PCS", "BOX"], "base units first: {}", list.body);
    assert_eq!(list.body["units"][0]["baseUnitId"], json!(pcs), "a base unit's base is itself");
    assert_eq!(list.body["units"][0]["isBase"], json!(true));
    // items: units need a base unit, and must count in it
    let kg = unit_ok(&app, &r, json!({ "name": "KG", "uqc": "KGS" })).await;
    let res = item(&app, &r, json!({ "name": "Pen", "price": 5, "units": [{ "unitId": bx }] })).await;
    assert!(res.errors().contains("baseUnitId: is required with units"), "{}", res.body);
    let res = item(&app, &r, json!({ "name": "Pen", "price": 5, "baseUnitId": kg, "units": [{ "unitId": bx }] })).await;
    assert!(res.errors().contains("units[0].unitId: BOX does not count in the item's base unit KG"), "{}", res.body);
    let res = item(&app, &r, json!({ "name": "Pen", "price": 5, "baseUnitId": bx })).await;
    assert!(res.errors().contains("baseUnitId: is not a base unit"), "{}", res.body);
}

#[tokio::test]
async fn a_unit_barcode_is_unique_among_every_item_code_and_a_scan_bills_the_unit() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let (pcs, bx) = pcs_and_box(&app, &r).await;
    let other =
        item(&app, &r, json!({ "name": "Ink", "price": 30, "barcode": "SHOP123", "barcodeType": "shop" })).await;
    assert_eq!(other.status, 201, "{}", other.body);
    // another item's barcode
    let res = item(
        &app,
        &r,
        json!({ "name": "Pen", "price": 5, "baseUnitId": pcs, "units": [{ "unitId": bx, "barcode": "shop123" }] }),
    )
    .await;
    assert_eq!((res.status.as_u16(), res.code()), (409, "DUPLICATE"), "{}", res.body);
    // the item's own barcode
    let res = item(&app, &r, json!({ "name": "Pen", "price": 5, "barcode": "PEN1", "barcodeType": "shop", "baseUnitId": pcs, "units": [{ "unitId": bx, "barcode": "PEN1" }] })).await;
    res.assert_envelope(400);
    assert!(res.errors().contains("units[0].barcode"), "{}", res.body);
    // a carton's own barcode (an EAN-13 with its check digit)
    let p = pen(&app, &r, &pcs, &bx, Some("8901234567894")).await;
    let p = p["_id"].as_str().unwrap().to_string();
    // now no other item may take it, as a SKU, a barcode or a unit barcode
    for body in [
        json!({ "name": "Copy", "price": 5, "sku": "8901234567894" }),
        json!({ "name": "Copy", "price": 5, "barcode": "8901234567894" }),
        json!({ "name": "Copy", "price": 5, "baseUnitId": pcs, "units": [{ "unitId": bx, "barcode": "8901234567894" }] }),
    ] {
        let res = item(&app, &r, body.clone()).await;
        assert_eq!((res.status.as_u16(), res.code()), (409, "DUPLICATE"), "{body}: {}", res.body);
    }
    // the scan of the carton answers the item and the unit; the item's own code answers no unit
    let res = app.get("/api/business/items/lookup?code=8901234567894", Some(&r.token)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["item"]["_id"], json!(p));
    assert_eq!(res.body["unit"], json!({ "unitId": bx, "name": "BOX", "factor": 10, "price": 45 }), "{}", res.body);
    let res = app.get("/api/business/items/lookup?code=SHOP123", Some(&r.token)).await;
    assert!(res.body.get("unit").is_none(), "{}", res.body);
    // billing the scanned unit
    let res = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "clientId": r.client_id, "products": [{ "productId": p, "quantity": 1, "unitId": bx }] }),
        )
        .await;
    assert_eq!((res.status.as_u16(), res.body["invoice"]["totalAmount"].clone()), (201, json!(45)), "{}", res.body);
}

#[tokio::test]
async fn units_are_the_shops_own_a_foreign_unit_answers_like_a_missing_one() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let b = app.register(&phone()).await;
    let (pcs, bx) = pcs_and_box(&app, &a).await;
    let missing = ObjectId::new().to_hex();
    for u in [&bx, &missing] {
        let get = app.get(&format!("/api/business/units/{u}"), Some(&b.token)).await;
        let put = app.put(&format!("/api/business/units/{u}"), Some(&b.token), json!({ "conversionFactor": 3 })).await;
        let del = app.delete(&format!("/api/business/units/{u}"), Some(&b.token)).await;
        for res in [get, put, del] {
            res.assert_envelope(404);
            assert_eq!(res.body["message"], "Unit not found");
        }
    }
    assert_eq!(app.get("/api/business/units", Some(&b.token)).await.body["units"], json!([]));
    // shop B cannot build on A's units: as a base, or as a unit of its item
    let res = unit(&app, &b, json!({ "name": "BOX", "uqc": "BOX", "conversionFactor": 10, "baseUnitId": pcs })).await;
    assert!(res.errors().contains("baseUnitId: is not a base unit of this shop"), "{}", res.body);
    let b_pcs = unit_ok(&app, &b, json!({ "name": "PCS", "uqc": "PCS" })).await;
    for u in [&bx, &missing] {
        let res =
            item(&app, &b, json!({ "name": "Pen", "price": 5, "baseUnitId": b_pcs, "units": [{ "unitId": u }] })).await;
        res.assert_envelope(400);
        assert_eq!(res.errors(), "units[0].unitId: no such unit", "{}", res.body);
    }
    // A's factor is untouched and A's name is free in B
    assert_eq!(
        app.get(&format!("/api/business/units/{bx}"), Some(&a.token)).await.body["unit"]["conversionFactor"],
        json!(10)
    );
}

#[tokio::test]
async fn an_item_without_units_reads_and_sells_as_before() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    pcs_and_box(&app, &r).await; // the shop has units; this item uses none
    let res = item(&app, &r, json!({ "name": "Bulb", "price": 50, "stock": 30 })).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let mut keys: Vec<String> = res.body["item"].as_object().unwrap().keys().cloned().collect();
    keys.sort();
    let mut v1 = vec![
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
    v1.sort();
    assert_eq!(keys, v1, "{}", res.body);
    let id = res.body["item"]["_id"].as_str().unwrap().to_string();
    let stored = stored_item(&app, &id).await;
    assert!(!stored.contains_key("units") && !stored.contains_key("baseUnitId"), "{stored}");
    let res = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "clientId": r.client_id, "products": [{ "productId": id, "quantity": 2 }] }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let line = res.body["invoice"]["products"][0].as_object().unwrap();
    for k in ["unitId", "unitName", "factor", "baseQuantity"] {
        assert!(!line.contains_key(k), "{k} on a plain line: {line:?}");
    }
    let inv = invoice_of(&app, &id).await;
    let l = inv.get_array("products").unwrap()[0].as_document().unwrap().clone();
    assert!(!l.contains_key("unit") && !l.contains_key("baseQuantity"), "{l}");
    assert_eq!(app.stock_of(&id).await, 28);
    // v1 download keeps its shape
    let res = app.get(&format!("/api/business/items/{}", r.client_id), Some(&r.token)).await;
    let listed = res.body["items"].as_array().unwrap().iter().find(|i| i["_id"] == json!(id)).unwrap().clone();
    let mut keys: Vec<String> = listed.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, v1);
}

#[tokio::test]
async fn the_pull_carries_units() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let (pcs, bx) = pcs_and_box(&app, &r).await;
    let p = pen(&app, &r, &pcs, &bx, None).await["_id"].as_str().unwrap().to_string();
    let pull = app.get("/api/v2/sync/pull?limit=2000", Some(&r.token)).await;
    assert_eq!(pull.status, 200, "{}", pull.body);
    let changes = pull.body["changes"].as_array().unwrap();
    let find = |coll: &str, id: &str| changes.iter().find(|c| c["collection"] == coll && c["id"] == json!(id)).cloned();
    let u = find("units", &bx).expect("the box in the pull");
    assert_eq!(
        (u["op"].clone(), u["doc"]["conversionFactor"].clone(), u["doc"]["baseUnitId"].clone()),
        (json!("upsert"), json!(10), json!(pcs))
    );
    let i = find("items", &p).expect("the pen in the pull");
    assert_eq!(i["doc"]["stockDisplay"], "25 BOX");
    // a deleted unit reads as a tombstone
    let ctn =
        unit_ok(&app, &r, json!({ "name": "CTN", "uqc": "CTN", "conversionFactor": 100, "baseUnitId": pcs })).await;
    assert_eq!(app.delete(&format!("/api/business/units/{ctn}"), Some(&r.token)).await.status, 200);
    let pull = app.get("/api/v2/sync/pull?limit=2000", Some(&r.token)).await;
    let gone = pull.body["changes"].as_array().unwrap().iter().find(|c| c["id"] == json!(ctn)).cloned().unwrap();
    assert_eq!(
        (gone["collection"].clone(), gone["op"].clone(), gone["doc"].clone()),
        (json!("units"), json!("delete"), Value::Null)
    );
}

/// The v2 push sells by scanned code (issue 16): the carton's barcode names the item and its
/// box, the piece's SKU the item in pieces; the known answer holds; an unknown code, or
/// another shop's, rejects the operation naming `products[i].code`.
#[tokio::test]
async fn a_v2_sale_by_scanned_codes_bills_the_unit_the_code_names() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let (pcs, bx) = pcs_and_box(&app, &r).await;
    let p = pen(&app, &r, &pcs, &bx, Some("8901234567897")).await;
    let id = p["_id"].as_str().unwrap().to_string();
    let sku =
        app.put(&format!("/api/business/items/{}/{id}", r.client_id), Some(&r.token), json!({ "sku": "PEN-1" })).await;
    assert_eq!(sku.status, 200, "{}", sku.body);
    let other = app.register(&phone()).await;
    let theirs = item(&app, &other, json!({ "name": "Their pen", "price": 1, "sku": "THEIRS-1" })).await;
    assert_eq!(theirs.status, 201, "{}", theirs.body);

    let res = app
        .post(
            "/api/v2/sync/push",
            Some(&r.token),
            json!({ "operations": [
                op("invoice", "create", json!({ "paidAmount": 105, "products": [
                    { "code": "8901234567897", "quantity": 2 },
                    { "code": "pen-1", "quantity": 3 } ] })),
                op("invoice", "create", json!({ "paidAmount": 1, "products": [{ "code": "THEIRS-1", "quantity": 1 }] })),
                op("invoice", "create", json!({ "paidAmount": 1, "products": [{ "code": "NOPE", "quantity": 1 }] })),
                op("invoice", "create", json!({ "paidAmount": 5, "products": [{ "code": "PEN-1", "productId": id, "quantity": 1 }] })),
            ] }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let st: Vec<&str> = res.body["results"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(st, ["applied", "rejected", "rejected", "rejected"], "{}", res.body);
    assert_eq!(res.body["results"][0]["result"]["totalAmount"], json!(105), "{}", res.body);
    for k in 1..=3 {
        let reason = res.body["results"][k]["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("products[0].code"), "{reason}");
    }
    assert_eq!(app.stock_of(&id).await, 227);
    let inv = invoice_of(&app, &id).await;
    assert_eq!(lines(&inv)[0], ("BOX".into(), 10, 2, 20, 4500));
}

/// A dealer order line in a packing unit (issue 16): the line keeps the unit, its factor and
/// the base quantity; delivery receives factor base units for each unit received; a unit the
/// item is not sold in is a 400 naming the line.
#[tokio::test]
async fn a_dealer_order_in_boxes_receives_base_units() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let (pcs, bx) = pcs_and_box(&app, &r).await;
    let d = app.post("/api/dealer", Some(&r.token), json!({ "name": "Stationery Mart" })).await;
    assert_eq!(d.status, 201, "{}", d.body);
    let dealer = d.body["dealer"]["_id"].as_str().unwrap().to_string();
    let res = item(
        &app,
        &r,
        json!({ "name": "Pen", "price": 5, "stock": 250, "baseUnitId": pcs, "units": [{ "unitId": bx, "price": 45 }],
                "dealerIds": [dealer] }),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let pen = res.body["item"]["_id"].as_str().unwrap().to_string();
    let other =
        unit_ok(&app, &r, json!({ "name": "CTN", "uqc": "CTN", "conversionFactor": 100, "baseUnitId": pcs })).await;
    let bad = app
        .post(
            "/api/dealer/orders",
            Some(&r.token),
            json!({ "dealerId": dealer, "items": [{ "itemId": pen, "quantity": 1, "unitId": other }] }),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.errors().contains("items[0].unitId"), "{}", bad.body);

    let o = app
        .post(
            "/api/dealer/orders",
            Some(&r.token),
            json!({ "dealerId": dealer, "items": [
                { "itemId": pen, "quantity": 3, "unitId": bx }, { "itemId": pen, "quantity": 5 } ] }),
        )
        .await;
    assert_eq!(o.status, 201, "{}", o.body);
    let order = o.body["order"]["_id"].as_str().unwrap().to_string();
    let lines: Vec<Document> = {
        use futures::TryStreamExt;
        app.db
            .collection::<Document>("dealerorderitems")
            .find(doc! { "orderId": ObjectId::parse_str(&order).unwrap() })
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap()
    };
    let boxed = lines.iter().find(|l| l.get_document("unit").is_ok()).expect("a line in boxes");
    assert_eq!(boxed.get_document("unit").unwrap().get_i64("factor").unwrap(), 10);
    let res = app.post(&format!("/api/dealer/orders/{order}/mark-delivered"), Some(&r.token), json!({})).await;
    assert_eq!(res.status, 200, "{}", res.body);
    // 250 + 3 x 10 + 5
    assert_eq!(app.stock_of(&pen).await, 285);
    assert_eq!(listed(&app, &r, &pen).await["stockDisplay"], "28 BOX 5 PCS");
}
