//! Helpers for the wire format: ISO-8601 UTC timestamps with milliseconds, hex ids.

use bson::{oid::ObjectId, DateTime};
use std::fmt::Write as _;

use serde::{Deserialize, Deserializer, Serializer};

/// `2025-01-12T10:00:00.000Z`
///
/// Written field by field: this runs for every date of every document a list returns, and
/// chrono's `format` re-parses its pattern each time (it was ~8 % of the server's CPU on
/// the item list). Years outside 0..=9999 keep chrono's own rendering.
pub fn iso(dt: DateTime) -> String {
    use chrono::{Datelike, Timelike};
    let c = dt.to_chrono();
    if !(0..=9999).contains(&c.year()) {
        return c.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    }
    let mut out = String::with_capacity(24);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        c.year(),
        c.month(),
        c.day(),
        c.hour(),
        c.minute(),
        c.second(),
        c.timestamp_subsec_millis()
    );
    out
}

/// `#[serde(serialize_with = "crate::wire::ser_date")]` for a `bson::DateTime` field.
pub fn ser_date<S: Serializer>(dt: &DateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&iso(*dt))
}

/// Same for `Option<bson::DateTime>` (null when absent).
pub fn ser_opt_date<S: Serializer>(dt: &Option<DateTime>, s: S) -> Result<S::Ok, S::Error> {
    match dt {
        Some(d) => s.serialize_str(&iso(*d)),
        None => s.serialize_none(),
    }
}

/// `ObjectId` as a 24-char lowercase hex string.
pub fn ser_oid<S: Serializer>(id: &ObjectId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_hex())
}

pub fn ser_opt_oid<S: Serializer>(id: &Option<ObjectId>, s: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(i) => s.serialize_str(&i.to_hex()),
        None => s.serialize_none(),
    }
}

pub fn ser_oids<S: Serializer>(ids: &[ObjectId], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(ids.len()))?;
    for id in ids {
        seq.serialize_element(&id.to_hex())?;
    }
    seq.end()
}

/// `Option<Option<T>>` for PATCH-like fields: absent = `None`, `null` = `Some(None)`.
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// For optional fields that may be omitted but not sent as `null` (a 400 instead of a
/// silent no-op). Use with `#[serde(default, deserialize_with = "non_null")]`.
pub fn non_null<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

#[cfg(test)]
mod iso_tests {
    use super::*;

    #[test]
    fn iso_matches_chrono_format() {
        let old = |dt: DateTime| dt.to_chrono().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let mut ms: i64 = -62_167_219_200_000; // 0000-01-01
        let samples =
            [0_i64, 1, 999, 1_000, 1_736_676_000_000, 1_736_676_000_123, 253_402_300_799_999, -1, -86_400_001];
        for v in samples {
            assert_eq!(iso(DateTime::from_millis(v)), old(DateTime::from_millis(v)), "{v}");
        }
        while ms < 253_402_300_799_999 {
            let dt = DateTime::from_millis(ms);
            assert_eq!(iso(dt), old(dt), "{ms}");
            ms += 3_163_592_713_117; // ~100 years and an odd number of ms
        }
        for v in [-62_167_219_200_001_i64, 253_402_300_800_000, i64::MAX, i64::MIN] {
            assert_eq!(iso(DateTime::from_millis(v)), old(DateTime::from_millis(v)), "{v}");
        }
        assert_eq!(iso(DateTime::from_millis(1_736_676_000_007)), "2025-01-12T10:00:00.007Z");
    }
}
