//! `devdb init HOST:PORT` — make a freshly started local mongod a writable single-node
//! replica set. Used by `scripts/run.sh` and `scripts/test.sh`; not part of the API server.
//! `devdb drop-db URL NAME` — drop one database (`scripts/schemathesis.sh` cleans up its own).

use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("init"), Some(host)) => {
            if let Err(e) = viveka::db::replset::ensure_initiated(host, Duration::from_secs(60)).await {
                eprintln!("devdb: {e}");
                std::process::exit(1);
            }
        }
        (Some("drop-db"), Some(url)) => {
            let Some(name) = args.get(3) else {
                eprintln!("usage: devdb drop-db URL NAME");
                std::process::exit(2);
            };
            let dropped = async {
                let client = mongodb::Client::with_uri_str(url).await?;
                client.database(name).drop().await
            };
            if let Err(e) = dropped.await {
                eprintln!("devdb: {e}");
                std::process::exit(1);
            }
        }
        _ => {
            eprintln!("usage: devdb init HOST:PORT | devdb drop-db URL NAME");
            std::process::exit(2);
        }
    }
}
