//! The wire shapes of issue 18 (money in rupees with at most two decimals; quantities whole
//! numbers) and the field rules every door applies to them ([`check_note`],
//! [`check_cancel`]), so the online routes and the v2 push read a request alike.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    command::{Credit, ReturnLine, ReturnUnit, Settle},
    model::{CreditLine, CreditNoteDoc},
};
use crate::{
    access::ByWire,
    billing::{dto::InvoiceWire, model::LineUnit},
    catalog::batch::Allocation,
    money::Paise,
    paging::Pagination,
    validate::Errors,
    wire,
};

/// Longest reason of a cancel or credit note (characters).
pub const REASON_MAX: usize = 500;

/// `POST /api/business/invoices/{id}/cancel`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelRequest {
    /// Why (1-500 characters; kept on the invoice and in the audit trail).
    #[schema(example = "Billed to the wrong customer")]
    pub reason: String,
    /// Refund what is paid on the invoice as part of the cancel (required when something is).
    pub refund: Option<RefundRequest>,
    /// A user without the `cancel` permission (a cashier): the token of a manager's approval
    /// (`POST /api/staff/approvals`, action `cancel`, the same `invoiceId` and `refund`).
    pub approval_token: Option<String>,
}

/// How a cancel refunds.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefundRequest {
    /// `cash` | `card` | `upi` | `bank` | `cheque` | `other` (required).
    #[schema(example = "cash")]
    pub method: Option<String>,
}

/// One returned line.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReturnLineRequest {
    /// The invoice line: its 0-based index in the invoice's `products` (each answered line
    /// carries its `lineId`).
    #[schema(example = 0)]
    pub line_id: i64,
    /// How many, in `unitId` when sent, else in the unit the line sold in. 0 credits nothing.
    pub quantity: Option<i64>,
    /// A packing unit of the item for `quantity` (e.g. return pieces of a line sold in boxes:
    /// send `baseQuantity`, or the piece unit's id).
    pub unit_id: Option<String>,
    /// The quantity in the item's base unit (instead of `quantity`).
    pub base_quantity: Option<i64>,
    /// The lot the units go back to (a `hasExpiry` item); default: the lots the line took.
    pub batch_no: Option<String>,
}

/// How a credit note is settled: `{"type": "refund", "method": "cash", "amount"?: 56}` pays
/// money back (`amount`, default the whole note; the rest is adjusted to dues), or
/// `{"type": "adjustToDues"}` takes it all off what is pending on the invoice.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum SettlementRequest {
    #[serde(rename_all = "camelCase")]
    Refund {
        method: Option<String>,
        #[schema(value_type = Option<f64>)]
        amount: Option<Paise>,
    },
    AdjustToDues,
}

/// `POST /api/business/credit-notes`: returned lines (`lines`) or an amount-only adjustment
/// (`amount`, tax included), never both.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreditNoteRequest {
    pub invoice_id: String,
    #[serde(default)]
    pub lines: Vec<ReturnLineRequest>,
    /// Rupees, tax included (an overcharge corrected); no goods move.
    #[schema(value_type = Option<f64>)]
    pub amount: Option<Paise>,
    /// Put the returned goods back on the shelf (default true; false for damaged goods).
    pub restock: Option<bool>,
    pub settlement: SettlementRequest,
    /// Why (1-500 characters).
    #[schema(example = "Customer returned one unit")]
    pub reason: String,
    /// A user without the `cancel` permission: the token of a manager's approval
    /// (`POST /api/staff/approvals`, action `credit_note`, the same `invoiceId`, `lines` or
    /// `amount`, `restock` and `settlement`).
    pub approval_token: Option<String>,
}

/// What a credit note request says, checked: the credit, restock, settlement and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteIn {
    pub credit: Credit,
    pub restock: bool,
    pub settlement: Settle,
    pub reason: String,
}

