//! Item codes (issue 16): the normalised key a SKU or barcode is stored and looked up by, the
//! GS1 check digits (EAN-13, UPC-A, EAN-8, GTIN-14), and the weighed-goods labels of shop
//! scales (EAN-13 with a shop-configured layout carrying an item code and a price).
//!
//! Pure functions, shared by the catalog (item writes, lookup) and the client settings (a
//! layout is checked when saved).

use crate::money::Paise;

/// Longest SKU, barcode or label layout (characters).
pub const CODE_MAX: usize = 40;

/// The key a code is stored and matched by: trimmed, letters upper-cased, and a 12-digit
/// UPC-A widened to its 13-digit EAN form (a leading `0`), so `036000291452` and
/// `0036000291452` are one code. Leading zeros are kept (`0002` stays `0002`).
pub fn key(code: &str) -> String {
    let c = code.trim().to_ascii_uppercase();
    if c.len() == 12 && c.bytes().all(|b| b.is_ascii_digit()) {
        format!("0{c}")
    } else {
        c
    }
}

/// The GS1 check digit of `body` (all digits, the code without its last digit): weights 3
/// and 1 alternating from the right, the digit that makes the sum a multiple of 10.
pub fn gs1_check_digit(body: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, b) in body.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        let d = u32::from(b - b'0');
        sum += if i % 2 == 0 { d * 3 } else { d };
    }
    Some(((10 - sum % 10) % 10) as u8)
}

/// A valid GTIN: 8 (EAN-8), 12 (UPC-A), 13 (EAN-13) or 14 (GTIN-14) digits whose last digit is
/// the [`gs1_check_digit`] of the others.
pub fn is_valid_gtin(code: &str) -> bool {
    let c = code.trim();
    if ![8, 12, 13, 14].contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (body, last) = c.split_at(c.len() - 1);
    gs1_check_digit(body) == Some(last.as_bytes()[0] - b'0')
}

/// A SKU or shop code: 1 to [`CODE_MAX`] characters of letters, digits and `-`, `_`, `.`,
/// `/` (`Err` says what is wrong). `letters_digits_only`: only letters and digits (a shop
/// barcode, which a scanner must be able to print).
pub fn check_code(code: &str, letters_digits_only: bool) -> Result<(), String> {
    let c = code.trim();
    if c.is_empty() || c.chars().count() > CODE_MAX {
        return Err(format!("must be 1 to {CODE_MAX} characters"));
    }
    let ok = |ch: char| ch.is_ascii_alphanumeric() || (!letters_digits_only && matches!(ch, '-' | '_' | '.' | '/'));
    if !c.chars().all(ok) {
        return Err(if letters_digits_only {
            "must contain only letters and digits".into()
        } else {
            "must contain only letters, digits and - _ . /".into()
        });
    }
    Ok(())
}

// ------------------------------------------------------------------ weighed-goods labels

/// The layout of a shop scale's EAN-13 label, e.g. `20-IIII-V-PPPPP-C`: the literal prefix
/// digits (starting with `2`, the GS1 range for in-store codes), then `I` item-code digits,
/// an optional `V` price check digit (GS1 4- or 5-digit price check), `P` price digits in
/// paise, and the final `C` EAN-13 check digit; 13 symbols in all (dashes are only for
/// reading).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleLayout {
    prefix: String,
    item: (usize, usize),
    price_check: Option<usize>,
    price: (usize, usize),
}

/// What a weighed-goods label says: the item code (as the shop's code of the item, leading
/// zeros kept) and the amount printed on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleLabel {
    pub item_code: String,
    pub amount: Paise,
}

