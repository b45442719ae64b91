//! Staff management and staff sign-in (issue 15): invite, accept, join and approve, change,
//! deactivate and reactivate, sessions, and the approval PIN. The rules:
//! - the owner (`super_admin`, `_id` = the shop's id) cannot be changed, demoted or deactivated
//!   here (409 `CONFLICT`), and `super_admin` is never assigned (400);
//! - an `admin` manages every role but `admin`: inviting, changing or deactivating an admin, or
//!   making someone admin, is the owner's (403 `FORBIDDEN`);
//! - every change ends the cached sessions of the shop on this instance at once and on the
//!   others within `SESSION_CACHE_MS` (a role change takes effect on the next request);
//!   deactivating ends the user's sessions in the database at once.

use bson::{doc, oid::ObjectId, DateTime, Document};

use crate::{
    access::{Grants, Role},
    audit::{self, Action, Entry},
    auth::{
        repo::{self as sessions, ENDED_BY_ADMIN, ENDED_DEACTIVATED},
        service::{new_session, Issued},
        AuthClient,
    },
    client::repo as clients,
    db,
    error::{code, AppError, AppResult},
    otp::service::{self as otp, Purpose, VerifyError},
    security::password,
    state::AppState,
    users::{repo as users, Origin, UserDoc, UserStatus},
};

/// A validated invitation or self-registration.
pub struct NewUser {
    pub phone: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub employee_id: String,
    pub role: Role,
    pub max_discount_bp: Option<u32>,
    pub permissions: Grants,
    pub profile_image: Option<String>,
}

/// The user `u` as the audit trail names them (their own sign-in: session and device).
fn who_user(u: &UserDoc, session: Option<ObjectId>, device: &str) -> audit::Who {
    let w = audit::Who::new(u.id.to_hex(), u.name(), u.role.as_str()).device(device);
    match session {
        Some(s) => w.session(s.to_hex()),
        None => w,
    }
}

/// The fields of a user the audit trail compares (stored names).
const AUDITED: [&str; 9] =
    ["role", "status", "permissions", "maxDiscountBp", "firstName", "lastName", "email", "employeeId", "profileImage"];

/// The audit entry of a staff change by `who` in shop `client_id` on `after` (`before` ->
/// `after`; `None` before: a new user).
fn change_entry(
    client_id: ObjectId,
    who: &audit::Who,
    action: Action,
    before: Option<&UserDoc>,
    after: &UserDoc,
) -> AppResult<Entry> {
    let changes = match before {
        Some(b) => audit::changes_of(b, after, &AUDITED),
        None => audit::changes_of(&serde_json::json!({}), &serde_json::to_value(after).unwrap_or_default(), &AUDITED),
    };
    Ok(Entry::builder(client_id, who.clone(), action, crate::users::repo::USERS)
        .entity_id(after.id.to_hex())
        .changes(changes)
        .build()?)
}

/// Apply `set` to user `cur` (guarded by its version: `None` when it changed meanwhile) and
/// record `action` by `by` in the audit trail, in one transaction (issue 15: the entry commits
/// with the change it describes, or neither does).
async fn update_audited(
    state: &AppState,
    by: &AuthClient,
    cur: &UserDoc,
    set: bson::Document,
    action: Action,
) -> AppResult<Option<UserDoc>> {
    let ctx = (state.db.clone(), by.client_id, cur.clone(), set, audit::who(by), action);
    db::transaction(&state.client, &ctx, |s, (database, client_id, cur, set, who, action)| {
        Box::pin(async move {
            let Some(updated) =
                users::update_in(database, Some(&mut *s), *client_id, cur.id, cur.version, set.clone()).await?
            else {
                return Ok(None);
            };
            let entry = change_entry(*client_id, who, *action, Some(cur), &updated)?;
            audit::record(database, Some(&mut *s), &entry).await?;
            Ok(Some(updated))
        })
    })
    .await
}

fn owner_protected() -> AppError {
    AppError::conflict(code::CONFLICT, "The shop's owner cannot be changed, demoted or deactivated")
}

fn owner_only() -> AppError {
    AppError::forbidden(code::FORBIDDEN, "Only the shop's owner manages admins")
}

/// May `by` manage `target` (and give it `role`)? The owner is never managed here; only the
/// owner manages admins.
fn check_manage(by: &AuthClient, target: Option<&UserDoc>, role: Option<Role>) -> AppResult<()> {
    if target.is_some_and(|t| t.origin == Origin::Owner || t.id == by.client_id) {
        return Err(owner_protected());
    }
    if role == Some(Role::SuperAdmin) {
        return Err(AppError::validation("role", "super_admin is the shop's owner only"));
    }
    let touches_admin = role == Some(Role::Admin) || target.is_some_and(|t| t.role == Role::Admin);
    if touches_admin && by.user.role != Role::SuperAdmin {
        return Err(owner_only());
    }
    Ok(())
}

