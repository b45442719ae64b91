//! B9-B13: the shop's customers against the real database.

use bson::{doc, oid::ObjectId, Document};
use serde_json::{json, Value};

use crate::helpers::{phone, Registered, TestApp};

pub async fn customer(app: &TestApp, reg: &Registered, body: Value) -> Value {
    let r = app.post("/api/business/client-customers", Some(&reg.token), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body.clone()
}

async fn count(app: &TestApp) -> u64 {
    app.db.collection::<Document>("clientcustomers").count_documents(doc! {}).await.unwrap()
}

async fn stored(app: &TestApp, id: &str) -> Option<Document> {
    let id = ObjectId::parse_str(id).unwrap();
    app.db.collection::<Document>("clientcustomers").find_one(doc! { "_id": id }).await.unwrap()
}

async fn set_fields(app: &TestApp, reg: &Registered, flags: Value) {
    let r = app
        .put(
            &format!("/api/client/{}", reg.client_id),
            Some(&reg.token),
            json!({ "clientSettings": { "customerFields": flags } }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn get_or_create_by_phone_is_idempotent_and_never_overwrites_a_name() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let p = phone();
    let b = customer(&app, &reg, json!({ "clientId": reg.client_id, "phone": p, "name": "Bob Smith" })).await;
    assert_eq!(b["isNew"], true);
    let c = &b["clientCustomer"];
    assert_eq!(c["phoneNumber"], p.as_str());
    assert_eq!(c["name"], "Bob Smith");
    assert_eq!(c["clientId"], reg.client_id.as_str());
    assert_eq!(c["outstandingBalance"], json!(0));
    assert_eq!(c["lastPurchaseAt"], Value::Null);
    for k in ["address", "emailId", "gstNo"] {
        assert_eq!(c[k], "", "{k}");
    }
    assert!(c["firstSeenAt"].as_str().unwrap().ends_with('Z'));
    let id = c["_id"].as_str().unwrap().to_string();

    // the same phone again, written differently and without a name: the same customer, name kept
    for variant in [p.clone(), format!("+91 {}-{}", &p[..5], &p[5..]), format!("0{p}")] {
        let again = customer(&app, &reg, json!({ "phone": variant })).await;
        assert_eq!(again["isNew"], false);
        assert_eq!(again["clientCustomer"]["_id"], id.as_str());
        assert_eq!(again["clientCustomer"]["name"], "Bob Smith");
    }
    assert_eq!(count(&app).await, 1);

    // a new customer without a name gets the placeholder; a later real name replaces it
    let q = phone();
    let n = customer(&app, &reg, json!({ "phone": q })).await;
    assert_eq!(n["isNew"], true);
    assert_eq!(n["clientCustomer"]["name"], "clientCustomer");
    let again = customer(&app, &reg, json!({ "phone": q, "name": "" })).await;
    assert_eq!(again["clientCustomer"]["name"], "clientCustomer");
    let named = customer(&app, &reg, json!({ "phone": q, "name": "Carol" })).await;
    assert_eq!(named["isNew"], false);
    assert_eq!(named["clientCustomer"]["name"], "Carol");
    let kept = customer(&app, &reg, json!({ "phone": q })).await;
    assert_eq!(kept["clientCustomer"]["name"], "Carol");
    // the same phone at another shop is another customer
    let other = app.register(&phone()).await;
    let theirs = customer(&app, &other, json!({ "phone": p })).await;
    assert_eq!(theirs["isNew"], true);
    assert_eq!(theirs["clientCustomer"]["name"], "clientCustomer");
    assert_eq!(count(&app).await, 3);
}

#[tokio::test]
async fn ten_concurrent_creates_of_one_phone_make_exactly_one_customer() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let p = phone();
    let calls = (0..10).map(|i| {
        let body = json!({ "phone": p, "name": format!("Racer {i}") });
        let app = &app;
        let token = reg.token.clone();
        async move { app.post("/api/business/client-customers", Some(&token), body).await }
    });
    let results = futures::future::join_all(calls).await;
    let mut new = 0;
    let mut ids = std::collections::BTreeSet::new();
    for r in &results {
        assert_eq!(r.status, 201, "{}", r.body);
        if r.body["isNew"] == true {
            new += 1;
        }
        ids.insert(r.body["clientCustomer"]["_id"].as_str().unwrap().to_string());
    }
    assert_eq!(new, 1, "exactly one request created the customer");
    assert_eq!(ids.len(), 1, "everybody got the same customer");
    assert_eq!(count(&app).await, 1);
}

#[tokio::test]
async fn customer_fields_enabled_are_stored_and_required_on_create_only_disabled_are_ignored() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    // defaults: all disabled -> ignored even when sent (and not validated)
    let r = customer(
        &app,
        &reg,
        json!({ "phone": phone(), "name": "Dan", "address": "1 Road", "emailId": "not-an-email", "gstNo": "junk" }),
    )
    .await;
    let c = &r["clientCustomer"];
    assert_eq!((c["address"].as_str(), c["emailId"].as_str(), c["gstNo"].as_str()), (Some(""), Some(""), Some("")));
    let id = c["_id"].as_str().unwrap().to_string();

    set_fields(&app, &reg, json!({ "address": true, "emailId": true })).await;
    // a NEW customer needs the enabled fields
    let before = count(&app).await;
    let p = phone();
    let r = app.post("/api/business/client-customers", Some(&reg.token), json!({ "phone": p, "name": "Eve" })).await;
    r.assert_envelope(400);
    assert!(r.errors().contains("address") && r.errors().contains("emailId"), "{}", r.errors());
    let r = app
        .post(
            "/api/business/client-customers",
            Some(&reg.token),
            json!({ "phone": p, "address": " ", "emailId": "e@x.in" }),
        )
        .await;
    r.assert_envelope(400);
    assert_eq!(count(&app).await, before, "nothing written");
    let r = customer(&app, &reg, json!({ "phone": p, "address": " 2 Lane ", "emailId": "e@x.in", "gstNo": "ignored" }))
        .await;
    let c = &r["clientCustomer"];
    assert_eq!(
        (c["address"].as_str(), c["emailId"].as_str(), c["gstNo"].as_str()),
        (Some("2 Lane"), Some("e@x.in"), Some(""))
    );
    // an existing customer is found without them (get-or-create), and they are filled when sent
    let r = customer(&app, &reg, json!({ "phone": r["clientCustomer"]["phoneNumber"] })).await;
    assert_eq!(r["isNew"], false);
    assert_eq!(r["clientCustomer"]["address"], "2 Lane");
    // an update that does not touch them never requires them (v1 failed every update, U22)
    let path = format!("/api/business/client-customers/{}/{id}", reg.client_id);
    let r = app.put(&path, Some(&reg.token), json!({ "name": "Daniel" })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["clientCustomer"]["name"], "Daniel");
    // enabled fields are stored on update; disabled ones ignored
    let r = app.put(&path, Some(&reg.token), json!({ "address": "3 Street", "gstNo": "27AADCA1111K1Z4" })).await;
    assert_eq!(r.body["clientCustomer"]["address"], "3 Street");
    assert_eq!(r.body["clientCustomer"]["gstNo"], "");
}

#[tokio::test]
async fn gst_and_email_are_validated_on_create_and_on_update() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    set_fields(&app, &reg, json!({ "gstNo": true, "emailId": true })).await;
    let p = phone();
    for (gst, email) in [("27AADCA1111K1X5", "ok@shop.in"), ("27aadca1111k1z4", "bad@"), ("12345", "x@y.in")] {
        let r = app
            .post(
                "/api/business/client-customers",
                Some(&reg.token),
                json!({ "phone": p, "gstNo": gst, "emailId": email }),
            )
            .await;
        if gst == "27aadca1111k1z4" {
            // lower case is upper-cased and accepted; the email is the problem
            r.assert_envelope(400);
            assert!(r.errors().contains("emailId"), "{}", r.errors());
        } else {
            r.assert_envelope(400);
            assert!(r.errors().contains("gstNo"), "{}", r.errors());
        }
    }
    assert_eq!(count(&app).await, 0);
    let r = customer(&app, &reg, json!({ "phone": p, "gstNo": "27aadca1111k1z4", "emailId": "ok@shop.in" })).await;
    let c = &r["clientCustomer"];
    assert_eq!(c["gstNo"], "27AADCA1111K1Z4");
    let path = format!("/api/business/client-customers/{}/{}", reg.client_id, c["_id"].as_str().unwrap());
    // U21: the update validates too
    let r = app.put(&path, Some(&reg.token), json!({ "gstNo": "NOT-A-GSTIN" })).await;
    r.assert_envelope(400);
    assert!(r.errors().contains("gstNo"));
    app.put(&path, Some(&reg.token), json!({ "emailId": "nope" })).await.assert_envelope(400);
    let d = stored(&app, c["_id"].as_str().unwrap()).await.unwrap();
    assert_eq!(d.get_str("gstNo").unwrap(), "27AADCA1111K1Z4");
    assert_eq!(d.get_str("emailId").unwrap(), "ok@shop.in");
    // '' clears on update
    let r = app.put(&path, Some(&reg.token), json!({ "emailId": "" })).await;
    assert_eq!(r.body["clientCustomer"]["emailId"], "");
}

