//! `viveka [serve]` runs the API; `viveka migrate` applies migrations; `viveka openapi`
//! prints the OpenAPI document; `viveka postman [DIR]` regenerates the Postman files.

use std::time::Duration;

use viveka::{build_router, build_state, config::Config, sms_sender, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    let config = Config::from_env()?;
    telemetry::init(config.log_format);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str).unwrap_or("serve") {
        "serve" => serve(config).await,
        "migrate" => {
            let state = build_state(config, std::sync::Arc::new(viveka::otp::sender::ConsoleSender)).await?;
            tracing::info!(db = state.db.name(), "migrations up to date");
            Ok(())
        }
        "openapi" => {
            let doc = offline_doc(config).await?;
            println!("{}", serde_json::to_string_pretty(&doc)?);
            Ok(())
        }
        "postman" => {
            let dir = args.get(1).cloned().unwrap_or_else(|| "postman".into());
            let doc = offline_doc(config).await?;
            let (collection, env) = viveka::openapi::postman(&doc);
            std::fs::create_dir_all(&dir)?;
            std::fs::write(
                format!("{dir}/viveka.postman_collection.json"),
                serde_json::to_string_pretty(&collection)? + "\n",
            )?;
            std::fs::write(
                format!("{dir}/viveka.postman_environment.json"),
                serde_json::to_string_pretty(&env)? + "\n",
            )?;
            println!("wrote {dir}/viveka.postman_collection.json and {dir}/viveka.postman_environment.json");
            Ok(())
        }
        other => {
            anyhow::bail!("unknown command {other}; use serve | migrate | openapi | postman [DIR]")
        }
    }
}

/// The document of the development router (it lists the development-only OTP routes too),
/// built without touching the database.
async fn offline_doc(mut config: Config) -> anyhow::Result<serde_json::Value> {
    config.app_env = viveka::config::AppEnv::Development;
    let client = mongodb::Client::with_uri_str("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1").await?;
    let db = client.database("offline");
    let state =
        viveka::state::AppState::new(config, client, db, std::sync::Arc::new(viveka::otp::sender::ConsoleSender));
    let (_, doc) = build_router(state);
    Ok(serde_json::to_value(&doc)?)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let port = config.port;
    let sms = sms_sender(&config);
    tracing::info!(?config, "starting");
    let state = build_state(config, sms).await?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    tracing::info!("listening on http://0.0.0.0:{port} (docs at /api/docs)");
    viveka::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown signal received; draining (at most 20 s)");
    // Give in-flight requests time to finish; axum stops accepting at once.
    tokio::spawn(async {
        tokio::time::sleep(Duration::from_secs(20)).await;
        tracing::warn!("drain timeout; exiting");
        std::process::exit(0);
    });
}
