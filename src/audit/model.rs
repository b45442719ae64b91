//! The audit trail's types: what happened ([`Action`]), who did it ([`Who`]), who approved it
//! ([`Approver`]), which fields changed ([`Change`], [`changes`]) and one event ([`Entry`],
//! built by [`EntryBuilder`], which refuses an entry without the reason its action needs).
//!
//! Pure: no I/O. The BSON of the stored document is built by `audit::repo` only.

use bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::AppError;

/// What happened. Stored and filtered as its snake_case name (`"price_changed"`).
///
/// The actions marked "reason required" ([`Action::requires_reason`]) cannot be recorded
/// without a reason (issue 15: cancellation, price override, discount above the cap, stock
/// adjustment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = AuditAction)]
pub enum Action {
    /// A user logged in (a new device session).
    Login,
    /// A login was refused (wrong password or OTP, locked or inactive account).
    LoginFailed,
    /// A user logged out of their session.
    Logout,
    /// A session ended without a logout: replaced by a newer login, ended by the owner, or by
    /// a deactivation.
    SessionEnded,
    /// The owner or an admin invited a staff member (a pending user).
    StaffInvited,
    /// An invited staff member proved their phone and set a password.
    StaffActivated,
    /// The owner approved a self-registered staff member (`pending_approval` -> `active`).
    StaffApproved,
    /// A staff member's role, limits or grants changed.
    StaffChanged,
    StaffDeactivated,
    StaffReactivated,
    /// An item's catalog price changed.
    PriceChanged,
    /// An item's tax rate or tax code changed.
    TaxChanged,
    /// An item's MRP changed.
    MrpChanged,
    /// A discount above the user's cap (`maxDiscountPercent`). Reason required.
    DiscountOverCap,
    /// A counter price that differs from the catalog price. Reason required.
    PriceOverride,
    /// An invoice was cancelled. Reason required.
    InvoiceCancelled,
    CreditNoteIssued,
    /// Stock was adjusted by hand (not by a sale or a delivery). Reason required.
    StockAdjusted,
    /// A shop setting changed.
    SettingsChanged,
    /// A manager or admin approved another user's action (PIN approval).
    ApprovalGranted,
    /// An offline action that needed an approval the device did not have, applied because
    /// money already changed hands. Always recorded with `flagged: true` (needs review).
    OfflineUnapproved,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: [Action; 21] = [
        Action::Login,
        Action::LoginFailed,
        Action::Logout,
        Action::SessionEnded,
        Action::StaffInvited,
        Action::StaffActivated,
        Action::StaffApproved,
        Action::StaffChanged,
        Action::StaffDeactivated,
        Action::StaffReactivated,
        Action::PriceChanged,
        Action::TaxChanged,
        Action::MrpChanged,
        Action::DiscountOverCap,
        Action::PriceOverride,
        Action::InvoiceCancelled,
        Action::CreditNoteIssued,
        Action::StockAdjusted,
        Action::SettingsChanged,
        Action::ApprovalGranted,
        Action::OfflineUnapproved,
    ];

