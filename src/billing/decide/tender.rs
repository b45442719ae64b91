//! Split payments and cash tendered (issue 17, "Split payments"): how the parts a sale or a
//! payment sends (`payments: [{method, amount?, reference?, tendered?}]`) become the paid
//! amount and the payment documents, as one pure function ([`settle`]) every door shares
//! through [`super::sale`] and [`super::payment`] (online, v1 `/api/sync`, v2 push).
//!
//! The rules, in order:
//! 1. every part's `amount` (when sent) is > 0 and at most `limits::MAX_INVOICE` (checked by
//!    `billing::rules::payment_parts` at the door, with the method, the reference's length
//!    and the shape); a part other than cash and `credit` must send its `amount`;
//! 2. a `credit` part is the part left due: not a payment, its amount documents the intent
//!    only (what is due is the total minus what was paid, whatever it says);
//! 3. a cash part may carry `tendered` (the notes handed over; at most one such part): with
//!    `amount` omitted the cash applied is `min(tendered, what is still due after the other
//!    parts)`; with `amount` sent, `tendered < amount` is refused; the change is
//!    `tendered - cash applied`;
//! 4. the paid amount is the sum of the non-credit parts; a `paidAmount` (sale) or `amount`
//!    (payment) sent beside the parts must equal it (else 400 naming `payments`); it may not
//!    exceed what is due (the sale's total, the invoice's outstanding balance).
//!
//! Known answer (the issue's): UPI 100.00 + cash tendered 200.00 on a bill of 231.00: cash
//! applied 131.00, change 69.00, paid 231.00, nothing outstanding.

use crate::{
    billing::command::{RecordPayment, Sale, Split},
    money::Paise,
};

use super::Refusal;

/// The method of a part that is not a payment: what is left due (issue 17).
pub const CREDIT: &str = "credit";
/// The method of cash (the only part that may carry `tendered`).
pub const CASH: &str = "cash";
/// What an invoice's `paymentMethod` says when its payments used several methods (seed 004).
pub const MULTIPLE: &str = "Multiple";

/// One payment a sale or payment records (a non-credit part, settled): paise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// `billing::model::METHODS` (never `credit`).
    pub method: String,
    /// Applied to the invoice (> 0).
    pub amount: Paise,
    /// UPI reference, cheque number, ... (at most `rules::PAYMENT_REFERENCE_MAX` characters).
    pub reference: Option<String>,
    /// Cash only: the notes handed over and the change given back (`tendered - amount`).
    pub tendered: Option<Paise>,
    pub change: Option<Paise>,
}

/// The outcome of [`settle`]: the payments to record, in the order sent, and their sum.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settled {
    pub parts: Vec<Part>,
    /// The sum of `parts`' amounts: what the sale or payment pays.
    pub paid: Paise,
}

impl Settled {
    /// The cash part's `(tendered, change)`, when one carried `tendered`.
    pub fn tender(&self) -> Option<(Paise, Paise)> {
        self.parts.iter().find_map(|p| Some((p.tendered?, p.change?)))
    }
}

/// The one-method payment of a sale or payment sent without `payments` (the v1 shape:
/// `paidAmount`/`amount` and `paymentMethod`/`method`): one part when `paid` > 0, none
/// otherwise. Exactly the documents recorded before split payments existed.
pub fn single(method: &str, paid: Paise) -> Settled {
    let parts = if paid.is_positive() {
        vec![Part { method: method.to_string(), amount: paid, reference: None, tendered: None, change: None }]
    } else {
        vec![]
    };
    Settled { parts, paid }
}

/// What a sale pays, settled against its `total`: its `payments` ([`settle`], a sum above
/// the total refused naming `payments`), else its `paidAmount` in its `paymentMethod`
/// ([`single`]; the bound is `decide::sale_total`'s, naming `paidAmount`).
pub fn of_sale(sale: &Sale, total: Paise) -> Result<Settled, Refusal> {
    match &sale.split {
        Some(split) => settle(split, total, "paidAmount"),
        None => Ok(single(&sale.method, sale.paid)),
    }
}

/// What a payment pays, settled against the invoice's outstanding balance `due`: its
/// `payments` ([`settle`]), else its `amount` in its `method` ([`single`]; the bound is
/// `decide::payment`'s, naming `amount`).
pub fn of_payment(p: &RecordPayment, due: Paise) -> Result<Settled, Refusal> {
    match &p.split {
        Some(split) => settle(split, due, "amount"),
        None => Ok(single(&p.method, p.amount)),
    }
}

fn field(name: &str, text: impl std::fmt::Display) -> Refusal {
    Refusal::Invalid(vec![format!("{name}: {text}")])
}

