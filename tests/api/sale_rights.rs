//! Issue 15, what a user may do at the counter and at sync:
//! - sync judges every operation by the user who queued it (their permissions now): a
//!   stock keeper's queued sale is rejected `FORBIDDEN`, a cashier's price edit too, while
//!   the rest of the push or batch applies (v1 lists them in `forbidden`);
//! - a sale that only needed an approval (a counter price without `price_override`, a bill
//!   discount above the seller's cap) is refused online with 403 `APPROVAL_REQUIRED` until a
//!   manager's approval of that very sale covers it, and, offline, is applied (it happened)
//!   with `reviewFlags` on the invoice and a flagged `offline_unapproved` audit entry.

use bson::doc;
use serde_json::{json, Value};

use crate::{
    helpers::{phone, post_keyed, TestApp},
    roles::hire,
};

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A device time a minute ago.
fn at() -> String {
    let now = bson::DateTime::now().timestamp_millis();
    bson::DateTime::from_millis(now - now % 1000 - 60_000).try_to_rfc3339_string().unwrap_or_default()
}

fn op(entity: &str, kind: &str, payload: Value) -> Value {
    json!({ "opId": uuid(), "entity": entity, "kind": kind, "deviceTime": at(), "payload": payload })
}

fn statuses(r: &Value) -> Vec<String> {
    r["results"].as_array().unwrap().iter().map(|x| x["status"].as_str().unwrap_or_default().to_string()).collect()
}

async fn item_doc(app: &TestApp, id: &str) -> bson::Document {
    app.db
        .collection::<bson::Document>("items")
        .find_one(doc! { "_id": bson::oid::ObjectId::parse_str(id).unwrap() })
        .await
        .unwrap()
        .unwrap()
}

