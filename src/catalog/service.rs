//! Business rules of item groups and items.

use bson::{oid::ObjectId, DateTime, Document};

use crate::{
    catalog::{
        command::{CreateItem, DeleteItem, UpdateItem},
        decide::{self, Refusal},
        dto::{CreateGroupRequest, CreateItemRequest, ListItemsQuery, UpdateGroupRequest, UpdateItemRequest},
        model::{ItemDoc, ItemGroupDoc},
        repo::{self, ItemFilter},
        rules,
    },
    db,
    error::{AppError, AppResult},
    state::AppState,
    validate::Errors,
};

/// Largest page of a paged list.
pub const MAX_PAGE: u32 = 200;

fn not_found_group() -> AppError {
    AppError::not_found("Item group not found")
}

fn not_found_item() -> AppError {
    AppError::not_found("Item not found")
}

// ---------------------------------------------------------------- item groups

fn no_main_category() -> AppError {
    AppError::validation("parentId", "is not a main category of this shop (two levels: main and sub category)")
}

/// B1: a group; with `parentId` a sub category of that main category (one transaction that
/// writes the parent, so its concurrent delete or move conflicts).
pub async fn create_group(state: &AppState, client_id: ObjectId, req: CreateGroupRequest) -> AppResult<ItemGroupDoc> {
    let mut e = Errors::new();
    let name = rules::group_name(&mut e, "", &req.name);
    let description = req.description.as_deref().map(|d| rules::description(&mut e, "", d)).unwrap_or_default();
    let parent_id = match req.parent_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => e.oid("parentId", p),
    };
    let tax = req.tax.as_ref().map(|t| crate::catalog::tax::check(&mut e, "", t));
    let tax = tax.and_then(|t| match t.apply(None, crate::catalog::tax::GST_START) {
        Ok(code) => Some(code),
        Err(m) => {
            e.add("tax", m);
            None
        }
    });
    e.finish()?;
    let now = DateTime::now();
    let g = ItemGroupDoc {
        id: ObjectId::new(),
        client_id,
        name,
        description,
        parent_id,
        tax,
        created_at: now,
        updated_at: now,
        version: 0,
    };
    db::transaction(&state.client, &(&state.db, &g), |s, (database, g)| {
        Box::pin(async move {
            if let Some(p) = g.parent_id {
                if !repo::touch_main_group(database, s, g.client_id, p).await? {
                    return Err(no_main_category());
                }
            }
            repo::insert_group(database, s, g).await
        })
    })
    .await?;
    Ok(g)
}

/// The brands a `brandId` / `companyId` filter means (the brand; the company's brands; both:
/// the brand if it is the company's) and their products, whose variants without a brand of
/// their own belong to them. `None` when neither is given.
pub async fn brand_scope(
    state: &AppState,
    client_id: ObjectId,
    brand: Option<ObjectId>,
    company: Option<ObjectId>,
) -> AppResult<Option<(Vec<ObjectId>, Vec<ObjectId>)>> {
    let brands = match (brand, company) {
        (None, None) => return Ok(None),
        (Some(b), None) => vec![b],
        (b, Some(c)) => {
            let of = crate::catalog::brand::repo::brand_ids_of(&state.db, client_id, c).await?;
            of.into_iter().filter(|x| b.is_none_or(|b| b == *x)).collect()
        }
    };
    let products = crate::catalog::product::repo::ids_of_brands(&state.db, client_id, &brands).await?;
    Ok(Some((brands, products)))
}

/// The ids of the items a `brandId` / `companyId` filter means ([`brand_scope`]); `None` when
/// neither is given (reports filtered by brand).
pub async fn items_of_brand(
    state: &AppState,
    client_id: ObjectId,
    brand: Option<ObjectId>,
    company: Option<ObjectId>,
) -> AppResult<Option<Vec<ObjectId>>> {
    let Some((brands, products)) = brand_scope(state, client_id, brand, company).await? else { return Ok(None) };
    Ok(Some(repo::item_ids_of_brands(&state.db, client_id, &brands, &products).await?))
}

