//! Issue 18, offline: the v2 push operations `invoice cancel` and `creditNote create`, and
//! the pull of credit notes, cancelled invoices and refunds.
//!
//! The push applies them through the online write path (the same deciders), in the order
//! sent (a sale and its return in one push), exactly once per opId, and a refusal of the
//! online route rejects only that operation: the rest of the push applies.

use bson::{doc, oid::ObjectId, Document};
use serde_json::{json, Value};

use crate::{
    billing::seed_item,
    helpers::{phone, Registered, TestApp},
    roles::hire,
};

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn oid(s: &str) -> ObjectId {
    ObjectId::parse_str(s).unwrap()
}

/// A device time a minute ago.
fn at() -> String {
    let now = bson::DateTime::now().timestamp_millis();
    bson::DateTime::from_millis(now - now % 1000 - 60_000).try_to_rfc3339_string().unwrap_or_default()
}

/// An operation with a fresh opId: (opId, operation).
fn op(entity: &str, kind: &str, payload: Value) -> (String, Value) {
    let id = uuid();
    (id.clone(), json!({ "opId": id, "entity": entity, "kind": kind, "deviceTime": at(), "payload": payload }))
}

async fn push(app: &TestApp, token: &str, ops: &[Value]) -> Value {
    let r = app.post("/api/v2/sync/push", Some(token), json!({ "operations": ops })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

fn statuses(r: &Value) -> Vec<String> {
    r["results"].as_array().unwrap().iter().map(|x| x["status"].as_str().unwrap_or_default().to_string()).collect()
}

async fn one(app: &TestApp, coll: &str, filter: Document) -> Document {
    app.db.collection::<Document>(coll).find_one(filter).await.unwrap().unwrap_or_else(|| panic!("no {coll}"))
}

async fn all(app: &TestApp, coll: &str, filter: Document) -> Vec<Document> {
    use futures::TryStreamExt;
    app.db.collection::<Document>(coll).find(filter).await.unwrap().try_collect().await.unwrap()
}

/// A paid sale of `qty` Pens (Rs 10.00 each) pushed as an `invoice create`: (opId, invoice id).
async fn pushed_sale(app: &TestApp, r: &Registered, pen: &str, qty: i64) -> (String, String) {
    let (id, sale) = op(
        "invoice",
        "create",
        json!({ "products": [{ "productId": pen, "quantity": qty, "costPerUnit": 10 }], "paidAmount": 10 * qty }),
    );
    let out = push(app, &r.token, &[sale]).await;
    assert_eq!(statuses(&out), ["applied"], "{out}");
    (id, out["results"][0]["result"]["id"].as_str().unwrap().to_string())
}

/// A pushed cancel with a cash refund: the invoice keeps its number, reads `Cancelled` with
/// who, when and why, nothing is left paid on it (a refund payment of -20.00), the stock is
/// back; the answer gives the invoice's state. A replay answers `duplicate` and changes
/// nothing; the same cancel under a new opId is the online 409 (cancelled twice).
#[tokio::test]
async fn a_pushed_cancel_cancels_the_invoice_once() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let pen = seed_item(&app, &a.client_id, "Pen", 1000, 20).await;
    let (_, inv) = pushed_sale(&app, &a, &pen, 2).await;
    assert_eq!(app.stock_of(&pen).await, 18);
    let number = one(&app, "invoices", doc! { "_id": oid(&inv) }).await.get_str("invoiceNumber").unwrap().to_string();

    let (_, cancel) = op(
        "invoice",
        "cancel",
        json!({ "invoiceId": inv, "reason": "wrong customer", "refund": { "method": "cash" } }),
    );
    let out = push(&app, &a.token, std::slice::from_ref(&cancel)).await;
    assert_eq!(statuses(&out), ["applied"], "{out}");
    let res = &out["results"][0]["result"];
    assert_eq!(res["id"], inv.as_str(), "{out}");
    assert_eq!(res["status"], "Cancelled", "{out}");
    assert_eq!(res["isCancelled"], true);
    assert_eq!(res["invoiceNumber"], number.as_str());
    assert_eq!((res["paidAmount"].as_f64(), res["refundedAmount"].as_f64()), (Some(0.0), Some(20.0)), "{out}");
    assert_eq!(res["cancellation"]["reason"], "wrong customer");

    let stored = one(&app, "invoices", doc! { "_id": oid(&inv) }).await;
    assert_eq!(stored.get_bool("isCancelled"), Ok(true), "{stored}");
    assert_eq!(stored.get_str("status"), Ok("Cancelled"));
    assert_eq!(stored.get_str("invoiceNumber"), Ok(number.as_str()));
    assert_eq!(stored.get_i64("paidAmount"), Ok(0));
    assert_eq!(stored.get_i64("refundedAmount"), Ok(2000));
    assert_eq!(stored.get_document("cancellation").unwrap().get_str("reason"), Ok("wrong customer"));
    assert_eq!(app.stock_of(&pen).await, 20);
    let refunds = all(&app, "payments", doc! { "invoiceId": oid(&inv), "kind": "refund" }).await;
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(refunds[0].get_i64("amount"), Ok(-2000));
    assert_eq!(refunds[0].get_str("method"), Ok("cash"));

    // the same operation again: duplicate with its first answer, nothing twice
    let again = push(&app, &a.token, std::slice::from_ref(&cancel)).await;
    assert_eq!(statuses(&again), ["duplicate"], "{again}");
    assert_eq!(again["results"][0]["originalStatus"], "applied");
    assert_eq!(again["results"][0]["result"], out["results"][0]["result"]);
    assert_eq!(app.count("payments", doc! { "invoiceId": oid(&inv), "kind": "refund" }).await, 1);
    assert_eq!(app.stock_of(&pen).await, 20);

    // the same cancel under a new opId: the online answer (409, cancelled twice), rejected
    let (_, twice) = op("invoice", "cancel", json!({ "invoiceId": inv, "reason": "again" }));
    let out = push(&app, &a.token, &[twice]).await;
    assert_eq!(statuses(&out), ["rejected"], "{out}");
    let online =
        app.post(&format!("/api/business/invoices/{inv}/cancel"), Some(&a.token), json!({ "reason": "again" })).await;
    assert_eq!(online.status, 409, "{}", online.body);
    assert_eq!(
        out["results"][0]["reason"].as_str().unwrap(),
        format!("{}: {}", online.body["code"].as_str().unwrap(), online.body["message"].as_str().unwrap())
    );
    assert_eq!(app.stock_of(&pen).await, 20);
}

/// A pushed credit note: one of three Pens (Rs 10.00 each, paid 30.00) returned and refunded
/// in cash: CN/<fy>/00001 of Rs 10.00, the Pen back on the shelf, a refund of -10.00 naming
/// the note, the invoice credited 10.00 and still Paid (30.00 - 10.00 credited - 20.00 net
/// paid = 0). A replay issues nothing more.
#[tokio::test]
async fn a_pushed_credit_note_credits_refunds_and_restocks_once() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let pen = seed_item(&app, &a.client_id, "Pen", 1000, 20).await;
    let (_, inv) = pushed_sale(&app, &a, &pen, 3).await;
    let (_, note) = op(
        "creditNote",
        "create",
        json!({ "invoiceId": inv, "lines": [{ "lineId": 0, "quantity": 1 }], "restock": true,
                "settlement": { "type": "refund", "method": "cash" }, "reason": "damaged", "deviceRef": "CN-7" }),
    );
    let out = push(&app, &a.token, std::slice::from_ref(&note)).await;
    assert_eq!(statuses(&out), ["applied"], "{out}");
    let res = &out["results"][0]["result"];
    let number = res["creditNoteNumber"].as_str().unwrap_or_default();
    assert!(number.starts_with("CN/") && number.ends_with("/00001"), "{out}");
    assert_eq!(res["totalAmount"].as_f64(), Some(10.0), "{out}");
    assert_eq!(res["invoiceId"], inv.as_str());
    assert_eq!(res["settlement"]["refund"].as_f64(), Some(10.0), "{out}");
    assert_eq!(res["invoice"]["status"], "Paid", "{out}");
    assert_eq!(res["invoice"]["creditedAmount"].as_f64(), Some(10.0));
    assert_eq!(res["invoice"]["pendingAmount"].as_f64(), Some(0.0));

    let cn = one(&app, "creditnotes", doc! { "clientId": oid(&a.client_id) }).await;
    assert_eq!(cn.get_object_id("_id").unwrap().to_hex(), res["id"].as_str().unwrap());
    assert_eq!(cn.get_i64("totalAmount"), Ok(1000));
    assert_eq!(cn.get_str("source"), Ok("sync"));
    assert_eq!(cn.get_str("deviceRef"), Ok("CN-7"));
    let stored = one(&app, "invoices", doc! { "_id": oid(&inv) }).await;
    assert_eq!((stored.get_i64("creditedAmount"), stored.get_i64("paidAmount")), (Ok(1000), Ok(2000)), "{stored}");
    assert_eq!(
        stored.get_array("products").unwrap()[0]
            .as_document()
            .unwrap()
            .get_document("returned")
            .unwrap()
            .get_i64("baseQuantity"),
        Ok(1)
    );
    assert_eq!(app.stock_of(&pen).await, 18);
    let refund = one(&app, "payments", doc! { "invoiceId": oid(&inv), "kind": "refund" }).await;
    assert_eq!(refund.get_i64("amount"), Ok(-1000));
    assert_eq!(refund.get_object_id("creditNoteId"), cn.get_object_id("_id"));

    let again = push(&app, &a.token, &[note]).await;
    assert_eq!(statuses(&again), ["duplicate"], "{again}");
    assert_eq!(again["results"][0]["result"], out["results"][0]["result"]);
    assert_eq!(app.count("creditnotes", doc! { "clientId": oid(&a.client_id) }).await, 1);
    assert_eq!(app.count("payments", doc! { "invoiceId": oid(&inv), "kind": "refund" }).await, 1);
    assert_eq!(app.stock_of(&pen).await, 18);
}