/// v2 and v1 check each operation with the permissions of the user who queued it.
#[tokio::test]
async fn sync_judges_each_operation_by_the_queued_users_permissions() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let bulb = crate::billing::seed_item(&app, &owner.client_id, "Bulb", 5_500, 20).await;
    let cashier = hire(&app, &owner, "cashier", "C1", "till").await;
    let keeper = hire(&app, &owner, "stock_keeper", "S1", "store").await;

    // the stock keeper's own device: a sale and a price edit are refused, an item and a stock
    // receipt are theirs to make
    let buyer = phone();
    let ops = json!([
        op(
            "invoice",
            "create",
            json!({ "products": [{ "productId": bulb, "quantity": 1 }], "paidAmount": 55, "clientCustomerPhone": buyer })
        ),
        op("item", "update", json!({ "id": bulb, "price": 60 })),
        op("item", "update", json!({ "id": bulb, "stockDelta": 5 })),
        op("item", "create", json!({ "name": "Tube light", "price": 120 })),
    ]);
    let r = app.post("/api/v2/sync/push", Some(&keeper.token), json!({ "operations": ops })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(statuses(&r.body), ["rejected", "rejected", "applied", "applied"], "{}", r.body);
    let reason = |i: usize| r.body["results"][i]["reason"].as_str().unwrap_or_default().to_string();
    assert!(reason(0).starts_with("FORBIDDEN") && reason(0).contains("sell"), "{}", reason(0));
    assert!(reason(1).starts_with("FORBIDDEN") && reason(1).contains("items_manage"), "{}", reason(1));
    assert_eq!(app.count("invoices", doc! { "clientCustomerPhone": &buyer }).await, 0);
    let it = item_doc(&app, &bulb).await;
    assert_eq!((it.get_i64("price").unwrap(), it.get_i64("stock").unwrap()), (5_500, 25), "{it}");

    // pushed by the owner's session but queued by the stock keeper: still the keeper's rights;
    // queued by the cashier: a sale is theirs
    let (b1, b2) = (phone(), phone());
    let mut by_keeper = op(
        "invoice",
        "create",
        json!({ "products": [{ "productId": bulb, "quantity": 1 }], "paidAmount": 55, "clientCustomerPhone": b1 }),
    );
    by_keeper["userId"] = json!(keeper.id);
    let mut by_cashier = op(
        "invoice",
        "create",
        json!({ "products": [{ "productId": bulb, "quantity": 1 }], "paidAmount": 55, "clientCustomerPhone": b2 }),
    );
    by_cashier["userId"] = json!(cashier.id);
    let r = app.post("/api/v2/sync/push", Some(&owner.token), json!({ "operations": [by_keeper, by_cashier] })).await;
    assert_eq!(statuses(&r.body), ["rejected", "applied"], "{}", r.body);
    assert_eq!(app.count("invoices", doc! { "clientCustomerPhone": &b1 }).await, 0);
    assert_eq!(app.count("invoices", doc! { "clientCustomerPhone": &b2 }).await, 1);

    // v1: the cashier's price edit and item deletion are listed in `forbidden` and not applied;
    // the sale in the same batch is
    let v1 = phone();
    let body = json!({
        "item": { "update": [{ "_id": bulb, "price": 1 }], "delete": [bulb] },
        "invoice": { "create": [{ "clientCustomerPhone": v1, "paidAmount": 55,
            "products": [{ "productId": bulb, "itemName": "Bulb", "quantity": 1, "costPerUnit": 55 }] }] },
    });
    let r = app.post("/api/sync", Some(&cashier.token), body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let forbidden: Vec<(String, String)> = r.body["forbidden"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["entry"].as_str().unwrap().to_string(), f["permission"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        forbidden,
        [("item.update[0]".to_string(), "items_manage".to_string()), ("item.delete[0]".into(), "items_manage".into())],
        "{}",
        r.body
    );
    assert_eq!(r.body["summary"]["invoicesCreated"], 1, "{}", r.body);
    assert_eq!(r.body["summary"]["itemsUpdated"], 0);
    let it = item_doc(&app, &bulb).await;
    assert_eq!((it.get_i64("price").unwrap(), it.get_bool("isActive").unwrap()), (5_500, true), "{it}");
    assert_eq!(app.count("invoices", doc! { "clientCustomerPhone": &v1 }).await, 1);

    // v1: the stock keeper's sale is forbidden and writes nothing; their new item is made
    let v1k = phone();
    let body = json!({
        "item": { "create": [{ "name": "Switch board", "price": 250 }] },
        "invoice": { "create": [{ "clientCustomerPhone": v1k, "paidAmount": 55,
            "products": [{ "productId": bulb, "itemName": "Bulb", "quantity": 1, "costPerUnit": 55 }] }] },
    });
    let r = app.post("/api/sync", Some(&keeper.token), body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["forbidden"][0]["entry"], "invoice.create[0]", "{}", r.body);
    assert_eq!(r.body["forbidden"][0]["permission"], "sell");
    assert_eq!(r.body["summary"]["itemsCreated"], 1);
    assert_eq!(app.count("invoices", doc! { "clientCustomerPhone": &v1k }).await, 0);
    // a revoked right stops at the next sync: the owner denies the cashier `sell`
    let deny = json!({ "permissions": { "deny": ["sell"] } });
    let r =
        app.raw(reqwest::Method::PATCH, &format!("/api/staff/{}", cashier.id), Some(&owner.token), Some(&deny)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut late = op(
        "invoice",
        "create",
        json!({ "products": [{ "productId": bulb, "quantity": 1 }], "paidAmount": 55, "clientCustomerPhone": phone() }),
    );
    late["userId"] = json!(cashier.id);
    let r = app.post("/api/v2/sync/push", Some(&owner.token), json!({ "operations": [late] })).await;
    assert_eq!(statuses(&r.body), ["rejected"], "{}", r.body);
}

/// Offline, a cashier's counter price and a discount above their 5 % cap happened: the sale
/// is applied at the device's figures, flagged on the invoice and in the audit trail (v2 and
/// v1); the owner's same sale is not flagged.
#[tokio::test]
async fn an_offline_sale_that_needed_an_approval_is_applied_and_flagged_for_review() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let bulb = crate::billing::seed_item(&app, &owner.client_id, "Bulb", 10_000, 20).await;
    let cashier = hire(&app, &owner, "cashier", "C1", "till").await;
    // 2 x Rs 90.00 (catalog Rs 100.00) = Rs 180.00, discount Rs 20.00 (11.12 %, cap 5 %)
    let sale = |customer: &str| {
        op(
            "invoice",
            "create",
            json!({ "products": [{ "productId": bulb, "quantity": 2, "costPerUnit": 90 }],
            "totalDiscount": 20, "paidAmount": 160, "clientCustomerPhone": customer }),
        )
    };
    let c = phone();
    let r = app.post("/api/v2/sync/push", Some(&cashier.token), json!({ "operations": [sale(&c)] })).await;
    assert_eq!(statuses(&r.body), ["applied"], "{}", r.body);
    let flags = r.body["results"][0]["result"]["reviewFlags"].clone();
    assert_eq!(
        flags,
        json!([
            "price_override: Bulb at 90.00 (catalog 100.00)",
            "discount_over_cap: 20.00 is 11.12 % of 180.00, above the cap of 5.00 %"
        ]),
        "{}",
        r.body
    );
    let id = r.body["results"][0]["result"]["id"].as_str().unwrap().to_string();
    let inv = app
        .db
        .collection::<bson::Document>("invoices")
        .find_one(doc! { "_id": bson::oid::ObjectId::parse_str(&id).unwrap() })
        .await
        .unwrap()
        .unwrap();
    let stored: Vec<String> =
        inv.get_array("reviewFlags").unwrap().iter().map(|f| f.as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(json!(stored), flags, "{inv}");
    assert_eq!(inv.get_i64("totalAmount").unwrap(), 16_000);
    let log = app.get("/api/audit?action=offline_unapproved", Some(&owner.token)).await;
    let entries = log.body["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1, "{}", log.body);
    assert_eq!(entries[0]["entityId"], id.as_str());
    assert_eq!(entries[0]["flagged"], true);
    assert_eq!(entries[0]["who"]["userId"], cashier.id.as_str());
    assert!(entries[0]["reason"].as_str().unwrap().contains("price_override: Bulb at 90.00"), "{}", entries[0]);

    // v1 (its sales carry no discount): the counter price, listed in `reviewFlags`
    let c1 = phone();
    let body = json!({ "invoice": { "create": [{ "clientCustomerPhone": c1, "paidAmount": 180,
        "products": [{ "productId": bulb, "itemName": "Bulb", "quantity": 2, "costPerUnit": 90 }] }] } });
    let r = app.post("/api/sync", Some(&cashier.token), body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["reviewFlags"][0]["reviewFlags"], json!([flags[0]]), "{}", r.body);
    let log = app.get("/api/audit?action=offline_unapproved", Some(&owner.token)).await;
    assert_eq!(log.body["entries"].as_array().unwrap().len(), 2, "{}", log.body);

    // the owner's offline sale at the same figures needs nobody's approval
    let r = app.post("/api/v2/sync/push", Some(&owner.token), json!({ "operations": [sale(&phone())] })).await;
    assert_eq!(statuses(&r.body), ["applied"], "{}", r.body);
    assert_eq!(r.body["results"][0]["result"]["reviewFlags"], json!([]), "{}", r.body);
    let log = app.get("/api/audit?action=offline_unapproved", Some(&owner.token)).await;
    assert_eq!(log.body["entries"].as_array().unwrap().len(), 2);
}

/// Online, the same sale is refused (403 `APPROVAL_REQUIRED`, nothing written) until a
/// manager approves exactly that sale; the token is bound to its lines and discount, used
/// once, and a keyed retry replays without spending another.
#[tokio::test]
async fn an_online_sale_needing_an_approval_is_refused_until_one_covers_it() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let bulb = crate::billing::seed_item(&app, &owner.client_id, "Bulb", 10_000, 50).await;
    let cashier = hire(&app, &owner, "cashier", "C1", "till").await;
    let manager = hire(&app, &owner, "manager", "M1", "office").await;
    assert_eq!(app.put("/api/staff/me/pin", Some(&manager.token), json!({ "pin": "4821" })).await.status, 200);
    let t = Some(cashier.token.as_str());
    let body = |discount: f64, price: Option<f64>| {
        let mut line = json!({ "productId": bulb, "quantity": 2 });
        if let Some(p) = price {
            line["costPerUnit"] = json!(p);
        }
        json!({ "products": [line], "totalDiscount": discount, "paidAmount": 0 })
    };
    let invoices = || app.count("invoices", doc! {});
    let before = invoices().await;
    // within the cap (Rs 10.00 of Rs 200.00 = 5 %) at the catalog price: sold
    let ok = app.post("/api/business/invoices/generatewithproducts", t, body(10.0, None)).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    // a counter price, or Rs 10.01 off: refused, nothing written
    for b in [body(0.0, Some(95.0)), body(10.01, None)] {
        let r = app.post("/api/business/invoices/generatewithproducts", t, b).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "APPROVAL_REQUIRED"), "{}", r.body);
        let r = app.post("/api/business/invoices/incomplete-sale", t, body(10.01, None)).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "APPROVAL_REQUIRED"), "{}", r.body);
    }
    assert_eq!(invoices().await, before + 1);
    // the manager approves exactly this sale: 2 x Rs 95.00 with Rs 15.00 off
    let ask = json!({ "approverId": manager.id, "pin": "4821", "action": "sale", "reason": "regular customer",
        "products": [{ "productId": bulb, "quantity": 2, "costPerUnit": 95 }], "totalDiscount": 15 });
    let g = app.post("/api/staff/approvals", t, ask).await;
    assert_eq!(g.status, 201, "{}", g.body);
    let token = g.body["approvalToken"].as_str().unwrap().to_string();
    let with = |discount: f64, price: f64| {
        let mut b = body(discount, Some(price));
        b["approvalToken"] = json!(token);
        b
    };
    // bound: another discount or price is refused and leaves the token unused
    for b in [with(16.0, 95.0), with(15.0, 94.0)] {
        let r = app.post("/api/business/invoices/generatewithproducts", t, b).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "APPROVAL_INVALID"), "{}", r.body);
    }
    let key = uuid();
    let approved_sale = with(15.0, 95.0);
    let keyed = || {
        let path = "/api/business/invoices/generatewithproducts";
        post_keyed(&app.http, &app.base, path, &cashier.token, &key, &approved_sale)
    };
    let sold = keyed().await;
    assert_eq!(sold.status, 201, "{}", sold.body);
    assert_eq!(sold.body["invoice"]["approvedBy"]["userId"], manager.id.as_str(), "{}", sold.body);
    assert_eq!(sold.body["invoice"]["totalAmount"], 175);
    // a keyed retry replays the answer (the token is not spent twice)
    let replay = keyed().await;
    assert_eq!(replay.status, 201, "{}", replay.body);
    assert_eq!(replay.body["invoice"]["_id"], sold.body["invoice"]["_id"]);
    // a new sale with the used token: refused
    let again = app.post("/api/business/invoices/generatewithproducts", t, with(15.0, 95.0)).await;
    assert_eq!((again.status.as_u16(), again.code()), (403, "APPROVAL_INVALID"), "{}", again.body);
    assert_eq!(invoices().await, before + 2);
    // a manager sets counter prices and discounts up to 15 % alone, not beyond
    let m = Some(manager.token.as_str());
    assert_eq!(app.post("/api/business/invoices/generatewithproducts", m, body(0.0, Some(90.0))).await.status, 201);
    assert_eq!(app.post("/api/business/invoices/generatewithproducts", m, body(30.0, None)).await.status, 201);
    let r = app.post("/api/business/invoices/generatewithproducts", m, body(30.01, None)).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "APPROVAL_REQUIRED"), "{}", r.body);
    // the owner: no cap
    let r = app.post("/api/business/invoices/generatewithproducts", Some(&owner.token), body(19.0, Some(10.0))).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// A cashier (no `sales_view`) lists only the invoices they billed today (India); asking for
