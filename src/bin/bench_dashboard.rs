//! `bench_dashboard`: seeds ONE client with 100,000 invoices (3 lines each, spread over
//! three years) and 150,000 payments straight through the driver, then measures the median
//! latency of the combined dashboard (H4) and of each report over `RUNS` runs, calling the
//! same service functions the handlers call. Not part of the test suite.
//!
//! ```text
//! MONGO_URL='mongodb://127.0.0.1:27400/?replicaSet=rs0' MONGO_DB_NAME=bench_dashboard \
//!   cargo run --release --bin bench_dashboard
//! ```
//! Env: `RUNS` (default 30), `KEEP=1` keeps the database (default: dropped at the end).

use std::time::{Duration, Instant};

use bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use futures::TryStreamExt;
use viveka::{
    billing::model::{status_for, InvoiceDoc, InvoiceLine, PaymentDoc},
    config::Config,
    dashboard::{
        handlers,
        repo::{self, Window},
    },
    money::Paise,
    time,
};

const INVOICES: usize = 100_000;
const PRODUCTS: usize = 200;
const CUSTOMERS: usize = 2_000;
const BATCH: usize = 5_000;
const SPAN_DAYS: i64 = 3 * 365;

fn oid_at(t: DateTime, n: u64) -> ObjectId {
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&((t.timestamp_millis() / 1000) as u32).to_be_bytes());
    b[4..].copy_from_slice(&n.to_be_bytes());
    ObjectId::from_bytes(b)
}

/// A small deterministic generator (no extra dependency).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

