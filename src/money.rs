//! Money as integer paise.
//!
//! The API speaks rupees as JSON numbers with at most two decimals; the code and the
//! database speak `i64` paise. Parsing reads the exact decimal text of the JSON number
//! (serde_json's `arbitrary_precision`), so `0.1 + 0.2` style errors cannot occur and a
//! third decimal is rejected instead of rounded. Arithmetic is checked.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An amount of money in paise (1 rupee = 100 paise).
///
/// The field is private: amounts are built with [`Paise::new`] (or parsed from rupees), read
/// with [`Paise::as_i64`], and combined only through the checked operations
/// ([`Paise::checked_add`], [`Paise::checked_sub`], [`Paise::checked_mul`],
/// [`Paise::checked_sum`]), so an overflow is always a visible `None`, never a wrapped value.
/// There is deliberately no `Sum` implementation (it could only wrap, saturate or panic).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Paise(i64);

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

    /// `p` paise.
    pub const fn new(p: i64) -> Self {
        Paise(p)
    }
    /// The amount in paise.
    pub const fn as_i64(self) -> i64 {
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
    /// The exact sum of `amounts`, or `None` when it does not fit an `i64` of paise.
    pub fn checked_sum<I: IntoIterator<Item = Paise>>(amounts: I) -> Option<Paise> {
        amounts.into_iter().try_fold(Paise::ZERO, Paise::checked_add)
    }
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
    /// Zero paise (by reference, so serde's `skip_serializing_if` can name it).
    pub fn is_zero(&self) -> bool {
        self.0 == 0
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
            Some(i) => (&body[..i], Self::exponent(&body[i + 1..])?),
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
        let mut scale = exp - frac_part.len() as i64 + 2;
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

    /// The exponent of a JSON number (`+5`, `-02`, `7`). One with more digits than any
    /// amount could use is clamped to +-10^12: `0e99999999999` is still zero and a non-zero
    /// mantissa with it is still too large or too precise (the body limit bounds the mantissa).
    fn exponent(text: &str) -> Result<i64, MoneyError> {
        let (neg, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MoneyError::NotANumber);
        }
        const CLAMP: i64 = 1_000_000_000_000;
        let magnitude = digits.parse::<i64>().map_or(CLAMP, |e| e.min(CLAMP));
        Ok(if neg { -magnitude } else { magnitude })
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

/// An exact `i128` figure (a sum computed wider) back to paise; `Err` when it does not fit.
impl TryFrom<i128> for Paise {
    type Error = MoneyError;
    fn try_from(v: i128) -> Result<Paise, MoneyError> {
        i64::try_from(v).map(Paise).map_err(|_| MoneyError::TooLarge)
    }
}

/// OpenAPI: a JSON number in rupees with at most two decimals (the wire form below).
impl utoipa::PartialSchema for Paise {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::Number))
            .description(Some("Rupees, at most two decimals"))
            .into()
    }
}

impl utoipa::ToSchema for Paise {}

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

