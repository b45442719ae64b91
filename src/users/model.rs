//! The `users` collection (seed 004 §2.1, issue 15): the people who work in a shop. The shop's
//! owner is its `super_admin`, whose `_id` is the shop's own id (`clientId`), so a token and a
//! session of the owner name them without a lookup, and a v1 token (which carries no user)
//! means the owner.

use bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};

use crate::access::{Grants, Role};

/// The owner's employee id.
pub const OWNER_EMPLOYEE_ID: &str = "OWNER";

/// `users.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// May log in and work.
    Active,
    /// Refused at once, sessions ended; the owner may reactivate.
    Deactivated,
    /// Invited (has not yet proved the phone by OTP and set a password) or self-registered
    /// (waits for the owner's approval).
    PendingApproval,
}

impl UserStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Deactivated => "deactivated",
            UserStatus::PendingApproval => "pending_approval",
        }
    }
}

/// How a pending user came to be: invited by the owner or an admin (they activate themselves by
/// OTP and a password), or self-registered (the owner approves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Owner,
    Invited,
    SelfRegistered,
}

/// A user of one shop. Unique per shop: `phoneNumber` (E.164-normalised), `email` (lower case,
/// when given), `employeeId` (e.g. `CASH01`). Password and PIN are argon2 hashes, never
/// answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub phone_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    pub employee_id: String,
    pub role: Role,
    /// Extra grants and denials on top of the role's.
    #[serde(default)]
    pub permissions: Grants,
    /// The most this user may discount a bill without an approval, in basis points (1500 =
    /// 15 %); `None`: the role's default (`Role::default_discount_cap_bp`).
    #[serde(default)]
    pub max_discount_bp: Option<u32>,
    pub status: UserStatus,
    pub origin: Origin,
    /// Failed password logins since the last success (seed 004 `loginAttempts`).
    #[serde(default)]
    pub login_attempts: i32,
    /// Refused until then after repeated failures.
    #[serde(default)]
    pub locked_until: Option<DateTime>,
    #[serde(default)]
    pub last_login_at: Option<DateTime>,
    #[serde(default)]
    pub profile_image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_hash: Option<String>,
    /// Who created the user (`None` for the owner).
    #[serde(default)]
    pub created_by: Option<ObjectId>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
}

impl UserDoc {
    /// The owner's user of a shop: `_id` = the shop's id, `super_admin`, active, employee id
    /// `OWNER`, named after the shop's `ownerName` (registration and migration 0013).
    pub fn owner(client_id: ObjectId, phone: &str, owner_name: &str, at: DateTime) -> UserDoc {
        let (first, last) = match owner_name.trim().split_once(' ') {
            Some((f, l)) => (f.to_string(), l.trim().to_string()),
            None => (owner_name.trim().to_string(), String::new()),
        };
        UserDoc {
            id: client_id,
            client_id,
            phone_number: phone.to_string(),
            email: None,
            first_name: first,
            last_name: last,
            employee_id: OWNER_EMPLOYEE_ID.to_string(),
            role: Role::SuperAdmin,
            permissions: Grants::default(),
            max_discount_bp: None,
            status: UserStatus::Active,
            origin: Origin::Owner,
            login_attempts: 0,
            locked_until: None,
            last_login_at: None,
            profile_image: None,
            password_hash: None,
            pin_hash: None,
            created_by: None,
            created_at: at,
            updated_at: at,
            version: 0,
        }
    }

    /// "First Last", as recorded on the documents the user makes.
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name).trim().to_string()
    }

    /// The discount cap that applies, in basis points (`None`: no cap).
    pub fn discount_cap_bp(&self) -> Option<u32> {
        self.max_discount_bp.or(self.role.default_discount_cap_bp())
    }

    /// The user as an [`crate::access::Actor`] under their shop's grants for their role
    /// (`shop_grants`: `clientSettings.staff.roleGrants.<role>`): the owner holds every
    /// permission and no discount cap, a staff member the [`crate::access::effective`] set and
    /// [`UserDoc::discount_cap_bp`]. The one rule the request guard (`auth`), the staff answers
    /// and the sync checks (each queued operation judged by its own user) share (issue 15).
    pub fn actor(&self, shop_grants: Option<&crate::access::Grants>) -> crate::access::Actor {
        if self.origin == Origin::Owner {
            let mut a = crate::access::Actor::owner(self.client_id, &self.name());
            a.user_id = self.id;
            return a;
        }
        crate::access::Actor {
            user_id: self.id,
            name: self.name(),
            role: self.role,
            grants: crate::access::effective(self.role, shop_grants, &self.permissions),
            discount_cap_bp: self.discount_cap_bp(),
        }
    }
}
