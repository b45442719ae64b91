//! The exact change feed (issue 14, item 2): every write to a synced collection appends its
//! change-log rows in its own transaction; the v2 pull reads only that log (a per-shop
//! sequence), never a clock. These tests compare the pull with the stored documents
//! themselves: a change the feed misses, repeats or shows in another form fails here.

use std::collections::{HashMap, HashSet};

use bson::{doc, oid::ObjectId, DateTime, Document};
use futures::TryStreamExt;
use serde_json::{json, Value};

use crate::helpers::{phone, post_keyed, Registered, TestApp};

const SYNCED: [&str; 4] = ["items", "clientcustomers", "invoices", "payments"];

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn oid(s: &str) -> ObjectId {
    ObjectId::parse_str(s).unwrap()
}

fn iso(t: DateTime) -> String {
    t.try_to_rfc3339_string().unwrap()
}

fn minutes(t: DateTime, m: i64) -> DateTime {
    DateTime::from_millis(t.timestamp_millis() + m * 60_000)
}

/// Every synced document of the shop as stored: (wire collection, id) -> the document.
async fn stored(app: &TestApp, client: &str) -> HashMap<(String, String), Document> {
    let mut out = HashMap::new();
    for coll in SYNCED {
        let docs: Vec<Document> = app
            .db
            .collection::<Document>(coll)
            .find(doc! { "clientId": oid(client) })
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        for d in docs {
            let wire = if coll == "clientcustomers" { "clientCustomers" } else { coll };
            out.insert((wire.to_string(), d.get_object_id("_id").unwrap().to_hex()), d);
        }
    }
    out
}

/// The documents whose stored content differs between two snapshots (new, changed or gone).
fn changed(
    before: &HashMap<(String, String), Document>,
    after: &HashMap<(String, String), Document>,
) -> HashSet<(String, String)> {
    let mut out: HashSet<(String, String)> =
        after.iter().filter(|(k, d)| before.get(*k) != Some(*d)).map(|(k, _)| k.clone()).collect();
    out.extend(before.keys().filter(|k| !after.contains_key(*k)).cloned());
    out
}

/// A device's pull from `cursor`, page by page (`limit` per page) until `hasMore` is false.
/// Returns every change in order and the cursor to store.
async fn pull_all(app: &TestApp, token: &str, cursor: &str, limit: u32) -> (Vec<Value>, String) {
    let mut cursor = cursor.to_string();
    let mut all = Vec::new();
    loop {
        let p = app.get(&format!("/api/v2/sync/pull?limit={limit}&cursor={cursor}"), Some(token)).await;
        assert_eq!(p.status, 200, "{}", p.body);
        let page = p.body["changes"].as_array().unwrap().clone();
        assert!(page.len() <= limit as usize);
        let next = p.body["nextCursor"].as_str().unwrap().to_string();
        if !cursor.is_empty() {
            assert!(next.parse::<i64>().unwrap() >= cursor.parse::<i64>().unwrap(), "the cursor went back");
        }
        all.extend(page);
        cursor = next;
        if p.body["hasMore"] == false {
            return (all, cursor);
        }
    }
}

/// The keys of a pull's changes, checking that none repeats.
fn keys_once(changes: &[Value]) -> HashSet<(String, String)> {
    let mut seen = HashSet::new();
    for c in changes {
        let k = (c["collection"].as_str().unwrap().to_string(), c["id"].as_str().unwrap().to_string());
        assert!(seen.insert(k.clone()), "{k:?} twice in one pull: {changes:?}");
    }
    seen
}

/// The one form of a change: a live document is `upsert` with its wire form; a deleted one
/// (gone, or an item with `isActive: false`) is `op: "delete", doc: null`.
fn check_form(change: &Value, now: &HashMap<(String, String), Document>) {
    let k = (change["collection"].as_str().unwrap().to_string(), change["id"].as_str().unwrap().to_string());
    let gone = match now.get(&k) {
        None => true,
        Some(d) => k.0 == "items" && !d.get_bool("isActive").unwrap_or(true),
    };
    if gone {
        assert_eq!(change["op"], "delete", "{change}");
        assert!(change["doc"].is_null(), "{change}");
        assert_eq!(change.as_object().unwrap().len(), 5, "{change}");
    } else {
        assert_eq!(change["op"], "upsert", "{change}");
        assert_eq!(change["doc"]["_id"], k.1.as_str(), "{change}");
        let d = &now[&k];
        match k.0.as_str() {
            "items" => assert_eq!(change["doc"]["stock"], json!(d.get_i64("stock").unwrap()), "{change}"),
            "invoices" => {
                assert_eq!(change["doc"]["status"], d.get_str("status").unwrap(), "{change}");
                let paid = d.get_i64("paidAmount").unwrap();
                assert_eq!((change["doc"]["paidAmount"].as_f64().unwrap() * 100.0).round() as i64, paid, "{change}");
            }
            "clientCustomers" => assert_eq!(change["doc"]["name"], d.get_str("name").unwrap(), "{change}"),
            _ => {}
        }
    }
}

