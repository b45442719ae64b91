//! The typed commands of issue 18: cancel an invoice ([`CancelInvoice`]) and issue a credit
//! note ([`IssueCreditNote`]), whichever door they come through.
//!
//! ```text
//! HTTP POST /business/invoices/{id}/cancel ──┐
//! v2   op invoice.cancel ─────────────────────┴─> CancelInvoice ─> repo::load ─> decide::cancel ─> repo::apply_cancel
//! HTTP POST /business/credit-notes ──────────┐
//! v2   op creditNote.create ──────────────────┴─> IssueCreditNote ─> repo::load ─> decide::credit_note ─> repo::apply_credit_note
//! ```
//!
//! A command is checked input (field rules already applied by the door); whether it may
//! happen and what it changes is `credit::decide`'s job. Ids and the clock are not part of a
//! command: the decider receives them.

use bson::{oid::ObjectId, DateTime};

use crate::{access::By, approval::Approver, money::Paise};

/// Cancel an invoice (issue 18): it keeps its number; stock goes back, dues and purchase
/// history are corrected. Money taken on it must be refunded first, or in this very command
/// (`refund_method`).
#[derive(Debug, Clone)]
pub struct CancelInvoice {
    pub client_id: ObjectId,
    pub invoice_id: ObjectId,
    /// Why (required, 1-500 characters; kept on the invoice and in the audit trail).
    pub reason: String,
    /// Refund what is paid on it (net) in this method (`billing::model::METHODS`) as part of
    /// the cancel; `None`: nothing may be paid on it.
    pub refund_method: Option<String>,
    /// Who cancels (the invoice's `cancellation.by`, the refund's `recordedBy`).
    pub by: By,
    /// The same user as the audit trail names them (role, session).
    pub who: crate::audit::Who,
    /// The approver of a user without the `cancel` permission (a consumed approval token).
    pub approved_by: Option<Approver>,
    /// When it happened on the device (offline; bounded by the caller); `None` = now.
    pub at: Option<DateTime>,
}

/// Which unit a returned quantity counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnUnit {
    /// The unit the invoice line sold in (its `unit`, else the base unit).
    Sold,
    /// The item's base unit (`baseQuantity` on the wire).
    Base,
    /// One of the item's packing units (`unitId`).
    Unit(ObjectId),
}

/// One returned line: the invoice line (its 0-based index in `products`, `lineId`), how many,
/// in which unit, and optionally the batch it goes back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnLine {
    pub line: usize,
    /// At least 0 (a line of 0 credits nothing).
    pub quantity: i64,
    pub unit: ReturnUnit,
    /// Put back into this lot (a `hasExpiry` item); `None` = the lots the line took, in order.
    pub batch_no: Option<String>,
}

/// What a credit note credits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credit {
    /// Goods returned: each line credits its stored taxable value and tax pro rata.
    Lines(Vec<ReturnLine>),
    /// An amount-only adjustment (an overcharge corrected), tax included, in paise; spread
    /// over the lines in proportion to what is left on them. No goods move.
    Amount(Paise),
}

/// How a credit note is settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// Cash back in `method`: `amount` of the note (`None` = all of it); the rest is
    /// adjusted to the invoice's dues.
    Refund { method: String, amount: Option<Paise> },
    /// All of it reduces what is pending on the invoice (and the customer's dues).
    AdjustToDues,
}

/// Issue a credit note against an invoice (issue 18; CGST Act s.34, rule 53(1A)).
#[derive(Debug, Clone)]
pub struct IssueCreditNote {
    pub client_id: ObjectId,
    pub invoice_id: ObjectId,
    pub credit: Credit,
    /// Put returned goods back on the shelf (default true; false for damaged goods).
    pub restock: bool,
    pub settlement: Settle,
    /// Why (required, 1-500 characters).
    pub reason: String,
    pub by: By,
    /// The same user as the audit trail names them (role, session).
    pub who: crate::audit::Who,
    pub approved_by: Option<Approver>,
    /// When it happened on the device (offline; bounded by the caller); `None` = now.
    pub at: Option<DateTime>,
    /// The device's own reference of an offline note.
    pub device_ref: Option<String>,
    /// `online` | `sync`.
    pub source: &'static str,
}
