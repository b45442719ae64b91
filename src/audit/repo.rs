//! The `auditlog` collection: the ONLY code that names it. It inserts (one `insert_one`,
//! [`insert`]) and reads ([`find`], [`count`]); there is no update, replace or delete of an
//! entry anywhere in the code (`audit::tests::nothing_but_the_audit_insert_writes_the_audit_log`
//! scans the sources), and the collection has no TTL index (kept at least 72 months, GST
//! section 36).

use bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use mongodb::{ClientSession, Collection, Cursor, Database};

use crate::{
    audit::model::{Action, Approver, Change, Entry, Who},
    db::migrations::to_bson,
    error::AppResult,
    window::Window,
};

/// The collection's name (private: no other module may open it).
const COLLECTION: &str = "auditlog";

fn coll(db: &Database) -> Collection<Document> {
    db.collection::<Document>(COLLECTION)
}

/// Insert one entry, inside the caller's transaction when `session` is given. The only write.
pub async fn insert(db: &Database, session: Option<&mut ClientSession>, entry: &Entry) -> AppResult<()> {
    let d = to_document(entry);
    match session {
        Some(s) => coll(db).insert_one(d).session(s).await?,
        None => coll(db).insert_one(d).await?,
    };
    Ok(())
}

/// The stored document of an entry:
/// `{_id, clientId, at, who: {userId, name, role, sessionId?, deviceId?}, action, entity,
/// entityId?, changes: [{field, before, after}], reason?, approver?: {userId, name, role}, flagged}`.
fn to_document(e: &Entry) -> Document {
    let w = e.who();
    let mut who = doc! { "userId": &w.user_id, "name": &w.name, "role": &w.role };
    if let Some(s) = &w.session_id {
        who.insert("sessionId", s);
    }
    if let Some(d) = &w.device_id {
        who.insert("deviceId", d);
    }
    let changes: Vec<Bson> = e
        .changes()
        .iter()
        .map(|c| Bson::Document(doc! { "field": &c.field, "before": to_bson(&c.before), "after": to_bson(&c.after) }))
        .collect();
    let mut d = doc! {
        "_id": e.id(),
        "clientId": e.client_id(),
        "at": e.at(),
        "who": who,
        "action": e.action().as_str(),
        "entity": e.entity(),
    };
    if let Some(id) = e.entity_id() {
        d.insert("entityId", id);
    }
    d.insert("changes", changes);
    if let Some(r) = e.reason() {
        d.insert("reason", r);
    }
    if let Some(a) = e.approver() {
        d.insert("approver", doc! { "userId": &a.user_id, "name": &a.name, "role": &a.role });
    }
    d.insert("flagged", e.flagged());
    d
}

/// The filters of `GET /api/audit` (all optional; the shop is always the token's).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub window: Window,
    pub user_id: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<Action>,
    pub flagged: Option<bool>,
}

fn filter(client_id: ObjectId, f: &Filter) -> Document {
    let mut d = doc! { "clientId": client_id };
    d.extend(f.window.filter("at"));
    if let Some(u) = &f.user_id {
        d.insert("who.userId", u);
    }
    if let Some(e) = &f.entity {
        d.insert("entity", e);
    }
    if let Some(id) = &f.entity_id {
        d.insert("entityId", id);
    }
    if let Some(a) = f.action {
        d.insert("action", a.as_str());
    }
    if let Some(fl) = f.flagged {
        d.insert("flagged", fl);
    }
    d
}

/// The shop's entries matching `f`, newest first (`at` then `_id`, both descending, so pages
/// are stable); `page` = `(limit, offset)`, `None` = every entry (CSV streams them).
pub async fn find(
    db: &Database,
    client_id: ObjectId,
    f: &Filter,
    page: Option<(i64, i64)>,
) -> AppResult<Cursor<Document>> {
    let c = coll(db);
    let q = c.find(filter(client_id, f)).sort(doc! { "at": -1, "_id": -1 });
    Ok(match page {
        Some((limit, offset)) => q.skip(u64::try_from(offset).unwrap_or(0)).limit(limit).await?,
        None => q.await?,
    })
}