/// A device: its stored cursor, and what it must see next.
struct Device {
    cursor: String,
    seen: HashMap<(String, String), Document>,
}

impl Device {
    async fn start(app: &TestApp, r: &Registered) -> Device {
        let (all, cursor) = pull_all(app, &r.token, "", 2).await;
        let now = stored(app, &r.client_id).await;
        assert_eq!(keys_once(&all), now.keys().cloned().collect(), "the first pull is everything");
        Device { cursor, seen: now }
    }

    /// Pull incrementally (small pages) from `app` and check: every document whose stored
    /// content changed since the last pull is in it, exactly once, in its one form, and
    /// nothing else is.
    async fn pull_and_check(&mut self, app: &TestApp, r: &Registered, what: &str) {
        let (all, cursor) = pull_all(app, &r.token, &self.cursor, 2).await;
        let now = stored(app, &r.client_id).await;
        let got = keys_once(&all);
        let want = changed(&self.seen, &now);
        let missing: Vec<_> = want.difference(&got).collect();
        let extra: Vec<_> = got.difference(&want).collect();
        assert!(missing.is_empty(), "{what}: changed but not pulled: {missing:?}");
        assert!(extra.is_empty(), "{what}: pulled but not changed: {extra:?}");
        for c in &all {
            check_form(c, &now);
        }
        self.cursor = cursor;
        self.seen = now;
    }
}

