//! v2 push: operations applied exactly once, ever.
//!
//! A push is one transaction. Every operation (applied or rejected) is recorded in `syncops`
//! in that transaction, under a permanent unique index on `(clientId, opId)`: a replay finds
//! the record and answers `duplicate` with the original outcome, and two concurrent pushes
//! of the same operation cannot both commit (the second hits the unique index, re-reads and
//! answers `duplicate`). The batch is applied in bulk (`sync::bulk`): simulated in memory
//! with the billing rules first, so an operation that fails a rule is rejected without
//! writing anything and the others still apply, then written in a few round trips.

use std::collections::HashMap;

use bson::{doc, oid::ObjectId, DateTime};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    access::{Actor, Permission},
    billing::rules,
    catalog::{
        command::ItemPatch,
        rules::{self as catalog_rules, DetailsIn, ItemInput},
        stock::{adjust_input, Adjust},
    },
    customer::{
        model::{Address, ContactPerson},
        rules::{self as customer_rules, OptionalInput, ProfileInput},
    },
    db,
    error::{AppError, AppResult},
    extract::from_value,
    money::Paise,
    state::AppState,
    sync::{apply::NewItem, bulk},
    validate::Errors,
};

pub const OPS: &str = "syncops";
/// Largest push (more answers 413).
pub const MAX_OPS: usize = 1000;
/// A device clock may run this far ahead of the server.
pub const FUTURE_SKEW_SECS: i64 = 300;
/// Offline sales and payments older than this are refused (a shop offline for longer must
/// enter them through the online endpoints after checking them).
pub const MAX_AGE_DAYS: i64 = 30;

/// The stored record of one operation (permanent).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpRecord {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    pub op_id: String,
    pub entity: String,
    pub kind: String,
    /// `applied` | `rejected`.
    pub status: String,
    /// Server ids and numbers assigned (JSON text).
    #[serde(default)]
    pub result: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    /// The operation as sent (JSON text, for the owner's list of rejected operations).
    pub payload: String,
    #[serde(default)]
    pub device_time: Option<DateTime>,
    /// The sync sequence at which its effects became visible (pull acknowledges it).
    pub seq: i64,
    pub created_at: DateTime,
}

/// A reference to a document: a server id, or the `opId` of the operation that created it.
#[derive(Debug, Clone)]
pub enum Ref {
    Id(ObjectId),
    Op(String),
}

#[derive(Debug, Clone)]
pub enum Action {
    ItemCreate(NewItem),
    /// `base`: the item's `__v` the device last saw (`baseVersion`); see docs/sync.md, "Edits".
    ItemUpdate {
        target: Ref,
        patch: Box<ItemPatch>,
        stock_delta: i64,
        base: Option<i32>,
        /// The reason and note of the stock move (`stockReason`, `stockNote`; issue 16).
        adjust: Adjust,
    },
    ItemDelete(Ref),
    /// The optional fields are applied with the shop's `customerFields` (`customer::rules`).
    CustomerCreate {
        phone: String,
        name: Option<String>,
        extra: OptionalInput,
    },
    /// `base`: the customer's `__v` the device last saw (`baseVersion`).
    CustomerUpdate {
        target: Ref,
        name: Option<String>,
        extra: OptionalInput,
        base: Option<i32>,
    },
    CustomerDelete(Ref),
    InvoiceCreate(Box<InvoiceAction>),
    PaymentCreate {
        invoice: Ref,
        amount: Paise,
        method: String,
        /// Split payment (issue 17): the parts sent as `payments`.
        split: Option<crate::billing::command::Split>,
        note: String,
        at: DateTime,
    },
    /// Cancel an invoice (issue 18, `invoice cancel`): applied in its own step of the push,
    /// through the online write path (`sync::bulk::credit`).
    InvoiceCancel(Box<CancelAction>),
    /// Issue a credit note (issue 18, `creditNote create`): likewise.
    CreditNoteCreate(Box<CreditAction>),
}

