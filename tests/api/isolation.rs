//! Tenant isolation, proven from the live OpenAPI document: every authenticated operation
//! with an id in its path is called by client A with client B's ids (and B's `clientId`),
//! so a route added later cannot escape. Foreign and missing ids must answer alike, no
//! answer may carry B's data, and B's documents must be byte-for-byte unchanged.

use std::collections::BTreeMap;

use bson::{doc, oid::ObjectId, Document};
use futures::TryStreamExt;
use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::{
    catalog::{dealer, group, item},
    customers::customer,
    helpers::{phone, Registered, TestApp},
};

struct Tenant {
    reg: Registered,
    group: String,
    item: String,
    customer: String,
    credit_note: String,
    customer_phone: String,
    dealer: String,
    cart: String,
    invoice: String,
    order: String,
    payment: String,
    /// A staff member (an invited cashier) of the shop.
    staff: String,
    company: String,
    brand: String,
    product: String,
    /// A packing unit (issue 16).
    unit: String,
    /// A paper bill book and the owner device's number series (issue 17).
    book: String,
    series: String,
    marker: String,
}

impl Tenant {
    /// Values for path/query parameters by name. A parameter named here is testable.
    fn ids(&self) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            ("clientId", self.reg.client_id.clone()),
            ("groupId", self.group.clone()),
            ("itemId", self.item.clone()),
            ("clientCustomerId", self.customer.clone()),
            ("dealerId", self.dealer.clone()),
            ("cartId", self.cart.clone()),
            ("invoiceId", self.invoice.clone()),
            ("orderId", self.order.clone()),
            ("paymentId", self.payment.clone()),
            // a staff member (staff routes; the audit trail's user filter) and one document
            ("userId", self.staff.clone()),
            ("entityId", self.item.clone()),
            // the owner's device session (DELETE /api/staff/sessions/{sessionId})
            ("sessionId", self.reg.session_id.clone()),
            // companies and brands (issue 16)
            ("companyId", self.company.clone()),
            ("brandId", self.brand.clone()),
            ("productId", self.product.clone()),
            // packing units (issue 16)
            ("unitId", self.unit.clone()),
            // bill books and device number series (issue 17)
            ("bookId", self.book.clone()),
            ("seriesId", self.series.clone()),
            // credit notes (issue 18)
            ("creditNoteId", self.credit_note.clone()),
        ])
    }
    /// Strings that must never appear in another tenant's answers.
    fn secrets(&self) -> Vec<String> {
        vec![
            self.reg.client_id.clone(),
            self.group.clone(),
            self.item.clone(),
            self.customer.clone(),
            self.customer_phone.clone(),
            self.dealer.clone(),
            self.cart.clone(),
            self.invoice.clone(),
            self.order.clone(),
            self.payment.clone(),
            self.staff.clone(),
            self.company.clone(),
            self.brand.clone(),
            self.product.clone(),
            self.book.clone(),
            self.series.clone(),
            self.credit_note.clone(),
            self.marker.clone(),
        ]
    }
}

