//! Shared by the `loadtest` (HTTP) and `bench_db` (driver only) binaries: shop setup through
//! the HTTP API, the closed-loop driver, latency statistics, the result table and the
//! invariant checks. Not a binary itself (a directory without `main.rs`).

#![allow(dead_code)]

use std::{
    collections::HashMap,
    future::Future,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context};
use bson::{doc, oid::ObjectId, Document};
use futures::TryStreamExt;
use rand::{seq::SliceRandom, Rng};
use serde_json::{json, Value};

pub const ITEMS_PER_SHOP: usize = 50;
pub const CUSTOMERS_PER_SHOP: usize = 20;
/// Every item starts with this stock, far above what a run can sell.
pub const START_STOCK: i64 = 10_000_000;

/// One shop made through the API.
#[derive(Clone, Debug)]
pub struct Shop {
    pub client_id: String,
    pub token: String,
    /// (item id, price in paise)
    pub items: Vec<(String, i64)>,
    pub customers: Vec<String>,
}

async fn call(http: &reqwest::Client, req: reqwest::RequestBuilder, what: &str) -> anyhow::Result<Value> {
    let _ = http;
    let r = req.send().await.with_context(|| what.to_string())?;
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{what}: {status} {body}");
    }
    Ok(body)
}

/// Register a shop (mock OTP), then 1 group, 50 items and 20 customers, all through the API.
pub async fn setup_shop(http: &reqwest::Client, base: &str, n: usize) -> anyhow::Result<Shop> {
    let phone = format!("9{:09}", rand::thread_rng().gen_range(0..1_000_000_000u64));
    call(
        http,
        http.post(format!("{base}/api/mockotp/send")).json(&json!({ "phoneNumber": phone, "purpose": "register" })),
        "mock OTP",
    )
    .await?;
    let reg = call(
        http,
        http.post(format!("{base}/api/auth/register")).json(&json!({
            "phoneNumber": phone, "otp": "1234", "ownerName": format!("Owner {n}"),
            "businessName": format!("Load Shop {n}"), "deviceId": "loadtest",
        })),
        "register",
    )
    .await?;
    let token = reg["token"].as_str().ok_or_else(|| anyhow!("register: no token"))?.to_string();
    let client_id = reg["clientId"].as_str().ok_or_else(|| anyhow!("register: no clientId"))?.to_string();
    let g = call(
        http,
        http.post(format!("{base}/api/business/item-groups"))
            .bearer_auth(&token)
            .json(&json!({ "name": "Spares", "description": "load test" })),
        "item group",
    )
    .await?;
    let group = g["itemGroup"]["_id"].as_str().ok_or_else(|| anyhow!("group: no _id"))?.to_string();
    let mut items = Vec::with_capacity(ITEMS_PER_SHOP);
    for i in 0..ITEMS_PER_SHOP {
        // prices 10.00 .. 59.50 rupees (whole paise, two decimals on the wire)
        let paise = 1_000 + 50 * i as i64 + (i as i64 % 3) * 25;
        let r = call(
            http,
            http.post(format!("{base}/api/business/items")).bearer_auth(&token).json(&json!({
                "name": format!("Item {i:02}"), "price": paise as f64 / 100.0, "stock": START_STOCK,
                "groupId": group, "unit": "nos", "description": "load test item",
            })),
            "item",
        )
        .await?;
        let id = r["item"]["_id"].as_str().ok_or_else(|| anyhow!("item: no _id"))?.to_string();
        items.push((id, paise));
    }
    let mut customers = Vec::with_capacity(CUSTOMERS_PER_SHOP);
    for c in 0..CUSTOMERS_PER_SHOP {
        let r = call(
            http,
            http.post(format!("{base}/api/business/client-customers"))
                .bearer_auth(&token)
                .json(&json!({ "phone": format!("98{n:04}{c:04}"), "name": format!("Customer {c}") })),
            "customer",
        )
        .await?;
        let id = r["clientCustomer"]["_id"].as_str().ok_or_else(|| anyhow!("customer: no _id"))?.to_string();
        customers.push(id);
    }
    Ok(Shop { client_id, token, items, customers })
}

/// `n` shops, 8 set up at a time.
pub async fn setup_shops(http: &reqwest::Client, base: &str, n: usize) -> anyhow::Result<Vec<Shop>> {
    let mut shops = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(8) {
        let made = futures::future::try_join_all(chunk.iter().map(|&i| setup_shop(http, base, i))).await?;
        shops.extend(made);
    }
    Ok(shops)
}

/// One checkout: 3 distinct items, quantity 1-2, a customer of the shop, paid in full.
pub struct Checkout {
    /// (index into shop.items, quantity)
    pub lines: Vec<(usize, i64)>,
    pub customer: usize,
    pub total: i64,
}

