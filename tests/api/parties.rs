//! Issue 16, parties and catalog grouping: GSTIN with its check character and its state,
//! customer profiles on every path, deactivation of customers with documents, companies and
//! brands (uniqueness under concurrency, deletes refused while referenced, tenant isolation),
//! two-level categories, dealer contact persons.

use bson::{doc, oid::ObjectId, Document};
use serde_json::{json, Value};

use crate::{
    catalog::item,
    customers::customer,
    helpers::{phone, Registered, TestApp},
};

/// A GSTIN of Maharashtra (27) with a valid check character (worked in `src/gstin.rs`).
const MH_GSTIN: &str = "27AAPFU0939F1ZV";
/// A GSTIN of Karnataka (29) with a valid check character.
const KA_GSTIN: &str = "29AAGCB7383J1Z4";

async fn enable_gst(app: &TestApp, reg: &Registered) {
    let r = app
        .put(
            &format!("/api/client/{}", reg.client_id),
            Some(&reg.token),
            json!({ "clientSettings": { "customerFields": { "gstNo": true } } }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn stored_customer(app: &TestApp, id: &str) -> Option<Document> {
    let id = ObjectId::parse_str(id).unwrap();
    app.db.collection::<Document>("clientcustomers").find_one(doc! { "_id": id }).await.unwrap()
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339()
}

async fn push(app: &TestApp, reg: &Registered, ops: Value) -> Value {
    let r = app.post("/api/v2/sync/push", Some(&reg.token), json!({ "operations": ops })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn company(app: &TestApp, reg: &Registered, name: &str) -> String {
    let r = app.post("/api/business/companies", Some(&reg.token), json!({ "name": name })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["company"]["_id"].as_str().unwrap().to_string()
}

async fn brand(app: &TestApp, reg: &Registered, name: &str, company: &str) -> String {
    let r = app.post("/api/business/brands", Some(&reg.token), json!({ "name": name, "companyId": company })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["brand"]["_id"].as_str().unwrap().to_string()
}

// ------------------------------------------------------------------------ GSTIN

#[tokio::test]
async fn a_valid_gstin_is_stored_and_every_single_character_corruption_is_refused() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    enable_gst(&app, &reg).await;
    let ok =
        customer(&app, &reg, json!({ "phone": phone(), "name": "Asha Traders", "gstNo": MH_GSTIN.to_lowercase() }))
            .await;
    assert_eq!(ok["clientCustomer"]["gstNo"], MH_GSTIN);
    // each position changed to another character of the same kind (so only the checksum or
    // the state code can catch it) is refused naming gstNo
    for pos in 0..15 {
        let mut b = MH_GSTIN.as_bytes().to_vec();
        b[pos] = match b[pos] {
            b'0'..=b'8' => b[pos] + 1,
            b'9' => b'1',
            b'Z' if pos == 13 => b'Y',
            b'A'..=b'Y' => b[pos] + 1,
            _ => b'A',
        };
        let bad = String::from_utf8(b).unwrap();
        let r = app
            .post("/api/business/client-customers", Some(&reg.token), json!({ "phone": phone(), "gstNo": bad }))
            .await;
        assert_eq!(r.status, 400, "{bad} (position {pos}) was accepted: {}", r.body);
        assert!(r.errors().contains("gstNo"), "{bad}: {}", r.body);
    }
    // a dealer's GSTIN follows the same rule
    let d = app
        .post("/api/dealer", Some(&reg.token), json!({ "name": "Sharma Distributors", "gstin": "27AAPFU0939F1ZW" }))
        .await;
    assert_eq!(d.status, 400, "{}", d.body);
    assert!(d.errors().contains("gstin"), "{}", d.body);
}

#[tokio::test]
async fn a_gstin_of_another_state_than_the_billing_address_is_refused_online_and_in_a_push() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    enable_gst(&app, &reg).await;
    let addr = |state: &str| json!({ "line1": "12 MG Road", "city": "Pune", "state": state, "pincode": "411001" });
    // create: a Karnataka GSTIN with a Maharashtra address
    let r = app
        .post(
            "/api/business/client-customers",
            Some(&reg.token),
            json!({ "phone": phone(), "gstNo": KA_GSTIN, "billingAddress": addr("27") }),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.errors().starts_with("gstNo") || r.errors().contains("gstNo:"), "{}", r.body);
    // the state by name is stored as its code; matching passes
    let c = customer(
        &app,
        &reg,
        json!({ "phone": phone(), "name": "Deccan Stationers", "gstNo": MH_GSTIN, "billingAddress": addr("Maharashtra") }),
    )
    .await;
    let c = &c["clientCustomer"];
    assert_eq!(c["billingAddress"]["state"], "27", "{c}");
    let id = c["_id"].as_str().unwrap();
    // update: moving the address to Karnataka alone is refused; with the GSTIN too it passes
    let path = format!("/api/business/client-customers/{}/{id}", reg.client_id);
    let r = app.put(&path, Some(&reg.token), json!({ "billingAddress": addr("29") })).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.errors().contains("gstNo"), "{}", r.body);
    let r = app.put(&path, Some(&reg.token), json!({ "billingAddress": addr("29"), "gstNo": KA_GSTIN })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // v2 push: the same rule, rejected with a reason naming gstNo, nothing stored
    let p = phone();
    let body = push(
        &app,
        &reg,
        json!([{ "opId": uuid(), "entity": "customer", "kind": "create", "deviceTime": now_iso(),
                 "payload": { "phoneNumber": p, "gstNo": KA_GSTIN, "billingAddress": addr("07") } }]),
    )
    .await;
    assert_eq!(body["results"][0]["status"], "rejected", "{body}");
    assert!(body["results"][0]["reason"].as_str().unwrap_or_default().contains("gstNo"), "{body}");
    assert_eq!(app.count("clientcustomers", doc! { "phoneNumber": &p }).await, 0);
}

// ------------------------------------------------------------------------ customers

#[tokio::test]
async fn a_v2_push_stores_the_profile_fields_and_the_pull_carries_them() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    enable_gst(&app, &reg).await;
    let p = phone();
    let op = uuid();
    let body = push(
        &app,
        &reg,
        json!([
            { "opId": op, "entity": "customer", "kind": "create", "deviceTime": now_iso(),
              "payload": { "phoneNumber": p, "name": "St. Mary's School", "customerType": "school", "gstNo": MH_GSTIN,
                           "billingAddress": { "line1": "Camp", "city": "Pune", "state": "27", "pincode": "411001" },
                           "contactPerson": { "name": "Sister Anne", "phone": "+91 98220 12345", "email": "office@stmarys.example.in" } } },
            { "opId": uuid(), "entity": "customer", "kind": "update", "deviceTime": now_iso(),
              "payload": { "customerOpId": op, "shippingAddress": { "line1": "Gate 2", "city": "Pune", "state": "27", "pincode": "411002" } } },
            { "opId": uuid(), "entity": "customer", "kind": "create", "deviceTime": now_iso(),
              "payload": { "phoneNumber": phone(), "customerType": "hospital" } },
        ]),
    )
    .await;
    assert_eq!(body["results"][0]["status"], "applied", "{body}");
    assert_eq!(body["results"][1]["status"], "applied", "{body}");
    assert_eq!(body["results"][2]["status"], "rejected", "{body}");
    assert!(body["results"][2]["reason"].as_str().unwrap_or_default().contains("customerType"), "{body}");
    let d =
        app.db.collection::<Document>("clientcustomers").find_one(doc! { "phoneNumber": &p }).await.unwrap().unwrap();
    assert_eq!(d.get_str("customerType").unwrap(), "school");
    assert_eq!(d.get_document("contactPerson").unwrap().get_str("phone").unwrap(), "9822012345");
    assert_eq!(d.get_document("shippingAddress").unwrap().get_str("pincode").unwrap(), "411002");
    assert_eq!(d.get_str("status").unwrap(), "active");
    let pull = app.get("/api/v2/sync/pull?limit=100", Some(&reg.token)).await;
    assert_eq!(pull.status, 200, "{}", pull.body);
    let id = d.get_object_id("_id").unwrap().to_hex();
    let change = pull.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{}", pull.body))
        .clone();
    assert_eq!(change["doc"]["customerType"], "school", "{change}");
    assert_eq!(change["doc"]["billingAddress"]["state"], "27", "{change}");
    assert_eq!(change["doc"]["contactPerson"]["name"], "Sister Anne", "{change}");
    assert_eq!(change["doc"]["status"], "active", "{change}");
}

/// A paid invoice of `customer` (so they owe nothing but have a document).
async fn paid_sale(app: &TestApp, reg: &Registered, customer: &str) {
    let i = item(app, reg, json!({ "name": format!("Pen {}", &uuid()[..6]), "price": 10, "stock": 5 })).await;
    let r = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&reg.token),
            json!({ "products": [{ "productId": i["_id"], "quantity": 1 }], "clientCustomerId": customer, "paidAmount": 10 }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn a_customer_with_documents_is_deactivated_not_deleted_online_and_in_a_push() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let with = customer(&app, &reg, json!({ "phone": phone(), "name": "Ravi" })).await["clientCustomer"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let without = customer(&app, &reg, json!({ "phone": phone(), "name": "Meena" })).await["clientCustomer"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    paid_sale(&app, &reg, &with).await;
    // online: the v1 answer, the customer kept inactive
    let r = app.delete(&format!("/api/business/client-customers/{}/{with}", reg.client_id), Some(&reg.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["message"], "Customer deleted");
    assert_eq!(r.body["deactivated"], true);
    let d = stored_customer(&app, &with).await.expect("a customer with an invoice must be kept");
    assert_eq!(d.get_str("status").unwrap(), "inactive");
    // an inactive customer is not billed online, by id or by phone; nothing is written
    let pen = item(&app, &reg, json!({ "name": "Pen inactive", "price": 10, "stock": 5 })).await;
    let invoices = app.count("invoices", bson::doc! {}).await;
    let by_id = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&reg.token),
            json!({ "products": [{ "productId": pen["_id"], "quantity": 1 }], "clientCustomerId": with, "paidAmount": 10 }),
        )
        .await;
    assert_eq!(by_id.status, 400, "{}", by_id.body);
    assert!(by_id.errors().contains("clientCustomerId") && by_id.errors().contains("inactive"), "{}", by_id.body);
    let by_phone = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&reg.token),
            json!({ "products": [{ "productId": pen["_id"], "quantity": 1 }],
                    "clientCustomerPhone": d.get_str("phoneNumber").unwrap(), "paidAmount": 10 }),
        )
        .await;
    assert_eq!(by_phone.status, 400, "{}", by_phone.body);
    assert!(by_phone.errors().contains("clientCustomerPhone"), "{}", by_phone.body);
    assert_eq!(app.count("invoices", bson::doc! {}).await, invoices);
    // an offline sale to them already happened: applied, and they stay inactive
    let body = push(
        &app,
        &reg,
        json!([{ "opId": uuid(), "entity": "invoice", "kind": "create", "deviceTime": now_iso(), "payload": {
            "products": [{ "productId": pen["_id"], "quantity": 1 }], "clientCustomerId": with, "paidAmount": 10 } }]),
    )
    .await;
    assert_eq!(body["results"][0]["status"], "applied", "{body}");
    assert_eq!(app.count("invoices", bson::doc! {}).await, invoices + 1);
    assert_eq!(stored_customer(&app, &with).await.unwrap().get_str("status").unwrap(), "inactive");
    // the list can show only active customers
    let l = app.get(&format!("/api/business/client-customers/{}?status=active", reg.client_id), Some(&reg.token)).await;
    let ids: Vec<&str> =
        l.body["clientCustomers"].as_array().unwrap().iter().map(|c| c["_id"].as_str().unwrap()).collect();
    assert!(!ids.contains(&with.as_str()) && ids.contains(&without.as_str()), "{}", l.body);
    // one without documents is deleted for real
    let r = app.delete(&format!("/api/business/client-customers/{}/{without}", reg.client_id), Some(&reg.token)).await;
    assert_eq!((r.status.as_u16(), r.body["deactivated"].clone()), (200, json!(false)), "{}", r.body);
    assert!(stored_customer(&app, &without).await.is_none());

    // v2 push: the same rule
    let other = customer(&app, &reg, json!({ "phone": phone(), "name": "Gopal" })).await["clientCustomer"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    paid_sale(&app, &reg, &other).await;
    let body = push(
        &app,
        &reg,
        json!([{ "opId": uuid(), "entity": "customer", "kind": "delete", "deviceTime": now_iso(), "payload": { "id": other } }]),
    )
    .await;
    assert_eq!(body["results"][0]["status"], "applied", "{body}");
    let d = stored_customer(&app, &other).await.expect("a pushed delete of a customer with an invoice keeps them");
    assert_eq!(d.get_str("status").unwrap(), "inactive");
    // a reactivation is an edit
    let r = app
        .put(
            &format!("/api/business/client-customers/{}/{other}", reg.client_id),
            Some(&reg.token),
            json!({ "status": "active" }),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.body["clientCustomer"]["status"].clone()), (200, json!("active")), "{}", r.body);
}

#[tokio::test]
async fn v1_customer_answers_keep_every_v1_key() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let c = customer(&app, &reg, json!({ "phone": phone(), "name": "Bob Smith" })).await;
    let keys: Vec<&str> = c["clientCustomer"].as_object().unwrap().keys().map(String::as_str).collect();
    for k in [
        "_id",
        "clientId",
        "phoneNumber",
        "name",
        "address",
        "emailId",
        "gstNo",
        "outstandingBalance",
        "firstSeenAt",
        "lastPurchaseAt",
        "createdAt",
        "updatedAt",
        "__v",
    ] {
        assert!(keys.contains(&k), "{k} missing from {c}");
    }
    assert_eq!((c["success"].clone(), c["isNew"].clone()), (json!(true), json!(true)));
    // the new fields default for a customer who never had them
    assert_eq!(c["clientCustomer"]["customerType"], "individual");
    assert_eq!(c["clientCustomer"]["status"], "active");
    assert!(c["clientCustomer"]["billingAddress"].is_null());
    // a customer stored before issue 16 (no new fields) reads with the defaults
    let id = ObjectId::new();
    let now = bson::DateTime::now();
    app.db
        .collection::<Document>("clientcustomers")
        .insert_one(
            doc! { "_id": id, "clientId": ObjectId::parse_str(&reg.client_id).unwrap(), "phoneNumber": "9812345678",
            "name": "Old", "firstSeenAt": now, "createdAt": now, "updatedAt": now, "__v": 0 },
        )
        .await
        .unwrap();
    let r =
        app.get(&format!("/api/business/client-customers/{}/{}", reg.client_id, id.to_hex()), Some(&reg.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["clientCustomer"]["customerType"], "individual");
    assert_eq!(r.body["clientCustomer"]["status"], "active");
    let r = app
        .delete(&format!("/api/business/client-customers/{}/{}", reg.client_id, id.to_hex()), Some(&reg.token))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["success"].clone(), r.body["message"].clone()), (json!(true), json!("Customer deleted")));
}

// ------------------------------------------------------------------------ companies and brands

#[tokio::test]
async fn of_twenty_concurrent_creates_of_one_name_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let names: Vec<String> = (0..20)
        .map(|i| match i % 3 {
            0 => "Hindustan Pencils".to_string(),
            1 => "HINDUSTAN  pencils".to_string(),
            _ => " hindustan pencils ".to_string(),
        })
        .collect();
    let calls = names.iter().map(|n| app.post("/api/business/companies", Some(&reg.token), json!({ "name": n })));
    let res = futures::future::join_all(calls).await;
    let won = res.iter().filter(|r| r.status == 201).count();
    let lost = res.iter().filter(|r| r.status == 409 && r.code() == "DUPLICATE").count();
    assert_eq!((won, lost), (1, 19), "{:?}", res.iter().map(|r| (r.status, r.body.to_string())).collect::<Vec<_>>());
    assert_eq!(app.count("companies", doc! {}).await, 1);
    let c = res.iter().find(|r| r.status == 201).unwrap().body["company"]["_id"].as_str().unwrap().to_string();

    let calls = names.iter().map(|n| {
        let n = n.replace("Hindustan", "Natraj").replace("HINDUSTAN", "NATRAJ").replace("hindustan", "natraj");
        app.post("/api/business/brands", Some(&reg.token), json!({ "name": n, "companyId": c }))
    });
    let res = futures::future::join_all(calls).await;
    let won = res.iter().filter(|r| r.status == 201).count();
    let lost = res.iter().filter(|r| r.status == 409 && r.code() == "DUPLICATE").count();
    assert_eq!((won, lost), (1, 19), "{:?}", res.iter().map(|r| (r.status, r.body.to_string())).collect::<Vec<_>>());
    assert_eq!(app.count("brands", doc! {}).await, 1);
    // another shop may use the same name
    let other = app.register(&phone()).await;
    company(&app, &other, "Hindustan Pencils").await;
}