/// A sale and its return in the same push (the return names the sale by its opId), then a
/// payment of what is left: applied in the order sent, so the payment sees the credit. A
/// second sale and its cancel in the same push. Replaying the whole push applies nothing.
#[tokio::test]
async fn a_sale_and_its_return_or_cancel_in_one_push_apply_in_order_and_once() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let cid = oid(&a.client_id);
    let pen = seed_item(&app, &a.client_id, "Pen", 1000, 20).await;
    let (sale_op, sale) = op(
        "invoice",
        "create",
        json!({ "products": [{ "productId": pen, "quantity": 3, "costPerUnit": 10 }], "paidAmount": 0,
                "clientCustomerPhone": "9876500011" }),
    );
    let (_, ret) = op(
        "creditNote",
        "create",
        json!({ "invoiceOpId": sale_op, "lines": [{ "lineId": 0, "quantity": 1 }],
                "settlement": { "type": "adjustToDues" }, "reason": "one too many" }),
    );
    // 30.00 - 10.00 credited = 20.00 due: a payment of 25.00 is refused, one of 20.00 settles
    // it (were the return applied after the payments, 25.00 would pass and 20.00 be refused)
    let (_, pay25) = op("payment", "create", json!({ "invoiceOpId": sale_op, "amount": 25, "method": "upi" }));
    let (_, pay) = op("payment", "create", json!({ "invoiceOpId": sale_op, "amount": 20, "method": "upi" }));
    let (sale2_op, sale2) = op(
        "invoice",
        "create",
        json!({ "products": [{ "productId": pen, "quantity": 2, "costPerUnit": 10 }], "paidAmount": 20 }),
    );
    let (_, cancel2) = op(
        "invoice",
        "cancel",
        json!({ "invoiceOpId": sale2_op, "reason": "test bill", "refund": { "method": "cash" } }),
    );
    let ops = [sale, ret, pay25, pay, sale2, cancel2];
    let out = push(&app, &a.token, &ops).await;
    assert_eq!(statuses(&out), ["applied", "applied", "rejected", "applied", "applied", "applied"], "{out}");
    assert!(out["results"][2]["reason"].as_str().unwrap_or_default().contains("20"), "{out}");
    let inv = out["results"][0]["result"]["id"].as_str().unwrap().to_string();
    let stored = one(&app, "invoices", doc! { "_id": oid(&inv) }).await;
    assert_eq!(
        (stored.get_i64("creditedAmount"), stored.get_i64("paidAmount"), stored.get_str("status")),
        (Ok(1000), Ok(2000), Ok("Paid")),
        "{stored}"
    );
    let customer = one(&app, "clientcustomers", doc! { "clientId": cid, "phoneNumber": "9876500011" }).await;
    assert_eq!(customer.get_i64("outstandingBalance"), Ok(0), "{customer}");
    let inv2 = out["results"][4]["result"]["id"].as_str().unwrap().to_string();
    assert_eq!(one(&app, "invoices", doc! { "_id": oid(&inv2) }).await.get_str("status"), Ok("Cancelled"));
    // 20 - 3 + 1 (returned, restocked by default) - 2 + 2 (cancelled)
    assert_eq!(app.stock_of(&pen).await, 18);

    let before = (
        app.count("invoices", doc! { "clientId": cid }).await,
        app.count("payments", doc! { "clientId": cid }).await,
        app.count("creditnotes", doc! { "clientId": cid }).await,
        app.count("stockmovements", doc! { "clientId": cid }).await,
    );
    let again = push(&app, &a.token, &ops).await;
    assert_eq!(statuses(&again), ["duplicate"; 6], "{again}");
    let after = (
        app.count("invoices", doc! { "clientId": cid }).await,
        app.count("payments", doc! { "clientId": cid }).await,
        app.count("creditnotes", doc! { "clientId": cid }).await,
        app.count("stockmovements", doc! { "clientId": cid }).await,
    );
    assert_eq!(before, after);
    assert_eq!(app.stock_of(&pen).await, 18);
}

