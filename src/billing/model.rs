//! Documents of `carts`, `invoices`, `payments`, `purchasehistories` and `counters`.
//! Money is integer paise everywhere.

use bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    access::By,
    money::{self, Paise},
};

pub const CART_OPEN: &str = "open";
pub const CART_INVOICED: &str = "invoiced";

/// A cart with its lines embedded, so lines expire with the cart (TTL on `expiresAt`) and
/// every change is one atomic document update.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    #[serde(default)]
    pub client_customer_id: Option<ObjectId>,
    #[serde(default)]
    pub client_customer_phone: Option<String>,
    /// `open` until invoiced; an invoiced cart cannot change.
    pub status: String,
    #[serde(default)]
    pub invoice_id: Option<ObjectId>,
    #[serde(default)]
    pub lines: Vec<CartLine>,
    pub expires_at: DateTime,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartLine {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub item_id: ObjectId,
    pub item_name_snapshot: String,
    /// The price charged (the catalog price unless the counter price differed).
    #[serde(with = "money::db")]
    pub unit_price_snapshot: Paise,
    /// The catalog price when the line was added.
    #[serde(with = "money::db")]
    pub catalog_price: Paise,
    pub price_overridden: bool,
    pub quantity: i64,
    pub created_at: DateTime,
    /// Who approved the counter price of a user without `price_override` (issue 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<crate::approval::Approver>,
}

impl CartLine {
    pub fn line_total(&self) -> Option<Paise> {
        self.unit_price_snapshot.checked_mul(self.quantity)
    }
}

/// Payment state of an invoice (seed 002).
pub const STATUS_UNPAID: &str = "Unpaid";
pub const STATUS_PARTIAL: &str = "Partial";
pub const STATUS_PAID: &str = "Paid";
/// An invoice cancelled (issue 18): it keeps its number and counts in no sales figure.
pub const STATUS_CANCELLED: &str = "Cancelled";

