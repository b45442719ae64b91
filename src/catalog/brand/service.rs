//! Rules of companies and brands: names 2-100 characters, unique per shop ignoring case and
//! spacing; a brand's company must be one of the shop's; deletes refused while referenced.

use bson::{oid::ObjectId, Bson, DateTime, Document};

use crate::{
    address,
    catalog::{
        brand::{
            dto::{CreateBrandRequest, CreateCompanyRequest, UpdateBrandRequest, UpdateCompanyRequest},
            model::{name_key, BrandDoc, CompanyDoc},
            repo,
        },
        rules,
    },
    db,
    error::{code, AppError, AppResult},
    state::AppState,
    validate::Errors,
};

/// Names of companies and brands: 2 to 100 characters (trimmed).
pub const NAME_LEN: (usize, usize) = (2, 100);

fn company_not_found() -> AppError {
    AppError::not_found("Company not found")
}

fn brand_not_found() -> AppError {
    AppError::not_found("Brand not found")
}

fn name(e: &mut Errors, v: &str) -> (String, String) {
    let n = e.text("name", v, NAME_LEN.0, NAME_LEN.1);
    let key = name_key(&n);
    (n, key)
}

fn to_bson<T: serde::Serialize>(v: &Option<T>) -> Bson {
    v.as_ref().and_then(|v| bson::to_bson(v).ok()).unwrap_or(Bson::Null)
}

/// The GSTIN-state rule of a company: with a GSTIN and an address state, the GSTIN's first two
/// digits must be the state's code (400 naming `gstin`).
fn gstin_state(e: &mut Errors, gstin: &str, address: &Option<crate::address::Address>) {
    let state = address.as_ref().map(|a| a.state.as_str()).unwrap_or("");
    let g = gstin.get(..2).unwrap_or("");
    if !g.is_empty() && !state.is_empty() && g != state {
        e.add("gstin", format!("its state code {g} does not match address.state {state}"));
    }
}

/// Create a company (409 `DUPLICATE` for a name the shop has).
pub async fn create_company(state: &AppState, client_id: ObjectId, req: CreateCompanyRequest) -> AppResult<CompanyDoc> {
    let mut e = Errors::new();
    let (name, key) = name(&mut e, &req.name);
    let address = req.address.as_ref().and_then(|a| address::check(&mut e, "address", a));
    let contact_person = req.contact_person.as_ref().and_then(|c| address::check_contact(&mut e, "contactPerson", c));
    let phone_number = match req.phone_number.as_deref().map(str::trim) {
        None | Some("") => String::new(),
        Some(p) => e.phone("phoneNumber", p),
    };
    let email = req.email.as_deref().map(|m| e.email("email", m)).unwrap_or_default();
    let gstin = req.gstin.as_deref().map(|g| e.gstin("gstin", g)).unwrap_or_default();
    gstin_state(&mut e, &gstin, &address);
    e.finish()?;
    let now = DateTime::now();
    let c = CompanyDoc {
        id: ObjectId::new(),
        client_id,
        name,
        name_key: key,
        address,
        contact_person,
        phone_number,
        email,
        gstin,
        created_at: now,
        updated_at: now,
        version: 0,
    };
    db::transaction(&state.client, &(&state.db, &c), |s, (database, c)| {
        Box::pin(async move { repo::insert_company(database, s, c).await })
    })
    .await?;
    Ok(c)
}

pub async fn list_companies(state: &AppState, client_id: ObjectId) -> AppResult<Vec<CompanyDoc>> {
    repo::list_companies(&state.db, client_id).await
}