/// The field rules of a credit note (every door): `lines` (1 to `MAX_INVOICE_LINES`, each
/// with `lineId` >= 0 and exactly one of `quantity`/`baseQuantity`, 0 to `limits::MAX_UNITS`)
/// or `amount` (above 0, at most `limits::MAX_INVOICE`), never both; `settlement.method` one
/// of the payment methods; `reason` 1-500 characters. Errors are added to `e`.
pub fn check_note(e: &mut Errors, req: &CreditNoteRequest) -> Option<NoteIn> {
    let reason = e.text("reason", &req.reason, 1, REASON_MAX);
    let credit = check_credit(e, &req.lines, req.amount);
    let settlement = check_settlement(e, &req.settlement);
    Some(NoteIn { credit: credit?, restock: req.restock.unwrap_or(true), settlement, reason })
}

/// A refund method: required (money going out names how), one of the payment methods.
fn refund_method(e: &mut Errors, field: &str, m: &Option<String>) -> String {
    if m.as_deref().map(str::trim).is_none_or(str::is_empty) {
        e.add(field, "is required for a refund (cash, card, upi, bank, cheque or other)");
    }
    crate::billing::rules::method(e, field, m)
}

/// The settlement of a note (or of an approval of one).
pub fn check_settlement(e: &mut Errors, s: &SettlementRequest) -> Settle {
    match s {
        SettlementRequest::AdjustToDues => Settle::AdjustToDues,
        SettlementRequest::Refund { method, amount } => {
            let method = refund_method(e, "settlement.method", method);
            if let Some(a) = amount {
                crate::billing::rules::payment_amount(e, "settlement.amount", *a);
            }
            Settle::Refund { method, amount: *amount }
        }
    }
}

/// The credit of a note (or of an approval of one): `lines` or `amount`, never both.
pub fn check_credit(e: &mut Errors, lines: &[ReturnLineRequest], amount: Option<Paise>) -> Option<Credit> {
    match (&amount, lines.is_empty()) {
        (Some(_), false) => {
            e.add("amount", "send lines (goods returned) or amount (an adjustment), not both");
            None
        }
        (None, true) => {
            e.add("lines", "is required (or send amount)");
            None
        }
        (Some(a), true) => {
            crate::billing::rules::payment_amount(e, "amount", *a);
            Some(Credit::Amount(*a))
        }
        (None, false) => {
            crate::billing::rules::line_count(e, "lines", lines.len());
            let parsed: Vec<ReturnLine> = lines.iter().enumerate().filter_map(|(k, l)| return_line(e, k, l)).collect();
            (parsed.len() == lines.len()).then_some(Credit::Lines(parsed))
        }
    }
}

fn return_line(e: &mut Errors, k: usize, l: &ReturnLineRequest) -> Option<ReturnLine> {
    let f = |name: &str| format!("lines[{k}].{name}");
    let line = usize::try_from(l.line_id).ok();
    e.check(line.is_some(), &f("lineId"), "must be a whole number of at least 0");
    let in_range = |e: &mut Errors, name: &str, q: i64| {
        e.check(
            (0..=crate::limits::MAX_UNITS).contains(&q),
            &f(name),
            &format!("must be 0 to {}", crate::limits::MAX_UNITS),
        );
    };
    let unit_id = l.unit_id.as_deref().map(str::trim).filter(|u| !u.is_empty());
    let (quantity, unit) = match (l.quantity, l.base_quantity) {
        (Some(q), None) => {
            in_range(e, "quantity", q);
            let unit = match unit_id {
                Some(u) => e.oid(&f("unitId"), u).map(ReturnUnit::Unit),
                None => Some(ReturnUnit::Sold),
            };
            (q, unit)
        }
        (None, Some(q)) => {
            in_range(e, "baseQuantity", q);
            e.check(unit_id.is_none(), &f("unitId"), "is not sent with baseQuantity");
            (q, Some(ReturnUnit::Base))
        }
        _ => {
            e.add(&f("quantity"), "send quantity or baseQuantity (one of them)");
            (0, None)
        }
    };
    let batch_no = crate::catalog::batch::line_batch(e, &f("batchNo"), &l.batch_no);
    Some(ReturnLine { line: line?, quantity, unit: unit?, batch_no })
}

