//! Input normalisation and format checks shared by every module.

use bson::oid::ObjectId;

use crate::error::AppError;

/// The longest prefix of `s` of at most `max_bytes` bytes that ends on a character boundary.
///
/// The one way text is shortened (stored raw payloads, log excerpts): cutting a `String` at a
/// byte index inside a multi-byte character (Devanagari takes 3 bytes a letter) panics.
pub fn cut(s: &str, max_bytes: usize) -> &str {
    if s.len() <= max_bytes {
        return s;
    }
    let mut end = max_bytes;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// A control character no text of this API may hold: every C0 control except tab, line feed
/// and carriage return, DEL, and the C1 controls. NUL is the dangerous one (MongoDB refuses it
/// in a regular expression and in keys; C strings end at it); the others are never typed.
pub fn is_forbidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// The first place in a JSON document where a string (or an object key) holds a forbidden
/// control character (see [`is_forbidden_control`]), as a field path (`products[0].itemName`).
pub fn control_char_path(v: &serde_json::Value) -> Option<String> {
    fn walk(v: &serde_json::Value, path: &mut String) -> bool {
        match v {
            serde_json::Value::String(s) => s.chars().any(is_forbidden_control),
            serde_json::Value::Array(a) => a.iter().enumerate().any(|(i, x)| {
                let n = path.len();
                path.push_str(&format!("[{i}]"));
                let hit = walk(x, path);
                if !hit {
                    path.truncate(n);
                }
                hit
            }),
            serde_json::Value::Object(o) => o.iter().any(|(k, x)| {
                let n = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                let hit = k.chars().any(is_forbidden_control) || walk(x, path);
                if !hit {
                    path.truncate(n);
                }
                hit
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(v, &mut path).then(|| if path.is_empty() { "body".to_string() } else { path })
}

/// The error text for a field holding control characters.
pub const CONTROL_CHARS: &str = "must not contain control characters";

/// Normalise a phone number to its stored key, with `phonenumber` (a port of Google's
/// libphonenumber and its metadata), India as the default region.
///
/// The key is unchanged from the earlier hand-written rules, so stored customers, clients
/// and dealers keep matching: an Indian number (+91) is its national significant number
/// (`9818634975`); another country's is its country code followed by its national number,
/// digits only (`+1 415 555 0100` -> `14155550100`). The key is its own normal form (an
/// 11-15 digit key without `+` parses back, in region IN, to itself).
///
/// Every written form of one number gives one key: `+91`, `0091` (the international call
/// prefix), `91`, the trunk `0`, `+91 0`, `091`, spaces, dashes, dots and brackets (the earlier rules
/// missed `0091 98186 34975`, which then created a second customer beside `9818634975`).
/// Refused: letters (libphonenumber would read them as a vanity number), `+` followed by no
/// country code or by `0`, and keys outside 10-15 digits.
pub fn normalize_phone(input: &str) -> Result<String, &'static str> {
    let key = phone_key(input)?;
    // the key must read back as itself (the Rust port mis-reads a few odd digit strings;
    // such a number is refused rather than stored under a key that would not match later)
    match phone_key(&key) {
        Ok(again) if again == key => Ok(key),
        _ => Err("is not a phone number (10 to 15 digits, optionally with a country code)"),
    }
}

fn phone_key(input: &str) -> Result<String, &'static str> {
    let cleaned: String = input.trim().chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
    let (plus, digits) = match cleaned.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, cleaned.as_str()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must contain only digits (at least 10)");
    }
    if plus && digits.starts_with('0') {
        return Err("must have a country code after + (none starts with 0)");
    }
    // call prefixes (`00`, the trunk `0`) aside, no number has more than 15 digits
    if digits.trim_start_matches('0').len() > 15 {
        return Err("must have at most 15 digits");
    }
    // A bare ten-digit number is an Indian national number, and twelve digits starting with
    // 91 are one with its country code: said explicitly, because the Rust port (0.3.10)
    // strips a leading `91` from a valid national number (`9112345678` became `12345678`)
    // and cannot read some (`9100000000`).
    let text = if plus {
        format!("+{digits}")
    } else if digits.len() == 10 && !digits.starts_with('0') {
        format!("+91{digits}")
    } else if digits.len() == 12 && digits.starts_with("91") {
        format!("+{digits}")
    } else {
        digits.to_string()
    };
    const NOT_A_NUMBER: &str = "is not a phone number (10 to 15 digits, optionally with a country code)";
    let mut number = phonenumber::parse(Some(phonenumber::country::Id::IN), &text).map_err(|_| NOT_A_NUMBER)?;
    // More than ten digits without any prefix is not an Indian number: the country code was
    // written without its `+` (`14155550100`, the stored key of `+1 415 555 0100`).
    let bare = !plus && !digits.starts_with('0');
    if bare && number.code().value() == INDIA && number.national().to_string().len() != 10 {
        number =
            phonenumber::parse(Some(phonenumber::country::Id::IN), format!("+{digits}")).map_err(|_| NOT_A_NUMBER)?;
    }
    let code = number.code().value();
    let mut national = number.national().to_string();
    // `091 98186 34975`: the trunk 0 and the country code written together leave `91` in
    // front of a valid number, which libphonenumber does not strip after a trunk prefix
    if code == INDIA && !phonenumber::is_valid(&number) && national.len() == 12 {
        if let Some(rest) = national.strip_prefix("91") {
            let valid = phonenumber::parse(Some(phonenumber::country::Id::IN), format!("+91{rest}"))
                .is_ok_and(|n| phonenumber::is_valid(&n));
            if valid {
                national = rest.to_string();
            }
        }
    }
    if code == INDIA && (national.starts_with('0') || national.len() != 10) {
        return Err("must have 10 digits after the country code 91");
    }
    let key = if code == INDIA { national } else { format!("{code}{national}") };
    if key.len() < 10 {
        return Err("must have at least 10 digits");
    }
    if key.len() > 15 {
        return Err("must have at most 15 digits");
    }
    Ok(key)
}

/// India's country calling code: the stored key of an Indian number has no country code.
const INDIA: u16 = 91;

pub fn phone_field(field: &str, input: &str) -> Result<String, AppError> {
    normalize_phone(input).map_err(|m| AppError::validation(field, m))
}

/// GSTIN: the format, the state code and the mod-36 check character ([`crate::gstin::parse`]).
pub fn is_gstin(s: &str) -> bool {
    crate::gstin::is_valid(s)
}

/// RFC 5322-ish email check (validator's HTML5 rule) that also requires a dot in the domain.
pub fn is_email(s: &str) -> bool {
    use validator::ValidateEmail;
    s.validate_email() && s.rsplit_once('@').is_some_and(|(_, d)| d.contains('.'))
}

pub fn is_url(s: &str) -> bool {
    use validator::ValidateUrl;
    if !s.validate_url() {
        return false;
    }
    match reqwest::Url::parse(s) {
        Ok(u) => matches!(u.scheme(), "http" | "https") && u.has_host(),
        Err(_) => false,
    }
}

/// Parse a 24-hex ObjectId from a path/body/query field; a malformed id is a 400 naming the field.
pub fn oid(field: &str, s: &str) -> Result<ObjectId, AppError> {
    let s = s.trim();
    if s.len() != 24 {
        return Err(AppError::validation(field, "must be a 24-character hex id"));
    }
    ObjectId::parse_str(s).map_err(|_| AppError::validation(field, "must be a 24-character hex id"))
}

/// Texts that may be this long (characters) or longer are free text (line breaks allowed).
pub const FREE_TEXT_MIN: usize = 300;

/// Collects per-field validation errors and turns them into one 400.
#[derive(Default, Debug)]
pub struct Errors(pub Vec<String>);

impl Errors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: &str, text: impl std::fmt::Display) {
        self.0.push(format!("{field}: {text}"));
    }
    pub fn check(&mut self, ok: bool, field: &str, text: &str) {
        if !ok {
            self.add(field, text);
        }
    }
    /// Trimmed string with a minimum length (in characters) and a maximum length.
    ///
    /// Control characters are refused: in every text those of [`is_forbidden_control`]; in a
    /// one-line text (a name, a reference: `max` below [`FREE_TEXT_MIN`]) also tab and line
    /// breaks. Free texts (address, notes, description: `max` of [`FREE_TEXT_MIN`] or more)
    /// may hold line breaks and tabs.
    pub fn text(&mut self, field: &str, v: &str, min: usize, max: usize) -> String {
        let t = v.trim();
        let n = t.chars().count();
        let one_line = max < FREE_TEXT_MIN;
        if t.chars().any(|c| is_forbidden_control(c) || (one_line && c.is_control())) {
            self.add(field, CONTROL_CHARS);
        } else if n < min {
            self.add(field, format!("must be at least {min} characters"));
        } else if n > max {
            self.add(field, format!("must be at most {max} characters"));
        }
        t.to_string()
    }
    pub fn opt_text(&mut self, field: &str, v: &Option<String>, min: usize, max: usize) -> Option<String> {
        v.as_deref().map(|s| self.text(field, s, min, max))
    }
    pub fn phone(&mut self, field: &str, v: &str) -> String {
        match normalize_phone(v) {
            Ok(p) => p,
            Err(m) => {
                self.add(field, m);
                String::new()
            }
        }
    }
    /// GSTIN, or empty.
    pub fn gstin(&mut self, field: &str, v: &str) -> String {
        let t = v.trim().to_ascii_uppercase();
        if !t.is_empty() {
            if let Err(why) = crate::gstin::parse(&t) {
                self.add(field, why);
            }
        }
        t
    }
    pub fn email(&mut self, field: &str, v: &str) -> String {
        let t = v.trim().to_string();
        if !t.is_empty() && !is_email(&t) {
            self.add(field, "must be a valid email address");
        }
        t
    }
    pub fn url(&mut self, field: &str, v: &str) -> String {
        let t = v.trim().to_string();
        if !t.is_empty() && !is_url(&t) {
            self.add(field, "must be an absolute http(s) URL");
        }
        t
    }
    pub fn oid(&mut self, field: &str, v: &str) -> Option<ObjectId> {
        match oid(field, v) {
            Ok(id) => Some(id),
            Err(_) => {
                self.add(field, "must be a 24-character hex id");
                None
            }
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_normalisation() {
        assert_eq!(normalize_phone("9890000000"), Ok("9890000000".into()));
        assert_eq!(normalize_phone(" +91 98900-00000 "), Ok("9890000000".into()));
        assert_eq!(normalize_phone("919890000000"), Ok("9890000000".into()));
        assert_eq!(normalize_phone("09890000000"), Ok("9890000000".into()));
        assert_eq!(normalize_phone("+14155550100"), Ok("14155550100".into()));
        // found by prop_phone_*: `+91 0` is the same mobile, and `+0...` is no number
        assert_eq!(normalize_phone("+91 0 98900 00000"), Ok("9890000000".into()));
        assert!(normalize_phone("+09890000000").is_err());
        assert!(normalize_phone("+00000000000").is_err());
        assert!(normalize_phone("98900").is_err());
        assert!(normalize_phone("98900abc00").is_err());
        assert!(normalize_phone("").is_err());
        assert!(normalize_phone("1234567890123456").is_err());
    }

    /// Finding (issue 12, 3): `0091 98186 34975` created a second customer beside
    /// `9818634975`; every written form now gives the stored key of the earlier rules.
    #[test]
    fn phone_written_forms_share_one_key() {
        for t in [
            "9818634975",
            "0091 98186 34975",
            "00 91 98186 34975",
            "091 9818634975",
            "+91 98186 34975",
            "+91 (0) 98186 34975",
            "(+91) 98186-34975",
            "919818634975",
            "09818634975",
            "098186-34975",
        ] {
            assert_eq!(normalize_phone(t), Ok("9818634975".into()), "{t:?}");
        }
        // other countries keep their code in the key, and the key is its own normal form
        assert_eq!(normalize_phone("+44 7911 123456"), Ok("447911123456".into()));
        assert_eq!(normalize_phone("447911123456"), Ok("447911123456".into()));
        assert_eq!(normalize_phone("0044 7911 123456"), Ok("447911123456".into()));
        // a trunk 0 before nine digits is not a ten-digit number
        assert!(normalize_phone("0123456789").is_err());
        // found by prop_phone_*: the Rust port strips a leading 91 from a valid national
        // number and cannot read some; those are read as the ten digits they are
        assert_eq!(normalize_phone("9112345678"), Ok("9112345678".into()));
        assert_eq!(normalize_phone("9100000000"), Ok("9100000000".into()));
        assert_eq!(normalize_phone("+91 91000 00000"), Ok("9100000000".into()));
        assert_eq!(normalize_phone("+7 800 000 0000"), Ok("78000000000".into()));
        assert_eq!(normalize_phone("78000000000"), Ok("78000000000".into()));
        for odd in ["000000000001", "12640000", "091000000000", "9100000000000100"] {
            let k = normalize_phone(odd);
            assert!(k.as_ref().map_or(true, |k| normalize_phone(k).as_ref() == Ok(k)), "{odd:?} -> {k:?}");
        }
        assert!(normalize_phone("+0091 98186 34975").is_err());
    }

    #[test]
    fn cut_keeps_whole_letters() {
        let s = "कार्बोरेटर"; // 3 bytes a letter
        assert_eq!(cut(s, 4), "क");
        assert_eq!(cut(s, 3), "क");
        assert_eq!(cut(s, 2), "");
        assert_eq!(cut(s, 100), s);
        assert_eq!(cut("abc", 2), "ab");
    }

    #[test]
    fn control_characters() {
        for c in ['\0', '\u{1}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}'] {
            assert!(is_forbidden_control(c), "{c:?}");
        }
        for c in ['\t', '\n', '\r', ' ', 'a', 'क', '\u{a0}', '\u{200d}'] {
            assert!(!is_forbidden_control(c), "{c:?}");
        }
        let v = serde_json::json!({ "a": [1, { "b": "ok\n" }, { "c": "x\u{0}" }] });
        assert_eq!(control_char_path(&v).as_deref(), Some("a[2].c"));
        let v = serde_json::json!({ "ok": "line 1\nline 2\t." , "k\u{1}": 1 });
        assert_eq!(control_char_path(&v).as_deref(), Some("k\u{1}"));
        assert_eq!(control_char_path(&serde_json::json!({ "a": "क्या" })), None);
        let mut e = Errors::new();
        assert_eq!(e.text("name", " Bolt ", 2, 100), "Bolt");
        e.text("name", "Bo\nlt", 2, 100);
        e.text("notes", "line 1\nline 2", 0, 1000);
        e.text("notes", "nul\u{0}", 0, 1000);
        assert_eq!(
            e.0,
            vec!["name: must not contain control characters", "notes: must not contain control characters"]
        );
    }

    /// Every `.truncate(` in the code is on a list (named here) or goes through [`cut`]: a
    /// `String::truncate` at a byte count panics inside a multi-byte letter (the v2 push did).
    #[test]
    fn text_is_only_shortened_through_cut() {
        const LISTS: [&str; 6] = ["page", "rows", "out", "all.first_errors", "problems", "ops"];
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    walk(&p, found);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).unwrap_or_default();
                    for (i, line) in text.lines().enumerate() {
                        let Some(at) = line.find(".truncate(") else { continue };
                        if line.trim_start().starts_with("//") || line[..at].ends_with('"') {
                            continue;
                        }
                        let recv = line[..at].trim_start().rsplit([' ', '(', '&', '!']).next().unwrap_or("");
                        if !LISTS.contains(&recv) && !line.contains("path.truncate(n)") {
                            found.push(format!("{}:{}: {}", p.display(), i + 1, line.trim()));
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
        assert!(found.is_empty(), "shorten text with validate::cut (or name the list here): {found:#?}");
    }

    #[test]
    fn formats() {
        assert!(is_gstin("18AADCA1111K1Z3"));
        assert!(!is_gstin("18AADCA1111K1Z5"));
        assert!(!is_gstin("18AADCA1111K1X3"));
        assert!(is_email("a.b@example.co.in"));
        assert!(!is_email("a@b"));
        assert!(is_url("https://example.com/logo.png"));
        assert!(!is_url("example.com"));
        assert!(!is_url("javascript:alert(1)"));
        assert!(oid("id", "507f1f77bcf86cd799439011").is_ok());
        assert!(oid("id", "507f1f77bcf86cd79943901z").is_err());
    }
}

/// Property tests (`prop_` prefix; long run: see docs/SECURITY.md, "Fuzzing").
#[cfg(test)]
mod prop_tests {
    use super::*;
    use proptest::prelude::*;

    /// `d` with separators (space, dash, dot, parentheses) sprinkled between digits.
    fn sprinkle(d: &str, seps: &[(usize, char)]) -> String {
        let mut out = String::new();
        for (i, c) in d.chars().enumerate() {
            for (at, s) in seps {
                if *at == i {
                    out.push(*s);
                }
            }
            out.push(c);
        }
        out
    }

    fn separators() -> impl Strategy<Value = Vec<(usize, char)>> {
        prop::collection::vec((0usize..16, prop::sample::select(&[' ', '-', '.', '(', ')'][..])), 0..5)
    }

    proptest! {
        #![proptest_config(crate::arb::config(512))]

        /// Never panics; whatever is accepted is digits only, 10 to 15 of them, and a fixed
        /// point (normalising it again gives it back).
        #[test]
        fn prop_phone_accepted_is_canonical_and_idempotent(
            t in prop_oneof![".{0,24}", "[0-9+ ()\\-.]{0,24}", "\\+?(0|91|00)?[0-9]{8,16}", "\\+0[0-9]{9,15}"]
        ) {
            if let Ok(p) = normalize_phone(&t) {
                prop_assert!(p.bytes().all(|b| b.is_ascii_digit()), "{:?} -> {:?}", t, p);
                prop_assert!((10..=15).contains(&p.len()), "{:?} -> {:?}", t, p);
                prop_assert_eq!(normalize_phone(&p), Ok(p.clone()), "not idempotent: {:?} -> {:?}", t, p);
                // and the `+` form of an accepted number means the same number
                if p.len() == 10 {
                    prop_assert_eq!(normalize_phone(&format!("+91{p}")), Ok(p.clone()));
                }
            }
        }

        /// The usual ways of writing one Indian mobile all give the same ten digits: `+91`,
        /// `0091` (the international call prefix), `91`, the trunk `0`, `+91 0`, `091`
        /// (for a number valid in India's numbering plan), brackets, spaces, dashes, dots.
        #[test]
        fn prop_phone_formats_agree(
            d in prop_oneof!["[6-9][0-9]{9}", "9[0-9]{9}"],
            seps in separators(),
            prefix in 0usize..13,
            pad in "[ ]{0,2}",
        ) {
            let valid_in_plan = phonenumber::parse(Some(phonenumber::country::Id::IN), format!("+91{d}"))
                .is_ok_and(|n| phonenumber::is_valid(&n));
            let written = match prefix {
                0 => d.clone(),
                1 => format!("+91{d}"),
                2 => format!("+91 {d}"),
                3 => format!("+91-{d}"),
                4 => format!("91{d}"),
                5 => format!("0{d}"),
                6 => format!("+91 0{d}"),
                7 => format!("(+91) {d}"),
                8 => format!("0091{d}"),
                9 => format!("0091 {d}"),
                10 => format!("00 91 {d}"),
                11 => format!("+91 (0) {d}"),
                _ if valid_in_plan => format!("091{d}"),
                _ => format!("0{d}"),
            };
            let written = format!("{pad}{}{pad}", sprinkle(&written, &seps));
            prop_assert_eq!(normalize_phone(&written), Ok(d.clone()), "{:?}", written);
        }

        /// `cut` never panics, keeps a prefix, and ends on a character boundary.
        #[test]
        fn prop_cut_is_a_char_boundary_prefix(s in ".{0,40}", n in 0usize..200) {
            let c = cut(&s, n);
            prop_assert!(c.len() <= n && s.starts_with(c));
            prop_assert!(c.len() == s.len() || c.len() + 4 > n, "cut too short: {:?} {} -> {:?}", s, n, c);
        }

        /// Too few or too many digits, or any letter, is refused.
        #[test]
        fn prop_phone_refuses_bad_lengths_and_letters(n in "[0-9]{0,9}", long in "[1-9][0-9]{15,20}", junk in "[0-9]{5}[a-zA-Z*#][0-9]{5}") {
            prop_assert!(normalize_phone(&n).is_err(), "{:?}", n);
            prop_assert!(normalize_phone(&long).is_err(), "{:?}", long);
            prop_assert!(normalize_phone(&junk).is_err(), "{:?}", junk);
        }
    }
}
