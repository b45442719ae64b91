//! Fault tests (issue 8): the real server binary against a MongoDB of its own that the test
//! kills, restarts and freezes, and the server itself SIGKILLed, under load from retrying
//! clients that use `X-Idempotency-Key`. Afterwards every sale and payment exists exactly
//! once, stock and payment sums agree, and invoice numbers are consecutive.
//!
//! Each test starts a dedicated single-node replica set (`scripts/mongo.sh start PORT DIR`,
//! which fetches mongod into `.cache/` when missing) on a free port with a data folder
//! under `target/tmp`, and never touches the shared one. Guards kill mongod and the server
//! and remove the folder on drop, panics included.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use bson::{doc, oid::ObjectId, Document};
use futures::TryStreamExt;
use serde_json::{json, Value};

use crate::{
    billing::seed_item,
    helpers::{phone, Registered, TestApp},
};

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn sh(cmd: &str, args: &[&str]) -> std::process::ExitStatus {
    std::process::Command::new(cmd).args(args).status().unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

/// A dedicated mongod (single-node replica set `rs0`) with its own port and data folder.
struct Mongod {
    port: u16,
    dir: PathBuf,
    extra_args: String,
}

impl Mongod {
    async fn start(extra_args: &str) -> Mongod {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("faults-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("data dir");
        let m = Mongod { port: free_port(), dir, extra_args: extra_args.to_string() };
        m.run_script().await;
        viveka::db::replset::ensure_initiated(&format!("127.0.0.1:{}", m.port), Duration::from_secs(60))
            .await
            .expect("replica set initiated");
        m
    }

    fn data(&self) -> PathBuf {
        self.dir.join("db")
    }

    /// `scripts/mongo.sh start` (fetches mongod if missing; reuses the data folder).
    async fn run_script(&self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mongo.sh");
        let st = tokio::process::Command::new(script)
            .args(["start", &self.port.to_string(), &self.data().to_string_lossy()])
            .env("MONGOD_EXTRA_ARGS", &self.extra_args)
            .status()
            .await
            .expect("scripts/mongo.sh");
        assert!(st.success(), "scripts/mongo.sh start failed; see {}/mongod.log", self.data().display());
    }

    fn url(&self) -> String {
        format!("mongodb://127.0.0.1:{}/?replicaSet=rs0", self.port)
    }

    fn pid(&self) -> Option<String> {
        std::fs::read_to_string(self.data().join("mongod.pid")).ok().map(|s| s.trim().to_string())
    }

    fn signal(&self, sig: &str) {
        let pid = self.pid().expect("mongod pid file");
        assert!(sh("kill", &[sig, &pid]).success(), "kill {sig} {pid}");
    }

    /// SIGKILL and wait until the process is gone.
    fn kill(&self) {
        if let Some(pid) = self.pid() {
            let _ = sh("kill", &["-KILL", &pid]);
            for _ in 0..100 {
                if !Path::new(&format!("/proc/{pid}")).exists() || proc_state(&pid).starts_with('Z') {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

fn proc_state(pid: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("State:")).map(|l| l[6..].trim().to_string()))
        .unwrap_or_default()
}

impl Drop for Mongod {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server binary (`VIVEKA_SERVER_BIN`, else the one cargo built for these tests),
/// hard-linked (else copied) into the test's folder first: a shared target directory may get
/// another build of `viveka` while the test runs.
fn server_exe(dir: &Path) -> PathBuf {
    let dst = dir.join("viveka");
    if !dst.exists() {
        let src = std::env::var_os("VIVEKA_SERVER_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_viveka")));
        if std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst).expect("copy the server binary");
        }
        // several checkouts sharing one target directory overwrite each other's `viveka`:
        // make sure this one is a build with keyed payments, or say so plainly
        let out = std::process::Command::new(&dst).arg("openapi").output().expect("viveka openapi");
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let keyed = doc["paths"]["/api/business/invoices/pay"]["post"]["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "X-Idempotency-Key"));
        assert!(
            keyed,
            "{} is not a build of this checkout (no X-Idempotency-Key on /pay); rebuild it or set VIVEKA_SERVER_BIN",
            src.display()
        );
    }
    dst
}

/// `viveka serve` as a child process (SIGKILLed on drop).
struct Server {
    child: tokio::process::Child,
    port: u16,
}

impl Server {
    async fn start(m: &Mongod, db: &str, port: u16, env: &[(&str, &str)]) -> Server {
        Self::start_at(&m.url(), &m.dir, db, port, env).await
    }

    /// With the database URL and the test folder (the binary and `server.log` live there).
    async fn start_at(url: &str, dir: &Path, db: &str, port: u16, env: &[(&str, &str)]) -> Server {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("server.log")).expect("log");
        let mut cmd = tokio::process::Command::new(server_exe(dir));
        cmd.arg("serve")
            .env("MONGO_URL", url)
            .env("MONGO_DB_NAME", db)
            .env("PORT", port.to_string())
            .env("JWT_SECRET", crate::helpers::JWT_SECRET)
            .env("APP_ENV", "development")
            .env("OTP_PROVIDER", "console")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start the server binary");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
        let started = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("http://127.0.0.1:{port}/api/health")).send().await {
                if r.status() == 200 {
                    break;
                }
            }
            assert!(started.elapsed() < Duration::from_secs(60), "server did not become healthy");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Server { child, port }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Resident memory of the server process, in KiB.
    fn rss_kib(&self) -> u64 {
        let pid = self.child.id().expect("running");
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }
}

/// One HTTP answer as the client saw it.
#[derive(Debug, Clone)]
struct Seen {
    started: Instant,
    elapsed: Duration,
    /// `None`: transport error (connection refused or reset, client timeout).
    status: Option<u16>,
    body: Value,
}

impl Seen {
    /// `{success:false, code}` with a message (the v1 envelope of a non-400 error).
    fn is_envelope(&self) -> bool {
        self.body["success"] == json!(false) && self.body["code"].is_string() && self.body["message"].is_string()
    }

    /// What a request answers while the database cannot serve it: 503, or (issue 12) 504
    /// `OUTCOME_UNKNOWN` for a checkout or payment whose transaction was still pending at the
    /// request timeout (it runs on in its own task; the keyed retry gets its outcome).
    fn is_unavailable(&self) -> bool {
        self.status == Some(503) || (self.status == Some(504) && self.body["code"] == json!("OUTCOME_UNKNOWN"))
    }
}

async fn send(req: reqwest::RequestBuilder) -> Seen {
    let started = Instant::now();
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            Seen {
                started,
                elapsed: started.elapsed(),
                status: Some(status),
                body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
            }
        }
        Err(_) => Seen { started, elapsed: started.elapsed(), status: None, body: Value::Null },
    }
}