    /// The stored and wire name, e.g. `"price_override"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::LoginFailed => "login_failed",
            Action::Logout => "logout",
            Action::SessionEnded => "session_ended",
            Action::StaffInvited => "staff_invited",
            Action::StaffActivated => "staff_activated",
            Action::StaffApproved => "staff_approved",
            Action::StaffChanged => "staff_changed",
            Action::StaffDeactivated => "staff_deactivated",
            Action::StaffReactivated => "staff_reactivated",
            Action::PriceChanged => "price_changed",
            Action::TaxChanged => "tax_changed",
            Action::MrpChanged => "mrp_changed",
            Action::DiscountOverCap => "discount_over_cap",
            Action::PriceOverride => "price_override",
            Action::InvoiceCancelled => "invoice_cancelled",
            Action::CreditNoteIssued => "credit_note_issued",
            Action::StockAdjusted => "stock_adjusted",
            Action::SettingsChanged => "settings_changed",
            Action::ApprovalGranted => "approval_granted",
            Action::OfflineUnapproved => "offline_unapproved",
        }
    }

    /// The action named `s` (exact snake_case name), if any.
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Whether an entry of this action must carry a reason (issue 15): `invoice_cancelled`,
    /// `price_override`, `discount_over_cap`, `stock_adjusted`.
    pub fn requires_reason(self) -> bool {
        matches!(
            self,
            Action::InvoiceCancelled | Action::PriceOverride | Action::DiscountOverCap | Action::StockAdjusted
        )
    }

    /// Whether an entry of this action is always flagged for review (`offline_unapproved`).
    pub fn always_flagged(self) -> bool {
        matches!(self, Action::OfflineUnapproved)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who did it: the user (id and a snapshot of their name and role at the time, so a later
/// rename or role change does not rewrite history) and, when known, the device session and
/// device the action came from. `role` is the role's name (`"cashier"`, `"super_admin"`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditWho)]
pub struct Who {
    /// The user's id (hex of the `users` document's id; for a failed login of an unknown
    /// phone, whatever identifies the attempt, e.g. the phone number).
    pub user_id: String,
    pub name: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
}

impl Who {
    /// A user without session or device (add them with [`Who::session`] / [`Who::device`]).
    pub fn new(user_id: impl Into<String>, name: impl Into<String>, role: impl Into<String>) -> Who {
        Who { user_id: user_id.into(), name: name.into(), role: role.into(), session_id: None, device_id: None }
    }

    /// The device session (hex id of the `devicesessions` document) the action came from.
    pub fn session(mut self, session_id: impl Into<String>) -> Who {
        self.session_id = Some(session_id.into());
        self
    }

    /// The device (the app's `deviceId`) the action came from.
    pub fn device(mut self, device_id: impl Into<String>) -> Who {
        self.device_id = Some(device_id.into());
        self
    }

    /// This user as an approver (id, name and role; no session).
    pub fn as_approver(&self) -> Approver {
        Approver { user_id: self.user_id.clone(), name: self.name.clone(), role: self.role.clone() }
    }
}

/// The manager or admin who approved the action (named, never identified by a PIN alone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditApprover)]
pub struct Approver {
    pub user_id: String,
    pub name: String,
    pub role: String,
}

impl Approver {
    pub fn new(user_id: impl Into<String>, name: impl Into<String>, role: impl Into<String>) -> Approver {
        Approver { user_id: user_id.into(), name: name.into(), role: role.into() }
    }
}

/// One changed field: its name (a dotted path for a nested field, e.g. `"address.city"`) and
/// its value before and after (any JSON value; `null` when absent). Money fields keep the
/// stored unit (integer paise), rates basis points, quantities base units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = AuditChange)]
pub struct Change {
    pub field: String,
    #[schema(schema_with = any_value)]
    pub before: Value,
    #[schema(schema_with = any_value)]
    pub after: Value,
}

/// The OpenAPI schema of a field that holds any JSON value (`null`, a number, a string, an
/// object...).
fn any_value() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::AnyValue).build()
}

impl Change {
    pub fn new(field: impl Into<String>, before: Value, after: Value) -> Change {
        Change { field: field.into(), before, after }
    }
}

/// The fields named in `fields` whose values differ between `before` and `after`, in the
/// order of `fields`, with both values. A field is looked up by its name, or through nested
/// objects by a dotted path (`"address.city"`); a missing field counts as `null` (so missing
/// on both sides, or missing on one and `null` on the other, is no change). Numbers compare by
/// value (`5` equals `5.0`). Fields not named are ignored, so a caller lists exactly what it
/// audits (e.g. `["price", "mrp", "taxRate"]`).
pub fn changes(before: &Value, after: &Value, fields: &[&str]) -> Vec<Change> {
    fields
        .iter()
        .filter_map(|f| {
            let (b, a) = (lookup(before, f), lookup(after, f));
            (!same(&b, &a)).then(|| Change::new(*f, b, a))
        })
        .collect()
}

