//! The per-client change-log writer (`syncchanges`), shared by every feature that writes a
//! synced document (items, customers, invoices, payments) and by sync itself. It depends on
//! no feature module; the reading side (the pull) stays in `sync::changes`.
//!
//! **The feed rule**: every write to a synced collection calls [`append`] in the SAME
//! transaction as the write (the central points: `catalog::stock::{apply, apply_many}` for
//! every stock move, the billing sale and payment, the catalog and customer services, the
//! v1 applier and the v2 bulk writer). The transaction takes a block of the client's
//! sequence (`counters` document `sync:<clientId>`, `$inc` inside the transaction) and
//! appends one row per changed document: `{clientId, seq, coll, docId, deleted}`. Because the
//! counter document is written by every such transaction, two of them for the same client
//! can never commit out of order (the second one conflicts and retries), so a reader that has
//! seen sequence `n` committed has seen everything below `n`: the cursor is this sequence,
//! never a clock. No scan by `updatedAt` exists: a server whose clock is off, or a
//! transaction that commits late, cannot hide a change from the pull.
//!
//! Call it late in the transaction when you can (the counter is the shop's hottest document:
//! from the `$inc` to the commit, other writers of the shop wait). Several calls in one
//! transaction are fine. The write path only inserts: a document may hold several rows until
//! the background [`prune`] keeps only its latest; the pull returns a document once, at its
//! latest row.

use std::collections::HashMap;

use bson::{doc, oid::ObjectId, DateTime, Document};
use futures::TryStreamExt;
use mongodb::{options::ReturnDocument, ClientSession, Database};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// Synced collection: catalog items.
pub const ITEMS: &str = "items";
/// Synced collection: the shop's customers.
pub const CUSTOMERS: &str = "clientcustomers";
/// Synced collection: invoices.
pub const INVOICES: &str = "invoices";
/// Synced collection: payments.
pub const PAYMENTS: &str = "payments";

/// Synced collection: the shop's packing units (issue 16).
pub const UNITS: &str = "units";
/// Synced collection: item groups (main and sub categories, issue 16).
pub const GROUPS: &str = "itemgroups";
/// Synced collection: brands (issue 16).
pub const BRANDS: &str = "brands";
/// Synced collection: companies, the makers brands belong to (issue 16).
pub const COMPANIES: &str = "companies";

/// Synced collection: products, what the variants (items) of one article share (issue 16).
pub const PRODUCTS: &str = "products";

/// Synced collection: lots of `hasExpiry` items (issue 16, `catalog::batch`).
pub const BATCHES: &str = "batches";

/// Synced collection: credit notes (issue 18, `billing::credit`).
pub const CREDIT_NOTES: &str = "creditnotes";

/// One change of a transaction: (synced collection, document id, deleted).
pub type Change = (&'static str, ObjectId, bool);

/// Every synced collection (the pull serves these; each write to one is logged).
pub const SYNCED: [&str; 11] =
    [ITEMS, CUSTOMERS, INVOICES, PAYMENTS, GROUPS, BRANDS, COMPANIES, PRODUCTS, UNITS, BATCHES, CREDIT_NOTES];

/// The change-log collection.
pub const LOG: &str = "syncchanges";

/// One row of the change log: document `docId` of collection `coll` changed at sequence
/// `seq` of its client (`deleted`: it is gone for the device). `at` is informational only
/// (never read to decide what a pull returns).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeRow {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub seq: i64,
    pub coll: String,
    pub doc_id: ObjectId,
    pub deleted: bool,
    pub at: DateTime,
}

/// `_id` of the client's sync-sequence document in `counters`: `sync:<clientId>`.
pub fn counter_key(client_id: ObjectId) -> String {
    format!("sync:{}", client_id.to_hex())
}

