//! The audit trail (issue 15): entries recorded with `viveka::audit::record` are never changed
//! or removed by any route (every mutating route of the live OpenAPI document is called with
//! the entries' ids), and `GET /api/audit` filters, pages, exports CSV and shows only the
//! token's shop.

use std::collections::BTreeMap;

use bson::{doc, oid::ObjectId, DateTime, Document};
use futures::TryStreamExt;
use reqwest::Method;
use serde_json::{json, Map, Value};
use viveka::audit::{self, Action, Approver, Entry, Who};

use crate::{
    catalog::{group, item},
    customers::customer,
    helpers::{phone, Registered, TestApp},
};

fn oid(s: &str) -> ObjectId {
    ObjectId::parse_str(s).unwrap()
}

/// An instant from an RFC 3339 text.
fn at(s: &str) -> DateTime {
    DateTime::parse_rfc3339_str(s).unwrap()
}

fn cashier(n: &str) -> Who {
    Who::new(n, format!("Cashier {n}"), "cashier").session(ObjectId::new().to_hex()).device("phone-2")
}

async fn record(app: &TestApp, e: &Entry) {
    audit::record(&app.db, None, e).await.unwrap();
}

/// Every stored audit document, by id.
async fn all_entries(app: &TestApp) -> BTreeMap<ObjectId, Document> {
    let docs: Vec<Document> =
        app.db.collection::<Document>("auditlog").find(doc! {}).await.unwrap().try_collect().await.unwrap();
    docs.into_iter().map(|d| (d.get_object_id("_id").unwrap(), d)).collect()
}

/// A few entries of every shape for `shop`, about `entity_id` (a real document of the shop).
async fn seed_entries(app: &TestApp, shop: &Registered, entity_id: &str) -> Vec<Entry> {
    let c = oid(&shop.client_id);
    let owner = Who::new(&shop.client_id, "Asha Rao", "super_admin").session(&shop.session_id).device("phone-1");
    let entries = vec![
        Entry::builder(c, owner.clone(), Action::Login, "devicesessions").entity_id(&shop.session_id).build().unwrap(),
        Entry::builder(c, owner.clone(), Action::PriceChanged, "items")
            .entity_id(entity_id)
            .changes(audit::changes(&json!({ "price": 5000 }), &json!({ "price": 5500 }), &["price", "mrp"]))
            .build()
            .unwrap(),
        Entry::builder(c, cashier("u2"), Action::StockAdjusted, "items")
            .entity_id(entity_id)
            .changes(vec![audit::Change::new("stock", json!(10), json!(7))])
            .reason("three broken in transit")
            .approver(Approver::new(&shop.client_id, "Asha Rao", "super_admin"))
            .build()
            .unwrap(),
        Entry::builder(c, cashier("u2"), Action::OfflineUnapproved, "invoices")
            .entity_id(ObjectId::new().to_hex())
            .reason("discount 20% offline")
            .build()
            .unwrap(),
    ];
    for e in &entries {
        record(app, e).await;
    }
    entries
}

/// A body with a value for each property of the operation's JSON schema: ids (`...Id`, `id`,
/// `_id`) and id lists (`...Ids`) name `target`, `clientId` the caller's shop.
fn schema_body(doc: &Value, op: &Value, target: &str, client: &str) -> Option<Value> {
    let schema = op.pointer("/requestBody/content/application~1json/schema")?;
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(&format!("/components/schemas/{}", r.rsplit('/').next()?))?,
        None => schema,
    };
    let mut body = Map::new();
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for p in props.keys() {
            let v = if p == "clientId" {
                json!(client)
            } else if p.ends_with("Ids") {
                json!([target])
            } else if p.ends_with("Id") || p == "id" || p == "_id" {
                json!(target)
            } else {
                continue;
            };
            body.insert(p.clone(), v);
        }
    }
    Some(Value::Object(body))
}