pub fn pick_checkout(shop: &Shop, rng: &mut impl Rng) -> Checkout {
    let idx: Vec<usize> = rand::seq::index::sample(rng, shop.items.len(), 3).into_vec();
    let lines: Vec<(usize, i64)> = idx.into_iter().map(|i| (i, rng.gen_range(1..=2))).collect();
    let total = lines.iter().map(|(i, q)| shop.items[*i].1 * q).sum();
    Checkout { lines, customer: rng.gen_range(0..shop.customers.len()), total }
}

pub fn rupees(paise: i64) -> Value {
    // exact: at most two decimals
    let text = format!("{}.{:02}", paise / 100, paise % 100);
    serde_json::from_str(&text).unwrap_or(json!(paise / 100))
}

pub fn checkout_body(shop: &Shop, c: &Checkout) -> Value {
    json!({
        "products": c.lines.iter().map(|(i, q)| json!({ "productId": shop.items[*i].0, "quantity": q })).collect::<Vec<_>>(),
        "clientCustomerId": shop.customers[c.customer],
        "totalAmount": rupees(c.total),
        "paidAmount": rupees(c.total),
        "paymentMethod": "cash",
    })
}

/// A v2 push of 50 operations: 25 offline sales (3 lines, part-paid) and 25 payments that
/// settle them (by `invoiceOpId`).
pub fn sync_body(shop: &Shop, rng: &mut impl Rng) -> Value {
    let now = chrono::Utc::now().to_rfc3339();
    let mut ops = Vec::with_capacity(50);
    let mut pays = Vec::with_capacity(25);
    for k in 0..25 {
        let c = pick_checkout(shop, rng);
        let op = uuid::Uuid::new_v4().to_string();
        let half = c.total / 2;
        ops.push(json!({ "opId": op, "entity": "invoice", "kind": "create", "deviceTime": now, "payload": {
            "products": c.lines.iter().map(|(i, q)| json!({ "productId": shop.items[*i].0, "quantity": q, "costPerUnit": rupees(shop.items[*i].1) })).collect::<Vec<_>>(),
            "clientCustomerId": shop.customers[c.customer],
            "paidAmount": rupees(half), "deviceRef": format!("L-{k}-{}", &op[..8]) } }));
        pays.push(
            json!({ "opId": uuid::Uuid::new_v4().to_string(), "entity": "payment", "kind": "create", "deviceTime": now,
            "payload": { "invoiceOpId": op, "amount": rupees(c.total - half), "method": "upi" } }),
        );
    }
    ops.extend(pays);
    json!({ "operations": ops })
}

pub fn shuffled<T: Clone>(v: &[T]) -> Vec<T> {
    let mut v = v.to_vec();
    v.shuffle(&mut rand::thread_rng());
    v
}

// ---------- driver and statistics ----------

#[derive(Default)]
pub struct Outcome {
    /// Latencies in microseconds of every request (failed ones too).
    pub lat_us: Vec<u32>,
    pub errors: u64,
    pub first_errors: Vec<String>,
}

pub struct Row {
    pub scenario: String,
    pub conc: usize,
    pub secs: f64,
    pub requests: usize,
    pub errors: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Peak RSS of the server during the run, MB (HTTP runs only).
    pub peak_rss_mb: Option<f64>,
    /// CPU time (user + system) per request of the server process / of mongod, ms: far less
    /// sensitive to other load on a shared machine than req/s.
    pub srv_cpu_ms: Option<f64>,
    pub db_cpu_ms: Option<f64>,
    pub note: String,
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

/// Run `conc` closed-loop workers for `dur` (after `warmup`, not counted). `f(worker, i)`
/// makes one request and answers `Ok(())` or an error text.
pub async fn drive<F, Fut>(scenario: &str, conc: usize, warmup: Duration, dur: Duration, f: F) -> (Row, Vec<String>)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let f = Arc::new(f);
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + dur;
    let mut tasks = Vec::with_capacity(conc);
    for w in 0..conc {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Outcome::default();
            let mut i = 0u64;
            loop {
                let t = Instant::now();
                if t >= end {
                    break;
                }
                let r = f(w, i).await;
                i += 1;
                if t < measure_from {
                    continue;
                }
                out.lat_us.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                if let Err(e) = r {
                    out.errors += 1;
                    if out.first_errors.len() < 3 {
                        out.first_errors.push(e);
                    }
                }
            }
            out
        }));
    }
    let mut all = Outcome::default();
    for t in tasks {
        if let Ok(o) = t.await {
            all.lat_us.extend(o.lat_us);
            all.errors += o.errors;
            all.first_errors.extend(o.first_errors);
        }
    }
    let secs = (Instant::now().min(end + Duration::from_secs(3600)) - measure_from).as_secs_f64();
    all.lat_us.sort_unstable();
    let n = all.lat_us.len();
    let row = Row {
        scenario: scenario.to_string(),
        conc,
        secs,
        requests: n,
        errors: all.errors,
        rps: n as f64 / secs.max(1e-9),
        p50_ms: pct(&all.lat_us, 0.50),
        p99_ms: pct(&all.lat_us, 0.99),
        max_ms: all.lat_us.last().map(|v| *v as f64 / 1000.0).unwrap_or(0.0),
        peak_rss_mb: None,
        srv_cpu_ms: None,
        db_cpu_ms: None,
        note: String::new(),
    };
    all.first_errors.truncate(5);
    (row, all.first_errors)
}

