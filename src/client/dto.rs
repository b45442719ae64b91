//! Wire types of the client profile.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    client::model::{ClientDoc, ClientSettings},
    wire,
};

/// The profile as the app reads it (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub phone_number: String,
    pub owner_name: String,
    pub business_name: String,
    pub shop_name: String,
    pub location: String,
    pub city: String,
    pub state: String,
    pub gstin: String,
    pub profile_url: String,
    pub client_settings: ClientSettings,
    /// Whether a password is set (password login available).
    pub has_password: bool,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
    pub last_login_at: Option<String>,
    #[serde(rename = "__v")]
    pub v: i32,
}

impl From<ClientDoc> for ClientWire {
    fn from(c: ClientDoc) -> Self {
        ClientWire {
            id: c.id.to_hex(),
            phone_number: c.phone_number,
            owner_name: c.owner_name,
            business_name: c.business_name,
            shop_name: c.shop_name,
            location: c.location,
            city: c.city,
            state: c.state,
            gstin: c.gstin,
            profile_url: c.profile_url,
            client_settings: c.client_settings,
            has_password: c.password_hash.is_some(),
            is_active: c.is_active,
            created_at: wire::iso(c.created_at),
            updated_at: wire::iso(c.updated_at),
            last_login_at: c.last_login_at.map(wire::iso),
            v: c.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientResponse {
    pub success: bool,
    pub client: ClientWire,
}

/// Profile update: only these fields; anything else (`isActive`, `_id`, timestamps, ...)
/// is refused with 400. `phoneNumber` is accepted for v1 compatibility and ignored (the
/// phone cannot change).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateClientRequest {
    pub owner_name: Option<String>,
    pub business_name: Option<String>,
    pub shop_name: Option<String>,
    pub location: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub gstin: Option<String>,
    pub profile_url: Option<String>,
    pub client_settings: Option<SettingsPatch>,
    /// Set or change the login password (8-128 characters).
    pub password: Option<String>,
    /// Required to change an existing password.
    pub current_password: Option<String>,
    /// Ignored: the phone number cannot be changed.
    pub phone_number: Option<String>,
    /// Must be the token's client when sent.
    pub client_id: Option<String>,
}

/// Per-flag merge: unsent flags keep their stored value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsPatch {
    pub customer_fields: Option<CustomerFieldsPatch>,
    pub billing: Option<BillingPatch>,
    pub purchases: Option<PurchasesPatch>,
    pub staff: Option<StaffPatch>,
    pub catalog: Option<CatalogPatch>,
}

/// `clientSettings.catalog` of a profile update (issue 16; unsent fields keep their value).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogPatch {
    /// The weighed-goods label layout, e.g. `20-IIII-V-PPPPP-C` (see `CatalogSettings`); null
    /// removes it.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<String>, nullable, example = "20-IIII-V-PPPPP-C")]
    pub scale_label: Option<Option<String>>,
    /// Allow selling a batch that has expired when a line names it (see `CatalogSettings`).
    pub allow_expired_sale: Option<bool>,
}

/// `clientSettings.staff` of a profile update (issue 15; unsent fields keep their value).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StaffPatch {
    /// A role's grants and denials for this shop, replacing that role's stored ones (roles not
    /// sent keep theirs). `super_admin` cannot be changed (400).
    pub role_grants: Option<std::collections::BTreeMap<crate::access::Role, crate::access::Grants>>,
    /// Seats: how many different users may be signed in at once, 1-1000; 0 removes the limit.
    pub max_active_users: Option<u32>,
}

/// `clientSettings.purchases` of a profile update (unsent fields keep their value).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PurchasesPatch {
    /// Whole percent 0-100 (see `PurchaseSettings`).
    pub over_receipt_allowance_percent: Option<i64>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerFieldsPatch {
    pub address: Option<bool>,
    pub gst_no: Option<bool>,
    pub email_id: Option<bool>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BillingPatch {
    pub require_full_payment: Option<bool>,
    pub allow_negative_stock: Option<bool>,
}