/// Reserve `n` (>= 1) numbers of the client's sequence; returns the first one.
async fn reserve(db: &Database, s: &mut ClientSession, client_id: ObjectId, n: i64) -> AppResult<i64> {
    let d = db
        .collection::<Document>("counters")
        .find_one_and_update(doc! { "_id": counter_key(client_id) }, doc! { "$inc": { "seq": n } })
        .upsert(true)
        .return_document(ReturnDocument::After)
        .session(&mut *s)
        .await?
        .ok_or_else(|| AppError::internal("sync counter upsert returned nothing"))?;
    let last = d.get_i64("seq").map_err(|_| AppError::internal("sync counter without seq"))?;
    Ok(last - n + 1)
}

/// Append the changes of one transaction: `(collection, document id, deleted)` per changed
/// document (`deleted` for a hard delete or an item soft delete). Within the call a document
/// gets one row, its last change. The log is **append-only on the write path**: an older row of
/// the same document stays until [`prune`] removes it, and the pull skips a row whose document
/// has a later one (so a pull still returns each document once). Keeping the delete out of the
/// sale's transaction is what keeps CHECKOUT at its pre-#14 speed (docs/PERFORMANCE.md).
/// Takes at least one sequence number even when `changed` is empty. Returns the last
/// sequence number taken. Errors: the driver's (the caller's transaction aborts).
pub async fn append(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    changed: &[(&'static str, ObjectId, bool)],
) -> AppResult<i64> {
    let mut last: HashMap<(&str, ObjectId), usize> = HashMap::new();
    for (i, (c, id, _)) in changed.iter().enumerate() {
        last.insert((c, *id), i);
    }
    let kept: Vec<&(&str, ObjectId, bool)> =
        changed.iter().enumerate().filter(|(i, (c, id, _))| last[&(*c, *id)] == *i).map(|(_, c)| c).collect();
    let n = (kept.len() as i64).max(1);
    let first = reserve(db, s, client_id, n).await?;
    if !kept.is_empty() {
        let now = DateTime::now();
        let rows: Vec<ChangeRow> = kept
            .iter()
            .enumerate()
            .map(|(i, (c, id, del))| ChangeRow {
                id: ObjectId::new(),
                client_id,
                seq: first + i as i64,
                coll: c.to_string(),
                doc_id: *id,
                deleted: *del,
                at: now,
            })
            .collect();
        db.collection::<ChangeRow>(LOG).insert_many(&rows).session(&mut *s).await?;
    }
    Ok(first + n - 1)
}

/// `_id` of the pruner's watermark in `counters`: rows with a smaller `_id` were pruned.
const PRUNE_KEY: &str = "changelog:pruned";

/// Rows younger than this are left to the next pass (a transaction still open may yet commit a
/// row whose `_id` was made before the pass; MongoDB's default transaction lifetime is 60 s).
pub const PRUNE_SETTLE_SECS: u32 = 120;

/// How many documents one delete names (one `$or` clause each).
const PRUNE_CHUNK: usize = 500;

/// Remove the superseded rows of the log: for every document that has a row appended since the
/// last pass (rows whose `_id` lies between the watermark and `now - PRUNE_SETTLE_SECS`),
/// delete its rows with a smaller sequence than its latest. The latest row of every document
/// is never removed, so a device at any cursor still receives every document that changed
/// after it (the pull skips superseded rows anyway; this only bounds the log's size to about
/// one row per document). Incremental (a pass reads only the rows appended since the last) and
/// idempotent, so several instances may run it at once. Returns the rows deleted. Errors: the
/// driver's (the watermark is not moved; the next pass repeats the work).
pub async fn prune(db: &Database, now: DateTime) -> AppResult<u64> {
    let counters = db.collection::<Document>("counters");
    let from = counters
        .find_one(doc! { "_id": PRUNE_KEY })
        .await?
        .and_then(|d| d.get_object_id("upTo").ok())
        .unwrap_or_else(|| ObjectId::from_bytes([0; 12]));
    let settle_ms = i64::from(PRUNE_SETTLE_SECS) * 1000;
    let secs = (now.timestamp_millis() - settle_ms).max(0) / 1000;
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&(u32::try_from(secs).unwrap_or(u32::MAX)).to_be_bytes());
    let to = ObjectId::from_bytes(bytes);
    if to <= from {
        return Ok(0);
    }
    // the latest sequence of every document touched in [from, to)
    let mut latest = db
        .collection::<Document>(LOG)
        .aggregate(vec![
            doc! { "$match": { "_id": { "$gte": from, "$lt": to } } },
            doc! { "$group": { "_id": { "c": "$clientId", "d": "$docId" }, "seq": { "$max": "$seq" } } },
        ])
        .allow_disk_use(true)
        .await?;
    let mut clauses = Vec::new();
    let mut deleted = 0;
    while let Some(g) = latest.try_next().await? {
        let (Ok(key), Ok(seq)) = (g.get_document("_id"), g.get_i64("seq")) else { continue };
        let (Ok(c), Ok(d)) = (key.get_object_id("c"), key.get_object_id("d")) else { continue };
        clauses.push(doc! { "clientId": c, "docId": d, "seq": { "$lt": seq } });
        if clauses.len() == PRUNE_CHUNK {
            deleted += db
                .collection::<Document>(LOG)
                .delete_many(doc! { "$or": std::mem::take(&mut clauses) })
                .await?
                .deleted_count;
        }
    }
    if !clauses.is_empty() {
        deleted += db.collection::<Document>(LOG).delete_many(doc! { "$or": clauses }).await?.deleted_count;
    }
    counters.update_one(doc! { "_id": PRUNE_KEY }, doc! { "$max": { "upTo": to } }).upsert(true).await?;
    Ok(deleted)
}

/// How often a server prunes the log ([`prune`]).
pub const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Prune the log every [`PRUNE_EVERY`] for as long as the server runs (spawned by
/// [`crate::serve`]); a failed pass is logged and retried at the next tick.
pub async fn prune_forever(db: Database) {
    let mut tick = tokio::time::interval(PRUNE_EVERY);
    loop {
        tick.tick().await;
        match prune(&db, DateTime::now()).await {
            Ok(n) if n > 0 => tracing::info!(rows = n, "change log pruned"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "change log prune failed; retried at the next tick"),
        }
    }
}

/// An edit of a synced document (`T`: the item or customer) based on an older version of
/// fields changed since: not applied (the rule: [`stale`]). A push answers it `conflict` with
/// `current`; online answers 409 with [`Conflict::reason`].
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict<T> {
    pub id: ObjectId,
    /// The document's version now.
    pub version: i32,
    /// The version the edit was based on.
    pub base: i32,
    /// The stored names of the fields that changed since `base` and differ from the edit.
    pub fields: Vec<&'static str>,
    /// The document as it is now (answered to the device).
    pub current: T,
}

impl<T> Conflict<T> {
    /// The reason text, the same for every synced document: the fields changed since `base`,
    /// the version now.
    pub fn reason(&self) -> String {
        format!(
            "conflict: {} changed since baseVersion {} (now version {}); not applied, the current value is kept",
            self.fields.join(", "),
            self.base,
            self.version
        )
    }
}

/// The base-version rule of every synced document (docs/sync.md, "Edits"; CouchDB-style
/// optimistic concurrency): an edit based on version `base` of a document now at `version`
/// (`__v`, bumped by every edit, not by stock moves or dues) conflicts on the fields it sends
/// whose current value differs (`differing`), when the document was edited since `base`.
/// Empty: apply. Without a base the edit applies as sent; a field that already holds the sent
/// value is no conflict. Called by the deciders of items and customers.
pub fn stale<F>(version: i32, base: Option<i32>, differing: impl FnOnce() -> Vec<F>) -> Vec<F> {
    match base {
        Some(b) if version > b => differing(),
        _ => Vec::new(),
    }
}
