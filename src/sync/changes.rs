//! The incremental pull over the per-client change log (`syncchanges`). The writer
//! ([`append`]) lives in [`crate::changelog`] and is re-exported here.
//!
//! Every transaction that writes a synced document (online endpoints, v1 batches, v2
//! pushes, stock moves, dealer deliveries) takes a block of the client's sequence (`counters`
//! document `sync:<clientId>`, `$inc` inside the transaction) and appends one row per changed
//! document: `{clientId, seq, coll, docId, deleted}` (append-only: a document changed twice
//! has two rows until `changelog::prune` drops the older; the pull serves only the latest). Because the counter document is
//! written by every such transaction, two of them for the same client can never commit out
//! of order (the second one conflicts and retries), so a reader that has seen sequence `n`
//! committed has seen everything below `n`: the cursor is this sequence, never a clock (no
//! server's clock is read to decide what a pull returns). A pull reads the log and the
//! documents in one snapshot transaction, and writes nothing.

use std::collections::HashMap;

use bson::{doc, oid::ObjectId, Document};
use mongodb::{ClientSession, Database};
use serde_json::{json, Value};

use crate::{
    billing::{
        credit::{dto::CreditNoteWire, model::CreditNoteDoc},
        dto::{InvoiceWire, PaymentWire},
        model::{InvoiceDoc, PaymentDoc},
    },
    catalog::{
        brand::{
            dto::{BrandWire, CompanyWire},
            model::{BrandDoc, CompanyDoc},
        },
        dto::{ItemGroupWire, ItemWire},
        model::{ItemDoc, ItemGroupDoc},
        product::{dto::ProductWire, model::ProductDoc},
        unit::{dto::UnitWire, UnitDoc},
    },
    changelog::{
        counter_key, BATCHES, BRANDS, COMPANIES, CREDIT_NOTES, CUSTOMERS, GROUPS, INVOICES, ITEMS, PAYMENTS, PRODUCTS,
        UNITS,
    },
    customer::{dto::CustomerWire, model::CustomerDoc},
    db,
    error::AppResult,
    state::AppState,
};

/// The log writer lives in [`crate::changelog`] (features write to the log without depending on
/// sync); re-exported for the sync paths.
pub use crate::changelog::{append, ChangeRow, LOG};

/// Default and largest page of a pull.
pub const DEFAULT_PULL: i64 = 500;
pub const MAX_PULL: i64 = 2000;

/// One page of a pull.
#[derive(Debug)]
pub struct Page {
    pub changes: Vec<Value>,
    pub next_cursor: i64,
    pub has_more: bool,
    pub applied_ops: Vec<String>,
    pub rejected_ops: Vec<String>,
}

/// Changes after `cursor` (exclusive), at most `limit`, read in one snapshot.
pub async fn pull(state: &AppState, client_id: ObjectId, cursor: i64, limit: i64) -> AppResult<Page> {
    let limit = limit.clamp(1, MAX_PULL);
    // the log is complete: every write appended its rows in its own transaction (no catch-up)
    let ctx = (state.db.clone(), client_id, cursor, limit);
    db::transaction(&state.client, &ctx, |s, (database, client_id, cursor, limit)| {
        Box::pin(read_page(database, s, *client_id, *cursor, *limit))
    })
    .await
}

