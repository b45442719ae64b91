//! Profile reads and whitelisted updates.

use bson::{oid::ObjectId, Document};

use crate::{
    client::{dto::UpdateClientRequest, model::ClientDoc, repo},
    error::{AppError, AppResult},
    security::password,
    state::AppState,
    validate::Errors,
};

pub async fn get(state: &AppState, id: ObjectId) -> AppResult<ClientDoc> {
    repo::find_by_id(&state.db, id).await?.ok_or_else(|| AppError::not_found("Client not found"))
}

/// The profile and settings fields whose changes the audit trail records.
const AUDITED: [&str; 9] =
    ["ownerName", "businessName", "shopName", "location", "city", "state", "gstin", "profileUrl", "clientSettings"];

/// Update the shop's profile and settings as `who`; the changed fields are recorded as one
/// `settings_changed` audit entry in the same transaction (issue 15; a password change is
/// recorded without its values).
pub async fn update(
    state: &AppState,
    id: ObjectId,
    req: UpdateClientRequest,
    who: crate::audit::Who,
) -> AppResult<ClientDoc> {
    let mut e = Errors::new();
    let mut set = Document::new();
    if let Some(v) = &req.owner_name {
        set.insert("ownerName", e.text("ownerName", v, 2, 100));
    }
    if let Some(v) = &req.business_name {
        set.insert("businessName", e.text("businessName", v, 2, 150));
    }
    for (key, val, max) in [
        ("shopName", &req.shop_name, 150),
        ("location", &req.location, 500),
        ("city", &req.city, 100),
        ("state", &req.state, 100),
    ] {
        if let Some(v) = val {
            set.insert(key, e.text(key, v, 0, max));
        }
    }
    if let Some(v) = &req.gstin {
        set.insert("gstin", e.gstin("gstin", v));
    }
    if let Some(v) = &req.profile_url {
        set.insert("profileUrl", e.url("profileUrl", v));
    }
    if let Some(s) = &req.client_settings {
        if let Some(cf) = &s.customer_fields {
            for (k, v) in [("address", cf.address), ("gstNo", cf.gst_no), ("emailId", cf.email_id)] {
                if let Some(v) = v {
                    set.insert(format!("clientSettings.customerFields.{k}"), v);
                }
            }
        }
        if let Some(b) = &s.billing {
            for (k, v) in
                [("requireFullPayment", b.require_full_payment), ("allowNegativeStock", b.allow_negative_stock)]
            {
                if let Some(v) = v {
                    set.insert(format!("clientSettings.billing.{k}"), v);
                }
            }
        }
        if let Some(v) = s.purchases.as_ref().and_then(|p| p.over_receipt_allowance_percent) {
            crate::client::model::check_allowance(&mut e, v);
            set.insert("clientSettings.purchases.overReceiptAllowancePercent", v);
        }
        if let Some(layout) = s.catalog.as_ref().and_then(|c| c.scale_label.as_ref()) {
            match layout.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
                None => {
                    set.insert("clientSettings.catalog.scaleLabel", bson::Bson::Null);
                }
                Some(l) => {
                    if let Err(m) = crate::barcode::ScaleLayout::parse(l) {
                        e.add("clientSettings.catalog.scaleLabel", m);
                    }
                    set.insert("clientSettings.catalog.scaleLabel", l);
                }
            }
        }
        if let Some(v) = s.catalog.as_ref().and_then(|c| c.allow_expired_sale) {
            set.insert("clientSettings.catalog.allowExpiredSale", v);
        }
        if let Some(staff) = &s.staff {
            for (role, grants) in staff.role_grants.iter().flatten() {
                if *role == crate::access::Role::SuperAdmin {
                    e.add("clientSettings.staff.roleGrants.super_admin", "the owner holds every permission");
                    continue;
                }
                match bson::to_bson(grants) {
                    Ok(b) => {
                        set.insert(format!("clientSettings.staff.roleGrants.{}", role.as_str()), b);
                    }
                    Err(_) => e.add("clientSettings.staff.roleGrants", "cannot be stored"),
                }
            }
            match staff.max_active_users {
                Some(0) => {
                    set.insert("clientSettings.staff.maxActiveUsers", bson::Bson::Null);
                }
                Some(n) => {
                    e.check(n <= 1000, "clientSettings.staff.maxActiveUsers", "must be 0 (no limit) to 1000");
                    set.insert("clientSettings.staff.maxActiveUsers", i64::from(n));
                }
                None => {}
            }
        }
    }
    if let Some(p) = &req.password {
        let n = p.chars().count();
        e.check((8..=128).contains(&n), "password", "must be 8 to 128 characters");
    }
    e.finish()?;
    let current = get(state, id).await?;
    if let Some(p) = req.password {
        if let Some(existing) = current.password_hash.clone() {
            let given = req
                .current_password
                .ok_or_else(|| AppError::validation("currentPassword", "is required to change the password"))?;
            if !password::verify(given, Some(existing)).await? {
                return Err(AppError::validation("currentPassword", "is not correct"));
            }
        }
        set.insert("passwordHash", password::hash(p).await?);
    }
    if set.is_empty() {
        return Err(AppError::validation("body", "nothing to update"));
    }
    let ctx = (state.db.clone(), id, set, who);
    let updated = crate::db::transaction(&state.client, &ctx, |s, (database, id, set, who)| {
        Box::pin(async move {
            let Some((before, after)) = repo::update_fields_in(database, s, *id, set.clone()).await? else {
                return Ok(None);
            };
            let mut changes = crate::audit::changes_of(&before, &after, &AUDITED);
            if before.password_hash != after.password_hash {
                changes.push(crate::audit::Change::new(
                    "password",
                    serde_json::json!("(set)"),
                    serde_json::json!("(changed)"),
                ));
            }
            audit_settings(database, s, *id, who, changes).await?;
            Ok(Some(after))
        })
    })
    .await
    .and_then(|u| u.ok_or_else(|| AppError::not_found("Client not found")));
    // role grants take effect on the next request (here at once, elsewhere within SESSION_CACHE_MS)
    state.sessions.forget_client(id);
    updated
}

