//! The rules of cancelling an invoice and issuing a credit note (issue 18), as pure
//! functions: the documents as read are the input, a plan (every write as data) or a 4xx
//! [`AppError`] the output. Online routes and the v2 push call the same two functions.

use std::collections::HashMap;

use bson::{oid::ObjectId, DateTime};
use chrono::NaiveDate;

use super::{
    command::{CancelInvoice, Credit, IssueCreditNote, ReturnLine, ReturnUnit, Settle},
    figures::{self, Parts},
    lots::{add_restocked, allocations_back, restock_of, Restock},
    model::{CreditGst, CreditLine, CreditNoteDoc, Settlement, KIND_ADJUSTMENT, KIND_RETURN},
};
use crate::{
    access::By,
    billing::command::KIND_INCOMPLETE,
    billing::model::{
        Cancellation, InvoiceDoc, InvoiceLine, LineUnit, PaymentDoc, Returned, KIND_REFUND, STATUS_CANCELLED,
    },
    catalog::{
        batch::{batch_key, Allocation, BatchDoc},
        model::ItemDoc,
        stock::{Reason, StockMovement},
    },
    error::AppError,
    money::Paise,
    time,
};

/// 409: the invoice is already cancelled.
pub const ALREADY_CANCELLED: &str = "ALREADY_CANCELLED";
/// 409: credit notes exist against the invoice (cancel refused; return the rest instead).
pub const HAS_CREDIT_NOTES: &str = "HAS_CREDIT_NOTES";
/// 409: money is still paid on the invoice; refund it (in the same request) to cancel.
pub const REFUND_REQUIRED: &str = "REFUND_REQUIRED";
/// 409: a credit note or payment against a cancelled invoice.
pub const INVOICE_CANCELLED: &str = "INVOICE_CANCELLED";
/// 409: a return of more than was sold less what was returned already.
pub const RETURN_EXCEEDS_SOLD: &str = "RETURN_EXCEEDS_SOLD";
/// 409: a refund of more than was paid on the invoice less earlier refunds.
pub const REFUND_EXCEEDS_PAID: &str = "REFUND_EXCEEDS_PAID";
/// 409: more adjusted to dues than is pending on the invoice.
pub const CREDIT_EXCEEDS_PENDING: &str = "CREDIT_EXCEEDS_PENDING";
/// 409: an amount-only credit above what is left to credit on the invoice.
pub const CREDIT_EXCEEDS_INVOICE: &str = "CREDIT_EXCEEDS_INVOICE";
/// 409: a credit note against an incomplete sale (it has no invoice number to reference).
pub const NOT_ISSUED: &str = "INVOICE_NOT_ISSUED";
/// 422: a credit note after 30 November following the end of the invoice's financial year
/// (CGST Act s.34(2)).
pub const TIME_BARRED: &str = "CREDIT_NOTE_TIME_BARRED";

/// The documents a cancel or credit note is decided on.
pub struct Inputs<'a> {
    /// The invoice, as read (`None` = not an invoice of the shop).
    pub invoice: Option<&'a InvoiceDoc>,
    /// The items of the invoice's lines (any active state): packing units, and which still exist.
    pub items: &'a HashMap<ObjectId, ItemDoc>,
    /// Their lots (`hasExpiry` items), for putting returned units back.
    pub lots: &'a HashMap<ObjectId, Vec<BatchDoc>>,
    /// Round a credit note to the rupee (the shop's GST profile `roundOff`, for an invoice
    /// with GST figures; never for one without).
    pub round_off: bool,
    /// The credit note series prefix (`CN`).
    pub series: &'a str,
}

/// Everything a cancel or credit note writes, as data.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The invoice after it (guarded on `version_before`).
    pub invoice: InvoiceDoc,
    pub version_before: i32,
    /// The credit note (unnumbered: `repo` reserves its number in `financial_year`).
    pub note: Option<CreditNoteDoc>,
    /// The refund payment (a negative amount).
    pub refund: Option<PaymentDoc>,
    pub restock: Vec<Restock>,
    pub movements: Vec<StockMovement>,
    /// The customer and the move of their dues (negative).
    pub customer: Option<(ObjectId, Paise)>,
    /// Delete the invoice's purchase history row (a cancel).
    pub drop_history: bool,
    pub audit: Option<crate::audit::Entry>,
}

