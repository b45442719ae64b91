//! The two writes every referenced catalog document shares (brands, companies, products,
//! item groups): the reference guard (`usedAt`) and the versioned, logged edit.
//!
//! A write that names a brand, company, product or category writes that document's `usedAt`
//! in its own transaction ([`touch`]), and a delete of it checks for references in one
//! transaction that also writes it: MongoDB's write conflict then keeps a new reference and the
//! delete from both committing. `usedAt` is never read and never shown to a device (the pull
//! serves the wire forms, which leave it out).

use bson::{doc, oid::ObjectId, DateTime, Document};
use mongodb::{options::ReturnDocument, ClientSession, Database};
use serde::de::DeserializeOwned;

use crate::{changelog, error::AppError};

/// Write `usedAt` on the shop's documents `ids` of collection `coll` in the caller's
/// transaction. Returns how many of `ids` are the shop's (the others are not touched).
pub async fn touch(
    db: &Database,
    s: &mut ClientSession,
    coll: &str,
    client_id: ObjectId,
    ids: &[ObjectId],
) -> Result<u64, AppError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let r = db
        .collection::<Document>(coll)
        .update_many(
            doc! { "_id": { "$in": ids }, "clientId": client_id },
            doc! { "$set": { "usedAt": DateTime::now() } },
        )
        .session(s)
        .await?;
    Ok(r.matched_count)
}

/// `$set` the fields of the shop's document `id` of the synced collection `coll` (plus
/// `updatedAt`), bump its `__v` and append its change-log row, in the caller's transaction.
/// `None` when it is not the shop's; a driver error goes through `err` (e.g. a duplicate name
/// as 409 `DUPLICATE`).
pub async fn update_logged<T>(
    db: &Database,
    s: &mut ClientSession,
    coll: &'static str,
    client_id: ObjectId,
    id: ObjectId,
    mut set: Document,
    err: impl Fn(mongodb::error::Error) -> AppError,
) -> Result<Option<T>, AppError>
where
    T: DeserializeOwned + Send + Sync,
{
    set.insert("updatedAt", DateTime::now());
    let after = db
        .collection::<T>(coll)
        .find_one_and_update(doc! { "_id": id, "clientId": client_id }, doc! { "$set": set, "$inc": { "__v": 1 } })
        .return_document(ReturnDocument::After)
        .session(&mut *s)
        .await
        .map_err(err)?;
    if after.is_some() {
        changelog::append(db, s, client_id, &[(coll, id, false)]).await?;
    }
    Ok(after)
}
