//! Repository of `products`. Every filter carries the token's `clientId`; every write appends
//! its change-log row in the caller's transaction.

use bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use futures::TryStreamExt;
use mongodb::{ClientSession, Collection, Database};

use crate::{
    catalog::product::model::{ProductDoc, PRODUCTS},
    changelog,
    error::AppError,
};

pub fn products(db: &Database) -> Collection<ProductDoc> {
    db.collection(PRODUCTS)
}

/// Insert a product and log it for the pull.
pub async fn insert(db: &Database, s: &mut ClientSession, p: &ProductDoc) -> Result<(), AppError> {
    products(db).insert_one(p).session(&mut *s).await?;
    changelog::append(db, s, p.client_id, &[(changelog::PRODUCTS, p.id, false)]).await?;
    Ok(())
}

/// The shop's products by name, filtered (`q` a literal, case-insensitive part of the name).
pub async fn list(
    db: &Database,
    client_id: ObjectId,
    q: Option<&str>,
    brand: Option<ObjectId>,
    group: Option<ObjectId>,
) -> Result<Vec<ProductDoc>, AppError> {
    let mut filter = doc! { "clientId": client_id };
    if let Some(q) = q {
        filter.insert("nameKey", doc! { "$regex": regex_escape(&q.to_lowercase()) });
    }
    if let Some(b) = brand {
        filter.insert("brandId", b);
    }
    if let Some(g) = group {
        filter.insert("groupId", g);
    }
    Ok(products(db).find(filter).sort(doc! { "nameKey": 1, "_id": 1 }).await?.try_collect().await?)
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The ids of the shop's products of brands `brands`.
pub async fn ids_of_brands(db: &Database, client_id: ObjectId, brands: &[ObjectId]) -> Result<Vec<ObjectId>, AppError> {
    if brands.is_empty() {
        return Ok(vec![]);
    }
    let docs: Vec<Document> = products(db)
        .clone_with_type::<Document>()
        .find(doc! { "clientId": client_id, "brandId": { "$in": brands } })
        .projection(doc! { "_id": 1 })
        .await?
        .try_collect()
        .await?;
    Ok(docs.iter().filter_map(|d| d.get_object_id("_id").ok()).collect())
}

/// One of the shop's products (outside a transaction).
pub async fn find(db: &Database, client_id: ObjectId, id: ObjectId) -> Result<Option<ProductDoc>, AppError> {
    Ok(products(db).find_one(doc! { "_id": id, "clientId": client_id }).await?)
}

/// The shop's products `ids` (a page of items' `variantOf`).
pub async fn find_many(db: &Database, client_id: ObjectId, ids: &[ObjectId]) -> Result<Vec<ProductDoc>, AppError> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    Ok(products(db).find(doc! { "_id": { "$in": ids }, "clientId": client_id }).await?.try_collect().await?)
}

/// One of the shop's products, read in the caller's transaction.
pub async fn find_in(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Option<ProductDoc>, AppError> {
    Ok(products(db).find_one(doc! { "_id": id, "clientId": client_id }).session(s).await?)
}

/// `$set` the fields (plus `updatedAt`), bump `__v` and log it; `None` when not the shop's.
pub async fn update(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
    set: Document,
) -> Result<Option<ProductDoc>, AppError> {
    crate::catalog::refs::update_logged(db, s, changelog::PRODUCTS, client_id, id, set, AppError::from).await
}

/// Mark the shop's products `ids` as referenced now (`usedAt`) in the caller's transaction (an
/// item write naming one): a concurrent delete of one conflicts with it. Returns how many of
/// `ids` are the shop's.
pub async fn touch(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    ids: &[ObjectId],
) -> Result<u64, AppError> {
    crate::catalog::refs::touch(db, s, PRODUCTS, client_id, ids).await
}

/// Delete the product unless an item names it (in the caller's transaction). `Ok(None)`: not
/// the shop's; `Ok(Some(n))`: `n` items (deactivated ones too) name it, nothing deleted when
/// `n > 0`.
pub async fn delete(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Option<u64>, AppError> {
    let r = products(db)
        .update_one(doc! { "_id": id, "clientId": client_id }, doc! { "$set": { "usedAt": DateTime::now() } })
        .session(&mut *s)
        .await?;
    if r.matched_count == 0 {
        return Ok(None);
    }
    let n = db
        .collection::<Document>("items")
        .count_documents(doc! { "clientId": client_id, "variantOf": id })
        .session(&mut *s)
        .await?;
    if n == 0 {
        products(db).delete_one(doc! { "_id": id, "clientId": client_id }).session(&mut *s).await?;
        changelog::append(db, s, client_id, &[(changelog::PRODUCTS, id, true)]).await?;
    }
    Ok(Some(n))
}

/// Products naming `field` = `id` (a brand or group being deleted): how many.
pub async fn count_naming(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    field: &str,
    id: ObjectId,
) -> Result<u64, AppError> {
    Ok(products(db).count_documents(doc! { "clientId": client_id, field: id }).session(s).await?)
}

/// Clear `groupId` on the products of a deleted group, logging each (in its transaction).
pub async fn ungroup(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    group: ObjectId,
) -> Result<(), AppError> {
    let ids: Vec<ObjectId> = products(db)
        .clone_with_type::<Document>()
        .find(doc! { "clientId": client_id, "groupId": group })
        .projection(doc! { "_id": 1 })
        .session(&mut *s)
        .await?
        .stream(&mut *s)
        .try_filter_map(|d| async move { Ok(d.get_object_id("_id").ok()) })
        .try_collect()
        .await?;
    if ids.is_empty() {
        return Ok(());
    }
    products(db)
        .update_many(
            doc! { "clientId": client_id, "groupId": group },
            doc! { "$set": { "groupId": Bson::Null, "updatedAt": DateTime::now() }, "$inc": { "__v": 1 } },
        )
        .session(&mut *s)
        .await?;
    let rows: Vec<changelog::Change> = ids.into_iter().map(|i| (changelog::PRODUCTS, i, false)).collect();
    changelog::append(db, s, client_id, &rows).await?;
    Ok(())
}

/// A stored `tax` value (`null` for none).
pub fn tax_bson(t: Option<&crate::catalog::tax::TaxCode>) -> Bson {
    crate::catalog::repo::tax_bson(t)
}
