//! The carts on the wire (B14-B18): a cart, its lines and the answers that carry them.

use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    billing::model::{CartDoc, CartLine, CART_INVOICED},
    error::{AppError, AppResult},
    money::Paise,
    wire,
};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    pub client_customer_id: Option<String>,
    pub client_customer_phone: Option<String>,
    #[schema(value_type = f64)]
    pub total_amount: Paise,
    pub item_count: usize,
    pub is_finalized: bool,
    pub status: String,
    pub invoice_id: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartItemWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub cart_id: String,
    pub item_id: String,
    pub item_name_snapshot: String,
    #[schema(value_type = f64)]
    pub unit_price_snapshot: Paise,
    #[schema(value_type = f64)]
    pub catalog_price: Paise,
    pub price_overridden: bool,
    pub quantity: i64,
    #[schema(value_type = f64)]
    pub line_total: Paise,
    /// The manager or admin who approved this line's counter price (issue 15), if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<crate::approval::Approver>,
    pub created_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
}

impl CartWire {
    /// The cart with its total computed from the lines (checked: an error, never a wrapped
    /// or partial total, when the lines do not add up within `i64` paise).
    pub fn from_doc(c: &CartDoc) -> AppResult<Self> {
        let total = c
            .lines
            .iter()
            .map(CartLine::line_total)
            .try_fold(Paise::ZERO, |t, l| l.and_then(|l| t.checked_add(l)))
            .ok_or_else(|| AppError::internal("cart total does not fit i64 paise"))?;
        Ok(CartWire {
            id: c.id.to_hex(),
            client_id: c.client_id.to_hex(),
            client_customer_id: c.client_customer_id.map(|i| i.to_hex()),
            client_customer_phone: c.client_customer_phone.clone(),
            total_amount: total,
            item_count: c.lines.len(),
            is_finalized: c.status == CART_INVOICED,
            status: c.status.clone(),
            invoice_id: c.invoice_id.map(|i| i.to_hex()),
            created_at: wire::iso(c.created_at),
            expires_at: wire::iso(c.expires_at),
            updated_at: wire::iso(c.updated_at),
            v: c.version,
        })
    }
}

impl CartItemWire {
    pub fn from_line(cart_id: &str, l: &CartLine) -> Self {
        CartItemWire {
            id: l.id.to_hex(),
            cart_id: cart_id.to_string(),
            item_id: l.item_id.to_hex(),
            item_name_snapshot: l.item_name_snapshot.clone(),
            unit_price_snapshot: l.unit_price_snapshot,
            catalog_price: l.catalog_price,
            price_overridden: l.price_overridden,
            quantity: l.quantity,
            line_total: l.line_total().unwrap_or_default(),
            approved_by: l.approved_by.clone(),
            created_at: wire::iso(l.created_at),
            v: 0,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CartResponse {
    pub success: bool,
    pub cart: CartWire,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartDetailResponse {
    pub success: bool,
    pub cart: CartWire,
    pub cart_items: Vec<CartItemWire>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartItemResponse {
    pub success: bool,
    pub cart_item: CartItemWire,
}