/// A cancel or credit note the online rules refuse is rejected with the online answer, writes
/// nothing (no credit-note number is taken: the next note is 00001), and the operations
/// around it apply. Refusals of several kinds: a missing invoice, a return beyond what was
/// sold, a refund larger than the note, dues adjusted on a paid invoice, a cancel of an
/// invoice with a credit note.
#[tokio::test]
async fn a_refused_cancel_or_credit_note_is_rejected_alone() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let cid = oid(&a.client_id);
    let pen = seed_item(&app, &a.client_id, "Pen", 1000, 20).await;
    let (_, inv) = pushed_sale(&app, &a, &pen, 2).await;
    let missing = ObjectId::new().to_hex();
    let too_many = json!({ "invoiceId": inv, "lines": [{ "lineId": 0, "quantity": 3 }],
        "settlement": { "type": "adjustToDues" }, "reason": "r" });
    let over_refund = json!({ "invoiceId": inv, "lines": [{ "lineId": 0, "quantity": 1 }],
        "settlement": { "type": "refund", "method": "cash", "amount": 15 }, "reason": "r" });
    // the invoice is paid in full: nothing is pending to adjust
    let to_dues = json!({ "invoiceId": inv, "lines": [{ "lineId": 0, "quantity": 1 }],
        "settlement": { "type": "adjustToDues" }, "reason": "r" });
    // each reason is the online route's answer to the same request (asked first: the same
    // state as the push saw them in), `CODE: message`
    let r =
        app.post(&format!("/api/business/invoices/{missing}/cancel"), Some(&a.token), json!({ "reason": "r" })).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let mut online = vec![(1, online_reason(&r))];
    for (i, body) in [(2, &too_many), (3, &over_refund), (7, &to_dues)] {
        let r = app.post("/api/business/credit-notes", Some(&a.token), body.clone()).await;
        assert!(r.status.is_client_error(), "{}", r.body);
        online.push((i, online_reason(&r)));
    }
    let (_, s1) =
        op("invoice", "create", json!({ "products": [{ "productId": pen, "quantity": 1, "costPerUnit": 10 }] }));
    let (_, bad1) = op("invoice", "cancel", json!({ "invoiceId": missing, "reason": "r" }));
    let (_, bad2) = op("creditNote", "create", too_many.clone());
    let (_, bad3) = op("creditNote", "create", over_refund.clone());
    let (_, bad5) = op("creditNote", "create", to_dues.clone());
    let (_, good) = op(
        "creditNote",
        "create",
        json!({ "invoiceId": inv, "lines": [{ "lineId": 0, "quantity": 1 }],
                "settlement": { "type": "refund", "method": "cash" }, "reason": "r" }),
    );
    // the invoice now has a credit note: a cancel is refused
    let (_, bad4) = op("invoice", "cancel", json!({ "invoiceId": inv, "reason": "r", "refund": { "method": "cash" } }));
    let (_, s2) = op("item", "update", json!({ "id": pen, "price": 12 }));
    let out = push(&app, &a.token, &[s1, bad1, bad2, bad3, good, bad4, s2, bad5]).await;
    assert_eq!(
        statuses(&out),
        ["applied", "rejected", "rejected", "rejected", "applied", "rejected", "applied", "rejected"],
        "{out}"
    );
    let number = out["results"][4]["result"]["creditNoteNumber"].as_str().unwrap_or_default();
    assert!(number.ends_with("/00001"), "a refused note took a number: {out}");
    assert_eq!(app.count("creditnotes", doc! { "clientId": cid }).await, 1);
    assert_eq!(one(&app, "items", doc! { "_id": oid(&pen) }).await.get_i64("price"), Ok(1200));
    // 20 - 2 - 1 + 1 returned
    assert_eq!(app.stock_of(&pen).await, 18);
    for (i, why) in online {
        assert_eq!(out["results"][i]["reason"].as_str().unwrap(), why, "{i}");
    }

    // the cancel after the note: the online answer now
    let r = app
        .post(
            &format!("/api/business/invoices/{inv}/cancel"),
            Some(&a.token),
            json!({ "reason": "r", "refund": { "method": "cash" } }),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(out["results"][5]["reason"].as_str().unwrap(), online_reason(&r));
}

