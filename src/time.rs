//! India time: calendar dates, days and financial years (April-March) in Asia/Kolkata,
//! never the server's zone or UTC midnight.

use bson::DateTime;
use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Asia::Kolkata;

/// The calendar date in India at `at`.
pub fn ist_date(at: DateTime) -> NaiveDate {
    at.to_chrono().with_timezone(&Kolkata).date_naive()
}

/// `YYYY-MM-DD` in India.
pub fn ist_date_string(at: DateTime) -> String {
    ist_date(at).format("%Y-%m-%d").to_string()
}

/// Financial year label `26-27` for the date in India (April 1 starts a year).
pub fn financial_year(at: DateTime) -> String {
    let d = ist_date(at);
    let start = if d.month() >= 4 { d.year() } else { d.year() - 1 };
    format!("{:02}-{:02}", start.rem_euclid(100), (start + 1).rem_euclid(100))
}

/// Midnight (00:00 IST) starting `date`, as a UTC instant.
pub fn ist_midnight(date: NaiveDate) -> DateTime {
    let local = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    match Kolkata.from_local_datetime(&local).single() {
        Some(t) => DateTime::from_chrono(t.with_timezone(&chrono::Utc)),
        None => DateTime::from_chrono(local.and_utc()),
    }
}

/// Parse a `from`/`to` report bound: `YYYY-MM-DD` (India calendar day; `to` is inclusive of
/// the whole day) or an RFC 3339 instant.
pub fn parse_bound(s: &str, end_of_day: bool) -> Option<DateTime> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let d = if end_of_day { d.succ_opt()? } else { d };
        let t = ist_midnight(d);
        return Some(if end_of_day { DateTime::from_millis(t.timestamp_millis() - 1) } else { t });
    }
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| DateTime::from_chrono(t.with_timezone(&chrono::Utc)))
}

/// Today's date in India.
pub fn today_ist() -> NaiveDate {
    ist_date(DateTime::now())
}

/// Monday of the India week containing `d` (weeks run Monday to Sunday).
pub fn week_start(d: NaiveDate) -> NaiveDate {
    d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday()))
}

/// The 1st of the month of `d`.
pub fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// April 1 starting the financial year that contains `d`.
pub fn fy_start(d: NaiveDate) -> NaiveDate {
    let y = if d.month() >= 4 { d.year() } else { d.year() - 1 };
    NaiveDate::from_ymd_opt(y, 4, 1).unwrap_or(d)
}

/// `first` (a 1st of a month) moved by `n` months (negative goes back).
pub fn add_months(first: NaiveDate, n: i32) -> NaiveDate {
    let idx = first.year() * 12 + first.month0() as i32 + n;
    NaiveDate::from_ymd_opt(idx.div_euclid(12), idx.rem_euclid(12) as u32 + 1, 1).unwrap_or(first)
}

/// Three-letter English month name (`Jan`..`Dec`) of `d`.
pub fn month_label(d: NaiveDate) -> &'static str {
    const M: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    M[d.month0() as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime {
        DateTime::parse_rfc3339_str(s).unwrap()
    }

    #[test]
    fn dates_are_indian() {
        // 18:29 UTC on 31 March is 23:59 IST: still FY 25-26
        assert_eq!(financial_year(at("2026-03-31T18:29:00Z")), "25-26");
        // 18:31 UTC on 31 March is 00:01 IST on 1 April: FY 26-27
        assert_eq!(financial_year(at("2026-03-31T18:31:00Z")), "26-27");
        assert_eq!(ist_date_string(at("2026-03-31T18:31:00Z")), "2026-04-01");
        assert_eq!(financial_year(at("2099-12-01T00:00:00Z")), "99-00");
    }

    #[test]
    fn bounds() {
        let from = parse_bound("2026-04-01", false).unwrap();
        assert_eq!(from, at("2026-03-31T18:30:00Z"));
        let to = parse_bound("2026-04-01", true).unwrap();
        assert_eq!(to.timestamp_millis(), at("2026-04-01T18:30:00Z").timestamp_millis() - 1);
        assert!(parse_bound("yesterday", false).is_none());
        assert!(parse_bound("2026-04-01T10:00:00Z", false).is_some());
    }

    #[test]
    fn calendar_helpers() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(); // a Thursday
        assert_eq!(week_start(d), NaiveDate::from_ymd_opt(2026, 1, 12).unwrap());
        assert_eq!(
            week_start(NaiveDate::from_ymd_opt(2026, 1, 12).unwrap()),
            NaiveDate::from_ymd_opt(2026, 1, 12).unwrap()
        );
        assert_eq!(fy_start(d), NaiveDate::from_ymd_opt(2025, 4, 1).unwrap());
        assert_eq!(
            fy_start(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()),
            NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()
        );
        assert_eq!(add_months(month_start(d), -1), NaiveDate::from_ymd_opt(2025, 12, 1).unwrap());
        assert_eq!(add_months(month_start(d), -13), NaiveDate::from_ymd_opt(2024, 12, 1).unwrap());
        assert_eq!(add_months(month_start(d), 12), NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        assert_eq!(month_label(d), "Jan");
    }
}
