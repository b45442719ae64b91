//! MongoDB connection, the transaction helper and the migrations runner.

pub mod migrations;
pub mod replset;
pub mod stripes;

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use mongodb::{
    error::{TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT},
    options::{ClientOptions, ReadConcern, WriteConcern},
    Client, ClientSession,
};
use rand::Rng;

use crate::{config::Config, error::AppError};

/// A filter on a tenant collection: `extra` with the tenant's `clientId` added (the token's
/// client, never a value from the request). Every read and write of a shop's documents goes
/// through a filter that names its client, so a document id of another shop matches nothing
/// and answers like a missing one; `tests::tenant_filters_always_name_the_client` fails on a
/// filter built with `_id` alone.
pub fn scoped(client_id: bson::oid::ObjectId, mut extra: bson::Document) -> bson::Document {
    extra.insert("clientId", client_id);
    extra
}

/// Connect (lazily: the driver connects on first use) with timeouts that fail fast, so
/// requests answer 503 instead of hanging while the database is down.
pub async fn connect(config: &Config) -> Result<Client, mongodb::error::Error> {
    let mut opts = ClientOptions::parse(&config.mongo_url).await?;
    opts.app_name = Some("viveka-api".into());
    opts.server_selection_timeout = Some(config.mongo_server_selection_timeout);
    opts.connect_timeout = Some(config.mongo_server_selection_timeout);
    if opts.max_pool_size.is_none() {
        opts.max_pool_size = Some(64);
    }
    Client::with_options(opts)
}

/// The database named in the URL path, else `MONGO_DB_NAME`.
pub async fn database_name(config: &Config) -> String {
    match ClientOptions::parse(&config.mongo_url).await {
        Ok(o) => o.default_database.unwrap_or_else(|| config.mongo_db_name.clone()),
        Err(_) => config.mongo_db_name.clone(),
    }
}

/// How long a transaction may keep retrying transient errors (write conflicts) before giving up.
const TXN_RETRY_BUDGET: Duration = Duration::from_secs(20);