/// A logical request (a sale or a payment) with its own idempotency key, retried on
/// transport errors, 5xx and 409 until a 2xx or a definitive 4xx.
#[derive(Debug)]
struct Done {
    key: String,
    status: u16,
    body: Value,
    attempts: usize,
}

async fn until_done(
    http: &reqwest::Client,
    base: &Arc<Mutex<String>>,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
    log: &Mutex<Vec<Seen>>,
) -> Done {
    let started = Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let url = format!("{}{path}", base.lock().unwrap());
        let req = http.post(url).bearer_auth(token).header("X-Idempotency-Key", key).json(body);
        let seen = send(req).await;
        log.lock().unwrap().push(seen.clone());
        match seen.status {
            Some(s) if (200..300).contains(&s) => {
                return Done { key: key.into(), status: s, body: seen.body, attempts }
            }
            Some(s) if (400..500).contains(&s) && s != 409 && s != 429 => {
                return Done { key: key.into(), status: s, body: seen.body, attempts }
            }
            _ => {}
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{path} with key {key} never completed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A shop with one item (price ₹10, stock `stock`) registered through an in-process
/// server on the same database.
async fn shop(app: &TestApp, stock: i64) -> (Registered, String) {
    let r = app.register(&phone()).await;
    let item = seed_item(app, &r.client_id, "Brake shoe", 1000, stock).await;
    (r, item)
}

fn checkout_body(item: &str, key: &str) -> Value {
    json!({ "products": [{ "productId": item, "quantity": 1 }], "paidAmount": 10, "notes": format!("fault {key}") })
}

async fn all(app: &TestApp, coll: &str, filter: Document) -> Vec<Document> {
    app.db.collection::<Document>(coll).find(filter).await.unwrap().try_collect().await.unwrap()
}

/// The database after the storm: each completed checkout exactly once (by its key in the
/// notes), answered with the invoice number it has, one payment each with the right sum,
/// stock moved once per sale, numbers 1..N without gap, one idempotency record per key.
async fn assert_sales_exactly_once(app: &TestApp, r: &Registered, item: &str, start_stock: i64, done: &[Done]) {
    let cid = ObjectId::parse_str(&r.client_id).unwrap();
    for d in done {
        assert_eq!(d.status, 201, "checkout {} ended with {}: {}", d.key, d.status, d.body);
    }
    let n = done.len() as i64;
    let invoices = all(app, "invoices", doc! { "clientId": cid }).await;
    assert_eq!(invoices.len() as i64, n, "one invoice per completed checkout");
    let by_note: HashMap<String, &Document> =
        invoices.iter().map(|d| (d.get_str("notes").unwrap().to_string(), d)).collect();
    assert_eq!(by_note.len() as i64, n, "no checkout twice");
    for d in done {
        let inv = by_note.get(&format!("fault {}", d.key)).unwrap_or_else(|| panic!("sale {} missing", d.key));
        assert_eq!(
            inv.get_str("invoiceNumber").unwrap(),
            d.body["invoice"]["invoiceNumber"].as_str().unwrap(),
            "the answer names the stored invoice"
        );
        assert_eq!(inv.get_i64("paidAmount").unwrap(), 1000);
    }
    let mut seqs: Vec<i64> = invoices.iter().map(|d| d.get_i64("seq").unwrap()).collect();
    seqs.sort();
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "numbers consecutive");
    let payments = all(app, "payments", doc! { "clientId": cid }).await;
    assert_eq!(payments.len() as i64, n, "one payment per sale");
    assert_eq!(payments.iter().map(|p| p.get_i64("amount").unwrap()).sum::<i64>(), n * 1000);
    let paid_invoices: HashSet<ObjectId> = payments.iter().map(|p| p.get_object_id("invoiceId").unwrap()).collect();
    assert_eq!(paid_invoices.len() as i64, n, "no sale paid twice");
    let moves = all(app, "stockmovements", doc! { "clientId": cid, "reason": "sale" }).await;
    assert_eq!(moves.len() as i64, n, "stock moved once per sale");
    let it: Document =
        app.db.collection("items").find_one(doc! { "_id": ObjectId::parse_str(item).unwrap() }).await.unwrap().unwrap();
    assert_eq!(it.get_i64("stock").unwrap(), start_stock - n, "stock = start - sold");
    let keys = all(app, "idempotencykeys", doc! { "clientId": cid }).await;
    assert_eq!(keys.len() as i64, n, "one idempotency record per key");
}

/// Load: `sellers` tasks doing keyed checkouts (each retried until done) and `readers`
/// tasks listing invoices, until `stop`. Every answer is logged.
struct Load {
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Seen>>>,
    sellers: Vec<tokio::task::JoinHandle<Vec<Done>>>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(base: &str, r: &Registered, item: &str, sellers: usize, readers: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Arc::new(Mutex::new(base.to_string()));
        // the client gives up on an answer after 20 s: a hang shows as a slow answer or an error
        let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
        let mut s = Vec::new();
        for _ in 0..sellers {
            let (stop, log, base, http, token, item) =
                (stop.clone(), log.clone(), base.clone(), http.clone(), r.token.clone(), item.to_string());
            s.push(tokio::spawn(async move {
                let mut done = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let key = uuid::Uuid::new_v4().to_string();
                    let body = checkout_body(&item, &key);
                    let path = "/api/business/invoices/generatewithproducts";
                    done.push(until_done(&http, &base, path, &token, &key, &body, &log).await);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                done
            }));
        }
        let mut rd = Vec::new();
        for _ in 0..readers {
            let (stop, log, base, http, token, cid) =
                (stop.clone(), log.clone(), base.clone(), http.clone(), r.token.clone(), r.client_id.clone());
            rd.push(tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let url = format!("{}/api/business/invoices/{cid}?limit=5", base.lock().unwrap());
                    let seen = send(http.get(url).bearer_auth(&token)).await;
                    log.lock().unwrap().push(seen);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }));
        }
        Load { stop, log, sellers: s, readers: rd }
    }

    async fn finish(self) -> (Vec<Done>, Vec<Seen>) {
        self.stop.store(true, Ordering::SeqCst);
        let mut done = Vec::new();
        for s in self.sellers {
            done.extend(s.await.expect("seller"));
        }
        for r in self.readers {
            r.await.expect("reader");
        }
        let log = self.log.lock().unwrap().clone();
        (done, log)
    }
}

