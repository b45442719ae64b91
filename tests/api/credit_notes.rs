//! Issue 18: cancelling invoices and credit notes through the API on a real database: the
//! known answers, base units whatever unit is named, returns that never exceed the sale
//! (also under 20 concurrent returns), the 30 November rule at IST midnight, refunds never
//! above what was paid, dues settled by a credit note, a cancelled invoice that keeps its
//! number and takes no payment, stock and dues restored exactly.

use bson::{doc, oid::ObjectId, Document};
use serde_json::{json, Value};

use crate::helpers::{phone, Registered, TestApp};

const MH_GSTIN: &str = "27AAPFU0939F1ZV";

async fn profile(app: &TestApp, r: &Registered) {
    let body = json!({ "gstin": MH_GSTIN, "legalName": "Shree Auto Spares" });
    let res = app.put("/api/business/gst-profile", Some(&r.token), body).await;
    assert_eq!(res.status, 200, "{}", res.body);
}

async fn item(app: &TestApp, r: &Registered, body: Value) -> String {
    let res = app.post("/api/business/items", Some(&r.token), body).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["item"]["_id"].as_str().unwrap().to_string()
}

/// A taxable item at `rate` percent, stock 100; `inclusive: Some(false)` prices it exclusive.
async fn taxed(app: &TestApp, r: &Registered, name: &str, price: f64, rate: f64, inclusive: Option<bool>) -> String {
    let mut tax = json!({ "hsnCode": "8708", "uqc": "NOS", "gstRate": rate });
    if let Some(i) = inclusive {
        tax["pricesIncludeTax"] = json!(i);
    }
    item(app, r, json!({ "name": name, "price": price, "stock": 100, "tax": tax })).await
}

async fn sell(app: &TestApp, r: &Registered, body: Value) -> Value {
    let res = app.post("/api/business/invoices/generatewithproducts", Some(&r.token), body).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["invoice"].clone()
}

async fn note(app: &TestApp, r: &Registered, body: Value) -> crate::helpers::Resp {
    app.post("/api/business/credit-notes", Some(&r.token), body).await
}

async fn note_ok(app: &TestApp, r: &Registered, body: Value) -> Value {
    let res = note(app, r, body).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["creditNote"].clone()
}

async fn stored(app: &TestApp, coll: &str, id: &str) -> Document {
    let id = ObjectId::parse_str(id).unwrap();
    app.db.collection::<Document>(coll).find_one(doc! { "_id": id }).await.unwrap().unwrap()
}

fn int(d: &Document, k: &str) -> i64 {
    d.get_i64(k).or_else(|_| d.get_i32(k).map(i64::from)).unwrap_or(0)
}

