//! Wire shapes of `/api/staff` (issue 15). Users are answered without their password or PIN
//! hash; ids are hex strings; a discount cap is a percent with at most two decimals.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    access::{Grants, Permission, Role},
    users::{Origin, UserDoc, UserStatus},
};

/// A user of the shop as answered.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub client_id: String,
    pub phone_number: String,
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub employee_id: String,
    pub role: Role,
    /// The user's own extra grants and denials.
    pub permissions: Grants,
    /// What the user may do now (role defaults, the shop's role grants, the user's own).
    pub effective_permissions: Vec<Permission>,
    /// Discount cap in percent (two decimals), `null`: no cap.
    pub max_discount_percent: Option<f64>,
    pub status: UserStatus,
    pub origin: Origin,
    pub login_attempts: i32,
    /// ISO time until which password logins are refused, if locked.
    pub locked_until: Option<String>,
    pub last_login_at: Option<String>,
    pub profile_image: Option<String>,
    /// Whether the user has set an approval PIN.
    pub has_pin: bool,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub version: i32,
}

impl UserWire {
    /// The answer for `u`, with its effective permissions `effective`.
    pub fn new(u: &UserDoc, effective: Vec<Permission>) -> UserWire {
        let iso = |d: &bson::DateTime| d.try_to_rfc3339_string().unwrap_or_default();
        UserWire {
            id: u.id.to_hex(),
            client_id: u.client_id.to_hex(),
            phone_number: u.phone_number.clone(),
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            employee_id: u.employee_id.clone(),
            role: u.role,
            permissions: u.permissions.clone(),
            effective_permissions: effective,
            // basis points to percent for display only (an exact two-decimal value)
            max_discount_percent: u.discount_cap_bp().map(|bp| f64::from(bp) / 100.0),
            status: u.status,
            origin: u.origin,
            login_attempts: u.login_attempts,
            locked_until: u.locked_until.as_ref().map(iso),
            last_login_at: u.last_login_at.as_ref().map(iso),
            profile_image: u.profile_image.clone(),
            has_pin: u.pin_hash.is_some(),
            created_by: u.created_by.map(|c| c.to_hex()),
            created_at: iso(&u.created_at),
            updated_at: iso(&u.updated_at),
            version: u.version,
        }
    }
}

/// `POST /api/staff`: invite a staff member (created `pending_approval`; they activate
/// themselves with an OTP sent to the phone and a password: `POST /api/staff/accept`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteRequest {
    #[schema(example = "9876500001")]
    pub phone_number: String,
    #[schema(example = "Priya")]
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Unique in the shop, letters, digits, `-` and `_` (e.g. `CASH01`).
    #[schema(example = "CASH01")]
    pub employee_id: String,
    /// Any role but `super_admin` (the owner); only the owner invites an `admin`.
    pub role: Role,
    /// Discount cap in percent, 0-100 with at most two decimals (default: the role's).
    #[serde(default)]
    #[schema(value_type = Option<f64>, example = 5)]
    pub max_discount_percent: Option<serde_json::Number>,
    #[serde(default)]
    pub permissions: Option<Grants>,
    #[serde(default)]
    pub profile_image: Option<String>,
}

/// `PATCH /api/staff/{userId}`: change a user's role, limits, grants or details; send only what
/// changes. `baseVersion` (the `__v` read) makes a concurrent change a 409.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStaffRequest {
    pub role: Option<Role>,
    #[schema(value_type = Option<f64>, example = 5)]
    pub max_discount_percent: Option<serde_json::Number>,
    pub permissions: Option<Grants>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub employee_id: Option<String>,
    pub profile_image: Option<String>,
    pub base_version: Option<i32>,
}

/// `POST /api/staff/accept`: an invited staff member proves the phone (OTP purpose `staff`)
/// and sets a password; answers a token (they are logged in on this device).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcceptRequest {
    pub client_id: String,
    pub phone_number: String,
    pub otp: String,
    pub password: String,
    pub device_id: Option<String>,
}

/// `POST /api/staff/join`: someone asks to join a shop as staff, proving the phone with an OTP
/// (`/api/otp/send` purpose `staff`). Created `pending_approval` as a `cashier` until the owner
/// or an admin approves (`POST /api/staff/{userId}/approve`, which may set another role).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JoinRequest {
    pub client_id: String,
    pub phone_number: String,
    pub otp: String,
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub employee_id: String,
    pub password: String,
}

