//! The payloads of v2 operations as the device sends them (unknown keys refused), parsed by
//! `sync::ops::parse_action` into typed actions. Money in rupees on the wire (`Paise` here).

use serde::Deserialize;

use super::*;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ItemP {
    pub(super) id: Option<String>,
    pub(super) item_op_id: Option<String>,
    pub(super) name: Option<String>,
    pub(super) price: Option<Paise>,
    pub(super) stock: Option<i64>,
    pub(super) stock_delta: Option<i64>,
    /// Why `stockDelta` moves stock (issue 16): an adjustment kind, default `other`.
    pub(super) stock_reason: Option<String>,
    /// A note on the stock move (up to 200 characters).
    pub(super) stock_note: Option<String>,
    pub(super) low_stock_quantity: Option<i64>,
    pub(super) unit: Option<String>,
    pub(super) group_id: Option<String>,
    pub(super) brand_id: Option<String>,
    pub(super) description: Option<String>,
    pub(super) base_version: Option<i32>,
    /// Stock-keeping unit: 1-40 letters, digits and `- _ . /`, unique per shop (leading zeros kept; null clears). Issue 16.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    pub(super) sku: Option<Option<String>>,
    /// The barcode as printed (leading zeros kept), unique per shop; a 12-digit UPC-A and its 13-digit EAN form are one code. Null clears.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    pub(super) barcode: Option<Option<String>>,
    /// `gtin` (the GS1 check digit is enforced) or `shop` (letters and digits, no check); default: `gtin` when the check digit holds, else `shop`. Only with `barcode`.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    pub(super) barcode_type: Option<Option<String>>,
    /// At most 50 characters (null or blank clears).
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    pub(super) color: Option<Option<String>>,
    /// At most 50 characters (null or blank clears).
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    pub(super) size: Option<Option<String>>,
    /// Ruling or type (e.g. `single line`), at most 50 characters.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    pub(super) line_type: Option<Option<String>>,
    /// Free-form attributes: at most 20, keys 1-30 characters, values at most 100.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    pub(super) extra: Option<Option<std::collections::BTreeMap<String, String>>>,
    /// Maximum retail price in rupees (> 0); `price` may not exceed it, nor may any sale line. Null: no MRP (loose goods).
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    pub(super) mrp: Option<Option<Paise>>,
    /// The item's stock expires (batches come with issue 16's batch work).
    #[serde(default, deserialize_with = "crate::wire::non_null")]
    pub(super) has_expiry: Option<bool>,
    /// An http(s) URL, at most 500 characters.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    pub(super) image_url: Option<Option<String>>,
    /// GST codes (issue 16): `{hsnCode, uqc, taxability, gstRate, cessRate, effectiveFrom}` or `{rates: [...]}`; null removes the item's own code.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    pub(super) tax: Option<Option<crate::catalog::tax::TaxIn>>,
    /// The product this item is a variant of (a product of this shop; null or blank: standalone). Issue 16.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    pub(super) variant_of: Option<Option<String>>,
}