/// Issue 15: "a test proves no route can change it". Every mutating route of the OpenAPI
/// document (public or not) is called twice: with every id in its path and body naming an
/// audit entry (plus `auditlog` as entity/collection), and with the path ids naming the real
/// documents the entries are about. Afterwards every entry recorded before is still stored,
/// byte for byte. (New entries may appear: routes record events.)
#[tokio::test]
async fn no_route_changes_or_removes_an_audit_entry() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let b = app.register(&phone()).await;
    let g = group(&app, &a, "Lights").await["_id"].as_str().unwrap().to_string();
    let it = item(&app, &a, json!({ "name": "Bulb", "price": 50, "stock": 10, "groupId": g })).await["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let cu = customer(&app, &a, json!({ "phone": phone(), "name": "Ravi" })).await["clientCustomer"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let b_item = item(&app, &b, json!({ "name": "Tube", "price": 120 })).await["_id"].as_str().unwrap().to_string();
    let mine = seed_entries(&app, &a, &it).await;
    let theirs = seed_entries(&app, &b, &b_item).await;
    let before = all_entries(&app).await;
    assert_eq!(before.len(), mine.len() + theirs.len());
    let target = mine[2].id().to_hex();
    let real: BTreeMap<&str, &str> = BTreeMap::from([
        ("clientId", a.client_id.as_str()),
        ("itemId", it.as_str()),
        ("groupId", g.as_str()),
        ("clientCustomerId", cu.as_str()),
    ]);

    let doc = app.get("/api/openapi.json", None).await.body;
    let mut routes: Vec<(String, String, Value)> = vec![];
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (m, op) in ops.as_object().unwrap() {
            if ["post", "put", "patch", "delete"].contains(&m.as_str()) {
                routes.push((m.clone(), path.clone(), op.clone()));
            }
        }
    }
    // session-ending routes last, so the others run with a live token
    routes.sort_by_key(|(_, p, _)| p.contains("logout"));
    assert!(routes.len() > 30, "{} mutating routes", routes.len());

    let mut token = a.token.clone();
    let mut reached = 0;
    let param = regex::Regex::new(r"\{([^}]+)\}").unwrap();
    for (m, path, op) in &routes {
        let method = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
        let by_entry = param
            .replace_all(
                path,
                |c: &regex::Captures| {
                    if &c[1] == "clientId" {
                        a.client_id.clone()
                    } else {
                        target.clone()
                    }
                },
            )
            .to_string();
        let by_document = param
            .replace_all(path, |c: &regex::Captures| real.get(&c[1]).map_or(target.clone(), |v| v.to_string()))
            .to_string();
        let body = schema_body(&doc, op, &target, &a.client_id);
        let mut with_extras = body.clone().unwrap_or_else(|| json!({}));
        for (k, v) in
            [("_id", &target), ("id", &target), ("entity", &"auditlog".into()), ("collection", &"auditlog".into())]
        {
            with_extras[k] = json!(v);
        }
        for (url, body) in [(&by_entry, body.clone()), (&by_entry, Some(with_extras)), (&by_document, body)] {
            let r = app.raw(method.clone(), url, Some(&token), body.as_ref()).await;
            if r.status != 401 {
                reached += 1;
            }
            assert!(r.status.as_u16() < 500, "{m} {url}: {} {}", r.status, r.body);
            // a route that ended the session: log in again so the next routes run
            if app.get("/api/audit", Some(&token)).await.status == 401 {
                let l = app.login_otp(&a.phone, "phone-1").await;
                assert_eq!(l.status, 200, "{}", l.body);
                token = l.body["token"].as_str().unwrap().to_string();
            }
        }
    }
    assert!(reached >= routes.len() * 2, "only {reached} calls got past the token check");

    // the sync doors, naming the audit log and its entries explicitly
    let t = Some(token.as_str());
    let v1 = json!({ "auditlog": { "update": [{ "_id": target, "reason": "x" }], "delete": [target] },
        "item": { "update": [{ "_id": target, "price": 1 }], "delete": [target] } });
    let r = app.post("/api/sync", t, v1).await;
    assert!(r.status.as_u16() < 500, "{}", r.body);
    let ops: Vec<Value> = ["auditlog", "audit", "item", "customer"]
        .iter()
        .flat_map(|e| {
            ["update", "delete"].map(|k| {
                json!({ "opId": uuid::Uuid::new_v4().to_string(), "entity": e, "kind": k,
                    "payload": { "id": target, "reason": "rewritten", "flagged": false } })
            })
        })
        .collect();
    let r = app.post("/api/v2/sync/push", t, json!({ "operations": ops })).await;
    assert!(r.status.as_u16() < 500, "{}", r.body);

    let after = all_entries(&app).await;
    for (id, d) in &before {
        assert_eq!(after.get(id), Some(d), "audit entry {id} changed or disappeared");
    }
}

