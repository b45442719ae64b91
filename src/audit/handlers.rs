//! `GET /api/audit`: the shop's audit trail, filtered, newest first, paged JSON or streamed CSV.

use axum::{
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    Json,
};
use bson::Document;
use futures::TryStreamExt;

use crate::{
    audit::{
        dto::{AuditEntryWire, AuditListResponse, AuditQuery},
        model::Action,
        repo::{self, Filter},
    },
    csv,
    error::{AppError, AppResult},
    extract::{ApiQuery, AuthClient},
    openapi::ErrorBody,
    paging::{self, Page, Pagination},
    state::AppState,
    validate::Errors,
    window::Window,
    wire,
};

/// Longest `userId` / `entityId` filter (characters).
const MAX_ID_CHARS: usize = 100;
/// Longest `entity` filter (a collection name).
const MAX_ENTITY_CHARS: usize = 64;

/// Collect a validation error of `r` into `e` (other errors pass through).
fn gather<T>(e: &mut Errors, r: AppResult<T>) -> AppResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(AppError::Validation(v)) => {
            e.0.extend(v);
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

fn id_filter(e: &mut Errors, name: &str, v: &Option<String>) -> Option<String> {
    let t = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if t.chars().count() > MAX_ID_CHARS || t.chars().any(char::is_control) {
        e.add(&format!("query.{name}"), format!("must be an id of at most {MAX_ID_CHARS} characters"));
        return None;
    }
    Some(t.to_string())
}

/// The filters and page of a query; every malformed value is named in one 400.
pub fn parse(q: &AuditQuery) -> AppResult<(Filter, Page)> {
    let mut e = Errors::new();
    let window = gather(&mut e, Window::parse(q.from.as_deref(), q.to.as_deref()))?.unwrap_or_default();
    let page = gather(&mut e, paging::page(q.limit.as_deref(), q.offset.as_deref()))?;
    let user_id = id_filter(&mut e, "userId", &q.user_id);
    let entity_id = id_filter(&mut e, "entityId", &q.entity_id);
    let entity = match q.entity.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s)
            if s.len() <= MAX_ENTITY_CHARS
                && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) =>
        {
            Some(s.to_string())
        }
        Some(_) => {
            e.add(
                "query.entity",
                format!("must be a collection name (letters, digits, _ - .; at most {MAX_ENTITY_CHARS})"),
            );
            None
        }
    };
    let action = match q.action.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match Action::parse(s) {
            Some(a) => Some(a),
            None => {
                let names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
                e.add("query.action", format!("must be one of {}", names.join(", ")));
                None
            }
        },
    };
    let flagged = match q.flagged.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Some(s) if s.eq_ignore_ascii_case("false") => Some(false),
        Some(_) => {
            e.add("query.flagged", "must be true or false");
            None
        }
    };
    e.finish()?;
    let page = page.ok_or_else(|| AppError::internal("page parsed without errors"))?;
    Ok((Filter { window, user_id, entity, entity_id, action, flagged }, page))
}

/// The wire shape of a stored entry.
pub fn entry_wire(d: &Document) -> AuditEntryWire {
    let s = repo::from_document(d);
    AuditEntryWire {
        id: s.id.to_hex(),
        client_id: s.client_id.to_hex(),
        at: wire::iso(s.at),
        who: s.who,
        action: s.action,
        entity: s.entity,
        entity_id: s.entity_id,
        changes: s.changes,
        reason: s.reason,
        approver: s.approver,
        flagged: s.flagged,
    }
}

/// Columns of the CSV export, in order.
pub const CSV_HEADER: &[&str] = &[
    "at",
    "userId",
    "userName",
    "role",
    "sessionId",
    "deviceId",
    "action",
    "entity",
    "entityId",
    "changes",
    "reason",
    "approverId",
    "approverName",
    "approverRole",
    "flagged",
    "id",
];

/// One CSV record of a stored entry (`changes` as a JSON array `[{"field","before","after"}]`).
pub fn entry_csv(d: &Document) -> String {
    let e = entry_wire(d);
    let changes = serde_json::to_string(&e.changes).unwrap_or_else(|_| "[]".into());
    let (aid, aname, arole) = match &e.approver {
        Some(a) => (a.user_id.as_str(), a.name.as_str(), a.role.as_str()),
        None => ("", "", ""),
    };
    csv::record(&[
        csv::field(&e.at),
        csv::field(&e.who.user_id),
        csv::field(&e.who.name),
        csv::field(&e.who.role),
        csv::field(e.who.session_id.as_deref().unwrap_or("")),
        csv::field(e.who.device_id.as_deref().unwrap_or("")),
        csv::field(&e.action),
        csv::field(&e.entity),
        csv::field(e.entity_id.as_deref().unwrap_or("")),
        csv::field(&changes),
        csv::field(e.reason.as_deref().unwrap_or("")),
        csv::field(aid),
        csv::field(aname),
        csv::field(arole),
        e.flagged.to_string(),
        e.id,
    ])
}

/// Audit trail (JSON or CSV).
///
/// The shop's append-only audit trail (who did what, when, to which document, the changed
/// fields before and after, the reason and the approver), newest first. Filters: `from`/`to`
/// (India days), `userId`, `entity`, `entityId`, `action`, `flagged`. JSON is paged
/// (`limit`/`offset`); CSV (`format=csv` or `Accept: text/csv`) streams every matching entry.
/// Entries are kept at least 72 months and can never be changed or deleted through the API.
#[utoipa::path(get, path = "/audit", operation_id = "audit_list", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    extensions(("x-permission" = json!("audit_view"))),
    responses(
        (status = 200, description = "JSON, or RFC 4180 CSV (streamed; header row first; `changes` as a JSON array) for `format=csv` or `Accept: text/csv`",
            content((AuditListResponse = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthClient,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<Response> {
    let (filter, page) = parse(&q)?;
    if csv::wants_csv(q.format.as_deref(), &headers)? {
        let cur = repo::find(&state.db, auth.client_id, &filter, None).await?;
        return Ok(csv::stream("audit.csv", CSV_HEADER, cur, entry_csv));
    }
    let (rows, total) = tokio::try_join!(
        async {
            let cur = repo::find(&state.db, auth.client_id, &filter, Some((page.limit, page.offset))).await?;
            Ok::<Vec<Document>, AppError>(cur.try_collect().await?)
        },
        repo::count(&state.db, auth.client_id, &filter),
    )?;
    Ok(Json(AuditListResponse {
        success: true,
        entries: rows.iter().map(entry_wire).collect(),
        pagination: Pagination::of(page, total),
    })
    .into_response())
}
