//! Issue 17, GST tax invoices computed by the server: the known answers A, B and C (both
//! states) through the API, the same stored figures on every door, the document types and
//! their required particulars, the rate in force at the invoice's India time, the quote,
//! and a client total that disagrees.

use bson::{doc, oid::ObjectId, Document};
use serde_json::{json, Value};

use crate::helpers::{phone, Registered, TestApp};

/// Maharashtra (27) and Karnataka (29) GSTINs with valid check characters (`src/gstin.rs`).
const MH_GSTIN: &str = "27AAPFU0939F1ZV";
const KA_GSTIN: &str = "29AAGCB7383J1Z4";

fn op(entity: &str, kind: &str, at: &str, payload: Value) -> Value {
    json!({ "opId": uuid::Uuid::new_v4().to_string(), "entity": entity, "kind": kind,
            "deviceTime": at, "payload": payload })
}

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339()
}

async fn profile(app: &TestApp, r: &Registered, extra: Value) -> Value {
    let mut body = json!({ "gstin": MH_GSTIN, "legalName": "Shree Auto Spares" });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = app.put("/api/business/gst-profile", Some(&r.token), body).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["gstProfile"].clone()
}

async fn item(app: &TestApp, r: &Registered, name: &str, price: f64, tax: Value) -> String {
    let res =
        app.post("/api/business/items", Some(&r.token), json!({ "name": name, "price": price, "tax": tax })).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["item"]["_id"].as_str().unwrap().to_string()
}

/// A taxable item at `rate` percent with an HSN code; `inclusive: Some(false)` prices it
/// exclusive of tax whatever the shop's profile says.
async fn taxed(app: &TestApp, r: &Registered, name: &str, price: f64, rate: f64, inclusive: Option<bool>) -> String {
    let mut tax = json!({ "hsnCode": "8708", "uqc": "NOS", "gstRate": rate });
    if let Some(i) = inclusive {
        tax["pricesIncludeTax"] = json!(i);
    }
    item(app, r, name, price, tax).await
}

async fn sell(app: &TestApp, r: &Registered, body: Value) -> Value {
    let res = app.post("/api/business/invoices/generatewithproducts", Some(&r.token), body).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["invoice"].clone()
}

async fn stored(app: &TestApp, id: &str) -> Document {
    let id = ObjectId::parse_str(id).unwrap();
    app.db.collection::<Document>("invoices").find_one(doc! { "_id": id }).await.unwrap().unwrap()
}

fn int(d: &Document, k: &str) -> i64 {
    d.get_i64(k).or_else(|_| d.get_i32(k).map(i64::from)).unwrap_or_else(|_| panic!("{k} in {d}"))
}

/// One paise figure of every stored line's `tax`.
fn col(inv: &Document, k: &str) -> Vec<i64> {
    inv.get_array("products")
        .unwrap()
        .iter()
        .map(|l| int(l.as_document().unwrap().get_document("tax").unwrap(), k))
        .collect()
}

fn gst(inv: &Document) -> &Document {
    inv.get_document("gst").unwrap()
}