pub use returns::{CancelAction, CreditAction};

#[derive(Debug, Clone)]
pub struct InvoiceAction {
    pub lines: Vec<(Ref, i64, Option<Paise>)>,
    /// The GST inputs (issue 17); line discounts by index in `lines`.
    pub gst: crate::billing::command::SaleGst,
    /// The packing unit of a line (issue 16), by its index in `lines`.
    pub units: std::collections::BTreeMap<usize, ObjectId>,
    /// The batch each product line names (`batchNo`, issue 16), by line index.
    pub batch_nos: Vec<Option<String>>,
    pub customer_id: Option<ObjectId>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub total: Option<Paise>,
    pub tax: Paise,
    pub discount: Paise,
    pub paid: Paise,
    pub method: String,
    /// Split payment (issue 17): the parts sent as `payments`.
    pub split: Option<crate::billing::command::Split>,
    pub notes: String,
    pub device_ref: Option<String>,
    pub at: DateTime,
    /// The number printed outside the server that the sale keeps (issue 17): a bill book's
    /// leaf (`offlineBillRef`) or the device's series number (`invoiceNumber`).
    pub printed: Option<crate::billing::numbering::PrintedRef>,
}

#[derive(Debug, Clone)]
pub struct Op {
    pub op_id: String,
    pub entity: String,
    pub kind: String,
    pub raw: String,
    pub device_time: Option<DateTime>,
    /// The action, or why it is rejected before touching anything.
    pub action: Result<Action, String>,
    /// `userId` sent with the operation: the user of the session that queued it on the
    /// device (`None`: the pushing session's user).
    pub user: Option<ObjectId>,
    /// Who the operation is recorded as (`billedBy`, `recordedBy`, `by`) and judged as (their
    /// permissions at sync, issue 15): the user `user` names, resolved by [`push`] (`None`
    /// until then, or without `user`: the pushing session's user).
    pub actor: Option<Actor>,
}

/// Outcome of one operation in a push answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpOutcome {
    pub op_id: String,
    /// `applied` | `duplicate` | `rejected` (final) | `deferred` (a document it names by
    /// `opId` has not arrived yet: nothing recorded, push it again, it applies once its
    /// dependency has) | `conflict` (an edit based on an older `baseVersion` of a field
    /// changed since: not applied; `result.current` is the document as it is now).
    /// A sale whose `deviceRef` this device already sold answers `duplicate` with the first
    /// invoice (`originalStatus: applied`).
    pub status: String,
    /// Server ids/numbers (applied, or the original result of a duplicate); `null` for a
    /// rejected operation. An invoice:
    /// `{id, invoiceNumber, paymentId, paymentIds[], paidAmount, paymentMethod, tender,
    /// totalAmount, stockWarnings[], priceOverrides[], inactiveItems[], reviewFlags[]}` where
    /// `paymentId` is the first payment taken with it, `paymentIds` all of them (one per paid
    /// part of a split payment, issue 17), `tender` `{tendered, change}` when the cash part
    /// carried `tendered` (else null); a payment: `{id, paymentIds[], invoiceId, invoiceNumber,
    /// amount, paymentMethod, tender}` (`id` the first payment, `amount` what all paid); and `stockWarnings` lists the lines that left an item's stock
    /// below zero (`{productId, itemName, quantity, stock}`; an offline sale always
    /// subtracts), `priceOverrides` the lines billed at the device's price rather than the
    /// catalog's (`{productId, itemName, price, catalogPrice}`), `inactiveItems` the lines of
    /// items deactivated since the device pulled (`{productId, itemName}`; the sale is
    /// accepted), `reviewFlags` why the sale needs the owner's review (made without an approval
    /// it needed, e.g. a counter price by a cashier: applied, and a flagged
    /// `offline_unapproved` audit entry; issue 15). A conflict: `{id, version, current}`.
    /// Issue 18: a cancel `{id (the invoice), invoiceNumber, status, isCancelled, totalAmount,
    /// paidAmount, refundedAmount, pendingAmount, cancellation}`; a credit note `{id (the
    /// note), creditNoteNumber, creditNoteDate, invoiceId, invoiceNumber, totalAmount,
    /// taxableValue, cgst, sgst, igst, cess, roundOff, settlement {refund, refundMethod,
    /// refundPaymentId, duesAdjusted}, invoice {id, invoiceNumber, status, totalAmount,
    /// paidAmount, creditedAmount, refundedAmount, pendingAmount}}`; one the online route
    /// refuses is `rejected` with its answer (`CODE: message`).
    /// An operation the queued user may not do answers `rejected` with a reason starting
    /// `FORBIDDEN:`.
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    pub reason: Option<String>,
    /// For a duplicate: what happened the first time (`applied` | `rejected`).
    pub original_status: Option<String>,
}

