//! Tax codes of items and the shop-wide defaults of categories (issue 16), read by the GST
//! computation (issue 17).
//!
//! An item (or an item group, as the default of its items) carries a [`TaxCode`]: its HSN code
//! (SAC for services), its UQC, and its rates as an effective-dated history of
//! [`RatePeriod`]s. Rates change by notification (on 22 September 2025 pencils, erasers,
//! sharpeners and exercise books went to nil and geometry boxes from 12 % to 5 %), and a bill
//! is taxed at the rate in force on the bill's own date ([`TaxCode::on`]), so an offline bill
//! of 20 September synced on the 23rd keeps the old rate.
//!
//! Rates are integer basis points (1800 = 18 %); the wire speaks percent with at most two
//! decimals. An item without its own tax code takes its sub category's, else its main
//! category's ([`effective`]).
//!
//! Sources: GST.md (HSN digits, Notification 78/2020-CT; the 22 September 2025 rate change;
//! the UQC list of the GST returns).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validate::Errors;

/// The first day of GST (1 July 2017): the start of a history sent without a date.
pub const GST_START: &str = "2017-07-01";

/// The GST rates a taxable supply may carry, in basis points (0.1 %, 0.25 %, 1 %, 1.5 %, 3 %,
/// 5 %, 6 %, 7.5 %, 12 %, 18 %, 28 %, 40 %). A zero rate is a nil-rated supply, not a taxable
/// one ([`Taxability::NilRated`]).
pub const GST_RATES_BP: &[u32] = &[10, 25, 100, 150, 300, 500, 600, 750, 1200, 1800, 2800, 4000];

/// The highest cess rate accepted, in basis points (500 %).
pub const CESS_MAX_BP: u32 = 50_000;

/// Most rate periods one tax code keeps.
pub const RATES_MAX: usize = 20;

/// The unit quantity codes (UQC) of the GST returns, with their names: an item's `uqc` is one
/// of these codes (GSTR-1 table 12 reports quantity by HSN and UQC).
pub const UQC: &[(&str, &str)] = &[
    ("BAG", "Bags"),
    ("BAL", "Bale"),
    ("BDL", "Bundles"),
    ("BKL", "Buckles"),
    ("BOU", "Billion of units"),
    ("BOX", "Box"),
    ("BTL", "Bottles"),
    ("BUN", "Bunches"),
    ("CAN", "Cans"),
    ("CBM", "Cubic meters"),
    ("CCM", "Cubic centimeters"),
    ("CMS", "Centimeters"),
    ("CTN", "Cartons"),
    ("DOZ", "Dozens"),
    ("DRM", "Drums"),
    ("GGK", "Great gross"),
    ("GMS", "Grammes"),
    ("GRS", "Gross"),
    ("GYD", "Gross yards"),
    ("KGS", "Kilograms"),
    ("KLR", "Kilolitre"),
    ("KME", "Kilometre"),
    ("LTR", "Litres"),
    ("MLT", "Millilitre"),
    ("MTR", "Meters"),
    ("MTS", "Metric ton"),
    ("NOS", "Numbers"),
    ("OTH", "Others"),
    ("PAC", "Packs"),
    ("PCS", "Pieces"),
    ("PRS", "Pairs"),
    ("QTL", "Quintal"),
    ("ROL", "Rolls"),
    ("SET", "Sets"),
    ("SQF", "Square feet"),
    ("SQM", "Square meters"),
    ("SQY", "Square yards"),
    ("TBS", "Tablets"),
    ("TGM", "Ten gross"),
    ("THD", "Thousands"),
    ("TON", "Tonnes"),
    ("TUB", "Tubes"),
    ("UGS", "US gallons"),
    ("UNT", "Units"),
    ("YDS", "Yards"),
];

/// Whether `code` (as sent, any case) is a UQC; the stored form is upper case.
pub fn uqc(code: &str) -> Option<&'static str> {
    let up = code.trim().to_ascii_uppercase();
    UQC.iter().map(|(c, _)| *c).find(|c| *c == up)
}

/// How GST treats a supply: `taxable` (at a rate of [`GST_RATES_BP`]), `nilRated` (0 %),
/// `exempt` (exempted by notification) or `nonGst` (outside GST: petrol, alcohol for human
/// consumption). The last three carry no tax and are reported apart in GSTR-1 table 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Taxability {
    Taxable,
    NilRated,
    Exempt,
    NonGst,
}

