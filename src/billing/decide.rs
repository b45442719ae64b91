//! The rules of a sale and of a payment, as pure functions: no I/O, no clock, no
//! randomness. `now` and the ids are inputs; the current documents are inputs; the result is
//! a plan (data) or a typed [`Refusal`].
//!
//! Every door calls these: the online routes and v1 `/api/sync` through
//! `billing::service` (load -> decide -> `billing::repo::apply_*`), the v2 bulk push
//! (`sync::bulk`) against its in-memory view of the batch. A rule lives here once, so the
//! three paths cannot drift (issue 14).

use std::collections::HashMap;

use bson::{oid::ObjectId, DateTime};

use crate::{
    billing::{
        command::{CustomerRef, RecordPayment, Sale, Wanted, KIND_INCOMPLETE, KIND_INVOICE},
        model::*,
    },
    catalog::{
        model::ItemDoc,
        stock::{Reason, StockMovement},
    },
    changelog::{CUSTOMERS, INVOICES, ITEMS, PAYMENTS},
    customer::model::CustomerDoc,
    error::{code, AppError},
    money::Paise,
    time,
};

/// Invoices are due this many days after the invoice date.
pub const DUE_DAYS: i64 = 30;

/// The name a customer created without one carries (never written over a real name).
pub const PLACEHOLDER_NAME: &str = "clientCustomer";

/// Why a sale or payment is refused. Online it answers exactly the status, code and message
/// of [`AppError::from`]; a push answers [`Refusal::message`] (`rejected`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 400 `VALIDATION`, one `"<field>: <problem>"` per failed field.
    Invalid(Vec<String>),
    /// 400: the cart is not an open cart of the shop.
    CartNotFound,
    /// 409 `CONFLICT`: the cart was already invoiced (a second claim).
    CartInvoiced,
    /// 400: the cart has no lines.
    CartEmpty,
    /// 400: the shop requires full payment (`requireFullPayment`) and the sale is part-paid.
    FullPaymentRequired,
    /// 409 `INSUFFICIENT_STOCK`: these items (names) have too little stock and the shop
    /// does not allow negative stock.
    InsufficientStock(Vec<String>),
    /// 400: the payment names no invoice of the shop.
    InvoiceNotFound,
    /// 409 `CONFLICT`: the invoice changed between the read and the guarded write (a race
    /// the repository detects; retry).
    InvoiceChanged,
    /// 403 `APPROVAL_REQUIRED`: an online sale needs an approval the seller does not have
    /// ([`unapproved`]'s findings); ask one (`POST /api/staff/approvals`, action `sale`) and
    /// send its `approvalToken`.
    ApprovalRequired(Vec<String>),
    /// 400 `BATCH_EXPIRED` (issue 16): `line` names a batch that expired before the bill's
    /// date and the shop does not allow selling it (`clientSettings.catalog.allowExpiredSale`).
    BatchExpired { line: String, batch_no: String, expiry_date: String },
    /// 400 `BATCH_NOT_FOUND` (issue 16): `line` names a batch its item does not have.
    BatchNotFound { line: String, batch_no: String },
    /// 400 `MRP_EXCEEDED`: the unit price charged on `line` (`products[i]`, `cart line n`)
    /// exceeds the item's MRP (Legal Metrology: no sale above the declared retail price).
    MrpExceeded { line: String, price: Paise, mrp: Paise },
    /// 400 `TAX_CODE_MISSING` (issue 17, online): the item of `line` has no GST rate in force
    /// (no tax code of its own, its product's or its category's) in a shop that charges tax.
    TaxCodeMissing { line: String, item: String },
    /// 400 `VALIDATION` on `totalAmount` (issue 17): the client's total differs from the
    /// server's; the body carries the server's figures (`computed`).
    TotalMismatch { message: String, computed: serde_json::Value },
    /// 400 `UNIT_NOT_SOLD`: `line` names a packing unit (`unit`, as sent) that `item` is not
    /// sold in (issue 16; a foreign or unknown unit id alike).
    UnitNotSold { line: String, unit: String, item: String },
    /// 409 `NUMBER_USED` (issue 17): the printed number a sale names is already an invoice's,
    /// or its bill book leaf was cancelled (`"<field>: <problem>"`).
    NumberUsed(String),
    /// 409 `INVOICE_CANCELLED` (issue 18): a payment on a cancelled invoice.
    Cancelled,
}

