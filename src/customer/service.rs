//! Business rules of the shop's customers: get-or-create by phone, the optional fields
//! governed by `clientSettings.customerFields`, search and paging, real deletes.

use bson::{doc, oid::ObjectId, Bson, DateTime};

use crate::{
    client::{model::CustomerFields, repo as clients},
    customer::{
        command::{CreateCustomer, DeleteCustomer, UpdateCustomer},
        decide::{self, Refusal},
        dto::{CreateCustomerRequest, ListCustomersQuery, UpdateCustomerRequest},
        model::{CustomerDoc, CUSTOMER_TYPES, STATUSES},
        repo,
    },
    db,
    error::{code, AppError, AppResult},
    state::AppState,
    validate::{self, Errors},
};

/// Placeholder name of a new customer created without one (v1).
pub use decide::PLACEHOLDER_NAME;
/// Largest page of a paged list.
pub const MAX_PAGE: u32 = 200;

fn not_found() -> AppError {
    AppError::not_found("Customer not found")
}

async fn customer_fields(state: &AppState, client_id: ObjectId) -> AppResult<CustomerFields> {
    let c = clients::find_by_id(&state.db, client_id).await?.ok_or_else(|| AppError::not_found("Client not found"))?;
    Ok(c.client_settings.customer_fields)
}

/// B9: get-or-create by phone. Route -> [`CreateCustomer`] -> [`decide::create_customer`] ->
/// [`repo::apply`] (one transaction; the change log gets the customer). Returns the customer
/// and whether it was created now.
pub async fn create(
    state: &AppState,
    client_id: ObjectId,
    req: CreateCustomerRequest,
) -> AppResult<(CustomerDoc, bool)> {
    let cmd = CreateCustomer::from_request(client_id, ObjectId::new(), DateTime::now(), req)?;
    let flags = customer_fields(state, client_id).await?;
    // Up to three rounds: a concurrent create of the same phone makes us read it back.
    for _ in 0..3 {
        let r = db::transaction(&state.client, &(&state.db, &cmd, &flags), |s, (database, cmd, flags)| {
            Box::pin(async move {
                let by_phone = repo::load_by_phone(database, s, cmd.client_id, &cmd.phone).await?;
                let plan = decide::create_customer(cmd, flags, by_phone.as_ref()).map_err(Refusal::online)?;
                repo::apply(database, s, &plan).await?;
                Ok((plan.after().clone(), plan.is_new()))
            })
        })
        .await;
        match r {
            Err(AppError::Conflict { message, .. }) if message == repo::RACED => continue,
            other => return other,
        }
    }
    Err(AppError::conflict(code::CONFLICT, repo::RACED))
}

/// B10: newest first, optional search, optional cursor paging. Returns the page and, when
/// paging, the next cursor (`None` on the last page).
pub async fn list(
    state: &AppState,
    client_id: ObjectId,
    q: ListCustomersQuery,
) -> AppResult<(Vec<CustomerDoc>, Option<Option<String>>)> {
    let mut e = Errors::new();
    let search = q.q.as_deref().or(q.search.as_deref()).map(str::trim).filter(|s| !s.is_empty());
    let mut filter = None;
    if let Some(s) = search {
        if s.chars().count() > 100 {
            e.add("query.q", "must be at most 100 characters");
        }
        let name = doc! { "name": { "$regex": format!("(^|\\s){}", regex::escape(s)), "$options": "i" } };
        let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
        let phone_like = !digits.is_empty() && s.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
        // a whole number in any written form searches its stored key ("0091 98186 34975");
        // a partial "+91 98..." searches the national number
        let digits = match (validate::normalize_phone(s), digits.strip_prefix("91")) {
            (Ok(key), _) => key,
            (Err(_), Some(rest)) if s.starts_with('+') => rest.to_string(),
            _ => digits,
        };
        filter = Some(if phone_like && !digits.is_empty() {
            doc! { "$or": [ { "phoneNumber": { "$regex": format!("^{digits}") } }, name ] }
        } else {
            name
        });
    }
    let after = match q.cursor.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => {
            if q.limit.is_none() {
                e.add("query.cursor", "needs limit");
            }
            match parse_cursor(c) {
                Some(a) => Some(a),
                None => {
                    e.add("query.cursor", "is not a cursor returned by this list");
                    None
                }
            }
        }
    };
    if q.limit == Some(0) {
        e.add("query.limit", "must be at least 1");
    }
    let mut and = Vec::new();
    if let Some(st) = q.status.as_deref() {
        if !STATUSES.contains(&st) {
            e.add("query.status", format!("must be one of {}", STATUSES.join(", ")));
        }
        // customers stored before issue 16 carry no status: they are active
        and.push(if st == STATUSES[0] {
            doc! { "status": { "$ne": STATUSES[1] } }
        } else {
            doc! { "status": st }
        });
    }
    if let Some(t) = q.customer_type.as_deref() {
        if !CUSTOMER_TYPES.contains(&t) {
            e.add("query.customerType", format!("must be one of {}", CUSTOMER_TYPES.join(", ")));
        }
        and.push(if t == CUSTOMER_TYPES[0] {
            doc! { "customerType": { "$in": [t, Bson::Null] } }
        } else {
            doc! { "customerType": t }
        });
    }
    e.finish()?;
    if !and.is_empty() {
        and.extend(filter.take());
        filter = Some(doc! { "$and": and });
    }
    match q.limit {
        None => Ok((repo::list(&state.db, client_id, filter, None, None).await?, None)),
        Some(l) => {
            let l = l.min(MAX_PAGE) as i64;
            let mut page = repo::list(&state.db, client_id, filter, after, Some(l + 1)).await?;
            let more = page.len() as i64 > l;
            page.truncate(l as usize);
            let next = if more {
                page.last().map(|c| format!("{}.{}", c.created_at.timestamp_millis(), c.id.to_hex()))
            } else {
                None
            };
            Ok((page, Some(next)))
        }
    }
}

