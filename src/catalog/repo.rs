//! Repository of `itemgroups`, `items` (and the dealer ownership check). Every filter
//! carries the token's `clientId`.

use bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use futures::TryStreamExt;
use mongodb::{
    options::{Collation, CollationStrength},
    ClientSession, Collection, Database,
};

use crate::{
    access::By,
    catalog::{
        command::ItemPatch,
        decide::{Folded, ItemPlan, Refs, StockMove},
        model::{ItemDoc, ItemGroupDoc},
        stock,
    },
    changelog,
    error::{code, is_duplicate_key, AppError},
};

pub fn groups(db: &Database) -> Collection<ItemGroupDoc> {
    db.collection("itemgroups")
}

pub fn items(db: &Database) -> Collection<ItemDoc> {
    db.collection("items")
}

/// The collation of the unique group-name index (case-insensitive English).
pub fn name_collation() -> Collation {
    Collation::builder().locale("en").strength(CollationStrength::Secondary).build()
}

fn group_conflict(e: mongodb::error::Error) -> AppError {
    if is_duplicate_key(&e) {
        AppError::conflict(code::DUPLICATE, "An item group with this name already exists")
    } else {
        e.into()
    }
}

pub async fn insert_group(db: &Database, s: &mut ClientSession, g: &ItemGroupDoc) -> Result<(), AppError> {
    groups(db).insert_one(g).session(&mut *s).await.map_err(group_conflict)?;
    crate::changelog::append(db, s, g.client_id, &[(crate::changelog::GROUPS, g.id, false)]).await?;
    Ok(())
}

