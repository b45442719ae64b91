//! Billing rules: carts, invoices (one transaction per sale), payments (guarded `$inc`),
//! stock by deltas, customer dues.

use std::collections::HashMap;

use bson::{oid::ObjectId, DateTime};

use crate::{
    billing::{model::*, repo},
    catalog::model::ItemDoc,
    catalog::stock::{self, Move, Moved, Reason},
    customer::model::CustomerDoc,
    db,
    error::{code, AppError, AppResult},
    idem,
    money::Paise,
    state::AppState,
    time,
};

/// Lines a cart may hold.
pub const MAX_CART_LINES: usize = 500;
/// Lines an invoice may hold, and the quantity bound per line (the sale input rules).
pub use crate::billing::rules::{MAX_INVOICE_LINES, MAX_QUANTITY};
/// Invoices are due this many days after the invoice date.
pub const DUE_DAYS: i64 = 30;

fn cart_not_found() -> AppError {
    AppError::bad_request("Cart operation failed: cart not found")
}

fn cart_closed() -> AppError {
    AppError::conflict(code::CONFLICT, "Cart operation failed: the cart was already invoiced")
}

/// Why a cart write matched nothing: 400 unknown (v1), 409 already invoiced.
async fn cart_failure(state: &AppState, client_id: ObjectId, id: ObjectId) -> AppError {
    match repo::find_cart(&state.db, client_id, id).await {
        Ok(Some(c)) if c.status == CART_INVOICED => cart_closed(),
        Ok(_) => cart_not_found(),
        Err(e) => e,
    }
}

pub async fn create_cart(
    state: &AppState,
    client_id: ObjectId,
    phone: Option<String>,
    name: Option<String>,
) -> AppResult<CartDoc> {
    let customer = match &phone {
        Some(p) => Some(repo::upsert_customer_plain(&state.db, &state.client, client_id, p, name.as_deref()).await?),
        None => None,
    };
    let now = DateTime::now();
    let cart = CartDoc {
        id: ObjectId::new(),
        client_id,
        client_customer_id: customer.map(|c| c.id),
        client_customer_phone: phone,
        status: CART_OPEN.to_string(),
        invoice_id: None,
        lines: vec![],
        expires_at: DateTime::from_millis(now.timestamp_millis() + 24 * 3600 * 1000),
        created_at: now,
        updated_at: now,
        version: 0,
    };
    repo::insert_cart(&state.db, &cart).await?;
    Ok(cart)
}

pub async fn add_item(
    state: &AppState,
    client_id: ObjectId,
    cart_id: ObjectId,
    item_id: ObjectId,
    quantity: i64,
    price: Option<Paise>,
) -> AppResult<(CartDoc, CartLine)> {
    let item = repo::item_for_cart(&state.db, client_id, item_id)
        .await?
        .ok_or_else(|| AppError::validation("itemId", "is not an active item of this shop"))?;
    let unit = price.unwrap_or(item.price);
    let line = CartLine {
        id: ObjectId::new(),
        item_id,
        item_name_snapshot: item.name.clone(),
        unit_price_snapshot: unit,
        catalog_price: item.price,
        price_overridden: unit != item.price,
        quantity,
        created_at: DateTime::now(),
    };
    if crate::limits::line_total(unit, quantity).is_none() {
        return Err(AppError::validation("quantity", crate::limits::line_too_large()));
    }
    match repo::push_line(&state.db, client_id, cart_id, &line, MAX_CART_LINES).await? {
        Some(cart) => Ok((cart, line)),
        None => match repo::find_cart(&state.db, client_id, cart_id).await? {
            Some(c) if c.status == CART_OPEN => Err(AppError::unprocessable(
                code::UNPROCESSABLE,
                format!("A cart holds at most {MAX_CART_LINES} lines"),
            )),
            _ => Err(cart_failure(state, client_id, cart_id).await),
        },
    }
}

pub async fn remove_item(
    state: &AppState,
    client_id: ObjectId,
    cart_id: ObjectId,
    line_id: ObjectId,
) -> AppResult<CartDoc> {
    match repo::pull_line(&state.db, client_id, cart_id, line_id).await? {
        Some(c) => Ok(c),
        None => match repo::find_cart(&state.db, client_id, cart_id).await? {
            Some(c) if c.status == CART_OPEN => {
                Err(AppError::bad_request("Cart operation failed: item not found in this cart"))
            }
            _ => Err(cart_failure(state, client_id, cart_id).await),
        },
    }
}

