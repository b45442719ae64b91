//! The GST parts of an invoice on the wire (issue 17): a line's tax and the invoice's GST
//! particulars and figures, in rupees and percent (stored in paise and basis points:
//! `billing::model::{LineTax, InvoiceGst}`).

use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    billing::model::{DocumentType, InvoiceGst, LineTax, SupplyType},
    money::Paise,
};

/// A line's GST on the wire (issue 17): rupees, rates in percent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineTaxWire {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "9608")]
    pub hsn_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uqc: Option<String>,
    pub taxability: crate::catalog::tax::Taxability,
    /// Percent, in force on the invoice's India date.
    #[schema(example = 18)]
    pub gst_rate: f64,
    pub cess_rate: f64,
    pub prices_include_tax: bool,
    #[schema(value_type = f64)]
    pub gross: Paise,
    /// The line discount.
    #[schema(value_type = f64)]
    pub discount: Paise,
    /// The line discount's percent, when it was sent as one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_percent: Option<f64>,
    #[schema(value_type = f64)]
    pub bill_discount_share: Paise,
    #[schema(value_type = f64)]
    pub taxable_value: Paise,
    #[schema(value_type = f64)]
    pub cgst: Paise,
    #[schema(value_type = f64)]
    pub sgst: Paise,
    #[schema(value_type = f64)]
    pub igst: Paise,
    #[schema(value_type = f64)]
    pub cess: Paise,
    /// `taxableValue + cgst + sgst + igst + cess`.
    #[schema(value_type = f64)]
    pub total: Paise,
}

impl From<&LineTax> for LineTaxWire {
    fn from(t: &LineTax) -> Self {
        LineTaxWire {
            hsn_code: t.hsn_code.clone(),
            uqc: t.uqc.clone(),
            taxability: t.taxability,
            gst_rate: f64::from(t.gst_bp) / 100.0,
            cess_rate: f64::from(t.cess_bp) / 100.0,
            prices_include_tax: t.prices_include_tax,
            gross: t.gross,
            discount: t.discount,
            discount_percent: t.discount_bp.map(|b| f64::from(b) / 100.0),
            bill_discount_share: t.bill_discount_share,
            taxable_value: t.taxable_value,
            cgst: t.cgst,
            sgst: t.sgst,
            igst: t.igst,
            cess: t.cess,
            total: t.total,
        }
    }
}

/// An invoice's GST particulars and figures on the wire (issue 17): rupees.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceGstWire {
    /// `taxInvoice` | `billOfSupply` | `invoiceCumBillOfSupply` | `bill`.
    pub document_type: DocumentType,
    /// `intraState` (CGST + SGST) | `interState` (IGST).
    pub supply_type: SupplyType,
    #[schema(example = "27")]
    pub place_of_supply: String,
    #[schema(example = "Maharashtra")]
    pub place_of_supply_name: String,
    pub place_of_supply_overridden: bool,
    pub seller_gstin: String,
    pub seller_legal_name: String,
    pub seller_trade_name: String,
    pub seller_state: String,
    pub gst_scheme: crate::client::gst::Scheme,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyer_gstin: Option<String>,
    pub reverse_charge: bool,
    pub prices_include_tax: bool,
    #[schema(value_type = f64)]
    pub discount1_amount: Paise,
    #[schema(value_type = f64)]
    pub discount2_amount: Paise,
    #[schema(value_type = f64)]
    pub taxable_value: Paise,
    #[schema(value_type = f64)]
    pub cgst: Paise,
    #[schema(value_type = f64)]
    pub sgst: Paise,
    #[schema(value_type = f64)]
    pub igst: Paise,
    #[schema(value_type = f64)]
    pub cess: Paise,
    /// Nearest rupee - the sum of the line totals (-0.49 to +0.50); 0 when the shop does not
    /// round.
    #[schema(value_type = f64)]
    pub round_off: Paise,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legend: Option<String>,
}

impl From<&InvoiceGst> for InvoiceGstWire {
    fn from(g: &InvoiceGst) -> Self {
        InvoiceGstWire {
            document_type: g.document_type,
            supply_type: g.supply_type,
            place_of_supply: g.place_of_supply.clone(),
            place_of_supply_name: g.place_of_supply_name.clone(),
            place_of_supply_overridden: g.place_of_supply_overridden,
            seller_gstin: g.seller_gstin.clone(),
            seller_legal_name: g.seller_legal_name.clone(),
            seller_trade_name: g.seller_trade_name.clone(),
            seller_state: g.seller_state.clone(),
            gst_scheme: g.gst_scheme,
            buyer_gstin: g.buyer_gstin.clone(),
            reverse_charge: g.reverse_charge,
            prices_include_tax: g.prices_include_tax,
            discount1_amount: g.discount1,
            discount2_amount: g.discount2,
            taxable_value: g.taxable_value,
            cgst: g.cgst,
            sgst: g.sgst,
            igst: g.igst,
            cess: g.cess,
            round_off: g.round_off,
            legend: g.legend.clone(),
        }
    }
}
