//! Wire types of carts, invoices, payments and the dues reports (v1 shapes).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::{
    access::ByWire,
    billing::model::{InvoiceDoc, PaymentDoc, StockWarning},
    error::{AppError, AppResult},
    money::Paise,
    wire,
};

mod cart;
mod gst;
pub use cart::{CartDetailResponse, CartItemResponse, CartItemWire, CartResponse, CartWire};
pub use gst::{InvoiceGstWire, LineTaxWire};

// ---------- requests ----------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateCartRequest {
    pub client_id: Option<String>,
    /// Accepted for v1 compatibility and ignored (the phone identifies the customer).
    pub client_customer_id: Option<String>,
    /// Get-or-create the customer with this phone; `''` means no customer.
    pub client_customer_phone: Option<String>,
    pub client_customer_name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddCartItemRequest {
    pub cart_id: String,
    pub item_id: String,
    /// Ignored: the name snapshot comes from the catalog.
    pub item_name: Option<String>,
    /// Counter price in rupees; when it differs from the catalog price the line records the
    /// override. Omitted: the catalog price.
    #[schema(value_type = Option<f64>)]
    pub unit_price: Option<Paise>,
    pub quantity: i64,
    /// Issue 15: a user without the `price_override` permission (a cashier) sets a counter price
    /// only with an approval token (`POST /api/staff/approvals`) bound to this cart, item,
    /// price and quantity; 403 `APPROVAL_REQUIRED` without one.
    pub approval_token: Option<String>,
    /// Why the counter price differs (recorded in the audit trail).
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoveCartItemRequest {
    pub cart_id: String,
    pub cart_item_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartIdRequest {
    pub cart_id: String,
}

/// B19: invoice from a cart.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerateFromCartRequest {
    pub client_id: Option<String>,
    pub cart_id: String,
    pub client_customer_id: Option<String>,
    pub client_customer_phone: Option<String>,
    pub client_customer_name: Option<String>,
    /// Optional check: when sent it must equal the server's total, else 400.
    #[schema(value_type = Option<f64>)]
    pub total_amount: Option<Paise>,
    /// Paid now (0 <= paid <= total). Default 0.
    #[schema(value_type = Option<f64>)]
    pub paid_amount: Option<Paise>,
    #[schema(value_type = Option<f64>)]
    pub total_tax: Option<Paise>,
    #[schema(value_type = Option<f64>)]
    pub total_discount: Option<Paise>,
    /// Method of the first payment (default `cash`).
    pub payment_method: Option<String>,
    /// Split payment (issue 17; docs/API.md "Split payments"): the parts, each recorded as
    /// its own payment; `paymentMethod` is then ignored and `paidAmount`, when sent, must
    /// equal what the parts pay.
    pub payments: Option<Vec<PaymentPartRequest>>,
    pub notes: Option<String>,
    /// An approval of this very sale (`POST /api/staff/approvals`, action `sale`, issue 15):
    /// needed when the seller may not make it alone (a counter price without the
    /// `price_override` permission, a bill discount above their cap: 403 `APPROVAL_REQUIRED`
    /// without it). Used once, and only for the lines, prices and discount it was issued for.
    pub approval_token: Option<String>,
    /// Issue 17 (shops with a GST profile): the first and second bill discounts (seed 004),
    /// rupees, before tax, shared across the lines in proportion to their value. Not with
    /// `totalDiscount` (which, alone, is taken as one bill discount).
    #[schema(value_type = Option<f64>, example = 25.0)]
    pub discount1_amount: Option<Paise>,
    #[schema(value_type = Option<f64>)]
    pub discount2_amount: Option<Paise>,
    /// Issue 17: the place of supply (a GST state code `27` or a state's name), when it is not
    /// the buyer's state (GSTIN, else billing address) or the shop's.
    #[schema(example = "29")]
    pub place_of_supply: Option<String>,
    /// Issue 17: tax payable on reverse charge (a tax invoice to a registered buyer only).
    pub reverse_charge: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductLineRequest {
    pub product_id: Option<String>,
    /// Ignored: the catalog name is used.
    pub item_name: Option<String>,
    pub item_group: Option<String>,
    pub quantity: i64,
    /// The price the customer was charged, in rupees (a counter price: bargaining is normal);
    /// when it differs from the catalog price the line records `priceOverridden` and keeps
    /// `catalogPrice` beside it. Omitted: the catalog price.
    #[schema(value_type = Option<f64>)]
    pub cost_per_unit: Option<Paise>,
    /// Sell in one of the item's packing units (issue 16): `quantity` and `costPerUnit` count
    /// in it, the stock moves by quantity x factor, the catalog price is the unit's (else
    /// factor x the item's). A unit the item does not sell in: 400 `UNIT_NOT_SOLD`.
    pub unit_id: Option<String>,
    /// For a `hasExpiry` item (issue 16): sell from this batch (ignoring case) first; absent =
    /// first-expiring-first-out by the bill's date. 400 `BATCH_NOT_FOUND` when the item has no
    /// such batch, 400 `BATCH_EXPIRED` when it expired and the shop does not allow selling it.
    pub batch_no: Option<String>,
    /// Issue 17 (shops with a GST profile): a line discount in percent of the line's gross (0
    /// to 100, two decimals), before tax. Not with `discountAmount`.
    #[schema(value_type = Option<f64>, example = 10)]
    pub discount_percent: Option<serde_json::Number>,
    /// Issue 17: a line discount in rupees (on the whole line), before tax.
    #[schema(value_type = Option<f64>, example = 60.0)]
    pub discount_amount: Option<Paise>,
}

/// B20: invoice from a product list (no cart).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerateWithProductsRequest {
    pub client_id: Option<String>,
    /// At least one line (an incomplete sale may send a `cartId` instead).
    #[serde(default)]
    pub products: Vec<ProductLineRequest>,
    pub client_customer_id: Option<String>,
    pub client_customer_phone: Option<String>,
    pub client_customer_name: Option<String>,
    #[schema(value_type = Option<f64>)]
    pub total_amount: Option<Paise>,
    #[schema(value_type = Option<f64>)]
    pub paid_amount: Option<Paise>,
    #[schema(value_type = Option<f64>)]
    pub total_tax: Option<Paise>,
    #[schema(value_type = Option<f64>)]
    pub total_discount: Option<Paise>,
    pub payment_method: Option<String>,
    /// Split payment (issue 17), as on `/invoices/generate`.
    pub payments: Option<Vec<PaymentPartRequest>>,
    pub notes: Option<String>,
    /// For `/invoices/incomplete-sale`: the cart to record instead of a product list.
    pub cart_id: Option<String>,
    /// An approval of this very sale (`POST /api/staff/approvals`, action `sale`, issue 15):
    /// needed when the seller may not make it alone (a counter price without the
    /// `price_override` permission, a bill discount above their cap: 403 `APPROVAL_REQUIRED`
    /// without it). Used once, and only for the lines, prices and discount it was issued for.
    pub approval_token: Option<String>,
    /// A paper bill entered later (issue 17, `/generatewithproducts` only): the invoice keeps
    /// the book leaf's printed number. 400 naming `offlineBillRef.serial` outside the book,
    /// 409 `NUMBER_USED` for a leaf already entered or cancelled.
    pub offline_bill_ref: Option<crate::billing::numbering::dto::OfflineBillRefInput>,
    /// Issue 17 (shops with a GST profile): the first and second bill discounts (seed 004),
    /// rupees, before tax, shared across the lines in proportion to their value. Not with
    /// `totalDiscount` (which, alone, is taken as one bill discount).
    #[schema(value_type = Option<f64>, example = 25.0)]
    pub discount1_amount: Option<Paise>,
    #[schema(value_type = Option<f64>)]
    pub discount2_amount: Option<Paise>,
    /// Issue 17: the place of supply (a GST state code `27` or a state's name), when it is not
    /// the buyer's state (GSTIN, else billing address) or the shop's.
    #[schema(example = "29")]
    pub place_of_supply: Option<String>,
    /// Issue 17: tax payable on reverse charge (a tax invoice to a registered buyer only).
    pub reverse_charge: Option<bool>,
}

/// One part of a split payment (issue 17; docs/API.md "Split payments"). Money in rupees.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentPartRequest {
    /// `cash` `card` `upi` `bank` `cheque` `other`, or `credit`: the part left due (not a
    /// payment; what is due is the total minus what was paid, whatever it says).
    #[schema(example = "upi")]
    pub method: Option<String>,
    /// Rupees, > 0. Required, except on a cash part with `tendered` (then the cash applied is
    /// what is still due after the other parts, at most `tendered`) and on `credit`.
    #[schema(value_type = Option<f64>, example = 100)]
    pub amount: Option<Paise>,
    /// UPI reference, cheque number, ... (at most 50 characters).
    pub reference: Option<String>,
    /// Cash only (one part at most): the notes the customer handed over, rupees; the answer
    /// gives the change (`tender`). Less than `amount` is refused.
    #[schema(value_type = Option<f64>, example = 200)]
    pub tendered: Option<Paise>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayRequest {
    pub client_id: Option<String>,
    pub invoice_id: String,
    /// Rupees, > 0, at most the balance. Required unless `payments` is sent (then, when sent,
    /// it must equal what the parts pay).
    #[schema(value_type = Option<f64>)]
    pub amount: Option<Paise>,
    pub method: Option<String>,
    pub note: Option<String>,
    /// Split payment (issue 17): the parts, each recorded as its own payment; `method` is
    /// then ignored.
    pub payments: Option<Vec<PaymentPartRequest>>,
}

#[derive(Debug, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub client_id: Option<String>,
    pub client_customer_id: Option<String>,
    pub client_customer_phone: Option<String>,
    /// `YYYY-MM-DD` (India) or RFC 3339; inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    /// v1 names of the same bounds (B29/B30).
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    /// B29/B30: `finalized` | `pending` | anything else = all.
    pub status: Option<String>,
    /// Page size (default 100, at most 500).
    pub limit: Option<String>,
    pub offset: Option<String>,
    /// Only what this user did (24-hex user id; the owner's is the shop's id): invoices they
    /// billed (`billedBy.userId`), payments they recorded (`recordedBy.userId`). An unknown or
    /// foreign id matches nothing. Not applied by the purchase history (B24).
    pub user_id: Option<String>,
}