pub async fn get_cart(state: &AppState, client_id: ObjectId, cart_id: ObjectId) -> AppResult<CartDoc> {
    repo::find_cart(&state.db, client_id, cart_id).await?.ok_or_else(cart_not_found)
}

pub async fn clear_cart(state: &AppState, client_id: ObjectId, cart_id: ObjectId) -> AppResult<()> {
    if repo::delete_open_cart(&state.db, client_id, cart_id).await? {
        Ok(())
    } else {
        Err(cart_failure(state, client_id, cart_id).await)
    }
}

// ---------- invoices ----------

/// Where the lines of a sale come from.
#[derive(Debug, Clone)]
pub enum LineSource {
    Cart(ObjectId),
    /// (index in the request, product id, quantity, counter price)
    Products(Vec<(usize, ObjectId, i64, Option<Paise>)>),
}

#[derive(Debug, Clone)]
pub enum CustomerRef {
    None,
    Id(ObjectId),
    Phone { phone: String, name: Option<String> },
}

#[derive(Debug, Clone)]
pub struct Sale {
    pub client_id: ObjectId,
    pub lines: LineSource,
    pub customer: CustomerRef,
    /// Name/phone sent with the sale (kept on the invoice even with no customer record).
    pub customer_name: Option<String>,
    pub customer_phone: Option<String>,
    pub claimed_total: Option<Paise>,
    pub paid: Paise,
    pub tax: Paise,
    pub discount: Paise,
    pub method: String,
    pub notes: String,
    /// `invoice` (numbered now) or `incomplete` (Phase 1: numbered when paid in full).
    pub kind: &'static str,
}

struct Ctx<'a> {
    state: &'a AppState,
    sale: &'a Sale,
    allow_negative: bool,
    require_full: bool,
    device_time: Option<DateTime>,
    device_date: Option<chrono::NaiveDate>,
    device_ref: Option<String>,
    allow_inactive: bool,
}

/// How a sale is issued inside a caller's transaction (the sync module issues offline sales
/// this way, many per transaction).
#[derive(Debug, Clone, Default)]
pub struct SaleOptions {
    /// Let stock go below zero (an offline sale already happened; it always subtracts). The
    /// lines that went below zero are in the invoice's `stock_warnings`.
    pub allow_negative: bool,
    /// Refuse a part-paid `invoice` (client setting `requireFullPayment`).
    pub require_full: bool,
    /// When the sale happened on the device (already bounded by the caller), kept as
    /// `deviceTime`; the invoice is dated (`generatedAt`, `invoiceDate`, the first payment's
    /// `paidAt`) by [`sale_time`]: this time, but never later than now. `None` = now.
    pub device_time: Option<DateTime>,
    /// The device's India calendar date of the sale when it sent no time (v1 `invoiceDate`,
    /// already bounded by the caller); see [`sale_time`].
    pub device_date: Option<chrono::NaiveDate>,
    /// The device's own reference for the sale, kept on the invoice.
    pub device_ref: Option<String>,
    /// Accept lines of items that exist but are deactivated (an offline sale of an item
    /// deleted online after the device last pulled: the sale happened). Ids that never
    /// belonged to the shop are still refused. Online sales keep `false`.
    pub allow_inactive: bool,
}

/// Issue a sale inside the caller's transaction `s` (no shop queue taken here: the caller
/// holds it). Same rules as [`issue`].
pub async fn issue_in_session(
    s: &mut mongodb::ClientSession,
    state: &AppState,
    sale: &Sale,
    opts: &SaleOptions,
) -> AppResult<InvoiceDoc> {
    let ctx = Ctx {
        state,
        sale,
        allow_negative: opts.allow_negative,
        require_full: opts.require_full,
        device_time: opts.device_time,
        device_date: opts.device_date,
        device_ref: opts.device_ref.clone(),
        allow_inactive: opts.allow_inactive,
    };
    issue_in(s, &ctx).await
}