pub fn status_for(paid: Paise, total: Paise) -> &'static str {
    if paid >= total {
        STATUS_PAID
    } else if paid.is_positive() {
        STATUS_PARTIAL
    } else {
        STATUS_UNPAID
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    #[serde(default)]
    pub client_customer_id: Option<ObjectId>,
    #[serde(default)]
    pub client_customer_name: String,
    #[serde(default)]
    pub client_customer_phone: String,
    /// `INV/26-27/00042`; `None` for an incomplete sale until it is paid in full.
    #[serde(default)]
    pub invoice_number: Option<String>,
    /// Financial year label (`26-27`) and the consecutive number within it.
    #[serde(default)]
    pub financial_year: Option<String>,
    #[serde(default)]
    pub seq: Option<i64>,
    /// `invoice` or `incomplete` (Phase 1 sale kept pending with no number).
    pub kind: String,
    /// `YYYY-MM-DD` in India time.
    pub invoice_date: String,
    pub due_date: String,
    #[serde(with = "money::db")]
    pub subtotal: Paise,
    #[serde(with = "money::db")]
    pub total_tax: Paise,
    #[serde(with = "money::db")]
    pub total_discount: Paise,
    #[serde(with = "money::db")]
    pub total_amount: Paise,
    #[serde(with = "money::db")]
    pub paid_amount: Paise,
    /// The customer's outstanding balance before this invoice (seed 002).
    #[serde(with = "money::db", default)]
    pub previous_balance: Paise,
    pub status: String,
    pub is_finalized: bool,
    pub products: Vec<InvoiceLine>,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub cart_id: Option<ObjectId>,
    pub source: String,
    pub generated_at: DateTime,
    #[serde(default)]
    pub finalized_at: Option<DateTime>,
    /// The device's own reference for an offline sale (kept alongside the server number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_ref: Option<String>,
    /// The device's clock reading of an offline sale, as sent (`generatedAt` is never later
    /// than the server's receipt time: `time::record_time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_time: Option<DateTime>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
    /// Lines of this sale that left their item's stock below zero (set when the sale is
    /// issued, for its answer; never stored).
    #[serde(skip)]
    pub stock_warnings: Vec<StockWarning>,
    /// Who billed it (the signed-in user of the door that wrote it; for a v2 op, the user who
    /// queued it). Invoices written before it existed have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billed_by: Option<By>,
    /// Why this sale needs the owner's review (issue 15): an offline sale made without an
    /// approval it needed (a counter price without `price_override`, a discount above the
    /// seller's cap), applied because it already happened; one text per finding. Also a
    /// flagged `offline_unapproved` audit entry. Empty (absent) otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub review_flags: Vec<String>,
    /// Who approved what the seller could not do alone (an approval token of the whole sale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<crate::approval::Approver>,
    /// A paper bill entered later (issue 17): the leaf of the shop's bill book whose printed
    /// number is `invoiceNumber` (no counter number taken; `seq` stays unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_bill_ref: Option<crate::billing::numbering::OfflineBillRef>,
    /// A v2 device's offline number (issue 17): the device series and the number's sequence in
    /// it; `invoiceNumber` is the number the device printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_series: Option<crate::billing::numbering::SeriesNumber>,
    /// The number series prefix of this invoice (issue 17: each document type has its own);
    /// absent = `INV`, the series of every invoice before issue 17.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// The GST figures and particulars of a sale of a shop with a GST profile (issue 17),
    /// settled once when the sale was made; absent for shops without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gst: Option<InvoiceGst>,
    /// How it was paid (issue 17), kept from its payments as they are recorded
    /// (`decide::tender::method_summary`): their one method (`cash`, `upi`, ...), `Multiple`
    /// when several were used; absent while nothing is paid, and on invoices paid before it
    /// was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    /// The cash tendered and the change of the sale that issued it (set when issued, for its
    /// answer; never stored: the cash payment document keeps them).
    #[serde(skip)]
    pub tender: Option<(Paise, Paise)>,
    /// Cancelled (issue 18, seed 004 `isCancelled`): it keeps its number, shows status
    /// `Cancelled` and counts in no sales or tax figure. Absent (false) otherwise, so filters
    /// use `{$ne: true}`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_cancelled: bool,
    /// Who cancelled it, when and why (issue 18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<Cancellation>,
    /// The sum of the totals of the credit notes against it (issue 18), paise; absent = 0.
    #[serde(with = "money::db", default, skip_serializing_if = "Paise::is_zero")]
    pub credited_amount: Paise,
    /// The sum of the refunds paid out on it (issue 18), paise, positive; absent = 0.
    /// `paidAmount` is net of them (the refund payment documents are negative).
    #[serde(with = "money::db", default, skip_serializing_if = "Paise::is_zero")]
    pub refunded_amount: Paise,
}

impl InvoiceDoc {
    /// What is still due on it (issue 18): `totalAmount - creditedAmount - paidAmount`, never
    /// below 0; 0 once cancelled.
    pub fn pending(&self) -> Paise {
        if self.is_cancelled {
            return Paise::ZERO;
        }
        self.total_amount
            .checked_sub(self.credited_amount)
            .and_then(|v| v.checked_sub(self.paid_amount))
            .filter(|p| !p.is_negative())
            .unwrap_or_default()
    }

    /// Its payment state after its payments and credit notes (issue 18): `Paid` when nothing
    /// is pending, else `Partial` when something is paid (or credited), else `Unpaid`.
    pub fn settled_status(&self) -> &'static str {
        if self.is_cancelled {
            STATUS_CANCELLED
        } else if self.pending().is_zero() {
            STATUS_PAID
        } else if self.paid_amount.is_positive() || self.credited_amount.is_positive() {
            STATUS_PARTIAL
        } else {
            STATUS_UNPAID
        }
    }
}

/// Who cancelled an invoice, when and why (issue 18).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cancellation {
    pub at: DateTime,
    pub by: By,
    pub reason: String,
    /// The manager or admin who approved a cashier's cancel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<crate::approval::Approver>,
}