/// Whether `id` is a main category of the shop (a group without a parent), checked by writing
/// it (`usedAt`) inside the caller's transaction, so a concurrent delete of it, or its move
/// under another group, conflicts with this transaction.
pub async fn touch_main_group(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<bool, AppError> {
    let r = groups(db)
        .update_one(
            doc! { "_id": id, "clientId": client_id, "parentId": { "$in": [Bson::Null] } },
            doc! { "$set": { "usedAt": DateTime::now() } },
        )
        .session(s)
        .await?;
    Ok(r.matched_count == 1)
}

/// How many sub categories the group `id` has (inside the caller's transaction).
pub async fn count_subgroups(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<u64, AppError> {
    Ok(groups(db).count_documents(doc! { "clientId": client_id, "parentId": id }).session(s).await?)
}

pub async fn list_groups(db: &Database, client_id: ObjectId) -> Result<Vec<ItemGroupDoc>, AppError> {
    let cur = groups(db)
        .find(doc! { "clientId": client_id })
        .sort(doc! { "name": 1, "_id": 1 })
        .collation(name_collation())
        .await?;
    Ok(cur.try_collect().await?)
}

/// The variants of product `product` (items naming it with `variantOf`), by name; active ones
/// unless `all`.
pub async fn variants_of(
    db: &Database,
    client_id: ObjectId,
    product: ObjectId,
    all: bool,
) -> Result<Vec<ItemDoc>, AppError> {
    let mut filter = doc! { "clientId": client_id, "variantOf": product };
    if !all {
        filter.insert("isActive", true);
    }
    Ok(items(db).find(filter).sort(doc! { "name": 1, "_id": 1 }).await?.try_collect().await?)
}

/// One of the client's groups, read in the caller's transaction.
pub async fn find_group(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Option<ItemGroupDoc>, AppError> {
    Ok(groups(db).find_one(doc! { "_id": id, "clientId": client_id }).session(s).await?)
}

/// `$set` validated fields (plus `updatedAt`); `None` when the group is not this client's.
pub async fn update_group(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
    set: Document,
) -> Result<Option<ItemGroupDoc>, AppError> {
    crate::catalog::refs::update_logged(db, s, crate::changelog::GROUPS, client_id, id, set, group_conflict).await
}

pub async fn group_exists(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<bool, AppError> {
    Ok(groups(db).count_documents(doc! { "_id": id, "clientId": client_id }).session(s).await? > 0)
}

/// Delete the group and ungroup its items (call inside a transaction). `None` when the
/// group is not this client's; otherwise the ids of the items ungrouped (read in the
/// transaction's snapshot, so they are exactly the ones the update changed).
pub async fn delete_group(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Option<Vec<ObjectId>>, AppError> {
    let r = groups(db).delete_one(doc! { "_id": id, "clientId": client_id }).session(&mut *s).await?;
    if r.deleted_count == 0 {
        return Ok(None);
    }
    crate::changelog::append(db, s, client_id, &[(crate::changelog::GROUPS, id, true)]).await?;
    crate::catalog::product::repo::ungroup(db, s, client_id, id).await?;
    let filter = doc! { "clientId": client_id, "groupId": id };
    let mut cur = items(db)
        .clone_with_type::<Document>()
        .find(filter.clone())
        .projection(doc! { "_id": 1 })
        .session(&mut *s)
        .await?;
    let mut ids = Vec::new();
    while let Some(d) = cur.next(&mut *s).await.transpose()? {
        if let Ok(i) = d.get_object_id("_id") {
            ids.push(i);
        }
    }
    items(db)
        .update_many(
            filter,
            doc! { "$set": { "groupId": Bson::Null, "updatedAt": DateTime::now() }, "$inc": { "__v": 1 } },
        )
        .session(&mut *s)
        .await?;
    Ok(Some(ids))
}

/// How many of `ids` are dealers of this client (active or not).
pub async fn count_dealers(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    ids: &[ObjectId],
) -> Result<u64, AppError> {
    Ok(db
        .collection::<Document>("dealers")
        .count_documents(doc! { "_id": { "$in": ids }, "clientId": client_id })
        .session(s)
        .await?)
}

pub async fn insert_item(db: &Database, s: &mut ClientSession, item: &ItemDoc) -> Result<(), AppError> {
    items(db).insert_one(item).session(s).await.map_err(code_taken)?;
    Ok(())
}

pub async fn find_item(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
) -> Result<Option<ItemDoc>, AppError> {
    Ok(items(db).find_one(doc! { "_id": id, "clientId": client_id }).session(s).await?)
}

/// Item list filter, built by the service from validated input.
#[derive(Debug, Default)]
pub struct ItemFilter {
    /// `None` = active and inactive.
    pub is_active: Option<bool>,
    pub group_id: Option<ObjectId>,
    /// Only items of these brands (`brandId`, or the brands of `companyId`): naming one, or
    /// without a brand of their own and a variant of one of `brand_products` (issue 16).
    pub brand_ids: Option<Vec<ObjectId>>,
    /// The products of `brand_ids` (their variants take the product's brand).
    pub brand_products: Vec<ObjectId>,
    /// Already regex-escaped pattern (case-insensitive).
    pub name_pattern: Option<String>,
    /// Only items after this id (cursor paging, ascending `_id`).
    pub after: Option<ObjectId>,
}

/// The items of brands `brands`: naming one, or with no brand of their own and a variant of
/// one of `products` (the brands' products).
pub fn brand_scope(brands: &[ObjectId], products: &[ObjectId]) -> Vec<Document> {
    let mut or = vec![doc! { "brandId": { "$in": brands } }];
    if !products.is_empty() {
        or.push(doc! { "brandId": { "$in": [Bson::Null] }, "variantOf": { "$in": products } });
    }
    or
}

/// The ids of the items of brands `brands` ([`brand_scope`]), for reports filtered by brand.
pub async fn item_ids_of_brands(
    db: &Database,
    client_id: ObjectId,
    brands: &[ObjectId],
    products: &[ObjectId],
) -> Result<Vec<ObjectId>, AppError> {
    let filter = doc! { "clientId": client_id, "$or": brand_scope(brands, products) };
    let docs: Vec<Document> =
        items(db).clone_with_type::<Document>().find(filter).projection(doc! { "_id": 1 }).await?.try_collect().await?;
    Ok(docs.iter().filter_map(|d| d.get_object_id("_id").ok()).collect())
}

pub async fn list_items(
    db: &Database,
    client_id: ObjectId,
    f: &ItemFilter,
    limit: Option<i64>,
) -> Result<Vec<ItemDoc>, AppError> {
    let mut filter = doc! { "clientId": client_id };
    if let Some(a) = f.is_active {
        filter.insert("isActive", a);
    }
    if let Some(g) = f.group_id {
        filter.insert("groupId", g);
    }
    if let Some(b) = &f.brand_ids {
        filter.insert("$or", brand_scope(b, &f.brand_products));
    }
    if let Some(p) = &f.name_pattern {
        filter.insert("name", doc! { "$regex": p, "$options": "i" });
    }
    if let Some(a) = f.after {
        filter.insert("_id", doc! { "$gt": a });
    }
    let coll = items(db);
    let mut find = coll.find(filter).sort(doc! { "_id": 1 });
    if let Some(l) = limit {
        find = find.limit(l);
    }
    Ok(find.await?.try_collect().await?)
}

// ---------------------------------------------------------------- the write path

/// The items of the shop holding any of these code keys: `(key, holder)` (one indexed read on
/// `uniq_client_code`).
pub async fn code_holders(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    keys: &[String],
) -> Result<Vec<(String, ObjectId)>, AppError> {
    if keys.is_empty() {
        return Ok(vec![]);
    }
    let mut cur = items(db)
        .clone_with_type::<Document>()
        .find(code_filter(client_id, keys))
        .projection(doc! { "_id": 1, "codes": 1 })
        .session(&mut *s)
        .await?;
    let mut out = Vec::new();
    while let Some(d) = cur.next(&mut *s).await.transpose()? {
        let Ok(id) = d.get_object_id("_id") else { continue };
        for c in d.get_array("codes").into_iter().flatten().filter_map(Bson::as_str) {
            if keys.iter().any(|k| k == c) {
                out.push((c.to_string(), id));
            }
        }
    }
    Ok(out)
}

/// What an item command names besides the item: its group, brand, product (`variantOf`),
/// dealers and the code keys it sets.
#[derive(Debug, Clone, Default)]
pub struct Named {
    pub group: Option<ObjectId>,
    pub brand: Option<ObjectId>,
    pub product: Option<ObjectId>,
    pub dealers: Vec<ObjectId>,
    pub codes: Vec<String>,
}

impl Named {
    /// What a create names.
    pub fn of_create(cmd: &crate::catalog::command::CreateItem) -> Named {
        Named {
            group: cmd.item.group_id,
            brand: cmd.item.brand_id,
            product: cmd.item.details.variant_of,
            dealers: cmd.dealer_ids.clone(),
            codes: cmd.item.details.code_keys(),
        }
    }

    /// What an edit names.
    pub fn of_update(cmd: &crate::catalog::command::UpdateItem) -> Named {
        Named {
            group: cmd.patch.group(),
            brand: cmd.patch.brand(),
            product: cmd.patch.details.product(),
            dealers: cmd.patch.dealer_ids.clone().unwrap_or_default(),
            codes: cmd.patch.details.sent_keys(),
        }
    }
}

/// Load what an item command names besides the item (inside the caller's transaction):
/// whether its group, brand and product are the shop's (the brand and product are written,
/// `usedAt`, so a concurrent delete of one conflicts with this write), how many of its dealers
/// are the shop's, which items already hold the code keys it sets.
pub async fn load_refs(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    named: &Named,
) -> Result<Refs, AppError> {
    let Named { group, brand, product, dealers, codes } = named;
    let (group, brand, product) = (*group, *brand, *product);
    let group_found = match group {
        Some(g) => group_exists(db, &mut *s, client_id, g).await?,
        None => true,
    };
    let brand_found = match brand {
        Some(b) => crate::catalog::brand::repo::touch_brands(db, &mut *s, client_id, &[b]).await? == 1,
        None => true,
    };
    let product_found = match product {
        Some(p) => crate::catalog::product::repo::touch(db, &mut *s, client_id, &[p]).await? == 1,
        None => true,
    };
    let dealers_found =
        if dealers.is_empty() { 0 } else { count_dealers(db, &mut *s, client_id, dealers).await? as usize };
    let codes_held = code_holders(db, &mut *s, client_id, codes).await?;
    // packing units are loaded by the caller that declares them (`catalog::unit::repo::touch`)
    Ok(Refs { group_found, brand_found, product_found, dealers_found, codes_held, units: vec![] })
}

/// The `$set` of the fields an edit sends (stored names; money in paise).
pub fn patch_set(p: &ItemPatch) -> Document {
    let mut set = Document::new();
    if let Some(v) = &p.name {
        set.insert("name", v.as_str());
    }
    if let Some(v) = p.price {
        set.insert("price", v.as_i64());
    }
    if let Some(v) = p.low_stock_quantity {
        set.insert("lowStockQuantity", v);
    }
    if let Some(v) = &p.unit {
        set.insert("unit", v.as_str());
    }
    if let Some(v) = &p.description {
        set.insert("description", v.as_str());
    }
    if let Some(v) = p.brand_id {
        set.insert("brandId", v.map_or(Bson::Null, Bson::ObjectId));
    }
    if let Some(v) = p.group_id {
        set.insert("groupId", v.map_or(Bson::Null, Bson::ObjectId));
    }
    if let Some(v) = &p.dealer_ids {
        set.insert("dealerIds", v.clone());
    }
    details_set(&p.details, &mut set);
    set
}

/// The stored fields of the code/attribute/MRP edits (a cleared field is set to null, an
/// emptied `codes` to `[]`, which the partial index `uniq_client_code` leaves out).
fn details_set(d: &crate::catalog::rules::DetailsPatch, set: &mut Document) {
    let opt = |v: &Option<String>| v.as_deref().map_or(Bson::Null, |s| Bson::String(s.to_string()));
    if let Some(v) = &d.sku {
        set.insert("sku", opt(v));
    }
    if let Some(v) = &d.barcode {
        set.insert("barcode", v.as_ref().map_or(Bson::Null, |b| Bson::String(b.0.clone())));
        let kind = v.as_ref().map(|b| bson::to_bson(&b.1).unwrap_or(Bson::Null)).unwrap_or(Bson::Null);
        set.insert("barcodeType", kind);
    }
    if let Some(v) = &d.color {
        set.insert("color", opt(v));
    }
    if let Some(v) = &d.size {
        set.insert("size", opt(v));
    }
    if let Some(v) = &d.line_type {
        set.insert("lineType", opt(v));
    }
    if let Some(v) = &d.extra {
        let m: Document = v.iter().map(|(k, v)| (k.clone(), Bson::String(v.clone()))).collect();
        set.insert("extra", m);
    }
    if let Some(v) = d.mrp {
        set.insert("mrp", v.map_or(Bson::Null, |p| Bson::Int64(p.as_i64())));
    }
    if let Some(v) = d.has_expiry {
        set.insert("hasExpiry", v);
    }
    if let Some(v) = &d.image_url {
        set.insert("imageUrl", opt(v));
    }
    if let Some(v) = &d.codes {
        set.insert("codes", v.clone());
    }
    if let Some(v) = d.base_unit_id {
        set.insert("baseUnitId", v.map_or(Bson::Null, Bson::ObjectId));
    }
    if let Some(v) = &d.units {
        set.insert("units", bson::to_bson(v).unwrap_or_else(|_| Bson::Array(vec![])));
    }
    if let Some(v) = &d.tax_set {
        set.insert("tax", tax_bson(v.as_ref()));
    }
    if let Some(v) = d.variant_of {
        set.insert("variantOf", v.map_or(Bson::Null, Bson::ObjectId));
    }
}

/// A tax code as stored (`null` for none).
pub fn tax_bson(t: Option<&crate::catalog::tax::TaxCode>) -> Bson {
    t.and_then(|t| bson::to_bson(t).ok()).unwrap_or(Bson::Null)
}

/// A write the unique index `uniq_client_code` refused (a race the loader could not see):
/// 409 `DUPLICATE`; any other error as it is.
pub fn code_taken(e: mongodb::error::Error) -> AppError {
    if is_duplicate_key(&e) {
        AppError::conflict(code::DUPLICATE, "The SKU or barcode already names another item of this shop")
    } else {
        e.into()
    }
}

fn changed_meanwhile() -> AppError {
    AppError::conflict(code::CONFLICT, "The item changed meanwhile; please retry")
}

/// Apply a stock move of a plan through the shared primitive (guarded, recorded as moved
/// `by` the plan's user).
async fn move_stock(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    m: &StockMove,
    by: Option<&By>,
) -> Result<(), AppError> {
    let mv = stock::Move {
        client_id,
        item_id: m.item_id,
        delta: m.delta,
        allow_negative: true,
        reason: m.reason,
        ref_id: None,
        by: by.cloned(),
    };
    match stock::apply_noted(db, s, &mv, m.note.as_deref()).await? {
        stock::Moved::Done => Ok(()),
        stock::Moved::OutOfRange => Err(crate::limits::stock_out_of_range("stock")),
        _ => Err(changed_meanwhile()),
    }
}

/// Write `plan` inside the caller's transaction (the update is guarded by the version it was
/// decided on) WITHOUT the change log; returns the change-log row it needs, for a caller that
/// appends the rows of several writes at once (v1 `/api/sync`).
pub async fn write(
    db: &Database,
    s: &mut ClientSession,
    plan: &ItemPlan,
) -> Result<(&'static str, ObjectId, bool), AppError> {
    let after = plan.after();
    let (client_id, id) = (after.client_id, after.id);
    match plan {
        ItemPlan::Insert { item, opening, .. } => {
            // opening stock enters through the shared primitive, so it is recorded too
            let doc = ItemDoc { stock: 0, ..item.clone() };
            insert_item(db, s, &doc).await?;
            if let Some(m) = opening {
                move_stock(db, s, client_id, m, plan.by()).await?;
            }
        }
        ItemPlan::Update { version, patch, stock, after, .. } => {
            let mut set = patch_set(patch);
            set.insert("updatedAt", after.updated_at);
            let r = items(db)
                .update_one(
                    doc! { "_id": id, "clientId": client_id, "__v": version },
                    doc! { "$set": set, "$inc": { "__v": 1 } },
                )
                .session(&mut *s)
                .await
                .map_err(code_taken)?;
            if r.matched_count != 1 {
                return Err(changed_meanwhile());
            }
            if let Some(m) = stock {
                move_stock(db, s, client_id, m, plan.by()).await?;
            }
        }
        ItemPlan::Deactivate { version, after } => {
            let r = items(db)
                .update_one(
                    doc! { "_id": id, "clientId": client_id, "__v": version },
                    doc! { "$set": { "isActive": false, "updatedAt": after.updated_at }, "$inc": { "__v": 1 } },
                )
                .session(&mut *s)
                .await?;
            if r.matched_count != 1 {
                return Err(changed_meanwhile());
            }
        }
    }
    Ok(plan.change())
}

/// Apply `plan` inside the caller's transaction: the guarded writes and, in the same
/// transaction, the change-log row the pull reads (a delete is logged as `deleted: true`).
pub async fn apply(db: &Database, s: &mut ClientSession, plan: &ItemPlan) -> Result<(), AppError> {
    let change = write(db, s, plan).await?;
    changelog::append(db, s, plan.after().client_id, &[change]).await?;
    Ok(())
}

/// Insert the items a push created (one round trip; their opening stock is recorded by the
/// caller's movements).
pub async fn insert_many(db: &Database, s: &mut ClientSession, new: &[&ItemDoc]) -> Result<(), AppError> {
    if !new.is_empty() {
        items(db).insert_many(new.iter().copied()).session(s).await.map_err(code_taken)?;
    }
    Ok(())
}

/// Write the folded edits of one existing item in a push (one update: the fields sent,
/// deactivation, stock by its delta, `__v` by the number of edits). `false`: the item is not
/// there any more.
pub async fn write_folded(
    db: &Database,
    s: &mut ClientSession,
    client_id: ObjectId,
    id: ObjectId,
    f: &Folded,
    now: DateTime,
) -> Result<bool, AppError> {
    let mut set = patch_set(&f.patch);
    if f.deactivated {
        set.insert("isActive", false);
    }
    set.insert("updatedAt", now);
    let update = doc! { "$set": set, "$inc": { "stock": f.stock_delta, "__v": f.edits } };
    let r =
        items(db).update_one(doc! { "_id": id, "clientId": client_id }, update).session(s).await.map_err(code_taken)?;
    Ok(r.matched_count == 1)
}

// ---------------------------------------------------------------- lookup by code

/// The items of the shop holding any of `keys` (at most 2 keys; one indexed read on
/// `uniq_client_code`). Active and deactivated items alike (a deactivated item keeps its
/// codes; the answer says `isActive`).
pub async fn find_by_codes(db: &Database, client_id: ObjectId, keys: &[String]) -> Result<Vec<ItemDoc>, AppError> {
    Ok(items(db).find(code_filter(client_id, keys)).limit(keys.len() as i64).await?.try_collect().await?)
}

/// The items of the shop holding any of `keys`: the filter of every read by code, served by
/// the partial index `uniq_client_code` (a test explains it). The `$type` clause repeats the
/// index's partial filter: without it the planner cannot use a partial index and scans the
/// shop's items.
pub fn code_filter(client_id: ObjectId, keys: &[String]) -> Document {
    doc! { "clientId": client_id, "codes": { "$in": keys, "$type": "string" } }
}

/// The shop's weighed-goods label layout (`clientSettings.catalog.scaleLabel`), if set.
pub async fn scale_label_layout(db: &Database, client_id: ObjectId) -> Result<Option<String>, AppError> {
    let d = db
        .collection::<Document>("clients")
        .find_one(doc! { "_id": client_id })
        .projection(doc! { "clientSettings.catalog.scaleLabel": 1 })
        .await?;
    Ok(d.as_ref()
        .and_then(|d| d.get_document("clientSettings").ok())
        .and_then(|s| s.get_document("catalog").ok())
        .and_then(|c| c.get_str("scaleLabel").ok())
        .map(str::to_string))
}