/// Record a change of the default tax code of a category or product (`tax_changed` on
/// `entity`, before and after), in the change's transaction (issue 16).
pub(crate) async fn record_tax_change(
    db: &mongodb::Database,
    s: &mut mongodb::ClientSession,
    who: &crate::audit::Who,
    (entity, client_id, id): (&'static str, ObjectId, ObjectId),
    before: &Option<crate::catalog::tax::TaxCode>,
    after: &Option<crate::catalog::tax::TaxCode>,
) -> AppResult<()> {
    let e = crate::audit::Entry::builder(client_id, who.clone(), crate::audit::Action::TaxChanged, entity)
        .entity_id(id.to_hex())
        .changes(crate::audit::changes(
            &serde_json::json!({ "tax": before }),
            &serde_json::json!({ "tax": after }),
            &["tax"],
        ))
        .build()?;
    crate::audit::record(db, Some(&mut *s), &e).await
}

/// What `items` without their own tax code take one from (their products and the shop's
/// categories); nothing is read when every item has its own code, or no product and no
/// category.
pub async fn tax_defaults(
    state: &AppState,
    client_id: ObjectId,
    items: &[ItemDoc],
) -> AppResult<crate::catalog::dto::TaxDefaults> {
    tax_defaults_in(&state.db, client_id, items).await
}

/// [`tax_defaults`] on a database handle (a sale's loader, issue 17): the products and
/// categories the items without a tax code of their own inherit from, read only when some
/// item needs them.
pub async fn tax_defaults_in(
    db: &mongodb::Database,
    client_id: ObjectId,
    items: &[ItemDoc],
) -> AppResult<crate::catalog::dto::TaxDefaults> {
    let bare: Vec<&ItemDoc> = items.iter().filter(|i| i.details.tax.is_none()).collect();
    let mut ids: Vec<ObjectId> = bare.iter().filter_map(|i| i.details.variant_of).collect();
    ids.sort();
    ids.dedup();
    let products = crate::catalog::product::repo::find_many(db, client_id, &ids).await?;
    let mut out = crate::catalog::dto::TaxDefaults {
        products: products.into_iter().map(|p| (p.id, p.tax, p.group_id)).collect(),
        groups: Vec::new(),
    };
    if bare.iter().any(|i| i.group_id.is_some()) || out.products.iter().any(|p| p.2.is_some()) {
        let groups = repo::list_groups(db, client_id).await?;
        if groups.iter().any(|g| g.tax.is_some()) {
            out.groups = groups.into_iter().map(|g| (g.id, g.tax, g.parent_id)).collect();
        }
    }
    Ok(out)
}

pub async fn list_groups(state: &AppState, client_id: ObjectId) -> AppResult<Vec<ItemGroupDoc>> {
    repo::list_groups(&state.db, client_id).await
}

pub async fn update_group(
    state: &AppState,
    who: crate::audit::Who,
    client_id: ObjectId,
    id: ObjectId,
    req: UpdateGroupRequest,
) -> AppResult<ItemGroupDoc> {
    let mut e = Errors::new();
    let mut set = Document::new();
    if let Some(n) = &req.name {
        set.insert("name", rules::group_name(&mut e, "", n));
    }
    if let Some(d) = &req.description {
        set.insert("description", rules::description(&mut e, "", d));
    }
    // `null` or `''`: a main category; else one of the shop's main categories
    let parent = match req.parent_id.as_ref().map(|p| p.as_deref().map(str::trim)) {
        None => None,
        Some(None) | Some(Some("")) => Some(None),
        Some(Some(p)) => Some(e.oid("parentId", p)),
    };
    if let Some(p) = parent {
        set.insert("parentId", p.map_or(bson::Bson::Null, bson::Bson::ObjectId));
        if p == Some(id) {
            e.add("parentId", "cannot be the group itself");
        }
    }
    let tax = req.tax.as_ref().map(|t| t.as_ref().map(|t| crate::catalog::tax::check(&mut e, "", t)));
    e.finish()?;
    let now = DateTime::now();
    db::transaction(
        &state.client,
        &(&state.db, client_id, id, parent, set, tax, who),
        |s, (database, client_id, id, parent, set, tax, who)| {
            Box::pin(async move {
                let mut set = set.clone();
                let mut tax_change = None;
                if let Some(edit) = tax {
                    let current = repo::find_group(database, s, *client_id, *id).await?.ok_or_else(not_found_group)?;
                    let today = crate::time::ist_date_string(now);
                    let after = match edit {
                        None => None,
                        Some(t) => {
                            Some(t.apply(current.tax.as_ref(), &today).map_err(|m| AppError::validation("tax", m))?)
                        }
                    };
                    set.insert("tax", repo::tax_bson(after.as_ref()));
                    if after != current.tax {
                        tax_change = Some((current.tax, after));
                    }
                }
                if let Some(Some(p)) = parent {
                    if !repo::touch_main_group(database, s, *client_id, *p).await? {
                        return Err(no_main_category());
                    }
                    if repo::count_subgroups(database, s, *client_id, *id).await? > 0 {
                        return Err(AppError::validation(
                            "parentId",
                            "this group has sub categories, so it cannot become one (two levels only)",
                        ));
                    }
                }
                let g = repo::update_group(database, s, *client_id, *id, set).await?.ok_or_else(not_found_group)?;
                if let Some((before, after)) = tax_change {
                    record_tax_change(database, s, who, ("itemgroups", *client_id, *id), &before, &after).await?;
                }
                Ok(g)
            })
        },
    )
    .await
}

/// Delete the group and ungroup its items in one transaction; returns how many items were ungrouped.
pub async fn delete_group(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppResult<u64> {
    let ctx = (state.db.clone(), client_id, id);
    db::transaction(&state.client, &ctx, |s, (database, client_id, id)| {
        Box::pin(async move {
            let subs = repo::count_subgroups(database, s, *client_id, *id).await?;
            if subs > 0 {
                return Err(AppError::conflict(
                    crate::error::code::CONFLICT,
                    format!("Item group not deleted: it has {subs} sub categories; delete or move them first"),
                ));
            }
            let ungrouped = repo::delete_group(database, s, *client_id, *id).await?.ok_or_else(not_found_group)?;
            // the ungrouped items changed (`groupId`): logged for the pull in this transaction
            if !ungrouped.is_empty() {
                let rows: Vec<_> = ungrouped.iter().map(|i| (crate::changelog::ITEMS, *i, false)).collect();
                crate::changelog::append(database, s, *client_id, &rows).await?;
            }
            Ok(ungrouped.len() as u64)
        })
    })
    .await
}

// ---------------------------------------------------------------- items

/// B5: create an item. Route -> [`CreateItem`] -> [`decide::create_item`] -> [`repo::apply`]
/// (one transaction: the group and dealers are checked in it, opening stock is recorded, the
/// change log gets the item). `by` (the signed-in user) is the `by` of the opening-stock
/// movement.
pub async fn create_item(
    state: &AppState,
    client_id: ObjectId,
    by: crate::access::By,
    req: CreateItemRequest,
) -> AppResult<ItemDoc> {
    let cmd = CreateItem::from_request(client_id, ObjectId::new(), DateTime::now(), by, &req)?;
    db::transaction(&state.client, &(&state.db, cmd), |s, (database, cmd)| {
        Box::pin(async move {
            let mut refs = repo::load_refs(database, s, cmd.client_id, &repo::Named::of_create(cmd)).await?;
            let d = &cmd.item.details;
            let unit_ids: Vec<ObjectId> =
                d.base_unit_id.iter().copied().chain(d.units.iter().map(|u| u.unit_id)).collect();
            refs.units = crate::catalog::unit::repo::touch(database, s, cmd.client_id, &unit_ids).await?;
            let plan = decide::create_item(cmd, &refs).map_err(Refusal::online)?;
            repo::apply(database, s, &plan).await?;
            Ok(plan.after().clone())
        })
    })
    .await
}

pub async fn list_items(
    state: &AppState,
    client_id: ObjectId,
    q: ListItemsQuery,
) -> AppResult<(Vec<ItemDoc>, Option<Option<String>>)> {
    let mut e = Errors::new();
    let mut f = ItemFilter {
        is_active: match q.is_active.as_deref().map(str::trim) {
            None | Some("") | Some("true") => Some(true),
            Some("false") => Some(false),
            Some("all") => None,
            Some(_) => {
                e.add("query.isActive", "must be true, false or all");
                None
            }
        },
        ..Default::default()
    };
    f.group_id = match q.group_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(g) => e.oid("query.groupId", g),
    };
    let search = q.q.as_deref().or(q.search.as_deref()).map(str::trim).filter(|s| !s.is_empty());
    if let Some(s) = search {
        if s.chars().count() > 100 {
            e.add("query.q", "must be at most 100 characters");
        }
        f.name_pattern = Some(regex::escape(s));
    }
    if let Some(c) = q.cursor.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        f.after = e.oid("query.cursor", c);
        if q.limit.is_none() {
            e.add("query.cursor", "needs limit");
        }
    }
    if q.limit == Some(0) {
        e.add("query.limit", "must be at least 1");
    }
    let brand = q.brand_id.as_deref().map(str::trim).filter(|b| !b.is_empty()).and_then(|b| e.oid("query.brandId", b));
    let company =
        q.company_id.as_deref().map(str::trim).filter(|c| !c.is_empty()).and_then(|c| e.oid("query.companyId", c));
    e.finish()?;
    if let Some((brands, products)) = brand_scope(state, client_id, brand, company).await? {
        f.brand_ids = Some(brands);
        f.brand_products = products;
    }
    match q.limit {
        None => Ok((repo::list_items(&state.db, client_id, &f, None).await?, None)),
        Some(l) => {
            let l = l.min(MAX_PAGE) as i64;
            let mut page = repo::list_items(&state.db, client_id, &f, Some(l + 1)).await?;
            let more = page.len() as i64 > l;
            page.truncate(l as usize);
            let next = if more { page.last().map(|i| i.id.to_hex()) } else { None };
            Ok((page, Some(next)))
        }
    }
}

