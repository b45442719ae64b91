//! The rules of a payment on an invoice, as a pure function (moved out of `billing::decide`,
//! whose module docs describe the shape): the invoice as read is the input, a
//! [`PaymentPlan`] or a typed [`Refusal`] the output.

use bson::{oid::ObjectId, DateTime};

use super::*;

/// The current documents a payment is decided on.
pub struct PaymentInputs<'a> {
    /// The invoice it pays, as read (`None` = not an invoice of the shop).
    pub invoice: Option<&'a InvoiceDoc>,
}

/// Everything a payment writes, as data.
#[derive(Debug, Clone)]
pub struct PaymentPlan {
    /// The payments recorded: one, or one per paid part of a split payment (issue 17), in
    /// the order sent (never empty).
    pub payments: Vec<PaymentDoc>,
    /// The invoice after the payment (paid amount, status, finalisation; when the payment
    /// completes an incomplete sale: kind `invoice`, dated today, number in `number_in`).
    pub invoice: InvoiceDoc,
    /// The paid amount the invoice had when decided: the guard of the write (a concurrent
    /// payment makes it match nothing: never an overpayment).
    pub paid_before: Paise,
    /// `Some(financial year)`: the payment completes an incomplete sale, which takes the next
    /// number of that year (the year of `now`) when applied.
    pub number_in: Option<String>,
    /// The invoice's customer and the move of their dues (negative).
    pub customer: Option<(ObjectId, Paise)>,
    /// The purchase history row, when the payment completes the invoice of a customer.
    pub history: Option<PurchaseHistoryDoc>,
}

impl PaymentPlan {
    /// The synced documents the plan writes, for the change log.
    pub fn changes(&self) -> Vec<(&'static str, ObjectId, bool)> {
        let mut out: Vec<_> = self.payments.iter().map(|p| (PAYMENTS, p.id, false)).collect();
        out.push((INVOICES, self.invoice.id, false));
        out.extend(self.customer.map(|(c, _)| (CUSTOMERS, c, false)));
        out
    }
}

/// Decide a payment: the invoice must be the shop's, not settled, and the amount at most
/// what is due (a split payment: its parts settled against what is due,
/// [`super::tender::settle`]; one payment document per paid part). It is dated by the device time (never later than `now`, the receipt time)
/// but never before its invoice (`generatedAt`). The payment that completes the invoice
/// finalises it, writes the purchase history, and numbers an incomplete sale.
pub fn payment(
    cmd: &RecordPayment,
    inputs: &PaymentInputs<'_>,
    now: DateTime,
    ids: &mut impl FnMut() -> ObjectId,
) -> Result<PaymentPlan, Refusal> {
    let inv = inputs.invoice.filter(|i| i.id == cmd.invoice_id && i.client_id == cmd.client_id);
    let Some(inv) = inv else { return Err(Refusal::InvoiceNotFound) };
    if inv.is_cancelled {
        return Err(Refusal::Cancelled);
    }
    // what is still due: the total less credit notes and what is paid (issue 18)
    let due = inv.pending();
    if inv.is_finalized || (cmd.split.is_none() && cmd.amount > due) {
        return Err(Refusal::field("amount", format!("exceeds the outstanding balance {due}")));
    }
    let settled = super::tender::of_payment(cmd, due)?;
    if !settled.paid.is_positive() {
        // only credit parts: nothing to record
        return Err(Refusal::field("payments", "pay nothing (only credit parts); send a part with an amount"));
    }
    let amount = settled.paid;
    let paid_at = cmd.paid_at.map_or(now, |t| time::record_time(t, now)).max(inv.generated_at);
    let payments = settled
        .parts
        .iter()
        .map(|p| PaymentDoc {
            id: ids(),
            client_id: cmd.client_id,
            invoice_id: inv.id,
            amount: p.amount,
            method: p.method.clone(),
            note: cmd.note.clone(),
            paid_at,
            device_time: cmd.paid_at,
            created_at: now,
            updated_at: now,
            version: 0,
            recorded_by: Some(cmd.by.clone()),
            reference: p.reference.clone(),
            tendered: p.tendered,
            change: p.change,
            kind: None,
            credit_note_id: None,
        })
        .collect();
    let mut after = inv.clone();
    after.payment_method =
        super::tender::method_summary(inv.payment_method.as_deref(), inv.paid_amount, &settled.parts);
    // within the total (checked above), so it cannot overflow
    after.paid_amount = inv.paid_amount.checked_add(amount).unwrap_or(inv.total_amount);
    after.is_finalized = after.pending().is_zero();
    after.status = after.settled_status().to_string();
    after.finalized_at = after.is_finalized.then_some(now);
    after.updated_at = now;
    after.version += 1;
    let number_in = (after.is_finalized && after.kind == KIND_INCOMPLETE).then(|| {
        // numbered = issued: an incomplete sale becomes an invoice of today
        after.kind = KIND_INVOICE.to_string();
        after.invoice_date = time::ist_date_string(now);
        time::financial_year(now)
    });
    let history = match after.client_customer_id {
        Some(c) if after.is_finalized => Some(history(&after, c, now, ids())),
        _ => None,
    };
    Ok(PaymentPlan {
        paid_before: inv.paid_amount,
        customer: after.client_customer_id.map(|c| (c, Paise::new(-amount.as_i64()))),
        payments,
        invoice: after,
        number_in,
        history,
    })
}
