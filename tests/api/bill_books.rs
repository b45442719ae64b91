//! Paper bill books (issue 17, seed 004 `offlineBillRef`): a shop registers each pre-printed
//! book as its own number series (at most 16 characters, unique per financial year, never
//! printing a number another series of the year prints); a paper bill entered later through
//! any door (online B20, v1 `/api/sync`, v2 push) keeps its printed number, a serial outside
//! the book is 400, a used or cancelled one 409; the report lists used, unused and cancelled
//! leaves.

use bson::{doc, Document};
use serde_json::{json, Value};
use viveka::time;

use crate::{
    catalog::item,
    helpers::{phone, post_keyed, Registered, Resp, TestApp},
};

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn fy() -> String {
    time::financial_year(bson::DateTime::now())
}

async fn book(app: &TestApp, r: &Registered, body: Value) -> Resp {
    app.post("/api/business/bill-books", Some(&r.token), body).await
}

/// Register book `no` with `prefix` and serials `first..=last`; its id.
async fn book_id(app: &TestApp, r: &Registered, no: &str, prefix: &str, first: i64, last: i64) -> String {
    let res = book(app, r, json!({ "bookNo": no, "prefix": prefix, "firstSerial": first, "lastSerial": last })).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["book"]["_id"].as_str().unwrap().to_string()
}

async fn shop(app: &TestApp) -> (Registered, String) {
    let r = app.register(&phone()).await;
    let i =
        item(app, &r, json!({ "name": "Pen", "price": 10, "stock": 100 })).await["_id"].as_str().unwrap().to_string();
    (r, i)
}

