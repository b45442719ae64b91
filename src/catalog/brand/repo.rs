//! Repository of `companies` and `brands`. Every filter carries the token's `clientId`.

use bson::{doc, oid::ObjectId, Document};
use futures::TryStreamExt;
use mongodb::{ClientSession, Collection, Database};

use crate::{
    catalog::brand::model::{BrandDoc, CompanyDoc, BRANDS, COMPANIES},
    changelog,
    error::{code, is_duplicate_key, AppError},
};

pub fn companies(db: &Database) -> Collection<CompanyDoc> {
    db.collection(COMPANIES)
}

pub fn brands(db: &Database) -> Collection<BrandDoc> {
    db.collection(BRANDS)
}

/// A duplicate `{clientId, nameKey}` as the API answers it (409 `DUPLICATE`).
fn duplicate(what: &str) -> impl Fn(mongodb::error::Error) -> AppError + '_ {
    move |e| {
        if is_duplicate_key(&e) {
            AppError::conflict(code::DUPLICATE, format!("A {what} with this name already exists"))
        } else {
            e.into()
        }
    }
}

pub async fn insert_company(db: &Database, s: &mut ClientSession, c: &CompanyDoc) -> Result<(), AppError> {
    companies(db).insert_one(c).session(&mut *s).await.map_err(duplicate("company"))?;
    changelog::append(db, s, c.client_id, &[(changelog::COMPANIES, c.id, false)]).await?;
    Ok(())
}

/// The shop's companies by name.
pub async fn list_companies(db: &Database, client_id: ObjectId) -> Result<Vec<CompanyDoc>, AppError> {
    Ok(companies(db)
        .find(doc! { "clientId": client_id })
        .sort(doc! { "nameKey": 1, "_id": 1 })
        .await?
        .try_collect()
        .await?)
}

pub async fn find_company(db: &Database, client_id: ObjectId, id: ObjectId) -> Result<Option<CompanyDoc>, AppError> {
    Ok(companies(db).find_one(doc! { "_id": id, "clientId": client_id }).await?)
}

/// `$set` the fields (plus `updatedAt`), bump `__v`; `None` when not the shop's.
pub async fn update_company(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
    set: Document,
) -> Result<Option<CompanyDoc>, AppError> {
    crate::catalog::refs::update_logged(db, s, changelog::COMPANIES, client_id, id, set, duplicate("company")).await
}

/// Mark the shop's company `id` as referenced now (`usedAt`), inside the caller's transaction:
/// a concurrent delete of it then conflicts with this transaction. `false`: not the shop's.
pub async fn touch_company(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<bool, AppError> {
    Ok(crate::catalog::refs::touch(db, s, COMPANIES, client_id, &[id]).await? == 1)
}

/// Delete the company unless a brand names it (inside the caller's transaction). `Ok(None)`:
/// not the shop's; `Ok(Some(n))`: `n` brands name it, nothing deleted when `n > 0`.
pub async fn delete_company(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Option<u64>, AppError> {
    // write the company first: a concurrent brand create touching it conflicts with us
    let r = companies(db)
        .update_one(doc! { "_id": id, "clientId": client_id }, doc! { "$inc": { "__v": 1 } })
        .session(&mut *s)
        .await?;
    if r.matched_count == 0 {
        return Ok(None);
    }
    let n = brands(db).count_documents(doc! { "clientId": client_id, "companyId": id }).session(&mut *s).await?;
    if n == 0 {
        companies(db).delete_one(doc! { "_id": id, "clientId": client_id }).session(&mut *s).await?;
    }
    // deleted, or (refused) its `__v` moved: the pull hears of it either way
    changelog::append(db, s, client_id, &[(changelog::COMPANIES, id, n == 0)]).await?;
    Ok(Some(n))
}

pub async fn insert_brand(db: &Database, s: &mut ClientSession, b: &BrandDoc) -> Result<(), AppError> {
    brands(db).insert_one(b).session(&mut *s).await.map_err(duplicate("brand"))?;
    changelog::append(db, s, b.client_id, &[(changelog::BRANDS, b.id, false)]).await?;
    Ok(())
}

/// The shop's brands by name (of one company when `company` is given).
pub async fn list_brands(
    db: &Database,
    client_id: ObjectId,
    company: Option<ObjectId>,
) -> Result<Vec<BrandDoc>, AppError> {
    let mut filter = doc! { "clientId": client_id };
    if let Some(c) = company {
        filter.insert("companyId", c);
    }
    Ok(brands(db).find(filter).sort(doc! { "nameKey": 1, "_id": 1 }).await?.try_collect().await?)
}

pub async fn find_brand(db: &Database, client_id: ObjectId, id: ObjectId) -> Result<Option<BrandDoc>, AppError> {
    Ok(brands(db).find_one(doc! { "_id": id, "clientId": client_id }).await?)
}

/// The ids of the shop's brands of `company` (the item list's company filter).
pub async fn brand_ids_of(db: &Database, client_id: ObjectId, company: ObjectId) -> Result<Vec<ObjectId>, AppError> {
    Ok(list_brands(db, client_id, Some(company)).await?.into_iter().map(|b| b.id).collect())
}

/// `$set` the fields (plus `updatedAt`), bump `__v`, inside the caller's transaction; `None`
/// when not the shop's.
pub async fn update_brand(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
    set: Document,
) -> Result<Option<BrandDoc>, AppError> {
    crate::catalog::refs::update_logged(db, s, changelog::BRANDS, client_id, id, set, duplicate("brand")).await
}

/// Mark the shop's brands `ids` as referenced now (`usedAt`), inside the caller's transaction
/// (an item write naming them): a concurrent delete of one conflicts with this transaction.
/// Returns how many of `ids` are the shop's brands.
pub async fn touch_brands(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    ids: &[ObjectId],
) -> Result<u64, AppError> {
    crate::catalog::refs::touch(db, s, BRANDS, client_id, ids).await
}

/// Delete the brand unless an item names it (inside the caller's transaction). `Ok(None)`: not
/// the shop's; `Ok(Some(n))`: `n` items (deactivated ones too) name it, nothing deleted when
/// `n > 0`.
pub async fn delete_brand(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Option<u64>, AppError> {
    let r = brands(db)
        .update_one(doc! { "_id": id, "clientId": client_id }, doc! { "$inc": { "__v": 1 } })
        .session(&mut *s)
        .await?;
    if r.matched_count == 0 {
        return Ok(None);
    }
    let items = db
        .collection::<Document>("items")
        .count_documents(doc! { "clientId": client_id, "brandId": id })
        .session(&mut *s)
        .await?;
    let n = items + crate::catalog::product::repo::count_naming(db, s, client_id, "brandId", id).await?;
    if n == 0 {
        brands(db).delete_one(doc! { "_id": id, "clientId": client_id }).session(&mut *s).await?;
    }
    changelog::append(db, s, client_id, &[(changelog::BRANDS, id, n == 0)]).await?;
    Ok(Some(n))
}
