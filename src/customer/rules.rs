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
//! * the profile (issue 16, always stored, never required): `customerType` (individual,
//!   school, office, business), `billingAddress` / `shippingAddress` (`{line1, line2, city,
//!   state, pincode}`: lines at most 200 characters, city 100, `state` a GST state code or a
//!   state's name, stored as the code, `pincode` six digits not starting with 0; an address
//!   sent with every field empty clears it), `contactPerson` (`{name, phone, email}`: name at
//!   most 100 characters, phone a phone number, email an email), `status` (active, inactive).
//! * `gstNo` is checked with its mod-36 check character ([`crate::gstin`]); when the customer
//!   has a GSTIN and a billing state, the GSTIN's first two digits must be that state's code
//!   ([`gstin_state`], checked by the decider on the customer as it will be stored).

use crate::{
    address,
    client::model::CustomerFields,
    customer::model::{Address, ContactPerson, CustomerDoc, CUSTOMER_TYPES, STATUSES},
    states,
    validate::Errors,
};

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
    /// The profile fields (not governed by `customerFields`).
    pub profile: ProfileInput,
}

impl OptionalInput {
    /// Nothing was sent.
    pub fn is_empty(&self) -> bool {
        self.address.is_none() && self.email_id.is_none() && self.gst_no.is_none() && self.profile.is_empty()
    }
}

/// The profile fields of a customer as sent (`None` = not sent); issue 16.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileInput {
    pub customer_type: Option<String>,
    pub billing_address: Option<Address>,
    pub shipping_address: Option<Address>,
    pub contact_person: Option<ContactPerson>,
    pub status: Option<String>,
}

impl ProfileInput {
    /// Nothing was sent.
    pub fn is_empty(&self) -> bool {
        *self == ProfileInput::default()
    }
}

/// The profile fields sent, checked and normalised (`None` = not written). An address or
/// contact person `Some(None)` clears the stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub customer_type: Option<String>,
    pub billing_address: Option<Option<Address>>,
    pub shipping_address: Option<Option<Address>>,
    pub contact_person: Option<Option<ContactPerson>>,
    pub status: Option<String>,
}

fn one_of(e: &mut Errors, field: &str, v: &str, allowed: &[&str]) -> String {
    let t = v.trim().to_ascii_lowercase();
    if !allowed.contains(&t.as_str()) {
        e.add(field, format!("must be one of {}", allowed.join(", ")));
    }
    t
}

/// The profile fields sent, checked (`prefix` is put before each field name).
pub fn profile(e: &mut Errors, prefix: &str, p: &ProfileInput) -> Profile {
    Profile {
        customer_type: p
            .customer_type
            .as_deref()
            .map(|t| one_of(e, &format!("{prefix}customerType"), t, &CUSTOMER_TYPES)),
        billing_address: p.billing_address.as_ref().map(|a| address::check(e, &format!("{prefix}billingAddress"), a)),
        shipping_address: p
            .shipping_address
            .as_ref()
            .map(|a| address::check(e, &format!("{prefix}shippingAddress"), a)),
        contact_person: p
            .contact_person
            .as_ref()
            .map(|c| address::check_contact(e, &format!("{prefix}contactPerson"), c)),
        status: p.status.as_deref().map(|t| one_of(e, &format!("{prefix}status"), t, &STATUSES)),
    }
}

/// The GSTIN-state rule on a customer as it will be stored: with a GSTIN and a billing state,
/// the GSTIN's first two digits must be the state's code (400 naming `gstNo`). A customer
/// without either passes (the place of supply then falls back as issue 17 says).
pub fn gstin_state(e: &mut Errors, prefix: &str, c: &CustomerDoc) {
    let state = c.billing_address.as_ref().map(|a| a.state.as_str()).unwrap_or("");
    let gst_state = c.gst_no.get(..2).unwrap_or("");
    if !gst_state.is_empty() && !state.is_empty() && gst_state != state {
        e.add(
            &format!("{prefix}gstNo"),
            format!(
                "its state code {} does not match billingAddress.state {} ({})",
                gst_state,
                state,
                states::name(state).unwrap_or("unknown")
            ),
        );
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
