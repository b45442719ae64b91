//! The documents a decided sale writes (split from `billing::decide`): the invoice, not yet
//! numbered, its payments and its purchase-history row. Pure.

use bson::{oid::ObjectId, DateTime};

use super::{tender, DUE_DAYS, PLACEHOLDER_NAME};
use crate::{
    billing::{
        command::{Sale, KIND_INVOICE},
        model::*,
    },
    customer::model::CustomerDoc,
    money::Paise,
    time,
};

/// What an invoice is built from (all checks done).
pub(super) struct Draft<'a> {
    pub(super) id: ObjectId,
    pub(super) sale: &'a Sale,
    pub(super) customer: Option<&'a CustomerDoc>,
    pub(super) lines: Vec<InvoiceLine>,
    pub(super) subtotal: Paise,
    pub(super) tax: Paise,
    pub(super) discount: Paise,
    pub(super) total: Paise,
    pub(super) at: DateTime,
    pub(super) now: DateTime,
    pub(super) cart_id: Option<ObjectId>,
    pub(super) device_ref: Option<String>,
    pub(super) device_time: Option<DateTime>,
}

/// The invoice document of a sale, not yet numbered.
pub(super) fn build_invoice(d: Draft<'_>) -> InvoiceDoc {
    let Draft { id, sale, customer, lines, subtotal, tax, discount, total, at, now, cart_id, device_ref, device_time } =
        d;
    let today = time::ist_date(at);
    let due = today + chrono::Duration::days(DUE_DAYS);
    let finalized = sale.paid >= total && sale.kind == KIND_INVOICE;
    InvoiceDoc {
        id,
        client_id: sale.client_id,
        client_customer_id: customer.map(|c| c.id),
        client_customer_name: sale
            .customer_name
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| customer.map(|c| c.name.clone()).filter(|n| n != PLACEHOLDER_NAME))
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
        total_tax: tax,
        total_discount: discount,
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
        billed_by: Some(sale.by.clone()),
        review_flags: vec![],
        approved_by: sale.rights.approved_by.clone(),
        offline_bill_ref: None,
        device_series: None,
        series: None,
        gst: None,
        payment_method: None,
        tender: None,
        is_cancelled: false,
        cancellation: None,
        credited_amount: Paise::ZERO,
        refunded_amount: Paise::ZERO,
    }
}

/// The payments taken with the sale, one per settled part (dated with the invoice; none
/// when nothing was paid).
pub(super) fn sale_payments(
    inv: &InvoiceDoc,
    settled: &tender::Settled,
    now: DateTime,
    ids: &mut impl FnMut() -> ObjectId,
) -> Vec<PaymentDoc> {
    settled
        .parts
        .iter()
        .map(|p| PaymentDoc {
            id: ids(),
            client_id: inv.client_id,
            invoice_id: inv.id,
            amount: p.amount,
            method: p.method.clone(),
            note: "Initial payment at invoice generation".into(),
            paid_at: inv.generated_at,
            device_time: inv.device_time,
            created_at: now,
            updated_at: now,
            version: 0,
            recorded_by: inv.billed_by.clone(),
            reference: p.reference.clone(),
            tendered: p.tendered,
            change: p.change,
            kind: None,
            credit_note_id: None,
        })
        .collect()
}

pub(super) fn history(inv: &InvoiceDoc, customer: ObjectId, at: DateTime, id: ObjectId) -> PurchaseHistoryDoc {
    PurchaseHistoryDoc {
        id,
        client_id: inv.client_id,
        client_customer_id: customer,
        client_customer_phone: inv.client_customer_phone.clone(),
        invoice_id: inv.id,
        total_amount: inv.total_amount,
        purchased_at: at,
        version: 0,
    }
}
