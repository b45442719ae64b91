//! Who did it (issue 15): every invoice, payment and stock movement names the user who made
//! it (`billedBy`, `recordedBy`, `by`: `{userId, name}`), whichever door it came through
//! (online, v1 `/api/sync`, v2 push); a v2 operation may name the user who queued it on the
//! device (a user of the same shop, else that operation is rejected); the reports filter by
//! user. Dealer orders and dealer payments name who created them (`createdBy`), a delivery
//! who received it (`deliveryAudit.receivedBy`), and every stock movement (opening stock,
//! adjustment, goods received) who moved it (`by`). The cashier's day-closing report is in
//! `day_closing`.

use bson::{doc, oid::ObjectId, Document};
use futures::TryStreamExt;
use serde_json::{json, Value};

use crate::helpers::{phone, Registered, TestApp};

/// The owner's name as registered (`helpers::register_with`).
const OWNER: &str = "Asha Rao";

pub(crate) struct Staff {
    pub(crate) id: String,
    pub(crate) token: String,
}

/// Hire a cashier named `name` in `owner`'s shop (invite, OTP, accept).
async fn hire(app: &TestApp, owner: &Registered, name: &str, employee: &str) -> Staff {
    hire_as(app, owner, "cashier", name, employee).await
}

/// Hire a `role` named `name` in `owner`'s shop (invite, OTP, accept) and sign them in.
pub(crate) async fn hire_as(app: &TestApp, owner: &Registered, role: &str, name: &str, employee: &str) -> Staff {
    let p = phone();
    let inv = app
        .post(
            "/api/staff",
            Some(&owner.token),
            json!({ "phoneNumber": p, "firstName": name, "employeeId": employee, "role": role }),
        )
        .await;
    assert_eq!(inv.status, 201, "{}", inv.body);
    let code = app.otp(&p, "staff").await;
    let acc = app
        .post(
            "/api/staff/accept",
            None,
            json!({ "clientId": owner.client_id, "phoneNumber": p, "otp": code, "password": "secret-pass-1", "deviceId": format!("dev-{employee}") }),
        )
        .await;
    assert_eq!(acc.status, 200, "{}", acc.body);
    Staff {
        id: acc.body["user"]["_id"].as_str().unwrap_or_default().to_string(),
        token: acc.body["token"].as_str().unwrap_or_default().to_string(),
    }
}