#[tokio::test]
async fn a_company_or_brand_in_use_is_not_deleted_and_items_filter_by_them() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let hp = company(&app, &reg, "Hindustan Pencils").await;
    let natraj = brand(&app, &reg, "Natraj", &hp).await;
    let apsara = brand(&app, &reg, "Apsara", &hp).await;
    let cello_co = company(&app, &reg, "BIC Cello").await;
    let cello = brand(&app, &reg, "Cello", &cello_co).await;
    let pencil = item(&app, &reg, json!({ "name": "Natraj 621 Pencil", "price": 5, "brandId": natraj })).await;
    assert_eq!(pencil["brandId"], natraj.as_str());
    item(&app, &reg, json!({ "name": "Cello Gripper", "price": 10, "brandId": cello })).await;
    let plain = item(&app, &reg, json!({ "name": "Loose Eraser", "price": 2 })).await;
    assert!(plain.get("brandId").is_none(), "an item without a brand keeps the v1 shape: {plain}");
    // a brand of another shop or none at all is refused naming brandId
    let other = app.register(&phone()).await;
    let foreign = brand(&app, &other, "Faber", &company(&app, &other, "Faber-Castell").await).await;
    for b in [foreign.clone(), ObjectId::new().to_hex()] {
        let r = app
            .post("/api/business/items", Some(&reg.token), json!({ "name": "Sharpener", "price": 3, "brandId": b }))
            .await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.errors().contains("brandId"), "{}", r.body);
    }
    // a brand of a company of another shop is refused too
    let r = app.post("/api/business/brands", Some(&reg.token), json!({ "name": "Stolen", "companyId": foreign })).await;
    assert_eq!(r.status, 400, "{}", r.body);
    // filters
    let names = |r: &crate::helpers::Resp| -> Vec<String> {
        r.body["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect()
    };
    let by_brand = app.get(&format!("/api/business/items/{}?brandId={natraj}", reg.client_id), Some(&reg.token)).await;
    assert_eq!(names(&by_brand), vec!["Natraj 621 Pencil"], "{}", by_brand.body);
    let by_company =
        app.get(&format!("/api/business/items/{}?companyId={cello_co}", reg.client_id), Some(&reg.token)).await;
    assert_eq!(names(&by_company), vec!["Cello Gripper"], "{}", by_company.body);
    // deletes refused while referenced
    let r = app.delete(&format!("/api/business/brands/{natraj}"), Some(&reg.token)).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "CONFLICT"), "{}", r.body);
    let r = app.delete(&format!("/api/business/companies/{hp}"), Some(&reg.token)).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "CONFLICT"), "{}", r.body);
    // an unused brand goes; once the item drops its brand, the other goes, then the company
    assert_eq!(app.delete(&format!("/api/business/brands/{apsara}"), Some(&reg.token)).await.status, 200);
    let pid = pencil["_id"].as_str().unwrap();
    let r = app
        .put(&format!("/api/business/items/{}/{pid}", reg.client_id), Some(&reg.token), json!({ "brandId": null }))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.delete(&format!("/api/business/brands/{natraj}"), Some(&reg.token)).await.status, 200);
    assert_eq!(app.delete(&format!("/api/business/companies/{hp}"), Some(&reg.token)).await.status, 200);
    assert_eq!(app.count("companies", doc! { "_id": ObjectId::parse_str(&hp).unwrap() }).await, 0);
}

