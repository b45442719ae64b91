//! D8-D13: purchase orders (consecutive numbers per financial year), cancellation, delivery
//! into stock exactly once (receipts) and the bill total.

use std::collections::{HashMap, HashSet};

use bson::{doc, oid::ObjectId, DateTime};
use chrono::Datelike;
use mongodb::Database;

use crate::{
    access::By,
    catalog::stock::{self, Move, Moved, Reason},
    db,
    dealer::{dto::*, model::*, repo},
    error::{AppError, AppResult},
    money::Paise,
    state::AppState,
    time,
    validate::Errors,
};

use super::{check_client, dealer_of, due_field, not_found, opt_oid, required_oid, MAX_LINES, MAX_QTY};

/// `PO/26-27/0007`
pub fn order_number(fy: &str, seq: i64) -> String {
    format!("PO/{fy}/{seq:04}")
}

// ------------------------------------------------------------------------- orders

struct NewOrder {
    db: Database,
    client: ObjectId,
    dealer: ObjectId,
    lines: Vec<(ObjectId, i64, Option<ObjectId>)>,
    notes: String,
    instructions: String,
    urgent: bool,
    counter: String,
    fy: String,
    by: By,
}

/// D8: lines checked and the number drawn in one transaction with the insert. `by` (the
/// signed-in user) is recorded as the order's `createdBy`.
pub async fn create_order(state: &AppState, client: ObjectId, by: By, r: CreateOrderRequest) -> AppResult<OrderDoc> {
    let mut e = Errors::new();
    check_client(&mut e, &r.client_id);
    let dealer = required_oid(&mut e, "dealerId", &r.dealer_id);
    let mut lines = Vec::new();
    match &r.items {
        None => e.add("items", "is required"),
        Some(v) if v.is_empty() => e.add("items", "must have at least one line"),
        Some(v) if v.len() > MAX_LINES => e.add("items", format!("must have at most {MAX_LINES} lines")),
        Some(v) => {
            for (i, l) in v.iter().enumerate() {
                let id = required_oid(&mut e, &format!("items[{i}].itemId"), &l.item_id);
                let q = match l.quantity {
                    None => {
                        e.add(&format!("items[{i}].quantity"), "is required");
                        0
                    }
                    Some(q) if !(1..=MAX_QTY).contains(&q) => {
                        e.add(&format!("items[{i}].quantity"), format!("must be a whole number from 1 to {MAX_QTY}"));
                        0
                    }
                    Some(q) => q,
                };
                let unit = l
                    .unit_id
                    .as_deref()
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .and_then(|u| e.oid(&format!("items[{i}].unitId"), u));
                if let Some(id) = id {
                    lines.push((id, q, unit));
                }
            }
        }
    }
    let notes = e.opt_text("notes", &r.notes, 0, 1000).unwrap_or_default();
    let instructions = e.opt_text("deliveryInstructions", &r.delivery_instructions, 0, 1000).unwrap_or_default();
    e.finish()?;
    let dealer = dealer.ok_or_else(|| AppError::validation("dealerId", "is required"))?;
    let now = state.clock.now();
    let (fy_start, fy) = (time::fy_start(time::ist_date(now)).year(), time::financial_year(now));
    let counter = format!("po:{}:{}", client.to_hex(), fy_start);
    repo::ensure_counter(&state.db, &counter).await?;
    let ctx = NewOrder {
        db: state.db.clone(),
        client,
        dealer,
        lines,
        notes,
        instructions,
        urgent: r.is_urgent.unwrap_or(false),
        counter,
        fy,
        by,
    };
    db::transaction(&state.client, &ctx, |s, c| {
        Box::pin(async move {
            let d = repo::find_dealer_s(&c.db, s, c.client, c.dealer).await?;
            if !d.is_some_and(|d| d.is_active) {
                return Err(not_found("Dealer"));
            }
            let ids: Vec<ObjectId> = c.lines.iter().map(|(id, ..)| *id).collect::<HashSet<_>>().into_iter().collect();
            let items = repo::items_by_ids_s(&c.db, s, c.client, ids).await?;
            let mut e = Errors::new();
            let mut units = Vec::with_capacity(c.lines.len());
            for (i, (id, _, unit)) in c.lines.iter().enumerate() {
                // the packing unit ordered in (issue 16): one the item is sold in
                let sold = unit.and_then(|u| items.get(id)?.details.units.iter().find(|x| x.unit_id == u));
                if unit.is_some() && sold.is_none() {
                    e.add(&format!("items[{i}].unitId"), "is not a unit this item is sold in");
                }
                units.push(sold.map(|u| OrderUnit { unit_id: u.unit_id, unit_name: u.name.clone(), factor: u.factor }));
                match items.get(id) {
                    None => e.add(&format!("items[{i}].itemId"), "item not found"),
                    Some(it) if !it.is_active => e.add(&format!("items[{i}].itemId"), "item is inactive"),
                    Some(it) if !it.dealer_ids.contains(&c.dealer) => {
                        e.add(&format!("items[{i}].itemId"), "item is not supplied by this dealer")
                    }
                    Some(_) => {}
                }
            }
            e.finish()?;
            let seq = repo::next_seq(&c.db, s, &c.counter).await?;
            let now = DateTime::now();
            let order = OrderDoc {
                id: ObjectId::new(),
                client_id: c.client,
                dealer_id: c.dealer,
                order_number: order_number(&c.fy, seq),
                status: STATUS_PENDING.into(),
                is_urgent: c.urgent,
                delivery_instructions: c.instructions.clone(),
                notes: c.notes.clone(),
                pdf_url: String::new(),
                total_amount: None,
                paid_amount: Paise::ZERO,
                due_date: None,
                delivered_at: None,
                cancelled_at: None,
                delivery_audit: DeliveryAudit::default(),
                created_at: now,
                updated_at: now,
                version: 0,
                created_by: Some(c.by.clone()),
            };
            let lines: Vec<LineDoc> = c
                .lines
                .iter()
                .zip(units)
                .map(|((id, q, _), unit)| LineDoc {
                    id: ObjectId::new(),
                    order_id: order.id,
                    client_id: c.client,
                    item_id: *id,
                    item_name_snapshot: items.get(id).map(|i| i.name.clone()).unwrap_or_default(),
                    quantity: *q,
                    received_quantity: None,
                    version: 0,
                    unit,
                })
                .collect();
            repo::insert_order(&c.db, s, &order, &lines).await?;
            Ok(order)
        })
    })
    .await
}

