//! The rules of customer writes, as pure functions (no I/O, no clock, no randomness): from a
//! [command](crate::customer::command), the shop's `customerFields` and the customer it names
//! (by id, or by phone for a create), as loaded by [`crate::customer::repo`] or held in memory
//! by a v2 push, to a [`CustomerPlan`] or a typed [`Refusal`]. Online (`customer::service`)
//! and v2 (`sync::bulk`) call these same functions.

use bson::oid::ObjectId;

use crate::{
    changelog,
    client::model::CustomerFields,
    customer::{
        command::{CreateCustomer, CustomerPatch, DeleteCustomer, UpdateCustomer},
        model::{CustomerDoc, STATUSES},
        rules,
    },
    error::{code, AppError},
    validate::Errors,
};

/// Placeholder name of a new customer created without one (v1).
pub const PLACEHOLDER_NAME: &str = "clientCustomer";

/// A stale edit of a customer (not applied): the shared [`crate::changelog::Conflict`].
pub type Conflict = crate::changelog::Conflict<CustomerDoc>;

/// Why a customer write is refused (nothing is written).
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Field complaints (`<field>: <text>`): an optional field breaking its rule, or an enabled
    /// one missing on a new customer.
    Invalid(Vec<String>),
    /// Not a customer of this shop.
    NotFound,
    /// A delete while the customer owes money.
    HasBalance,
    /// See [`Conflict`].
    Conflict(Box<Conflict>),
}

impl Refusal {
    /// The online answer (B9, B12, B13): 400 naming the fields; 404 `Customer not found`; 409
    /// `CONFLICT` for dues or a stale edit.
    pub fn online(self) -> AppError {
        match self {
            Refusal::NotFound => AppError::not_found("Customer not found"),
            other => other.common(),
        }
    }

    /// The answer of a sync operation, which names the customer in its payload: `id: is not a
    /// customer of this shop`; the rest as online (a push renders the message as its reason).
    pub fn synced(self) -> AppError {
        match self {
            Refusal::NotFound => AppError::validation("id", "is not a customer of this shop"),
            other => other.common(),
        }
    }

    fn common(self) -> AppError {
        match self {
            Refusal::Invalid(v) => AppError::Validation(v),
            Refusal::NotFound => AppError::not_found("Customer not found"),
            Refusal::HasBalance => AppError::conflict(
                code::CONFLICT,
                "Customer not deleted: they have an outstanding balance; settle it first",
            ),
            Refusal::Conflict(c) => AppError::conflict(code::CONFLICT, c.reason()),
        }
    }
}

/// The effects of one customer command (data).
#[derive(Debug, Clone, PartialEq)]
pub enum CustomerPlan {
    /// A new customer.
    Insert(CustomerDoc),
    /// `$set` the fields of `patch`, bump `__v`, guarded by `version`; `after` once applied.
    Update { version: i32, patch: Box<CustomerPatch>, after: CustomerDoc },
    /// A known phone and nothing new to store: nothing written.
    Unchanged(CustomerDoc),
    /// Delete for real (guarded: no dues); logged as a delete.
    Delete(CustomerDoc),
}

impl CustomerPlan {
    /// The customer once the plan is applied (the deleted one for a delete).
    pub fn after(&self) -> &CustomerDoc {
        match self {
            CustomerPlan::Insert(c) | CustomerPlan::Unchanged(c) | CustomerPlan::Delete(c) => c,
            CustomerPlan::Update { after, .. } => after,
        }
    }

    /// Whether the plan creates the customer.
    pub fn is_new(&self) -> bool {
        matches!(self, CustomerPlan::Insert(_))
    }

    /// The change-log row: `(collection, id, deleted)`.
    pub fn change(&self) -> (&'static str, ObjectId, bool) {
        (changelog::CUSTOMERS, self.after().id, matches!(self, CustomerPlan::Delete(_)))
    }
}

/// The enabled optional fields sent, checked (disabled ones are ignored, as v1).
fn optional(e: &mut Errors, flags: &CustomerFields, cmd_extra: &rules::OptionalInput) -> Vec<(&'static str, String)> {
    rules::optional_fields(e, "", flags, cmd_extra)
}

