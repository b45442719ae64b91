//! Wire types of products.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    catalog::{
        dto::ItemWire,
        product::model::ProductDoc,
        tax::{TaxIn, TaxSource, TaxWire},
    },
    wire,
};

/// A product as the app reads it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub brand_id: Option<String>,
    pub group_id: Option<String>,
    /// The default tax code of its variants (`source: product`); absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax: Option<TaxWire>,
    pub image_urls: Vec<String>,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
}

impl From<ProductDoc> for ProductWire {
    fn from(p: ProductDoc) -> Self {
        let today = crate::time::ist_date_string(bson::DateTime::now());
        ProductWire {
            id: p.id.to_hex(),
            client_id: p.client_id.to_hex(),
            name: p.name,
            brand_id: p.brand_id.map(|b| b.to_hex()),
            group_id: p.group_id.map(|g| g.to_hex()),
            tax: p.tax.as_ref().map(|t| TaxWire::new(t, TaxSource::Product, &today)),
            image_urls: p.image_urls,
            description: p.description,
            created_at: wire::iso(p.created_at),
            updated_at: wire::iso(p.updated_at),
            v: p.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductResponse {
    pub success: bool,
    pub product: ProductWire,
}

/// One product with its variants (the items naming it; deactivated ones with `all=true`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductWithVariantsResponse {
    pub success: bool,
    pub product: ProductWire,
    pub variants: Vec<ItemWire>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductsResponse {
    pub success: bool,
    pub products: Vec<ProductWire>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductDeletedResponse {
    pub success: bool,
    pub message: String,
}

/// Create a product. Only these fields are accepted.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateProductRequest {
    /// 2-200 characters.
    #[schema(example = "Classmate long notebook")]
    pub name: String,
    /// A brand of this shop.
    pub brand_id: Option<String>,
    /// An item group (main or sub category) of this shop.
    pub group_id: Option<String>,
    /// The default tax code of its variants (as on an item).
    pub tax: Option<TaxIn>,
    /// http(s) URLs, at most 10, each at most 500 characters.
    pub image_urls: Option<Vec<String>>,
    /// At most 500 characters.
    pub description: Option<String>,
}

/// Edit a product: a field not sent is kept; `brandId`, `groupId` and `tax` take null to clear.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateProductRequest {
    #[serde(default, deserialize_with = "wire::non_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub brand_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub group_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "wire::double_option")]
    #[schema(value_type = Option<TaxIn>, nullable)]
    pub tax: Option<Option<TaxIn>>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub image_urls: Option<Vec<String>>,
    #[serde(default, deserialize_with = "wire::non_null")]
    pub description: Option<String>,
}

/// Filters of the product list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListProductsQuery {
    /// Case-insensitive part of the name, taken literally.
    pub q: Option<String>,
    pub brand_id: Option<String>,
    pub group_id: Option<String>,
}

/// `GET /products/{id}`: `all=true` lists deactivated variants too.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    pub all: Option<bool>,
}