/// Paise of a rupee figure of an answer.
fn p(v: &Value) -> i64 {
    (v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")) * 100.0).round() as i64
}

/// The outstanding balance (paise) of the customer of the invoice answer `inv`.
async fn dues_of(app: &TestApp, inv: &Value) -> i64 {
    let customer = ObjectId::parse_str(inv["clientCustomerId"].as_str().unwrap()).unwrap();
    let c = app.db.collection::<Document>("clientcustomers").find_one(doc! { "_id": customer }).await.unwrap();
    int(&c.unwrap(), "outstandingBalance")
}

fn id(v: &Value) -> String {
    v["_id"].as_str().unwrap().to_string()
}

/// Known answer (issue 18): known answer A's sale (inclusive prices, a Rs 25 bill discount,
/// paid Rs 474); returning 1 of the 3 units of its 18 % line (stored taxable 142.49, CGST =
/// SGST 12.82) credits taxable 47.50, CGST 4.27, SGST 4.27, total 56.04, round-off -0.04: a
/// credit note of Rs 56.00, refunded in cash. The invoice keeps what is left, the stock is
/// back, the refund is a negative payment.
#[tokio::test]
async fn known_answer_one_of_three_units_of_line_a_is_a_credit_note_of_56() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    profile(&app, &r).await;
    let a = taxed(&app, &r, "Bulb", 105.0, 5.0, None).await;
    let b = taxed(&app, &r, "Wire", 112.0, 12.0, None).await;
    let c = taxed(&app, &r, "Switch", 59.0, 18.0, None).await;
    let lines = json!([{ "productId": a, "quantity": 2 }, { "productId": b, "quantity": 1 }, { "productId": c, "quantity": 3 }]);
    let inv = sell(&app, &r, json!({ "products": lines, "discount1Amount": 25, "paidAmount": 474 })).await;
    assert_eq!(p(&inv["totalAmount"]), 47_400);
    assert_eq!(inv["products"][2]["lineId"], 2, "{inv}");
    assert_eq!(app.stock_of(&c).await, 97);

    let cn = note_ok(
        &app,
        &r,
        json!({ "invoiceId": id(&inv), "lines": [{ "lineId": 2, "quantity": 1 }], "reason": "One switch returned",
                "settlement": { "type": "refund", "method": "cash" } }),
    )
    .await;
    assert_eq!(
        (
            p(&cn["taxableValue"]),
            p(&cn["cgst"]),
            p(&cn["sgst"]),
            p(&cn["igst"]),
            p(&cn["roundOff"]),
            p(&cn["totalAmount"])
        ),
        (4_750, 427, 427, 0, -4, 5_600),
        "{cn}"
    );
    let fy = bson::DateTime::from_millis(app.state.clock.now().timestamp_millis());
    assert_eq!(cn["creditNoteNumber"], format!("CN/{}/00001", viveka::time::financial_year(fy)));
    assert_eq!(
        (cn["invoiceNumber"].clone(), cn["invoiceDate"].clone()),
        (inv["invoiceNumber"].clone(), inv["invoiceDate"].clone())
    );
    assert_eq!(cn["gst"]["sellerGstin"], MH_GSTIN);
    assert_eq!((cn["lines"][0]["hsnCode"].as_str(), cn["lines"][0]["gstRate"].as_f64()), (Some("8708"), Some(18.0)));
    assert_eq!(p(&cn["settlement"]["refund"]), 5_600);
    assert_eq!(app.stock_of(&c).await, 98, "the returned unit is back on the shelf");

    // stored exactly, in paise
    let d = stored(&app, "creditnotes", &id(&cn)).await;
    assert_eq!(
        (int(&d, "taxableValue"), int(&d, "cgst"), int(&d, "totalAmount"), int(&d, "roundOff")),
        (4_750, 427, 5_600, -4)
    );
    let i = stored(&app, "invoices", &id(&inv)).await;
    assert_eq!((int(&i, "creditedAmount"), int(&i, "paidAmount"), int(&i, "refundedAmount")), (5_600, 41_800, 5_600));
    let line = i.get_array("products").unwrap()[2].as_document().unwrap().get_document("returned").unwrap().clone();
    assert_eq!((int(&line, "baseQuantity"), int(&line, "taxableValue"), int(&line, "total")), (1, 4_750, 5_604));
    let refund = app.db.collection::<Document>("payments").find_one(doc! { "kind": "refund" }).await.unwrap().unwrap();
    assert_eq!((int(&refund, "amount"), refund.get_str("method").unwrap()), (-5_600, "cash"));
    assert_eq!(refund.get_object_id("creditNoteId").unwrap().to_hex(), id(&cn));
    assert_eq!(app.count("stockmovements", doc! { "reason": "return" }).await, 1);
    assert_eq!(app.count("auditlog", doc! { "action": "credit_note_issued" }).await, 1);

    // the invoice as answered: nothing pending, still Paid
    let res = app.get(&format!("/api/business/invoices/{}", r.client_id), Some(&r.token)).await;
    let listed = res.body["invoices"].as_array().unwrap().iter().find(|x| x["_id"] == inv["_id"]).unwrap().clone();
    assert_eq!(
        (p(&listed["creditedAmount"]), p(&listed["pendingAmount"]), listed["status"].as_str()),
        (5_600, 0, Some("Paid"))
    );
    assert_eq!(listed["products"][2]["returned"]["baseQuantity"], 1);

    // read back: one, and the invoice's list
    let one = app.get(&format!("/api/business/credit-notes/{}", id(&cn)), Some(&r.token)).await;
    assert_eq!((one.status.as_u16(), p(&one.body["creditNote"]["totalAmount"])), (200, 5_600));
    let list = app.get(&format!("/api/business/credit-notes?invoiceId={}", id(&inv)), Some(&r.token)).await;
    assert_eq!(list.body["creditNotes"].as_array().unwrap().len(), 1, "{}", list.body);
    // bad input: a clear 400 naming the field
    let bad = app.get("/api/business/credit-notes?from=2026-13-01", Some(&r.token)).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.errors().contains("query.from"), "{}", bad.body);
    let bad = app.get("/api/business/credit-notes/not-an-id", Some(&r.token)).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let bad = app.post("/api/business/credit-notes", Some(&r.token), json!({ "invoiceId": id(&inv), "lines": [{ "lineId": 9, "quantity": 1 }], "reason": "x", "settlement": { "type": "adjustToDues" } })).await;
    assert!(bad.status == 400 && bad.errors().contains("lines[0].lineId"), "{}", bad.body);
}