/// A shop with 5 entries of distinct users, actions, entities, times and flags (newest last).
async fn filter_fixture(app: &TestApp) -> (Registered, Vec<Entry>) {
    let shop = app.register(&phone()).await;
    let c = oid(&shop.client_id);
    let e = vec![
        Entry::builder(c, cashier("u1"), Action::Login, "devicesessions").at(at("2026-03-01T04:30:00Z")).build(),
        Entry::builder(c, cashier("u2"), Action::PriceChanged, "items")
            .entity_id("item-1")
            .changes(audit::changes(&json!({ "price": 100 }), &json!({ "price": 120 }), &["price"]))
            .at(at("2026-03-02T06:00:00Z"))
            .build(),
        // 3 March 00:10 IST: 2 March in UTC, 3 March for the shop
        Entry::builder(c, cashier("u2"), Action::StockAdjusted, "items")
            .entity_id("item-1")
            .reason("recount")
            .at(at("2026-03-02T18:40:00Z"))
            .build(),
        Entry::builder(c, cashier("u1"), Action::PriceChanged, "items")
            .entity_id("item-2")
            .at(at("2026-03-04T05:00:00Z"))
            .build(),
        Entry::builder(c, cashier("u1"), Action::OfflineUnapproved, "invoices")
            .entity_id("inv-1")
            .at(at("2026-03-05T05:00:00Z"))
            .build(),
    ];
    let e: Vec<Entry> = e.into_iter().map(Result::unwrap).collect();
    for x in &e {
        record(app, x).await;
    }
    (shop, e)
}

fn ids_of(r: &crate::helpers::Resp) -> Vec<String> {
    r.body["entries"].as_array().unwrap().iter().map(|e| e["_id"].as_str().unwrap().to_string()).collect()
}

fn expect(e: &[Entry], picks: &[usize]) -> Vec<String> {
    picks.iter().map(|i| e[*i].id().to_hex()).collect()
}

#[tokio::test]
async fn filters_select_entries_newest_first_in_india_days() {
    let app = TestApp::spawn().await;
    let (shop, e) = filter_fixture(&app).await;
    let t = Some(shop.token.as_str());
    for (query, picks) in [
        ("", vec![4, 3, 2, 1, 0]),
        ("userId=u2", vec![2, 1]),
        ("entity=items", vec![3, 2, 1]),
        ("entity=items&entityId=item-1", vec![2, 1]),
        ("entityId=item-2", vec![3]),
        ("action=price_changed", vec![3, 1]),
        ("action=price_changed&userId=u1", vec![3]),
        ("flagged=true", vec![4]),
        ("flagged=false", vec![3, 2, 1, 0]),
        // India days: the 18:40 UTC entry of 2 March is on 3 March
        ("from=2026-03-03&to=2026-03-03", vec![2]),
        ("to=2026-03-02", vec![1, 0]),
        ("from=2026-03-02&to=2026-03-04", vec![3, 2, 1]),
        ("from=2026-03-06", vec![]),
        ("userId=nobody", vec![]),
    ] {
        let r = app.get(&format!("/api/audit?{query}"), t).await;
        assert_eq!(r.status, 200, "{query}: {}", r.body);
        assert_eq!(ids_of(&r), expect(&e, &picks), "{query}");
        assert_eq!(r.body["pagination"]["total"], json!(picks.len()), "{query}");
    }
    // the answer's shape: who, changes, reason, flagged
    let r = app.get("/api/audit?entity=items&entityId=item-1", t).await;
    let adj = &r.body["entries"][0];
    assert_eq!(adj["action"], "stock_adjusted");
    assert_eq!(adj["reason"], "recount");
    assert_eq!(adj["at"], "2026-03-02T18:40:00.000Z");
    assert_eq!(adj["who"]["userId"], "u2");
    assert_eq!(adj["who"]["role"], "cashier");
    assert_eq!(adj["who"]["deviceId"], "phone-2");
    assert_eq!(adj["clientId"], shop.client_id.as_str());
    assert_eq!(adj["flagged"], false);
    let price = &r.body["entries"][1];
    assert_eq!(price["changes"], json!([{ "field": "price", "before": 100, "after": 120 }]));
    assert!(price.get("reason").is_none() && price.get("approver").is_none(), "{price}");
    let flagged = app.get("/api/audit?flagged=true", t).await;
    assert_eq!(flagged.body["entries"][0]["action"], "offline_unapproved");
    assert_eq!(flagged.body["entries"][0]["flagged"], true);
}