async fn seed(app: &TestApp, marker: &str) -> Tenant {
    let reg = app.register(&phone()).await;
    let d = dealer(app, &reg).await;
    let g = group(app, &reg, &format!("{marker} Group")).await["_id"].as_str().unwrap().to_string();
    let i = item(app, &reg, json!({ "name": format!("{marker} Item"), "groupId": g, "dealerIds": [d], "stock": 3 }))
        .await["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let p = phone();
    let c = customer(app, &reg, json!({ "phone": p, "name": format!("{marker} Customer") })).await["clientCustomer"]
        ["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let cart = app.post("/api/business/carts", Some(&reg.token), json!({ "clientCustomerPhone": p })).await.body
        ["cart"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let inv = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&reg.token),
            json!({ "products": [{ "productId": i, "quantity": 1 }], "clientCustomerId": c, "paidAmount": 0 }),
        )
        .await;
    assert_eq!(inv.status, 201, "{}", inv.body);
    let invoice = inv.body["invoice"]["_id"].as_str().unwrap().to_string();
    let o = app
        .post(
            "/api/dealer/orders",
            Some(&reg.token),
            json!({ "clientId": reg.client_id, "dealerId": d, "items": [{ "itemId": i, "quantity": 2 }] }),
        )
        .await;
    assert_eq!(o.status, 201, "{}", o.body);
    let order = o.body["order"]["_id"].as_str().unwrap().to_string();
    let pay = app
        .post(
            "/api/dealer/payments",
            Some(&reg.token),
            json!({ "clientId": reg.client_id, "dealerId": d, "amount": 10 }),
        )
        .await;
    assert_eq!(pay.status, 201, "{}", pay.body);
    let payment = pay.body["payment"]["_id"].as_str().unwrap().to_string();
    let staff = app
        .post(
            "/api/staff",
            Some(&reg.token),
            json!({ "phoneNumber": phone(), "firstName": format!("{marker} Cashier"), "employeeId": "CASH01", "role": "cashier" }),
        )
        .await;
    assert_eq!(staff.status, 201, "{}", staff.body);
    let staff = staff.body["user"]["_id"].as_str().unwrap().to_string();
    let co =
        app.post("/api/business/companies", Some(&reg.token), json!({ "name": format!("{marker} Company") })).await;
    assert_eq!(co.status, 201, "{}", co.body);
    let company = co.body["company"]["_id"].as_str().unwrap().to_string();
    let br = app
        .post(
            "/api/business/brands",
            Some(&reg.token),
            json!({ "name": format!("{marker} Brand"), "companyId": company }),
        )
        .await;
    assert_eq!(br.status, 201, "{}", br.body);
    let brand = br.body["brand"]["_id"].as_str().unwrap().to_string();
    let pr = app
        .post(
            "/api/business/products",
            Some(&reg.token),
            json!({ "name": format!("{marker} Product"), "brandId": brand }),
        )
        .await;
    assert_eq!(pr.status, 201, "{}", pr.body);
    let product = pr.body["product"]["_id"].as_str().unwrap().to_string();
    let un = app
        .post("/api/business/units", Some(&reg.token), json!({ "name": format!("{marker} Unit"), "uqc": "PCS" }))
        .await;
    assert_eq!(un.status, 201, "{}", un.body);
    let unit = un.body["unit"]["_id"].as_str().unwrap().to_string();
    let bk = app
        .post(
            "/api/business/bill-books",
            Some(&reg.token),
            json!({ "bookNo": format!("{marker}-1"), "prefix": "PB/", "firstSerial": 1, "lastSerial": 50 }),
        )
        .await;
    assert_eq!(bk.status, 201, "{}", bk.body);
    let book = bk.body["book"]["_id"].as_str().unwrap().to_string();
    let se = app.post("/api/v2/sync/series", Some(&reg.token), json!({})).await;
    assert_eq!(se.status, 200, "{}", se.body);
    let series = se.body["series"]["_id"].as_str().unwrap().to_string();
    let cn = app
        .post(
            "/api/business/credit-notes",
            Some(&reg.token),
            json!({ "invoiceId": invoice, "lines": [{ "lineId": 0, "quantity": 1 }], "reason": "returned",
                    "settlement": { "type": "adjustToDues" } }),
        )
        .await;
    assert_eq!(cn.status, 201, "{}", cn.body);
    let credit_note = cn.body["creditNote"]["_id"].as_str().unwrap().to_string();
    Tenant {
        credit_note,
        reg,
        group: g,
        item: i,
        customer: c,
        customer_phone: p,
        dealer: d,
        cart,
        invoice,
        order,
        payment,
        staff,
        company,
        brand,
        product,
        unit,
        book,
        series,
        marker: marker.to_string(),
    }
}

/// Every document of the tenant, per collection (sorted by `_id`).
async fn snapshot(app: &TestApp, t: &Tenant) -> BTreeMap<String, Vec<Document>> {
    let cid = ObjectId::parse_str(&t.reg.client_id).unwrap();
    let mut out = BTreeMap::new();
    for coll in app.db.list_collection_names().await.unwrap() {
        if coll.starts_with('_') || coll == "devicesessions" || coll == "ratelimits" || coll == "otpsessions" {
            continue;
        }
        let filter = if coll == "clients" {
            doc! { "_id": cid }
        } else {
            doc! { "clientId": cid }
        };
        let docs: Vec<Document> = app
            .db
            .collection::<Document>(&coll)
            .find(filter)
            .sort(doc! { "_id": 1 })
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        out.insert(coll, docs);
    }
    out
}

fn path_params(path: &str) -> Vec<String> {
    path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).map(String::from).collect()
}

fn fill(path: &str, values: &BTreeMap<String, String>) -> String {
    let mut p = path.to_string();
    for (k, v) in values {
        p = p.replace(&format!("{{{k}}}"), v);
    }
    p
}