/// Database form of optional money: `i64` paise or absent (use with
/// `#[serde(default, skip_serializing_if = "Option::is_none", with = "crate::money::db_opt")]`).
pub mod db_opt {
    use super::Paise;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &Option<Paise>, s: S) -> Result<S::Ok, S::Error> {
        match p {
            Some(p) => s.serialize_some(&p.0),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Paise>, D::Error> {
        Ok(Option::<i64>::deserialize(d)?.map(Paise))
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
    fn checked_sum_and_wide_conversion_never_wrap() {
        assert_eq!(Paise::checked_sum([Paise(1), Paise(2), Paise(-3)]), Some(Paise(0)));
        assert_eq!(Paise::checked_sum(std::iter::empty()), Some(Paise::ZERO));
        assert_eq!(Paise::checked_sum([Paise(i64::MAX), Paise(1)]), None);
        assert_eq!(Paise::checked_sum([Paise(i64::MIN), Paise(-1)]), None);
        assert_eq!(Paise::try_from(i128::from(i64::MAX)), Ok(Paise(i64::MAX)));
        assert_eq!(Paise::try_from(i128::from(i64::MAX) + 1), Err(MoneyError::TooLarge));
        let schema = serde_json::to_value(<Paise as utoipa::PartialSchema>::schema()).unwrap_or_default();
        assert_eq!(schema["type"], "number", "{schema}");
    }

    #[test]
    fn display_matches_wire() {
        for p in [0, 1, 10, 99, 100, 101, 12345, -7, 100_000_000] {
            let s = Paise(p).to_rupee_string();
            assert_eq!(Paise::parse_rupees(&s), Ok(Paise(p)), "{s}");
        }
    }
}

/// Property tests (`prop_` prefix; long run: see docs/SECURITY.md, "Fuzzing").
#[cfg(test)]
mod prop_tests {
    use super::*;
    use proptest::prelude::*;

    const MAX_PAISE: i64 = MAX_RUPEES * 100;

    /// Independent oracle in u128: `digits * 10^(exp - frac_len + 2)` paise.
    fn oracle(neg: bool, int: &str, frac: &str, exp: i64) -> Result<Paise, MoneyError> {
        let n: u128 = format!("0{int}{frac}").parse().map_err(|_| MoneyError::NotANumber)?;
        if n == 0 {
            return Ok(Paise(0));
        }
        let s = exp - frac.len() as i64 + 2;
        let v = if s >= 0 {
            u32::try_from(s).ok().and_then(|s| 10u128.checked_pow(s)).and_then(|p| n.checked_mul(p))
        } else {
            match u32::try_from(-s).ok().and_then(|s| 10u128.checked_pow(s)) {
                Some(d) if n % d == 0 => Some(n / d),
                _ => return Err(MoneyError::TooPrecise),
            }
        };
        match v {
            Some(v) if v <= MAX_PAISE as u128 => Ok(Paise(if neg { -(v as i64) } else { v as i64 })),
            _ => Err(MoneyError::TooLarge),
        }
    }

    fn is_json_number(t: &str) -> bool {
        matches!(serde_json::from_str::<serde_json::Value>(t), Ok(serde_json::Value::Number(_)))
    }

    proptest! {
        #![proptest_config(crate::arb::config(512))]

        /// Never panics on any text, and the deserializer agrees with the parser.
        #[test]
        fn prop_money_any_text_never_panics(t in prop_oneof![".{0,40}", "[-+0-9.eE ]{0,40}", crate::arb::number_text()]) {
            let parsed = Paise::parse_rupees(&t);
            let de = serde_json::from_str::<Paise>(&t);
            if is_json_number(&t) {
                prop_assert_eq!(de.ok(), parsed.ok(), "{}", t);
            } else {
                prop_assert!(de.is_err(), "{} is not a JSON number but deserialized", t);
            }
            // strings are never money, whatever they contain
            let quoted = serde_json::to_string(&t).unwrap_or_default();
            prop_assert!(serde_json::from_str::<Paise>(&quoted).is_err(), "{}", quoted);
        }

        /// Exactly the amounts with at most two decimals (after the exponent) within range are
        /// accepted, with the exact value; everything else is the right error.
        #[test]
        fn prop_money_matches_an_integer_oracle(
            neg in any::<bool>(),
            int in "[0-9]{0,20}",
            frac in "[0-9]{0,16}",
            exp in prop::option::of(-40i64..40),
            exp_style in 0usize..4,
        ) {
            // (no prop_assume: a long run would abort on too many rejects)
            let int = if int.is_empty() && frac.is_empty() { "0".to_string() } else { int };
            let mut t = format!("{}{int}", if neg { "-" } else { "" });
            if !frac.is_empty() {
                t.push('.');
                t.push_str(&frac);
            }
            if let Some(e) = exp {
                let sign = if e < 0 { "-" } else if exp_style == 1 { "+" } else { "" };
                let letter = if exp_style == 2 { 'E' } else { 'e' };
                let zeros = if exp_style == 3 { "00" } else { "" };
                t.push_str(&format!("{letter}{sign}{zeros}{}", e.abs()));
            }
            let want = oracle(neg, &int, &frac, exp.unwrap_or(0));
            prop_assert_eq!(Paise::parse_rupees(&t), want.clone(), "{}", t);
            if is_json_number(&t) {
                prop_assert_eq!(serde_json::from_str::<Paise>(&t).ok(), want.ok(), "{}", t);
            }
        }

        /// A zero mantissa is zero whatever the exponent; a non-zero one with an enormous
        /// exponent is refused (too large, or too precise), never wrapped.
        #[test]
        fn prop_money_huge_exponents(neg in any::<bool>(), m in "[0-9]{1,6}(\\.[0-9]{1,4})?", e in "[1-9][0-9]{9,29}", minus in any::<bool>()) {
            let t = format!("{}{m}e{}{e}", if neg { "-" } else { "" }, if minus { "-" } else { "" });
            let zero = m.bytes().all(|b| b == b'0' || b == b'.');
            let got = Paise::parse_rupees(&t);
            if zero {
                prop_assert_eq!(got, Ok(Paise(0)), "{}", t);
            } else if minus {
                prop_assert_eq!(got, Err(MoneyError::TooPrecise), "{}", t);
            } else {
                prop_assert_eq!(got, Err(MoneyError::TooLarge), "{}", t);
            }
        }

        /// paise -> rupees JSON -> paise is the identity over the whole accepted range
        /// (15 significant digits at the ends, where a float would lose paise).
        #[test]
        fn prop_money_round_trips(v in prop_oneof![
            -MAX_PAISE..=MAX_PAISE,
            MAX_PAISE - 1000..=MAX_PAISE,
            -MAX_PAISE..=-MAX_PAISE + 1000,
        ]) {
            let json = serde_json::to_string(&Paise(v)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(is_json_number(&json), "{}", json);
            prop_assert!(!json.contains(['e', 'E']), "{}", json);
            prop_assert!(json.split_once('.').is_none_or(|(_, f)| (1..=2).contains(&f.len()) && !f.ends_with('0')), "{}", json);
            prop_assert_eq!(serde_json::from_str::<Paise>(&json).ok(), Some(Paise(v)), "{}", json);
            let value = serde_json::to_value(Paise(v)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(serde_json::from_value::<Paise>(value).ok(), Some(Paise(v)));
            prop_assert_eq!(Paise::parse_rupees(&Paise(v).to_rupee_string()), Ok(Paise(v)));
        }

        /// A third decimal that is not zero is refused, never rounded, whatever the size.
        #[test]
        fn prop_money_rejects_a_third_decimal(v in any::<i64>(), d in 1u8..=9, more in "0{0,3}") {
            let sign = if v < 0 { "-" } else { "" };
            let a = v.unsigned_abs();
            let t = format!("{sign}{}.{:02}{d}{more}", a / 100, a % 100);
            prop_assert_eq!(Paise::parse_rupees(&t), Err(MoneyError::TooPrecise), "{}", t);
            prop_assert!(serde_json::from_str::<Paise>(&t).is_err(), "{}", t);
        }

        /// Past Rs 10^12 (either sign) the answer is TooLarge, never a wrapped value.
        #[test]
        fn prop_money_out_of_range_is_too_large(v in MAX_PAISE + 1..=i64::MAX, neg in any::<bool>(), extra in "[0-9]{0,30}") {
            let sign = if neg { "-" } else { "" };
            let t = format!("{sign}{}{extra}.{:02}", v / 100, v % 100);
            prop_assert_eq!(Paise::parse_rupees(&t), Err(MoneyError::TooLarge), "{}", t);
        }
    }

    #[test]
    fn hostile_literals() {
        for t in [
            "NaN",
            "-NaN",
            "Infinity",
            "-Infinity",
            "inf",
            "1e",
            "e5",
            "--1",
            "+-1",
            "1e+-2",
            "0x10",
            "1_000",
            ".",
            "-",
            "+",
            "1.2.3",
            "١٢",
        ] {
            assert!(Paise::parse_rupees(t).is_err(), "{t}");
            assert!(serde_json::from_str::<Paise>(t).is_err(), "{t}");
        }
        assert_eq!(serde_json::from_str::<Paise>("-0").ok(), Some(Paise(0)));
        assert_eq!(serde_json::from_str::<Paise>("-0.00e-5").ok(), Some(Paise(0)));
    }

    /// The money code does no float arithmetic at all (the type names never appear in it).
    #[test]
    fn no_floats_in_money_code() {
        let code = include_str!("money.rs").split("#[cfg(test)]").next().unwrap_or_default();
        for t in ["f32", "f64"] {
            assert!(!code.contains(t), "money.rs uses {t}");
        }
    }
}