async fn read_page(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    cursor: i64,
    limit: i64,
) -> AppResult<Page> {
    let mut cur = db
        .collection::<ChangeRow>(LOG)
        .find(doc! { "clientId": client_id, "seq": { "$gt": cursor } })
        .sort(doc! { "seq": 1 })
        .limit(limit + 1)
        .session(&mut *s)
        .await?;
    let mut rows = Vec::new();
    while let Some(r) = cur.next(&mut *s).await.transpose()? {
        rows.push(r);
    }
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if has_more {
        rows.last().map(|r| r.seq).unwrap_or(cursor)
    } else {
        let c = db
            .collection::<Document>("counters")
            .find_one(doc! { "_id": counter_key(client_id) })
            .session(&mut *s)
            .await?;
        c.and_then(|c| c.get_i64("seq").ok()).unwrap_or(0).max(cursor)
    };
    let rows = latest_only(db, s, client_id, rows, has_more).await?;

    // the documents, in the same snapshot
    let mut ids: HashMap<&str, Vec<ObjectId>> = HashMap::new();
    for r in rows.iter().filter(|r| !r.deleted) {
        ids.entry(r.coll.as_str()).or_default().push(r.doc_id);
    }
    let mut docs: HashMap<(String, ObjectId), Value> = HashMap::new();
    for (coll, list) in &ids {
        let filter = doc! { "_id": { "$in": list }, "clientId": client_id };
        match *coll {
            ITEMS => {
                let mut c = db.collection::<ItemDoc>(ITEMS).find(filter).session(&mut *s).await?;
                while let Some(d) = c.next(&mut *s).await.transpose()? {
                    // a deactivated item is deleted for the device (soft deletes are never
                    // undone): it reads as a tombstone, whatever wrote its last row
                    if d.is_active {
                        docs.insert(
                            (ITEMS.into(), d.id),
                            serde_json::to_value(ItemWire::from(d)).unwrap_or(Value::Null),
                        );
                    }
                }
            }
            CUSTOMERS => {
                let mut c = db.collection::<CustomerDoc>(CUSTOMERS).find(filter).session(&mut *s).await?;
                while let Some(d) = c.next(&mut *s).await.transpose()? {
                    docs.insert(
                        (CUSTOMERS.into(), d.id),
                        serde_json::to_value(CustomerWire::from(d)).unwrap_or(Value::Null),
                    );
                }
            }
            INVOICES => {
                let mut c = db.collection::<InvoiceDoc>(INVOICES).find(filter).session(&mut *s).await?;
                while let Some(d) = c.next(&mut *s).await.transpose()? {
                    docs.insert(
                        (INVOICES.into(), d.id),
                        serde_json::to_value(InvoiceWire::from_doc(&d)).unwrap_or(Value::Null),
                    );
                }
            }
            PAYMENTS => {
                let mut c = db.collection::<PaymentDoc>(PAYMENTS).find(filter).session(&mut *s).await?;
                while let Some(d) = c.next(&mut *s).await.transpose()? {
                    docs.insert(
                        (PAYMENTS.into(), d.id),
                        serde_json::to_value(PaymentWire::from(&d)).unwrap_or(Value::Null),
                    );
                }
            }
            UNITS => {
                let mut c = db.collection::<UnitDoc>(UNITS).find(filter).session(&mut *s).await?;
                while let Some(d) = c.next(&mut *s).await.transpose()? {
                    docs.insert((UNITS.into(), d.id), serde_json::to_value(UnitWire::from(d)).unwrap_or(Value::Null));
                }
            }
            BATCHES => {
                // the lots of hasExpiry items (issue 16): `collection: "batches"`
                for b in crate::catalog::batch::repo::by_ids(db, s, client_id, list).await? {
                    docs.insert(
                        (BATCHES.into(), b.id),
                        serde_json::to_value(crate::catalog::batch::BatchWire::from(&b)).unwrap_or(Value::Null),
                    );
                }
            }
            GROUPS => {
                let mut c = db.collection::<ItemGroupDoc>(GROUPS).find(filter).session(&mut *s).await?;
                while let Some(d) = c.next(&mut *s).await.transpose()? {
                    docs.insert(
                        (GROUPS.into(), d.id),
                        serde_json::to_value(ItemGroupWire::from(d)).unwrap_or(Value::Null),
                    );
                }
            }
            BRANDS => {
                let mut c = db.collection::<BrandDoc>(BRANDS).find(filter).session(&mut *s).await?;
                while let Some(d) = c.next(&mut *s).await.transpose()? {
                    docs.insert((BRANDS.into(), d.id), serde_json::to_value(BrandWire::from(d)).unwrap_or(Value::Null));
                }
            }
            PRODUCTS => {
                let mut c = db.collection::<ProductDoc>(PRODUCTS).find(filter).session(&mut *s).await?;
                while let Some(d) = c.next(&mut *s).await.transpose()? {
                    docs.insert(
                        (PRODUCTS.into(), d.id),
                        serde_json::to_value(ProductWire::from(d)).unwrap_or(Value::Null),
                    );
                }
            }
            COMPANIES => {
                let mut c = db.collection::<CompanyDoc>(COMPANIES).find(filter).session(&mut *s).await?;
                while let Some(d) = c.next(&mut *s).await.transpose()? {
                    docs.insert(
                        (COMPANIES.into(), d.id),
                        serde_json::to_value(CompanyWire::from(d)).unwrap_or(Value::Null),
                    );
                }
            }
            CREDIT_NOTES => {
                // issue 18: `collection: "creditNotes"`, the shape of the online answer
                let mut c = db.collection::<CreditNoteDoc>(CREDIT_NOTES).find(filter).session(&mut *s).await?;
                while let Some(d) = c.next(&mut *s).await.transpose()? {
                    docs.insert(
                        (CREDIT_NOTES.into(), d.id),
                        serde_json::to_value(CreditNoteWire::from(&d)).unwrap_or(Value::Null),
                    );
                }
            }
            _ => {}
        }
    }
    let changes = rows
        .iter()
        .map(|r| {
            let doc = if r.deleted { None } else { docs.remove(&(r.coll.clone(), r.doc_id)) };
            // the one form of a delete: a document deleted for good, or a deactivated item,
            // reads as a tombstone (`op: "delete"`, `doc: null`)
            let deleted = r.deleted || doc.is_none();
            json!({
                "seq": r.seq,
                "collection": wire_name(&r.coll),
                "id": r.doc_id.to_hex(),
                "op": if deleted { "delete" } else { "upsert" },
                "doc": doc,
            })
        })
        .collect();

    // acknowledge the device's operations whose effects are now visible
    let mut applied_ops = Vec::new();
    let mut rejected_ops = Vec::new();
    let mut ops = db
        .collection::<Document>(crate::sync::ops::OPS)
        .find(doc! { "clientId": client_id, "seq": { "$gt": cursor, "$lte": next_cursor } })
        .projection(doc! { "opId": 1, "status": 1 })
        .session(&mut *s)
        .await?;
    while let Some(o) = ops.next(&mut *s).await.transpose()? {
        let id = o.get_str("opId").unwrap_or_default().to_string();
        if o.get_str("status").unwrap_or_default() == "applied" {
            applied_ops.push(id);
        } else {
            rejected_ops.push(id);
        }
    }
    Ok(Page { changes, next_cursor, has_more, applied_ops, rejected_ops })
}