/// Known answer (issue 18): 3 x Rs 10.00 at 18 % exclusive with a Rs 1.00 bill discount
/// (taxable 29.00, CGST = SGST 2.61, total 34.22, rounded to 34.00, paid 34.00). Three
/// one-unit returns credit 9.67/0.87/0.87, 9.67/0.87/0.87 and, taking the remainder,
/// 9.66/0.87/0.87: together exactly the invoice. The notes round to 11.00, 11.00, and the
/// last takes what is left of the total (12.00), so the refunds come to exactly the 34.00
/// paid and the sale nets to 0.00. A fourth return is refused.
#[tokio::test]
async fn three_single_returns_take_the_remainder_and_net_the_sale_to_zero() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    profile(&app, &r).await;
    let x = taxed(&app, &r, "Fuse", 10.0, 18.0, Some(false)).await;
    let inv = sell(
        &app,
        &r,
        json!({ "products": [{ "productId": x, "quantity": 3 }], "discount1Amount": 1, "paidAmount": 34 }),
    )
    .await;
    let i = stored(&app, "invoices", &id(&inv)).await;
    let g = i.get_document("gst").unwrap();
    assert_eq!(
        (int(g, "taxableValue"), int(g, "cgst"), int(g, "sgst"), int(&i, "totalAmount")),
        (2_900, 261, 261, 3_400)
    );
    let body = json!({ "invoiceId": id(&inv), "lines": [{ "lineId": 0, "quantity": 1 }], "reason": "returned",
                       "settlement": { "type": "refund", "method": "upi" } });
    let mut got = vec![];
    for _ in 0..3 {
        let cn = note_ok(&app, &r, body.clone()).await;
        got.push((p(&cn["taxableValue"]), p(&cn["cgst"]), p(&cn["sgst"]), p(&cn["totalAmount"])));
    }
    assert_eq!(got, vec![(967, 87, 87, 1_100), (967, 87, 87, 1_100), (966, 87, 87, 1_200)]);
    let i = stored(&app, "invoices", &id(&inv)).await;
    assert_eq!((int(&i, "creditedAmount"), int(&i, "paidAmount"), int(&i, "refundedAmount")), (3_400, 0, 3_400));
    let line = i.get_array("products").unwrap()[0].as_document().unwrap().get_document("returned").unwrap().clone();
    assert_eq!(
        (int(&line, "taxableValue"), int(&line, "cgst"), int(&line, "sgst")),
        (2_900, 261, 261),
        "exactly the invoice"
    );
    let res = note(&app, &r, body).await;
    assert_eq!((res.status.as_u16(), res.code()), (409, "RETURN_EXCEEDS_SOLD"), "{}", res.body);
    assert_eq!(app.stock_of(&x).await, 100, "every unit is back");
}