#[tokio::test]
async fn pages_are_stable_and_count_the_whole_filter() {
    let app = TestApp::spawn().await;
    let shop = app.register(&phone()).await;
    let c = oid(&shop.client_id);
    let same = at("2026-04-01T10:00:00Z");
    for i in 0..9 {
        // three entries share each instant: the order must still be total
        let t = DateTime::from_millis(same.timestamp_millis() + (i / 3) * 60_000);
        record(&app, &Entry::builder(c, cashier("u1"), Action::Logout, "devicesessions").at(t).build().unwrap()).await;
    }
    let t = Some(shop.token.as_str());
    let all = app.get("/api/audit", t).await;
    let full = ids_of(&all);
    assert_eq!(full.len(), 9);
    let mut paged = vec![];
    for offset in [0, 4, 8] {
        let r = app.get(&format!("/api/audit?limit=4&offset={offset}"), t).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let p = &r.body["pagination"];
        assert_eq!((p["total"].as_i64(), p["limit"].as_i64(), p["offset"].as_i64()), (Some(9), Some(4), Some(offset)));
        assert_eq!(p["hasMore"], json!(offset + 4 < 9));
        paged.extend(ids_of(&r));
    }
    assert_eq!(paged, full, "pages concatenate to the full list, newest first");
    let times: Vec<&str> = all.body["entries"].as_array().unwrap().iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|x, y| y.cmp(x));
    assert_eq!(times, sorted);
}

/// RFC 4180 records (quoted fields may hold commas, quotes and line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (vec![], vec![], String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(field.is_empty() && row.is_empty(), "the last record ends with CRLF");
    rows
}

