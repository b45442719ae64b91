//! Row conversions of the report lists (JSON and CSV share them): an invoice, a payment, a
//! day book entry, from the documents the report pipelines return.

use bson::Document;

use crate::{
    csv,
    dashboard::{dto::*, repo},
    money::Paise,
    wire,
};

fn s(d: &Document, k: &str) -> String {
    d.get_str(k).unwrap_or("").to_string()
}
fn at(d: &Document, k: &str) -> String {
    d.get_datetime(k).map(|t| wire::iso(*t)).unwrap_or_default()
}
fn oid(d: &Document, k: &str) -> String {
    d.get_object_id(k).map(|o| o.to_hex()).unwrap_or_default()
}
fn opt(d: &Document, k: &str) -> Option<String> {
    d.get_str(k).ok().map(str::to_string)
}

/// One row of the invoice report. `balance` is what is due (issue 18: total − credited −
/// paid, at least 0, and 0 on a cancelled invoice, as `InvoiceDoc::pending`).
pub fn invoice_row(d: &Document) -> InvoiceRow {
    let total = Paise::new(repo::int(d, "totalAmount"));
    let paid = Paise::new(repo::int(d, "paidAmount"));
    let credited = Paise::new(repo::int(d, "creditedAmount"));
    let is_cancelled = d.get_bool("isCancelled").unwrap_or(false);
    let balance = if is_cancelled {
        Paise::ZERO
    } else {
        total.checked_sub(credited).and_then(|t| t.checked_sub(paid)).filter(|b| !b.is_negative()).unwrap_or_default()
    };
    InvoiceRow {
        id: oid(d, "_id"),
        invoice_number: opt(d, "invoiceNumber"),
        invoice_date: s(d, "invoiceDate"),
        due_date: s(d, "dueDate"),
        generated_at: at(d, "generatedAt"),
        customer_name: s(d, "clientCustomerName"),
        customer_phone: s(d, "clientCustomerPhone"),
        total_amount: total,
        paid_amount: paid,
        balance,
        status: s(d, "status"),
        kind: s(d, "kind"),
        credited_amount: credited,
        refunded_amount: Paise::new(repo::int(d, "refundedAmount")),
        is_cancelled,
    }
}

pub const INVOICE_HEADER: &[&str] = &[
    "invoiceNumber",
    "invoiceDate",
    "dueDate",
    "generatedAt",
    "customerName",
    "customerPhone",
    "totalAmount",
    "paidAmount",
    "balance",
    "status",
    "kind",
    "invoiceId",
    "creditedAmount",
    "refundedAmount",
    "isCancelled",
];

pub fn invoice_csv(d: &Document) -> String {
    let r = invoice_row(d);
    csv::record(&[
        csv::field(r.invoice_number.as_deref().unwrap_or("")),
        csv::field(&r.invoice_date),
        csv::field(&r.due_date),
        csv::field(&r.generated_at),
        csv::field(&r.customer_name),
        csv::field(&r.customer_phone),
        csv::rupees(r.total_amount),
        csv::rupees(r.paid_amount),
        csv::rupees(r.balance),
        csv::field(&r.status),
        csv::field(&r.kind),
        r.id,
        csv::rupees(r.credited_amount),
        csv::rupees(r.refunded_amount),
        r.is_cancelled.to_string(),
    ])
}

fn first_of(d: &Document, arr: &str, k: &str) -> Option<String> {
    d.get_array(arr).ok()?.first()?.as_document()?.get_str(k).ok().map(str::to_string)
}

pub fn payment_row(d: &Document) -> PaymentRow {
    PaymentRow {
        id: oid(d, "_id"),
        paid_at: at(d, "paidAt"),
        invoice_id: oid(d, "invoiceId"),
        invoice_number: first_of(d, "inv", "invoiceNumber"),
        customer_name: first_of(d, "inv", "clientCustomerName").unwrap_or_default(),
        amount: Paise::new(repo::int(d, "amount")),
        method: s(d, "method"),
        note: s(d, "note"),
        kind: if d.get_str("kind").ok() == Some(repo::KIND_REFUND) {
            "refund".to_string()
        } else {
            "payment".to_string()
        },
    }
}

pub const PAYMENT_HEADER: &[&str] =
    &["paidAt", "invoiceNumber", "customerName", "amount", "method", "note", "paymentId", "invoiceId", "kind"];

pub fn payment_csv(d: &Document) -> String {
    let r = payment_row(d);
    csv::record(&[
        csv::field(&r.paid_at),
        csv::field(r.invoice_number.as_deref().unwrap_or("")),
        csv::field(&r.customer_name),
        csv::rupees(r.amount),
        csv::field(&r.method),
        csv::field(&r.note),
        r.id,
        r.invoice_id,
        csv::field(&r.kind),
    ])
}

pub fn day_book_entry(d: &Document) -> DayBookEntry {
    DayBookEntry {
        at: at(d, "at"),
        kind: s(d, "type"),
        invoice_id: oid(d, "invoiceId"),
        invoice_number: opt(d, "invoiceNumber"),
        customer_name: s(d, "customerName"),
        amount: Paise::new(repo::int(d, "amount")),
        method: s(d, "method"),
        credit_note_number: opt(d, "creditNoteNumber"),
    }
}

pub const DAY_BOOK_HEADER: &[&str] =
    &["at", "type", "invoiceNumber", "customerName", "amount", "method", "invoiceId", "creditNoteNumber"];

pub fn day_book_csv(d: &Document) -> String {
    let r = day_book_entry(d);
    csv::record(&[
        csv::field(&r.at),
        csv::field(&r.kind),
        csv::field(r.invoice_number.as_deref().unwrap_or("")),
        csv::field(&r.customer_name),
        csv::rupees(r.amount),
        csv::field(&r.method),
        r.invoice_id,
        csv::field(r.credit_note_number.as_deref().unwrap_or("")),
    ])
}

// ---------- list reports with CSV ----------
