//! Versioned index and validator definitions (`migrations/*.json`), applied at start-up and
//! by `viveka migrate`. Each applied version is recorded in the `_migrations` collection
//! with a checksum; a version whose file changed is applied again. Every step is idempotent
//! (create-if-missing collections, `createIndexes` with fixed names, `collMod` validators,
//! and `updates`: `updateMany` data fixes whose filter no longer matches once applied, e.g.
//! "set a new default where the field is missing"), so concurrent start-ups of several
//! instances are safe.

use bson::{doc, oid::ObjectId, Bson, Document};
use futures::TryStreamExt;
use mongodb::{
    options::{IndexOptions, UpdateModifications},
    Database, IndexModel,
};
use sha2::{Digest, Sha256};

use crate::changelog;

pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub source: &'static str,
}

/// Every migration, in order. A new file in `migrations/` gets a line here.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "0001_auth", source: include_str!("../../migrations/0001_auth.json") },
    Migration { version: 2, name: "0002_catalog", source: include_str!("../../migrations/0002_catalog.json") },
    Migration { version: 3, name: "0003_billing", source: include_str!("../../migrations/0003_billing.json") },
    Migration { version: 4, name: "0004_dealers", source: include_str!("../../migrations/0004_dealers.json") },
    Migration { version: 6, name: "0006_dashboard", source: include_str!("../../migrations/0006_dashboard.json") },
    Migration { version: 7, name: "0007_sync", source: include_str!("../../migrations/0007_sync.json") },
    Migration { version: 8, name: "0008_compat", source: include_str!("../../migrations/0008_compat.json") },
    Migration {
        version: 9,
        name: "0009_offline_sales",
        source: include_str!("../../migrations/0009_offline_sales.json"),
    },
    Migration {
        version: 10,
        name: "0010_change_log_backfill",
        source: include_str!("../../migrations/0010_change_log_backfill.json"),
    },
    Migration {
        version: 11,
        name: "0011_change_log_append_only",
        source: include_str!("../../migrations/0011_change_log_append_only.json"),
    },
    Migration { version: 12, name: "0012_audit", source: include_str!("../../migrations/0012_audit.json") },
    Migration { version: 13, name: "0013_staff", source: include_str!("../../migrations/0013_staff.json") },
    Migration { version: 15, name: "0015_parties", source: include_str!("../../migrations/0015_parties.json") },
    Migration { version: 16, name: "0016_item_codes", source: include_str!("../../migrations/0016_item_codes.json") },
    Migration { version: 17, name: "0017_units", source: include_str!("../../migrations/0017_units.json") },
    Migration { version: 18, name: "0018_batches", source: include_str!("../../migrations/0018_batches.json") },
    Migration {
        version: 19,
        name: "0019_stock_ledger",
        source: include_str!("../../migrations/0019_stock_ledger.json"),
    },
    Migration {
        version: 20,
        name: "0020_pull_catalog",
        source: include_str!("../../migrations/0020_pull_catalog.json"),
    },
    Migration { version: 21, name: "0021_products", source: include_str!("../../migrations/0021_products.json") },
    Migration { version: 22, name: "0022_bill_books", source: include_str!("../../migrations/0022_bill_books.json") },
    Migration { version: 25, name: "0025_gst_series", source: include_str!("../../migrations/0025_gst_series.json") },
    Migration {
        version: 26,
        name: "0026_credit_notes",
        source: include_str!("../../migrations/0026_credit_notes.json"),
    },
    Migration {
        version: 27,
        name: "0027_reports_returns",
        source: include_str!("../../migrations/0027_reports_returns.json"),
    },
];

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("migration {0}: invalid definition: {1}")]
    Invalid(&'static str, String),
    #[error("migration {0}: {1}")]
    Db(&'static str, mongodb::error::Error),
    #[error("migration {0}: logging documents: {1}")]
    Log(&'static str, String),
}

/// Apply every migration not yet recorded with the same checksum. Returns the names applied.
pub async fn run(db: &Database) -> Result<Vec<&'static str>, MigrationError> {
    let log = db.collection::<Document>("_migrations");
    let mut applied = Vec::new();
    for m in MIGRATIONS {
        let checksum = hex::encode(Sha256::digest(m.source.as_bytes()));
        let done = log
            .find_one(doc! { "_id": m.version as i32, "checksum": &checksum })
            .await
            .map_err(|e| MigrationError::Db(m.name, e))?;
        if done.is_some() {
            continue;
        }
        apply(db, m).await?;
        log.update_one(
            doc! { "_id": m.version as i32 },
            doc! { "$set": { "name": m.name, "checksum": &checksum, "appliedAt": bson::DateTime::now() } },
        )
        .upsert(true)
        .await
        .map_err(|e| MigrationError::Db(m.name, e))?;
        applied.push(m.name);
    }
    Ok(applied)
}

async fn apply(db: &Database, m: &Migration) -> Result<(), MigrationError> {
    let spec: serde_json::Value =
        serde_json::from_str(m.source).map_err(|e| MigrationError::Invalid(m.name, e.to_string()))?;
    let Some(collections) = spec.get("collections").and_then(|c| c.as_object()) else {
        return Err(MigrationError::Invalid(m.name, "missing \"collections\" object".into()));
    };
    let existing = db.list_collection_names().await.map_err(|e| MigrationError::Db(m.name, e))?;
    for (coll_name, def) in collections {
        if !existing.iter().any(|c| c == coll_name) {
            if let Err(e) = db.create_collection(coll_name).await {
                // 48 = NamespaceExists (another instance created it first)
                if !e.to_string().contains("already exists") {
                    return Err(MigrationError::Db(m.name, e));
                }
            }
        }
        if let Some(validator) = def.get("validator") {
            let v = to_document(validator).ok_or_else(|| MigrationError::Invalid(m.name, "validator".into()))?;
            db.run_command(doc! { "collMod": coll_name, "validator": v, "validationLevel": "moderate" })
                .await
                .map_err(|e| MigrationError::Db(m.name, e))?;
        }
        let indexes = def.get("indexes").and_then(|i| i.as_array()).cloned().unwrap_or_default();
        let mut models = Vec::new();
        for idx in &indexes {
            models.push(index_model(idx).map_err(|e| MigrationError::Invalid(m.name, e))?);
        }
        if !models.is_empty() {
            db.collection::<Document>(coll_name)
                .create_indexes(models)
                .await
                .map_err(|e| MigrationError::Db(m.name, e))?;
        }
    }
    if let Some(drops) = spec.get("dropIndexes").and_then(|d| d.as_object()) {
        for (coll_name, names) in drops {
            for name in names.as_array().into_iter().flatten().filter_map(|n| n.as_str()) {
                drop_index(db, coll_name, name).await.map_err(|e| MigrationError::Db(m.name, e))?;
            }
        }
    }
    for coll in log_step(&spec).map_err(|e| MigrationError::Invalid(m.name, e))? {
        log_unlogged(db, coll).await.map_err(|e| MigrationError::Log(m.name, e.to_string()))?;
    }
    if spec.get("ensureOwnerUsers").and_then(|v| v.as_bool()) == Some(true) {
        ensure_owner_users(db).await.map_err(|e| MigrationError::Log(m.name, e.to_string()))?;
    }
    let updates = spec.get("updates").and_then(|u| u.as_array()).cloned().unwrap_or_default();
    for u in &updates {
        let (coll, filter, update) = update_step(u).map_err(|e| MigrationError::Invalid(m.name, e))?;
        db.collection::<Document>(&coll)
            .update_many(filter, update)
            .await
            .map_err(|e| MigrationError::Db(m.name, e))?;
    }
    Ok(())
}

/// Drop index `name` of `coll` when it exists (`dropIndexes`: `{collection: [names]}`, for an
/// index a later design replaced). Already gone, or no such collection: nothing to do, so the
/// step is idempotent.
async fn drop_index(db: &Database, coll: &str, name: &str) -> Result<(), mongodb::error::Error> {
    match db.collection::<Document>(coll).drop_index(name).await {
        Ok(()) => Ok(()),
        // 26 NamespaceNotFound, 27 IndexNotFound
        Err(e) if matches!(*e.kind, mongodb::error::ErrorKind::Command(ref c) if c.code == 26 || c.code == 27) => {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// One `updates` entry: `{collection, filter, update}` (an `updateMany`; the filter must stop
/// matching once applied, so a re-run changes nothing). `update` is an update document or an
/// aggregation pipeline (a list of stages, e.g. to copy one field into another).
fn update_step(u: &serde_json::Value) -> Result<(String, Document, UpdateModifications), String> {
    let coll = u.get("collection").and_then(|c| c.as_str()).ok_or("update without a collection")?;
    let filter = u.get("filter").and_then(to_document).ok_or(format!("update of {coll}: filter"))?;
    let update = match u.get("update") {
        Some(serde_json::Value::Array(stages)) => UpdateModifications::Pipeline(
            stages
                .iter()
                .map(|st| to_document(st).ok_or(format!("update of {coll}: pipeline stage")))
                .collect::<Result<_, _>>()?,
        ),
        other => UpdateModifications::Document(other.and_then(to_document).ok_or(format!("update of {coll}: update"))?),
    };
    Ok((coll.to_string(), filter, update))
}

/// The `ensureOwnerUsers` step of migration 0013: every shop gets its owner's user
/// (`users::UserDoc::owner`, `_id` = the shop's id) when it has none. Idempotent (an upsert
/// that only inserts). Returns how many shops were looked at.
pub async fn ensure_owner_users(db: &Database) -> Result<u64, crate::error::AppError> {
    let mut cur = db
        .collection::<Document>("clients")
        .find(doc! {})
        .projection(doc! { "_id": 1, "phoneNumber": 1, "ownerName": 1, "createdAt": 1 })
        .await?;
    let mut n = 0;
    while let Some(c) = cur.try_next().await? {
        let Ok(id) = c.get_object_id("_id") else { continue };
        let at = c.get_datetime("createdAt").copied().unwrap_or_else(|_| bson::DateTime::now());
        let owner = crate::users::UserDoc::owner(
            id,
            c.get_str("phoneNumber").unwrap_or_default(),
            c.get_str("ownerName").unwrap_or_default(),
            at,
        );
        crate::users::repo::ensure_owner(db, None, &owner).await?;
        n += 1;
    }
    Ok(n)
}

/// The synced collections named by `logUnloggedDocuments` (each must be one the change log
/// knows: `crate::changelog::SYNCED`).
fn log_step(spec: &serde_json::Value) -> Result<Vec<&'static str>, String> {
    let Some(list) = spec.get("logUnloggedDocuments") else { return Ok(vec![]) };
    let list = list.as_array().ok_or("logUnloggedDocuments: not a list")?;
    list.iter()
        .map(|c| {
            let c = c.as_str().unwrap_or_default();
            changelog::SYNCED
                .iter()
                .copied()
                .find(|s| *s == c)
                .ok_or_else(|| format!("logUnloggedDocuments: {c:?} is not a synced collection"))
        })
        .collect()
}

/// How many documents one transaction of [`log_unlogged`] logs at most.
const LOG_BATCH: usize = 500;

/// The backfill step of migration 0010: append a change-log row (one per-client transaction
/// per batch, [`changelog::append`]) for every document of `coll` that has no row, or whose
/// row is older than the document's `updatedAt` (the writes the removed clock-based catch-up
/// had not logged yet: the comparison is made once, over every document, with no time
/// window). An item with `isActive: false` is logged as deleted. Re-running finds nothing
/// to log (every document then has a row at least as new as its last write), so the step is
/// idempotent; two instances starting at once may both log a document (the pull serves it
/// once, at its latest row, and `changelog::prune` drops the other). Returns how many documents were logged.
pub async fn log_unlogged(db: &Database, coll: &'static str) -> Result<u64, crate::error::AppError> {
    let mut cur = db
        .collection::<Document>(coll)
        .find(doc! {})
        .projection(doc! { "_id": 1, "clientId": 1, "updatedAt": 1, "isActive": 1 })
        .sort(doc! { "clientId": 1, "_id": 1 })
        .await?;
    let mut logged = 0;
    // (client, [(id, updatedAt ms, deleted)])
    let mut batch: Option<(ObjectId, Vec<Unlogged>)> = None;
    while let Some(d) = cur.try_next().await? {
        let (Ok(id), Ok(client)) = (d.get_object_id("_id"), d.get_object_id("clientId")) else { continue };
        let updated = d.get_datetime("updatedAt").map(|t| t.timestamp_millis()).unwrap_or(i64::MAX);
        let deleted = coll == changelog::ITEMS && d.get_bool("isActive").is_ok_and(|a| !a);
        if batch.as_ref().is_some_and(|(c, rows)| *c != client || rows.len() >= LOG_BATCH) {
            if let Some((c, rows)) = batch.take() {
                logged += log_batch(db, coll, c, &rows).await?;
            }
        }
        batch.get_or_insert_with(|| (client, Vec::new())).1.push((id, updated, deleted));
    }
    if let Some((c, rows)) = batch.take() {
        logged += log_batch(db, coll, c, &rows).await?;
    }
    Ok(logged)
}

/// A document to check: (id, `updatedAt` in ms, deleted).
type Unlogged = (ObjectId, i64, bool);

async fn log_batch(
    db: &Database,
    coll: &'static str,
    client_id: ObjectId,
    docs: &[Unlogged],
) -> Result<u64, crate::error::AppError> {
    let ids: Vec<ObjectId> = docs.iter().map(|d| d.0).collect();
    let mut rows = db
        .collection::<Document>(changelog::LOG)
        .find(doc! { "clientId": client_id, "docId": { "$in": &ids } })
        .projection(doc! { "docId": 1, "at": 1 })
        .await?;
    let mut logged_at: std::collections::HashMap<ObjectId, i64> = std::collections::HashMap::new();
    while let Some(r) = rows.try_next().await? {
        if let Ok(id) = r.get_object_id("docId") {
            let at = r.get_datetime("at").map(|t| t.timestamp_millis()).unwrap_or(i64::MIN);
            // the log is append-only until pruned: a document's newest row counts
            logged_at.entry(id).and_modify(|t| *t = (*t).max(at)).or_insert(at);
        }
    }
    let missing: Vec<(&'static str, ObjectId, bool)> = docs
        .iter()
        .filter(|(id, updated, _)| logged_at.get(id).is_none_or(|at| at < updated))
        .map(|(id, _, deleted)| (coll, *id, *deleted))
        .collect();
    if missing.is_empty() {
        return Ok(0);
    }
    let ctx = (db.clone(), client_id, missing);
    super::transaction(db.client(), &ctx, |s, (db, client_id, missing)| {
        Box::pin(async move { changelog::append(db, s, *client_id, missing).await })
    })
    .await?;
    Ok(ctx.2.len() as u64)
}

fn index_model(idx: &serde_json::Value) -> Result<IndexModel, String> {
    let name = idx.get("name").and_then(|n| n.as_str()).ok_or("index without a name")?;
    let keys = idx.get("keys").and_then(to_document).ok_or(format!("index {name}: keys"))?;
    let mut opts = IndexOptions::builder().name(name.to_string()).build();
    if let Some(u) = idx.get("unique").and_then(|u| u.as_bool()) {
        opts.unique = Some(u);
    }
    if let Some(s) = idx.get("expireAfterSeconds").and_then(|s| s.as_u64()) {
        opts.expire_after = Some(std::time::Duration::from_secs(s));
    }
    if let Some(p) = idx.get("partialFilterExpression") {
        opts.partial_filter_expression = Some(to_document(p).ok_or(format!("index {name}: partial filter"))?);
    }
    if let Some(c) = idx.get("collation") {
        let c = to_document(c).ok_or(format!("index {name}: collation"))?;
        opts.collation = Some(bson::from_document(c).map_err(|e| format!("index {name}: collation: {e}"))?);
    }
    Ok(IndexModel::builder().keys(keys).options(opts).build())
}

/// JSON -> BSON for definitions: integers become Int32 (or Int64), other numbers doubles.
pub fn to_bson(v: &serde_json::Value) -> Bson {
    match v {
        serde_json::Value::Null => Bson::Null,
        serde_json::Value::Bool(b) => Bson::Boolean(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i32::try_from(i).map(Bson::Int32).unwrap_or(Bson::Int64(i))
            } else {
                Bson::Double(n.as_f64().unwrap_or(0.0))
            }
        }
        serde_json::Value::String(s) => Bson::String(s.clone()),
        serde_json::Value::Array(a) => Bson::Array(a.iter().map(to_bson).collect()),
        serde_json::Value::Object(o) => Bson::Document(o.iter().map(|(k, v)| (k.clone(), to_bson(v))).collect()),
    }
}

fn to_document(v: &serde_json::Value) -> Option<Document> {
    match to_bson(v) {
        Bson::Document(d) => Some(d),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_parses_and_versions_increase() {
        let mut last = 0;
        for m in MIGRATIONS {
            assert!(m.version > last, "{} out of order", m.name);
            last = m.version;
            let spec: serde_json::Value = serde_json::from_str(m.source).unwrap();
            for (_, def) in spec["collections"].as_object().unwrap() {
                for idx in def.get("indexes").and_then(|i| i.as_array()).into_iter().flatten() {
                    index_model(idx).unwrap();
                }
            }
            for u in spec.get("updates").and_then(|u| u.as_array()).into_iter().flatten() {
                update_step(u).unwrap();
            }
            log_step(&spec).unwrap();
        }
    }
}
