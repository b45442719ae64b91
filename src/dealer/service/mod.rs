//! Dealer business rules: validation, order numbering, the delivery and payment
//! transactions, summaries and timelines. Money is `Paise` throughout.
//!
//! One file per seam, all re-exported here (the handlers call `service::NAME`):
//! `dealers` (D1-D7: the dealer record and its items), `orders` (D8-D13: purchase
//! orders, delivery into stock, the bill total), `payments` (D14-D20), `reports`
//! (D21-D23: summary and timelines). This file keeps the helpers they share (paging, due
//! dates, id fields).

mod dealers;
mod orders;
mod payments;
mod reports;

pub use dealers::*;
pub use orders::*;
pub use payments::*;
pub use reports::*;

use bson::{oid::ObjectId, DateTime};
use mongodb::Database;

use crate::{
    dealer::{model::*, repo},
    error::{AppError, AppResult},
    time,
    validate::{self, Errors},
};

/// Largest quantity accepted on an order or delivery line.
pub const MAX_QTY: i64 = crate::limits::MAX_UNITS;
/// Largest number of lines on one order.
pub const MAX_LINES: usize = 200;
/// Paging of D17, D19, D22, D23.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

// ------------------------------------------------------------------------- helpers

fn not_found(what: &str) -> AppError {
    AppError::not_found(format!("{what} not found"))
}

/// Parsed paging: `limit` 1..=200 (default 50, larger values capped), `skip` >= 0.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub skip: u64,
}

pub fn page(limit: &Option<String>, skip: &Option<String>) -> AppResult<Page> {
    let mut e = Errors::new();
    let limit = match limit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 1 => n.min(MAX_LIMIT),
            Ok(_) => {
                e.add("query.limit", "must be at least 1");
                DEFAULT_LIMIT
            }
            Err(_) => {
                e.add("query.limit", "must be a whole number");
                DEFAULT_LIMIT
            }
        },
    };
    let skip = match skip.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 0 => n as u64,
            Ok(_) => {
                e.add("query.skip", "must not be negative");
                0
            }
            Err(_) => {
                e.add("query.skip", "must be a whole number");
                0
            }
        },
    };
    e.finish()?;
    Ok(Page { limit, skip })
}

/// A due date: ISO-8601 datetime ending in `Z` (any fraction digits) or `YYYY-MM-DD`.
/// A date is stored as 00:00 UTC of that date (v1's encoding, `time::date_instant`); every
/// due date is read as the India date of its instant, so `2026-04-01` is due all of 1 April
/// in India and overdue from 2 April 00:00 IST (`time::is_overdue`).
pub fn parse_due_date(s: &str) -> Option<DateTime> {
    let s = s.trim();
    if s.len() == 10 {
        return time::parse_date(s).map(time::date_instant);
    }
    if !s.ends_with('Z') {
        return None;
    }
    let dt = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    Some(DateTime::from_chrono(dt.with_timezone(&chrono::Utc)))
}

fn due_field(e: &mut Errors, field: &str, v: &Option<String>) -> Option<DateTime> {
    let s = v.as_deref()?;
    let d = parse_due_date(s);
    if d.is_none() {
        e.add(field, "must be an ISO-8601 datetime ending in Z or a YYYY-MM-DD date");
    }
    d
}

/// A body `clientId` is optional on every dealer create, as on the other creates (the tenant
/// is the token's; `ApiJson` refused a foreign one with 403 and dropped an empty one); when
/// sent it must still be a well-formed id.
fn check_client(e: &mut Errors, v: &Option<String>) {
    if let Some(s) = v {
        e.oid("clientId", s);
    }
}

fn required_oid(e: &mut Errors, field: &str, v: &Option<String>) -> Option<ObjectId> {
    match v {
        None => {
            e.add(field, "is required");
            None
        }
        Some(s) => e.oid(field, s),
    }
}

fn opt_oid(e: &mut Errors, field: &str, v: &Option<String>) -> Option<ObjectId> {
    v.as_deref().filter(|s| !s.trim().is_empty()).and_then(|s| e.oid(field, s))
}

async fn dealer_of(db: &Database, client: ObjectId, dealer: ObjectId) -> AppResult<DealerDoc> {
    repo::find_dealer(db, client, dealer).await?.ok_or_else(|| not_found("Dealer"))
}

/// Parse a path id (400 naming the parameter when malformed).
pub fn path_id(name: &str, v: &str) -> AppResult<ObjectId> {
    validate::oid(&format!("params.{name}"), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_dates() {
        assert!(parse_due_date("2026-05-31").is_some());
        assert!(parse_due_date("2026-05-31T10:00:00Z").is_some());
        assert!(parse_due_date("2026-05-31T10:00:00.123456Z").is_some());
        assert!(parse_due_date("2026-05-31T10:00:00+05:30").is_none());
        assert!(parse_due_date("2026-02-30").is_none());
        assert!(parse_due_date("tomorrow").is_none());
        // a date is due all of that India day: overdue from the next India midnight
        let due = parse_due_date("2026-04-01").unwrap();
        let at = |s: &str| DateTime::parse_rfc3339_str(s).unwrap();
        assert_eq!(time::ist_date(due), chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
        assert!(!time::is_overdue(due, at("2026-04-01T00:30:00Z"))); // 06:00 IST on the due day
        assert!(!time::is_overdue(due, at("2026-04-01T18:29:59.999Z"))); // 23:59:59.999 IST
        assert!(time::is_overdue(due, at("2026-04-01T18:30:00Z"))); // 00:00 IST, 2 April
    }

    #[test]
    fn paging_parses_caps_and_rejects() {
        let p = |l: Option<&str>, s: Option<&str>| page(&l.map(String::from), &s.map(String::from));
        let d = p(None, None).unwrap();
        assert_eq!((d.limit, d.skip), (50, 0));
        let d = p(Some("5"), Some("10")).unwrap();
        assert_eq!((d.limit, d.skip), (5, 10));
        assert_eq!(p(Some("5000"), None).unwrap().limit, 200);
        assert!(p(Some("-1"), None).is_err());
        assert!(p(Some("0"), None).is_err());
        assert!(p(None, Some("-3")).is_err());
        assert!(p(Some("abc"), None).is_err());
        assert!(p(None, Some("1.5")).is_err());
    }
}