/// How many of the shop's entries match `f`.
pub async fn count(db: &Database, client_id: ObjectId, f: &Filter) -> AppResult<i64> {
    let n = coll(db).count_documents(filter(client_id, f)).await?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A stored entry read back (tolerant: a missing field reads as empty).
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub at: DateTime,
    pub who: Who,
    /// The stored action name (kept as text: an action added later still reads).
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub changes: Vec<Change>,
    pub reason: Option<String>,
    pub approver: Option<Approver>,
    pub flagged: bool,
}

fn s(d: &Document, k: &str) -> String {
    d.get_str(k).unwrap_or_default().to_string()
}

fn opt(d: &Document, k: &str) -> Option<String> {
    d.get_str(k).ok().map(str::to_string)
}

/// Read a stored document (see [`to_document`]).
pub fn from_document(d: &Document) -> Stored {
    let who = d.get_document("who").cloned().unwrap_or_default();
    Stored {
        id: d.get_object_id("_id").unwrap_or_default(),
        client_id: d.get_object_id("clientId").unwrap_or_default(),
        at: d.get_datetime("at").copied().unwrap_or(DateTime::MIN),
        who: Who {
            user_id: s(&who, "userId"),
            name: s(&who, "name"),
            role: s(&who, "role"),
            session_id: opt(&who, "sessionId"),
            device_id: opt(&who, "deviceId"),
        },
        action: s(d, "action"),
        entity: s(d, "entity"),
        entity_id: opt(d, "entityId"),
        changes: d
            .get_array("changes")
            .map(|a| {
                a.iter()
                    .filter_map(Bson::as_document)
                    .map(|c| Change {
                        field: s(c, "field"),
                        before: c.get("before").cloned().unwrap_or(Bson::Null).into_relaxed_extjson(),
                        after: c.get("after").cloned().unwrap_or(Bson::Null).into_relaxed_extjson(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        reason: opt(d, "reason"),
        approver: d.get_document("approver").ok().map(|a| Approver {
            user_id: s(a, "userId"),
            name: s(a, "name"),
            role: s(a, "role"),
        }),
        flagged: d.get_bool("flagged").unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::audit::model::{changes, Action, Entry};

    #[test]
    fn an_entry_round_trips_through_its_stored_document() {
        let c = ObjectId::new();
        let who = Who::new("u7", "Meena", "manager").session("s9").device("tab-1");
        let e = Entry::builder(c, who.clone(), Action::PriceOverride, "invoices")
            .entity_id("inv-1")
            .changes(changes(&json!({ "price": 5000 }), &json!({ "price": 4500, "x": [1, "a"] }), &["price", "x"]))
            .reason("old stock, slight damage")
            .approver(Approver::new("u1", "Asha", "super_admin"))
            .build()
            .unwrap();
        let d = to_document(&e);
        assert_eq!(d.get_str("action").unwrap(), "price_override");
        assert_eq!(d.get_document("who").unwrap().get_str("sessionId").unwrap(), "s9");
        // integers stay integers in BSON (money in paise)
        let ch = d.get_array("changes").unwrap()[0].as_document().unwrap();
        assert_eq!(ch.get("before"), Some(&Bson::Int32(5000)));
        let back = from_document(&d);
        assert_eq!(
            (back.id, back.client_id, back.at, &back.who, back.action.as_str(), back.entity.as_str()),
            (e.id(), c, e.at(), &who, "price_override", "invoices")
        );
        assert_eq!(back.entity_id.as_deref(), Some("inv-1"));
        assert_eq!(back.changes, e.changes());
        assert_eq!(back.reason.as_deref(), Some("old stock, slight damage"));
        assert_eq!(back.approver.as_ref(), e.approver());
        assert!(!back.flagged);
        // optional parts are absent, not null
        let bare =
            to_document(&Entry::builder(c, Who::new("u", "n", "r"), Action::Login, "devicesessions").build().unwrap());
        for k in ["entityId", "reason", "approver"] {
            assert!(!bare.contains_key(k), "{k}");
        }
        assert!(!bare.get_document("who").unwrap().contains_key("sessionId"));
    }
}
