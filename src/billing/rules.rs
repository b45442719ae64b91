//! The input rules of sales (invoice lines and money fields) and payments, defined ONCE and
//! called by every path that writes them: the online routes (`billing::handlers`), v1
//! `/api/sync` (`sync::v1::plan`) and v2 push (`sync::ops::parse_action`). A value one path
//! refuses, every path refuses (issue 12, section 3; proof: `tests/api/rules.rs`).
//!
//! Each function adds its complaint to `e` under the field name the caller passes (with the
//! caller's own prefix, e.g. `invoice.create[0].products[1].quantity` in v1).

use crate::{
    billing::{
        command::{PartIn, Split},
        decide::tender::CREDIT,
        dto::PaymentPartRequest,
        model::METHODS,
    },
    money::Paise,
    validate::Errors,
};

/// Most lines in one sale.
pub const MAX_INVOICE_LINES: usize = 500;
/// Largest quantity of one line (whole base units).
pub const MAX_QUANTITY: i64 = crate::limits::MAX_UNITS;
/// Longest sale note (characters).
pub const NOTES_MAX: usize = 1000;
/// Longest payment note (characters).
pub const PAYMENT_NOTE_MAX: usize = 500;
/// Longest reference of a split payment part (UPI reference, cheque number), characters.
pub const PAYMENT_REFERENCE_MAX: usize = 50;
/// Most parts of one split payment.
pub const MAX_PAYMENT_PARTS: usize = 10;
/// Longest customer name written on a sale (characters).
pub const SALE_CUSTOMER_NAME_MAX: usize = 100;
/// Longest device reference of a sale (characters).
pub const DEVICE_REF_MAX: usize = 100;

/// The number of lines of a sale: 1 to [`MAX_INVOICE_LINES`].
pub fn line_count(e: &mut Errors, field: &str, n: usize) {
    if n == 0 || n > MAX_INVOICE_LINES {
        e.add(field, format!("must have 1 to {MAX_INVOICE_LINES} lines"));
    }
}

/// A line quantity: a whole number from 1 to [`MAX_QUANTITY`].
pub fn quantity(e: &mut Errors, field: &str, q: i64) {
    crate::limits::quantity(e, field, q);
}

/// An optional money field of a sale (`paidAmount`, `totalTax`, `totalDiscount`): 0 when not sent, 0 to `limits::MAX_INVOICE`.
pub fn non_negative(e: &mut Errors, field: &str, v: Option<Paise>) -> Paise {
    let v = v.unwrap_or_default();
    crate::limits::amount(e, field, v);
    v
}

/// A unit price of a sale line (`costPerUnit`, a cart line's `unitPrice`): 0 when not sent,
/// 0 to Rs 1 crore (`limits::price`; the line total is bounded by `limits::MAX_LINE` too).
pub fn unit_price(e: &mut Errors, field: &str, v: Option<Paise>) -> Paise {
    let v = v.unwrap_or_default();
    crate::limits::price(e, field, v);
    v
}

/// A claimed `totalAmount`: never negative when sent (whether it matches the lines is the
/// billing computation's rule).
pub fn total(e: &mut Errors, field: &str, v: Option<Paise>) -> Option<Paise> {
    if let Some(t) = v {
        crate::limits::amount(e, field, t);
    }
    v
}

/// A payment method, trimmed and lower-cased: one of [`METHODS`] (default `cash`).
pub fn method(e: &mut Errors, field: &str, m: &Option<String>) -> String {
    let m = m.as_deref().map(str::trim).filter(|m| !m.is_empty()).unwrap_or("cash").to_ascii_lowercase();
    if !METHODS.contains(&m.as_str()) {
        e.add(field, format!("must be one of {}", METHODS.join(", ")));
    }
    m
}

/// Sale notes, trimmed: at most [`NOTES_MAX`] characters (empty when not sent).
pub fn notes(e: &mut Errors, field: &str, v: &Option<String>) -> String {
    e.opt_text(field, v, 0, NOTES_MAX).unwrap_or_default()
}

/// The customer name written on a sale, trimmed: at most 100 characters; blank = none.
pub fn sale_customer_name(e: &mut Errors, field: &str, v: &Option<String>) -> Option<String> {
    e.opt_text(field, v, 0, SALE_CUSTOMER_NAME_MAX).filter(|n| !n.is_empty())
}

/// The device's reference of a sale, trimmed: 1-100 characters when sent; blank = none.
pub fn device_ref(e: &mut Errors, field: &str, v: &Option<String>) -> Option<String> {
    let v = v.as_deref().map(str::trim).filter(|r| !r.is_empty());
    v.map(|r| e.text(field, r, 1, DEVICE_REF_MAX))
}

/// A payment amount: greater than 0 and at most `limits::MAX_INVOICE` (the balance check is
/// the billing computation's rule).
pub fn payment_amount(e: &mut Errors, field: &str, v: Paise) {
    if v.is_positive() {
        crate::limits::amount(e, field, v);
    } else {
        e.add(field, "must be greater than 0");
    }
}

