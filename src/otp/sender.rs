//! Where OTP codes go: 2factor.in SMS in production, the log in development, a recording
//! fake in tests. Sending happens outside any database transaction.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
#[error("sms provider: {0}")]
pub struct SmsError(pub String);

#[async_trait]
pub trait SmsSender: Send + Sync {
    async fn send_otp(&self, phone: &str, code: &str) -> Result<(), SmsError>;
}

/// Development: writes the code to the log (never used in production; config refuses it).
pub struct ConsoleSender;

#[async_trait]
impl SmsSender for ConsoleSender {
    async fn send_otp(&self, phone: &str, code: &str) -> Result<(), SmsError> {
        tracing::info!(phone, code, "OTP (console provider, development only)");
        Ok(())
    }
}

/// 2factor.in HTTP API: `GET https://2factor.in/API/V1/{key}/SMS/{phone}/{otp}`.
pub struct TwoFactorSender {
    http: reqwest::Client,
    api_key: String,
    base_url: String,
}

impl TwoFactorSender {
    pub fn new(api_key: String) -> Self {
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(8)).build().unwrap_or_default();
        TwoFactorSender { http, api_key, base_url: "https://2factor.in/API/V1".to_string() }
    }

    /// Point at another base URL (a local stub in tests).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }
}

#[async_trait]
impl SmsSender for TwoFactorSender {
    async fn send_otp(&self, phone: &str, code: &str) -> Result<(), SmsError> {
        // 2factor expects the number with the country code for Indian numbers.
        let to = if phone.len() == 10 { format!("91{phone}") } else { phone.to_string() };
        let url = format!("{}/{}/SMS/{}/{}", self.base_url, self.api_key, to, code);
        let resp = self.http.get(&url).send().await.map_err(|e| SmsError(e.without_url().to_string()))?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        if status.is_success() && body.get("Status").and_then(|s| s.as_str()) == Some("Success") {
            Ok(())
        } else {
            Err(SmsError(format!("status {status}, answer {:?}", body.get("Details"))))
        }
    }
}

/// Test fake: remembers every code sent.
#[derive(Default, Clone)]
pub struct RecordingSender {
    sent: Arc<Mutex<Vec<(String, String)>>>,
    fail: Arc<Mutex<bool>>,
}

impl RecordingSender {
    pub fn new() -> Self {
        Self::default()
    }
    /// The last code sent to `phone`.
    pub fn last_code(&self, phone: &str) -> Option<String> {
        let sent = self.sent.lock().ok()?;
        sent.iter().rev().find(|(p, _)| p == phone).map(|(_, c)| c.clone())
    }
    pub fn count(&self, phone: &str) -> usize {
        self.sent.lock().map(|s| s.iter().filter(|(p, _)| p == phone).count()).unwrap_or(0)
    }
    /// Make the next sends fail (provider down).
    pub fn set_failing(&self, failing: bool) {
        if let Ok(mut f) = self.fail.lock() {
            *f = failing;
        }
    }
}

#[async_trait]
impl SmsSender for RecordingSender {
    async fn send_otp(&self, phone: &str, code: &str) -> Result<(), SmsError> {
        if self.fail.lock().map(|f| *f).unwrap_or(false) {
            return Err(SmsError("recording sender set to fail".into()));
        }
        if let Ok(mut s) = self.sent.lock() {
            s.push((phone.to_string(), code.to_string()));
        }
        Ok(())
    }
}
