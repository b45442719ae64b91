//! Indian states and union territories by their GST state code (the first two digits of a
//! GSTIN, from the Census 2011 codes; source: the GST portal's state list, as carried by
//! `STATE_NUMBERS` in resilient-tech/india-compliance). Pure data, no feature dependency:
//! customer and company addresses store the code (`"27"`), invoices (issue 17) print the name.
//!
//! Codes no longer assigned to new registrations are kept so old GSTINs still resolve:
//! `25` (Daman and Diu, merged into `26` in 2020) and `28` (Andhra Pradesh before 2014; the
//! state is `37` today). `97` (Other Territory) and `99` (Centre Jurisdiction) are GSTIN state
//! codes without a state; `96` (Other Country) is a place of supply only, never a GSTIN.

/// `(code, name)` of every GST state code, in code order.
pub const STATES: &[(&str, &str)] = &[
    ("01", "Jammu and Kashmir"),
    ("02", "Himachal Pradesh"),
    ("03", "Punjab"),
    ("04", "Chandigarh"),
    ("05", "Uttarakhand"),
    ("06", "Haryana"),
    ("07", "Delhi"),
    ("08", "Rajasthan"),
    ("09", "Uttar Pradesh"),
    ("10", "Bihar"),
    ("11", "Sikkim"),
    ("12", "Arunachal Pradesh"),
    ("13", "Nagaland"),
    ("14", "Manipur"),
    ("15", "Mizoram"),
    ("16", "Tripura"),
    ("17", "Meghalaya"),
    ("18", "Assam"),
    ("19", "West Bengal"),
    ("20", "Jharkhand"),
    ("21", "Odisha"),
    ("22", "Chhattisgarh"),
    ("23", "Madhya Pradesh"),
    ("24", "Gujarat"),
    ("25", "Daman and Diu"),
    ("26", "Dadra and Nagar Haveli and Daman and Diu"),
    ("27", "Maharashtra"),
    ("28", "Andhra Pradesh (before 2014)"),
    ("29", "Karnataka"),
    ("30", "Goa"),
    ("31", "Lakshadweep"),
    ("32", "Kerala"),
    ("33", "Tamil Nadu"),
    ("34", "Puducherry"),
    ("35", "Andaman and Nicobar Islands"),
    ("36", "Telangana"),
    ("37", "Andhra Pradesh"),
    ("38", "Ladakh"),
    ("97", "Other Territory"),
    ("99", "Centre Jurisdiction"),
];

/// The name of a GST state code (`"27"` -> `Maharashtra`); `None` for an unknown code.
pub fn name(code: &str) -> Option<&'static str> {
    STATES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// Whether `code` is a GST state code of [`STATES`] (two digits, e.g. `"07"`).
pub fn is_code(code: &str) -> bool {
    name(code).is_some()
}

/// Whether `code` may be an address's state: a state or union territory (01-38), not the
/// jurisdiction-only codes 97 and 99.
pub fn is_address_state(code: &str) -> bool {
    is_code(code) && code < "90"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_have_their_names() {
        assert_eq!(name("27"), Some("Maharashtra"));
        assert_eq!(name("29"), Some("Karnataka"));
        assert_eq!(name("07"), Some("Delhi"));
        assert_eq!(name("33"), Some("Tamil Nadu"));
        assert_eq!(name("36"), Some("Telangana"));
        assert_eq!(name("38"), Some("Ladakh"));
        assert_eq!(name("7"), None);
        assert_eq!(name("39"), None);
        assert_eq!(name("96"), None);
        assert!(is_address_state("01") && is_address_state("38"));
        assert!(!is_address_state("97") && !is_address_state("99") && !is_address_state("00"));
    }

    #[test]
    fn codes_are_two_digits_sorted_and_unique() {
        for w in STATES.windows(2) {
            assert!(w[0].0 < w[1].0, "{:?} before {:?}", w[0], w[1]);
        }
        for (c, n) in STATES {
            assert!(c.len() == 2 && c.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty());
        }
        // every code from 01 to 38 is listed
        for i in 1..=38 {
            assert!(is_code(&format!("{i:02}")), "{i:02}");
        }
    }
}