/// A payment note, trimmed: at most [`PAYMENT_NOTE_MAX`] characters (empty when not sent).
pub fn payment_note(e: &mut Errors, field: &str, v: &Option<String>) -> String {
    e.opt_text(field, v, 0, PAYMENT_NOTE_MAX).unwrap_or_default()
}

/// A line discount (issue 17) as sent: `discountPercent` (0 to 100, two decimals) or
/// `discountAmount` (rupees, within the line limit), not both; `None` when neither.
pub fn line_discount(
    e: &mut Errors,
    prefix: &str,
    percent: Option<&serde_json::Number>,
    amount: Option<Paise>,
) -> Option<crate::gst::Discount> {
    match (percent, amount) {
        (Some(_), Some(_)) => {
            e.add(&format!("{prefix}.discountPercent"), "send either discountPercent or discountAmount, not both");
            None
        }
        (Some(p), None) => match Paise::parse_rupees(&p.to_string()) {
            Ok(bp) if (0..=10_000).contains(&bp.as_i64()) => {
                u32::try_from(bp.as_i64()).ok().map(crate::gst::Discount::Percent)
            }
            _ => {
                e.add(
                    &format!("{prefix}.discountPercent"),
                    "must be a percent from 0 to 100 with at most two decimals",
                );
                None
            }
        },
        (None, Some(a)) => {
            crate::limits::amount(e, &format!("{prefix}.discountAmount"), a);
            Some(crate::gst::Discount::Amount(a))
        }
        (None, None) => None,
    }
}

/// The GST fields of a sale (issue 17) as sent, checked the same on every door:
/// `discount1Amount`/`discount2Amount` (0 to the invoice limit), `placeOfSupply` (a GST state
/// code 01-38 or 97, or a state's name), `reverseCharge`. The line discounts are the
/// caller's (`line_discount`, by line index).
pub fn sale_gst(
    e: &mut Errors,
    prefix: &str,
    line_discounts: std::collections::BTreeMap<usize, crate::gst::Discount>,
    discount1: Option<Paise>,
    discount2: Option<Paise>,
    place_of_supply: Option<&str>,
    reverse_charge: Option<bool>,
) -> crate::billing::command::SaleGst {
    let discount1 = non_negative(e, &format!("{prefix}discount1Amount"), discount1);
    let discount2 = non_negative(e, &format!("{prefix}discount2Amount"), discount2);
    let place_of_supply = place_of_supply.map(str::trim).filter(|p| !p.is_empty()).and_then(|p| {
        let code = if crate::states::is_code(p) {
            Some(p.to_string())
        } else {
            crate::states::STATES.iter().find(|(_, n)| n.eq_ignore_ascii_case(p)).map(|(c, _)| c.to_string())
        };
        let code = code.filter(|c| crate::states::is_address_state(c) || c == "97");
        if code.is_none() {
            e.add(&format!("{prefix}placeOfSupply"), "must be a GST state code (01-38, 97) or a state's name");
        }
        code
    });
    crate::billing::command::SaleGst {
        line_discounts,
        discount1,
        discount2,
        place_of_supply,
        reverse_charge: reverse_charge.unwrap_or(false),
    }
}

/// The `payments` of a sale or payment (issue 17), checked part by part under `field`
/// (`payments[i].method` ...): 1 to [`MAX_PAYMENT_PARTS`] parts; `method` required, one of
/// [`METHODS`] or `credit` (trimmed, lower-cased); `amount` and `tendered`, when sent, > 0
/// and within `limits::MAX_INVOICE`; `reference` at most [`PAYMENT_REFERENCE_MAX`]
/// characters (blank = none). `claimed` is the paid amount sent beside them. `None` when
/// no `payments` were sent (the v1 shape). The sum rules are `decide::tender::settle`'s.
pub fn payment_parts(
    e: &mut Errors,
    field: &str,
    v: &Option<Vec<PaymentPartRequest>>,
    claimed: Option<Paise>,
) -> Option<Split> {
    let parts = v.as_ref()?;
    if parts.is_empty() || parts.len() > MAX_PAYMENT_PARTS {
        e.add(field, format!("must have 1 to {MAX_PAYMENT_PARTS} parts"));
    }
    let mut out = Vec::with_capacity(parts.len());
    for (i, p) in parts.iter().enumerate() {
        let f = |x: &str| format!("{field}[{i}].{x}");
        let method = p.method.as_deref().map(str::trim).unwrap_or("").to_ascii_lowercase();
        if method.is_empty() {
            e.add(&f("method"), "is required");
        } else if !METHODS.contains(&method.as_str()) && method != CREDIT {
            e.add(&f("method"), format!("must be one of {}, {CREDIT}", METHODS.join(", ")));
        }
        if let Some(a) = p.amount {
            payment_amount(e, &f("amount"), a);
        }
        if let Some(t) = p.tendered {
            payment_amount(e, &f("tendered"), t);
        }
        let reference = e.opt_text(&f("reference"), &p.reference, 0, PAYMENT_REFERENCE_MAX).filter(|r| !r.is_empty());
        out.push(PartIn { method, amount: p.amount, reference, tendered: p.tendered });
    }
    Some(Split { parts: out, claimed })
}