impl Plan {
    /// The synced documents the plan writes, for the change log (the items' stock rows are
    /// logged by the stock moves themselves when applied one by one; here all at once).
    pub fn changes(&self) -> Vec<(&'static str, ObjectId, bool)> {
        use crate::changelog::{BATCHES, CREDIT_NOTES, CUSTOMERS, INVOICES, ITEMS, PAYMENTS};
        let mut out = vec![(INVOICES, self.invoice.id, false)];
        out.extend(self.note.as_ref().map(|n| (CREDIT_NOTES, n.id, false)));
        out.extend(self.refund.as_ref().map(|p| (PAYMENTS, p.id, false)));
        out.extend(self.customer.map(|(c, _)| (CUSTOMERS, c, false)));
        for r in &self.restock {
            out.push((ITEMS, r.item, false));
            out.extend(r.lots.iter().map(|(b, _)| (BATCHES, *b, false)));
        }
        out
    }
}

fn conflict(code: &'static str, text: impl Into<String>) -> AppError {
    AppError::conflict(code, text)
}

fn not_found() -> AppError {
    AppError::not_found("Invoice not found")
}

/// The last India date a credit note may be issued for an invoice dated `invoice_date`:
/// 30 November after the end of its financial year (CGST Act s.34(2); the earlier annual
/// return date is not tracked). An invoice of 10 May 2026 (FY 2026-27): 30 November 2027.
pub fn last_credit_date(invoice_date: NaiveDate) -> Option<NaiveDate> {
    time::november_after_fy(invoice_date)
}

fn refund_doc(
    inv: &InvoiceDoc,
    amount: Paise,
    method: &str,
    note: String,
    by: &By,
    at: DateTime,
    id: ObjectId,
) -> PaymentDoc {
    PaymentDoc {
        id,
        client_id: inv.client_id,
        invoice_id: inv.id,
        amount: Paise::new(-amount.as_i64()),
        method: method.to_string(),
        note,
        paid_at: at,
        device_time: None,
        created_at: at,
        updated_at: at,
        version: 0,
        recorded_by: Some(by.clone()),
        reference: None,
        tendered: None,
        change: None,
        kind: Some(KIND_REFUND.to_string()),
        credit_note_id: None,
    }
}

fn movement(
    cmd_client: ObjectId,
    r: &Restock,
    reason: Reason,
    ref_id: ObjectId,
    at: DateTime,
    by: &By,
    id: ObjectId,
) -> StockMovement {
    StockMovement {
        id,
        client_id: cmd_client,
        item_id: r.item,
        delta: r.units,
        reason,
        ref_id: Some(ref_id),
        at,
        by: Some(by.clone()),
        note: None,
    }
}

fn audit_entry(
    client_id: ObjectId,
    who: &crate::audit::Who,
    action: crate::audit::Action,
    (entity, id): (&str, ObjectId),
    at: DateTime,
    reason: &str,
    approver: Option<&crate::approval::Approver>,
) -> Option<crate::audit::Entry> {
    let mut b = crate::audit::Entry::builder(client_id, who.clone(), action, entity)
        .entity_id(id.to_hex())
        .at(at)
        .reason(crate::validate::cut(reason, crate::audit::MAX_REASON_CHARS).to_string());
    if let Some(a) = approver {
        b = b.approver(crate::audit::Approver::new(a.user_id.clone(), a.name.clone(), a.role.as_str()));
    }
    b.build().ok()
}