/// Issue a sale in one transaction: claim the cart, price the lines (the counter price when
/// sent, else the catalog price), move stock (with `allowNegativeStock` (the default) stock
/// may go below zero and the invoice's `stock_warnings` list those lines; without it a short
/// line is 409 `INSUFFICIENT_STOCK` naming the items), resolve the customer, insert the invoice, the first
/// payment, the purchase history (when paid in full), the customer's dues, and finally
/// take the next consecutive number.
pub async fn issue(state: &AppState, sale: Sale) -> AppResult<InvoiceDoc> {
    issue_keyed(state, sale, None).await.map(|(inv, _)| inv)
}

/// The optional idempotency hook of [`issue_keyed`] and [`pay_keyed`]: the response is
/// rendered from the result and recorded under (client, `X-Idempotency-Key`) inside the
/// same transaction as the sale or payment (see `idem`), so what a retry gets back is
/// exactly what the first request answered, and the record exists iff the effects do.
pub struct Keyed<'a, R: ?Sized> {
    pub key: &'a str,
    /// `idem::hash` of the method + path and the canonical body.
    pub hash: &'a str,
    /// HTTP status of the response (201 for an invoice, 200 for a payment).
    pub status: u16,
    pub render: &'a R,
}

/// Renders an invoice answer.
pub type RenderInvoice = dyn Fn(&InvoiceDoc) -> AppResult<String> + Sync;
/// Renders a payment answer.
pub type RenderPayment = dyn Fn(&PaymentDoc, &InvoiceDoc) -> AppResult<String> + Sync;

/// [`issue`], and with `keyed` the rendered response recorded in the same transaction (it
/// is returned as the second value).
pub async fn issue_keyed(
    state: &AppState,
    sale: Sale,
    keyed: Option<&Keyed<'_, RenderInvoice>>,
) -> AppResult<(InvoiceDoc, Option<String>)> {
    let settings = repo::client_settings(&state.db, sale.client_id).await?;
    let ctx = Ctx {
        state,
        sale: &sale,
        allow_negative: settings.billing.allow_negative_stock,
        require_full: settings.billing.require_full_payment && sale.kind == "invoice",
        device_time: None,
        device_date: None,
        device_ref: None,
        allow_inactive: false,
    };
    let _queue = state.shop_locks.lock(&sale.client_id).await;
    let c = (&ctx, keyed);
    db::transaction(&state.client, &c, |s, (ctx, keyed)| {
        Box::pin(async move {
            let inv = issue_in(s, ctx).await?;
            let out = match keyed {
                Some(k) => Some(record(s, ctx.state, ctx.sale.client_id, k, (k.render)(&inv)?).await?),
                None => None,
            };
            Ok((inv, out))
        })
    })
    .await
}

async fn record<R: ?Sized>(
    s: &mut mongodb::ClientSession,
    state: &AppState,
    client_id: ObjectId,
    k: &Keyed<'_, R>,
    out: String,
) -> AppResult<String> {
    idem::record_status(state, s, client_id, k.key, k.hash, k.status, &out).await?;
    Ok(out)
}

