//! The v1 `/api/sync` batch as the app sends it (contract S1): sections of item, invoice and
//! payment entries, money in rupees (`Paise` here). Moved out of `sync::v1`, which plans and
//! applies them.

use serde::Deserialize;
use utoipa::ToSchema;

use super::*;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct V1Batch {
    pub client_id: Option<String>,
    #[serde(default)]
    pub item: V1Items,
    #[serde(default)]
    pub invoice: V1Invoices,
    #[serde(default)]
    pub payment: V1Payments,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct V1Items {
    #[serde(default)]
    pub create: Vec<V1ItemCreate>,
    #[serde(default)]
    pub update: Vec<V1ItemUpdate>,
    #[serde(default)]
    pub delete: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct V1ItemCreate {
    pub name: String,
    #[schema(value_type = f64)]
    pub price: Paise,
    pub stock: Option<i64>,
    pub low_stock_quantity: Option<i64>,
    pub unit: Option<String>,
    pub group_id: Option<String>,
    pub description: Option<String>,
    /// A brand of this shop (optional, additive; issue 16).
    pub brand_id: Option<String>,
    /// Stock-keeping unit: 1-40 letters, digits and `- _ . /`, unique per shop (leading zeros kept; null clears). Issue 16.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub sku: Option<Option<String>>,
    /// The barcode as printed (leading zeros kept), unique per shop; a 12-digit UPC-A and its 13-digit EAN form are one code. Null clears.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub barcode: Option<Option<String>>,
    /// `gtin` (the GS1 check digit is enforced) or `shop` (letters and digits, no check); default: `gtin` when the check digit holds, else `shop`. Only with `barcode`.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub barcode_type: Option<Option<String>>,
    /// At most 50 characters (null or blank clears).
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub color: Option<Option<String>>,
    /// At most 50 characters (null or blank clears).
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub size: Option<Option<String>>,
    /// Ruling or type (e.g. `single line`), at most 50 characters.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub line_type: Option<Option<String>>,
    /// Free-form attributes: at most 20, keys 1-30 characters, values at most 100.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<Object>, nullable)]
    pub extra: Option<Option<std::collections::BTreeMap<String, String>>>,
    /// Maximum retail price in rupees (> 0); `price` may not exceed it, nor may any sale line. Null: no MRP (loose goods).
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<f64>, nullable)]
    pub mrp: Option<Option<Paise>>,
    /// The item's stock expires (batches come with issue 16's batch work).
    #[serde(default, deserialize_with = "crate::wire::non_null")]
    pub has_expiry: Option<bool>,
    /// An http(s) URL, at most 500 characters.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub image_url: Option<Option<String>>,
    /// GST codes (issue 16): `{hsnCode, uqc, taxability, gstRate, cessRate, effectiveFrom}` or `{rates: [...]}`; null removes the item's own code.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<crate::catalog::tax::TaxIn>, nullable)]
    pub tax: Option<Option<crate::catalog::tax::TaxIn>>,
    /// The product this item is a variant of (a product of this shop; null or blank: standalone). Issue 16.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub variant_of: Option<Option<String>>,
}

impl V1ItemCreate {
    /// The code, attribute and MRP fields sent (issue 16), for `catalog::rules::details`.
    pub fn details_in(&self) -> DetailsIn {
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct V1ItemUpdate {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: Option<String>,
    #[schema(value_type = Option<f64>)]
    pub price: Option<Paise>,
    /// Ignored: sync never overwrites a stock count (use v2 `stockDelta`).
    pub stock: Option<i64>,
    pub low_stock_quantity: Option<i64>,
    pub unit: Option<String>,
    pub group_id: Option<String>,
    pub description: Option<String>,
    /// A brand of this shop (optional, additive; `""` clears it).
    pub brand_id: Option<String>,
    /// Stock-keeping unit: 1-40 letters, digits and `- _ . /`, unique per shop (leading zeros kept; null clears). Issue 16.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub sku: Option<Option<String>>,
    /// The barcode as printed (leading zeros kept), unique per shop; a 12-digit UPC-A and its 13-digit EAN form are one code. Null clears.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub barcode: Option<Option<String>>,
    /// `gtin` (the GS1 check digit is enforced) or `shop` (letters and digits, no check); default: `gtin` when the check digit holds, else `shop`. Only with `barcode`.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub barcode_type: Option<Option<String>>,
    /// At most 50 characters (null or blank clears).
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub color: Option<Option<String>>,
    /// At most 50 characters (null or blank clears).
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub size: Option<Option<String>>,
    /// Ruling or type (e.g. `single line`), at most 50 characters.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub line_type: Option<Option<String>>,
    /// Free-form attributes: at most 20, keys 1-30 characters, values at most 100.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<Object>, nullable)]
    pub extra: Option<Option<std::collections::BTreeMap<String, String>>>,
    /// Maximum retail price in rupees (> 0); `price` may not exceed it, nor may any sale line. Null: no MRP (loose goods).
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<f64>, nullable)]
    pub mrp: Option<Option<Paise>>,
    /// The item's stock expires (batches come with issue 16's batch work).
    #[serde(default, deserialize_with = "crate::wire::non_null")]
    pub has_expiry: Option<bool>,
    /// An http(s) URL, at most 500 characters.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub image_url: Option<Option<String>>,
    /// GST codes (issue 16): `{hsnCode, uqc, taxability, gstRate, cessRate, effectiveFrom}` or `{rates: [...]}`; null removes the item's own code.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<crate::catalog::tax::TaxIn>, nullable)]
    pub tax: Option<Option<crate::catalog::tax::TaxIn>>,
    /// The product this item is a variant of (a product of this shop; null or blank: standalone). Issue 16.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub variant_of: Option<Option<String>>,
    /// The item's `__v` the device last saw (optional, additive). When the item was edited
    /// since and a field sent differs from its current value, the update is not applied and
    /// is listed in `conflicts` (the rest of the batch applies). Without it: applied as sent.
    pub base_version: Option<i32>,
}

