//! Offline sync (issue 7) on the real replica set.

use std::collections::HashSet;

use bson::{doc, oid::ObjectId, Document};
use serde_json::{json, Value};

use crate::{
    billing::seed_item,
    helpers::{phone, post_keyed, TestApp},
};

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339()
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn v1_sync_is_exactly_once_under_20_concurrent_retries() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let item = seed_item(&app, &a.client_id, "Bulb", 5000, 10).await;
    let body = json!({ "invoice": { "create": [{
        "products": [{ "productId": item, "itemName": "Bulb", "quantity": 2, "costPerUnit": 50 }],
        "paidAmount": 100, "deviceRef": "DEV-1", "deviceTime": now_iso(),
    }]}});
    let key = uuid();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (http, base, token, key, body) =
            (app.http.clone(), app.base.clone(), a.token.clone(), key.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(format!("{base}/api/sync"))
                .bearer_auth(token)
                .header("X-Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let cid = ObjectId::parse_str(&a.client_id).unwrap();
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 1);
    assert_eq!(app.count("payments", doc! { "clientId": cid }).await, 1);
    assert_eq!(app.count("stockmovements", doc! { "clientId": cid, "reason": "sale" }).await, 1);
    let stored: Document =
        app.db.collection("idempotencykeys").find_one(doc! { "clientId": cid }).await.unwrap().unwrap();
    let stored: Value = serde_json::from_str(stored.get_str("response").unwrap()).unwrap();
    for (status, body) in &answers {
        assert!(*status == 200 || *status == 409, "{status} {body}");
        if *status == 200 {
            assert_eq!(body, &stored);
        }
    }
    assert!(answers.iter().any(|(s, _)| *s == 200));
    let inv = &stored["data"]["invoices"][0];
    assert_eq!(inv["deviceRef"], "DEV-1");
    assert!(inv["invoiceNumber"].as_str().unwrap().starts_with("INV/"));
    assert_eq!(inv["paidAmount"], 100);

    // same key, different body: 422, nothing applied
    let mut other = body.clone();
    other["invoice"]["create"][0]["paidAmount"] = json!(50);
    let r = post_keyed(&app.http, &app.base, "/api/sync", &a.token, &key, &other).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 1);

    // another client reusing the key gets its own result
    let b = app.register(&phone()).await;
    let r = post_keyed(&app.http, &app.base, "/api/sync", &b.token, &key, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["invoices"].as_array().unwrap().len(), 0);

    // 8 days later (the record's clock moved back): still deduplicated
    let eight = 8 * 86_400_000;
    let rec: Document = app.db.collection("idempotencykeys").find_one(doc! { "clientId": cid }).await.unwrap().unwrap();
    let created = rec.get_datetime("createdAt").unwrap().timestamp_millis() - eight;
    let expires = rec.get_datetime("expiresAt").unwrap().timestamp_millis() - eight;
    app.db
        .collection::<Document>("idempotencykeys")
        .update_one(
            doc! { "_id": rec.get_object_id("_id").unwrap() },
            doc! { "$set": { "createdAt": bson::DateTime::from_millis(created), "expiresAt": bson::DateTime::from_millis(expires) } },
        )
        .await
        .unwrap();
    let r = post_keyed(&app.http, &app.base, "/api/sync", &a.token, &key, &body).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, stored);
    assert_eq!(r.headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 1);
}

