//! The batches repository: the only code that builds their BSON. Functions taking a
//! `ClientSession` run in the caller's transaction; every write that changes a lot appends
//! its change-log row ([`crate::changelog::BATCHES`]) there too, except [`take`], whose
//! rows the sale's plan lists (`billing::decide::SalePlan::changes`).

use std::collections::HashMap;

use bson::{doc, oid::ObjectId, DateTime};
use futures::TryStreamExt;
use mongodb::{options::ReturnDocument, ClientSession, Collection, Database};

use super::{batch_key, BatchDoc, Take};
use crate::{access::By, changelog, error::AppError};

/// The `batches` collection.
pub fn batches(db: &Database) -> Collection<BatchDoc> {
    db.collection(changelog::BATCHES)
}

/// The shop's lots of these items (any quantity), per item, ordered by expiry.
pub async fn for_items(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    items: &[ObjectId],
) -> Result<HashMap<ObjectId, Vec<BatchDoc>>, AppError> {
    let mut out: HashMap<ObjectId, Vec<BatchDoc>> = HashMap::new();
    if items.is_empty() {
        return Ok(out);
    }
    let mut cur = batches(db)
        .find(doc! { "clientId": client_id, "itemId": { "$in": items } })
        .sort(doc! { "expiryDate": 1, "batchKey": 1 })
        .session(&mut *s)
        .await?;
    while let Some(b) = cur.next(&mut *s).await.transpose()? {
        out.entry(b.item_id).or_default().push(b);
    }
    Ok(out)
}

/// The lots of one item of the shop (outside a transaction), ordered by expiry.
pub async fn of_item(db: &Database, client_id: ObjectId, item: ObjectId) -> Result<Vec<BatchDoc>, AppError> {
    Ok(batches(db)
        .find(doc! { "clientId": client_id, "itemId": item })
        .sort(doc! { "expiryDate": 1, "batchKey": 1 })
        .await?
        .try_collect()
        .await?)
}

/// Give the `hasExpiry` items among `items` their lots with units left (`batches`; other
/// items keep none): one read for all of them.
pub async fn attach(
    db: &Database,
    client_id: ObjectId,
    items: &mut [crate::catalog::dto::ItemWire],
) -> Result<(), AppError> {
    let ids: Vec<ObjectId> =
        items.iter().filter(|i| i.has_expiry == Some(true)).filter_map(|i| ObjectId::parse_str(&i.id).ok()).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let lots: Vec<BatchDoc> = batches(db)
        .find(doc! { "clientId": client_id, "itemId": { "$in": &ids }, "quantity": { "$gt": 0_i64 } })
        .sort(doc! { "expiryDate": 1, "batchKey": 1 })
        .await?
        .try_collect()
        .await?;
    for it in items.iter_mut().filter(|i| i.has_expiry == Some(true)) {
        let mine = lots.iter().filter(|l| l.item_id.to_hex() == it.id).map(super::BatchWire::from).collect();
        it.batches = Some(mine);
    }
    Ok(())
}

/// Apply a sale's lot decrements, each guarded on `quantity >= taken` (a lot never goes
/// below zero). The sale decided them on its transaction's snapshot, so a guard that fails
/// means a concurrent writer: 409 `CONFLICT` (the transaction aborts; retry).
pub async fn take(db: &Database, s: &mut ClientSession, client_id: ObjectId, takes: &[Take]) -> Result<(), AppError> {
    let now = DateTime::now();
    for t in takes {
        let r = batches(db)
            .update_one(
                doc! { "_id": t.batch, "clientId": client_id, "itemId": t.item, "quantity": { "$gte": t.quantity } },
                doc! { "$inc": { "quantity": -t.quantity }, "$set": { "updatedAt": now } },
            )
            .session(&mut *s)
            .await?;
        if r.matched_count != 1 {
            return Err(AppError::conflict(
                crate::error::code::CONFLICT,
                "A batch's quantity changed meanwhile; retry",
            ));
        }
    }
    Ok(())
}

/// Units back into lots (issue 18: a cancelled invoice's or a credit note's restocked lines,
/// into the lots their sale took them from): `(lot id, base units)`, each an `$inc` on a lot
/// of the shop. The caller logs the lots (its plan's change-log rows).
pub async fn give_back(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    lots: &[(ObjectId, i64)],
    now: DateTime,
) -> Result<(), AppError> {
    for (id, q) in lots {
        batches(db)
            .update_one(
                doc! { "_id": *id, "clientId": client_id },
                doc! { "$inc": { "quantity": *q }, "$set": { "updatedAt": now } },
            )
            .session(&mut *s)
            .await?;
    }
    Ok(())
}

/// Units received into a lot (a dealer delivery line, a stock adjustment naming a batch).
#[derive(Debug, Clone)]
pub struct Receive {
    pub client_id: ObjectId,
    pub item_id: ObjectId,
    /// As sent (trimmed); matched case-insensitively ([`batch_key`]).
    pub batch_no: String,
    /// `YYYY-MM-DD`. A lot keeps the expiry it was first received with: another one is
    /// refused (400), since one batch number has one expiry date.
    pub expiry_date: String,
    /// Base units added (> 0), or taken out (< 0, guarded: never below zero).
    pub quantity: i64,
    /// Paise; set on a new lot (an existing lot keeps its own).
    pub mrp: Option<i64>,
    pub by: Option<By>,
    pub now: DateTime,
}

