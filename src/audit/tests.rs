//! Nobody can edit the audit trail (issue 15): a source scan, like
//! `db::tests::tenant_filters_always_name_the_client`. It fails when
//!
//! * any file but `src/audit/repo.rs` names the audit collection, so no other code can open it;
//! * `src/audit/repo.rs` makes any write but its one `insert_one` (no update, replace, delete,
//!   find-and-modify, bulk write, drop, `$out`/`$merge` pipeline), or makes more than one insert;
//! * anywhere in `src/`, a mutating call's statement mentions the audit trail (a handle named
//!   after it, `audit::repo`, ...), or a collection is opened by a name that mentions it;
//! * a migration gives the audit collection a TTL index or an update/drop step.

use std::path::{Path, PathBuf};

/// The collection's name, spelled so this file does not match its own scan.
const NAME: &str = concat!("audit", "log");

/// Calls that change or remove stored documents (or the collection).
const MUTATING: [&str; 12] = [
    ".update_one(",
    ".update_many(",
    ".replace_one(",
    ".delete_one(",
    ".delete_many(",
    ".find_one_and_update(",
    ".find_one_and_replace(",
    ".find_one_and_delete(",
    ".bulk_write(",
    ".drop(",
    ".drop_index",
    ".rename_collection(",
];

/// Aggregation stages that write.
const WRITING_STAGES: [&str; 2] = ["$out", "$merge"];

const REPO: &str = "src/audit/repo.rs";
const THIS: &str = "src/audit/tests.rs";

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            walk(&p, files);
        } else if p.extension().is_some_and(|e| e == "rs") {
            files.push(p);
        }
    }
}

/// The text of the statement that ends at `at`: back to the previous `;`, `{` or `}` (at
/// most 400 bytes), so `db.collection::<Document>("x")\n    .delete_many(..)` is one statement.
fn statement_before(src: &str, at: usize) -> &str {
    let mut b = at.saturating_sub(400);
    while !src.is_char_boundary(b) {
        b += 1;
    }
    let window = &src[b..at];
    let start = window.rfind([';', '{', '}']).map(|i| i + 1).unwrap_or(0);
    &window[start..]
}

/// Problems in one file's text (`rel` is its path from the crate root).
fn problems(rel: &str, src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let quoted = format!("\"{NAME}\"");
    if rel != REPO && src.contains(&quoted) {
        out.push(format!("{rel}: names the audit collection {quoted}; only {REPO} may (call audit::record)"));
    }
    // opening a collection whose name is built from "audit" (e.g. `format!("audit{}", "log")`)
    if rel != REPO {
        let mut from = 0;
        while let Some(i) = src[from..].find(".collection") {
            let at = from + i;
            from = at + 11;
            let rest = &src[at..];
            let arg = rest.find('(').and_then(|o| rest[o..].find(')').map(|c| &rest[o..o + c])).unwrap_or("");
            if arg.to_ascii_lowercase().contains("audit") {
                let line = src[..at].lines().count();
                out.push(format!("{rel}:{line}: opens the audit collection ({arg})); only {REPO} may"));
            }
        }
    }
    if rel == REPO {
        for m in MUTATING {
            if src.contains(m) {
                out.push(format!("{rel}: `{m}` on the append-only audit log"));
            }
        }
        for s in WRITING_STAGES {
            if src.contains(&format!("\"{s}\"")) {
                out.push(format!("{rel}: a `{s}` stage writes"));
            }
        }
        if src.contains(".insert_many(") {
            out.push(format!("{rel}: insert_many (entries are inserted one by one by `insert`)"));
        }
        let inserts = src.matches(".insert_one(").count();
        // one insert call, written once with and once without the caller's session
        if inserts > 2 {
            out.push(format!("{rel}: {inserts} insert_one calls; the only write is `insert`"));
        }
    }
    for m in MUTATING {
        let mut from = 0;
        while let Some(i) = src[from..].find(m) {
            let at = from + i;
            from = at + m.len();
            let stmt = statement_before(src, at).to_ascii_lowercase();
            if stmt.contains("audit") {
                let line = src[..at].lines().count();
                out.push(format!("{rel}:{line}: `{m}` on the audit trail: {}", stmt.trim()));
            }
        }
    }
    out
}

