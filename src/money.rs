//! Money as integer paise.
//!
//! The API speaks rupees as JSON numbers with at most two decimals; the code and the
//! database speak `i64` paise. Parsing reads the exact decimal text of the JSON number
//! (serde_json's `arbitrary_precision`), so `0.1 + 0.2` style errors cannot occur and a
//! third decimal is rejected instead of rounded. Arithmetic is checked.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An amount of money in paise (1 rupee = 100 paise).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Paise(pub i64);

/// Largest amount accepted from a client: Rs 10^12 (far above any shop bill).
pub const MAX_RUPEES: i64 = 1_000_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must be a number")]
    NotANumber,
    #[error("must have at most two decimal places")]
    TooPrecise,
    #[error("is too large")]
    TooLarge,
    #[error("must not be negative")]
    Negative,
}

impl Paise {
    pub const ZERO: Paise = Paise(0);

    pub fn new(p: i64) -> Self {
        Paise(p)
    }
    pub fn as_i64(self) -> i64 {
        self.0
    }
    pub fn checked_add(self, o: Paise) -> Option<Paise> {
        self.0.checked_add(o.0).map(Paise)
    }
    pub fn checked_sub(self, o: Paise) -> Option<Paise> {
        self.0.checked_sub(o.0).map(Paise)
    }
    pub fn checked_mul(self, qty: i64) -> Option<Paise> {
        self.0.checked_mul(qty).map(Paise)
    }
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Parse the decimal text of a rupee amount (`"12"`, `"12.5"`, `"12.34"`, `"-3"`, `"1e2"`).
    pub fn parse_rupees(text: &str) -> Result<Paise, MoneyError> {
        let t = text.trim();
        let (neg, body) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        // Split off an exponent (JSON allows 1e2, 1.5E+1).
        let (mantissa, exp) = match body.find(['e', 'E']) {
            Some(i) => {
                let e: i32 = body[i + 1..].parse().map_err(|_| MoneyError::NotANumber)?;
                (&body[..i], e)
            }
            None => (body, 0),
        };
        let (int_part, frac_part) = match mantissa.split_once('.') {
            Some((a, b)) => (a, b),
            None => (mantissa, ""),
        };
        if int_part.is_empty() && frac_part.is_empty()
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(MoneyError::NotANumber);
        }
        // digits * 10^(exp - frac_len) rupees  ==  digits * 10^(exp - frac_len + 2) paise
        let digits = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        let mut scale = exp as i64 - frac_part.len() as i64 + 2;
        let mut digits = digits.to_string();
        // Drop trailing zeros while the scale is negative (12.340 is fine).
        while scale < 0 && digits.ends_with('0') {
            digits.pop();
            scale += 1;
        }
        if digits.is_empty() {
            return Ok(Paise(0));
        }
        if scale < 0 {
            return Err(MoneyError::TooPrecise);
        }
        if digits.len() as i64 + scale > 18 {
            return Err(MoneyError::TooLarge);
        }
        let mut v: i64 = digits.parse().map_err(|_| MoneyError::TooLarge)?;
        for _ in 0..scale {
            v = v.checked_mul(10).ok_or(MoneyError::TooLarge)?;
        }
        if v > MAX_RUPEES * 100 {
            return Err(MoneyError::TooLarge);
        }
        Ok(Paise(if neg { -v } else { v }))
    }

    /// Exact decimal text in rupees: `1234` paise -> `"12.34"`, `1200` -> `"12"`, `1250` -> `"12.5"`.
    pub fn to_rupee_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let (r, p) = (a / 100, a % 100);
        match p {
            0 => format!("{sign}{r}"),
            p if p % 10 == 0 => format!("{sign}{r}.{}", p / 10),
            p => format!("{sign}{r}.{p:02}"),
        }
    }
}

impl fmt::Display for Paise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rupee_string())
    }
}

