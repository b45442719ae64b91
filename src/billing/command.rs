//! The typed commands of billing's write path: a sale ([`Sale`]) and a payment
//! ([`RecordPayment`]), whichever door they come through.
//!
//! ```text
//! HTTP  /invoices/generate, generatewithproducts, incomplete-sale ─┐
//! v1    /api/sync invoice.create[] (sync::v1::plan) ──────────────┼─> Sale ─> repo::load_for_sale ─> decide::sale ─> repo::apply_sale
//! v2    op invoice.create (sync::ops::parse_action) ──────────────┘          (the v2 bulk push decides against its in-memory World)
//! HTTP  /invoices/pay, v1 payment.create[], v2 op payment.create ───> RecordPayment ─> repo::load_for_payment ─> decide::payment ─> repo::apply_payment
//! ```
//!
//! A command is checked input (field rules of `billing::rules` already applied by the
//! door that built it); whether it may happen, and what it changes, is `billing::decide`'s
//! job. Ids and the clock are not part of a command: the decider receives them.

use bson::{oid::ObjectId, DateTime};

use crate::{access::By, billing::model::CartDoc, money::Paise};

/// One line named by a product list: (index in the request, product id, quantity, the
/// counter price the customer was charged; `None` = the catalog price).
pub type ProductLine = (usize, ObjectId, i64, Option<Paise>);

/// Where the lines of a sale come from.
#[derive(Debug, Clone)]
pub enum LineSource {
    /// An open cart of the shop (its lines carry their counter prices).
    Cart(ObjectId),
    /// A product list (online B20 / incomplete sale, v1 and v2 offline sales).
    Products(Vec<ProductLine>),
}

/// Which customer a sale is for.
#[derive(Debug, Clone)]
pub enum CustomerRef {
    /// Nobody (a walk-in; a cart's customer is used when the sale comes from one).
    None,
    /// A customer of the shop by id (a foreign or unknown id is refused).
    Id(ObjectId),
    /// Get-or-create by phone; `name` is written to a new customer or one still without a
    /// real name (U9).
    Phone { phone: String, name: Option<String> },
}

/// A sale kind: issued and numbered now.
pub const KIND_INVOICE: &str = "invoice";
/// A sale kind: Phase 1, recorded with no number until paid in full (seeds 000, 003).
pub const KIND_INCOMPLETE: &str = "incomplete";

/// A sale to record (online B19/B20/incomplete sale, a v1 `invoice.create` entry, a v2
/// `invoice.create` operation). Money in paise.
#[derive(Debug, Clone)]
pub struct Sale {
    pub client_id: ObjectId,
    pub lines: LineSource,
    pub customer: CustomerRef,
    /// Name/phone sent with the sale (kept on the invoice even with no customer record).
    pub customer_name: Option<String>,
    pub customer_phone: Option<String>,
    /// A total the client computed: refused when it differs from the server's.
    pub claimed_total: Option<Paise>,
    pub paid: Paise,
    pub tax: Paise,
    pub discount: Paise,
    /// Method of the first payment (`billing::model::METHODS`).
    pub method: String,
    /// Split payments (issue 17): the parts sent as `payments`; `None` = the v1 shape
    /// (`paid` in one `method`). With parts, `paid` is what they settle to
    /// (`decide::tender::settle`; the `paidAmount` sent, if any, is `Split::claimed`).
    pub split: Option<Split>,
    pub notes: String,
    /// [`KIND_INVOICE`] (numbered now) or [`KIND_INCOMPLETE`] (numbered when paid in full).
    pub kind: &'static str,
    /// How the sale is judged: the shop's settings online, an offline sale's rules otherwise.
    pub options: SaleOptions,
    /// Who sells (recorded as the invoice's `billedBy`, its first payment's `recordedBy` and
    /// its stock movements' `by`).
    pub by: By,
    /// What the seller may do without an approval (issue 15): judged by `decide::sale`.
    pub rights: SellerRights,
    /// The packing unit of a product-list line (issue 16), by the line's index in the request
    /// (the first field of [`ProductLine`]); a line not listed sells in the base unit. Unused
    /// for a cart.
    pub units: std::collections::BTreeMap<usize, ObjectId>,
    /// The batch a product line names (`batchNo`, issue 16), indexed by the line's index in
    /// the request ([`ProductLine`]`.0`); empty or `None` = first-expiring-first-out.
    pub batch_nos: Vec<Option<String>>,
    /// The GST inputs of the sale (issue 17; used when the shop has a GST profile).
    pub gst: SaleGst,
}

