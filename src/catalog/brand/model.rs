//! Documents of `companies` and `brands`.

use bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};

use crate::address::{Address, ContactPerson};

/// The collection of companies.
pub const COMPANIES: &str = "companies";
/// The collection of brands.
pub const BRANDS: &str = "brands";

/// A company (manufacturer or marketer) the shop buys brands of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanyDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub name: String,
    /// [`name_key`] of `name`: unique per shop.
    pub name_key: String,
    #[serde(default)]
    pub address: Option<Address>,
    #[serde(default)]
    pub contact_person: Option<ContactPerson>,
    /// Normalised digits, or `''`.
    #[serde(default)]
    pub phone_number: String,
    #[serde(default)]
    pub email: String,
    /// A GSTIN (with its check character) or `''`.
    #[serde(default)]
    pub gstin: String,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
}

/// A brand of a company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrandDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub company_id: ObjectId,
    pub name: String,
    /// [`name_key`] of `name`: unique per shop.
    pub name_key: String,
    #[serde(default)]
    pub description: String,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
}

/// The uniqueness key of a name: trimmed, inner whitespace runs collapsed to one space, lower
/// case (Unicode), so `Natraj`, ` NATRAJ ` and `natraj` are one name.
pub fn name_key(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::name_key;

    #[test]
    fn names_differing_in_case_or_spacing_share_a_key() {
        assert_eq!(name_key("  Natraj   Pens "), "natraj pens");
        assert_eq!(name_key("NATRAJ PENS"), name_key("natraj pens"));
        assert_ne!(name_key("Natraj"), name_key("Natraj Pens"));
    }
}
