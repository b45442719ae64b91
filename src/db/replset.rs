//! Initiate a local single-node replica set (used by `scripts/` through the `devdb` binary).

use std::time::{Duration, Instant};

use bson::{doc, Document};
use mongodb::{options::ClientOptions, Client};

/// Connect directly to `host:port`, run `replSetInitiate` if needed, and wait until the
/// node is a writable primary.
pub async fn ensure_initiated(host: &str, timeout: Duration) -> Result<(), String> {
    let uri = format!("mongodb://{host}/?directConnection=true");
    let mut opts = ClientOptions::parse(&uri).await.map_err(|e| e.to_string())?;
    opts.server_selection_timeout = Some(Duration::from_secs(2));
    let client = Client::with_options(opts).map_err(|e| e.to_string())?;
    let admin = client.database("admin");
    let deadline = Instant::now() + timeout;
    let mut initiated = false;
    loop {
        match admin.run_command(doc! { "hello": 1 }).await {
            Ok(hello) => {
                if hello.get_bool("isWritablePrimary").unwrap_or(false) {
                    return Ok(());
                }
                if !initiated && hello.get_str("setName").is_err() {
                    let cfg: Document = doc! { "_id": "rs0", "members": [ { "_id": 0, "host": host } ] };
                    match admin.run_command(doc! { "replSetInitiate": cfg }).await {
                        Ok(_) => initiated = true,
                        // 23 = AlreadyInitialized
                        Err(e) if e.to_string().contains("already initialized") => initiated = true,
                        Err(e) => {
                            if Instant::now() > deadline {
                                return Err(format!("replSetInitiate failed: {e}"));
                            }
                        }
                    }
                }
            }
            Err(e) => {
                if Instant::now() > deadline {
                    return Err(format!("mongod at {host} not reachable: {e}"));
                }
            }
        }
        if Instant::now() > deadline {
            return Err(format!("mongod at {host} did not become a writable primary in time"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