/// The code of [`Refusal::MrpExceeded`].
pub const MRP_EXCEEDED: &str = "MRP_EXCEEDED";

impl Refusal {
    fn field(field: &str, text: impl std::fmt::Display) -> Self {
        Refusal::Invalid(vec![format!("{field}: {text}")])
    }

    /// The text a push answers for it (`reason` of a `rejected` operation): the field
    /// problems joined by `; `, else the message online would answer.
    pub fn message(&self) -> String {
        match AppError::from(self.clone()) {
            AppError::Validation(v) | AppError::ValidationWith { errors: v, .. } => v.join("; "),
            other => other.to_string(),
        }
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Invalid(v) => AppError::Validation(v),
            Refusal::CartNotFound => AppError::bad_request("Invoice generation failed: cart not found"),
            Refusal::CartInvoiced => {
                AppError::conflict(code::CONFLICT, "Invoice generation failed: this cart was already invoiced")
            }
            Refusal::CartEmpty => AppError::bad_request("Invoice generation failed: cart has no items"),
            Refusal::FullPaymentRequired => AppError::bad_request(
                "Invoice generation failed: this shop requires full payment; record a part-paid sale with /api/business/invoices/incomplete-sale",
            ),
            Refusal::InsufficientStock(names) => {
                AppError::conflict("INSUFFICIENT_STOCK", format!("Not enough stock for: {}", names.join(", ")))
            }
            Refusal::InvoiceNotFound => AppError::bad_request("Payment failed: invoice not found"),
            Refusal::InvoiceChanged => AppError::conflict(code::CONFLICT, "Payment failed: the invoice changed; retry"),
            Refusal::ApprovalRequired(why) => AppError::forbidden(
                code::APPROVAL_REQUIRED,
                format!(
                    "This sale needs a manager's approval ({}); ask one with POST /api/staff/approvals (action sale) and send its approvalToken",
                    why.join("; ")
                ),
            ),
            Refusal::BatchExpired { line, batch_no, expiry_date } => AppError::bad_request_code(
                crate::catalog::batch::BATCH_EXPIRED,
                format!("{line}: batch {batch_no} expired on {expiry_date}; this shop does not sell expired stock"),
            ),
            Refusal::BatchNotFound { line, batch_no } => AppError::bad_request_code(
                crate::catalog::batch::BATCH_NOT_FOUND,
                format!("{line}: the item has no batch {batch_no}"),
            ),
            Refusal::MrpExceeded { line, price, mrp } => AppError::bad_request_code(
                MRP_EXCEEDED,
                format!("{line}: the unit price {price} exceeds the MRP {mrp}"),
            ),
            Refusal::TaxCodeMissing { line, item } => AppError::bad_request_code(
                tax::TAX_CODE_MISSING,
                format!("{line}: {item} has no GST rate; set the item's tax code (tax.gstRate, tax.hsnCode) or its category's"),
            ),
            Refusal::TotalMismatch { message, computed } => AppError::ValidationWith {
                errors: vec![format!("totalAmount: {message}")],
                detail: serde_json::json!({ "computed": computed }),
            },
            Refusal::UnitNotSold { line, unit, item } => AppError::bad_request_code(
                units::UNIT_NOT_SOLD,
                format!("{line}.unitId: {item} is not sold in the unit {unit}"),
            ),
            Refusal::NumberUsed(why) => AppError::conflict(crate::billing::numbering::NUMBER_USED, why),
            Refusal::Cancelled => AppError::conflict(
                crate::billing::credit::decide::INVOICE_CANCELLED,
                "Payment failed: this invoice is cancelled",
            ),
        }
    }
}

/// A field error of a shared rule (`limits`, `validate`) as a refusal.
fn refused(e: AppError) -> Refusal {
    match e {
        AppError::Validation(v) => Refusal::Invalid(v),
        other => Refusal::Invalid(vec![other.to_string()]),
    }
}