impl ItemP {
    /// The code, attribute and MRP fields sent (issue 16), for `catalog::rules::details`.
    pub(super) fn details_in(&self) -> DetailsIn {
        DetailsIn {
            sku: self.sku.clone(),
            barcode: self.barcode.clone(),
            barcode_type: self.barcode_type.clone(),
            color: self.color.clone(),
            size: self.size.clone(),
            line_type: self.line_type.clone(),
            extra: self.extra.clone(),
            mrp: self.mrp,
            has_expiry: self.has_expiry,
            image_url: self.image_url.clone(),
            tax: self.tax.clone(),
            variant_of: self.variant_of.clone(),
            ..Default::default()
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct CustomerP {
    pub(super) id: Option<String>,
    pub(super) customer_op_id: Option<String>,
    pub(super) phone_number: Option<String>,
    pub(super) name: Option<String>,
    pub(super) address: Option<String>,
    pub(super) email_id: Option<String>,
    pub(super) gst_no: Option<String>,
    pub(super) customer_type: Option<String>,
    pub(super) billing_address: Option<Address>,
    pub(super) shipping_address: Option<Address>,
    pub(super) contact_person: Option<ContactPerson>,
    pub(super) status: Option<String>,
    pub(super) base_version: Option<i32>,
}

impl CustomerP {
    /// The optional and profile fields (checked by `customer::rules` in the decider).
    pub(super) fn extra(&mut self) -> OptionalInput {
        OptionalInput {
            address: self.address.take(),
            email_id: self.email_id.take(),
            gst_no: self.gst_no.take(),
            profile: ProfileInput {
                customer_type: self.customer_type.take(),
                billing_address: self.billing_address.take(),
                shipping_address: self.shipping_address.take(),
                contact_person: self.contact_person.take(),
                status: self.status.take(),
            },
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct LineP {
    pub(super) product_id: Option<String>,
    pub(super) product_op_id: Option<String>,
    pub(super) quantity: i64,
    pub(super) cost_per_unit: Option<Paise>,
    /// Issue 16: the packing unit of the line.
    pub(super) unit_id: Option<String>,
    #[allow(dead_code)]
    pub(super) item_name: Option<String>,
    #[allow(dead_code)]
    pub(super) item_group: Option<String>,
    /// The batch sold (issue 16).
    pub(super) batch_no: Option<String>,
    /// A scanned code instead of `productId` (issue 16; resolved before parsing by
    /// `sync::codes`: one still here names no item of the shop).
    pub(super) code: Option<String>,
    /// Issue 17: a line discount before tax (percent, or rupees), as online B20.
    pub(super) discount_percent: Option<serde_json::Number>,
    pub(super) discount_amount: Option<Paise>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct InvoiceP {
    pub(super) products: Vec<LineP>,
    pub(super) client_customer_id: Option<String>,
    pub(super) client_customer_phone: Option<String>,
    pub(super) client_customer_name: Option<String>,
    pub(super) total_amount: Option<Paise>,
    pub(super) total_tax: Option<Paise>,
    pub(super) total_discount: Option<Paise>,
    pub(super) paid_amount: Option<Paise>,
    pub(super) method: Option<String>,
    /// Split payment (issue 17): the parts, each recorded as its own payment.
    pub(super) payments: Option<Vec<crate::billing::dto::PaymentPartRequest>>,
    pub(super) notes: Option<String>,
    pub(super) device_ref: Option<String>,
    /// A paper bill book's leaf (issue 17): the invoice keeps its printed number.
    pub(super) offline_bill_ref: Option<crate::billing::numbering::dto::OfflineBillRefInput>,
    /// The number the device gave the bill in its own series (issue 17, `POST
    /// /api/v2/sync/series`): kept when it is the device's and unused.
    pub(super) invoice_number: Option<String>,
    /// Issue 17 (shops with a GST profile): the bill discounts, place of supply and reverse
    /// charge, as online B20.
    pub(super) discount1_amount: Option<Paise>,
    pub(super) discount2_amount: Option<Paise>,
    pub(super) place_of_supply: Option<String>,
    pub(super) reverse_charge: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct PaymentP {
    pub(super) invoice_id: Option<String>,
    pub(super) invoice_op_id: Option<String>,
    /// Required unless `payments` is sent.
    pub(super) amount: Option<Paise>,
    pub(super) method: Option<String>,
    pub(super) note: Option<String>,
    /// Split payment (issue 17): the parts, each recorded as its own payment.
    pub(super) payments: Option<Vec<crate::billing::dto::PaymentPartRequest>>,
}

/// `invoice cancel` (issue 18): the online cancel request (`billing::credit::dto::CancelRequest`,
/// checked by its `check_cancel`), plus the invoice by server id or by the opId of its sale.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct CancelP {
    pub(super) invoice_id: Option<String>,
    pub(super) invoice_op_id: Option<String>,
    pub(super) reason: String,
    pub(super) refund: Option<crate::billing::credit::dto::RefundRequest>,
    pub(super) approval_token: Option<String>,
}

impl CancelP {
    /// The online request it carries (for the online field rules).
    pub(super) fn request(&self) -> crate::billing::credit::dto::CancelRequest {
        crate::billing::credit::dto::CancelRequest {
            reason: self.reason.clone(),
            refund: self.refund.clone(),
            approval_token: self.approval_token.clone(),
        }
    }
}

/// `creditNote create` (issue 18): the online credit-note request
/// (`billing::credit::dto::CreditNoteRequest`, checked by its `check_note`), plus the invoice
/// by opId and the device's reference of the note.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct CreditNoteP {
    pub(super) invoice_id: Option<String>,
    pub(super) invoice_op_id: Option<String>,
    #[serde(default)]
    pub(super) lines: Vec<crate::billing::credit::dto::ReturnLineRequest>,
    pub(super) amount: Option<Paise>,
    pub(super) restock: Option<bool>,
    pub(super) settlement: crate::billing::credit::dto::SettlementRequest,
    pub(super) reason: String,
    pub(super) approval_token: Option<String>,
    pub(super) device_ref: Option<String>,
}

impl CreditNoteP {
    /// The online request it carries (its `invoiceId` is resolved separately).
    pub(super) fn request(&self) -> crate::billing::credit::dto::CreditNoteRequest {
        crate::billing::credit::dto::CreditNoteRequest {
            invoice_id: String::new(),
            lines: self.lines.clone(),
            amount: self.amount,
            restock: self.restock,
            settlement: self.settlement.clone(),
            reason: self.reason.clone(),
            approval_token: self.approval_token.clone(),
        }
    }
}
