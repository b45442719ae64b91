//! GST on a sale of a shop with a GST profile (issue 17), pure: which document it is, the
//! place of supply, each line's rate on the invoice's India date, and the figures of
//! `crate::gst::compute` stored on every line. Every door (online, v1 `/api/sync`, v2 push)
//! goes through [`settle`], so the same sale gives the same stored figures wherever it came
//! from.
//!
//! Online a missing particular is refused (400 naming the field). An offline sale already
//! happened: it is applied with the same figures and what is missing is listed in the
//! invoice's `reviewFlags` for the owner (`SaleOptions::flag_unapproved`).

use std::collections::HashMap;

use bson::oid::ObjectId;

use super::{Refusal, SaleInputs};
use crate::{
    billing::{
        command::Sale,
        model::{DocumentType, InvoiceGst, InvoiceLine, LineTax, SupplyType},
    },
    catalog::tax::{TaxCode, Taxability},
    client::gst::{GstProfile, Scheme, COMPOSITION_LEGEND},
    customer::model::CustomerDoc,
    gst::{self, BillIn, Discount, LineIn, Pricing, Supply},
    money::Paise,
};

/// An invoice to an unregistered buyer of this value or more needs the buyer's name,
/// address and state (CGST rule 46(e) proviso): Rs 50,000.00.
pub const B2C_PARTICULARS_FROM: Paise = Paise::new(5_000_000);

/// The code of a sale line whose item has no GST rate (online; offline it is flagged).
pub const TAX_CODE_MISSING: &str = "TAX_CODE_MISSING";

/// A sale's settled GST: the invoice's particulars and figures and the v1 totals
/// (`subtotal - totalDiscount + totalTax + roundOff = totalAmount`).
#[derive(Debug, Clone)]
pub struct Settled {
    pub gst: InvoiceGst,
    /// Taxable value + discounts: the value before discounts and tax.
    pub subtotal: Paise,
    /// CGST + SGST + IGST + cess.
    pub tax: Paise,
    /// Line discounts + bill discounts.
    pub discount: Paise,
    /// The grand total after round-off.
    pub total: Paise,
    /// What an offline sale lacked (its `reviewFlags`).
    pub flags: Vec<String>,
}

/// The buyer as the document sees them.
struct Buyer<'a> {
    customer: Option<&'a CustomerDoc>,
    gstin: Option<String>,
}

impl Buyer<'_> {
    fn name(&self, sale: &Sale) -> String {
        sale.customer_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .or_else(|| self.customer.map(|c| c.name.clone()).filter(|n| n != super::PLACEHOLDER_NAME))
            .unwrap_or_default()
    }

    fn has_address(&self) -> bool {
        self.customer.is_some_and(|c| {
            c.billing_address.as_ref().is_some_and(|a| !a.line1.trim().is_empty() || !a.city.trim().is_empty())
                || !c.address.trim().is_empty()
        })
    }

    fn state(&self) -> Option<String> {
        self.customer.and_then(|c| c.billing_address.as_ref()).map(|a| a.state.clone()).filter(|s| !s.is_empty())
    }
}

/// A problem with the document's particulars: refused online, flagged offline.
struct Findings {
    strict: bool,
    flags: Vec<String>,
}

impl Findings {
    fn found(&mut self, field: &str, text: String) -> Result<(), Refusal> {
        if self.strict {
            Err(Refusal::Invalid(vec![format!("{field}: {text}")]))
        } else {
            self.flags.push(format!("gst: {field}: {text}"));
            Ok(())
        }
    }
}

/// The customer field a sale names its buyer by (for the refusals).
fn buyer_field(sale: &Sale) -> &'static str {
    match sale.customer {
        crate::billing::command::CustomerRef::Phone { .. } => "clientCustomerPhone",
        _ => "clientCustomerId",
    }
}