/// The rows of a page that are their document's latest: the log is append-only on the write
/// path (`changelog::append`), so a document changed twice since `cursor` has two rows. A
/// superseded row is skipped: within the page its document's later row is kept, and when more
/// pages follow (`has_more`), a document with a row after the page is left to that page. So a
/// pull from any cursor returns each document once, as it is now.
async fn latest_only(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    rows: Vec<ChangeRow>,
    has_more: bool,
) -> AppResult<Vec<ChangeRow>> {
    let mut last: HashMap<ObjectId, i64> = HashMap::new();
    for r in &rows {
        last.insert(r.doc_id, r.seq);
    }
    if has_more {
        if let Some(end) = rows.last().map(|r| r.seq) {
            let ids: Vec<ObjectId> = last.keys().copied().collect();
            let mut later = db
                .collection::<Document>(LOG)
                .find(doc! { "clientId": client_id, "docId": { "$in": ids }, "seq": { "$gt": end } })
                .projection(doc! { "docId": 1, "_id": 0 })
                // covered by {clientId, docId, seq} (migration 0011); the planner otherwise may
                // pick {clientId, seq} and fetch every later row to test its docId
                .hint(mongodb::options::Hint::Name("client_doc_seq".into()))
                .session(&mut *s)
                .await?;
            while let Some(d) = later.next(&mut *s).await.transpose()? {
                if let Ok(id) = d.get_object_id("docId") {
                    last.remove(&id);
                }
            }
        }
    }
    Ok(rows.into_iter().filter(|r| last.get(&r.doc_id) == Some(&r.seq)).collect())
}

/// Collection names as the app knows them.
pub fn wire_name(coll: &str) -> &str {
    match coll {
        CUSTOMERS => "clientCustomers",
        GROUPS => "itemGroups",
        CREDIT_NOTES => "creditNotes",
        other => other,
    }
}

/// Every change row of a client (tests and diagnostics).
pub async fn count(db: &Database, client_id: ObjectId) -> AppResult<u64> {
    Ok(db.collection::<ChangeRow>(LOG).count_documents(doc! { "clientId": client_id }).await?)
}
