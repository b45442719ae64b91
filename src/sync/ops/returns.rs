//! The v2 push operations of issue 18, `invoice cancel` and `creditNote create`: parsed from
//! the online request's fields by the online rules (`billing::credit::dto::check_cancel`,
//! `check_note`), plus the invoice by server id or by the opId of its sale.

use bson::DateTime;
use serde_json::Value;

use super::{
    approval_token, bounded_time, joined,
    payload::{CancelP, CreditNoteP},
    reference, Action, Ref,
};
use crate::{billing::rules, extract::from_value, validate::Errors};

/// A parsed `invoice cancel` (issue 18): the fields of the online cancel request.
#[derive(Debug, Clone)]
pub struct CancelAction {
    /// The invoice: a server id, or the opId of the sale that created it.
    pub invoice: Ref,
    /// Why (1-500 characters).
    pub reason: String,
    /// Refund what is paid on it in this method (`refund: {method}`).
    pub refund_method: Option<String>,
    /// A manager's approval token for a user without `cancel` (issued online).
    pub approval_token: Option<String>,
    /// When it happened on the device (`deviceTime`, bounded like a sale's).
    pub at: DateTime,
}

/// A parsed `creditNote create` (issue 18): the fields of the online credit-note request.
#[derive(Debug, Clone)]
pub struct CreditAction {
    /// The invoice: a server id, or the opId of the sale that created it.
    pub invoice: Ref,
    pub credit: crate::billing::credit::command::Credit,
    pub restock: bool,
    pub settlement: crate::billing::credit::command::Settle,
    /// Why (1-500 characters).
    pub reason: String,
    /// A manager's approval token for a user without `cancel` (issued online).
    pub approval_token: Option<String>,
    /// When it happened on the device (`deviceTime`, bounded like a sale's).
    pub at: DateTime,
    /// The device's own reference of the note (1-100 characters).
    pub device_ref: Option<String>,
}

/// `invoice cancel`.
pub(super) fn cancel(payload: Value, device_time: Option<DateTime>, now: DateTime) -> Result<Action, String> {
    let mut e = Errors::new();
    // the online request's fields, read by the online rules (`check_cancel`)
    let p: CancelP = from_value(payload).map_err(joined)?;
    let at = bounded_time(device_time.ok_or("deviceTime: is required for a cancel")?, now)?;
    let invoice = reference(&mut e, "invoiceId", &p.invoice_id, &p.invoice_op_id);
    let (reason, refund_method) = crate::billing::credit::dto::check_cancel(&mut e, &p.request());
    std::mem::take(&mut e).finish().map_err(joined)?;
    Ok(Action::InvoiceCancel(Box::new(CancelAction {
        invoice: invoice.ok_or("invoiceId: missing")?,
        reason,
        refund_method,
        approval_token: approval_token(&p.approval_token),
        at,
    })))
}

/// `creditNote create`.
pub(super) fn credit_note(payload: Value, device_time: Option<DateTime>, now: DateTime) -> Result<Action, String> {
    let mut e = Errors::new();
    // the online request's fields, read by the online rules (`check_note`)
    let p: CreditNoteP = from_value(payload).map_err(joined)?;
    let at = bounded_time(device_time.ok_or("deviceTime: is required for a credit note")?, now)?;
    let invoice = reference(&mut e, "invoiceId", &p.invoice_id, &p.invoice_op_id);
    let note = crate::billing::credit::dto::check_note(&mut e, &p.request());
    let device_ref = rules::device_ref(&mut e, "deviceRef", &p.device_ref);
    std::mem::take(&mut e).finish().map_err(joined)?;
    let note = note.ok_or("lines: could not be read")?;
    Ok(Action::CreditNoteCreate(Box::new(CreditAction {
        invoice: invoice.ok_or("invoiceId: missing")?,
        credit: note.credit,
        restock: note.restock,
        settlement: note.settlement,
        reason: note.reason,
        approval_token: approval_token(&p.approval_token),
        at,
        device_ref,
    })))
}