impl Taxability {
    fn parse(s: &str) -> Option<Taxability> {
        match s.trim() {
            "taxable" => Some(Taxability::Taxable),
            "nilRated" => Some(Taxability::NilRated),
            "exempt" => Some(Taxability::Exempt),
            "nonGst" => Some(Taxability::NonGst),
            _ => None,
        }
    }
}

/// The rates in force from `from` (an India date `YYYY-MM-DD`) until the next period starts.
/// Stored as `{from, taxability, gstBp, cessBp}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RatePeriod {
    pub from: String,
    pub taxability: Taxability,
    /// GST rate in basis points (the whole rate: half CGST and half SGST within a state, all
    /// IGST across states); 0 unless `taxable`.
    pub gst_bp: u32,
    /// Cess rate in basis points (ad valorem); 0 when none.
    #[serde(default)]
    pub cess_bp: u32,
}

/// The tax code of an item or the default of a category. Stored as the `tax` sub-document
/// `{hsnCode?, uqc?, rates: [RatePeriod...]}` (rates sorted by `from`, no date twice).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxCode {
    /// HSN code of goods (4, 6 or 8 digits) or SAC of services (6 digits starting 99).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hsn_code: Option<String>,
    /// One of [`UQC`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uqc: Option<String>,
    #[serde(default)]
    pub rates: Vec<RatePeriod>,
    /// This item's prices are entered tax-inclusive (`true`) or exclusive (`false`), whatever
    /// the shop's GST profile says (`pricesIncludeTax`, issue 17); absent: the shop's way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prices_include_tax: Option<bool>,
}

impl TaxCode {
    /// The period in force on `date` (`YYYY-MM-DD`): the latest one starting on or before it;
    /// for a date before the first period, the first (nothing earlier is known). `None` when
    /// no rate is recorded.
    pub fn on(&self, date: &str) -> Option<&RatePeriod> {
        self.rates.iter().rev().find(|p| p.from.as_str() <= date).or_else(|| self.rates.first())
    }
}

/// Where an item's tax code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum TaxSource {
    /// The item's own.
    Item,
    /// Its product's (the item is a variant, `variantOf`).
    Product,
    /// Its category's default (the sub category's, else the main category's).
    Category,
}

/// The tax code that applies to an item: its own, else its sub category's default, else its
/// main category's. `None` when none of them has one. (A variant's product code comes between
/// its own and the category's: `catalog::dto::CategoryTaxes::for_item`.)
pub fn effective<'a>(
    own: Option<&'a TaxCode>,
    category: Option<&'a TaxCode>,
    main_category: Option<&'a TaxCode>,
) -> Option<(&'a TaxCode, TaxSource)> {
    own.map(|t| (t, TaxSource::Item)).or_else(|| category.or(main_category).map(|t| (t, TaxSource::Category)))
}

/// A rate as sent: a JSON number in percent with at most two decimals.
type Percent = serde_json::Number;

/// One rate period as sent in `tax.rates`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RatePeriodIn {
    /// India date `YYYY-MM-DD`, on or after 2017-07-01.
    #[schema(example = "2025-09-22")]
    pub from: String,
    /// `taxable` (default), `nilRated`, `exempt` or `nonGst`.
    pub taxability: Option<String>,
    /// Percent: one of 0.1, 0.25, 1, 1.5, 3, 5, 6, 7.5, 12, 18, 28, 40 when taxable; 0 (or
    /// absent) otherwise.
    #[schema(value_type = Option<f64>, example = 5)]
    pub gst_rate: Option<Percent>,
    /// Percent, 0 to 500, at most two decimals (default 0).
    #[schema(value_type = Option<f64>, example = 0)]
    pub cess_rate: Option<Percent>,
}

