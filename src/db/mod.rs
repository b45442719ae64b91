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
