//! The shop's GST profile (issue 17): who issues the documents and how their tax is worked
//! out. Stored on the shop's `clients` document as `gstProfile`; read by every sale
//! (`billing::decide::tax`) and answered by `GET /api/business/gst-profile`.
//!
//! A shop without a profile bills exactly as before issue 17 (the app's `totalTax` is taken
//! as sent). With one, the server computes the tax of every line (`crate::gst`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{address::Address, error::AppError, validate::Errors};

/// How the shop is registered under GST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub enum Scheme {
    /// A normal taxpayer: tax invoices (CGST rule 46), bills of supply for untaxed goods.
    #[default]
    Regular,
    /// A composition taxable person (CGST Act s.10): bills of supply only, no tax charged,
    /// no inter-state supplies.
    Composition,
    /// Not registered (turnover under the threshold): a plain bill, no tax, no GSTIN.
    Unregistered,
}

/// The legend a composition taxable person prints at the top of every bill of supply (CGST
/// rule 5(1)(g)).
pub const COMPOSITION_LEGEND: &str = "composition taxable person, not eligible to collect tax on supplies";

/// The number series prefixes of the shop's document types: each document type has its own
/// series (`{prefix}/{financial year}/{number}`, e.g. `INV/26-27/00042`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Series {
    /// Tax invoices and invoices-cum-bills of supply (default `INV`, the series invoices had
    /// before issue 17, so numbering carries on). Also the plain bills of an unregistered shop.
    #[schema(example = "INV")]
    pub invoice: String,
    /// Bills of supply (default `BOS`).
    #[schema(example = "BOS")]
    pub bill_of_supply: String,
    /// Credit notes (issue 18; default `CN`): their own consecutive series per financial year.
    #[serde(default = "default_credit_note")]
    #[schema(example = "CN")]
    pub credit_note: String,
}

fn default_credit_note() -> String {
    CREDIT_NOTE_PREFIX.into()
}

/// The default credit note series (issue 18).
pub const CREDIT_NOTE_PREFIX: &str = "CN";

impl Default for Series {
    fn default() -> Self {
        Series { invoice: DEFAULT_PREFIX.into(), bill_of_supply: "BOS".into(), credit_note: default_credit_note() }
    }
}

/// The series of invoices numbered before issue 17 (and of shops without a profile).
pub const DEFAULT_PREFIX: &str = "INV";

/// Longest series prefix: `PPPP/26-27/99999` is exactly 16 characters (CGST rule 46(b)).
pub const PREFIX_MAX: usize = 4;

/// The stored profile (`clients.gstProfile`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GstProfile {
    /// The shop's GSTIN (`''` for an unregistered shop).
    #[schema(example = "27AAPFU0939F1ZV")]
    pub gstin: String,
    /// Legal name as registered (PAN name).
    pub legal_name: String,
    /// Trade name printed on documents (defaults to the legal name).
    pub trade_name: String,
    /// Where the shop is; `address.state` is the shop's state code.
    pub address: Address,
    /// The shop's GST state code: the GSTIN's first two digits, else `address.state`.
    #[schema(example = "27")]
    pub state_code: String,
    pub gst_scheme: Scheme,
    /// Aggregate turnover above Rs 5 crore in the previous year: HSN codes of 6 digits on
    /// every invoice line (else 4 digits, required on B2B invoices only; CBIC notification
    /// 78/2020-CT).
    pub turnover_above5_crore: bool,
    /// Prices are entered tax-inclusive (MRP-style retail, the default) or exclusive; an item
    /// may say otherwise (`tax.pricesIncludeTax`).
    pub prices_include_tax: bool,
    /// Round each bill to the rupee with a round-off line (default on).
    pub round_off: bool,
    pub series: Series,
}

impl GstProfile {
    /// The HSN digits a line needs: `(digits, on B2C lines too)`.
    pub fn hsn_digits(&self) -> (usize, bool) {
        if self.turnover_above5_crore {
            (6, true)
        } else {
            (4, false)
        }
    }
}