fn user_doc(client_id: ObjectId, new: NewUser, origin: Origin, created_by: Option<ObjectId>) -> UserDoc {
    let now = DateTime::now();
    UserDoc {
        id: ObjectId::new(),
        client_id,
        phone_number: new.phone,
        email: new.email,
        first_name: new.first_name,
        last_name: new.last_name,
        employee_id: new.employee_id,
        role: new.role,
        permissions: new.permissions,
        max_discount_bp: new.max_discount_bp,
        status: UserStatus::PendingApproval,
        origin,
        login_attempts: 0,
        locked_until: None,
        last_login_at: None,
        profile_image: new.profile_image,
        password_hash: None,
        pin_hash: None,
        created_by,
        created_at: now,
        updated_at: now,
        version: 0,
    }
}

/// The effective permissions of `u` in its shop.
pub async fn effective_of(state: &AppState, u: &UserDoc) -> AppResult<Vec<crate::access::Permission>> {
    let shop = clients::access(&state.db, u.client_id).await?.unwrap_or_default();
    Ok(effective_in(&shop, u).list())
}

/// The effective permissions of `u` under its shop's staff rules `shop` (the owner: all).
pub fn effective_in(shop: &clients::ShopAccess, u: &UserDoc) -> crate::access::PermSet {
    u.actor(shop.staff.role_grants.get(&u.role)).grants
}

/// Invite a staff member: a `pending_approval` user of the shop, who activates themselves with
/// [`accept`]. 409 `DUPLICATE` when the phone, email or employee id is taken in the shop.
pub async fn invite(state: &AppState, by: &AuthClient, new: NewUser) -> AppResult<UserDoc> {
    check_manage(by, None, Some(new.role))?;
    let u = user_doc(by.client_id, new, Origin::Invited, Some(by.user.user_id));
    let entry = change_entry(by.client_id, &audit::who(by), Action::StaffInvited, None, &u)?;
    let ctx = (state.db.clone(), u.clone(), entry);
    db::transaction(&state.client, &ctx, |s, (database, u, entry)| {
        Box::pin(async move {
            users::insert(database, Some(&mut *s), u).await?;
            audit::record(database, Some(&mut *s), entry).await
        })
    })
    .await?;
    Ok(u)
}

/// Ask to join shop `client_id` (phone proven by OTP purpose `staff`): a `pending_approval`
/// cashier with the given password, until approved. An unknown shop answers like a wrong OTP
/// (nothing about shops is revealed).
pub async fn join(
    state: &AppState,
    client_id: ObjectId,
    otp_code: &str,
    password_text: String,
    new: NewUser,
) -> AppResult<UserDoc> {
    verify_otp(state, &new.phone, otp_code).await?;
    if !clients::access(&state.db, client_id).await?.is_some_and(|s| s.is_active) {
        return Err(AppError::validation("otp", "invalid or expired OTP"));
    }
    let mut u = user_doc(client_id, new, Origin::SelfRegistered, None);
    u.password_hash = Some(password::hash(password_text).await?);
    users::insert(&state.db, None, &u).await?;
    Ok(u)
}

async fn verify_otp(state: &AppState, phone: &str, code_: &str) -> AppResult<()> {
    match otp::verify(state, phone, Purpose::Staff, code_, true).await? {
        Ok(()) => Ok(()),
        Err(VerifyError::Invalid) => Err(AppError::validation("otp", "invalid or expired OTP")),
        Err(VerifyError::Locked) => Err(AppError::validation("otp", "too many failed attempts today")),
    }
}

fn invalid_credentials() -> AppError {
    AppError::unauthorized(code::INVALID_CREDENTIALS, "Invalid phone number or credentials")
}

