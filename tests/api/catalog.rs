//! B1-B8: item groups and items against the real database.

use bson::{doc, oid::ObjectId, Document};
use futures::TryStreamExt;
use serde_json::{json, Value};

use crate::helpers::{phone, Registered, TestApp};

pub async fn group(app: &TestApp, reg: &Registered, name: &str) -> Value {
    let r = app
        .post("/api/business/item-groups", Some(&reg.token), json!({ "clientId": reg.client_id, "name": name }))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["itemGroup"].clone()
}

pub async fn item(app: &TestApp, reg: &Registered, body: Value) -> Value {
    let mut b = json!({ "clientId": reg.client_id, "name": "Carburetor", "price": 2500 });
    for (k, v) in body.as_object().unwrap() {
        b[k] = v.clone();
    }
    let r = app.post("/api/business/items", Some(&reg.token), b).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["item"].clone()
}

/// A dealer row of `client` (the dealer module owns the endpoints; the catalog only checks ownership).
/// A dealer of this client, created through the dealer API (D1).
pub async fn dealer(app: &TestApp, reg: &Registered) -> String {
    let name = format!("Supplier {}", &ObjectId::new().to_hex()[18..]);
    let r =
        app.post("/api/dealer", Some(&reg.token), serde_json::json!({ "clientId": reg.client_id, "name": name })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["dealer"]["_id"].as_str().unwrap().to_string()
}

async fn count(app: &TestApp, coll: &str) -> u64 {
    app.db.collection::<Document>(coll).count_documents(doc! {}).await.unwrap()
}

async fn stored_item(app: &TestApp, id: &str) -> Document {
    let id = ObjectId::parse_str(id).unwrap();
    app.db.collection::<Document>("items").find_one(doc! { "_id": id }).await.unwrap().unwrap()
}

#[tokio::test]
async fn groups_create_list_update_with_v1_shapes() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let r = app
        .post(
            "/api/business/item-groups",
            Some(&reg.token),
            json!({ "clientId": reg.client_id, "name": "  Engine Parts ", "description": "All engine parts" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["success"], true);
    let g = &r.body["itemGroup"];
    assert_eq!(g["name"], "Engine Parts");
    assert_eq!(g["clientId"], reg.client_id.as_str());
    assert_eq!(g["description"], "All engine parts");
    assert_eq!(g["__v"], 0);
    assert!(g["_id"].as_str().unwrap().len() == 24 && g["createdAt"].as_str().unwrap().ends_with('Z'));
    group(&app, &reg, "Brake Parts").await;
    // clientId is optional in the body (the token decides)
    let r = app.post("/api/business/item-groups", Some(&reg.token), json!({ "name": "Axles" })).await;
    assert_eq!(r.status, 201, "{}", r.body);

    let r = app.get(&format!("/api/business/item-groups/{}", reg.client_id), Some(&reg.token)).await;
    assert_eq!(r.status, 200);
    let names: Vec<&str> =
        r.body["itemGroups"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Axles", "Brake Parts", "Engine Parts"], "sorted by name");

    let gid = g["_id"].as_str().unwrap();
    let path = format!("/api/business/item-groups/{}/{gid}", reg.client_id);
    let r = app.put(&path, Some(&reg.token), json!({ "name": "Engine", "description": "" })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["itemGroup"]["name"], "Engine");
    assert_eq!(r.body["itemGroup"]["description"], "");
    // empty body: accepted (v1), nothing but updatedAt changes
    let r = app.put(&path, Some(&reg.token), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["itemGroup"]["name"], "Engine");
    // missing group: 404 (v1 answered 500)
    let r = app
        .put(&format!("/api/business/item-groups/{}/{}", reg.client_id, ObjectId::new()), Some(&reg.token), json!({}))
        .await;
    r.assert_envelope(404);
}

#[tokio::test]
async fn duplicate_group_name_is_409_ignoring_case_and_per_client() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let other = app.register(&phone()).await;
    group(&app, &reg, "Engine Parts").await;
    for name in ["Engine Parts", "engine parts", "ENGINE PARTS "] {
        let r = app.post("/api/business/item-groups", Some(&reg.token), json!({ "name": name })).await;
        r.assert_envelope(409);
        assert_eq!(r.code(), "DUPLICATE");
    }
    // renaming onto an existing name (any case) is a 409 too
    let b = group(&app, &reg, "Brakes").await;
    let r = app
        .put(
            &format!("/api/business/item-groups/{}/{}", reg.client_id, b["_id"].as_str().unwrap()),
            Some(&reg.token),
            json!({ "name": "ENGINE parts" }),
        )
        .await;
    r.assert_envelope(409);
    // another shop may use the same name
    group(&app, &other, "Engine Parts").await;
    assert_eq!(count(&app, "itemgroups").await, 3);
}

#[tokio::test]
async fn group_delete_is_real_and_ungroups_its_items_in_the_db() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let g = group(&app, &reg, "Engine Parts").await;
    let keep = group(&app, &reg, "Brakes").await;
    let gid = g["_id"].as_str().unwrap();
    let a = item(&app, &reg, json!({ "name": "Piston", "groupId": gid })).await;
    let b = item(&app, &reg, json!({ "name": "Gasket", "groupId": gid })).await;
    let c = item(&app, &reg, json!({ "name": "Brake pad", "groupId": keep["_id"] })).await;
    assert_eq!(a["groupId"], gid);

    let path = format!("/api/business/item-groups/{}/{gid}", reg.client_id);
    let r = app.delete(&path, Some(&reg.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["message"].is_string());
    assert_eq!(r.body["ungroupedItems"], 2);

    let groups = app.db.collection::<Document>("itemgroups");
    assert!(groups.find_one(doc! { "_id": ObjectId::parse_str(gid).unwrap() }).await.unwrap().is_none());
    for it in [&a, &b] {
        let d = stored_item(&app, it["_id"].as_str().unwrap()).await;
        assert_eq!(d.get("groupId"), Some(&bson::Bson::Null), "ungrouped");
        assert!(d.get_bool("isActive").unwrap(), "items stay");
    }
    let d = stored_item(&app, c["_id"].as_str().unwrap()).await;
    assert_eq!(d.get_object_id("groupId").unwrap().to_hex(), keep["_id"].as_str().unwrap());
    let r = app.get(&format!("/api/business/item-groups/{}", reg.client_id), Some(&reg.token)).await;
    assert_eq!(r.body["itemGroups"].as_array().unwrap().len(), 1);
    let r = app.get(&format!("/api/business/items/{}", reg.client_id), Some(&reg.token)).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 3);
    // gone: a second delete is a 404
    app.delete(&path, Some(&reg.token)).await.assert_envelope(404);
    // the name is free again
    group(&app, &reg, "engine parts").await;
}

#[tokio::test]
async fn item_create_list_update_with_v1_shapes_and_paise_storage() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let g = group(&app, &reg, "Engine").await;
    let d1 = dealer(&app, &reg).await;
    let r = app
        .post(
            "/api/business/items",
            Some(&reg.token),
            json!({
                "clientId": reg.client_id, "name": "Carburetor", "price": 2500.5, "stock": 50,
                "lowStockQuantity": 3, "unit": "pcs", "groupId": g["_id"], "dealerIds": [d1],
                "description": "2-barrel"
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let it = &r.body["item"];
    let id = it["_id"].as_str().unwrap();
    assert_eq!(it["productId"], id);
    assert_eq!(it["clientId"], reg.client_id.as_str());
    assert_eq!(it["price"], json!(2500.5));
    assert_eq!(it["groupId"], g["_id"]);
    assert_eq!(it["dealerIds"], json!([d1]));
    assert_eq!((it["stock"].clone(), it["lowStockQuantity"].clone()), (json!(50), json!(3)));
    assert_eq!((it["unit"].as_str(), it["isActive"].as_bool()), (Some("pcs"), Some(true)));
    let stored = stored_item(&app, id).await;
    assert_eq!(stored.get_i64("price").unwrap(), 250050, "paise in the database");
    assert_eq!(stored.get_i64("stock").unwrap(), 50);
    // the opening stock is recorded as a stock movement
    let moves = app.db.collection::<Document>("stockmovements").count_documents(doc! {}).await.unwrap();
    assert_eq!(moves, 1);

    // defaults
    let plain = item(&app, &reg, json!({ "name": "Bolt", "price": 0 })).await;
    assert_eq!(plain["price"], json!(0));
    assert_eq!(plain["stock"], json!(0));
    assert_eq!(plain["lowStockQuantity"], json!(5));
    assert_eq!(plain["unit"], "nos");
    assert_eq!(plain["groupId"], Value::Null);
    assert_eq!(plain["dealerIds"], json!([]));
    assert_eq!(plain["description"], "");

    let r = app.get(&format!("/api/business/items/{}", reg.client_id), Some(&reg.token)).await;
    assert_eq!(r.status, 200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["productId"] == i["_id"]));
    assert!(r.body.get("nextCursor").is_none(), "unpaged list has no cursor");

    // update: productId included (v1 omitted it), stock adjustment recorded
    let path = format!("/api/business/items/{}/{id}", reg.client_id);
    let r = app
        .put(
            &path,
            Some(&reg.token),
            json!({ "price": 99.99, "stock": 45, "name": "Carb", "groupId": null, "dealerIds": [] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let it = &r.body["item"];
    assert_eq!(it["productId"], id);
    assert_eq!(it["price"], json!(99.99));
    assert_eq!(it["stock"], json!(45));
    assert_eq!(it["groupId"], Value::Null);
    assert_eq!(it["dealerIds"], json!([]));
    assert_eq!(it["unit"], "pcs", "untouched fields stay");
    let mv = app
        .db
        .collection::<Document>("stockmovements")
        .find(doc! { "itemId": ObjectId::parse_str(id).unwrap() })
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let deltas: Vec<i64> = mv.iter().map(|m| m.get_i64("delta").unwrap()).collect();
    assert_eq!(deltas, [50, -5]);
    let reasons: Vec<&str> = mv.iter().map(|m| m.get_str("reason").unwrap()).collect();
    assert_eq!(reasons, ["opening", "other"], "opening stock, then an edit's adjustment (default reason)");
    // regroup
    let r = app.put(&path, Some(&reg.token), json!({ "groupId": g["_id"] })).await;
    assert_eq!(r.body["item"]["groupId"], g["_id"]);
}

#[tokio::test]
async fn price_is_parsed_exactly_in_rupees_and_strictly() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let it = item(&app, &reg, json!({ "price": 12.5 })).await;
    assert_eq!(it["price"], json!(12.5));
    assert_eq!(stored_item(&app, it["_id"].as_str().unwrap()).await.get_i64("price").unwrap(), 1250);
    let zero = item(&app, &reg, json!({ "price": 0 })).await;
    assert_eq!(zero["price"], json!(0));
    let tiny = item(&app, &reg, json!({ "price": 0.1 })).await;
    assert_eq!(stored_item(&app, tiny["_id"].as_str().unwrap()).await.get_i64("price").unwrap(), 10);
    for bad in [json!(12.345), json!(-1), json!("12"), json!(null), json!(true), json!(1e15)] {
        let r = app.post("/api/business/items", Some(&reg.token), json!({ "name": "Bad", "price": bad })).await;
        r.assert_envelope(400);
        assert!(r.errors().contains("price"), "{bad}: {}", r.errors());
    }
    let r = app.post("/api/business/items", Some(&reg.token), json!({ "name": "Bad" })).await;
    r.assert_envelope(400);
    assert!(r.errors().contains("price: is required"), "{}", r.errors());
    assert_eq!(count(&app, "items").await, 3, "nothing written by the rejected requests");
    // and on update
    let path = format!("/api/business/items/{}/{}", reg.client_id, it["_id"].as_str().unwrap());
    for bad in [json!(12.345), json!(-0.01), json!("5")] {
        app.put(&path, Some(&reg.token), json!({ "price": bad })).await.assert_envelope(400);
    }
    assert_eq!(stored_item(&app, it["_id"].as_str().unwrap()).await.get_i64("price").unwrap(), 1250);
}

#[tokio::test]
async fn unit_must_be_one_of_the_enum() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    for u in ["nos", "kg", "litre", "meter", "pcs"] {
        assert_eq!(item(&app, &reg, json!({ "unit": u })).await["unit"], u);
    }
    for u in [json!("box"), json!("KG"), json!(""), json!(3)] {
        let r = app.post("/api/business/items", Some(&reg.token), json!({ "name": "X1", "price": 1, "unit": u })).await;
        r.assert_envelope(400);
        assert!(r.errors().contains("unit"), "{}", r.errors());
    }
    let it = item(&app, &reg, json!({})).await;
    let path = format!("/api/business/items/{}/{}", reg.client_id, it["_id"].as_str().unwrap());
    app.put(&path, Some(&reg.token), json!({ "unit": "gram" })).await.assert_envelope(400);
    assert_eq!(count(&app, "items").await, 6);
}

#[tokio::test]
async fn foreign_or_missing_group_and_dealer_ids_are_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let other = app.register(&phone()).await;
    let foreign_group = group(&app, &other, "Theirs").await["_id"].as_str().unwrap().to_string();
    let foreign_dealer = dealer(&app, &other).await;
    let mine = dealer(&app, &reg).await;
    let missing = ObjectId::new().to_hex();
    let cases = [
        (json!({ "groupId": foreign_group }), "groupId"),
        (json!({ "groupId": missing }), "groupId"),
        (json!({ "groupId": "not-an-id" }), "groupId"),
        (json!({ "dealerIds": [mine, foreign_dealer] }), "dealerIds"),
        (json!({ "dealerIds": [missing] }), "dealerIds"),
        (json!({ "dealerIds": [mine, mine] }), "dealerIds"),
        (json!({ "dealerIds": ["xyz"] }), "dealerIds"),
    ];
    for (extra, field) in &cases {
        let mut body = json!({ "name": "Piston", "price": 10 });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app.post("/api/business/items", Some(&reg.token), body).await;
        r.assert_envelope(400);
        assert!(r.errors().contains(field), "{extra}: {}", r.errors());
    }
    assert_eq!(count(&app, "items").await, 0);
    let it = item(&app, &reg, json!({ "dealerIds": [mine] })).await;
    let path = format!("/api/business/items/{}/{}", reg.client_id, it["_id"].as_str().unwrap());
    for (extra, field) in &cases {
        let r = app.put(&path, Some(&reg.token), extra.clone()).await;
        r.assert_envelope(400);
        assert!(r.errors().contains(field), "{extra}: {}", r.errors());
    }
    let d = stored_item(&app, it["_id"].as_str().unwrap()).await;
    assert_eq!(d.get_array("dealerIds").unwrap().len(), 1);
    assert_eq!(d.get("groupId"), Some(&bson::Bson::Null));
}

#[tokio::test]
async fn soft_delete_hides_the_item_from_the_list_but_keeps_it() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let a = item(&app, &reg, json!({ "name": "Alpha" })).await;
    item(&app, &reg, json!({ "name": "Beta" })).await;
    let id = a["_id"].as_str().unwrap();
    let path = format!("/api/business/items/{}/{id}", reg.client_id);
    let r = app.delete(&path, Some(&reg.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["message"].is_string());
    assert!(!stored_item(&app, id).await.get_bool("isActive").unwrap());
    let list = format!("/api/business/items/{}", reg.client_id);
    let r = app.get(&list, Some(&reg.token)).await;
    let names: Vec<&str> = r.body["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Beta"]);
    let r = app.get(&format!("{list}?isActive=false"), Some(&reg.token)).await;
    assert_eq!(r.body["items"][0]["_id"], id);
    let r = app.get(&format!("{list}?isActive=all"), Some(&reg.token)).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    // idempotent; still editable (v1) but not reactivatable
    assert_eq!(app.delete(&path, Some(&reg.token)).await.status, 200);
    let r = app.put(&path, Some(&reg.token), json!({ "price": 5 })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["item"]["isActive"], false);
    app.put(&path, Some(&reg.token), json!({ "isActive": true })).await.assert_envelope(400);
    assert!(!stored_item(&app, id).await.get_bool("isActive").unwrap());
    // missing item: 404 (v1 answered 500)
    app.delete(&format!("/api/business/items/{}/{}", reg.client_id, ObjectId::new()), Some(&reg.token))
        .await
        .assert_envelope(404);
}

#[tokio::test]
async fn item_list_filters_by_group_and_searches_names_safely() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let g = group(&app, &reg, "Engine").await;
    item(&app, &reg, json!({ "name": "Piston Ring", "groupId": g["_id"] })).await;
    item(&app, &reg, json!({ "name": "piston pin" })).await;
    item(&app, &reg, json!({ "name": "Oil 5.0L" })).await;
    item(&app, &reg, json!({ "name": "Oil 5x0L" })).await;
    let list = format!("/api/business/items/{}", reg.client_id);
    let names = |r: &crate::helpers::Resp| -> Vec<String> {
        let mut v: Vec<String> =
            r.body["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect();
        v.sort();
        v
    };
    let r = app.get(&format!("{list}?groupId={}", g["_id"].as_str().unwrap()), Some(&reg.token)).await;
    assert_eq!(names(&r), ["Piston Ring"]);
    let r = app.get(&format!("{list}?q=PISTON"), Some(&reg.token)).await;
    assert_eq!(names(&r), ["Piston Ring", "piston pin"]);
    let r = app.get(&format!("{list}?search=ring"), Some(&reg.token)).await;
    assert_eq!(names(&r), ["Piston Ring"]);
    let r = app.get(&format!("{list}?q=5.0"), Some(&reg.token)).await;
    assert_eq!(names(&r), ["Oil 5.0L"], "regex characters are literal");
    let r = app.get(&format!("{list}?q=.*"), Some(&reg.token)).await;
    assert_eq!(names(&r), Vec::<String>::new());
    for bad in ["groupId=zzz", "isActive=maybe", "limit=0", "limit=abc", "cursor=nope&limit=2", "cursor=0123"] {
        app.get(&format!("{list}?{bad}"), Some(&reg.token)).await.assert_envelope(400);
    }
}

#[tokio::test]
async fn item_paging_is_capped_and_the_cursor_walks_without_repeats_or_losses() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let cid = ObjectId::parse_str(&reg.client_id).unwrap();
    let now = bson::DateTime::now();
    let docs: Vec<Document> = (0..205)
        .map(|i| {
            doc! {
                "_id": ObjectId::new(), "clientId": cid, "groupId": bson::Bson::Null, "name": format!("Item {i:03}"),
                "price": 100i64, "stock": 1i64, "lowStockQuantity": 5i64, "unit": "nos", "description": "",
                "dealerIds": [], "isActive": i % 50 != 7, "createdAt": now, "updatedAt": now, "__v": 0,
            }
        })
        .collect();
    app.db.collection::<Document>("items").insert_many(docs).await.unwrap();
    let active = (0..205).filter(|i| i % 50 != 7).count();
    let list = format!("/api/business/items/{}", reg.client_id);

    // unpaged: everything active (v1), no cursor
    let r = app.get(&list, Some(&reg.token)).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), active);
    // the cap
    let r = app.get(&format!("{list}?limit=1000"), Some(&reg.token)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 200);
    assert!(r.body["nextCursor"].is_string());

    // three pages over a search that matches 25 items: 10 + 10 + 5
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor: Option<String> = None;
    let mut sizes = vec![];
    loop {
        let mut url = format!("{list}?q=Item%200&limit=10");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = app.get(&url, Some(&reg.token)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let page = r.body["items"].as_array().unwrap();
        sizes.push(page.len());
        for i in page {
            assert!(seen.insert(i["_id"].as_str().unwrap().to_string()), "repeated {}", i["_id"]);
        }
        match r.body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => {
                assert_eq!(r.body["nextCursor"], Value::Null, "paged answers carry nextCursor");
                break;
            }
        }
    }
    // "Item 000".."Item 099" are 100 names; minus the inactive 007 and 057
    let expected = (0..100).filter(|i| i % 50 != 7).count();
    assert_eq!(seen.len(), expected);
    assert_eq!(sizes.iter().sum::<usize>(), expected);
    assert_eq!(sizes[..sizes.len() - 1].to_vec(), vec![10; sizes.len() - 1]);
    assert!(sizes.len() >= 3);
}