/// Wait until a database read answers 200 again; returns how long it took.
async fn recovery(base: &str, r: &Registered, limit: Duration) -> Duration {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let started = Instant::now();
    let url = format!("{base}/api/business/invoices/{}?limit=1", r.client_id);
    loop {
        let seen = send(http.get(&url).bearer_auth(&r.token)).await;
        if seen.status == Some(200) {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "no recovery within {limit:?} (last {:?} {})", seen.status, seen.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const TIMEOUT_SECS: u64 = 3;
/// What an answer may take past the request timeout on a busy 2-core machine.
const MARGIN: Duration = Duration::from_secs(3);

/// (a) mongod SIGKILLed under load (reads and keyed checkouts) and restarted 4 s later on
/// the same data: while it is down every request answers 503 in the envelope within the
/// request timeout (never a hang, never a 500); the server recovers by itself; every
/// checkout that answered 201 exists exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mongod_restart_under_load_fails_fast_and_recovers() {
    let mongod = Mongod::start("").await;
    let app = TestApp::spawn_with(&[("MONGO_URL", &mongod.url())]).await;
    let (r, item) = shop(&app, 100_000).await;
    let port = free_port();
    let timeout = TIMEOUT_SECS.to_string();
    let env = [("REQUEST_TIMEOUT_SECS", timeout.as_str()), ("MONGO_SERVER_SELECTION_TIMEOUT_MS", "1000")];
    let server = Server::start(&mongod, app.db.name(), port, &env).await;
    let server_pid = server.child.id();

    let load = Load::start(&server.base(), &r, &item, 3, 2);
    tokio::time::sleep(Duration::from_secs(2)).await;
    mongod.kill();
    let down_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    mongod.run_script().await;
    let up_at = Instant::now();
    let took = recovery(&server.base(), &r, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (done, log) = load.finish().await;

    assert_eq!(server.child.id(), server_pid, "the same server process throughout");
    // the answers to requests made and answered while mongod was down (from its first second:
    // requests already waiting on a connection when it died fail by the same bound)
    let down: Vec<&Seen> =
        log.iter().filter(|s| s.started >= down_at + Duration::from_secs(1) && s.started + s.elapsed < up_at).collect();
    assert!(down.len() >= 5, "requests were made while mongod was down: {}", down.len());
    for s in &down {
        assert!(s.is_unavailable(), "while down: {s:?}");
        assert!(s.is_envelope(), "503/504 in the envelope: {}", s.body);
    }
    let limit = Duration::from_secs(TIMEOUT_SECS) + MARGIN;
    for s in &log {
        assert!(s.status.is_some(), "the server always answers: {s:?}");
        assert_ne!(s.status, Some(500), "never a 500: {}", s.body);
        assert!(s.elapsed < limit, "answered within the request timeout: {s:?}");
        if s.status != Some(200) && s.status != Some(201) {
            assert!(s.is_envelope(), "errors in the envelope: {s:?}");
        }
    }
    let retried = done.iter().filter(|d| d.attempts > 1).count();
    assert!(retried >= 1, "some checkouts were retried across the outage");
    assert!(done.len() >= 10, "checkouts completed: {}", done.len());
    assert_sales_exactly_once(&app, &r, &item, 100_000, &done).await;
    let fast_503 = down.iter().map(|s| s.elapsed).max().unwrap_or_default();
    eprintln!(
        "faults(a): {} answers, {} while down (slowest {fast_503:?}), recovered {took:?} after restart, {} sales ({retried} retried)",
        log.len(),
        down.len(),
        done.len()
    );
    drop(server);
}

/// (b) The server SIGKILLed at random moments (3 times) and restarted while a retrying
/// client runs checkouts and payments, each with its own key: afterwards every sale and
/// every payment exists exactly once. mongod runs with transactionLifetimeLimitSeconds=5:
/// a transaction left open by the killed process holds its locks (stock, counter) until
/// mongod aborts it, 60 s by default, which would only make the test slow.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn server_sigkill_during_checkouts_and_payments_loses_and_doubles_nothing() {
    use rand::Rng;
    let mongod = Mongod::start("--setParameter transactionLifetimeLimitSeconds=5").await;
    let app = TestApp::spawn_with(&[("MONGO_URL", &mongod.url())]).await;
    let (r, item) = shop(&app, 100_000).await;
    let port = free_port();
    let env = [("REQUEST_TIMEOUT_SECS", "5")];
    let db_name = app.db.name().to_string();
    let server = Server::start(&mongod, &db_name, port, &env).await;
    let base = Arc::new(Mutex::new(server.base()));
    let log = Arc::new(Mutex::new(Vec::new()));
    const SALES: usize = 45;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let completed = Arc::new(std::sync::atomic::AtomicUsize::new(0));

    // three kills while the load runs: when 8, 22 and 36 sales are complete, plus a random
    // 0-300 ms, so the process dies at an arbitrary point of some request
    let killer = {
        let (completed, url, dir, db_name) = (completed.clone(), mongod.url(), mongod.dir.clone(), db_name.clone());
        tokio::spawn(async move {
            let mut server = server;
            let mut kills = 0;
            for at in [8, 22, 36] {
                while completed.load(Ordering::SeqCst) < at {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                let jitter = rand::thread_rng().gen_range(0..300);
                tokio::time::sleep(Duration::from_millis(jitter)).await;
                server.child.kill().await.expect("SIGKILL the server");
                kills += 1;
                server = Server::start_at(&url, &dir, &db_name, port, &env).await;
            }
            (kills, server)
        })
    };

    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let mut workers = Vec::new();
    for _ in 0..3 {
        let (http, base, log, next, completed, token, item) =
            (http.clone(), base.clone(), log.clone(), next.clone(), completed.clone(), r.token.clone(), item.clone());
        workers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= SALES {
                    return out;
                }
                // a part-paid sale (₹4 of ₹10), then the payment that completes it
                let key = format!("sale-{i}-{}", uuid::Uuid::new_v4().simple());
                let mut body = checkout_body(&item, &key);
                body["paidAmount"] = json!(4);
                let path = "/api/business/invoices/generatewithproducts";
                let sale = until_done(&http, &base, path, &token, &key, &body, &log).await;
                assert_eq!(sale.status, 201, "sale {i}: {}", sale.body);
                let iid = sale.body["invoice"]["_id"].as_str().expect("invoice id").to_string();
                let pay_key = format!("pay-{i}-{}", uuid::Uuid::new_v4().simple());
                let pay = json!({ "invoiceId": iid, "amount": 6, "method": "upi" });
                let paid = until_done(&http, &base, "/api/business/invoices/pay", &token, &pay_key, &pay, &log).await;
                assert_eq!(paid.status, 200, "payment {i}: {}", paid.body);
                completed.fetch_add(1, Ordering::SeqCst);
                out.push((sale, paid));
            }
        }));
    }
    let mut results = Vec::new();
    for w in workers {
        results.extend(w.await.expect("worker"));
    }
    let (kills, last) = killer.await.expect("killer");
    assert_eq!(kills, 3, "the server was killed 3 times");
    assert_eq!(results.len(), SALES);
    let log = log.lock().unwrap().clone();
    for s in &log {
        if let Some(st) = s.status {
            assert!(
                (200..300).contains(&st) || st == 409 || st == 503 || s.is_unavailable(),
                "only 2xx, 409 (twin in flight), 503 (timeout, database busy) or 504 OUTCOME_UNKNOWN: {s:?}"
            );
        }
    }
    let mut by_status: std::collections::BTreeMap<String, usize> = Default::default();
    for s in &log {
        *by_status.entry(s.status.map_or("transport error".into(), |c| c.to_string())).or_default() += 1;
    }

    // the database
    let cid = ObjectId::parse_str(&r.client_id).unwrap();
    let invoices = all(&app, "invoices", doc! { "clientId": cid }).await;
    assert_eq!(invoices.len(), SALES, "every sale exactly once");
    let notes: HashMap<&str, ObjectId> =
        invoices.iter().map(|d| (d.get_str("notes").unwrap(), d.get_object_id("_id").unwrap())).collect();
    assert_eq!(notes.len(), SALES);
    for (sale, paid) in &results {
        let stored = notes.get(format!("fault {}", sale.key).as_str()).unwrap_or_else(|| panic!("sale {}", sale.key));
        assert_eq!(sale.body["invoice"]["_id"], json!(stored.to_hex()), "the answer is the stored sale");
        assert_eq!(paid.body["invoice"]["_id"], sale.body["invoice"]["_id"]);
        assert_eq!(paid.body["invoice"]["status"], "Paid");
    }
    for inv in &invoices {
        assert_eq!(inv.get_i64("paidAmount").unwrap(), 1000, "paid exactly in full: {inv}");
        assert_eq!(inv.get_str("status").unwrap(), "Paid");
    }
    let payments = all(&app, "payments", doc! { "clientId": cid }).await;
    assert_eq!(payments.len(), 2 * SALES, "every payment exactly once (initial + completing)");
    assert_eq!(payments.iter().map(|p| p.get_i64("amount").unwrap()).sum::<i64>(), SALES as i64 * 1000);
    let mut seqs: Vec<i64> = invoices.iter().map(|d| d.get_i64("seq").unwrap()).collect();
    seqs.sort();
    assert_eq!(seqs, (1..=SALES as i64).collect::<Vec<_>>(), "numbers consecutive");
    let it: Document = app
        .db
        .collection("items")
        .find_one(doc! { "_id": ObjectId::parse_str(&item).unwrap() })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(it.get_i64("stock").unwrap(), 100_000 - SALES as i64);
    assert_eq!(
        all(&app, "stockmovements", doc! { "clientId": cid, "reason": "sale" }).await.len(),
        SALES,
        "stock moved once per sale"
    );
    assert_eq!(all(&app, "idempotencykeys", doc! { "clientId": cid }).await.len(), 2 * SALES);
    let retried = results.iter().filter(|(s, p)| s.attempts > 1 || p.attempts > 1).count();
    eprintln!(
        "faults(b): {kills} kills, {} answers {by_status:?}, {retried} of {SALES} sales (sale or payment) retried",
        log.len()
    );
    drop(last);
}

