//! Issue 16, "Stock ledger": every stock change is a movement with a reason; an item's ledger
//! (opening, in/out by reason, closing) comes out equal to its stock after random moves
//! through every door; India date boundaries; the stock summary at a date; physical counts
//! (differences posted with their audit entry); tenancy and the `stock_adjust` permission.

use std::collections::BTreeMap;

use bson::{doc, oid::ObjectId, DateTime, Document};
use futures::TryStreamExt;
use serde_json::{json, Value};
use viveka::{catalog::model::ItemDoc, catalog::stock::Reason, money::Paise};

use crate::helpers::{phone, Registered, TestApp};

fn oid(s: &str) -> ObjectId {
    ObjectId::parse_str(s).unwrap()
}

fn at(s: &str) -> DateTime {
    DateTime::parse_rfc3339_str(s).unwrap()
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn now_rfc3339() -> String {
    DateTime::now().try_to_rfc3339_string().unwrap()
}

/// A fixed-seed generator (splitmix64), so a failing sequence replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }
}

async fn create_item(app: &TestApp, shop: &Registered, name: &str, price: i64, stock: i64) -> String {
    let r = app
        .post("/api/business/items", Some(&shop.token), json!({ "name": name, "price": price, "stock": stock }))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["item"]["_id"].as_str().unwrap().to_string()
}

async fn ledger(app: &TestApp, shop: &Registered, item: &str, query: &str) -> Value {
    let r = app
        .get(&format!("/api/business/items/{}/{item}/stock-ledger?{query}", shop.client_id), Some(&shop.token))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// `{reason: (in, out)}` of a ledger answer.
fn by_reason(l: &Value) -> BTreeMap<String, (i64, i64)> {
    l["byReason"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["reason"].as_str().unwrap().to_string(), (r["in"].as_i64().unwrap(), r["out"].as_i64().unwrap())))
        .collect()
}