/// [`changes`] between two serialisable values (structs, BSON documents): each is turned into
/// JSON first (BSON ids and dates in extended JSON: `{"$oid": ..}`, `{"$date": ..}`). A value
/// that cannot be serialised counts as `null`.
pub fn changes_of<T: Serialize + ?Sized>(before: &T, after: &T, fields: &[&str]) -> Vec<Change> {
    let b = serde_json::to_value(before).unwrap_or(Value::Null);
    let a = serde_json::to_value(after).unwrap_or(Value::Null);
    changes(&b, &a, fields)
}

fn lookup(v: &Value, path: &str) -> Value {
    if let Some(x) = v.get(path) {
        return x.clone();
    }
    let mut cur = v;
    for part in path.split('.') {
        match cur.get(part) {
            Some(x) => cur = x,
            None => return Value::Null,
        }
    }
    cur.clone()
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => match (x.as_f64(), y.as_f64()) {
                (Some(f), Some(g)) => f == g,
                _ => x == y,
            },
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, p)| y.get(k).is_some_and(|q| same(p, q)))
        }
        _ => a == b,
    }
}

/// Longest reason kept (characters), after trimming.
pub const MAX_REASON_CHARS: usize = 500;

/// Why an [`EntryBuilder`] refused to build an entry. Callers map it to a 400 naming `reason`
/// (`AppError::from`, or [`EntryError::field`] and the `Display` text for their own field name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// The action needs a reason ([`Action::requires_reason`]) and none (or only blanks) was given.
    #[error("is required for {0}")]
    ReasonRequired(Action),
    /// The reason is longer than [`MAX_REASON_CHARS`].
    #[error("must be at most {MAX_REASON_CHARS} characters")]
    ReasonTooLong,
    /// The reason holds a control character other than tab and line breaks
    /// (`validate::is_forbidden_control`).
    #[error("must not contain control characters")]
    ReasonControlChars,
}

impl EntryError {
    /// The request field the error is about: always `reason`.
    pub fn field(&self) -> &'static str {
        "reason"
    }
}

impl From<EntryError> for AppError {
    /// 400 `VALIDATION_ERROR` with `errors: ["reason: is required for invoice_cancelled"]`.
    fn from(e: EntryError) -> AppError {
        AppError::validation(e.field(), &e)
    }
}

/// One audit event, ready to record with `audit::record`. Only [`Entry::builder`] makes one
/// (the fields are private, even to the rest of the crate), so an entry whose action needs a
/// reason always has one. Immutable once built; read it with the getters.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    id: ObjectId,
    client_id: ObjectId,
    at: DateTime,
    who: Who,
    action: Action,
    entity: String,
    entity_id: Option<String>,
    changes: Vec<Change>,
    reason: Option<String>,
    approver: Option<Approver>,
    flagged: bool,
}

impl Entry {
    /// Start an entry: the shop (`clientId`, the token's client), who did it, what, and the
    /// collection it is about (`"items"`, `"invoices"`, `"users"`, `"devicesessions"`,
    /// `"clients"` for shop settings, ...).
    pub fn builder(client_id: ObjectId, who: Who, action: Action, entity: impl Into<String>) -> EntryBuilder {
        EntryBuilder {
            entry: Entry {
                id: ObjectId::new(),
                client_id,
                at: DateTime::now(),
                who,
                action,
                entity: entity.into(),
                entity_id: None,
                changes: Vec::new(),
                reason: None,
                approver: None,
                flagged: false,
            },
        }
    }

    /// The entry's id (its `_id` once recorded).
    pub fn id(&self) -> ObjectId {
        self.id
    }
    pub fn client_id(&self) -> ObjectId {
        self.client_id
    }
    pub fn at(&self) -> DateTime {
        self.at
    }
    pub fn who(&self) -> &Who {
        &self.who
    }
    pub fn action(&self) -> Action {
        self.action
    }
    pub fn entity(&self) -> &str {
        &self.entity
    }
    pub fn entity_id(&self) -> Option<&str> {
        self.entity_id.as_deref()
    }
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
    pub fn approver(&self) -> Option<&Approver> {
        self.approver.as_ref()
    }
    pub fn flagged(&self) -> bool {
        self.flagged
    }
}