/// The `tax` object of an item or category request (issue 16). On a create every field is
/// optional; on an edit a field not sent keeps its value, and `tax: null` removes the tax code.
/// Either `rates` (the whole history, replacing it) or the rate fields `taxability`,
/// `gstRate`, `cessRate` with `effectiveFrom` (a new period from that date; default: 2017-07-01
/// on a create, today on an edit; the fields not sent are those in force on that date).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaxIn {
    /// HSN (goods: 4, 6 or 8 digits) or SAC (services: 6 digits starting 99); null clears.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable, example = "9608")]
    pub hsn_code: Option<Option<String>>,
    /// A GST unit quantity code (NOS, PCS, BOX, PAC, DOZ, KGS, ...); null clears.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable, example = "PCS")]
    pub uqc: Option<Option<String>>,
    /// `taxable`, `nilRated`, `exempt` or `nonGst`.
    pub taxability: Option<String>,
    /// Percent (see [`RatePeriodIn::gst_rate`]).
    #[schema(value_type = Option<f64>, example = 18)]
    pub gst_rate: Option<Percent>,
    /// Percent, 0 to 500.
    #[schema(value_type = Option<f64>, example = 0)]
    pub cess_rate: Option<Percent>,
    /// India date from which the rate fields apply.
    #[schema(example = "2025-09-22")]
    pub effective_from: Option<String>,
    /// The whole rate history (replaces it); not with the rate fields.
    pub rates: Option<Vec<RatePeriodIn>>,
    /// Issue 17: this item's prices include the tax (`true`) or exclude it (`false`),
    /// overriding the shop's GST profile; null: the shop's way.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<bool>, nullable, example = true)]
    pub prices_include_tax: Option<Option<bool>>,
}

/// A checked rate change: a new period (fields `None` = as in force on `from`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeriodEdit {
    /// `None`: GST start on a create, today on an edit.
    pub from: Option<String>,
    pub taxability: Option<Taxability>,
    pub gst_bp: Option<u32>,
    pub cess_bp: Option<u32>,
}

/// A checked `tax` object ([`check`]); applied to the current code by [`TaxEdit::apply`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaxEdit {
    pub hsn_code: Option<Option<String>>,
    pub uqc: Option<Option<String>>,
    pub period: Option<PeriodEdit>,
    pub rates: Option<Vec<RatePeriod>>,
    /// `Some(None)` clears the item's own pricing (the shop's applies).
    pub prices_include_tax: Option<Option<bool>>,
}

fn at(prefix: &str, field: &str) -> String {
    format!("{prefix}{field}")
}

/// A percent with at most two decimals as basis points, within `0..=max_bp`.
fn percent_bp(e: &mut Errors, field: &str, n: &Percent, max_bp: u32) -> Option<u32> {
    match crate::money::Paise::parse_rupees(&n.to_string()) {
        Ok(p) if (0..=i64::from(max_bp)).contains(&p.as_i64()) => u32::try_from(p.as_i64()).ok(),
        _ => {
            e.add(field, format!("must be a percent from 0 to {} with at most two decimals", max_bp / 100));
            None
        }
    }
}

fn india_date(e: &mut Errors, field: &str, v: &str) -> Option<String> {
    let v = v.trim();
    match crate::time::parse_date(v) {
        Some(d) if d.format("%Y-%m-%d").to_string() == v && v >= GST_START => Some(v.to_string()),
        _ => {
            e.add(field, format!("must be a date YYYY-MM-DD on or after {GST_START}"));
            None
        }
    }
}

fn hsn(e: &mut Errors, field: &str, v: &str) -> Option<String> {
    let v: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    if v.is_empty() {
        return None;
    }
    if !(v.chars().all(|c| c.is_ascii_digit()) && matches!(v.len(), 4 | 6 | 8)) {
        e.add(field, "must be an HSN code of 4, 6 or 8 digits (a SAC of 6 digits starting 99 for services)");
    }
    Some(v)
}

/// The checked rate fields of one period (the GST rate is checked against the taxability
/// once both are known: [`valid_period`]).
fn rates_of(
    e: &mut Errors,
    prefix: &str,
    taxability: Option<&str>,
    gst: Option<&Percent>,
    cess: Option<&Percent>,
) -> (Option<Taxability>, Option<u32>, Option<u32>) {
    let t = taxability.map(|t| {
        Taxability::parse(t).unwrap_or_else(|| {
            e.add(&at(prefix, "taxability"), "must be taxable, nilRated, exempt or nonGst");
            Taxability::Taxable
        })
    });
    let gst = gst.and_then(|n| percent_bp(e, &at(prefix, "gstRate"), n, 10_000));
    let cess = cess.and_then(|n| percent_bp(e, &at(prefix, "cessRate"), n, CESS_MAX_BP));
    (t, gst, cess)
}

