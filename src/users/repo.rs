//! Repository of `users` (the only code that builds their BSON). Unique per shop:
//! `phoneNumber`, `email` (when given) and `employeeId` (migration 0013); the shop's owner has
//! the shop's id as `_id`.

use bson::{doc, oid::ObjectId, DateTime, Document};
use futures::TryStreamExt;
use mongodb::{options::ReturnDocument, ClientSession, Collection, Database};

use crate::{
    error::{is_duplicate_key, AppError, AppResult},
    users::model::{UserDoc, UserStatus},
};

/// The collection.
pub const USERS: &str = "users";

/// Failed password logins that lock a user ([`LOCK_SECS`]).
pub const MAX_LOGIN_ATTEMPTS: i32 = 5;

/// How long a user stays locked after [`MAX_LOGIN_ATTEMPTS`] failures (15 minutes).
pub const LOCK_SECS: i64 = 900;

fn coll(db: &Database) -> Collection<UserDoc> {
    db.collection(USERS)
}

/// The duplicate a unique index refused, by its field (`phoneNumber`, `email`, `employeeId`).
fn duplicate(e: &mongodb::error::Error) -> Option<AppError> {
    if !is_duplicate_key(e) {
        return None;
    }
    let text = e.to_string();
    let field = ["employeeId", "email", "phoneNumber"].into_iter().find(|f| text.contains(f)).unwrap_or("user");
    Some(AppError::conflict(
        crate::error::code::DUPLICATE,
        format!("{field}: already used by another user of this shop"),
    ))
}

/// Insert a user; a taken phone, email or employee id of the shop is 409 `DUPLICATE` naming it.
pub async fn insert(db: &Database, s: Option<&mut ClientSession>, u: &UserDoc) -> AppResult<()> {
    let r = match s {
        Some(s) => coll(db).insert_one(u).session(s).await,
        None => coll(db).insert_one(u).await,
    };
    r.map(|_| ()).map_err(|e| duplicate(&e).unwrap_or_else(|| e.into()))
}

/// Create the owner's user for shop `client_id` if it has none (`_id` = the shop's id): the
/// registration and migration 0013. Idempotent.
pub async fn ensure_owner(db: &Database, s: Option<&mut ClientSession>, owner: &UserDoc) -> AppResult<()> {
    let mut set_on_insert = bson::to_document(owner).map_err(|e| AppError::internal(format!("owner user: {e}")))?;
    // the filter's equalities are inserted as they are; naming them again would conflict
    set_on_insert.remove("_id");
    set_on_insert.remove("clientId");
    let users = coll(db);
    let q = users
        .update_one(doc! { "_id": owner.id, "clientId": owner.client_id }, doc! { "$setOnInsert": set_on_insert })
        .upsert(true);
    match s {
        Some(s) => q.session(s).await?,
        None => q.await?,
    };
    Ok(())
}

/// The users of shop `client_id` among `ids` (any status; ids of other shops match nothing).
pub async fn find_many(db: &Database, client_id: ObjectId, ids: &[ObjectId]) -> AppResult<Vec<UserDoc>> {
    Ok(coll(db).find(doc! { "_id": { "$in": ids }, "clientId": client_id }).await?.try_collect().await?)
}

/// User `id` of shop `client_id`.
pub async fn find(db: &Database, client_id: ObjectId, id: ObjectId) -> AppResult<Option<UserDoc>> {
    Ok(coll(db).find_one(doc! { "_id": id, "clientId": client_id }).await?)
}

/// The users of a shop, owner first then by employee id.
pub async fn list(db: &Database, client_id: ObjectId) -> AppResult<Vec<UserDoc>> {
    let mut users: Vec<UserDoc> =
        coll(db).find(doc! { "clientId": client_id }).sort(doc! { "employeeId": 1 }).await?.try_collect().await?;
    users.sort_by_key(|u| u.id != client_id);
    Ok(users)
}

