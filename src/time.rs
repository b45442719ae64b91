//! India time: calendar dates, days and financial years (April-March) in Asia/Kolkata,
//! never the server's zone or UTC midnight.
//!
//! This is the one module that turns instants into calendar dates and back (a test keeps
//! every other module from doing so: `no_calendar_math_outside_the_time_module`). A calendar
//! date sent without a time (a dealer `dueDate` of `YYYY-MM-DD`) is stored as 00:00 UTC of
//! that date (v1's encoding, the one JavaScript's `new Date("YYYY-MM-DD")` gives); it is
//! always *read* as the India date of the stored instant, which for such a value is the same
//! date (00:00 UTC is 05:30 IST).

use bson::DateTime;
use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Asia::Kolkata;

/// The IANA name of India time, for MongoDB date operators (`timezone`), so that a
/// database-side day is the same India calendar day as [`ist_date`]'s.
pub const TZ_NAME: &str = "Asia/Kolkata";

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

/// 30 November after the end of the financial year of `date` (an India date): the last day a
/// credit note may be issued for a supply of that date (CGST Act s.34(2)). 10 May 2026
/// (FY 2026-27) and 31 March 2027 give 30 November 2027; 1 April 2027 gives 30 November 2028.
pub fn november_after_fy(date: NaiveDate) -> Option<NaiveDate> {
    let start = if date.month() >= 4 { date.year() } else { date.year() - 1 };
    NaiveDate::from_ymd_opt(start + 1, 11, 30)
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

/// A `YYYY-MM-DD` calendar date (surrounding spaces allowed); `None` otherwise.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// The stored instant of a date-only value: 00:00 UTC of `d` (see the module doc); its
/// India date ([`ist_date`]) is `d`.
pub fn date_instant(d: NaiveDate) -> DateTime {
    DateTime::from_chrono(d.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// Whole India calendar days from `a` to `b` (negative when `b` is on an earlier India
/// date): 23:59 IST to 00:01 IST the next morning is 1 day; 00:01 to 23:59 the same day is 0.
pub fn days_between(a: DateTime, b: DateTime) -> i64 {
    (ist_date(b) - ist_date(a)).num_days()
}

/// The India date `n` days after the India date of `at` (payment terms: delivered on
/// 1 April with 30 days' credit is due on 1 May), as a date-only instant
/// ([`date_instant`]). `None` past the calendar's range.
pub fn date_after_days(at: DateTime, n: u64) -> Option<DateTime> {
    ist_date(at).checked_add_days(chrono::Days::new(n)).map(date_instant)
}

/// The instant from which a due date counts as passed: the start (00:00 IST) of today in
/// India at `now`. A due date (any instant on its India due day) is overdue iff it is before
/// this, i.e. its India date is before today's: an order due on 1 April is overdue from
/// 2 April 00:00 IST, not from 05:30 on the 1st.
pub fn overdue_cutoff(now: DateTime) -> DateTime {
    ist_midnight(ist_date(now))
}

/// Whether a due date has passed at `now` (India calendar days; see [`overdue_cutoff`]).
pub fn is_overdue(due: DateTime, now: DateTime) -> bool {
    due < overdue_cutoff(now)
}

/// The time a device-dated record (an offline sale or payment) is filed under: the device's
/// time, but never later than `received`, the server's time when it arrived. A device clock
/// a few minutes fast must not put a 23:57 sale on the next day (the device's own time is
/// kept beside it as `deviceTime`).
pub fn record_time(device: DateTime, received: DateTime) -> DateTime {
    device.min(received)
}

/// The instant a sale sent only with its India calendar date (`invoiceDate` of a v1 offline
/// invoice, no `deviceTime`) is filed under: `now` when the date is today (or later, within
/// the device skew the caller allowed), else 00:00 IST of that date (its time is unknown).
pub fn dated_at(date: NaiveDate, now: DateTime) -> DateTime {
    if date >= ist_date(now) {
        now
    } else {
        ist_midnight(date)
    }
}

/// The server's clock. Production reads the system time; a test may pin it to an instant
/// (`pin`) to check behaviour at a day boundary. Read through `AppState::clock` by the code
/// whose answer depends on today's India date: dealer due dates and order numbers, and the
/// receipt time that bounds the date of a sale or payment (`billing::service::sale_time`).
#[derive(Debug)]
pub struct Clock {
    /// Milliseconds since the epoch, or `i64::MIN` for the system time.
    pinned: std::sync::atomic::AtomicI64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock { pinned: std::sync::atomic::AtomicI64::new(i64::MIN) }
    }
}

impl Clock {
    /// Now: the pinned instant, or the system time.
    pub fn now(&self) -> DateTime {
        match self.pinned.load(std::sync::atomic::Ordering::Relaxed) {
            i64::MIN => DateTime::now(),
            ms => DateTime::from_millis(ms),
        }
    }

    /// Pin the clock at `at` (tests); `None` returns to the system time.
    pub fn pin(&self, at: Option<DateTime>) {
        let v = at.map_or(i64::MIN, |t| t.timestamp_millis());
        self.pinned.store(v, std::sync::atomic::Ordering::Relaxed);
    }
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

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn india_midnight_is_the_day_boundary() {
        // 1 April 2026 in India runs from 2026-03-31T18:30Z to 2026-04-01T18:29:59.999Z
        let first = at("2026-03-31T18:30:00Z");
        let last = at("2026-04-01T18:29:59.999Z");
        let next = at("2026-04-01T18:30:00Z");
        assert_eq!(ist_midnight(ymd(2026, 4, 1)), first);
        assert_eq!(ist_date(first), ymd(2026, 4, 1));
        assert_eq!(ist_date(last), ymd(2026, 4, 1));
        assert_eq!(ist_date(next), ymd(2026, 4, 2));
        assert_eq!(ist_date(DateTime::from_millis(first.timestamp_millis() - 1)), ymd(2026, 3, 31));

        // an order due "2026-04-01" (stored 00:00 UTC = 05:30 IST) is due all of 1 April
        let due = date_instant(parse_date("2026-04-01").unwrap());
        assert_eq!(due, at("2026-04-01T00:00:00Z"));
        assert_eq!(ist_date(due), ymd(2026, 4, 1));
        assert!(!is_overdue(due, at("2026-04-01T00:00:01Z"))); // 05:30:01 IST (the old rule said overdue)
        assert!(!is_overdue(due, last));
        assert!(is_overdue(due, next));
        assert_eq!(overdue_cutoff(at("2026-04-01T12:00:00Z")), first);

        // days between are India calendar days, not 24-hour spans
        assert_eq!(days_between(at("2026-04-01T17:30:00Z"), at("2026-04-01T18:31:00Z")), 1); // 23:00 -> 00:01
        assert_eq!(days_between(first, last), 0);
        assert_eq!(days_between(at("2026-04-01T18:00:00Z"), at("2026-04-03T04:00:00Z")), 2);
        assert_eq!(days_between(next, first), -1);

        // payment terms: delivered 23:50 IST on 1 April with 1 day of credit is due 2 April,
        // delivered 00:10 IST on 2 April with 30 days is due 2 May
        assert_eq!(date_after_days(at("2026-04-01T18:20:00Z"), 1).map(ist_date), Some(ymd(2026, 4, 2)));
        assert_eq!(date_after_days(at("2026-04-01T18:40:00Z"), 30).map(ist_date), Some(ymd(2026, 5, 2)));

        // a sale at 23:57 IST from a device 4 minutes fast stays on its day
        let received = at("2026-11-28T18:27:00Z"); // 23:57 IST
        let device = at("2026-11-28T18:31:00Z"); // 00:01 IST the next day
        assert_eq!(record_time(device, received), received);
        assert_eq!(ist_date(record_time(device, received)), ymd(2026, 11, 28));
        assert_eq!(record_time(received, device), received);

        // a sale sent with only its India date
        let now = at("2026-11-29T04:00:00Z"); // 09:30 IST, 29 Nov
        assert_eq!(dated_at(ymd(2026, 11, 29), now), now);
        assert_eq!(dated_at(ymd(2026, 11, 28), now), at("2026-11-27T18:30:00Z"));
        assert_eq!(parse_date(" 2026-11-28 "), Some(ymd(2026, 11, 28)));
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("28/11/2026"), None);
    }

    #[test]
    fn the_clock_can_be_pinned() {
        let c = Clock::default();
        let before = DateTime::now();
        assert!(c.now() >= before);
        c.pin(Some(at("2026-04-01T18:29:59Z")));
        assert_eq!(c.now(), at("2026-04-01T18:29:59Z"));
        c.pin(None);
        assert!(c.now() >= before);
    }

    proptest::proptest! {
        /// Every helper agrees with the India day: an instant's date is the day whose IST
        /// midnights surround it, and each helper's answer follows from those dates alone.
        #[test]
        fn prop_every_helper_uses_india_midnight(
            // 1950..2100 (India has kept +05:30 without daylight saving since 1945)
            ms in -631_152_000_000_i64..4_102_444_800_000,
            other in -631_152_000_000_i64..4_102_444_800_000,
            n in 0u64..=3650,
        ) {
            let t = DateTime::from_millis(ms);
            let u = DateTime::from_millis(other);
            let d = ist_date(t);
            let start = ist_midnight(d);
            let end = ist_midnight(d.succ_opt().unwrap());
            proptest::prop_assert!(start <= t && t < end);
            proptest::prop_assert_eq!(end.timestamp_millis() - start.timestamp_millis(), 86_400_000);
            proptest::prop_assert_eq!(ist_date(DateTime::from_millis(start.timestamp_millis() - 1)), d.pred_opt().unwrap());
            proptest::prop_assert_eq!(ist_date(date_instant(d)), d);
            proptest::prop_assert_eq!(ist_date_string(t), d.format("%Y-%m-%d").to_string());
            proptest::prop_assert_eq!(days_between(t, u), (ist_date(u) - d).num_days());
            proptest::prop_assert_eq!(days_between(DateTime::from_millis(start.timestamp_millis() - 1), start), 1);
            proptest::prop_assert_eq!(is_overdue(u, t), ist_date(u) < d);
            proptest::prop_assert_eq!(is_overdue(date_instant(ist_date(u)), t), ist_date(u) < d);
            proptest::prop_assert_eq!(overdue_cutoff(t), start);
            proptest::prop_assert_eq!(date_after_days(t, n).map(ist_date), d.checked_add_days(chrono::Days::new(n)));
            let fy = fy_start(d);
            proptest::prop_assert_eq!(
                financial_year(t),
                format!("{:02}-{:02}", fy.year().rem_euclid(100), (fy.year() + 1).rem_euclid(100))
            );
            proptest::prop_assert!(fy <= d && d < add_months(fy, 12));
            proptest::prop_assert_eq!(parse_bound(&ist_date_string(t), false), Some(start));
            proptest::prop_assert_eq!(parse_bound(&ist_date_string(t), true).map(|b| b.timestamp_millis()), Some(end.timestamp_millis() - 1));
            let r = record_time(u, t);
            proptest::prop_assert!(r <= t && (r == u || u > t));
            let dated = dated_at(ist_date(u), t);
            proptest::prop_assert!(dated <= t);
            proptest::prop_assert_eq!(ist_date(dated), if ist_date(u) < d { ist_date(u) } else { d });
        }
    }

    /// The generalising check of "calendar dates only through this module": no other server
    /// source turns instants into dates, dates into instants, counts days as 24-hour spans or
    /// asks MongoDB for a date part without a time zone. (Named day limits such as
    /// `MAX_AGE_DAYS * 86_400_000` are durations, not dates, and stay allowed.)
    #[test]
    fn no_calendar_math_outside_the_time_module() {
        const RUST: &[(&str, &str)] = &[
            ("chrono_tz", "the India zone lives in time.rs"),
            ("date_naive(", "a calendar date from an instant: time::ist_date"),
            ("and_utc(", "an instant from a date: time::ist_midnight / date_instant"),
            ("from_utc_datetime(", "an instant from a date: time::ist_midnight / date_instant"),
            ("from_local_datetime(", "an instant from a date: time::ist_midnight"),
            ("with_ymd_and_hms(", "an instant from a date: time::ist_midnight"),
            ("and_hms", "an instant from a date: time::ist_midnight / date_instant"),
            ("NaiveDate::parse_from_str", "a date from text: time::parse_date"),
            ("86400000", "days as 24-hour spans: time::days_between / date_after_days"),
        ];
        const MONGO_DATE_PARTS: &[&str] = &[
            "\"$dateToString\"",
            "\"$dateTrunc\"",
            "\"$dayOfMonth\"",
            "\"$dayOfWeek\"",
            "\"$dayOfYear\"",
            "\"$month\"",
            "\"$year\"",
            "\"$week\"",
            "\"$hour\"",
            "\"$dateDiff\"",
            "\"$dateAdd\"",
            "\"$dateSubtract\"",
            "\"$dateFromParts\"",
            "\"$dateToParts\"",
            "\"$dateFromString\"",
        ];
        // (file, text on the line): reviewed exceptions
        const ALLOWED: &[(&str, &str)] = &[
            // the rollup partitions invoices by the UTC month of their ObjectId (an internal
            // key, never shown as a date; the India month is summed separately)
            ("src/dashboard/repo.rs", "with_ymd_and_hms("),
            ("src/dashboard/repo.rs", "\"$toDate\": \"$_id\""),
        ];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![];
        let mut dirs = vec![root.join("src")];
        while let Some(d) = dirs.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    // the tools in src/bin make synthetic data, they are not the server
                    if !p.ends_with("bin") {
                        dirs.push(p);
                    }
                } else if p.extension().is_some_and(|e| e == "rs") && !p.ends_with("time.rs") {
                    files.push(p);
                }
            }
        }
        assert!(files.len() > 20, "walked {} files", files.len());
        let mut found = vec![];
        for p in files {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&p).unwrap();
            for (no, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") || ALLOWED.iter().any(|(f, t)| *f == rel && line.contains(t)) {
                    continue;
                }
                let squeezed = code.replace('_', "");
                for (pat, why) in RUST {
                    let hit = if *pat == "86400000" {
                        // a named day limit (`KEEP_DAYS * 86_400_000`) is a duration
                        squeezed.contains(pat) && !code.contains("_DAYS")
                    } else {
                        code.contains(pat)
                    };
                    if hit {
                        found.push(format!("{rel}:{}: `{pat}` ({why})", no + 1));
                    }
                }
                if MONGO_DATE_PARTS.iter().any(|m| code.contains(m)) && !code.contains("timezone") {
                    found.push(format!("{rel}:{}: a MongoDB date part without a timezone (UTC)", no + 1));
                }
            }
        }
        assert!(found.is_empty(), "calendar math outside src/time.rs:\n{}", found.join("\n"));
    }
}