/// An invited user proves the phone (OTP purpose `staff`) and sets a password: active, and
/// logged in on `device_id`. A phone with no pending invitation in that shop answers like a
/// wrong OTP.
pub async fn accept(
    state: &AppState,
    client_id: ObjectId,
    phone: &str,
    otp_code: &str,
    password_text: String,
    device_id: &str,
) -> AppResult<(UserDoc, Issued)> {
    verify_otp(state, phone, otp_code).await?;
    let invited = users::find_for_login(&state.db, Some(client_id), Some(phone), None)
        .await?
        .into_iter()
        .find(|u| u.origin == Origin::Invited && u.status == UserStatus::PendingApproval)
        .ok_or_else(|| AppError::validation("otp", "invalid or expired OTP"))?;
    let hash = password::hash(password_text).await?;
    let ctx = (state.db.clone(), client_id, invited.id, hash);
    let activated = db::transaction(&state.client, &ctx, |s, (database, client_id, id, hash)| {
        Box::pin(async move { users::activate_invited(database, s, *client_id, *id, hash).await })
    })
    .await?
    .ok_or_else(|| AppError::validation("otp", "invalid or expired OTP"))?;
    let issued = open_session(state, &activated, device_id).await?;
    let who = who_user(&activated, Some(issued.session_id), device_id);
    let changes =
        vec![audit::Change::new("status", serde_json::json!("pending_approval"), serde_json::json!("active"))];
    audit::note(
        &state.db,
        Entry::builder(client_id, who, Action::StaffActivated, crate::users::repo::USERS)
            .entity_id(activated.id.to_hex())
            .changes(changes)
            .build(),
    )
    .await?;
    Ok((activated, issued))
}

/// A staff login: phone or email (and `client_id` when they are staff of several shops), then
/// a password or an OTP (purpose `staff`). Unknown, wrong and deactivated all answer the same
/// 401; a user waiting for approval is told so (403 `ACCOUNT_PENDING`) only after correct
/// credentials. Failed passwords count per user (`loginAttempts`); 5 in a row lock the user for
/// 15 minutes (429). A full shop (`maxActiveUsers`) is 409 `SEATS_FULL`.
pub async fn login(
    state: &AppState,
    client_id: Option<ObjectId>,
    phone: Option<&str>,
    email: Option<&str>,
    cred: crate::auth::service::Credential,
    device_id: &str,
) -> AppResult<(UserDoc, Issued)> {
    let mut found = users::find_for_login(&state.db, client_id, phone, email).await?;
    found.retain(|u| u.origin != Origin::Owner);
    if found.len() > 1 {
        return Err(AppError::validation("clientId", "is required: this user works in more than one shop"));
    }
    let user = found.pop();
    let now = DateTime::now();
    if let Some(until) = user.as_ref().and_then(|u| u.locked_until).filter(|t| *t > now) {
        let secs = (until.timestamp_millis() - now.timestamp_millis()) / 1000 + 1;
        return Err(AppError::TooManyRequests {
            message: "Too many failed logins for this user; try again later".into(),
            retry_after_secs: secs.max(1) as u64,
        });
    }
    match cred {
        crate::auth::service::Credential::Otp(c) => {
            let p = phone.ok_or_else(|| AppError::validation("phoneNumber", "is required for an OTP login"))?;
            match otp::verify(state, p, Purpose::Staff, &c, true).await? {
                Ok(()) => {}
                Err(_) => return Err(invalid_credentials()),
            }
        }
        crate::auth::service::Credential::Password(p) => {
            let stored = user.as_ref().and_then(|u| u.password_hash.clone());
            if !password::verify(p, stored).await? {
                if let Some(u) = &user {
                    let attempts = users::login_failed(&state.db, u.client_id, u.id, now).await?;
                    audit::note(
                        &state.db,
                        Entry::builder(u.client_id, who_user(u, None, device_id), Action::LoginFailed, "users")
                            .entity_id(u.id.to_hex())
                            .changes(vec![audit::Change::new(
                                "loginAttempts",
                                serde_json::json!(attempts - 1),
                                serde_json::json!(attempts),
                            )])
                            .build(),
                    )
                    .await?;
                }
                return Err(invalid_credentials());
            }
        }
    }
    let user = user.filter(|u| u.status != UserStatus::Deactivated).ok_or_else(invalid_credentials)?;
    if user.status == UserStatus::PendingApproval {
        return Err(AppError::forbidden(
            code::ACCOUNT_PENDING,
            "This user is waiting for the shop's approval (or has not accepted the invitation)",
        ));
    }
    if !clients::access(&state.db, user.client_id).await?.is_some_and(|s| s.is_active) {
        return Err(invalid_credentials());
    }
    let issued = open_session(state, &user, device_id).await?;
    audit::note(
        &state.db,
        Entry::builder(
            user.client_id,
            who_user(&user, Some(issued.session_id), device_id),
            Action::Login,
            "devicesessions",
        )
        .entity_id(issued.session_id.to_hex())
        .build(),
    )
    .await?;
    Ok((user, issued))
}