fn parse_cursor(c: &str) -> Option<(DateTime, ObjectId)> {
    let (ms, id) = c.split_once('.')?;
    let ms: i64 = ms.parse().ok()?;
    let id = ObjectId::parse_str(id).ok()?;
    Some((DateTime::from_millis(ms), id))
}

/// B11: the path segment is a phone number (v1: `null` when unknown, 200) or a customer id
/// (404 when not this client's).
pub async fn get(state: &AppState, client_id: ObjectId, key: &str) -> AppResult<Option<CustomerDoc>> {
    let key = key.trim();
    if key.len() == 24 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
        let id = validate::oid("params.clientCustomerId", key)?;
        return repo::find_by_id(&state.db, client_id, id).await?.map(Some).ok_or_else(not_found);
    }
    let phone = validate::phone_field("params.phone", key)?;
    repo::find_by_phone(&state.db, client_id, &phone).await
}

/// B12: name and the enabled optional fields; phone ignored; nothing required. Route ->
/// [`UpdateCustomer`] -> [`decide::update_customer`] -> [`repo::apply`].
pub async fn update(
    state: &AppState,
    client_id: ObjectId,
    id: ObjectId,
    req: UpdateCustomerRequest,
) -> AppResult<CustomerDoc> {
    let cmd = UpdateCustomer::from_request(client_id, id, DateTime::now(), req)?;
    let flags = customer_fields(state, client_id).await?;
    db::transaction(&state.client, &(&state.db, &cmd, &flags), |s, (database, cmd, flags)| {
        Box::pin(async move {
            let current = repo::load(database, s, cmd.client_id, cmd.id).await?;
            let plan = decide::update_customer(cmd, flags, current.as_ref()).map_err(Refusal::online)?;
            repo::apply(database, s, &plan).await?;
            Ok(plan.after().clone())
        })
    })
    .await
}

/// B13: refused (409) while the customer owes money; a customer with documents is deactivated
/// (`status: inactive`), one without is deleted for real. Route -> [`DeleteCustomer`] ->
/// [`decide::delete_customer`] -> [`repo::apply`], which logs the tombstone (or the edit) in
/// the same transaction (an online delete must reach offline devices too). Returns whether
/// the customer was kept (deactivated).
pub async fn delete(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppResult<bool> {
    let cmd = DeleteCustomer { client_id, id, now: DateTime::now() };
    db::transaction(&state.client, &(&state.db, cmd), |s, (database, cmd)| {
        Box::pin(async move {
            let current = repo::load(database, s, cmd.client_id, cmd.id).await?;
            let documents = match &current {
                Some(c) => repo::has_documents(database, s, cmd.client_id, c.id).await?,
                None => false,
            };
            let plan = decide::delete_customer(cmd, current.as_ref(), documents).map_err(Refusal::online)?;
            repo::apply(database, s, &plan).await?;
            Ok(!matches!(plan, decide::CustomerPlan::Delete(_)))
        })
    })
    .await
}