/// The canonical text of a credit note that an approval binds to
/// (`approval::Subject::CreditNote`): what it credits (`lines|<lineId>:<quantity>:<unit>|...`,
/// unit `s` = the line's, `b` = base units, else the unit id; or `amount|<paise>`), whether
/// the goods go back on the shelf, and how it is settled (`dues`, or `refund:<method>:<paise
/// or all>`): an approver decides where the money goes, not only what comes back.
pub fn credit_text(credit: &Credit, restock: bool, settlement: &Settle) -> String {
    let settle = match settlement {
        Settle::AdjustToDues => "dues".to_string(),
        Settle::Refund { method, amount } => {
            format!("refund:{method}:{}", amount.map_or("all".to_string(), |a| a.as_i64().to_string()))
        }
    };
    format!("{}|restock:{restock}|settle:{settle}", what_text(credit))
}

fn what_text(credit: &Credit) -> String {
    match credit {
        Credit::Amount(a) => format!("amount|{}", a.as_i64()),
        Credit::Lines(lines) => {
            let mut t = String::from("lines");
            for l in lines {
                let unit = match l.unit {
                    ReturnUnit::Sold => "s".to_string(),
                    ReturnUnit::Base => "b".to_string(),
                    ReturnUnit::Unit(u) => u.to_hex(),
                };
                t.push_str(&format!("|{}:{}:{unit}", l.line, l.quantity));
            }
            t
        }
    }
}

/// The checked reason and refund method of a cancel (every door).
pub fn check_cancel(e: &mut Errors, req: &CancelRequest) -> (String, Option<String>) {
    let reason = e.text("reason", &req.reason, 1, REASON_MAX);
    let refund = req.refund.as_ref().map(|r| refund_method(e, "refund.method", &r.method));
    (reason, refund)
}

/// A credited line as answered.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreditLineWire {
    pub line_id: usize,
    pub product_id: Option<String>,
    pub item_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hsn_code: Option<String>,
    pub quantity: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_name: Option<String>,
    pub base_quantity: i64,
    /// The GST rate of the line, percent (`1800` basis points = `18`).
    #[schema(value_type = f64)]
    pub gst_rate: f64,
    #[schema(value_type = f64)]
    pub taxable_value: Paise,
    #[schema(value_type = f64)]
    pub cgst: Paise,
    #[schema(value_type = f64)]
    pub sgst: Paise,
    #[schema(value_type = f64)]
    pub igst: Paise,
    #[schema(value_type = f64)]
    pub cess: Paise,
    #[schema(value_type = f64)]
    pub total: Paise,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub restocked: Vec<Allocation>,
}

impl From<&CreditLine> for CreditLineWire {
    fn from(l: &CreditLine) -> Self {
        let unit: Option<&LineUnit> = l.unit.as_ref();
        CreditLineWire {
            line_id: l.line_id,
            product_id: l.product_id.map(|p| p.to_hex()),
            item_name: l.item_name.clone(),
            hsn_code: l.hsn_code.clone(),
            quantity: l.quantity,
            unit_id: unit.map(|u| u.unit_id.to_hex()),
            unit_name: unit.map(|u| u.unit_name.clone()),
            base_quantity: l.base_quantity,
            gst_rate: f64::from(l.gst_bp) / 100.0,
            taxable_value: l.taxable_value,
            cgst: l.cgst,
            sgst: l.sgst,
            igst: l.igst,
            cess: l.cess,
            total: l.total,
            restocked: l.restocked.clone(),
        }
    }
}

/// How a credit note was settled, as answered (rupees).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettlementWire {
    #[schema(value_type = f64)]
    pub refund: Paise,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_payment_id: Option<String>,
    #[schema(value_type = f64)]
    pub dues_adjusted: Paise,
}