/// Issue 14, item 2: two server instances whose clocks differ by 5 minutes (A is behind),
/// writes interleaved on both (online endpoints, v2 pushes, a v1 batch), pulls from both:
/// every change appears exactly once, from cursor 0 and paging incrementally; and a write
/// that commits after a pull ran (its transaction open across the pull) is in the next pull.
/// Under the removed catch-up (a scan of `updatedAt >= last catch-up - 60 s`), the sale
/// stamped by A's clock 5 minutes back after B's pull was never pulled.
#[tokio::test]
async fn two_instances_with_clocks_5_minutes_apart_feed_every_change_exactly_once() {
    let a = TestApp::spawn().await;
    let b = a.second_instance().await;
    let real = DateTime::now();
    a.state.clock.pin(Some(minutes(real, -5)));
    b.state.clock.pin(Some(real));
    let r = a.register(&phone()).await;
    let t = r.token.clone();
    let mut dev = Device::start(&a, &r).await;

    // A: an online item; B: a v2 push creating an item and selling both
    let x = a
        .post(
            "/api/business/items",
            Some(&t),
            json!({ "clientId": r.client_id, "name": "Bulb", "price": 50, "stock": 20 }),
        )
        .await;
    assert_eq!(x.status, 201, "{}", x.body);
    let x = x.body["item"]["_id"].as_str().unwrap().to_string();
    let (y_op, sale_op) = (uuid(), uuid());
    let push = json!({ "operations": [
        { "opId": y_op, "entity": "item", "kind": "create", "deviceTime": iso(real), "payload": { "name": "Fan", "price": 900, "stock": 4 } },
        { "opId": sale_op, "entity": "invoice", "kind": "create", "deviceTime": iso(real), "payload": {
            "products": [{ "productId": x, "quantity": 2, "costPerUnit": 50 }, { "productOpId": y_op, "quantity": 1, "costPerUnit": 900 }],
            "paidAmount": 500, "clientCustomerPhone": "9876500001", "clientCustomerName": "Ravi" } },
    ]});
    let p = b.post("/api/v2/sync/push", Some(&t), push).await;
    assert_eq!(p.body["summary"]["applied"], 2, "{}", p.body);
    let pushed_invoice = p.body["results"][1]["result"]["id"].as_str().unwrap().to_string();
    dev.pull_and_check(&b, &r, "after A's item and B's push").await;

    // A (5 minutes behind) sells online after B's pull; B takes a payment on A's invoice
    let sale = a
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&t),
            json!({ "clientId": r.client_id, "products": [{ "productId": x, "quantity": 1 }], "paidAmount": 10, "clientCustomerPhone": "9876500002" }),
        )
        .await;
    assert_eq!(sale.status, 201, "{}", sale.body);
    let online_invoice = sale.body["invoice"]["_id"].as_str().unwrap().to_string();
    dev.pull_and_check(&b, &r, "after A's online sale (stamped 5 minutes back)").await;
    let pay = b
        .post(
            "/api/business/invoices/pay",
            Some(&t),
            json!({ "clientId": r.client_id, "invoiceId": online_invoice, "amount": 20 }),
        )
        .await;
    assert_eq!(pay.status, 200, "{}", pay.body);
    let pay2 = a
        .post(
            "/api/business/invoices/pay",
            Some(&t),
            json!({ "clientId": r.client_id, "invoiceId": pushed_invoice, "amount": 100 }),
        )
        .await;
    assert_eq!(pay2.status, 200, "{}", pay2.body);
    dev.pull_and_check(&a, &r, "after payments on both").await;

    // A: a v2 push editing B's customer and the item; B: online customer, item edit and delete
    let cust = a.get(&format!("/api/business/client-customers/{}/9876500001", r.client_id), Some(&t)).await;
    let cust_id = cust.body["clientCustomer"]["_id"].as_str().map(str::to_string);
    let cust_id = cust_id.unwrap_or_else(|| panic!("customer: {}", cust.body));
    let push = json!({ "operations": [
        { "opId": uuid(), "entity": "customer", "kind": "update", "deviceTime": iso(minutes(real, -5)), "payload": { "id": cust_id, "name": "Ravi K" } },
        { "opId": uuid(), "entity": "item", "kind": "update", "deviceTime": iso(minutes(real, -5)), "payload": { "id": x, "stockDelta": 5 } },
    ]});
    let p = a.post("/api/v2/sync/push", Some(&t), push).await;
    assert_eq!(p.body["summary"]["applied"], 2, "{}", p.body);
    let c = b
        .post(
            "/api/business/client-customers",
            Some(&t),
            json!({ "clientId": r.client_id, "phone": "9876500003", "name": "Meena" }),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    let y = a.get(&format!("/api/v2/sync/pull?cursor={}", dev.cursor), Some(&t)).await;
    assert_eq!(y.status, 200);
    let e = b.put(&format!("/api/business/items/{}/{x}", r.client_id), Some(&t), json!({ "price": 55 })).await;
    assert_eq!(e.status, 200, "{}", e.body);
    let fan = stored(&a, &r.client_id)
        .await
        .into_iter()
        .find(|(k, d)| k.0 == "items" && d.get_str("name") == Ok("Fan"))
        .map(|(k, _)| k.1)
        .unwrap();
    let d = b.delete(&format!("/api/business/items/{}/{fan}", r.client_id), Some(&t)).await;
    assert_eq!(d.status, 200, "{}", d.body);
    dev.pull_and_check(&b, &r, "after edits and an online delete on both").await;

    // A: a v1 batch with a sale
    let v1 = json!({ "invoice": { "create": [{
        "products": [{ "productId": x, "itemName": "Bulb", "quantity": 1, "costPerUnit": 55 }],
        "paidAmount": 55, "deviceTime": iso(minutes(real, -6)),
    }]}});
    let s = post_keyed(&a.http, &a.base, "/api/sync", &t, &uuid(), &v1).await;
    assert_eq!(s.status, 200, "{}", s.body);
    dev.pull_and_check(&b, &r, "after a v1 batch on A").await;

    // a write that commits late: its transaction is open while B serves a pull (which does
    // not see it and answers a cursor below it); once committed, the next pull has it
    let item = oid(&x);
    let client = oid(&r.client_id);
    let ctx = (&a.state.db, &*b, t.as_str());
    let during = viveka::db::transaction(&a.state.client, &ctx, |s, (db, other, token)| {
        Box::pin(async move {
            let mv = viveka::catalog::stock::Move {
                client_id: client,
                item_id: item,
                delta: 7,
                allow_negative: true,
                reason: viveka::catalog::stock::Reason::Adjustment,
                ref_id: None,
            };
            let moved = viveka::catalog::stock::apply(db, s, &mv).await?;
            assert_eq!(moved, viveka::catalog::stock::Moved::Done);
            Ok(other.get("/api/v2/sync/pull?limit=50&cursor=0", Some(token)).await)
        })
    })
    .await
    .unwrap();
    assert_eq!(during.status, 200, "{}", during.body);
    let before_commit = during.body["nextCursor"].as_str().unwrap().to_string();
    assert_eq!(before_commit, dev.cursor, "the pull during the open transaction sees nothing new");
    let bulb = during.body["changes"].as_array().unwrap().iter().find(|c| c["id"] == x.as_str()).cloned().unwrap();
    dev.pull_and_check(&b, &r, "after a transaction that committed after a pull").await;
    assert_ne!(
        stored(&a, &r.client_id).await[&("items".to_string(), x.clone())].get_i64("stock").unwrap(),
        bulb["doc"]["stock"].as_i64().unwrap(),
        "the late stock move is newer than what the pull during it saw"
    );

    // from cursor 0, on either instance, in pages of 3: every document once, as stored now
    let now = stored(&a, &r.client_id).await;
    for app in [&a, &*b] {
        let (all, _) = pull_all(app, &t, "0", 3).await;
        assert_eq!(keys_once(&all), now.keys().cloned().collect::<HashSet<_>>());
        for c in &all {
            check_form(c, &now);
        }
    }
    // and the sequence never counted a change twice: one row per document
    let rows = a.count("syncchanges", doc! { "clientId": client }).await;
    assert_eq!(rows, now.len() as u64);
}