/// Create the lot or add to it (upsert on the unique `{clientId, itemId, batchKey}`), in
/// the caller's transaction, and log it for the pull. A negative quantity takes units out,
/// guarded (`quantity >= -delta`; else 409 `INSUFFICIENT_STOCK`). Returns the lot after.
pub async fn receive(db: &Database, s: &mut ClientSession, r: &Receive) -> Result<BatchDoc, AppError> {
    let key = batch_key(&r.batch_no);
    let found = batches(db)
        .find_one(doc! { "clientId": r.client_id, "itemId": r.item_id, "batchKey": &key })
        .session(&mut *s)
        .await?;
    if let Some(b) = &found {
        if b.expiry_date != r.expiry_date {
            return Err(AppError::validation(
                "expiryDate",
                format!("batch {} expires on {}, not {}", b.batch_no, b.expiry_date, r.expiry_date),
            ));
        }
    }
    let lot = if found.is_none() {
        if r.quantity < 0 {
            return Err(AppError::bad_request_code(
                super::BATCH_NOT_FOUND,
                format!("No batch {} of this item", r.batch_no),
            ));
        }
        let b = BatchDoc {
            id: ObjectId::new(),
            client_id: r.client_id,
            item_id: r.item_id,
            batch_no: r.batch_no.trim().to_string(),
            batch_key: key,
            expiry_date: r.expiry_date.clone(),
            quantity: r.quantity,
            mrp: r.mrp,
            created_at: r.now,
            updated_at: r.now,
            by: r.by.clone(),
        };
        // the unique index refuses a twin made meanwhile (the transaction retries)
        batches(db).insert_one(&b).session(&mut *s).await?;
        b
    } else {
        let mut filter = doc! { "clientId": r.client_id, "itemId": r.item_id, "batchKey": &key };
        if r.quantity < 0 {
            filter.insert("quantity", doc! { "$gte": -r.quantity });
        }
        batches(db)
            .find_one_and_update(filter, doc! { "$inc": { "quantity": r.quantity }, "$set": { "updatedAt": r.now } })
            .return_document(ReturnDocument::After)
            .session(&mut *s)
            .await?
            .ok_or_else(|| {
                AppError::conflict(
                    "INSUFFICIENT_STOCK",
                    format!("Batch {} holds fewer than {} units", r.batch_no, -r.quantity),
                )
            })?
    };
    changelog::append(db, s, r.client_id, &[(changelog::BATCHES, lot.id, false)]).await?;
    Ok(lot)
}

/// A return into a named lot (issue 18's return route calls it with the item's stock move):
/// adds `qty` units to the lot even when it has expired since (`super::put_back` is the
/// rule), and logs it. `None` when the item has no such lot.
pub async fn put_back(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    item_id: ObjectId,
    batch_no: &str,
    qty: i64,
    now: DateTime,
) -> Result<Option<BatchDoc>, AppError> {
    let lots: Vec<BatchDoc> = for_items(db, s, client_id, &[item_id]).await?.remove(&item_id).unwrap_or_default();
    let Some((id, after)) = super::put_back(&lots, batch_no, qty) else { return Ok(None) };
    let lot = batches(db)
        .find_one_and_update(
            doc! { "_id": id, "clientId": client_id },
            doc! { "$set": { "quantity": after, "updatedAt": now } },
        )
        .return_document(ReturnDocument::After)
        .session(&mut *s)
        .await?;
    if let Some(l) = &lot {
        changelog::append(db, s, client_id, &[(changelog::BATCHES, l.id, false)]).await?;
    }
    Ok(lot)
}

/// The shop's lots with units left that expire on or before `until` (`YYYY-MM-DD`; the
/// already expired included), by expiry date.
pub async fn expiring(db: &Database, client_id: ObjectId, until: &str) -> Result<Vec<BatchDoc>, AppError> {
    Ok(batches(db)
        .find(doc! { "clientId": client_id, "quantity": { "$gt": 0_i64 }, "expiryDate": { "$lte": until } })
        .sort(doc! { "expiryDate": 1, "batchKey": 1 })
        .await?
        .try_collect()
        .await?)
}

/// Every lot of the shop's (for the v2 pull by id).
pub async fn by_ids(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    ids: &[ObjectId],
) -> Result<Vec<BatchDoc>, AppError> {
    let mut cur = batches(db).find(doc! { "_id": { "$in": ids }, "clientId": client_id }).session(&mut *s).await?;
    let mut out = Vec::new();
    while let Some(b) = cur.next(&mut *s).await.transpose()? {
        out.push(b);
    }
    Ok(out)
}

/// Names of the shop's items with these ids (any active state).
pub async fn item_names(
    db: &Database,
    client_id: ObjectId,
    ids: &[ObjectId],
) -> Result<HashMap<ObjectId, String>, AppError> {
    let docs: Vec<bson::Document> = db
        .collection::<bson::Document>("items")
        .find(doc! { "_id": { "$in": ids }, "clientId": client_id })
        .projection(doc! { "_id": 1, "name": 1 })
        .await?
        .try_collect()
        .await?;
    Ok(docs
        .iter()
        .filter_map(|d| Some((d.get_object_id("_id").ok()?, d.get_str("name").unwrap_or_default().to_string())))
        .collect())
}