async fn enable_customer_gstin(app: &TestApp, r: &Registered) {
    let res = app
        .put(
            &format!("/api/client/{}", r.client_id),
            Some(&r.token),
            json!({ "clientSettings": { "customerFields": { "gstNo": true } } }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
}

/// A Karnataka business with its GSTIN and billing address (an inter-state B2B buyer).
async fn ka_buyer(app: &TestApp, r: &Registered) -> String {
    enable_customer_gstin(app, r).await;
    let res = app
        .post(
            "/api/business/client-customers",
            Some(&r.token),
            json!({ "phone": phone(), "name": "Deccan Stationers", "gstNo": KA_GSTIN,
                    "billingAddress": { "line1": "4 Residency Road", "city": "Bengaluru", "state": "29", "pincode": "560025" } }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body["clientCustomer"]["_id"].as_str().unwrap().to_string()
}

fn lines(ids: &[&String], qty: &[i64]) -> Vec<Value> {
    ids.iter().zip(qty).map(|(id, q)| json!({ "productId": id, "quantity": q })).collect()
}

/// Known answer A (issue 17): inclusive prices with a bill discount of Rs 25.00, within the
/// state and across states, and the MRP example that must come to exactly Rs 245.00.
#[tokio::test]
async fn known_answer_a_inclusive_prices_with_a_bill_discount() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let p = profile(&app, &r, json!({})).await;
    assert_eq!((p["stateCode"].as_str(), p["pricesIncludeTax"].as_bool()), (Some("27"), Some(true)), "{p}");
    let a = taxed(&app, &r, "Bulb", 105.0, 5.0, None).await;
    let b = taxed(&app, &r, "Wire", 112.0, 12.0, None).await;
    let c = taxed(&app, &r, "Switch", 59.0, 18.0, None).await;
    let body = |extra: Value| {
        let mut v = json!({ "products": lines(&[&a, &b, &c], &[2, 1, 3]), "discount1Amount": 25, "paidAmount": 474 });
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    let inv = sell(&app, &r, body(json!({}))).await;
    assert_eq!(inv["totalAmount"], json!(474), "{inv}");
    assert_eq!(inv["gst"]["documentType"], "taxInvoice", "{inv}");
    assert_eq!(inv["gst"]["supplyType"], "intraState");
    let d = stored(&app, inv["_id"].as_str().unwrap()).await;
    assert_eq!(col(&d, "billDiscountShare"), [1_052, 561, 887]);
    assert_eq!(col(&d, "cgst"), [475, 570, 1_282]);
    assert_eq!(col(&d, "sgst"), [475, 570, 1_282]);
    assert_eq!(col(&d, "igst"), [0, 0, 0]);
    assert_eq!(col(&d, "taxableValue"), [18_998, 9_499, 14_249]);
    assert_eq!(col(&d, "total"), [19_948, 10_639, 16_813]);
    assert_eq!((int(gst(&d), "taxableValue"), int(gst(&d), "roundOff")), (42_746, 0));
    assert_eq!((int(&d, "totalAmount"), int(&d, "totalTax"), int(&d, "totalDiscount")), (47_400, 4_654, 2_500));
    // the v1 shape adds up: subtotal - discount + tax + round-off = total
    assert_eq!(int(&d, "subtotal") - 2_500 + 4_654, 47_400);

    // across states (the place of supply set on the invoice): IGST only
    let inv = sell(&app, &r, body(json!({ "placeOfSupply": "Karnataka" }))).await;
    let d = stored(&app, inv["_id"].as_str().unwrap()).await;
    assert_eq!(gst(&d).get_str("supplyType").unwrap(), "interState");
    assert_eq!(gst(&d).get_str("placeOfSupply").unwrap(), "29");
    assert_eq!(gst(&d).get_str("placeOfSupplyName").unwrap(), "Karnataka");
    assert_eq!(col(&d, "igst"), [950, 1_140, 2_565]);
    assert_eq!(col(&d, "cgst"), [0, 0, 0]);
    assert_eq!(col(&d, "taxableValue"), [18_998, 9_499, 14_248]);
    assert_eq!(int(&d, "totalAmount"), 47_400);

    // MRP-priced goods: every line keeps its price, 245.00 exactly
    let x = taxed(&app, &r, "Tape", 90.0, 5.0, None).await;
    let y = taxed(&app, &r, "Glue", 55.0, 5.0, None).await;
    let z = taxed(&app, &r, "Relay", 100.0, 18.0, None).await;
    let inv = sell(&app, &r, json!({ "products": lines(&[&x, &y, &z], &[1, 1, 1]) })).await;
    let d = stored(&app, inv["_id"].as_str().unwrap()).await;
    assert_eq!(col(&d, "taxableValue"), [8_572, 5_238, 8_474]);
    assert_eq!(col(&d, "cgst"), [214, 131, 763]);
    assert_eq!((int(&d, "totalAmount"), int(gst(&d), "roundOff")), (24_500, 0));
}

/// Known answers B and C (issue 17): exclusive prices (the items say so, overriding the shop's
/// inclusive profile), a 10 % line discount, an amount line discount, a bill discount shared
/// with the largest remainder, and the round-off line.
#[tokio::test]
async fn known_answers_b_and_c_exclusive_prices_discounts_and_round_off() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    profile(&app, &r, json!({})).await;
    let a = taxed(&app, &r, "Pen", 47.5, 5.0, Some(false)).await;
    let b = taxed(&app, &r, "Ink", 33.33, 12.0, Some(false)).await;
    let c = taxed(&app, &r, "Nib", 18.99, 18.0, Some(false)).await;
    let b_lines = json!([
        { "productId": a, "quantity": 3 }, { "productId": b, "quantity": 2 },
        { "productId": c, "quantity": 7, "discountPercent": 10 } ]);
    let inv = sell(&app, &r, json!({ "products": b_lines })).await;
    let d = stored(&app, inv["_id"].as_str().unwrap()).await;
    assert_eq!(col(&d, "discount"), [0, 0, 1_329]);
    assert_eq!(col(&d, "taxableValue"), [14_250, 6_666, 11_964]);
    assert_eq!(col(&d, "cgst"), [356, 400, 1_077]);
    assert_eq!((int(gst(&d), "taxableValue"), int(gst(&d), "roundOff"), int(&d, "totalAmount")), (32_880, -46, 36_500));
    assert_eq!(inv["gst"]["roundOff"], json!(-0.46), "{inv}");
    assert_eq!(inv["products"][2]["tax"]["discountPercent"], json!(10.0), "{inv}");
    let inv = sell(&app, &r, json!({ "products": b_lines, "placeOfSupply": "29" })).await;
    let d = stored(&app, inv["_id"].as_str().unwrap()).await;
    assert_eq!(col(&d, "igst"), [713, 800, 2_154]);
    assert_eq!((int(gst(&d), "roundOff"), int(&d, "totalAmount")), (-47, 36_500));

    // C: tax on the value after the discount (24.30 on the gross would be the classic bug)
    let k = taxed(&app, &r, "Fuse", 45.0, 18.0, Some(false)).await;
    let inv = sell(&app, &r, json!({ "products": [{ "productId": k, "quantity": 3, "discountAmount": 60 }] })).await;
    let d = stored(&app, inv["_id"].as_str().unwrap()).await;
    assert_eq!((col(&d, "taxableValue"), col(&d, "cgst"), col(&d, "sgst")), (vec![7_500], vec![675], vec![675]));
    assert_eq!((int(gst(&d), "roundOff"), int(&d, "totalAmount")), (50, 8_900));
    let x = taxed(&app, &r, "Lamp", 100.0, 18.0, Some(false)).await;
    let y = taxed(&app, &r, "Holder", 100.0, 18.0, Some(false)).await;
    let z = taxed(&app, &r, "Chalk", 100.0, 5.0, Some(false)).await;
    let inv = sell(&app, &r, json!({ "products": lines(&[&x, &y, &z], &[1, 1, 1]), "discount1Amount": 10 })).await;
    let d = stored(&app, inv["_id"].as_str().unwrap()).await;
    assert_eq!(col(&d, "billDiscountShare"), [334, 333, 333]);
    assert_eq!(col(&d, "taxableValue"), [9_666, 9_667, 9_667]);
    assert_eq!(col(&d, "cgst"), [870, 870, 242]);
    assert_eq!((int(gst(&d), "roundOff"), int(&d, "totalAmount")), (36, 33_000));
}

/// The same sale online, in a v1 batch and in a v2 push stores identical figures (known
/// answer B to a Karnataka business: inter-state by the buyer's GSTIN), and the push result
/// carries the server's figures.
#[tokio::test]
async fn the_same_sale_online_v1_and_v2_stores_identical_figures() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    profile(&app, &r, json!({ "pricesIncludeTax": false })).await;
    let buyer = ka_buyer(&app, &r).await;
    let a = taxed(&app, &r, "Pen", 47.5, 5.0, None).await;
    let b = taxed(&app, &r, "Ink", 33.33, 12.0, None).await;
    let c = taxed(&app, &r, "Nib", 18.99, 18.0, None).await;
    let products = json!([
        { "productId": a, "itemName": "Pen", "quantity": 3, "costPerUnit": 47.5 },
        { "productId": b, "itemName": "Ink", "quantity": 2, "costPerUnit": 33.33 },
        { "productId": c, "itemName": "Nib", "quantity": 7, "costPerUnit": 18.99, "discountPercent": 10 } ]);
    let online = sell(
        &app,
        &r,
        json!({ "products": products, "clientCustomerId": buyer, "totalAmount": 365, "paidAmount": 365 }),
    )
    .await;
    let res = app
        .post(
            "/api/sync",
            Some(&r.token),
            json!({ "invoice": { "create": [{ "products": products, "clientCustomerId": buyer,
                    "totalAmount": 365, "paidAmount": 365, "deviceRef": "v1-b" }] } }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let v1 = app.db.collection::<Document>("invoices").find_one(doc! { "deviceRef": "v1-b" }).await.unwrap().unwrap();
    let res = app
        .post(
            "/api/v2/sync/push",
            Some(&r.token),
            json!({ "operations": [op("invoice", "create", &now_iso(), json!({ "products": products,
                    "clientCustomerId": buyer, "totalAmount": 365, "paidAmount": 365, "deviceRef": "v2-b" }))] }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let result = &res.body["results"][0];
    assert_eq!(result["status"], "applied", "{}", res.body);
    assert_eq!(result["result"]["gst"]["igst"], json!(36.67), "{result}");
    assert_eq!(result["result"]["lines"][2]["tax"]["igst"], json!(21.54), "{result}");
    let v2 = stored(&app, result["result"]["id"].as_str().unwrap()).await;
    let on = stored(&app, online["_id"].as_str().unwrap()).await;
    for (door, d) in [("v1", &v1), ("v2", &v2)] {
        assert_eq!(d.get_array("products").unwrap(), on.get_array("products").unwrap(), "{door}: lines");
        assert_eq!(gst(d), gst(&on), "{door}: gst");
        for k in ["subtotal", "totalTax", "totalDiscount", "totalAmount"] {
            assert_eq!(int(d, k), int(&on, k), "{door}: {k}");
        }
    }
    assert_eq!(col(&on, "igst"), [713, 800, 2_154]);
    assert_eq!(gst(&on).get_str("buyerGstin").unwrap(), KA_GSTIN);
    assert_eq!(gst(&on).get_str("supplyType").unwrap(), "interState");
    assert_eq!(int(&on, "totalAmount"), 36_500);
}

/// The document of each shop and sale, with its series and required particulars.
#[tokio::test]
async fn each_document_type_with_its_series_and_required_particulars() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    profile(&app, &r, json!({})).await;
    let pen = taxed(&app, &r, "Pen", 10.0, 18.0, None).await;
    let rice = item(&app, &r, "Rice", 50.0, json!({ "hsnCode": "1006", "taxability": "nilRated" })).await;

    // taxable and nil-rated goods to an unregistered buyer: an invoice-cum-bill of supply
    let inv = sell(&app, &r, json!({ "products": lines(&[&pen, &rice], &[1, 1]) })).await;
    assert_eq!(inv["gst"]["documentType"], "invoiceCumBillOfSupply", "{inv}");
    assert!(inv["invoiceNumber"].as_str().unwrap().starts_with("INV/"), "{inv}");
    assert_eq!(inv["products"][1]["tax"]["cgst"], json!(0), "{inv}");
    // only nil-rated goods: a bill of supply, numbered in its own series
    let inv = sell(&app, &r, json!({ "products": lines(&[&rice], &[2]) })).await;
    assert_eq!(inv["gst"]["documentType"], "billOfSupply", "{inv}");
    assert_eq!(inv["totalTax"], json!(0));
    let n = inv["invoiceNumber"].as_str().unwrap();
    assert!(n.starts_with("BOS/") && n.ends_with("/00001") && n.len() <= 16, "{n}");

    // a registered buyer without an address: refused, naming the customer
    enable_customer_gstin(&app, &r).await;
    let res = app
        .post(
            "/api/business/client-customers",
            Some(&r.token),
            json!({ "phone": phone(), "name": "Deccan", "gstNo": KA_GSTIN }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let bare = res.body["clientCustomer"]["_id"].as_str().unwrap().to_string();
    let res = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "products": lines(&[&pen], &[1]), "clientCustomerId": bare }),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(res.errors().contains("clientCustomerId: a tax invoice to a registered buyer"), "{}", res.body);
    // reverse charge needs a registered buyer
    let res = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "products": lines(&[&pen], &[1]), "reverseCharge": true }),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(res.errors().contains("reverseCharge:"), "{}", res.body);
    // Rs 50,000 or more to an unregistered buyer without name, address and state
    let tv = taxed(&app, &r, "Inverter", 50_000.0, 18.0, None).await;
    let res = app
        .post("/api/business/invoices/generatewithproducts", Some(&r.token), json!({ "products": lines(&[&tv], &[1]) }))
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(res.errors().contains("Rs 50,000 or more"), "{}", res.body);
    // an item without a GST rate cannot be billed by a regular shop online
    let loose = item(&app, &r, "Loose nails", 5.0, json!({ "hsnCode": "7317" })).await;
    let res = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "products": lines(&[&loose], &[1]) }),
        )
        .await;
    assert_eq!((res.status.as_u16(), res.code()), (400, "TAX_CODE_MISSING"), "{}", res.body);
    assert!(res.errors().starts_with("products[0]"), "{}", res.body);

    // a composition shop: a bill of supply with its legend, no tax, no inter-state sale
    let comp = app.register(&phone()).await;
    profile(&app, &comp, json!({ "gstScheme": "composition" })).await;
    let bolt = taxed(&app, &comp, "Bolt", 118.0, 18.0, None).await;
    let inv = sell(&app, &comp, json!({ "products": lines(&[&bolt], &[1]) })).await;
    assert_eq!(inv["gst"]["documentType"], "billOfSupply", "{inv}");
    assert_eq!(inv["gst"]["legend"], "composition taxable person, not eligible to collect tax on supplies");
    assert_eq!((inv["totalTax"].clone(), inv["totalAmount"].clone()), (json!(0), json!(118)), "{inv}");
    let res = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&comp.token),
            json!({ "products": lines(&[&bolt], &[1]), "placeOfSupply": "29" }),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(res.errors().contains("placeOfSupply: a composition taxable person cannot"), "{}", res.body);

    // an unregistered shop: a plain bill
    let small = app.register(&phone()).await;
    let res = app
        .put(
            "/api/business/gst-profile",
            Some(&small.token),
            json!({ "gstScheme": "unregistered", "address": { "state": "Maharashtra" } }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let nut = taxed(&app, &small, "Nut", 20.0, 18.0, None).await;
    let inv = sell(&app, &small, json!({ "products": lines(&[&nut], &[2]) })).await;
    assert_eq!((inv["gst"]["documentType"].clone(), inv["totalTax"].clone()), (json!("bill"), json!(0)), "{inv}");
}

/// A rate change on an India date: an offline sale made at 23:50 IST on the last day of the
/// old rate uses it; one made at 00:05 IST the next day (still the previous day in UTC) uses
/// the new one, whenever they are synced.
#[tokio::test]
async fn the_rate_in_force_at_the_invoice_india_time_is_used() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    profile(&app, &r, json!({ "pricesIncludeTax": false, "roundOff": false })).await;
    // the new rate starts yesterday (India): both sale times are in the past
    let ist = chrono::FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
    let change = (chrono::Utc::now().with_timezone(&ist) - chrono::Duration::days(1)).date_naive();
    let box_ = item(
        &app,
        &r,
        "Geometry box",
        100.0,
        json!({ "hsnCode": "9017", "rates": [
            { "from": "2017-07-01", "gstRate": 12 },
            { "from": change.format("%Y-%m-%d").to_string(), "gstRate": 5 } ] }),
    )
    .await;
    let at = |d: chrono::NaiveDate, h: u32, m: u32| {
        d.and_hms_opt(h, m, 0).unwrap().and_local_timezone(ist).unwrap().with_timezone(&chrono::Utc).to_rfc3339()
    };
    let before = at(change - chrono::Duration::days(1), 23, 50);
    let after = at(change, 0, 5);
    let sale = |t: &str| op("invoice", "create", t, json!({ "products": [{ "productId": box_, "quantity": 1 }] }));
    let res =
        app.post("/api/v2/sync/push", Some(&r.token), json!({ "operations": [sale(&before), sale(&after)] })).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let totals: Vec<Value> =
        res.body["results"].as_array().unwrap().iter().map(|x| x["result"]["totalAmount"].clone()).collect();
    assert_eq!(totals, [json!(112), json!(105)], "{}", res.body);
    for (x, rate) in res.body["results"].as_array().unwrap().iter().zip([12.0, 5.0]) {
        let d = stored(&app, x["result"]["id"].as_str().unwrap()).await;
        let t = d.get_array("products").unwrap()[0].as_document().unwrap().get_document("tax").unwrap().clone();
        assert_eq!(int(&t, "gstBp") as f64 / 100.0, rate, "{d}");
    }
}

