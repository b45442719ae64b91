//! `loadtest`: the HTTP load benchmark (issue #8). Starts the real server binary as its own
//! process (so the memory measured is the server's alone) on a fresh database, sets up 32
//! shops through the API (register, 1 group, 50 items, 20 customers each), then runs each
//! scenario for a fixed time at each concurrency with closed-loop workers:
//!
//! - `READ`: `GET /api/business/items/:clientId` (50 items), spread over the shops;
//! - `CHECKOUT1`: `POST /api/business/invoices/generatewithproducts` (3 products, a customer,
//!   paid in full) all on one shop;
//! - `CHECKOUT32`: the same spread over 32 shops;
//! - `MIXED`: 80 % READ, 20 % CHECKOUT over 32 shops;
//! - `SYNC`: `POST /api/v2/sync/push` of 50 operations (25 offline sales + 25 payments), each
//!   worker on its own shops.
//!
//! Prints req/s, p50, p99, errors (non-2xx or transport) and the server's peak RSS per run,
//! checks the invariants after every writing run (exit code 1 when one is broken) and drops
//! the database at the end.
//!
//! ```text
//! export CARGO_TARGET_DIR=/work/main/target MONGO_URL='mongodb://127.0.0.1:27400/?replicaSet=rs0'
//! cargo build --release --bin viveka --bin loadtest
//! $CARGO_TARGET_DIR/release/loadtest [--secs 10] [--conc 8,32] \
//!     [--scenarios READ,CHECKOUT1,CHECKOUT32,MIXED,SYNC] [--server-bin PATH] [--mongod-pid PID] \
//!     [--base-url URL --pid PID --db-name NAME]     # against a server already running
//! $CARGO_TARGET_DIR/release/loadtest --drop-leftovers  # databases of interrupted runs
//! ```

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use anyhow::{anyhow, bail, Context};
use rand::Rng;

#[path = "loadkit/mod.rs"]
mod loadkit;
use loadkit::*;