impl ScaleLayout {
    /// Parse a layout (`Err` says what is wrong): digits first (the prefix, starting with 2),
    /// then one run of `I`, an optional single `V`, one run of `P` (4 or 5 digits when `V` is
    /// present), and `C` last; 13 symbols.
    pub fn parse(layout: &str) -> Result<ScaleLayout, String> {
        let s: String = layout.chars().filter(|c| *c != '-').collect::<String>().to_ascii_uppercase();
        if s.len() != 13 {
            return Err("must describe 13 digits (e.g. 20-IIII-V-PPPPP-C)".into());
        }
        let prefix: String = s.chars().take_while(char::is_ascii_digit).collect();
        if !prefix.starts_with('2') {
            return Err("must start with the digit prefix of in-store codes (2, e.g. 20)".into());
        }
        let run = |from: usize, ch: u8| s.as_bytes()[from..].iter().take_while(|b| **b == ch).count();
        let mut at = prefix.len();
        let item_len = run(at, b'I');
        if item_len == 0 {
            return Err("needs the item code digits (I) after the prefix".into());
        }
        let item = (at, item_len);
        at += item_len;
        let price_check = (s.as_bytes().get(at) == Some(&b'V')).then_some(at);
        if price_check.is_some() {
            at += 1;
        }
        let price_len = run(at, b'P');
        if price_len == 0 {
            return Err("needs the price digits (P) after the item code".into());
        }
        if price_check.is_some() && !(4..=5).contains(&price_len) {
            return Err("a price check digit (V) needs 4 or 5 price digits".into());
        }
        let price = (at, price_len);
        at += price_len;
        if at != 12 || s.as_bytes()[12] != b'C' {
            return Err("must end with the check digit C right after the price".into());
        }
        Ok(ScaleLayout { prefix, item, price_check, price })
    }

    /// Read `code` as a label of this layout: `None` when it is not one (not 13 digits, another
    /// prefix, a wrong EAN-13 or price check digit).
    pub fn read(&self, code: &str) -> Option<ScaleLabel> {
        let c = code.trim();
        if c.len() != 13 || !c.bytes().all(|b| b.is_ascii_digit()) || !c.starts_with(&self.prefix) {
            return None;
        }
        if !is_valid_gtin(c) {
            return None;
        }
        let price = &c[self.price.0..self.price.0 + self.price.1];
        if let Some(v) = self.price_check {
            if price_check_digit(price)? != c.as_bytes()[v] - b'0' {
                return None;
            }
        }
        let amount = Paise::new(price.parse::<i64>().ok()?);
        Some(ScaleLabel { item_code: c[self.item.0..self.item.0 + self.item.1].to_string(), amount })
    }
}

/// GS1 weighting "2-": 2 x d, units digit minus tens digit (mod 10).
fn w2_minus(d: u8) -> u8 {
    [0, 2, 4, 6, 8, 9, 1, 3, 5, 7][d as usize]
}
/// GS1 weighting "3": units digit of 3 x d.
fn w3(d: u8) -> u8 {
    (3 * d) % 10
}
/// GS1 weighting "5+": 5 x d, units digit plus tens digit.
fn w5_plus(d: u8) -> u8 {
    [0, 5, 1, 6, 2, 7, 3, 8, 4, 9][d as usize]
}
/// GS1 weighting "5-": 5 x d, units digit minus tens digit (mod 10).
fn w5_minus(d: u8) -> u8 {
    [0, 5, 9, 4, 8, 3, 7, 2, 6, 1][d as usize]
}