/// The quote computes what the sale will store and writes nothing; a client total that
/// disagrees is refused with the server's figures.
#[tokio::test]
async fn the_quote_matches_the_sale_and_a_wrong_client_total_gets_the_server_figures() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    profile(&app, &r, json!({})).await;
    let a = taxed(&app, &r, "Bulb", 105.0, 5.0, None).await;
    let b = taxed(&app, &r, "Wire", 112.0, 12.0, None).await;
    let c = taxed(&app, &r, "Switch", 59.0, 18.0, None).await;
    let body = json!({ "products": lines(&[&a, &b, &c], &[2, 1, 3]), "discount1Amount": 25 });
    let q = app.post("/api/business/invoices/quote", Some(&r.token), body.clone()).await;
    assert_eq!(q.status, 200, "{}", q.body);
    assert_eq!(q.body["quote"]["invoiceNumber"], Value::Null);
    assert_eq!(app.count("invoices", doc! {}).await, 0, "a quote writes nothing");
    assert_eq!(app.stock_of(&a).await, 0, "nor moves stock");
    let inv = sell(&app, &r, body.clone()).await;
    for k in ["totalAmount", "totalTax", "subtotal", "totalDiscount", "gst"] {
        assert_eq!(q.body["quote"][k], inv[k], "{k}");
    }
    for i in 0..3 {
        assert_eq!(q.body["quote"]["products"][i]["tax"], inv["products"][i]["tax"], "line {i}");
    }
    let mut wrong = body;
    wrong["totalAmount"] = json!(475);
    let res = app.post("/api/business/invoices/generatewithproducts", Some(&r.token), wrong).await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(res.errors().contains("totalAmount: does not match the computed total 474 "), "{}", res.body);
    assert_eq!(res.body["computed"]["totalAmount"], json!(474), "{}", res.body);
    assert_eq!(res.body["computed"]["cgst"], json!(23.27), "{}", res.body);
    assert_eq!(app.count("invoices", doc! {}).await, 1);
}