// ------------------------------------------------------------------ parsing

mod payload;
mod returns;
mod who;
use payload::{CustomerP, InvoiceP, ItemP, PaymentP};
use who::resolve_users;
pub use who::{needs, permitted, BAD_USER};

fn joined(e: AppError) -> String {
    match e {
        AppError::Validation(v) => v.join("; "),
        other => other.to_string(),
    }
}

fn reference(e: &mut Errors, field: &str, id: &Option<String>, op: &Option<String>) -> Option<Ref> {
    match (id.as_deref().map(str::trim).filter(|s| !s.is_empty()), op.as_deref().map(str::trim)) {
        (Some(i), _) => e.oid(field, i).map(Ref::Id),
        (None, Some(o)) if uuid::Uuid::parse_str(o).is_ok() => Some(Ref::Op(o.to_string())),
        (None, Some(_)) => {
            e.add(field, "the operation reference must be a UUID");
            None
        }
        (None, None) => {
            e.add(field, "is required (a server id, or the opId that created it)");
            None
        }
    }
}

/// Bound a device time: not ahead of the server beyond the skew, not older than the limit.
pub fn bounded_time(at: DateTime, now: DateTime) -> Result<DateTime, String> {
    let ms = at.timestamp_millis();
    if ms > now.timestamp_millis() + FUTURE_SKEW_SECS * 1000 {
        return Err(format!("deviceTime: is in the future (more than {FUTURE_SKEW_SECS} s ahead of the server)"));
    }
    if ms < now.timestamp_millis() - MAX_AGE_DAYS * 86_400_000 {
        return Err(format!("deviceTime: is older than {MAX_AGE_DAYS} days"));
    }
    Ok(at)
}

/// Bound a device's calendar date (v1 `invoiceDate`) like [`bounded_time`]: not after the
/// India date of the server's time plus the skew, not before the India date
/// [`MAX_AGE_DAYS`] ago. The message names no field (the caller adds it).
pub fn bounded_date(d: chrono::NaiveDate, now: DateTime) -> Result<chrono::NaiveDate, String> {
    let ms = now.timestamp_millis();
    if d > crate::time::ist_date(DateTime::from_millis(ms + FUTURE_SKEW_SECS * 1000)) {
        return Err("is in the future (after today in India)".into());
    }
    if d < crate::time::ist_date(DateTime::from_millis(ms - MAX_AGE_DAYS * 86_400_000)) {
        return Err(format!("is older than {MAX_AGE_DAYS} days"));
    }
    Ok(d)
}

pub fn parse_time(s: &str) -> Option<DateTime> {
    chrono::DateTime::parse_from_rfc3339(s.trim()).ok().map(|t| DateTime::from_chrono(t.with_timezone(&chrono::Utc)))
}

fn item_input<'a>(p: &'a ItemP, details: &'a DetailsIn) -> ItemInput<'a> {
    ItemInput {
        details: Some(details),
        name: p.name.as_deref(),
        price: p.price,
        stock: p.stock,
        low_stock_quantity: p.low_stock_quantity,
        unit: p.unit.as_deref(),
        description: p.description.as_deref(),
        group_id: p.group_id.as_deref().map(Some),
        brand_id: p.brand_id.as_deref().map(Some),
    }
}