/// (c) mongod frozen (SIGSTOP) for 5 s under load, a database that accepts connections and
/// never answers: requests answer 503 within the request timeout (2 s here), `/api/health`
/// keeps answering within its 2 s ping bound (503 while frozen), the server's memory stays
/// bounded, and after SIGCONT everything works and nothing is doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_database_times_out_cleanly_and_health_keeps_answering() {
    const FROZEN_TIMEOUT_SECS: u64 = 2;
    let mongod = Mongod::start("").await;
    let app = TestApp::spawn_with(&[("MONGO_URL", &mongod.url())]).await;
    let (r, item) = shop(&app, 100_000).await;
    let port = free_port();
    let timeout = FROZEN_TIMEOUT_SECS.to_string();
    let env = [("REQUEST_TIMEOUT_SECS", timeout.as_str()), ("MONGO_SERVER_SELECTION_TIMEOUT_MS", "1000")];
    let server = Server::start(&mongod, app.db.name(), port, &env).await;

    let load = Load::start(&server.base(), &r, &item, 3, 3);
    // health poller
    let stop_health = Arc::new(AtomicBool::new(false));
    let health = {
        let (stop, url) = (stop_health.clone(), format!("{}/api/health", server.base()));
        tokio::spawn(async move {
            let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
            let mut seen = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                seen.push(send(http.get(&url)).await);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            seen
        })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before = server.rss_kib();
    mongod.signal("-STOP");
    let stopped_at = Instant::now();
    let mut rss_max = rss_before;
    while stopped_at.elapsed() < Duration::from_secs(5) {
        rss_max = rss_max.max(server.rss_kib());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    mongod.signal("-CONT");
    let cont_at = Instant::now();
    let took = recovery(&server.base(), &r, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    rss_max = rss_max.max(server.rss_kib());
    let (done, log) = load.finish().await;
    stop_health.store(true, Ordering::SeqCst);
    let health = health.await.expect("health poller");
    let rss_after = server.rss_kib();

    // the requests that started and ended while mongod was frozen: all 503 (or 504
    // OUTCOME_UNKNOWN for a checkout whose transaction was pending) in the envelope
    let inside = |s: &&Seen| s.started >= stopped_at && s.started + s.elapsed < cont_at;
    let during: Vec<&Seen> = log.iter().filter(inside).collect();
    assert!(during.len() >= 3, "requests made and answered while mongod was frozen: {}", during.len());
    for s in &during {
        assert!(s.is_unavailable(), "while frozen: {s:?}");
        assert!(s.is_envelope(), "{}", s.body);
    }
    let limit = Duration::from_secs(FROZEN_TIMEOUT_SECS) + MARGIN;
    for s in &log {
        assert!(s.status.is_some(), "the server always answers: {s:?}");
        assert_ne!(s.status, Some(500), "never a 500: {}", s.body);
        assert!(s.elapsed < limit, "answered within the request timeout: {s:?}");
        if !matches!(s.status, Some(200) | Some(201)) {
            assert!(s.is_envelope(), "errors in the envelope: {s:?}");
        }
    }
    let health_frozen: Vec<&Seen> = health.iter().filter(inside).collect();
    assert!(!health_frozen.is_empty(), "health was answered while frozen");
    assert!(health_frozen.iter().all(|s| s.status == Some(503)), "health says 503 while the database is frozen");
    // health: 200 or 503 per its contract, within its 2 s ping bound (+ margin), never hung
    for s in &health {
        assert!(matches!(s.status, Some(200) | Some(503)), "health: {s:?}");
        assert!(s.elapsed < Duration::from_secs(2) + MARGIN, "health answered promptly: {s:?}");
    }
    assert_eq!(health.last().and_then(|s| s.status), Some(200), "healthy again");
    // memory bounded: under 100 MB, and no growth past the frozen period
    assert!(rss_max < 100 * 1024, "server RSS {rss_max} KiB");
    assert!(rss_after < rss_before + 30 * 1024, "RSS {rss_before} KiB before, {rss_after} KiB after");
    assert_sales_exactly_once(&app, &r, &item, 100_000, &done).await;
    let slowest = during.iter().map(|s| s.elapsed).max().unwrap_or_default();
    eprintln!(
        "faults(c): {} answers, {} while frozen (slowest {slowest:?}), health max {:?}, RSS {rss_before}/{rss_max}/{rss_after} KiB, recovered {took:?}, {} sales",
        log.len(),
        during.len(),
        health.iter().map(|s| s.elapsed).max().unwrap_or_default(),
        done.len()
    );
    drop(server);
}