/// The GST profile's rules: a bad GSTIN or series is refused naming the field, and only a
/// user with the settings permission may set it.
#[tokio::test]
async fn the_gst_profile_is_checked_and_answered() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let res = app.get("/api/business/gst-profile", Some(&r.token)).await;
    assert_eq!((res.status.as_u16(), res.body["gstProfile"].clone()), (200, Value::Null), "{}", res.body);
    let res = app
        .put("/api/business/gst-profile", Some(&r.token), json!({ "gstin": "27AAPFU0939F1ZX", "legalName": "S A" }))
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(res.errors().contains("gstin:"), "{}", res.body);
    let res = app
        .put(
            "/api/business/gst-profile",
            Some(&r.token),
            json!({ "gstin": MH_GSTIN, "legalName": "Shree", "series": { "invoice": "SALES" } }),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(res.errors().contains("series.invoice:"), "{}", res.body);
    let p = profile(&app, &r, json!({ "tradeName": "Shree Auto", "turnoverAbove5Crore": true })).await;
    assert_eq!((p["tradeName"].as_str(), p["turnoverAbove5Crore"].as_bool()), (Some("Shree Auto"), Some(true)), "{p}");
    let res = app.get("/api/business/gst-profile", Some(&r.token)).await;
    assert_eq!(res.body["gstProfile"]["gstin"], MH_GSTIN, "{}", res.body);
    // turnover above Rs 5 crore: 6-digit HSN on every line
    let short = taxed(&app, &r, "Horn", 100.0, 18.0, None).await;
    let res = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&r.token),
            json!({ "products": lines(&[&short], &[1]) }),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(res.errors().contains("products[0].hsnCode: Horn needs an HSN code of at least 6 digits"), "{}", res.body);
}
