//! v1 `POST /api/sync`: the whole batch in one transaction, made exactly-once by
//! `X-Idempotency-Key` (see `idem`).

use bson::{doc, oid::ObjectId, DateTime};
use mongodb::ClientSession;
use serde_json::{json, Value};

use crate::{
    access::{Actor, Permission},
    billing::{
        command::{CustomerRef, LineSource, RecordPayment, Sale, SaleOptions, SellerRights},
        dto::{InvoiceWire, PaymentWire},
        model::{InvoiceDoc, PaymentDoc, PurchaseHistoryDoc},
        repo as billing_repo, rules,
    },
    catalog::{
        command::{CreateItem, DeleteItem, StockChange, UpdateItem},
        dto::{ItemGroupWire, ItemWire},
        model::{ItemDoc, ItemGroupDoc},
        rules::{self as catalog_rules, DetailsIn, ItemInput},
    },
    customer::{dto::CustomerWire, model::CustomerDoc},
    error::{AppError, AppResult},
    money::Paise,
    state::AppState,
    sync::{
        apply::{Applier, NewItem},
        ops::{bounded_date, bounded_time, parse_time},
        receipts,
    },
    time,
    validate::Errors,
    wire,
};

/// Documents per collection in the v1 `data` download (newest first); past it `truncated`
/// is true and the app should use `/api/v2/sync/pull`.
pub const V1_DATA_CAP: i64 = 500;

mod wire_types;
pub use wire_types::*;

/// The shape of a v1 batch that serde alone lets through: a struct also deserializes from a
/// JSON array (`{"item": []}` was an empty batch, `"create": [["Pen", 5]]` an item), which
/// no online route accepts. Every section and every entry must be an object (400 naming it).
pub fn check_shape(body: &Value) -> AppResult<()> {
    let mut e = Errors::new();
    let sections: [(&str, &[&str]); 3] =
        [("item", &["create", "update"]), ("invoice", &["create"]), ("payment", &["create"])];
    for (section, lists) in sections {
        let Some(v) = body.get(section).filter(|v| !v.is_null()) else { continue };
        let Some(obj) = v.as_object() else {
            e.add(section, format!("must be an object ({{{}}})", lists.join(", ")));
            continue;
        };
        for list in lists.iter().copied() {
            let Some(entries) = obj.get(list).and_then(Value::as_array) else { continue };
            for (i, entry) in entries.iter().enumerate() {
                if !entry.is_object() {
                    e.add(&format!("{section}.{list}[{i}]"), "must be an object");
                    continue;
                }
                if section == "invoice" {
                    for (j, line) in entry.get("products").and_then(Value::as_array).into_iter().flatten().enumerate() {
                        if !line.is_object() {
                            e.add(&format!("{section}.{list}[{i}].products[{j}]"), "must be an object");
                        }
                    }
                }
                // split payment parts (issue 17)
                for (j, part) in entry.get("payments").and_then(Value::as_array).into_iter().flatten().enumerate() {
                    if !part.is_object() {
                        e.add(&format!("{section}.{list}[{i}].payments[{j}]"), "must be an object");
                    }
                }
            }
        }
    }
    e.finish()
}

enum Step {
    /// An entry the syncing user may not make (issue 15): not applied, listed in `forbidden`.
    Forbidden {
        section: &'static str,
        index: usize,
        permission: Permission,
    },
    ItemCreate(Box<CreateItem>),
    ItemUpdate(Box<UpdateItem>),
    ItemDelete(DeleteItem),
    Invoice(Vec<(Option<ObjectId>, String, i64, Paise)>, Box<Sale>),
    Pay(RecordPayment),
}