/// D9
pub async fn dealer_orders(state: &AppState, client: ObjectId, dealer: ObjectId) -> AppResult<Vec<OrderDoc>> {
    dealer_of(&state.db, client, dealer).await?;
    repo::dealer_orders(&state.db, client, dealer).await
}

pub async fn order_of(db: &Database, client: ObjectId, order: ObjectId) -> AppResult<OrderDoc> {
    repo::find_order(db, client, order).await?.ok_or_else(|| not_found("Order"))
}

/// D10
pub async fn order_with_lines(
    state: &AppState,
    client: ObjectId,
    order: ObjectId,
) -> AppResult<(OrderDoc, Vec<LineDoc>)> {
    let o = order_of(&state.db, client, order).await?;
    let lines = repo::order_lines(&state.db, client, order).await?;
    Ok((o, lines))
}

/// D11: only a pending order without payments can be cancelled (400 otherwise, as v1).
pub async fn cancel_order(state: &AppState, client: ObjectId, order: ObjectId, r: ClientBody) -> AppResult<OrderDoc> {
    let mut e = Errors::new();
    check_client(&mut e, &r.client_id);
    e.finish()?;
    if let Some(o) = repo::cancel_order(&state.db, client, order).await? {
        return Ok(o);
    }
    let o = order_of(&state.db, client, order).await?;
    if o.status != STATUS_PENDING {
        return Err(AppError::bad_request(format!("Cancel order failed: order is {}, not pending", o.status)));
    }
    Err(AppError::bad_request("Cancel order failed: payments are recorded against this order"))
}