#[tokio::test]
async fn list_is_newest_first_searchable_and_pages_without_repeats() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let names = ["Asha Rao", "Ravi Kumar", "rahul", "Meena", "Kumar Swamy", "Zoya", "Anil"];
    let mut phones = vec![];
    for (i, n) in names.iter().enumerate() {
        let p = format!("9{i}87650000");
        customer(&app, &reg, json!({ "phone": p, "name": n })).await;
        phones.push(p);
    }
    let list = format!("/api/business/client-customers/{}", reg.client_id);
    let r = app.get(&list, Some(&reg.token)).await;
    assert_eq!(r.status, 200);
    let got: Vec<&str> =
        r.body["clientCustomers"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    let mut expected: Vec<&str> = names.to_vec();
    expected.reverse();
    assert_eq!(got, expected, "createdAt descending");
    assert!(r.body.get("nextCursor").is_none());

    let search = |q: &str| {
        let url = format!("{list}?q={q}");
        let app = &app;
        let token = reg.token.clone();
        async move {
            let r = app.get(&url, Some(&token)).await;
            assert_eq!(r.status, 200, "{}", r.body);
            let mut v: Vec<String> = r.body["clientCustomers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_string())
                .collect();
            v.sort();
            v
        }
    };
    assert_eq!(search("ra").await, ["Asha Rao", "Ravi Kumar", "rahul"], "word prefix, any case");
    assert_eq!(search("kumar").await, ["Kumar Swamy", "Ravi Kumar"]);
    assert_eq!(search("umar").await, Vec::<String>::new(), "prefix, not substring");
    assert_eq!(search(&phones[3][..4]).await, ["Meena"], "phone prefix");
    assert_eq!(search(&format!("%2B91{}", &phones[3][..4])).await, ["Meena"], "+91 before the prefix");
    assert_eq!(search("%2B91").await.len(), 0, "+91 alone matches nothing odd");
    assert_eq!(search(".*").await, Vec::<String>::new());

    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut url = format!("{list}?limit=3");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = app.get(&url, Some(&reg.token)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        pages += 1;
        for c in r.body["clientCustomers"].as_array().unwrap() {
            seen.push(c["name"].as_str().unwrap().to_string());
        }
        match r.body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected, "no repeats, no losses, same order");
    let r = app.get(&format!("{list}?limit=5000"), Some(&reg.token)).await;
    assert_eq!(r.body["clientCustomers"].as_array().unwrap().len(), 7);
    for bad in ["limit=0", "limit=-1", "cursor=abc&limit=2", "cursor=1.2"] {
        app.get(&format!("{list}?{bad}"), Some(&reg.token)).await.assert_envelope(400);
    }
}

#[tokio::test]
async fn get_by_phone_answers_the_customer_or_null_and_by_id_or_404() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let p = phone();
    let c = customer(&app, &reg, json!({ "phone": p, "name": "Farah" })).await["clientCustomer"].clone();
    let base = format!("/api/business/client-customers/{}", reg.client_id);
    for key in [p.clone(), format!("+91{p}"), format!("0{p}")] {
        let r = app.get(&format!("{base}/{}", key.replace('+', "%2B")), Some(&reg.token)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["clientCustomer"]["_id"], c["_id"], "{key}");
    }
    let r = app.get(&format!("{base}/{}", phone()), Some(&reg.token)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["clientCustomer"], Value::Null, "unknown phone: null (v1)");
    let r = app.get(&format!("{base}/{}", c["_id"].as_str().unwrap()), Some(&reg.token)).await;
    assert_eq!(r.body["clientCustomer"]["name"], "Farah");
    app.get(&format!("{base}/{}", ObjectId::new()), Some(&reg.token)).await.assert_envelope(404);
    for bad in ["12345", "abcdefghij"] {
        app.get(&format!("{base}/{bad}"), Some(&reg.token)).await.assert_envelope(400);
    }
}

