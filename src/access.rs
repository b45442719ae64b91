//! Who may do what (issue 15): the one [`Permission`] enum, the six roles of seed 004
//! ([`Role`]) with their default grants, and the effective set of one user ([`effective`]).
//! It depends on no feature module: the guard (`auth::require_auth`) and every feature read it.
//!
//! **Every protected route declares the permission it needs** in its `#[utoipa::path]`
//! attribute, as the OpenAPI extension `x-permission` (e.g. `"sell"`); [`RoutePermissions`] is
//! built from the OpenAPI document when the router is built, and the guard refuses a request
//! whose user lacks it (403 `FORBIDDEN`, nothing written). A protected route that declares
//! nothing is refused to everyone (fail closed), and `tests/api/roles.rs` fails on it.
//!
//! The default matrix (docs/API.md, "Staff and permissions") follows issue 15's table; the
//! owner changes a role's grants per shop (`clientSettings.roleGrants`) and a user's own
//! (`users.permissions`). The shop's `super_admin` (its owner) always holds every permission.

use std::collections::HashMap;

use axum::http::Method;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One capability a route or an action needs. Stored and answered in `snake_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Signed in at all: log out, read the shop profile, sync (each synced operation is then
    /// checked on its own).
    Session,
    /// Sell and take payments: carts, invoices, payments, the customers of a sale.
    Sell,
    /// Sell at a counter price other than the catalog's (never above MRP).
    PriceOverride,
    /// Cancel an invoice, issue a credit note, refund.
    Cancel,
    /// See every invoice, payment and report of the shop.
    SalesView,
    /// See cost, margin and profit.
    CostView,
    /// Read the catalog (items, groups, stock): everyone who works in the shop.
    CatalogView,
    /// Create items and their barcodes (no price or tax edits).
    ItemsCreate,
    /// Edit and delete items, prices, tax codes and item groups.
    ItemsManage,
    /// Adjust and count stock, receive goods.
    StockAdjust,
    /// Read the shop's customers and their history.
    CustomersView,
    /// Delete customers.
    CustomersManage,
    /// Read dealers (suppliers), their orders and payments.
    DealersView,
    /// Create, edit and delete dealers; pay them.
    DealersManage,
    /// Place, price, receive and cancel dealer orders.
    DealerOrders,
    /// Manage staff and their sessions.
    Staff,
    /// Change the shop's profile and settings.
    Settings,
    /// Read the audit trail.
    AuditView,
}

impl Permission {
    /// Every permission, in declaration order.
    pub const ALL: [Permission; 18] = [
        Permission::Session,
        Permission::Sell,
        Permission::PriceOverride,
        Permission::Cancel,
        Permission::SalesView,
        Permission::CostView,
        Permission::CatalogView,
        Permission::ItemsCreate,
        Permission::ItemsManage,
        Permission::StockAdjust,
        Permission::CustomersView,
        Permission::CustomersManage,
        Permission::DealersView,
        Permission::DealersManage,
        Permission::DealerOrders,
        Permission::Staff,
        Permission::Settings,
        Permission::AuditView,
    ];

    /// The stored and wire name (`x-permission` values, `grant`/`deny` lists).
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Session => "session",
            Permission::Sell => "sell",
            Permission::PriceOverride => "price_override",
            Permission::Cancel => "cancel",
            Permission::SalesView => "sales_view",
            Permission::CostView => "cost_view",
            Permission::CatalogView => "catalog_view",
            Permission::ItemsCreate => "items_create",
            Permission::ItemsManage => "items_manage",
            Permission::StockAdjust => "stock_adjust",
            Permission::CustomersView => "customers_view",
            Permission::CustomersManage => "customers_manage",
            Permission::DealersView => "dealers_view",
            Permission::DealersManage => "dealers_manage",
            Permission::DealerOrders => "dealer_orders",
            Permission::Staff => "staff",
            Permission::Settings => "settings",
            Permission::AuditView => "audit_view",
        }
    }

    /// The permission named `s` (its [`Permission::as_str`]), if any.
    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of permissions (a bit per [`Permission`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PermSet(u32);

impl PermSet {
    /// Every permission.
    pub fn all() -> PermSet {
        PermSet::of(&Permission::ALL)
    }

    /// Exactly `ps`.
    pub fn of(ps: &[Permission]) -> PermSet {
        PermSet(ps.iter().fold(0, |m, p| m | p.bit()))
    }

    /// True when `p` is in the set.
    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    /// The set with `ps` added.
    pub fn with(self, ps: &[Permission]) -> PermSet {
        PermSet(self.0 | PermSet::of(ps).0)
    }

    /// The set with `ps` removed.
    pub fn without(self, ps: &[Permission]) -> PermSet {
        PermSet(self.0 & !PermSet::of(ps).0)
    }

    /// The members, in [`Permission::ALL`] order.
    pub fn list(self) -> Vec<Permission> {
        Permission::ALL.into_iter().filter(|p| self.contains(*p)).collect()
    }
}

/// The six roles of seed 004 (`users.role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The shop's owner (the registering phone): every permission, cannot be removed or demoted.
    SuperAdmin,
    Admin,
    Manager,
    Cashier,
    StockKeeper,
    Accountant,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 6] =
        [Role::SuperAdmin, Role::Admin, Role::Manager, Role::Cashier, Role::StockKeeper, Role::Accountant];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::SuperAdmin => "super_admin",
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Cashier => "cashier",
            Role::StockKeeper => "stock_keeper",
            Role::Accountant => "accountant",
        }
    }

    /// The role's default grants (issue 15's matrix; docs/API.md). "Approval" cells (a cashier's
    /// price override or cancellation) are not grants: the action needs an approver.
    pub fn defaults(self) -> PermSet {
        use Permission::*;
        match self {
            Role::SuperAdmin | Role::Admin => PermSet::all(),
            Role::Manager => PermSet::of(&[
                Session,
                Sell,
                PriceOverride,
                Cancel,
                SalesView,
                CostView,
                CatalogView,
                ItemsCreate,
                ItemsManage,
                StockAdjust,
                CustomersView,
                CustomersManage,
                DealersView,
                DealersManage,
                DealerOrders,
            ]),
            Role::Cashier => PermSet::of(&[Session, Sell, CatalogView, CustomersView]),
            Role::StockKeeper => {
                PermSet::of(&[Session, CatalogView, ItemsCreate, StockAdjust, DealersView, DealerOrders])
            }
            Role::Accountant => {
                PermSet::of(&[Session, SalesView, CostView, CatalogView, CustomersView, DealersView, AuditView])
            }
        }
    }

    /// The default discount cap in basis points (`maxDiscountPercent` when the user has none):
    /// a manager 15 %, a cashier 5 % (above it needs an approval); the others have no cap of
    /// their own (those who cannot sell never discount).
    pub fn default_discount_cap_bp(self) -> Option<u32> {
        match self {
            Role::Manager => Some(1500),
            Role::Cashier => Some(500),
            _ => None,
        }
    }
}

