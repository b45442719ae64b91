//! Register and log in: OTP (or password) check, then one atomic step that ends every other
//! session of the client and opens the new one.

use bson::{oid::ObjectId, DateTime};

use crate::{
    auth::repo::{self as sessions, DeviceSession},
    client::{
        model::{ClientDoc, ClientSettings},
        repo as clients,
    },
    db,
    error::{code, is_duplicate_key, AppError, AppResult},
    otp::service::{self as otp, Purpose, VerifyError},
    ratelimit,
    security::password,
    state::AppState,
};

pub struct NewClient {
    pub phone: String,
    pub owner_name: String,
    pub business_name: String,
    pub shop_name: String,
    pub location: String,
    pub city: String,
    pub state: String,
    pub gstin: String,
    pub profile_url: String,
    pub password: Option<String>,
    pub settings: ClientSettings,
}

pub struct Issued {
    pub client: ClientDoc,
    pub session_id: ObjectId,
    pub token: String,
}

/// A new active session of `user_id` (the owner: the shop's id) on `device_id`.
pub fn new_session(client_id: ObjectId, user_id: ObjectId, device_id: &str) -> DeviceSession {
    let now = DateTime::now();
    DeviceSession {
        id: ObjectId::new(),
        client_id,
        user_id: Some(user_id),
        device_id: device_id.to_string(),
        is_active: true,
        last_seen_at: now,
        ended_at: None,
        ended_reason: None,
        replaced_by: None,
        created_at: now,
        updated_at: now,
    }
}

/// The window of the registration attempt limits (`REGISTER_LIMIT_PER_PHONE` / `_PER_IP`).
const REGISTER_WINDOW: std::time::Duration = std::time::Duration::from_secs(3600);

fn already_registered() -> AppError {
    AppError::Validation(vec!["phoneNumber: is already registered".into()])
}

/// Register: per-IP and per-phone attempt limits, then the OTP (purpose `register`) is
/// verified and consumed, then the client and its first device session are written in one
/// transaction.
///
/// The OTP comes FIRST: a register code is never issued to a registered phone
/// (`otp::service::send`), so without a valid code a registered and an unregistered phone get
/// the same 400 `otp: invalid or expired OTP` and registration reveals nothing. "Already
/// registered" is answered only to the holder of a valid code whose phone was registered
/// meanwhile (the unique index decides).
pub async fn register(
    state: &AppState,
    otp_code: &str,
    device_id: &str,
    ip: &str,
    new: NewClient,
) -> AppResult<Issued> {
    let cfg = &state.config;
    let message = "Too many registration attempts; try again later";
    ratelimit::hit(&state.db, &format!("register:ip:{ip}"), REGISTER_WINDOW, cfg.register_limit_per_ip, message)
        .await?;
    ratelimit::hit(
        &state.db,
        &format!("register:phone:{}", new.phone),
        REGISTER_WINDOW,
        cfg.register_limit_per_phone,
        message,
    )
    .await?;
    match otp::verify(state, &new.phone, Purpose::Register, otp_code, true).await? {
        Ok(()) => {}
        Err(VerifyError::Invalid) => return Err(AppError::validation("otp", "invalid or expired OTP")),
        Err(VerifyError::Locked) => return Err(AppError::validation("otp", "too many failed attempts today")),
    }
    if clients::find_by_phone(&state.db, &new.phone).await?.is_some() {
        return Err(already_registered());
    }
    let password_hash = match new.password {
        Some(p) => Some(password::hash(p).await?),
        None => None,
    };
    let now = DateTime::now();
    let client = ClientDoc {
        gst_profile: None,
        id: ObjectId::new(),
        phone_number: new.phone,
        owner_name: new.owner_name,
        business_name: new.business_name,
        shop_name: new.shop_name,
        location: new.location,
        city: new.city,
        state: new.state,
        gstin: new.gstin,
        profile_url: new.profile_url,
        client_settings: new.settings,
        password_hash,
        is_active: true,
        last_login_at: Some(now),
        created_at: now,
        updated_at: now,
        version: 0,
    };
    let session = new_session(client.id, client.id, device_id);
    let ctx = (&client, &session, &state.db);
    let res = db::transaction(&state.client, &ctx, |s, (client, session, database)| {
        Box::pin(async move {
            clients::insert(database, s, client).await.map_err(|e| {
                if is_duplicate_key(&e) {
                    already_registered()
                } else {
                    AppError::from(e)
                }
            })?;
            let owner =
                crate::users::UserDoc::owner(client.id, &client.phone_number, &client.owner_name, client.created_at);
            crate::users::repo::ensure_owner(database, Some(&mut *s), &owner).await?;
            sessions::replace_active(database, s, session).await
        })
    })
    .await;
    state.sessions.forget_client(client.id);
    res?;
    let token = state.jwt.issue(&client.id.to_hex(), &session.id.to_hex(), &client.phone_number, None)?;
    Ok(Issued { session_id: session.id, token, client })
}

