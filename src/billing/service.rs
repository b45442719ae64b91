//! Billing's imperative shell: carts, and the sale and payment transactions (command ->
//! `repo::load_for_*` -> `decide::*` -> `repo::apply_*`, see `billing::command`).

use bson::{oid::ObjectId, DateTime};

use crate::{
    billing::{
        command::{RecordPayment, Sale},
        decide,
        model::*,
        repo,
    },
    db,
    error::{code, AppError, AppResult},
    idem,
    money::Paise,
    state::AppState,
};

/// Lines a cart may hold.
pub const MAX_CART_LINES: usize = 500;
/// Lines an invoice may hold, and the quantity bound per line (the sale input rules).
pub use crate::billing::rules::{MAX_INVOICE_LINES, MAX_QUANTITY};

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

/// What a cart line's counter price rests on (issue 15): the user's `price_override`
/// permission, or an approval token; the user as the audit trail names them; an optional
/// reason.
pub struct Override {
    pub may_override: bool,
    pub approval_token: Option<String>,
    pub reason: Option<String>,
    pub who: crate::audit::Who,
}

pub async fn add_item(
    state: &AppState,
    client_id: ObjectId,
    cart_id: ObjectId,
    item_id: ObjectId,
    quantity: i64,
    price: Option<Paise>,
    over: Override,
) -> AppResult<(CartDoc, CartLine)> {
    let item = repo::item_for_cart(&state.db, client_id, item_id)
        .await?
        .ok_or_else(|| AppError::validation("itemId", "is not an active item of this shop"))?;
    let unit = price.unwrap_or(item.price);
    decide::within_mrp("unitPrice", unit, &item).map_err(AppError::from)?;
    // a counter price: the user's own right, or a manager's approval bound to this very line
    let mut approved_by = None;
    let mut reason = over.reason.clone();
    if unit != item.price && !over.may_override {
        let token = over.approval_token.as_deref().ok_or_else(|| {
            AppError::forbidden(
                code::APPROVAL_REQUIRED,
                "A counter price needs a manager's approval (POST /api/staff/approvals) or the price_override permission",
            )
        })?;
        let subject = crate::approval::Subject::PriceOverride { cart_id, item_id, unit_price: unit, quantity };
        let requester = over.who.user_id.parse::<ObjectId>().unwrap_or_else(|_| ObjectId::from_bytes([0; 12]));
        let (approver, why) = crate::approval::consume(&state.db, client_id, requester, token, &subject).await?;
        reason = Some(why);
        approved_by = Some(approver);
    }
    if unit != item.price {
        let mut e =
            crate::audit::Entry::builder(client_id, over.who.clone(), crate::audit::Action::PriceOverride, "carts")
                .entity_id(cart_id.to_hex())
                .changes(vec![crate::audit::Change::new(
                    format!("lines.{}.unitPrice", item_id.to_hex()),
                    serde_json::json!(item.price.as_i64()),
                    serde_json::json!(unit.as_i64()),
                )])
                .reason(
                    reason.unwrap_or_else(|| format!("counter price set by {} ({})", over.who.name, over.who.role)),
                );
        if let Some(a) = &approved_by {
            e = e.approver(crate::audit::Approver::new(a.user_id.clone(), a.name.clone(), a.role.as_str()));
        }
        crate::audit::note(&state.db, e.build()).await?;
    }
    let line = CartLine {
        id: ObjectId::new(),
        item_id,
        item_name_snapshot: item.name.clone(),
        unit_price_snapshot: unit,
        catalog_price: item.price,
        price_overridden: unit != item.price,
        quantity,
        created_at: DateTime::now(),
        approved_by,
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

// ---------- invoices and payments: command -> load -> decide -> apply ----------

/// Issue a sale inside the caller's transaction `s` (no shop queue taken here: the caller
/// holds it): `repo::load_for_sale`, `decide::sale`, `repo::apply_sale`. The change-log rows
/// go to `log`. Returns the invoice (numbered, with its `stock_warnings`) and the plan's
/// flags (the payments' ids, the deactivated items sold).
pub async fn issue_in_session(
    s: &mut mongodb::ClientSession,
    state: &AppState,
    sale: &Sale,
    log: repo::Log<'_>,
) -> AppResult<Issued> {
    let loaded = repo::load_for_sale(&state.db, s, sale).await?;
    let plan = decide::sale(sale, &loaded.inputs(), state.clock.now(), &mut ObjectId::new)?;
    let payments = plan.payments.iter().map(|p| p.id).collect();
    let inactive = plan.inactive.clone();
    let invoice = repo::apply_sale(&state.db, s, plan, log).await?;
    Ok(Issued { invoice, payments, inactive })
}

/// Issue 17: the full computation of a draft sale, without writing anything: the same loader
/// and decider as [`issue_in_session`] (so a sale made from the draft computes identically),
/// judged as a draft: stock, full payment and approvals are not refused (the sale itself
/// will judge them). Returns the invoice as it would be issued, unnumbered.
pub async fn quote(state: &AppState, mut sale: Sale) -> AppResult<InvoiceDoc> {
    sale.options.allow_negative = Some(true);
    sale.options.require_full = Some(false);
    sale.rights = crate::billing::command::SellerRights::owner();
    sale.paid = Paise::ZERO;
    sale.split = None;
    let mut s = state.client.start_session().await?;
    let loaded = repo::load_for_sale(&state.db, &mut s, &sale).await?;
    let plan = decide::sale(&sale, &loaded.inputs(), state.clock.now(), &mut ObjectId::new)?;
    Ok(plan.invoice)
}

/// A sale applied by [`issue_in_session`].
#[derive(Debug, Clone)]
pub struct Issued {
    pub invoice: InvoiceDoc,
    /// The ids of the payments taken with it (one per paid part; none when nothing was paid).
    pub payments: Vec<ObjectId>,
    /// Items of the lines that are deactivated (an offline sale accepts them, flagged).
    pub inactive: Vec<ObjectId>,
}

/// Issue a sale in one transaction (the rules: `decide::sale`): claim the cart, price the
/// lines (the counter price when sent, else the catalog price), move stock (with
/// `allowNegativeStock` (the default) stock may go below zero and the invoice's
/// `stock_warnings` list those lines; without it a short line is 409 `INSUFFICIENT_STOCK`
/// naming the items), resolve the customer, insert the invoice, the first payment, the
/// purchase history (when paid in full), the customer's dues, the consecutive number and
/// the change-log rows.
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
/// Renders a payment answer (the payments recorded, the invoice after them).
pub type RenderPayment = dyn Fn(&[PaymentDoc], &InvoiceDoc) -> AppResult<String> + Sync;

/// [`issue`], and with `keyed` the rendered response recorded in the same transaction (it
/// is returned as the second value).
pub async fn issue_keyed(
    state: &AppState,
    sale: Sale,
    keyed: Option<&Keyed<'_, RenderInvoice>>,
) -> AppResult<(InvoiceDoc, Option<String>)> {
    let _queue = state.shop_locks.lock(&sale.client_id).await;
    let c = (state, &sale, keyed);
    db::transaction(&state.client, &c, |s, (state, sale, keyed)| {
        Box::pin(async move {
            let inv = issue_in_session(s, state, sale, repo::Log::Now).await?.invoice;
            let out = match keyed {
                Some(k) => Some(record(s, state, sale.client_id, k, (k.render)(&inv)?).await?),
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

/// Record a payment (the rules: `decide::payment`): the paid amount moves by a write guarded
/// on the amount it was decided on, in the same transaction as the payment record, so
/// concurrent payments can never overpay. The payment that completes the invoice finalises
/// it (numbering an incomplete sale) and writes the purchase history exactly once.
/// A split payment (issue 17) records one payment per paid part: all are returned.
pub async fn pay(state: &AppState, p: RecordPayment) -> AppResult<(Vec<PaymentDoc>, InvoiceDoc)> {
    pay_keyed(state, &p, None).await.map(|(payment, inv, _)| (payment, inv))
}

/// [`pay`], and with `keyed` the rendered response recorded in the same transaction.
pub async fn pay_keyed(
    state: &AppState,
    p: &RecordPayment,
    keyed: Option<&Keyed<'_, RenderPayment>>,
) -> AppResult<(Vec<PaymentDoc>, InvoiceDoc, Option<String>)> {
    let ctx = (state, p, keyed);
    let _queue = state.shop_locks.lock(&p.client_id).await;
    db::transaction(&state.client, &ctx, |s, (state, p, keyed)| {
        Box::pin(async move {
            let (payment, inv) = pay_in(s, state, p, repo::Log::Now).await?;
            let out = match keyed {
                Some(k) => Some(record(s, state, p.client_id, k, (k.render)(&payment[..], &inv)?).await?),
                None => None,
            };
            Ok((payment, inv, out))
        })
    })
    .await
}

/// Record a payment inside the caller's transaction `s` (the caller holds the shop queue):
/// `repo::load_for_payment`, `decide::payment`, `repo::apply_payment`; the change-log rows
/// go to `log`.
pub async fn pay_in(
    s: &mut mongodb::ClientSession,
    state: &AppState,
    p: &RecordPayment,
    log: repo::Log<'_>,
) -> AppResult<(Vec<PaymentDoc>, InvoiceDoc)> {
    let invoice = repo::load_for_payment(&state.db, s, p).await?;
    let inputs = decide::PaymentInputs { invoice: invoice.as_ref() };
    let plan = decide::payment(p, &inputs, state.clock.now(), &mut ObjectId::new)?;
    repo::apply_payment(&state.db, s, plan, log).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::decide::format_number;

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