#[tokio::test]
async fn v1_sync_rejects_foreign_items_and_stale_dates_without_writing() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let b = app.register(&phone()).await;
    let foreign = seed_item(&app, &b.client_id, "Theirs", 100, 5).await;
    let r = app
        .post(
            "/api/sync",
            Some(&a.token),
            json!({ "item": { "create": [{ "name": "Fan", "price": 10 }] }, "invoice": { "create": [{
                "products": [{ "productId": foreign, "itemName": "x", "quantity": 1, "costPerUnit": 1 }] }] } }),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let cid = ObjectId::parse_str(&a.client_id).unwrap();
    assert_eq!(app.count("items", doc! { "clientId": cid }).await, 0, "the whole batch is rolled back");
    let old = (chrono::Utc::now() - chrono::Duration::days(40)).to_rfc3339();
    let r = app
        .post(
            "/api/sync",
            Some(&a.token),
            json!({ "invoice": { "create": [{ "deviceTime": old,
                "products": [{ "itemName": "New thing", "quantity": 1, "costPerUnit": 1 }] }] } }),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(app.count("items", doc! { "clientId": cid }).await, 0);
    // an unknown product without productId is auto-created with the client's data
    let r = app
        .post(
            "/api/sync",
            Some(&a.token),
            json!({ "invoice": { "create": [{ "products": [{ "itemName": "New thing", "quantity": 1, "costPerUnit": 7 }] }] } }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["summary"]["itemsCreated"], 1);
    assert_eq!(r.body["truncated"], false);
    assert_eq!(r.body["incrementalPull"], "/api/v2/sync/pull");
}

fn ops_for(item: &str) -> (Vec<Value>, String) {
    let inv_op = uuid();
    let ops = vec![
        json!({ "opId": uuid(), "entity": "item", "kind": "create", "deviceTime": now_iso(), "payload": { "name": "Switch", "price": 20, "stock": 3 } }),
        json!({ "opId": uuid(), "entity": "item", "kind": "update", "deviceTime": now_iso(), "payload": { "id": item, "price": 55, "stockDelta": 4 } }),
        json!({ "opId": inv_op.clone(), "entity": "invoice", "kind": "create", "deviceTime": now_iso(), "payload": {
            "products": [{ "productId": item, "quantity": 1 }], "deviceRef": "D-7", "clientCustomerPhone": "9876500001" } }),
        json!({ "opId": uuid(), "entity": "payment", "kind": "create", "deviceTime": now_iso(), "payload": { "invoiceOpId": inv_op, "amount": 20 } }),
        json!({ "opId": uuid(), "entity": "customer", "kind": "create", "deviceTime": now_iso(), "payload": { "phoneNumber": "9876500002", "name": "Ravi" } }),
    ];
    (ops, inv_op)
}

#[tokio::test]
async fn v2_push_replayed_in_random_order_applies_each_once_and_pull_sees_it() {
    use rand::seq::SliceRandom;
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let item = seed_item(&app, &a.client_id, "Bulb", 5000, 10).await;
    let (ops, _) = ops_for(&item);
    let first = app.post("/api/v2/sync/push", Some(&a.token), json!({ "operations": ops })).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["summary"]["applied"], 5, "{}", first.body);
    let mut rng = rand::thread_rng();
    for _ in 0..5 {
        let mut shuffled = ops.clone();
        shuffled.shuffle(&mut rng);
        let r = app.post("/api/v2/sync/push", Some(&a.token), json!({ "operations": shuffled })).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["summary"]["duplicate"], 5, "{}", r.body);
        for res in r.body["results"].as_array().unwrap() {
            let orig = first.body["results"].as_array().unwrap().iter().find(|o| o["opId"] == res["opId"]).unwrap();
            assert_eq!(res["result"], orig["result"]);
        }
    }
    let cid = ObjectId::parse_str(&a.client_id).unwrap();
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 1);
    assert_eq!(app.count("payments", doc! { "clientId": cid }).await, 1);
    assert_eq!(app.count("items", doc! { "clientId": cid }).await, 2);
    let it: Document = app
        .db
        .collection("items")
        .find_one(doc! { "_id": ObjectId::parse_str(&item).unwrap() })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(it.get_i64("stock").unwrap(), 10 + 4 - 1, "stock moved by deltas only");

    // pull: everything, then a delete shows as a tombstone
    let p = app.get("/api/v2/sync/pull", Some(&a.token)).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let cursor = p.body["nextCursor"].as_str().unwrap().to_string();
    assert_eq!(p.body["appliedOps"].as_array().unwrap().len(), 5);
    let colls: HashSet<String> =
        p.body["changes"].as_array().unwrap().iter().map(|c| c["collection"].as_str().unwrap().to_string()).collect();
    for c in ["items", "invoices", "payments", "clientCustomers"] {
        assert!(colls.contains(c), "{c} in {colls:?}");
    }
    let del = json!({ "operations": [{ "opId": uuid(), "entity": "item", "kind": "delete", "deviceTime": now_iso(), "payload": { "id": item } }] });
    assert_eq!(app.post("/api/v2/sync/push", Some(&a.token), del).await.body["summary"]["applied"], 1);
    let p2 = app.get(&format!("/api/v2/sync/pull?cursor={cursor}"), Some(&a.token)).await;
    let ch = p2.body["changes"].as_array().unwrap();
    assert_eq!(ch.len(), 1, "{}", p2.body);
    assert_eq!(ch[0]["op"], "delete");
    assert_eq!(ch[0]["id"], item);
    let p3 =
        app.get(&format!("/api/v2/sync/pull?cursor={}", p2.body["nextCursor"].as_str().unwrap()), Some(&a.token)).await;
    assert_eq!(p3.body["changes"].as_array().unwrap().len(), 0);
    assert_eq!(p3.body["hasMore"], false);

    // a write through the online endpoints reaches the next pull too
    let online = app
        .post(
            "/api/business/items",
            Some(&a.token),
            json!({ "clientId": a.client_id, "name": "Online item", "price": 3 }),
        )
        .await;
    assert_eq!(online.status, 201, "{}", online.body);
    let p4 =
        app.get(&format!("/api/v2/sync/pull?cursor={}", p3.body["nextCursor"].as_str().unwrap()), Some(&a.token)).await;
    let ch = p4.body["changes"].as_array().unwrap();
    assert_eq!(ch.len(), 1, "{}", p4.body);
    assert_eq!(ch[0]["doc"]["name"], "Online item");
    let p5 =
        app.get(&format!("/api/v2/sync/pull?cursor={}", p4.body["nextCursor"].as_str().unwrap()), Some(&a.token)).await;
    assert_eq!(p5.body["changes"].as_array().unwrap().len(), 0, "{}", p5.body);
}

#[tokio::test]
async fn v2_bad_input_is_rejected_per_op_or_4xx_and_writes_nothing_for_it() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let b = app.register(&phone()).await;
    let foreign = seed_item(&app, &b.client_id, "Theirs", 100, 5).await;
    let ops = json!({ "operations": [
        { "opId": uuid(), "entity": "spaceship", "kind": "create", "deviceTime": now_iso(), "payload": {} },
        { "opId": uuid(), "entity": "item", "kind": "update", "deviceTime": now_iso(), "payload": { "id": foreign, "price": 1 } },
        { "opId": uuid(), "entity": "item", "kind": "create", "deviceTime": now_iso(), "payload": { "name": "X" } },
        { "opId": uuid(), "entity": "invoice", "kind": "create", "deviceTime": now_iso(), "payload": { "products": [{ "productId": foreign, "quantity": 1 }] } },
        { "opId": uuid(), "entity": "invoice", "kind": "delete", "deviceTime": now_iso(), "payload": {} },
        { "opId": uuid(), "entity": "item", "kind": "create", "deviceTime": now_iso(), "payload": { "name": "Good one", "price": 5 } },
    ]});
    let r = app.post("/api/v2/sync/push", Some(&a.token), ops).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["summary"]["rejected"], 5, "{}", r.body);
    assert_eq!(r.body["summary"]["applied"], 1, "{}", r.body);
    let cid = ObjectId::parse_str(&a.client_id).unwrap();
    assert_eq!(app.count("items", doc! { "clientId": cid }).await, 1);
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 0);
    let fid = ObjectId::parse_str(&foreign).unwrap();
    let f: Document = app.db.collection("items").find_one(doc! { "_id": fid }).await.unwrap().unwrap();
    assert_eq!(f.get_i64("price").unwrap(), 100);
    let rej = app.get("/api/v2/sync/rejected", Some(&a.token)).await;
    assert_eq!(rej.body["rejected"].as_array().unwrap().len(), 5, "{}", rej.body);

    // no opId: 400; too many: 413
    let r = app.post("/api/v2/sync/push", Some(&a.token), json!({ "operations": [{ "entity": "item" }] })).await;
    assert_eq!(r.status, 400);
    let many: Vec<Value> = (0..1001).map(|_| json!({ "opId": uuid() })).collect();
    let r = app.post("/api/v2/sync/push", Some(&a.token), json!({ "operations": many })).await;
    assert_eq!(r.status, 413);
}

#[tokio::test]
async fn v2_pull_pages_10000_changes_without_loss_or_repeat() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let mut expected = HashSet::new();
    for _ in 0..10 {
        let ops: Vec<Value> = (0..1000)
            .map(|i| json!({ "opId": uuid(), "entity": "item", "kind": "create", "deviceTime": now_iso(), "payload": { "name": format!("Item {i}"), "price": 1 } }))
            .collect();
        let r = app.post("/api/v2/sync/push", Some(&a.token), json!({ "operations": ops })).await;
        assert_eq!(r.body["summary"]["applied"], 1000, "{}", r.body);
        for res in r.body["results"].as_array().unwrap() {
            expected.insert(res["result"]["id"].as_str().unwrap().to_string());
        }
    }
    let mut seen = HashSet::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let p = app.get(&format!("/api/v2/sync/pull?limit=700&cursor={cursor}"), Some(&a.token)).await;
        assert_eq!(p.status, 200, "{}", p.body);
        for c in p.body["changes"].as_array().unwrap() {
            assert!(seen.insert(c["id"].as_str().unwrap().to_string()), "repeated {}", c["id"]);
        }
        cursor = p.body["nextCursor"].as_str().unwrap().to_string();
        pages += 1;
        if p.body["hasMore"] == false {
            break;
        }
    }
    assert_eq!(seen, expected);
    assert!(pages >= 15);
}

