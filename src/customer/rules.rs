//! The input rules of a shop's customers, defined ONCE and called by every path that writes
//! them: the online routes (B9, B12, `customer::service`) and v2 push (`sync::ops` parses,
//! `sync::bulk` applies the shop's `clientSettings.customerFields`). A value one path
//! refuses, every path refuses (issue 12, section 3; proof: `tests/api/rules.rs`).
//!
//! * `phone`: normalised by `validate::normalize_phone` (the customer's identity).
//! * `name`: 2-100 characters; on a create, blank = not sent (the placeholder name is used).
//! * the optional fields `address` (at most 500 characters), `emailId` (an email or `''`),
//!   `gstNo` (a GSTIN or `''`) follow the shop's `customerFields`: an enabled field is stored
//!   and required (non-empty) when a customer is created; a disabled one is ignored.

use crate::{client::model::CustomerFields, validate::Errors};

/// Customer names: 2 to 100 characters (trimmed).
pub const NAME_LEN: (usize, usize) = (2, 100);
/// Longest address (characters).
pub const ADDRESS_MAX: usize = 500;

/// A name sent to change it: 2-100 characters.
pub fn name(e: &mut Errors, field: &str, v: &str) -> String {
    e.text(field, v, NAME_LEN.0, NAME_LEN.1)
}

/// A name sent with a create: blank or absent = none; otherwise 2-100 characters.
pub fn create_name(e: &mut Errors, field: &str, v: Option<&str>) -> Option<String> {
    match v.map(str::trim) {
        None | Some("") => None,
        Some(n) => Some(name(e, field, n)),
    }
}

/// The optional fields as sent (`None` = not sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionalInput {
    pub address: Option<String>,
    pub email_id: Option<String>,
    pub gst_no: Option<String>,
}

impl OptionalInput {
    /// Nothing was sent.
    pub fn is_empty(&self) -> bool {
        self.address.is_none() && self.email_id.is_none() && self.gst_no.is_none()
    }
}

/// The enabled optional fields that were sent, checked and trimmed, as `(db field, value)`;
/// disabled fields are ignored (as in v1). `prefix` is put before each field name.
pub fn optional_fields(
    e: &mut Errors,
    prefix: &str,
    flags: &CustomerFields,
    input: &OptionalInput,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if flags.address {
        if let Some(a) = &input.address {
            out.push(("address", e.text(&format!("{prefix}address"), a, 0, ADDRESS_MAX)));
        }
    }
    if flags.email_id {
        if let Some(m) = &input.email_id {
            out.push(("emailId", e.email(&format!("{prefix}emailId"), m)));
        }
    }
    if flags.gst_no {
        if let Some(g) = &input.gst_no {
            out.push(("gstNo", e.gstin(&format!("{prefix}gstNo"), g)));
        }
    }
    out
}

/// A NEW customer must carry every enabled optional field, non-empty.
pub fn require_enabled(e: &mut Errors, prefix: &str, flags: &CustomerFields, fields: &[(&'static str, String)]) {
    let enabled = [("address", flags.address), ("emailId", flags.email_id), ("gstNo", flags.gst_no)];
    for (f, on) in enabled {
        if on && !fields.iter().any(|(k, v)| *k == f && !v.is_empty()) {
            e.add(&format!("{prefix}{f}"), "is required (enabled in clientSettings.customerFields)");
        }
    }
}