/// What credit notes have taken from one invoice line so far (issue 18): base units and
/// paise, summed over the notes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Returned {
    pub base_quantity: i64,
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
    /// Where the restocked units went so far (lots by `batchNo`, unbatched `null`), summed
    /// per lot: a later return walks the line's `allocations` after these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restocked: Vec<crate::catalog::batch::Allocation>,
}

/// Which document a sale is (issue 17; CGST rules 46, 46A, 49).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum DocumentType {
    /// A registered (regular) shop's invoice with tax (rule 46).
    TaxInvoice,
    /// No tax charged: a composition shop's bill, or a regular shop's sale of only nil-rated,
    /// exempt or non-GST goods (rule 49).
    BillOfSupply,
    /// A regular shop's sale of taxable and untaxed goods to an unregistered buyer (rule 46A).
    InvoiceCumBillOfSupply,
    /// An unregistered shop's plain bill (no GST particulars).
    Bill,
}

/// Within the shop's state (CGST + SGST) or across states (IGST) (IGST Act ss.7-8, 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SupplyType {
    IntraState,
    InterState,
}

/// The GST particulars and figures of an invoice (issue 17). Every figure is a sum of the
/// stored line figures (`InvoiceLine::tax`), plus the round-off; money in paise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceGst {
    pub document_type: DocumentType,
    pub supply_type: SupplyType,
    /// Place of supply: GST state code and name (`"27"`, `Maharashtra`).
    pub place_of_supply: String,
    pub place_of_supply_name: String,
    /// Whether the place of supply was set on the invoice (else decided from the buyer).
    #[serde(default)]
    pub place_of_supply_overridden: bool,
    /// The shop as it was when the sale was made (its GST profile).
    pub seller_gstin: String,
    pub seller_legal_name: String,
    pub seller_trade_name: String,
    pub seller_state: String,
    /// `regular` | `composition` | `unregistered`.
    pub gst_scheme: crate::client::gst::Scheme,
    /// The buyer's GSTIN (a B2B sale); absent for an unregistered buyer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_gstin: Option<String>,
    /// Tax payable on reverse charge (rule 46(p)); a registered buyer only.
    #[serde(default)]
    pub reverse_charge: bool,
    /// The shop's pricing when the sale was made (a line may differ: its `tax`).
    pub prices_include_tax: bool,
    /// The bill discounts (seed 004 `discount1Amount`, `discount2Amount`), before tax.
    #[serde(with = "money::db", default)]
    pub discount1: Paise,
    #[serde(with = "money::db", default)]
    pub discount2: Paise,
    /// Sum of the lines' discounts (line discount + share of the bill discounts).
    #[serde(with = "money::db")]
    pub total_discount: Paise,
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
    /// The round-off line: nearest rupee - sum of the line totals (-0.49 to +0.50).
    #[serde(with = "money::db")]
    pub round_off: Paise,
    /// Printed on the document: the composition legend (rule 5(1)(g)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legend: Option<String>,
}

/// One line's GST, settled once when the sale was made (issue 17; `crate::gst`). Money in
/// paise, rates in basis points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineTax {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hsn_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uqc: Option<String>,
    pub taxability: crate::catalog::tax::Taxability,
    /// The rate in force on the invoice's India date.
    pub gst_bp: u32,
    #[serde(default)]
    pub cess_bp: u32,
    pub prices_include_tax: bool,
    /// `quantity x costPerUnit`.
    #[serde(with = "money::db")]
    pub gross: Paise,
    /// The line discount (an amount, or a percent of the gross: `discountBp`).
    #[serde(with = "money::db")]
    pub discount: Paise,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_bp: Option<u32>,
    /// Its share of the bill discounts.
    #[serde(with = "money::db")]
    pub bill_discount_share: Paise,
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
    /// `taxableValue + cgst + sgst + igst + cess` (= the line's `lineTotal`).
    #[serde(with = "money::db")]
    pub total: Paise,
}