/// another user's or another day's is 403; the owner lists them all.
#[tokio::test]
async fn a_cashier_lists_only_their_own_sales_of_today() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let bulb = crate::billing::seed_item(&app, &owner.client_id, "Bulb", 5_500, 50).await;
    let kiran = hire(&app, &owner, "cashier", "C1", "till").await;
    let meena = hire(&app, &owner, "cashier", "C2", "till-2").await;
    let sell = |token: String| {
        let app = &app;
        let bulb = bulb.clone();
        async move {
            let body = json!({ "products": [{ "productId": bulb, "quantity": 1 }], "paidAmount": 55 });
            let r = app.post("/api/business/invoices/generatewithproducts", Some(&token), body).await;
            assert_eq!(r.status, 201, "{}", r.body);
            r.body["invoice"]["_id"].as_str().unwrap().to_string()
        }
    };
    let mine = sell(kiran.token.clone()).await;
    sell(meena.token.clone()).await;
    sell(owner.token.clone()).await;
    // Kiran's sale of yesterday, synced now (its date is the device's)
    let yesterday = bson::DateTime::from_millis(bson::DateTime::now().timestamp_millis() - 86_400_000);
    let mut old =
        op("invoice", "create", json!({ "products": [{ "productId": bulb, "quantity": 1 }], "paidAmount": 55 }));
    old["deviceTime"] = json!(yesterday.try_to_rfc3339_string().unwrap());
    let r = app.post("/api/v2/sync/push", Some(&kiran.token), json!({ "operations": [old] })).await;
    assert_eq!(statuses(&r.body), ["applied"], "{}", r.body);

    let path = format!("/api/business/invoices/{}", owner.client_id);
    let ids = |r: &crate::helpers::Resp| -> Vec<String> {
        r.body["invoices"].as_array().unwrap().iter().map(|i| i["_id"].as_str().unwrap().to_string()).collect()
    };
    let r = app.get(&path, Some(&kiran.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r), vec![mine.clone()], "{}", r.body);
    let today = bson::DateTime::now();
    let today =
        chrono::DateTime::from_timestamp_millis(today.timestamp_millis() + 19_800_000).unwrap().format("%Y-%m-%d");
    let r = app.get(&format!("{path}?from={today}&to={today}&userId={}", kiran.id), Some(&kiran.token)).await;
    assert_eq!(ids(&r), [mine], "{}", r.body);
    for q in
        [format!("?userId={}", meena.id), "?from=2026-01-01".to_string(), format!("?to={today}&startDate=2025-04-01")]
    {
        let r = app.get(&format!("{path}{q}"), Some(&kiran.token)).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "FORBIDDEN"), "{q}: {}", r.body);
    }
    let r = app.get(&path, Some(&owner.token)).await;
    assert_eq!(ids(&r).len(), 4, "{}", r.body);
}

