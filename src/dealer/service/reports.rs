//! D21-D23: the dealer summary and the order/payment timelines.

use std::collections::HashSet;

use bson::{oid::ObjectId, DateTime};
use mongodb::Database;
use serde_json::json;

use crate::{
    dealer::{dto::*, model::*, repo},
    error::AppResult,
    money::Paise,
    state::AppState,
    time, wire,
};

use super::{dealer_of, page, Page};

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