/// Store the shop's GST profile (already checked: `client::gst::check`) and audit the
/// change (`settings_changed`, field `gstProfile`) in one transaction.
pub async fn set_gst_profile(
    state: &AppState,
    id: ObjectId,
    profile: crate::client::gst::GstProfile,
    who: crate::audit::Who,
) -> AppResult<ClientDoc> {
    let set = bson::doc! { "gstProfile": bson::to_bson(&profile)? };
    let ctx = (state.db.clone(), id, set, who);
    crate::db::transaction(&state.client, &ctx, |s, (database, id, set, who)| {
        Box::pin(async move {
            let Some((before, after)) = repo::update_fields_in(database, s, *id, set.clone()).await? else {
                return Ok(None);
            };
            let changes = crate::audit::changes_of(&before, &after, &["gstProfile"]);
            audit_settings(database, s, *id, who, changes).await?;
            Ok(Some(after))
        })
    })
    .await
    .and_then(|u| u.ok_or_else(|| AppError::not_found("Client not found")))
}

/// Record a change of the shop's settings (`settings_changed` on `clients`), when anything
/// changed, in the caller's transaction.
async fn audit_settings(
    database: &mongodb::Database,
    s: &mut mongodb::ClientSession,
    id: ObjectId,
    who: &crate::audit::Who,
    changes: Vec<crate::audit::Change>,
) -> AppResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let entry = crate::audit::Entry::builder(id, who.clone(), crate::audit::Action::SettingsChanged, "clients")
        .entity_id(id.to_hex())
        .changes(changes)
        .build()?;
    crate::audit::record(database, Some(s), &entry).await
}