#[tokio::test]
async fn csv_streams_every_matching_entry_with_rfc4180_quoting() {
    let app = TestApp::spawn().await;
    let (shop, e) = filter_fixture(&app).await;
    let c = oid(&shop.client_id);
    let tricky = "broken, \"cracked\"\nand =wet";
    let odd = Entry::builder(c, cashier("u3"), Action::InvoiceCancelled, "invoices")
        .entity_id("inv-9")
        .reason(tricky)
        .changes(vec![audit::Change::new("status", json!("paid"), json!("cancelled"))])
        .approver(Approver::new("m1", "Meena", "manager"))
        .at(at("2026-03-06T05:00:00Z"))
        .build()
        .unwrap();
    record(&app, &odd).await;
    let t = Some(shop.token.as_str());
    // limit does not cut the export: CSV streams every matching entry
    let r = app.get("/api/audit?format=csv&limit=1", t).await;
    assert_eq!(r.status, 200);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(r.headers["content-disposition"].to_str().unwrap().contains("audit.csv"));
    let text = r.body.as_str().unwrap();
    assert!(text.ends_with("\r\n"));
    let rows = parse_csv(text);
    assert_eq!(
        rows[0],
        "at,userId,userName,role,sessionId,deviceId,action,entity,entityId,changes,reason,approverId,approverName,approverRole,flagged,id"
            .split(',')
            .collect::<Vec<_>>()
    );
    assert_eq!(rows.len(), 1 + 6);
    let first = &rows[1];
    assert_eq!(first[0], "2026-03-06T05:00:00.000Z");
    assert_eq!(first[1..4], ["u3", "Cashier u3", "cashier"]);
    assert_eq!(first[6..9], ["invoice_cancelled", "invoices", "inv-9"]);
    let changes: Value = serde_json::from_str(&first[9]).unwrap();
    assert_eq!(changes, json!([{ "field": "status", "before": "paid", "after": "cancelled" }]));
    assert_eq!(first[10], tricky);
    assert_eq!(first[11..15], ["m1", "Meena", "manager", "false"]);
    assert_eq!(first[15], odd.id().to_hex());
    let ids: Vec<&str> = rows[1..].iter().map(|r| r[15].as_str()).collect();
    let mut want = vec![odd.id().to_hex()];
    want.extend(expect(&e, &[4, 3, 2, 1, 0]));
    assert_eq!(ids, want);
    // filters apply to CSV too; Accept: text/csv works without `format`
    let r = app
        .http
        .get(format!("{}/api/audit?flagged=true", app.base))
        .bearer_auth(&shop.token)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rows = parse_csv(&r.text().await.unwrap());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][15], e[4].id().to_hex());
    assert_eq!(rows[1][14], "true");
    // a formula-looking field is defused
    let f = Entry::builder(c, Who::new("=cmd()", "x", "cashier"), Action::Login, "devicesessions").build().unwrap();
    record(&app, &f).await;
    let r = app.get("/api/audit?format=csv&action=login&userId=%3Dcmd()", t).await;
    assert_eq!(parse_csv(r.body.as_str().unwrap())[1][1], "'=cmd()");
}

#[tokio::test]
async fn a_shop_sees_only_its_own_entries() {
    let app = TestApp::spawn().await;
    let (a, ea) = filter_fixture(&app).await;
    let (b, eb) = filter_fixture(&app).await;
    let r = app.get("/api/audit", Some(&a.token)).await;
    assert_eq!(ids_of(&r), expect(&ea, &[4, 3, 2, 1, 0]));
    let text = r.body.to_string();
    assert!(!text.contains(&b.client_id));
    for x in &eb {
        assert!(!text.contains(&x.id().to_hex()), "B's entry leaked");
    }
    // B's ids as filters find nothing; B's clientId in the query is refused
    let r = app.get(&format!("/api/audit?entityId={}", eb[0].id().to_hex()), Some(&a.token)).await;
    assert_eq!(r.body["entries"], json!([]));
    let r = app.get(&format!("/api/audit?clientId={}", b.client_id), Some(&a.token)).await;
    r.assert_envelope(403);
    let csv = app.get("/api/audit?format=csv", Some(&a.token)).await;
    let csv = csv.body.as_str().unwrap();
    assert_eq!(parse_csv(csv).len(), 1 + ea.len());
    assert!(!csv.contains(&b.client_id) && !eb.iter().any(|x| csv.contains(&x.id().to_hex())));
    // no token: 401
    app.get("/api/audit", None).await.assert_envelope(401);
}

#[tokio::test]
async fn bad_filters_are_400_naming_each_parameter() {
    let app = TestApp::spawn().await;
    let shop = app.register(&phone()).await;
    let t = Some(shop.token.as_str());
    for (query, field) in [
        ("from=yesterday", "query.from"),
        ("to=2026-02-30", "query.to"),
        ("from=2026-05-02&to=2026-05-01", "query.from"),
        ("action=delete_everything", "query.action"),
        ("action=Login", "query.action"),
        ("flagged=maybe", "query.flagged"),
        ("limit=0", "query.limit"),
        ("offset=-1", "query.offset"),
        ("entity=items%7D", "query.entity"),
        ("format=xml", "query.format"),
    ] {
        let r = app.get(&format!("/api/audit?{query}"), t).await;
        r.assert_envelope(400);
        assert!(r.errors().contains(field), "{query}: {}", r.errors());
    }
    let long = "x".repeat(101);
    let r = app.get(&format!("/api/audit?userId={long}&entityId={long}&flagged=1"), t).await;
    r.assert_envelope(400);
    for f in ["query.userId", "query.entityId", "query.flagged"] {
        assert!(r.errors().contains(f), "{}", r.errors());
    }
}