// ---------- responses ----------

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    pub success: bool,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLineWire {
    pub product_id: Option<String>,
    pub item_name: String,
    #[schema(value_type = f64)]
    pub cost_per_unit: Paise,
    pub quantity: i64,
    pub item_group: String,
    #[schema(value_type = f64)]
    pub line_total: Paise,
    /// `costPerUnit` is a counter price that differs from `catalogPrice`.
    pub price_overridden: bool,
    /// The catalog price when the line was sold (0 on invoices stored before it was kept).
    #[schema(value_type = f64)]
    pub catalog_price: Paise,
    /// Issue 16, only on a line sold in a packing unit: the unit (snapshot when sold);
    /// `quantity` and `costPerUnit` count in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "BOX")]
    pub unit_name: Option<String>,
    /// Base units in one unit sold.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 10)]
    pub factor: Option<i64>,
    /// `quantity x factor`: the base units the stock moved by.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 20)]
    pub base_quantity: Option<i64>,
    /// `hasExpiry` items only (issue 16): the lots the units came from
    /// (`{batchNo, expiryDate, quantity}`; `batchNo: null` = units no lot covered).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allocations: Vec<crate::catalog::batch::Allocation>,
    /// The MRP of the unit sold (rupees), when the item has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub mrp: Option<Paise>,
    /// Issue 17 (shops with a GST profile): the line's GST, settled when sold; `lineTotal`
    /// is then the line's total after discounts with tax.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax: Option<LineTaxWire>,
    /// Issue 18: the line's id for a return (`lines[].lineId` of a credit note): its 0-based
    /// index in `products`.
    pub line_id: usize,
    /// Issue 18: what credit notes have taken from the line so far (base units and rupees);
    /// absent when nothing was returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned: Option<ReturnedWire>,
}

