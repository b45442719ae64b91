//! Issue 16, products: a product groups the variants of one article (items naming it with
//! `variantOf`) and carries what they share; a variant without its own tax code takes the
//! product's, then its category's. The same `variantOf` rule on every door (online, v1, v2),
//! deletes refused while referenced, tenant isolation, and the pull.

use bson::{doc, oid::ObjectId};
use serde_json::{json, Value};

use crate::helpers::{phone, Registered, TestApp};

fn op(entity: &str, kind: &str, payload: Value) -> Value {
    json!({ "opId": uuid::Uuid::new_v4().to_string(), "entity": entity, "kind": kind,
            "deviceTime": chrono::Utc::now().to_rfc3339(), "payload": payload })
}

async fn post_ok(app: &TestApp, r: &Registered, path: &str, body: Value) -> Value {
    let res = app.post(path, Some(&r.token), body).await;
    assert_eq!(res.status, 201, "{path}: {}", res.body);
    res.body
}

/// Seed 004's notebook: one product (brand, category, 12 % then nil from 22 September 2025),
/// variants in two rulings created through each door; the product page lists them with the
/// product's tax code, a variant with its own code keeps it.
#[tokio::test]
async fn a_products_variants_share_its_tax_code_through_every_door() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let co = post_ok(&app, &r, "/api/business/companies", json!({ "name": "ITC" })).await;
    let brand =
        post_ok(&app, &r, "/api/business/brands", json!({ "name": "Classmate", "companyId": co["company"]["_id"] }))
            .await["brand"]["_id"]
            .clone();
    let group = post_ok(&app, &r, "/api/business/item-groups", json!({ "name": "Notebooks" })).await["itemGroup"]
        ["_id"]
        .clone();
    let p = post_ok(
        &app,
        &r,
        "/api/business/products",
        json!({ "name": "Classmate long notebook", "brandId": brand, "groupId": group,
                "imageUrls": ["https://img.example/nb.jpg"],
                "tax": { "hsnCode": "4820", "uqc": "NOS", "rates": [
                    { "from": "2017-07-01", "gstRate": 12 }, { "from": "2025-09-22", "taxability": "nilRated" } ] } }),
    )
    .await;
    let product = p["product"]["_id"].as_str().unwrap().to_string();
    assert_eq!(p["product"]["tax"]["source"], "product", "{p}");
    assert_eq!(p["product"]["tax"]["taxability"], "nilRated");

    // online, v1 and v2 variants
    let single = post_ok(
        &app,
        &r,
        "/api/business/items",
        json!({ "name": "Classmate long 172pp single line", "price": 60, "variantOf": product, "lineType": "single line", "sku": "CM-172-SL" }),
    )
    .await["item"]
    .clone();
    assert_eq!(single["variantOf"], product.as_str(), "{single}");
    let v1 = app
        .post(
            "/api/sync",
            Some(&r.token),
            json!({ "item": { "create": [{ "name": "Classmate long 172pp four line", "price": 60, "variantOf": product }] } }),
        )
        .await;
    assert_eq!(v1.status, 200, "{}", v1.body);
    let v2 = app
        .post(
            "/api/v2/sync/push",
            Some(&r.token),
            json!({ "operations": [op("item", "create", json!({ "name": "Classmate long 240pp ruled", "price": 80,
                "variantOf": product, "tax": { "gstRate": 18 } }))] }),
        )
        .await;
    assert_eq!(v2.body["results"][0]["status"], "applied", "{}", v2.body);

    let page = app.get(&format!("/api/business/products/{product}"), Some(&r.token)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let variants = page.body["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 3, "{}", page.body);
    for v in variants {
        let (src, rate) = (v["tax"]["source"].as_str().unwrap(), v["tax"]["gstRate"].as_f64().unwrap());
        if v["name"] == "Classmate long 240pp ruled" {
            assert_eq!((src, rate), ("item", 18.0), "{v}");
        } else {
            assert_eq!((src, rate, v["tax"]["hsnCode"].as_str()), ("product", 0.0, Some("4820")), "{v}");
        }
    }
    // the item list and the scan answer the same
    let found = app.get("/api/business/items/lookup?code=CM-172-SL", Some(&r.token)).await;
    assert_eq!(found.body["item"]["tax"]["source"], "product", "{}", found.body);
    let list = app.get("/api/business/products?q=LONG", Some(&r.token)).await;
    assert_eq!(list.body["products"].as_array().unwrap().len(), 1, "{}", list.body);
    let by_brand =
        app.get(&format!("/api/business/products?brandId={}", brand.as_str().unwrap()), Some(&r.token)).await;
    assert_eq!(by_brand.body["products"].as_array().unwrap().len(), 1, "{}", by_brand.body);

    // a variant without a product tax code and without its own takes its product's category's
    let cat = app
        .put(
            &format!("/api/business/item-groups/{}/{}", r.client_id, group.as_str().unwrap()),
            Some(&r.token),
            json!({ "tax": { "gstRate": 5 } }),
        )
        .await;
    assert_eq!(cat.status, 200, "{}", cat.body);
    let cleared = app.put(&format!("/api/business/products/{product}"), Some(&r.token), json!({ "tax": null })).await;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    let found = app.get("/api/business/items/lookup?code=CM-172-SL", Some(&r.token)).await;
    assert_eq!(
        (found.body["item"]["tax"]["source"].as_str(), found.body["item"]["tax"]["gstRate"].as_f64()),
        (Some("category"), Some(5.0)),
        "{}",
        found.body
    );
}

/// `variantOf` must be a product of the shop on every door; a product or brand in use is not
/// deleted; another shop's product answers like a missing one.
#[tokio::test]
async fn variant_references_are_checked_and_deletes_refused_while_referenced() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let other = app.register(&phone()).await;
    let theirs = post_ok(&app, &other, "/api/business/products", json!({ "name": "Their pen" })).await["product"]
        ["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let cid = ObjectId::parse_str(&r.client_id).unwrap();

    let online = app
        .post("/api/business/items", Some(&r.token), json!({ "name": "Pen", "price": 5, "variantOf": theirs }))
        .await;
    assert_eq!(online.status, 400, "{}", online.body);
    assert!(online.errors().contains("variantOf"), "{}", online.body);
    let v1 = app
        .post(
            "/api/sync",
            Some(&r.token),
            json!({ "item": { "create": [{ "name": "Pen", "price": 5, "variantOf": theirs }] } }),
        )
        .await;
    assert_eq!(v1.status, 400, "{}", v1.body);
    let v2 = app
        .post(
            "/api/v2/sync/push",
            Some(&r.token),
            json!({ "operations": [op("item", "create", json!({ "name": "Pen", "price": 5, "variantOf": theirs }))] }),
        )
        .await;
    assert_eq!(v2.body["results"][0]["status"], "rejected", "{}", v2.body);
    assert!(v2.body["results"][0]["reason"].as_str().unwrap_or_default().contains("variantOf"), "{}", v2.body);
    let bad =
        app.post("/api/business/items", Some(&r.token), json!({ "name": "Pen", "price": 5, "variantOf": "zz" })).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(app.count("items", doc! { "clientId": cid }).await, 0);
    // reads, edits and deletes of another shop's product: 404
    for res in [
        app.get(&format!("/api/business/products/{theirs}"), Some(&r.token)).await,
        app.put(&format!("/api/business/products/{theirs}"), Some(&r.token), json!({ "name": "Mine now" })).await,
        app.delete(&format!("/api/business/products/{theirs}"), Some(&r.token)).await,
    ] {
        assert_eq!(res.status, 404, "{}", res.body);
    }
    assert_eq!(app.get("/api/business/products", Some(&r.token)).await.body["products"], json!([]));

    // in use: a brand named by a product, a product named by an item
    let co = post_ok(&app, &r, "/api/business/companies", json!({ "name": "Reynolds" })).await;
    let brand =
        post_ok(&app, &r, "/api/business/brands", json!({ "name": "Trimax", "companyId": co["company"]["_id"] })).await
            ["brand"]["_id"]
            .as_str()
            .unwrap()
            .to_string();
    let product = post_ok(&app, &r, "/api/business/products", json!({ "name": "Trimax pen", "brandId": brand })).await
        ["product"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let item =
        post_ok(&app, &r, "/api/business/items", json!({ "name": "Trimax blue", "price": 50, "variantOf": product }))
            .await["item"]["_id"]
            .as_str()
            .unwrap()
            .to_string();
    let res = app.delete(&format!("/api/business/brands/{brand}"), Some(&r.token)).await;
    assert_eq!(res.status, 409, "{}", res.body);
    let res = app.delete(&format!("/api/business/products/{product}"), Some(&r.token)).await;
    assert_eq!(res.status, 409, "{}", res.body);
    let res = app
        .put(&format!("/api/business/items/{}/{item}", r.client_id), Some(&r.token), json!({ "variantOf": "" }))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body["item"].get("variantOf").is_none(), "{}", res.body);
    let res = app.delete(&format!("/api/business/products/{product}"), Some(&r.token)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = app.delete(&format!("/api/business/brands/{brand}"), Some(&r.token)).await;
    assert_eq!(res.status, 200, "{}", res.body);

    // bad product input is a 400 naming the field
    for (body, field) in [
        (json!({ "name": "x" }), "name"),
        (json!({ "name": "Pen", "brandId": ObjectId::new().to_hex() }), "brandId"),
        (json!({ "name": "Pen", "imageUrls": ["ftp://x"] }), "imageUrls"),
        (json!({ "name": "Pen", "tax": { "hsnCode": "12" } }), "tax.hsnCode"),
        (json!({ "name": "Pen", "stock": 5 }), "stock"),
    ] {
        let res = app.post("/api/business/products", Some(&r.token), body.clone()).await;
        assert_eq!(res.status, 400, "{body}: {}", res.body);
        assert!(res.errors().contains(field), "{body}: {}", res.body);
    }
}

/// A group delete leaves its products without a category, and the pull carries products.
#[tokio::test]
async fn a_category_delete_ungroups_products_and_the_pull_carries_them() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let group = post_ok(&app, &r, "/api/business/item-groups", json!({ "name": "Pens" })).await["itemGroup"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let product = post_ok(&app, &r, "/api/business/products", json!({ "name": "Gel pen", "groupId": group })).await
        ["product"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let pull = app.get("/api/v2/sync/pull", Some(&r.token)).await;
    assert_eq!(pull.status, 200, "{}", pull.body);
    let changes = pull.body["changes"].as_array().unwrap();
    let p = changes.iter().find(|c| c["collection"] == "products").unwrap_or_else(|| panic!("{}", pull.body));
    assert_eq!((p["id"].as_str(), p["doc"]["groupId"].as_str()), (Some(product.as_str()), Some(group.as_str())));
    assert!(changes.iter().any(|c| c["collection"] == "itemGroups" && c["id"] == group.as_str()), "{}", pull.body);
    let cursor = match &pull.body["nextCursor"] {
        Value::String(c) => c.clone(),
        other => other.to_string(),
    };

    let res = app.delete(&format!("/api/business/item-groups/{}/{group}", r.client_id), Some(&r.token)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let page = app.get(&format!("/api/business/products/{product}"), Some(&r.token)).await;
    assert!(page.body["product"]["groupId"].is_null(), "{}", page.body);
    let pull = app.get(&format!("/api/v2/sync/pull?cursor={cursor}"), Some(&r.token)).await;
    let changes = pull.body["changes"].as_array().unwrap();
    assert!(changes.iter().any(|c| c["collection"] == "products" && c["doc"]["groupId"].is_null()), "{}", pull.body);
    assert!(changes.iter().any(|c| c["collection"] == "itemGroups" && c["op"] == "delete"), "{}", pull.body);
}
