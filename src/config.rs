//! Typed settings read from the environment (after `.env` via dotenvy).
//! Secrets are never logged: `Debug` redacts them.

use std::{fmt, time::Duration};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtpProvider {
    Console,
    TwoFactor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub mongo_url: String,
    pub mongo_db_name: String,
    pub port: u16,
    pub jwt_secret: String,
    pub jwt_ttl: Duration,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub otp_length: usize,
    pub otp_ttl: Duration,
    pub otp_max_attempts: i32,
    pub otp_provider: OtpProvider,
    pub twofactor_api_key: Option<String>,
    pub otp_send_limit_per_phone: i64,
    pub otp_send_limit_per_ip: i64,
    pub otp_failed_verify_limit_per_day: i64,
    /// Registration attempts per phone per hour (`REGISTER_LIMIT_PER_PHONE`, default 10).
    pub register_limit_per_phone: i64,
    /// Registration attempts per client IP per hour (`REGISTER_LIMIT_PER_IP`, default 30).
    pub register_limit_per_ip: i64,
    pub cors_origins: Vec<String>,
    pub log_format: LogFormat,
    pub request_timeout: Duration,
    /// How long a database operation waits for a usable server (and for a connection to
    /// open) before failing with 503 (`MONGO_SERVER_SELECTION_TIMEOUT_MS`, default 5000).
    /// Keep it below `REQUEST_TIMEOUT_SECS` so a down database answers
    /// `SERVICE_UNAVAILABLE` rather than the request timeout.
    pub mongo_server_selection_timeout: Duration,
    pub body_limit_bytes: usize,
    /// Tests only (`TEST_DELAY_AFTER_COMMIT_MS`, default 0, refused in production): money-moving
    /// work sleeps this long after it finished, so its answer comes after the request timeout.
    pub test_delay_after_commit: Duration,
    /// Take the client address for per-IP limits from `X-Forwarded-For` (`TRUST_PROXY`,
    /// default false; only behind our own proxy). See `http::forwarded_client`.
    pub trust_proxy: bool,
    /// How many proxies of ours append to `X-Forwarded-For` (`TRUSTED_PROXY_HOPS`, default
    /// 1, at most 10): the client is that many entries from the right.
    pub trusted_proxy_hops: usize,
    /// How long a device session found active is trusted without reading it again
    /// (`SESSION_CACHE_MS`, default 1000; 0 = read on every request). See `auth::cache`.
    pub session_cache_ttl: Duration,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("app_env", &self.app_env)
            .field("mongo_url", &redact_url(&self.mongo_url))
            .field("mongo_db_name", &self.mongo_db_name)
            .field("port", &self.port)
            .field("jwt_secret", &"<redacted>")
            .field("jwt_ttl", &self.jwt_ttl)
            .field("otp_length", &self.otp_length)
            .field("otp_provider", &self.otp_provider)
            .field("cors_origins", &self.cors_origins)
            .field("log_format", &self.log_format)
            .finish_non_exhaustive()
    }
}

/// Hide `user:password@` in a connection string.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            format!("{}://<credentials>@{}", &url[..s], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

/// Development secret used only when `APP_ENV=development` and no `JWT_SECRET` is set.
const DEV_JWT_SECRET: &str = "viveka-development-secret-change-me-0123456789";