/// `PUT /api/business/gst-profile` body: the whole profile.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GstProfileIn {
    /// Required for the regular and composition schemes; must be empty (or absent) when
    /// unregistered.
    pub gstin: Option<String>,
    /// 2 to 150 characters; required when registered.
    pub legal_name: Option<String>,
    /// At most 150 characters.
    pub trade_name: Option<String>,
    /// The shop's address; `state` is required when unregistered (a registered shop's state
    /// is its GSTIN's, and an address state that differs is refused).
    pub address: Option<Address>,
    /// `regular` (default), `composition` or `unregistered`.
    pub gst_scheme: Option<Scheme>,
    /// Default false.
    pub turnover_above5_crore: Option<bool>,
    /// Default true.
    pub prices_include_tax: Option<bool>,
    /// Default true.
    pub round_off: Option<bool>,
    /// Series prefixes (1 to 4 letters, digits or `-`); defaults `INV` and `BOS`.
    pub series: Option<SeriesIn>,
}

/// Series prefixes as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeriesIn {
    pub invoice: Option<String>,
    pub bill_of_supply: Option<String>,
    pub credit_note: Option<String>,
}

fn prefix(e: &mut Errors, field: &str, v: Option<&str>, default: &str) -> String {
    let p = v.map(str::trim).filter(|p| !p.is_empty()).unwrap_or(default).to_ascii_uppercase();
    let ok = (1..=PREFIX_MAX).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        e.add(
            field,
            format!(
                "must be 1 to {PREFIX_MAX} letters, digits or '-': the number {p}/26-27/99999 must fit 16 characters (CGST rule 46(b))"
            ),
        );
    }
    p
}

