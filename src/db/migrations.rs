//! Versioned index and validator definitions (`migrations/*.json`), applied at start-up and
//! by `viveka migrate`. Each applied version is recorded in the `_migrations` collection
//! with a checksum; a version whose file changed is applied again. Every step is idempotent
//! (create-if-missing collections, `createIndexes` with fixed names, `collMod` validators,
//! and `updates`: `updateMany` data fixes whose filter no longer matches once applied, e.g.
//! "set a new default where the field is missing"), so concurrent start-ups of several
//! instances are safe.

use bson::{doc, Bson, Document};
use mongodb::{options::IndexOptions, Database, IndexModel};
use sha2::{Digest, Sha256};

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
];

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("migration {0}: invalid definition: {1}")]
    Invalid(&'static str, String),
    #[error("migration {0}: {1}")]
    Db(&'static str, mongodb::error::Error),
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

/// One `updates` entry: `{collection, filter, update}` (an `updateMany`; the filter must stop
/// matching once applied, so a re-run changes nothing).
fn update_step(u: &serde_json::Value) -> Result<(String, Document, Document), String> {
    let coll = u.get("collection").and_then(|c| c.as_str()).ok_or("update without a collection")?;
    let filter = u.get("filter").and_then(to_document).ok_or(format!("update of {coll}: filter"))?;
    let update = u.get("update").and_then(to_document).ok_or(format!("update of {coll}: update"))?;
    Ok((coll.to_string(), filter, update))
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
        }
    }
}