impl std::iter::Sum for Paise {
    fn sum<I: Iterator<Item = Paise>>(iter: I) -> Paise {
        Paise(iter.map(|p| p.0).sum())
    }
}

/// Wire form: a JSON number in rupees. Integral amounts are written without a fraction
/// (`2500`), others with their exact one or two decimals (`12.34`).
impl Serialize for Paise {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.to_rupee_string();
        match text.parse::<serde_json::Number>() {
            Ok(n) => n.serialize(s),
            Err(_) => s.serialize_i64(self.0 / 100),
        }
    }
}

/// Accepts a JSON number in rupees with at most two decimals. Strings are rejected
/// (the v1 validation rejected them too).
impl<'de> Deserialize<'de> for Paise {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        Paise::parse_rupees(&n.to_string()).map_err(de::Error::custom)
    }
}

/// Database form of money: plain `i64` paise (use with `#[serde(with = "crate::money::db")]`).
pub mod db {
    use super::Paise;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &Paise, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(p.0)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Paise, D::Error> {
        Ok(Paise(i64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_decimals() {
        assert_eq!(Paise::parse_rupees("12"), Ok(Paise(1200)));
        assert_eq!(Paise::parse_rupees("12.3"), Ok(Paise(1230)));
        assert_eq!(Paise::parse_rupees("12.34"), Ok(Paise(1234)));
        assert_eq!(Paise::parse_rupees("0.1"), Ok(Paise(10)));
        assert_eq!(Paise::parse_rupees("12.340"), Ok(Paise(1234)));
        assert_eq!(Paise::parse_rupees("1e2"), Ok(Paise(10000)));
        assert_eq!(Paise::parse_rupees("1.5E+1"), Ok(Paise(1500)));
        assert_eq!(Paise::parse_rupees("125e-2"), Ok(Paise(125)));
        assert_eq!(Paise::parse_rupees("-3"), Ok(Paise(-300)));
        assert_eq!(Paise::parse_rupees("0"), Ok(Paise(0)));
        assert_eq!(Paise::parse_rupees("0.00"), Ok(Paise(0)));
    }

    #[test]
    fn rejects_fractional_paise_and_junk() {
        assert_eq!(Paise::parse_rupees("12.345"), Err(MoneyError::TooPrecise));
        assert_eq!(Paise::parse_rupees("0.001"), Err(MoneyError::TooPrecise));
        assert_eq!(Paise::parse_rupees("1e-3"), Err(MoneyError::TooPrecise));
        assert_eq!(Paise::parse_rupees("abc"), Err(MoneyError::NotANumber));
        assert_eq!(Paise::parse_rupees(""), Err(MoneyError::NotANumber));
        assert_eq!(Paise::parse_rupees("1e400"), Err(MoneyError::TooLarge));
        assert_eq!(Paise::parse_rupees("99999999999999999999"), Err(MoneyError::TooLarge));
    }

    #[test]
    fn json_round_trip_is_exact() {
        let p: Paise = serde_json::from_str("0.1").unwrap();
        let q: Paise = serde_json::from_str("0.2").unwrap();
        assert_eq!(p.checked_add(q), Some(Paise(30)));
        assert_eq!(serde_json::to_string(&Paise(30)).unwrap(), "0.3");
        assert_eq!(serde_json::to_string(&Paise(250000)).unwrap(), "2500");
        assert_eq!(serde_json::to_string(&Paise(1234)).unwrap(), "12.34");
        assert_eq!(serde_json::to_string(&Paise(-5)).unwrap(), "-0.05");
        assert!(serde_json::from_str::<Paise>("\"12\"").is_err());
        assert!(serde_json::from_str::<Paise>("1.005").is_err());
    }

    #[test]
    fn display_matches_wire() {
        for p in [0, 1, 10, 99, 100, 101, 12345, -7, 100_000_000] {
            let s = Paise(p).to_rupee_string();
            assert_eq!(Paise::parse_rupees(&s), Ok(Paise(p)), "{s}");
        }
    }
}
