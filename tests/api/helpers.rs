#![allow(dead_code)]

use std::{collections::HashMap, sync::Arc};

use mongodb::Database;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use viveka::{config::Config, otp::sender::RecordingSender, state::AppState};

pub const JWT_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";

pub fn mongo_url() -> String {
    std::env::var("MONGO_URL")
        .or_else(|_| std::env::var("MONGODB_URI"))
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27217/?replicaSet=rs0".to_string())
}

pub fn test_config(overrides: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = [
        ("APP_ENV", "development"),
        ("JWT_SECRET", JWT_SECRET),
        ("OTP_PROVIDER", "console"),
        ("OTP_SEND_LIMIT_PER_PHONE", "1000"),
        ("OTP_SEND_LIMIT_PER_IP", "100000"),
        ("OTP_FAILED_VERIFY_LIMIT_PER_DAY", "1000"),
        ("REGISTER_LIMIT_PER_IP", "100000"),
        ("CORS_ORIGINS", "https://app.viveka.test"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    vars.insert("MONGO_URL".into(), mongo_url());
    for (k, v) in overrides {
        vars.insert(k.to_string(), v.to_string());
    }
    let mut cfg = Config::from_lookup(|k| vars.get(k).cloned()).expect("test config");
    cfg.mongo_db_name = format!("test_{}", uuid::Uuid::new_v4().simple());
    cfg
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub db: Database,
    pub state: AppState,
    pub sms: RecordingSender,
    shutdown: Option<oneshot::Sender<()>>,
}

pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    /// The error strings of a 400, joined (for `contains` checks).
    pub fn errors(&self) -> String {
        self.body["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" | "))
            .unwrap_or_default()
    }
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
    /// Asserts the v1 error envelope for this status.
    pub fn assert_envelope(&self, status: u16) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["success"], json!(false), "body: {}", self.body);
        assert!(self.body["code"].is_string(), "code missing: {}", self.body);
        if status == 400 {
            assert!(self.body["errors"].as_array().is_some_and(|a| !a.is_empty()), "400 needs errors[]: {}", self.body);
            assert!(self.body.get("message").is_none());
        } else {
            assert!(self.body["message"].is_string(), "message missing: {}", self.body);
        }
    }
}

pub struct Registered {
    pub phone: String,
    pub token: String,
    pub client_id: String,
    pub session_id: String,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(overrides: &[(&str, &str)]) -> TestApp {
        if std::env::var("TEST_LOG").is_ok() {
            viveka::telemetry::init(viveka::config::LogFormat::Text);
        }
        let cfg = test_config(overrides);
        let sms = RecordingSender::new();
        let state = viveka::build_state(cfg, Arc::new(sms.clone()))
            .await
            .expect("state (is mongod running? use scripts/test.sh)");
        Self::start(state, sms).await
    }

    pub async fn start(state: AppState, sms: RecordingSender) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = oneshot::channel::<()>();
        let st = state.clone();
        tokio::spawn(async move {
            let _ = viveka::serve(listener, st, async {
                let _ = rx.await;
            })
            .await;
        });
        TestApp {
            base,
            http: reqwest::Client::builder().build().expect("http client"),
            db: state.db.clone(),
            state,
            sms,
            shutdown: Some(tx),
        }
    }

    pub async fn raw(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Resp {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp { status, body, headers }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.raw(Method::GET, path, token, None).await
    }
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.raw(Method::POST, path, token, Some(&body)).await
    }
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.raw(Method::PUT, path, token, Some(&body)).await
    }
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.raw(Method::DELETE, path, token, None).await
    }

    /// Send an OTP through the real endpoint and read the code from the recording sender.
    pub async fn otp(&self, phone: &str, purpose: &str) -> String {
        let r = self.post("/api/otp/send", None, json!({ "phoneNumber": phone, "purpose": purpose })).await;
        assert_eq!(r.status, 200, "otp send: {}", r.body);
        self.sms.last_code(phone).expect("an OTP was sent")
    }

    /// Register a shop with the full OTP flow.
    pub async fn register(&self, phone: &str) -> Registered {
        self.register_with(phone, json!({})).await
    }

    pub async fn register_with(&self, phone: &str, extra: Value) -> Registered {
        let code = self.otp(phone, "register").await;
        let mut body = json!({
            "phoneNumber": phone, "otp": code, "ownerName": "Asha Rao", "businessName": "Rao Auto Spares",
            "deviceId": "phone-1",
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let r = self.post("/api/auth/register", None, body).await;
        assert_eq!(r.status, 201, "register: {}", r.body);
        Registered {
            phone: phone.to_string(),
            token: r.body["token"].as_str().expect("token").to_string(),
            client_id: r.body["clientId"].as_str().expect("clientId").to_string(),
            session_id: r.body["deviceSessionId"].as_str().expect("session").to_string(),
        }
    }

    /// OTP login from another device; returns the new token.
    pub async fn login_otp(&self, phone: &str, device: &str) -> Resp {
        let code = self.otp(phone, "login").await;
        self.post("/api/auth/login", None, json!({ "phoneNumber": phone, "otp": code, "deviceId": device })).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Drop the test database on a separate runtime with a client of its own: Drop
        // cannot await, and the app's client is driven by the (now blocked) test runtime.
        let name = self.db.name().to_string();
        if !name.starts_with("test_") {
            return;
        }
        let url = self.state.config.mongo_url.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async move {
                if let Ok(c) = mongodb::Client::with_uri_str(&url).await {
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), c.database(&name).drop()).await;
                }
            });
        })
        .join();
    }
}

/// A random 10-digit Indian mobile number.
pub fn phone() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    format!("9{:09}", rng.gen_range(0..1_000_000_000u64))
}

/// A POST with an `X-Idempotency-Key` (the response body parsed as JSON when it is JSON).
pub async fn post_keyed(http: &reqwest::Client, base: &str, path: &str, token: &str, key: &str, body: &Value) -> Resp {
    let resp = http
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .header("X-Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    Resp { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)), headers }
}

impl TestApp {
    /// Documents of `coll` matching `filter`, straight from the database.
    pub async fn count(&self, coll: &str, filter: bson::Document) -> u64 {
        self.db.collection::<bson::Document>(coll).count_documents(filter).await.unwrap()
    }

    /// The stored stock of an item.
    pub async fn stock_of(&self, item: &str) -> i64 {
        let id = bson::oid::ObjectId::parse_str(item).unwrap();
        let d =
            self.db.collection::<bson::Document>("items").find_one(bson::doc! { "_id": id }).await.unwrap().unwrap();
        d.get_i64("stock").unwrap()
    }

    /// Another server instance on the same database with its own state (own in-process shop
    /// queues and caches), kept alive for the test; the first instance drops the database.
    pub async fn second_instance(&self) -> std::mem::ManuallyDrop<TestApp> {
        let st = &self.state;
        let sms = RecordingSender::new();
        let state = AppState::new(st.config.clone(), st.client.clone(), st.db.clone(), Arc::new(sms.clone()));
        std::mem::ManuallyDrop::new(TestApp::start(state, sms).await)
    }
}