async fn issue_in(s: &mut mongodb::ClientSession, ctx: &Ctx<'_>) -> AppResult<InvoiceDoc> {
    let (state, sale) = (ctx.state, ctx.sale);
    let database = &state.db;
    let client_id = sale.client_id;
    let invoice_id = ObjectId::new();

    // 1. the lines: (label, item id, qty, counter price)
    let mut cart_customer: Option<(Option<ObjectId>, Option<String>)> = None;
    let mut cart_id = None;
    let wanted: Vec<(String, ObjectId, i64, Option<Paise>)> = match &sale.lines {
        LineSource::Cart(id) => {
            let cart = match repo::claim_cart(database, s, client_id, *id, invoice_id).await? {
                Some(c) => c,
                None => {
                    return Err(match repo::find_cart_in(database, s, client_id, *id).await? {
                        Some(c) if c.status == CART_INVOICED => AppError::conflict(
                            code::CONFLICT,
                            "Invoice generation failed: this cart was already invoiced",
                        ),
                        _ => AppError::bad_request("Invoice generation failed: cart not found"),
                    })
                }
            };
            if cart.lines.is_empty() {
                return Err(AppError::bad_request("Invoice generation failed: cart has no items"));
            }
            cart_id = Some(cart.id);
            cart_customer = Some((cart.client_customer_id, cart.client_customer_phone.clone()));
            cart.lines
                .iter()
                .enumerate()
                .map(|(i, l)| (format!("cart line {}", i + 1), l.item_id, l.quantity, Some(l.unit_price_snapshot)))
                .collect()
        }
        LineSource::Products(p) => {
            p.iter().map(|(i, id, q, price)| (format!("products[{i}].productId"), *id, *q, *price)).collect()
        }
    };

    // 2. price from the catalog (the client's active items only)
    let ids: Vec<ObjectId> = wanted.iter().map(|w| w.1).collect();
    let items = repo::items_by_id(database, s, client_id, &ids).await?;
    check_items_in(&wanted, &items, ctx.allow_inactive)?;
    let group_ids: Vec<ObjectId> = items.values().filter_map(|i| i.group_id).collect();
    let groups = repo::group_names(database, s, client_id, &group_ids).await?;
    let (lines, subtotal) = price_lines_in(&wanted, &items, &groups, ctx.allow_inactive)?;

    // 3. totals: computed by the server; a client total that disagrees is refused
    let total = sale_total(sale, subtotal, ctx.require_full)?;

    // 4. customer
    let (cart_cust_id, cart_phone) = cart_customer.unwrap_or((None, None));
    let customer_ref = match (&sale.customer, cart_cust_id, cart_phone) {
        (CustomerRef::None, Some(id), _) => CustomerRef::Id(id),
        (CustomerRef::None, None, Some(p)) => CustomerRef::Phone { phone: p, name: sale.customer_name.clone() },
        (other, _, _) => other.clone(),
    };
    let customer = match &customer_ref {
        CustomerRef::None => None,
        CustomerRef::Id(id) => Some(
            repo::customer_by_id(database, s, client_id, *id)
                .await?
                .ok_or_else(|| AppError::validation("clientCustomerId", "is not a customer of this shop"))?,
        ),
        CustomerRef::Phone { phone, name } => {
            Some(repo::upsert_customer(database, s, client_id, phone, name.as_deref()).await?)
        }
    };

    // 5. the invoice (dated when the sale happened: the device time for an offline sale,
    // never later than the receipt time `now`, the state's clock)
    let now = ctx.state.clock.now();
    let at = sale_time(ctx.device_time, ctx.device_date, now);
    let inv = build_invoice(Draft {
        id: invoice_id,
        sale,
        customer: customer.as_ref(),
        lines,
        subtotal,
        total,
        at,
        now,
        cart_id,
        device_ref: ctx.device_ref.clone(),
        device_time: ctx.device_time,
    });
    let finalized = inv.is_finalized;
    let pending = inv.total_amount.checked_sub(inv.paid_amount).unwrap_or_default();

    // 6. first payment, dues, history (documents nobody else writes)
    if let Some(p) = first_payment(&inv, &sale.method, now) {
        repo::insert_payment(database, s, &p).await?;
    }
    if let Some(c) = &customer {
        repo::customer_after_sale(database, s, client_id, c.id, pending, Some(inv.generated_at)).await?;
        if finalized {
            repo::insert_history(database, s, &history(&inv, c.id, at)).await?;
        }
    }

    // 7. the contended writes last, so they are held for the shortest time: stock (guarded
    // deltas), the consecutive number, then the invoice itself
    let moves: Vec<Move> = inv
        .products
        .iter()
        .map(|l| Move {
            client_id,
            item_id: l.product_id.unwrap_or_default(),
            delta: -l.quantity,
            allow_negative: ctx.allow_negative,
            reason: Reason::Sale,
            ref_id: Some(invoice_id),
        })
        .collect();
    let moved = stock::apply_many(database, s, &moves).await?;
    let mut short = Vec::new();
    let mut warnings = Vec::new();
    for (l, m) in inv.products.iter().zip(&moved) {
        match m.moved {
            Moved::Done => {
                if let Some(after) = m.stock_after.filter(|a| *a < 0) {
                    warnings.push(StockWarning {
                        product_id: l.product_id.unwrap_or_default().to_hex(),
                        item_name: l.item_name.clone(),
                        quantity: l.quantity,
                        stock: after,
                    });
                }
            }
            Moved::Insufficient => short.push(l.item_name.clone()),
            Moved::OutOfRange => return Err(crate::limits::stock_out_of_range(&l.item_name)),
            Moved::NotFound => {
                return Err(AppError::validation("products", format!("{} is not an item of this shop", l.item_name)))
            }
        }
    }
    if !short.is_empty() {
        return Err(AppError::conflict("INSUFFICIENT_STOCK", format!("Not enough stock for: {}", short.join(", "))));
    }
    let mut inv = inv;
    inv.stock_warnings = warnings;
    if sale.kind == "invoice" {
        let (number, fy, seq) = next_number(database, s, client_id, at).await?;
        inv.invoice_number = Some(number);
        inv.financial_year = Some(fy);
        inv.seq = Some(seq);
    }
    repo::insert_invoice(database, s, &inv).await?;
    Ok(inv)
}