/// Tenant isolation: another shop's invoice id is rejected exactly like an id that was never
/// an invoice, and the other shop's invoice is untouched.
#[tokio::test]
async fn a_foreign_invoice_is_rejected_like_a_missing_one() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let b = app.register(&phone()).await;
    let pen_b = seed_item(&app, &b.client_id, "Pen", 1000, 20).await;
    let (_, inv_b) = pushed_sale(&app, &b, &pen_b, 2).await;
    let missing = ObjectId::new().to_hex();
    let cancel =
        |id: &str| op("invoice", "cancel", json!({ "invoiceId": id, "reason": "r", "refund": { "method": "cash" } })).1;
    let credit = |id: &str| {
        op(
            "creditNote",
            "create",
            json!({ "invoiceId": id, "lines": [{ "lineId": 0, "quantity": 1 }],
            "settlement": { "type": "refund", "method": "cash" }, "reason": "r" }),
        )
        .1
    };
    let out = push(&app, &a.token, &[cancel(&inv_b), cancel(&missing), credit(&inv_b), credit(&missing)]).await;
    assert_eq!(statuses(&out), ["rejected"; 4], "{out}");
    let reason = |i: usize, id: &str| out["results"][i]["reason"].as_str().unwrap().replace(id, "<id>");
    assert_eq!(reason(0, &inv_b), reason(1, &missing), "{out}");
    assert_eq!(reason(2, &inv_b), reason(3, &missing), "{out}");
    assert!(reason(0, &inv_b).starts_with("NOT_FOUND"), "{out}");
    let stored = one(&app, "invoices", doc! { "_id": oid(&inv_b) }).await;
    assert!(!stored.get_bool("isCancelled").unwrap_or(false), "{stored}");
    assert_eq!(app.count("creditnotes", doc! {}).await, 0);
    assert_eq!(app.stock_of(&pen_b).await, 18);
}