struct Args {
    base_url: Option<String>,
    pid: Option<u32>,
    db_name: Option<String>,
    secs: u64,
    warmup: u64,
    scenarios: Vec<String>,
    conc: Vec<usize>,
    shops: usize,
    server_bin: Option<PathBuf>,
    mongod_pid: Option<u32>,
    keep: bool,
    drop_leftovers: bool,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        base_url: None,
        pid: None,
        db_name: None,
        secs: 10,
        warmup: 1,
        scenarios: ["READ", "CHECKOUT1", "CHECKOUT32", "MIXED", "SYNC"].map(String::from).to_vec(),
        conc: vec![8, 32],
        shops: 32,
        server_bin: None,
        mongod_pid: None,
        keep: false,
        drop_leftovers: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or_else(|| anyhow!("{k} needs a value"));
        match k.as_str() {
            "--base-url" => a.base_url = Some(v()?.trim_end_matches('/').to_string()),
            "--pid" => a.pid = Some(v()?.parse()?),
            "--db-name" => a.db_name = Some(v()?),
            "--secs" => a.secs = v()?.parse()?,
            "--warmup" => a.warmup = v()?.parse()?,
            "--scenarios" => a.scenarios = parse_list::<String>(&v()?)?.into_iter().map(|s| s.to_uppercase()).collect(),
            "--conc" => a.conc = parse_list(&v()?)?,
            "--shops" => a.shops = v()?.parse()?,
            "--server-bin" => a.server_bin = Some(PathBuf::from(v()?)),
            "--mongod-pid" => a.mongod_pid = Some(v()?.parse()?),
            "--keep" => a.keep = true,
            "--drop-leftovers" => a.drop_leftovers = true,
            "-h" | "--help" => {
                println!("loadtest [--secs N] [--warmup N] [--conc 8,32] [--scenarios READ,CHECKOUT1,CHECKOUT32,MIXED,SYNC] [--shops 32] [--server-bin PATH] [--mongod-pid PID] [--base-url URL --pid PID --db-name NAME] [--keep] [--drop-leftovers]");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    for s in &a.scenarios {
        if !["READ", "CHECKOUT1", "CHECKOUT32", "MIXED", "SYNC"].contains(&s.as_str()) {
            bail!("unknown scenario {s}");
        }
    }
    if a.shops == 0 {
        bail!("--shops must be at least 1");
    }
    Ok(a)
}

struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn start_server(bin: &PathBuf, mongo_url: &str, db: &str, port: u16) -> anyhow::Result<Server> {
    let log = std::fs::File::create(format!("/tmp/loadtest-server-{port}.log"))?;
    let child = Command::new(bin)
        .arg("serve")
        .env("MONGO_URL", mongo_url)
        .env("MONGO_DB_NAME", db)
        .env("PORT", port.to_string())
        .env("APP_ENV", "development")
        .env("OTP_PROVIDER", "console")
        .env("OTP_SEND_LIMIT_PER_PHONE", "1000")
        .env("OTP_SEND_LIMIT_PER_IP", "100000")
        .env("OTP_FAILED_VERIFY_LIMIT_PER_DAY", "1000")
        .env("REGISTER_LIMIT_PER_IP", "100000")
        .env("REQUEST_TIMEOUT_SECS", "60")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    Ok(Server { child })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    let mongo_url = std::env::var("MONGO_URL").ok();
    if a.drop_leftovers {
        // databases of interrupted runs of loadtest / bench_db (each run drops its own)
        let url = mongo_url.clone().ok_or_else(|| anyhow!("set MONGO_URL"))?;
        let client = mongodb::Client::with_uri_str(&url).await?;
        for name in client.list_database_names().await? {
            if name.starts_with("loadtest_") || name.starts_with("bench_db_") {
                client.database(&name).drop().await?;
                println!("dropped {name}");
            }
        }
        return Ok(());
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?;

    // the server: ours, or one already running
    let mut _server = None;
    let (base, pid, db_name) = match &a.base_url {
        Some(b) => (b.clone(), a.pid, a.db_name.clone()),
        None => {
            let mongo_url = mongo_url.clone().ok_or_else(|| anyhow!("set MONGO_URL (a replica set)"))?;
            let bin = match &a.server_bin {
                Some(b) => b.clone(),
                None => std::env::current_exe()?.with_file_name("viveka"),
            };
            let db = format!("loadtest_{}", uuid::Uuid::new_v4().simple());
            let port = free_port()?;
            let s = start_server(&bin, &mongo_url, &db, port)?;
            let pid = s.child.id();
            _server = Some(s);
            println!("server: {} serve (pid {pid}) on port {port}, database {db}", bin.display());
            (format!("http://127.0.0.1:{port}"), Some(pid), Some(db))
        }
    };
    let mut up = false;
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{base}/api/health")).send().await {
            if r.status().is_success() {
                up = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !up {
        bail!("the server at {base} did not answer /api/health within 30 s");
    }
    let db = match (&mongo_url, &db_name) {
        (Some(u), Some(n)) => Some(mongodb::Client::with_uri_str(u).await?.database(n)),
        _ => {
            println!("(no MONGO_URL or --db-name: the invariant checks are skipped)");
            None
        }
    };
    let mem = pid.map(MemSampler::start);
    println!("machine: {}", machine());

    let t = std::time::Instant::now();
    let shops = Arc::new(setup_shops(&http, &base, a.shops).await?);
    println!(
        "setup: {} shops x ({} items, {} customers, 1 group) through the API in {:.1} s",
        shops.len(),
        ITEMS_PER_SHOP,
        CUSTOMERS_PER_SHOP,
        t.elapsed().as_secs_f64()
    );
    if let Some(m) = &mem {
        println!("server RSS after setup: {:.1} MB", m.all_peak_mb());
    }
    let ids: Vec<String> = shops.iter().map(|s| s.client_id.clone()).collect();

    let mut rows = Vec::new();
    let mut broken = false;
    let dur = Duration::from_secs(a.secs);
    let warm = Duration::from_secs(a.warmup);
    println!("\nruns: {} s each after {} s of warm-up (not counted)\n", a.secs, a.warmup);
    print_header(mem.is_some());
    for scenario in &a.scenarios {
        for &conc in &a.conc {
            if let Some(m) = &mem {
                m.reset_run();
            }
            let (http, shops, base) = (http.clone(), shops.clone(), base.clone());
            let sc = scenario.clone();
            let cpu0 = (pid.and_then(proc_cpu_ms), a.mongod_pid.and_then(proc_cpu_ms));
            let (mut row, errs) = drive(scenario, conc, warm, dur, move |w, i| {
                let (http, shops, base, sc) = (http.clone(), shops.clone(), base.clone(), sc.clone());
                async move { one(&http, &shops, &base, &sc, w, i, conc).await }
            })
            .await;
            row.peak_rss_mb = mem.as_ref().map(|m| m.run_peak_mb());
            // includes the warm-up's requests, which are not in `requests`: scale by time
            let per_req = |before: Option<u64>, p: Option<u32>| {
                let used = p.and_then(proc_cpu_ms)?.checked_sub(before?)? as f64;
                Some(used / (row.rps * (row.secs + a.warmup as f64)).max(1.0))
            };
            row.srv_cpu_ms = per_req(cpu0.0, pid);
            row.db_cpu_ms = per_req(cpu0.1, a.mongod_pid);
            print_row(&row);
            for e in &errs {
                println!("    error: {e}");
            }
            if scenario != "READ" {
                if let Some(db) = &db {
                    let inv = check_invariants(db, &ids).await?;
                    if !report_invariants(&format!("{scenario} x{conc}"), &inv) {
                        broken = true;
                    }
                }
            }
            rows.push(row);
        }
    }

    println!("\nsummary\n");
    print_header(mem.is_some());
    for r in &rows {
        print_row(r);
    }
    if let (Some(m), Some(pid)) = (&mem, pid) {
        let hwm = proc_kb(pid, "VmHWM:").map(|k| k as f64 / 1024.0);
        println!(
            "\nserver memory: peak VmRSS sampled every 100 ms {:.1} MB; VmHWM {}",
            m.all_peak_mb(),
            hwm.map(|v| format!("{v:.1} MB")).unwrap_or_else(|| "n/a".into())
        );
    }
    println!("machine at the end: {}", machine());
    if _server.is_some() {
        if let Some(db) = &db {
            if a.keep {
                println!("database kept: {}", db.name());
            } else {
                db.drop().await?;
            }
        }
    }
    drop(_server);
    if broken {
        eprintln!("an invariant is broken (see above)");
        std::process::exit(1);
    }
    Ok(())
}

async fn send(req: reqwest::RequestBuilder) -> Result<(), String> {
    let r = req.send().await.map_err(|e| format!("transport: {e}"))?;
    let status = r.status();
    // read the whole body: the request is not done before it is
    let body = r.bytes().await.map_err(|e| format!("body: {e}"))?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("{status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)])))
    }
}

async fn one(
    http: &reqwest::Client,
    shops: &[Shop],
    base: &str,
    scenario: &str,
    w: usize,
    i: u64,
    conc: usize,
) -> Result<(), String> {
    let read = |s: &Shop| send(http.get(format!("{base}/api/business/items/{}", s.client_id)).bearer_auth(&s.token));
    let checkout = |s: &Shop| {
        let c = pick_checkout(s, &mut rand::thread_rng());
        send(
            http.post(format!("{base}/api/business/invoices/generatewithproducts"))
                .bearer_auth(&s.token)
                .json(&checkout_body(s, &c)),
        )
    };
    let n = shops.len();
    match scenario {
        "READ" => read(&shops[(w + i as usize * conc) % n]).await,
        "CHECKOUT1" => checkout(&shops[0]).await,
        "CHECKOUT32" => {
            let k = rand::thread_rng().gen_range(0..n);
            checkout(&shops[k]).await
        }
        "MIXED" => {
            let (shop, is_read) = {
                let mut rng = rand::thread_rng();
                (&shops[rng.gen_range(0..n)], rng.gen_bool(0.8))
            };
            if is_read {
                read(shop).await
            } else {
                checkout(shop).await
            }
        }
        "SYNC" => {
            // a device pushes its own shop's operations one push at a time: worker w owns
            // shops w, w + conc, ... (with conc >= shops, workers share shops)
            let owned: Vec<usize> = (0..n).filter(|s| s % conc.min(n) == w % n.min(conc)).collect();
            let shop = &shops[owned[(i as usize) % owned.len().max(1)]];
            let body = sync_body(shop, &mut rand::thread_rng());
            let r = http
                .post(format!("{base}/api/v2/sync/push"))
                .bearer_auth(&shop.token)
                .json(&body)
                .send()
                .await
                .map_err(|e| format!("transport: {e}"))?;
            let status = r.status();
            let v: serde_json::Value = r.json().await.map_err(|e| format!("body: {e}"))?;
            if status.is_success() && v["summary"]["applied"] == 50 {
                Ok(())
            } else {
                Err(format!("{status}: {}", v.to_string().chars().take(300).collect::<String>()))
            }
        }
        other => Err(format!("unknown scenario {other}")),
    }
}