impl V1ItemUpdate {
    /// The code, attribute and MRP fields sent (issue 16), for `catalog::rules::details`.
    pub fn details_in(&self) -> DetailsIn {
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

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct V1Invoices {
    #[serde(default)]
    pub create: Vec<V1InvoiceCreate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct V1Line {
    pub product_id: Option<String>,
    pub item_name: String,
    pub item_group: Option<String>,
    pub quantity: i64,
    #[schema(value_type = f64)]
    pub cost_per_unit: Paise,
    /// Issue 16: sell in one of the item's packing units (`quantity` and `costPerUnit` count
    /// in it; the stock moves by quantity x factor). A unit the item does not sell in fails
    /// the batch (400 `UNIT_NOT_SOLD` naming the entry).
    pub unit_id: Option<String>,
    /// For a `hasExpiry` item (issue 16): sell from this batch first (as online B20).
    pub batch_no: Option<String>,
    /// Issue 17: a line discount before tax, in percent (as online B20); not with
    /// `discountAmount`.
    #[schema(value_type = Option<f64>)]
    pub discount_percent: Option<serde_json::Number>,
    /// Issue 17: a line discount before tax, in rupees.
    #[schema(value_type = Option<f64>)]
    pub discount_amount: Option<Paise>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct V1InvoiceCreate {
    pub products: Vec<V1Line>,
    pub client_customer_id: Option<String>,
    pub client_customer_phone: Option<String>,
    pub client_customer_name: Option<String>,
    #[schema(value_type = Option<f64>)]
    pub total_amount: Option<Paise>,
    #[schema(value_type = Option<f64>)]
    pub paid_amount: Option<Paise>,
    /// Split payment (issue 17, additive; docs/API.md "Split payments"): the parts, each
    /// recorded as its own payment; `paidAmount`, when sent, must equal what they pay. Absent:
    /// `paidAmount` in cash, as before.
    pub payments: Option<Vec<crate::billing::dto::PaymentPartRequest>>,
    pub notes: Option<String>,
    /// When the sale happened on the device (RFC 3339); default now. Bounded (5 minutes
    /// ahead, 30 days back); kept as `deviceTime`, the invoice is dated no later than the
    /// server's receipt time.
    pub device_time: Option<String>,
    /// The device's calendar date of the sale (`YYYY-MM-DD`, India), used when no
    /// `deviceTime` is sent: the invoice keeps this date (bounded like `deviceTime`).
    pub invoice_date: Option<String>,
    /// The device's own invoice reference, kept on the invoice. With it the sale is billed
    /// once per (device, reference): the same reference again (any `X-Idempotency-Key`)
    /// issues nothing and is listed in `duplicates` with the first invoice.
    pub device_ref: Option<String>,
    /// A paper bill written while the system was down (issue 17, seed 004): the invoice
    /// keeps the book leaf's printed number instead of taking the next one.
    pub offline_bill_ref: Option<crate::billing::numbering::dto::OfflineBillRefInput>,
    /// Issue 17 (shops with a GST profile), as online B20: the two bill discounts before tax
    /// (rupees), the place of supply, reverse charge. With a profile the tax is the server's;
    /// `totalAmount` must equal its total.
    #[schema(value_type = Option<f64>)]
    pub discount1_amount: Option<Paise>,
    #[schema(value_type = Option<f64>)]
    pub discount2_amount: Option<Paise>,
    pub place_of_supply: Option<String>,
    pub reverse_charge: Option<bool>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct V1Payments {
    #[serde(default)]
    pub create: Vec<V1PaymentCreate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct V1PaymentCreate {
    pub invoice_id: String,
    /// Rupees, > 0; required unless `payments` is sent (then, when sent, it must equal what
    /// the parts pay).
    #[schema(value_type = Option<f64>)]
    pub amount: Option<Paise>,
    pub method: Option<String>,
    pub note: Option<String>,
    /// Split payment (issue 17, additive): the parts, each recorded as its own payment.
    pub payments: Option<Vec<crate::billing::dto::PaymentPartRequest>>,
    /// When the payment was taken on the device (RFC 3339); default now. Bounded; kept as
    /// `deviceTime`, the payment is dated no later than the server's receipt time and no
    /// earlier than its invoice.
    pub paid_at: Option<String>,
}