async fn seed(db: &mongodb::Database, client: ObjectId) -> anyhow::Result<()> {
    let mut rng = Lcg(42);
    let products: Vec<(ObjectId, String, i64)> =
        (0..PRODUCTS).map(|i| (ObjectId::new(), format!("Item {i:03}"), 1_000 + (i as i64 * 737) % 50_000)).collect();
    let customers: Vec<ObjectId> = (0..CUSTOMERS).map(|_| ObjectId::new()).collect();
    let cdocs: Vec<Document> = customers
        .iter()
        .enumerate()
        .map(|(i, c)| doc! { "_id": c, "clientId": client, "name": format!("Customer {i}"), "phoneNumber": format!("9{i:09}"), "outstandingBalance": 0_i64 })
        .collect();
    db.collection::<Document>("clientcustomers").insert_many(cdocs).await?;
    let items: Vec<Document> = products
        .iter()
        .enumerate()
        .map(|(i, p)| doc! { "_id": p.0, "clientId": client, "name": &p.1, "price": p.2, "stock": (i as i64 % 40) - 5, "lowStockQuantity": 5_i64, "unit": "nos", "isActive": true })
        .collect();
    db.collection::<Document>("items").insert_many(items).await?;

    let now = DateTime::now().timestamp_millis();
    let start = now - SPAN_DAYS * 86_400_000;
    let step = (now - start) / INVOICES as i64;
    let (mut invs, mut pays) = (Vec::with_capacity(BATCH), Vec::with_capacity(2 * BATCH));
    let (mut n_inv, mut n_pay) = (0usize, 0usize);
    for i in 0..INVOICES {
        let t = DateTime::from_millis(start + i as i64 * step + rng.below(step as u64) as i64);
        let lines: Vec<InvoiceLine> = (0..3)
            .map(|_| {
                let p = &products[rng.below(PRODUCTS as u64) as usize];
                let q = 1 + rng.below(5) as i64;
                InvoiceLine {
                    product_id: Some(p.0),
                    item_name: p.1.clone(),
                    item_group: String::new(),
                    cost_per_unit: Paise::new(p.2),
                    quantity: q,
                    line_total: Paise::new(p.2 * q),
                    price_overridden: false,
                    catalog_price: Paise::ZERO,
                    unit: None,
                    base_quantity: None,
                    allocations: vec![],
                    mrp: None,
                    tax: None,
                    returned: None,
                }
            })
            .collect();
        let total: i64 = lines.iter().map(|l| l.line_total.as_i64()).sum();
        // 65% paid in two payments, 20% part-paid with one payment, 15% unpaid: 150,000 payments
        let class = i % 20;
        let paid = match class {
            0..=12 => total,
            13..=16 => total / 2,
            _ => 0,
        };
        let id = oid_at(t, i as u64);
        let cust = (i % 3 != 0).then(|| customers[rng.below(CUSTOMERS as u64) as usize]);
        let due = time::ist_date(t) + chrono::Days::new(30);
        invs.push(InvoiceDoc {
            id,
            client_id: client,
            client_customer_id: cust,
            client_customer_name: cust.map(|_| "Customer".to_string()).unwrap_or_default(),
            client_customer_phone: String::new(),
            invoice_number: Some(format!("INV/{}/{:05}", time::financial_year(t), i)),
            financial_year: Some(time::financial_year(t)),
            seq: None,
            kind: "invoice".into(),
            invoice_date: time::ist_date_string(t),
            due_date: due.format("%Y-%m-%d").to_string(),
            subtotal: Paise::new(total),
            total_tax: Paise::ZERO,
            total_discount: Paise::ZERO,
            total_amount: Paise::new(total),
            paid_amount: Paise::new(paid),
            previous_balance: Paise::ZERO,
            status: status_for(Paise::new(paid), Paise::new(total)).to_string(),
            is_finalized: paid >= total,
            products: lines,
            notes: String::new(),
            cart_id: None,
            source: "bench".into(),
            device_ref: None,
            device_time: None,
            generated_at: t,
            finalized_at: None,
            created_at: t,
            updated_at: t,
            version: 0,
            stock_warnings: vec![],
            billed_by: None,
            review_flags: vec![],
            approved_by: None,
            offline_bill_ref: None,
            device_series: None,
            series: None,
            gst: None,
            payment_method: None,
            tender: None,
            is_cancelled: false,
            cancellation: None,
            credited_amount: Paise::ZERO,
            refunded_amount: Paise::ZERO,
        });
        let methods = ["cash", "upi", "card", "bank", "other"];
        let parts: Vec<i64> = match class {
            0..=12 => vec![total - total / 3, total / 3],
            13..=16 => vec![paid],
            _ => vec![],
        };
        for (k, amount) in parts.into_iter().enumerate() {
            let pt = DateTime::from_millis(t.timestamp_millis() + k as i64 * 86_400_000 * (1 + rng.below(20) as i64));
            pays.push(PaymentDoc {
                id: oid_at(pt, (1 << 40) + n_pay as u64),
                client_id: client,
                invoice_id: id,
                amount: Paise::new(amount),
                method: methods[rng.below(5) as usize].into(),
                note: String::new(),
                paid_at: pt,
                device_time: None,
                created_at: pt,
                updated_at: pt,
                version: 0,
                recorded_by: None,
                reference: None,
                tendered: None,
                change: None,
                kind: None,
                credit_note_id: None,
            });
            n_pay += 1;
        }
        if invs.len() == BATCH || i + 1 == INVOICES {
            n_inv += invs.len();
            db.collection::<InvoiceDoc>("invoices").insert_many(std::mem::take(&mut invs)).await?;
            db.collection::<PaymentDoc>("payments").insert_many(std::mem::take(&mut pays)).await?;
        }
    }
    println!("seeded {n_inv} invoices, {n_pay} payments, {PRODUCTS} items, {CUSTOMERS} customers");
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn measure<F, Fut, T>(name: &str, runs: usize, mut f: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let t0 = Instant::now();
    f().await?;
    let first = t0.elapsed();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f().await?;
        times.push(t.elapsed());
    }
    let (min, max) = (times.iter().min().copied().unwrap_or_default(), times.iter().max().copied().unwrap_or_default());
    println!(
        "| {name} | {:.1} | {:.1} | {:.1} | {:.1} |",
        median(times).as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        first.as_secs_f64() * 1e3
    );
    Ok(())
}