fn finish(e: Errors) -> Result<(), Refusal> {
    if e.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Invalid(e.0))
    }
}

/// Get-or-create by phone. A new customer must carry every enabled optional field (non-empty)
/// and is named `clientCustomer` without a name. A known phone (`by_phone`) keeps its stored
/// values unless a new non-empty one is sent (a name, or an enabled field): those are set,
/// nothing else is written.
pub fn create_customer(
    cmd: &CreateCustomer,
    flags: &CustomerFields,
    by_phone: Option<&CustomerDoc>,
) -> Result<CustomerPlan, Refusal> {
    let mut e = Errors::new();
    let fields = optional(&mut e, flags, &cmd.extra);
    let profile = rules::profile(&mut e, "", &cmd.extra.profile);
    if by_phone.is_none() {
        rules::require_enabled(&mut e, "", flags, &fields);
    }
    finish(e)?;
    let Some(existing) = by_phone else {
        let value = |k: &str| fields.iter().find(|(f, _)| *f == k).map(|(_, v)| v.clone()).unwrap_or_default();
        let name = cmd.name.as_deref().unwrap_or(PLACEHOLDER_NAME);
        let mut new = CustomerDoc {
            id: cmd.id,
            address: value("address"),
            email_id: value("emailId"),
            gst_no: value("gstNo"),
            ..CustomerDoc::new(cmd.client_id, &cmd.phone, name, cmd.now)
        };
        CustomerPatch { profile, ..Default::default() }.apply_to(&mut new);
        let mut e = Errors::new();
        rules::gstin_state(&mut e, "", &new);
        finish(e)?;
        return Ok(CustomerPlan::Insert(new));
    };
    // a known phone: only non-empty values are merged (an empty address does not clear)
    let mut sent = CustomerPatch { name: cmd.name.clone().filter(|n| !n.is_empty()), ..Default::default() };
    for (k, v) in fields.into_iter().filter(|(_, v)| !v.is_empty()) {
        sent.set(k, v);
    }
    sent.profile = rules::Profile {
        billing_address: profile.billing_address.filter(Option::is_some),
        shipping_address: profile.shipping_address.filter(Option::is_some),
        contact_person: profile.contact_person.filter(Option::is_some),
        ..profile
    };
    let patch = sent.changes_to(existing);
    if patch.is_empty() {
        return Ok(CustomerPlan::Unchanged(existing.clone()));
    }
    checked_edit(existing, patch, cmd.now)
}

/// [`edit`], refused when the edit breaks the GSTIN-state rule on the customer it leaves.
fn checked_edit(current: &CustomerDoc, patch: CustomerPatch, now: bson::DateTime) -> Result<CustomerPlan, Refusal> {
    let check = patch.touches_gstin_state();
    let plan = edit(current, patch, now);
    if check {
        let mut e = Errors::new();
        rules::gstin_state(&mut e, "", plan.after());
        finish(e)?;
    }
    Ok(plan)
}

fn edit(current: &CustomerDoc, patch: CustomerPatch, now: bson::DateTime) -> CustomerPlan {
    let mut after = current.clone();
    patch.apply_to(&mut after);
    after.version = current.version.saturating_add(1);
    after.updated_at = now;
    CustomerPlan::Update { version: current.version, patch: Box::new(patch), after }
}

/// An edit of the name and the enabled optional fields (`''` clears one; nothing is required).
/// An edit based on an older version whose fields changed since is a [`Conflict`]. Every
/// edit bumps `__v`.
pub fn update_customer(
    cmd: &UpdateCustomer,
    flags: &CustomerFields,
    current: Option<&CustomerDoc>,
) -> Result<CustomerPlan, Refusal> {
    let mut e = Errors::new();
    let fields = optional(&mut e, flags, &cmd.extra);
    let profile = rules::profile(&mut e, "", &cmd.extra.profile);
    finish(e)?;
    let current = current.ok_or(Refusal::NotFound)?;
    let mut patch = CustomerPatch { name: cmd.name.clone(), profile, ..Default::default() };
    for (k, v) in fields {
        patch.set(k, v);
    }
    let stale = changelog::stale(current.version, cmd.base, || patch.differing(current));
    if !stale.is_empty() {
        return Err(Refusal::Conflict(Box::new(Conflict {
            id: current.id,
            version: current.version,
            base: cmd.base.unwrap_or_default(),
            fields: stale,
            current: current.clone(),
        })));
    }
    checked_edit(current, patch, cmd.now)
}