#[tokio::test]
async fn update_ignores_the_phone_and_delete_is_real() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let p = phone();
    let c = customer(&app, &reg, json!({ "phone": p, "name": "Gita" })).await["clientCustomer"].clone();
    let id = c["_id"].as_str().unwrap().to_string();
    let path = format!("/api/business/client-customers/{}/{id}", reg.client_id);
    let r = app.put(&path, Some(&reg.token), json!({ "phone": "9000000000", "name": "Gita Devi" })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["clientCustomer"]["phoneNumber"], p.as_str());
    assert_eq!(r.body["clientCustomer"]["name"], "Gita Devi");
    assert_eq!(stored(&app, &id).await.unwrap().get_str("phoneNumber").unwrap(), p);

    // a customer who owes money is not deleted
    app.db
        .collection::<Document>("clientcustomers")
        .update_one(
            doc! { "_id": ObjectId::parse_str(&id).unwrap() },
            doc! { "$set": { "outstandingBalance": 5000i64 } },
        )
        .await
        .unwrap();
    let r = app.get(&format!("/api/business/client-customers/{}/{p}", reg.client_id), Some(&reg.token)).await;
    assert_eq!(r.body["clientCustomer"]["outstandingBalance"], json!(50), "rupees from paise");
    app.delete(&path, Some(&reg.token)).await.assert_envelope(409);
    assert!(stored(&app, &id).await.is_some());
    app.db
        .collection::<Document>("clientcustomers")
        .update_one(doc! { "_id": ObjectId::parse_str(&id).unwrap() }, doc! { "$set": { "outstandingBalance": 0i64 } })
        .await
        .unwrap();

    let r = app.delete(&path, Some(&reg.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["message"].is_string());
    assert!(stored(&app, &id).await.is_none(), "really deleted (v1 kept it, U9)");
    app.delete(&path, Some(&reg.token)).await.assert_envelope(404);
    app.put(&path, Some(&reg.token), json!({ "name": "Ghost" })).await.assert_envelope(404);
    // the phone can be created again
    assert_eq!(customer(&app, &reg, json!({ "phone": p })).await["isNew"], true);
}