/// Decide a cancel (issue 18): the invoice must be the shop's (404 otherwise), not cancelled
/// (409 [`ALREADY_CANCELLED`]), without credit notes (409 [`HAS_CREDIT_NOTES`]), and with
/// nothing paid on it unless the command refunds it (409 [`REFUND_REQUIRED`] naming the
/// amount). It keeps its number; every line's base units go back on the shelf (into the
/// lots they came from, reason `cancel`), the customer's dues lose what was pending on it,
/// its purchase history row goes, and it shows `Cancelled` with who, when and why.
pub fn cancel(
    cmd: &CancelInvoice,
    inputs: &Inputs<'_>,
    now: DateTime,
    ids: &mut impl FnMut() -> ObjectId,
) -> Result<Plan, AppError> {
    let inv =
        inputs.invoice.filter(|i| i.id == cmd.invoice_id && i.client_id == cmd.client_id).ok_or_else(not_found)?;
    if inv.is_cancelled {
        return Err(conflict(ALREADY_CANCELLED, "This invoice is already cancelled"));
    }
    if inv.credited_amount.is_positive() || inv.products.iter().any(|l| l.returned.is_some()) {
        return Err(conflict(
            HAS_CREDIT_NOTES,
            "Credit notes exist against this invoice; it cannot be cancelled (issue a credit note for the rest)",
        ));
    }
    let at = cmd.at.map_or(now, |t| time::record_time(t, now)).max(inv.generated_at);
    let paid = inv.paid_amount;
    let refund = match (&cmd.refund_method, paid.is_positive()) {
        (_, false) => None,
        (None, true) => {
            return Err(conflict(
                REFUND_REQUIRED,
                format!("{paid} is paid on this invoice; refund it to cancel (send refund.method)"),
            ))
        }
        (Some(m), true) => {
            Some(refund_doc(inv, paid, m, format!("Refund on cancelling: {}", cmd.reason), &cmd.by, at, ids()))
        }
    };
    let restock: Vec<Restock> = inv
        .products
        .iter()
        .filter_map(|l| {
            let item = l.product_id.filter(|p| inputs.items.contains_key(p))?;
            let units = l.base_units();
            (units > 0).then(|| restock_of(item, &allocations_back(l, units), inputs.lots))
        })
        .collect();
    let movements =
        restock.iter().map(|r| movement(inv.client_id, r, Reason::Cancel, inv.id, at, &cmd.by, ids())).collect();
    let pending_before = inv.pending();
    let mut after = inv.clone();
    after.is_cancelled = true;
    after.status = STATUS_CANCELLED.to_string();
    after.is_finalized = true;
    after.finalized_at = after.finalized_at.or(Some(at));
    after.paid_amount = Paise::ZERO;
    after.refunded_amount = inv.refunded_amount.checked_add(paid).unwrap_or(inv.refunded_amount);
    after.cancellation =
        Some(Cancellation { at, by: cmd.by.clone(), reason: cmd.reason.clone(), approved_by: cmd.approved_by.clone() });
    after.updated_at = now;
    after.version += 1;
    let audit = audit_entry(
        inv.client_id,
        &cmd.who,
        crate::audit::Action::InvoiceCancelled,
        (crate::changelog::INVOICES, inv.id),
        at,
        &cmd.reason,
        cmd.approved_by.as_ref(),
    );
    Ok(Plan {
        version_before: inv.version,
        customer: inv
            .client_customer_id
            .filter(|_| pending_before.is_positive())
            .map(|c| (c, Paise::new(-pending_before.as_i64()))),
        drop_history: true,
        note: None,
        refund,
        restock,
        movements,
        invoice: after,
        audit,
    })
}

/// One line of a return as decided: the invoice line, the units, the figures.
struct Taken {
    line: usize,
    quantity: i64,
    unit: Option<LineUnit>,
    units: i64,
    parts: Parts,
    restocked: Vec<Allocation>,
}

fn field(f: String, text: impl std::fmt::Display) -> AppError {
    AppError::validation(&f, text)
}

