//! Date windows of list and report queries (shared by billing reports and the dashboard):
//! `from`/`to` parsed once, with one rule for every endpoint, and the window's match on a
//! date field for the repositories.

use bson::{doc, DateTime, Document};

use crate::{error::AppResult, time, validate::Errors};

/// A half-open or closed time window on a date field (`None` = unbounded on that side).
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub from: Option<DateTime>,
    /// Inclusive.
    pub to: Option<DateTime>,
}

impl Window {
    /// `from`/`to` of a query: `YYYY-MM-DD` (an India day; `to` includes its whole day) or an
    /// ISO-8601 time (`time::parse_bound`); missing or blank = unbounded. 400 naming
    /// `query.from` / `query.to` when malformed, and `query.from` when `from` is after `to`.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> AppResult<Window> {
        let mut e = Errors::new();
        let mut w = Window::default();
        if let Some(f) = from.filter(|s| !s.trim().is_empty()) {
            match time::parse_bound(f, false) {
                Some(t) => w.from = Some(t),
                None => e.add("query.from", "must be YYYY-MM-DD or an ISO-8601 time"),
            }
        }
        if let Some(t) = to.filter(|s| !s.trim().is_empty()) {
            match time::parse_bound(t, true) {
                Some(t) => w.to = Some(t),
                None => e.add("query.to", "must be YYYY-MM-DD or an ISO-8601 time"),
            }
        }
        if let (Some(a), Some(b)) = (w.from, w.to) {
            if a > b {
                e.add("query.from", "must not be after to");
            }
        }
        e.finish()?;
        Ok(w)
    }

    /// `{field: {$gte: from, $lte: to}}` with the bounds that are set; `{}` when open.
    pub fn filter(&self, field: &str) -> Document {
        let mut r = Document::new();
        if let Some(f) = self.from {
            r.insert("$gte", f);
        }
        if let Some(t) = self.to {
            r.insert("$lte", t);
        }
        if r.is_empty() {
            doc! {}
        } else {
            doc! { field: r }
        }
    }

    /// No bound on either side.
    pub fn is_open(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_blank_and_bounded_windows() {
        let w = Window::parse(None, Some("  ")).unwrap();
        assert!(w.is_open());
        assert_eq!(w.filter("generatedAt"), doc! {});
        let w = Window::parse(Some("2026-04-01"), Some("2026-04-30")).unwrap();
        let (from, to) = (w.from.unwrap(), w.to.unwrap());
        // India days: 1 April 00:00 IST = 31 March 18:30 UTC; `to` is the last instant of 30 April IST
        assert_eq!(from, DateTime::parse_rfc3339_str("2026-03-31T18:30:00Z").unwrap());
        assert_eq!(to, DateTime::parse_rfc3339_str("2026-04-30T18:29:59.999Z").unwrap());
        assert_eq!(w.filter("t"), doc! { "t": { "$gte": from, "$lte": to } });
        let w = Window::parse(None, Some("2026-04-30T10:00:00Z")).unwrap();
        assert_eq!(w.filter("paidAt"), doc! { "paidAt": { "$lte": w.to.unwrap() } });
    }

    #[test]
    fn malformed_or_reversed_bounds_are_400() {
        assert!(Window::parse(Some("yesterday"), None).is_err());
        assert!(Window::parse(None, Some("2026-02-30")).is_err());
        assert!(Window::parse(Some("2026-05-01"), Some("2026-04-30")).is_err());
        assert!(Window::parse(Some("2026-04-30"), Some("2026-04-30")).is_ok());
    }
}