/// A delete, refused while the customer owes money. A customer with documents
/// (`has_documents`: an invoice names them; payments belong to invoices) is deactivated
/// instead (`status: inactive`, an edit that bumps `__v`; an inactive one is left unchanged):
/// GST records are kept 72 months (issue 16). One without documents is deleted for real.
pub fn delete_customer(
    cmd: &DeleteCustomer,
    current: Option<&CustomerDoc>,
    has_documents: bool,
) -> Result<CustomerPlan, Refusal> {
    let current = current.ok_or(Refusal::NotFound)?;
    if current.outstanding_balance.is_positive() {
        return Err(Refusal::HasBalance);
    }
    if has_documents {
        if current.status == STATUSES[1] {
            return Ok(CustomerPlan::Unchanged(current.clone()));
        }
        let patch = CustomerPatch {
            profile: rules::Profile { status: Some(STATUSES[1].to_string()), ..Default::default() },
            ..Default::default()
        };
        return Ok(edit(current, patch, cmd.now));
    }
    Ok(CustomerPlan::Delete(current.clone()))
}

/// The edits of one push folded per existing customer, written as one update
/// (`repo::write_folded`): the fields written (a later edit wins) and the number of edits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Folded {
    pub patch: CustomerPatch,
    pub edits: i32,
}

impl Folded {
    /// Fold one more plan of the same customer.
    pub fn fold(&mut self, plan: &CustomerPlan) {
        if let CustomerPlan::Update { patch, .. } = plan {
            self.patch.merge(patch);
            self.edits += 1;
        }
    }

    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.edits == 0 && self.patch.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use bson::DateTime;

    use super::*;
    use crate::{customer::rules::OptionalInput, money::Paise};

    const ALL: CustomerFields = CustomerFields { address: true, gst_no: false, email_id: true };

    fn stored() -> CustomerDoc {
        let mut c = CustomerDoc::new(ObjectId::new(), "9891112222", "Ravi", DateTime::from_millis(0));
        c.address = "12 MG Road".into();
        c.email_id = "ravi@example.in".into();
        c
    }

    fn create(name: Option<&str>, extra: OptionalInput) -> CreateCustomer {
        CreateCustomer {
            client_id: ObjectId::new(),
            id: ObjectId::new(),
            phone: "9891112222".into(),
            name: name.map(str::to_string),
            extra,
            now: DateTime::from_millis(5),
        }
    }

    fn update(c: &CustomerDoc, name: Option<&str>, extra: OptionalInput, base: Option<i32>) -> UpdateCustomer {
        UpdateCustomer {
            client_id: c.client_id,
            id: c.id,
            name: name.map(str::to_string),
            extra,
            base,
            now: DateTime::from_millis(9),
        }
    }

    #[test]
    fn merge_by_phone_keeps_stored_values_unless_a_new_non_empty_one_is_sent() {
        let c = stored();
        // blank address, same email, no name: nothing new
        let same = OptionalInput {
            address: Some(String::new()),
            email_id: Some("ravi@example.in".into()),
            ..Default::default()
        };
        assert_eq!(create_customer(&create(None, same), &ALL, Some(&c)), Ok(CustomerPlan::Unchanged(c.clone())));
        // a new address and a new name are stored; the blank email keeps the stored one
        let new =
            OptionalInput { address: Some("5 Park St".into()), email_id: Some(String::new()), ..Default::default() };
        let Ok(CustomerPlan::Update { patch, after, version }) =
            create_customer(&create(Some("Ravi K"), new), &ALL, Some(&c))
        else {
            panic!()
        };
        assert_eq!(
            *patch,
            CustomerPatch { name: Some("Ravi K".into()), address: Some("5 Park St".into()), ..Default::default() }
        );
        assert_eq!((after.email_id.as_str(), after.version, version), ("ravi@example.in", 1, 0));
        // a disabled field is ignored
        let gst = OptionalInput { gst_no: Some("29ABCDE1234F1ZW".into()), ..Default::default() };
        assert!(matches!(create_customer(&create(None, gst), &ALL, Some(&c)), Ok(CustomerPlan::Unchanged(_))));
    }