// ---------- the rules of a sale, without I/O (shared with the bulk sync apply) ----------

fn overflow() -> AppError {
    AppError::validation("products", "amounts are too large")
}

/// Every wanted line must be an active item of the client (`items` holds the client's items
/// that were found). `wanted`: (label, item id, quantity, counter price).
pub fn check_items(
    wanted: &[(String, ObjectId, i64, Option<Paise>)],
    items: &HashMap<ObjectId, ItemDoc>,
) -> AppResult<()> {
    check_items_in(wanted, items, false)
}

/// [`check_items`]; with `allow_inactive` (offline sales, issue 14) an item of the shop
/// that was deactivated is accepted, only ids that never belonged to the shop are refused.
pub fn check_items_in(
    wanted: &[(String, ObjectId, i64, Option<Paise>)],
    items: &HashMap<ObjectId, ItemDoc>,
    allow_inactive: bool,
) -> AppResult<()> {
    let missing: Vec<String> = wanted
        .iter()
        .filter(|(_, id, _, _)| !items.get(id).is_some_and(|i| i.is_active || allow_inactive))
        .map(|(label, _, _, _)| format!("{label}: is not an active item of this shop"))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(missing))
    }
}

/// Price the lines: the counter price when given, else the catalog price; the group name is
/// snapshotted. Returns the lines and the subtotal (checked arithmetic). A line above
/// `limits::MAX_LINE` or a subtotal above `limits::MAX_INVOICE` is a 400 (on every path:
/// online, v1 sync and the v2 bulk apply all price through here).
pub fn price_lines(
    wanted: &[(String, ObjectId, i64, Option<Paise>)],
    items: &HashMap<ObjectId, ItemDoc>,
    groups: &HashMap<ObjectId, String>,
) -> AppResult<(Vec<InvoiceLine>, Paise)> {
    price_lines_in(wanted, items, groups, false)
}

/// [`price_lines`]; with `allow_inactive` a deactivated item of the shop is priced too (an
/// offline sale, see [`check_items_in`]).
pub fn price_lines_in(
    wanted: &[(String, ObjectId, i64, Option<Paise>)],
    items: &HashMap<ObjectId, ItemDoc>,
    groups: &HashMap<ObjectId, String>,
    allow_inactive: bool,
) -> AppResult<(Vec<InvoiceLine>, Paise)> {
    check_items_in(wanted, items, allow_inactive)?;
    let mut lines = Vec::with_capacity(wanted.len());
    let mut subtotal = Paise::ZERO;
    for (label, id, qty, price) in wanted {
        let item = items.get(id).ok_or_else(|| AppError::validation(label, "is not an active item of this shop"))?;
        let unit = price.unwrap_or(item.price);
        let line_total = crate::limits::line_total(unit, *qty)
            .ok_or_else(|| AppError::validation(label, crate::limits::line_too_large()))?;
        subtotal = subtotal.checked_add(line_total).filter(|t| *t <= crate::limits::MAX_INVOICE).ok_or_else(|| {
            AppError::validation("products", format!("the subtotal {}", crate::limits::invoice_too_large()))
        })?;
        lines.push(InvoiceLine {
            product_id: Some(*id),
            item_name: item.name.clone(),
            item_group: item.group_id.and_then(|g| groups.get(&g).cloned()).unwrap_or_default(),
            cost_per_unit: unit,
            quantity: *qty,
            line_total,
            price_overridden: unit != item.price,
            catalog_price: item.price,
        });
    }
    Ok((lines, subtotal))
}