/// A body with plausible values for the properties the operation accepts (ids from `ids`).
fn body_for(doc: &Value, op: &Value, ids: &BTreeMap<String, String>, phone: &str) -> Option<Value> {
    let schema = op.pointer("/requestBody/content/application~1json/schema")?;
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(&format!("/components/schemas/{}", r.rsplit('/').next()?))?,
        None => schema,
    };
    let mut body = Map::new();
    for prop in schema.get("properties").and_then(Value::as_object).map(|p| p.keys().cloned().collect::<Vec<_>>())? {
        let v = match prop.as_str() {
            "name" => json!("Hijacked Name"),
            "price" => json!(1),
            "stock" => json!(1),
            "description" => json!("hijacked"),
            "phone" => json!(phone),
            "dealerIds" => json!([ids.get("dealerId")]),
            p => match ids.get(p) {
                Some(id) => json!(id),
                None => continue,
            },
        };
        body.insert(prop, v);
    }
    Some(Value::Object(body))
}

fn assert_no_leak(r: &crate::helpers::Resp, secrets: &[String], what: &str) {
    let text = r.body.to_string();
    for s in secrets {
        assert!(!text.contains(s.as_str()), "{what}: the answer leaks another client's data ({s}): {text}");
    }
}

async fn call(app: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>) -> crate::helpers::Resp {
    let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    app.raw(m, path, Some(token), body.as_ref()).await
}

#[tokio::test]
async fn every_route_with_an_id_refuses_another_clients_ids_generated_from_openapi() {
    let app = TestApp::spawn().await;
    let a = seed(&app, "ALPHA").await;
    let b = seed(&app, "BRAVO").await;
    let before = snapshot(&app, &b).await;
    let doc = app.get("/api/openapi.json", None).await.body;
    let a_ids: BTreeMap<String, String> = a.ids().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let b_ids: BTreeMap<String, String> = b.ids().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let secrets = b.secrets();
    let token = a.reg.token.clone();

    let mut uncovered = vec![];
    let mut cases = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if op.get("security").is_none() {
                continue; // public route: no tenant
            }
            let what = format!("{} {path}", method.to_uppercase());
            let params = path_params(path);
            let query_ids: Vec<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query" && p["name"].as_str().is_some_and(|n| n.ends_with("Id")))
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect();
            for p in params.iter().chain(query_ids.iter()) {
                if !b_ids.contains_key(p) {
                    uncovered.push(format!("{what}: no isolation fixture for `{p}` (add it to Tenant::ids)"));
                }
            }
            if params.iter().chain(query_ids.iter()).any(|p| !b_ids.contains_key(p)) {
                continue;
            }
            if params.is_empty() {
                // body-only operations: B's clientId in the body is refused
                if let Some(mut body) = body_for(&doc, op, &b_ids, &b.customer_phone) {
                    if body.get("clientId").is_some() {
                        let r = call(&app, method, path, &token, Some(body.take())).await;
                        r.assert_envelope(403);
                        cases += 1;
                    }
                }
                continue;
            }

            // 1. B's clientId (and B's other ids): 403, like any id that is not the token's
            if params.iter().any(|p| p == "clientId") {
                let url = fill(path, &b_ids);
                let body = body_for(&doc, op, &b_ids, &b.customer_phone);
                let r = call(&app, method, &url, &token, body).await;
                r.assert_envelope(403);
                assert_no_leak(&r, &secrets, &what);
                let mut random = b_ids.clone();
                random.insert("clientId".into(), ObjectId::new().to_hex());
                let r2 = call(&app, method, &fill(path, &random), &token, None).await;
                assert_eq!((r.status, r.code()), (r2.status, r2.code()), "{what}: foreign and unknown clientId differ");
                cases += 1;
            }

            // 2. A's clientId with B's object ids: not 2xx, and the same answer as a missing id
            let objects: Vec<&String> = params.iter().filter(|p| *p != "clientId").collect();
            if !objects.is_empty() {
                let mut foreign = b_ids.clone();
                foreign.insert("clientId".into(), a.reg.client_id.clone());
                let mut missing = foreign.clone();
                for p in &objects {
                    missing.insert((*p).clone(), ObjectId::new().to_hex());
                }
                let ids_for_body = foreign.clone();
                let r = call(
                    &app,
                    method,
                    &fill(path, &foreign),
                    &token,
                    body_for(&doc, op, &ids_for_body, &b.customer_phone),
                )
                .await;
                assert!(!r.status.is_success(), "{what} with B's ids answered {}: {}", r.status, r.body);
                assert_no_leak(&r, &secrets, &what);
                let r2 = call(
                    &app,
                    method,
                    &fill(path, &missing),
                    &token,
                    body_for(&doc, op, &ids_for_body, &b.customer_phone),
                )
                .await;
                assert_eq!(
                    (r.status, r.code(), r.body.get("message")),
                    (r2.status, r2.code(), r2.body.get("message")),
                    "{what}: a foreign id must look exactly like a missing one"
                );
                // 404; or 400 where v1 defined a 400 for an unknown id (carts, B15-B18) or where
                // the generated body fails validation before any lookup (identical for both)
                let v1_400 = path.starts_with("/api/business/carts") || r.code() == "VALIDATION_ERROR";
                let expected = if v1_400 { 400 } else { 404 };
                assert_eq!(r.status, expected, "{what}: foreign ids answer {expected}: {}", r.body);
                assert_eq!(r.errors(), r2.errors(), "{what}: a foreign id must look exactly like a missing one");
                cases += 1;
            }

            // 3. reads with A's own ids (B's ids in the query): never any of B's documents
            if method == "get" {
                let mut url = fill(path, &a_ids);
                if !query_ids.is_empty() {
                    // (a `clientId` in the query is checked on its own just below: 403)
                    let q: Vec<String> =
                        query_ids.iter().filter(|p| *p != "clientId").map(|p| format!("{p}={}", b_ids[p])).collect();
                    url = format!("{url}?{}", q.join("&"));
                }
                let r = call(&app, method, &url, &token, None).await;
                let filtered = query_ids.iter().any(|p| p != "clientId");
                if filtered && r.status == 404 {
                    // a foreign id used as a filter may be refused like an unknown one
                    let unknown = url.replace(
                        &b_ids[query_ids.iter().find(|p| *p != "clientId").unwrap()],
                        &ObjectId::new().to_hex(),
                    );
                    let r2 = call(&app, method, &unknown, &token, None).await;
                    assert_eq!(
                        (r.status, r.code()),
                        (r2.status, r2.code()),
                        "{what}: foreign filter id differs from unknown"
                    );
                } else {
                    assert!(r.status.is_success(), "{what} as A on A's own data answered {}: {}", r.status, r.body);
                }
                assert_no_leak(&r, &secrets, &what);
                // B's clientId in the query string is refused too
                let r =
                    call(&app, method, &format!("{}?clientId={}", fill(path, &a_ids), b.reg.client_id), &token, None)
                        .await;
                r.assert_envelope(403);
                cases += 2;
            }
        }
    }
    assert!(uncovered.is_empty(), "routes without an isolation case:\n{}", uncovered.join("\n"));
    eprintln!("isolation: {cases} generated cases");
    assert!(cases >= 20, "only {cases} isolation cases were generated");
    assert_eq!(snapshot(&app, &b).await, before, "client B's documents changed");
}

