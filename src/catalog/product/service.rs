//! Rules of products: name 2-200 characters; brand and category must be the shop's (written in
//! the same transaction, so their concurrent delete conflicts); images http(s) URLs; tax code
//! as on an item (`catalog::tax`); a delete refused (409) while an item names the product.

use bson::{oid::ObjectId, Bson, DateTime, Document};

use crate::{
    catalog::{
        brand::{model::name_key, repo as brand_repo},
        model::ItemDoc,
        product::{
            dto::{CreateProductRequest, ListProductsQuery, UpdateProductRequest},
            model::{ProductDoc, IMAGES_MAX},
            repo,
        },
        repo as catalog_repo, rules,
        tax::{self, TaxEdit},
    },
    db,
    error::{code, AppError, AppResult},
    state::AppState,
    validate::Errors,
};

fn not_found() -> AppError {
    AppError::not_found("Product not found")
}

fn images(e: &mut Errors, v: &[String]) -> Vec<String> {
    if v.len() > IMAGES_MAX {
        e.add("imageUrls", format!("must hold at most {IMAGES_MAX} URLs"));
    }
    v.iter()
        .map(|u| u.trim())
        .filter(|u| !u.is_empty())
        .map(|u| {
            if u.chars().count() > rules::IMAGE_URL_MAX
                || !(u.starts_with("https://") || u.starts_with("http://"))
                || u.chars().any(char::is_whitespace)
            {
                e.add(
                    "imageUrls",
                    format!("each must be an http(s) URL of at most {} characters", rules::IMAGE_URL_MAX),
                );
            }
            u.to_string()
        })
        .collect()
}

fn reference(e: &mut Errors, field: &str, v: Option<&str>) -> Option<ObjectId> {
    v.map(str::trim).filter(|s| !s.is_empty()).and_then(|s| e.oid(field, s))
}

/// Check, in the write's transaction, that the brand and group named are the shop's (the brand
/// is written, `usedAt`, so a concurrent brand delete conflicts).
async fn check_refs(
    db: &mongodb::Database,
    s: &mut mongodb::ClientSession,
    client_id: ObjectId,
    brand: Option<ObjectId>,
    group: Option<ObjectId>,
) -> AppResult<()> {
    let mut v = Vec::new();
    if let Some(b) = brand {
        if brand_repo::touch_brands(db, &mut *s, client_id, &[b]).await? != 1 {
            v.push("brandId: no such brand".to_string());
        }
    }
    if let Some(g) = group {
        if !catalog_repo::group_exists(db, &mut *s, client_id, g).await? {
            v.push("groupId: no such item group".to_string());
        }
    }
    if v.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(v))
    }
}

fn settle_tax(e: &mut Errors, edit: Option<TaxEdit>) -> Option<tax::TaxCode> {
    edit.and_then(|t| match t.apply(None, tax::GST_START) {
        Ok(code) => Some(code),
        Err(m) => {
            e.add("tax", m);
            None
        }
    })
}

/// Create a product (201); 400 naming each bad field or a foreign `brandId` / `groupId`.
pub async fn create(state: &AppState, client_id: ObjectId, req: CreateProductRequest) -> AppResult<ProductDoc> {
    let mut e = Errors::new();
    let name = rules::item_name(&mut e, "", &req.name);
    let brand_id = reference(&mut e, "brandId", req.brand_id.as_deref());
    let group_id = reference(&mut e, "groupId", req.group_id.as_deref());
    let edit = req.tax.as_ref().map(|t| tax::check(&mut e, "", t));
    let tax = settle_tax(&mut e, edit);
    let image_urls = images(&mut e, req.image_urls.as_deref().unwrap_or_default());
    let description = req.description.as_deref().map(|d| rules::description(&mut e, "", d)).unwrap_or_default();
    e.finish()?;
    let now = DateTime::now();
    let p = ProductDoc {
        id: ObjectId::new(),
        client_id,
        name_key: name_key(&name),
        name,
        brand_id,
        group_id,
        tax,
        image_urls,
        description,
        created_at: now,
        updated_at: now,
        version: 0,
    };
    db::transaction(&state.client, &(&state.db, &p), |s, (database, p)| {
        Box::pin(async move {
            check_refs(database, s, p.client_id, p.brand_id, p.group_id).await?;
            repo::insert(database, s, p).await
        })
    })
    .await?;
    Ok(p)
}

