//! D14-D20: dealer payments (never beyond an order's bill) and the payment views.

use bson::{oid::ObjectId, DateTime};
use mongodb::Database;

use crate::{
    access::By,
    db,
    dealer::{dto::*, model::*, repo},
    error::{AppError, AppResult},
    money::Paise,
    state::AppState,
    validate::Errors,
    wire,
};

use super::{check_client, dealer_of, not_found, opt_oid, order_of, page, required_oid};

// ------------------------------------------------------------------------- payments

struct NewPayment<'a> {
    state: &'a AppState,
    db: Database,
    payment: PaymentDoc,
    keyed: Option<(&'a str, &'a str)>,
}

/// D15: with an `orderId`, the guarded `$inc` of the order's `paidAmount` and the payment
/// insert commit together, so concurrent payments can never pay an order beyond its total.
/// `by` (the signed-in user) is recorded as the payment's `createdBy`.
pub async fn create_payment(
    state: &AppState,
    client: ObjectId,
    by: By,
    r: CreatePaymentRequest,
) -> AppResult<PaymentDoc> {
    create_payment_keyed(state, client, by, r, None).await.map(|(p, _)| p)
}

/// [`create_payment`]; with `keyed` = (`X-Idempotency-Key`, `idem::hash` of the request) the
/// 201 answer is rendered and recorded under the key in the same transaction as the payment
/// (`idem`), and returned as the second value.
pub async fn create_payment_keyed(
    state: &AppState,
    client: ObjectId,
    by: By,
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
        created_by: Some(by),
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
