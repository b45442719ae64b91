//! The `clients` collection: one document per shop (tenant).

use bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub phone_number: String,
    pub owner_name: String,
    pub business_name: String,
    #[serde(default)]
    pub shop_name: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub gstin: String,
    #[serde(default)]
    pub profile_url: String,
    #[serde(default)]
    pub client_settings: ClientSettings,
    /// The shop's GST profile (issue 17); absent: bills as before (the app's `totalTax`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gst_profile: Option<crate::client::gst::GstProfile>,
    /// argon2id PHC string; absent until the owner sets a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    pub is_active: bool,
    #[serde(default)]
    pub last_login_at: Option<DateTime>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
}

/// Per-shop preferences. Every flag defaults to `false` when missing, except
/// `billing.allowNegativeStock` (`true`: v1 never refused a sale for stock).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientSettings {
    pub customer_fields: CustomerFields,
    pub billing: BillingSettings,
    pub purchases: PurchaseSettings,
    pub staff: StaffSettings,
    /// Catalog preferences (issue 16); absent when default.
    #[serde(skip_serializing_if = "CatalogSettings::is_default")]
    pub catalog: CatalogSettings,
}

/// Catalog preferences of a shop (issue 16).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct CatalogSettings {
    /// The layout of the shop scale's weighed-goods labels (EAN-13 starting with 2), e.g.
    /// `20-IIII-V-PPPPP-C`: the prefix digits, `I` the item's shop code, `V` the price check
    /// digit (optional), `P` the price in paise, `C` the EAN-13 check digit
    /// (`crate::barcode::ScaleLayout`). `GET /api/business/items/lookup` reads such a label
    /// as the item with that code and the printed amount. Absent: no scale labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "20-IIII-V-PPPPP-C")]
    pub scale_label: Option<String>,
    /// Let a sale line name an expired batch (`batchNo`) and sell it; otherwise such a line
    /// is refused (400 `BATCH_EXPIRED`). An expired batch is never picked automatically
    /// either way (issue 16).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_expired_sale: bool,
}

impl CatalogSettings {
    /// Nothing set.
    pub fn is_default(&self) -> bool {
        *self == CatalogSettings::default()
    }
}

/// Staff rules of a shop (issue 15).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct StaffSettings {
    /// The shop's changes to a role's default permissions (`access::Role::defaults`), e.g.
    /// `{"cashier": {"grant": ["cancel"], "deny": []}}`. The `super_admin` always holds every
    /// permission whatever this says.
    pub role_grants: std::collections::BTreeMap<crate::access::Role, crate::access::Grants>,
    /// Seats: how many different users may be signed in at once (`None`: no limit). A login
    /// that would exceed it is 409 `SEATS_FULL`; the owner is never refused.
    pub max_active_users: Option<u32>,
}

/// Buying from dealers.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct PurchaseSettings {
    /// How much more than ordered a delivery (D12) may receive, in whole percent of the
    /// ordered quantity (0-100, default 0: never more than ordered), as ERPNext's "over
    /// delivery/receipt allowance". Ordered 10 with 10 %: at most 11 received; more is 409
    /// `OVER_RECEIPT`.
    pub over_receipt_allowance_percent: i64,
}

/// Largest `overReceiptAllowancePercent`.
pub const MAX_OVER_RECEIPT_PERCENT: i64 = 100;

impl ClientSettings {
    /// The range checks of the settings (register and profile update).
    pub fn check(&self, e: &mut crate::validate::Errors) {
        check_allowance(e, self.purchases.over_receipt_allowance_percent);
        if let Some(l) = &self.catalog.scale_label {
            if let Err(m) = crate::barcode::ScaleLayout::parse(l) {
                e.add("clientSettings.catalog.scaleLabel", m);
            }
        }
    }
}

/// `clientSettings.purchases.overReceiptAllowancePercent` is a whole number 0-100.
pub fn check_allowance(e: &mut crate::validate::Errors, v: i64) {
    e.check(
        (0..=MAX_OVER_RECEIPT_PERCENT).contains(&v),
        "clientSettings.purchases.overReceiptAllowancePercent",
        "must be a whole number from 0 to 100",
    );
}

/// Which optional customer fields the shop collects. An enabled field is stored and
/// required when a customer is created; disabled fields are not stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomerFields {
    pub address: bool,
    pub gst_no: bool,
    pub email_id: bool,
}

/// Billing rules of a shop. A missing flag takes its [`Default`] (so a stored document
/// without `allowNegativeStock` reads as `true`; migration 0008 also writes it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct BillingSettings {
    /// Phase 1 rule: `/invoices/generate` refuses `paid < total`; use `/invoices/incomplete-sale`.
    /// Default `false`.
    pub require_full_payment: bool,
    /// Let a sale take stock below zero (it then shows as negative and low stock, and the
    /// sale's answer lists the lines in `stockWarnings`). Default `true`: most small shops
    /// never enter stock, and the goods are already in the customer's hand (v1 never
    /// refused a sale for stock). `false` = strict: a short sale is 409 `INSUFFICIENT_STOCK`.
    #[schema(default = true)]
    pub allow_negative_stock: bool,
}

impl Default for BillingSettings {
    fn default() -> Self {
        BillingSettings { require_full_payment: false, allow_negative_stock: true }
    }
}