/// The shop's products by name (filters: `q`, `brandId`, `groupId`).
pub async fn list(state: &AppState, client_id: ObjectId, q: &ListProductsQuery) -> AppResult<Vec<ProductDoc>> {
    let mut e = Errors::new();
    let brand = reference(&mut e, "query.brandId", q.brand_id.as_deref());
    let group = reference(&mut e, "query.groupId", q.group_id.as_deref());
    let text = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if text.is_some_and(|t| t.chars().count() > 100) {
        e.add("query.q", "must be at most 100 characters");
    }
    e.finish()?;
    repo::list(&state.db, client_id, text, brand, group).await
}

/// One product and its variants (active ones; all with `all`), 404 for a foreign id.
pub async fn get(
    state: &AppState,
    client_id: ObjectId,
    id: ObjectId,
    all: bool,
) -> AppResult<(ProductDoc, Vec<ItemDoc>)> {
    let p = repo::find(&state.db, client_id, id).await?.ok_or_else(not_found)?;
    let variants = catalog_repo::variants_of(&state.db, client_id, id, all).await?;
    Ok((p, variants))
}

/// Edit a product; a tax edit is applied to its stored code (as on an item).
pub async fn update(
    state: &AppState,
    who: crate::audit::Who,
    client_id: ObjectId,
    id: ObjectId,
    req: UpdateProductRequest,
) -> AppResult<ProductDoc> {
    let mut e = Errors::new();
    let mut set = Document::new();
    if let Some(n) = &req.name {
        let n = rules::item_name(&mut e, "", n);
        set.insert("nameKey", name_key(&n));
        set.insert("name", n);
    }
    let brand = req.brand_id.as_ref().map(|b| reference(&mut e, "brandId", b.as_deref()));
    if let Some(b) = brand {
        set.insert("brandId", b.map_or(Bson::Null, Bson::ObjectId));
    }
    let group = req.group_id.as_ref().map(|g| reference(&mut e, "groupId", g.as_deref()));
    if let Some(g) = group {
        set.insert("groupId", g.map_or(Bson::Null, Bson::ObjectId));
    }
    if let Some(list) = &req.image_urls {
        set.insert("imageUrls", images(&mut e, list));
    }
    if let Some(d) = &req.description {
        set.insert("description", rules::description(&mut e, "", d));
    }
    let tax = req.tax.as_ref().map(|t| t.as_ref().map(|t| tax::check(&mut e, "", t)));
    e.finish()?;
    let now = DateTime::now();
    let ctx = (&state.db, client_id, id, set, brand.flatten(), group.flatten(), tax, who);
    db::transaction(&state.client, &ctx, |s, (database, client_id, id, set, brand, group, tax, who)| {
        Box::pin(async move {
            let current = repo::find_in(database, s, *client_id, *id).await?.ok_or_else(not_found)?;
            check_refs(database, s, *client_id, *brand, *group).await?;
            let mut set = set.clone();
            let mut tax_change = None;
            if let Some(edit) = tax {
                let today = crate::time::ist_date_string(now);
                let after = match edit {
                    None => None,
                    Some(t) => Some(t.apply(current.tax.as_ref(), &today).map_err(|m| AppError::validation("tax", m))?),
                };
                set.insert("tax", repo::tax_bson(after.as_ref()));
                if after != current.tax {
                    tax_change = Some((current.tax.clone(), after));
                }
            }
            let p = repo::update(database, s, *client_id, *id, set).await?.ok_or_else(not_found)?;
            if let Some((before, after)) = tax_change {
                let what = ("products", *client_id, *id);
                crate::catalog::service::record_tax_change(database, s, who, what, &before, &after).await?;
            }
            Ok(p)
        })
    })
    .await
}

/// Delete a product; 409 while an item names it (`variantOf`).
pub async fn delete(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppResult<()> {
    let n = db::transaction(&state.client, &(&state.db, client_id, id), |s, (database, client_id, id)| {
        Box::pin(async move { repo::delete(database, s, *client_id, *id).await })
    })
    .await?
    .ok_or_else(not_found)?;
    if n > 0 {
        return Err(AppError::conflict(
            code::CONFLICT,
            format!("Product not deleted: {n} item(s) are its variants; change their variantOf first"),
        ));
    }
    Ok(())
}
