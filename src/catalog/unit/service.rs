//! Rules of units: names 1-30 characters, unique per shop ignoring case and spacing; `uqc` one
//! of `crate::catalog::tax::UQC`; a base unit has factor 1; a derived unit counts in a base
//! unit of the shop; a factor in use never changes and a unit in use is never deleted (409
//! [`UNIT_IN_USE`]). Every write appends its change-log row (`units`) in its transaction.

use bson::{oid::ObjectId, DateTime, Document};

use crate::{
    catalog::{
        brand::model::name_key,
        unit::{
            dto::{CreateUnitRequest, UpdateUnitRequest},
            repo, uqc, UnitDoc, MAX_FACTOR, NAME_LEN,
        },
    },
    changelog, db,
    error::{AppError, AppResult},
    state::AppState,
    validate::Errors,
};

/// 409 code: the unit is in use (its factor cannot change; it cannot be deleted).
pub const UNIT_IN_USE: &str = "UNIT_IN_USE";

fn not_found() -> AppError {
    AppError::not_found("Unit not found")
}

fn check_uqc(e: &mut Errors, v: &str) -> String {
    uqc(v).unwrap_or_else(|| {
        e.add("uqc", "must be a GST unit quantity code (NOS, PCS, BOX, PAC, DOZ, KGS, LTR, MTR, ...)");
        String::new()
    })
}

fn check_factor(e: &mut Errors, f: i64) {
    if !(1..=MAX_FACTOR).contains(&f) {
        e.add("conversionFactor", format!("must be a whole number from 1 to {MAX_FACTOR}"));
    }
}

/// Create a unit (400 naming the fields; 409 `DUPLICATE` for a name the shop has).
pub async fn create(state: &AppState, client_id: ObjectId, req: CreateUnitRequest) -> AppResult<UnitDoc> {
    let mut e = Errors::new();
    let name = e.text("name", &req.name, NAME_LEN.0, NAME_LEN.1);
    let uqc = check_uqc(&mut e, &req.uqc);
    let factor = req.conversion_factor.unwrap_or(1);
    check_factor(&mut e, factor);
    let base =
        req.base_unit_id.as_deref().map(str::trim).filter(|b| !b.is_empty()).and_then(|b| e.oid("baseUnitId", b));
    if req.base_unit_id.as_deref().is_some_and(|b| !b.trim().is_empty()) && base.is_none() && e.is_empty() {
        e.add("baseUnitId", "is not an id");
    }
    if base.is_none() && factor != 1 {
        e.add("conversionFactor", "must be 1 for a base unit (send baseUnitId for a unit of several base units)");
    }
    e.finish()?;
    let now = DateTime::now();
    let u = UnitDoc {
        id: ObjectId::new(),
        client_id,
        name_key: name_key(&name),
        name,
        uqc,
        conversion_factor: factor,
        base_unit_id: base,
        created_at: now,
        updated_at: now,
        version: 0,
    };
    db::transaction(&state.client, &(&state.db, &u), |s, (database, u)| {
        Box::pin(async move {
            if let Some(b) = u.base_unit_id {
                let found = repo::touch(database, s, u.client_id, &[b]).await?;
                if !found.iter().any(|f| f.base_unit_id.is_none()) {
                    return Err(AppError::validation("baseUnitId", "is not a base unit of this shop"));
                }
            }
            repo::insert(database, s, u).await?;
            changelog::append(database, s, u.client_id, &[(changelog::UNITS, u.id, false)]).await?;
            Ok(())
        })
    })
    .await?;
    Ok(u)
}

/// The shop's units (base units first, then by name).
pub async fn list(state: &AppState, client_id: ObjectId) -> AppResult<Vec<UnitDoc>> {
    repo::list(&state.db, client_id).await
}

/// The shop's unit (404 for a missing or foreign id alike).
pub async fn get(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppResult<UnitDoc> {
    repo::find_outside(&state.db, client_id, id).await?.ok_or_else(not_found)
}

/// Edit a unit. A new `conversionFactor` is refused 409 [`UNIT_IN_USE`] while any item of the
/// shop sells in the unit (checked in the write's transaction; an item write naming the unit
/// touches it, so the two conflict and cannot both commit), and must stay 1 for a base unit.
/// A rename rewrites the name the items keep of it (and logs those items).
pub async fn update(state: &AppState, client_id: ObjectId, id: ObjectId, req: UpdateUnitRequest) -> AppResult<UnitDoc> {
    let mut e = Errors::new();
    let mut set = Document::new();
    let name = req.name.as_deref().map(|n| e.text("name", n, NAME_LEN.0, NAME_LEN.1));
    if let Some(n) = &name {
        set.insert("name", n.as_str());
        set.insert("nameKey", name_key(n));
    }
    if let Some(u) = &req.uqc {
        set.insert("uqc", check_uqc(&mut e, u));
    }
    if let Some(f) = req.conversion_factor {
        check_factor(&mut e, f);
        set.insert("conversionFactor", f);
    }
    e.finish()?;
    let factor = req.conversion_factor;
    db::transaction(
        &state.client,
        &(&state.db, client_id, id, set, factor, name),
        |s, (database, client_id, id, set, factor, name)| {
            Box::pin(async move {
                let current = repo::find(database, s, *client_id, *id).await?.ok_or_else(not_found)?;
                if let Some(f) = factor.filter(|f| *f != current.conversion_factor) {
                    if current.base_unit_id.is_none() {
                        return Err(AppError::validation("conversionFactor", "must stay 1 for a base unit"));
                    }
                    let using = repo::items_using(database, s, *client_id, *id).await?;
                    if !using.is_empty() {
                        return Err(AppError::conflict(
                            UNIT_IN_USE,
                            format!(
                                "The factor of {} cannot change from {} to {f}: {} item(s) sell in it (create a new unit instead)",
                                current.name,
                                current.conversion_factor,
                                using.len()
                            ),
                        ));
                    }
                }
                let after = repo::update(database, s, *client_id, *id, set.clone()).await?.ok_or_else(not_found)?;
                let mut rows = vec![(changelog::UNITS, *id, false)];
                if name.as_ref().is_some_and(|n| *n != current.name) {
                    let using = repo::items_using(database, s, *client_id, *id).await?;
                    repo::rename_in_items(database, s, *client_id, *id, &after.name).await?;
                    rows.extend(using.into_iter().map(|i| (changelog::ITEMS, i, false)));
                }
                changelog::append(database, s, *client_id, &rows).await?;
                Ok(after)
            })
        },
    )
    .await
}

/// Delete a unit; 409 [`UNIT_IN_USE`] while an item sells in it (or counts stock in it) or
/// another unit counts in it.
pub async fn delete(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppResult<()> {
    db::transaction(&state.client, &(&state.db, client_id, id), |s, (database, client_id, id)| {
        Box::pin(async move {
            // write it first: a concurrent item write touching it conflicts with us
            let current = repo::update(database, s, *client_id, *id, Document::new()).await?.ok_or_else(not_found)?;
            let items = repo::items_using(database, s, *client_id, *id).await?.len();
            let units = repo::count_derived(database, s, *client_id, *id).await?;
            if items > 0 || units > 0 {
                return Err(AppError::conflict(
                    UNIT_IN_USE,
                    format!(
                        "Unit {} not deleted: {items} item(s) and {units} unit(s) use it; change them first",
                        current.name
                    ),
                ));
            }
            repo::delete(database, s, *client_id, *id).await?;
            changelog::append(database, s, *client_id, &[(changelog::UNITS, *id, true)]).await?;
            Ok(())
        })
    })
    .await
}
