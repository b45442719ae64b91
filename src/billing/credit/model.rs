//! The `creditnotes` documents of issue 18 (CGST Act s.34, rule 53(1A)). Money in paise,
//! quantities in base units unless named otherwise.

use bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};

use crate::{
    access::By,
    billing::model::{DocumentType, LineUnit, SupplyType},
    catalog::batch::Allocation,
    money::{self, Paise},
};

/// `CreditNoteDoc::kind` of goods returned.
pub const KIND_RETURN: &str = "return";
/// `CreditNoteDoc::kind` of an amount-only adjustment (an overcharge corrected).
pub const KIND_ADJUSTMENT: &str = "adjustment";

/// A credit note against one invoice: numbered in its own consecutive series per financial
/// year (`CN/26-27/00001`, at most 16 characters, rule 46(b) as applied by rule 53), dated
/// by its own India date (it counts in that period), referencing the invoice's number and
/// date (rule 53(1A)(d)).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditNoteDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    /// `CN/26-27/00001`.
    pub credit_note_number: String,
    /// The series prefix (`CN`, or the shop's `series.creditNote`).
    pub series: String,
    /// `26-27` and the consecutive number within it.
    pub financial_year: String,
    pub seq: i64,
    /// `YYYY-MM-DD` in India time.
    pub credit_note_date: String,
    pub issued_at: DateTime,
    pub invoice_id: ObjectId,
    /// The invoice's number (`None` for an incomplete sale, which has none yet) and date.
    #[serde(default)]
    pub invoice_number: Option<String>,
    pub invoice_date: String,
    #[serde(default)]
    pub client_customer_id: Option<ObjectId>,
    #[serde(default)]
    pub client_customer_name: String,
    #[serde(default)]
    pub client_customer_phone: String,
    /// [`KIND_RETURN`] or [`KIND_ADJUSTMENT`].
    pub kind: String,
    pub reason: String,
    /// Whether the returned goods went back on the shelf.
    pub restock: bool,
    pub lines: Vec<CreditLine>,
    #[serde(with = "money::db")]
    pub taxable_value: Paise,
    #[serde(with = "money::db")]
    pub cgst: Paise,
    #[serde(with = "money::db")]
    pub sgst: Paise,
    #[serde(with = "money::db")]
    pub igst: Paise,
    #[serde(with = "money::db")]
    pub cess: Paise,
    /// `totalAmount - Σ lines[].total`: the nearest rupee when the shop rounds, and on the
    /// note that completes the invoice's return, whatever makes the notes add up to the
    /// invoice's total exactly.
    #[serde(with = "money::db")]
    pub round_off: Paise,
    #[serde(with = "money::db")]
    pub total_amount: Paise,
    /// The GST particulars it carries over from the invoice (shops with a GST profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gst: Option<CreditGst>,
    pub settlement: Settlement,
    pub created_by: By,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<crate::approval::Approver>,
    /// `online` | `sync`.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_time: Option<DateTime>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
}

/// One credited line of a credit note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditLine {
    /// The invoice line: its 0-based index in the invoice's `products`.
    pub line_id: usize,
    #[serde(default)]
    pub product_id: Option<ObjectId>,
    pub item_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hsn_code: Option<String>,
    /// As the return named it (in `unit`, else base units); 0 for an amount-only adjustment.
    pub quantity: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<LineUnit>,
    /// The base units returned.
    pub base_quantity: i64,
    #[serde(default)]
    pub gst_bp: u32,
    #[serde(default)]
    pub cess_bp: u32,
    #[serde(with = "money::db")]
    pub taxable_value: Paise,
    #[serde(with = "money::db")]
    pub cgst: Paise,
    #[serde(with = "money::db")]
    pub sgst: Paise,
    #[serde(with = "money::db")]
    pub igst: Paise,
    #[serde(with = "money::db")]
    pub cess: Paise,
    #[serde(with = "money::db")]
    pub total: Paise,
    /// Where restocked units went: the lots (`batchNo`) and unbatched stock (`null`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restocked: Vec<Allocation>,
}

/// The invoice's GST particulars a credit note repeats (rule 53(1A)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditGst {
    /// The document it corrects.
    pub document_type: DocumentType,
    pub supply_type: SupplyType,
    pub place_of_supply: String,
    pub place_of_supply_name: String,
    pub seller_gstin: String,
    pub seller_legal_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_gstin: Option<String>,
    #[serde(default)]
    pub reverse_charge: bool,
}

/// How a credit note was settled: `refund + duesAdjusted = totalAmount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settlement {
    /// Paid back (the refund payment's amount, positive here).
    #[serde(with = "money::db")]
    pub refund: Paise,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_payment_id: Option<ObjectId>,
    /// Taken off the invoice's pending amount (and the customer's dues).
    #[serde(with = "money::db")]
    pub dues_adjusted: Paise,
}