struct Delivery {
    db: Database,
    client: ObjectId,
    order: ObjectId,
    total: Option<Paise>,
    due: Option<DateTime>,
    delivered_by: String,
    delivery_note: String,
    /// (lineId | itemId, received quantity, field name)
    received: Vec<(Option<ObjectId>, Option<ObjectId>, i64, String)>,
    /// The lot of each `received` entry (same index): (batchNo, expiryDate, mrp paise).
    lots: Vec<Option<(String, String, Option<i64>)>>,
    /// The delivery time (the state's clock): `deliveredAt` and the start of payment terms.
    now: DateTime,
    /// The shop's `clientSettings.purchases.overReceiptAllowancePercent`.
    allowance_percent: i64,
    /// Who receives the goods: the order's `deliveryAudit.receivedBy` and the `by` of every
    /// stock movement of the delivery.
    by: By,
}

/// The most units a line may still receive: the ordered quantity plus the shop's
/// over-receipt allowance (whole percent of the ordered quantity, rounded down, as ERPNext's
/// "over delivery/receipt allowance"), minus what was already received. `None` on overflow.
pub fn receivable(ordered: i64, already: i64, allowance_percent: i64) -> Option<i64> {
    let extra = ordered.checked_mul(allowance_percent)? / 100;
    ordered.checked_add(extra)?.checked_sub(already)
}