/// Open `user`'s session on `device_id` in one transaction: the user's other sessions end
/// (one active device per user), the seat count is checked (`maxActiveUsers`; the shop's seat
/// counter document is written so that two logins racing for the last seat conflict and one
/// retries), and the login is recorded on the user.
async fn open_session(state: &AppState, user: &UserDoc, device_id: &str) -> AppResult<Issued> {
    let seats = clients::access(&state.db, user.client_id).await?.and_then(|s| s.staff.max_active_users);
    let session = new_session(user.client_id, user.id, device_id);
    let ctx = (state.db.clone(), session.clone(), user.id, seats);
    let res = db::transaction(&state.client, &ctx, |s, (database, session, user_id, seats)| {
        Box::pin(async move {
            if let Some(max) = seats {
                sessions::seat_guard(database, s, session.client_id).await?;
                let others = sessions::users_signed_in(database, s, session.client_id, *user_id).await?;
                if others >= u64::from(*max) {
                    return Err(AppError::conflict(
                        code::SEATS_FULL,
                        format!("All {max} seats of this shop are in use; end a session first"),
                    ));
                }
            }
            sessions::replace_active(database, s, session).await?;
            users::login_succeeded(database, s, session.client_id, *user_id).await
        })
    })
    .await;
    state.sessions.forget_client(user.client_id);
    res?;
    let token =
        state.jwt.issue(&user.client_id.to_hex(), &session.id.to_hex(), &user.phone_number, Some(&user.id.to_hex()))?;
    let client = clients::find_by_id(&state.db, user.client_id).await?.ok_or_else(invalid_credentials)?;
    Ok(Issued { client, session_id: session.id, token })
}

/// A change to a user (`PATCH /api/staff/{userId}`), already validated.
#[derive(Default)]
pub struct Change {
    pub role: Option<Role>,
    pub max_discount_bp: Option<u32>,
    pub permissions: Option<Grants>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub employee_id: Option<String>,
    pub profile_image: Option<String>,
    pub base_version: Option<i32>,
}

/// User `id` of the token's shop; a foreign or unknown id is 404.
pub async fn get(state: &AppState, by: &AuthClient, id: ObjectId) -> AppResult<UserDoc> {
    users::find(&state.db, by.client_id, id).await?.ok_or_else(|| AppError::not_found("User not found"))
}

fn stale() -> AppError {
    AppError::conflict(code::CONFLICT, "The user was changed meanwhile; read it again")
}

/// Change user `id`. 409 when `baseVersion` is not the user's version (or a concurrent change
/// wins).
pub async fn update(state: &AppState, by: &AuthClient, id: ObjectId, c: Change) -> AppResult<UserDoc> {
    let cur = get(state, by, id).await?;
    check_manage(by, Some(&cur), c.role)?;
    if c.base_version.is_some_and(|v| v != cur.version) {
        return Err(stale());
    }
    let mut set = Document::new();
    if let Some(r) = c.role {
        set.insert("role", r.as_str());
    }
    if let Some(bp) = c.max_discount_bp {
        set.insert("maxDiscountBp", i64::from(bp));
    }
    if let Some(g) = &c.permissions {
        set.insert("permissions", bson::to_bson(g).map_err(|e| AppError::internal(format!("grants: {e}")))?);
    }
    for (field, v) in [
        ("firstName", &c.first_name),
        ("lastName", &c.last_name),
        ("email", &c.email),
        ("employeeId", &c.employee_id),
        ("profileImage", &c.profile_image),
    ] {
        if let Some(v) = v {
            set.insert(field, v.as_str());
        }
    }
    if set.is_empty() {
        return Ok(cur);
    }
    let updated = update_audited(state, by, &cur, set, Action::StaffChanged).await?.ok_or_else(stale)?;
    state.sessions.forget_client(by.client_id);
    Ok(updated)
}

/// A status change by the owner or an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// Refused from the next request on; every session of the user ends now.
    Deactivate,
    /// Back to active (a deactivated user).
    Reactivate,
    /// A self-registered user waiting for approval becomes active (optionally with a role).
    Approve,
}