/// The base units of a returned line (`ReturnUnit`), and the unit it names.
fn units_of(
    r: &ReturnLine,
    k: usize,
    line: &InvoiceLine,
    item: Option<&ItemDoc>,
) -> Result<(i64, Option<LineUnit>), AppError> {
    let too_large = || field(format!("lines[{k}].quantity"), "is too large");
    match r.unit {
        ReturnUnit::Base => Ok((r.quantity, None)),
        ReturnUnit::Sold => {
            let factor = line.unit.as_ref().map_or(1, |u| u.factor);
            Ok((r.quantity.checked_mul(factor).ok_or_else(too_large)?, line.unit.clone()))
        }
        ReturnUnit::Unit(id) => {
            if let Some(u) = line.unit.as_ref().filter(|u| u.unit_id == id) {
                return Ok((r.quantity.checked_mul(u.factor).ok_or_else(too_large)?, Some(u.clone())));
            }
            let unit = item.and_then(|i| i.details.units.iter().find(|u| u.unit_id == id)).ok_or_else(|| {
                AppError::bad_request_code(
                    crate::billing::decide::units::UNIT_NOT_SOLD,
                    format!("lines[{k}].unitId: {} is not sold in the unit {}", line.item_name, id.to_hex()),
                )
            })?;
            let base = r.quantity.checked_mul(unit.factor).ok_or_else(too_large)?;
            Ok((base, Some(LineUnit { unit_id: unit.unit_id, unit_name: unit.name.clone(), factor: unit.factor })))
        }
    }
}

