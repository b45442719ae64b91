//! The pure rules of printed numbers (issue 17): no I/O, no clock.
//!
//! - A number is at most [`MAX_NUMBER_LEN`] characters of letters, digits, `-` and `/` (GST
//!   rule 46(b)); a book is checked at registration with its LARGEST number.
//! - A number series is a prefix, a serial range and a width ([`Series`]); two series of one
//!   shop and year may never produce the same number ([`collides`]): this covers two books
//!   with the same prefix and overlapping ranges, and the subtler `A` + `12` = `A1` + `2`.
//!   The server's counter series (`INV/<fy>/`, five digits) and the device series take part.
//! - [`assign`]: the number a sale keeps (a book's leaf, a device series number), refused
//!   400 (outside the book, not the device's) or 409 (used, cancelled).

use bson::DateTime;

use crate::billing::{
    decide::Refusal,
    model::InvoiceDoc,
    numbering::{BookKey, Numbers, OfflineBillRef, PrintedRef, SeriesNumber},
};

/// GST rule 46(b): at most 16 characters.
pub const MAX_NUMBER_LEN: usize = 16;
/// The most leaves a registered book may have (the report lists every leaf).
pub const MAX_LEAVES: i64 = 10_000;
/// Digits of a device series number (`D1-26-27/00001`).
pub const SERIES_WIDTH: u32 = 5;
/// The largest sequence of a device series.
pub const SERIES_LAST: i64 = 99_999;
/// A book's `bookNo`: 1 to 20 characters.
pub const BOOK_NO_LEN: usize = 20;
/// A cancellation's `reason`: 1 to 200 characters.
pub const REASON_LEN: usize = 200;

/// Letters, digits, `-` and `/` only (rule 46(b)); `s` may be empty.
pub fn valid_chars(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/')
}

/// `prefix` + `serial` zero-padded to `width` digits.
pub fn leaf_number(prefix: &str, serial: i64, width: u32) -> String {
    format!("{prefix}{serial:0w$}", w = width as usize)
}

/// The digits of `n` (>= 0).
pub fn digits(n: i64) -> u32 {
    n.max(1).ilog10() + 1
}

/// A financial year as the server writes it (`26-27`: two digits, then the next year's).
pub fn valid_fy(fy: &str) -> bool {
    let b = fy.as_bytes();
    if b.len() != 5 || b[2] != b'-' || !fy[..2].bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    match (fy[..2].parse::<u32>(), fy[3..].parse::<u32>()) {
        (Ok(a), Ok(z)) => z == (a + 1) % 100,
        _ => false,
    }
}

/// A number series: `prefix` + serial (`first..=last`) zero-padded to `width`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub prefix: String,
    pub first: i64,
    pub last: i64,
    pub width: u32,
}

impl Series {
    /// A server counter's series of a financial year (`INV/26-27/00001`.., as
    /// `billing::decide::format_in_series` writes it; `prefix` is a document type's, `INV`,
    /// `BOS`, ...).
    pub fn counter(prefix: &str, fy: &str) -> Series {
        Series { prefix: format!("{prefix}/{fy}/"), first: 1, last: SERIES_LAST, width: SERIES_WIDTH }
    }
}

/// Whether two series can produce the same number. Numbers of equal length only: with
/// `a`'s prefix the shorter, `b`'s prefix must be `a`'s followed by digits `d`; then `a`'s
/// serial `s` prints like `b`'s serial `t` exactly when `s = d * 10^(b.width) + t` (and the
/// widths agree), so the ranges are compared after that shift.
pub fn collides(a: &Series, b: &Series) -> bool {
    let (a, b) = if a.prefix.len() <= b.prefix.len() { (a, b) } else { (b, a) };
    if a.prefix.len() + a.width as usize != b.prefix.len() + b.width as usize {
        return false;
    }
    let Some(d) = b.prefix.strip_prefix(a.prefix.as_str()) else { return false };
    if !d.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let shift = if d.is_empty() {
        Some(0)
    } else {
        d.parse::<i64>().ok().and_then(|d| 10_i64.checked_pow(b.width).and_then(|p| d.checked_mul(p)))
    };
    let Some(shift) = shift else { return false };
    let (lo, hi) = (b.first.saturating_add(shift), b.last.saturating_add(shift));
    a.first <= hi && lo <= a.last
}