/// Run `f` in a transaction, retrying the whole body on `TransientTransactionError`
/// (write conflicts between concurrent sales, elections) and the commit on
/// `UnknownTransactionCommitResult`, as the MongoDB drivers' convenient API does.
///
/// `f` receives the session and a shared context; it must not have side effects outside
/// the database (it can run more than once). Snapshot reads, majority writes.
pub async fn transaction<C, T, F>(client: &Client, ctx: &C, mut f: F) -> Result<T, AppError>
where
    C: Sync + ?Sized,
    F: for<'a> FnMut(&'a mut ClientSession, &'a C) -> BoxFuture<'a, Result<T, AppError>>,
{
    let mut session = client.start_session().await?;
    let started = Instant::now();
    let mut attempt: u32 = 0;
    'retry: loop {
        attempt += 1;
        session
            .start_transaction()
            .read_concern(ReadConcern::snapshot())
            .write_concern(WriteConcern::majority())
            .await?;
        let value = match f(&mut session, ctx).await {
            Ok(v) => v,
            Err(e) => {
                let _ = session.abort_transaction().await;
                if is_transient(&e) && started.elapsed() < TXN_RETRY_BUDGET {
                    backoff(attempt).await;
                    continue 'retry;
                }
                return Err(e);
            }
        };
        loop {
            match session.commit_transaction().await {
                Ok(()) => return Ok(value),
                Err(e)
                    if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) && started.elapsed() < TXN_RETRY_BUDGET =>
                {
                    continue
                }
                Err(e) if e.contains_label(TRANSIENT_TRANSACTION_ERROR) && started.elapsed() < TXN_RETRY_BUDGET => {
                    backoff(attempt).await;
                    continue 'retry;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn is_transient(e: &AppError) -> bool {
    matches!(e, AppError::Database(db) if db.contains_label(TRANSIENT_TRANSACTION_ERROR))
}

async fn backoff(attempt: u32) {
    let cap = 2u64.saturating_pow(attempt.min(6)).min(50);
    let ms = rand::thread_rng().gen_range(1..=cap.max(2));
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

#[cfg(test)]
mod tests {
    //! Every filter on a tenant collection names its client (issue 12, section 4: some writes
    //! filtered by `_id` alone). A source scan, so a new repository function that builds an
    //! `_id`-only filter fails here before it can touch another shop's document.

    use std::path::Path;

    /// Files whose `_id`-keyed documents are not a shop's documents.
    const NOT_TENANT_FILES: [(&str, &str); 7] = [
        ("src/ratelimit.rs", "ratelimits: keyed by phone or IP and window"),
        ("src/otp/repo.rs", "otpsessions: keyed by phone, before any shop exists"),
        ("src/client/repo.rs", "clients: the `_id` IS the tenant"),
        ("src/db/", "migrations and the replica-set config"),
        ("src/idem.rs", "idempotencylocks: `_id` is \"<clientId>:<key>\""),
        ("src/bin/", "benchmarks and load tools"),
        ("src/arb.rs", "test data generators"),
    ];

    /// `_id` values that are themselves the tenant or a string key that contains it
    /// (counters `inv:<clientId>:<fy>`, the per-client sync counter and dashboard state), or a
    /// server-wide maintenance key that holds no shop's data (`PRUNE_KEY`: the change-log
    /// pruner's watermark).
    const TENANT_KEYED_VALUES: [&str; 6] =
        ["key", "&key", "counter_key(client_id)", "client", "client_id", "PRUNE_KEY"];

    /// The `_id`-only filters in `src`: (line, literal) for every `doc! { "_id": <value>, ... }`
    /// whose value is not a sort/projection flag, that does not name `clientId`, and that is
    /// not wrapped in `scoped(..)`.
    fn unscoped(src: &str) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(at) = src[from..].find("doc! {") {
            let start = from + at;
            from = start + 6;
            let body_start = start + 5;
            let mut depth = 0usize;
            let mut end = None;
            for (i, c) in src[body_start..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(body_start + i);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let Some(end) = end else { continue };
            let literal: String = src[body_start + 1..end].split_whitespace().collect::<Vec<_>>().join(" ");
            let Some(rest) = literal.strip_prefix("\"_id\": ") else { continue };
            let value = rest.split([',', '}']).next().unwrap_or("").trim();
            if ["1", "-1", "0", "1_i32", "0_i32"].contains(&value) || value.starts_with('{') {
                continue; // sort keys, projections, $group ids, operator documents
            }
            if TENANT_KEYED_VALUES.contains(&value) || literal.contains("\"clientId\"") {
                continue;
            }
            let mut b = start.saturating_sub(40);
            while !src.is_char_boundary(b) {
                b -= 1;
            }
            let before = &src[b..start];
            if before.contains("scoped(") {
                continue;
            }
            out.push((src[..start].lines().count(), literal));
        }
        out
    }

    fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                walk(&p, files);
            } else if p.extension().is_some_and(|e| e == "rs") {
                files.push(p);
            }
        }
    }

    #[test]
    fn tenant_filters_always_name_the_client() {
        // the scanner itself: it flags an `_id`-only filter and passes the scoped forms
        let bad = r#"coll.update_one(doc! { "_id": id }, doc! { "$set": { "a": 1 } })"#;
        assert_eq!(unscoped(bad).len(), 1);
        let multi = "coll.find_one(doc! {\n    \"_id\": line,\n    \"status\": 1,\n})";
        assert_eq!(unscoped(multi).len(), 1);
        for good in [
            r#"coll.update_one(scoped(client_id, doc! { "_id": id }), u)"#,
            r#"coll.find_one(doc! { "_id": id, "clientId": client })"#,
            r#"coll.find(f).sort(doc! { "_id": -1 })"#,
            r#"vec![doc! { "$group": { "_id": "$method" } }]"#,
        ] {
            assert!(unscoped(good).is_empty(), "{good}");
        }
        assert_eq!(super::scoped(bson::oid::ObjectId::from_bytes([7; 12]), bson::doc! { "_id": 1 }).len(), 2);

        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        walk(&root.join("src"), &mut files);
        assert!(files.len() > 50, "the scan must see the sources ({} files)", files.len());
        let mut found = Vec::new();
        for f in files {
            let rel = f.strip_prefix(root).unwrap_or(&f).to_string_lossy().replace('\\', "/");
            if NOT_TENANT_FILES.iter().any(|(p, _)| rel.starts_with(p)) {
                continue;
            }
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            for (line, literal) in unscoped(&text) {
                found.push(format!("{rel}:{line}: doc! {{ {literal} }}"));
            }
        }
        assert!(
            found.is_empty(),
            "filters by `_id` without `clientId` (wrap them in db::scoped(client_id, ..)):\n{}",
            found.join("\n")
        );
    }
}