/// The online answer of a refused request as a push reason: `CODE: message`, or a 400's
/// field errors joined by `; `.
fn online_reason(r: &crate::helpers::Resp) -> String {
    match r.body["errors"].as_array() {
        Some(e) => e.iter().map(|x| x.as_str().unwrap().to_string()).collect::<Vec<_>>().join("; "),
        None => format!("{}: {}", r.body["code"].as_str().unwrap(), r.body["message"].as_str().unwrap()),
    }
}

/// Permissions as online: a cashier (`sell`, no `cancel`) needs a manager's approval of
/// exactly this cancel or note: without a token, or with one that is not valid, the
/// operation is rejected with the online 403 (`APPROVAL_REQUIRED`, `APPROVAL_INVALID`); with
/// the manager's token it applies and names the approver, and the token is spent only when
/// the push commits (a refused operation later in the same push makes it run again: the
/// token still works). A stock keeper (no `sell`) is `FORBIDDEN`.
#[tokio::test]
async fn a_cashier_needs_a_managers_approval_offline_as_online() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let pen = seed_item(&app, &owner.client_id, "Pen", 1000, 20).await;
    let cashier = hire(&app, &owner, "cashier", "C1", "till").await;
    let keeper = hire(&app, &owner, "stock_keeper", "S1", "store").await;
    let manager = hire(&app, &owner, "manager", "M1", "office").await;
    assert_eq!(app.put("/api/staff/me/pin", Some(&manager.token), json!({ "pin": "4821" })).await.status, 200);
    let (_, inv) = pushed_sale(&app, &owner, &pen, 2).await;
    let cancel_body = json!({ "reason": "r", "refund": { "method": "cash" } });
    let note_body = json!({ "invoiceId": inv, "lines": [{ "lineId": 0, "quantity": 1 }],
        "settlement": { "type": "adjustToDues" }, "reason": "r" });
    let mut cancel_payload = cancel_body.clone();
    cancel_payload["invoiceId"] = json!(inv);
    let mut bogus = cancel_payload.clone();
    bogus["approvalToken"] = json!("0".repeat(64));
    let (_, c1) = op("invoice", "cancel", cancel_payload.clone());
    let (_, c2) = op("creditNote", "create", note_body.clone());
    let (_, c3) = op("invoice", "cancel", bogus.clone());
    let out = push(&app, &cashier.token, &[c1, c2, c3]).await;
    assert_eq!(statuses(&out), ["rejected"; 3], "{out}");
    let t = Some(cashier.token.as_str());
    let path = format!("/api/business/invoices/{inv}/cancel");
    let online = app.post(&path, t, cancel_body.clone()).await;
    assert_eq!(online.code(), "APPROVAL_REQUIRED", "{}", online.body);
    assert_eq!(out["results"][0]["reason"].as_str().unwrap(), online_reason(&online));
    let online = app.post("/api/business/credit-notes", t, note_body.clone()).await;
    assert_eq!(online.code(), "APPROVAL_REQUIRED", "{}", online.body);
    assert_eq!(out["results"][1]["reason"].as_str().unwrap(), online_reason(&online));
    let mut bogus_online = cancel_body.clone();
    bogus_online["approvalToken"] = json!("0".repeat(64));
    let online = app.post(&path, t, bogus_online).await;
    assert_eq!(online.code(), "APPROVAL_INVALID", "{}", online.body);
    assert_eq!(out["results"][2]["reason"].as_str().unwrap(), online_reason(&online));
    assert!(!one(&app, "invoices", doc! { "_id": oid(&inv) }).await.get_bool("isCancelled").unwrap_or(false));

    // the stock keeper may not sell: FORBIDDEN naming sell, as the routes declare
    let (_, k) = op("invoice", "cancel", cancel_payload.clone());
    let out = push(&app, &keeper.token, &[k]).await;
    let why = out["results"][0]["reason"].as_str().unwrap_or_default();
    assert!(why.starts_with("FORBIDDEN") && why.contains("sell"), "{out}");

    // the manager approves this cancel on the cashier's device (online); the cashier's push
    // carries the token; a refused note after it makes the push run again
    let ask = json!({ "approverId": manager.id, "pin": "4821", "action": "cancel", "reason": "wrong bill",
                      "invoiceId": inv, "refund": { "method": "cash" } });
    let g = app.post("/api/staff/approvals", t, ask).await;
    assert_eq!(g.status, 201, "{}", g.body);
    let mut approved = cancel_payload.clone();
    approved["approvalToken"] = g.body["approvalToken"].clone();
    let (_, ok) = op("invoice", "cancel", approved);
    let (_, refused) = op(
        "creditNote",
        "create",
        json!({ "invoiceId": ObjectId::new().to_hex(), "lines": [{ "lineId": 0, "quantity": 1 }],
                "settlement": { "type": "adjustToDues" }, "reason": "r" }),
    );
    let out = push(&app, &cashier.token, &[ok, refused]).await;
    assert_eq!(statuses(&out), ["applied", "rejected"], "{out}");
    let stored = one(&app, "invoices", doc! { "_id": oid(&inv) }).await;
    let c = stored.get_document("cancellation").unwrap();
    assert_eq!(c.get_document("approvedBy").unwrap().get_str("userId"), Ok(manager.id.as_str()), "{stored}");
    assert_eq!(c.get_document("by").unwrap().get_object_id("userId").unwrap().to_hex(), cashier.id);
}