#[tokio::test]
async fn another_shops_company_or_brand_answers_like_a_missing_one() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let b = app.register(&phone()).await;
    let bc = company(&app, &b, "Kokuyo Camlin").await;
    let bb = brand(&app, &b, "Camlin", &bc).await;
    for (path, id) in [("companies", &bc), ("brands", &bb)] {
        let missing = app.get(&format!("/api/business/{path}/{}", ObjectId::new().to_hex()), Some(&a.token)).await;
        let foreign = app.get(&format!("/api/business/{path}/{id}"), Some(&a.token)).await;
        assert_eq!((foreign.status, foreign.body.clone()), (missing.status, missing.body.clone()));
        assert_eq!(foreign.status, 404);
        let r = app.put(&format!("/api/business/{path}/{id}"), Some(&a.token), json!({ "name": "Hijacked" })).await;
        assert_eq!(r.status, 404, "{}", r.body);
        assert_eq!(app.delete(&format!("/api/business/{path}/{id}"), Some(&a.token)).await.status, 404);
    }
    let list = app.get("/api/business/brands", Some(&a.token)).await;
    assert_eq!(list.body["brands"], json!([]), "{}", list.body);
    assert_eq!(app.count("brands", doc! { "name": "Camlin" }).await, 1);
    assert_eq!(app.count("companies", doc! { "name": "Kokuyo Camlin" }).await, 1);
}