/// B7: edit an item (deactivated ones too). Route -> [`UpdateItem`] ->
/// [`decide::update_item`] -> [`repo::apply`] (one transaction; an absolute `stock` is
/// recorded as an adjustment of the difference).
///
/// A price change and a stock change are audited in the same transaction (issue 15): the
/// entry names `who`, the before and after values (paise, base units); the stock adjustment's
/// reason is the edit itself (the v1 body has no reason field). `by` (the signed-in user) is
/// the `by` of the stock adjustment; `stockReason` (default `other`) and `stockNote` are recorded
/// on the movement and named in the audit entry's reason (issue 16).
pub async fn update_item(
    state: &AppState,
    who: crate::audit::Who,
    by: crate::access::By,
    client_id: ObjectId,
    id: ObjectId,
    req: UpdateItemRequest,
) -> AppResult<ItemDoc> {
    let cmd = UpdateItem::from_request(client_id, id, DateTime::now(), by, &req)?;
    db::transaction(&state.client, &(&state.db, cmd, who), |s, (database, cmd, who)| {
        Box::pin(async move {
            let current = repo::find_item(database, s, cmd.client_id, cmd.id).await?;
            let mut refs = repo::load_refs(database, s, cmd.client_id, &repo::Named::of_update(cmd)).await?;
            // packing units: the units named, and the item's own when only one side changes
            if cmd.patch.details.touches_units() {
                let mut unit_ids = cmd.patch.details.unit_ids();
                if let Some(c) = &current {
                    unit_ids.extend(
                        c.details.base_unit_id.iter().copied().chain(c.details.units.iter().map(|u| u.unit_id)),
                    );
                }
                refs.units = crate::catalog::unit::repo::touch(database, s, cmd.client_id, &unit_ids).await?;
            }
            let plan = decide::update_item(cmd, current.as_ref(), &refs).map_err(Refusal::online)?;
            repo::apply(database, s, &plan).await?;
            // the stored item (the stock primitive stamps its own `updatedAt`)
            let after = repo::find_item(database, s, cmd.client_id, cmd.id).await?.ok_or_else(not_found_item)?;
            if let Some(before) = &current {
                audit_edit(database, s, who, before, &after, &cmd.adjust).await?;
            }
            Ok(after)
        })
    })
    .await
}

