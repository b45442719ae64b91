//! Documents of `clientcustomers`: the shop's own buyers, identified by phone per client.

use bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};

pub use crate::address::{Address, ContactPerson};
use crate::money::{self, Paise};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    /// Normalised digits (see `validate::normalize_phone`); unique per client.
    pub phone_number: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub email_id: String,
    #[serde(default)]
    pub gst_no: String,
    /// Sum of the unpaid balances of this customer's invoices, in paise. Maintained by the
    /// billing transactions (`$inc` in the same transaction as the invoice or payment).
    #[serde(with = "money::db", default)]
    pub outstanding_balance: Paise,
    pub first_seen_at: DateTime,
    #[serde(default)]
    pub last_purchase_at: Option<DateTime>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
    /// `individual` (default), `school`, `office` or `business` (seed 004; [`CUSTOMER_TYPES`]).
    #[serde(default = "default_customer_type")]
    pub customer_type: String,
    /// Where invoices are addressed; its `state` decides the place of supply (issue 17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    /// Whom to speak to at a school, office or business.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_person: Option<ContactPerson>,
    /// `active` (default) or `inactive`: a customer with documents is deactivated, never
    /// deleted (GST records are kept 72 months; issue 16).
    #[serde(default = "default_status")]
    pub status: String,
}

/// The kinds of customer (seed 004 `customerType`); the first is the default.
pub const CUSTOMER_TYPES: [&str; 4] = ["individual", "school", "office", "business"];
/// The statuses of a customer; the first is the default.
pub const STATUSES: [&str; 2] = ["active", "inactive"];

fn default_customer_type() -> String {
    CUSTOMER_TYPES[0].to_string()
}

fn default_status() -> String {
    STATUSES[0].to_string()
}

impl CustomerDoc {
    /// A new customer with no dues, no purchase yet and empty optional fields.
    pub fn new(client_id: ObjectId, phone: &str, name: &str, now: DateTime) -> Self {
        CustomerDoc {
            id: ObjectId::new(),
            client_id,
            phone_number: phone.to_string(),
            name: name.to_string(),
            address: String::new(),
            email_id: String::new(),
            gst_no: String::new(),
            outstanding_balance: Paise::ZERO,
            first_seen_at: now,
            last_purchase_at: None,
            created_at: now,
            updated_at: now,
            version: 0,
            customer_type: default_customer_type(),
            billing_address: None,
            shipping_address: None,
            contact_person: None,
            status: default_status(),
        }
    }
}