#[tokio::test]
async fn bad_input_on_catalog_endpoints_is_a_4xx_envelope_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let other = app.register(&phone()).await;
    let g = group(&app, &reg, "Engine").await;
    let it = item(&app, &reg, json!({ "name": "Piston" })).await;
    let gpath = format!("/api/business/item-groups/{}/{}", reg.client_id, g["_id"].as_str().unwrap());
    let ipath = format!("/api/business/items/{}/{}", reg.client_id, it["_id"].as_str().unwrap());
    let before_items = stored_item(&app, it["_id"].as_str().unwrap()).await;
    let t = Some(reg.token.as_str());

    let mass = [
        json!({ "_id": ObjectId::new().to_hex() }),
        json!({ "createdAt": "2020-01-01T00:00:00.000Z" }),
        json!({ "updatedAt": "2020-01-01T00:00:00.000Z" }),
        json!({ "isActive": false }),
        json!({ "__v": 9 }),
        json!({ "outstandingBalance": 5 }),
        json!({ "clientId": other.client_id }),
    ];
    for extra in &mass {
        let forbidden = extra.get("clientId").is_some();
        let expect = if forbidden { 403 } else { 400 };
        let mut gb = json!({ "name": "Another" });
        let mut ib = json!({ "name": "Another", "price": 1 });
        for (k, v) in extra.as_object().unwrap() {
            gb[k] = v.clone();
            ib[k] = v.clone();
        }
        app.post("/api/business/item-groups", t, gb).await.assert_envelope(expect);
        app.post("/api/business/items", t, ib).await.assert_envelope(expect);
        app.put(&gpath, t, extra.clone()).await.assert_envelope(expect);
        app.put(&ipath, t, extra.clone()).await.assert_envelope(expect);
    }
    // missing and wrong-typed fields
    for body in [json!({}), json!({ "name": 5 }), json!({ "name": "x" }), json!({ "name": ["Engine"] })] {
        app.post("/api/business/item-groups", t, body).await.assert_envelope(400);
    }
    for body in [
        json!({ "price": 1 }),
        json!({ "name": "Okay", "price": 1, "stock": 1.5 }),
        json!({ "name": "Okay", "price": 1, "stock": -1 }),
        json!({ "name": "Okay", "price": 1, "lowStockQuantity": "5" }),
        json!({ "name": "Okay", "price": 1, "dealerIds": "abc" }),
        json!({ "name": "Okay", "price": 1, "description": "x".repeat(501) }),
        json!({ "name": "Okay", "price": 1, "groupId": 12 }),
    ] {
        app.post("/api/business/items", t, body.clone()).await.assert_envelope(400);
    }
    for body in
        [json!({ "name": "" }), json!({ "stock": -2 }), json!({ "lowStockQuantity": 1.5 }), json!({ "name": null })]
    {
        app.put(&ipath, t, body).await.assert_envelope(400);
    }
    // invalid ObjectIds in the path: 400 naming the parameter
    let r = app.put(&format!("/api/business/items/{}/not-an-id", reg.client_id), t, json!({})).await;
    r.assert_envelope(400);
    assert!(r.errors().contains("params.itemId"), "{}", r.errors());
    app.delete(&format!("/api/business/items/{}/123", reg.client_id), t).await.assert_envelope(400);
    app.put(&format!("/api/business/item-groups/{}/zz", reg.client_id), t, json!({})).await.assert_envelope(400);
    app.delete(&format!("/api/business/item-groups/{}/zz", reg.client_id), t).await.assert_envelope(400);
    // malformed clientId in the path is not the token's: 403
    app.get("/api/business/items/not-an-id", t).await.assert_envelope(403);
    // no token
    app.get(&format!("/api/business/items/{}", reg.client_id), None).await.assert_envelope(401);

    assert_eq!(count(&app, "itemgroups").await, 1);
    assert_eq!(count(&app, "items").await, 1);
    assert_eq!(stored_item(&app, it["_id"].as_str().unwrap()).await, before_items, "item unchanged");
    let gdoc = app.db.collection::<Document>("itemgroups").find_one(doc! {}).await.unwrap().unwrap();
    assert_eq!(gdoc.get_str("name").unwrap(), "Engine");
    assert_eq!(gdoc.get_i32("__v").unwrap(), 0);
}

