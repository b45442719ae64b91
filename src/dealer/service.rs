//! Dealer business rules: validation, order numbering, the delivery and payment
//! transactions, summaries and timelines. Money is `Paise` throughout.

use std::collections::{HashMap, HashSet};

use bson::{doc, oid::ObjectId, DateTime, Document};
use chrono::Datelike;
use mongodb::Database;
use serde_json::json;

use crate::{
    catalog::stock::{self, Move, Moved, Reason},
    db,
    dealer::{dto::*, model::*, repo},
    error::{AppError, AppResult},
    money::Paise,
    state::AppState,
    time,
    validate::{self, Errors},
    wire,
};

/// Largest quantity accepted on an order or delivery line.
pub const MAX_QTY: i64 = crate::limits::MAX_UNITS;
/// Largest number of lines on one order.
pub const MAX_LINES: usize = 200;
/// Paging of D17, D19, D22, D23.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

// ------------------------------------------------------------------------- helpers

fn not_found(what: &str) -> AppError {
    AppError::not_found(format!("{what} not found"))
}

/// Parsed paging: `limit` 1..=200 (default 50, larger values capped), `skip` >= 0.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub skip: u64,
}

pub fn page(limit: &Option<String>, skip: &Option<String>) -> AppResult<Page> {
    let mut e = Errors::new();
    let limit = match limit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 1 => n.min(MAX_LIMIT),
            Ok(_) => {
                e.add("query.limit", "must be at least 1");
                DEFAULT_LIMIT
            }
            Err(_) => {
                e.add("query.limit", "must be a whole number");
                DEFAULT_LIMIT
            }
        },
    };
    let skip = match skip.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 0 => n as u64,
            Ok(_) => {
                e.add("query.skip", "must not be negative");
                0
            }
            Err(_) => {
                e.add("query.skip", "must be a whole number");
                0
            }
        },
    };
    e.finish()?;
    Ok(Page { limit, skip })
}

/// `PO/26-27/0007`
pub fn order_number(fy: &str, seq: i64) -> String {
    format!("PO/{fy}/{seq:04}")
}

/// A due date: ISO-8601 datetime ending in `Z` (any fraction digits) or `YYYY-MM-DD`.
/// A date is stored as 00:00 UTC of that date (v1's encoding, `time::date_instant`); every
/// due date is read as the India date of its instant, so `2026-04-01` is due all of 1 April
/// in India and overdue from 2 April 00:00 IST (`time::is_overdue`).
pub fn parse_due_date(s: &str) -> Option<DateTime> {
    let s = s.trim();
    if s.len() == 10 {
        return time::parse_date(s).map(time::date_instant);
    }
    if !s.ends_with('Z') {
        return None;
    }
    let dt = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    Some(DateTime::from_chrono(dt.with_timezone(&chrono::Utc)))
}

fn due_field(e: &mut Errors, field: &str, v: &Option<String>) -> Option<DateTime> {
    let s = v.as_deref()?;
    let d = parse_due_date(s);
    if d.is_none() {
        e.add(field, "must be an ISO-8601 datetime ending in Z or a YYYY-MM-DD date");
    }
    d
}

/// A body `clientId` is optional on every dealer create, as on the other creates (the tenant
/// is the token's; `ApiJson` refused a foreign one with 403 and dropped an empty one); when
/// sent it must still be a well-formed id.
fn check_client(e: &mut Errors, v: &Option<String>) {
    if let Some(s) = v {
        e.oid("clientId", s);
    }
}

fn required_oid(e: &mut Errors, field: &str, v: &Option<String>) -> Option<ObjectId> {
    match v {
        None => {
            e.add(field, "is required");
            None
        }
        Some(s) => e.oid(field, s),
    }
}

fn opt_oid(e: &mut Errors, field: &str, v: &Option<String>) -> Option<ObjectId> {
    v.as_deref().filter(|s| !s.trim().is_empty()).and_then(|s| e.oid(field, s))
}

// ------------------------------------------------------------------------- dealers