pub enum Credential {
    Otp(String),
    Password(String),
}

fn invalid_credentials() -> AppError {
    AppError::unauthorized(code::INVALID_CREDENTIALS, "Invalid phone number or credentials")
}

/// Failed password logins allowed per phone and per IP address in 15 minutes (OTPs have
/// their own caps). Every attempt is counted before the hash; a successful one is given
/// back, so successful logins do not count.
const PASSWORD_FAILS_PER_PHONE: i64 = 10;
const PASSWORD_FAILS_PER_IP: i64 = 100;
const PASSWORD_WINDOW: std::time::Duration = std::time::Duration::from_secs(900);

/// Log in by OTP or password. Unknown phone, inactive account and a wrong code or password
/// all answer the same 401.
pub async fn login(state: &AppState, phone: &str, cred: Credential, device_id: &str, ip: &str) -> AppResult<Issued> {
    let client = clients::find_by_phone(&state.db, phone).await?;
    match cred {
        Credential::Otp(code_) => match otp::verify(state, phone, Purpose::Login, &code_, true).await? {
            Ok(()) => {}
            Err(VerifyError::Invalid) => return Err(invalid_credentials()),
            Err(VerifyError::Locked) => {
                return Err(AppError::TooManyRequests {
                    message: "Too many failed OTP attempts today".into(),
                    retry_after_secs: 3600,
                })
            }
        },
        Credential::Password(p) => {
            // Count the attempt FIRST, atomically (`$inc` returns the new count), then check:
            // of a parallel burst exactly the first `limit` get as far as the hash. Reading
            // the counter, hashing, then counting (as before) let a burst through the cap.
            let keys = [
                (format!("login-pw-fail:phone:{phone}"), PASSWORD_FAILS_PER_PHONE),
                (format!("login-pw-fail:ip:{ip}"), PASSWORD_FAILS_PER_IP),
            ];
            let mut over = false;
            for (key, limit) in &keys {
                over |= ratelimit::incr(&state.db, key, PASSWORD_WINDOW).await? > *limit;
            }
            if over {
                return Err(AppError::TooManyRequests {
                    message: "Too many failed login attempts; try again later".into(),
                    retry_after_secs: PASSWORD_WINDOW.as_secs(),
                });
            }
            let stored = client.as_ref().and_then(|c| c.password_hash.clone());
            if !password::verify(p, stored).await? {
                return Err(invalid_credentials());
            }
            // a correct password is not a failure: give the attempt back
            for (key, _) in &keys {
                ratelimit::undo(&state.db, key, PASSWORD_WINDOW).await?;
            }
        }
    }
    let client = match client {
        Some(c) if c.is_active => c,
        _ => return Err(invalid_credentials()),
    };
    let session = new_session(client.id, client.id, device_id);
    let ctx = (&session, &state.db);
    let replaced = db::transaction(&state.client, &ctx, |s, (session, database)| {
        Box::pin(async move {
            sessions::replace_active(database, s, session).await?;
            clients::touch_login(database, s, session.client_id).await
        })
    })
    .await;
    // the replaced sessions are refused here from now on (and within SESSION_CACHE_MS elsewhere)
    state.sessions.forget_client(client.id);
    replaced?;
    let token = state.jwt.issue(&client.id.to_hex(), &session.id.to_hex(), &client.phone_number, None)?;
    Ok(Issued { session_id: session.id, token, client })
}

/// End the token's session. Other sessions are untouched.
pub async fn logout(state: &AppState, client_id: ObjectId, session_id: ObjectId) -> AppResult<()> {
    let ended = sessions::end(&state.db, session_id, client_id).await;
    state.sessions.forget_client(client_id);
    if ended? {
        Ok(())
    } else {
        Err(AppError::unauthorized(code::SESSION_ENDED, "Session already ended"))
    }
}