/// The audit entries of an online item edit, in its transaction: `price_changed` when the price
/// moved, `stock_adjusted` when the stock was set.
async fn audit_edit(
    db: &mongodb::Database,
    s: &mut mongodb::ClientSession,
    who: &crate::audit::Who,
    before: &ItemDoc,
    after: &ItemDoc,
    adjust: &crate::catalog::stock::Adjust,
) -> AppResult<()> {
    use crate::audit::{changes_of, record, Action, Entry};
    for (action, field) in [(Action::MrpChanged, "mrp"), (Action::TaxChanged, "tax")] {
        let changed = changes_of(before, after, &[field]);
        if !changed.is_empty() {
            let e = Entry::builder(after.client_id, who.clone(), action, "items")
                .entity_id(after.id.to_hex())
                .changes(changed)
                .build()?;
            record(db, Some(&mut *s), &e).await?;
        }
    }
    let price = changes_of(before, after, &["price", "costPerUnit"]);
    if !price.is_empty() {
        let e = Entry::builder(after.client_id, who.clone(), Action::PriceChanged, "items")
            .entity_id(after.id.to_hex())
            .changes(price)
            .build()?;
        record(db, Some(&mut *s), &e).await?;
    }
    let stock = changes_of(before, after, &["stock"]);
    if !stock.is_empty() {
        let e = Entry::builder(after.client_id, who.clone(), Action::StockAdjusted, "items")
            .entity_id(after.id.to_hex())
            .changes(stock)
            .reason(match &adjust.note {
                Some(n) => format!(
                    "stock set by an item edit: {} -> {} ({}: {n})",
                    before.stock,
                    after.stock,
                    adjust.reason.as_str()
                ),
                None => format!(
                    "stock set by an item edit: {} -> {} ({})",
                    before.stock,
                    after.stock,
                    adjust.reason.as_str()
                ),
            })
            .build()?;
        record(db, Some(&mut *s), &e).await?;
    }
    Ok(())
}