/// A credit note as the app reads it (the v2 pull serves the same shape).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreditNoteWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    #[schema(example = "CN/26-27/00001")]
    pub credit_note_number: String,
    pub series: String,
    pub financial_year: String,
    /// India date `YYYY-MM-DD`: the note counts in this period.
    pub credit_note_date: String,
    pub issued_at: String,
    pub invoice_id: String,
    pub invoice_number: Option<String>,
    pub invoice_date: String,
    pub client_customer_id: Option<String>,
    pub client_customer_name: String,
    pub client_customer_phone: String,
    /// `return` (goods back) | `adjustment` (an amount only).
    pub kind: String,
    pub reason: String,
    pub restock: bool,
    pub lines: Vec<CreditLineWire>,
    #[schema(value_type = f64)]
    pub taxable_value: Paise,
    #[schema(value_type = f64)]
    pub cgst: Paise,
    #[schema(value_type = f64)]
    pub sgst: Paise,
    #[schema(value_type = f64)]
    pub igst: Paise,
    #[schema(value_type = f64)]
    pub cess: Paise,
    #[schema(value_type = f64)]
    pub round_off: Paise,
    #[schema(value_type = f64)]
    pub total_amount: Paise,
    /// The invoice's GST particulars (shops with a GST profile).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub gst: Option<serde_json::Value>,
    pub settlement: SettlementWire,
    pub created_by: ByWire,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<crate::approval::Approver>,
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_ref: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
}

impl From<&CreditNoteDoc> for CreditNoteWire {
    fn from(n: &CreditNoteDoc) -> Self {
        CreditNoteWire {
            id: n.id.to_hex(),
            client_id: n.client_id.to_hex(),
            credit_note_number: n.credit_note_number.clone(),
            series: n.series.clone(),
            financial_year: n.financial_year.clone(),
            credit_note_date: n.credit_note_date.clone(),
            issued_at: wire::iso(n.issued_at),
            invoice_id: n.invoice_id.to_hex(),
            invoice_number: n.invoice_number.clone(),
            invoice_date: n.invoice_date.clone(),
            client_customer_id: n.client_customer_id.map(|c| c.to_hex()),
            client_customer_name: n.client_customer_name.clone(),
            client_customer_phone: n.client_customer_phone.clone(),
            kind: n.kind.clone(),
            reason: n.reason.clone(),
            restock: n.restock,
            lines: n.lines.iter().map(CreditLineWire::from).collect(),
            taxable_value: n.taxable_value,
            cgst: n.cgst,
            sgst: n.sgst,
            igst: n.igst,
            cess: n.cess,
            round_off: n.round_off,
            total_amount: n.total_amount,
            gst: n.gst.as_ref().and_then(|g| serde_json::to_value(g).ok()),
            settlement: SettlementWire {
                refund: n.settlement.refund,
                refund_method: n.settlement.refund_method.clone(),
                refund_payment_id: n.settlement.refund_payment_id.map(|p| p.to_hex()),
                dues_adjusted: n.settlement.dues_adjusted,
            },
            created_by: ByWire::from(&n.created_by),
            approved_by: n.approved_by.clone(),
            source: n.source.clone(),
            device_ref: n.device_ref.clone(),
            created_at: wire::iso(n.created_at),
            updated_at: wire::iso(n.updated_at),
            v: n.version,
        }
    }
}

/// The answer to a credit note: the note and the invoice after it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreditNoteResponse {
    pub success: bool,
    pub message: String,
    pub credit_note: CreditNoteWire,
    pub invoice: InvoiceWire,
}

/// One credit note.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreditNoteOne {
    pub success: bool,
    pub credit_note: CreditNoteWire,
}

/// A page of credit notes, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreditNotesResponse {
    pub success: bool,
    pub credit_notes: Vec<CreditNoteWire>,
    pub pagination: Pagination,
}

/// The answer to a cancel: the invoice as cancelled.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelResponse {
    pub success: bool,
    pub message: String,
    pub invoice: InvoiceWire,
}
