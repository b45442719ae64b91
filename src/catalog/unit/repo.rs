//! Repository of `units`. Every filter carries the token's `clientId`.

use bson::{doc, oid::ObjectId, DateTime, Document};
use futures::TryStreamExt;
use mongodb::{ClientSession, Collection, Database};

use crate::{
    catalog::unit::{UnitDoc, UNITS},
    error::{code, is_duplicate_key, AppError},
};

pub fn units(db: &Database) -> Collection<UnitDoc> {
    db.collection(UNITS)
}

fn duplicate(e: mongodb::error::Error) -> AppError {
    if is_duplicate_key(&e) {
        AppError::conflict(code::DUPLICATE, "A unit with this name already exists")
    } else {
        e.into()
    }
}

pub async fn insert(db: &Database, s: &mut ClientSession, u: &UnitDoc) -> Result<(), AppError> {
    units(db).insert_one(u).session(s).await.map_err(duplicate)?;
    Ok(())
}

/// The shop's units, base units first, then by name.
pub async fn list(db: &Database, client_id: ObjectId) -> Result<Vec<UnitDoc>, AppError> {
    let mut all: Vec<UnitDoc> = units(db)
        .find(doc! { "clientId": client_id })
        .sort(doc! { "nameKey": 1, "_id": 1 })
        .await?
        .try_collect()
        .await?;
    all.sort_by_key(|u| u.base_unit_id.is_some());
    Ok(all)
}

pub async fn find(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Option<UnitDoc>, AppError> {
    Ok(units(db).find_one(doc! { "_id": id, "clientId": client_id }).session(s).await?)
}

pub async fn find_outside(db: &Database, client_id: ObjectId, id: ObjectId) -> Result<Option<UnitDoc>, AppError> {
    Ok(units(db).find_one(doc! { "_id": id, "clientId": client_id }).await?)
}

/// The shop's units among `ids`, marked as referenced now (`usedAt`) inside the caller's
/// transaction (an item write naming them): a concurrent factor change or delete of one
/// conflicts with this transaction. Ids that are not the shop's units are left out. The units
/// are synced, so the touch is logged like any write of them (the change-log rule).
pub async fn touch(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    ids: &[ObjectId],
) -> Result<Vec<UnitDoc>, AppError> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let filter = doc! { "_id": { "$in": ids }, "clientId": client_id };
    units(db).update_many(filter.clone(), doc! { "$set": { "usedAt": DateTime::now() } }).session(&mut *s).await?;
    let mut cur = units(db).find(filter).session(&mut *s).await?;
    let mut out = Vec::new();
    while let Some(u) = cur.next(&mut *s).await.transpose()? {
        out.push(u);
    }
    let rows: Vec<_> = out.iter().map(|u| (crate::changelog::UNITS, u.id, false)).collect();
    if !rows.is_empty() {
        crate::changelog::append(db, s, client_id, &rows).await?;
    }
    Ok(out)
}

/// `$set` the fields (plus `updatedAt`), bump `__v`, inside the caller's transaction; `None`
/// when not the shop's.
pub async fn update(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
    mut set: Document,
) -> Result<Option<UnitDoc>, AppError> {
    set.insert("updatedAt", DateTime::now());
    units(db)
        .find_one_and_update(doc! { "_id": id, "clientId": client_id }, doc! { "$set": set, "$inc": { "__v": 1 } })
        .return_document(mongodb::options::ReturnDocument::After)
        .session(s)
        .await
        .map_err(duplicate)
}

/// The ids of the shop's items (active or not) that sell in the unit `id` or count their
/// stock in it, read inside the caller's transaction.
pub async fn items_using(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Vec<ObjectId>, AppError> {
    let mut cur = db
        .collection::<Document>("items")
        .find(doc! { "clientId": client_id, "$or": [ { "units.unitId": id }, { "baseUnitId": id } ] })
        .projection(doc! { "_id": 1 })
        .session(&mut *s)
        .await?;
    let mut out = Vec::new();
    while let Some(d) = cur.next(&mut *s).await.transpose()? {
        if let Ok(i) = d.get_object_id("_id") {
            out.push(i);
        }
    }
    Ok(out)
}

/// How many of the shop's units count in the base unit `id`.
pub async fn count_derived(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<u64, AppError> {
    Ok(units(db).count_documents(doc! { "clientId": client_id, "baseUnitId": id }).session(s).await?)
}

/// Rewrite the unit's name snapshot in the items that sell in it (a rename), inside the
/// caller's transaction.
pub async fn rename_in_items(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
    name: &str,
) -> Result<(), AppError> {
    db.collection::<Document>("items")
        .update_many(
            doc! { "clientId": client_id, "units.unitId": id },
            doc! { "$set": { "units.$[u].name": name, "updatedAt": DateTime::now() }, "$inc": { "__v": 1 } },
        )
        .array_filters(vec![doc! { "u.unitId": id }])
        .session(s)
        .await?;
    Ok(())
}

/// Delete the unit (inside the caller's transaction, after its references were checked).
pub async fn delete(db: &Database, s: &mut ClientSession, client_id: ObjectId, id: ObjectId) -> Result<bool, AppError> {
    Ok(units(db).delete_one(doc! { "_id": id, "clientId": client_id }).session(s).await?.deleted_count == 1)
}