/// What credit notes have taken from an invoice line (issue 18), rupees and base units.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReturnedWire {
    pub base_quantity: i64,
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
    #[schema(value_type = f64)]
    pub total: Paise,
}

impl From<&crate::billing::model::Returned> for ReturnedWire {
    fn from(r: &crate::billing::model::Returned) -> Self {
        ReturnedWire {
            base_quantity: r.base_quantity,
            taxable_value: r.taxable_value,
            cgst: r.cgst,
            sgst: r.sgst,
            igst: r.igst,
            cess: r.cess,
            total: r.total,
        }
    }
}

/// Who cancelled an invoice, when and why (issue 18).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancellationWire {
    pub at: String,
    pub by: ByWire,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<crate::approval::Approver>,
}

/// Documentation only: what `clientCustomerId` of an invoice holds.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum CustomerRef {
    Id(String),
    Customer(Box<crate::customer::dto::CustomerWire>),
}

/// An invoice as the app reads it. `clientCustomerId` is a hex id, or the customer document
/// on the routes that populate it (B21, B26, B27). `pendingAmount` = total - paid;
/// `previousBalance` = the customer's dues before this invoice; `remainingBalance` =
/// previousBalance + pendingAmount.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    /// Null for a walk-in sale.
    #[schema(value_type = Option<CustomerRef>)]
    pub client_customer_id: Value,
    pub client_customer_name: String,
    pub client_customer_phone: String,
    pub invoice_number: Option<String>,
    pub kind: String,
    pub invoice_date: String,
    pub due_date: String,
    #[schema(value_type = f64)]
    pub subtotal: Paise,
    #[schema(value_type = f64)]
    pub total_tax: Paise,
    #[schema(value_type = f64)]
    pub total_discount: Paise,
    #[schema(value_type = f64)]
    pub total_amount: Paise,
    #[schema(value_type = f64)]
    pub paid_amount: Paise,
    #[schema(value_type = f64)]
    pub pending_amount: Paise,
    #[schema(value_type = f64)]
    pub previous_balance: Paise,
    #[schema(value_type = f64)]
    pub remaining_balance: Paise,
    /// `Unpaid` | `Partial` | `Paid`.
    pub status: String,
    pub is_finalized: bool,
    pub products: Vec<InvoiceLineWire>,
    pub notes: String,
    pub generated_at: String,
    pub finalized_at: Option<String>,
    /// The device's own reference of an offline sale (sync), when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_ref: Option<String>,
    /// The device's clock reading of an offline sale (sync), as sent; `generatedAt` is this
    /// time but never later than when the server received it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_time: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
    /// Who billed it (`{userId, name}`, the name as it was then); absent on invoices written
    /// before it was recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billed_by: Option<ByWire>,
    /// Why the owner should review this sale: an offline sale made without an approval it
    /// needed (`"price_override: ..."`, `"discount_over_cap: ..."`), applied because it
    /// already happened (issue 15). Absent when there is nothing to review.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub review_flags: Vec<String>,
    /// The manager or admin who approved the sale (`{userId, name, role}`), when it needed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<crate::approval::Approver>,
    /// A paper bill entered later (issue 17): the book leaf whose printed number this
    /// invoice keeps (`{bookId, bookNo, serial}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_bill_ref: Option<crate::billing::numbering::dto::OfflineBillRefWire>,
    /// A v2 device's offline number (issue 17): `{seriesId, seq}` of its series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_series: Option<crate::billing::numbering::dto::SeriesNumberWire>,
    /// Issue 17 (shops with a GST profile): the document's GST particulars and figures
    /// (`subtotal - totalDiscount + totalTax + gst.roundOff = totalAmount`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gst: Option<InvoiceGstWire>,
    /// How it was paid (issue 17), kept from its payments as they were recorded: their one
    /// method (`cash`, `upi`, ...), or `Multiple` when several were used. Absent while
    /// nothing is paid, and on invoices paid before it was kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "Multiple")]
    pub payment_method: Option<String>,
    /// Issue 18: cancelled (it keeps its number; `status` is `Cancelled`). Absent otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_cancelled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<CancellationWire>,
    /// Issue 18: the sum of its credit notes (rupees). `pendingAmount = totalAmount -
    /// creditedAmount - paidAmount`.
    #[schema(value_type = f64)]
    pub credited_amount: Paise,
    /// Issue 18: refunded on it (rupees); `paidAmount` is net of refunds.
    #[schema(value_type = f64)]
    pub refunded_amount: Paise,
}