/// An approval token as sent (trimmed; blank = none), as the online routes read it.
fn approval_token(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_string)
}

fn parse_action(entity: &str, kind: &str, payload: Value, device_time: Option<DateTime>) -> Result<Action, String> {
    let now = DateTime::now();
    let mut e = Errors::new();
    let action = match (entity, kind) {
        ("item", "create") => {
            let p: ItemP = from_value(payload).map_err(joined)?;
            let d = p.details_in();
            Action::ItemCreate(catalog_rules::new_item(&mut e, "", &item_input(&p, &d)))
        }
        ("item", "update") => {
            let p: ItemP = from_value(payload).map_err(joined)?;
            let target = reference(&mut e, "id", &p.id, &p.item_op_id);
            if p.stock.is_some() {
                e.add("stock", "is never overwritten by sync; send stockDelta (a signed change)");
            }
            let d = p.details_in();
            let edit = catalog_rules::item_edit(&mut e, "", &item_input(&p, &d));
            let stock_delta = p.stock_delta.unwrap_or(0);
            crate::limits::delta(&mut e, "stockDelta", stock_delta);
            let adjust = adjust_input(&mut e, "", p.stock_reason.as_deref(), p.stock_note.as_deref());
            std::mem::take(&mut e).finish().map_err(joined)?;
            if edit.patch.is_empty() && stock_delta == 0 {
                return Err("payload: nothing to update".into());
            }
            let base = p.base_version;
            Action::ItemUpdate {
                target: target.ok_or("id: missing")?,
                patch: Box::new(edit.patch),
                stock_delta,
                base,
                adjust,
            }
        }
        ("item", "delete") => {
            let p: ItemP = from_value(payload).map_err(joined)?;
            Action::ItemDelete(reference(&mut e, "id", &p.id, &p.item_op_id).ok_or_else(|| e.0.join("; "))?)
        }
        ("customer", "create") => {
            let mut p: CustomerP = from_value(payload).map_err(joined)?;
            let phone = e.phone("phoneNumber", p.phone_number.as_deref().unwrap_or(""));
            let name = customer_rules::create_name(&mut e, "name", p.name.as_deref());
            Action::CustomerCreate { phone, name, extra: p.extra() }
        }
        ("customer", "update") => {
            let mut p: CustomerP = from_value(payload).map_err(joined)?;
            let target = reference(&mut e, "id", &p.id, &p.customer_op_id);
            let name = p.name.as_deref().map(|n| customer_rules::name(&mut e, "name", n));
            if p.phone_number.is_some() {
                e.add("phoneNumber", "cannot be changed (it identifies the customer)");
            }
            std::mem::take(&mut e).finish().map_err(joined)?;
            let extra = p.extra();
            if name.is_none() && extra.is_empty() {
                return Err("payload: nothing to update".into());
            }
            Action::CustomerUpdate { target: target.ok_or("id: missing")?, name, extra, base: p.base_version }
        }
        ("customer", "delete") => {
            let p: CustomerP = from_value(payload).map_err(joined)?;
            Action::CustomerDelete(reference(&mut e, "id", &p.id, &p.customer_op_id).ok_or_else(|| e.0.join("; "))?)
        }
        ("invoice", "create") => {
            let p: InvoiceP = from_value(payload).map_err(joined)?;
            let at = bounded_time(device_time.ok_or("deviceTime: is required for a sale")?, now)?;
            rules::line_count(&mut e, "products", p.products.len());
            let mut lines = Vec::new();
            let mut batch_nos = Vec::new();
            let mut units = std::collections::BTreeMap::new();
            let mut discounts = std::collections::BTreeMap::new();
            for (i, l) in p.products.iter().enumerate() {
                let d = rules::line_discount(
                    &mut e,
                    &format!("products[{i}]"),
                    l.discount_percent.as_ref(),
                    l.discount_amount,
                );
                if let Some(d) = d {
                    discounts.insert(lines.len(), d);
                }
                if let Some(u) = l.unit_id.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
                    if let Some(id) = e.oid(&format!("products[{i}].unitId"), u) {
                        units.insert(lines.len(), id);
                    }
                }
                batch_nos.push(crate::catalog::batch::line_batch(
                    &mut e,
                    &format!("products[{i}].batchNo"),
                    &l.batch_no,
                ));
                rules::quantity(&mut e, &format!("products[{i}].quantity"), l.quantity);
                rules::unit_price(&mut e, &format!("products[{i}].costPerUnit"), l.cost_per_unit);
                if let Some(c) = &l.code {
                    let why = if l.product_id.is_some() || l.product_op_id.is_some() {
                        "send productId, productOpId or code, not two of them".to_string()
                    } else {
                        format!("no item of this shop has the code {}", c.trim())
                    };
                    e.add(&format!("products[{i}].code"), why);
                } else if let Some(r) =
                    reference(&mut e, &format!("products[{i}].productId"), &l.product_id, &l.product_op_id)
                {
                    lines.push((r, l.quantity, l.cost_per_unit));
                }
            }
            let paid = rules::non_negative(&mut e, "paidAmount", p.paid_amount);
            let tax = rules::non_negative(&mut e, "totalTax", p.total_tax);
            let discount = rules::non_negative(&mut e, "totalDiscount", p.total_discount);
            let total = rules::total(&mut e, "totalAmount", p.total_amount);
            let phone = p
                .client_customer_phone
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| e.phone("clientCustomerPhone", s));
            let customer_id = p
                .client_customer_id
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .and_then(|s| e.oid("clientCustomerId", s));
            let name = rules::sale_customer_name(&mut e, "clientCustomerName", &p.client_customer_name);
            let method = rules::method(&mut e, "method", &p.method);
            let split = rules::payment_parts(&mut e, "payments", &p.payments, p.paid_amount);
            let notes = rules::notes(&mut e, "notes", &p.notes);
            let device_ref = rules::device_ref(&mut e, "deviceRef", &p.device_ref);
            let number = p.invoice_number.as_deref().map(str::trim).filter(|n| !n.is_empty());
            let printed = match (&p.offline_bill_ref, number) {
                (Some(_), Some(_)) => {
                    e.add("invoiceNumber", "send offlineBillRef or invoiceNumber, not both");
                    None
                }
                (Some(r), None) => r.parse(&mut e, "offlineBillRef"),
                (None, Some(n)) => Some(crate::billing::numbering::PrintedRef::Device { number: n.to_string() }),
                (None, None) => None,
            };
            let gst = rules::sale_gst(
                &mut e,
                "",
                discounts,
                p.discount1_amount,
                p.discount2_amount,
                p.place_of_supply.as_deref(),
                p.reverse_charge,
            );
            Action::InvoiceCreate(Box::new(InvoiceAction {
                lines,
                units,
                batch_nos,
                customer_id,
                phone,
                name,
                total,
                tax,
                discount,
                paid,
                method,
                split,
                notes,
                device_ref,
                at,
                printed,
                gst,
            }))
        }
        ("payment", "create") => {
            let p: PaymentP = from_value(payload).map_err(joined)?;
            let at = bounded_time(device_time.ok_or("deviceTime: is required for a payment")?, now)?;
            let invoice = reference(&mut e, "invoiceId", &p.invoice_id, &p.invoice_op_id);
            match p.amount {
                Some(a) => rules::payment_amount(&mut e, "amount", a),
                None if p.payments.is_none() => e.add("amount", "is required (or send payments)"),
                None => {}
            }
            let method = rules::method(&mut e, "method", &p.method);
            let note = rules::payment_note(&mut e, "note", &p.note);
            let split = rules::payment_parts(&mut e, "payments", &p.payments, p.amount);
            std::mem::take(&mut e).finish().map_err(joined)?;
            Action::PaymentCreate {
                invoice: invoice.ok_or("invoiceId: missing")?,
                amount: p.amount.unwrap_or_default(),
                method,
                split,
                note,
                at,
            }
        }
        ("invoice", "cancel") => returns::cancel(payload, device_time, now)?,
        ("creditNote", "create") => returns::credit_note(payload, device_time, now)?,
        ("invoice", "update") | ("invoice", "delete") => {
            return Err(
                "an issued invoice is never changed or deleted by sync (record a payment, cancel it or issue a credit note)"
                    .into(),
            )
        }
        ("payment", "update") | ("payment", "delete") => {
            return Err("a recorded payment is never changed or deleted by sync".into())
        }
        ("invoice", k) => return Err(format!("kind: '{k}' is not one of create, cancel")),
        ("creditNote", k) => return Err(format!("kind: '{k}' is not create")),
        ("item" | "customer" | "payment", k) => {
            return Err(format!("kind: '{k}' is not one of create, update, delete"))
        }
        (en, _) => return Err(format!("entity: '{en}' is not one of item, invoice, payment, customer, creditNote")),
    };
    e.finish().map_err(joined)?;
    Ok(action)
}

