//! Wire types of D1-D23. Money is rupees on the wire (`Paise` serializes as a JSON number in
//! rupees); ids are hex strings; dates ISO-8601 UTC with milliseconds. Unknown request keys
//! are ignored, as in v1 (every accepted field is listed here; nothing else is ever written).
//!
//! One file per seam, all re-exported here (`dto::NAME`): `dealers` (D1-D7), `orders`
//! (D8-D13), `payments` (D14-D20), `reports` (D21-D23). This file keeps the shapes they
//! share (the optional `clientId` body and query, paging, the message answer).

mod dealers;
mod orders;
mod payments;
mod reports;

pub use dealers::*;
pub use orders::*;
pub use payments::*;
pub use reports::*;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// D11
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientBody {
    pub client_id: Option<String>,
}

/// `clientId` is optional (the tenant is the token's); when sent it must be the token's.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ClientQuery {
    #[param(rename = "clientId")]
    pub client_id: Option<String>,
}

/// Paging: `limit` 1-200 (default 50; larger values are capped at 200), `skip` >= 0 (default 0).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub limit: Option<String>,
    pub skip: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    pub success: bool,
    pub message: String,
}