async fn movements_of(app: &TestApp, item: &str) -> Vec<Document> {
    app.db
        .collection::<Document>("stockmovements")
        .find(doc! { "itemId": oid(item) })
        .sort(doc! { "at": 1, "_id": 1 })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

/// Insert an item straight into `items`, as one written before movements were recorded.
async fn legacy_item(app: &TestApp, client: &str, name: &str, stock: i64, created: DateTime) -> String {
    let it = ItemDoc {
        id: ObjectId::new(),
        client_id: oid(client),
        group_id: None,
        brand_id: None,
        name: name.into(),
        price: Paise::new(1250),
        stock,
        low_stock_quantity: 5,
        unit: "nos".into(),
        description: String::new(),
        dealer_ids: vec![],
        is_active: true,
        created_at: created,
        updated_at: created,
        version: 0,
        details: Default::default(),
    };
    app.db.collection::<ItemDoc>("items").insert_one(&it).await.unwrap();
    it.id.to_hex()
}

/// An online sale of `qty` units of `item`.
async fn sell(app: &TestApp, shop: &Registered, item: &str, qty: i64) {
    let body = json!({ "products": [{ "productId": item, "quantity": qty }], "paidAmount": 0,
        "totalTax": 0, "totalDiscount": 0, "paymentMethod": "cash" });
    let r = app.post("/api/business/invoices/generatewithproducts", Some(&shop.token), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

fn add(tally: &mut BTreeMap<String, (i64, i64)>, reason: &str, delta: i64) {
    let e = tally.entry(reason.to_string()).or_insert((0, 0));
    if delta > 0 {
        e.0 += delta;
    } else {
        e.1 -= delta;
    }
}

/// The test: after a random sequence (fixed seed) of moves through every door (online,
/// v1 and v2 sales; dealer deliveries; online and v2 adjustments with each reason; counts), the
/// ledger's closing equals the item's stock, its opening is 0 (the item was created inside the
/// period), in/out per reason equal what the sequence moved, and the running balance of the
/// last movement is the closing. Checked after every step, not only at the end.
#[tokio::test]
async fn the_ledger_closing_equals_the_stock_after_random_moves_through_every_path() {
    let app = TestApp::spawn().await;
    let shop = app.register(&phone()).await;
    let t = Some(shop.token.as_str());
    let cid = shop.client_id.clone();
    let r = app.post("/api/dealer", t, json!({ "clientId": cid, "name": "Sharma Traders" })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let dealer = r.body["dealer"]["_id"].as_str().unwrap().to_string();
    let body = json!({ "name": "Gel pen", "price": 10, "stock": 40, "dealerIds": [dealer] });
    let r = app.post("/api/business/items", t, body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let item = r.body["item"]["_id"].as_str().unwrap().to_string();

    let kinds = ["damaged", "lost", "stolen", "expired", "freeSample", "countCorrection", "other"];
    let mut tally = BTreeMap::new();
    add(&mut tally, "opening", 40);
    let mut rng = Rng(0x005E_ED16);
    let mut seen = std::collections::BTreeSet::new();
    for step in 0..30 {
        let stock = app.stock_of(&item).await;
        let qty = 1 + rng.below(4);
        // each door once, then random ones
        let door = if step < 8 { step } else { rng.below(8) };
        seen.insert(if door == 5 { 4 } else { door });
        let (reason, delta) = match door {
            0 => {
                let body = json!({ "products": [{ "productId": item, "quantity": qty }], "paidAmount": 0,
                    "totalTax": 0, "totalDiscount": 0, "paymentMethod": "cash" });
                let r = app.post("/api/business/invoices/generatewithproducts", t, body).await;
                assert_eq!(r.status, 201, "{}", r.body);
                ("sale", -qty)
            }
            1 => {
                let body = json!({ "invoice": { "create": [{ "deviceTime": now_rfc3339(),
                    "products": [{ "productId": item, "itemName": "Gel pen", "quantity": qty, "costPerUnit": 10 }] }] } });
                let r = app.post("/api/sync", t, body).await;
                assert_eq!(r.status, 200, "{}", r.body);
                ("sale", -qty)
            }
            2 => {
                let op = json!({ "opId": uuid(), "entity": "invoice", "kind": "create", "deviceTime": now_rfc3339(),
                    "payload": { "products": [{ "productId": item, "quantity": qty }], "paidAmount": 0, "totalTax": 0,
                        "totalDiscount": 0, "method": "cash", "deviceRef": format!("L-{step}") } });
                let r = app.post("/api/v2/sync/push", t, json!({ "operations": [op] })).await;
                assert_eq!(r.body["results"][0]["status"], "applied", "{}", r.body);
                ("sale", -qty)
            }
            3 => {
                let q = qty * 5;
                let r = app
                    .post(
                        "/api/dealer/orders",
                        t,
                        json!({ "clientId": cid, "dealerId": dealer, "items": [{ "itemId": item, "quantity": q }] }),
                    )
                    .await;
                assert_eq!(r.status, 201, "{}", r.body);
                let order = r.body["order"]["_id"].as_str().unwrap().to_string();
                let r = app
                    .post(&format!("/api/dealer/orders/{order}/mark-delivered"), t, json!({ "clientId": cid }))
                    .await;
                assert_eq!(r.status, 200, "{}", r.body);
                ("purchase", q)
            }
            4 | 5 => {
                let kind = kinds[rng.below(kinds.len() as u64) as usize];
                let delta = if rng.below(2) == 0 { -qty } else { qty };
                let body = json!({ "stock": stock + delta, "stockReason": kind, "stockNote": format!("step {step}") });
                let r = app.put(&format!("/api/business/items/{cid}/{item}"), t, body).await;
                assert_eq!(r.status, 200, "{}", r.body);
                (kind, delta)
            }
            6 => {
                let kind = kinds[rng.below(kinds.len() as u64) as usize];
                let delta = if rng.below(2) == 0 { -qty } else { qty };
                let op = json!({ "opId": uuid(), "entity": "item", "kind": "update", "deviceTime": now_rfc3339(),
                    "payload": { "id": item, "stockDelta": delta, "stockReason": kind } });
                let r = app.post("/api/v2/sync/push", t, json!({ "operations": [op] })).await;
                assert_eq!(r.body["results"][0]["status"], "applied", "{}", r.body);
                (kind, delta)
            }
            _ => {
                let counted = (stock + rng.below(7) - 3).max(0);
                let r = app
                    .post("/api/business/stock/counts", t, json!({ "lines": [{ "itemId": item, "counted": counted }] }))
                    .await;
                assert_eq!(r.status, 201, "{}", r.body);
                assert_eq!(r.body["count"]["lines"][0]["difference"], json!(counted - stock), "{}", r.body);
                ("countCorrection", counted - stock)
            }
        };
        if delta != 0 {
            add(&mut tally, reason, delta);
        }
        let stock = app.stock_of(&item).await;
        let l = ledger(&app, &shop, &item, "from=2020-01-01&limit=500").await;
        assert_eq!(l["closing"], json!(stock), "step {step} ({reason} {delta}): {l}");
        assert_eq!(l["opening"], json!(0), "step {step}: {l}");
        assert_eq!(l["item"]["stock"], json!(stock));
        let expected: BTreeMap<String, (i64, i64)> =
            tally.iter().filter(|(_, v)| **v != (0, 0)).map(|(k, v)| (k.clone(), *v)).collect();
        assert_eq!(by_reason(&l), expected, "step {step}: {l}");
        let moves = l["movements"].as_array().unwrap();
        assert_eq!(moves.len() as u64, l["pagination"]["total"].as_u64().unwrap());
        assert_eq!(moves.last().unwrap()["balance"], json!(stock), "the running balance ends at the closing");
        let sum: i64 = moves.iter().map(|m| m["delta"].as_i64().unwrap()).sum();
        assert_eq!(sum, stock, "the movements add up");
    }
    assert_eq!(seen.len(), 7, "the seed drives every door (B20, v1, v2 sale, delivery, B7, v2 delta, count): {seen:?}");
    let stored: Vec<String> = tally.keys().cloned().collect();
    assert!(stored.len() >= 6, "several reasons moved: {stored:?}");
    // every stored movement carries a reason of the enum and a user
    for m in movements_of(&app, &item).await {
        assert!(Reason::parse(m.get_str("reason").unwrap()).is_some(), "{m}");
        assert!(m.get_document("by").is_ok(), "{m}");
    }
    // a second page continues the running balance
    let all = ledger(&app, &shop, &item, "from=2020-01-01&limit=500").await;
    let page = ledger(&app, &shop, &item, "from=2020-01-01&limit=3&offset=3").await;
    assert_eq!(page["movements"].as_array().unwrap()[..], all["movements"].as_array().unwrap()[3..6]);
    assert_eq!(page["pagination"]["hasMore"], json!(true));
}

/// Opening and closing at India midnight: a sale at 23:59:59 IST on 31 March is that day's,
/// one at 00:00:00 IST on 1 April the next day's; each day's closing is the next day's
/// opening; the stock summary at each date agrees; a day before anything moved shows the
/// stock of an item written before movements were recorded.
#[tokio::test]
async fn opening_and_closing_across_an_india_date_boundary() {
    let app = TestApp::spawn().await;
    let shop = app.register(&phone()).await;
    let t = Some(shop.token.as_str());
    // written before the ledger existed: 7 in stock, no movement
    let item = legacy_item(&app, &shop.client_id, "Ruler", 7, at("2026-01-01T06:00:00Z")).await;
    let day = ledger(&app, &shop, &item, "from=2026-02-01&to=2026-02-01").await;
    assert_eq!((day["opening"].clone(), day["closing"].clone()), (json!(7), json!(7)), "{day}");

    app.state.clock.pin(Some(at("2026-03-30T06:30:00Z"))); // 12:00 IST, 30 March
    let r = app
        .post(
            "/api/business/stock/counts",
            t,
            json!({ "lines": [{ "itemId": item, "counted": 20 }], "note": "year-end" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    app.state.clock.pin(Some(at("2026-03-31T18:29:59Z"))); // 23:59:59 IST, 31 March
    sell(&app, &shop, &item, 2).await;
    app.state.clock.pin(Some(at("2026-03-31T18:30:00Z"))); // 00:00:00 IST, 1 April
    sell(&app, &shop, &item, 3).await;
    app.state.clock.pin(None);
    assert_eq!(app.stock_of(&item).await, 15);

    let d31 = ledger(&app, &shop, &item, "from=2026-03-31&to=2026-03-31").await;
    assert_eq!((d31["opening"].as_i64(), d31["closing"].as_i64()), (Some(20), Some(18)), "{d31}");
    assert_eq!(by_reason(&d31), BTreeMap::from([("sale".to_string(), (0, 2))]));
    let d1 = ledger(&app, &shop, &item, "from=2026-04-01&to=2026-04-01").await;
    assert_eq!((d1["opening"].as_i64(), d1["closing"].as_i64()), (Some(18), Some(15)), "{d1}");
    assert_eq!(by_reason(&d1), BTreeMap::from([("sale".to_string(), (0, 3))]));
    let both = ledger(&app, &shop, &item, "from=2026-03-30&to=2026-04-01").await;
    assert_eq!((both["opening"].as_i64(), both["closing"].as_i64()), (Some(7), Some(15)), "{both}");
    assert_eq!(
        by_reason(&both),
        BTreeMap::from([("countCorrection".to_string(), (13, 0)), ("sale".to_string(), (0, 5))])
    );
    let m = &both["movements"][0];
    assert_eq!(
        (m["reason"].as_str(), m["note"].as_str(), m["balance"].as_i64()),
        (Some("countCorrection"), Some("year-end"), Some(20))
    );
    assert_eq!(both["movements"][1]["at"], "2026-03-31T18:29:59.000Z");

    // the summary at the end of each date: stock and value at the price (Rs 12.50)
    for (date, stock, value) in [("2026-03-29", 7, 87.5), ("2026-03-31", 18, 225.0), ("2026-04-01", 15, 187.5)] {
        let r = app.get(&format!("/api/business/stock/summary?at={date}"), t).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let row = &r.body["items"][0];
        assert_eq!((row["stock"].as_i64(), row["value"].as_f64()), (Some(stock), Some(value)), "{date}: {}", r.body);
        assert_eq!(r.body["totalValue"].as_f64(), Some(value));
    }
    // before the item existed it is not listed
    let r = app.get("/api/business/stock/summary?at=2025-12-31", t).await;
    assert_eq!(r.body["items"], json!([]), "{}", r.body);
    // CSV too
    let r = app.get("/api/business/stock/summary?at=2026-03-31&format=csv", t).await;
    assert_eq!(r.status, 200);
    let text = r.body.as_str().unwrap_or_default().to_string();
    assert!(text.starts_with("itemId,name,unit,active,stock,price,value\r\n"), "{text}");
    assert!(text.contains(&format!("{item},Ruler,nos,true,18,12.50,225.00\r\n")), "{text}");
    // bad input
    for q in ["from=2026-04-02&to=2026-04-01", "from=31-03-2026", "limit=0"] {
        let r = app.get(&format!("/api/business/items/{}/{item}/stock-ledger?{q}", shop.client_id), t).await;
        r.assert_envelope(400);
    }
    app.get("/api/business/stock/summary?at=tomorrow", t).await.assert_envelope(400);
}

/// A count posts each difference as a `countCorrection` movement (referencing the count, by
/// the user, with the note), leaves matching items untouched, keeps the count, audits it in
/// the same transaction and lists it; a count naming another shop's item writes nothing.
#[tokio::test]
async fn a_count_posts_the_right_differences_and_its_audit() {
    let app = TestApp::spawn().await;
    let shop = app.register(&phone()).await;
    let other = app.register(&phone()).await;
    let t = Some(shop.token.as_str());
    let a = create_item(&app, &shop, "Eraser", 5, 10).await;
    let b = create_item(&app, &shop, "Sharpener", 8, 5).await;
    let c = create_item(&app, &shop, "Stapler", 90, 2).await;
    let foreign = create_item(&app, &other, "Glue", 30, 4).await;

    let r = app
        .post(
            "/api/business/stock/counts",
            t,
            json!({ "lines": [{ "itemId": a, "counted": 7 }, { "itemId": b, "counted": 5 }, { "itemId": c, "counted": 6 }], "note": "shelf A" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let count = &r.body["count"];
    let diffs: Vec<(i64, i64, i64)> = count["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["expected"].as_i64().unwrap(), l["counted"].as_i64().unwrap(), l["difference"].as_i64().unwrap()))
        .collect();
    assert_eq!(diffs, [(10, 7, -3), (5, 5, 0), (2, 6, 4)]);
    assert_eq!(count["corrected"], json!(2));
    assert_eq!(count["by"]["userId"], json!(shop.client_id), "the owner counted");
    let count_id = count["_id"].as_str().unwrap().to_string();
    assert_eq!((app.stock_of(&a).await, app.stock_of(&b).await, app.stock_of(&c).await), (7, 5, 6));

    let fixes: Vec<Document> = app
        .db
        .collection::<Document>("stockmovements")
        .find(doc! { "refId": oid(&count_id) })
        .sort(doc! { "delta": 1 })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(fixes.len(), 2, "no movement for an item that matched");
    for (m, (item, delta)) in fixes.iter().zip([(&a, -3), (&c, 4)]) {
        assert_eq!(m.get_object_id("itemId").unwrap(), oid(item));
        assert_eq!(m.get_i64("delta").unwrap(), delta);
        assert_eq!(m.get_str("reason").unwrap(), "countCorrection");
        assert_eq!(m.get_str("note").unwrap(), "shelf A");
        assert_eq!(m.get_document("by").unwrap().get_object_id("userId").unwrap(), oid(&shop.client_id));
    }

    let audits: Vec<Document> = app
        .db
        .collection::<Document>("auditlog")
        .find(doc! { "entity": "stockcounts", "entityId": &count_id })
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(audits.len(), 1, "{audits:?}");
    let e = &audits[0];
    assert_eq!(e.get_str("action").unwrap(), "stock_adjusted");
    assert!(e.get_str("reason").unwrap().contains("shelf A"), "{e}");
    let changes = e.get_array("changes").unwrap();
    assert_eq!(changes.len(), 2, "{e}");
    let first = changes[0].as_document().unwrap();
    assert_eq!(first.get_str("field").unwrap(), format!("items.{a}.stock"));
    let n = |k: &str| first.get(k).and_then(|b| b.as_i64().or(b.as_i32().map(i64::from)));
    assert_eq!((n("before"), n("after")), (Some(10), Some(7)), "{first}");

    let r = app.get("/api/business/stock/counts", t).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["counts"][0]["_id"], json!(count_id));
    assert_eq!(r.body["pagination"]["total"], json!(1));

    // another shop's item: 400 naming the line, nothing written
    let before = app.count("stockcounts", doc! {}).await;
    let r = app
        .post(
            "/api/business/stock/counts",
            t,
            json!({ "lines": [{ "itemId": a, "counted": 1 }, { "itemId": foreign, "counted": 0 }] }),
        )
        .await;
    r.assert_envelope(400);
    assert!(r.errors().contains("lines[1].itemId"), "{}", r.body);
    assert_eq!((app.stock_of(&a).await, app.stock_of(&foreign).await), (7, 4));
    assert_eq!(app.count("stockcounts", doc! {}).await, before);
}

/// A shop sees only its own ledgers, summary and counts: another shop's item answers 404 like
/// a missing one, another shop's client id in the path 403.
#[tokio::test]
async fn ledgers_summaries_and_counts_are_per_shop() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let b = app.register(&phone()).await;
    let item = create_item(&app, &a, "Notebook", 40, 9).await;
    let r = app
        .post("/api/business/stock/counts", Some(&a.token), json!({ "lines": [{ "itemId": item, "counted": 8 }] }))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let r = app.get(&format!("/api/business/items/{}/{item}/stock-ledger", b.client_id), Some(&b.token)).await;
    r.assert_envelope(404);
    let missing =
        app.get(&format!("/api/business/items/{}/{}/stock-ledger", b.client_id, ObjectId::new()), Some(&b.token)).await;
    assert_eq!(
        (missing.status, missing.body["message"].clone()),
        (r.status, r.body["message"].clone()),
        "foreign = missing"
    );
    let r = app.get(&format!("/api/business/items/{}/{item}/stock-ledger", a.client_id), Some(&b.token)).await;
    r.assert_envelope(403);
    let r = app.get("/api/business/stock/summary", Some(&b.token)).await;
    assert_eq!(r.body["items"], json!([]), "{}", r.body);
    let r = app.get("/api/business/stock/counts", Some(&b.token)).await;
    assert_eq!(r.body["counts"], json!([]), "{}", r.body);
    let r = app.get("/api/business/stock/summary", Some(&a.token)).await;
    assert_eq!(r.body["items"][0]["stock"], json!(8), "{}", r.body);
}

/// `stock_adjust` guards counts: a cashier (who lacks it) gets 403 and nothing is written; a
/// stock keeper (who has it) posts one. Reading a ledger needs only `catalog_view`.
#[tokio::test]
async fn a_cashier_without_stock_adjust_cannot_count() {
    let app = TestApp::spawn().await;
    let owner = app.register(&phone()).await;
    let item = create_item(&app, &owner, "Marker", 25, 6).await;
    let cashier = crate::roles::hire(&app, &owner, "cashier", "C1", "c").await;
    let body = json!({ "lines": [{ "itemId": item, "counted": 1 }] });
    app.post("/api/business/stock/counts", Some(&cashier.token), body.clone()).await.assert_envelope(403);
    app.get("/api/business/stock/counts", Some(&cashier.token)).await.assert_envelope(403);
    assert_eq!(app.stock_of(&item).await, 6);
    assert_eq!(app.count("stockcounts", doc! {}).await, 0);
    let r =
        app.get(&format!("/api/business/items/{}/{item}/stock-ledger", owner.client_id), Some(&cashier.token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let keeper = crate::roles::hire(&app, &owner, "stock_keeper", "S1", "s").await;
    let r = app.post("/api/business/stock/counts", Some(&keeper.token), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(app.stock_of(&item).await, 1);
}

/// Every reason name on both doors that take one (online B7 `stockReason`, v2 `item.update`
/// `stockReason`): the adjustment kinds are recorded as sent (with the note), the reasons
/// that only documents make (sale, return, purchase, opening) and unknown names are refused
/// naming the field, and nothing moves.
#[tokio::test]
async fn stock_reasons_are_accepted_and_refused_alike_online_and_in_a_push() {
    let app = TestApp::spawn().await;
    let shop = app.register(&phone()).await;
    let t = Some(shop.token.as_str());
    let cid = shop.client_id.clone();
    let item = create_item(&app, &shop, "Crayons", 60, 100).await;
    let names: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).chain(["adjustment2", "Damaged", ""]).collect();
    for name in names {
        let ok = Reason::parse(name).is_some_and(|r| r.is_adjustment());
        let stock = app.stock_of(&item).await;
        let r = app
            .put(
                &format!("/api/business/items/{cid}/{item}"),
                t,
                json!({ "stock": stock - 1, "stockReason": name, "stockNote": "n1" }),
            )
            .await;
        let op = json!({ "opId": uuid(), "entity": "item", "kind": "update", "deviceTime": now_rfc3339(),
            "payload": { "id": item, "stockDelta": -1, "stockReason": name, "stockNote": "n2" } });
        let p = app.post("/api/v2/sync/push", t, json!({ "operations": [op] })).await;
        assert_eq!(p.status, 200, "{}", p.body);
        let res = &p.body["results"][0];
        if ok {
            assert_eq!(r.status, 200, "{name}: {}", r.body);
            assert_eq!(res["status"], "applied", "{name}: {}", p.body);
            assert_eq!(app.stock_of(&item).await, stock - 2);
            let moves = movements_of(&app, &item).await;
            let last: Vec<(&str, Option<&str>)> = moves[moves.len() - 2..]
                .iter()
                .map(|m| (m.get_str("reason").unwrap(), m.get_str("note").ok()))
                .collect();
            assert_eq!(last, [(name, Some("n1")), (name, Some("n2"))], "{name}");
        } else {
            r.assert_envelope(400);
            assert!(r.errors().contains("stockReason"), "{name}: {}", r.body);
            assert_eq!(res["status"], "rejected", "{name}: {}", p.body);
            assert!(res["reason"].as_str().unwrap_or_default().contains("stockReason"), "{name}: {}", p.body);
            assert_eq!(app.stock_of(&item).await, stock, "{name}: nothing moved");
        }
    }
    // without a reason: `other`, as before issue 16's `adjustment`
    let r = app.put(&format!("/api/business/items/{cid}/{item}"), t, json!({ "stock": 1 })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let moves = movements_of(&app, &item).await;
    assert_eq!(moves.last().unwrap().get_str("reason").unwrap(), "other");
    // a legacy `adjustment` row reads as `other` in the ledger
    let legacy = doc! { "_id": ObjectId::new(), "clientId": oid(&cid), "itemId": oid(&item), "delta": 4_i64,
    "reason": "adjustment", "refId": null, "at": DateTime::now() };
    app.db.collection::<Document>("stockmovements").insert_one(legacy).await.unwrap();
    app.db
        .collection::<Document>("items")
        .update_one(doc! { "_id": oid(&item) }, doc! { "$inc": { "stock": 4_i64 } })
        .await
        .unwrap();
    let l = ledger(&app, &shop, &item, "from=2020-01-01&limit=500").await;
    assert_eq!(l["closing"], json!(5));
    assert_eq!(l["movements"].as_array().unwrap().last().unwrap()["reason"], "other");
    assert!(by_reason(&l).keys().all(|k| k != "adjustment"), "{l}");
}

/// An offline sale leaves the ledger on the bill's date, not the sync's: a v1 and a v2 sale
/// made 30 hours ago and synced now are in the ledger of their own India date.
#[tokio::test]
async fn an_offline_sale_is_in_the_ledger_of_its_bill_date() {
    let app = TestApp::spawn().await;
    let shop = app.register(&phone()).await;
    let t = Some(shop.token.as_str());
    let item = legacy_item(&app, &shop.client_id, "Compass", 10, at("2025-06-01T06:00:00Z")).await;
    let now = DateTime::now().timestamp_millis();
    let sold = DateTime::from_millis(now - now % 1000 - 30 * 3_600_000);
    let when = sold.try_to_rfc3339_string().unwrap();
    let body = json!({ "invoice": { "create": [{ "deviceTime": when,
        "products": [{ "productId": item, "itemName": "Compass", "quantity": 2, "costPerUnit": 12.5 }] }] } });
    let r = app.post("/api/sync", t, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let op = json!({ "opId": uuid(), "entity": "invoice", "kind": "create", "deviceTime": when,
        "payload": { "products": [{ "productId": item, "quantity": 3 }], "paidAmount": 0, "totalTax": 0,
            "totalDiscount": 0, "method": "cash", "deviceRef": "OFF-1" } });
    let r = app.post("/api/v2/sync/push", t, json!({ "operations": [op] })).await;
    assert_eq!(r.body["results"][0]["status"], "applied", "{}", r.body);
    assert_eq!(app.stock_of(&item).await, 5);

    let day = viveka::time::ist_date_string(sold);
    let l = ledger(&app, &shop, &item, &format!("from={day}&to={day}")).await;
    assert_eq!((l["opening"].as_i64(), l["closing"].as_i64()), (Some(10), Some(5)), "{l}");
    assert_eq!(by_reason(&l), BTreeMap::from([("sale".to_string(), (0, 5))]));
    for m in l["movements"].as_array().unwrap() {
        assert_eq!(m["at"].as_str(), Some(viveka::wire::iso(sold).as_str()), "{m}");
    }
    let today = viveka::time::ist_date_string(DateTime::now());
    let l = ledger(&app, &shop, &item, &format!("from={today}&to={today}")).await;
    assert_eq!(
        (l["opening"].as_i64(), l["closing"].as_i64(), l["movements"].as_array().map(Vec::len)),
        (Some(5), Some(5), Some(0)),
        "{l}"
    );
}