/// D12: pending -> delivered exactly once. The guarded status change, every line's stock
/// increment (with its stock movement) and the line's received quantity commit together or
/// not at all; a racing second delivery conflicts, retries, and then finds the order
/// delivered (400). `by` (the signed-in user) is recorded as `deliveryAudit.receivedBy` and
/// as the `by` of each stock movement.
pub async fn mark_delivered(
    state: &AppState,
    client: ObjectId,
    order: ObjectId,
    by: By,
    r: MarkDeliveredRequest,
) -> AppResult<OrderDoc> {
    let mut e = Errors::new();
    check_client(&mut e, &r.client_id);
    if let Some(t) = r.total_amount {
        crate::limits::amount(&mut e, "totalAmount", t);
    }
    let due = due_field(&mut e, "dueDate", &r.due_date);
    let delivered_by = e.opt_text("deliveredBy", &r.delivered_by, 0, 100).unwrap_or_default();
    let delivery_note = e.opt_text("deliveryNote", &r.delivery_note, 0, 1000).unwrap_or_default();
    let mut received = Vec::new();
    let mut lots = Vec::new();
    for (i, x) in r.items.iter().flatten().enumerate() {
        let field = format!("items[{i}]");
        lots.push(received_lot(&mut e, &field, x));
        let line = opt_oid(&mut e, &format!("{field}.lineId"), &x.line_id);
        let item = opt_oid(&mut e, &format!("{field}.itemId"), &x.item_id);
        if x.line_id.is_none() == x.item_id.is_none() {
            e.add(&field, "send exactly one of lineId or itemId");
        }
        let q = match x.received_quantity {
            None => {
                e.add(&format!("{field}.receivedQuantity"), "is required");
                0
            }
            Some(q) if !(0..=MAX_QTY).contains(&q) => {
                e.add(&format!("{field}.receivedQuantity"), format!("must be a whole number from 0 to {MAX_QTY}"));
                0
            }
            Some(q) => q,
        };
        received.push((line, item, q, field));
    }
    e.finish()?;
    let allowance_percent = crate::client::repo::find_by_id(&state.db, client)
        .await?
        .map(|c| c.client_settings.purchases.over_receipt_allowance_percent)
        .unwrap_or_default();
    let ctx = Delivery {
        now: state.clock.now(),
        allowance_percent,
        db: state.db.clone(),
        client,
        order,
        total: r.total_amount,
        due,
        delivered_by,
        delivery_note,
        received,
        lots,
        by,
    };
    db::transaction(&state.client, &ctx, |s, c| {
        Box::pin(async move {
            let o = repo::find_order_s(&c.db, s, c.client, c.order).await?.ok_or_else(|| not_found("Order"))?;
            if o.status != STATUS_PENDING {
                return Err(AppError::bad_request(format!(
                    "Mark delivered failed: order is {}, not pending",
                    o.status
                )));
            }
            let lines = repo::order_lines_s(&c.db, s, c.client, c.order).await?;
            if lines.is_empty() {
                return Err(AppError::bad_request("Mark delivered failed: order has no lines"));
            }
            // Resolve the received quantities to lines.
            let mut qty: HashMap<ObjectId, (i64, &str)> = HashMap::new();
            let mut lot_of: HashMap<ObjectId, &(String, String, Option<i64>)> = HashMap::new();
            let mut e = Errors::new();
            for (k, (line, item, q, field)) in c.received.iter().enumerate() {
                let target = match (line, item) {
                    (Some(l), _) => lines.iter().find(|x| x.id == *l).map(|x| x.id),
                    (None, Some(it)) => {
                        let m: Vec<_> = lines.iter().filter(|x| x.item_id == *it).collect();
                        if m.len() > 1 {
                            e.add(field, "this item is on several lines; use lineId");
                            continue;
                        }
                        m.first().map(|x| x.id)
                    }
                    _ => None,
                };
                match target {
                    None => e.add(field, "not a line of this order"),
                    Some(id) => {
                        if qty.insert(id, (*q, field.as_str())).is_some() {
                            e.add(field, "line listed twice");
                        }
                        if let Some(Some(lot)) = c.lots.get(k) {
                            lot_of.insert(id, lot);
                        }
                    }
                }
            }
            if let Some(t) = c.total {
                if t < o.paid_amount {
                    e.add("totalAmount", format!("must not be below the amount already paid ({})", o.paid_amount));
                }
            }
            e.finish()?;
            // Over-receipt (ERPNext's allowance rule): no line may receive more than ordered
            // plus the shop's allowance; the goods would count as stock nobody paid for.
            let over: Vec<String> = lines
                .iter()
                .filter_map(|l| {
                    let (q, field) = qty.get(&l.id).copied()?;
                    let max = receivable(l.quantity, l.received_quantity.unwrap_or(0), c.allowance_percent)?;
                    (q > max).then(|| {
                        format!(
                            "{field}.receivedQuantity {q} exceeds the ordered {} (at most {max} with an over-receipt allowance of {} %)",
                            l.quantity, c.allowance_percent
                        )
                    })
                })
                .collect();
            if !over.is_empty() {
                return Err(AppError::conflict(
                    "OVER_RECEIPT",
                    format!("Mark delivered failed: {}", over.join("; ")),
                ));
            }
            let now = c.now;
            let mut set = doc! {
                "deliveredAt": now, "updatedAt": now,
                "deliveryAudit": {
                    "deliveredBy": &c.delivered_by, "deliveryNote": &c.delivery_note, "deliveredAt": now,
                    "receivedBy": { "userId": c.by.user_id, "name": &c.by.name },
                },
            };
            if let Some(t) = c.total {
                set.insert("totalAmount", t.as_i64());
            }
            let due = match c.due {
                Some(d) => Some(d),
                None if o.due_date.is_none() => {
                    let terms = repo::find_dealer_s(&c.db, s, c.client, o.dealer_id)
                        .await?
                        .and_then(|d| d.payment_terms_days)
                        .filter(|d| *d > 0);
                    // n India calendar days after the India date of delivery
                    terms.and_then(|d| time::date_after_days(now, d.unsigned_abs()))
                }
                None => None,
            };
            if let Some(d) = due {
                set.insert("dueDate", d);
            }
            let updated = repo::mark_delivered_s(&c.db, s, c.client, c.order, set)
                .await?
                .ok_or_else(|| AppError::bad_request("Mark delivered failed: order is not pending"))?;
            for l in &lines {
                let received = qty.get(&l.id).map_or(l.quantity, |x| x.0);
                repo::set_line_received(&c.db, s, c.client, l.id, received).await?;
                // a line in a packing unit receives factor base units for each (issue 16)
                let q = l.base_units(received).ok_or_else(|| crate::limits::stock_out_of_range(&l.item_name_snapshot))?;
                if q > 0 {
                    let mv = Move {
                        client_id: c.client,
                        item_id: l.item_id,
                        delta: q,
                        allow_negative: true,
                        reason: Reason::Purchase,
                        ref_id: Some(c.order),
                        by: Some(c.by.clone()),
                    };
                    // An item removed from the database entirely cannot receive stock; the
                    // delivery still completes (items are only ever soft-deleted by the API).
                    match stock::apply(&c.db, s, &mv).await? {
                        Moved::NotFound => {
                            tracing::warn!(item = %l.item_id, order = %c.order, "delivered line for a missing item")
                        }
                        Moved::OutOfRange => {
                            return Err(crate::limits::stock_out_of_range(&l.item_name_snapshot));
                        }
                        Moved::Done | Moved::Insufficient => {}
                    }
                    if let Some((batch_no, expiry_date, mrp)) = lot_of.get(&l.id) {
                        receive_lot(s, c, l.item_id, q, batch_no, expiry_date, *mrp).await?;
                    }
                }
            }
            Ok(updated)
        })
    })
    .await
}