/// Parse the operations of a push: 400 for a list that is not a list of objects with UUID
/// `opId`s (nothing can be recorded for those), 413 past the cap; every other problem is a
/// per-operation rejection.
pub fn parse_ops(raw: &[Value]) -> AppResult<Vec<Op>> {
    if raw.len() > MAX_OPS {
        return Err(AppError::PayloadTooLarge);
    }
    let mut e = Errors::new();
    let mut out = Vec::with_capacity(raw.len());
    let mut seen = std::collections::HashSet::new();
    for (i, v) in raw.iter().enumerate() {
        let Some(obj) = v.as_object() else {
            e.add(&format!("operations[{i}]"), "must be an object");
            continue;
        };
        let op_id = obj.get("opId").and_then(Value::as_str).map(str::trim).unwrap_or("");
        let Ok(uuid) = uuid::Uuid::parse_str(op_id) else {
            e.add(&format!("operations[{i}].opId"), "must be a UUID generated by the device");
            continue;
        };
        let op_id = uuid.hyphenated().to_string();
        if !seen.insert(op_id.clone()) {
            e.add(&format!("operations[{i}].opId"), "appears twice in this push");
            continue;
        }
        let entity = obj.get("entity").and_then(Value::as_str).unwrap_or("").to_string();
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
        let time_raw = obj.get("deviceTime");
        let device_time = time_raw.and_then(Value::as_str).and_then(parse_time);
        let payload = obj.get("payload").cloned().unwrap_or(Value::Object(Default::default()));
        let user_raw = obj.get("userId");
        let user = user_raw.and_then(Value::as_str).and_then(|u| ObjectId::parse_str(u.trim()).ok());
        let action = if let Some(f) = crate::validate::control_char_path(v) {
            // the body-wide rule of `ApiJson`, per operation (the others still apply)
            Err(format!("{f}: {}", crate::validate::CONTROL_CHARS))
        } else if time_raw.is_some_and(|t| !t.is_null()) && device_time.is_none() {
            Err("deviceTime: must be an RFC 3339 date-time".to_string())
        } else if !payload.is_object() {
            Err("payload: must be an object".to_string())
        } else if let Some(k) =
            obj.keys().find(|k| !matches!(k.as_str(), "opId" | "entity" | "kind" | "payload" | "deviceTime" | "userId"))
        {
            Err(format!("{k}: is not an accepted field"))
        } else if user_raw.is_some_and(|u| !u.is_null()) && user.is_none() {
            Err(format!("userId: {BAD_USER}"))
        } else {
            parse_action(&entity, &kind, payload, device_time)
        };
        // kept for the owner's list of rejected operations, cut on a character boundary
        let raw_text = crate::validate::cut(&v.to_string(), 8000).to_string();
        out.push(Op { op_id, entity, kind, raw: raw_text, device_time, action, user, actor: None });
    }
    e.finish()?;
    Ok(out)
}