/// Whether a period's rates agree with its taxability: a taxable supply carries a rate of
/// [`GST_RATES_BP`]; a nil-rated, exempt or non-GST one carries no GST and no cess. The
/// complaint names what to send.
pub fn valid_period(p: &RatePeriod) -> Result<(), String> {
    match p.taxability {
        Taxability::Taxable if !GST_RATES_BP.contains(&p.gst_bp) => Err(format!(
            "a taxable supply needs gstRate one of 0.1, 0.25, 1, 1.5, 3, 5, 6, 7.5, 12, 18, 28, 40 (period from {}; a 0 % supply is nilRated)",
            p.from
        )),
        Taxability::NilRated | Taxability::Exempt | Taxability::NonGst if p.gst_bp != 0 || p.cess_bp != 0 => Err(
            format!("a nilRated, exempt or nonGst supply carries no gstRate or cessRate (period from {})", p.from),
        ),
        _ => Ok(()),
    }
}

/// Check a `tax` object as sent (the same on every door), complaints under `<prefix>tax.`:
/// `hsnCode` 4, 6 or 8 digits; `uqc` one of [`UQC`]; `taxability` one of [`Taxability`];
/// rates percent with two decimals (GST at most 100, cess at most 500); dates India dates on
/// or after 2017-07-01; `rates` (1 to 20 periods, no date twice) not together with the rate
/// fields, each period consistent ([`valid_period`]).
pub fn check(e: &mut Errors, prefix: &str, t: &TaxIn) -> TaxEdit {
    let p = at(prefix, "tax.");
    let hsn_code = t.hsn_code.as_ref().map(|v| v.as_deref().and_then(|v| hsn(e, &at(&p, "hsnCode"), v)));
    let uqc = t.uqc.as_ref().map(|v| {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty()).and_then(|v| match uqc(v) {
            Some(c) => Some(c.to_string()),
            None => {
                e.add(&at(&p, "uqc"), "must be a GST unit quantity code (NOS, PCS, BOX, PAC, DOZ, KGS, LTR, MTR, ...)");
                None
            }
        })
    });
    let sends_period =
        t.taxability.is_some() || t.gst_rate.is_some() || t.cess_rate.is_some() || t.effective_from.is_some();
    let mut out = TaxEdit { hsn_code, uqc, prices_include_tax: t.prices_include_tax, ..Default::default() };
    if let Some(list) = &t.rates {
        if sends_period {
            e.add(&at(&p, "rates"), "send either rates or taxability/gstRate/cessRate/effectiveFrom, not both");
        }
        if list.is_empty() || list.len() > RATES_MAX {
            e.add(&at(&p, "rates"), format!("must hold 1 to {RATES_MAX} periods"));
        }
        let mut periods: Vec<RatePeriod> = Vec::new();
        for (i, r) in list.iter().enumerate() {
            let rp = format!("{p}rates[{i}].");
            let from = india_date(e, &at(&rp, "from"), &r.from);
            let (taxability, gst, cess) =
                rates_of(e, &rp, r.taxability.as_deref(), r.gst_rate.as_ref(), r.cess_rate.as_ref());
            let Some(from) = from else { continue };
            if periods.iter().any(|q| q.from == from) {
                e.add(&at(&rp, "from"), "two periods start on this date");
            }
            let period = RatePeriod {
                from,
                taxability: taxability.unwrap_or(Taxability::Taxable),
                gst_bp: gst.unwrap_or(0),
                cess_bp: cess.unwrap_or(0),
            };
            if let Err(m) = valid_period(&period) {
                e.add(&at(&p, "rates"), m);
            }
            periods.push(period);
        }
        periods.sort_by(|a, b| a.from.cmp(&b.from));
        out.rates = Some(periods);
    } else if sends_period {
        let (taxability, gst_bp, cess_bp) =
            rates_of(e, &p, t.taxability.as_deref(), t.gst_rate.as_ref(), t.cess_rate.as_ref());
        let from = t.effective_from.as_deref().and_then(|d| india_date(e, &at(&p, "effectiveFrom"), d));
        out.period = Some(PeriodEdit { from, taxability, gst_bp, cess_bp });
    }
    out
}