impl InvoiceWire {
    pub fn from_doc(i: &InvoiceDoc) -> Self {
        Self::with_customer(i, i.client_customer_id.map(|c| Value::String(c.to_hex())).unwrap_or(Value::Null))
    }

    pub fn with_customer(i: &InvoiceDoc, customer: Value) -> Self {
        // issue 18: total − credited − paid (0 once cancelled)
        let pending = i.pending();
        InvoiceWire {
            id: i.id.to_hex(),
            client_id: i.client_id.to_hex(),
            client_customer_id: customer,
            client_customer_name: i.client_customer_name.clone(),
            client_customer_phone: i.client_customer_phone.clone(),
            invoice_number: i.invoice_number.clone(),
            kind: i.kind.clone(),
            invoice_date: i.invoice_date.clone(),
            due_date: i.due_date.clone(),
            subtotal: i.subtotal,
            total_tax: i.total_tax,
            total_discount: i.total_discount,
            total_amount: i.total_amount,
            paid_amount: i.paid_amount,
            pending_amount: pending,
            previous_balance: i.previous_balance,
            remaining_balance: i.previous_balance.checked_add(pending).unwrap_or_default(),
            status: i.status.clone(),
            is_finalized: i.is_finalized,
            products: i
                .products
                .iter()
                .enumerate()
                .map(|(line_id, l)| InvoiceLineWire {
                    product_id: l.product_id.map(|p| p.to_hex()),
                    item_name: l.item_name.clone(),
                    cost_per_unit: l.cost_per_unit,
                    quantity: l.quantity,
                    item_group: l.item_group.clone(),
                    line_total: l.line_total,
                    price_overridden: l.price_overridden,
                    catalog_price: l.catalog_price,
                    unit_id: l.unit.as_ref().map(|u| u.unit_id.to_hex()),
                    unit_name: l.unit.as_ref().map(|u| u.unit_name.clone()),
                    factor: l.unit.as_ref().map(|u| u.factor),
                    base_quantity: l.base_quantity,
                    allocations: l.allocations.clone(),
                    mrp: l.mrp,
                    tax: l.tax.as_ref().map(LineTaxWire::from),
                    line_id,
                    returned: l.returned.as_ref().map(ReturnedWire::from),
                })
                .collect(),
            notes: i.notes.clone(),
            generated_at: wire::iso(i.generated_at),
            finalized_at: i.finalized_at.map(wire::iso),
            device_ref: i.device_ref.clone(),
            device_time: i.device_time.map(wire::iso),
            created_at: wire::iso(i.created_at),
            updated_at: wire::iso(i.updated_at),
            v: i.version,
            billed_by: i.billed_by.as_ref().map(ByWire::from),
            review_flags: i.review_flags.clone(),
            approved_by: i.approved_by.clone(),
            offline_bill_ref: i.offline_bill_ref.as_ref().map(Into::into),
            device_series: i.device_series.as_ref().map(Into::into),
            gst: i.gst.as_ref().map(InvoiceGstWire::from),
            payment_method: i.payment_method.clone(),
            is_cancelled: i.is_cancelled,
            cancellation: i.cancellation.as_ref().map(|c| CancellationWire {
                at: wire::iso(c.at),
                by: ByWire::from(&c.by),
                reason: c.reason.clone(),
                approved_by: c.approved_by.clone(),
            }),
            credited_amount: i.credited_amount,
            refunded_amount: i.refunded_amount,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    pub invoice_id: String,
    #[schema(value_type = f64)]
    pub amount: Paise,
    pub method: String,
    pub note: String,
    /// When the payment counts: the device time of an offline payment, but never later than
    /// the server's receipt time nor earlier than the invoice's `generatedAt`.
    pub paid_at: String,
    /// The device's clock reading of an offline payment (sync), as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_time: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
    /// Who recorded it (`{userId, name}`); absent on payments written before it was recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<ByWire>,
    /// A split part's reference (UPI reference, cheque number), when one was sent (issue 17).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The cash part that carried `tendered` (issue 17): the notes handed over and the change
    /// given back, rupees (`amount` is the cash applied). Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub tendered: Option<Paise>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub change: Option<Paise>,
    /// Issue 18: `refund` for money paid back (`amount` is then negative); absent on a payment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Issue 18: the credit note a refund settles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_note_id: Option<String>,
}

impl From<&PaymentDoc> for PaymentWire {
    fn from(p: &PaymentDoc) -> Self {
        PaymentWire {
            id: p.id.to_hex(),
            client_id: p.client_id.to_hex(),
            invoice_id: p.invoice_id.to_hex(),
            amount: p.amount,
            method: p.method.clone(),
            note: p.note.clone(),
            paid_at: wire::iso(p.paid_at),
            device_time: p.device_time.map(wire::iso),
            created_at: wire::iso(p.created_at),
            updated_at: wire::iso(p.updated_at),
            v: p.version,
            recorded_by: p.recorded_by.as_ref().map(ByWire::from),
            reference: p.reference.clone(),
            tendered: p.tendered,
            change: p.change,
            kind: p.kind.clone(),
            credit_note_id: p.credit_note_id.map(|c| c.to_hex()),
        }
    }
}

/// The cash tendered and the change of a sale or payment whose cash part carried `tendered`
/// (issue 17), rupees: as stored on that payment document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct TenderWire {
    #[schema(value_type = f64, example = 200)]
    pub tendered: Paise,
    #[schema(value_type = f64, example = 69)]
    pub change: Paise,
}

impl TenderWire {
    /// The tender of these payments (the one that carried `tendered`), if any.
    pub fn of<'a>(payments: impl IntoIterator<Item = &'a PaymentDoc>) -> Option<TenderWire> {
        payments.into_iter().find_map(|p| Some(TenderWire { tendered: p.tendered?, change: p.change? }))
    }
}