/// The pull carries the credit note (collection `creditNotes`, as the online route answers
/// it), the cancelled invoice (`status: Cancelled`, `isCancelled`, `cancellation`), the
/// credited invoice (`creditedAmount`, `refundedAmount`, the line's `returned`) and the
/// refunds (negative `amount`, `kind: refund`, `creditNoteId`), and acknowledges the ops.
#[tokio::test]
async fn the_pull_carries_credit_notes_cancelled_invoices_and_refunds() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let pen = seed_item(&app, &a.client_id, "Pen", 1000, 20).await;
    let (_, inv1) = pushed_sale(&app, &a, &pen, 2).await;
    let (_, inv2) = pushed_sale(&app, &a, &pen, 3).await;
    let start = app.get("/api/v2/sync/pull", Some(&a.token)).await.body["nextCursor"].as_str().unwrap().to_string();
    let (cancel_op, cancel) =
        op("invoice", "cancel", json!({ "invoiceId": inv1, "reason": "wrong", "refund": { "method": "cash" } }));
    let (note_op, note) = op(
        "creditNote",
        "create",
        json!({ "invoiceId": inv2, "lines": [{ "lineId": 0, "quantity": 1 }], "settlement": { "type": "refund", "method": "upi" }, "reason": "r" }),
    );
    let out = push(&app, &a.token, &[cancel, note]).await;
    assert_eq!(statuses(&out), ["applied", "applied"], "{out}");
    let note_id = out["results"][1]["result"]["id"].as_str().unwrap().to_string();

    let p = app.get(&format!("/api/v2/sync/pull?cursor={start}"), Some(&a.token)).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let changes = p.body["changes"].as_array().unwrap();
    let find = |coll: &str, id: &str| {
        changes
            .iter()
            .find(|c| c["collection"] == coll && c["id"] == id)
            .unwrap_or_else(|| panic!("{coll} {id} not pulled: {}", p.body))["doc"]
            .clone()
    };
    let cn = find("creditNotes", &note_id);
    assert_eq!(cn["invoiceId"], inv2.as_str(), "{cn}");
    assert_eq!(cn["totalAmount"].as_f64(), Some(10.0), "{cn}");
    assert_eq!(cn["creditNoteNumber"], out["results"][1]["result"]["creditNoteNumber"]);
    let i1 = find("invoices", &inv1);
    assert_eq!((i1["status"].as_str(), i1["isCancelled"].as_bool()), (Some("Cancelled"), Some(true)), "{i1}");
    assert_eq!(i1["cancellation"]["reason"], "wrong", "{i1}");
    assert_eq!(i1["refundedAmount"].as_f64(), Some(20.0), "{i1}");
    let i2 = find("invoices", &inv2);
    assert_eq!(i2["creditedAmount"].as_f64(), Some(10.0), "{i2}");
    assert_eq!(i2["refundedAmount"].as_f64(), Some(10.0), "{i2}");
    assert_eq!(i2["products"][0]["returned"]["baseQuantity"], 1, "{i2}");
    let refunds: Vec<&Value> = changes
        .iter()
        .filter(|c| c["collection"] == "payments" && c["doc"]["kind"] == "refund")
        .map(|c| &c["doc"])
        .collect();
    assert_eq!(refunds.len(), 2, "{}", p.body);
    let by_note = refunds.iter().find(|r| r["creditNoteId"] == note_id.as_str()).expect("the note's refund");
    assert_eq!((by_note["amount"].as_f64(), by_note["method"].as_str()), (Some(-10.0), Some("upi")));
    let by_cancel = refunds.iter().find(|r| r["invoiceId"] == inv1.as_str()).expect("the cancel's refund");
    assert_eq!(by_cancel["amount"].as_f64(), Some(-20.0));
    assert!(by_cancel["creditNoteId"].is_null(), "{by_cancel}");
    let acked: Vec<&str> = p.body["appliedOps"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(acked.contains(&cancel_op.as_str()) && acked.contains(&note_op.as_str()), "{}", p.body);
}