    #[test]
    fn a_new_customer_needs_every_enabled_field_and_gets_the_placeholder_name() {
        let only_email = OptionalInput { email_id: Some("a@b.in".into()), ..Default::default() };
        let r = create_customer(&create(None, only_email.clone()), &ALL, None);
        assert!(matches!(&r, Err(Refusal::Invalid(v)) if v.len() == 1 && v[0].starts_with("address")), "{r:?}");
        let none = CustomerFields::default();
        let cmd = create(None, only_email);
        let Ok(CustomerPlan::Insert(c)) = create_customer(&cmd, &none, None) else { panic!() };
        assert_eq!((c.id, c.name.as_str(), c.email_id.as_str()), (cmd.id, PLACEHOLDER_NAME, ""));
        assert_eq!(c.created_at, DateTime::from_millis(5));
    }

    #[test]
    fn a_customer_with_dues_cannot_be_deleted() {
        let mut c = stored();
        c.outstanding_balance = Paise::new(1000);
        let cmd = DeleteCustomer { client_id: c.client_id, id: c.id, now: DateTime::from_millis(1) };
        assert_eq!(delete_customer(&cmd, Some(&c), false), Err(Refusal::HasBalance));
        assert_eq!(delete_customer(&cmd, Some(&c), true), Err(Refusal::HasBalance));
        assert_eq!(
            Refusal::HasBalance.online().to_string(),
            "Customer not deleted: they have an outstanding balance; settle it first"
        );
        c.outstanding_balance = Paise::ZERO;
        let plan = delete_customer(&cmd, Some(&c), false).unwrap();
        assert_eq!(plan.change(), (changelog::CUSTOMERS, c.id, true));
        assert_eq!(delete_customer(&cmd, None, false), Err(Refusal::NotFound));
    }

    #[test]
    fn a_customer_with_documents_is_deactivated_not_deleted() {
        let c = stored();
        let cmd = DeleteCustomer { client_id: c.client_id, id: c.id, now: DateTime::from_millis(7) };
        let plan = delete_customer(&cmd, Some(&c), true).unwrap();
        let CustomerPlan::Update { version, ref after, .. } = plan else { panic!("{plan:?}") };
        assert_eq!((version, after.version, after.status.as_str()), (0, 1, "inactive"));
        assert_eq!(plan.change(), (changelog::CUSTOMERS, c.id, false));
        // deleting an inactive customer again writes nothing
        let again = delete_customer(&cmd, Some(after), true).unwrap();
        assert!(matches!(again, CustomerPlan::Unchanged(_)), "{again:?}");
    }

    fn billing(state: &str) -> Option<crate::customer::model::Address> {
        Some(crate::customer::model::Address { state: state.into(), ..Default::default() })
    }