impl Config {
    /// Read the process environment (call `dotenvy::dotenv()` first if wanted).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Build from any key lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let app_env = match var("APP_ENV").as_deref() {
            None | Some("development") | Some("dev") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => return Err(ConfigError(format!("APP_ENV must be development or production, got {other}"))),
        };
        let mongo_url = var("MONGO_URL")
            .or_else(|| var("MONGODB_URI"))
            .unwrap_or_else(|| "mongodb://127.0.0.1:27117/?directConnection=true".to_string());
        let jwt_secret = match var("JWT_SECRET") {
            Some(s) if s.len() >= 32 => s,
            Some(_) => return Err(ConfigError("JWT_SECRET must be at least 32 bytes".into())),
            None if app_env == AppEnv::Production => {
                return Err(ConfigError("JWT_SECRET is required in production".into()))
            }
            None => DEV_JWT_SECRET.to_string(),
        };
        let otp_provider = match var("OTP_PROVIDER").as_deref() {
            None if app_env == AppEnv::Production => OtpProvider::TwoFactor,
            None | Some("console") => OtpProvider::Console,
            Some("twofactor") | Some("2factor") => OtpProvider::TwoFactor,
            Some(other) => return Err(ConfigError(format!("OTP_PROVIDER must be console or twofactor, got {other}"))),
        };
        if otp_provider == OtpProvider::Console && app_env == AppEnv::Production {
            return Err(ConfigError("OTP_PROVIDER=console is not allowed in production".into()));
        }
        let twofactor_api_key = var("TWOFACTOR_API_KEY");
        if otp_provider == OtpProvider::TwoFactor && twofactor_api_key.is_none() {
            return Err(ConfigError("OTP_PROVIDER=twofactor needs TWOFACTOR_API_KEY".into()));
        }
        let otp_length: usize = parse(&var, "OTP_LENGTH", 4)?;
        if !(4..=8).contains(&otp_length) {
            return Err(ConfigError("OTP_LENGTH must be between 4 and 8".into()));
        }
        let log_format = match var("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(ConfigError(format!("LOG_FORMAT must be text or json, got {other}"))),
        };
        let cors_origins = var("CORS_ORIGINS")
            .map(|s| s.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect())
            .unwrap_or_default();
        let test_delay_after_commit = Duration::from_millis(parse(&var, "TEST_DELAY_AFTER_COMMIT_MS", 0)?);
        if !test_delay_after_commit.is_zero() && app_env == AppEnv::Production {
            return Err(ConfigError("TEST_DELAY_AFTER_COMMIT_MS is for tests and not allowed in production".into()));
        }
        let trusted_proxy_hops: usize = parse(&var, "TRUSTED_PROXY_HOPS", 1)?;
        if !(1..=10).contains(&trusted_proxy_hops) {
            return Err(ConfigError("TRUSTED_PROXY_HOPS must be between 1 and 10".into()));
        }
        Ok(Config {
            app_env,
            mongo_url,
            mongo_db_name: var("MONGO_DB_NAME").unwrap_or_else(|| "vivekaDB".to_string()),
            port: parse(&var, "PORT", 10000)?,
            jwt_secret,
            jwt_ttl: Duration::from_secs(parse_duration(&var, "JWT_TTL", 7 * 24 * 3600)?),
            jwt_issuer: var("JWT_ISSUER").unwrap_or_else(|| "viveka-api".to_string()),
            jwt_audience: var("JWT_AUDIENCE").unwrap_or_else(|| "viveka-app".to_string()),
            otp_length,
            otp_ttl: Duration::from_secs(600),
            otp_max_attempts: 5,
            otp_provider,
            twofactor_api_key,
            otp_send_limit_per_phone: parse(&var, "OTP_SEND_LIMIT_PER_PHONE", 3)?,
            otp_send_limit_per_ip: parse(&var, "OTP_SEND_LIMIT_PER_IP", 30)?,
            otp_failed_verify_limit_per_day: parse(&var, "OTP_FAILED_VERIFY_LIMIT_PER_DAY", 20)?,
            register_limit_per_phone: parse(&var, "REGISTER_LIMIT_PER_PHONE", 10)?,
            register_limit_per_ip: parse(&var, "REGISTER_LIMIT_PER_IP", 30)?,
            cors_origins,
            log_format,
            request_timeout: Duration::from_secs(parse(&var, "REQUEST_TIMEOUT_SECS", 15)?),
            mongo_server_selection_timeout: Duration::from_millis(
                parse::<u64>(&var, "MONGO_SERVER_SELECTION_TIMEOUT_MS", 5000)?.max(100),
            ),
            body_limit_bytes: parse(&var, "BODY_LIMIT_BYTES", 1024 * 1024)?,
            test_delay_after_commit,
            trust_proxy: parse(&var, "TRUST_PROXY", false)?,
            trusted_proxy_hops,
            session_cache_ttl: Duration::from_millis(parse(&var, "SESSION_CACHE_MS", 1000)?),
        })
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }
}

fn parse<T: std::str::FromStr>(var: &impl Fn(&str) -> Option<String>, key: &str, default: T) -> Result<T, ConfigError> {
    match var(key) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| ConfigError(format!("{key} has an invalid value"))),
    }
}

/// Seconds, or a number with a unit suffix: `s`, `m`, `h`, `d` (e.g. `7d`).
fn parse_duration(var: &impl Fn(&str) -> Option<String>, key: &str, default: u64) -> Result<u64, ConfigError> {
    let Some(v) = var(key) else {
        return Ok(default);
    };
    let (num, mult) = match v.chars().last() {
        Some('s') => (&v[..v.len() - 1], 1),
        Some('m') => (&v[..v.len() - 1], 60),
        Some('h') => (&v[..v.len() - 1], 3600),
        Some('d') => (&v[..v.len() - 1], 86400),
        _ => (v.as_str(), 1),
    };
    let n: u64 = num.parse().map_err(|_| ConfigError(format!("{key} has an invalid duration")))?;
    if n == 0 {
        return Err(ConfigError(format!("{key} must be positive")));
    }
    Ok(n * mult)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn production_requires_secret() {
        assert!(cfg(&[("APP_ENV", "production"), ("TWOFACTOR_API_KEY", "k")]).is_err());
        let c = cfg(&[("APP_ENV", "production"), ("TWOFACTOR_API_KEY", "k"), ("JWT_SECRET", &"x".repeat(32))]).unwrap();
        assert_eq!(c.otp_provider, OtpProvider::TwoFactor);
    }

    #[test]
    fn short_secret_rejected_and_defaults() {
        assert!(cfg(&[("JWT_SECRET", "short")]).is_err());
        let c = cfg(&[]).unwrap();
        assert_eq!(c.port, 10000);
        assert_eq!(c.otp_length, 4);
        assert_eq!(c.jwt_ttl, Duration::from_secs(604800));
        assert_eq!(cfg(&[("JWT_TTL", "2h")]).unwrap().jwt_ttl, Duration::from_secs(7200));
        assert_eq!(cfg(&[("MONGODB_URI", "mongodb://x")]).unwrap().mongo_url, "mongodb://x");
        assert_eq!(c.mongo_server_selection_timeout, Duration::from_secs(5));
        let fast = cfg(&[("MONGO_SERVER_SELECTION_TIMEOUT_MS", "800")]).unwrap();
        assert_eq!(fast.mongo_server_selection_timeout, Duration::from_millis(800));
        assert!(cfg(&[("MONGO_SERVER_SELECTION_TIMEOUT_MS", "soon")]).is_err());
    }

    #[test]
    fn debug_redacts_secrets() {
        let mut c = cfg(&[]).unwrap();
        c.mongo_url = "mongodb://user:pw@host/db".into();
        let s = format!("{c:?}");
        assert!(!s.contains("pw@") && !s.contains(DEV_JWT_SECRET));
    }
}