async fn item(app: &TestApp, owner: &Registered) -> String {
    let r =
        app.post("/api/business/items", Some(&owner.token), json!({ "name": "Bulb", "price": 50, "stock": 100 })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["item"]["_id"].as_str().unwrap_or_default().to_string()
}

fn oid(s: &str) -> ObjectId {
    ObjectId::parse_str(s).unwrap_or_default()
}

async fn all(app: &TestApp, coll: &str, filter: Document) -> Vec<Document> {
    app.db.collection::<Document>(coll).find(filter).await.unwrap().try_collect().await.unwrap()
}

/// The stored `{userId, name}` of `field`.
fn who(d: &Document, field: &str) -> Option<(ObjectId, String)> {
    let b = d.get_document(field).ok()?;
    Some((b.get_object_id("userId").ok()?, b.get_str("name").ok()?.to_string()))
}

/// Every invoice sold to `customer`, its payments and its stock movements name `user`.
async fn assert_recorded(app: &TestApp, customer: &str, user: &str, name: &str) {
    let want = Some((oid(user), name.to_string()));
    let invoices = all(app, "invoices", doc! { "clientCustomerPhone": customer }).await;
    assert_eq!(invoices.len(), 1, "one sale to {customer}");
    let inv = &invoices[0];
    assert_eq!(who(inv, "billedBy"), want, "billedBy of the sale to {customer}");
    let id = inv.get_object_id("_id").unwrap_or_default();
    let pays = all(app, "payments", doc! { "invoiceId": id }).await;
    assert_eq!(pays.len(), 2, "the first payment and a later one for {customer}");
    for p in &pays {
        assert_eq!(who(p, "recordedBy"), want, "recordedBy of a payment for {customer}");
    }
    let moves = all(app, "stockmovements", doc! { "refId": id }).await;
    assert_eq!(moves.len(), 1);
    assert_eq!(who(&moves[0], "by"), want, "by of the stock movement of {customer}'s sale");
}

/// A device time a minute ago (v2 sales and payments need one).
fn at() -> String {
    let now = bson::DateTime::now().timestamp_millis();
    bson::DateTime::from_millis(now - now % 1000 - 60_000).try_to_rfc3339_string().unwrap_or_default()
}

fn v2_sale(op: &str, item: &str, customer: &str) -> Value {
    json!({ "opId": op, "entity": "invoice", "kind": "create", "deviceTime": at(), "payload": {
        "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 20, "clientCustomerPhone": customer } })
}

fn v2_pay(op: &str, sale_op: &str) -> Value {
    json!({ "opId": op, "entity": "payment", "kind": "create", "deviceTime": at(), "payload": { "invoiceOpId": sale_op, "amount": 10, "method": "cash" } })
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A cashier sells and takes a payment online, through v1 and through v2: each invoice,
/// payment and stock movement names the cashier (id and name); the owner's sale names the
/// owner; the online answer carries `billedBy`/`recordedBy` as `{userId: hex, name}`.
#[tokio::test]
async fn every_door_records_who_sold_and_who_was_paid() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let bulb = item(&app, &owner).await;
    let cashier = hire(&app, &owner, "Kiran", "CASH01").await;
    let t = Some(cashier.token.as_str());

    // online
    let online = phone();
    let body =
        json!({ "products": [{ "productId": bulb, "quantity": 1 }], "paidAmount": 20, "clientCustomerPhone": online });
    let r = app.post("/api/business/invoices/generatewithproducts", t, body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["invoice"]["billedBy"], json!({ "userId": cashier.id, "name": "Kiran" }));
    let inv = r.body["invoice"]["_id"].as_str().unwrap_or_default().to_string();
    let r =
        app.post("/api/business/invoices/pay", t, json!({ "invoiceId": inv, "amount": 10, "method": "cash" })).await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(r.body["payment"]["recordedBy"], json!({ "userId": cashier.id, "name": "Kiran" }));
    assert_recorded(&app, &online, &cashier.id, "Kiran").await;

    // v1
    let v1 = phone();
    let body = json!({ "invoice": { "create": [{ "clientCustomerPhone": v1, "paidAmount": 20,
        "products": [{ "productId": bulb, "itemName": "Bulb", "quantity": 1, "costPerUnit": 50 }] }] } });
    let r = app.post("/api/sync", t, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id =
        all(&app, "invoices", doc! { "clientCustomerPhone": &v1 }).await[0].get_object_id("_id").unwrap_or_default();
    let r = app
        .post(
            "/api/sync",
            t,
            json!({ "payment": { "create": [{ "invoiceId": id.to_hex(), "amount": 10, "method": "cash" }] } }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_recorded(&app, &v1, &cashier.id, "Kiran").await;

    // v2
    let v2 = phone();
    let (sale, pay) = (uuid(), uuid());
    let r = app
        .post("/api/v2/sync/push", t, json!({ "operations": [v2_sale(&sale, &bulb, &v2), v2_pay(&pay, &sale)] }))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["summary"]["applied"], 2, "{}", r.body);
    assert_recorded(&app, &v2, &cashier.id, "Kiran").await;

    // the owner's own sale names the owner (the user whose id is the shop's id)
    let own = phone();
    let body =
        json!({ "products": [{ "productId": bulb, "quantity": 1 }], "paidAmount": 20, "clientCustomerPhone": own });
    let r = app.post("/api/business/invoices/generatewithproducts", Some(&owner.token), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let inv = r.body["invoice"]["_id"].as_str().unwrap_or_default().to_string();
    let r = app
        .post(
            "/api/business/invoices/pay",
            Some(&owner.token),
            json!({ "invoiceId": inv, "amount": 10, "method": "upi" }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_recorded(&app, &own, &owner.client_id, OWNER).await;
}

/// A v2 operation's `userId` names the user who queued it: a user of the same shop is
/// recorded; another shop's user, an unknown id or a malformed one rejects that operation
/// (with the reason) and writes nothing, while the others of the push apply.
#[tokio::test]
async fn a_v2_operation_is_recorded_as_the_user_who_queued_it() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let other = app.register(&phone()).await;
    let bulb = item(&app, &owner).await;
    let cashier = hire(&app, &owner, "Kiran", "CASH01").await;
    let foreign = hire(&app, &other, "Meena", "CASH02").await;

    let queued = phone();
    let (s1, p1) = (uuid(), uuid());
    let mut sale = v2_sale(&s1, &bulb, &queued);
    sale["userId"] = json!(cashier.id);
    let mut pay = v2_pay(&p1, &s1);
    pay["userId"] = json!(cashier.id);
    let mut bad = Vec::new();
    let refused: Vec<(String, String)> =
        vec![foreign.id.clone(), other.client_id.clone(), ObjectId::new().to_hex(), "not-an-id".into()]
            .into_iter()
            .map(|u| (u, phone()))
            .collect();
    for (u, customer) in &refused {
        let mut op = v2_sale(&uuid(), &bulb, customer);
        op["userId"] = json!(u);
        bad.push(op);
    }
    let mut ops = vec![sale, pay];
    ops.extend(bad);
    // pushed by the OWNER's session: the ops queued by the cashier still name the cashier
    let r = app.post("/api/v2/sync/push", Some(&owner.token), json!({ "operations": ops })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let results = r.body["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 6, "{}", r.body);
    assert_eq!(results[0]["status"], "applied", "{}", r.body);
    assert_eq!(results[1]["status"], "applied", "{}", r.body);
    for res in &results[2..] {
        assert_eq!(res["status"], "rejected", "{}", r.body);
        assert!(res["reason"].as_str().unwrap_or_default().contains("userId"), "{}", res);
    }
    for (_, customer) in &refused {
        assert_eq!(app.count("invoices", doc! { "clientCustomerPhone": customer }).await, 0);
    }
    let inv = &all(&app, "invoices", doc! { "clientCustomerPhone": &queued }).await[0];
    let pays = all(&app, "payments", doc! { "invoiceId": inv.get_object_id("_id").unwrap_or_default() }).await;
    assert_eq!(pays.len(), 2);
    assert_eq!(who(inv, "billedBy"), Some((oid(&cashier.id), "Kiran".to_string())));
    assert!(pays.iter().all(|p| who(p, "recordedBy") == Some((oid(&cashier.id), "Kiran".to_string()))));

    // without userId: the pushing session's user
    let own = phone();
    let r = app
        .post("/api/v2/sync/push", Some(&owner.token), json!({ "operations": [v2_sale(&uuid(), &bulb, &own)] }))
        .await;
    assert_eq!(r.body["summary"]["applied"], 1, "{}", r.body);
    let inv = &all(&app, "invoices", doc! { "clientCustomerPhone": &own }).await[0];
    assert_eq!(who(inv, "billedBy"), Some((oid(&owner.client_id), OWNER.to_string())));
}

fn ids_of(v: &Value, key: &str) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x[key].as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// `userId` filters the invoice list, the payment history and the dashboard invoice and
/// payment reports to what that user did; a malformed one is a 400.
#[tokio::test]
async fn reports_filter_by_user() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let bulb = item(&app, &owner).await;
    let cashier = hire(&app, &owner, "Kiran", "CASH01").await;
    let mut made: Vec<(String, String)> = Vec::new(); // (user, invoice)
    for (token, user) in
        [(&owner.token, &owner.client_id), (&cashier.token, &cashier.id), (&cashier.token, &cashier.id)]
    {
        let body = json!({ "products": [{ "productId": bulb, "quantity": 1 }], "paidAmount": 20 });
        let r = app.post("/api/business/invoices/generatewithproducts", Some(token), body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        made.push((user.clone(), r.body["invoice"]["_id"].as_str().unwrap_or_default().to_string()));
    }
    let cid = &owner.client_id;
    let t = Some(owner.token.as_str());
    for user in [&owner.client_id, &cashier.id] {
        let mut want: Vec<String> = made.iter().filter(|(u, _)| u == user).map(|(_, i)| i.clone()).collect();
        want.sort();
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        let r = app.get(&format!("/api/business/invoices/{cid}?userId={user}"), t).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(sorted(ids_of(&r.body["invoices"], "_id")), want, "invoice list of {user}");
        let r = app.get(&format!("/api/business/payment-history/{cid}?userId={user}"), t).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let pays = r.body["data"]["payments"].as_array().cloned().unwrap_or_default();
        assert_eq!(pays.len(), want.len(), "payment history of {user}: {}", r.body);
        let r = app.get(&format!("/api/dashboard/reports/invoices?userId={user}"), t).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            r.body.to_string().matches("\"invoiceNumber\"").count(),
            want.len(),
            "dashboard invoices of {user}: {}",
            r.body
        );
        for (u, i) in &made {
            assert_eq!(r.body.to_string().contains(i.as_str()), u == user, "dashboard invoices of {user}: {}", r.body);
        }
        let r = app.get(&format!("/api/dashboard/reports/payments?userId={user}"), t).await;
        assert_eq!(r.status, 200, "{}", r.body);
        for (u, i) in &made {
            assert_eq!(r.body.to_string().contains(i.as_str()), u == user, "dashboard payments of {user}: {}", r.body);
        }
    }
    for path in [
        format!("/api/business/invoices/{cid}?userId=nope"),
        format!("/api/business/payment-history/{cid}?userId=nope"),
        "/api/dashboard/reports/invoices?userId=nope".to_string(),
        "/api/dashboard/reports/payments?userId=nope".to_string(),
    ] {
        assert_eq!(app.get(&path, t).await.status, 400, "{path}");
    }
}

/// The stored `by` of the stock movements of `item` with `reason`, oldest first.
async fn moved_by(app: &TestApp, item: &str, reason: &str) -> Vec<Option<(ObjectId, String)>> {
    let moves = all(app, "stockmovements", doc! { "itemId": oid(item), "reason": reason }).await;
    moves.iter().map(|m| who(m, "by")).collect()
}

/// Staff, not the owner, run the stock and dealer side: a stock keeper creates an item with
/// opening stock, places a dealer order and receives it; a manager sets the stock and pays
/// the dealer (plain and with an idempotency key). Each document names the acting user:
/// `createdBy` on the order and the payments (stored and answered, also when read back),
/// `deliveryAudit.receivedBy` on the delivered order, `by` on the opening-stock, adjustment
/// and purchase movements. A document written before the field existed reads fine without it.
#[tokio::test]
async fn stock_and_dealer_documents_record_the_acting_staff_user() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let cid = owner.client_id.clone();
    let keeper = hire_as(&app, &owner, "stock_keeper", "Ravi", "SK01").await;
    let manager = hire_as(&app, &owner, "manager", "Meena", "MGR01").await;
    let (tk, tm) = (Some(keeper.token.as_str()), Some(manager.token.as_str()));
    let ravi = json!({ "userId": keeper.id, "name": "Ravi" });
    let meena = json!({ "userId": manager.id, "name": "Meena" });
    let stored = |id: &str, name: &str| Some((oid(id), name.to_string()));

    let r = app.post("/api/dealer", Some(&owner.token), json!({ "clientId": cid, "name": "Sharma Traders" })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let dealer = r.body["dealer"]["_id"].as_str().unwrap_or_default().to_string();

    // opening stock by the stock keeper, an adjustment by the manager
    let r = app
        .post("/api/business/items", tk, json!({ "name": "Fan", "price": 1200, "stock": 7, "dealerIds": [dealer] }))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let fan = r.body["item"]["_id"].as_str().unwrap_or_default().to_string();
    let r = app.put(&format!("/api/business/items/{cid}/{fan}"), tm, json!({ "stock": 10 })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(moved_by(&app, &fan, "opening").await, vec![stored(&keeper.id, "Ravi")], "opening stock");
    assert_eq!(moved_by(&app, &fan, "other").await, vec![stored(&manager.id, "Meena")], "the manager's adjustment");

    // the order and its delivery by the stock keeper
    let r = app
        .post(
            "/api/dealer/orders",
            tk,
            json!({ "clientId": cid, "dealerId": dealer, "items": [{ "itemId": fan, "quantity": 5 }] }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["order"]["createdBy"], ravi);
    let order = r.body["order"]["_id"].as_str().unwrap_or_default().to_string();
    let r = app
        .post(
            &format!("/api/dealer/orders/{order}/mark-delivered"),
            tk,
            json!({ "clientId": cid, "totalAmount": 500, "deliveredBy": "Sharma's driver" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["order"]["deliveryAudit"]["receivedBy"], ravi);
    assert_eq!(r.body["order"]["deliveryAudit"]["deliveredBy"], "Sharma's driver", "the free text is kept");
    assert_eq!(r.body["order"]["createdBy"], ravi);
    assert_eq!(moved_by(&app, &fan, "purchase").await, vec![stored(&keeper.id, "Ravi")]);
    let o = &all(&app, "dealerorders", doc! { "_id": oid(&order) }).await[0];
    assert_eq!(who(o, "createdBy"), stored(&keeper.id, "Ravi"));
    assert_eq!(o.get_document("deliveryAudit").ok().and_then(|d| who(d, "receivedBy")), stored(&keeper.id, "Ravi"));

    // payments by the manager: plain, then keyed (the recorded answer carries it too)
    let body = json!({ "clientId": cid, "dealerId": dealer, "orderId": order, "amount": 200, "method": "upi" });
    let r = app.post("/api/dealer/payments", tm, body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["payment"]["createdBy"], meena);
    let key = uuid();
    let first =
        crate::helpers::post_keyed(&app.http, &app.base, "/api/dealer/payments", &manager.token, &key, &body).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["payment"]["createdBy"], meena);
    let again =
        crate::helpers::post_keyed(&app.http, &app.base, "/api/dealer/payments", &manager.token, &key, &body).await;
    assert_eq!(again.body, first.body, "the replayed answer names the same user");
    let pays = all(&app, "dealerpayments", doc! { "orderId": oid(&order) }).await;
    assert_eq!(pays.len(), 2);
    for p in &pays {
        assert_eq!(who(p, "createdBy"), stored(&manager.id, "Meena"));
    }

    // read back: the order and payments as listed
    let r = app.get(&format!("/api/dealer/orders/{order}?clientId={cid}"), Some(&owner.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((&r.body["order"]["createdBy"], &r.body["order"]["deliveryAudit"]["receivedBy"]), (&ravi, &ravi));
    let r = app.get(&format!("/api/dealer/{cid}/{dealer}/payments"), Some(&owner.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed = r.body["payments"].as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 2, "{}", r.body);
    assert!(listed.iter().all(|p| p["createdBy"] == meena), "{}", r.body);

    // a document from before: no field stored, none answered, still a 200
    app.db
        .collection::<Document>("dealerorders")
        .update_one(doc! { "_id": oid(&order) }, doc! { "$unset": { "createdBy": "", "deliveryAudit.receivedBy": "" } })
        .await
        .unwrap();
    let r = app.get(&format!("/api/dealer/orders/{order}?clientId={cid}"), Some(&owner.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["order"].get("createdBy").is_none(), "{}", r.body);
    assert!(r.body["order"]["deliveryAudit"].get("receivedBy").is_none(), "{}", r.body);
}

/// The sync doors attribute item stock moves too: opening stock of an item created through
/// v1 `/api/sync` and v2 push by a stock keeper names the stock keeper; a v2 `stockDelta`
/// edit names the user of the push.
#[tokio::test]
async fn sync_item_stock_moves_record_who_moved_them() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let keeper = hire_as(&app, &owner, "stock_keeper", "Ravi", "SK01").await;
    let tk = Some(keeper.token.as_str());
    let r =
        app.post("/api/sync", tk, json!({ "item": { "create": [{ "name": "Tape", "price": 30, "stock": 3 }] } })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .post(
            "/api/v2/sync/push",
            tk,
            json!({ "operations": [{ "opId": uuid(), "entity": "item", "kind": "create", "deviceTime": at(), "payload": { "name": "Glue", "price": 40, "stock": 4 } }] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id_of = |name: &'static str| {
        let app = &app;
        async move { all(app, "items", doc! { "name": name }).await[0].get_object_id("_id").unwrap_or_default().to_hex() }
    };
    let (tape, glue) = (id_of("Tape").await, id_of("Glue").await);
    let ravi = Some((oid(&keeper.id), "Ravi".to_string()));
    assert_eq!(moved_by(&app, &tape, "opening").await, vec![ravi.clone()], "v1 opening stock");
    assert_eq!(moved_by(&app, &glue, "opening").await, vec![ravi.clone()], "v2 opening stock");
    let r = app
        .post(
            "/api/v2/sync/push",
            Some(&owner.token),
            json!({ "operations": [{ "opId": uuid(), "entity": "item", "kind": "update", "deviceTime": at(), "payload": { "id": glue, "stockDelta": 2 } }] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(moved_by(&app, &glue, "opening").await, vec![ravi], "v2 opening stock");
    assert_eq!(
        moved_by(&app, &glue, "other").await,
        vec![Some((oid(&owner.client_id), OWNER.to_string()))],
        "v2 stockDelta by the owner"
    );
}

// ---------------------------------------------------------------- day closing

/// An instant given in India time (`2026-11-21T00:05` -> 2026-11-20T18:35Z).
fn ist(local: &str) -> bson::DateTime {
    let t = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M").unwrap_or_default();
    bson::DateTime::from_millis((t - chrono::Duration::minutes(330)).and_utc().timestamp_millis())
}

/// Sell `qty` of `item` at India time `at` as `token`, paying `paid` by `method`; checks the
/// invoice total is `total` rupees (worked by hand) and returns the invoice id.
async fn sell_at(
    app: &TestApp,
    token: &str,
    at: &str,
    item: &str,
    qty: i64,
    total: f64,
    (paid, method): (f64, &str),
) -> String {
    app.state.clock.pin(Some(ist(at)));
    let body =
        json!({ "products": [{ "productId": item, "quantity": qty }], "paidAmount": paid, "paymentMethod": method });
    let r = app.post("/api/business/invoices/generatewithproducts", Some(token), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["invoice"]["totalAmount"].as_f64(), Some(total), "{}", r.body);
    r.body["invoice"]["_id"].as_str().unwrap_or_default().to_string()
}

async fn pay_at(app: &TestApp, token: &str, at: &str, invoice: &str, amount: f64, method: &str) {
    app.state.clock.pin(Some(ist(at)));
    let r = app
        .post(
            "/api/business/invoices/pay",
            Some(token),
            json!({ "invoiceId": invoice, "amount": amount, "method": method }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
}

/// A GET with `Accept: text/csv`: (status, content type, body).
async fn get_csv(app: &TestApp, path: &str, token: &str) -> (u16, String, String) {
    let r = app.http.get(format!("{}{path}", app.base)).bearer_auth(token).header("Accept", "text/csv").send().await;
    let r = r.expect("request");
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (status, ct, r.text().await.unwrap_or_default())
}

struct Shop {
    owner: Registered,
    kiran: Staff,
    meena: Staff,
}

/// The worked example: Kiran (cashier), Meena (manager) and the owner (Asha Rao) sell Bulbs
/// (Rs 50.00) and Fans (Rs 1,234.50) and take payments over two India days; one sale at
/// 00:05 IST on 21 Nov is still 20 Nov in UTC. The clock is left pinned at 10:30 IST, 21 Nov.
///
/// 20 Nov: 10:00 Kiran 2 Bulbs = 100.00, paid 100.00 cash; 11:00 Meena 1 Fan = 1234.50, paid
/// 1000.00 upi; 12:00 the owner 1 Bulb = 50.00 on credit; 15:00 Kiran takes 30.00 card on the
/// owner's sale; 23:59 Meena takes 200.00 bank on her Fan.
/// 21 Nov: 00:05 Kiran 3 Bulbs = 150.00, paid 150.00 upi; 09:00 the owner takes 34.50 cash on
/// the Fan; 10:00 Kiran takes 20.00 cash on the owner's Bulb.
async fn worked_example(app: &TestApp) -> Shop {
    let owner = app.register(&phone()).await;
    let kiran = hire(app, &owner, "Kiran", "CASH01").await;
    let meena = hire_as(app, &owner, "manager", "Meena", "MGR01").await;
    let r =
        app.post("/api/business/items", Some(&owner.token), json!({ "name": "Bulb", "price": 50, "stock": 100 })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let bulb = r.body["item"]["_id"].as_str().unwrap_or_default().to_string();
    let r = app
        .post("/api/business/items", Some(&owner.token), json!({ "name": "Fan", "price": 1234.5, "stock": 10 }))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let fan = r.body["item"]["_id"].as_str().unwrap_or_default().to_string();
    let (k, m, o) = (kiran.token.as_str(), meena.token.as_str(), owner.token.as_str());

    sell_at(app, k, "2026-11-20T10:00", &bulb, 2, 100.0, (100.0, "cash")).await;
    let fan_sale = sell_at(app, m, "2026-11-20T11:00", &fan, 1, 1234.5, (1000.0, "upi")).await;
    let credit = sell_at(app, o, "2026-11-20T12:00", &bulb, 1, 50.0, (0.0, "cash")).await;
    pay_at(app, k, "2026-11-20T15:00", &credit, 30.0, "card").await;
    pay_at(app, m, "2026-11-20T23:59", &fan_sale, 200.0, "bank").await;
    sell_at(app, k, "2026-11-21T00:05", &bulb, 3, 150.0, (150.0, "upi")).await;
    pay_at(app, o, "2026-11-21T09:00", &fan_sale, 34.5, "cash").await;
    pay_at(app, k, "2026-11-21T10:00", &credit, 20.0, "cash").await;
    app.state.clock.pin(Some(ist("2026-11-21T10:30")));
    Shop { owner, kiran, meena }
}

/// Figures as answered: (invoices, sales, [cash, upi, card, bank, other], payments,
/// collected, refunds), rupees.
fn figures(v: &Value) -> (i64, f64, Vec<f64>, i64, f64, f64) {
    let c = &v["collections"];
    (
        v["invoices"].as_i64().unwrap_or(-1),
        v["sales"].as_f64().unwrap_or(-1.0),
        ["cash", "upi", "card", "bank", "other"].iter().map(|m| c[*m].as_f64().unwrap_or(-1.0)).collect(),
        v["payments"].as_i64().unwrap_or(-1),
        v["collected"].as_f64().unwrap_or(-1.0),
        v["refunds"].as_f64().unwrap_or(-1.0),
    )
}

/// The worked example's two days, as the owner sees them (JSON): a row per user by name,
/// the shop total; the 00:05 IST sale is on 21 Nov, never on 20 Nov. The totals agree with
/// the day book of the same date.
#[tokio::test]
async fn day_closing_known_answer_over_two_india_days() {
    let app = TestApp::spawn().await;
    let s = worked_example(&app).await;
    let t = Some(s.owner.token.as_str());
    let r = app.get("/api/dashboard/reports/day-closing?date=2026-11-20", t).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["date"], "2026-11-20");
    let users = r.body["users"].as_array().cloned().unwrap_or_default();
    let who: Vec<(String, String)> = users
        .iter()
        .map(|u| {
            (u["userId"].as_str().unwrap_or_default().to_string(), u["name"].as_str().unwrap_or_default().to_string())
        })
        .collect();
    assert_eq!(
        who,
        vec![
            (s.owner.client_id.clone(), OWNER.to_string()),
            (s.kiran.id.clone(), "Kiran".to_string()),
            (s.meena.id.clone(), "Meena".to_string())
        ]
    );
    assert_eq!(figures(&users[0]), (1, 50.0, vec![0.0, 0.0, 0.0, 0.0, 0.0], 0, 0.0, 0.0), "the owner, 20 Nov");
    assert_eq!(figures(&users[1]), (1, 100.0, vec![100.0, 0.0, 30.0, 0.0, 0.0], 2, 130.0, 0.0), "Kiran, 20 Nov");
    assert_eq!(figures(&users[2]), (1, 1234.5, vec![0.0, 1000.0, 0.0, 200.0, 0.0], 2, 1200.0, 0.0), "Meena, 20 Nov");
    assert_eq!(figures(&r.body["total"]), (3, 1384.5, vec![100.0, 1000.0, 30.0, 200.0, 0.0], 4, 1330.0, 0.0));

    let r = app.get("/api/dashboard/reports/day-closing?date=2026-11-21", t).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let users = r.body["users"].as_array().cloned().unwrap_or_default();
    assert_eq!(users.len(), 2, "the owner and Kiran: {}", r.body);
    assert_eq!(figures(&users[0]), (0, 0.0, vec![34.5, 0.0, 0.0, 0.0, 0.0], 1, 34.5, 0.0), "the owner, 21 Nov");
    assert_eq!(figures(&users[1]), (1, 150.0, vec![20.0, 150.0, 0.0, 0.0, 0.0], 2, 170.0, 0.0), "Kiran, 21 Nov");
    assert_eq!(figures(&r.body["total"]), (1, 150.0, vec![54.5, 150.0, 0.0, 0.0, 0.0], 3, 204.5, 0.0));
    // today (the pinned clock) is 21 Nov
    let today = app.get("/api/dashboard/reports/day-closing", t).await;
    assert_eq!(today.body, r.body);
    // one user's row on request
    let r = app.get(&format!("/api/dashboard/reports/day-closing?date=2026-11-20&userId={}", s.meena.id), t).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["users"].as_array().map(Vec::len), Some(1), "{}", r.body);
    assert_eq!(figures(&r.body["total"]), figures(&r.body["users"][0]));
    // the same totals as the day book
    for d in ["2026-11-20", "2026-11-21"] {
        let book = app.get(&format!("/api/dashboard/reports/day-book?date={d}"), t).await;
        let close = app.get(&format!("/api/dashboard/reports/day-closing?date={d}"), t).await;
        assert_eq!(book.body["sales"], close.body["total"]["sales"], "{d}");
        assert_eq!(book.body["collections"], close.body["total"]["collected"], "{d}");
    }
    for bad in ["date=20-11-2026", "date=2026-02-30", "userId=nope", "format=pdf"] {
        let r = app.get(&format!("/api/dashboard/reports/day-closing?{bad}"), t).await;
        r.assert_envelope(400);
    }
}

/// CSV: the header, a row per user, the shop total row; amounts in rupees with 2 decimals
/// (by `format=csv` or `Accept: text/csv`); the same figures as the JSON.
#[tokio::test]
async fn day_closing_csv_shape() {
    let app = TestApp::spawn().await;
    let s = worked_example(&app).await;
    let (status, ct, body) = get_csv(&app, "/api/dashboard/reports/day-closing?date=2026-11-20", &s.owner.token).await;
    assert_eq!(status, 200, "{body}");
    assert!(ct.starts_with("text/csv"), "{ct}");
    let want = format!(
        "date,userId,name,invoices,sales,cash,upi,card,bank,other,payments,collected,refunds\r\n\
         2026-11-20,{o},Asha Rao,1,50.00,0.00,0.00,0.00,0.00,0.00,0,0.00,0.00\r\n\
         2026-11-20,{k},Kiran,1,100.00,100.00,0.00,30.00,0.00,0.00,2,130.00,0.00\r\n\
         2026-11-20,{m},Meena,1,1234.50,0.00,1000.00,0.00,200.00,0.00,2,1200.00,0.00\r\n\
         2026-11-20,,Shop total,3,1384.50,100.00,1000.00,30.00,200.00,0.00,4,1330.00,0.00\r\n",
        o = s.owner.client_id,
        k = s.kiran.id,
        m = s.meena.id
    );
    assert_eq!(body, want);
    let r = app
        .http
        .get(format!("{}/api/dashboard/reports/day-closing?date=2026-11-21&format=csv", app.base))
        .bearer_auth(&s.kiran.token)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 200);
    let body = r.text().await.unwrap_or_default();
    assert_eq!(
        body,
        format!(
            "date,userId,name,invoices,sales,cash,upi,card,bank,other,payments,collected,refunds\r\n\
             2026-11-21,{k},Kiran,1,150.00,20.00,150.00,0.00,0.00,0.00,2,170.00,0.00\r\n\
             2026-11-21,,Shop total,1,150.00,20.00,150.00,0.00,0.00,0.00,2,170.00,0.00\r\n",
            k = s.kiran.id
        ),
        "a cashier's CSV holds only their own row"
    );
}

/// The cashier rule: without `sales_view` a cashier sees only their own figures for today
/// (India, the server's clock); another date or another user's id is a 403 `FORBIDDEN`, in
/// JSON and CSV alike. A manager (with `sales_view`) asks any date and any user.
#[tokio::test]
async fn day_closing_cashier_sees_only_their_own_day() {
    let app = TestApp::spawn().await;
    let s = worked_example(&app).await;
    let k = Some(s.kiran.token.as_str());
    let r = app.get("/api/dashboard/reports/day-closing", k).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["date"], "2026-11-21");
    let users = r.body["users"].as_array().cloned().unwrap_or_default();
    assert_eq!(users.len(), 1, "{}", r.body);
    assert_eq!(users[0]["userId"], json!(s.kiran.id));
    assert_eq!(figures(&users[0]), (1, 150.0, vec![20.0, 150.0, 0.0, 0.0, 0.0], 2, 170.0, 0.0));
    assert_eq!(figures(&r.body["total"]), figures(&users[0]), "the total is of what they may see");
    let own = app.get(&format!("/api/dashboard/reports/day-closing?date=2026-11-21&userId={}", s.kiran.id), k).await;
    assert_eq!(own.body, r.body);
    for q in [
        "date=2026-11-20".to_string(),
        "date=2026-11-22".to_string(),
        format!("userId={}", s.meena.id),
        format!("userId={}", s.owner.client_id),
        "date=2026-11-20&format=csv".to_string(),
    ] {
        let r = app.get(&format!("/api/dashboard/reports/day-closing?{q}"), k).await;
        r.assert_envelope(403);
        assert_eq!(r.code(), "FORBIDDEN", "{q}: {}", r.body);
    }
    // the manager: another day, another user
    let m = Some(s.meena.token.as_str());
    let r = app.get(&format!("/api/dashboard/reports/day-closing?date=2026-11-20&userId={}", s.kiran.id), m).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(figures(&r.body["users"][0]), (1, 100.0, vec![100.0, 0.0, 30.0, 0.0, 0.0], 2, 130.0, 0.0));
}

/// Tenant isolation: another shop's owner sees none of it, for the day or for one of this
/// shop's users.
#[tokio::test]
async fn day_closing_is_per_shop() {
    let app = TestApp::spawn().await;
    let s = worked_example(&app).await;
    let other = app.register(&phone()).await;
    let t = Some(other.token.as_str());
    for q in ["date=2026-11-20".to_string(), format!("date=2026-11-20&userId={}", s.kiran.id)] {
        let r = app.get(&format!("/api/dashboard/reports/day-closing?{q}"), t).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["users"], json!([]), "{q}");
        assert_eq!(figures(&r.body["total"]), (0, 0.0, vec![0.0; 5], 0, 0.0, 0.0), "{q}");
    }
    let (status, _, body) = get_csv(&app, "/api/dashboard/reports/day-closing?date=2026-11-20", &other.token).await;
    assert_eq!(status, 200);
    assert!(!body.contains(&s.kiran.id) && !body.contains("Kiran") && body.lines().count() == 2, "{body}");
}
