//! Typed commands on the shop's customers: what an online request (B9, B12, B13) or a v2
//! operation (`customer.create/update/delete`) asks for, after its shop-independent input
//! (phone, name) was checked by [`crate::customer::rules`]. The optional fields are carried as
//! sent: whether they are stored depends on the shop's `customerFields`, which
//! [`crate::customer::decide`] receives. Ids and the time are inputs, so the decider stays pure.

use bson::{oid::ObjectId, DateTime};

use crate::{
    customer::{
        dto::{CreateCustomerRequest, UpdateCustomerRequest},
        model::CustomerDoc,
        rules::{self, OptionalInput, Profile, ProfileInput},
    },
    error::AppResult,
    validate::Errors,
};

/// The fields of a customer an edit writes (`None` = not written), checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerPatch {
    pub name: Option<String>,
    pub address: Option<String>,
    pub email_id: Option<String>,
    pub gst_no: Option<String>,
    /// The profile fields written (issue 16).
    pub profile: Profile,
}

impl CustomerPatch {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        *self == CustomerPatch::default()
    }

    /// Set a field by its stored name (`name`, `address`, `emailId`, `gstNo`).
    pub fn set(&mut self, field: &str, value: String) {
        match field {
            "name" => self.name = Some(value),
            "address" => self.address = Some(value),
            "emailId" => self.email_id = Some(value),
            "gstNo" => self.gst_no = Some(value),
            _ => {}
        }
    }

    fn pairs<'a>(&'a self, c: &'a CustomerDoc) -> [(&'static str, Option<&'a String>, &'a String); 4] {
        [
            ("name", self.name.as_ref(), &c.name),
            ("address", self.address.as_ref(), &c.address),
            ("emailId", self.email_id.as_ref(), &c.email_id),
            ("gstNo", self.gst_no.as_ref(), &c.gst_no),
        ]
    }

    /// The stored names of the fields written whose value differs from `c`'s.
    pub fn differing(&self, c: &CustomerDoc) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = self
            .pairs(c)
            .into_iter()
            .filter(|(_, sent, cur)| sent.is_some_and(|s| s != *cur))
            .map(|(f, _, _)| f)
            .collect();
        let p = &self.profile;
        for (f, differs) in [
            ("customerType", p.customer_type.as_ref().is_some_and(|v| *v != c.customer_type)),
            ("billingAddress", p.billing_address.as_ref().is_some_and(|v| *v != c.billing_address)),
            ("shippingAddress", p.shipping_address.as_ref().is_some_and(|v| *v != c.shipping_address)),
            ("contactPerson", p.contact_person.as_ref().is_some_and(|v| *v != c.contact_person)),
            ("status", p.status.as_ref().is_some_and(|v| *v != c.status)),
        ] {
            if differs {
                out.push(f);
            }
        }
        out
    }

    /// Only the fields whose value differs from `c`'s.
    pub fn changes_to(&self, c: &CustomerDoc) -> CustomerPatch {
        let mut out = CustomerPatch::default();
        for (f, sent, cur) in self.pairs(c) {
            if let Some(s) = sent.filter(|s| *s != cur) {
                out.set(f, s.clone());
            }
        }
        let p = &self.profile;
        out.profile = Profile {
            customer_type: p.customer_type.clone().filter(|v| *v != c.customer_type),
            billing_address: p.billing_address.clone().filter(|v| *v != c.billing_address),
            shipping_address: p.shipping_address.clone().filter(|v| *v != c.shipping_address),
            contact_person: p.contact_person.clone().filter(|v| *v != c.contact_person),
            status: p.status.clone().filter(|v| *v != c.status),
        };
        out
    }

    /// Write the fields into `c` (in memory).
    pub fn apply_to(&self, c: &mut CustomerDoc) {
        for (v, into) in [
            (&self.name, &mut c.name),
            (&self.address, &mut c.address),
            (&self.email_id, &mut c.email_id),
            (&self.gst_no, &mut c.gst_no),
        ] {
            if let Some(v) = v {
                into.clone_from(v);
            }
        }
        let p = &self.profile;
        if let Some(v) = &p.customer_type {
            c.customer_type.clone_from(v);
        }
        if let Some(v) = &p.billing_address {
            c.billing_address.clone_from(v);
        }
        if let Some(v) = &p.shipping_address {
            c.shipping_address.clone_from(v);
        }
        if let Some(v) = &p.contact_person {
            c.contact_person.clone_from(v);
        }
        if let Some(v) = &p.status {
            c.status.clone_from(v);
        }
    }

    /// Whether the edit writes a field the GSTIN-state rule reads (`gstNo`, `billingAddress`).
    pub fn touches_gstin_state(&self) -> bool {
        self.gst_no.is_some() || self.profile.billing_address.is_some()
    }

    /// Fold a later edit into this one (a field written later wins).
    pub fn merge(&mut self, later: &CustomerPatch) {
        for (v, into) in [
            (&later.name, &mut self.name),
            (&later.address, &mut self.address),
            (&later.email_id, &mut self.email_id),
            (&later.gst_no, &mut self.gst_no),
        ] {
            if v.is_some() {
                into.clone_from(v);
            }
        }
        let (p, into) = (&later.profile, &mut self.profile);
        if p.customer_type.is_some() {
            into.customer_type.clone_from(&p.customer_type);
        }
        if p.billing_address.is_some() {
            into.billing_address.clone_from(&p.billing_address);
        }
        if p.shipping_address.is_some() {
            into.shipping_address.clone_from(&p.shipping_address);
        }
        if p.contact_person.is_some() {
            into.contact_person.clone_from(&p.contact_person);
        }
        if p.status.is_some() {
            into.status.clone_from(&p.status);
        }
    }
}

