//! Business rules of the shop's customers: get-or-create by phone, the optional fields
//! governed by `clientSettings.customerFields`, search and paging, real deletes.

use bson::{doc, oid::ObjectId, DateTime, Document};

use crate::{
    changelog,
    client::{model::CustomerFields, repo as clients},
    customer::{
        dto::{CreateCustomerRequest, ListCustomersQuery, UpdateCustomerRequest},
        model::CustomerDoc,
        repo::{self, Deleted, Upserted},
        rules::{self, OptionalInput},
    },
    error::{code, AppError, AppResult},
    state::AppState,
    validate::{self, Errors},
};

/// Placeholder name of a new customer created without one (v1).
pub const PLACEHOLDER_NAME: &str = "clientCustomer";
/// Largest page of a paged list.
pub const MAX_PAGE: u32 = 200;

fn not_found() -> AppError {
    AppError::not_found("Customer not found")
}

async fn customer_fields(state: &AppState, client_id: ObjectId) -> AppResult<CustomerFields> {
    let c = clients::find_by_id(&state.db, client_id).await?.ok_or_else(|| AppError::not_found("Client not found"))?;
    Ok(c.client_settings.customer_fields)
}

/// B9: get-or-create by phone. Returns the customer and whether it was created now.
pub async fn create(
    state: &AppState,
    client_id: ObjectId,
    req: CreateCustomerRequest,
) -> AppResult<(CustomerDoc, bool)> {
    let mut e = Errors::new();
    let phone = e.phone("phone", &req.phone);
    let name = rules::create_name(&mut e, "name", req.name.as_deref());
    let flags = customer_fields(state, client_id).await?;
    let input = OptionalInput { address: req.address, email_id: req.email_id, gst_no: req.gst_no };
    let fields = rules::optional_fields(&mut e, "", &flags, &input);
    e.finish()?;

    // Up to three rounds: a concurrent create of the same phone makes us read it back.
    for _ in 0..3 {
        if let Some(existing) = repo::find_by_phone(&state.db, client_id, &phone).await? {
            return Ok((merge_existing(state, existing, name.as_deref(), &fields).await?, false));
        }
        let mut e = Errors::new();
        rules::require_enabled(&mut e, "", &flags, &fields);
        e.finish()?;
        let now = DateTime::now();
        let value = |k: &str| fields.iter().find(|(f, _)| *f == k).map(|(_, v)| v.clone()).unwrap_or_default();
        let new = CustomerDoc {
            address: value("address"),
            email_id: value("emailId"),
            gst_no: value("gstNo"),
            ..CustomerDoc::new(client_id, &phone, name.as_deref().unwrap_or(PLACEHOLDER_NAME), now)
        };
        // the insert and its change-log row in one transaction (a race aborts it)
        let ctx = (&state.db, &new);
        let upserted = crate::db::transaction(&state.client, &ctx, |s, (database, new)| {
            Box::pin(async move {
                match repo::insert_if_absent(database, s, new).await? {
                    Upserted::Inserted => {
                        changelog::append(database, s, new.client_id, &[(changelog::CUSTOMERS, new.id, false)]).await?;
                        Ok(Upserted::Inserted)
                    }
                    Upserted::Existing(existing) => Ok(Upserted::Existing(existing)),
                    Upserted::Raced => Err(AppError::conflict(RACED, "raced")),
                }
            })
        })
        .await;
        match upserted {
            Ok(Upserted::Inserted) => return Ok((new, true)),
            Ok(Upserted::Existing(existing)) => {
                return Ok((merge_existing(state, existing, name.as_deref(), &fields).await?, false))
            }
            Ok(Upserted::Raced) | Err(AppError::Conflict { code: RACED, .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(AppError::conflict(code::CONFLICT, "The customer is being created by another request; please retry"))
}

/// A second create of a known phone: store a real name when one was sent (never the
/// placeholder) and the enabled fields sent non-empty; otherwise leave the customer as is.
async fn merge_existing(
    state: &AppState,
    existing: CustomerDoc,
    name: Option<&str>,
    fields: &[(&'static str, String)],
) -> AppResult<CustomerDoc> {
    let mut set = Document::new();
    if let Some(n) = name.filter(|n| *n != existing.name) {
        set.insert("name", n);
    }
    for (k, v) in fields {
        if !v.is_empty() {
            set.insert(*k, v.as_str());
        }
    }
    if set.is_empty() {
        return Ok(existing);
    }
    update_logged(state, existing.client_id, existing.id, set).await
}

/// Internal marker: a concurrent create of the same phone won the unique index (the
/// transaction is aborted and the create reads again).
const RACED: &str = "CUSTOMER_CREATE_RACED";

/// `$set` the fields and log the customer for the pull, in one transaction.
async fn update_logged(state: &AppState, client_id: ObjectId, id: ObjectId, set: Document) -> AppResult<CustomerDoc> {
    let ctx = (&state.db, client_id, id, set);
    crate::db::transaction(&state.client, &ctx, |s, (database, client_id, id, set)| {
        Box::pin(async move {
            let c = repo::update_fields(database, s, *client_id, *id, set.clone()).await?.ok_or_else(not_found)?;
            changelog::append(database, s, *client_id, &[(changelog::CUSTOMERS, *id, false)]).await?;
            Ok(c)
        })
    })
    .await
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
    e.finish()?;
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

/// B12: name and the enabled optional fields; phone ignored; nothing required.
pub async fn update(
    state: &AppState,
    client_id: ObjectId,
    id: ObjectId,
    req: UpdateCustomerRequest,
) -> AppResult<CustomerDoc> {
    let mut e = Errors::new();
    let mut set = Document::new();
    if let Some(n) = &req.name {
        set.insert("name", rules::name(&mut e, "name", n));
    }
    let flags = customer_fields(state, client_id).await?;
    let input = OptionalInput { address: req.address, email_id: req.email_id, gst_no: req.gst_no };
    for (k, v) in rules::optional_fields(&mut e, "", &flags, &input) {
        set.insert(k, v);
    }
    e.finish()?;
    update_logged(state, client_id, id, set).await
}

/// B13: a real delete; refused (409) while the customer owes money.
/// Delete a customer and, in the same transaction, log the tombstone for sync pulls (an
/// online hard delete must reach offline devices too).
pub async fn delete(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppResult<()> {
    let ctx = (&state.db, client_id, id);
    let outcome = crate::db::transaction(&state.client, &ctx, |s, (database, client_id, id)| {
        Box::pin(async move {
            let r = repo::delete(database, s, *client_id, *id).await?;
            if matches!(r, Deleted::Done) {
                changelog::append(database, s, *client_id, &[(changelog::CUSTOMERS, *id, true)]).await?;
            }
            Ok(r)
        })
    })
    .await?;
    match outcome {
        Deleted::Done => Ok(()),
        Deleted::NotFound => Err(not_found()),
        Deleted::HasBalance => Err(AppError::conflict(
            code::CONFLICT,
            "Customer not deleted: they have an outstanding balance; settle it first",
        )),
    }
}