pub fn print_header(mem: bool) {
    if mem {
        println!(
            "| {:<12} | {:>4} | {:>8} | {:>9} | {:>8} | {:>8} | {:>8} | {:>6} | {:>8} | {:>10} | {:>10} |",
            "scenario",
            "conc",
            "requests",
            "req/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "errors",
            "peak MB",
            "srv cpu/req",
            "db cpu/req"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
    } else {
        println!(
            "| {:<12} | {:>4} | {:>8} | {:>9} | {:>8} | {:>8} | {:>8} | {:>6} | note",
            "scenario", "conc", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "errors"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
    }
}

pub fn print_row(r: &Row) {
    match r.peak_rss_mb {
        Some(m) => {
            let ms = |v: Option<f64>| v.map(|v| format!("{v:.3} ms")).unwrap_or_else(|| "-".into());
            println!(
                "| {:<12} | {:>4} | {:>8} | {:>9.1} | {:>8.2} | {:>8.2} | {:>8.1} | {:>6} | {:>8.1} | {:>11} | {:>10} |",
                r.scenario,
                r.conc,
                r.requests,
                r.rps,
                r.p50_ms,
                r.p99_ms,
                r.max_ms,
                r.errors,
                m,
                ms(r.srv_cpu_ms),
                ms(r.db_cpu_ms)
            )
        }
        None => println!(
            "| {:<12} | {:>4} | {:>8} | {:>9.1} | {:>8.2} | {:>8.2} | {:>8.1} | {:>6} | {}",
            r.scenario, r.conc, r.requests, r.rps, r.p50_ms, r.p99_ms, r.max_ms, r.errors, r.note
        ),
    }
}

// ---------- memory and CPU of a process ----------

/// User + system CPU time of a process in ms (`/proc/PID/stat`, 100 ticks per second).
pub fn proc_cpu_ms(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // fields after the command name (which may contain spaces) start at state
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (u, k): (u64, u64) = (f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?);
    Some((u + k) * 10)
}

/// `VmRSS` / `VmHWM` of a process in kB from `/proc/PID/status`.
pub fn proc_kb(pid: u32, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok())
}

/// Samples `VmRSS` every 100 ms; `run_peak` is reset by the caller at each run.
pub struct MemSampler {
    pub run_peak_kb: Arc<AtomicU64>,
    pub all_peak_kb: Arc<AtomicU64>,
}

impl MemSampler {
    pub fn start(pid: u32) -> MemSampler {
        let run_peak_kb = Arc::new(AtomicU64::new(0));
        let all_peak_kb = Arc::new(AtomicU64::new(0));
        let (r, a) = (run_peak_kb.clone(), all_peak_kb.clone());
        tokio::spawn(async move {
            while let Some(kb) = proc_kb(pid, "VmRSS:") {
                r.fetch_max(kb, Ordering::Relaxed);
                a.fetch_max(kb, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        MemSampler { run_peak_kb, all_peak_kb }
    }
    pub fn reset_run(&self) {
        self.run_peak_kb.store(0, Ordering::Relaxed);
    }
    pub fn run_peak_mb(&self) -> f64 {
        self.run_peak_kb.load(Ordering::Relaxed) as f64 / 1024.0
    }
    pub fn all_peak_mb(&self) -> f64 {
        self.all_peak_kb.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

// ---------- invariants ----------

fn as_i64(d: &Document, key: &str) -> i64 {
    match d.get(key) {
        Some(bson::Bson::Int64(v)) => *v,
        Some(bson::Bson::Int32(v)) => *v as i64,
        Some(bson::Bson::Double(v)) => *v as i64,
        _ => 0,
    }
}

/// What the checks found over the given shops (all must hold after every load run).
pub struct Invariants {
    pub invoices: u64,
    pub problems: Vec<String>,
}

/// Checks, per shop, straight through the driver:
/// - stock of every item = `START_STOCK` - Σ quantities sold on the shop's invoices;
/// - Σ payments of every invoice = its `paidAmount`;
/// - the invoice numbers of each financial year are exactly 1..N (no gap, no duplicate),
///   and `invoiceNumber` matches `seq`.
pub async fn check_invariants(db: &mongodb::Database, client_ids: &[String]) -> anyhow::Result<Invariants> {
    let mut problems = Vec::new();
    let mut invoices_total = 0u64;
    for cid in client_ids {
        let client = ObjectId::parse_str(cid)?;
        // sold per item
        let mut sold: HashMap<ObjectId, i64> = HashMap::new();
        let mut paid_on: HashMap<ObjectId, i64> = HashMap::new();
        let mut seqs: HashMap<String, Vec<i64>> = HashMap::new();
        let mut cur = db
            .collection::<Document>("invoices")
            .find(doc! { "clientId": client })
            .projection(doc! { "products.productId": 1, "products.quantity": 1, "paidAmount": 1, "seq": 1, "financialYear": 1, "invoiceNumber": 1 })
            .await?;
        while let Some(inv) = cur.try_next().await? {
            invoices_total += 1;
            let id = inv.get_object_id("_id")?;
            if let Ok(lines) = inv.get_array("products") {
                for l in lines {
                    if let Some(l) = l.as_document() {
                        if let Ok(p) = l.get_object_id("productId") {
                            *sold.entry(p).or_default() += as_i64(l, "quantity");
                        }
                    }
                }
            }
            paid_on.insert(id, as_i64(&inv, "paidAmount"));
            if let (Ok(fy), Some(seq)) = (inv.get_str("financialYear"), inv.get("seq").map(|_| as_i64(&inv, "seq"))) {
                let expect = viveka::billing::decide::format_number(fy, seq);
                if inv.get_str("invoiceNumber").ok() != Some(expect.as_str()) {
                    problems.push(format!(
                        "shop {cid}: invoice {id} number {:?} != {expect}",
                        inv.get_str("invoiceNumber")
                    ));
                }
                seqs.entry(fy.to_string()).or_default().push(seq);
            }
        }
        for (fy, mut v) in seqs {
            v.sort_unstable();
            let n = v.len() as i64;
            let bad = v.iter().enumerate().find(|(i, s)| **s != *i as i64 + 1);
            if let Some((i, s)) = bad {
                problems
                    .push(format!("shop {cid} FY {fy}: {n} numbers, position {} holds {s} (gap or duplicate)", i + 1));
            }
        }
        // stock
        let mut cur = db
            .collection::<Document>("items")
            .find(doc! { "clientId": client })
            .projection(doc! { "stock": 1 })
            .await?;
        while let Some(it) = cur.try_next().await? {
            let id = it.get_object_id("_id")?;
            let stock = as_i64(&it, "stock");
            let want = START_STOCK - sold.get(&id).copied().unwrap_or(0);
            if stock != want {
                problems.push(format!("shop {cid}: item {id} stock {stock}, expected {want}"));
            }
        }
        // payments
        let mut sums: HashMap<ObjectId, i64> = HashMap::new();
        let mut cur = db
            .collection::<Document>("payments")
            .find(doc! { "clientId": client })
            .projection(doc! { "invoiceId": 1, "amount": 1 })
            .await?;
        while let Some(p) = cur.try_next().await? {
            *sums.entry(p.get_object_id("invoiceId")?).or_default() += as_i64(&p, "amount");
        }
        for (inv, paid) in &paid_on {
            let got = sums.remove(inv).unwrap_or(0);
            if got != *paid {
                problems.push(format!("shop {cid}: invoice {inv} payments {got} != paidAmount {paid}"));
            }
        }
        for (inv, got) in sums {
            problems.push(format!("shop {cid}: {got} paise of payments on unknown invoice {inv}"));
        }
    }
    problems.truncate(20);
    Ok(Invariants { invoices: invoices_total, problems })
}

pub fn report_invariants(label: &str, inv: &Invariants) -> bool {
    if inv.problems.is_empty() {
        println!(
            "  invariants after {label}: OK ({} invoices: stock = start - sold, payments = paidAmount, numbers 1..N)",
            inv.invoices
        );
        true
    } else {
        println!("  invariants after {label}: BROKEN");
        for p in &inv.problems {
            println!("    - {p}");
        }
        false
    }
}

pub fn parse_list<T: std::str::FromStr>(s: &str) -> anyhow::Result<Vec<T>> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| x.parse::<T>().map_err(|_| anyhow!("bad list element {x}")))
        .collect()
}

pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{} cpus ({cpu}), load average {}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    )
}