#[test]
fn the_scanner_flags_writes_to_the_audit_log() {
    let q = format!("\"{NAME}\"");
    // another module opening the collection
    assert_eq!(problems("src/billing/repo.rs", &format!("db.collection::<Document>({q}).insert_one(d)")).len(), 2);
    assert_eq!(problems("src/billing/repo.rs", &format!("const C: &str = {q};")).len(), 1);
    // a mutating call on a handle named after the trail, anywhere
    let bad = "let audit_coll = audit::repo::handle(db);\naudit_coll\n    .delete_many(doc! {})\n    .await?;";
    assert_eq!(problems("src/staff/service.rs", bad).len(), 1);
    assert_eq!(problems("src/x.rs", "audit_log.find_one_and_update(f, u).await").len(), 1);
    // a collection name built at run time
    let built = "let c = db.collection::<Document>(&format!(\"audit{}\", \"log\"));\nlet _ = c.update_one(f, u).await;";
    assert_eq!(problems("src/catalog/handlers.rs", built).len(), 1);
    // the repository: anything but its insert
    let repo_bad = "coll(db).insert_one(d).await?; coll(db).update_one(f, u).await?;";
    assert_eq!(problems(REPO, repo_bad).len(), 1);
    assert_eq!(problems(REPO, r#"coll(db).aggregate(vec![doc! { "$out": "x" }])"#).len(), 1);
    assert_eq!(problems(REPO, "coll(db).insert_many(v)").len(), 1);
    // and passes the allowed forms
    assert!(
        problems(REPO, &format!("const C: &str = {q};\ncoll(db).insert_one(d).await?; coll(db).find(f)")).is_empty()
    );
    assert!(problems("src/catalog/repo.rs", "items.update_one(f, u).await?; audit::record(db, Some(s), &e).await?;")
        .is_empty());
}

#[test]
fn nothing_but_the_audit_insert_writes_the_audit_log() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    assert!(files.len() > 50, "the scan must see the sources ({} files)", files.len());
    let mut found = Vec::new();
    let mut saw_repo = false;
    for f in files {
        let rel = f.strip_prefix(root).unwrap_or(&f).to_string_lossy().replace('\\', "/");
        if rel == THIS {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        if rel == REPO {
            saw_repo = true;
            assert!(text.contains(&format!("\"{NAME}\"")), "{REPO} no longer names the collection");
            assert_eq!(text.matches(".insert_one(").count(), 2, "{REPO}: the insert (with and without a session)");
        }
        found.extend(problems(&rel, &text));
    }
    assert!(saw_repo, "{REPO} not scanned");
    assert!(found.is_empty(), "the audit log is append-only:\n{}", found.join("\n"));
}

#[test]
fn no_migration_expires_or_rewrites_the_audit_log() {
    let mut defined = false;
    for m in crate::db::migrations::MIGRATIONS {
        let spec: serde_json::Value = serde_json::from_str(m.source).unwrap();
        if let Some(def) = spec["collections"].get(NAME) {
            defined = true;
            for idx in def.get("indexes").and_then(|i| i.as_array()).into_iter().flatten() {
                assert!(idx.get("expireAfterSeconds").is_none(), "{}: a TTL index on {NAME}: {idx}", m.name);
            }
        }
        for u in spec.get("updates").and_then(|u| u.as_array()).into_iter().flatten() {
            assert_ne!(u["collection"], NAME, "{}: an update step on {NAME}", m.name);
        }
        assert!(spec.get("dropIndexes").and_then(|d| d.get(NAME)).is_none(), "{}: drops an index of {NAME}", m.name);
    }
    assert!(defined, "no migration defines {NAME}");
}