/// The shop's company (404 for a missing or foreign id alike).
pub async fn get_company(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppResult<CompanyDoc> {
    repo::find_company(&state.db, client_id, id).await?.ok_or_else(company_not_found)
}

/// Edit a company: the fields sent (checked as on create; the GSTIN-state rule on the result).
pub async fn update_company(
    state: &AppState,
    client_id: ObjectId,
    id: ObjectId,
    req: UpdateCompanyRequest,
) -> AppResult<CompanyDoc> {
    let current = repo::find_company(&state.db, client_id, id).await?.ok_or_else(company_not_found)?;
    let mut e = Errors::new();
    let mut set = Document::new();
    if let Some(n) = &req.name {
        let (n, key) = name(&mut e, n);
        set.insert("name", n);
        set.insert("nameKey", key);
    }
    let address = req.address.as_ref().map(|a| address::check(&mut e, "address", a));
    if let Some(a) = &address {
        set.insert("address", to_bson(a));
    }
    if let Some(c) = &req.contact_person {
        set.insert("contactPerson", to_bson(&address::check_contact(&mut e, "contactPerson", c)));
    }
    if let Some(p) = req.phone_number.as_deref().map(str::trim) {
        set.insert("phoneNumber", if p.is_empty() { String::new() } else { e.phone("phoneNumber", p) });
    }
    if let Some(m) = &req.email {
        set.insert("email", e.email("email", m));
    }
    let gstin = req.gstin.as_deref().map(|g| e.gstin("gstin", g));
    if let Some(g) = &gstin {
        set.insert("gstin", g.as_str());
    }
    gstin_state(&mut e, gstin.as_deref().unwrap_or(&current.gstin), address.as_ref().unwrap_or(&current.address));
    e.finish()?;
    db::transaction(&state.client, &(&state.db, client_id, id, set), |s, (database, client_id, id, set)| {
        Box::pin(async move {
            repo::update_company(database, s, *client_id, *id, set.clone()).await?.ok_or_else(company_not_found)
        })
    })
    .await
}

/// Delete a company; 409 while a brand names it.
pub async fn delete_company(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppResult<()> {
    let n = db::transaction(&state.client, &(&state.db, client_id, id), |s, (database, client_id, id)| {
        Box::pin(async move { repo::delete_company(database, s, *client_id, *id).await })
    })
    .await?
    .ok_or_else(company_not_found)?;
    if n > 0 {
        return Err(AppError::conflict(
            code::CONFLICT,
            format!("Company not deleted: {n} brand(s) belong to it; delete or move them first"),
        ));
    }
    Ok(())
}

/// Create a brand of one of the shop's companies (400 naming `companyId` otherwise; 409
/// `DUPLICATE` for a name the shop has).
pub async fn create_brand(state: &AppState, client_id: ObjectId, req: CreateBrandRequest) -> AppResult<BrandDoc> {
    let mut e = Errors::new();
    let (name, key) = name(&mut e, &req.name);
    let company_id = e.oid("companyId", &req.company_id);
    let description = req.description.as_deref().map(|d| rules::description(&mut e, "", d)).unwrap_or_default();
    e.finish()?;
    let Some(company_id) = company_id else { return Err(AppError::validation("companyId", "is not an id")) };
    let now = DateTime::now();
    let b = BrandDoc {
        id: ObjectId::new(),
        client_id,
        company_id,
        name,
        name_key: key,
        description,
        created_at: now,
        updated_at: now,
        version: 0,
    };
    db::transaction(&state.client, &(&state.db, &b), |s, (database, b)| {
        Box::pin(async move {
            if !repo::touch_company(database, s, b.client_id, b.company_id).await? {
                return Err(AppError::validation("companyId", "no such company"));
            }
            repo::insert_brand(database, s, b).await
        })
    })
    .await?;
    Ok(b)
}

/// The shop's brands (of one company with `company`).
pub async fn list_brands(state: &AppState, client_id: ObjectId, company: Option<&str>) -> AppResult<Vec<BrandDoc>> {
    let company = match company.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(crate::validate::oid("query.companyId", c)?),
    };
    repo::list_brands(&state.db, client_id, company).await
}

/// The shop's brand (404 for a missing or foreign id alike).
pub async fn get_brand(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppResult<BrandDoc> {
    repo::find_brand(&state.db, client_id, id).await?.ok_or_else(brand_not_found)
}

/// Edit a brand (a new `companyId` must be one of the shop's companies).
pub async fn update_brand(
    state: &AppState,
    client_id: ObjectId,
    id: ObjectId,
    req: UpdateBrandRequest,
) -> AppResult<BrandDoc> {
    let mut e = Errors::new();
    let mut set = Document::new();
    if let Some(n) = &req.name {
        let (n, key) = name(&mut e, n);
        set.insert("name", n);
        set.insert("nameKey", key);
    }
    let company = req.company_id.as_deref().and_then(|c| e.oid("companyId", c));
    if let Some(c) = company {
        set.insert("companyId", c);
    }
    if let Some(d) = &req.description {
        set.insert("description", rules::description(&mut e, "", d));
    }
    e.finish()?;
    db::transaction(
        &state.client,
        &(&state.db, client_id, id, company, set),
        |s, (database, client_id, id, company, set)| {
            Box::pin(async move {
                if let Some(c) = company {
                    if !repo::touch_company(database, s, *client_id, *c).await? {
                        return Err(AppError::validation("companyId", "no such company"));
                    }
                }
                repo::update_brand(database, s, *client_id, *id, set.clone()).await?.ok_or_else(brand_not_found)
            })
        },
    )
    .await
}

/// Delete a brand; 409 while an item names it.
pub async fn delete_brand(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppResult<()> {
    let n = db::transaction(&state.client, &(&state.db, client_id, id), |s, (database, client_id, id)| {
        Box::pin(async move { repo::delete_brand(database, s, *client_id, *id).await })
    })
    .await?
    .ok_or_else(brand_not_found)?;
    if n > 0 {
        return Err(AppError::conflict(
            code::CONFLICT,
            format!("Brand not deleted: {n} item(s) or product(s) name it; change their brand first"),
        ));
    }
    Ok(())
}
