//! `bench_db`: the DB-only bound of the load benchmark. The same MongoDB work the server does
//! per request, issued straight through the driver by calling the library's own functions,
//! with no HTTP layer (no routing, JSON, middleware), so every `loadtest` figure can be read
//! as a ratio to what the database allows on this machine:
//!
//! - `READ`: the session check (`auth::authenticate`: token, device session, client) and the
//!   item list (`catalog::service::list_items`, 50 items decoded into `ItemDoc`);
//! - `READRAW`: the session check and the same find, kept as raw BSON (no decoding);
//! - `LOOKUP`: the session check and the scan-to-bill lookup (`catalog::service::lookup`: one
//!   indexed read on `uniq_client_code`) of a random item's SKU (issue 16);
//! - `CHECKOUT1` / `CHECKOUT32`: the session check and `billing::service::issue` (the whole
//!   checkout transaction: settings, items, groups, customer, payment, dues, history, guarded
//!   stock updates, counter, invoice, commit) on one shop / over 32 shops.
//!
//! Shops are set up exactly as `loadtest` does (through the HTTP API of an in-process server,
//! which is stopped before measuring). Invariants are checked after each checkout run.
//!
//! ```text
//! export CARGO_TARGET_DIR=/work/main/target MONGO_URL='mongodb://127.0.0.1:27400/?replicaSet=rs0'
//! cargo build --release --bin bench_db
//! $CARGO_TARGET_DIR/release/bench_db [--secs 10] [--conc 8,32] [--mongod-pid PID] \
//!     [--scenarios READ,READRAW,LOOKUP,CHECKOUT1,CHECKOUT32]
//! ```

use std::{sync::Arc, time::Duration};

use anyhow::{anyhow, bail};
use bson::{doc, oid::ObjectId, RawDocumentBuf};
use futures::TryStreamExt;
use rand::Rng;
use viveka::{
    billing::{
        command::{CustomerRef, LineSource, Sale},
        service as billing,
    },
    catalog::{dto::ListItemsQuery, service as catalog},
    money::Paise,
    state::AppState,
};

#[path = "loadkit/mod.rs"]
mod loadkit;
use loadkit::*;

struct DbShop {
    shop: Shop,
    client: ObjectId,
    headers: http::HeaderMap,
    items: Vec<ObjectId>,
    customers: Vec<ObjectId>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut secs, mut warmup, mut conc, mut shops_n) = (10u64, 1u64, vec![8usize, 32], 32usize);
    let mut mongod_pid: Option<u32> = None;
    let mut scenarios: Vec<String> =
        ["READ", "READRAW", "LOOKUP", "CHECKOUT1", "CHECKOUT32"].map(String::from).to_vec();
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or_else(|| anyhow!("{k} needs a value"));
        match k.as_str() {
            "--secs" => secs = v()?.parse()?,
            "--warmup" => warmup = v()?.parse()?,
            "--conc" => conc = parse_list(&v()?)?,
            "--shops" => shops_n = v()?.parse()?,
            "--mongod-pid" => mongod_pid = Some(v()?.parse()?),
            "--scenarios" => scenarios = parse_list::<String>(&v()?)?.into_iter().map(|s| s.to_uppercase()).collect(),
            other => bail!("unknown argument {other}: [--secs N] [--warmup N] [--conc 8,32] [--shops 32] [--mongod-pid PID] [--scenarios READ,READRAW,LOOKUP,CHECKOUT1,CHECKOUT32]"),
        }
    }
    for s in &scenarios {
        if !["READ", "READRAW", "LOOKUP", "CHECKOUT1", "CHECKOUT32"].contains(&s.as_str()) {
            bail!("unknown scenario {s}");
        }
    }
    let mongo_url = std::env::var("MONGO_URL").map_err(|_| anyhow!("set MONGO_URL (a replica set)"))?;
    let db_name = format!("bench_db_{}", uuid::Uuid::new_v4().simple());
    let vars: std::collections::HashMap<&str, String> = [
        ("MONGO_URL", mongo_url),
        ("MONGO_DB_NAME", db_name.clone()),
        ("APP_ENV", "development".to_string()),
        ("OTP_PROVIDER", "console".to_string()),
        ("OTP_SEND_LIMIT_PER_PHONE", "1000".to_string()),
        ("OTP_SEND_LIMIT_PER_IP", "100000".to_string()),
        ("REGISTER_LIMIT_PER_IP", "100000".to_string()),
    ]
    .into_iter()
    .collect();
    let mut config = viveka::config::Config::from_lookup(|k| vars.get(k).cloned())?;
    config.mongo_db_name = db_name.clone();
    let sms = viveka::sms_sender(&config);
    let state = viveka::build_state(config, sms).await?;
    println!("database {db_name}; machine: {}", machine());

    // set up through the API of an in-process server, then stop it
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let st = state.clone();
    let server = tokio::spawn(async move {
        let _ = viveka::serve(listener, st, async move {
            let _ = rx.await;
        })
        .await;
    });
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let made = setup_shops(&http, &base, shops_n).await;
    let _ = tx.send(());
    let _ = server.await;
    let made = made?;
    let mut shops = Vec::with_capacity(made.len());
    for s in made {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, format!("Bearer {}", s.token).parse()?);
        shops.push(DbShop {
            client: ObjectId::parse_str(&s.client_id)?,
            items: s.items.iter().map(|i| ObjectId::parse_str(&i.0)).collect::<Result<_, _>>()?,
            customers: s.customers.iter().map(ObjectId::parse_str).collect::<Result<_, _>>()?,
            headers,
            shop: s,
        });
    }
    if scenarios.iter().any(|s| s == "LOOKUP") {
        // every item gets a SKU (stored as the item write path stores it: `sku` and its key)
        for s in &shops {
            for (i, id) in s.items.iter().enumerate() {
                let sku = lookup_code(i);
                state
                    .db
                    .collection::<bson::Document>("items")
                    .update_one(
                        doc! { "_id": id },
                        doc! { "$set": { "sku": &sku, "codes": [viveka::barcode::key(&sku)] } },
                    )
                    .await?;
            }
        }
    }
    let shops = Arc::new(shops);
    let ids: Vec<String> = shops.iter().map(|s| s.shop.client_id.clone()).collect();
    println!("setup: {} shops x ({ITEMS_PER_SHOP} items, {CUSTOMERS_PER_SHOP} customers)", shops.len());
    println!("\nDB-only runs: {secs} s each after {warmup} s of warm-up (not counted)\n");

    let mut broken = false;
    let mut rows = Vec::new();
    print_header(true);
    let me = std::process::id();
    for sc in &scenarios {
        for &c in &conc {
            let cpu0 = (proc_cpu_ms(me), mongod_pid.and_then(proc_cpu_ms));
            let (state2, shops2, sc2) = (state.clone(), shops.clone(), sc.clone());
            let (row, errs) = drive(sc, c, Duration::from_secs(warmup), Duration::from_secs(secs), move |w, i| {
                let (state, shops, sc) = (state2.clone(), shops2.clone(), sc2.clone());
                async move { one(&state, &shops, &sc, w, i, c).await }
            })
            .await;
            let mut row = row;
            // this process stands in for the server: its CPU per request is the driver's and
            // the library's share without HTTP
            let per_req = |before: Option<u64>, p: Option<u32>| {
                let used = p.and_then(proc_cpu_ms)?.checked_sub(before?)? as f64;
                Some(used / (row.rps * (row.secs + warmup as f64)).max(1.0))
            };
            row.srv_cpu_ms = per_req(cpu0.0, Some(me));
            row.db_cpu_ms = per_req(cpu0.1, mongod_pid);
            row.peak_rss_mb = proc_kb(me, "VmRSS:").map(|k| k as f64 / 1024.0);
            print_row(&row);
            for e in &errs {
                println!("    error: {e}");
            }
            if sc.starts_with("CHECKOUT") {
                let inv = check_invariants(&state.db, &ids).await?;
                broken |= !report_invariants(&format!("{sc} x{c}"), &inv);
            }
            rows.push(row);
        }
    }
    println!("\nsummary (DB-only; \"srv cpu/req\" = this process, \"peak MB\" = its RSS)\n");
    print_header(true);
    for r in &rows {
        print_row(r);
    }
    println!("machine at the end: {}", machine());
    state.db.drop().await?;
    if broken {
        eprintln!("an invariant is broken (see above)");
        std::process::exit(1);
    }
    Ok(())
}

