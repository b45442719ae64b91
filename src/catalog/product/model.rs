//! Documents of `products`.

use bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};

use crate::catalog::tax::TaxCode;

/// The collection of products.
pub const PRODUCTS: &str = "products";

/// A product: what its variants (items naming it with `variantOf`) share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub name: String,
    /// `catalog::brand::model::name_key` of `name` (search and order; not unique: two makers'
    /// "Long notebook" may both be sold).
    pub name_key: String,
    /// One of the shop's brands.
    #[serde(default)]
    pub brand_id: Option<ObjectId>,
    /// One of the shop's item groups (main or sub category).
    #[serde(default)]
    pub group_id: Option<ObjectId>,
    /// The default tax code of its variants without their own (`catalog::tax`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<TaxCode>,
    /// http(s) URLs, at most [`IMAGES_MAX`].
    #[serde(default)]
    pub image_urls: Vec<String>,
    #[serde(default)]
    pub description: String,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
}

/// Most images a product carries.
pub const IMAGES_MAX: usize = 10;
