//! Paging of the billing reports and the dashboard's JSON reports (`limit`/`offset`), shared
//! so both parse a page the same way. (The dealer endpoints page with `limit`/`skip` under
//! their own contract: `dealer::service::page`.)

use serde::Serialize;
use utoipa::ToSchema;

use crate::{error::AppResult, validate::Errors};

/// Page size when `limit` is not sent.
pub const DEFAULT_LIMIT: i64 = 100;
/// Largest page: larger `limit` values are capped to it.
pub const MAX_LIMIT: i64 = 500;

/// A parsed page: `limit` in 1..=[`MAX_LIMIT`], `offset` >= 0 (rows skipped).
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

/// The `pagination` object of a paged JSON answer: `total` rows matching the filters (not just
/// this page), the `limit` and `offset` applied, and whether rows follow this page.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    pub has_more: bool,
}

impl Pagination {
    /// The pagination of `page` over `total` matching rows.
    pub fn of(page: Page, total: i64) -> Pagination {
        Pagination {
            total,
            limit: page.limit,
            offset: page.offset,
            has_more: page.offset.saturating_add(page.limit) < total,
        }
    }
}

/// `limit` (default 100, at most 500) and `offset` (default 0), parsed as integers: a
/// non-numeric or negative value is a 400 naming `query.limit` / `query.offset` (v1 silently
/// dropped the limit, U13). Blank = not sent.
pub fn page(limit: Option<&str>, offset: Option<&str>) -> AppResult<Page> {
    let mut e = Errors::new();
    let limit = match limit.map(str::trim).filter(|s| !s.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 1 => n.min(MAX_LIMIT),
            _ => {
                e.add("query.limit", "must be a whole number of at least 1");
                DEFAULT_LIMIT
            }
        },
    };
    let offset = match offset.map(str::trim).filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                e.add("query.offset", "must be a whole number of at least 0");
                0
            }
        },
    };
    e.finish()?;
    Ok(Page { limit, offset })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_caps_and_refusals() {
        let p = page(None, Some(" ")).unwrap();
        assert_eq!((p.limit, p.offset), (DEFAULT_LIMIT, 0));
        let p = page(Some("7"), Some("20")).unwrap();
        assert_eq!((p.limit, p.offset), (7, 20));
        assert_eq!(page(Some("100000"), None).unwrap().limit, MAX_LIMIT);
        for (l, o) in
            [(Some("0"), None), (Some("-1"), None), (Some("ten"), None), (None, Some("-5")), (None, Some("2.5"))]
        {
            assert!(page(l, o).is_err(), "{l:?} {o:?}");
        }
    }
}