/// The four actions that need a reason refuse an entry without one, as a 400 `VALIDATION_ERROR`
/// naming `reason` in the envelope the callers' routes will answer.
#[tokio::test]
async fn a_missing_reason_where_required_is_a_400_naming_reason() {
    use axum::response::IntoResponse;
    let c = ObjectId::new();
    for a in [Action::InvoiceCancelled, Action::PriceOverride, Action::DiscountOverCap, Action::StockAdjusted] {
        for reason in [None, Some("   ")] {
            let err = Entry::builder(c, cashier("u1"), a, "invoices").reason_opt(reason).build().unwrap_err();
            let res = viveka::error::AppError::from(err).into_response();
            assert_eq!(res.status(), 400);
            let body = axum::body::to_bytes(res.into_body(), 1 << 16).await.unwrap();
            let body: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["code"], "VALIDATION_ERROR");
            assert_eq!(body["errors"], json!([format!("reason: is required for {a}")]));
        }
    }
}

/// `record` with a session writes inside the caller's transaction: an aborted transaction
/// leaves no entry, a committed one leaves exactly the entry.
#[tokio::test]
async fn an_entry_commits_or_aborts_with_the_callers_transaction() {
    let app = TestApp::spawn().await;
    let shop = app.register(&phone()).await;
    let c = oid(&shop.client_id);
    let aborted = Entry::builder(c, cashier("u1"), Action::SettingsChanged, "clients").build().unwrap();
    let r: Result<(), viveka::error::AppError> =
        viveka::db::transaction(&app.state.client, &(app.db.clone(), aborted.clone()), |s, (db, e)| {
            Box::pin(async move {
                audit::record(db, Some(s), e).await?;
                Err(viveka::error::AppError::bad_request("the change it describes failed"))
            })
        })
        .await;
    assert!(r.is_err());
    let kept = Entry::builder(c, cashier("u1"), Action::SettingsChanged, "clients").build().unwrap();
    viveka::db::transaction(&app.state.client, &(app.db.clone(), kept.clone()), |s, (db, e)| {
        Box::pin(async move { audit::record(db, Some(s), e).await })
    })
    .await
    .unwrap();
    let stored = all_entries(&app).await;
    assert!(!stored.contains_key(&aborted.id()), "an aborted transaction left its entry");
    let d = &stored[&kept.id()];
    assert_eq!(d.get_str("action").unwrap(), "settings_changed");
    assert_eq!(d.get_object_id("clientId").unwrap(), c);
}

/// The route declares the permission the guard reads (`x-permission: audit_view`), its filters
/// and both answers (JSON and CSV) in the OpenAPI document.
#[tokio::test]
async fn the_document_declares_the_route_its_permission_and_filters() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/openapi.json", None).await.body;
    let op = &doc["paths"]["/api/audit"]["get"];
    assert_eq!(op["x-permission"], "audit_view", "{op}");
    assert!(op.get("security").is_some());
    let params: Vec<&str> = op["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    for p in ["from", "to", "userId", "entity", "entityId", "action", "flagged", "limit", "offset", "format"] {
        assert!(params.contains(&p), "{p} missing: {params:?}");
    }
    let content = &op["responses"]["200"]["content"];
    assert!(content.get("application/json").is_some() && content.get("text/csv").is_some(), "{content}");
    // every action of the enum is documented
    let actions = &doc["components"]["schemas"]["AuditAction"]["enum"];
    for a in Action::ALL {
        assert!(actions.as_array().is_some_and(|v| v.contains(&json!(a.as_str()))), "{a} not in {actions}");
    }
}
