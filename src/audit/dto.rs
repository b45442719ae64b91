//! Wire types of `GET /api/audit`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    audit::model::{Action, Approver, Change, Who},
    paging::Pagination,
};

/// Filters of `GET /api/audit` (all optional; the shop is always the token's), paging and
/// the format. Values are strings so a malformed one answers a 400 naming `query.<name>`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct AuditQuery {
    /// First India day (`YYYY-MM-DD`, from its 00:00 IST) or an ISO-8601 time.
    pub from: Option<String>,
    /// Last India day (`YYYY-MM-DD`, its whole day) or an ISO-8601 time.
    pub to: Option<String>,
    /// Only entries of this user (`who.userId`).
    pub user_id: Option<String>,
    /// Only entries about this collection (e.g. `items`, `invoices`, `users`).
    pub entity: Option<String>,
    /// Only entries about this document (`entityId`).
    pub entity_id: Option<String>,
    /// Only entries of this action (snake_case, e.g. `price_changed`).
    #[param(value_type = Option<Action>)]
    pub action: Option<String>,
    /// `true`: only entries flagged for review; `false`: only unflagged ones.
    #[param(value_type = Option<bool>)]
    pub flagged: Option<String>,
    /// Page size for JSON (default 100, at most 500).
    pub limit: Option<String>,
    pub offset: Option<String>,
    /// `json` (default) or `csv` (or send `Accept: text/csv`): CSV streams every matching entry.
    pub format: Option<String>,
}

/// One audit entry as answered.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    /// When it happened (UTC, ISO-8601).
    pub at: String,
    pub who: Who,
    /// snake_case action name (see docs/API.md "Audit trail").
    #[schema(value_type = Action)]
    pub action: String,
    /// The collection the entry is about.
    pub entity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// Only the fields that changed, with their stored values before and after (money in
    /// paise, rates in basis points, quantities in base units).
    pub changes: Vec<Change>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approver: Option<Approver>,
    /// Needs review (e.g. an offline sale made without the approval it needed).
    pub flagged: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditListResponse {
    pub success: bool,
    /// Newest first.
    pub entries: Vec<AuditEntryWire>,
    pub pagination: Pagination,
}
