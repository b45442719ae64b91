//! `bench_sync` — medians of a 1,000-operation v2 push (mixed invoices, payments, item
//! edits) and of a v2 pull of 10,000 changes, over real HTTP against the in-process server,
//! on a dedicated database `bench_sync_<uuid>` (dropped at the end).
//!
//! ```text
//! MONGO_URL='mongodb://127.0.0.1:27400/?replicaSet=rs0' cargo run --release --bin bench_sync [RUNS]
//! ```

use std::time::{Duration, Instant};

use bson::{doc, oid::ObjectId, DateTime};
use serde_json::{json, Value};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn push_body(items: &[String], now: &str) -> Value {
    let mut ops = Vec::with_capacity(1000);
    let mut i = 0usize;
    while ops.len() < 1000 {
        // per 10 operations: 4 sales, 3 payments on them, 3 item edits
        let mut invoice_ops = Vec::new();
        for k in 0..4 {
            let id = uuid();
            let a = &items[(i + k) % items.len()];
            let b = &items[(i + k + 7) % items.len()];
            ops.push(json!({ "opId": id, "entity": "invoice", "kind": "create", "deviceTime": now, "payload": {
                "products": [{ "productId": a, "quantity": 1, "costPerUnit": 100 }, { "productId": b, "quantity": 2, "costPerUnit": 50 }],
                "paidAmount": 50, "deviceRef": format!("B-{i}-{k}-{}", uuid()) } }));
            invoice_ops.push(id);
        }
        for id in invoice_ops.iter().take(3) {
            ops.push(json!({ "opId": uuid(), "entity": "payment", "kind": "create", "deviceTime": now,
                "payload": { "invoiceOpId": id, "amount": 25, "method": "upi" } }));
        }
        for k in 0..3 {
            let it = &items[(i * 3 + k) % items.len()];
            ops.push(json!({ "opId": uuid(), "entity": "item", "kind": "update", "deviceTime": now,
                "payload": { "id": it, "price": 100 + (i % 50) as i64, "stockDelta": 5 } }));
        }
        i += 1;
    }
    ops.truncate(1000);
    json!({ "operations": ops })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(7);
    let mongo_url = std::env::var("MONGO_URL").map_err(|_| anyhow::anyhow!("set MONGO_URL (a replica set)"))?;
    let db_name = format!("bench_sync_{}", uuid::Uuid::new_v4().simple());
    let vars: std::collections::HashMap<&str, String> = [
        ("MONGO_URL", mongo_url),
        ("MONGO_DB_NAME", db_name.clone()),
        ("JWT_SECRET", "bench-secret-0123456789abcdef0123456789abcdef".to_string()),
        ("APP_ENV", "development".to_string()),
        ("OTP_PROVIDER", "console".to_string()),
        ("REQUEST_TIMEOUT_SECS", "120".to_string()),
    ]
    .into_iter()
    .collect();
    let mut config = viveka::config::Config::from_lookup(|k| vars.get(k).cloned())?;
    config.mongo_db_name = db_name.clone();
    let sms = viveka::sms_sender(&config);
    let state = viveka::build_state(config, sms).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server_state = state.clone();
    let server = tokio::spawn(async move {
        let _ = viveka::serve(listener, server_state, async move {
            let _ = rx.await;
        })
        .await;
    });

    // a shop, a device session and a token, straight in the database
    let client_id = ObjectId::new();
    let session_id = ObjectId::new();
    let now = DateTime::now();
    state
        .db
        .collection::<bson::Document>("clients")
        .insert_one(
            doc! { "_id": client_id, "phoneNumber": "9000000001", "ownerName": "Bench", "businessName": "Bench Shop",
            "isActive": true, "clientSettings": {}, "createdAt": now, "updatedAt": now, "__v": 0 },
        )
        .await?;
    state
        .db
        .collection::<bson::Document>("devicesessions")
        .insert_one(doc! { "_id": session_id, "clientId": client_id, "deviceId": "bench", "isActive": true,
        "lastSeenAt": now, "createdAt": now, "updatedAt": now })
        .await?;
    let token = state.jwt.issue(&client_id.to_hex(), &session_id.to_hex(), "9000000001", None)?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(300)).build()?;

    // 50 items
    let create: Vec<Value> = (0..50)
        .map(|i| {
            json!({ "opId": uuid(), "entity": "item", "kind": "create", "deviceTime": chrono::Utc::now().to_rfc3339(),
            "payload": { "name": format!("Item {i}"), "price": 100, "stock": 1000 } })
        })
        .collect();
    let r: Value = http
        .post(format!("{base}/api/v2/sync/push"))
        .bearer_auth(&token)
        .json(&json!({ "operations": create }))
        .send()
        .await?
        .json()
        .await?;
    let items: Vec<String> = r["results"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("seed push failed: {r}"))?
        .iter()
        .filter_map(|x| x["result"]["id"].as_str().map(String::from))
        .collect();
    // the first pull backfills the log once; not part of the measurements
    http.get(format!("{base}/api/v2/sync/pull?limit=1")).bearer_auth(&token).send().await?;

    let mut push_times = Vec::new();
    for run in 0..runs.max(10) {
        let body = push_body(&items, &chrono::Utc::now().to_rfc3339());
        let t = Instant::now();
        let r = http.post(format!("{base}/api/v2/sync/push")).bearer_auth(&token).json(&body).send().await?;
        let status = r.status();
        let v: Value = r.json().await?;
        let took = t.elapsed();
        if status != 200 || v["summary"]["applied"] != 1000 {
            anyhow::bail!("push {run} failed: {status} {}", v["summary"]);
        }
        if run < runs {
            push_times.push(took);
        }
        eprintln!("push {run}: {took:?}");
    }

    let pull_times = pulls(&http, &base, &token, runs, "pull").await?;
    // the same pulls once the background pruner has run (as if `PRUNE_SETTLE_SECS` later): the
    // log then holds one row per document, as a device pulling later than minutes after the
    // writes finds it
    let later = bson::DateTime::from_millis(
        bson::DateTime::now().timestamp_millis() + i64::from(viveka::changelog::PRUNE_SETTLE_SECS) * 1000 + 1000,
    );
    let pruned = viveka::changelog::prune(&state.db, later).await?;
    eprintln!("pruned {pruned} superseded change-log rows");
    let pruned_times = pulls(&http, &base, &token, runs, "pull after pruning").await?;

    println!("runs: {runs}");
    println!("push 1000 ops (400 invoices, 300 payments, 300 item edits): median {:?}", median(push_times));
    println!("pull 10000 changes (pages of 2000), right after the writes: median {:?}", median(pull_times));
    println!("pull 10000 changes (pages of 2000), after pruning: median {:?}", median(pruned_times));
    state.db.drop().await?;
    let _ = tx.send(());
    let _ = server.await;
    Ok(())
}

/// `runs` pulls of 10,000 changes from cursor 0 in pages of 2,000; the time of each.
async fn pulls(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    runs: usize,
    label: &str,
) -> anyhow::Result<Vec<std::time::Duration>> {
    let mut times = Vec::new();
    for run in 0..runs {
        let t = Instant::now();
        let (mut cursor, mut got) = (String::new(), 0usize);
        while got < 10_000 {
            let v: Value = http
                .get(format!("{base}/api/v2/sync/pull?limit=2000&cursor={cursor}"))
                .bearer_auth(token)
                .send()
                .await?
                .json()
                .await?;
            let n = v["changes"].as_array().map(|a| a.len()).unwrap_or(0);
            if n == 0 {
                anyhow::bail!("only {got} changes available");
            }
            got += n;
            cursor = v["nextCursor"].as_str().unwrap_or("").to_string();
        }
        let took = t.elapsed();
        eprintln!("{label} {run}: {got} changes in {took:?}");
        times.push(took);
    }
    Ok(times)
}
