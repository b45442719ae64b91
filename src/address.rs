//! Postal addresses and contact persons: the shapes and their input rules, shared by every
//! party that has them (customers, companies; issue 16). Pure (no I/O), no feature dependency.
//! An address's `state` is a GST state code ([`crate::states`]).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{states, validate::Errors};

/// A postal address (stored, answered and sent in this shape; every field optional, `''` when
/// not given). `state` is the GST state code (`"27"`, see [`crate::states`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Address {
    /// At most 200 characters.
    #[serde(default)]
    pub line1: String,
    /// At most 200 characters.
    #[serde(default)]
    pub line2: String,
    /// At most 100 characters.
    #[serde(default)]
    pub city: String,
    /// GST state code, two digits (`"27"` Maharashtra); a state's name is accepted on input
    /// and stored as its code.
    #[serde(default)]
    #[schema(example = "27")]
    pub state: String,
    /// Six digits, not starting with 0.
    #[serde(default)]
    #[schema(example = "411001")]
    pub pincode: String,
}

impl Address {
    /// No field given (an address sent empty clears the stored one).
    pub fn is_empty(&self) -> bool {
        self.line1.is_empty()
            && self.line2.is_empty()
            && self.city.is_empty()
            && self.state.is_empty()
            && self.pincode.is_empty()
    }
}

/// A contact person (every field optional, `''` when not given).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactPerson {
    /// At most 100 characters.
    #[serde(default)]
    pub name: String,
    /// A phone number, stored normalised (digits).
    #[serde(default)]
    pub phone: String,
    /// An email address.
    #[serde(default)]
    pub email: String,
}

impl ContactPerson {
    /// No field given.
    pub fn is_empty(&self) -> bool {
        self.name.is_empty() && self.phone.is_empty() && self.email.is_empty()
    }
}

/// Longest address line (characters).
pub const LINE_MAX: usize = 200;
/// Longest city or contact name (characters).
pub const CITY_MAX: usize = 100;

/// An address as sent, checked: see the module's rules. `None` when every field is empty.
pub fn check(e: &mut Errors, field: &str, a: &Address) -> Option<Address> {
    let state_in = a.state.trim();
    let state = if state_in.is_empty() {
        String::new()
    } else if states::is_address_state(state_in) {
        state_in.to_string()
    } else if let Some((code, _)) =
        states::STATES.iter().find(|(c, n)| n.eq_ignore_ascii_case(state_in) && states::is_address_state(c))
    {
        code.to_string()
    } else {
        e.add(&format!("{field}.state"), "must be a GST state code (01-38) or a state's name");
        String::new()
    };
    let pincode = a.pincode.trim().to_string();
    if !pincode.is_empty() {
        let b = pincode.as_bytes();
        if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) || b[0] == b'0' {
            e.add(&format!("{field}.pincode"), "must be six digits, not starting with 0");
        }
    }
    let out = Address {
        line1: e.text(&format!("{field}.line1"), &a.line1, 0, LINE_MAX),
        line2: e.text(&format!("{field}.line2"), &a.line2, 0, LINE_MAX),
        city: e.text(&format!("{field}.city"), &a.city, 0, CITY_MAX),
        state,
        pincode,
    };
    (!out.is_empty()).then_some(out)
}

/// A contact person as sent, checked. `None` when every field is empty.
pub fn check_contact(e: &mut Errors, field: &str, c: &ContactPerson) -> Option<ContactPerson> {
    let phone = c.phone.trim();
    let out = ContactPerson {
        name: e.text(&format!("{field}.name"), &c.name, 0, CITY_MAX),
        phone: if phone.is_empty() { String::new() } else { e.phone(&format!("{field}.phone"), phone) },
        email: e.email(&format!("{field}.email"), &c.email),
    };
    (!out.is_empty()).then_some(out)
}