/// Settle the parts of `split` against `due` (a sale: its total; a payment: the invoice's
/// outstanding balance), by the rules of the module docs. `claimed_field` names the amount
/// sent beside the parts in a refusal (`paidAmount` for a sale, `amount` for a payment).
/// Refused (400 `VALIDATION`): a non-cash, non-credit part without `amount`; `tendered` on
/// anything but cash, on two parts, or below the amount; cash tendered when nothing is left
/// to pay; parts whose sum differs from the amount sent beside them; a sum above `due`.
pub fn settle(split: &Split, due: Paise, claimed_field: &str) -> Result<Settled, Refusal> {
    // the fixed parts first (all but a cash part with `tendered` and no amount)
    let mut fixed = Paise::ZERO;
    let mut tendering = 0usize;
    for (i, p) in split.parts.iter().enumerate() {
        let f = |x: &str| format!("payments[{i}].{x}");
        if p.method == CREDIT {
            if p.tendered.is_some() {
                return Err(field(&f("tendered"), "only a cash part carries the amount tendered"));
            }
            continue;
        }
        if p.tendered.is_some() {
            if p.method != CASH {
                return Err(field(&f("tendered"), "only a cash part carries the amount tendered"));
            }
            tendering += 1;
            if tendering > 1 {
                return Err(field(&f("tendered"), "only one cash part may carry the amount tendered"));
            }
        }
        match (p.amount, p.tendered) {
            (Some(a), Some(t)) if t < a => {
                return Err(field(&f("tendered"), format!("{t} is less than the amount {a}")));
            }
            (Some(a), _) => {
                fixed = fixed.checked_add(a).ok_or_else(|| field("payments", "the amounts are too large"))?;
            }
            (None, Some(_)) => {}
            (None, None) => {
                return Err(field(&f("amount"), "is required (only a cash part with tendered may omit it)"))
            }
        }
    }
    // the cash applied from the notes handed over: what is still due after the other parts
    let still_due = due.checked_sub(fixed).filter(|d| !d.is_negative()).unwrap_or_default();
    let mut parts = Vec::new();
    for (i, p) in split.parts.iter().enumerate() {
        if p.method == CREDIT {
            continue;
        }
        let amount = match (p.amount, p.tendered) {
            (Some(a), _) => a,
            (None, Some(t)) => {
                let applied = t.min(still_due);
                if !applied.is_positive() {
                    return Err(field(
                        &format!("payments[{i}].tendered"),
                        format!("nothing is left to pay in cash (the other parts pay {fixed} of {due})"),
                    ));
                }
                applied
            }
            (None, None) => continue, // refused above
        };
        let change = p.tendered.and_then(|t| t.checked_sub(amount));
        parts.push(Part {
            method: p.method.clone(),
            amount,
            reference: p.reference.clone(),
            tendered: p.tendered,
            change,
        });
    }
    let paid = Paise::checked_sum(parts.iter().map(|p| p.amount))
        .ok_or_else(|| field("payments", "the amounts are too large"))?;
    if let Some(claimed) = split.claimed {
        if claimed != paid {
            return Err(field(
                "payments",
                format!(
                    "the parts pay {paid}, but {claimed_field} says {claimed}; send one of them, or make them agree"
                ),
            ));
        }
    }
    if paid > due {
        return Err(field("payments", format!("the parts pay {paid}, more than the {due} due")));
    }
    Ok(Settled { parts, paid })
}

/// What an invoice's `paymentMethod` becomes after `parts` are paid on it: the method of its
/// payments when they all used one, [`MULTIPLE`] when several, `None` when nothing is paid.
/// `before` is the invoice's summary and `paid_before` its paid amount: an invoice paid
/// before the summary was kept (`paid_before > 0`, no summary) stays without one (its
/// earlier methods are not known here; the payments list them).
pub fn method_summary(before: Option<&str>, paid_before: Paise, parts: &[Part]) -> Option<String> {
    if paid_before.is_positive() && before.is_none() {
        return None;
    }
    let mut methods: Vec<&str> = before.into_iter().collect();
    for p in parts {
        if !methods.contains(&p.method.as_str()) {
            methods.push(&p.method);
        }
    }
    match methods.as_slice() {
        [] => None,
        [one] => Some(one.to_string()),
        _ => Some(MULTIPLE.to_string()),
    }
}

/// A part as the door checked it (`billing::rules::payment_parts`), for the tests.
#[cfg(test)]
pub(crate) fn part(method: &str, amount: Option<i64>, tendered: Option<i64>) -> crate::billing::command::PartIn {
    crate::billing::command::PartIn {
        method: method.to_string(),
        amount: amount.map(Paise::new),
        reference: None,
        tendered: tendered.map(Paise::new),
    }
}