/// What a shop pays its dealers is cost: a stock keeper places orders and sees them without
/// `totalAmount`/`paidAmount`, and is refused the dealer payment and summary routes
/// (`cost_view`); the accountant and the owner see the amounts.
#[tokio::test]
async fn a_stock_keeper_sees_dealer_orders_without_their_cost() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let pen = crate::billing::seed_item(&app, &owner.client_id, "Pen", 500, 10).await;
    let keeper = hire(&app, &owner, "stock_keeper", "S1", "store").await;
    let accountant = hire(&app, &owner, "accountant", "A1", "desk").await;
    let d = app.post("/api/dealer", Some(&owner.token), json!({ "name": "Shree Traders" })).await;
    assert_eq!(d.status, 201, "{}", d.body);
    let dealer = d.body["dealer"]["_id"].as_str().unwrap().to_string();
    // the dealer supplies the pen
    let oid = |s: &str| bson::oid::ObjectId::parse_str(s).unwrap();
    app.db
        .collection::<bson::Document>("items")
        .update_one(doc! { "_id": oid(&pen) }, doc! { "$set": { "dealerIds": [oid(&dealer)] } })
        .await
        .unwrap();
    let o = app
        .post(
            "/api/dealer/orders",
            Some(&keeper.token),
            json!({ "dealerId": dealer, "items": [{ "itemId": pen, "quantity": 100 }] }),
        )
        .await;
    assert_eq!(o.status, 201, "{}", o.body);
    let order = o.body["order"]["_id"].as_str().unwrap().to_string();
    let total =
        app.put(&format!("/api/dealer/orders/{order}/total"), Some(&owner.token), json!({ "totalAmount": 350 })).await;
    assert_eq!(total.status, 200, "{}", total.body);
    let path = format!("/api/dealer/orders/{order}");
    let seen = app.get(&path, Some(&keeper.token)).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(
        (seen.body["order"]["totalAmount"].clone(), seen.body["order"]["paidAmount"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(seen.body["order"]["orderNumber"], o.body["order"]["orderNumber"]);
    for who in [&accountant.token, &owner.token] {
        let r = app.get(&path, Some(who)).await;
        assert_eq!(
            (r.body["order"]["totalAmount"].clone(), r.body["order"]["paidAmount"].clone()),
            (json!(350), json!(0)),
            "{}",
            r.body
        );
    }
    for p in [
        format!("/api/dealer/{}/payments/all", owner.client_id),
        format!("/api/dealer/{}/{dealer}/summary", owner.client_id),
    ] {
        let r = app.get(&p, Some(&keeper.token)).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "FORBIDDEN"), "{p}: {}", r.body);
        assert_eq!(app.get(&p, Some(&accountant.token)).await.status, 200, "{p}");
    }
}