// ------------------------------------------------------------------ sale

/// The shop's settings a sale is judged by (`clientSettings.billing`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ShopRules {
    pub allow_negative_stock: bool,
    pub require_full_payment: bool,
}

/// The current documents a sale is decided on (loaded by `repo::load_for_sale` online and
/// for v1, taken from the batch's in-memory view in the v2 push).
pub struct SaleInputs<'a> {
    /// The cart the sale names (`LineSource::Cart`), as read; `None` = not the shop's.
    pub cart: Option<&'a CartDoc>,
    /// The shop's items among those the lines name (any active state), with their stock now.
    pub items: &'a HashMap<ObjectId, ItemDoc>,
    /// Names of the items' groups.
    pub groups: &'a HashMap<ObjectId, String>,
    /// The customer of [`Sale::customer_ref`]: the one with that id, or with that phone
    /// (`None` = unknown id, or a phone not yet a customer).
    pub customer: Option<&'a CustomerDoc>,
    pub shop: ShopRules,
    /// The lots of the lines' `hasExpiry` items and whether an expired one may be sold by
    /// name (issue 16; empty when no line's item tracks expiry).
    pub lots: &'a crate::catalog::batch::Lots,
    /// What a printed number (`SaleOptions::printed`, issue 17) is judged against: the books
    /// it may name, the device's series, the candidate numbers already used (empty when the
    /// sale names none).
    pub numbers: &'a crate::billing::numbering::Numbers,
    /// The shop's GST profile (issue 17): `None` bills as before (the sale's `tax` as sent).
    pub gst: Option<&'a crate::client::gst::GstProfile>,
    /// The inherited tax codes of the lines' items that have none of their own (their
    /// product's, else their category's: [`tax::inherited`]); read only with a profile.
    pub tax_codes: &'a HashMap<ObjectId, crate::catalog::tax::TaxCode>,
}

/// One stock change of a plan: `delta` units of `item`. Without `below_zero` the
/// repository keeps the guard `stock >= -delta` (a concurrent sale is still refused 409).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockMove {
    pub item: ObjectId,
    pub delta: i64,
    pub below_zero: bool,
}

/// What a sale does to its customer.
#[derive(Debug, Clone)]
pub enum CustomerEffect {
    /// An existing customer: dues move by `dues` (the unpaid part), `lastPurchaseAt` becomes
    /// at least `purchased_at` (the sale time), and `name` is written when the stored one is
    /// still a placeholder.
    Existing { id: ObjectId, dues: Paise, purchased_at: DateTime, name: Option<String> },
    /// A customer first seen with this sale (by phone), dues and purchase time included.
    New(Box<CustomerDoc>),
}

impl CustomerEffect {
    /// The customer's id.
    pub fn id(&self) -> ObjectId {
        match self {
            CustomerEffect::Existing { id, .. } => *id,
            CustomerEffect::New(c) => c.id,
        }
    }
}

/// Everything a sale writes, as data (`repo::apply_sale` writes it in one transaction; the
/// v2 push folds it into its batch).
#[derive(Debug, Clone)]
pub struct SalePlan {
    /// The invoice, not yet numbered (`stock_warnings` filled: the lines that leave stock
    /// below zero).
    pub invoice: InvoiceDoc,
    /// `Some(financial year)`: take the next consecutive number of that year when applying
    /// (kind `invoice`); `None` for an incomplete sale.
    pub number_in: Option<String>,
    /// The payments taken with the sale, one per paid part (issue 17: a split payment has
    /// several; the v1 shape one when something was paid, else none), in the order sent.
    pub payments: Vec<PaymentDoc>,
    /// The cart to claim (open -> invoiced), when the sale comes from one.
    pub cart: Option<ObjectId>,
    pub moves: Vec<StockMove>,
    /// The records of `moves` (`stockmovements`).
    pub movements: Vec<StockMovement>,
    /// The lot decrements of the lines of `hasExpiry` items (issue 16), applied guarded in
    /// the sale's transaction (`catalog::batch::repo::take`).
    pub batch_takes: Vec<crate::catalog::batch::Take>,
    pub customer: Option<CustomerEffect>,
    /// The purchase history row (a finalized sale with a customer).
    pub history: Option<PurchaseHistoryDoc>,
    /// Items of the lines that are deactivated (an offline sale accepted with them: flagged).
    pub inactive: Vec<ObjectId>,
    /// The flagged audit entry of an offline sale made without an approval it needed
    /// (written in the sale's transaction).
    pub audit: Option<crate::audit::Entry>,
}