#[tokio::test]
async fn a_company_keeps_its_address_and_contact_and_its_gstin_matches_its_state() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let r = app
        .post(
            "/api/business/companies",
            Some(&reg.token),
            json!({ "name": "Navneet Education", "gstin": KA_GSTIN, "address": { "city": "Mumbai", "state": "27" } }),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.errors().contains("gstin"), "{}", r.body);
    let r = app
        .post(
            "/api/business/companies",
            Some(&reg.token),
            json!({ "name": "Navneet Education", "gstin": MH_GSTIN, "phoneNumber": "022 6662 6565",
                    "address": { "line1": "Bhavani Shankar Rd", "city": "Mumbai", "state": "27", "pincode": "400028" },
                    "contactPerson": { "name": "R. Shah", "phone": "9820098200", "email": "rshah@navneet.example.com" } }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let c = &r.body["company"];
    assert_eq!(
        (c["address"]["pincode"].clone(), c["contactPerson"]["name"].clone()),
        (json!("400028"), json!("R. Shah"))
    );
}

// ------------------------------------------------------------------------ categories and dealers

#[tokio::test]
async fn categories_have_two_levels() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let main = crate::catalog::group(&app, &reg, "Writing").await["_id"].as_str().unwrap().to_string();
    let sub =
        app.post("/api/business/item-groups", Some(&reg.token), json!({ "name": "Pencils", "parentId": main })).await;
    assert_eq!(sub.status, 201, "{}", sub.body);
    assert_eq!(sub.body["itemGroup"]["parentId"], main.as_str());
    let sub_id = sub.body["itemGroup"]["_id"].as_str().unwrap().to_string();
    // a sub category's parent must be a main category of the shop
    let other = app.register(&phone()).await;
    let foreign = crate::catalog::group(&app, &other, "Paper").await["_id"].as_str().unwrap().to_string();
    for parent in [sub_id.clone(), foreign, ObjectId::new().to_hex()] {
        let r = app
            .post(
                "/api/business/item-groups",
                Some(&reg.token),
                json!({ "name": format!("G {parent}"), "parentId": parent }),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.errors().contains("parentId"), "{}", r.body);
    }
    // a main category with subs cannot become a sub, nor be deleted
    let art = crate::catalog::group(&app, &reg, "Art").await["_id"].as_str().unwrap().to_string();
    let r = app
        .put(
            &format!("/api/business/item-groups/{}/{main}", reg.client_id),
            Some(&reg.token),
            json!({ "parentId": art }),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app.delete(&format!("/api/business/item-groups/{}/{main}", reg.client_id), Some(&reg.token)).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "CONFLICT"), "{}", r.body);
    // move the sub under Art; then Writing has none and goes
    let r = app
        .put(
            &format!("/api/business/item-groups/{}/{sub_id}", reg.client_id),
            Some(&reg.token),
            json!({ "parentId": art }),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.body["itemGroup"]["parentId"].clone()), (200, json!(art)), "{}", r.body);
    let r = app.delete(&format!("/api/business/item-groups/{}/{main}", reg.client_id), Some(&reg.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // a main category lists without parentId (the v1 shape)
    let l = app.get(&format!("/api/business/item-groups/{}", reg.client_id), Some(&reg.token)).await;
    let art_row = l.body["itemGroups"].as_array().unwrap().iter().find(|g| g["_id"] == art.as_str()).unwrap().clone();
    assert!(art_row.get("parentId").is_none(), "{art_row}");
}

#[tokio::test]
async fn a_dealer_carries_its_contact_persons_number_and_email() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let r = app
        .post(
            "/api/dealer",
            Some(&reg.token),
            json!({ "name": "Sharma Distributors", "contactPersonName": "Rajesh", "contactPersonNo": "+91 98900-22222",
                    "contactPersonEmail": "rajesh@sharma.example.com" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let d = &r.body["dealer"];
    assert_eq!(
        (d["contactPerson"].clone(), d["contactPersonNo"].clone(), d["contactPersonEmail"].clone()),
        (json!("Rajesh"), json!("9890022222"), json!("rajesh@sharma.example.com"))
    );
    let r = app
        .post(
            "/api/dealer",
            Some(&reg.token),
            json!({ "name": "Gupta Traders", "contactPersonNo": "12", "contactPersonEmail": "x@" }),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.errors().contains("contactPersonNo") && r.errors().contains("contactPersonEmail"), "{}", r.body);
}

#[tokio::test]
async fn an_items_brand_is_checked_alike_online_in_v1_and_in_a_v2_push() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let other = app.register(&phone()).await;
    let mine = brand(&app, &reg, "Natraj", &company(&app, &reg, "Hindustan Pencils").await).await;
    let foreign = brand(&app, &other, "Faber", &company(&app, &other, "Faber-Castell").await).await;
    let cid = ObjectId::parse_str(&reg.client_id).unwrap();
    for bad in [foreign.clone(), ObjectId::new().to_hex()] {
        let on = app
            .post("/api/business/items", Some(&reg.token), json!({ "name": "Pen", "price": 5, "brandId": bad }))
            .await;
        assert_eq!(on.status, 400, "{}", on.body);
        assert!(on.errors().contains("brandId"), "{}", on.body);
        let v1 = app
            .post(
                "/api/sync",
                Some(&reg.token),
                json!({ "item": { "create": [{ "name": "Pen", "price": 5, "brandId": bad }] } }),
            )
            .await;
        assert_eq!(v1.status, 400, "{}", v1.body);
        assert!(v1.errors().contains("brandId"), "{}", v1.body);
        let v2 = push(
            &app,
            &reg,
            json!([{ "opId": uuid(), "entity": "item", "kind": "create", "deviceTime": now_iso(),
                     "payload": { "name": "Pen", "price": 5, "brandId": bad } }]),
        )
        .await;
        assert_eq!(v2["results"][0]["status"], "rejected", "{v2}");
        assert!(v2["results"][0]["reason"].as_str().unwrap_or_default().contains("brandId"), "{v2}");
        assert_eq!(app.count("items", doc! { "clientId": cid }).await, 0, "nothing written for {bad}");
    }
    // the shop's own brand is stored on every path
    let v1 = app
        .post(
            "/api/sync",
            Some(&reg.token),
            json!({ "item": { "create": [{ "name": "Pen v1", "price": 5, "brandId": mine }] } }),
        )
        .await;
    assert_eq!(v1.status, 200, "{}", v1.body);
    let v2 = push(
        &app,
        &reg,
        json!([{ "opId": uuid(), "entity": "item", "kind": "create", "deviceTime": now_iso(),
                 "payload": { "name": "Pen v2", "price": 5, "brandId": mine } }]),
    )
    .await;
    assert_eq!(v2["results"][0]["status"], "applied", "{v2}");
    let b = ObjectId::parse_str(&mine).unwrap();
    assert_eq!(app.count("items", doc! { "clientId": cid, "brandId": b }).await, 2);
    // and the brand is now in use
    let r = app.delete(&format!("/api/business/brands/{mine}"), Some(&reg.token)).await;
    assert_eq!(r.status.as_u16(), 409, "{}", r.body);
}

/// The write-skew case: a brand delete racing item creates that name it. Whatever the order,
/// no item may be left naming a deleted brand (the delete and the reference conflict).
#[tokio::test]
async fn a_brand_delete_racing_item_creates_never_leaves_an_item_naming_a_deleted_brand() {
    let app = TestApp::spawn().await;
    let reg = app.register(&phone()).await;
    let co = company(&app, &reg, "Hindustan Pencils").await;
    for round in 0..5 {
        let b = brand(&app, &reg, &format!("Brand {round}"), &co).await;
        let creates = (0..8).map(|i| {
            app.post(
                "/api/business/items",
                Some(&reg.token),
                json!({ "name": format!("Pencil {round}-{i}"), "price": 5, "brandId": b }),
            )
        });
        let path = format!("/api/business/brands/{b}");
        let delete = app.delete(&path, Some(&reg.token));
        let (made, gone) = futures::join!(futures::future::join_all(creates), delete);
        let bid = ObjectId::parse_str(&b).unwrap();
        let naming = app.count("items", doc! { "brandId": bid }).await;
        let brand_left = app.count("brands", doc! { "_id": bid }).await;
        let created = made.iter().filter(|r| r.status == 201).count() as u64;
        assert_eq!(naming, created, "round {round}");
        match gone.status.as_u16() {
            200 => assert_eq!((brand_left, naming), (0, 0), "round {round}: deleted while {naming} items name it"),
            409 => assert_eq!(brand_left, 1, "round {round}"),
            s => panic!("round {round}: delete answered {s} {}", gone.body),
        }
        // a create that lost to the delete is a 400 naming brandId, never a dangling reference
        for r in made.iter().filter(|r| r.status != 201) {
            assert_eq!(r.status.as_u16(), 400, "{}", r.body);
            assert!(r.errors().contains("brandId"), "{}", r.body);
        }
    }
}