/// Issue 16 with issue 15: an approval binds the packing unit of each line. Two pieces at a
/// counter price do not approve two boxes at that price (the price counts in the unit sold).
#[tokio::test]
async fn an_approval_of_pieces_does_not_cover_boxes() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let o = Some(owner.token.as_str());
    let unit = |body: Value| {
        let app = &app;
        async move {
            let r = app.post("/api/business/units", o, body).await;
            assert_eq!(r.status, 201, "{}", r.body);
            r.body["unit"]["_id"].as_str().unwrap().to_string()
        }
    };
    let pcs = unit(json!({ "name": "PCS", "uqc": "PCS" })).await;
    let bx = unit(json!({ "name": "BOX", "uqc": "BOX", "conversionFactor": 10, "baseUnitId": pcs })).await;
    let pen = app
        .post(
            "/api/business/items",
            o,
            json!({ "name": "Pen", "price": 5, "stock": 250, "baseUnitId": pcs, "units": [{ "unitId": bx, "price": 45 }] }),
        )
        .await;
    assert_eq!(pen.status, 201, "{}", pen.body);
    let pen = pen.body["item"]["_id"].as_str().unwrap().to_string();
    let cashier = hire(&app, &owner, "cashier", "C1", "till").await;
    let manager = hire(&app, &owner, "manager", "M1", "office").await;
    assert_eq!(app.put("/api/staff/me/pin", Some(&manager.token), json!({ "pin": "4821" })).await.status, 200);
    let t = Some(cashier.token.as_str());
    let approve = |line: Value| {
        let app = &app;
        let manager_id = manager.id.clone();
        async move {
            let ask = json!({ "approverId": manager_id, "pin": "4821", "action": "sale", "reason": "bulk buyer",
                "products": [line] });
            let g = app.post("/api/staff/approvals", t, ask).await;
            assert_eq!(g.status, 201, "{}", g.body);
            g.body["approvalToken"].as_str().unwrap().to_string()
        }
    };
    // approved: 2 pieces at Rs 4.00
    let token = approve(json!({ "productId": pen, "quantity": 2, "costPerUnit": 4 })).await;
    let boxes = json!({ "products": [{ "productId": pen, "quantity": 2, "costPerUnit": 4, "unitId": bx }],
        "paidAmount": 0, "approvalToken": token });
    let r = app.post("/api/business/invoices/generatewithproducts", t, boxes).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "APPROVAL_INVALID"), "{}", r.body);
    // approved in boxes: 2 boxes at Rs 40.00 a box
    let token = approve(json!({ "productId": pen, "quantity": 2, "costPerUnit": 40, "unitId": bx })).await;
    let boxes = json!({ "products": [{ "productId": pen, "quantity": 2, "costPerUnit": 40, "unitId": bx }],
        "paidAmount": 0, "approvalToken": token });
    let r = app.post("/api/business/invoices/generatewithproducts", t, boxes).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["invoice"]["totalAmount"], 80, "{}", r.body);
    assert_eq!(crate::helpers::TestApp::stock_of(&app, &pen).await, 230);
}