#[tokio::test]
async fn bad_input_on_customer_endpoints_is_a_4xx_envelope_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let other = app.register(&phone()).await;
    let c = customer(&app, &reg, json!({ "phone": phone(), "name": "Hari" })).await["clientCustomer"].clone();
    let id = c["_id"].as_str().unwrap();
    let path = format!("/api/business/client-customers/{}/{id}", reg.client_id);
    let before = stored(&app, id).await.unwrap();
    let t = Some(reg.token.as_str());
    for body in [
        json!({}),
        json!({ "name": "No Phone" }),
        json!({ "phone": 9876543210u64 }),
        json!({ "phone": "12345" }),
        json!({ "phone": "98765abcde" }),
        json!({ "phone": phone(), "name": "x" }),
        json!({ "phone": phone(), "name": 42 }),
    ] {
        app.post("/api/business/client-customers", t, body).await.assert_envelope(400);
    }
    for extra in [
        json!({ "_id": ObjectId::new().to_hex() }),
        json!({ "createdAt": "2020-01-01T00:00:00.000Z" }),
        json!({ "updatedAt": "2020-01-01T00:00:00.000Z" }),
        json!({ "isActive": false }),
        json!({ "__v": 3 }),
        json!({ "outstandingBalance": -500 }),
        json!({ "lastPurchaseAt": "2020-01-01T00:00:00.000Z" }),
        json!({ "firstSeenAt": "2020-01-01T00:00:00.000Z" }),
    ] {
        let mut body = json!({ "phone": phone(), "name": "Mass Assign" });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app.post("/api/business/client-customers", t, body).await;
        r.assert_envelope(400);
        assert!(r.errors().contains("is not an accepted field"), "{}", r.errors());
        app.put(&path, t, extra.clone()).await.assert_envelope(400);
    }
    for body in [json!({ "name": "" }), json!({ "name": null }), json!({ "name": 7 })] {
        app.put(&path, t, body).await.assert_envelope(400);
    }
    // another shop's clientId in the body: 403
    app.post("/api/business/client-customers", t, json!({ "clientId": other.client_id, "phone": phone() }))
        .await
        .assert_envelope(403);
    app.put(&path, t, json!({ "clientId": other.client_id, "name": "Other" })).await.assert_envelope(403);
    // invalid ids in the path
    let r = app.put(&format!("/api/business/client-customers/{}/xyz", reg.client_id), t, json!({})).await;
    r.assert_envelope(400);
    assert!(r.errors().contains("params.clientCustomerId"), "{}", r.errors());
    app.delete(&format!("/api/business/client-customers/{}/xyz", reg.client_id), t).await.assert_envelope(400);
    app.get("/api/business/client-customers/not-an-id", t).await.assert_envelope(403);

    assert_eq!(count(&app).await, 1);
    assert_eq!(stored(&app, id).await.unwrap(), before, "customer unchanged");
}
