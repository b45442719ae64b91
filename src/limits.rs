//! Upper bounds on money and quantities, the same on every path (online, v1 `/api/sync`, v2
//! push, dealers).
//!
//! No real shop reaches them, and they keep every derived figure exact: a line is at most
//! Rs 1 crore, an invoice at most Rs 100 crore, so a report has to add up more than 9 crore
//! maximal invoices before a sum leaves `i64` paise (the sums are checked anyway and fail
//! loudly rather than wrap). Stock and quantities are at most 10^9 base units either way
//! (negative stock too, for shops that sell before entering stock). Documented in
//! docs/API.md ("Bounds").

use crate::{money::Paise, validate::Errors};

/// A line of a sale or order (unit price x quantity), and so any unit price: Rs 1 crore.
pub const MAX_LINE: Paise = Paise::new(1_000_000_000);
/// An invoice (subtotal, tax, discount, total), a payment, a dealer bill: Rs 100 crore.
pub const MAX_INVOICE: Paise = Paise::new(100_000_000_000);
/// A quantity (sale line, stock change, order, delivery) and a stock level in either
/// direction: 10^9 base units.
pub const MAX_UNITS: i64 = 1_000_000_000;

/// `p` as `Rs 1 crore` / `Rs 100 crore` in error texts.
fn rupees(p: Paise) -> String {
    match p.as_i64() {
        1_000_000_000 => "Rs 1 crore (10000000)".to_string(),
        100_000_000_000 => "Rs 100 crore (1000000000)".to_string(),
        _ => format!("Rs {p}"),
    }
}

/// A unit price (item price, counter price, cost per unit): 0 to Rs 1 crore.
pub fn price(e: &mut Errors, field: &str, p: Paise) {
    if p.is_negative() {
        e.add(field, "must not be negative");
    } else if p > MAX_LINE {
        e.add(field, format!("must be at most {}", rupees(MAX_LINE)));
    }
}

/// An amount of an invoice or a payment (tax, discount, paid, total): 0 to Rs 100 crore.
pub fn amount(e: &mut Errors, field: &str, p: Paise) {
    if p.is_negative() {
        e.add(field, "must not be negative");
    } else if p > MAX_INVOICE {
        e.add(field, format!("must be at most {}", rupees(MAX_INVOICE)));
    }
}

/// A quantity sold, ordered or changed: 1 to 10^9.
pub fn quantity(e: &mut Errors, field: &str, q: i64) {
    if !(1..=MAX_UNITS).contains(&q) {
        e.add(field, format!("must be a whole number from 1 to {MAX_UNITS}"));
    }
}

/// A stock level (or a low-stock threshold when `min` is 0): `min` to 10^9.
pub fn units(e: &mut Errors, field: &str, v: i64, min: i64) {
    if !(min..=MAX_UNITS).contains(&v) {
        e.add(field, format!("must be a whole number from {min} to {MAX_UNITS}"));
    }
}

/// A signed stock change: at most 10^9 either way.
pub fn delta(e: &mut Errors, field: &str, d: i64) {
    if !(-MAX_UNITS..=MAX_UNITS).contains(&d) {
        e.add(field, format!("must be a whole number from -{MAX_UNITS} to {MAX_UNITS}"));
    }
}

/// Stock after a change, when it stays within +-10^9 (`None`: the change is refused).
pub fn stock_after(stock: i64, delta: i64) -> Option<i64> {
    stock.checked_add(delta).filter(|s| (-MAX_UNITS..=MAX_UNITS).contains(s))
}

/// The error of a stock change that would leave the bounds.
pub fn stock_out_of_range(what: &str) -> crate::error::AppError {
    crate::error::AppError::validation(
        "stock",
        format!("{what}: stock would leave the bounds of -{MAX_UNITS} to {MAX_UNITS} units"),
    )
}

/// A line total within bounds (`None`: overflow or above Rs 1 crore).
pub fn line_total(unit: Paise, qty: i64) -> Option<Paise> {
    unit.checked_mul(qty).filter(|t| *t <= MAX_LINE)
}

/// Error text of a line above the bound.
pub fn line_too_large() -> String {
    format!("the line total (price x quantity) must be at most {}", rupees(MAX_LINE))
}

/// Error text of an invoice above the bound.
pub fn invoice_too_large() -> String {
    format!("must be at most {}", rupees(MAX_INVOICE))
}

/// The error of a report figure that does not fit `i64` paise (never within the bounds
/// above; a 500, logged, never a wrapped figure).
pub fn report_too_large() -> crate::error::AppError {
    crate::error::AppError::internal("a report figure does not fit i64")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_leave_room_for_exact_sums() {
        // a maximal invoice of maximal lines: 100 lines of Rs 1 crore reach the invoice bound
        assert_eq!(MAX_LINE.checked_mul(100), Some(MAX_INVOICE));
        // over 9 crore maximal invoices fit an i64 of paise
        assert!(i64::MAX / MAX_INVOICE.as_i64() > 90_000_000);
        // stock and deltas cannot overflow while bounded
        assert_eq!(stock_after(MAX_UNITS, 1), None);
        assert_eq!(stock_after(-MAX_UNITS, -1), None);
        assert_eq!(stock_after(i64::MAX, 1), None);
        assert_eq!(stock_after(i64::MAX, -5), None);
        assert_eq!(stock_after(-MAX_UNITS, 2 * MAX_UNITS), Some(MAX_UNITS));
        assert_eq!(line_total(MAX_LINE, 1), Some(MAX_LINE));
        assert_eq!(line_total(MAX_LINE, 2), None);
        assert_eq!(line_total(Paise::new(1), MAX_UNITS), Some(Paise::new(MAX_UNITS)));
        assert_eq!(line_total(Paise::new(100_000_000_000_000), 92_233), None);
    }
}
