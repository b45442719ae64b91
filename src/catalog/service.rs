//! Business rules of item groups and items.

use bson::{oid::ObjectId, DateTime, Document};

use crate::{
    catalog::{
        dto::{CreateGroupRequest, CreateItemRequest, ListItemsQuery, UpdateGroupRequest, UpdateItemRequest},
        model::{ItemDoc, ItemGroupDoc},
        repo::{self, ItemFilter},
        rules::{self, ItemInput},
        stock,
    },
    changelog, db,
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

pub async fn create_group(state: &AppState, client_id: ObjectId, req: CreateGroupRequest) -> AppResult<ItemGroupDoc> {
    let mut e = Errors::new();
    let name = rules::group_name(&mut e, "", &req.name);
    let description = req.description.as_deref().map(|d| rules::description(&mut e, "", d)).unwrap_or_default();
    e.finish()?;
    let now = DateTime::now();
    let g = ItemGroupDoc {
        id: ObjectId::new(),
        client_id,
        name,
        description,
        created_at: now,
        updated_at: now,
        version: 0,
    };
    repo::insert_group(&state.db, &g).await?;
    Ok(g)
}

pub async fn list_groups(state: &AppState, client_id: ObjectId) -> AppResult<Vec<ItemGroupDoc>> {
    repo::list_groups(&state.db, client_id).await
}

pub async fn update_group(
    state: &AppState,
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
    e.finish()?;
    repo::update_group(&state.db, client_id, id, set).await?.ok_or_else(not_found_group)
}

/// Delete the group and ungroup its items in one transaction; returns how many items were ungrouped.
pub async fn delete_group(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppResult<u64> {
    let ctx = (state.db.clone(), client_id, id);
    db::transaction(&state.client, &ctx, |s, (database, client_id, id)| {
        Box::pin(async move {
            let ungrouped = repo::delete_group(database, s, *client_id, *id).await?.ok_or_else(not_found_group)?;
            // the ungrouped items changed (`groupId`): logged for the pull in this transaction
            if !ungrouped.is_empty() {
                let rows: Vec<_> = ungrouped.iter().map(|i| (changelog::ITEMS, *i, false)).collect();
                changelog::append(database, s, *client_id, &rows).await?;
            }
            Ok(ungrouped.len() as u64)
        })
    })
    .await
}

// ---------------------------------------------------------------- items

/// Parse `dealerIds` (24-hex, no duplicates).
fn parse_dealer_ids(e: &mut Errors, ids: &[String]) -> Vec<ObjectId> {
    let mut out = Vec::with_capacity(ids.len());
    for (i, s) in ids.iter().enumerate() {
        if let Some(id) = e.oid(&format!("dealerIds.{i}"), s) {
            if out.contains(&id) {
                e.add(&format!("dealerIds.{i}"), "is a duplicate");
            } else {
                out.push(id);
            }
        }
    }
    if ids.len() > 100 {
        e.add("dealerIds", "must have at most 100 entries");
    }
    out
}

/// Check, inside the transaction, that the group and the dealers are this client's
/// (400 naming the field otherwise, as v1 did for dealers).
async fn check_refs(
    database: &mongodb::Database,
    s: &mut mongodb::ClientSession,
    client_id: ObjectId,
    group_id: Option<ObjectId>,
    dealer_ids: Option<&[ObjectId]>,
) -> AppResult<()> {
    let mut e = Errors::new();
    if let Some(g) = group_id {
        if !repo::group_exists(database, s, client_id, g).await? {
            e.add("groupId", "no such item group");
        }
    }
    if let Some(d) = dealer_ids.filter(|d| !d.is_empty()) {
        if repo::count_dealers(database, s, client_id, d).await? != d.len() as u64 {
            e.add("dealerIds", "every entry must be one of your dealers");
        }
    }
    e.finish()
}

pub async fn create_item(state: &AppState, client_id: ObjectId, req: CreateItemRequest) -> AppResult<ItemDoc> {
    let mut e = Errors::new();
    let input = ItemInput {
        name: Some(&req.name),
        price: Some(req.price),
        stock: req.stock,
        low_stock_quantity: req.low_stock_quantity,
        unit: req.unit.as_deref(),
        description: req.description.as_deref(),
        group_id: req.group_id.as_deref().map(Some),
    };
    let rules::NewItem { name, price, stock, low_stock_quantity: low, unit, group_id, description } =
        rules::new_item(&mut e, "", &input);
    let dealer_ids = parse_dealer_ids(&mut e, req.dealer_ids.as_deref().unwrap_or_default());
    e.finish()?;
    let now = DateTime::now();
    let item = ItemDoc {
        id: ObjectId::new(),
        client_id,
        group_id,
        name,
        price,
        stock,
        low_stock_quantity: low,
        unit,
        description,
        dealer_ids,
        is_active: true,
        created_at: now,
        updated_at: now,
        version: 0,
    };
    let ctx = (state.db.clone(), item);
    db::transaction(&state.client, &ctx, |s, (database, item)| {
        Box::pin(async move {
            check_refs(database, s, item.client_id, item.group_id, Some(&item.dealer_ids)).await?;
            // Opening stock enters through the shared primitive so it is recorded too.
            let opening = item.stock;
            let mut doc = item.clone();
            doc.stock = 0;
            repo::insert_item(database, s, &doc).await?;
            if opening != 0 {
                // the stock move logs the item for the pull
                adjust(database, s, item.client_id, item.id, opening).await?;
            } else {
                changelog::append(database, s, item.client_id, &[(changelog::ITEMS, item.id, false)]).await?;
            }
            Ok(())
        })
    })
    .await?;
    Ok(ctx.1)
}

async fn adjust(
    database: &mongodb::Database,
    s: &mut mongodb::ClientSession,
    client_id: ObjectId,
    item_id: ObjectId,
    delta: i64,
) -> AppResult<()> {
    let mv = stock::Move {
        client_id,
        item_id,
        delta,
        allow_negative: true,
        reason: stock::Reason::Adjustment,
        ref_id: None,
    };
    match stock::apply(database, s, &mv).await? {
        stock::Moved::Done => Ok(()),
        stock::Moved::OutOfRange => Err(crate::limits::stock_out_of_range("stock")),
        _ => Err(not_found_item()),
    }
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
    e.finish()?;
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

pub async fn update_item(
    state: &AppState,
    client_id: ObjectId,
    id: ObjectId,
    req: UpdateItemRequest,
) -> AppResult<ItemDoc> {
    let mut e = Errors::new();
    let input = ItemInput {
        name: req.name.as_deref(),
        price: req.price,
        stock: req.stock,
        low_stock_quantity: req.low_stock_quantity,
        unit: req.unit.as_deref(),
        description: req.description.as_deref(),
        group_id: req.group_id.as_ref().map(|g| g.as_deref()),
    };
    let rules::ItemEdit { mut set, group: group_id, stock: new_stock } = rules::item_edit(&mut e, "", &input);
    let dealer_ids = req.dealer_ids.as_ref().map(|d| parse_dealer_ids(&mut e, d));
    if let Some(d) = &dealer_ids {
        set.insert("dealerIds", d.clone());
    }
    e.finish()?;
    let ctx = (state.db.clone(), client_id, id, set, group_id, dealer_ids, new_stock);
    db::transaction(&state.client, &ctx, |s, (database, client_id, id, set, group_id, dealer_ids, new_stock)| {
        Box::pin(async move {
            let current = repo::find_item(database, s, *client_id, *id).await?.ok_or_else(not_found_item)?;
            check_refs(database, s, *client_id, *group_id, dealer_ids.as_deref()).await?;
            let updated =
                repo::update_item(database, s, *client_id, *id, set.clone()).await?.ok_or_else(not_found_item)?;
            match new_stock {
                Some(n) if *n != current.stock => {
                    let delta =
                        n.checked_sub(current.stock).ok_or_else(|| crate::limits::stock_out_of_range("stock"))?;
                    // the stock move logs the item for the pull
                    adjust(database, s, *client_id, *id, delta).await?;
                    repo::find_item(database, s, *client_id, *id).await?.ok_or_else(not_found_item)
                }
                _ => {
                    changelog::append(database, s, *client_id, &[(changelog::ITEMS, *id, false)]).await?;
                    Ok(updated)
                }
            }
        })
    })
    .await
}

/// B8: soft delete, and in the same transaction the item's change-log row, a deletion (the
/// pull answers it as `op: "delete"`, the one form of every delete; docs/sync.md).
pub async fn delete_item(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppResult<()> {
    let ctx = (state.db.clone(), client_id, id);
    let found = db::transaction(&state.client, &ctx, |s, (database, client_id, id)| {
        Box::pin(async move {
            let found = repo::deactivate_item(database, s, *client_id, *id).await?;
            if found {
                changelog::append(database, s, *client_id, &[(changelog::ITEMS, *id, true)]).await?;
            }
            Ok(found)
        })
    })
    .await?;
    if found {
        Ok(())
    } else {
        Err(not_found_item())
    }
}
