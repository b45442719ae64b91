//! The append-only audit trail (issue 15): who did what, when, to which document, the fields
//! it changed (before and after), why, and who approved it. One `auditlog` document per event.
//!
//! Other features record an event with [`record`], inside their own transaction:
//!
//! ```ignore
//! let who = audit::Who::new(user_id, name, role).session(session_id).device(device_id);
//! let entry = audit::Entry::builder(client_id, who, audit::Action::PriceChanged, "items")
//!     .entity_id(item_id.to_hex())
//!     .changes(audit::changes(&before, &after, &["price", "mrp", "taxRate"]))
//!     .build()?; // EntryError -> 400 naming `reason` for the actions that need one
//! audit::record(&db, Some(&mut session), &entry).await?;
//! ```
//!
//! Append-only: the code has no update, replace or delete of an entry (only
//! [`repo::insert`]; `tests::nothing_but_the_audit_insert_writes_the_audit_log` scans the
//! sources, `tests/api/audit.rs` calls every mutating route), and entries have no TTL: they
//! are kept at least 72 months (GST section 36). `GET /api/audit` reads them (permission
//! `audit_view`).

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;
#[cfg(test)]
mod tests;

use mongodb::{ClientSession, Database};
use utoipa_axum::{router::OpenApiRouter, routes};

pub use model::{
    changes, changes_of, Action, Approver, Change, Entry, EntryBuilder, EntryError, Who, MAX_REASON_CHARS,
};

use crate::{error::AppResult, state::AppState};

/// Record `entry` (insert only; never updates or deletes an entry). With `session`, inside the
/// caller's transaction, so the entry commits or aborts with the change it describes; with
/// `None`, on its own (e.g. a failed login, which changes nothing else). Errors: the
/// database's (`AppError::Database`).
pub async fn record(db: &Database, session: Option<&mut ClientSession>, entry: &Entry) -> AppResult<()> {
    repo::insert(db, session, entry).await
}

/// The signed-in user of a request, as the audit trail names them (user, role, session).
pub fn who(auth: &crate::extract::AuthClient) -> Who {
    Who::new(auth.user.user_id.to_hex(), auth.user.name.clone(), auth.user.role.as_str())
        .session(auth.session_id.to_hex())
}

/// Record `entry` on its own, outside any transaction (a login, a staff change already
/// written). Errors: an entry built without its required reason (400 naming `reason`), the
/// database's.
pub async fn note(db: &Database, entry: Result<Entry, EntryError>) -> AppResult<()> {
    let entry = entry?;
    record(db, None, &entry).await
}

/// Routes of this module (behind the auth layer).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handlers::list))
}