/// Apply a status change to user `id`. 409 when the user is not in a state it applies to.
pub async fn set_status(
    state: &AppState,
    by: &AuthClient,
    id: ObjectId,
    change: StatusChange,
    role: Option<Role>,
) -> AppResult<UserDoc> {
    let cur = get(state, by, id).await?;
    check_manage(by, Some(&cur), role)?;
    let (from, to) = match change {
        StatusChange::Deactivate => (vec![UserStatus::Active, UserStatus::PendingApproval], UserStatus::Deactivated),
        StatusChange::Reactivate => (vec![UserStatus::Deactivated], UserStatus::Active),
        StatusChange::Approve => (vec![UserStatus::PendingApproval], UserStatus::Active),
    };
    if !from.contains(&cur.status) || (change == StatusChange::Approve && cur.origin != Origin::SelfRegistered) {
        return Err(AppError::conflict(
            code::CONFLICT,
            format!("The user is {} and cannot be {}", cur.status.as_str(), to.as_str()),
        ));
    }
    let mut set = doc! { "status": to.as_str() };
    if let Some(r) = role {
        set.insert("role", r.as_str());
    }
    let action = match change {
        StatusChange::Deactivate => Action::StaffDeactivated,
        StatusChange::Reactivate => Action::StaffReactivated,
        StatusChange::Approve => Action::StaffApproved,
    };
    let updated = update_audited(state, by, &cur, set, action).await?.ok_or_else(stale)?;
    if change == StatusChange::Deactivate {
        sessions::end_where(&state.db, by.client_id, None, Some(id), ENDED_DEACTIVATED).await?;
    }
    state.sessions.forget_client(by.client_id);
    Ok(updated)
}

/// The shop's active sessions (of one user when given).
pub async fn list_sessions(
    state: &AppState,
    by: &AuthClient,
    user: Option<ObjectId>,
) -> AppResult<Vec<sessions::DeviceSession>> {
    sessions::active(&state.db, by.client_id, user).await
}

/// End session `id` of the shop (404 when it is not an active session of the shop). An admin
/// cannot end the owner's or another admin's session (403).
pub async fn end_session(state: &AppState, by: &AuthClient, id: ObjectId) -> AppResult<()> {
    let s = sessions::find(&state.db, id, by.client_id)
        .await?
        .filter(|s| s.is_active)
        .ok_or_else(|| AppError::not_found("Session not found"))?;
    if s.user() != by.user.user_id {
        let target = users::find(&state.db, by.client_id, s.user()).await?;
        let protected = s.user() == by.client_id || target.as_ref().is_some_and(|t| t.role == Role::Admin);
        if protected && by.user.role != Role::SuperAdmin {
            return Err(owner_only());
        }
    }
    sessions::end_where(&state.db, by.client_id, Some(id), None, ENDED_BY_ADMIN).await?;
    state.sessions.forget_client(by.client_id);
    audit::note(
        &state.db,
        Entry::builder(by.client_id, audit::who(by), Action::SessionEnded, "devicesessions")
            .entity_id(id.to_hex())
            .build(),
    )
    .await?;
    Ok(())
}

/// Set the signed-in user's approval PIN (argon2 hash; 4 to 6 digits, validated by the
/// handler). The owner's PIN is kept on the owner's user.
pub async fn set_pin(state: &AppState, by: &AuthClient, pin: String) -> AppResult<()> {
    let hash = password::hash(pin).await?;
    let cur = get(state, by, by.user.user_id).await?;
    users::update(&state.db, by.client_id, cur.id, cur.version, doc! { "pinHash": hash }).await?.ok_or_else(stale)?;
    Ok(())
}

/// Issue an approval (issue 15) asked by the signed-in user `by` from approver `approver_id`
/// with the approver's PIN; audited as `approval_granted` naming both. See
/// [`crate::approval::issue`] for the refusals.
pub async fn approve_action(
    state: &AppState,
    by: &AuthClient,
    approver_id: ObjectId,
    pin: String,
    subject: crate::approval::Subject,
    reason: &str,
) -> AppResult<crate::approval::Issued> {
    let shop = clients::access(&state.db, by.client_id).await?.unwrap_or_default();
    let effective_of = |u: &UserDoc| effective_in(&shop, u);
    let ask = crate::approval::Ask {
        client_id: by.client_id,
        requested_by: by.user.user_id,
        approver_id,
        pin,
        subject: &subject,
        reason,
    };
    let issued = crate::approval::issue(&state.db, ask, effective_of).await?;
    let a = &issued.approver;
    let (action, _) = subject.action();
    audit::note(
        &state.db,
        Entry::builder(by.client_id, audit::who(by), Action::ApprovalGranted, crate::approval::APPROVALS)
            .changes(vec![audit::Change::new("action", serde_json::Value::Null, serde_json::json!(action))])
            .reason(reason)
            .approver(audit::Approver::new(a.user_id.clone(), a.name.clone(), a.role.as_str()))
            .build(),
    )
    .await?;
    Ok(issued)
}