impl TaxEdit {
    /// The tax code after this edit of `current`; `today` (India date) dates a rate change
    /// sent without `effectiveFrom` on an existing code (a new code starts on 2017-07-01).
    /// A new period takes the fields not sent from the period in force on its date, except
    /// that a non-taxable taxability without a rate sent means 0 %. The period replaces one
    /// starting the same day; later periods stay. `Err` names an inconsistent period (a
    /// taxable period without a GST rate of the list, a nil/exempt one with a rate).
    pub fn apply(&self, current: Option<&TaxCode>, today: &str) -> Result<TaxCode, String> {
        let mut t = current.cloned().unwrap_or_default();
        if let Some(v) = &self.hsn_code {
            t.hsn_code.clone_from(v);
        }
        if let Some(v) = &self.uqc {
            t.uqc.clone_from(v);
        }
        if let Some(rates) = &self.rates {
            t.rates.clone_from(rates);
        }
        if let Some(v) = self.prices_include_tax {
            t.prices_include_tax = v;
        }
        if let Some(p) = &self.period {
            let default_from = if t.rates.is_empty() { GST_START } else { today };
            let from = p.from.clone().unwrap_or_else(|| default_from.to_string());
            let before = t.on(&from).cloned();
            let taxability = p.taxability.or(before.as_ref().map(|b| b.taxability)).unwrap_or(Taxability::Taxable);
            let keep = |sent: Option<u32>, old: Option<u32>| match (sent, taxability) {
                (Some(v), _) => v,
                (None, Taxability::Taxable) => old.unwrap_or(0),
                (None, _) => 0,
            };
            let period = RatePeriod {
                from: from.clone(),
                taxability,
                gst_bp: keep(p.gst_bp, before.as_ref().map(|b| b.gst_bp)),
                cess_bp: keep(p.cess_bp, before.as_ref().map(|b| b.cess_bp)),
            };
            valid_period(&period)?;
            t.rates.retain(|q| q.from != from);
            t.rates.push(period);
            t.rates.sort_by(|a, b| a.from.cmp(&b.from));
            if t.rates.len() > RATES_MAX {
                return Err(format!("at most {RATES_MAX} rate periods; send rates to replace the history"));
            }
        }
        Ok(t)
    }
}

/// A rate period on the wire: percent numbers.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RatePeriodWire {
    #[schema(example = "2025-09-22")]
    pub from: String,
    pub taxability: Taxability,
    #[schema(example = 5)]
    pub gst_rate: f64,
    #[schema(example = 0)]
    pub cess_rate: f64,
}

/// The `tax` of an item or category answer: the HSN code and UQC, the rates in force today
/// (India date), the whole history, and where the code comes from (an item without its own
/// shows its category's default with `source: category`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaxWire {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hsn_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uqc: Option<String>,
    /// In force today; absent when no rate is recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taxability: Option<Taxability>,
    /// Percent in force today.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gst_rate: Option<f64>,
    /// Percent in force today.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cess_rate: Option<f64>,
    pub rates: Vec<RatePeriodWire>,
    pub source: TaxSource,
    /// The item's own pricing (issue 17): prices include the tax; absent = the shop's way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prices_include_tax: Option<bool>,
}

/// Basis points as a percent for display (an exact two-decimal value).
fn percent(bp: u32) -> f64 {
    f64::from(bp) / 100.0
}