/// What a sale says about its GST (issue 17), as checked by its door: line discounts, the two
/// bill discounts of seed 004, the place of supply when set on the invoice, reverse charge.
/// Used only by shops with a GST profile (`billing::decide::tax`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaleGst {
    /// A line's discount by the line's index in the request ([`ProductLine`]`.0`).
    pub line_discounts: std::collections::BTreeMap<usize, crate::gst::Discount>,
    /// `discount1Amount`, `discount2Amount`: bill discounts before tax, shared across lines.
    pub discount1: Paise,
    pub discount2: Paise,
    /// A GST state code set on the invoice (`placeOfSupply`), else decided from the buyer.
    pub place_of_supply: Option<String>,
    pub reverse_charge: bool,
}

/// What a seller may do on a sale without an approval (issue 15's table): a counter price
/// other than the catalog's (`price_override`), and a bill discount up to `discount_cap_bp`
/// of the subtotal (basis points; `None` = no cap). Taken from the selling user
/// ([`SellerRights::of`]); the owner may do everything ([`SellerRights::owner`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SellerRights {
    /// The seller's role name (`"cashier"`), as the audit trail records it.
    pub role: String,
    pub price_override: bool,
    pub discount_cap_bp: Option<u32>,
    /// An approval covers this very sale (a consumed approval token of subject
    /// `approval::Subject::Sale`): nothing is held back, and the approver is recorded.
    pub approved_by: Option<crate::approval::Approver>,
}

impl SellerRights {
    /// The rights of `actor` (their effective permissions and discount cap).
    pub fn of(actor: &crate::access::Actor) -> SellerRights {
        SellerRights {
            role: actor.role.as_str().to_string(),
            price_override: actor.grants.contains(crate::access::Permission::PriceOverride),
            discount_cap_bp: actor.discount_cap_bp,
            approved_by: None,
        }
    }

    /// The shop owner's: no limit.
    pub fn owner() -> SellerRights {
        SellerRights {
            role: crate::access::Role::SuperAdmin.as_str().to_string(),
            price_override: true,
            discount_cap_bp: None,
            approved_by: None,
        }
    }
}

/// The rules a sale is judged by, and where it happened. [`Default`] is an online sale at
/// the counter: the shop's settings decide stock and full payment, no device data.
#[derive(Debug, Clone, Default)]
pub struct SaleOptions {
    /// Let stock go below zero (the lines that do are the invoice's `stock_warnings`);
    /// `None` = the shop's `allowNegativeStock`. An offline sale always subtracts (`Some(true)`).
    pub allow_negative: Option<bool>,
    /// Refuse a part-paid `invoice`; `None` = the shop's `requireFullPayment` (for kind
    /// `invoice` only). Offline sales already happened: `Some(false)`.
    pub require_full: Option<bool>,
    /// When the sale happened on the device (already bounded by the caller), kept as
    /// `deviceTime`; the invoice is dated by `decide::sale_time`. `None` = now.
    pub device_time: Option<DateTime>,
    /// The device's India calendar date of the sale when it sent no time (v1 `invoiceDate`,
    /// already bounded by the caller).
    pub device_date: Option<chrono::NaiveDate>,
    /// The device's own reference for the sale, kept on the invoice.
    pub device_ref: Option<String>,
    /// Accept lines of items that exist but are deactivated (an offline sale of an item
    /// deleted online after the device last pulled: the sale happened), and bill a customer
    /// deactivated meanwhile (issue 16). Ids that never belonged to the shop are still
    /// refused. Online sales keep `false`: 400 naming the line, or the customer field.
    pub allow_inactive: bool,
    /// What happens to a sale that needed an approval the seller did not have (issue 15):
    /// `false` (online) refuses it, 403 `APPROVAL_REQUIRED`; `true` (offline: the sale already
    /// happened and money changed hands) applies it, lists why on the invoice
    /// (`reviewFlags`) and records a flagged `offline_unapproved` audit entry with it.
    pub flag_unapproved: bool,
    /// A number printed outside the server that the sale keeps (issue 17): a paper bill
    /// book's leaf (`offlineBillRef`, every door) or the pushing device's series number (v2
    /// `invoiceNumber`). `None`: the counter's next number.
    pub printed: Option<crate::billing::numbering::PrintedRef>,
}

impl SaleOptions {
    /// The rules of an offline sale (v1 `/api/sync`, v2 push): it already happened, so it
    /// always subtracts stock (even below zero), a part payment is accepted, and an item
    /// deactivated since the device pulled still sells.
    pub fn offline(
        device_time: Option<DateTime>,
        device_date: Option<chrono::NaiveDate>,
        device_ref: Option<String>,
    ) -> Self {
        SaleOptions {
            allow_negative: Some(true),
            require_full: Some(false),
            device_time,
            device_date,
            device_ref,
            allow_inactive: true,
            flag_unapproved: true,
            printed: None,
        }
    }
}