/// Builds an [`Entry`]; [`EntryBuilder::build`] checks the reason rule.
#[derive(Debug, Clone)]
pub struct EntryBuilder {
    entry: Entry,
}

impl EntryBuilder {
    /// The document's id, as a string (an `ObjectId` in hex, or a key such as a phone number).
    pub fn entity_id(mut self, id: impl Into<String>) -> Self {
        self.entry.entity_id = Some(id.into());
        self
    }

    /// When it happened (default: when the builder was made). An offline action passes the
    /// time it was recorded on the device (`time::record_time`).
    pub fn at(mut self, at: DateTime) -> Self {
        self.entry.at = at;
        self
    }

    /// The changed fields (typically from [`changes`]); only fields that changed belong here.
    pub fn changes(mut self, changes: Vec<Change>) -> Self {
        self.entry.changes = changes;
        self
    }

    /// Why (trimmed; required for the actions of [`Action::requires_reason`]). A blank reason
    /// counts as none.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        let r: String = reason.into();
        let r = r.trim();
        self.entry.reason = (!r.is_empty()).then(|| r.to_string());
        self
    }

    /// [`EntryBuilder::reason`] when `Some`.
    pub fn reason_opt(self, reason: Option<impl Into<String>>) -> Self {
        match reason {
            Some(r) => self.reason(r),
            None => self,
        }
    }

    /// Who approved the action.
    pub fn approver(mut self, approver: Approver) -> Self {
        self.entry.approver = Some(approver);
        self
    }

    /// Mark the entry for review (e.g. an offline sale made without the approval it needed).
    /// `offline_unapproved` entries are always flagged.
    pub fn flagged(mut self, flagged: bool) -> Self {
        self.entry.flagged = flagged;
        self
    }

    /// The entry, or [`EntryError::ReasonRequired`] when the action needs a reason and has
    /// none, [`EntryError::ReasonTooLong`] past [`MAX_REASON_CHARS`],
    /// [`EntryError::ReasonControlChars`] for a control character (line breaks are allowed).
    pub fn build(self) -> Result<Entry, EntryError> {
        let mut e = self.entry;
        match &e.reason {
            None if e.action.requires_reason() => return Err(EntryError::ReasonRequired(e.action)),
            Some(r) if r.chars().count() > MAX_REASON_CHARS => return Err(EntryError::ReasonTooLong),
            Some(r) if r.chars().any(crate::validate::is_forbidden_control) => {
                return Err(EntryError::ReasonControlChars)
            }
            _ => {}
        }
        if e.action.always_flagged() {
            e.flagged = true;
        }
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn who() -> Who {
        Who::new("u1", "Ravi", "cashier").session("s1").device("phone-2")
    }

    #[test]
    fn changes_lists_only_named_fields_that_differ_in_their_order() {
        let before = json!({ "name": "Bulb", "price": 5000, "mrp": 6000, "taxRate": 1800, "stock": 3 });
        let after = json!({ "name": "Bulb", "price": 5500, "mrp": 6000, "taxRate": 1200, "stock": 9 });
        assert_eq!(
            changes(&before, &after, &["taxRate", "name", "price", "mrp"]),
            vec![Change::new("taxRate", json!(1800), json!(1200)), Change::new("price", json!(5000), json!(5500))]
        );
        // `stock` changed but is not named: not listed
        assert!(changes(&before, &after, &["name", "mrp"]).is_empty());
        assert!(changes(&before, &before, &["name", "price", "mrp", "taxRate", "stock"]).is_empty());
    }

    #[test]
    fn changes_treats_missing_as_null_and_numbers_by_value() {
        let before = json!({ "hsn": null, "discount": 5, "tags": ["a"] });
        let after = json!({ "discount": 5.0, "gst": "27AAAAA0000A1Z5", "tags": ["a", "b"] });
        assert_eq!(
            changes(&before, &after, &["hsn", "discount", "gst", "tags", "absent"]),
            vec![
                Change::new("gst", Value::Null, json!("27AAAAA0000A1Z5")),
                Change::new("tags", json!(["a"]), json!(["a", "b"])),
            ]
        );
        // removed field: after is null
        assert_eq!(
            changes(&json!({ "note": "x" }), &json!({}), &["note"]),
            vec![Change::new("note", json!("x"), Value::Null)]
        );
    }

    #[test]
    fn changes_follows_dotted_paths_into_nested_objects() {
        let before = json!({ "settings": { "maxActiveUsers": 2, "strictStock": true } });
        let after = json!({ "settings": { "maxActiveUsers": 3, "strictStock": true } });
        assert_eq!(
            changes(&before, &after, &["settings.maxActiveUsers", "settings.strictStock"]),
            vec![Change::new("settings.maxActiveUsers", json!(2), json!(3))]
        );
        #[derive(Serialize)]
        struct Item {
            price: i64,
            mrp: Option<i64>,
        }
        assert_eq!(
            changes_of(&Item { price: 100, mrp: None }, &Item { price: 100, mrp: Some(120) }, &["price", "mrp"]),
            vec![Change::new("mrp", Value::Null, json!(120))]
        );
    }

    #[test]
    fn a_reason_is_required_exactly_for_the_four_actions() {
        let c = ObjectId::new();
        let required: Vec<Action> = Action::ALL.into_iter().filter(|a| a.requires_reason()).collect();
        assert_eq!(
            required,
            vec![Action::DiscountOverCap, Action::PriceOverride, Action::InvoiceCancelled, Action::StockAdjusted]
        );
        for a in Action::ALL {
            let r = Entry::builder(c, who(), a, "invoices").build();
            if a.requires_reason() {
                assert_eq!(r, Err(EntryError::ReasonRequired(a)), "{a}");
                // blanks are no reason
                let blank = Entry::builder(c, who(), a, "invoices").reason("  \n ").build();
                assert_eq!(blank, Err(EntryError::ReasonRequired(a)), "{a}");
            } else {
                assert!(r.is_ok(), "{a}");
            }
            let e = Entry::builder(c, who(), a, "invoices").reason("  customer returned it ").build().unwrap();
            assert_eq!(e.reason(), Some("customer returned it"));
        }
        let long = "x".repeat(MAX_REASON_CHARS + 1);
        assert_eq!(
            Entry::builder(c, who(), Action::StockAdjusted, "items").reason(long).build(),
            Err(EntryError::ReasonTooLong)
        );
        assert_eq!(
            Entry::builder(c, who(), Action::StockAdjusted, "items").reason("bad\u{0}byte").build(),
            Err(EntryError::ReasonControlChars)
        );
        let two_lines = Entry::builder(c, who(), Action::StockAdjusted, "items").reason("counted\nagain").build();
        assert_eq!(two_lines.unwrap().reason(), Some("counted\nagain"));
    }

    #[test]
    fn a_missing_reason_is_a_400_naming_reason() {
        let e = Entry::builder(ObjectId::new(), who(), Action::InvoiceCancelled, "invoices").build().unwrap_err();
        match AppError::from(e) {
            AppError::Validation(errs) => assert_eq!(errs, vec!["reason: is required for invoice_cancelled"]),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn action_names_round_trip_and_match_serde() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), json!(a.as_str()));
        }
        assert_eq!(Action::parse("Login"), None);
        assert_eq!(Action::parse("delete"), None);
    }

    #[test]
    fn offline_unapproved_is_always_flagged() {
        let c = ObjectId::new();
        let e = Entry::builder(c, who(), Action::OfflineUnapproved, "invoices").flagged(false).build().unwrap();
        assert!(e.flagged());
        let e = Entry::builder(c, who(), Action::Login, "devicesessions").build().unwrap();
        assert!(!e.flagged());
    }
}