/// Validate the whole batch up front (400 naming the field; nothing applied). An entry the
/// syncing user may not make (their permissions now: `sync::ops::needs` names the same
/// permission for the same action) becomes [`Step::Forbidden`]: the rest applies. A sale
/// that only needed an approval is applied and flagged (`SaleOptions::flag_unapproved`).
fn plan(client_id: ObjectId, actor: &Actor, b: &V1Batch) -> AppResult<Vec<Step>> {
    let mut e = Errors::new();
    let now = DateTime::now();
    let by = &actor.by();
    let mut steps = Vec::new();
    let denied = |section: &'static str, index: usize, permission: Permission| {
        (!actor.grants.contains(permission)).then_some(Step::Forbidden { section, index, permission })
    };
    for (i, c) in b.item.create.iter().enumerate() {
        if let Some(f) = denied("item.create", i, Permission::ItemsCreate) {
            steps.push(f);
            continue;
        }
        let details = c.details_in();
        let input = ItemInput {
            details: Some(&details),
            name: Some(&c.name),
            price: Some(c.price),
            stock: c.stock,
            low_stock_quantity: c.low_stock_quantity,
            unit: c.unit.as_deref(),
            description: c.description.as_deref(),
            group_id: c.group_id.as_deref().map(Some),
            brand_id: c.brand_id.as_deref().map(Some),
        };
        let item = catalog_rules::new_item(&mut e, &format!("item.create[{i}]."), &input);
        steps.push(Step::ItemCreate(Box::new(CreateItem {
            client_id,
            id: ObjectId::new(),
            item,
            dealer_ids: vec![],
            now,
            by: Some(by.clone()),
        })));
    }
    for (i, u) in b.item.update.iter().enumerate() {
        if let Some(f) = denied("item.update", i, Permission::ItemsManage) {
            steps.push(f);
            continue;
        }
        let prefix = format!("item.update[{i}].");
        let id = e.oid(&format!("{prefix}_id"), &u.id);
        let details = u.details_in();
        let input = ItemInput {
            details: Some(&details),
            name: u.name.as_deref(),
            price: u.price,
            // checked like online (a negative count is refused), then ignored: sync never
            // overwrites a stock count
            stock: u.stock,
            low_stock_quantity: u.low_stock_quantity,
            unit: u.unit.as_deref(),
            description: u.description.as_deref(),
            group_id: u.group_id.as_deref().map(Some),
            brand_id: u.brand_id.as_deref().map(Some),
        };
        let edit = catalog_rules::item_edit(&mut e, &prefix, &input);
        steps.push(Step::ItemUpdate(Box::new(UpdateItem {
            client_id,
            id: id.unwrap_or_default(),
            patch: edit.patch,
            stock: StockChange::Keep,
            base: u.base_version,
            now,
            by: Some(by.clone()),
            adjust: Default::default(),
        })));
    }
    for (i, d) in b.item.delete.iter().enumerate() {
        if let Some(f) = denied("item.delete", i, Permission::ItemsManage) {
            steps.push(f);
            continue;
        }
        let id = e.oid(&format!("item.delete[{i}]"), d);
        steps.push(Step::ItemDelete(DeleteItem { client_id, id: id.unwrap_or_default(), now }));
    }
    for (i, inv) in b.invoice.create.iter().enumerate() {
        if let Some(f) = denied("invoice.create", i, Permission::Sell) {
            steps.push(f);
            continue;
        }
        let f = |x: &str| format!("invoice.create[{i}].{x}");
        rules::line_count(&mut e, &f("products"), inv.products.len());
        let mut lines = Vec::new();
        let mut batch_nos = Vec::new();
        let mut units = std::collections::BTreeMap::new();
        let mut discounts = std::collections::BTreeMap::new();
        let mut subtotal = Paise::ZERO;
        for (j, l) in inv.products.iter().enumerate() {
            let g = |x: &str| format!("invoice.create[{i}].products[{j}].{x}");
            let prefix = format!("invoice.create[{i}].products[{j}]");
            if let Some(d) = rules::line_discount(&mut e, &prefix, l.discount_percent.as_ref(), l.discount_amount) {
                discounts.insert(j, d);
            }
            if let Some(u) = l.unit_id.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
                if let Some(id) = e.oid(&g("unitId"), u) {
                    units.insert(j, id);
                }
            }
            batch_nos.push(crate::catalog::batch::line_batch(&mut e, &g("batchNo"), &l.batch_no));
            rules::quantity(&mut e, &g("quantity"), l.quantity);
            rules::unit_price(&mut e, &g("costPerUnit"), Some(l.cost_per_unit));
            let pid = l.product_id.as_deref().filter(|p| !p.trim().is_empty()).and_then(|p| e.oid(&g("productId"), p));
            // a new product (no productId) is created by the sale: one character is a name
            // (a shop's own short codes; v1 failed the whole batch, U11)
            let name = e.text(&g("itemName"), &l.item_name, 1, catalog_rules::ITEM_NAME_LEN.1);
            match l.cost_per_unit.checked_mul(l.quantity.max(0)).and_then(|t| subtotal.checked_add(t)) {
                Some(s) => subtotal = s,
                None => e.add(&g("costPerUnit"), "times the quantity is too large"),
            }
            lines.push((pid, name, l.quantity, l.cost_per_unit));
        }
        let total = rules::total(&mut e, &f("totalAmount"), inv.total_amount).unwrap_or(subtotal);
        let paid = rules::non_negative(&mut e, &f("paidAmount"), inv.paid_amount);
        let split = rules::payment_parts(&mut e, &f("payments"), &inv.payments, inv.paid_amount);
        if paid > total {
            e.add(&f("paidAmount"), format!("cannot exceed the total {total}"));
        }
        let gst = rules::sale_gst(
            &mut e,
            &f(""),
            discounts,
            inv.discount1_amount,
            inv.discount2_amount,
            inv.place_of_supply.as_deref(),
            inv.reverse_charge,
        );
        // v1 sends no tax or discount: they are what the total differs by. With a GST profile
        // the tax is the server's, and a difference below the subtotal is one bill discount
        // unless the entry sends its discounts (issue 17)
        let explicit = gst.discount1.is_positive() || gst.discount2.is_positive() || !gst.line_discounts.is_empty();
        let (tax, discount) = if total >= subtotal {
            (total.checked_sub(subtotal).unwrap_or_default(), Paise::ZERO)
        } else if explicit {
            (Paise::ZERO, Paise::ZERO)
        } else {
            (Paise::ZERO, subtotal.checked_sub(total).unwrap_or_default())
        };
        let phone = inv
            .client_customer_phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| e.phone(&f("clientCustomerPhone"), p));
        let cust_id = inv
            .client_customer_id
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .and_then(|c| e.oid(&f("clientCustomerId"), c));
        let name = rules::sale_customer_name(&mut e, &f("clientCustomerName"), &inv.client_customer_name);
        let notes = rules::notes(&mut e, &f("notes"), &inv.notes);
        let device_ref = rules::device_ref(&mut e, &f("deviceRef"), &inv.device_ref);
        let printed = inv.offline_bill_ref.as_ref().and_then(|r| r.parse(&mut e, &f("offlineBillRef")));
        let at = match inv.device_time.as_deref() {
            None => now,
            Some(t) => match parse_time(t).map(|t| bounded_time(t, now)) {
                Some(Ok(t)) => t,
                Some(Err(m)) => {
                    e.add(
                        &f(m.split(':').next().unwrap_or("deviceTime")),
                        m.split_once(": ").map(|x| x.1).unwrap_or(&m),
                    );
                    now
                }
                None => {
                    e.add(&f("deviceTime"), "must be an RFC 3339 date-time");
                    now
                }
            },
        };
        // the device's calendar date counts only without a device time (the time is exact)
        let device_date = match inv.invoice_date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) if inv.device_time.is_none() => match time::parse_date(d).map(|d| bounded_date(d, now)) {
                Some(Ok(d)) => Some(d),
                Some(Err(m)) => {
                    e.add(&f("invoiceDate"), m);
                    None
                }
                None => {
                    e.add(&f("invoiceDate"), "must be a YYYY-MM-DD date");
                    None
                }
            },
            _ => None,
        };
        let sale = Sale {
            client_id,
            lines: LineSource::Products(vec![]),
            customer: match (cust_id, &phone) {
                (Some(id), _) => CustomerRef::Id(id),
                (None, Some(p)) => CustomerRef::Phone { phone: p.clone(), name: name.clone() },
                _ => CustomerRef::None,
            },
            customer_name: name,
            customer_phone: phone,
            claimed_total: inv.total_amount.map(|_| total),
            paid,
            tax,
            discount,
            method: "cash".into(),
            split,
            notes,
            kind: "invoice",
            // an offline sale: always subtracts stock, part payments accepted, and an item
            // deactivated online since the device pulled still sells (issue 14)
            options: SaleOptions {
                printed,
                ..SaleOptions::offline(inv.device_time.is_some().then_some(at), device_date, device_ref)
            },
            by: by.clone(),
            rights: SellerRights::of(actor),
            units,
            batch_nos,
            gst,
        };
        steps.push(Step::Invoice(lines, Box::new(sale)));
    }
    for (i, p) in b.payment.create.iter().enumerate() {
        if let Some(f) = denied("payment.create", i, Permission::Sell) {
            steps.push(f);
            continue;
        }
        let f = |x: &str| format!("payment.create[{i}].{x}");
        let invoice_id = e.oid(&f("invoiceId"), &p.invoice_id);
        match p.amount {
            Some(a) => rules::payment_amount(&mut e, &f("amount"), a),
            None if p.payments.is_none() => e.add(&f("amount"), "is required (or send payments)"),
            None => {}
        }
        let method = rules::method(&mut e, &f("method"), &p.method);
        let note = rules::payment_note(&mut e, &f("note"), &p.note);
        let split = rules::payment_parts(&mut e, &f("payments"), &p.payments, p.amount);
        let at = match p.paid_at.as_deref() {
            None => now,
            Some(t) => match parse_time(t).map(|t| bounded_time(t, now)) {
                Some(Ok(t)) => t,
                _ => {
                    e.add(&f("paidAt"), "must be an RFC 3339 date-time, not in the future nor older than 30 days");
                    now
                }
            },
        };
        steps.push(Step::Pay(RecordPayment {
            client_id,
            invoice_id: invoice_id.unwrap_or_default(),
            amount: p.amount.unwrap_or_default(),
            method,
            split,
            note,
            paid_at: p.paid_at.is_some().then_some(at),
            by: by.clone(),
        }));
    }
    e.finish()?;
    Ok(steps)
}