impl SalePlan {
    /// The synced documents the plan writes, for the change log: (collection, id, deleted).
    pub fn changes(&self) -> Vec<(&'static str, ObjectId, bool)> {
        let mut out = vec![(INVOICES, self.invoice.id, false)];
        out.extend(self.payments.iter().map(|p| (PAYMENTS, p.id, false)));
        out.extend(self.moves.iter().map(|m| (ITEMS, m.item, false)));
        out.extend(self.customer.as_ref().map(|c| (CUSTOMERS, c.id(), false)));
        out.extend(self.batch_takes.iter().map(|t| (crate::changelog::BATCHES, t.batch, false)));
        out
    }
}

/// Decide a sale: the cart must be open and hold lines; every line an (active, unless the
/// sale allows otherwise) item of the shop; the lines priced at the counter price when
/// sent, else the catalog price (a difference is recorded as `priceOverridden` beside the
/// catalog price); the total computed here (a claimed total must match, paid <= total, full
/// payment when the shop requires it); stock moves by each line (refused 409 when the shop
/// keeps stock non-negative, else flagged in `stock_warnings`), within +-`limits::MAX_UNITS`;
/// the customer resolved (by id, else get-or-create by phone); dated by [`sale_time`].
/// `ids` gives every new document its id.
pub fn sale(
    cmd: &Sale,
    inputs: &SaleInputs<'_>,
    now: DateTime,
    ids: &mut impl FnMut() -> ObjectId,
) -> Result<SalePlan, Refusal> {
    let opts = &cmd.options;
    // 1. the lines
    let cart = match &cmd.lines {
        crate::billing::command::LineSource::Cart(id) => {
            let c = inputs.cart.filter(|c| c.id == *id && c.client_id == cmd.client_id);
            match c {
                None => return Err(Refusal::CartNotFound),
                Some(c) if c.status == CART_INVOICED => return Err(Refusal::CartInvoiced),
                Some(c) if c.status != CART_OPEN => return Err(Refusal::CartNotFound),
                Some(c) if c.lines.is_empty() => return Err(Refusal::CartEmpty),
                Some(c) => Some(c),
            }
        }
        crate::billing::command::LineSource::Products(_) => None,
    };
    let wanted = cmd.wanted(cart);
    let units = cmd.line_units();

    // 2. priced from the catalog
    let (mut lines, gross) = price_lines_in_units(&wanted, &units, inputs.items, inputs.groups, opts.allow_inactive)?;
    let require_full = opts.require_full.unwrap_or(inputs.shop.require_full_payment && cmd.kind == KIND_INVOICE);

    // 3. the customer: (as the invoice sees it, None = new else the name to write)
    let known: Option<(CustomerDoc, Option<Option<String>>)> = match cmd.customer_ref(cart) {
        CustomerRef::None => None,
        CustomerRef::Id(id) => Some((
            inputs
                .customer
                .filter(|c| c.id == id)
                .ok_or_else(|| Refusal::field("clientCustomerId", "is not a customer of this shop"))?
                .clone(),
            Some(None),
        )),
        CustomerRef::Phone { phone, name } => match inputs.customer.filter(|c| c.phone_number == phone) {
            Some(c) => {
                let rename = name.filter(|_| c.name.is_empty() || c.name == PLACEHOLDER_NAME);
                let mut c = c.clone();
                if let Some(n) = &rename {
                    c.name = n.clone();
                }
                Some((c, Some(rename)))
            }
            None => {
                let mut c = CustomerDoc::new(cmd.client_id, &phone, name.as_deref().unwrap_or(PLACEHOLDER_NAME), now);
                c.id = ids();
                Some((c, None))
            }
        },
    };

    // an inactive customer (issue 16) is not billed online; an offline sale already happened
    if let Some((c, _)) = &known {
        if c.status == "inactive" && !opts.allow_inactive {
            let field = if matches!(cmd.customer_ref(cart), CustomerRef::Id(_)) {
                "clientCustomerId"
            } else {
                "clientCustomerPhone"
            };
            return Err(Refusal::field(
                field,
                "is an inactive customer of this shop; set their status to active to bill them",
            ));
        }
    }

    // 4. the tax (issue 17: computed by the server for a shop with a GST profile, on the
    // rates in force on the invoice's India date), then the total
    let at = sale_time(opts.device_time, opts.device_date, now);
    let settled = match inputs.gst {
        Some(profile) => {
            let labels: Vec<String> = wanted.iter().map(|w| w.0.trim_end_matches(".productId").to_string()).collect();
            let date = time::ist_date_string(at);
            let buyer = known.as_ref().map(|(c, _)| c);
            Some((tax::settle(cmd, &mut lines, &labels, profile, inputs, buyer, &date)?, profile))
        }
        None => None,
    };
    let (total, total_flags) = sale_total_flagged(cmd, gross, settled.as_ref().map(|(s, _)| s), require_full)?;
    // the payments taken with it (issue 17): a split sale pays what its parts settle to
    let tendered = tender::of_sale(cmd, total)?;
    let with_paid;
    let cmd = match cmd.split {
        Some(_) => {
            with_paid = Sale { paid: tendered.paid, ..cmd.clone() };
            &with_paid
        }
        None => cmd,
    };
    // what the seller could not do alone (issue 15): refused online, flagged offline
    let discount = settled.as_ref().map(|(s, _)| s.discount).unwrap_or(cmd.discount);
    let flags = if cmd.rights.approved_by.is_some() { vec![] } else { unapproved(cmd, &lines, discount, gross) };
    if !flags.is_empty() && !opts.flag_unapproved {
        return Err(Refusal::ApprovalRequired(flags));
    }

    // 5. the invoice, dated when the sale happened (never later than `now`)
    let (subtotal, tax, gst_flags, gst, series) = match settled {
        Some((s, profile)) => {
            let series = tax::series_of(profile, s.gst.document_type);
            (s.subtotal, s.tax, s.flags, Some(s.gst), Some(series))
        }
        None => (gross, cmd.tax, vec![], None, None),
    };
    let mut inv = build_invoice(Draft {
        id: ids(),
        sale: cmd,
        customer: known.as_ref().map(|(c, _)| c),
        lines,
        subtotal,
        tax,
        discount,
        total,
        at,
        now,
        cart_id: cart.map(|c| c.id),
        device_ref: opts.device_ref.clone(),
        device_time: opts.device_time,
    });
    inv.gst = gst;
    // the default series keeps the form invoices had before issue 17 (no `series` stored)
    inv.series = series.filter(|p| p != crate::client::gst::DEFAULT_PREFIX);

    // a number printed outside the server (a paper bill book's leaf, a v2 device series
    // number) is kept: no counter number is taken (issue 17)
    if opts.printed.is_some() && cmd.kind != KIND_INVOICE {
        return Err(Refusal::field("offlineBillRef", "only a sale issued now keeps a printed number"));
    }
    let printed = crate::billing::numbering::rules::assign(opts.printed.as_ref(), inputs.numbers, at)?;
    let keeps_printed = printed.is_some();
    if let Some(p) = printed {
        p.apply(&mut inv);
    }

    let audit = review_entry(cmd, &flags, inv.id, now);
    inv.review_flags = flags;
    inv.review_flags.extend(gst_flags);
    inv.review_flags.extend(total_flags);

    // 6. stock: each line in order, from the stock as read
    let below_zero = opts.allow_negative.unwrap_or(inputs.shop.allow_negative_stock);
    let mut level: HashMap<ObjectId, i64> = HashMap::new();
    let (mut moves, mut movements, mut short, mut inactive) = (vec![], vec![], vec![], vec![]);
    for l in &inv.products {
        let Some(item) = l.product_id.and_then(|p| inputs.items.get(&p)) else { continue };
        // the stock moves in base units (a line sold in a packing unit: quantity x factor)
        let qty = l.base_units();
        let before = level.get(&item.id).copied().unwrap_or(item.stock);
        let after = crate::limits::stock_after(before, -qty)
            .ok_or_else(|| refused(crate::limits::stock_out_of_range(&l.item_name)))?;
        if after < 0 {
            if !below_zero {
                short.push(l.item_name.clone());
            } else {
                inv.stock_warnings.push(StockWarning {
                    product_id: item.id.to_hex(),
                    item_name: l.item_name.clone(),
                    quantity: qty,
                    stock: after,
                });
            }
        }
        level.insert(item.id, after);
        if !item.is_active && !inactive.contains(&item.id) {
            inactive.push(item.id);
        }
        moves.push(StockMove { item: item.id, delta: -qty, below_zero });
        movements.push(StockMovement {
            id: ids(),
            client_id: cmd.client_id,
            item_id: item.id,
            delta: -qty,
            reason: Reason::Sale,
            ref_id: Some(inv.id),
            // the sale's time (an offline bill's device time, never later than now): the
            // stock ledger dates the goods leaving on the bill's date, not the sync's
            at,
            by: Some(cmd.by.clone()),
            note: None,
        });
    }
    if !short.is_empty() {
        return Err(Refusal::InsufficientStock(short));
    }
    // 6b. the lots of hasExpiry items: first-expiring-first-out by the bill's date
    let batch_takes = batches::allocate(cmd, &wanted, &mut inv, inputs)?;

    // 7. the customer's dues (the unpaid part) and the purchase history
    let pending = inv.total_amount.checked_sub(inv.paid_amount).unwrap_or_default();
    let customer = match known {
        None => None,
        // first seen with this sale: its dues start at the unpaid part
        Some((mut c, None)) => {
            c.outstanding_balance = pending;
            c.last_purchase_at = Some(at);
            Some(CustomerEffect::New(Box::new(c)))
        }
        Some((c, Some(rename))) => {
            if c.outstanding_balance.checked_add(pending).is_none() {
                return Err(Refusal::field("clientCustomerId", "the customer's dues would overflow"));
            }
            Some(CustomerEffect::Existing { id: c.id, dues: pending, purchased_at: at, name: rename })
        }
    };
    let history = match &customer {
        Some(c) if inv.is_finalized => Some(history(&inv, c.id(), at, ids())),
        _ => None,
    };
    let payments = sale_payments(&inv, &tendered, now, ids);
    inv.payment_method = tender::method_summary(None, Paise::ZERO, &tendered.parts);
    inv.tender = tendered.tender();
    let number_in = (cmd.kind == KIND_INVOICE && !keeps_printed).then(|| time::financial_year(at));
    Ok(SalePlan {
        invoice: inv,
        number_in,
        payments,
        cart: cart.map(|c| c.id),
        moves,
        movements,
        batch_takes,
        customer,
        history,
        inactive,
        audit,
    })
}