/// Check a profile as sent: a registered shop's GSTIN (format, state code, check character)
/// gives its state; an unregistered shop has no GSTIN and needs an address state; the legal
/// name is needed when registered; the series prefixes fit rule 46's 16 characters and differ.
/// Errors: 400 naming each field.
pub fn check(req: &GstProfileIn) -> Result<GstProfile, AppError> {
    let mut e = Errors::new();
    let scheme = req.gst_scheme.unwrap_or_default();
    let gstin = req.gstin.as_deref().map(|g| g.trim().to_ascii_uppercase()).unwrap_or_default();
    let address = match &req.address {
        Some(a) => crate::address::check(&mut e, "address", a).unwrap_or_default(),
        None => Address::default(),
    };
    let mut state = String::new();
    match scheme {
        Scheme::Unregistered => {
            e.check(
                gstin.is_empty(),
                "gstin",
                "an unregistered shop has no GSTIN (choose gstScheme regular or composition)",
            );
            e.check(
                !address.state.is_empty(),
                "address.state",
                "is required for an unregistered shop (it decides the place of supply)",
            );
            state.clone_from(&address.state);
        }
        Scheme::Regular | Scheme::Composition => match crate::gstin::parse(&gstin) {
            Ok(s) => {
                state = s.to_string();
                if !address.state.is_empty() && address.state != state {
                    e.add("address.state", format!("differs from the GSTIN's state {state}"));
                }
            }
            Err(err) if gstin.is_empty() => {
                let _ = err;
                e.add("gstin", "is required for a registered shop (gstScheme regular or composition)");
            }
            Err(err) => e.add("gstin", err.to_string()),
        },
    }
    let legal_name = req.legal_name.as_deref().map(str::trim).unwrap_or_default().to_string();
    if scheme != Scheme::Unregistered || !legal_name.is_empty() {
        let n = legal_name.chars().count();
        e.check((2..=150).contains(&n), "legalName", "must be 2 to 150 characters");
    }
    let trade_name = req.trade_name.as_deref().map(str::trim).unwrap_or_default().to_string();
    e.check(trade_name.chars().count() <= 150, "tradeName", "must be at most 150 characters");
    let series = req.series.as_ref();
    let series = Series {
        invoice: prefix(&mut e, "series.invoice", series.and_then(|s| s.invoice.as_deref()), DEFAULT_PREFIX),
        bill_of_supply: prefix(&mut e, "series.billOfSupply", series.and_then(|s| s.bill_of_supply.as_deref()), "BOS"),
        credit_note: prefix(
            &mut e,
            "series.creditNote",
            series.and_then(|s| s.credit_note.as_deref()),
            CREDIT_NOTE_PREFIX,
        ),
    };
    e.check(
        series.invoice != series.bill_of_supply,
        "series.billOfSupply",
        "must differ from series.invoice: each document type has its own series",
    );
    e.check(
        series.credit_note != series.invoice && series.credit_note != series.bill_of_supply,
        "series.creditNote",
        "must differ from series.invoice and series.billOfSupply: each document type has its own series",
    );
    e.finish()?;
    let mut address = address;
    if address.state.is_empty() {
        address.state.clone_from(&state);
    }
    Ok(GstProfile {
        trade_name: if trade_name.is_empty() { legal_name.clone() } else { trade_name },
        gstin,
        legal_name,
        address,
        state_code: state,
        gst_scheme: scheme,
        turnover_above5_crore: req.turnover_above5_crore.unwrap_or(false),
        prices_include_tax: req.prices_include_tax.unwrap_or(true),
        round_off: req.round_off.unwrap_or(true),
        series,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(v: serde_json::Value) -> GstProfileIn {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_registered_shop_takes_its_state_from_the_gstin() {
        let p = check(&input(serde_json::json!({"gstin": "27aapfu0939f1zv", "legalName": "Shree Auto"}))).unwrap();
        assert_eq!((p.state_code.as_str(), p.address.state.as_str()), ("27", "27"));
        assert_eq!((p.gstin.as_str(), p.trade_name.as_str()), ("27AAPFU0939F1ZV", "Shree Auto"));
        assert!(p.prices_include_tax && p.round_off && p.gst_scheme == Scheme::Regular);
        assert_eq!(p.series, Series::default());
    }

    #[test]
    fn refusals_name_their_fields() {
        let err = |v| match check(&input(v)) {
            Err(AppError::Validation(v)) => v.join(" | "),
            other => panic!("{other:?}"),
        };
        assert!(err(serde_json::json!({"legalName": "Shree"})).contains("gstin: is required"));
        assert!(err(serde_json::json!({"gstin": "27AAPFU0939F1ZX", "legalName": "Shree"})).contains("gstin:"));
        let m = err(serde_json::json!({"gstin": "27AAPFU0939F1ZV", "legalName": "Shree", "address": {"state": "29"}}));
        assert!(m.contains("address.state: differs"), "{m}");
        let m = err(serde_json::json!({"gstScheme": "unregistered"}));
        assert!(m.contains("address.state: is required"), "{m}");
        let m = err(serde_json::json!({"gstin": "27AAPFU0939F1ZV", "legalName": "S", "series": {"invoice": "SALES"}}));
        assert!(m.contains("legalName") && m.contains("series.invoice"), "{m}");
        let m = err(
            serde_json::json!({"gstin": "27AAPFU0939F1ZV", "legalName": "Shree", "series": {"billOfSupply": "inv"}}),
        );
        assert!(m.contains("series.billOfSupply: must differ"), "{m}");
    }

    #[test]
    fn the_longest_prefix_still_fits_sixteen_characters() {
        let p = check(&input(serde_json::json!({
            "gstin": "27AAPFU0939F1ZV", "legalName": "Shree", "series": {"invoice": "A1-B", "billOfSupply": "BS"}
        })))
        .unwrap();
        assert_eq!(format!("{}/26-27/99999", p.series.invoice).len(), 16);
    }
}