#[cfg(test)]
mod prop_tests;

pub struct V1Ctx<'a> {
    pub state: &'a AppState,
    pub client_id: ObjectId,
    /// The syncing device (`receipts::device_of`): sales are deduplicated by
    /// `(device, deviceRef)`.
    pub device_id: String,
    steps: Vec<Step>,
}

/// Validate the batch (400 naming the field) for `device_id` of `client_id`.
pub fn prepare<'a>(
    state: &'a AppState,
    client_id: ObjectId,
    actor: &Actor,
    device_id: &str,
    b: &V1Batch,
) -> AppResult<V1Ctx<'a>> {
    Ok(V1Ctx { state, client_id, device_id: device_id.to_string(), steps: plan(client_id, actor, b)? })
}

fn prefixed(e: AppError, p: &str) -> AppError {
    match e {
        AppError::Validation(v) => AppError::Validation(v.into_iter().map(|m| format!("{p}.{m}")).collect()),
        AppError::BadRequest { code, message } => AppError::BadRequest { code, message: format!("{p}: {message}") },
        AppError::Conflict { code, message } => AppError::Conflict { code, message: format!("{p}: {message}") },
        other => other,
    }
}

/// Apply the batch inside `s` and build the response body (including the bounded `data`).
/// `stockWarnings[]` lists the invoice lines that left an item's stock below zero (an offline
/// sale always subtracts): `{invoiceId, productId, itemName, quantity, stock}`. The offline
/// rules of docs/sync.md: `priceOverrides[]` = `{invoiceId, productId, itemName, price,
/// catalogPrice}` (lines billed at the device's price), `inactiveItems[]` = `{invoiceId,
/// productId, itemName}` (sold after being deactivated online), `duplicates[]` =
/// `{index, deviceRef, invoiceId, invoiceNumber}` (a sale already billed under that device
/// reference: nothing issued), `conflicts[]` = `{index, id, version, current}` (an item
/// update based on an older `baseVersion`: not applied), `forbidden[]` = `{entry, permission,
/// reason}` (an entry the syncing user may not make, e.g. `item.update[0]` by a cashier: not
/// applied, the rest is), `reviewFlags[]` = `{invoiceId, reviewFlags}` (a sale applied without
/// an approval it needed: flagged for the owner's review, issue 15).
pub async fn run(s: &mut ClientSession, ctx: &V1Ctx<'_>) -> AppResult<Value> {
    let mut ap = Applier::new(ctx.state, ctx.client_id);
    let (mut ic, mut iu, mut idl, mut inv_ids, mut pay_ids) = (vec![], vec![], vec![], vec![], vec![]);
    let mut warnings: Vec<Value> = vec![];
    let (mut overrides, mut inactive, mut duplicates, mut conflicts): (Vec<Value>, Vec<Value>, Vec<Value>, Vec<Value>) =
        (vec![], vec![], vec![], vec![]);
    let (mut ui, mut di, mut vi, mut pi) = (0, 0, 0, 0);
    let (mut forbidden, mut review): (Vec<Value>, Vec<Value>) = (vec![], vec![]);
    for step in &ctx.steps {
        match step {
            Step::Forbidden { section, index, permission } => {
                match *section {
                    "item.update" => ui += 1,
                    "item.delete" => di += 1,
                    "invoice.create" => vi += 1,
                    "payment.create" => pi += 1,
                    _ => {}
                }
                forbidden.push(json!({
                    "entry": format!("{section}[{index}]"), "permission": permission.as_str(),
                    "reason": format!("FORBIDDEN: this user does not have the permission {} this entry needs", permission.as_str()),
                }));
            }
            Step::ItemCreate(cmd) => {
                let p = format!("item.create[{}]", ic.len());
                ic.push(ap.create_item(s, cmd).await.map_err(|e| prefixed(e, &p))?.id.to_hex());
            }
            Step::ItemUpdate(cmd) => {
                let p = format!("item.update[{ui}]");
                ui += 1;
                match ap.update_item(s, cmd).await.map_err(|e| prefixed(e, &p))? {
                    Ok(_) => iu.push(cmd.id.to_hex()),
                    Err(c) => conflicts.push(json!({
                        "index": ui - 1, "id": c.id.to_hex(), "version": c.version,
                        "current": ItemWire::from(c.current),
                    })),
                }
            }
            Step::ItemDelete(cmd) => {
                let p = format!("item.delete[{di}]");
                di += 1;
                ap.delete_item(s, cmd).await.map_err(|e| prefixed(e, &p))?;
                idl.push(cmd.id.to_hex());
            }
            Step::Invoice(lines, sale) => {
                let p = format!("invoice.create[{vi}]");
                vi += 1;
                if let Some(r) = &sale.options.device_ref {
                    let billed =
                        receipts::billed(ctx.state, s, ctx.client_id, &ctx.device_id, std::slice::from_ref(r)).await?;
                    if let Some(first) = billed.get(r) {
                        let number = billing_repo::invoices(&ctx.state.db)
                            .find_one(doc! { "_id": first, "clientId": ctx.client_id })
                            .session(&mut *s)
                            .await?
                            .and_then(|i| i.invoice_number);
                        duplicates.push(json!({
                            "index": vi - 1, "deviceRef": r, "invoiceId": first.to_hex(), "invoiceNumber": number,
                        }));
                        continue;
                    }
                }
                let mut resolved = Vec::with_capacity(lines.len());
                for (j, (pid, name, qty, cost)) in lines.iter().enumerate() {
                    let id = match pid {
                        Some(id) => *id,
                        // the contract's auto-create: the client's own new item, stock 0
                        None => {
                            let n = NewItem {
                                name: name.clone(),
                                price: *cost,
                                stock: 0,
                                low_stock_quantity: 5,
                                unit: "nos".into(),
                                group_id: None,
                                brand_id: None,
                                description: String::new(),
                                details: Default::default(),
                            };
                            let cmd = CreateItem {
                                client_id: ctx.client_id,
                                id: ObjectId::new(),
                                item: n,
                                dealer_ids: vec![],
                                now: DateTime::now(),
                                by: Some(sale.by.clone()),
                            };
                            let item = ap.create_item(s, &cmd).await.map_err(|e| prefixed(e, &p))?;
                            ic.push(item.id.to_hex());
                            item.id
                        }
                    };
                    resolved.push((j, id, *qty, Some(*cost)));
                }
                let mut sale = (**sale).clone();
                sale.lines = LineSource::Products(resolved);
                let issued = ap.invoice(s, &sale).await.map_err(|e| prefixed(e, &p))?;
                let inv = &issued.invoice;
                pay_ids.extend(issued.payments.iter().map(|p| p.to_hex()));
                for w in &inv.stock_warnings {
                    let mut w = json!(w);
                    w["invoiceId"] = json!(inv.id.to_hex());
                    warnings.push(w);
                }
                if let Some(r) = &sale.options.device_ref {
                    let row = receipts::DeviceSale::new(ctx.client_id, &ctx.device_id, r, inv.id, DateTime::now());
                    receipts::record(ctx.state, s, &[row]).await?;
                }
                for l in inv.products.iter().filter(|l| l.price_overridden) {
                    overrides.push(json!({
                        "invoiceId": inv.id.to_hex(), "productId": l.product_id.map(|p| p.to_hex()),
                        "itemName": l.item_name, "price": l.cost_per_unit, "catalogPrice": l.catalog_price,
                    }));
                }
                for id in &issued.inactive {
                    let name = inv.products.iter().find(|l| l.product_id == Some(*id)).map(|l| l.item_name.as_str());
                    inactive.push(json!({
                        "invoiceId": inv.id.to_hex(), "productId": id.to_hex(), "itemName": name,
                    }));
                }
                if !inv.review_flags.is_empty() {
                    review.push(json!({ "invoiceId": inv.id.to_hex(), "reviewFlags": inv.review_flags }));
                }
                inv_ids.push(inv.id.to_hex());
            }
            Step::Pay(pm) => {
                let p = format!("payment.create[{pi}]");
                pi += 1;
                let (pays, _) = ap.pay(s, pm).await.map_err(|e| prefixed(e, &p))?;
                pay_ids.extend(pays.iter().map(|p| p.id.to_hex()));
            }
        }
    }
    ap.finish(s).await?;
    let (data, truncated) = download(ctx.state, s, ctx.client_id).await?;
    Ok(json!({
        "success": true,
        "message": "Sync completed",
        "summary": {
            "itemsCreated": ic.len(), "itemsUpdated": iu.len(), "itemsDeleted": idl.len(),
            "invoicesCreated": inv_ids.len(), "paymentsCreated": pay_ids.len(),
        },
        "synced": {
            "itemsCreated": ic, "itemsUpdated": iu, "itemsDeleted": idl,
            "invoicesCreated": inv_ids, "paymentsCreated": pay_ids,
        },
        "stockWarnings": warnings,
        "priceOverrides": overrides,
        "inactiveItems": inactive,
        "duplicates": duplicates,
        "conflicts": conflicts,
        "forbidden": forbidden,
        "reviewFlags": review,
        "data": data,
        "truncated": truncated,
        "dataLimit": V1_DATA_CAP,
        "incrementalPull": "/api/v2/sync/pull",
    }))
}