async fn one(state: &AppState, shops: &[DbShop], sc: &str, w: usize, i: u64, conc: usize) -> Result<(), String> {
    let n = shops.len();
    let shop = match sc {
        "CHECKOUT1" => &shops[0],
        "CHECKOUT32" => &shops[rand::thread_rng().gen_range(0..n)],
        _ => &shops[(w + i as usize * conc) % n],
    };
    let auth = viveka::auth::authenticate(state, &shop.headers).await.map_err(|e| format!("auth: {e:?}"))?;
    match sc {
        "READ" => {
            let (items, _) = catalog::list_items(state, auth.client_id, ListItemsQuery::default())
                .await
                .map_err(|e| format!("list: {e:?}"))?;
            if items.len() != ITEMS_PER_SHOP {
                return Err(format!("{} items", items.len()));
            }
            Ok(())
        }
        "LOOKUP" => {
            let i = rand::thread_rng().gen_range(0..shop.items.len());
            let found =
                catalog::lookup(state, auth.client_id, &lookup_code(i)).await.map_err(|e| format!("lookup: {e:?}"))?;
            if found.item.id != shop.items[i] {
                return Err(format!("lookup of item {i} found {}", found.item.id));
            }
            Ok(())
        }
        "READRAW" => {
            let docs: Vec<RawDocumentBuf> = state
                .db
                .collection::<RawDocumentBuf>("items")
                .find(doc! { "clientId": auth.client_id, "isActive": true })
                .sort(doc! { "_id": 1 })
                .await
                .map_err(|e| format!("find: {e}"))?
                .try_collect()
                .await
                .map_err(|e| format!("cursor: {e}"))?;
            if docs.len() != ITEMS_PER_SHOP {
                return Err(format!("{} items", docs.len()));
            }
            Ok(())
        }
        _ => {
            let c = pick_checkout(&shop.shop, &mut rand::thread_rng());
            let sale = Sale {
                client_id: shop.client,
                lines: LineSource::Products(
                    c.lines.iter().enumerate().map(|(k, (i, q))| (k, shop.items[*i], *q, None)).collect(),
                ),
                customer: CustomerRef::Id(shop.customers[c.customer]),
                customer_name: None,
                customer_phone: None,
                claimed_total: Some(Paise::new(c.total)),
                paid: Paise::new(c.total),
                tax: Paise::ZERO,
                discount: Paise::ZERO,
                method: "cash".into(),
                split: None,
                notes: String::new(),
                kind: "invoice",
                options: Default::default(),
                by: viveka::access::Actor::owner(shop.client, "Owner").by(),
                rights: viveka::billing::command::SellerRights::owner(),
                units: Default::default(),
                batch_nos: vec![],
                gst: Default::default(),
            };
            billing::issue(state, sale).await.map(|_| ()).map_err(|e| format!("issue: {e:?}"))
        }
    }
}

/// The SKU the `LOOKUP` scenario gives the i-th item of every shop (leading zeros kept).
fn lookup_code(i: usize) -> String {
    format!("00{i:04}")
}