/// The users, in any shop, with this phone (normalised) or email (lower case): a staff login.
/// `client_id` narrows it to one shop.
pub async fn find_for_login(
    db: &Database,
    client_id: Option<ObjectId>,
    phone: Option<&str>,
    email: Option<&str>,
) -> AppResult<Vec<UserDoc>> {
    let mut filter = match (phone, email) {
        (Some(p), _) => doc! { "phoneNumber": p },
        (None, Some(e)) => doc! { "email": e },
        (None, None) => return Ok(Vec::new()),
    };
    if let Some(c) = client_id {
        filter.insert("clientId", c);
    }
    Ok(coll(db).find(filter).limit(20).await?.try_collect().await?)
}

/// `$set` fields of user `id` of shop `client_id` when it is still at `version` (a guarded
/// write: a concurrent change makes it `None`). Bumps `__v` and `updatedAt`. A duplicate
/// email or employee id is 409 `DUPLICATE`.
pub async fn update(
    db: &Database,
    client_id: ObjectId,
    id: ObjectId,
    version: i32,
    set: Document,
) -> AppResult<Option<UserDoc>> {
    update_in(db, None, client_id, id, version, set).await
}

/// [`update`], inside the caller's transaction when `s` is given (a staff change and its audit
/// entry commit together).
pub async fn update_in(
    db: &Database,
    s: Option<&mut ClientSession>,
    client_id: ObjectId,
    id: ObjectId,
    version: i32,
    mut set: Document,
) -> AppResult<Option<UserDoc>> {
    set.insert("updatedAt", DateTime::now());
    let users = coll(db);
    let q = users
        .find_one_and_update(
            doc! { "_id": id, "clientId": client_id, "__v": version },
            doc! { "$set": set, "$inc": { "__v": 1 } },
        )
        .return_document(ReturnDocument::After);
    let r = match s {
        Some(s) => q.session(s).await,
        None => q.await,
    };
    r.map_err(|e| duplicate(&e).unwrap_or_else(|| e.into()))
}

/// A failed password login of user `id`: count it, and lock the user for [`LOCK_SECS`] when it
/// reaches [`MAX_LOGIN_ATTEMPTS`] (the count restarts). Returns the attempts counted.
pub async fn login_failed(db: &Database, client_id: ObjectId, id: ObjectId, now: DateTime) -> AppResult<i32> {
    let after = coll(db)
        .find_one_and_update(doc! { "_id": id, "clientId": client_id }, doc! { "$inc": { "loginAttempts": 1 } })
        .return_document(ReturnDocument::After)
        .await?;
    let attempts = after.map(|u| u.login_attempts).unwrap_or(0);
    if attempts >= MAX_LOGIN_ATTEMPTS {
        let until = DateTime::from_millis(now.timestamp_millis() + LOCK_SECS * 1000);
        coll(db)
            .update_one(
                doc! { "_id": id, "clientId": client_id },
                doc! { "$set": { "lockedUntil": until, "loginAttempts": 0 } },
            )
            .await?;
    }
    Ok(attempts)
}

/// A successful login of user `id`: attempts back to 0, `lastLoginAt` now.
pub async fn login_succeeded(db: &Database, s: &mut ClientSession, client_id: ObjectId, id: ObjectId) -> AppResult<()> {
    coll(db)
        .update_one(
            doc! { "_id": id, "clientId": client_id },
            doc! { "$set": { "loginAttempts": 0, "lastLoginAt": DateTime::now() }, "$unset": { "lockedUntil": "" } },
        )
        .session(s)
        .await?;
    Ok(())
}

/// Activate an invited user: store the password hash, status active (only from
/// `pending_approval` of an invited user). `None`: not pending any more.
pub async fn activate_invited(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
    password_hash: &str,
) -> AppResult<Option<UserDoc>> {
    Ok(coll(db)
        .find_one_and_update(
            doc! { "_id": id, "clientId": client_id, "status": UserStatus::PendingApproval.as_str(), "origin": "invited" },
            doc! {
                "$set": { "status": UserStatus::Active.as_str(), "passwordHash": password_hash, "updatedAt": DateTime::now() },
                "$inc": { "__v": 1 },
            },
        )
        .return_document(ReturnDocument::After)
        .session(s)
        .await?)
}