/// Extra grants and denials on top of a role's defaults: a user's own (`users.permissions`),
/// or a shop's change to a role (`clientSettings.roleGrants.<role>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Grants {
    /// Added.
    pub grant: Vec<Permission>,
    /// Removed (a denial wins over a grant at the same level).
    pub deny: Vec<Permission>,
}

impl Grants {
    fn apply(&self, set: PermSet) -> PermSet {
        set.with(&self.grant).without(&self.deny)
    }
}

/// The permissions a user holds: the role's defaults, changed by the shop's grants for the
/// role, then by the user's own. `Session` is always kept (a signed-in user can log out); the
/// `super_admin` holds everything whatever the grants say (the owner cannot lock themselves
/// out).
pub fn effective(role: Role, shop: Option<&Grants>, user: &Grants) -> PermSet {
    if role == Role::SuperAdmin {
        return PermSet::all();
    }
    let mut set = role.defaults();
    if let Some(g) = shop {
        set = g.apply(set);
    }
    user.apply(set).with(&[Permission::Session])
}

/// The signed-in user of a request (`AuthClient::user`): who they are and what they may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `users._id`; the owner's is the shop's id.
    pub user_id: bson::oid::ObjectId,
    /// "First Last" (the owner: the shop's `ownerName`).
    pub name: String,
    pub role: Role,
    /// Effective permissions ([`effective`]).
    pub grants: PermSet,
    /// The user's discount cap in basis points (`None`: no cap).
    pub discount_cap_bp: Option<u32>,
}

impl Actor {
    /// The shop's owner: `super_admin`, every permission, the shop's id as user id.
    pub fn owner(client_id: bson::oid::ObjectId, name: &str) -> Actor {
        Actor {
            user_id: client_id,
            name: name.to_string(),
            role: Role::SuperAdmin,
            grants: PermSet::all(),
            discount_cap_bp: None,
        }
    }

    /// Who did it, as recorded on documents.
    pub fn by(&self) -> By {
        By { user_id: self.user_id, name: self.name.clone() }
    }
}