/// The GS1 price check digit of a 4- or 5-digit price field (GS1 General Specifications
/// 7.9.3): 4 digits weigh 2-, 2-, 3, 5- and the check is the units digit of 3 x the sum;
/// 5 digits weigh 5+, 2-, 5-, 5+, 2- and the check is the digit whose 5- product is
/// 10 minus the sum's units digit.
pub fn price_check_digit(price: &str) -> Option<u8> {
    let d: Vec<u8> = price.bytes().map(|b| b.is_ascii_digit().then(|| b - b'0')).collect::<Option<Vec<u8>>>()?;
    match d.len() {
        4 => {
            let sum = u32::from(w2_minus(d[0]) + w2_minus(d[1]) + w3(d[2]) + w5_minus(d[3]));
            Some(((sum * 3) % 10) as u8)
        }
        5 => {
            let sum = u32::from(w5_plus(d[0]) + w2_minus(d[1]) + w5_minus(d[2]) + w5_plus(d[3]) + w2_minus(d[4]));
            let target = ((10 - sum % 10) % 10) as u8;
            (0..10u8).find(|x| w5_minus(*x) == target)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtin_check_digits_of_known_codes() {
        // EAN-13 of a real product, UPC-A, EAN-8
        assert!(is_valid_gtin("4006381333931"));
        assert!(is_valid_gtin("036000291452"));
        assert!(is_valid_gtin("96385074"));
        assert!(is_valid_gtin("8901030865275"));
        // every single-digit corruption of a valid code is caught
        for code in ["4006381333931", "036000291452", "96385074"] {
            for i in 0..code.len() {
                for d in b'0'..=b'9' {
                    let mut b = code.as_bytes().to_vec();
                    if b[i] == d {
                        continue;
                    }
                    b[i] = d;
                    let bad = String::from_utf8(b).unwrap();
                    assert!(!is_valid_gtin(&bad), "{bad} passed");
                }
            }
        }
        assert!(!is_valid_gtin("40063813339"), "wrong length");
        assert!(!is_valid_gtin("40063813339A1"), "letters");
    }

    #[test]
    fn a_upc_a_and_its_ean_13_form_share_one_key_and_zeros_are_kept() {
        assert_eq!(key("036000291452"), key("0036000291452"));
        assert_eq!(key(" 0002 "), "0002");
        assert_ne!(key("0002"), key("2"));
        assert_eq!(key("pen-blu-01"), "PEN-BLU-01");
    }

    #[test]
    fn the_issue_label_reads_item_0002_at_rs_19_40() {
        let l = ScaleLayout::parse("20-IIII-V-PPPPP-C").unwrap();
        // worked by hand: price 01940 -> 5+,2-,5-,5+,2- = 0+2+1+2+0 = 5; 10-5 = 5 = 5-(1): V = 1.
        // EAN-13 of 200002101940: odd 2+0+0+1+1+4 = 8, even (0+0+2+0+9+0) x 3 = 33; 41 -> C = 9
        assert_eq!(price_check_digit("01940"), Some(1));
        assert_eq!(gs1_check_digit("200002101940"), Some(9));
        let r = l.read("2000021019409").unwrap();
        assert_eq!(r, ScaleLabel { item_code: "0002".into(), amount: Paise::new(1940) });
        // a wrong EAN check digit, a wrong price check digit, another prefix: not a label
        assert_eq!(l.read("2000021019408"), None);
        let wrong_v = format!("2000022019{}", "40");
        let body = &wrong_v[..12];
        let with_c = format!("{body}{}", gs1_check_digit(body).unwrap());
        assert_eq!(l.read(&with_c), None, "price check digit 2 is wrong for 01940");
        assert_eq!(l.read("4006381333931"), None);
    }

    #[test]
    fn four_digit_price_check_digit() {
        // GS1 example: price 2875 -> 2-(2)=4, 2-(8)=5, 3(7)=1, 5-(5)=3: sum 13, x3 = 39 -> 9
        assert_eq!(price_check_digit("2875"), Some(9));
        assert!(ScaleLayout::parse("2IIIIIVPPPPC").is_err(), "12 symbols is not a layout");
        let l = ScaleLayout::parse("21-IIIII-V-PPPP-C").unwrap();
        let body = format!("21{}{}{}", "12345", 9, "2875");
        let full = format!("{body}{}", gs1_check_digit(&body).unwrap());
        assert_eq!(l.read(&full), Some(ScaleLabel { item_code: "12345".into(), amount: Paise::new(2875) }));
    }

    #[test]
    fn layouts_are_checked() {
        for bad in ["", "30-IIII-V-PPPPP-C", "20-IIII-V-PPPPPP", "20-IIIII-V-PPP-CC", "20-PPPPP-IIII-C"] {
            assert!(ScaleLayout::parse(bad).is_err(), "{bad}");
        }
        assert!(ScaleLayout::parse("2-IIIIII-PPPPP-C").is_ok());
    }

    #[test]
    fn codes_are_letters_digits_and_a_few_marks() {
        assert!(check_code("PEN-BLU_01./A", false).is_ok());
        assert!(check_code("PEN-BLU", true).is_err());
        assert!(check_code("", false).is_err());
        assert!(check_code("a b", false).is_err());
        assert!(check_code(&"9".repeat(41), true).is_err());
    }
}