/// A line of a sale that left its item's stock below zero (the shop allows negative stock,
/// or the sale came through sync). Shown in the sale's answer as `stockWarnings[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockWarning {
    /// The item (hex id).
    pub product_id: String,
    pub item_name: String,
    /// Base units this line sold.
    pub quantity: i64,
    /// The item's stock right after this line (negative).
    pub stock: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLine {
    pub product_id: Option<ObjectId>,
    pub item_name: String,
    #[serde(default)]
    pub item_group: String,
    #[serde(with = "money::db")]
    pub cost_per_unit: Paise,
    pub quantity: i64,
    #[serde(with = "money::db")]
    pub line_total: Paise,
    /// `costPerUnit` differs from the catalog price (a counter price).
    #[serde(default)]
    pub price_overridden: bool,
    /// The catalog price when the line was sold (kept beside a counter price). Invoices
    /// stored before it existed read 0.
    #[serde(with = "money::db", default)]
    pub catalog_price: Paise,
    /// The packing unit the line sold in (issue 16): a snapshot of the unit when sold; absent
    /// on a plain line (sold in the item's base unit). `quantity` and `costPerUnit` count in
    /// this unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<LineUnit>,
    /// The quantity in base units (`quantity x factor`): what the stock moved by. Absent on a
    /// plain line (= `quantity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_quantity: Option<i64>,
    /// Where the units came from, for a `hasExpiry` item (issue 16): the lots taken
    /// (first-expiring-first-out by the bill's date, or the named batch) and the units no lot
    /// covered (`batchNo: null`). Empty for other items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allocations: Vec<crate::catalog::batch::Allocation>,
    /// The MRP of the unit sold, when the item has one (issue 16/17: a line's price with tax
    /// never exceeds it).
    #[serde(with = "crate::catalog::model::opt_paise", default, skip_serializing_if = "Option::is_none")]
    pub mrp: Option<Paise>,
    /// The line's GST (issue 17; shops with a GST profile). `lineTotal` is then the line's
    /// total after discounts with tax.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<LineTax>,
    /// What credit notes have taken from this line so far (issue 18); absent = nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned: Option<Returned>,
}

/// The snapshot of the packing unit a sale line sold in (issue 16).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineUnit {
    pub unit_id: ObjectId,
    pub unit_name: String,
    /// Base units in one unit sold.
    pub factor: i64,
}

impl InvoiceLine {
    /// The base units the line moved (its `baseQuantity`, else its `quantity`).
    pub fn base_units(&self) -> i64 {
        self.base_quantity.unwrap_or(self.quantity)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub invoice_id: ObjectId,
    #[serde(with = "money::db")]
    pub amount: Paise,
    pub method: String,
    #[serde(default)]
    pub note: String,
    /// When the payment counts: the device time, but never later than the server's receipt
    /// time nor earlier than its invoice's `generatedAt`.
    pub paid_at: DateTime,
    /// The device's clock reading of an offline payment, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_time: Option<DateTime>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
    /// Who recorded it (for the payment taken with a sale: who billed the sale). Payments
    /// written before it existed have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<By>,
    /// A split part's reference (UPI reference, cheque number; at most 50 characters).
    /// Absent when none was sent (issue 17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The cash part of a split payment that carried `tendered` (issue 17): the notes handed
    /// over and the change given back (`tendered - amount`), paise. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::db_opt")]
    pub tendered: Option<Paise>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "money::db_opt")]
    pub change: Option<Paise>,
    /// `refund` (issue 18): money paid back (its `amount` is negative); absent on a payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The credit note a refund settles (absent for a cancel's refund).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_note_id: Option<ObjectId>,
}

/// `PaymentDoc::kind` of a refund (issue 18).
pub const KIND_REFUND: &str = "refund";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseHistoryDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub client_customer_id: ObjectId,
    #[serde(default)]
    pub client_customer_phone: String,
    pub invoice_id: ObjectId,
    #[serde(with = "money::db")]
    pub total_amount: Paise,
    pub purchased_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
}

/// The methods a payment may be recorded in (`cheque` added with split payments, issue 17).
/// A split part may also say `credit` (`decide::tender::CREDIT`: left due, not a payment).
pub const METHODS: &[&str] = &["cash", "card", "upi", "bank", "cheque", "other"];