/// The total of a sale, computed by the server: a client total that disagrees, a payment
/// above the total, or a part payment where the shop requires full payment is refused.
pub fn sale_total(sale: &Sale, subtotal: Paise, require_full: bool) -> AppResult<Paise> {
    let mut e = crate::validate::Errors::new();
    crate::limits::amount(&mut e, "totalTax", sale.tax);
    crate::limits::amount(&mut e, "totalDiscount", sale.discount);
    crate::limits::amount(&mut e, "paidAmount", sale.paid);
    e.finish()?;
    let total = subtotal.checked_add(sale.tax).and_then(|t| t.checked_sub(sale.discount)).ok_or_else(overflow)?;
    if total > crate::limits::MAX_INVOICE {
        return Err(AppError::validation("totalAmount", crate::limits::invoice_too_large()));
    }
    if total.is_negative() {
        return Err(AppError::validation("totalDiscount", "cannot exceed the subtotal plus tax"));
    }
    if let Some(claimed) = sale.claimed_total {
        if claimed != total {
            return Err(AppError::validation(
                "totalAmount",
                format!(
                    "does not match the computed total {total} (subtotal {subtotal} + tax {} - discount {})",
                    sale.tax, sale.discount
                ),
            ));
        }
    }
    if sale.paid > total {
        return Err(AppError::validation("paidAmount", format!("cannot exceed the total {total}")));
    }
    if require_full && sale.paid < total {
        return Err(AppError::bad_request(
            "Invoice generation failed: this shop requires full payment; record a part-paid sale with /api/business/invoices/incomplete-sale",
        ));
    }
    Ok(total)
}

/// What an invoice is built from (all checks done).
pub struct Draft<'a> {
    pub id: ObjectId,
    pub sale: &'a Sale,
    pub customer: Option<&'a CustomerDoc>,
    pub lines: Vec<InvoiceLine>,
    pub subtotal: Paise,
    pub total: Paise,
    /// When the sale is dated ([`sale_time`]).
    pub at: DateTime,
    pub now: DateTime,
    pub cart_id: Option<ObjectId>,
    pub device_ref: Option<String>,
    /// The device's clock reading, as sent (kept as `deviceTime`).
    pub device_time: Option<DateTime>,
}

/// When a sale is dated (`generatedAt`; its India date is the `invoiceDate`), the one rule
/// for online sales, v1 `/api/sync` and v2 push: the device's time when it sent one, but
/// never later than `now`, the server's receipt time (a device clock 4 minutes fast must
/// not move a 23:57 sale to the next day); else the device's calendar date when it sent
/// only that (`time::dated_at`); else `now`.
pub fn sale_time(device_time: Option<DateTime>, device_date: Option<chrono::NaiveDate>, now: DateTime) -> DateTime {
    match (device_time, device_date) {
        (Some(t), _) => time::record_time(t, now),
        (None, Some(d)) => time::dated_at(d, now),
        (None, None) => now,
    }
}

/// The invoice document of a sale, not yet numbered.
pub fn build_invoice(d: Draft<'_>) -> InvoiceDoc {
    let Draft { id, sale, customer, lines, subtotal, total, at, now, cart_id, device_ref, device_time } = d;
    let today = time::ist_date(at);
    let due = today + chrono::Duration::days(DUE_DAYS);
    let finalized = sale.paid >= total && sale.kind == "invoice";
    InvoiceDoc {
        id,
        client_id: sale.client_id,
        client_customer_id: customer.map(|c| c.id),
        client_customer_name: sale
            .customer_name
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| customer.map(|c| c.name.clone()).filter(|n| n != repo::PLACEHOLDER_NAME))
            .unwrap_or_default(),
        client_customer_phone: sale
            .customer_phone
            .clone()
            .or_else(|| customer.map(|c| c.phone_number.clone()))
            .unwrap_or_default(),
        invoice_number: None,
        financial_year: None,
        seq: None,
        kind: sale.kind.to_string(),
        invoice_date: today.format("%Y-%m-%d").to_string(),
        due_date: due.format("%Y-%m-%d").to_string(),
        subtotal,
        total_tax: sale.tax,
        total_discount: sale.discount,
        total_amount: total,
        paid_amount: sale.paid,
        previous_balance: customer.map(|c| c.outstanding_balance).unwrap_or_default(),
        status: if finalized { STATUS_PAID } else { status_for(sale.paid, total) }.to_string(),
        is_finalized: finalized,
        products: lines,
        notes: sale.notes.clone(),
        cart_id,
        source: if cart_id.is_some() { "cart" } else { "products" }.to_string(),
        generated_at: at,
        finalized_at: finalized.then_some(at),
        device_ref,
        device_time,
        created_at: now,
        updated_at: now,
        version: 0,
        stock_warnings: vec![],
    }
}