/// Validated dealer fields; `None` = not sent.
#[derive(Default)]
struct DealerFields {
    name: Option<String>,
    contact_person: Option<String>,
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

async fn dealer_of(db: &Database, client: ObjectId, dealer: ObjectId) -> AppResult<DealerDoc> {
    repo::find_dealer(db, client, dealer).await?.ok_or_else(|| not_found("Dealer"))
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

// ------------------------------------------------------------------------- orders

struct NewOrder {
    db: Database,
    client: ObjectId,
    dealer: ObjectId,
    lines: Vec<(ObjectId, i64)>,
    notes: String,
    instructions: String,
    urgent: bool,
    counter: String,
    fy: String,
}

/// D8: lines checked and the number drawn in one transaction with the insert.
pub async fn create_order(state: &AppState, client: ObjectId, r: CreateOrderRequest) -> AppResult<OrderDoc> {
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
                if let Some(id) = id {
                    lines.push((id, q));
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
    };
    db::transaction(&state.client, &ctx, |s, c| {
        Box::pin(async move {
            let d = repo::find_dealer_s(&c.db, s, c.client, c.dealer).await?;
            if !d.is_some_and(|d| d.is_active) {
                return Err(not_found("Dealer"));
            }
            let ids: Vec<ObjectId> = c.lines.iter().map(|(id, _)| *id).collect::<HashSet<_>>().into_iter().collect();
            let items = repo::items_by_ids_s(&c.db, s, c.client, ids).await?;
            let mut e = Errors::new();
            for (i, (id, _)) in c.lines.iter().enumerate() {
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
            };
            let lines: Vec<LineDoc> = c
                .lines
                .iter()
                .map(|(id, q)| LineDoc {
                    id: ObjectId::new(),
                    order_id: order.id,
                    client_id: c.client,
                    item_id: *id,
                    item_name_snapshot: items.get(id).map(|i| i.name.clone()).unwrap_or_default(),
                    quantity: *q,
                    received_quantity: None,
                    version: 0,
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
    /// The delivery time (the state's clock): `deliveredAt` and the start of payment terms.
    now: DateTime,
    /// The shop's `clientSettings.purchases.overReceiptAllowancePercent`.
    allowance_percent: i64,
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
/// delivered (400).
pub async fn mark_delivered(
    state: &AppState,
    client: ObjectId,
    order: ObjectId,
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
    for (i, x) in r.items.iter().flatten().enumerate() {
        let field = format!("items[{i}]");
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
            let mut e = Errors::new();
            for (line, item, q, field) in &c.received {
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
                "deliveryAudit": { "deliveredBy": &c.delivered_by, "deliveryNote": &c.delivery_note, "deliveredAt": now },
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
                let q = qty.get(&l.id).map_or(l.quantity, |x| x.0);
                repo::set_line_received(&c.db, s, c.client, l.id, q).await?;
                if q > 0 {
                    let mv = Move {
                        client_id: c.client,
                        item_id: l.item_id,
                        delta: q,
                        allow_negative: true,
                        reason: Reason::Purchase,
                        ref_id: Some(c.order),
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
                }
            }
            Ok(updated)
        })
    })
    .await
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

// ------------------------------------------------------------------------- payments

struct NewPayment<'a> {
    state: &'a AppState,
    db: Database,
    payment: PaymentDoc,
    keyed: Option<(&'a str, &'a str)>,
}

/// D15: with an `orderId`, the guarded `$inc` of the order's `paidAmount` and the payment
/// insert commit together, so concurrent payments can never pay an order beyond its total.
pub async fn create_payment(state: &AppState, client: ObjectId, r: CreatePaymentRequest) -> AppResult<PaymentDoc> {
    create_payment_keyed(state, client, r, None).await.map(|(p, _)| p)
}

/// [`create_payment`]; with `keyed` = (`X-Idempotency-Key`, `idem::hash` of the request) the
/// 201 answer is rendered and recorded under the key in the same transaction as the payment
/// (`idem`), and returned as the second value.
pub async fn create_payment_keyed(
    state: &AppState,
    client: ObjectId,
    r: CreatePaymentRequest,
    keyed: Option<(&str, &str)>,
) -> AppResult<(PaymentDoc, Option<String>)> {
    let mut e = Errors::new();
    check_client(&mut e, &r.client_id);
    let dealer = required_oid(&mut e, "dealerId", &r.dealer_id);
    let order = opt_oid(&mut e, "orderId", &r.order_id);
    match r.amount {
        None => e.add("amount", "is required"),
        Some(a) if !a.is_positive() => e.add("amount", "must be greater than 0"),
        Some(a) => crate::limits::amount(&mut e, "amount", a),
    }
    let method = r.method.as_deref().map(|m| m.trim().to_ascii_lowercase()).unwrap_or_else(|| "cash".into());
    if !METHODS.contains(&method.as_str()) {
        e.add("method", "must be one of cash, card, upi, bank, other");
    }
    let note = e.opt_text("note", &r.note, 0, 500).unwrap_or_default();
    let proof_url = r.proof_url.as_deref().map(|u| e.url("proofUrl", u)).unwrap_or_default();
    e.finish()?;
    let (Some(dealer), Some(amount)) = (dealer, r.amount) else {
        return Err(AppError::validation("body", "dealerId and amount are required"));
    };
    dealer_of(&state.db, client, dealer).await?;
    let now = DateTime::now();
    let payment = PaymentDoc {
        id: ObjectId::new(),
        client_id: client,
        dealer_id: dealer,
        order_id: order,
        amount,
        method,
        note,
        proof_url,
        paid_at: now,
        created_at: now,
        updated_at: now,
        version: 0,
    };
    let ctx = NewPayment { state, db: state.db.clone(), payment, keyed };
    db::transaction(&state.client, &ctx, |s, c| {
        Box::pin(async move {
            let p = &c.payment;
            if let Some(oid) = p.order_id {
                let o = repo::find_order_s(&c.db, s, p.client_id, oid).await?.ok_or_else(|| not_found("Order"))?;
                if o.dealer_id != p.dealer_id {
                    return Err(AppError::validation("orderId", "is an order of another dealer"));
                }
                if o.status == STATUS_CANCELLED {
                    return Err(AppError::bad_request("Record payment failed: order is cancelled"));
                }
                let Some(total) = o.total_amount else {
                    return Err(AppError::bad_request(
                        "Record payment failed: the order has no bill total yet (set it with mark-delivered or /total)",
                    ));
                };
                let left = total.checked_sub(o.paid_amount).unwrap_or(Paise::ZERO);
                if p.amount > left {
                    return Err(AppError::validation(
                        "amount",
                        format!("exceeds the amount still owed on this order ({})", left.max(Paise::ZERO)),
                    ));
                }
                if !repo::inc_paid_s(&c.db, s, p.client_id, p.dealer_id, oid, p.amount).await? {
                    return Err(AppError::validation("amount", "exceeds the amount still owed on this order"));
                }
            }
            repo::insert_payment(&c.db, s, p).await?;
            let out = match c.keyed {
                Some((key, hash)) => {
                    let body = serde_json::to_string(&PaymentResponse { success: true, payment: p.clone().into() })
                        .map_err(|e| AppError::internal(format!("response serialization: {e}")))?;
                    crate::idem::record_status(c.state, s, p.client_id, key, hash, 201, &body).await?;
                    Some(body)
                }
                None => None,
            };
            Ok((p.clone(), out))
        })
    })
    .await
}

/// D14
pub async fn order_payments(state: &AppState, client: ObjectId, order: ObjectId) -> AppResult<OrderPaymentsResponse> {
    let o = order_of(&state.db, client, order).await?;
    let pays = repo::order_payments(&state.db, client, order).await?;
    let total_paid = Paise::checked_sum(pays.iter().map(|p| p.amount))
        .ok_or_else(|| AppError::internal("order payments do not fit i64 paise"))?;
    let total = o.total_amount.unwrap_or(Paise::ZERO);
    let remaining = Paise::new((total.as_i64() - total_paid.as_i64()).max(0));
    Ok(OrderPaymentsResponse {
        success: true,
        order: OrderBrief {
            id: o.id.to_hex(),
            order_number: o.order_number,
            total_amount: o.total_amount,
            due_date: o.due_date.map(wire::iso),
            status: o.status,
        },
        payments: pays.into_iter().map(PaymentWire::from).collect(),
        summary: OrderPaySummary {
            total_paid,
            remaining,
            is_paid_in_full: remaining.as_i64() == 0 && total.as_i64() > 0,
        },
    })
}

/// D16
pub async fn dealer_payments(state: &AppState, client: ObjectId, dealer: ObjectId) -> AppResult<Vec<PaymentDoc>> {
    dealer_of(&state.db, client, dealer).await?;
    repo::dealer_payments(&state.db, client, dealer, None).await
}

/// D17
pub async fn all_payments(state: &AppState, client: ObjectId, q: PaymentsAllQuery) -> AppResult<PaymentsAllResponse> {
    let mut e = Errors::new();
    let dealer = opt_oid(&mut e, "query.dealerId", &q.dealer_id);
    let order = opt_oid(&mut e, "query.orderId", &q.order_id);
    e.finish()?;
    let pg = page(&q.limit, &q.skip)?;
    if let Some(d) = dealer {
        dealer_of(&state.db, client, d).await?;
    }
    if let Some(o) = order {
        order_of(&state.db, client, o).await?;
    }
    let (count, sum) = repo::payment_totals(&state.db, client, dealer, order).await?;
    let rows = repo::payments_page(&state.db, client, dealer, order, pg.limit, pg.skip).await?;
    let names = repo::dealers_by_ids(&state.db, client, rows.iter().map(|p| p.dealer_id).collect()).await?;
    let orders = repo::orders_by_ids(&state.db, client, rows.iter().filter_map(|p| p.order_id).collect()).await?;
    let payments = rows
        .into_iter()
        .map(|p| PaymentRow {
            id: p.id.to_hex(),
            dealer_id: p.dealer_id.to_hex(),
            dealer_name: names.get(&p.dealer_id).map(|d| d.name.clone()).unwrap_or_else(|| "Unknown".into()),
            order_id: p.order_id.map(|o| o.to_hex()),
            order_number: p.order_id.and_then(|o| orders.get(&o)).map(|o| o.order_number.clone()),
            amount: p.amount,
            method: p.method,
            note: p.note,
            proof_url: p.proof_url,
            paid_at: wire::iso(p.paid_at),
        })
        .collect();
    Ok(PaymentsAllResponse {
        success: true,
        summary: PaymentsAllSummary { total_payments: count, total_amount: sum },
        total_count: count,
        limit: pg.limit,
        skip: pg.skip,
        payments,
    })
}

/// D18
pub async fn payment(state: &AppState, client: ObjectId, id: ObjectId) -> AppResult<PaymentDoc> {
    repo::find_payment(&state.db, client, id).await?.ok_or_else(|| not_found("Payment"))
}

pub const PAYMENT_STATUSES: &[&str] = &["all", "pending", "partial", "paid", "no-bill"];

/// D19
pub async fn order_payment_status(
    state: &AppState,
    client: ObjectId,
    q: OrderPaymentsQuery,
) -> AppResult<OrderPaymentsListResponse> {
    let mut e = Errors::new();
    let status = q.status.as_deref().map(|s| s.trim().to_ascii_lowercase()).unwrap_or_else(|| "all".into());
    let status = if status.is_empty() { "all".to_string() } else { status };
    if !PAYMENT_STATUSES.contains(&status.as_str()) {
        e.add("query.status", "must be one of all, pending, partial, paid, no-bill");
    }
    let dealer = opt_oid(&mut e, "query.dealerId", &q.dealer_id);
    e.finish()?;
    let pg = page(&q.limit, &q.skip)?;
    if let Some(d) = dealer {
        dealer_of(&state.db, client, d).await?;
    }
    let t = repo::order_payment_totals(&state.db, client, dealer).await?;
    let (rows, count) =
        repo::orders_page(&state.db, client, dealer, repo::payment_status_filter(&status), pg.limit, pg.skip).await?;
    let names = repo::dealers_by_ids(&state.db, client, rows.iter().map(|o| o.dealer_id).collect()).await?;
    let counts = repo::payment_counts(&state.db, client, rows.iter().map(|o| o.id).collect()).await?;
    let orders = rows
        .into_iter()
        .map(|o| OrderPaymentRow {
            id: o.id.to_hex(),
            dealer_name: names.get(&o.dealer_id).map(|d| d.name.clone()).unwrap_or_else(|| "Unknown".into()),
            payment_status: payment_status(&o).into(),
            remaining: remaining(&o),
            payment_count: counts.get(&o.id).copied().unwrap_or(0),
            total_paid: o.paid_amount,
            order_number: o.order_number,
            dealer_id: o.dealer_id.to_hex(),
            status: o.status,
            total_amount: o.total_amount,
            due_date: o.due_date.map(wire::iso),
            created_at: wire::iso(o.created_at),
            delivered_at: o.delivered_at.map(wire::iso),
        })
        .collect();
    Ok(OrderPaymentsListResponse {
        success: true,
        summary: OrderPaymentsSummary {
            total_orders: t.total_orders,
            pending_orders: t.pending,
            partial_orders: t.partial,
            paid_orders: t.paid,
            no_bill_orders: t.no_bill,
            total_amount: t.billed,
            total_paid: t.paid_amount,
            total_remaining: t.remaining,
        },
        total_count: count,
        limit: pg.limit,
        skip: pg.skip,
        orders,
    })
}

/// D20
pub async fn payment_details(state: &AppState, client: ObjectId, order: ObjectId) -> AppResult<PaymentDetailsResponse> {
    let o = order_of(&state.db, client, order).await?;
    let dealer = repo::find_dealer(&state.db, client, o.dealer_id).await?;
    let lines = repo::order_lines(&state.db, client, order).await?;
    let pays = repo::order_payments(&state.db, client, order).await?;
    let rem = remaining(&o);
    let total = o.total_amount.unwrap_or(Paise::ZERO);
    Ok(PaymentDetailsResponse {
        success: true,
        payment_summary: PaymentSummaryWire {
            payment_status: payment_status(&o).into(),
            total_paid: o.paid_amount,
            remaining: rem,
            is_paid_in_full: rem.as_i64() == 0 && total.as_i64() > 0,
        },
        order: PaymentDetailsOrder {
            id: o.id.to_hex(),
            order_number: o.order_number,
            dealer_id: o.dealer_id.to_hex(),
            dealer_name: dealer.as_ref().map(|d| d.name.clone()).unwrap_or_else(|| "Unknown".into()),
            dealer_contact: dealer.as_ref().map(|d| d.contact_person.clone()).unwrap_or_default(),
            dealer_phone: dealer.as_ref().map(|d| d.phone_number.clone()).unwrap_or_default(),
            status: o.status,
            total_amount: o.total_amount,
            due_date: o.due_date.map(wire::iso),
            created_at: wire::iso(o.created_at),
            delivered_at: o.delivered_at.map(wire::iso),
            notes: o.notes,
        },
        items: lines.into_iter().map(LineWire::from).collect(),
        payments: pays.into_iter().map(PaymentWire::from).collect(),
    })
}

// ------------------------------------------------------------------------- summaries

/// D21. Cancelled orders count nowhere (amounts and timeline), as in D22/D23.
pub async fn dealer_summary(state: &AppState, client: ObjectId, dealer: ObjectId) -> AppResult<DealerSummaryResponse> {
    dealer_of(&state.db, client, dealer).await?;
    let db = &state.db;
    let t = repo::order_payment_totals(db, client, Some(dealer)).await?;
    let (_, paid) = repo::payment_totals(db, client, Some(dealer), None).await?;
    let (counts, delivered) = repo::status_counts(db, client, dealer).await?;
    let (overdue, overdue_orders) = repo::overdue(db, client, dealer, time::overdue_cutoff(state.clock.now())).await?;
    let orders = repo::latest_orders(db, client, dealer, 20).await?;
    let pays = repo::dealer_payments(db, client, dealer, Some(20)).await?;
    let mut timeline: Vec<(DateTime, ObjectId, TimelineEntry)> = Vec::new();
    for o in orders {
        let (at, id) = (o.created_at, o.id);
        let data = serde_json::to_value(OrderWire::from(o)).unwrap_or_default();
        timeline.push((at, id, TimelineEntry { kind: "order".into(), at: wire::iso(at), data }));
    }
    for p in pays {
        let (at, id) = (p.paid_at, p.id);
        let data = serde_json::to_value(PaymentWire::from(p)).unwrap_or_default();
        timeline.push((at, id, TimelineEntry { kind: "payment".into(), at: wire::iso(at), data }));
    }
    timeline.sort_by_key(|e| std::cmp::Reverse((e.0, e.1)));
    let outstanding = Paise::new((t.billed.as_i64() - paid.as_i64()).max(0));
    Ok(DealerSummaryResponse {
        success: true,
        total_ordered: t.billed,
        total_billed: t.billed,
        total_delivered: delivered,
        total_paid: paid,
        payable: outstanding,
        outstanding,
        advance: Paise::new((paid.as_i64() - t.billed.as_i64()).max(0)),
        overdue,
        overdue_orders,
        orders: OrderCounts {
            pending: counts.get(STATUS_PENDING).copied().unwrap_or(0),
            delivered: counts.get(STATUS_DELIVERED).copied().unwrap_or(0),
            cancelled: counts.get(STATUS_CANCELLED).copied().unwrap_or(0),
        },
        timeline: timeline.into_iter().map(|(_, _, e)| e).collect(),
    })
}

async fn transactions(
    db: &Database,
    client: ObjectId,
    dealer: Option<ObjectId>,
    pg: Page,
) -> AppResult<(TransactionsSummary, u64, Vec<TransactionRow>)> {
    let t = repo::order_payment_totals(db, client, dealer).await?;
    let (_, paid) = repo::payment_totals(db, client, dealer, None).await?;
    let total_dealers = match dealer {
        Some(_) => 1,
        None => repo::count_active_dealers(db, client).await?,
    };
    let (rows, count) = repo::timeline(db, client, dealer, pg.limit, pg.skip).await?;
    let ids: Vec<ObjectId> = rows
        .iter()
        .map(|r| match r {
            repo::TimelineDoc::Order(o) => o.dealer_id,
            repo::TimelineDoc::Payment(p) => p.dealer_id,
        })
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let names = repo::dealers_by_ids(db, client, ids).await?;
    let name = |id: &ObjectId| names.get(id).map(|d| d.name.clone()).unwrap_or_else(|| "Unknown Dealer".into());
    let rows = rows
        .into_iter()
        .map(|r| match r {
            repo::TimelineDoc::Order(o) => TransactionRow {
                kind: "order".into(),
                transaction_id: o.id.to_hex(),
                dealer_id: o.dealer_id.to_hex(),
                dealer_name: name(&o.dealer_id),
                order_number: Some(o.order_number),
                order_id: None,
                amount: o.total_amount,
                status: Some(o.status),
                due_date: Some(o.due_date.map(wire::iso)),
                method: None,
                date: wire::iso(o.created_at),
                details: json!({
                    "isUrgent": o.is_urgent,
                    "deliveredAt": o.delivered_at.map(wire::iso),
                    "cancelledAt": o.cancelled_at.map(wire::iso),
                    "notes": o.notes,
                }),
            },
            repo::TimelineDoc::Payment(p) => TransactionRow {
                kind: "payment".into(),
                transaction_id: p.id.to_hex(),
                dealer_id: p.dealer_id.to_hex(),
                dealer_name: name(&p.dealer_id),
                order_number: None,
                order_id: Some(p.order_id.map(|o| o.to_hex())),
                amount: Some(p.amount),
                status: None,
                due_date: None,
                method: Some(p.method),
                date: wire::iso(p.paid_at),
                details: json!({ "note": p.note, "proofUrl": p.proof_url }),
            },
        })
        .collect();
    let summary = TransactionsSummary {
        total_dealers,
        total_orders: t.billed,
        total_payments: paid,
        pending_payable: Paise::new((t.billed.as_i64() - paid.as_i64()).max(0)),
    };
    Ok((summary, count, rows))
}

/// D22
pub async fn all_transactions(state: &AppState, client: ObjectId, q: PageQuery) -> AppResult<TransactionsResponse> {
    let pg = page(&q.limit, &q.skip)?;
    let (summary, total_count, transactions) = transactions(&state.db, client, None, pg).await?;
    Ok(TransactionsResponse { success: true, summary, total_count, limit: pg.limit, skip: pg.skip, transactions })
}

/// D23 (deleted dealers keep their history readable).
pub async fn dealer_transactions(
    state: &AppState,
    client: ObjectId,
    dealer: ObjectId,
    q: PageQuery,
) -> AppResult<DealerTransactionsResponse> {
    let pg = page(&q.limit, &q.skip)?;
    let d = dealer_of(&state.db, client, dealer).await?;
    let (summary, total_count, transactions) = transactions(&state.db, client, Some(dealer), pg).await?;
    Ok(DealerTransactionsResponse {
        success: true,
        dealer: DealerBrief {
            id: d.id.to_hex(),
            name: d.name,
            contact_person: d.contact_person,
            phone_number: d.phone_number,
        },
        summary,
        total_count,
        limit: pg.limit,
        skip: pg.skip,
        transactions,
    })
}

/// Parse a path id (400 naming the parameter when malformed).
pub fn path_id(name: &str, v: &str) -> AppResult<ObjectId> {
    validate::oid(&format!("params.{name}"), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers() {
        assert_eq!(order_number("26-27", 7), "PO/26-27/0007");
        assert_eq!(order_number("26-27", 12345), "PO/26-27/12345");
    }

    #[test]
    fn due_dates() {
        assert!(parse_due_date("2026-05-31").is_some());
        assert!(parse_due_date("2026-05-31T10:00:00Z").is_some());
        assert!(parse_due_date("2026-05-31T10:00:00.123456Z").is_some());
        assert!(parse_due_date("2026-05-31T10:00:00+05:30").is_none());
        assert!(parse_due_date("2026-02-30").is_none());
        assert!(parse_due_date("tomorrow").is_none());
        // a date is due all of that India day: overdue from the next India midnight
        let due = parse_due_date("2026-04-01").unwrap();
        let at = |s: &str| DateTime::parse_rfc3339_str(s).unwrap();
        assert_eq!(time::ist_date(due), chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
        assert!(!time::is_overdue(due, at("2026-04-01T00:30:00Z"))); // 06:00 IST on the due day
        assert!(!time::is_overdue(due, at("2026-04-01T18:29:59.999Z"))); // 23:59:59.999 IST
        assert!(time::is_overdue(due, at("2026-04-01T18:30:00Z"))); // 00:00 IST, 2 April
    }

    #[test]
    fn paging_parses_caps_and_rejects() {
        let p = |l: Option<&str>, s: Option<&str>| page(&l.map(String::from), &s.map(String::from));
        let d = p(None, None).unwrap();
        assert_eq!((d.limit, d.skip), (50, 0));
        let d = p(Some("5"), Some("10")).unwrap();
        assert_eq!((d.limit, d.skip), (5, 10));
        assert_eq!(p(Some("5000"), None).unwrap().limit, 200);
        assert!(p(Some("-1"), None).is_err());
        assert!(p(Some("0"), None).is_err());
        assert!(p(None, Some("-3")).is_err());
        assert!(p(Some("abc"), None).is_err());
        assert!(p(None, Some("1.5")).is_err());
    }

    #[test]
    fn ifsc_format() {
        assert!(is_ifsc("SBIN0001234"));
        assert!(is_ifsc("AXIS0ABC123"));
        assert!(!is_ifsc("SBIN1001234"));
        assert!(!is_ifsc("SBI0001234"));
    }
}
