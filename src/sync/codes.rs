//! v2 sale lines by scanned code (issue 16): a `invoice create` product line may name its item
//! by `code` (a barcode or SKU as printed, or a packing unit's barcode) instead of
//! `productId`, as the scan-to-bill lookup reads it (`catalog::repo::find_by_codes`: the key of
//! `barcode::key`, one indexed read for the whole push). Before the push is parsed, each such
//! line gets the item's `productId`, and a unit barcode also its `unitId` (unless the line
//! names a unit); a code no item of the shop holds stays, and the parser rejects that
//! operation naming `products[i].code`. Only the shop's own items are found (`clientId` in the
//! filter), so a code never reaches another shop's item.

use std::collections::HashMap;

use bson::oid::ObjectId;
use mongodb::Database;
use serde_json::Value;

use crate::error::AppResult;

/// The product lines of the `invoice create` operations in `raw` that name a `code` and no
/// `productId` / `productOpId`.
fn coded_lines(raw: &mut [Value]) -> Vec<&mut serde_json::Map<String, Value>> {
    let mut out = Vec::new();
    for op in raw.iter_mut() {
        let is_sale = op.get("entity").and_then(Value::as_str) == Some("invoice")
            && op.get("kind").and_then(Value::as_str) == Some("create");
        if !is_sale {
            continue;
        }
        let Some(lines) = op.pointer_mut("/payload/products").and_then(Value::as_array_mut) else { continue };
        for line in lines.iter_mut().filter_map(Value::as_object_mut) {
            let named = ["productId", "productOpId"].iter().any(|k| line.get(*k).is_some_and(|v| !v.is_null()));
            if !named && line.get("code").and_then(Value::as_str).is_some_and(|c| !c.trim().is_empty()) {
                out.push(line);
            }
        }
    }
    out
}

/// Resolve the coded lines of a push (see the module docs). One read of the shop's items by
/// code; nothing is written.
pub async fn resolve(db: &Database, client_id: ObjectId, raw: &mut [Value]) -> AppResult<()> {
    let mut lines = coded_lines(raw);
    if lines.is_empty() {
        return Ok(());
    }
    let mut keys: Vec<String> =
        lines.iter().filter_map(|l| l.get("code").and_then(Value::as_str)).map(crate::barcode::key).collect();
    keys.sort();
    keys.dedup();
    // key -> (item, the unit whose barcode it is)
    let mut found: HashMap<String, (ObjectId, Option<ObjectId>)> = HashMap::new();
    for item in crate::catalog::repo::find_by_codes(db, client_id, &keys).await? {
        for k in item.details.code_keys() {
            found.insert(k, (item.id, None));
        }
        for u in &item.details.units {
            if let Some(b) = u.barcode.as_deref() {
                found.insert(crate::barcode::key(b), (item.id, Some(u.unit_id)));
            }
        }
    }
    for line in lines.iter_mut() {
        let key = line.get("code").and_then(Value::as_str).map(crate::barcode::key).unwrap_or_default();
        let Some((item, unit)) = found.get(&key) else { continue };
        line.remove("code");
        line.insert("productId".into(), Value::String(item.to_hex()));
        let unit_named = line.get("unitId").is_some_and(|v| !v.is_null());
        if let (Some(u), false) = (unit, unit_named) {
            line.insert("unitId".into(), Value::String(u.to_hex()));
        }
    }
    Ok(())
}