/// The payment taken with the sale, if anything was paid.
pub fn first_payment(inv: &InvoiceDoc, method: &str, now: DateTime) -> Option<PaymentDoc> {
    inv.paid_amount.is_positive().then(|| PaymentDoc {
        id: ObjectId::new(),
        client_id: inv.client_id,
        invoice_id: inv.id,
        amount: inv.paid_amount,
        method: method.to_string(),
        note: "Initial payment at invoice generation".into(),
        paid_at: inv.generated_at,
        device_time: inv.device_time,
        created_at: now,
        updated_at: now,
        version: 0,
    })
}

/// The record of a payment, dated by the device time but never later than `now` (the
/// server's receipt time); [`date_after_invoice`] then keeps it from preceding its invoice.
pub fn payment_doc(p: &Payment, now: DateTime) -> PaymentDoc {
    PaymentDoc {
        id: ObjectId::new(),
        client_id: p.client_id,
        invoice_id: p.invoice_id,
        amount: p.amount,
        method: p.method.clone(),
        note: p.note.clone(),
        paid_at: p.paid_at.map_or(now, |t| time::record_time(t, now)),
        device_time: p.paid_at,
        created_at: now,
        updated_at: now,
        version: 0,
    }
}

/// A payment is dated no earlier than its invoice (`generatedAt`): a device clock behind the
/// one that dated the sale must not list the payment before the sale in the day book. The
/// one rule for online payments, v1 `/api/sync` and v2 push. Returns whether it moved.
pub fn date_after_invoice(p: &mut PaymentDoc, inv: &InvoiceDoc) -> bool {
    let moved = p.paid_at < inv.generated_at;
    if moved {
        p.paid_at = inv.generated_at;
    }
    moved
}

/// Why a payment cannot be applied to this invoice (the same rule as the guarded `$inc` of
/// [`repo::add_payment`]): it is already settled, or the amount exceeds what is due.
pub fn payment_refusal(inv: &InvoiceDoc, amount: Paise) -> Option<AppError> {
    let due = inv.total_amount.checked_sub(inv.paid_amount).unwrap_or_default();
    (inv.is_finalized || amount > due)
        .then(|| AppError::Validation(vec![format!("amount: exceeds the outstanding balance {due}")]))
}

/// Apply a payment to an invoice in memory, as [`repo::add_payment`] does in the database
/// (call [`payment_refusal`] first).
pub fn settle(inv: &mut InvoiceDoc, amount: Paise, now: DateTime) {
    // within the total (`payment_refusal` first), so it cannot overflow
    inv.paid_amount = inv.paid_amount.checked_add(amount).unwrap_or(inv.total_amount);
    inv.is_finalized = inv.paid_amount >= inv.total_amount;
    inv.status = status_for(inv.paid_amount, inv.total_amount).to_string();
    inv.finalized_at = inv.is_finalized.then_some(now);
    inv.updated_at = now;
    inv.version += 1;
}

pub fn history(inv: &InvoiceDoc, customer: ObjectId, at: DateTime) -> PurchaseHistoryDoc {
    PurchaseHistoryDoc {
        id: ObjectId::new(),
        client_id: inv.client_id,
        client_customer_id: customer,
        client_customer_phone: inv.client_customer_phone.clone(),
        invoice_id: inv.id,
        total_amount: inv.total_amount,
        purchased_at: at,
        version: 0,
    }
}

/// `INV/26-27/00042`: consecutive per client per financial year (India time), 16 characters
/// at most (GST rule 46).
pub fn format_number(fy: &str, seq: i64) -> String {
    format!("INV/{fy}/{seq:05}")
}

/// Take the next number for the client and the current financial year (India time).
async fn next_number(
    database: &mongodb::Database,
    s: &mut mongodb::ClientSession,
    client_id: ObjectId,
    now: DateTime,
) -> AppResult<(String, String, i64)> {
    let fy = time::financial_year(now);
    let seq = repo::next_seq(database, s, &format!("inv:{}:{fy}", client_id.to_hex())).await?;
    Ok((format_number(&fy, seq), fy, seq))
}