/// Price the lines ([`check_items`] first): the counter price when given, else the catalog
/// price, never above the item's MRP ([`within_mrp`]); the group name is snapshotted. Returns the lines and the subtotal (checked
/// arithmetic). A line above `limits::MAX_LINE` or a subtotal above `limits::MAX_INVOICE`
/// is refused.
pub fn price_lines(
    wanted: &[Wanted],
    items: &HashMap<ObjectId, ItemDoc>,
    groups: &HashMap<ObjectId, String>,
    allow_inactive: bool,
) -> Result<(Vec<InvoiceLine>, Paise), Refusal> {
    price_lines_in_units(wanted, &[], items, groups, allow_inactive)
}

/// [`price_lines`] for lines that may sell in packing units (issue 16): `units[k]` is the
/// unit of `wanted[k]` (`None` or absent: a plain line). Each line goes through
/// [`units::sold_in`]: priced at the counter price, else the unit's catalog price; checked
/// against the unit's MRP; recording the unit snapshot and the base quantity.
pub fn price_lines_in_units(
    wanted: &[Wanted],
    units: &[Option<ObjectId>],
    items: &HashMap<ObjectId, ItemDoc>,
    groups: &HashMap<ObjectId, String>,
    allow_inactive: bool,
) -> Result<(Vec<InvoiceLine>, Paise), Refusal> {
    check_items(wanted, items, allow_inactive)?;
    let mut lines = Vec::with_capacity(wanted.len());
    let mut subtotal = Paise::ZERO;
    for (k, (label, id, qty, price)) in wanted.iter().enumerate() {
        let item = items.get(id).ok_or_else(|| Refusal::field(label, "is not an active item of this shop"))?;
        let line = label.trim_end_matches(".productId");
        let sold = units::sold_in(line, item, units.get(k).copied().flatten(), *qty)?;
        let unit = price.unwrap_or(sold.price);
        within_mrp_of(line, unit, sold.mrp)?;
        let line_total = crate::limits::line_total(unit, *qty)
            .ok_or_else(|| Refusal::field(label, crate::limits::line_too_large()))?;
        subtotal = subtotal.checked_add(line_total).filter(|t| *t <= crate::limits::MAX_INVOICE).ok_or_else(|| {
            Refusal::field("products", format!("the subtotal {}", crate::limits::invoice_too_large()))
        })?;
        lines.push(InvoiceLine {
            product_id: Some(*id),
            item_name: item.name.clone(),
            item_group: item.group_id.and_then(|g| groups.get(&g).cloned()).unwrap_or_default(),
            cost_per_unit: unit,
            quantity: *qty,
            line_total,
            price_overridden: unit != sold.price,
            catalog_price: sold.price,
            base_quantity: sold.unit.is_some().then_some(sold.base_quantity),
            unit: sold.unit,
            allocations: vec![],
            mrp: sold.mrp,
            tax: None,
            returned: None,
        });
    }
    Ok((lines, subtotal))
}