/// Sold 2 boxes of 10: returns of 5 pieces, 1 box and 5 pieces are accepted (counted in base
/// units whatever unit is named), a further piece is refused; a line of quantity 0 credits
/// nothing. A shop without GST: each line credits its share of the invoice total.
#[tokio::test]
async fn returns_count_base_units_whatever_unit_they_name() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let mk = |body: Value| {
        let (app, r) = (&app, &r);
        async move {
            let res = app.post("/api/business/units", Some(&r.token), body).await;
            assert_eq!(res.status, 201, "{}", res.body);
            res.body["unit"]["_id"].as_str().unwrap().to_string()
        }
    };
    let pcs = mk(json!({ "name": "PCS", "uqc": "pcs" })).await;
    let bx = mk(json!({ "name": "BOX", "uqc": "BOX", "conversionFactor": 10, "baseUnitId": pcs })).await;
    let pen = item(
        &app,
        &r,
        json!({ "name": "Pen", "price": 5, "stock": 250, "baseUnitId": pcs, "units": [{ "unitId": bx, "price": 45 }] }),
    )
    .await;
    let inv = sell(&app, &r, json!({ "products": [{ "productId": pen, "quantity": 2, "unitId": bx }] })).await;
    assert_eq!(p(&inv["totalAmount"]), 9_000);
    assert_eq!(app.stock_of(&pen).await, 230);
    let ret = |l: Value| json!({ "invoiceId": id(&inv), "lines": [l], "reason": "back", "settlement": { "type": "adjustToDues" } });
    let a = note_ok(&app, &r, ret(json!({ "lineId": 0, "baseQuantity": 5 }))).await;
    let b = note_ok(&app, &r, ret(json!({ "lineId": 0, "quantity": 1 }))).await;
    let c = note_ok(&app, &r, ret(json!({ "lineId": 0, "quantity": 5, "unitId": pcs }))).await;
    assert_eq!(
        (
            a["lines"][0]["baseQuantity"].clone(),
            b["lines"][0]["baseQuantity"].clone(),
            c["lines"][0]["baseQuantity"].clone()
        ),
        (json!(5), json!(10), json!(5))
    );
    // 90.00 over 20 pieces: 22.50, 45.00, and the last takes the remainder 22.50
    assert_eq!((p(&a["totalAmount"]), p(&b["totalAmount"]), p(&c["totalAmount"])), (2_250, 4_500, 2_250));
    let res = note(&app, &r, ret(json!({ "lineId": 0, "baseQuantity": 1 }))).await;
    assert_eq!((res.status.as_u16(), res.code()), (409, "RETURN_EXCEEDS_SOLD"), "{}", res.body);
    let res = note(&app, &r, ret(json!({ "lineId": 0, "quantity": 0 }))).await;
    assert_eq!(res.status, 400, "a line of 0 credits nothing: {}", res.body);
    assert_eq!(app.stock_of(&pen).await, 250);
    let i = stored(&app, "invoices", &id(&inv)).await;
    assert_eq!(
        (int(&i, "creditedAmount"), i.get_str("status").unwrap(), i.get_bool("isFinalized").unwrap()),
        (9_000, "Paid", true)
    );
}