struct Server {
    child: tokio::process::Child,
}

/// The real server binary (`viveka serve`), built by cargo for these tests.
fn server_exe() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_viveka"))
}

async fn start_server(db_name: &str, port: u16) -> Server {
    let child = tokio::process::Command::new(server_exe())
        .arg("serve")
        .env("MONGO_URL", crate::helpers::mongo_url())
        .env("MONGO_DB_NAME", db_name)
        .env("PORT", port.to_string())
        .env("JWT_SECRET", crate::helpers::JWT_SECRET)
        .env("APP_ENV", "development")
        .env("OTP_PROVIDER", "console")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server binary");
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = http.get(format!("http://127.0.0.1:{port}/api/health")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    Server { child }
}

/// The real server binary is SIGKILLed at random moments while a retrying client sends 200
/// pushes; after restarts and retries every operation is applied exactly once and no push is
/// half-applied.
#[tokio::test]
async fn crash_test_sigkill_during_200_pushes_applies_each_op_exactly_once() {
    use rand::Rng;
    use std::sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    };
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let item = seed_item(&app, &a.client_id, "Bulb", 1000, 1000).await;
    let db_name = app.db.name().to_string();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    // start once so migrations are applied before the clients begin
    let server = start_server(&db_name, port).await;

    let pushes: Vec<Value> = (0..200)
        .map(|i| {
            json!({ "operations": [
                { "opId": uuid(), "entity": "item", "kind": "create", "deviceTime": now_iso(), "payload": { "name": format!("Crash item {i}"), "price": 1 } },
                { "opId": uuid(), "entity": "invoice", "kind": "create", "deviceTime": now_iso(), "payload": {
                    "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 10, "deviceRef": format!("C-{i}") } },
            ]})
        })
        .collect();
    let pushes = Arc::new(pushes);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let base = format!("http://127.0.0.1:{port}");

    let killer = {
        let done = done.clone();
        let db_name = db_name.clone();
        tokio::spawn(async move {
            let mut server = server;
            // A kill inside a transaction leaves it open on mongod, holding its locks until
            // transactionLifetimeLimitSeconds (60 s) aborts it; the shop's pushes answer 5xx
            // meanwhile and the client retries. So a few kills, at random moments.
            let mut kills = 0;
            while !done.load(Ordering::SeqCst) && kills < 3 {
                let wait = rand::thread_rng().gen_range(150..900);
                tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                if done.load(Ordering::SeqCst) {
                    break;
                }
                server.child.kill().await.expect("SIGKILL");
                kills += 1;
                server = start_server(&db_name, port).await;
            }
            (kills, server)
        })
    };

    let mut workers = Vec::new();
    for _ in 0..3 {
        let (pushes, next, base, token) = (pushes.clone(), next.clone(), base.clone(), a.token.clone());
        workers.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().unwrap();
            let mut answers = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= pushes.len() {
                    return answers;
                }
                let started = std::time::Instant::now();
                loop {
                    assert!(started.elapsed().as_secs() < 200, "push {i} never succeeded");
                    match http
                        .post(format!("{base}/api/v2/sync/push"))
                        .bearer_auth(&token)
                        .json(&pushes[i])
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == 200 => {
                            answers.push((i, r.json::<Value>().await.unwrap_or(Value::Null)));
                            break;
                        }
                        Ok(r) => assert!(r.status().is_server_error() || r.status() == 409, "push {i}: {}", r.status()),
                        Err(_) => {}
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }));
    }
    let mut answers = Vec::new();
    for w in workers {
        answers.extend(w.await.unwrap());
    }
    done.store(true, Ordering::SeqCst);
    let (kills, mut last) = killer.await.unwrap();
    let _ = last.child.kill().await;
    assert!(kills >= 2, "the server was killed {kills} times");
    assert_eq!(answers.len(), 200);
    for (i, body) in &answers {
        for r in body["results"].as_array().expect("results") {
            let ok = r["status"] == "applied" || (r["status"] == "duplicate" && r["originalStatus"] == "applied");
            assert!(ok, "push {i}: {r}");
        }
    }

    // the database: every operation exactly once, no push half-applied
    let cid = ObjectId::parse_str(&a.client_id).unwrap();
    let ops: Vec<Document> = {
        use futures::TryStreamExt;
        app.db
            .collection::<Document>("syncops")
            .find(doc! { "clientId": cid })
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap()
    };
    assert_eq!(ops.len(), 400);
    let by_op: std::collections::HashMap<String, &Document> =
        ops.iter().map(|d| (d.get_str("opId").unwrap().to_string(), d)).collect();
    for p in pushes.iter() {
        let list = p["operations"].as_array().unwrap();
        let seqs: Vec<i64> = list
            .iter()
            .map(|o| {
                let rec = by_op[o["opId"].as_str().unwrap()];
                assert_eq!(rec.get_str("status").unwrap(), "applied");
                rec.get_i64("seq").unwrap()
            })
            .collect();
        assert_eq!(seqs[0], seqs[1], "both operations of a push commit together");
    }
    assert_eq!(app.count("items", doc! { "clientId": cid }).await, 201);
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 200);
    assert_eq!(app.count("payments", doc! { "clientId": cid }).await, 200);
    assert_eq!(app.count("stockmovements", doc! { "clientId": cid, "reason": "sale" }).await, 200);
    let it: Document = app
        .db
        .collection("items")
        .find_one(doc! { "_id": ObjectId::parse_str(&item).unwrap() })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(it.get_i64("stock").unwrap(), 800);
    let refs: HashSet<String> = {
        use futures::TryStreamExt;
        app.db
            .collection::<Document>("invoices")
            .find(doc! { "clientId": cid })
            .await
            .unwrap()
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .iter()
            .map(|d| d.get_str("deviceRef").unwrap().to_string())
            .collect()
    };
    assert_eq!(refs.len(), 200);
}