/// `POST /api/staff/login`: phone or email, plus password or OTP (purpose `staff`).
/// `clientId` is needed only when the phone or email is staff in more than one shop.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StaffLoginRequest {
    pub client_id: Option<String>,
    pub phone_number: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub otp: Option<String>,
    pub device_id: Option<String>,
}

/// A staff login or acceptance: the token of the new session and the user.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StaffLoginResponse {
    pub success: bool,
    pub message: String,
    pub client_id: String,
    pub token: String,
    pub device_session_id: String,
    pub user: UserWire,
}

/// One user.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StaffResponse {
    pub success: bool,
    pub user: UserWire,
}

/// The shop's users, owner first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StaffListResponse {
    pub success: bool,
    pub users: Vec<UserWire>,
}

/// An active device session.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub user_id: String,
    pub device_id: String,
    pub last_seen_at: String,
    pub created_at: String,
}

/// The shop's active sessions.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionsResponse {
    pub success: bool,
    pub sessions: Vec<SessionWire>,
}

/// `GET /api/staff/sessions?userId=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SessionsQuery {
    /// Only this user's sessions.
    pub user_id: Option<String>,
}

/// `PUT /api/staff/me/pin`: the signed-in user's approval PIN, 4 to 6 digits.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PinRequest {
    #[schema(example = "4821")]
    pub pin: String,
}

/// A plain success answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StaffMessage {
    pub success: bool,
    pub message: String,
}

/// `POST /api/staff/approvals`: a manager or admin approves, on the requester's device, what
/// the requester may not do alone; the approver chooses themselves (`approverId`) and enters
/// their PIN. Valid 5 minutes, usable once, by the requester only, and only for exactly what
/// it names:
/// - `action: "price_override"`: a counter price on a cart line: `cartId`, `itemId`,
///   `unitPrice` (rupees) and `quantity`;
/// - `action: "sale"`: a whole sale (counter prices without `price_override`, a bill discount
///   above the seller's cap): its `products` exactly as the sale will send them (or its
///   `cartId` for a cart sale) and its `totalDiscount` (rupees, default 0); the sale sends the
///   token as `approvalToken`;
/// - `action: "cancel"` (issue 18): cancelling the invoice `invoiceId`, with its `refund`
///   method when the cancel will refund;
/// - `action: "credit_note"` (issue 18): a credit note against `invoiceId` with exactly these
///   `lines` (as the note sends them) or this `amount`, `restock` and `settlement`.
///
/// `cancel` and `credit_note` need an approver holding `cancel`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequest {
    pub approver_id: String,
    pub pin: String,
    /// `price_override` | `sale`.
    #[schema(example = "price_override")]
    pub action: String,
    /// Why (required; kept in the audit trail).
    pub reason: String,
    /// `price_override`: the cart; `sale`: the cart of a cart sale (else send `products`).
    pub cart_id: Option<String>,
    /// `price_override`.
    pub item_id: Option<String>,
    /// `price_override`.
    #[schema(value_type = Option<f64>)]
    pub unit_price: Option<crate::money::Paise>,
    /// `price_override`.
    pub quantity: Option<i64>,
    /// `sale`: the lines as the sale sends them (`productId`, `quantity`, optional
    /// `costPerUnit`).
    #[serde(default)]
    pub products: Vec<crate::billing::dto::ProductLineRequest>,
    /// `sale`: the bill discount in rupees (default 0).
    #[schema(value_type = Option<f64>)]
    pub total_discount: Option<crate::money::Paise>,
    /// `cancel`, `credit_note` (issue 18): the invoice.
    pub invoice_id: Option<String>,
    /// `credit_note`: the returned lines exactly as the credit note will send them.
    #[serde(default)]
    pub lines: Vec<crate::billing::credit::dto::ReturnLineRequest>,
    /// `credit_note`: the amount of an amount-only credit note (rupees).
    #[schema(value_type = Option<f64>)]
    pub amount: Option<crate::money::Paise>,
    /// `credit_note`: whether the goods go back on the shelf (default true) and how the note
    /// is settled, exactly as the note will send them.
    pub restock: Option<bool>,
    pub settlement: Option<crate::billing::credit::dto::SettlementRequest>,
    /// `cancel`: the refund the cancel will make (`{method}`), when something is paid.
    pub refund: Option<crate::billing::credit::dto::RefundRequest>,
}

/// An issued approval token (shown once).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalResponse {
    pub success: bool,
    pub approval_token: String,
    pub expires_at: String,
    pub approver: crate::approval::Approver,
}