/// Stages and index names of an aggregation's winning plan.
fn plan_summary(b: &Bson, out: &mut Vec<String>) {
    match b {
        Bson::Document(d) => {
            for (k, v) in d {
                if k == "rejectedPlans" {
                    continue;
                }
                match (k.as_str(), v) {
                    ("stage", Bson::String(s)) => out.push(s.clone()),
                    ("indexName", Bson::String(s)) => out.push(format!("[{s}]")),
                    _ => plan_summary(v, out),
                }
            }
        }
        Bson::Array(a) => a.iter().for_each(|x| plan_summary(x, out)),
        _ => {}
    }
}

async fn explain(db: &mongodb::Database, name: &str, coll: &str, pipeline: Vec<Document>) -> anyhow::Result<()> {
    let r = db
        .run_command(
            doc! { "explain": { "aggregate": coll, "pipeline": pipeline, "cursor": {} }, "verbosity": "queryPlanner" },
        )
        .await?;
    let mut out = Vec::new();
    plan_summary(&Bson::Document(r), &mut out);
    out.dedup();
    println!("explain {name}: {}", out.join(" "));
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let runs: usize = std::env::var("RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    let state = viveka::build_state(config, std::sync::Arc::new(viveka::otp::sender::ConsoleSender)).await?;
    let db = state.db.clone();
    println!("database {}", db.name());
    let client = ObjectId::new();
    let t = Instant::now();
    seed(&db, client).await?;
    println!("seed time {:.1}s", t.elapsed().as_secs_f64());

    let today = time::today_ist();
    let day = |d: chrono::NaiveDate| Window {
        from: Some(time::ist_midnight(d)),
        to: Some(DateTime::from_millis(time::ist_midnight(d + chrono::Days::new(1)).timestamp_millis() - 1)),
    };
    let month = Window {
        from: Some(time::ist_midnight(time::month_start(today))),
        to: Some(DateTime::from_millis(time::ist_midnight(today + chrono::Days::new(1)).timestamp_millis() - 1)),
    };
    let fy = Window { from: Some(time::ist_midnight(time::fy_start(today))), to: month.to };

    explain(&db, "summary", "invoices", vec![
        doc! { "$match": { "clientId": client, "isCancelled": { "$ne": true } } },
        doc! { "$group": { "_id": Bson::Null, "s": { "$sum": "$totalAmount" }, "d": { "$sum": repo::due() }, "x": { "$max": "$status" } } },
    ])
    .await?;
    explain(
        &db,
        "collections (FY)",
        "payments",
        vec![
            doc! { "$match": { "clientId": client, "paidAt": { "$gte": fy.from } } },
            doc! { "$group": { "_id": "$method", "a": { "$sum": "$amount" } } },
        ],
    )
    .await?;
    explain(
        &db,
        "dues",
        "invoices",
        vec![
            doc! { "$match": { "clientId": client, "isFinalized": false, "isCancelled": { "$ne": true } } },
            doc! { "$group": { "_id": "$dueDate", "a": { "$sum": repo::due() } } },
        ],
    )
    .await?;
    explain(
        &db,
        "top items live tail",
        "invoices",
        vec![
            doc! { "$match": { "clientId": client, "_id": { "$gte": ObjectId::new() } } },
            doc! { "$unwind": "$products" },
        ],
    )
    .await?;

    println!("\n| measurement ({runs} runs) | median ms | min ms | max ms | first call ms |\n|---|---|---|---|---|");
    let st = &state;
    let dbr = &db;
    measure("H4 combined dashboard (months=6, limit=5)", runs, || async move {
        Ok(handlers::dashboard_data(st, client, 6, 5).await?)
    })
    .await?;
    measure("H1 summary and H2 trends (24 months), from the rollups", runs, || async move {
        Ok(repo::summary_and_trends(dbr, client, 24).await?)
    })
    .await?;
    measure("H1 summary with a range (live, all time)", runs, || async move {
        let w = Window { from: Some(DateTime::from_millis(0)), to: None };
        Ok(repo::summary(dbr, client, w).await?)
    })
    .await?;
    measure("H3 top items (all time)", runs, || async move { Ok(repo::top_items_all(dbr, client, 5, None).await?) })
        .await?;
    measure(
        "H3 top items (this FY, live)",
        runs,
        || async move { Ok(repo::top_items_in(dbr, client, fy, 5, None).await?) },
    )
    .await?;
    measure("periods (today/week/month/FY)", runs, || async move {
        let w = time::week_start(today);
        let wk = Window { from: Some(time::ist_midnight(w)), to: month.to };
        Ok(tokio::try_join!(
            repo::figures(dbr, client, day(today)),
            repo::figures(dbr, client, wk),
            repo::figures(dbr, client, month),
            repo::figures(dbr, client, fy),
        )?)
    })
    .await?;
    measure("sales vs collections (this FY, method split)", runs, || async move {
        Ok(tokio::try_join!(repo::figures(dbr, client, fy), repo::method_split(dbr, client, fy))?)
    })
    .await?;
    measure("dues ageing (all)", runs, || async move { Ok(repo::dues(dbr, client, Window::default(), today).await?) })
        .await?;
    measure("top customers (all time)", runs, || async move {
        Ok(repo::top_customers(dbr, client, Window::default(), 10).await?)
    })
    .await?;
    measure("low stock count", runs, || async move { Ok(repo::stock_counts(dbr, client).await?) }).await?;
    measure("dealer payables (no dealer data)", runs, || async move {
        Ok(repo::dealer_payables(dbr, client, Window::default(), time::overdue_cutoff(DateTime::now())).await?)
    })
    .await?;
    measure("invoice report JSON page (100 rows + totals, all time)", runs, || async move {
        let rows: Vec<Document> =
            repo::invoice_rows(dbr, client, Window::default(), None, Some((100, 0))).await?.try_collect().await?;
        Ok((rows, repo::invoice_totals(dbr, client, Window::default(), None).await?))
    })
    .await?;
    measure("payment report JSON page (100 rows + totals, all time)", runs, || async move {
        let rows: Vec<Document> =
            repo::payment_rows(dbr, client, Window::default(), None, Some((100, 0))).await?.try_collect().await?;
        Ok((rows, repo::payment_totals(dbr, client, Window::default(), None).await?))
    })
    .await?;
    measure("day book JSON (one day)", runs, || async move {
        let rows: Vec<Document> =
            repo::day_book(dbr, client, day(today - chrono::Days::new(1))).await?.try_collect().await?;
        Ok(rows)
    })
    .await?;
    let csv_runs = (runs / 5).max(3);
    measure("invoice CSV export (this FY, all rows formatted)", csv_runs, || async move {
        let mut cur = repo::invoice_rows(dbr, client, fy, None, None).await?;
        let mut bytes = 0usize;
        while let Some(d) = cur.try_next().await? {
            bytes += handlers::invoice_csv(&d).len();
        }
        Ok(bytes)
    })
    .await?;
    measure("payment CSV export (this FY, all rows formatted)", csv_runs, || async move {
        let mut cur = repo::payment_rows(dbr, client, fy, None, None).await?;
        let mut bytes = 0usize;
        while let Some(d) = cur.try_next().await? {
            bytes += handlers::payment_csv(&d).len();
        }
        Ok(bytes)
    })
    .await?;

    if std::env::var("KEEP").as_deref() != Ok("1") {
        db.drop().await?;
        println!("dropped database {}", db.name());
    }
    Ok(())
}