#[tokio::test]
async fn an_online_customer_delete_reaches_the_pull_as_a_tombstone() {
    let app = TestApp::spawn().await;
    let r = app.register(&phone()).await;
    let c = app
        .post(
            "/api/business/client-customers",
            Some(&r.token),
            json!({ "clientId": r.client_id, "phone": phone(), "name": "Gone Soon" }),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    let id = c.body["clientCustomer"]["_id"].as_str().unwrap().to_string();
    let first = app.get("/api/v2/sync/pull", Some(&r.token)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let cursor = first.body["nextCursor"].as_str().unwrap().to_string();
    let d = app.delete(&format!("/api/business/client-customers/{}/{id}", r.client_id), Some(&r.token)).await;
    assert_eq!(d.status, 200, "{}", d.body);
    let next = app.get(&format!("/api/v2/sync/pull?cursor={cursor}"), Some(&r.token)).await;
    assert_eq!(next.status, 200, "{}", next.body);
    let changes = next.body["changes"].as_array().unwrap();
    let tomb = changes
        .iter()
        .find(|c| c["id"] == id.as_str())
        .unwrap_or_else(|| panic!("no change for the deleted customer: {}", next.body));
    assert_eq!(tomb["op"], "delete");
    assert!(tomb["doc"].is_null());
}

fn op(entity: &str, kind: &str, payload: Value) -> (String, Value) {
    let id = uuid();
    (id.clone(), json!({ "opId": id, "entity": entity, "kind": kind, "deviceTime": now_iso(), "payload": payload }))
}

/// The bulk apply keeps the billing rules and the order of the operations: a later operation
/// sees the effects of earlier ones, a rejected one changes nothing and takes no number.
#[tokio::test]
async fn v2_push_applies_operations_in_order_with_the_billing_rules() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let cid = ObjectId::parse_str(&a.client_id).unwrap();
    let item = seed_item(&app, &a.client_id, "Bulb", 5000, 10).await;
    let item_oid = ObjectId::parse_str(&item).unwrap();
    let shopper = "9876512345";

    let (cust_op, c0) = op("customer", "create", json!({ "phoneNumber": shopper, "name": "Meena" }));
    let (_, c1) = op("item", "update", json!({ "id": item, "price": 80 }));
    let (fuse_op, c2) = op("item", "create", json!({ "name": "Fuse", "price": 10, "stock": 5 }));
    let (inv_op, c3) = op(
        "invoice",
        "create",
        json!({ "products": [{ "productId": item, "quantity": 2 }, { "productOpId": fuse_op, "quantity": 1 }],
                "clientCustomerPhone": shopper, "paidAmount": 50 }),
    );
    let (_, c4) = op("payment", "create", json!({ "invoiceOpId": inv_op, "amount": 200 }));
    let (_, c5) = op("payment", "create", json!({ "invoiceOpId": inv_op, "amount": 100, "method": "upi" }));
    let (_, c6) = op("customer", "delete", json!({ "customerOpId": cust_op }));
    let (_, c7) = op("invoice", "create", json!({ "products": [{ "productOpId": uuid(), "quantity": 1 }] }));
    let (_, c8) =
        op("invoice", "create", json!({ "products": [{ "productId": item, "quantity": 1 }], "totalAmount": 1 }));
    let (_, c9) =
        op("invoice", "create", json!({ "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 80 }));
    // a sale paid in full by a later operation of the same push keeps its one number and date
    let (credit_op, c10) = op("invoice", "create", json!({ "products": [{ "productId": item, "quantity": 1 }] }));
    let (_, c11) = op("payment", "create", json!({ "invoiceOpId": credit_op, "amount": 80 }));
    let (_, c12) =
        op("invoice", "create", json!({ "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 80 }));
    let all = json!({ "operations": [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12] });
    let r = app.post("/api/v2/sync/push", Some(&a.token), all).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let res = r.body["results"].as_array().unwrap();
    let statuses: Vec<&str> = res.iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        [
            "applied", "applied", "applied", "applied", "rejected", "applied", "rejected", "deferred", "rejected",
            "applied", "applied", "applied", "applied"
        ],
        "{}",
        r.body
    );
    assert!(res[4]["reason"].as_str().unwrap().contains("exceeds the outstanding balance"), "{}", res[4]);
    assert!(res[6]["reason"].as_str().unwrap().contains("outstanding balance"), "{}", res[6]);
    // an operation never seen may still arrive: deferred, not final (issue 14)
    assert!(res[7]["reason"].as_str().unwrap().contains("has not arrived yet"), "{}", res[7]);
    assert!(res[8]["reason"].as_str().unwrap().starts_with("totalAmount"), "{}", res[8]);
    // the price edit came first: the sale is at 80; numbers are consecutive in operation order,
    // the rejected sale took none
    assert_eq!(res[3]["result"]["totalAmount"], json!(170), "{}", res[3]);
    let n1 = res[3]["result"]["invoiceNumber"].as_str().unwrap();
    let n2 = res[9]["result"]["invoiceNumber"].as_str().unwrap();
    assert!(n1.ends_with("/00001") && n2.ends_with("/00002"), "{n1} {n2}");
    assert_eq!(res[5]["result"]["invoiceNumber"], n1);
    let n3 = res[10]["result"]["invoiceNumber"].as_str().unwrap();
    let n4 = res[12]["result"]["invoiceNumber"].as_str().unwrap();
    assert!(n3.ends_with("/00003") && n4.ends_with("/00004"), "{n3} {n4}");
    assert_eq!(res[11]["result"]["invoiceNumber"], n3);

    let items = app.db.collection::<Document>("items");
    let bulb = items.find_one(doc! { "_id": item_oid }).await.unwrap().unwrap();
    assert_eq!(bulb.get_i64("price").unwrap(), 8000);
    assert_eq!(bulb.get_i64("stock").unwrap(), 10 - 2 - 1 - 1 - 1);
    let fuse = items.find_one(doc! { "clientId": cid, "name": "Fuse" }).await.unwrap().unwrap();
    assert_eq!(fuse.get_i64("stock").unwrap(), 5 - 1);
    assert_eq!(app.count("stockmovements", doc! { "itemId": item_oid }).await, 4);
    assert_eq!(app.count("stockmovements", doc! { "itemId": fuse.get_object_id("_id").unwrap() }).await, 2);

    let inv_id = ObjectId::parse_str(res[3]["result"]["id"].as_str().unwrap()).unwrap();
    let inv = app.db.collection::<Document>("invoices").find_one(doc! { "_id": inv_id }).await.unwrap().unwrap();
    assert_eq!(inv.get_i64("paidAmount").unwrap(), 15000);
    assert_eq!(inv.get_str("status").unwrap(), "Partial");
    assert_eq!(inv.get_array("products").unwrap()[0].as_document().unwrap().get_i64("costPerUnit").unwrap(), 8000);
    assert_eq!(app.count("payments", doc! { "invoiceId": inv_id }).await, 2);
    let customers = app.db.collection::<Document>("clientcustomers");
    let meena = customers.find_one(doc! { "clientId": cid, "phoneNumber": shopper }).await.unwrap().unwrap();
    assert_eq!(meena.get_str("name").unwrap(), "Meena");
    assert_eq!(meena.get_i64("outstandingBalance").unwrap(), 2000);
    assert_eq!(app.count("clientcustomers", doc! { "clientId": cid }).await, 1, "one customer per phone");
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 4);
    let counters = app.db.collection::<Document>("counters");
    let counter =
        counters.find_one(doc! { "_id": { "$regex": format!("^inv:{}", a.client_id) } }).await.unwrap().unwrap();
    assert_eq!(counter.get_i64("seq").unwrap(), 4, "no number taken twice or wasted");
    let credit_id = ObjectId::parse_str(res[10]["result"]["id"].as_str().unwrap()).unwrap();
    let credit = app.db.collection::<Document>("invoices").find_one(doc! { "_id": credit_id }).await.unwrap().unwrap();
    assert_eq!(credit.get_str("invoiceNumber").unwrap(), n3);
    assert_eq!(credit.get_str("status").unwrap(), "Paid");

    // a later push pays the rest of that sale (named by the earlier opId) and then deletes the
    // customer, whose balance is now zero
    let (_, d0) = op("payment", "create", json!({ "invoiceOpId": inv_op, "amount": 20 }));
    let (_, d1) = op("customer", "delete", json!({ "customerOpId": cust_op }));
    let r = app.post("/api/v2/sync/push", Some(&a.token), json!({ "operations": [d0, d1] })).await;
    assert_eq!(r.body["summary"]["applied"], 2, "{}", r.body);
    let inv = app.db.collection::<Document>("invoices").find_one(doc! { "_id": inv_id }).await.unwrap().unwrap();
    assert_eq!(inv.get_str("status").unwrap(), "Paid");
    assert!(inv.get_bool("isFinalized").unwrap());
    assert_eq!(inv.get_i32("__v").unwrap(), 2, "one version per payment after the sale");
    assert_eq!(app.count("purchasehistories", doc! { "invoiceId": inv_id }).await, 1);
    // issue 16: a customer with invoices is deactivated, never deleted (GST records are kept)
    assert_eq!(app.count("clientcustomers", doc! { "clientId": cid }).await, 1);
    assert_eq!(app.count("clientcustomers", doc! { "clientId": cid, "status": "inactive" }).await, 1);
    let paid: i64 = {
        use futures::TryStreamExt;
        let ps: Vec<Document> = app
            .db
            .collection::<Document>("payments")
            .find(doc! { "invoiceId": inv_id })
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        ps.iter().map(|p| p.get_i64("amount").unwrap()).sum()
    };
    assert_eq!(paid, 17000, "payments sum to the paid amount");
}

// ---------- issue 12: what the current app sends keeps working ----------

/// v1 `/api/sync`: an offline sale always subtracts, even below zero, and the answer lists
/// the lines that went below zero; a new product with a one-character name (created by the
/// sale) does not fail the batch (v1 defect U11). Then the v2 push sells that item too, below
/// zero, and its result lists the warning. A strict shop gets the same (the goods are gone).
#[tokio::test]
async fn sync_sales_below_zero_warn_and_one_character_products_are_created() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let cid = ObjectId::parse_str(&a.client_id).unwrap();
    // strict: sync still accepts (an offline sale already happened), warning included
    let res = app
        .put(
            &format!("/api/client/{}", a.client_id),
            Some(&a.token),
            json!({ "clientSettings": { "billing": { "allowNegativeStock": false } } }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let bulb = seed_item(&app, &a.client_id, "Bulb", 5000, 1).await;
    let body = json!({ "invoice": { "create": [{
        "products": [
            { "productId": bulb, "itemName": "Bulb", "quantity": 3, "costPerUnit": 50 },
            { "itemName": "X", "quantity": 2, "costPerUnit": 10 },
        ],
        "paidAmount": 170, "deviceTime": now_iso(),
    }]}});
    let r = post_keyed(&app.http, &app.base, "/api/sync", &a.token, &uuid(), &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["summary"]["invoicesCreated"], 1, "{}", r.body);
    assert_eq!(r.body["summary"]["itemsCreated"], 1, "{}", r.body);
    let x = app.db.collection::<Document>("items").find_one(doc! { "clientId": cid, "name": "X" }).await.unwrap();
    let x = x.expect("the one-character product was created");
    let x_id = x.get_object_id("_id").unwrap().to_hex();
    let inv_id = r.body["synced"]["invoicesCreated"][0].as_str().unwrap();
    assert_eq!(
        r.body["stockWarnings"],
        json!([
            { "invoiceId": inv_id, "productId": bulb, "itemName": "Bulb", "quantity": 3, "stock": -2 },
            { "invoiceId": inv_id, "productId": x_id, "itemName": "X", "quantity": 2, "stock": -2 },
        ]),
        "{}",
        r.body
    );
    assert_eq!(app.stock_of(&bulb).await, -2);
    let row = r.body["data"]["items"].as_array().unwrap().iter().find(|i| i["_id"] == bulb.as_str()).unwrap().clone();
    assert_eq!(row["stock"], -2, "the download shows the negative stock");

    // v2 push: the one-character item sells again; a line still above zero has no warning
    let fan = seed_item(&app, &a.client_id, "Fan", 100000, 5).await;
    let (_, sale) = op(
        "invoice",
        "create",
        json!({ "products": [{ "productId": x_id, "quantity": 1 }, { "productId": fan, "quantity": 1 }] }),
    );
    let r = app.post("/api/v2/sync/push", Some(&a.token), json!({ "operations": [sale] })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let res = &r.body["results"][0];
    assert_eq!(res["status"], "applied", "{}", r.body);
    assert_eq!(
        res["result"]["stockWarnings"],
        json!([{ "productId": x_id, "itemName": "X", "quantity": 1, "stock": -3 }]),
        "{}",
        r.body
    );
    assert_eq!(app.stock_of(&x_id).await, -3);
    assert_eq!(app.stock_of(&fan).await, 4);
    // and online, the one-character item sells like any other (default shop)
    let b = app.register(&phone()).await;
    let r = app
        .post(
            "/api/sync",
            Some(&b.token),
            json!({ "invoice": { "create": [{ "products": [{ "itemName": "Y", "quantity": 1, "costPerUnit": 5 }] }] } }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let y = r.body["synced"]["itemsCreated"][0].as_str().unwrap().to_string();
    let s = app
        .post(
            "/api/business/invoices/generatewithproducts",
            Some(&b.token),
            json!({ "products": [{ "productId": y, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(s.status, 201, "{}", s.body);
    assert_eq!(s.body["stockWarnings"][0]["stock"], -2);
}

// ---------- issue 14: offline sales are judged by what happened at the counter ----------

fn oid(s: &str) -> ObjectId {
    ObjectId::parse_str(s).unwrap()
}

async fn push_ops(app: &TestApp, token: &str, ops: Vec<Value>) -> crate::helpers::Resp {
    let r = app.post("/api/v2/sync/push", Some(token), json!({ "operations": ops })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r
}

/// Issue 14, example 1 (v1): the same offline sale (`deviceRef` DEV-A-0042) re-sent under a
/// new `X-Idempotency-Key` makes one invoice and takes the stock once (20 -> 18); the second
/// answer names the first invoice. Another device's DEV-A-0042 is its own sale.
#[tokio::test]
async fn v1_offline_sale_resent_under_a_new_key_is_billed_once_by_its_device_ref() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let cid = oid(&a.client_id);
    let item = seed_item(&app, &a.client_id, "Bulb", 5000, 20).await;
    let body = json!({ "invoice": { "create": [{
        "products": [{ "productId": item, "itemName": "Bulb", "quantity": 2, "costPerUnit": 50 }],
        "paidAmount": 100, "deviceRef": "DEV-A-0042", "deviceTime": now_iso(),
    }]}});
    let first = post_keyed(&app.http, &app.base, "/api/sync", &a.token, &uuid(), &body).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let inv_id = first.body["synced"]["invoicesCreated"][0].as_str().unwrap().to_string();
    let second = post_keyed(&app.http, &app.base, "/api/sync", &a.token, &uuid(), &body).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.body["summary"]["invoicesCreated"], 0, "{}", second.body);
    let dup = &second.body["duplicates"][0];
    assert_eq!(dup["deviceRef"], "DEV-A-0042", "{}", second.body);
    assert_eq!(dup["invoiceId"], inv_id.as_str());
    assert!(dup["invoiceNumber"].as_str().unwrap().starts_with("INV/"), "{dup}");
    // and without any key, twice in one batch
    let mut twice = body.clone();
    let sale = twice["invoice"]["create"][0].clone();
    twice["invoice"]["create"] = json!([sale.clone(), sale]);
    let r = app.post("/api/sync", Some(&a.token), twice).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["duplicates"].as_array().unwrap().len(), 2, "{}", r.body);
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 1);
    assert_eq!(app.count("payments", doc! { "clientId": cid }).await, 1);
    assert_eq!(app.stock_of(&item).await, 18);

    // the same reference from another device is another sale
    let other = app.login_otp(&a.phone, "phone-2").await;
    let token2 = other.body["token"].as_str().unwrap().to_string();
    let r = post_keyed(&app.http, &app.base, "/api/sync", &token2, &uuid(), &body).await;
    assert_eq!(r.body["summary"]["invoicesCreated"], 1, "{}", r.body);
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 2);
    assert_eq!(app.stock_of(&item).await, 16);
}

/// Issue 14, example 1 (v2): the same sale under two opIds is one invoice (20 -> 18); the
/// second answers `duplicate` with the first invoice, and so does the same sale sent through
/// v1 afterwards (the reference, not the transport, identifies the sale).
#[tokio::test]
async fn v2_offline_sale_resent_under_a_new_op_id_is_billed_once_by_its_device_ref() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let cid = oid(&a.client_id);
    let item = seed_item(&app, &a.client_id, "Bulb", 5000, 20).await;
    let sale = json!({ "products": [{ "productId": item, "quantity": 2, "costPerUnit": 50 }],
        "paidAmount": 100, "deviceRef": "DEV-A-0042" });
    let (_, o1) = op("invoice", "create", sale.clone());
    let r1 = push_ops(&app, &a.token, vec![o1]).await;
    assert_eq!(r1.body["results"][0]["status"], "applied", "{}", r1.body);
    let first = r1.body["results"][0]["result"].clone();
    let (op2, o2) = op("invoice", "create", sale.clone());
    let r2 = push_ops(&app, &a.token, vec![o2.clone()]).await;
    let res = &r2.body["results"][0];
    assert_eq!(res["status"], "duplicate", "{}", r2.body);
    assert_eq!(res["originalStatus"], "applied");
    assert_eq!(res["result"]["id"], first["id"]);
    assert_eq!(res["result"]["invoiceNumber"], first["invoiceNumber"]);
    // its opId is recorded: a replay answers the same
    let r3 = push_ops(&app, &a.token, vec![o2]).await;
    assert_eq!(r3.body["results"][0]["result"]["id"], first["id"], "{}", r3.body);
    assert_eq!(r3.body["results"][0]["opId"], op2.as_str());
    // the same sale through v1
    let v1 = json!({ "invoice": { "create": [{
        "products": [{ "productId": item, "itemName": "Bulb", "quantity": 2, "costPerUnit": 50 }],
        "paidAmount": 100, "deviceRef": "DEV-A-0042" }]}});
    let r = post_keyed(&app.http, &app.base, "/api/sync", &a.token, &uuid(), &v1).await;
    assert_eq!(r.body["duplicates"][0]["invoiceId"], first["id"], "{}", r.body);
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 1);
    assert_eq!(app.count("devicesales", doc! { "clientId": cid }).await, 1);
    assert_eq!(app.stock_of(&item).await, 18);
}

/// Issue 14, example 2: an item sold offline at Rs 50 (2 for Rs 100, paid) whose price
/// changed online to Rs 55 before the sync is billed 100 (nothing owed), in v1 and v2; the
/// difference is a price override on the line and in the sync result.
#[tokio::test]
async fn offline_sale_is_billed_at_the_price_the_device_showed_not_the_price_at_sync() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let item = seed_item(&app, &a.client_id, "Bulb", 5000, 20).await;
    let r =
        app.put(&format!("/api/business/items/{}/{item}", a.client_id), Some(&a.token), json!({ "price": 55 })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let check = |inv: Document| {
        assert_eq!(inv.get_i64("totalAmount").unwrap(), 10000);
        assert_eq!(inv.get_i64("paidAmount").unwrap(), 10000);
        assert_eq!(inv.get_str("status").unwrap(), "Paid");
        let line = inv.get_array("products").unwrap()[0].as_document().unwrap().clone();
        assert_eq!(line.get_i64("costPerUnit").unwrap(), 5000);
        assert!(line.get_bool("priceOverridden").unwrap());
        assert_eq!(line.get_i64("catalogPrice").unwrap(), 5500);
    };
    let invoices = app.db.collection::<Document>("invoices");

    let body = json!({ "invoice": { "create": [{
        "products": [{ "productId": item, "itemName": "Bulb", "quantity": 2, "costPerUnit": 50 }],
        "totalAmount": 100, "paidAmount": 100, "clientCustomerPhone": "9876500011", "deviceRef": "P-1" }]}});
    let r = app.post("/api/sync", Some(&a.token), body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let o = &r.body["priceOverrides"][0];
    assert_eq!(o["productId"], item.as_str(), "{}", r.body);
    assert_eq!((o["price"].clone(), o["catalogPrice"].clone()), (json!(50), json!(55)));
    let id = r.body["synced"]["invoicesCreated"][0].as_str().unwrap();
    check(invoices.find_one(doc! { "_id": oid(id) }).await.unwrap().unwrap());

    let (_, o1) = op(
        "invoice",
        "create",
        json!({ "products": [{ "productId": item, "quantity": 2, "costPerUnit": 50 }], "totalAmount": 100,
                "paidAmount": 100, "clientCustomerPhone": "9876500011", "deviceRef": "P-2" }),
    );
    let r = push_ops(&app, &a.token, vec![o1]).await;
    let res = &r.body["results"][0];
    assert_eq!(res["status"], "applied", "{}", r.body);
    assert_eq!(res["result"]["totalAmount"], 100);
    let o = &res["result"]["priceOverrides"][0];
    assert_eq!((o["price"].clone(), o["catalogPrice"].clone()), (json!(50), json!(55)), "{}", r.body);
    check(invoices.find_one(doc! { "_id": oid(res["result"]["id"].as_str().unwrap()) }).await.unwrap().unwrap());
    let c: Document = app
        .db
        .collection("clientcustomers")
        .find_one(doc! { "clientId": oid(&a.client_id), "phoneNumber": "9876500011" })
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("customer"));
    assert_eq!(c.get_i64("outstandingBalance").unwrap(), 0, "the customer owes nothing");
}

/// Issue 14, example 3: a payment pushed before its invoice is `deferred` (not recorded), and
/// re-pushing both (payment first) applies both; in one push the order does not matter. A
/// dependency recorded as rejected stays final.
#[tokio::test]
async fn v2_payment_pushed_before_its_invoice_is_deferred_then_applies() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let cid = oid(&a.client_id);
    let item = seed_item(&app, &a.client_id, "Bulb", 5000, 20).await;
    let (inv_op, inv) = op("invoice", "create", json!({ "products": [{ "productId": item, "quantity": 2 }] }));
    let (pay_op, pay) = op("payment", "create", json!({ "invoiceOpId": inv_op, "amount": 60 }));
    let r = push_ops(&app, &a.token, vec![pay.clone()]).await;
    assert_eq!(r.body["results"][0]["status"], "deferred", "{}", r.body);
    assert_eq!(r.body["summary"]["deferred"], 1);
    assert_eq!(app.count("syncops", doc! { "clientId": cid, "opId": &pay_op }).await, 0, "not recorded");
    let r = push_ops(&app, &a.token, vec![pay, inv]).await;
    let st: Vec<&str> = r.body["results"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(st, ["applied", "applied"], "{}", r.body);
    let inv_id = r.body["results"][1]["result"]["id"].as_str().unwrap();
    assert_eq!(r.body["results"][0]["result"]["invoiceId"], inv_id);
    let stored: Document = app.db.collection("invoices").find_one(doc! { "_id": oid(inv_id) }).await.unwrap().unwrap();
    assert_eq!(stored.get_i64("paidAmount").unwrap(), 6000);
    assert_eq!(app.count("payments", doc! { "clientId": cid }).await, 1);

    // a dependency that was rejected is final: the payment is rejected too
    let (bad_op, bad) = op("invoice", "create", json!({ "products": [{ "productId": item, "quantity": 0 }] }));
    let r = push_ops(&app, &a.token, vec![bad]).await;
    assert_eq!(r.body["results"][0]["status"], "rejected", "{}", r.body);
    let (_, pay2) = op("payment", "create", json!({ "invoiceOpId": bad_op, "amount": 10 }));
    let r = push_ops(&app, &a.token, vec![pay2]).await;
    assert_eq!(r.body["results"][0]["status"], "rejected", "{}", r.body);
    assert!(r.body["results"][0]["reason"].as_str().unwrap().contains("was not applied"), "{}", r.body);
}

/// Issue 14, example 4: an offline price edit based on version 0 pushed after a newer online
/// edit is a `conflict` (online value kept, answered with it), in v2 and v1; an edit based on
/// the current version applies; an edit without a base version applies as sent (compat).
#[tokio::test]
async fn an_offline_edit_based_on_an_older_version_is_a_conflict_not_last_writer_wins() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let item = seed_item(&app, &a.client_id, "Bulb", 5000, 20).await;
    let price = |app: &TestApp, item: String| {
        let items = app.db.collection::<Document>("items");
        async move { items.find_one(doc! { "_id": oid(&item) }).await.unwrap().unwrap().get_i64("price").unwrap() }
    };
    // T1: the device, at version 0, sets 60 offline. T2: the owner sets 55 online.
    let r =
        app.put(&format!("/api/business/items/{}/{item}", a.client_id), Some(&a.token), json!({ "price": 55 })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, e) = op("item", "update", json!({ "id": item, "price": 60, "baseVersion": 0 }));
    let r = push_ops(&app, &a.token, vec![e]).await;
    let res = &r.body["results"][0];
    assert_eq!(res["status"], "conflict", "{}", r.body);
    assert_eq!(res["result"]["current"]["price"], 55);
    assert_eq!(res["result"]["version"], 1);
    assert_eq!(r.body["summary"]["conflict"], 1);
    assert_eq!(price(&app, item.clone()).await, 5500, "the online value is kept");
    // v1 with the same stale base: listed, not applied, the batch still applies
    let body = json!({ "item": { "update": [{ "_id": item, "price": 60, "baseVersion": 0 }],
        "create": [{ "name": "Fuse", "price": 10 }] } });
    let r = app.post("/api/sync", Some(&a.token), body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["conflicts"][0]["id"], item.as_str(), "{}", r.body);
    assert_eq!(r.body["conflicts"][0]["current"]["price"], 55);
    assert_eq!(r.body["summary"]["itemsUpdated"], 0);
    assert_eq!(r.body["summary"]["itemsCreated"], 1);
    assert_eq!(price(&app, item.clone()).await, 5500);
    // based on the current version: applied
    let (_, e) = op("item", "update", json!({ "id": item, "price": 60, "baseVersion": 1 }));
    let r = push_ops(&app, &a.token, vec![e]).await;
    assert_eq!(r.body["results"][0]["status"], "applied", "{}", r.body);
    assert_eq!(price(&app, item.clone()).await, 6000);
    // a customer edit too
    let (c_op, c) = op("customer", "create", json!({ "phoneNumber": "9876500021", "name": "Meena" }));
    push_ops(&app, &a.token, vec![c]).await;
    let (_, e1) = op("customer", "update", json!({ "customerOpId": c_op, "name": "Meena K", "baseVersion": 0 }));
    let (_, e2) = op("customer", "update", json!({ "customerOpId": c_op, "name": "Meena R", "baseVersion": 0 }));
    let r = push_ops(&app, &a.token, vec![e1]).await;
    assert_eq!(r.body["results"][0]["status"], "applied", "{}", r.body);
    let r = push_ops(&app, &a.token, vec![e2]).await;
    assert_eq!(r.body["results"][0]["status"], "conflict", "{}", r.body);
    assert_eq!(r.body["results"][0]["result"]["current"]["name"], "Meena K");
    // no base version: applied as sent (the v1 contract and older apps)
    let r =
        app.post("/api/sync", Some(&a.token), json!({ "item": { "update": [{ "_id": item, "price": 65 }] } })).await;
    assert_eq!(r.body["summary"]["itemsUpdated"], 1, "{}", r.body);
    assert_eq!(price(&app, item.clone()).await, 6500);
}

/// Issue 14, example 5: a v1 batch holding a sale of an item deleted online today applies
/// (with the other sale in it) and flags the line; the same in v2. Ids that never belonged to
/// the shop are still refused.
#[tokio::test]
async fn a_sale_of_an_item_deleted_online_is_accepted_and_flagged_in_v1_and_v2() {
    let app = TestApp::spawn().await;
    let a = app.register(&phone()).await;
    let b = app.register(&phone()).await;
    let cid = oid(&a.client_id);
    let gone = seed_item(&app, &a.client_id, "Old bulb", 5000, 20).await;
    let kept = seed_item(&app, &a.client_id, "Fuse", 1000, 20).await;
    let r = app.delete(&format!("/api/business/items/{}/{gone}", a.client_id), Some(&a.token)).await;
    assert!(r.status.is_success(), "{}", r.body);
    let body = json!({ "invoice": { "create": [
        { "products": [{ "productId": gone, "itemName": "Old bulb", "quantity": 1, "costPerUnit": 50 }], "paidAmount": 50 },
        { "products": [{ "productId": kept, "itemName": "Fuse", "quantity": 1, "costPerUnit": 10 }], "paidAmount": 10 },
    ]}});
    let r = app.post("/api/sync", Some(&a.token), body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["summary"]["invoicesCreated"], 2);
    let flagged = r.body["inactiveItems"].as_array().unwrap();
    assert_eq!(flagged.len(), 1, "{}", r.body);
    assert_eq!(flagged[0]["productId"], gone.as_str());
    assert_eq!(flagged[0]["invoiceId"], r.body["synced"]["invoicesCreated"][0]);
    assert_eq!(app.stock_of(&gone).await, 19);

    let (_, s) =
        op("invoice", "create", json!({ "products": [{ "productId": gone, "quantity": 1 }], "paidAmount": 50 }));
    let r = push_ops(&app, &a.token, vec![s]).await;
    let res = &r.body["results"][0];
    assert_eq!(res["status"], "applied", "{}", r.body);
    assert_eq!(res["result"]["inactiveItems"][0]["productId"], gone.as_str());
    assert_eq!(app.stock_of(&gone).await, 18);
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 3);

    // another shop's item is still refused, in both
    let foreign = seed_item(&app, &b.client_id, "Theirs", 100, 5).await;
    let (_, s) = op("invoice", "create", json!({ "products": [{ "productId": foreign, "quantity": 1 }] }));
    let r = push_ops(&app, &a.token, vec![s]).await;
    assert_eq!(r.body["results"][0]["status"], "rejected", "{}", r.body);
    let body = json!({ "invoice": { "create": [
        { "products": [{ "productId": foreign, "itemName": "x", "quantity": 1, "costPerUnit": 1 }] }] } });
    assert_eq!(app.post("/api/sync", Some(&a.token), body).await.status, 400);
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 3);
}

/// Generalises example 1: the same sale (one `deviceRef`) arriving at once through v2 pushes
/// with 8 different opIds and v1 batches with 4 different keys, on two server instances
/// (separate in-process queues): the unique index makes exactly one invoice, stock moves once,
/// and every answer names that invoice.
#[tokio::test]
async fn one_device_ref_sent_concurrently_under_many_keys_and_op_ids_is_one_invoice() {
    let app = TestApp::spawn().await;
    let other = app.second_instance().await;
    let a = app.register(&phone()).await;
    let cid = oid(&a.client_id);
    let item = seed_item(&app, &a.client_id, "Bulb", 5000, 20).await;
    let sale = json!({ "products": [{ "productId": item, "quantity": 2, "costPerUnit": 50 }],
        "paidAmount": 100, "deviceRef": "DEV-A-0042" });
    let v1 = json!({ "invoice": { "create": [{
        "products": [{ "productId": item, "itemName": "Bulb", "quantity": 2, "costPerUnit": 50 }],
        "paidAmount": 100, "deviceRef": "DEV-A-0042", "deviceTime": now_iso() }]}});
    let mut tasks = Vec::new();
    for i in 0..12 {
        let base = if i % 2 == 0 { app.base.clone() } else { other.base.clone() };
        let (http, token) = (app.http.clone(), a.token.clone());
        let body = if i < 8 { json!({ "operations": [op("invoice", "create", sale.clone()).1] }) } else { v1.clone() };
        tasks.push(tokio::spawn(async move {
            let path = if i < 8 { "/api/v2/sync/push" } else { "/api/sync" };
            let r = post_keyed(&http, &base, path, &token, &uuid(), &body).await;
            (i, r.status.as_u16(), r.body)
        }));
    }
    let mut ids = HashSet::new();
    for t in tasks {
        let (i, status, body) = t.await.unwrap();
        assert_eq!(status, 200, "{body}");
        if i < 8 {
            let res = &body["results"][0];
            assert!(res["status"] == "applied" || res["status"] == "duplicate", "{body}");
            ids.insert(res["result"]["id"].as_str().unwrap().to_string());
        } else if let Some(id) = body["synced"]["invoicesCreated"][0].as_str() {
            ids.insert(id.to_string());
        } else {
            ids.insert(body["duplicates"][0]["invoiceId"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(app.count("invoices", doc! { "clientId": cid }).await, 1);
    assert_eq!(app.count("payments", doc! { "clientId": cid }).await, 1);
    assert_eq!(app.stock_of(&item).await, 18);
}