/// Get-or-create a customer by phone (B9; v2 `customer.create`): a known phone is merged
/// (see [`crate::customer::decide::create_customer`]).
#[derive(Debug, Clone)]
pub struct CreateCustomer {
    pub client_id: ObjectId,
    /// The id a new customer gets.
    pub id: ObjectId,
    /// Normalised (`validate::normalize_phone`): the customer's identity.
    pub phone: String,
    /// Checked; `None` when absent or blank (a new customer gets the placeholder name).
    pub name: Option<String>,
    /// The optional fields as sent (checked against the shop's `customerFields` by the decider).
    pub extra: OptionalInput,
    pub now: DateTime,
}

/// Edit a customer (B12; v2 `customer.update`); the phone never changes.
#[derive(Debug, Clone)]
pub struct UpdateCustomer {
    pub client_id: ObjectId,
    pub id: ObjectId,
    /// Checked (2-100 characters).
    pub name: Option<String>,
    pub extra: OptionalInput,
    /// The customer's `__v` the device last saw (`baseVersion`; `None`: applied as sent).
    pub base: Option<i32>,
    pub now: DateTime,
}

/// Delete a customer (B13; v2 `customer.delete`), refused while they owe money; a customer with
/// documents (invoices, hence payments) is deactivated instead (`status: inactive`).
#[derive(Debug, Clone)]
pub struct DeleteCustomer {
    pub client_id: ObjectId,
    pub id: ObjectId,
    pub now: DateTime,
}

impl CreateCustomer {
    /// From the B9 body (400 naming `phone` / `name`).
    pub fn from_request(
        client_id: ObjectId,
        id: ObjectId,
        now: DateTime,
        req: CreateCustomerRequest,
    ) -> AppResult<Self> {
        let mut e = Errors::new();
        let phone = e.phone("phone", &req.phone);
        let name = rules::create_name(&mut e, "name", req.name.as_deref());
        e.finish()?;
        let profile = ProfileInput {
            customer_type: req.customer_type,
            billing_address: req.billing_address,
            shipping_address: req.shipping_address,
            contact_person: req.contact_person,
            status: req.status,
        };
        let extra = OptionalInput { address: req.address, email_id: req.email_id, gst_no: req.gst_no, profile };
        Ok(CreateCustomer { client_id, id, phone, name, extra, now })
    }
}

impl UpdateCustomer {
    /// From the B12 body (400 naming `name`); the phone sent is ignored, as v1.
    pub fn from_request(
        client_id: ObjectId,
        id: ObjectId,
        now: DateTime,
        req: UpdateCustomerRequest,
    ) -> AppResult<Self> {
        let mut e = Errors::new();
        let name = req.name.as_deref().map(|n| rules::name(&mut e, "name", n));
        e.finish()?;
        let profile = ProfileInput {
            customer_type: req.customer_type,
            billing_address: req.billing_address,
            shipping_address: req.shipping_address,
            contact_person: req.contact_person,
            status: req.status,
        };
        let extra = OptionalInput { address: req.address, email_id: req.email_id, gst_no: req.gst_no, profile };
        Ok(UpdateCustomer { client_id, id, name, extra, base: None, now })
    }
}