impl TaxWire {
    /// `t` as answered on `today` (India date).
    pub fn new(t: &TaxCode, source: TaxSource, today: &str) -> TaxWire {
        let now = t.on(today);
        TaxWire {
            hsn_code: t.hsn_code.clone(),
            uqc: t.uqc.clone(),
            taxability: now.map(|p| p.taxability),
            gst_rate: now.map(|p| percent(p.gst_bp)),
            cess_rate: now.map(|p| percent(p.cess_bp)),
            rates: t
                .rates
                .iter()
                .map(|p| RatePeriodWire {
                    from: p.from.clone(),
                    taxability: p.taxability,
                    gst_rate: percent(p.gst_bp),
                    cess_rate: percent(p.cess_bp),
                })
                .collect(),
            source,
            prices_include_tax: t.prices_include_tax,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Percent {
        serde_json::from_str(s).unwrap()
    }

    fn edit(json: serde_json::Value) -> Result<TaxEdit, Vec<String>> {
        let t: TaxIn = serde_json::from_value(json).unwrap();
        let mut e = Errors::new();
        let out = check(&mut e, "", &t);
        match e.finish() {
            Ok(()) => Ok(out),
            Err(crate::error::AppError::Validation(v)) => Err(v),
            Err(other) => panic!("{other:?}"),
        }
    }

    fn period(from: &str, t: Taxability, gst: u32) -> RatePeriod {
        RatePeriod { from: from.into(), taxability: t, gst_bp: gst, cess_bp: 0 }
    }

    /// The 22 September 2025 change (GST.md): a geometry box 12 % -> 5 %, a pencil 12 % ->
    /// nil. A bill is taxed at the rate of its own date.
    #[test]
    fn the_rate_in_force_is_the_one_of_the_bills_date() {
        let new = edit(serde_json::json!({"hsnCode": "9017", "uqc": "pcs", "gstRate": 12})).unwrap();
        let box_ = new.apply(None, "2025-09-01").unwrap();
        assert_eq!(box_.rates, vec![period(GST_START, Taxability::Taxable, 1200)]);
        assert_eq!(box_.uqc.as_deref(), Some("PCS"));
        let change = edit(serde_json::json!({"gstRate": 5, "effectiveFrom": "2025-09-22"})).unwrap();
        let box_ = change.apply(Some(&box_), "2025-10-01").unwrap();
        assert_eq!(box_.on("2025-09-21").map(|p| p.gst_bp), Some(1200));
        assert_eq!(box_.on("2025-09-22").map(|p| p.gst_bp), Some(500));
        assert_eq!(box_.on("2026-01-01").map(|p| p.gst_bp), Some(500));
        // a date before the first period takes the first
        assert_eq!(box_.on("2017-01-01").map(|p| p.gst_bp), Some(1200));
        assert_eq!(box_.hsn_code.as_deref(), Some("9017"));

        let pencil = edit(serde_json::json!({"hsnCode": "96091000", "gstRate": 12})).unwrap().apply(None, "x").unwrap();
        let nil = edit(serde_json::json!({"taxability": "nilRated", "effectiveFrom": "2025-09-22"})).unwrap();
        let pencil = nil.apply(Some(&pencil), "2025-10-01").unwrap();
        assert_eq!(pencil.on("2025-09-22"), Some(&period("2025-09-22", Taxability::NilRated, 0)));
        assert_eq!(pencil.on("2025-09-20"), Some(&period(GST_START, Taxability::Taxable, 1200)));
    }

    #[test]
    fn an_edit_without_a_date_starts_today_and_keeps_the_fields_not_sent() {
        let t = TaxCode {
            hsn_code: Some("8536".into()),
            uqc: None,
            rates: vec![RatePeriod {
                from: GST_START.into(),
                taxability: Taxability::Taxable,
                gst_bp: 1800,
                cess_bp: 100,
            }],
            prices_include_tax: None,
        };
        let after = edit(serde_json::json!({"gstRate": 28})).unwrap().apply(Some(&t), "2026-11-29").unwrap();
        assert_eq!(after.rates.len(), 2);
        assert_eq!(
            after.rates[1],
            RatePeriod { from: "2026-11-29".into(), taxability: Taxability::Taxable, gst_bp: 2800, cess_bp: 100 }
        );
        // the same day again replaces that period
        let again = edit(serde_json::json!({"gstRate": 18})).unwrap().apply(Some(&after), "2026-11-29").unwrap();
        assert_eq!(again.rates.len(), 2);
        assert_eq!(again.rates[1].gst_bp, 1800);
        // an earlier period inserted keeps the later one
        let mid = edit(serde_json::json!({"gstRate": 12, "effectiveFrom": "2020-01-01"})).unwrap();
        let mid = mid.apply(Some(&after), "2026-11-29").unwrap();
        let froms: Vec<&str> = mid.rates.iter().map(|p| p.from.as_str()).collect();
        assert_eq!(froms, vec![GST_START, "2020-01-01", "2026-11-29"]);
        // only the HSN changes: the rates stay
        let hsn = edit(serde_json::json!({"hsnCode": null})).unwrap().apply(Some(&t), "2026-11-29").unwrap();
        assert_eq!(hsn.hsn_code, None);
        assert_eq!(hsn.rates, t.rates);
    }

    #[test]
    fn inconsistent_or_malformed_codes_are_refused_with_the_field() {
        let bad = |j: serde_json::Value, field: &str| {
            let errs = edit(j.clone()).err().unwrap_or_else(|| panic!("{j} was accepted"));
            assert!(errs.iter().any(|m| m.starts_with(field)), "{j}: {errs:?}");
        };
        bad(serde_json::json!({"hsnCode": "96O9"}), "tax.hsnCode");
        bad(serde_json::json!({"hsnCode": "96091"}), "tax.hsnCode");
        bad(serde_json::json!({"uqc": "PIECES"}), "tax.uqc");
        bad(serde_json::json!({"taxability": "zero"}), "tax.taxability");
        bad(serde_json::json!({"gstRate": 18.005}), "tax.gstRate");
        bad(serde_json::json!({"gstRate": 101}), "tax.gstRate");
        bad(serde_json::json!({"cessRate": -1}), "tax.cessRate");
        bad(serde_json::json!({"gstRate": 5, "effectiveFrom": "2017-06-30"}), "tax.effectiveFrom");
        bad(serde_json::json!({"gstRate": 5, "effectiveFrom": "22-09-2025"}), "tax.effectiveFrom");
        bad(serde_json::json!({"gstRate": 5, "rates": [{"from": "2017-07-01", "gstRate": 5}]}), "tax.rates");
        bad(serde_json::json!({"rates": []}), "tax.rates");
        bad(
            serde_json::json!({"rates": [{"from": "2017-07-01", "gstRate": 5}, {"from": "2017-07-01", "gstRate": 12}]}),
            "tax.rates[1].from",
        );
        bad(serde_json::json!({"rates": [{"from": "2017-07-01", "gstRate": 13}]}), "tax.rates");
        bad(serde_json::json!({"rates": [{"from": "2017-07-01", "taxability": "exempt", "gstRate": 5}]}), "tax.rates");
        // consistency that depends on the current code is the apply step's
        let taxable_zero = edit(serde_json::json!({"gstRate": 0})).unwrap();
        assert!(taxable_zero.apply(None, "2026-11-29").is_err());
        let exempt_with_rate = edit(serde_json::json!({"taxability": "exempt", "gstRate": 5})).unwrap();
        assert!(exempt_with_rate.apply(None, "2026-11-29").is_err());
        // a non-taxable period without a rate sent is 0 %, whatever was in force
        let t = edit(serde_json::json!({"gstRate": 18})).unwrap().apply(None, "2026-11-29").unwrap();
        let ex = edit(serde_json::json!({"taxability": "exempt"})).unwrap().apply(Some(&t), "2026-11-29").unwrap();
        assert_eq!(ex.on("2026-11-29"), Some(&period("2026-11-29", Taxability::Exempt, 0)));
        // a taxable period back without a rate sent has none to keep: refused
        let back = edit(serde_json::json!({"taxability": "taxable", "effectiveFrom": "2026-12-01"})).unwrap();
        assert!(back.apply(Some(&ex), "2026-11-29").is_err());
    }

    #[test]
    fn accepted_codes_and_percentages() {
        for h in ["9608", "960910", "96091000", "998314", " 9608 "] {
            assert!(edit(serde_json::json!({"hsnCode": h})).is_ok(), "{h}");
        }
        for (code, _) in UQC {
            assert_eq!(uqc(&code.to_lowercase()), Some(*code));
        }
        let mut e = Errors::new();
        assert_eq!(percent_bp(&mut e, "x", &num("7.5"), 10_000), Some(750));
        assert_eq!(percent_bp(&mut e, "x", &num("0.25"), 10_000), Some(25));
        assert_eq!(percent_bp(&mut e, "x", &num("1.5e1"), 10_000), Some(1500));
        assert!(e.is_empty());
        for bp in GST_RATES_BP {
            assert!(valid_period(&period(GST_START, Taxability::Taxable, *bp)).is_ok());
        }
        let w = TaxWire::new(
            &edit(serde_json::json!({"gstRate": 7.5, "cessRate": 12})).unwrap().apply(None, "x").unwrap(),
            TaxSource::Category,
            "2026-11-29",
        );
        let j = serde_json::to_value(&w).unwrap();
        assert_eq!(j["gstRate"], serde_json::json!(7.5));
        assert_eq!(j["cessRate"], serde_json::json!(12.0));
        assert_eq!(j["source"], "category");
        assert_eq!(j["rates"][0]["from"], GST_START);
    }

    #[test]
    fn an_item_takes_its_own_code_else_its_sub_then_main_category() {
        let code = |bp| TaxCode { rates: vec![period(GST_START, Taxability::Taxable, bp)], ..Default::default() };
        let (own, sub, main) = (code(500), code(1200), code(1800));
        assert_eq!(effective(Some(&own), Some(&sub), Some(&main)), Some((&own, TaxSource::Item)));
        assert_eq!(effective(None, Some(&sub), Some(&main)), Some((&sub, TaxSource::Category)));
        assert_eq!(effective(None, None, Some(&main)), Some((&main, TaxSource::Category)));
        assert_eq!(effective(None, None, None), None);
    }
}