/// A return pushed before its sale (it names the sale by opId) is tried again once the rest
/// of the push has run, and applies; a return naming a sale that never arrives is `deferred`
/// and not recorded (pushed again with its sale, it applies).
#[tokio::test]
async fn a_return_pushed_before_its_sale_waits_for_it() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let pen = seed_item(&app, &a.client_id, "Pen", 1000, 20).await;
    let sale_payload =
        json!({ "products": [{ "productId": pen, "quantity": 2, "costPerUnit": 10 }], "paidAmount": 20 });
    let (sale_op, sale) = op("invoice", "create", sale_payload.clone());
    let ret_payload = |sale: &str| {
        json!({ "invoiceOpId": sale, "lines": [{ "lineId": 0, "quantity": 1 }],
                "settlement": { "type": "refund", "method": "cash" }, "reason": "r" })
    };
    let (_, ret) = op("creditNote", "create", ret_payload(&sale_op));
    let out = push(&app, &a.token, &[ret, sale]).await;
    assert_eq!(statuses(&out), ["applied", "applied"], "{out}");
    assert_eq!(out["results"][0]["result"]["invoiceId"], out["results"][1]["result"]["id"], "{out}");

    let (late_sale_op, late_sale) = op("invoice", "create", sale_payload);
    let (_, late_ret) = op("creditNote", "create", ret_payload(&late_sale_op));
    let out = push(&app, &a.token, std::slice::from_ref(&late_ret)).await;
    assert_eq!(statuses(&out), ["deferred"], "{out}");
    assert_eq!(app.count("syncops", doc! { "opId": late_ret["opId"].as_str().unwrap() }).await, 0);
    let out = push(&app, &a.token, &[late_ret, late_sale]).await;
    assert_eq!(statuses(&out), ["applied", "applied"], "{out}");
    assert_eq!(app.count("creditnotes", doc! { "clientId": oid(&a.client_id) }).await, 2);
    // 20 - 2 + 1 - 2 + 1
    assert_eq!(app.stock_of(&pen).await, 18);
}