/// A book to register or edit, as sent (trimmed).
#[derive(Debug, Clone)]
pub struct BookDraft {
    pub book_no: String,
    pub prefix: String,
    pub first_serial: i64,
    pub last_serial: i64,
    pub financial_year: String,
}

/// Check a book: `bookNo` 1..=20 characters; the prefix of letters, digits, `-`, `/`;
/// `1 <= firstSerial <= lastSerial`, at most [`MAX_LEAVES`] leaves; the LARGEST number
/// (prefix + lastSerial, the width being its digits unless `width` is given) at most 16
/// characters; a valid financial year. Returns the width, or one `"<field>: <problem>"`
/// per failed field.
pub fn check_book(b: &BookDraft, width: Option<u32>) -> Result<u32, Vec<String>> {
    let mut e = Vec::new();
    if b.book_no.is_empty() || b.book_no.chars().count() > BOOK_NO_LEN {
        e.push(format!("bookNo: must be 1 to {BOOK_NO_LEN} characters"));
    }
    if !valid_chars(&b.prefix) {
        e.push("prefix: only letters, digits, '-' and '/' (GST rule 46)".to_string());
    }
    if b.first_serial < 1 {
        e.push("firstSerial: must be at least 1".to_string());
    }
    if b.last_serial < b.first_serial {
        e.push("lastSerial: must be at least firstSerial".to_string());
    } else if i128::from(b.last_serial) - i128::from(b.first_serial) >= i128::from(MAX_LEAVES) {
        e.push(format!("lastSerial: a book has at most {MAX_LEAVES} leaves"));
    }
    let width = width.unwrap_or_else(|| digits(b.last_serial));
    if digits(b.last_serial) > width {
        e.push(format!("lastSerial: must have at most {width} digits (the book's numbers are fixed at registration)"));
    }
    let largest = leaf_number(&b.prefix, b.last_serial, width);
    if largest.chars().count() > MAX_NUMBER_LEN {
        e.push(format!(
            "prefix: the largest number {largest} has {} characters; GST rule 46 allows at most {MAX_NUMBER_LEN}",
            largest.chars().count()
        ));
    }
    if !valid_fy(&b.financial_year) {
        e.push("financialYear: must look like 26-27".to_string());
    }
    if e.is_empty() {
        Ok(width)
    } else {
        Err(e)
    }
}

/// The code and prefix of a device series: `D<n>-<fy>/` (n from 1, per shop and year;
/// at most 16 characters with its five digits up to n = 999). The first `/` of such a number
/// is at index 8 or later, while a document type's counter number (`PPPP/26-27/00001`,
/// `client::gst::PREFIX_MAX` = 4) has its first `/` at index 4 or earlier: a device number
/// can never be a counter number, whatever prefixes the shop's GST profile sets later.
pub fn device_prefix(n: i64, fy: &str) -> (String, String) {
    let code = format!("D{n}");
    let prefix = format!("{code}-{fy}/");
    (code, prefix)
}

/// The numbers of `1..=highest` missing from `used` (ascending), at most `cap` of them.
pub fn missing(used: &[i64], highest: i64, cap: usize) -> Vec<i64> {
    let have: std::collections::HashSet<i64> = used.iter().copied().collect();
    (1..=highest).filter(|s| !have.contains(s)).take(cap).collect()
}

/// A number given to a sale by [`assign`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assigned {
    pub number: String,
    pub financial_year: String,
    pub bill_ref: Option<OfflineBillRef>,
    pub series: Option<SeriesNumber>,
}

impl Assigned {
    /// Number `inv` with it (no counter number: `seq` stays unset).
    pub fn apply(self, inv: &mut InvoiceDoc) {
        inv.invoice_number = Some(self.number);
        inv.financial_year = Some(self.financial_year);
        inv.seq = None;
        inv.offline_bill_ref = self.bill_ref;
        inv.device_series = self.series;
    }
}