    #[test]
    fn the_gstin_must_match_the_billing_state() {
        let gst_on = CustomerFields { gst_no: true, ..Default::default() };
        let with = |gst: &str, state: &str| OptionalInput {
            gst_no: Some(gst.into()),
            profile: rules::ProfileInput { billing_address: billing(state), ..Default::default() },
            ..Default::default()
        };
        // Karnataka GSTIN, Maharashtra address: refused naming gstNo
        let r = create_customer(&create(None, with("29ABCDE1234F1ZW", "27")), &gst_on, None);
        assert!(matches!(&r, Err(Refusal::Invalid(v)) if v.len() == 1 && v[0].starts_with("gstNo")), "{r:?}");
        // the state by name is stored as its code and matches
        let Ok(CustomerPlan::Insert(c)) =
            create_customer(&create(None, with("29ABCDE1234F1ZW", "karnataka")), &gst_on, None)
        else {
            panic!()
        };
        assert_eq!(
            (c.gst_no.as_str(), c.billing_address.as_ref().map(|a| a.state.as_str())),
            ("29ABCDE1234F1ZW", Some("29"))
        );
        // an edit moving the address to another state is refused; one without either passes
        let moved = OptionalInput {
            profile: rules::ProfileInput { billing_address: billing("27"), ..Default::default() },
            ..Default::default()
        };
        let r = update_customer(&update(&c, None, moved, None), &gst_on, Some(&c));
        assert!(matches!(&r, Err(Refusal::Invalid(v)) if v[0].starts_with("gstNo")), "{r:?}");
        let no_state = create_customer(&create(None, with("29ABCDE1234F1ZW", "")), &gst_on, None);
        assert!(matches!(no_state, Ok(CustomerPlan::Insert(_))), "{no_state:?}");
        // a corrupted check character is refused
        let bad = create_customer(&create(None, with("29ABCDE1234F1ZX", "29")), &gst_on, None);
        assert!(matches!(&bad, Err(Refusal::Invalid(v)) if v[0].contains("check character")), "{bad:?}");
    }

    #[test]
    fn profile_fields_are_checked_and_a_stale_edit_of_one_conflicts() {
        let bad = OptionalInput {
            profile: rules::ProfileInput {
                customer_type: Some("hospital".into()),
                shipping_address: Some(crate::customer::model::Address {
                    pincode: "041100".into(),
                    state: "45".into(),
                    ..Default::default()
                }),
                contact_person: Some(crate::customer::model::ContactPerson {
                    phone: "12".into(),
                    email: "x@".into(),
                    ..Default::default()
                }),
                status: Some("gone".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let Err(Refusal::Invalid(v)) = create_customer(&create(None, bad), &CustomerFields::default(), None) else {
            panic!()
        };
        for f in [
            "customerType",
            "shippingAddress.state",
            "shippingAddress.pincode",
            "contactPerson.phone",
            "contactPerson.email",
            "status",
        ] {
            assert!(v.iter().any(|m| m.starts_with(&format!("{f}:"))), "{f} not named in {v:?}");
        }
        let mut c = stored();
        c.version = 2;
        let school = OptionalInput {
            profile: rules::ProfileInput { customer_type: Some("School".into()), ..Default::default() },
            ..Default::default()
        };
        let r = update_customer(&update(&c, None, school.clone(), Some(1)), &ALL, Some(&c));
        assert!(matches!(&r, Err(Refusal::Conflict(x)) if x.fields == vec!["customerType"]), "{r:?}");
        let Ok(CustomerPlan::Update { after, .. }) =
            update_customer(&update(&c, None, school, Some(2)), &ALL, Some(&c))
        else {
            panic!()
        };
        assert_eq!(after.customer_type, "school");
    }

    #[test]
    fn a_stale_base_conflicts_only_on_fields_changed_to_another_value() {
        let mut c = stored();
        c.version = 2;
        let r = update_customer(&update(&c, Some("Ravi Kumar"), OptionalInput::default(), Some(1)), &ALL, Some(&c));
        assert!(matches!(&r, Err(Refusal::Conflict(x)) if x.fields == vec!["name"] && x.current == c), "{r:?}");
        let same = update_customer(&update(&c, Some("Ravi"), OptionalInput::default(), Some(1)), &ALL, Some(&c));
        assert!(matches!(same, Ok(CustomerPlan::Update { .. })), "{same:?}");
        let current =
            update_customer(&update(&c, Some("Ravi Kumar"), OptionalInput::default(), Some(2)), &ALL, Some(&c));
        assert!(matches!(current, Ok(CustomerPlan::Update { ref after, .. }) if after.version == 3), "{current:?}");
    }
}