/// Decide a credit note (issue 18; CGST Act s.34, rule 53(1A)).
///
/// - The invoice must be the shop's (404), issued (409 [`NOT_ISSUED`] for an incomplete
///   sale), not cancelled (409 [`INVOICE_CANCELLED`]), and the note dated (India date) no
///   later than [`last_credit_date`] (422 [`TIME_BARRED`]).
/// - Returned lines ([`Credit::Lines`]): `lineId` is the line's index; the quantity counts in
///   base units whatever unit it names, and never exceeds sold minus returned (409
///   [`RETURN_EXCEEDS_SOLD`]); each line credits [`figures::line_credit`]; a line of 0
///   credits nothing (all 0: 400). Restocked units go back to the lots they came from (or
///   the named batch, which must be the item's: 400 `BATCH_NOT_FOUND`).
/// - An amount ([`Credit::Amount`], tax included) is spread over what is left on the lines
///   ([`figures::spread`]); above what is left to credit on the invoice: 409
///   [`CREDIT_EXCEEDS_INVOICE`].
/// - Its total: the lines' sum, to the nearest rupee when the shop rounds; the note that
///   leaves nothing to credit on the invoice takes exactly what is left of its total.
/// - Settled by a refund (at most what is paid on it, net: 409 [`REFUND_EXCEEDS_PAID`]) and
///   the rest adjusted to dues (at most what is pending: 409 [`CREDIT_EXCEEDS_PENDING`]).
pub fn credit_note(
    cmd: &IssueCreditNote,
    inputs: &Inputs<'_>,
    now: DateTime,
    ids: &mut impl FnMut() -> ObjectId,
) -> Result<Plan, AppError> {
    let inv =
        inputs.invoice.filter(|i| i.id == cmd.invoice_id && i.client_id == cmd.client_id).ok_or_else(not_found)?;
    if inv.is_cancelled {
        return Err(conflict(INVOICE_CANCELLED, "This invoice is cancelled; it takes no credit note"));
    }
    if inv.kind == KIND_INCOMPLETE || inv.invoice_number.is_none() {
        return Err(conflict(NOT_ISSUED, "This sale has no invoice number yet (incomplete); cancel it instead"));
    }
    let at = cmd.at.map_or(now, |t| time::record_time(t, now)).max(inv.generated_at);
    let note_date = time::ist_date(at);
    let inv_date = time::parse_date(&inv.invoice_date).unwrap_or(note_date);
    if let Some(last) = last_credit_date(inv_date).filter(|d| note_date > *d) {
        return Err(AppError::unprocessable(
            TIME_BARRED,
            format!(
                "A credit note for an invoice of {} may be issued up to {} (30 November after its financial year; CGST Act s.34(2))",
                inv.invoice_date, last
            ),
        ));
    }
    let shares = figures::shares(inv);
    let stored: Vec<Parts> = inv.products.iter().zip(&shares).map(|(l, s)| figures::stored(l, *s)).collect();
    let before: Vec<Parts> = inv.products.iter().map(|l| figures::taken(l.returned.as_ref())).collect();
    let mut taken: Vec<Taken> = Vec::new();
    let kind =
        match &cmd.credit {
            Credit::Lines(lines) => {
                let mut seen = std::collections::HashSet::new();
                for (k, r) in lines.iter().enumerate() {
                    let line = inv.products.get(r.line).ok_or_else(|| {
                        field(
                            format!("lines[{k}].lineId"),
                            format!("is not a line of this invoice (0 to {})", inv.products.len().saturating_sub(1)),
                        )
                    })?;
                    if !seen.insert(r.line) {
                        return Err(field(format!("lines[{k}].lineId"), "names a line twice"));
                    }
                    let item = line.product_id.and_then(|p| inputs.items.get(&p));
                    let (units, unit) = units_of(r, k, line, item)?;
                    if units == 0 {
                        continue;
                    }
                    let sold = line.base_units();
                    let done = line.returned.as_ref().map_or(0, |x| x.base_quantity);
                    if units > sold - done {
                        return Err(conflict(
                            RETURN_EXCEEDS_SOLD,
                            format!(
                            "lines[{k}]: {} base units of {} returned, but only {} of the {} sold are left to return",
                            units, line.item_name, sold - done, sold
                        ),
                        ));
                    }
                    let parts = figures::line_credit(&stored[r.line], &before[r.line], units, done, sold);
                    let restocked = match (&r.batch_no, cmd.restock) {
                        (_, false) => vec![],
                        (Some(no), true) => {
                            let lots =
                                line.product_id.and_then(|p| inputs.lots.get(&p)).map(Vec::as_slice).unwrap_or(&[]);
                            let lot = lots.iter().find(|l| l.batch_key == batch_key(no)).ok_or_else(|| {
                                AppError::bad_request_code(
                                    crate::catalog::batch::BATCH_NOT_FOUND,
                                    format!("lines[{k}].batchNo: {} has no batch {}", line.item_name, no.trim()),
                                )
                            })?;
                            vec![Allocation {
                                batch_no: Some(lot.batch_no.clone()),
                                expiry_date: Some(lot.expiry_date.clone()),
                                quantity: units,
                            }]
                        }
                        (None, true) => allocations_back(line, units),
                    };
                    taken.push(Taken { line: r.line, quantity: r.quantity, unit, units, parts, restocked });
                }
                if taken.is_empty() {
                    return Err(field("lines".into(), "return at least one unit (every line's quantity is 0)"));
                }
                KIND_RETURN
            }
            Credit::Amount(amount) => {
                let left: Vec<Parts> =
                    stored.iter().zip(&before).map(|(s, b)| std::array::from_fn(|k| (s[k] - b[k]).max(0))).collect();
                let creditable = inv.total_amount.checked_sub(inv.credited_amount).unwrap_or_default();
                let spread_on = (*amount).min(Paise::new(left.iter().map(figures::total).sum()));
                let parts = figures::spread(spread_on.as_i64(), &left);
                let (Some(parts), false) = (parts, *amount > creditable) else {
                    return Err(conflict(
                        CREDIT_EXCEEDS_INVOICE,
                        format!("amount: {amount} is more than is left to credit on this invoice ({creditable})"),
                    ));
                };
                for (i, p) in parts.into_iter().enumerate() {
                    if figures::total(&p) > 0 {
                        taken.push(Taken { line: i, quantity: 0, unit: None, units: 0, parts: p, restocked: vec![] });
                    }
                }
                KIND_ADJUSTMENT
            }
        };
    let sum: i64 = taken.iter().map(|t| figures::total(&t.parts)).sum();
    let creditable = inv.total_amount.checked_sub(inv.credited_amount).unwrap_or_default().as_i64();
    let lines_left: i64 = stored
        .iter()
        .zip(&before)
        .enumerate()
        .map(|(i, (s, b))| {
            figures::total(s)
                - figures::total(b)
                - taken.iter().filter(|t| t.line == i).map(|t| figures::total(&t.parts)).sum::<i64>()
        })
        .sum();
    let all_returned = inv.products.iter().enumerate().all(|(i, l)| {
        let done = l.returned.as_ref().map_or(0, |x| x.base_quantity)
            + taken.iter().filter(|t| t.line == i).map(|t| t.units).sum::<i64>();
        done >= l.base_units()
    });
    let total = match &cmd.credit {
        Credit::Amount(a) => a.as_i64(),
        Credit::Lines(_) if all_returned || lines_left <= 0 => creditable,
        Credit::Lines(_) if inputs.round_off => figures::nearest_rupee(sum).min(creditable),
        Credit::Lines(_) => sum.min(creditable),
    };
    let total_p = Paise::new(total);
    let (refund, dues) = match &cmd.settlement {
        Settle::AdjustToDues => (Paise::ZERO, total_p),
        Settle::Refund { amount, .. } => {
            let r = amount.unwrap_or(total_p);
            if r > total_p {
                return Err(field(
                    "settlement.amount".into(),
                    format!("{r} is more than the credit note's total {total_p}"),
                ));
            }
            (r, total_p.checked_sub(r).unwrap_or_default())
        }
    };
    if refund > inv.paid_amount {
        return Err(conflict(
            REFUND_EXCEEDS_PAID,
            format!(
                "A refund of {refund} is more than is paid on this invoice ({}, after earlier refunds); adjust the rest to dues (settlement.amount, or type adjustToDues)",
                inv.paid_amount
            ),
        ));
    }
    let pending = inv.pending();
    if dues > pending {
        return Err(conflict(
            CREDIT_EXCEEDS_PENDING,
            format!("{dues} adjusted to dues is more than is pending on this invoice ({pending}); refund the rest"),
        ));
    }
    let note_id = ids();
    let refund_doc = match &cmd.settlement {
        Settle::Refund { method, .. } if refund.is_positive() => {
            let mut p =
                refund_doc(inv, refund, method, format!("Refund for credit note: {}", cmd.reason), &cmd.by, at, ids());
            p.credit_note_id = Some(note_id);
            p.device_time = cmd.at;
            Some(p)
        }
        _ => None,
    };
    // the invoice after it
    let mut after = inv.clone();
    for t in &taken {
        let Some(l) = after.products.get_mut(t.line) else { continue };
        let mut r: Returned = l.returned.clone().unwrap_or_default();
        r.base_quantity += t.units;
        let add = |a: Paise, b: i64| Paise::new(a.as_i64() + b);
        r.taxable_value = add(r.taxable_value, t.parts[0]);
        r.cgst = add(r.cgst, t.parts[1]);
        r.sgst = add(r.sgst, t.parts[2]);
        r.igst = add(r.igst, t.parts[3]);
        r.cess = add(r.cess, t.parts[4]);
        r.total = add(r.total, figures::total(&t.parts));
        add_restocked(&mut r.restocked, &t.restocked);
        l.returned = Some(r);
    }
    after.credited_amount = Paise::new(inv.credited_amount.as_i64() + total);
    after.paid_amount = Paise::new(inv.paid_amount.as_i64() - refund.as_i64());
    after.refunded_amount = Paise::new(inv.refunded_amount.as_i64() + refund.as_i64());
    after.status = after.settled_status().to_string();
    after.is_finalized = after.pending().is_zero();
    if after.is_finalized && after.finalized_at.is_none() {
        after.finalized_at = Some(at);
    }
    after.updated_at = now;
    after.version += 1;
    let restock: Vec<Restock> = taken
        .iter()
        .filter(|t| !t.restocked.is_empty())
        .filter_map(|t| {
            let item = inv.products.get(t.line)?.product_id.filter(|p| inputs.items.contains_key(p))?;
            Some(restock_of(item, &t.restocked, inputs.lots))
        })
        .collect();
    let movements =
        restock.iter().map(|r| movement(inv.client_id, r, Reason::Return, note_id, at, &cmd.by, ids())).collect();
    let part_sum = |k: usize| Paise::new(taken.iter().map(|t| t.parts[k]).sum());
    let note = CreditNoteDoc {
        id: note_id,
        client_id: inv.client_id,
        credit_note_number: String::new(),
        series: inputs.series.to_string(),
        financial_year: time::financial_year(at),
        seq: 0,
        credit_note_date: time::ist_date_string(at),
        issued_at: at,
        invoice_id: inv.id,
        invoice_number: inv.invoice_number.clone(),
        invoice_date: inv.invoice_date.clone(),
        client_customer_id: inv.client_customer_id,
        client_customer_name: inv.client_customer_name.clone(),
        client_customer_phone: inv.client_customer_phone.clone(),
        kind: kind.to_string(),
        reason: cmd.reason.clone(),
        restock: cmd.restock && kind == KIND_RETURN,
        lines: taken
            .iter()
            .filter_map(|t| Some((t, inv.products.get(t.line)?)))
            .map(|(t, l)| CreditLine {
                line_id: t.line,
                product_id: l.product_id,
                item_name: l.item_name.clone(),
                hsn_code: l.tax.as_ref().and_then(|x| x.hsn_code.clone()),
                quantity: t.quantity,
                unit: t.unit.clone(),
                base_quantity: t.units,
                gst_bp: l.tax.as_ref().map_or(0, |x| x.gst_bp),
                cess_bp: l.tax.as_ref().map_or(0, |x| x.cess_bp),
                taxable_value: Paise::new(t.parts[0]),
                cgst: Paise::new(t.parts[1]),
                sgst: Paise::new(t.parts[2]),
                igst: Paise::new(t.parts[3]),
                cess: Paise::new(t.parts[4]),
                total: Paise::new(figures::total(&t.parts)),
                restocked: t.restocked.clone(),
            })
            .collect(),
        taxable_value: part_sum(0),
        cgst: part_sum(1),
        sgst: part_sum(2),
        igst: part_sum(3),
        cess: part_sum(4),
        round_off: Paise::new(total - sum),
        total_amount: total_p,
        gst: inv.gst.as_ref().map(|g| CreditGst {
            document_type: g.document_type,
            supply_type: g.supply_type,
            place_of_supply: g.place_of_supply.clone(),
            place_of_supply_name: g.place_of_supply_name.clone(),
            seller_gstin: g.seller_gstin.clone(),
            seller_legal_name: g.seller_legal_name.clone(),
            buyer_gstin: g.buyer_gstin.clone(),
            reverse_charge: g.reverse_charge,
        }),
        settlement: Settlement {
            refund,
            refund_method: match &cmd.settlement {
                Settle::Refund { method, .. } if refund.is_positive() => Some(method.clone()),
                _ => None,
            },
            refund_payment_id: refund_doc.as_ref().map(|p| p.id),
            dues_adjusted: dues,
        },
        created_by: cmd.by.clone(),
        approved_by: cmd.approved_by.clone(),
        source: cmd.source.to_string(),
        device_ref: cmd.device_ref.clone(),
        device_time: cmd.at,
        created_at: now,
        updated_at: now,
        version: 0,
    };
    let audit = audit_entry(
        inv.client_id,
        &cmd.who,
        crate::audit::Action::CreditNoteIssued,
        (crate::changelog::CREDIT_NOTES, note_id),
        at,
        &cmd.reason,
        cmd.approved_by.as_ref(),
    );
    Ok(Plan {
        version_before: inv.version,
        customer: inv.client_customer_id.filter(|_| dues.is_positive()).map(|c| (c, Paise::new(-dues.as_i64()))),
        drop_history: false,
        note: Some(note),
        refund: refund_doc,
        restock,
        movements,
        invoice: after,
        audit,
    })
}