/// Settle the GST of a priced sale (`lines` from `price_lines_in_units`, each with its
/// `costPerUnit`, `quantity` and `mrp`): the place of supply (the invoice's own, else the
/// B2B buyer's GSTIN state, else the buyer's billing-address state, else the shop's: IGST
/// Act s.10), the document type, each line's tax code in force on `date` (the invoice's
/// India date), the computation (`crate::gst::compute`), the MRP after tax, and the required
/// particulars. Fills every line's `tax` and sets its `lineTotal` to the line's total.
///
/// Errors (online; offline the particulars are flagged instead): 400 naming the field for a
/// line without a GST rate ([`TAX_CODE_MISSING`]) or a short HSN code, a discount larger
/// than its line or bill, a B2B buyer without name or address, an unregistered buyer of
/// Rs 50,000 or more without name, address or state, reverse charge without a registered
/// buyer, and an inter-state sale of a composition shop; 400 `MRP_EXCEEDED` for a line
/// whose price with tax exceeds its MRP.
pub fn settle(
    cmd: &Sale,
    lines: &mut [InvoiceLine],
    labels: &[String],
    profile: &GstProfile,
    inputs: &SaleInputs<'_>,
    customer: Option<&CustomerDoc>,
    date: &str,
) -> Result<Settled, Refusal> {
    let mut find = Findings { strict: !cmd.options.flag_unapproved, flags: vec![] };
    let g = &cmd.gst;
    let buyer_gstin = customer
        .map(|c| c.gst_no.trim().to_ascii_uppercase())
        .filter(|n| crate::gstin::is_valid(n) && profile.gst_scheme != Scheme::Unregistered);
    let buyer = Buyer { customer, gstin: buyer_gstin };

    // where the supply is taxed
    let (pos, overridden) = match &g.place_of_supply {
        Some(p) => (p.clone(), true),
        None => (
            buyer
                .gstin
                .as_ref()
                .map(|n| n[..2].to_string())
                .or_else(|| buyer.state())
                .unwrap_or_else(|| profile.state_code.clone()),
            false,
        ),
    };
    let supply = if pos == profile.state_code { SupplyType::IntraState } else { SupplyType::InterState };
    if profile.gst_scheme == Scheme::Composition && supply == SupplyType::InterState {
        find.found(
            "placeOfSupply",
            format!(
                "a composition taxable person cannot make inter-state supplies (CGST Act s.10(2)(d)); the place of supply {pos} is outside the shop's state {}",
                profile.state_code
            ),
        )?;
    }

    // each line's code on the invoice's date
    let charges = profile.gst_scheme == Scheme::Regular;
    let (digits, b2c_too) = profile.hsn_digits();
    let mut gst_lines = Vec::with_capacity(lines.len());
    let mut rates = Vec::with_capacity(lines.len());
    for (k, l) in lines.iter().enumerate() {
        let label = labels.get(k).map(String::as_str).unwrap_or("products");
        let item = l.product_id.and_then(|id| inputs.items.get(&id));
        let code: Option<&TaxCode> = item.and_then(|i| i.details.tax.as_ref().or_else(|| inputs.tax_codes.get(&i.id)));
        let period = code.and_then(|c| c.on(date));
        if charges && period.is_none() {
            if find.strict {
                return Err(Refusal::TaxCodeMissing { line: label.to_string(), item: l.item_name.clone() });
            }
            find.flags.push(format!("gst: {label}: {} has no GST rate; billed without tax", l.item_name));
        }
        let hsn = code.and_then(|c| c.hsn_code.clone());
        if charges && (buyer.gstin.is_some() || b2c_too) && hsn.as_ref().is_none_or(|h| h.len() < digits) {
            find.found(
                &format!("{label}.hsnCode"),
                format!(
                    "{} needs an HSN code of at least {digits} digits on this invoice (CBIC notification 78/2020-CT); set the item's tax.hsnCode",
                    l.item_name
                ),
            )?;
        }
        let taxability = period.map(|p| p.taxability).unwrap_or(Taxability::Taxable);
        let (gst_bp, cess_bp) = match period {
            Some(p) if charges && p.taxability == Taxability::Taxable => (p.gst_bp, p.cess_bp),
            _ => (0, 0),
        };
        let inclusive = code.and_then(|c| c.prices_include_tax).unwrap_or(profile.prices_include_tax);
        let discount = cmd.line_index(k).and_then(|i| g.line_discounts.get(&i)).copied();
        gst_lines.push(LineIn {
            unit_price: l.cost_per_unit,
            quantity: l.quantity,
            discount,
            gst_bp,
            cess_bp,
            taxable: charges && taxability == Taxability::Taxable,
            pricing: Some(if inclusive { Pricing::Inclusive } else { Pricing::Exclusive }),
        });
        rates.push((hsn, code.and_then(|c| c.uqc.clone()), taxability, inclusive, discount));
    }

    // the bill discounts: seed 004's two, or the app's one `totalDiscount`
    let (d1, d2) = if g.discount1.is_positive() || g.discount2.is_positive() {
        if cmd.discount.is_positive() {
            return Err(Refusal::Invalid(vec![
                "totalDiscount: send either totalDiscount or discount1Amount/discount2Amount, not both".into(),
            ]));
        }
        (g.discount1, g.discount2)
    } else {
        (cmd.discount, Paise::ZERO)
    };
    let bill = BillIn {
        lines: gst_lines,
        bill_discounts: vec![d1, d2],
        pricing: if profile.prices_include_tax { Pricing::Inclusive } else { Pricing::Exclusive },
        supply: if supply == SupplyType::IntraState { Supply::IntraState } else { Supply::InterState },
        round_off: profile.round_off,
    };
    let out = gst::compute(&bill).map_err(|e| match e {
        gst::GstError::LineDiscountTooLarge(k) => Refusal::Invalid(vec![format!(
            "{}.discount: exceeds the line's amount",
            labels.get(k).map(String::as_str).unwrap_or("products")
        )]),
        gst::GstError::BillDiscountTooLarge => Refusal::Invalid(vec![
            "discount1Amount: the bill discounts exceed the bill's amount after line discounts".into(),
        ]),
        gst::GstError::NegativeDiscount => Refusal::Invalid(vec!["discount1Amount: must not be negative".into()]),
        gst::GstError::BadLine(_) | gst::GstError::Overflow => {
            Refusal::Invalid(vec!["products: amounts are too large".into()])
        }
    })?;

    // the settled figures on each line; a price with tax above the MRP is refused
    let mut total_discount = Paise::ZERO;
    for (k, ((l, o), (hsn, uqc, taxability, inclusive, discount))) in
        lines.iter_mut().zip(&out.lines).zip(rates).enumerate()
    {
        if let Some(mrp) = l.mrp {
            let ceiling = mrp.checked_mul(l.quantity).unwrap_or(Paise::new(i64::MAX));
            if o.total > ceiling {
                let label = labels.get(k).map(String::as_str).unwrap_or("products");
                let each = Paise::new(gst::div_round(i128::from(o.total.as_i64()), i128::from(l.quantity)) as i64);
                return Err(Refusal::MrpExceeded { line: format!("{label} (with tax)"), price: each, mrp });
            }
        }
        total_discount = total_discount
            .checked_add(o.line_discount)
            .and_then(|t| t.checked_add(o.share))
            .ok_or_else(|| Refusal::Invalid(vec!["products: amounts are too large".into()]))?;
        l.line_total = o.total;
        l.tax = Some(LineTax {
            hsn_code: hsn,
            uqc,
            taxability,
            gst_bp: bill.lines[k].gst_bp,
            cess_bp: bill.lines[k].cess_bp,
            prices_include_tax: inclusive,
            gross: o.gross,
            discount: o.line_discount,
            discount_bp: match discount {
                Some(Discount::Percent(bp)) => Some(bp),
                _ => None,
            },
            bill_discount_share: o.share,
            taxable_value: o.taxable,
            cgst: o.cgst,
            sgst: o.sgst,
            igst: o.igst,
            cess: o.cess,
            total: o.total,
        });
    }
    let tax = Paise::checked_sum([out.cgst, out.sgst, out.igst, out.cess])
        .ok_or_else(|| Refusal::Invalid(vec!["products: amounts are too large".into()]))?;
    let subtotal = out
        .taxable
        .checked_add(total_discount)
        .ok_or_else(|| Refusal::Invalid(vec!["products: amounts are too large".into()]))?;

    // which document, and its particulars
    let taxed = lines.iter().any(|l| l.tax.as_ref().is_some_and(|t| t.taxability == Taxability::Taxable));
    let untaxed = lines.iter().any(|l| l.tax.as_ref().is_some_and(|t| t.taxability != Taxability::Taxable));
    let document_type = match profile.gst_scheme {
        Scheme::Unregistered => DocumentType::Bill,
        Scheme::Composition => DocumentType::BillOfSupply,
        Scheme::Regular if !taxed => DocumentType::BillOfSupply,
        Scheme::Regular if untaxed && buyer.gstin.is_none() => DocumentType::InvoiceCumBillOfSupply,
        Scheme::Regular => DocumentType::TaxInvoice,
    };
    let field = buyer_field(cmd);
    if let Some(n) = &buyer.gstin {
        if profile.gst_scheme == Scheme::Regular && (buyer.name(cmd).is_empty() || !buyer.has_address()) {
            find.found(
                field,
                format!(
                    "a tax invoice to a registered buyer (GSTIN {n}) needs the buyer's name and address (CGST rule 46(e)); add them to the customer (name, billingAddress)"
                ),
            )?;
        }
    } else if profile.gst_scheme != Scheme::Unregistered && out.total >= B2C_PARTICULARS_FROM {
        let state = overridden.then(|| pos.clone()).or_else(|| buyer.state());
        if buyer.name(cmd).is_empty() || !buyer.has_address() || state.is_none() {
            find.found(
                field,
                "an invoice of Rs 50,000 or more to an unregistered buyer needs the buyer's name, address and state (CGST rule 46(e)); bill a customer with a name and a billing address".into(),
            )?;
        }
    }
    if g.reverse_charge && (buyer.gstin.is_none() || document_type != DocumentType::TaxInvoice) {
        return Err(Refusal::Invalid(vec![
            "reverseCharge: tax on reverse charge applies only to a tax invoice to a registered buyer (with a GSTIN)"
                .into(),
        ]));
    }

    let gst = InvoiceGst {
        document_type,
        supply_type: supply,
        place_of_supply_name: crate::states::name(&pos).unwrap_or_default().to_string(),
        place_of_supply: pos,
        place_of_supply_overridden: overridden,
        seller_gstin: profile.gstin.clone(),
        seller_legal_name: profile.legal_name.clone(),
        seller_trade_name: profile.trade_name.clone(),
        seller_state: profile.state_code.clone(),
        gst_scheme: profile.gst_scheme,
        buyer_gstin: buyer.gstin.clone(),
        reverse_charge: g.reverse_charge,
        prices_include_tax: profile.prices_include_tax,
        discount1: d1,
        discount2: d2,
        total_discount,
        taxable_value: out.taxable,
        cgst: out.cgst,
        sgst: out.sgst,
        igst: out.igst,
        cess: out.cess,
        round_off: out.round_off,
        legend: (profile.gst_scheme == Scheme::Composition).then(|| COMPOSITION_LEGEND.to_string()),
    };
    Ok(Settled { gst, subtotal, tax, discount: total_discount, total: out.total, flags: find.flags })
}

/// The series prefix a document type is numbered in (the shop's `gstProfile.series`).
pub fn series_of(profile: &GstProfile, t: DocumentType) -> String {
    match t {
        DocumentType::BillOfSupply => profile.series.bill_of_supply.clone(),
        _ => profile.series.invoice.clone(),
    }
}

/// The inherited tax codes of `items` that have none of their own (their product's, else
/// their category's), as `catalog::dto::TaxDefaults` resolves them.
pub fn inherited(
    items: &HashMap<ObjectId, crate::catalog::model::ItemDoc>,
    defaults: &crate::catalog::dto::TaxDefaults,
) -> HashMap<ObjectId, TaxCode> {
    items
        .values()
        .filter(|i| i.details.tax.is_none())
        .filter_map(|i| defaults.for_item(i).map(|(t, _)| (i.id, t.clone())))
        .collect()
}