/// Who did it: the user recorded on a document (`billedBy` on invoices, `recordedBy` on
/// payments, `by` on stock moves, `createdBy` on dealer orders and payments), with a snapshot of
/// their name at the time (a later rename does not rewrite history). Stored as
/// `{userId: ObjectId, name}`; answered as `{userId: hex, name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct By {
    pub user_id: bson::oid::ObjectId,
    pub name: String,
}

/// The wire form of [`By`]: `{userId: "<hex>", name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ByWire {
    pub user_id: String,
    pub name: String,
}

impl From<&By> for ByWire {
    fn from(b: &By) -> Self {
        ByWire { user_id: b.user_id.to_hex(), name: b.name.clone() }
    }
}

/// The OpenAPI extension that names a route's permission.
pub const EXTENSION: &str = "x-permission";

/// The permission each protected route declared (`x-permission` of its OpenAPI operation),
/// keyed by method and the route's path as the router matches it (`/api/items/{id}`).
#[derive(Debug, Clone, Default)]
pub struct RoutePermissions(HashMap<(Method, String), Permission>);

impl RoutePermissions {
    /// Read every operation's `x-permission` from the OpenAPI document. An unknown name is
    /// skipped (that route then fails closed; `tests/api/roles.rs` names it).
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> RoutePermissions {
        let mut map = HashMap::new();
        for (path, item) in &doc.paths.paths {
            let ops = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                let named = op.extensions.as_ref().and_then(|e| e.get(EXTENSION)).and_then(|v| v.as_str());
                if let Some(p) = named.and_then(Permission::parse) {
                    map.insert((method, shape(path)), p);
                }
            }
        }
        RoutePermissions(map)
    }

    /// The permission route `path` (as matched) needs for `method`; `None`: it declared none.
    pub fn needed(&self, method: &Method, path: &str) -> Option<Permission> {
        self.0.get(&(method.clone(), shape(path))).copied()
    }
}

/// A route path with its parameter names blanked (`/a/{id}/b` -> `/a/{}/b`): a route routed by
/// hand under another parameter name than its documented one (`{id}` for `{clientId}` and
/// `{invoiceId}`) is the same route (the router cannot hold two routes of one shape).
fn shape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), serde_json::json!(p.as_str()));
        }
        for r in Role::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), serde_json::json!(r.as_str()));
        }
        assert_eq!(Permission::parse("root"), None);
        assert_eq!(shape("/api/business/invoices/{invoiceId}/payments"), "/api/business/invoices/{}/payments");
        assert_eq!(shape("/api/business/invoices/{id}/payments"), shape("/api/business/invoices/{clientId}/payments"));
    }

    #[test]
    fn the_matrix_of_issue_15() {
        use Permission::*;
        let can = |r: Role, p: Permission| effective(r, None, &Grants::default()).contains(p);
        // sell, take payments
        for (r, yes) in [
            (Role::Admin, true),
            (Role::Manager, true),
            (Role::Cashier, true),
            (Role::StockKeeper, false),
            (Role::Accountant, false),
        ] {
            assert_eq!(can(r, Sell), yes, "{r:?} sell");
        }
        assert!(!can(Role::Cashier, PriceOverride) && !can(Role::Cashier, Cancel), "a cashier needs an approval");
        assert!(!can(Role::Cashier, SalesView) && !can(Role::Cashier, CostView));
        assert!(can(Role::StockKeeper, ItemsCreate) && !can(Role::StockKeeper, ItemsManage));
        assert!(can(Role::StockKeeper, DealerOrders) && !can(Role::StockKeeper, DealersManage));
        assert!(can(Role::Accountant, AuditView) && can(Role::Accountant, CostView) && !can(Role::Accountant, Sell));
        assert!(!can(Role::Manager, Staff) && !can(Role::Manager, AuditView) && can(Role::Admin, Staff));
    }

    #[test]
    fn shop_and_user_grants_change_a_role_but_never_the_owner() {
        use Permission::*;
        let shop = Grants { grant: vec![Cancel], deny: vec![CustomersView] };
        let set = effective(Role::Cashier, Some(&shop), &Grants::default());
        assert!(set.contains(Cancel) && !set.contains(CustomersView));
        let user = Grants { grant: vec![CustomersView], deny: vec![Sell, Session] };
        let set = effective(Role::Cashier, Some(&shop), &user);
        assert!(set.contains(CustomersView) && !set.contains(Sell));
        assert!(set.contains(Session), "a signed-in user can always log out");
        let deny_all = Grants { grant: vec![], deny: Permission::ALL.to_vec() };
        assert_eq!(effective(Role::SuperAdmin, Some(&deny_all), &deny_all), PermSet::all());
    }
}
