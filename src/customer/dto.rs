//! Wire types of the shop's customers (v1 keys: `clientCustomer`, `clientCustomers`, `isNew`).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    customer::model::{Address, ContactPerson, CustomerDoc},
    money::Paise,
    wire,
};

/// A customer as the app reads it. `outstandingBalance` is in rupees.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    #[schema(example = "9891112222")]
    pub phone_number: String,
    pub name: String,
    pub address: String,
    pub email_id: String,
    pub gst_no: String,
    /// Unpaid balance of this customer's invoices, rupees (maintained by billing).
    #[schema(value_type = f64, example = 0)]
    pub outstanding_balance: Paise,
    pub first_seen_at: String,
    pub last_purchase_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
    /// `individual`, `school`, `office` or `business` (issue 16).
    pub customer_type: String,
    pub billing_address: Option<Address>,
    pub shipping_address: Option<Address>,
    pub contact_person: Option<ContactPerson>,
    /// `active` or `inactive` (a deleted customer with documents is kept inactive).
    pub status: String,
}

impl From<CustomerDoc> for CustomerWire {
    fn from(c: CustomerDoc) -> Self {
        CustomerWire {
            id: c.id.to_hex(),
            client_id: c.client_id.to_hex(),
            phone_number: c.phone_number,
            name: c.name,
            address: c.address,
            email_id: c.email_id,
            gst_no: c.gst_no,
            outstanding_balance: c.outstanding_balance,
            first_seen_at: wire::iso(c.first_seen_at),
            last_purchase_at: c.last_purchase_at.map(wire::iso),
            created_at: wire::iso(c.created_at),
            updated_at: wire::iso(c.updated_at),
            v: c.version,
            customer_type: c.customer_type,
            billing_address: c.billing_address,
            shipping_address: c.shipping_address,
            contact_person: c.contact_person,
            status: c.status,
        }
    }
}

/// B9 answer (201 for a new and for an existing customer, as v1).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateCustomerResponse {
    pub success: bool,
    pub client_customer: CustomerWire,
    /// `false` when the phone was already a customer of this shop.
    pub is_new: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerResponse {
    pub success: bool,
    pub client_customer: CustomerWire,
}

/// B11 answer: the customer, or `null` when the phone is not a customer (200, as v1).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MaybeCustomerResponse {
    pub success: bool,
    pub client_customer: Option<CustomerWire>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomersResponse {
    pub success: bool,
    pub client_customers: Vec<CustomerWire>,
    /// Only when `limit` was sent: the `cursor` of the next page, `null` on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub next_cursor: Option<Option<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDeletedResponse {
    pub success: bool,
    /// `Customer deleted` (v1 text, also when the customer was deactivated).
    pub message: String,
    /// `true` when the customer has documents and was deactivated (`status: inactive`) instead
    /// of deleted (GST records are kept; issue 16).
    pub deactivated: bool,
}

/// B9: get-or-create by phone. The optional fields follow `clientSettings.customerFields`
/// (see docs/API.md): enabled = stored (and required for a new customer), disabled = ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCustomerRequest {
    /// Optional; when sent it must be the token's client (403 otherwise).
    pub client_id: Option<String>,
    /// Normalised to digits (`+91`/`0` prefixes dropped), 10-15 digits. Sent as `phone` (v1;
    /// `phoneNumber` is accepted as an alias) and answered as `clientCustomer.phoneNumber`.
    #[serde(alias = "phoneNumber")]
    #[schema(example = "9891112222")]
    pub phone: String,
    /// 2-100 characters; a new customer without one is named `clientCustomer`.
    pub name: Option<String>,
    pub address: Option<String>,
    /// A valid email or `''`.
    pub email_id: Option<String>,
    /// A valid GSTIN (checked with its check character) or `''`; with a billing state, its
    /// first two digits must be that state's code.
    pub gst_no: Option<String>,
    /// `individual` (default), `school`, `office` or `business`.
    pub customer_type: Option<String>,
    pub billing_address: Option<Address>,
    pub shipping_address: Option<Address>,
    pub contact_person: Option<ContactPerson>,
    /// `active` (default) or `inactive`.
    pub status: Option<String>,
}

/// B12: the phone cannot change (`phone` is accepted and ignored, as v1). Enabled optional
/// fields are stored when sent (`''` clears) and never required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCustomerRequest {
    pub client_id: Option<String>,
    /// Ignored: the phone number is the customer's identity.
    #[serde(alias = "phoneNumber")]
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub address: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub email_id: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub gst_no: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub customer_type: Option<String>,
    /// An address with every field `''` clears the stored one.
    #[serde(default, deserialize_with = "wire::non_null")]
    pub billing_address: Option<Address>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub shipping_address: Option<Address>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub contact_person: Option<ContactPerson>,
    /// `active` or `inactive` (reactivates a deactivated customer).
    #[serde(default, deserialize_with = "wire::non_null")]
    pub status: Option<String>,
}

/// B10 query. Without `limit` the whole list is returned, as in v1.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListCustomersQuery {
    /// Name word prefix (case-insensitive) or phone prefix (digits).
    pub q: Option<String>,
    /// Alias of `q`.
    pub search: Option<String>,
    /// Page size, 1-200 (larger values are capped at 200).
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Only customers of this status (`active`, `inactive`); all when absent.
    pub status: Option<String>,
    /// Only customers of this type (`individual`, `school`, `office`, `business`).
    pub customer_type: Option<String>,
}