/// The answer to a sale (B19, B20, incomplete sale).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceResponse {
    pub success: bool,
    pub invoice: InvoiceWire,
    /// The lines of this sale that left their item's stock below zero (shops with
    /// `allowNegativeStock`, the default); empty when none did.
    pub stock_warnings: Vec<StockWarning>,
    /// Split payments (issue 17): the cash tendered and the change, when the sale's cash
    /// part carried `tendered`; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tender: Option<TenderWire>,
}

impl InvoiceResponse {
    /// The answer to the sale that issued `inv` (with its stock warnings and tender).
    pub fn of(inv: &InvoiceDoc) -> Self {
        InvoiceResponse {
            success: true,
            invoice: InvoiceWire::from_doc(inv),
            stock_warnings: inv.stock_warnings.clone(),
            tender: inv.tender.map(|(tendered, change)| TenderWire { tendered, change }),
        }
    }
}

/// The answer of `POST /api/business/invoices/quote` (issue 17): the invoice as it would be
/// issued (no number; nothing written).
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteResponse {
    pub success: bool,
    pub quote: InvoiceWire,
}

/// The answer to a payment (B22). `payment` is the (first) payment recorded; a split
/// payment (issue 17) records one per part, all in `payments`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PayResponse {
    pub success: bool,
    pub payment: PaymentWire,
    pub invoice: InvoiceWire,
    /// Every payment this request recorded, in the order of the parts (one without
    /// `payments`).
    pub payments: Vec<PaymentWire>,
    /// The cash tendered and the change, when the cash part carried `tendered`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tender: Option<TenderWire>,
}

impl PayResponse {
    /// The answer to the payments recorded on `inv` (at least one).
    pub fn of(payments: &[PaymentDoc], inv: &InvoiceDoc) -> AppResult<Self> {
        let first = payments.first().ok_or_else(|| AppError::internal("a payment without a payment document"))?;
        Ok(PayResponse {
            success: true,
            payment: first.into(),
            invoice: InvoiceWire::from_doc(inv),
            payments: payments.iter().map(PaymentWire::from).collect(),
            tender: TenderWire::of(payments),
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentsResponse {
    pub success: bool,
    pub payments: Vec<PaymentWire>,
}