/// The lot of a received line (`batchNo` with `expiryDate`, optional `mrp`), checked.
fn received_lot(e: &mut Errors, field: &str, x: &ReceivedInput) -> Option<(String, String, Option<i64>)> {
    let no = crate::catalog::batch::line_batch(e, &format!("{field}.batchNo"), &x.batch_no);
    let expiry = x.expiry_date.as_deref().map(str::trim).filter(|d| !d.is_empty());
    match (no, expiry) {
        (None, None) => None,
        (Some(no), Some(d)) => {
            let d = crate::catalog::batch::check_expiry(e, &format!("{field}.expiryDate"), d)?;
            if let Some(m) = x.mrp {
                crate::limits::amount(e, &format!("{field}.mrp"), m);
            }
            Some((no, d.format("%Y-%m-%d").to_string(), x.mrp.map(|m| m.as_i64())))
        }
        (Some(_), None) => {
            e.add(&format!("{field}.expiryDate"), "is required with batchNo");
            None
        }
        (None, Some(_)) => {
            if x.batch_no.as_deref().is_none_or(|b| b.trim().is_empty()) {
                e.add(&format!("{field}.batchNo"), "is required with expiryDate");
            }
            None
        }
    }
}

/// Put `q` received units of `item` into its lot (issue 16): only a `hasExpiry` item has lots.
async fn receive_lot(
    s: &mut mongodb::ClientSession,
    c: &Delivery,
    item: ObjectId,
    q: i64,
    batch_no: &str,
    expiry_date: &str,
    mrp: Option<i64>,
) -> AppResult<()> {
    let it = crate::catalog::repo::find_item(&c.db, s, c.client, item).await?;
    if !it.is_some_and(|i| i.details.has_expiry) {
        return Err(AppError::validation(
            "items",
            format!("batch {batch_no}: the item does not track expiry (hasExpiry)"),
        ));
    }
    let r = crate::catalog::batch::repo::Receive {
        client_id: c.client,
        item_id: item,
        batch_no: batch_no.to_string(),
        expiry_date: expiry_date.to_string(),
        quantity: q,
        mrp,
        by: Some(c.by.clone()),
        now: c.now,
    };
    crate::catalog::batch::repo::receive(&c.db, s, &r).await?;
    Ok(())
}

/// D13: bill total and/or due date while pending or delivered (not cancelled). The total may
/// not go below what is already paid.
pub async fn set_total(state: &AppState, client: ObjectId, order: ObjectId, r: SetTotalRequest) -> AppResult<OrderDoc> {
    let mut e = Errors::new();
    check_client(&mut e, &r.client_id);
    if let Some(t) = r.total_amount {
        crate::limits::amount(&mut e, "totalAmount", t);
    }
    let due = due_field(&mut e, "dueDate", &r.due_date);
    if r.total_amount.is_none() && r.due_date.is_none() {
        e.add("body", "send totalAmount and/or dueDate");
    }
    e.finish()?;
    if let Some(o) = repo::set_total(&state.db, client, order, r.total_amount, due).await? {
        return Ok(o);
    }
    let o = order_of(&state.db, client, order).await?;
    if o.status == STATUS_CANCELLED {
        return Err(AppError::bad_request("Set total failed: order is cancelled"));
    }
    Err(AppError::validation("totalAmount", format!("must not be below the amount already paid ({})", o.paid_amount)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers() {
        assert_eq!(order_number("26-27", 7), "PO/26-27/0007");
        assert_eq!(order_number("26-27", 12345), "PO/26-27/12345");
    }
}
