//! Who a pushed operation is judged as (issue 15): the user who queued it, resolved among the
//! shop's users, and whether they may do it now.

use bson::oid::ObjectId;

use super::*;

/// Why an operation's `userId` is refused (not a user id of the pushing shop).
pub const BAD_USER: &str = "must be the id of a user of this shop (the user who queued the operation)";

/// Resolve each operation's `userId` to the user it is recorded and judged as (`Op::actor`):
/// the pushing session's user when it is theirs, else a user of `client_id` (any status: the
/// operation was queued while they were signed in) with their role and grants as they are at
/// sync. A user of another shop, or none, rejects that operation ([`BAD_USER`]); the others go
/// on.
pub(super) async fn resolve_users(
    state: &AppState,
    client_id: ObjectId,
    actor: &Actor,
    ops: &mut [Op],
) -> AppResult<()> {
    let mut wanted: Vec<ObjectId> = ops.iter().filter_map(|o| o.user).filter(|u| *u != actor.user_id).collect();
    wanted.sort();
    wanted.dedup();
    let mut known: HashMap<ObjectId, Actor> = HashMap::new();
    known.insert(actor.user_id, actor.clone());
    if !wanted.is_empty() {
        let shop = crate::client::repo::access(&state.db, client_id).await?.unwrap_or_default();
        for u in crate::users::repo::find_many(&state.db, client_id, &wanted).await? {
            known.insert(u.id, u.actor(shop.staff.role_grants.get(&u.role)));
        }
    }
    for op in ops.iter_mut() {
        let Some(u) = op.user else { continue };
        match known.get(&u) {
            Some(a) => op.actor = Some(a.clone()),
            None => {
                if op.action.is_ok() {
                    op.action = Err(format!("userId: {BAD_USER}"));
                }
            }
        }
    }
    Ok(())
}

/// The permission a synced action needs, as its online route declares it (issue 15): an
/// item's creation `items_create`; an edit `items_manage`, or `stock_adjust` when it only
/// moves stock (`stockDelta`); a deletion `items_manage`; a customer's creation or edit and a
/// sale or payment `sell`; a customer's deletion `customers_manage`; a cancel or credit note
/// `sell` (issue 18; a user without `cancel` also needs a manager's approval token, checked
/// when it is applied, `sync::bulk::credit`).
pub fn needs(action: &Action) -> Permission {
    match action {
        Action::ItemCreate(_) => Permission::ItemsCreate,
        Action::ItemUpdate { patch, stock_delta, .. } if patch.is_empty() && *stock_delta != 0 => {
            Permission::StockAdjust
        }
        Action::ItemUpdate { .. } | Action::ItemDelete(_) => Permission::ItemsManage,
        Action::CustomerCreate { .. } | Action::CustomerUpdate { .. } => Permission::Sell,
        Action::CustomerDelete(_) => Permission::CustomersManage,
        Action::InvoiceCreate(_) | Action::PaymentCreate { .. } => Permission::Sell,
        // issue 18: as the online cancel and credit-note routes declare (`sell`); a user
        // without `cancel` also needs a manager's approval token (`sync::bulk::credit`)
        Action::InvoiceCancel(_) | Action::CreditNoteCreate(_) => Permission::Sell,
    }
}

/// Whether `actor` may do `action` at sync (their permissions now, not when it was queued:
/// a revoked right stops at the next sync). `Err` is the operation's `rejected` reason,
/// `"FORBIDDEN: ..."`, naming the user, their role and the permission. What only needed an
/// approval is not refused here: a sale that needed one is applied and flagged
/// (`billing::command::SaleOptions::flag_unapproved`).
pub fn permitted(actor: &Actor, action: &Action) -> Result<(), String> {
    let p = needs(action);
    if actor.grants.contains(p) {
        Ok(())
    } else {
        Err(format!(
            "FORBIDDEN: {} ({}) does not have the permission {} this operation needs",
            actor.name,
            actor.role.as_str(),
            p.as_str()
        ))
    }
}