/// A cancel keeps the number, returns the stock, restores the customer's dues exactly, needs
/// the money refunded (409 `REFUND_REQUIRED` until the request refunds it), and the next
/// invoice's number is unaffected. Twice: 409; another shop's: 404; a payment on it: 409.
#[tokio::test]
async fn cancel_keeps_the_number_and_restores_stock_and_dues() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let x = item(&app, &r, json!({ "name": "Relay", "price": 100, "stock": 10 })).await;
    let cust = phone();
    let first = sell(
        &app,
        &r,
        json!({ "products": [{ "productId": x, "quantity": 1 }], "paidAmount": 100, "clientCustomerPhone": cust }),
    )
    .await;
    let inv = sell(
        &app,
        &r,
        json!({ "products": [{ "productId": x, "quantity": 3 }], "paidAmount": 120, "clientCustomerPhone": cust }),
    )
    .await;
    let dues = || dues_of(&app, &inv);
    assert_eq!(dues().await, 18_000);
    assert_eq!(app.stock_of(&x).await, 6);
    let path = format!("/api/business/invoices/{}/cancel", id(&inv));
    let res = app.post(&path, Some(&r.token), json!({ "reason": "Wrong customer" })).await;
    assert_eq!((res.status.as_u16(), res.code()), (409, "REFUND_REQUIRED"), "{}", res.body);
    let res =
        app.post(&path, Some(&r.token), json!({ "reason": "Wrong customer", "refund": { "method": "cash" } })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let c = &res.body["invoice"];
    assert_eq!(
        (c["status"].as_str(), c["isCancelled"].as_bool(), &c["invoiceNumber"]),
        (Some("Cancelled"), Some(true), &inv["invoiceNumber"])
    );
    assert_eq!(
        (c["cancellation"]["reason"].as_str(), p(&c["paidAmount"]), p(&c["refundedAmount"]), p(&c["pendingAmount"])),
        (Some("Wrong customer"), 0, 12_000, 0)
    );
    assert_eq!(app.stock_of(&x).await, 9, "the 3 units are back");
    assert_eq!(dues().await, 0, "the 180.00 pending on it is gone");
    assert_eq!(app.count("stockmovements", doc! { "reason": "cancel", "delta": 3_i64 }).await, 1);
    assert_eq!(app.count("payments", doc! { "kind": "refund", "amount": -12_000_i64 }).await, 1);
    assert_eq!(app.count("auditlog", doc! { "action": "invoice_cancelled" }).await, 1);

    let again = app.post(&path, Some(&r.token), json!({ "reason": "again", "refund": { "method": "cash" } })).await;
    assert_eq!((again.status.as_u16(), again.code()), (409, "ALREADY_CANCELLED"));
    let pay =
        app.post("/api/business/invoices/pay", Some(&r.token), json!({ "invoiceId": id(&inv), "amount": 10 })).await;
    assert_eq!((pay.status.as_u16(), pay.code()), (409, "INVOICE_CANCELLED"), "{}", pay.body);
    let cn = note(&app, &r, json!({ "invoiceId": id(&inv), "lines": [{ "lineId": 0, "quantity": 1 }], "reason": "x", "settlement": { "type": "adjustToDues" } })).await;
    assert_eq!((cn.status.as_u16(), cn.code()), (409, "INVOICE_CANCELLED"));
    let other = app.register(&phone()).await;
    let foreign = app.post(&path, Some(&other.token), json!({ "reason": "x", "refund": { "method": "cash" } })).await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);

    // the next number follows the cancelled one: cancelling frees no number
    let next = sell(&app, &r, json!({ "products": [{ "productId": x, "quantity": 1 }], "paidAmount": 50 })).await;
    let seq = |v: &Value| v["invoiceNumber"].as_str().unwrap().rsplit('/').next().unwrap().parse::<i64>().unwrap();
    assert_eq!((seq(&first), seq(&inv), seq(&next)), (1, 2, 3));
    // a credit note on a partly returned invoice forbids its cancel
    let cn = note_ok(&app, &r, json!({ "invoiceId": id(&next), "lines": [{ "lineId": 0, "quantity": 1 }], "reason": "x", "settlement": { "type": "refund", "method": "cash", "amount": 50 } })).await;
    assert_eq!(p(&cn["settlement"]["duesAdjusted"]), 5_000);
    let res = app
        .post(
            &format!("/api/business/invoices/{}/cancel", id(&next)),
            Some(&r.token),
            json!({ "reason": "x", "refund": { "method": "cash" } }),
        )
        .await;
    assert_eq!((res.status.as_u16(), res.code()), (409, "HAS_CREDIT_NOTES"));
}