async fn newest<T: serde::de::DeserializeOwned + Send + Sync>(
    state: &AppState,
    s: &mut ClientSession,
    coll: &str,
    client_id: ObjectId,
) -> AppResult<(Vec<T>, bool)> {
    let mut cur = state
        .db
        .collection::<T>(coll)
        .find(doc! { "clientId": client_id })
        .sort(doc! { "_id": -1 })
        .limit(V1_DATA_CAP + 1)
        .session(&mut *s)
        .await?;
    let mut out = Vec::new();
    while let Some(d) = cur.next(&mut *s).await.transpose()? {
        out.push(d);
    }
    let cut = out.len() as i64 > V1_DATA_CAP;
    out.truncate(V1_DATA_CAP as usize);
    Ok((out, cut))
}

/// The v1 download, bounded to the newest `V1_DATA_CAP` documents of each collection.
async fn download(state: &AppState, s: &mut ClientSession, client_id: ObjectId) -> AppResult<(Value, bool)> {
    let (groups, t1) = newest::<ItemGroupDoc>(state, s, "itemgroups", client_id).await?;
    let (items, t2) = newest::<ItemDoc>(state, s, "items", client_id).await?;
    let (customers, t3) = newest::<CustomerDoc>(state, s, "clientcustomers", client_id).await?;
    let (invoices, t4) = newest::<InvoiceDoc>(state, s, "invoices", client_id).await?;
    let (payments, t5) = newest::<PaymentDoc>(state, s, "payments", client_id).await?;
    let (history, t6) = newest::<PurchaseHistoryDoc>(state, s, "purchasehistories", client_id).await?;
    let data = json!({
        "itemGroups": groups.into_iter().map(ItemGroupWire::from).collect::<Vec<_>>(),
        "items": items.into_iter().map(ItemWire::from).collect::<Vec<_>>(),
        "clientCustomers": customers.into_iter().map(CustomerWire::from).collect::<Vec<_>>(),
        "invoices": invoices.iter().map(InvoiceWire::from_doc).collect::<Vec<_>>(),
        "payments": payments.iter().map(PaymentWire::from).collect::<Vec<_>>(),
        "purchaseHistory": history.iter().map(|h| json!({
            "_id": h.id.to_hex(), "clientId": h.client_id.to_hex(), "clientCustomerId": h.client_customer_id.to_hex(),
            "clientCustomerPhone": h.client_customer_phone, "invoiceId": h.invoice_id.to_hex(),
            "totalAmount": h.total_amount, "purchasedAt": wire::iso(h.purchased_at), "__v": h.version,
        })).collect::<Vec<_>>(),
    });
    Ok((data, t1 || t2 || t3 || t4 || t5 || t6))
}