/// The rows the change log holds for `doc_id`: `(seq, deleted)`.
async fn log_rows(app: &TestApp, doc_id: &str) -> Vec<(i64, bool)> {
    let id = ObjectId::parse_str(doc_id).unwrap();
    let rows: Vec<Document> = app
        .db
        .collection::<Document>("syncchanges")
        .find(doc! { "docId": id })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    rows.iter().map(|r| (r.get_i64("seq").unwrap(), r.get_bool("deleted").unwrap())).collect()
}

/// Issue 14, one write path: an online item or customer write appends its change-log row in
/// its own transaction (the pull no longer depends on a clock to see it), a delete as a
/// delete, and every edit moves the document's version (the base an offline edit names).
#[tokio::test]
async fn online_item_and_customer_writes_append_their_change_log_rows_and_move_the_version() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let it = item(&app, &r, json!({ "stock": 4 })).await;
    let id = it["_id"].as_str().unwrap().to_string();
    let created = log_rows(&app, &id).await;
    // the create and its opening stock move each append (the write path never deletes a row)
    assert!(!created.is_empty() && created.iter().all(|r| !r.1), "create logged: {created:?}");
    let created = *created.iter().max().unwrap();
    // opening stock is an `opening` movement (issue 16)
    let moves =
        app.count("stockmovements", doc! { "itemId": ObjectId::parse_str(&id).unwrap(), "reason": "opening" }).await;
    assert_eq!(moves, 1);

    let path = format!("/api/business/items/{}/{id}", r.client_id);
    let up = app.put(&path, Some(&r.token), json!({ "price": 30, "stock": 1 })).await;
    assert_eq!(up.status, 200, "{}", up.body);
    assert_eq!((up.body["item"]["__v"].as_i64(), up.body["item"]["stock"].as_i64()), (Some(1), Some(1)));
    let updated = log_rows(&app, &id).await;
    let newest = *updated.iter().max().unwrap();
    assert!(newest.0 > created.0 && !newest.1, "a later sequence: {updated:?}");

    let del = app.delete(&path, Some(&r.token)).await;
    assert_eq!(del.status, 200, "{}", del.body);
    let deleted = *log_rows(&app, &id).await.iter().max().unwrap();
    assert!(deleted.0 > newest.0 && deleted.1, "a delete is logged as a delete: {deleted:?}");
    // the pruner keeps the document's latest row only
    let later = bson::DateTime::from_millis(
        bson::DateTime::now().timestamp_millis() + i64::from(viveka::changelog::PRUNE_SETTLE_SECS) * 1000 + 5_000,
    );
    assert!(viveka::changelog::prune(&app.db, later).await.unwrap() >= 2);
    assert_eq!(log_rows(&app, &id).await, vec![deleted], "only the delete is left");
    let stored = app
        .db
        .collection::<Document>("items")
        .find_one(doc! { "_id": ObjectId::parse_str(&id).unwrap() })
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.get_bool("isActive").unwrap(), stored.get_i32("__v").unwrap()), (false, 2));
    let missing = app.delete(&format!("/api/business/items/{}/{}", r.client_id, ObjectId::new()), Some(&r.token)).await;
    assert_eq!(missing.status, 404, "{}", missing.body);

    // customers: create, a merge that stores nothing new writes nothing, update, delete
    let body = json!({ "phone": phone(), "name": "Ravi Kumar" });
    let c = app.post("/api/business/client-customers", Some(&r.token), body.clone()).await;
    assert_eq!(c.status, 201, "{}", c.body);
    let cid = c.body["clientCustomer"]["_id"].as_str().unwrap().to_string();
    let first = log_rows(&app, &cid).await;
    assert_eq!(first.len(), 1, "{first:?}");
    let again = app.post("/api/business/client-customers", Some(&r.token), body).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body["isNew"], false, "{}", again.body);
    assert_eq!(log_rows(&app, &cid).await, first, "nothing new: nothing written");
    let cpath = format!("/api/business/client-customers/{}/{cid}", r.client_id);
    let cu = app.put(&cpath, Some(&r.token), json!({ "name": "Ravi K" })).await;
    assert_eq!(cu.status, 200, "{}", cu.body);
    assert_eq!(cu.body["clientCustomer"]["__v"], 1, "{}", cu.body);
    let edited = *log_rows(&app, &cid).await.iter().max().unwrap();
    assert!(edited.0 > first[0].0 && !edited.1, "{edited:?}");
    let cd = app.delete(&cpath, Some(&r.token)).await;
    assert_eq!(cd.status, 200, "{}", cd.body);
    let gone = *log_rows(&app, &cid).await.iter().max().unwrap();
    assert!(gone.0 > edited.0 && gone.1, "{gone:?}");
}