#[tokio::test]
async fn foreign_ids_in_bodies_and_queries_are_refused_or_invisible() {
    let app = TestApp::spawn().await;
    let a = seed(&app, "ALPHA").await;
    let b = seed(&app, "BRAVO").await;
    let before = snapshot(&app, &b).await;
    let t = Some(a.reg.token.as_str());
    let secrets = b.secrets();

    // body ids of another client: 400 naming the field, nothing written
    for extra in [json!({ "groupId": b.group }), json!({ "dealerIds": [b.dealer] })] {
        let mut body = json!({ "name": "Sneaky", "price": 1 });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app.post("/api/business/items", t, body).await;
        r.assert_envelope(400);
        let r = app.put(&format!("/api/business/items/{}/{}", a.reg.client_id, a.item), t, extra).await;
        r.assert_envelope(400);
    }
    // query ids of another client: nothing of theirs
    let r = app.get(&format!("/api/business/items/{}?groupId={}", a.reg.client_id, b.group), t).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["items"], json!([]));
    // B's customer phone: A sees "no such customer" (null, as for any unknown phone)
    let r = app.get(&format!("/api/business/client-customers/{}/{}", a.reg.client_id, b.customer_phone), t).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["clientCustomer"], Value::Null);
    // creating B's customer phone at A makes A's own customer, with nothing of B's
    let r = app.post("/api/business/client-customers", t, json!({ "phone": b.customer_phone })).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["isNew"], true);
    assert_eq!(r.body["clientCustomer"]["clientId"], a.reg.client_id.as_str());
    // searching A's lists for B's names and phone finds nothing
    for url in [
        format!("/api/business/items/{}?q=BRAVO&isActive=all", a.reg.client_id),
        format!("/api/business/client-customers/{}?q=BRAVO", a.reg.client_id),
        format!("/api/business/item-groups/{}", a.reg.client_id),
    ] {
        let r = app.get(&url, t).await;
        assert_eq!(r.status, 200);
        let mut s = secrets.clone();
        s.retain(|x| x != &b.customer_phone); // A now has a customer with that phone
        assert_no_leak(&r, &s, &url);
    }
    assert_eq!(snapshot(&app, &b).await, before, "client B's documents changed");
}