#[cfg(test)]
mod prop_tests;

// ------------------------------------------------------------------ applying

pub(super) struct PushCtx<'a> {
    pub state: &'a AppState,
    pub client_id: ObjectId,
    pub ops: &'a [Op],
    /// The pushing device (`receipts::device_of`): offline sales are deduplicated by
    /// `(device, deviceRef)`.
    pub device_id: &'a str,
    /// Operations already recorded by an earlier push (answered `duplicate`).
    pub skip: &'a HashMap<String, OpRecord>,
    /// The pushing session's user: who an operation without `userId` is recorded as and
    /// judged as.
    pub actor: &'a Actor,
    /// Set by a cancel or credit note the online rules refuse (issue 18, `sync::bulk::credit`):
    /// `(opId, reason)`; the transaction is aborted and [`push`] runs the push again with that
    /// operation rejected.
    pub refused: &'a std::sync::Mutex<Option<(String, String)>>,
}

fn is_duplicate_key(e: &AppError) -> bool {
    matches!(e, AppError::Database(d) if crate::error::is_duplicate_key(d))
}

/// Apply a push (see the module docs). Returns one outcome per operation, in order.
pub async fn push(
    state: &AppState,
    client_id: ObjectId,
    actor: &Actor,
    device_id: &str,
    mut ops: Vec<Op>,
) -> AppResult<Vec<OpOutcome>> {
    resolve_users(state, client_id, actor, &mut ops).await?;
    for op in ops.iter_mut() {
        let who = op.actor.as_ref().unwrap_or(actor);
        if let Ok(a) = &op.action {
            if let Err(why) = permitted(who, a) {
                op.action = Err(why);
            }
        }
    }
    let _queue = state.shop_locks.lock(&client_id).await;
    let mut rounds = 0usize;
    let refused = std::sync::Mutex::new(None);
    loop {
        rounds += 1;
        let op_ids: Vec<&str> = ops.iter().map(|o| o.op_id.as_str()).collect();
        let skip: HashMap<String, OpRecord> = state
            .db
            .collection::<OpRecord>(OPS)
            .find(doc! { "clientId": client_id, "opId": { "$in": op_ids } })
            .await?
            .try_collect::<Vec<_>>()
            .await?
            .into_iter()
            .map(|r| (r.op_id.clone(), r))
            .collect();
        let ctx = PushCtx { state, client_id, ops: &ops, device_id, skip: &skip, actor, refused: &refused };
        let result = db::transaction(&state.client, &ctx, |s, ctx| Box::pin(bulk::run_push(s, ctx))).await;
        // a cancel or credit note the online rules refused (issue 18): run the push again with
        // it rejected (its writes, if any, went with the aborted transaction)
        let refusal = refused.lock().ok().and_then(|mut r| r.take());
        if let (Err(_), Some((op_id, reason))) = (&result, refusal) {
            if let Some(op) = ops.iter_mut().find(|o| o.op_id == op_id) {
                op.action = Err(reason);
                rounds -= 1;
                continue;
            }
        }
        match result {
            Ok(out) => return Ok(out),
            // a concurrent push recorded one of these operations (or an online request took
            // a customer's phone) first: re-read and run again
            Err(e) if is_duplicate_key(&e) && rounds <= 5 => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The client's rejected operations, newest first, paged by `_id`.
pub async fn rejected(
    state: &AppState,
    client_id: ObjectId,
    before: Option<ObjectId>,
    limit: i64,
) -> AppResult<Vec<OpRecord>> {
    let mut filter = doc! { "clientId": client_id, "status": "rejected" };
    if let Some(b) = before {
        filter.insert("_id", doc! { "$lt": b });
    }
    Ok(state
        .db
        .collection::<OpRecord>(OPS)
        .find(filter)
        .sort(doc! { "_id": -1 })
        .limit(limit)
        .await?
        .try_collect()
        .await?)
}
