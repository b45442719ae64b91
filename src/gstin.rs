//! GSTIN (GST identification number) validation: pure, no feature dependency, one rule for
//! every path that stores one (customers, dealers, the shop; `validate::is_gstin`).
//!
//! A GSTIN has 15 characters (CBIC, "GSTIN format"; GST rule 10):
//!
//! | position | content |
//! | --- | --- |
//! | 1-2 | state code ([`crate::states`]: 01-38, 97 Other Territory, 99 Centre Jurisdiction) |
//! | 3-12 | the holder's PAN: 5 letters, 4 digits, 1 letter |
//! | 13 | entity number: registrations of the PAN in the state, `1`-`9` then `A`-`Z` |
//! | 14 | `Z` by default |
//! | 15 | check character |
//!
//! **The check character (mod 36)**: the alphabet is `0-9A-Z` (a character's value is its index,
//! 0-35). For each of the first 14 characters, left to right, multiply its value by a factor
//! that alternates 1, 2, 1, 2, ... (1 at odd positions, 2 at even positions); add the quotient
//! and the remainder of that product divided by 36; sum these over the 14 characters. The check
//! value is `(36 - sum mod 36) mod 36`, written as the alphabet's character. A single changed
//! character always changes the sum mod 36 (each per-position map is a bijection on 0-35), so
//! any one-character typo is caught.

use crate::states;

/// The alphabet of the check character; a character's value is its index.
const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Why a text is not a GSTIN (the texts are the API's `field: text` complaints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GstinError {
    /// Not 15 characters.
    Length,
    /// A character where the format wants another kind (digit, letter, `Z`).
    Format,
    /// The first two digits are no GST state code.
    StateCode,
    /// The 15th character is not the check character of the first 14.
    CheckCharacter,
}

impl std::fmt::Display for GstinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GstinError::Length => "must be a valid 15-character GSTIN",
            GstinError::Format => "must be a valid GSTIN (state code, PAN, entity number, Z, check character)",
            GstinError::StateCode => "must be a valid GSTIN: its first two digits are not a GST state code",
            GstinError::CheckCharacter => "must be a valid GSTIN: the check character does not match",
        })
    }
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The check character of the first 14 characters of `s` (upper case), `None` when `s` is
/// shorter or holds a character outside `0-9A-Z`.
pub fn check_char(s: &str) -> Option<char> {
    let b = s.as_bytes();
    if b.len() < 14 {
        return None;
    }
    let mut sum = 0u32;
    for (i, &c) in b[..14].iter().enumerate() {
        let product = value(c)? * if i % 2 == 0 { 1 } else { 2 };
        sum += product / 36 + product % 36;
    }
    Some(char::from(ALPHABET[((36 - sum % 36) % 36) as usize]))
}

/// Validate a GSTIN (upper case, trimmed by the caller) and return its state code (the first
/// two characters, e.g. `"27"`). Checks, in order: length 15, the format (2 digits, PAN-like
/// `AAAAA9999A`, entity `1-9A-Z`, `Z`, check `0-9A-Z`), the state code, the check character.
pub fn parse(s: &str) -> Result<&str, GstinError> {
    let b = s.as_bytes();
    if b.len() != 15 || !s.is_ascii() {
        return Err(GstinError::Length);
    }
    let format = b[..2].iter().all(u8::is_ascii_digit)
        && b[2..7].iter().all(u8::is_ascii_uppercase)
        && b[7..11].iter().all(u8::is_ascii_digit)
        && b[11].is_ascii_uppercase()
        && (b[12].is_ascii_uppercase() || (b'1'..=b'9').contains(&b[12]))
        && b[13] == b'Z'
        && (b[14].is_ascii_uppercase() || b[14].is_ascii_digit());
    if !format {
        return Err(GstinError::Format);
    }
    let state = &s[..2];
    if !states::is_code(state) {
        return Err(GstinError::StateCode);
    }
    if check_char(s) != Some(char::from(b[14])) {
        return Err(GstinError::CheckCharacter);
    }
    Ok(state)
}

/// Whether `s` is a valid GSTIN ([`parse`]).
pub fn is_valid(s: &str) -> bool {
    parse(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real-format GSTINs whose check characters were worked by hand with the rule above.
    const VALID: &[&str] = &[
        "27AAPFU0939F1ZV", // Maharashtra
        "29AAGCB7383J1Z4", // Karnataka
        "07AAACI1681G1ZR", // Delhi
        "27AADCA1111K1Z4",
        "29ABCDE1234F1ZW",
        "33AABCT1332L1ZL", // Tamil Nadu
    ];

    #[test]
    fn valid_gstins_parse_to_their_state() {
        for g in VALID {
            assert_eq!(parse(g), Ok(&g[..2]), "{g}");
        }
    }

    #[test]
    fn worked_check_character() {
        // 27AAPFU0939F1Z: values 2,7,10,10,25,15,30,0,9,3,9,15,1,35; factors 1,2,1,2,...
        // products 2,14,10,20,25,30,30,0,9,6,9,30,1,70 -> quotient+remainder: 70 = 1*36+34 -> 35;
        // sum = 2+14+10+20+25+30+30+0+9+6+9+30+1+35 = 221; 221 mod 36 = 5; 36-5 = 31 = 'V'.
        assert_eq!(check_char("27AAPFU0939F1Z"), Some('V'));
    }

    #[test]
    fn every_single_character_change_is_caught() {
        for g in VALID {
            for pos in 0..15 {
                for &c in ALPHABET {
                    let mut b = g.as_bytes().to_vec();
                    if b[pos] == c {
                        continue;
                    }
                    b[pos] = c;
                    let s = String::from_utf8(b).unwrap_or_default();
                    assert!(parse(&s).is_err(), "{s} (from {g}, position {pos}) was accepted");
                }
            }
        }
    }

    #[test]
    fn each_kind_of_fault_is_named() {
        assert_eq!(parse("27AAPFU0939F1Z"), Err(GstinError::Length));
        assert_eq!(parse("27AAPFU0939F1ZVX"), Err(GstinError::Length));
        assert_eq!(parse("27aapfu0939f1zv"), Err(GstinError::Format));
        assert_eq!(parse("2AAAPFU0939F1ZV"), Err(GstinError::Format));
        assert_eq!(parse("27AAPFU0939F0ZV"), Err(GstinError::Format)); // entity 0
        assert_eq!(parse("27AAPFU0939F1YV"), Err(GstinError::Format)); // 14th not Z
        assert_eq!(parse("40AAPFU0939F1ZV"), Err(GstinError::StateCode));
        assert_eq!(parse("00AAPFU0939F1ZV"), Err(GstinError::StateCode));
        assert_eq!(parse("27AAPFU0939F1ZW"), Err(GstinError::CheckCharacter));
        assert_eq!(parse("27AAPFU0939F1Zé"), Err(GstinError::Length));
    }

    #[test]
    fn swapped_neighbours_of_an_example_are_caught() {
        // the check also catches a transposition of two different neighbouring characters
        let g = "27AAPFU0939F1ZV";
        let b = g.as_bytes();
        let mut caught = 0;
        let mut tried = 0;
        for i in 0..13 {
            if b[i] == b[i + 1] {
                continue;
            }
            let mut s = b.to_vec();
            s.swap(i, i + 1);
            tried += 1;
            if parse(std::str::from_utf8(&s).unwrap_or_default()).is_err() {
                caught += 1;
            }
        }
        assert_eq!(caught, tried);
    }
}