async fn sell_online(app: &TestApp, r: &Registered, item: &str, bill_ref: Option<Value>) -> Resp {
    let mut body = json!({ "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 10 });
    if let Some(b) = bill_ref {
        body["offlineBillRef"] = b;
    }
    app.post("/api/business/invoices/generatewithproducts", Some(&r.token), body).await
}

async fn sell_v1(app: &TestApp, r: &Registered, item: &str, bill_ref: Value) -> Resp {
    let inv = json!({ "products": [{ "productId": item, "itemName": "Pen", "quantity": 1, "costPerUnit": 10 }],
        "totalAmount": 10, "paidAmount": 10, "offlineBillRef": bill_ref });
    post_keyed(&app.http, &app.base, "/api/sync", &r.token, &uuid(), &json!({ "invoice": { "create": [inv] } })).await
}

/// One v2 sale with `payload` extras; the operation's result.
async fn sell_v2(app: &TestApp, r: &Registered, item: &str, extra: Value) -> Value {
    let mut payload = json!({ "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 10 });
    for (k, v) in extra.as_object().unwrap() {
        payload[k] = v.clone();
    }
    let op = json!({ "opId": uuid(), "entity": "invoice", "kind": "create",
        "deviceTime": bson::DateTime::now().try_to_rfc3339_string().unwrap(), "payload": payload });
    let res = app.post("/api/v2/sync/push", Some(&r.token), json!({ "operations": [op] })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["results"][0].clone()
}

async fn invoices_numbered(app: &TestApp, number: &str) -> Vec<Document> {
    use futures::TryStreamExt;
    app.db
        .collection::<Document>("invoices")
        .find(doc! { "invoiceNumber": number })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_book_is_registered_listed_and_read() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let res = book(&app, &r, json!({ "bookNo": "7", "prefix": "B7/", "firstSerial": 1, "lastSerial": 100 })).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let b = &res.body["book"];
    // the width is the digits of lastSerial; the financial year defaults to the current one
    assert_eq!(
        (b["width"].as_u64(), b["firstNumber"].as_str(), b["lastNumber"].as_str()),
        (Some(3), Some("B7/001"), Some("B7/100"))
    );
    assert_eq!(b["financialYear"], json!(fy()));
    let id = b["_id"].as_str().unwrap();
    let list = app.get("/api/business/bill-books", Some(&r.token)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["books"].as_array().unwrap().len(), 1);
    let one = app.get(&format!("/api/business/bill-books/{id}"), Some(&r.token)).await;
    assert_eq!((one.status.as_u16(), one.body["book"]["bookNo"].as_str()), (200, Some("7")));
    let other_year = app.get("/api/business/bill-books?financialYear=19-20", Some(&r.token)).await;
    assert_eq!(other_year.body["books"], json!([]));
}

#[tokio::test]
async fn a_number_longer_than_sixteen_characters_is_refused_at_registration() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    // 13 + 4 digits = 17 characters (the LARGEST number is checked, not the first)
    let res =
        book(&app, &r, json!({ "bookNo": "1", "prefix": "ABCDEFGHIJKLM", "firstSerial": 1, "lastSerial": 1000 })).await;
    res.assert_envelope(400);
    assert!(res.errors().contains("prefix") && res.errors().contains("17 characters"), "{}", res.body);
    // the same prefix with a smaller book fits: 13 + 3 = 16
    let ok =
        book(&app, &r, json!({ "bookNo": "1", "prefix": "ABCDEFGHIJKLM", "firstSerial": 1, "lastSerial": 999 })).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    // letters, digits, - and / only; a sane range; a real financial year
    for (body, field) in [
        (json!({ "bookNo": "2", "prefix": "B 7", "firstSerial": 1, "lastSerial": 9 }), "prefix"),
        (json!({ "bookNo": "3", "prefix": "C", "firstSerial": 10, "lastSerial": 9 }), "lastSerial"),
        (json!({ "bookNo": "4", "prefix": "D", "firstSerial": 0, "lastSerial": 9 }), "firstSerial"),
        (
            json!({ "bookNo": "5", "prefix": "E", "firstSerial": 1, "lastSerial": 9, "financialYear": "26-28" }),
            "financialYear",
        ),
        (json!({ "bookNo": "", "prefix": "F", "firstSerial": 1, "lastSerial": 9 }), "bookNo"),
        // the fuzzer's extreme serial: a 400, never an overflow (schemathesis found a 500)
        (json!({ "bookNo": "6", "prefix": "G", "firstSerial": i64::MIN, "lastSerial": 0 }), "firstSerial"),
    ] {
        let res = book(&app, &r, body.clone()).await;
        res.assert_envelope(400);
        assert!(res.errors().contains(field), "{body}: {}", res.body);
    }
    assert_eq!(app.count("billbooks", doc! {}).await, 1, "nothing else registered");
}

#[tokio::test]
async fn books_of_a_year_never_print_the_same_number() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    book_id(&app, &r, "7", "B", 1, 100).await;
    // the same book number in the same year
    let dup = book(&app, &r, json!({ "bookNo": "7", "prefix": "Q", "firstSerial": 1, "lastSerial": 50 })).await;
    assert_eq!((dup.status.as_u16(), dup.code()), (409, "DUPLICATE"), "{}", dup.body);
    // ... is fine in another year
    let other = book(
        &app,
        &r,
        json!({ "bookNo": "7", "prefix": "B", "firstSerial": 1, "lastSerial": 100, "financialYear": "19-20" }),
    )
    .await;
    assert_eq!(other.status, 201, "{}", other.body);
    // overlapping leaves of the same prefix: B100 would print twice
    let overlap = book(&app, &r, json!({ "bookNo": "8", "prefix": "B", "firstSerial": 100, "lastSerial": 200 })).await;
    assert_eq!((overlap.status.as_u16(), overlap.code()), (409, "CONFLICT"), "{}", overlap.body);
    // a different prefix that prints the same text: "B0" + "50" = "B" + "050"
    let shifted = book(&app, &r, json!({ "bookNo": "9", "prefix": "B0", "firstSerial": 1, "lastSerial": 99 })).await;
    assert_eq!(shifted.status, 409, "{}", shifted.body);
    // the next leaves are a book of their own
    let next = book(&app, &r, json!({ "bookNo": "8", "prefix": "B", "firstSerial": 101, "lastSerial": 200 })).await;
    assert_eq!(next.status, 201, "{}", next.body);
    // a book printing the server's own numbers (INV/<fy>/00001..)
    let inv = book(
        &app,
        &r,
        json!({ "bookNo": "10", "prefix": format!("INV/{}/", fy()), "firstSerial": 1, "lastSerial": 10000 }),
    )
    .await;
    assert_eq!(inv.status, 409, "{}", inv.body);
    // ... or those of another document type's series (bills of supply: BOS/<fy>/)
    let bos = book(
        &app,
        &r,
        json!({ "bookNo": "11", "prefix": format!("BOS/{}/", fy()), "firstSerial": 1, "lastSerial": 10000 }),
    )
    .await;
    assert_eq!(bos.status, 409, "{}", bos.body);
}

#[tokio::test]
async fn paper_bills_keep_their_printed_numbers_online_v1_and_v2() {
    let app = TestApp::spawn().await;
    let (r, pen) = shop(&app).await;
    let id = book_id(&app, &r, "7", "B7/", 1, 100).await;

    let online = sell_online(&app, &r, &pen, Some(json!({ "bookId": id, "serial": 5 }))).await;
    assert_eq!(online.status, 201, "{}", online.body);
    assert_eq!(online.body["invoice"]["invoiceNumber"], json!("B7/005"));
    assert_eq!(online.body["invoice"]["offlineBillRef"], json!({ "bookId": id, "bookNo": "7", "serial": 5 }));

    let v1 = sell_v1(&app, &r, &pen, json!({ "bookNo": "7", "serial": 6 })).await;
    assert_eq!(v1.status, 200, "{}", v1.body);
    assert_eq!(invoices_numbered(&app, "B7/006").await.len(), 1, "v1 kept the printed number");

    let v2 = sell_v2(&app, &r, &pen, json!({ "offlineBillRef": { "bookId": id, "serial": 7 } })).await;
    assert_eq!(v2["status"], "applied", "{v2}");
    assert_eq!(v2["result"]["invoiceNumber"], json!("B7/007"));

    // no counter number was taken: the next ordinary sale is the year's first
    let plain = sell_online(&app, &r, &pen, None).await;
    assert_eq!(plain.body["invoice"]["invoiceNumber"], json!(format!("INV/{}/00001", fy())), "{}", plain.body);
    let stored = &invoices_numbered(&app, "B7/007").await[0];
    assert_eq!(stored.get_str("financialYear").ok(), Some(fy().as_str()));
    assert!(stored.get("seq").is_none_or(|s| s == &bson::Bson::Null), "a printed number takes no counter seq");
    let b = app.get(&format!("/api/business/bill-books/{id}"), Some(&r.token)).await;
    assert_eq!(b.body["book"]["usedCount"], json!(3));
}

#[tokio::test]
async fn a_serial_outside_the_book_is_400_and_a_used_one_409_on_every_door() {
    let app = TestApp::spawn().await;
    let (r, pen) = shop(&app).await;
    let id = book_id(&app, &r, "7", "B7/", 1, 100).await;
    let first = sell_online(&app, &r, &pen, Some(json!({ "bookId": id, "serial": 5 }))).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let before = app.count("invoices", doc! {}).await;

    // outside the book
    let out = sell_online(&app, &r, &pen, Some(json!({ "bookId": id, "serial": 101 }))).await;
    out.assert_envelope(400);
    assert!(out.errors().contains("offlineBillRef.serial"), "{}", out.body);
    let v1_out = sell_v1(&app, &r, &pen, json!({ "bookId": id, "serial": 0 })).await;
    assert_eq!(v1_out.status, 400, "{}", v1_out.body);
    assert!(v1_out.body.to_string().contains("offlineBillRef.serial"), "{}", v1_out.body);
    let v2_out = sell_v2(&app, &r, &pen, json!({ "offlineBillRef": { "bookId": id, "serial": 101 } })).await;
    assert_eq!(v2_out["status"], "rejected", "{v2_out}");
    assert!(v2_out["reason"].as_str().unwrap().contains("offlineBillRef.serial"), "{v2_out}");

    // used already
    let again = sell_online(&app, &r, &pen, Some(json!({ "bookId": id, "serial": 5 }))).await;
    assert_eq!((again.status.as_u16(), again.code()), (409, "NUMBER_USED"), "{}", again.body);
    let v1_again = sell_v1(&app, &r, &pen, json!({ "bookNo": "7", "serial": 5 })).await;
    assert_eq!(v1_again.status, 409, "{}", v1_again.body);
    let v2_again = sell_v2(&app, &r, &pen, json!({ "offlineBillRef": { "bookNo": "7", "serial": 5 } })).await;
    assert_eq!(v2_again["status"], "rejected", "{v2_again}");
    assert!(v2_again["reason"].as_str().unwrap().contains("B7/005"), "{v2_again}");

    // an unknown book, and both ways of naming one at once
    let unknown = sell_online(&app, &r, &pen, Some(json!({ "bookNo": "99", "serial": 1 }))).await;
    unknown.assert_envelope(400);
    assert!(unknown.errors().contains("offlineBillRef.bookNo"), "{}", unknown.body);
    assert_eq!(app.count("invoices", doc! {}).await, before, "nothing was written");
    assert_eq!(invoices_numbered(&app, "B7/005").await.len(), 1);
}

#[tokio::test]
async fn cancelled_leaves_are_refused_and_the_report_lists_used_unused_and_cancelled() {
    let app = TestApp::spawn().await;
    let (r, pen) = shop(&app).await;
    let id = book_id(&app, &r, "3", "C-", 1, 5).await;
    let used = sell_online(&app, &r, &pen, Some(json!({ "bookId": id, "serial": 2 }))).await;
    assert_eq!(used.status, 201, "{}", used.body);
    let invoice = used.body["invoice"]["_id"].as_str().unwrap().to_string();
    let cancel = |serial: i64| {
        let path = format!("/api/business/bill-books/{id}/cancel-serial");
        let token = r.token.clone();
        let app = &app;
        async move { app.post(&path, Some(&token), json!({ "serial": serial, "reason": "spoilt while writing" })).await }
    };
    let c = cancel(4).await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(c.body["book"]["cancelled"][0]["number"], json!("C-4"));
    assert_eq!((cancel(4).await.status.as_u16(), cancel(4).await.code().to_string()), (409, "NUMBER_USED".into()));
    assert_eq!(cancel(2).await.status, 409, "a leaf entered as a bill cannot be cancelled");
    cancel(9).await.assert_envelope(400);
    let no_reason = app
        .post(
            &format!("/api/business/bill-books/{id}/cancel-serial"),
            Some(&r.token),
            json!({ "serial": 3, "reason": " " }),
        )
        .await;
    no_reason.assert_envelope(400);

    // a cancelled leaf is never entered, on any door
    let on4 = sell_online(&app, &r, &pen, Some(json!({ "bookId": id, "serial": 4 }))).await;
    assert_eq!((on4.status.as_u16(), on4.code()), (409, "NUMBER_USED"), "{}", on4.body);
    let v2 = sell_v2(&app, &r, &pen, json!({ "offlineBillRef": { "bookId": id, "serial": 4 } })).await;
    assert_eq!(v2["status"], "rejected", "{v2}");

    let rep = app.get(&format!("/api/business/bill-books/{id}/report"), Some(&r.token)).await;
    assert_eq!(rep.status, 200, "{}", rep.body);
    assert_eq!(rep.body["used"], json!([{ "serial": 2, "number": "C-2", "invoiceId": invoice }]));
    assert_eq!(rep.body["cancelled"][0]["serial"], json!(4));
    assert_eq!(rep.body["cancelled"][0]["reason"], json!("spoilt while writing"));
    assert_eq!(rep.body["unused"], json!([1, 3, 5]));
}

#[tokio::test]
async fn a_used_book_keeps_its_printed_numbers_when_edited() {
    let app = TestApp::spawn().await;
    let (r, pen) = shop(&app).await;
    let id = book_id(&app, &r, "7", "B7/", 1, 100).await;
    let path = format!("/api/business/bill-books/{id}");
    // unused: anything may change (checked like a registration)
    let p = app.raw(reqwest::Method::PATCH, &path, Some(&r.token), Some(&json!({ "prefix": "B8/" }))).await;
    assert_eq!((p.status.as_u16(), p.body["book"]["firstNumber"].as_str()), (200, Some("B8/001")), "{}", p.body);
    let sold = sell_online(&app, &r, &pen, Some(json!({ "bookId": id, "serial": 50 }))).await;
    assert_eq!(sold.body["invoice"]["invoiceNumber"], json!("B8/050"), "{}", sold.body);
    // used: its prefix and first serial are fixed, its last serial stays above the used leaf
    let p = app.raw(reqwest::Method::PATCH, &path, Some(&r.token), Some(&json!({ "prefix": "B9/" }))).await;
    assert_eq!((p.status.as_u16(), p.code()), (409, "BOOK_IN_USE"), "{}", p.body);
    let p = app.raw(reqwest::Method::PATCH, &path, Some(&r.token), Some(&json!({ "lastSerial": 40 }))).await;
    assert_eq!((p.status.as_u16(), p.code()), (409, "BOOK_IN_USE"), "{}", p.body);
    // the width is fixed at registration: 1000 has four digits
    let p = app.raw(reqwest::Method::PATCH, &path, Some(&r.token), Some(&json!({ "lastSerial": 1000 }))).await;
    p.assert_envelope(400);
    let p = app
        .raw(reqwest::Method::PATCH, &path, Some(&r.token), Some(&json!({ "lastSerial": 150, "bookNo": "7A" })))
        .await;
    assert_eq!((p.status.as_u16(), p.body["book"]["lastNumber"].as_str()), (200, Some("B8/150")), "{}", p.body);
}

#[tokio::test]
async fn another_shop_cannot_see_or_use_a_book() {
    let app = TestApp::spawn().await;
    let (a, _) = shop(&app).await;
    let (b, pen_b) = shop(&app).await;
    let id = book_id(&app, &a, "7", "B7/", 1, 100).await;
    let get = app.get(&format!("/api/business/bill-books/{id}"), Some(&b.token)).await;
    assert_eq!(get.status, 404, "{}", get.body);
    assert_eq!(app.get("/api/business/bill-books", Some(&b.token)).await.body["books"], json!([]));
    // a sale of B naming A's book answers like a missing book, on every door
    let online = sell_online(&app, &b, &pen_b, Some(json!({ "bookId": id, "serial": 1 }))).await;
    online.assert_envelope(400);
    assert!(online.errors().contains("offlineBillRef.bookId"), "{}", online.body);
    let v2 = sell_v2(&app, &b, &pen_b, json!({ "offlineBillRef": { "bookId": id, "serial": 1 } })).await;
    assert_eq!(v2["status"], "rejected", "{v2}");
    let cancel = app
        .post(
            &format!("/api/business/bill-books/{id}/cancel-serial"),
            Some(&b.token),
            json!({ "serial": 1, "reason": "x" }),
        )
        .await;
    assert_eq!(cancel.status, 404, "{}", cancel.body);
    // B may register its own book 7: numbers are unique per shop
    assert_eq!(
        book(&app, &b, json!({ "bookNo": "7", "prefix": "B7/", "firstSerial": 1, "lastSerial": 100 })).await.status,
        201
    );
}

/// Registering a book is a setting (owner, admins); cancelling a leaf voids a document
/// (`cancel`: managers too); a cashier does neither, and reads nothing of the books.
#[tokio::test]
async fn who_may_register_books_and_cancel_leaves() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let id = book_id(&app, &owner, "7", "B7/", 1, 100).await;
    let cashier = crate::roles::hire(&app, &owner, "cashier", "C1", "c").await;
    let manager = crate::roles::hire(&app, &owner, "manager", "M1", "m").await;
    let body = json!({ "bookNo": "8", "prefix": "B8/", "firstSerial": 1, "lastSerial": 100 });
    app.post("/api/business/bill-books", Some(&cashier.token), body.clone()).await.assert_envelope(403);
    app.post("/api/business/bill-books", Some(&manager.token), body).await.assert_envelope(403);
    let cancel = format!("/api/business/bill-books/{id}/cancel-serial");
    app.post(&cancel, Some(&cashier.token), json!({ "serial": 3, "reason": "torn" })).await.assert_envelope(403);
    app.get(&format!("/api/business/bill-books/{id}/report"), Some(&cashier.token)).await.assert_envelope(403);
    let ok = app.post(&cancel, Some(&manager.token), json!({ "serial": 3, "reason": "torn" })).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(app.count("billbooks", doc! {}).await, 1);
}

/// The invariant is MongoDB's, not the process's: two instances entering the same leaf at
/// once give one invoice and one 409 `NUMBER_USED` (the unique indexes and the book write in
/// the sale's transaction), whichever wins.
#[tokio::test]
async fn the_same_leaf_entered_on_two_instances_at_once_is_one_invoice() {
    let app = TestApp::spawn().await;
    let (r, pen) = shop(&app).await;
    let id = book_id(&app, &r, "7", "B7/", 1, 100).await;
    let second = app.second_instance().await;
    for serial in 1..=4 {
        let bill = Some(json!({ "bookId": id, "serial": serial }));
        let (a, b) = tokio::join!(sell_online(&app, &r, &pen, bill.clone()), sell_online(&second, &r, &pen, bill));
        let mut got = [a.status.as_u16(), b.status.as_u16()];
        got.sort();
        assert_eq!(got, [201, 409], "{} / {}", a.body, b.body);
        let lost = if a.status == 409 { &a } else { &b };
        assert_eq!(lost.code(), "NUMBER_USED", "{}", lost.body);
        assert_eq!(invoices_numbered(&app, &format!("B7/{serial:03}")).await.len(), 1);
    }
    let book = app.get(&format!("/api/business/bill-books/{id}"), Some(&r.token)).await;
    assert_eq!(book.body["book"]["usedCount"], json!(4));
    assert_eq!(app.stock_of(&pen).await, 96, "the losing sale moved no stock");
}
