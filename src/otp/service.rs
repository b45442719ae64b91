//! OTP rules: CSPRNG codes of configurable length, HMAC-stored, 10-minute validity checked
//! in the query, single use, bound to a purpose, at most 5 attempts per code (atomic
//! counter), a daily cap on failed verifications per phone, constant-time comparison, and
//! send limits per phone and per IP kept in MongoDB.

use std::time::Duration;

use bson::DateTime;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{
    client::repo as clients,
    error::{AppError, AppResult},
    otp::repo,
    ratelimit,
    security::generate_code,
    state::AppState,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Register,
    Login,
    /// A staff member proving their phone: accepting an invitation, joining a shop, or logging
    /// in by OTP (issue 15). Issued to any phone that is not a shop owner's.
    Staff,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::Login => "login",
            Purpose::Staff => "staff",
        }
    }
    pub fn parse(s: Option<&str>) -> Result<Purpose, AppError> {
        match s.map(str::trim) {
            Some("register") => Ok(Purpose::Register),
            Some("login") => Ok(Purpose::Login),
            Some("staff") => Ok(Purpose::Staff),
            _ => Err(AppError::validation("purpose", "must be register, login or staff")),
        }
    }
}

/// Why a verification failed (callers map this to their contract's status).
#[derive(Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// Missing, expired, used, exhausted, or wrong: one answer for all.
    Invalid,
    /// Too many failed verifications for this phone today.
    Locked,
}

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86400);

/// The fixed development code (`/api/mockotp/send`): `1234`, extended to the configured length.
pub fn mock_code(len: usize) -> String {
    "1234567890".chars().cycle().take(len).collect()
}

fn hash_code(state: &AppState, phone: &str, purpose: Purpose, code: &str) -> AppResult<Vec<u8>> {
    // Keyed with the server secret; the phone and purpose bind the hash to its use.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(state.config.jwt_secret.as_bytes())
        .map_err(|_| AppError::internal("hmac key"))?;
    mac.update(b"otp\0");
    mac.update(purpose.as_str().as_bytes());
    mac.update(b"\0");
    mac.update(phone.as_bytes());
    mac.update(b"\0");
    mac.update(code.as_bytes());
    Ok(mac.finalize().into_bytes().to_vec())
}

/// Issue a code for (phone, purpose) and hand it to the SMS sender.
///
/// The answer is the same whether or not the phone is registered (no enumeration): a
/// register code for a phone that already has an account, or a login code for an unknown
/// or inactive one, is simply not sent (registration then answers its own 400).
pub async fn send(
    state: &AppState,
    phone: &str,
    purpose: Purpose,
    ip: &str,
    fixed_code: Option<String>,
) -> AppResult<()> {
    let cfg = &state.config;
    ratelimit::hit(
        &state.db,
        &format!("otp-send:phone:{phone}"),
        HOUR,
        cfg.otp_send_limit_per_phone,
        "Too many OTP requests for this phone number; try again later",
    )
    .await?;
    ratelimit::hit(
        &state.db,
        &format!("otp-send:ip:{ip}"),
        HOUR,
        cfg.otp_send_limit_per_ip,
        "Too many OTP requests from this network; try again later",
    )
    .await?;

    let deliver = match purpose {
        Purpose::Register => clients::find_by_phone(&state.db, phone).await?.is_none(),
        Purpose::Login => clients::find_by_phone(&state.db, phone).await?.is_some_and(|c| c.is_active),
        // any phone that is not a shop owner's (owners log in with purpose `login`): the code
        // proves the phone; whether it may join, accept or log in is decided when it is used,
        // so sending reveals nothing about the shops it works for
        Purpose::Staff => clients::find_by_phone(&state.db, phone).await?.is_none(),
    };
    if !deliver {
        tracing::info!(purpose = purpose.as_str(), "OTP not sent: phone not eligible for this purpose");
        return Ok(());
    }
    let is_mock = fixed_code.is_some();
    let code = fixed_code.unwrap_or_else(|| generate_code(cfg.otp_length));
    let hash = hex::encode(hash_code(state, phone, purpose, &code)?);
    let expires = DateTime::from_millis(DateTime::now().timestamp_millis() + cfg.otp_ttl.as_millis() as i64);
    repo::replace(&state.db, phone, purpose.as_str(), &hash, expires).await?;
    if !is_mock {
        if let Err(e) = state.sms.send_otp(phone, &code).await {
            tracing::error!(error = %e, "OTP delivery failed");
            return Err(AppError::ServiceUnavailable("Could not send the OTP right now; please retry".into()));
        }
    }
    Ok(())
}

/// Check a code. `consume` deletes it on success (register/login); otherwise it stays valid
/// for the step that follows (`/api/otp/verify`). Every try counts as an attempt.
pub async fn verify(
    state: &AppState,
    phone: &str,
    purpose: Purpose,
    code: &str,
    consume: bool,
) -> AppResult<Result<(), VerifyError>> {
    let cfg = &state.config;
    let fail_key = format!("otp-fail:phone:{phone}");
    if ratelimit::current(&state.db, &fail_key, DAY).await? >= cfg.otp_failed_verify_limit_per_day {
        return Ok(Err(VerifyError::Locked));
    }
    let session = repo::take_attempt(&state.db, phone, purpose.as_str(), cfg.otp_max_attempts).await?;
    let given = hash_code(state, phone, purpose, code.trim())?;
    let ok = match &session {
        Some(s) => {
            let expected = hex::decode(&s.code_hash).unwrap_or_default();
            bool::from(expected.ct_eq(&given))
        }
        None => false,
    };
    match (ok, session) {
        (true, Some(s)) => {
            if consume {
                if !repo::consume(&state.db, s.id).await? {
                    return Ok(Err(VerifyError::Invalid));
                }
            } else {
                repo::mark_verified(&state.db, s.id).await?;
            }
            Ok(Ok(()))
        }
        _ => {
            ratelimit::incr(&state.db, &fail_key, DAY).await?;
            Ok(Err(VerifyError::Invalid))
        }
    }
}

pub async fn clear(state: &AppState, phone: &str) -> AppResult<u64> {
    ratelimit::reset(&state.db, &format!("otp-send:phone:{phone}")).await?;
    ratelimit::reset(&state.db, &format!("otp-fail:phone:{phone}")).await?;
    repo::clear(&state.db, phone).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_configured_length_and_vary() {
        let a = generate_code(6);
        assert_eq!(a.len(), 6);
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
        let many: std::collections::HashSet<String> = (0..50).map(|_| generate_code(4)).collect();
        assert!(many.len() > 10, "codes must not repeat like a constant");
        assert_eq!(mock_code(4), "1234");
        assert_eq!(mock_code(6), "123456");
    }
}