/// 20 concurrent one-unit returns of a 5-unit line: exactly 5 credit notes, the rest 409,
/// and the credits add up to the line (never more).
#[tokio::test]
async fn returns_never_exceed_the_sale_under_20_concurrent_requests() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let x = item(&app, &r, json!({ "name": "Bolt", "price": 7, "stock": 50 })).await;
    let inv = sell(&app, &r, json!({ "products": [{ "productId": x, "quantity": 5 }] })).await;
    let body = json!({ "invoiceId": id(&inv), "lines": [{ "lineId": 0, "quantity": 1 }], "reason": "rush", "settlement": { "type": "adjustToDues" } });
    let mut tasks = vec![];
    for _ in 0..20 {
        let (http, base, token, body) = (app.http.clone(), app.base.clone(), r.token.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            http.post(format!("{base}/api/business/credit-notes"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut codes = vec![];
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert_eq!(codes.iter().filter(|c| **c == 201).count(), 5, "{codes:?}");
    assert!(codes.iter().all(|c| *c == 201 || *c == 409), "{codes:?}");
    let i = stored(&app, "invoices", &id(&inv)).await;
    assert_eq!(int(&i, "creditedAmount"), 3_500);
    let sum: i64 = app
        .db
        .collection::<Document>("creditnotes")
        .find(doc! { "invoiceId": ObjectId::parse_str(id(&inv)).unwrap() })
        .await
        .unwrap()
        .try_collect::<Vec<Document>>()
        .await
        .unwrap()
        .iter()
        .map(|d| int(d, "totalAmount"))
        .sum();
    assert_eq!(sum, 3_500);
    assert_eq!(app.stock_of(&x).await, 50);
}

use futures::TryStreamExt;

/// CGST Act s.34(2): a credit note for an invoice of FY 2026-27 may be issued up to 30
/// November 2027, India time: at 23:59:59 IST (18:29:59 UTC) it is, at 00:00 IST on 1
/// December (18:30 UTC) it is refused with `CREDIT_NOTE_TIME_BARRED`.
#[tokio::test]
async fn the_30_november_rule_at_ist_midnight() {
    let app = TestApp::spawn().await;
    let at = |s: &str| bson::DateTime::parse_rfc3339_str(s).unwrap();
    app.state.clock.pin(Some(at("2026-06-10T06:00:00Z")));
    let r = app.register(&phone()).await;
    let x = item(&app, &r, json!({ "name": "Lamp", "price": 40, "stock": 10 })).await;
    let inv = sell(&app, &r, json!({ "products": [{ "productId": x, "quantity": 2 }] })).await;
    assert_eq!(inv["invoiceDate"], "2026-06-10");
    let body = json!({ "invoiceId": id(&inv), "lines": [{ "lineId": 0, "quantity": 1 }], "reason": "late", "settlement": { "type": "adjustToDues" } });
    app.state.clock.pin(Some(at("2027-11-30T18:30:00Z")));
    let res = note(&app, &r, body.clone()).await;
    assert_eq!((res.status.as_u16(), res.code()), (422, "CREDIT_NOTE_TIME_BARRED"), "{}", res.body);
    app.state.clock.pin(Some(at("2027-11-30T18:29:59Z")));
    let cn = note_ok(&app, &r, body).await;
    assert_eq!(
        (cn["creditNoteDate"].as_str(), cn["creditNoteNumber"].as_str()),
        (Some("2027-11-30"), Some("CN/27-28/00001"))
    );
    app.state.clock.pin(None);
}

/// Dues: a credit note adjusted to dues lowers what is pending and the customer's dues, and
/// can settle the invoice (Paid); a refund above what was paid is refused, as is more to
/// dues than is pending; an amount-only adjustment spreads over the lines. A retry with the
/// same idempotency key gets the first answer, never a second note.
#[tokio::test]
async fn dues_refund_limits_amount_adjustments_and_retries() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let x = item(&app, &r, json!({ "name": "Cable", "price": 50, "stock": 10 })).await;
    let y = item(&app, &r, json!({ "name": "Clip", "price": 25, "stock": 10 })).await;
    let inv = sell(&app, &r, json!({ "products": [{ "productId": x, "quantity": 2 }, { "productId": y, "quantity": 2 }], "paidAmount": 30, "clientCustomerPhone": phone() })).await;
    let dues = || dues_of(&app, &inv);
    assert_eq!(dues().await, 12_000);
    let one = |settlement: Value| json!({ "invoiceId": id(&inv), "lines": [{ "lineId": 0, "quantity": 1 }], "reason": "r", "settlement": settlement });
    let res = note(&app, &r, one(json!({ "type": "refund" }))).await;
    assert_eq!(res.status, 400, "a refund names its method: {}", res.body);
    assert!(res.errors().contains("settlement.method"), "{}", res.body);
    let res = note(&app, &r, one(json!({ "type": "refund", "method": "cash" }))).await;
    assert_eq!((res.status.as_u16(), res.code()), (409, "REFUND_EXCEEDS_PAID"), "50.00 > 30.00 paid: {}", res.body);
    let res = note(
        &app,
        &r,
        json!({ "invoiceId": id(&inv), "amount": 200, "reason": "r", "settlement": { "type": "adjustToDues" } }),
    )
    .await;
    assert_eq!((res.status.as_u16(), res.code()), (409, "CREDIT_EXCEEDS_INVOICE"), "{}", res.body);

    let cn = note_ok(&app, &r, one(json!({ "type": "adjustToDues" }))).await;
    assert_eq!((p(&cn["totalAmount"]), p(&cn["settlement"]["duesAdjusted"])), (5_000, 5_000));
    assert_eq!(dues().await, 7_000);
    // an overcharge corrected: Rs 20 spread over what is left (50 + 50 on the lines)
    let key = uuid::Uuid::new_v4().to_string();
    let adj = json!({ "invoiceId": id(&inv), "amount": 20, "reason": "overcharged", "settlement": { "type": "adjustToDues" } });
    let first =
        crate::helpers::post_keyed(&app.http, &app.base, "/api/business/credit-notes", &r.token, &key, &adj).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let again =
        crate::helpers::post_keyed(&app.http, &app.base, "/api/business/credit-notes", &r.token, &key, &adj).await;
    assert_eq!((again.status.as_u16(), &again.body["creditNote"]["_id"]), (201, &first.body["creditNote"]["_id"]));
    assert_eq!(app.count("creditnotes", doc! { "kind": "adjustment" }).await, 1, "never a second note");
    let lines = first.body["creditNote"]["lines"].as_array().unwrap();
    assert_eq!(lines.iter().map(|l| p(&l["total"])).collect::<Vec<_>>(), vec![1_000, 1_000]);
    assert_eq!(dues().await, 5_000);
    // the rest of the dues: settles the invoice
    let res = note(
        &app,
        &r,
        json!({ "invoiceId": id(&inv), "amount": 51, "reason": "r", "settlement": { "type": "adjustToDues" } }),
    )
    .await;
    assert_eq!((res.status.as_u16(), res.code()), (409, "CREDIT_EXCEEDS_PENDING"), "{}", res.body);
    let last = note_ok(
        &app,
        &r,
        json!({ "invoiceId": id(&inv), "amount": 50, "reason": "r", "settlement": { "type": "adjustToDues" } }),
    )
    .await;
    assert_eq!(p(&last["totalAmount"]), 5_000);
    let i = stored(&app, "invoices", &id(&inv)).await;
    assert_eq!(
        (i.get_str("status").unwrap(), i.get_bool("isFinalized").unwrap(), int(&i, "creditedAmount")),
        ("Paid", true, 12_000)
    );
    assert_eq!(dues().await, 0);
    let pay =
        app.post("/api/business/invoices/pay", Some(&r.token), json!({ "invoiceId": id(&inv), "amount": 1 })).await;
    assert_eq!(pay.status, 400, "nothing is due any more: {}", pay.body);
}

/// Issue 18 and 15: a cashier (no `cancel`) cancels or credits only with a manager's approval
/// of exactly that action (403 `APPROVAL_REQUIRED` without one, `APPROVAL_INVALID` for an
/// approval of another return); the approver is recorded on the invoice and the note.
#[tokio::test]
async fn a_cashier_cancels_and_credits_only_with_an_approval_of_that_very_action() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let x = item(&app, &owner, json!({ "name": "Bulb", "price": 30, "stock": 20 })).await;
    let cashier = crate::roles::hire(&app, &owner, "cashier", "C1", "till").await;
    let manager = crate::roles::hire(&app, &owner, "manager", "M1", "office").await;
    assert_eq!(app.put("/api/staff/me/pin", Some(&manager.token), json!({ "pin": "4821" })).await.status, 200);
    let t = Some(cashier.token.as_str());
    let sale = app
        .post(
            "/api/business/invoices/generatewithproducts",
            t,
            json!({ "products": [{ "productId": x, "quantity": 3 }], "paidAmount": 0 }),
        )
        .await;
    assert_eq!(sale.status, 201, "{}", sale.body);
    let inv = id(&sale.body["invoice"]);
    let path = format!("/api/business/invoices/{inv}/cancel");
    let res = app.post(&path, t, json!({ "reason": "typo" })).await;
    assert_eq!((res.status.as_u16(), res.code()), (403, "APPROVAL_REQUIRED"), "{}", res.body);
    let ret = |q: i64| json!({ "invoiceId": inv, "lines": [{ "lineId": 0, "quantity": q }], "reason": "back", "settlement": { "type": "adjustToDues" } });
    let res = app.post("/api/business/credit-notes", t, ret(1)).await;
    assert_eq!((res.status.as_u16(), res.code()), (403, "APPROVAL_REQUIRED"), "{}", res.body);

    // an approval of a one-unit return covers exactly that
    let ask = json!({ "approverId": manager.id, "pin": "4821", "action": "credit_note", "reason": "checked the goods",
                      "invoiceId": inv, "lines": [{ "lineId": 0, "quantity": 1 }], "settlement": { "type": "adjustToDues" } });
    let g = app.post("/api/staff/approvals", t, ask).await;
    assert_eq!(g.status, 201, "{}", g.body);
    let token = g.body["approvalToken"].as_str().unwrap().to_string();
    let mut two = ret(2);
    two["approvalToken"] = json!(token);
    let res = app.post("/api/business/credit-notes", t, two).await;
    assert_eq!((res.status.as_u16(), res.code()), (403, "APPROVAL_INVALID"), "{}", res.body);
    // nor the same return refunded in cash, or kept off the shelf: the approver decided those
    let mut cash = ret(1);
    cash["settlement"] = json!({ "type": "refund", "method": "cash" });
    cash["approvalToken"] = json!(token);
    let res = app.post("/api/business/credit-notes", t, cash).await;
    assert_eq!((res.status.as_u16(), res.code()), (403, "APPROVAL_INVALID"), "{}", res.body);
    let mut kept = ret(1);
    kept["restock"] = json!(false);
    kept["approvalToken"] = json!(token);
    let res = app.post("/api/business/credit-notes", t, kept).await;
    assert_eq!((res.status.as_u16(), res.code()), (403, "APPROVAL_INVALID"), "{}", res.body);
    let mut one = ret(1);
    one["approvalToken"] = json!(token);
    let res = app.post("/api/business/credit-notes", t, one).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["creditNote"]["approvedBy"]["userId"], manager.id.as_str());
    assert_eq!(res.body["creditNote"]["createdBy"]["userId"], cashier.id.as_str());

    // a cancel needs its own approval; then the invoice names both
    let ask = json!({ "approverId": manager.id, "pin": "4821", "action": "cancel", "reason": "wrong bill", "invoiceId": inv });
    let g = app.post("/api/staff/approvals", t, ask).await;
    assert_eq!(g.status, 201, "{}", g.body);
    let res = app.post(&path, t, json!({ "reason": "typo", "approvalToken": g.body["approvalToken"] })).await;
    assert_eq!(
        (res.status.as_u16(), res.code()),
        (409, "HAS_CREDIT_NOTES"),
        "approved, but a note exists: {}",
        res.body
    );
    // the manager (who holds cancel) needs no approval
    let sale = app
        .post(
            "/api/business/invoices/generatewithproducts",
            t,
            json!({ "products": [{ "productId": x, "quantity": 1 }], "paidAmount": 0 }),
        )
        .await;
    let other = id(&sale.body["invoice"]);
    let res = app
        .post(&format!("/api/business/invoices/{other}/cancel"), Some(&manager.token), json!({ "reason": "duplicate" }))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["invoice"]["cancellation"]["by"]["userId"], manager.id.as_str());
}