async fn assign_number(
    database: &mongodb::Database,
    s: &mut mongodb::ClientSession,
    inv: &mut InvoiceDoc,
    now: DateTime,
) -> AppResult<()> {
    let (number, fy, seq) = next_number(database, s, inv.client_id, now).await?;
    let date = time::ist_date_string(now);
    repo::set_number(database, s, inv.client_id, inv.id, &number, &fy, seq, &date).await?;
    inv.invoice_number = Some(number);
    inv.financial_year = Some(fy);
    inv.seq = Some(seq);
    inv.invoice_date = date;
    inv.kind = "invoice".to_string();
    Ok(())
}

// ---------- payments ----------

pub struct Payment {
    pub client_id: ObjectId,
    pub invoice_id: ObjectId,
    pub amount: Paise,
    pub method: String,
    pub note: String,
    /// When the payment was taken on the device (bounded by the caller); `None` = now.
    pub paid_at: Option<DateTime>,
}

/// Record a payment: the paid amount moves by a guarded `$inc` in the same transaction as
/// the payment record, so concurrent payments can never overpay. The payment that completes
/// the invoice finalises it (numbering an incomplete sale) and writes the purchase history
/// exactly once.
pub async fn pay(state: &AppState, p: Payment) -> AppResult<(PaymentDoc, InvoiceDoc)> {
    pay_keyed(state, &p, None).await.map(|(payment, inv, _)| (payment, inv))
}

/// [`pay`], and with `keyed` the rendered response recorded in the same transaction.
pub async fn pay_keyed(
    state: &AppState,
    p: &Payment,
    keyed: Option<&Keyed<'_, RenderPayment>>,
) -> AppResult<(PaymentDoc, InvoiceDoc, Option<String>)> {
    let ctx = (state, p, keyed);
    let _queue = state.shop_locks.lock(&p.client_id).await;
    db::transaction(&state.client, &ctx, |s, (state, p, keyed)| {
        Box::pin(async move {
            let (payment, inv) = pay_in(s, state, p).await?;
            let out = match keyed {
                Some(k) => Some(record(s, state, p.client_id, k, (k.render)(&payment, &inv)?).await?),
                None => None,
            };
            Ok((payment, inv, out))
        })
    })
    .await
}

/// Record a payment inside the caller's transaction `s` (the caller holds the shop queue).
pub async fn pay_in(
    s: &mut mongodb::ClientSession,
    state: &AppState,
    p: &Payment,
) -> AppResult<(PaymentDoc, InvoiceDoc)> {
    let database = &state.db;
    let now = state.clock.now();
    let mut payment = payment_doc(p, now);
    // the record first (uncontended), then the guarded write on the invoice
    repo::insert_payment(database, s, &payment).await?;
    let Some(mut inv) = repo::add_payment(database, s, p.client_id, p.invoice_id, p.amount).await? else {
        return Err(match repo::find_invoice_in(database, s, p.client_id, p.invoice_id).await? {
            None => AppError::bad_request("Payment failed: invoice not found"),
            Some(inv) => payment_refusal(&inv, p.amount)
                .unwrap_or_else(|| AppError::conflict(code::CONFLICT, "Payment failed: the invoice changed; retry")),
        });
    };
    // the invoice is known only now; a payment dated before it is moved to it (rare: one
    // more write, in the same transaction)
    if date_after_invoice(&mut payment, &inv) {
        repo::set_payment_time(database, s, p.client_id, payment.id, payment.paid_at).await?;
    }
    if let Some(c) = inv.client_customer_id {
        repo::customer_after_sale(database, s, p.client_id, c, Paise::new(-p.amount.as_i64()), None).await?;
        if inv.is_finalized {
            repo::insert_history(database, s, &history(&inv, c, now)).await?;
        }
    }
    if inv.is_finalized && inv.invoice_number.is_none() {
        assign_number(database, s, &mut inv, now).await?;
    }
    Ok((payment, inv))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_fit_gst_rule_46() {
        assert_eq!(format_number("26-27", 42), "INV/26-27/00042");
        assert!(format_number("26-27", 999_999).len() <= 16);
        assert_eq!(status_for(Paise::new(0), Paise::new(100)), STATUS_UNPAID);
        assert_eq!(status_for(Paise::new(1), Paise::new(100)), STATUS_PARTIAL);
        assert_eq!(status_for(Paise::new(100), Paise::new(100)), STATUS_PAID);
        assert_eq!(status_for(Paise::new(0), Paise::new(0)), STATUS_PAID);
    }
}