/// The number a sale keeps, judged against `n` (books, the device's series and the
/// candidate numbers already used). A book by `bookNo` is looked for in the financial year
/// of `at` (the bill's date) unless the reference names one.
///
/// Refusals: 400 naming `offlineBillRef.bookId`/`offlineBillRef.bookNo` (not a book of this
/// shop: a foreign id answers like a missing one), `offlineBillRef.serial` (outside the
/// book), `invoiceNumber` (not a number of this device's series); 409 `NUMBER_USED` (a
/// cancelled leaf, a number some invoice already has).
pub fn assign(printed: Option<&PrintedRef>, n: &Numbers, at: DateTime) -> Result<Option<Assigned>, Refusal> {
    let Some(printed) = printed else { return Ok(None) };
    let field = |f: &str, t: String| Refusal::Invalid(vec![format!("{f}: {t}")]);
    let assigned = match printed {
        PrintedRef::Book { book, serial } => {
            let (b, f) = match book {
                BookKey::Id(id) => (n.books.iter().find(|b| b.id == *id), "offlineBillRef.bookId"),
                BookKey::No { book_no, financial_year } => {
                    let fy = financial_year.clone().unwrap_or_else(|| crate::time::financial_year(at));
                    (n.books.iter().find(|b| &b.book_no == book_no && b.financial_year == fy), "offlineBillRef.bookNo")
                }
            };
            let b = b.ok_or_else(|| field(f, "is not a bill book of this shop".into()))?;
            if *serial < b.first_serial || *serial > b.last_serial {
                return Err(field(
                    "offlineBillRef.serial",
                    format!("{serial} is outside book {} ({}..{})", b.book_no, b.first_serial, b.last_serial),
                ));
            }
            if b.is_cancelled(*serial) {
                return Err(Refusal::NumberUsed(format!(
                    "offlineBillRef.serial: leaf {serial} of book {} was cancelled",
                    b.book_no
                )));
            }
            Assigned {
                number: b.number(*serial),
                financial_year: b.financial_year.clone(),
                bill_ref: Some(OfflineBillRef { book_id: b.id, book_no: b.book_no.clone(), serial: *serial }),
                series: None,
            }
        }
        PrintedRef::Device { number } => {
            let (s, seq) =
                n.series.iter().find_map(|s| s.seq_of(number).map(|q| (s, q))).ok_or_else(|| {
                    field("invoiceNumber", format!("{number} is not a number of this device's series"))
                })?;
            Assigned {
                number: number.clone(),
                financial_year: s.financial_year.clone(),
                bill_ref: None,
                series: Some(SeriesNumber { series_id: s.id, seq }),
            }
        }
    };
    if n.taken.contains(&assigned.number) {
        let f = if assigned.bill_ref.is_some() { "offlineBillRef.serial" } else { "invoiceNumber" };
        return Err(Refusal::NumberUsed(format!("{f}: {} is already an invoice's number", assigned.number)));
    }
    Ok(Some(assigned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(prefix: &str, first: i64, last: i64, width: u32) -> Series {
        Series { prefix: prefix.into(), first, last, width }
    }

    #[test]
    fn leaf_numbers_are_padded_to_the_width() {
        assert_eq!(leaf_number("B7/", 1, 3), "B7/001");
        assert_eq!(leaf_number("", 42, 5), "00042");
        assert_eq!(digits(100), 3);
        assert_eq!(digits(99), 2);
    }

    #[test]
    fn the_largest_number_must_fit_sixteen_characters() {
        let mut b = BookDraft {
            book_no: "1".into(),
            prefix: "ABCDEFGHIJKL".into(),
            first_serial: 1,
            last_serial: 9999,
            financial_year: "26-27".into(),
        };
        assert_eq!(check_book(&b, None), Ok(4), "12 + 4 = 16 characters fit");
        b.last_serial = 10_000;
        let e = check_book(&b, None).unwrap_err();
        assert!(e.iter().any(|x| x.starts_with("prefix:") && x.contains("17 characters")), "{e:?}");
        b.last_serial = 50;
        b.prefix = "A B".into();
        assert!(check_book(&b, None).unwrap_err()[0].starts_with("prefix:"));
    }

    /// Extreme serials (the fuzzer's `firstSerial: i64::MIN`) are refused, never an overflow.
    #[test]
    fn extreme_serials_are_refused_without_overflow() {
        for (first, last) in [(i64::MIN, 0), (1, i64::MAX), (i64::MIN, i64::MIN), (i64::MIN, i64::MAX), (-5, -1)] {
            let b = BookDraft {
                book_no: "1".into(),
                prefix: "B".into(),
                first_serial: first,
                last_serial: last,
                financial_year: "26-27".into(),
            };
            assert!(check_book(&b, None).is_err(), "{first}..{last}");
        }
    }

    #[test]
    fn financial_years_are_checked() {
        assert!(valid_fy("26-27") && valid_fy("99-00"));
        assert!(!valid_fy("26-28") && !valid_fy("2026-27") && !valid_fy("ab-cd"));
    }

    #[test]
    fn series_collide_when_a_number_can_print_twice() {
        // same prefix: by range
        assert!(collides(&s("B", 1, 100, 3), &s("B", 100, 200, 3)));
        assert!(!collides(&s("B", 1, 100, 3), &s("B", 101, 200, 3)));
        // A + 12 (width 2) = A1 + 2 (width 1)
        assert!(collides(&s("A", 10, 19, 2), &s("A1", 2, 2, 1)));
        assert!(!collides(&s("A", 20, 29, 2), &s("A1", 2, 2, 1)));
        // different lengths or letters never
        assert!(!collides(&s("B", 1, 100, 3), &s("B", 1, 100, 4)));
        assert!(!collides(&s("A", 1, 99, 2), &s("AX", 1, 9, 1)));
        // symmetric
        assert!(collides(&s("A1", 2, 2, 1), &s("A", 10, 19, 2)));
        // a book printing the server's own numbers
        assert!(collides(&s("INV/26-27/", 1, 50, 5), &Series::counter("INV", "26-27")));
    }

    #[test]
    fn every_number_of_two_series_agrees_with_collides() {
        // generalising: brute force over small series
        let all = [
            s("A", 1, 30, 2),
            s("A1", 0, 9, 1),
            s("A2", 5, 5, 1),
            s("A", 31, 60, 2),
            s("A0", 1, 9, 1),
            s("", 100, 120, 3),
            s("1", 0, 30, 2),
        ];
        for a in &all {
            for b in &all {
                let na: std::collections::HashSet<String> =
                    (a.first..=a.last).map(|x| leaf_number(&a.prefix, x, a.width)).collect();
                let shared = (b.first..=b.last).any(|x| na.contains(&leaf_number(&b.prefix, x, b.width)));
                assert_eq!(collides(a, b), shared, "{a:?} {b:?}");
            }
        }
    }

    fn book(first: i64, last: i64) -> crate::billing::numbering::BillBookDoc {
        let now = DateTime::from_millis(1_790_000_000_000);
        crate::billing::numbering::BillBookDoc {
            id: bson::oid::ObjectId::new(),
            client_id: bson::oid::ObjectId::new(),
            book_no: "7".into(),
            prefix: "B7/".into(),
            first_serial: first,
            last_serial: last,
            width: digits(last),
            financial_year: crate::time::financial_year(now),
            cancelled: vec![crate::billing::numbering::CancelledLeaf {
                serial: 9,
                reason: "torn".into(),
                at: now,
                by: None,
            }],
            used_count: 0,
            created_at: now,
            updated_at: now,
            version: 0,
        }
    }

    #[test]
    fn assign_keeps_a_leaf_and_refuses_outside_used_and_cancelled() {
        let at = DateTime::from_millis(1_790_000_000_000);
        let b = book(1, 100);
        let mut n = Numbers { books: vec![b.clone()], ..Default::default() };
        let leaf = |serial| PrintedRef::Book { book: BookKey::Id(b.id), serial };
        let got = assign(Some(&leaf(5)), &n, at).unwrap().unwrap();
        assert_eq!((got.number.as_str(), got.bill_ref.as_ref().map(|r| r.serial)), ("B7/005", Some(5)));
        // by number, in the year of the bill's date
        let by_no = PrintedRef::Book { book: BookKey::No { book_no: "7".into(), financial_year: None }, serial: 6 };
        assert_eq!(assign(Some(&by_no), &n, at).unwrap().unwrap().number, "B7/006");
        let other_year = PrintedRef::Book {
            book: BookKey::No { book_no: "7".into(), financial_year: Some("19-20".into()) },
            serial: 6,
        };
        assert!(
            matches!(assign(Some(&other_year), &n, at), Err(Refusal::Invalid(v)) if v[0].starts_with("offlineBillRef.bookNo"))
        );
        for outside in [0, 101] {
            assert!(
                matches!(assign(Some(&leaf(outside)), &n, at), Err(Refusal::Invalid(v)) if v[0].starts_with("offlineBillRef.serial"))
            );
        }
        assert!(matches!(assign(Some(&leaf(9)), &n, at), Err(Refusal::NumberUsed(_))), "a cancelled leaf");
        n.taken.insert("B7/005".into());
        assert!(matches!(assign(Some(&leaf(5)), &n, at), Err(Refusal::NumberUsed(m)) if m.contains("B7/005")));
        assert_eq!(assign(None, &n, at), Ok(None));
    }

    #[test]
    fn assign_keeps_a_device_series_number_of_this_device_only() {
        let at = DateTime::from_millis(1_790_000_000_000);
        let d = crate::billing::numbering::DeviceSeriesDoc {
            id: bson::oid::ObjectId::new(),
            client_id: bson::oid::ObjectId::new(),
            device_id: "phone-1".into(),
            financial_year: "26-27".into(),
            code: "D1".into(),
            prefix: "D1-26-27/".into(),
            highest: 0,
            used_count: 0,
            created_at: at,
            updated_at: at,
        };
        let mut n = Numbers { series: vec![d.clone()], ..Default::default() };
        let num = |s: &str| PrintedRef::Device { number: s.into() };
        let got = assign(Some(&num("D1-26-27/00042")), &n, at).unwrap().unwrap();
        assert_eq!(got.series, Some(SeriesNumber { series_id: d.id, seq: 42 }));
        assert_eq!(got.financial_year, "26-27");
        for bad in ["D2-26-27/00001", "D1-26-27/1", "D1-26-27/00000", "D1-26-27/0000a", "D1-26-27/000001"] {
            assert!(
                matches!(assign(Some(&num(bad)), &n, at), Err(Refusal::Invalid(v)) if v[0].starts_with("invoiceNumber")),
                "{bad}"
            );
        }
        n.taken.insert("D1-26-27/00042".into());
        assert!(matches!(assign(Some(&num("D1-26-27/00042")), &n, at), Err(Refusal::NumberUsed(_))));
    }

    fn arb_series() -> impl proptest::strategy::Strategy<Value = Series> {
        use proptest::prelude::*;
        (prop::sample::select(vec!["", "A", "A1", "A0", "A12", "1", "B"]), 1u32..=3, 0i64..120, 0i64..40).prop_map(
            |(p, w, first, len)| {
                let cap = 10_i64.pow(w) - 1;
                let first = first.min(cap);
                Series { prefix: p.to_string(), first, last: (first + len).min(cap), width: w }
            },
        )
    }

    proptest::proptest! {
        /// Generalising: for any two small series, `collides` says yes exactly when some
        /// number prints in both (checked by printing every number).
        #[test]
        fn collides_exactly_when_a_number_prints_in_both(a in arb_series(), b in arb_series()) {
            let na: std::collections::HashSet<String> =
                (a.first..=a.last).map(|x| leaf_number(&a.prefix, x, a.width)).collect();
            let shared = (b.first..=b.last).any(|x| na.contains(&leaf_number(&b.prefix, x, b.width)));
            proptest::prop_assert_eq!(collides(&a, &b), shared);
            proptest::prop_assert_eq!(collides(&b, &a), shared);
        }
    }

    #[test]
    fn a_device_number_is_never_a_document_series_number() {
        // any prefix the GST profile may set (1-4 letters, digits, '-'), any device code
        for p in ["D", "D1", "D1-2", "D-26", "D999", "INV", "BOS", "1"] {
            assert!(p.len() <= crate::client::gst::PREFIX_MAX);
            for n in [1, 9, 10, 99, 999] {
                let (_, prefix) = device_prefix(n, "26-27");
                let dev = Series { prefix, first: 1, last: SERIES_LAST, width: SERIES_WIDTH };
                assert!(!collides(&dev, &Series::counter(p, "26-27")), "{p} {n}");
                assert!(dev.prefix.len() + SERIES_WIDTH as usize <= MAX_NUMBER_LEN);
            }
        }
    }

    #[test]
    fn missing_numbers_are_the_gaps() {
        assert_eq!(missing(&[1, 2, 5, 7], 7, 10), vec![3, 4, 6]);
        assert_eq!(missing(&[], 3, 2), vec![1, 2]);
    }
}