/// When a sale is dated (`generatedAt`; its India date is the `invoiceDate`), the one rule
/// for online sales, v1 `/api/sync` and v2 push: the device's time when it sent one, but
/// never later than `now`, the server's receipt time (a device clock 4 minutes fast must
/// not move a 23:57 sale to the next day); else the device's calendar date when it sent
/// only that (`time::dated_at`); else `now`.
pub fn sale_time(device_time: Option<DateTime>, device_date: Option<chrono::NaiveDate>, now: DateTime) -> DateTime {
    match (device_time, device_date) {
        (Some(t), _) => time::record_time(t, now),
        (None, Some(d)) => time::dated_at(d, now),
        (None, None) => now,
    }
}

/// `INV/26-27/00042`: consecutive per client per financial year (India time), 16 characters
/// at most (GST rule 46).
pub fn format_number(fy: &str, seq: i64) -> String {
    format_in_series(crate::client::gst::DEFAULT_PREFIX, fy, seq)
}

/// `{prefix}/{fy}/{seq:05}` (issue 17: a document type's own series, `BOS/26-27/00007`).
/// A prefix is at most 4 characters (`client::gst::PREFIX_MAX`), so numbers up to 99,999 fit
/// rule 46's 16 characters.
pub fn format_in_series(prefix: &str, fy: &str, seq: i64) -> String {
    format!("{prefix}/{fy}/{seq:05}")
}

/// Give a planned invoice its consecutive number `seq` of financial year `fy` in its series
/// (`InvoiceDoc::series`, absent = `INV`; taken from the counter when the plan is applied).
pub fn number(inv: &mut InvoiceDoc, fy: &str, seq: i64) {
    let prefix = inv.series.as_deref().unwrap_or(crate::client::gst::DEFAULT_PREFIX);
    inv.invoice_number = Some(format_in_series(prefix, fy, seq));
    inv.financial_year = Some(fy.to_string());
    inv.seq = Some(seq);
}

mod payment;
pub use payment::{payment, PaymentInputs, PaymentPlan};

pub mod tender;

mod batches;
mod checks;
mod invoice;
mod total;
use invoice::{build_invoice, history, sale_payments, Draft};
pub use total::{sale_total, sale_total_flagged};
pub mod tax;
pub mod units;
use checks::review_entry;
pub use checks::{check_items, unapproved, within_mrp, within_mrp_of};

#[cfg(test)]
mod tests;