/// A line the sale names, before pricing: (label for errors, item id, quantity, counter
/// price). The label is `products[i].productId` or `cart line n`.
pub type Wanted = (String, ObjectId, i64, Option<Paise>);

impl Sale {
    /// The lines this sale names: the cart's (when it comes from `cart`, the cart as loaded;
    /// empty without it) or the product list. The one rule the loader (which items to read)
    /// and the decider (what to price) share.
    pub fn wanted(&self, cart: Option<&CartDoc>) -> Vec<Wanted> {
        match &self.lines {
            LineSource::Cart(_) => cart
                .map(|c| {
                    c.lines
                        .iter()
                        .enumerate()
                        .map(|(i, l)| {
                            (format!("cart line {}", i + 1), l.item_id, l.quantity, Some(l.unit_price_snapshot))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            LineSource::Products(p) => {
                p.iter().map(|(i, id, q, price)| (format!("products[{i}].productId"), *id, *q, *price)).collect()
            }
        }
    }

    /// The packing unit of each line of [`Sale::wanted`], in the same order (`None`: a plain
    /// line; a cart's lines are all plain).
    pub fn line_units(&self) -> Vec<Option<ObjectId>> {
        match &self.lines {
            LineSource::Cart(_) => vec![],
            LineSource::Products(p) => p.iter().map(|(i, ..)| self.units.get(i).copied()).collect(),
        }
    }

    /// The batch named by the `k`-th line of [`Sale::wanted`] (cart lines name none).
    pub fn batch_of(&self, k: usize) -> Option<&str> {
        match &self.lines {
            LineSource::Cart(_) => None,
            LineSource::Products(p) => p.get(k).and_then(|(i, ..)| self.batch_nos.get(*i)).and_then(|b| b.as_deref()),
        }
    }

    /// The index in the request of the `k`-th line of [`Sale::wanted`] (`None` for a cart's
    /// lines, which carry no GST inputs of their own).
    pub fn line_index(&self, k: usize) -> Option<usize> {
        match &self.lines {
            LineSource::Cart(_) => None,
            LineSource::Products(p) => p.get(k).map(|(i, ..)| *i),
        }
    }

    /// The customer the sale is for: the one it names, else its cart's (by id, else by the
    /// cart's phone with the sale's name).
    pub fn customer_ref(&self, cart: Option<&CartDoc>) -> CustomerRef {
        match (&self.customer, cart) {
            (CustomerRef::None, Some(c)) => match (c.client_customer_id, &c.client_customer_phone) {
                (Some(id), _) => CustomerRef::Id(id),
                (None, Some(p)) => CustomerRef::Phone { phone: p.clone(), name: self.customer_name.clone() },
                (None, None) => CustomerRef::None,
            },
            (other, _) => other.clone(),
        }
    }
}

/// A payment on an invoice (online B22, a v1 `payment.create` entry, a v2 `payment.create`
/// operation). `amount` is already checked positive and within `limits::MAX_INVOICE`.
#[derive(Debug, Clone)]
pub struct RecordPayment {
    pub client_id: ObjectId,
    pub invoice_id: ObjectId,
    pub amount: Paise,
    pub method: String,
    /// Split payments (issue 17): the parts sent as `payments`; `None` = one payment of
    /// `amount` in `method`. With parts, `amount` is ignored (the `amount` sent beside them,
    /// if any, is `Split::claimed`).
    pub split: Option<Split>,
    pub note: String,
    /// When the payment was taken on the device (bounded by the caller); `None` = now.
    pub paid_at: Option<DateTime>,
    /// Who records it (the payment's `recordedBy`).
    pub by: By,
}

/// One part of a split payment as the door checked it (`billing::rules::payment_parts`):
/// `method` one of `billing::model::METHODS` or `credit`, lower-cased; money in paise, each
/// above 0 and within `limits::MAX_INVOICE` when sent; `reference` trimmed, at most
/// `rules::PAYMENT_REFERENCE_MAX` characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartIn {
    pub method: String,
    /// `None`: a cash part with `tendered` (the cash applied is computed), or a `credit` part.
    pub amount: Option<Paise>,
    pub reference: Option<String>,
    /// Cash only: the notes the customer handed over.
    pub tendered: Option<Paise>,
}

/// The `payments` of a sale or payment (issue 17), settled by `decide::tender::settle`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub parts: Vec<PartIn>,
    /// The paid amount sent beside the parts (`paidAmount` of a sale, `amount` of a
    /// payment): it must equal what they settle to.
    pub claimed: Option<Paise>,
}