/// B8: deactivate an item (idempotent). Route -> [`DeleteItem`] -> [`decide::delete_item`] ->
/// [`repo::apply`] (logged as a delete for the pull).
pub async fn delete_item(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppResult<()> {
    let cmd = DeleteItem { client_id, id, now: DateTime::now() };
    db::transaction(&state.client, &(&state.db, cmd), |s, (database, cmd)| {
        Box::pin(async move {
            let current = repo::find_item(database, s, cmd.client_id, cmd.id).await?;
            let plan = decide::delete_item(cmd, current.as_ref()).map_err(Refusal::online)?;
            repo::apply(database, s, &plan).await
        })
    })
    .await
}

/// What `GET /api/business/items/lookup` found: the item, and when the code was a weighed-goods
/// label, what the label says.
#[derive(Debug, Clone)]
pub struct Found {
    pub item: ItemDoc,
    pub label: Option<crate::barcode::ScaleLabel>,
    /// The packing unit whose own barcode the code is (issue 16).
    pub unit: Option<crate::catalog::unit::ItemUnit>,
}

/// Find the item a scanned or typed code names (the scan-to-bill path): its SKU or barcode
/// (by [`crate::barcode::key`]: a 12-digit UPC-A finds its 13-digit EAN form and back;
/// leading zeros count), never an internal id. A 13-digit code starting with 2 that reads as
/// a label of the shop's `clientSettings.catalog.scaleLabel` layout also finds the item whose
/// code is the label's item code, with the label's amount; an item's own code wins over a
/// label reading. One indexed read of `items` (plus the shop's layout for a label-shaped
/// code). 400 `query.code` when blank or longer than 40 characters; 404 when no item has it.
pub async fn lookup(state: &AppState, client_id: ObjectId, code: &str) -> AppResult<Found> {
    let code = code.trim();
    if code.is_empty() || code.chars().count() > crate::barcode::CODE_MAX {
        return Err(AppError::validation(
            "query.code",
            format!("must be 1 to {} characters", crate::barcode::CODE_MAX),
        ));
    }
    let direct = crate::barcode::key(code);
    let mut keys = vec![direct.clone()];
    let mut label = None;
    if code.len() == 13 && code.starts_with('2') && code.bytes().all(|b| b.is_ascii_digit()) {
        if let Some(layout) = repo::scale_label_layout(&state.db, client_id).await? {
            if let Some(l) = crate::barcode::ScaleLayout::parse(&layout).ok().and_then(|l| l.read(code)) {
                let k = crate::barcode::key(&l.item_code);
                if k != direct {
                    keys.push(k);
                }
                label = Some(l);
            }
        }
    }
    let found = repo::find_by_codes(&state.db, client_id, &keys).await?;
    if let Some(item) = found.iter().find(|i| i.details.codes.contains(&direct)) {
        let unit =
            item.details.units.iter().find(|u| u.barcode.as_deref().map(crate::barcode::key) == Some(direct.clone()));
        return Ok(Found { item: item.clone(), label: None, unit: unit.cloned() });
    }
    match (found.into_iter().next(), label) {
        (Some(item), Some(l)) => Ok(Found { item, label: Some(l), unit: None }),
        _ => Err(AppError::not_found("No item has this code")),
    }
}
