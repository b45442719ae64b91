//! Wire types of companies and brands.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    address::{Address, ContactPerson},
    catalog::brand::model::{BrandDoc, CompanyDoc},
    wire,
};

/// A company as the app reads it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub address: Option<Address>,
    pub contact_person: Option<ContactPerson>,
    pub phone_number: String,
    pub email: String,
    pub gstin: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
}

impl From<CompanyDoc> for CompanyWire {
    fn from(c: CompanyDoc) -> Self {
        CompanyWire {
            id: c.id.to_hex(),
            client_id: c.client_id.to_hex(),
            name: c.name,
            address: c.address,
            contact_person: c.contact_person,
            phone_number: c.phone_number,
            email: c.email,
            gstin: c.gstin,
            created_at: wire::iso(c.created_at),
            updated_at: wire::iso(c.updated_at),
            v: c.version,
        }
    }
}

/// A brand as the app reads it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BrandWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    pub company_id: String,
    pub name: String,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
}

impl From<BrandDoc> for BrandWire {
    fn from(b: BrandDoc) -> Self {
        BrandWire {
            id: b.id.to_hex(),
            client_id: b.client_id.to_hex(),
            company_id: b.company_id.to_hex(),
            name: b.name,
            description: b.description,
            created_at: wire::iso(b.created_at),
            updated_at: wire::iso(b.updated_at),
            v: b.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyResponse {
    pub success: bool,
    pub company: CompanyWire,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompaniesResponse {
    pub success: bool,
    pub companies: Vec<CompanyWire>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BrandResponse {
    pub success: bool,
    pub brand: BrandWire,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BrandsResponse {
    pub success: bool,
    pub brands: Vec<BrandWire>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletedResponse {
    pub success: bool,
    pub message: String,
}

/// Create a company. Names: 2-100 characters, unique per shop ignoring case and spacing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCompanyRequest {
    #[schema(example = "Hindustan Pencils")]
    pub name: String,
    /// `{line1, line2, city, state (GST state code), pincode}`.
    pub address: Option<Address>,
    /// `{name, phone, email}`.
    pub contact_person: Option<ContactPerson>,
    pub phone_number: Option<String>,
    pub email: Option<String>,
    /// A GSTIN (checked with its check character; with an address state, its first two
    /// digits must be that state's code) or `''`.
    pub gstin: Option<String>,
}

/// Edit a company: the fields sent are written (`''` or an all-empty object clears).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCompanyRequest {
    #[serde(default, deserialize_with = "wire::non_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub address: Option<Address>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub contact_person: Option<ContactPerson>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub phone_number: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub gstin: Option<String>,
}

/// Create a brand of one of the shop's companies.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBrandRequest {
    #[schema(example = "Natraj")]
    pub name: String,
    /// One of the shop's companies (400 naming `companyId` otherwise).
    pub company_id: String,
    /// At most 500 characters.
    pub description: Option<String>,
}

/// Edit a brand (move it to another of the shop's companies with `companyId`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateBrandRequest {
    #[serde(default, deserialize_with = "wire::non_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub company_id: Option<String>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub description: Option<String>,
}

/// Brand list query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListBrandsQuery {
    /// Only the brands of this company.
    pub company_id: Option<String>,
}
