//! D1-D7: dealers (create, list, edit, soft delete) and the items they supply (low stock,
//! recommendations).

use bson::{oid::ObjectId, DateTime, Document};

use crate::{
    dealer::{dto::*, model::*, repo},
    error::AppResult,
    state::AppState,
    validate::Errors,
};

use super::{check_client, dealer_of, not_found};

// ------------------------------------------------------------------------- dealers

/// Validated dealer fields; `None` = not sent.
#[derive(Default)]
struct DealerFields {
    name: Option<String>,
    contact_person: Option<String>,
    contact_person_no: Option<String>,
    contact_person_email: Option<String>,
    phone_number: Option<String>,
    email: Option<String>,
    address: Option<String>,
    logo_url: Option<String>,
    gstin: Option<String>,
    payment_terms_days: Option<i64>,
    bank_name: Option<String>,
    account_no: Option<String>,
    ifsc: Option<String>,
}

fn is_ifsc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11
        && b[..4].iter().all(u8::is_ascii_uppercase)
        && b[4] == b'0'
        && b[5..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn dealer_fields(e: &mut Errors, r: &DealerRequest) -> DealerFields {
    let mut f = DealerFields {
        name: e.opt_text("name", &r.name, 2, 100),
        contact_person: e.opt_text("contactPerson", &r.contact_person, 0, 100),
        address: e.opt_text("address", &r.address, 0, 500),
        ..Default::default()
    };
    if let Some(p) = &r.phone_number {
        f.phone_number = Some(if p.trim().is_empty() { String::new() } else { e.phone("phoneNumber", p) });
    }
    f.email = r.email.as_deref().map(|v| e.email("email", v));
    if let Some(p) = &r.contact_person_no {
        f.contact_person_no = Some(if p.trim().is_empty() { String::new() } else { e.phone("contactPersonNo", p) });
    }
    f.contact_person_email = r.contact_person_email.as_deref().map(|v| e.email("contactPersonEmail", v));
    f.logo_url = r.logo_url.as_deref().map(|v| e.url("logoUrl", v));
    f.gstin = r.gstin.as_deref().map(|v| e.gstin("gstin", v));
    if let Some(d) = r.payment_terms_days {
        e.check((0..=365).contains(&d), "paymentTermsDays", "must be between 0 and 365");
        f.payment_terms_days = Some(d);
    }
    if let Some(b) = &r.bank_details {
        f.bank_name = e.opt_text("bankDetails.bankName", &b.bank_name, 0, 100);
        if let Some(a) = &b.account_no {
            let a: String = a.chars().filter(|c| !c.is_whitespace()).collect();
            let ok = (6..=20).contains(&a.len()) && a.bytes().all(|c| c.is_ascii_digit());
            if !a.is_empty() && !ok {
                e.add("bankDetails.accountNo", "must be 6 to 20 digits");
            }
            f.account_no = Some(a);
        }
        if let Some(i) = &b.ifsc {
            let i = i.trim().to_ascii_uppercase();
            if !i.is_empty() && !is_ifsc(&i) {
                e.add("bankDetails.ifsc", "must be an 11-character IFSC code (e.g. SBIN0001234)");
            }
            f.ifsc = Some(i);
        }
    }
    f
}

/// D1
pub async fn create_dealer(state: &AppState, client: ObjectId, r: DealerRequest) -> AppResult<DealerDoc> {
    let mut e = Errors::new();
    check_client(&mut e, &r.client_id);
    if r.name.is_none() {
        e.add("name", "is required");
    }
    let f = dealer_fields(&mut e, &r);
    e.finish()?;
    let now = DateTime::now();
    let d = DealerDoc {
        id: ObjectId::new(),
        client_id: client,
        name: f.name.unwrap_or_default(),
        contact_person: f.contact_person.unwrap_or_default(),
        contact_person_no: f.contact_person_no.unwrap_or_default(),
        contact_person_email: f.contact_person_email.unwrap_or_default(),
        phone_number: f.phone_number.unwrap_or_default(),
        email: f.email.unwrap_or_default(),
        address: f.address.unwrap_or_default(),
        logo_url: f.logo_url.unwrap_or_default(),
        gstin: f.gstin.unwrap_or_default(),
        payment_terms_days: f.payment_terms_days,
        bank_details: BankDetails {
            bank_name: f.bank_name.unwrap_or_default(),
            account_no: f.account_no.unwrap_or_default(),
            ifsc: f.ifsc.unwrap_or_default(),
        },
        is_active: true,
        created_at: now,
        updated_at: now,
        version: 0,
    };
    repo::insert_dealer(&state.db, &d).await?;
    Ok(d)
}

/// D2
pub async fn list_dealers(state: &AppState, client: ObjectId) -> AppResult<Vec<DealerDoc>> {
    repo::active_dealers(&state.db, client).await
}

/// D3 (inactive dealers can be edited too, as in v1).
pub async fn update_dealer(
    state: &AppState,
    client: ObjectId,
    dealer: ObjectId,
    r: DealerRequest,
) -> AppResult<DealerDoc> {
    let mut e = Errors::new();
    let f = dealer_fields(&mut e, &r);
    e.finish()?;
    let mut set = Document::new();
    let pairs = [
        ("name", f.name),
        ("contactPerson", f.contact_person),
        ("contactPersonNo", f.contact_person_no),
        ("contactPersonEmail", f.contact_person_email),
        ("phoneNumber", f.phone_number),
        ("email", f.email),
        ("address", f.address),
        ("logoUrl", f.logo_url),
        ("gstin", f.gstin),
        ("bankDetails.bankName", f.bank_name),
        ("bankDetails.accountNo", f.account_no),
        ("bankDetails.ifsc", f.ifsc),
    ];
    for (k, v) in pairs {
        if let Some(v) = v {
            set.insert(k, v);
        }
    }
    if let Some(d) = f.payment_terms_days {
        set.insert("paymentTermsDays", d);
    }
    repo::update_dealer(&state.db, client, dealer, set).await?.ok_or_else(|| not_found("Dealer"))
}

/// D4: soft delete (orders, payments and item mappings stay).
pub async fn delete_dealer(state: &AppState, client: ObjectId, dealer: ObjectId) -> AppResult<()> {
    if repo::deactivate_dealer(&state.db, client, dealer).await? {
        Ok(())
    } else {
        Err(not_found("Dealer"))
    }
}

// ------------------------------------------------------------------------- items

/// D5
pub async fn dealer_items(state: &AppState, client: ObjectId, dealer: ObjectId) -> AppResult<Vec<ItemWire>> {
    dealer_of(&state.db, client, dealer).await?;
    Ok(repo::dealer_items(&state.db, client, dealer).await?.into_iter().map(ItemWire::from).collect())
}

/// D6: `stock <= lowStockQuantity`, stock asc then updatedAt desc.
pub async fn low_stock(state: &AppState, client: ObjectId, dealer: ObjectId) -> AppResult<Vec<LowStockItem>> {
    dealer_of(&state.db, client, dealer).await?;
    let mut items: Vec<_> = repo::dealer_items(&state.db, client, dealer)
        .await?
        .into_iter()
        .filter(|i| i.stock <= i.low_stock_quantity)
        .collect();
    // updatedAt desc is the read order; a stable sort by stock keeps it within equal stock.
    items.sort_by_key(|i| i.stock);
    Ok(items
        .into_iter()
        .map(|i| LowStockItem {
            suggested_qty: (2 * i.low_stock_quantity - i.stock).max(1),
            is_low_stock: true,
            item: i.into(),
        })
        .collect())
}

/// D7, the recommendation rule (docs/API.md, "Dealers"):
/// `onOrder` = units of the item on the client's pending orders (any dealer);
/// `projected = stock + onOrder`; the item is recommended when `projected <= lowStockQuantity`,
/// with `suggestedQty = max(target - projected, 1)` where `target = max(2 x lowStockQuantity, 1)`.
pub async fn recommendations(state: &AppState, client: ObjectId, dealer: ObjectId) -> AppResult<Vec<Recommendation>> {
    dealer_of(&state.db, client, dealer).await?;
    let items = repo::dealer_items(&state.db, client, dealer).await?;
    let on_order = repo::on_order(&state.db, client, items.iter().map(|i| i.id).collect()).await?;
    let mut out: Vec<(i64, Recommendation)> = Vec::new();
    for i in items {
        let on = on_order.get(&i.id).copied().unwrap_or(0);
        let projected = i.stock.saturating_add(on);
        let low = i.low_stock_quantity;
        if projected > low {
            continue;
        }
        let target = (2 * low).max(1);
        let suggested = (target - projected).max(1);
        let reason = format!(
            "stock {} + on order {} = {} is at or below the threshold {}; ordering {} brings it to {}",
            i.stock,
            on,
            projected,
            low,
            suggested,
            projected + suggested
        );
        out.push((
            projected,
            Recommendation {
                suggested_qty: suggested,
                is_low_stock: i.stock <= low,
                on_order_qty: on,
                target_qty: target,
                reason,
                item: i.into(),
            },
        ));
    }
    out.sort_by_key(|(p, _)| *p);
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifsc_format() {
        assert!(is_ifsc("SBIN0001234"));
        assert!(is_ifsc("AXIS0ABC123"));
        assert!(!is_ifsc("SBIN1001234"));
        assert!(!is_ifsc("SBI0001234"));
    }
}
