//! Helpers for the wire format: ISO-8601 UTC timestamps with milliseconds, hex ids.

use bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Deserializer, Serializer};

/// `2025-01-12T10:00:00.000Z`
pub fn iso(dt: DateTime) -> String {
    dt.to_chrono().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
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