/// Operations that need no token. Every other operation of the document must require one
/// (the matrix below fails on a route that is in neither group, or in both).
const PUBLIC: &[(&str, &str)] = &[
    ("get", "/api/health"),
    ("post", "/api/otp/send"),
    ("post", "/api/otp/verify"),
    ("post", "/api/otp/clear"),
    ("post", "/api/mockotp/send"),
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("post", "/api/staff/accept"),
    ("post", "/api/staff/join"),
    ("post", "/api/staff/login"),
];

/// Public routes the router serves outside the document (the document cannot list itself).
const PUBLIC_UNDOCUMENTED: &[(&str, &str)] = &[("get", "/api/openapi.json"), ("get", "/api/docs")];

const HTTP_METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// The operation requires the bearer token in the document (`security: [{"bearer": []}]`).
fn requires_bearer(op: &Value) -> bool {
    op["security"].as_array().is_some_and(|reqs| !reqs.is_empty() && reqs.iter().all(|r| r.get("bearer").is_some()))
}

/// The auth rows of the route-wide matrix: every authenticated operation of the live
/// OpenAPI document, with B's ids, A's own ids and unknown ids (path, query and body), is
/// called with no token, with A's expired token, and with the token of A's replaced device.
/// Each answer is the same 401 envelope for its row whatever the route and the ids (so it
/// reveals neither data nor which ids exist), and nothing is written.
#[tokio::test]
async fn every_authenticated_route_refuses_no_expired_and_replaced_tokens_generated_from_openapi() {
    use jsonwebtoken::{encode, EncodingKey, Header};

    let app = TestApp::spawn().await;
    let a = seed(&app, "ALPHA").await;
    let b = seed(&app, "BRAVO").await;

    // A logs in on another phone: the first phone's token now belongs to a replaced device
    let replaced = a.reg.token.clone();
    let second = app.login_otp(&a.reg.phone, "phone-2").await;
    assert_eq!(second.status, 200, "{}", second.body);
    let session = second.body["deviceSessionId"].as_str().expect("deviceSessionId").to_string();
    let key = EncodingKey::from_secret(crate::helpers::JWT_SECRET.as_bytes());
    let sign = |offset: i64| {
        encode(
            &Header::default(),
            &crate::auth::claims(&a.reg.client_id, &session, offset, "viveka-app", "viveka-api"),
            &key,
        )
        .expect("sign")
    };
    // the forged tokens differ from a good one only in what the row tests
    let profile = format!("/api/client/{}", a.reg.client_id);
    assert_eq!(app.get(&profile, Some(&sign(600))).await.status, 200, "a fresh token of the new session works");
    let expired = sign(-3600);
    let rows: [(&str, Option<&str>, &str); 3] = [
        ("no token", None, "UNAUTHORIZED"),
        ("expired token", Some(expired.as_str()), "TOKEN_EXPIRED"),
        ("replaced device's token", Some(replaced.as_str()), "SESSION_REPLACED"),
    ];

    let before_a = snapshot(&app, &a).await;
    let before_b = snapshot(&app, &b).await;
    let doc = app.get("/api/openapi.json", None).await.body;
    let own: BTreeMap<String, String> = a.ids().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let foreign: BTreeMap<String, String> = b.ids().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let unknown: BTreeMap<String, String> = own.keys().map(|k| (k.clone(), ObjectId::new().to_hex())).collect();
    let variants = [("B's ids", &foreign), ("A's ids", &own), ("unknown ids", &unknown)];
    let mut secrets = a.secrets();
    secrets.extend(b.secrets());

    let mut problems = vec![];
    let (mut operations, mut checked, mut public_seen, mut calls) = (0usize, 0usize, 0usize, 0usize);
    let mut row_body: Vec<Option<Value>> = vec![None; rows.len()];
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if !HTTP_METHODS.contains(&method.as_str()) {
                continue; // path-level fields (parameters, summary)
            }
            operations += 1;
            let what = format!("{} {path}", method.to_uppercase());
            let listed = PUBLIC.contains(&(method.as_str(), path.as_str()));
            match (requires_bearer(op), listed) {
                (true, true) => {
                    problems.push(format!("{what}: listed as public but the document requires a token"));
                    continue;
                }
                (false, false) => {
                    problems.push(format!("{what}: requires no token in the document and is not listed as public"));
                    continue;
                }
                (false, true) => {
                    // public indeed: the router does not ask for a token either
                    let r = call_as(&app, method, path, None, Some(json!({}))).await;
                    if r.status == 401 {
                        problems.push(format!("{what}: listed as public but answers 401: {}", r.body));
                    }
                    public_seen += 1;
                    continue;
                }
                (true, false) => {}
            }
            let query_ids: Vec<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query" && p["name"].as_str().is_some_and(|n| n.ends_with("Id")))
                .filter_map(|p| p["name"].as_str())
                .collect();
            for (row, (label, token, code)) in rows.iter().enumerate() {
                for (ids_label, ids) in &variants {
                    let mut url = fill(path, ids);
                    if !query_ids.is_empty() {
                        let q: Vec<String> = query_ids
                            .iter()
                            .map(|p| {
                                format!("{p}={}", ids.get(*p).cloned().unwrap_or_else(|| ObjectId::new().to_hex()))
                            })
                            .collect();
                        url = format!("{url}?{}", q.join("&"));
                    }
                    let body = body_for(&doc, op, ids, &b.customer_phone);
                    let r = call_as(&app, method, &url, *token, body).await;
                    calls += 1;
                    let case = format!("{what} with {label} and {ids_label} ({url})");
                    if r.status != 401 || r.code() != *code {
                        problems.push(format!("{case}: expected 401 {code}, got {} {}", r.status, r.body));
                        continue;
                    }
                    r.assert_envelope(401);
                    assert_no_leak(&r, &secrets, &case);
                    // one body per row, whatever the route and whether the ids exist
                    match &row_body[row] {
                        None => row_body[row] = Some(r.body.clone()),
                        Some(first) if *first != r.body => {
                            problems.push(format!("{case}: the 401 differs ({} vs {first})", r.body))
                        }
                        Some(_) => {}
                    }
                }
            }
            checked += 1;
        }
    }
    for (method, path) in PUBLIC {
        if doc["paths"][path][method].is_null() {
            problems.push(format!("{} {path}: listed as public but not in the document", method.to_uppercase()));
        }
    }
    for (method, path) in PUBLIC_UNDOCUMENTED {
        let r = call_as(&app, method, path, None, None).await;
        if r.status != 200 {
            problems.push(format!("{} {path}: public but answers {}", method.to_uppercase(), r.status));
        }
        if !doc["paths"][path].is_null() {
            problems.push(format!("{path}: now in the document; move it to PUBLIC"));
        }
    }
    assert!(problems.is_empty(), "route-wide auth matrix:\n{}", problems.join("\n"));

    // the generator cannot pass vacuously: every operation of the document was classified,
    // all but the listed public ones were called in every row and variant
    let secured = doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
        .filter_map(Value::as_object)
        .flat_map(|ops| ops.iter().filter(|(m, _)| HTTP_METHODS.contains(&m.as_str())).map(|(_, op)| op))
        .filter(|op| requires_bearer(op))
        .count();
    eprintln!("auth matrix: {operations} operations, {checked} authenticated x {} rows x {} id sets = {calls} calls, {public_seen} public", rows.len(), variants.len());
    assert!(operations > PUBLIC.len(), "the document lists only {operations} operations");
    assert_eq!(checked, secured, "every authenticated operation of the document is checked");
    assert_eq!(checked + public_seen, operations, "every operation is either checked or public");
    assert!(checked >= operations - PUBLIC.len(), "{checked} checked of {operations} operations");
    assert_eq!(public_seen, PUBLIC.len(), "every listed public route was seen and called");
    assert_eq!(calls, checked * rows.len() * variants.len());
    assert!(row_body.iter().all(Option::is_some));

    assert_eq!(snapshot(&app, &a).await, before_a, "client A's documents changed");
    assert_eq!(snapshot(&app, &b).await, before_b, "client B's documents changed");
}

async fn call_as(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> crate::helpers::Resp {
    let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
    app.raw(m, path, token, body.as_ref()).await
}
