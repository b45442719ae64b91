//! The three doors are one (issue 14, item 4): a random sequence of shop operations applied
//! through the online endpoints, through ONE v2 push and through v1 `/api/sync` batches
//! leaves the same documents in MongoDB.
//!
//! `prop_online_v1_and_v2_doors_write_the_same_documents` generates sequences of abstract
//! operations that refer to earlier creations by index: create item (name, price, stock),
//! edit item (price and/or an absolute stock count), delete item, create customer (phone,
//! name; a known phone is get-or-create), edit customer (name), delete customer, sale (lines
//! of active items with quantities, the line price omitted / equal to the catalog price /
//! a counter price, no customer / an existing customer by id / a phone with an optional name,
//! tax, discount, nothing / part / all paid, a payment method), payment on an earlier sale.
//! Most operations are valid by construction; some must be refused by every door: a sale or
//! payment paying more than is owed, a sale of an id that never was an item of the shop, the
//! delete of a customer who still owes money. Each case registers three fresh shops on one
//! server (one database) with the clock pinned (`state.clock`, `src/time.rs`) so every door
//! dates its records at the same instant, and applies the sequence:
//!
//! 1. **online**: one request per operation (B5/B7/B8 items, B9/B12/B13 customers, B20
//!    `generatewithproducts` sales, B22 `/invoices/pay`);
//! 2. **v2**: all operations in ONE `POST /api/v2/sync/push`, referring to earlier operations
//!    by `itemOpId` / `productOpId` / `customerOpId` / `invoiceOpId`; a refused operation must
//!    answer `rejected` and every other one `applied`;
//! 3. **v1**: `POST /api/sync` batches, as few as the format allows while keeping the order of
//!    the operations: a batch runs item creates, updates, deletes, sales, payments in that
//!    order and names documents only by server id, so an operation starts a new batch when it
//!    would run before an earlier operation of the batch or names a document the batch
//!    creates. A refused operation is sent alone (a batch is all or nothing: 400, nothing
//!    applied). What v1 cannot express goes through the online endpoint instead:
//!    customer create / edit / delete (v1 has no customer section), an item edit that sets
//!    the stock count (v1 ignores `item.update[].stock`: sync never overwrites a count), a
//!    sale with both tax and discount (v1 stores `totalAmount - subtotal` as one of them) and
//!    a sale whose first payment is not cash (v1's first payment is always cash).
//!
//! What differs between the doors by design and is translated, not compared:
//! - v2 has no `clientCustomerOpId`, so a sale naming a customer created in the same push
//!   names it by phone (the customer exists, so it is found, never created);
//! - customer edits and deletes target customers made by a customer-create operation (v2
//!   can name only those by `customerOpId`; a customer made by a sale's phone has no opId);
//! - an absolute stock count (online `stock`) is a `stockDelta` in v2 (the difference from
//!   the count the model expects);
//! - only active items are sold: an offline sale of an item deleted since the device pulled
//!   is accepted and flagged while the online sale refuses it (docs/sync.md, rule 5).
//!
//! Then the documents of the three shops are read from MongoDB, normalised and compared:
//! items, customers, invoices (numbers, financial year, dates, lines, amounts, paid, status,
//! finalized, customer), payments, purchase histories, stock movements. Normalised:
//! - ids become labels: items by creation index (`item3`), invoices by number, customers by
//!   phone (`9876500001#live`; a deleted one, named only by invoices, `#gone0`, `#gone1`...);
//!   payments, histories and movements keep their order of creation per invoice / item;
//! - dropped, because they are allowed to differ: `clientId` (three shops), `createdAt` /
//!   `updatedAt` (when the write ran: the doors run one after the other; the business dates,
//!   `generatedAt`, `paidAt`, `invoiceDate`, `dueDate`, `finalizedAt`, `purchasedAt`,
//!   `lastPurchaseAt`, come from the pinned clock and ARE compared), `firstSeenAt` (when the
//!   server first wrote the customer: a write time in every door; the online path reads the
//!   system clock for it, not the injectable one),
//!   `deviceRef` / `deviceTime` (only offline sales carry the device's reference and clock
//!   reading), `source` (which door wrote the sale), stock movement `at` (the write time; the
//!   online path reads the system clock for it); a field stored as `null` equals one not stored.
//!
//! Cases: `EQUIV_CASES` (default 6; each case is three shops and a few dozen requests, about
//! ten seconds in a debug build on two cores). A failure prints the operations and the first
//! differing document; proptest shrinks the sequence first.

use std::collections::{BTreeMap, HashMap};

use bson::{doc, oid::ObjectId, Bson, Document};
use proptest::prelude::*;
use serde_json::{json, Value};
use viveka::money::Paise;

use crate::helpers::{phone, Registered, TestApp};

// ------------------------------------------------------------------ generated operations

/// An operation as generated: picks are indexes into what exists when it runs (taken modulo
/// the count), so any sequence is meaningful; `resolve` turns it into an [`Op`].
#[derive(Debug, Clone)]
enum Raw {
    ItemCreate { name: u8, price: i64, stock: i64 },
    ItemEdit { pick: u8, price: Option<i64>, stock: Option<i64> },
    ItemDelete { pick: u8 },
    CustCreate { phone: u8, name: Option<u8> },
    CustEdit { pick: u8, name: u8 },
    CustDelete { pick: u8 },
    Sale(RawSale),
    Pay { pick: u8, permille: u16, over: bool, method: u8 },
    UnknownItemSale { qty: i64 },
}

#[derive(Debug, Clone)]
struct RawSale {
    /// (item pick, quantity, price mode 0 omitted / 1 catalog / 2 counter, counter offset)
    lines: Vec<(u8, i64, u8, i64)>,
    /// 0 none, 1 existing customer by id, 2 phone
    who: u8,
    pick: u8,
    name: Option<u8>,
    tax_permille: u16,
    discount_permille: u16,
    /// 0 nothing, 1 all, 2 part, 3 one paisa more than the total (refused)
    paid: u8,
    paid_permille: u16,
    method: u8,
}

const METHODS: [&str; 5] = ["cash", "upi", "cash", "card", "bank"];
const ITEM_NAMES: [&str; 5] = ["Bulb", "Fan", "Wire", "Switch", "Tape"];
const CUSTOMER_NAMES: [&str; 4] = ["Ravi Kumar", "Asha Devi", "Meena", "John Thomas"];
/// Phones per case (few, so that get-or-create and re-creation after a delete happen).
const PHONES: usize = 4;

fn raw_op() -> impl Strategy<Value = Raw> {
    let money = 1i64..=50_000;
    let item_create =
        (any::<u8>(), money.clone(), 0i64..=20).prop_map(|(name, price, stock)| Raw::ItemCreate { name, price, stock });
    let item_edit = (any::<u8>(), prop::option::of(money.clone()), prop::option::of(0i64..=30))
        .prop_map(|(pick, price, stock)| Raw::ItemEdit { pick, price, stock });
    let line = (any::<u8>(), 1i64..=4, 0u8..3, -300i64..=300);
    let sale = (
        prop::collection::vec(line, 1..=3),
        (0u8..3, any::<u8>(), prop::option::of(any::<u8>())),
        (prop_oneof![3 => Just(0u16), 1 => 1u16..=200], prop_oneof![3 => Just(0u16), 1 => 1u16..=300]),
        (prop_oneof![3 => Just(0u8), 3 => Just(1u8), 3 => Just(2u8), 1 => Just(3u8)], 1u16..=999, any::<u8>()),
    )
        .prop_map(
            |(lines, (who, pick, name), (tax_permille, discount_permille), (paid, paid_permille, method))| {
                Raw::Sale(RawSale {
                    lines,
                    who,
                    pick,
                    name,
                    tax_permille,
                    discount_permille,
                    paid,
                    paid_permille,
                    method,
                })
            },
        );
    prop_oneof![
        4 => item_create,
        2 => item_edit,
        1 => any::<u8>().prop_map(|pick| Raw::ItemDelete { pick }),
        2 => (any::<u8>(), prop::option::of(any::<u8>())).prop_map(|(phone, name)| Raw::CustCreate { phone, name }),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(pick, name)| Raw::CustEdit { pick, name }),
        1 => any::<u8>().prop_map(|pick| Raw::CustDelete { pick }),
        6 => sale,
        3 => (any::<u8>(), 1u16..=1000, prop::bool::weighted(0.15), any::<u8>())
            .prop_map(|(pick, permille, over, method)| Raw::Pay { pick, permille, over, method }),
        1 => (1i64..=3).prop_map(|qty| Raw::UnknownItemSale { qty }),
    ]
}

// ------------------------------------------------------------------ resolved operations

#[derive(Debug, Clone)]
enum Who {
    None,
    /// An existing customer by id (the doors look the id up by phone; v2 sends the phone).
    Id(String),
    Phone(String, Option<String>),
}

#[derive(Debug, Clone)]
struct Line {
    item: usize,
    name: String,
    qty: i64,
    /// The counter price sent, if any (paise).
    price: Option<i64>,
    /// The catalog price when sold (paise).
    catalog: i64,
}

#[derive(Debug, Clone)]
struct SaleOp {
    /// Index among accepted sales; `None` when every door must refuse it.
    sale: Option<usize>,
    lines: Vec<Line>,
    who: Who,
    tax: i64,
    discount: i64,
    paid: i64,
    method: &'static str,
    /// A line naming an id that never was an item of the shop.
    unknown_item: bool,
}

impl SaleOp {
    fn subtotal(&self) -> i64 {
        self.lines.iter().map(|l| l.price.unwrap_or(l.catalog) * l.qty).sum()
    }
    fn total(&self) -> i64 {
        self.subtotal() + self.tax - self.discount
    }
}

#[derive(Debug, Clone)]
enum Op {
    ItemCreate {
        name: String,
        price: i64,
        stock: i64,
    },
    /// `delta`: the stock change an absolute `stock` means (v2 `stockDelta`).
    ItemEdit {
        item: usize,
        price: Option<i64>,
        stock: Option<i64>,
        delta: i64,
    },
    ItemDelete {
        item: usize,
    },
    CustCreate {
        phone: String,
        name: Option<String>,
    },
    /// `by`: index (in the op list) of a customer-create operation that named this customer.
    CustEdit {
        by: usize,
        phone: String,
        name: String,
    },
    CustDelete {
        by: usize,
        phone: String,
        ok: bool,
    },
    Sale(SaleOp),
    Pay {
        sale: usize,
        amount: i64,
        method: &'static str,
        ok: bool,
    },
}

impl Op {
    fn ok(&self) -> bool {
        match self {
            Op::CustDelete { ok, .. } | Op::Pay { ok, .. } => *ok,
            Op::Sale(s) => s.sale.is_some(),
            _ => true,
        }
    }
}

struct MItem {
    name: String,
    price: i64,
    stock: i64,
    active: bool,
}

struct MCustomer {
    dues: i64,
    /// Customer-create operations (op indexes) that named this customer.
    by: Vec<usize>,
}

struct MSale {
    owed: i64,
}

/// The model: just enough state to build valid (or surely refused) operations.
#[derive(Default)]
struct Model {
    items: Vec<MItem>,
    customers: BTreeMap<String, MCustomer>,
    /// Accepted sales: what is still owed, and the customer's phone.
    sales: Vec<(MSale, Option<String>)>,
}

fn pick<T>(v: &[T], p: u8) -> Option<&T> {
    (!v.is_empty()).then(|| &v[usize::from(p) % v.len()])
}

fn resolve(raws: &[Raw], phones: &[String]) -> Vec<Op> {
    let mut m = Model::default();
    let mut ops: Vec<Op> = Vec::new();
    for raw in raws {
        let active: Vec<usize> = (0..m.items.len()).filter(|i| m.items[*i].active).collect();
        let op = match raw {
            Raw::ItemCreate { name, price, stock } => {
                let name = format!("{} {}", ITEM_NAMES[usize::from(*name) % ITEM_NAMES.len()], m.items.len());
                m.items.push(MItem { name: name.clone(), price: *price, stock: *stock, active: true });
                Op::ItemCreate { name, price: *price, stock: *stock }
            }
            Raw::ItemEdit { pick: p, price, stock } => {
                let Some(&item) = pick(&active, *p) else { continue };
                let it = &mut m.items[item];
                let stock = stock.filter(|s| *s != it.stock);
                if price.is_none() && stock.is_none() {
                    continue;
                }
                let delta = stock.map_or(0, |s| s - it.stock);
                if let Some(p) = price {
                    it.price = *p;
                }
                it.stock += delta;
                Op::ItemEdit { item, price: *price, stock, delta }
            }
            Raw::ItemDelete { pick: p } => {
                let Some(&item) = pick(&active, *p) else { continue };
                m.items[item].active = false;
                Op::ItemDelete { item }
            }
            Raw::CustCreate { phone, name } => {
                let phone = phones[usize::from(*phone) % phones.len()].clone();
                let name = name.map(|n| CUSTOMER_NAMES[usize::from(n) % CUSTOMER_NAMES.len()].to_string());
                let idx = ops.len();
                m.customers.entry(phone.clone()).or_insert(MCustomer { dues: 0, by: vec![] }).by.push(idx);
                Op::CustCreate { phone, name }
            }
            Raw::CustEdit { pick: p, name } => {
                let named: Vec<(&String, &MCustomer)> = m.customers.iter().filter(|(_, c)| !c.by.is_empty()).collect();
                let Some((phone, c)) = pick(&named, *p) else { continue };
                let by = c.by[usize::from(*name) % c.by.len()];
                let name = CUSTOMER_NAMES[usize::from(*name) % CUSTOMER_NAMES.len()].to_string();
                Op::CustEdit { by, phone: phone.to_string(), name }
            }
            Raw::CustDelete { pick: p } => {
                let named: Vec<(&String, &MCustomer)> = m.customers.iter().filter(|(_, c)| !c.by.is_empty()).collect();
                let Some((phone, c)) = pick(&named, *p) else { continue };
                let (phone, by, ok) = (phone.to_string(), c.by[0], c.dues == 0);
                if ok {
                    m.customers.remove(&phone);
                }
                Op::CustDelete { by, phone, ok }
            }
            Raw::UnknownItemSale { qty } => {
                let Some(&item) = pick(&active, 0) else { continue };
                let it = &m.items[item];
                Op::Sale(SaleOp {
                    sale: None,
                    lines: vec![Line { item, name: it.name.clone(), qty: *qty, price: None, catalog: it.price }],
                    who: Who::None,
                    tax: 0,
                    discount: 0,
                    paid: 0,
                    method: "cash",
                    unknown_item: true,
                })
            }
            Raw::Sale(s) => {
                let mut lines: Vec<Line> = Vec::new();
                for (p, qty, mode, offset) in &s.lines {
                    let Some(&item) = pick(&active, *p) else { continue };
                    if lines.iter().any(|l| l.item == item) {
                        continue;
                    }
                    let it = &m.items[item];
                    let price = match mode {
                        0 => None,
                        1 => Some(it.price),
                        _ => Some((it.price + offset).max(1)),
                    };
                    lines.push(Line { item, name: it.name.clone(), qty: *qty, price, catalog: it.price });
                }
                if lines.is_empty() {
                    continue;
                }
                let named: Vec<&String> = m.customers.keys().collect();
                let who = match s.who {
                    1 => match pick(&named, s.pick) {
                        Some(p) => Who::Id(p.to_string()),
                        None => Who::None,
                    },
                    2 => Who::Phone(
                        phones[usize::from(s.pick) % phones.len()].clone(),
                        s.name.map(|n| CUSTOMER_NAMES[usize::from(n) % CUSTOMER_NAMES.len()].to_string()),
                    ),
                    _ => Who::None,
                };
                let mut sale = SaleOp {
                    sale: None,
                    lines,
                    who,
                    tax: 0,
                    discount: 0,
                    paid: 0,
                    method: METHODS[usize::from(s.method) % METHODS.len()],
                    unknown_item: false,
                };
                let subtotal = sale.subtotal();
                sale.tax = subtotal * i64::from(s.tax_permille) / 1000;
                sale.discount = subtotal * i64::from(s.discount_permille) / 1000;
                let total = sale.total();
                sale.paid = match s.paid {
                    0 => 0,
                    1 => total,
                    2 => total * i64::from(s.paid_permille) / 1000,
                    _ => total + 1,
                };
                if sale.paid <= total {
                    sale.sale = Some(m.sales.len());
                    for l in &sale.lines {
                        m.items[l.item].stock -= l.qty;
                    }
                    let phone = match &sale.who {
                        Who::None => None,
                        Who::Id(p) | Who::Phone(p, _) => Some(p.clone()),
                    };
                    if let Some(p) = &phone {
                        m.customers.entry(p.clone()).or_insert(MCustomer { dues: 0, by: vec![] }).dues +=
                            total - sale.paid;
                    }
                    m.sales.push((MSale { owed: total - sale.paid }, phone));
                }
                Op::Sale(sale)
            }
            Raw::Pay { pick: p, permille, over, method } => {
                let all: Vec<usize> = (0..m.sales.len()).collect();
                let Some(&sale) = pick(&all, *p) else { continue };
                let owed = m.sales[sale].0.owed;
                let (amount, ok) = if *over || owed == 0 {
                    (owed + 1 + i64::from(*permille % 100), false)
                } else {
                    ((owed * i64::from(*permille) / 1000).max(1), true)
                };
                if ok {
                    m.sales[sale].0.owed -= amount;
                    if let Some(c) = m.sales[sale].1.clone().and_then(|ph| m.customers.get_mut(&ph)) {
                        c.dues -= amount;
                    }
                }
                Op::Pay { sale, amount, method: METHODS[usize::from(*method) % METHODS.len()], ok }
            }
        };
        ops.push(op);
    }
    ops
}

// ------------------------------------------------------------------ helpers

fn rupees(p: i64) -> Value {
    serde_json::to_value(Paise::new(p)).unwrap_or(Value::Null)
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// What one door answered for each operation: accepted or refused (with the answer).
type Outcomes = Vec<Result<(), String>>;

/// Server ids of one shop, by abstract index.
#[derive(Default)]
struct Ids {
    items: Vec<String>,
    sales: Vec<String>,
    /// Customer ids by phone (from a create answer or a lookup; forgotten on delete).
    customers: HashMap<String, String>,
}

async fn customer_id(app: &TestApp, shop: &Registered, ids: &mut Ids, phone: &str) -> Result<String, String> {
    if let Some(id) = ids.customers.get(phone) {
        return Ok(id.clone());
    }
    let r = app.get(&format!("/api/business/client-customers/{}/{phone}", shop.client_id), Some(&shop.token)).await;
    let id = r.body["clientCustomer"]["_id"].as_str().ok_or(format!("lookup of {phone}: {} {}", r.status, r.body))?;
    ids.customers.insert(phone.to_string(), id.to_string());
    Ok(id.to_string())
}

fn outcome(r: &crate::helpers::Resp) -> Result<Result<(), String>, String> {
    if r.status.is_success() {
        Ok(Ok(()))
    } else if r.status.is_client_error() {
        Ok(Err(format!("{} {}", r.status, r.body)))
    } else {
        Err(format!("a door failed: {} {}", r.status, r.body))
    }
}

// ------------------------------------------------------------------ door 1: online

async fn online_op(app: &TestApp, shop: &Registered, ids: &mut Ids, op: &Op) -> Result<Result<(), String>, String> {
    let t = Some(shop.token.as_str());
    let cid = &shop.client_id;
    let r = match op {
        Op::ItemCreate { name, price, stock } => {
            let r = app
                .post("/api/business/items", t, json!({ "name": name, "price": rupees(*price), "stock": stock }))
                .await;
            if let Some(id) = r.body["item"]["_id"].as_str() {
                ids.items.push(id.to_string());
            }
            r
        }
        Op::ItemEdit { item, price, stock, .. } => {
            let mut body = json!({});
            if let Some(p) = price {
                body["price"] = rupees(*p);
            }
            if let Some(s) = stock {
                body["stock"] = json!(s);
            }
            app.put(&format!("/api/business/items/{cid}/{}", ids.items[*item]), t, body).await
        }
        Op::ItemDelete { item } => app.delete(&format!("/api/business/items/{cid}/{}", ids.items[*item]), t).await,
        Op::CustCreate { phone, name } => {
            let mut body = json!({ "phone": phone });
            if let Some(n) = name {
                body["name"] = json!(n);
            }
            let r = app.post("/api/business/client-customers", t, body).await;
            if let Some(id) = r.body["clientCustomer"]["_id"].as_str() {
                ids.customers.insert(phone.clone(), id.to_string());
            }
            r
        }
        Op::CustEdit { phone, name, .. } => {
            let id = customer_id(app, shop, ids, phone).await?;
            app.put(&format!("/api/business/client-customers/{cid}/{id}"), t, json!({ "name": name })).await
        }
        Op::CustDelete { phone, .. } => {
            let id = customer_id(app, shop, ids, phone).await?;
            let r = app.delete(&format!("/api/business/client-customers/{cid}/{id}"), t).await;
            if r.status.is_success() {
                ids.customers.remove(phone);
            }
            r
        }
        Op::Sale(s) => {
            let products: Vec<Value> = s
                .lines
                .iter()
                .map(|l| {
                    let id = if s.unknown_item { ObjectId::new().to_hex() } else { ids.items[l.item].clone() };
                    let mut v = json!({ "productId": id, "quantity": l.qty });
                    if let Some(p) = l.price {
                        v["costPerUnit"] = rupees(p);
                    }
                    v
                })
                .collect();
            let mut body = json!({ "products": products, "paidAmount": rupees(s.paid),
                "totalTax": rupees(s.tax), "totalDiscount": rupees(s.discount), "paymentMethod": s.method });
            match &s.who {
                Who::None => {}
                Who::Id(phone) => body["clientCustomerId"] = json!(customer_id(app, shop, ids, phone).await?),
                Who::Phone(phone, name) => {
                    body["clientCustomerPhone"] = json!(phone);
                    if let Some(n) = name {
                        body["clientCustomerName"] = json!(n);
                    }
                }
            }
            let r = app.post("/api/business/invoices/generatewithproducts", t, body).await;
            if r.status.is_success() {
                ids.sales.push(r.body["invoice"]["_id"].as_str().unwrap_or_default().to_string());
            }
            r
        }
        Op::Pay { sale, amount, method, .. } => {
            let body = json!({ "invoiceId": ids.sales[*sale], "amount": rupees(*amount), "method": method });
            app.post("/api/business/invoices/pay", t, body).await
        }
    };
    outcome(&r)
}

async fn run_online(app: &TestApp, shop: &Registered, ops: &[Op]) -> Result<(Outcomes, Ids), String> {
    let mut ids = Ids::default();
    let mut out = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let r = online_op(app, shop, &mut ids, op).await?;
        if r.is_ok() != op.ok() {
            // later operations would name what this one should have made
            return Err(format!("online: operation {i} {op:?} answered {r:?}"));
        }
        out.push(r);
    }
    Ok((out, ids))
}

// ------------------------------------------------------------------ door 2: one v2 push

fn v2_ops(ops: &[Op], at: &str) -> (Vec<Value>, Vec<String>) {
    let op_ids: Vec<String> = ops.iter().map(|_| uuid()).collect();
    // op index of each item create / accepted sale, by abstract index
    let item_ops: Vec<usize> = (0..ops.len()).filter(|i| matches!(ops[*i], Op::ItemCreate { .. })).collect();
    let sale_ops: Vec<usize> = (0..ops.len()).filter(|i| matches!(&ops[*i], Op::Sale(s) if s.sale.is_some())).collect();
    let mut out = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let (entity, kind, payload) = match op {
            Op::ItemCreate { name, price, stock } => {
                ("item", "create", json!({ "name": name, "price": rupees(*price), "stock": stock }))
            }
            Op::ItemEdit { item, price, delta, .. } => {
                let mut p = json!({ "itemOpId": op_ids[item_ops[*item]] });
                if let Some(x) = price {
                    p["price"] = rupees(*x);
                }
                if *delta != 0 {
                    p["stockDelta"] = json!(delta);
                }
                ("item", "update", p)
            }
            Op::ItemDelete { item } => ("item", "delete", json!({ "itemOpId": op_ids[item_ops[*item]] })),
            Op::CustCreate { phone, name } => {
                let mut p = json!({ "phoneNumber": phone });
                if let Some(n) = name {
                    p["name"] = json!(n);
                }
                ("customer", "create", p)
            }
            Op::CustEdit { by, name, .. } => {
                ("customer", "update", json!({ "customerOpId": op_ids[*by], "name": name }))
            }
            Op::CustDelete { by, .. } => ("customer", "delete", json!({ "customerOpId": op_ids[*by] })),
            Op::Sale(s) => {
                let products: Vec<Value> = s
                    .lines
                    .iter()
                    .map(|l| {
                        let mut v = if s.unknown_item {
                            json!({ "productId": ObjectId::new().to_hex() })
                        } else {
                            json!({ "productOpId": op_ids[item_ops[l.item]] })
                        };
                        v["quantity"] = json!(l.qty);
                        if let Some(p) = l.price {
                            v["costPerUnit"] = rupees(p);
                        }
                        v
                    })
                    .collect();
                let mut p = json!({ "products": products, "paidAmount": rupees(s.paid), "totalTax": rupees(s.tax),
                    "totalDiscount": rupees(s.discount), "method": s.method, "deviceRef": format!("EQ-{i}") });
                match &s.who {
                    Who::None => {}
                    // no clientCustomerOpId in v2: the existing customer by its phone
                    Who::Id(phone) => p["clientCustomerPhone"] = json!(phone),
                    Who::Phone(phone, name) => {
                        p["clientCustomerPhone"] = json!(phone);
                        if let Some(n) = name {
                            p["clientCustomerName"] = json!(n);
                        }
                    }
                }
                ("invoice", "create", p)
            }
            Op::Pay { sale, amount, method, .. } => (
                "payment",
                "create",
                json!({ "invoiceOpId": op_ids[sale_ops[*sale]], "amount": rupees(*amount), "method": method }),
            ),
        };
        out.push(json!({ "opId": op_ids[i], "entity": entity, "kind": kind, "deviceTime": at, "payload": payload }));
    }
    (out, op_ids)
}

async fn run_v2(app: &TestApp, shop: &Registered, ops: &[Op], at: &str) -> Result<(Outcomes, Ids), String> {
    let (body, _) = v2_ops(ops, at);
    let r = app.post("/api/v2/sync/push", Some(&shop.token), json!({ "operations": body })).await;
    if r.status != 200 {
        return Err(format!("v2 push: {} {}", r.status, r.body));
    }
    let results = r.body["results"].as_array().cloned().unwrap_or_default();
    if results.len() != ops.len() {
        return Err(format!("v2 push answered {} results for {} operations", results.len(), ops.len()));
    }
    let mut ids = Ids::default();
    let mut out = Vec::new();
    for (op, res) in ops.iter().zip(&results) {
        match res["status"].as_str() {
            Some("applied") => out.push(Ok(())),
            Some("rejected") => out.push(Err(res.to_string())),
            _ => return Err(format!("v2 answered neither applied nor rejected: {res}")),
        }
        let id = res["result"]["id"].as_str().unwrap_or_default().to_string();
        match op {
            Op::ItemCreate { .. } => ids.items.push(id),
            Op::Sale(s) if s.sale.is_some() && res["status"] == "applied" => ids.sales.push(id),
            _ => {}
        }
    }
    Ok((out, ids))
}

// ------------------------------------------------------------------ door 3: v1 batches

/// The v1 batch phase of an operation (a batch runs them in this order), or `None` when v1
/// cannot express it (it goes online).
fn v1_phase(op: &Op) -> Option<u8> {
    match op {
        Op::ItemCreate { .. } => Some(0),
        Op::ItemEdit { stock: None, .. } => Some(1),
        Op::ItemDelete { .. } => Some(2),
        Op::Sale(s) if !(s.tax > 0 && s.discount > 0) && (s.paid == 0 || s.method == "cash") => Some(3),
        Op::Pay { .. } => Some(4),
        _ => None,
    }
}

#[derive(Default)]
struct Batch {
    body: Value,
    /// (op index, phase) in the batch
    ops: Vec<(usize, u8)>,
    /// items / sales created in this batch (abstract indexes): no server id yet
    new_items: Vec<usize>,
    new_sales: Vec<usize>,
    /// customers a sale of this batch may create (their id is not known yet)
    phones: Vec<String>,
    /// every operation of the batch is valid (a refused one is sent alone)
    ok: bool,
}

struct V1 {
    ids: Ids,
    out: Vec<Option<Result<(), String>>>,
    batches: usize,
}

async fn flush(app: &TestApp, shop: &Registered, v1: &mut V1, b: &mut Batch) -> Result<(), String> {
    if b.ops.is_empty() {
        return Ok(());
    }
    let batch = std::mem::take(b);
    v1.batches += 1;
    let r = app.post("/api/sync", Some(&shop.token), batch.body.clone()).await;
    let res = outcome(&r)?;
    if res.is_ok() != batch.ok {
        return Err(format!("v1: a batch answered {res:?}, expected {}: {}", batch.ok, batch.body));
    }
    for (i, _) in &batch.ops {
        v1.out[*i] = Some(res.clone());
    }
    if res.is_ok() {
        let created = |k: &str| -> Vec<String> {
            r.body["synced"][k].as_array().into_iter().flatten().filter_map(Value::as_str).map(String::from).collect()
        };
        let (items, sales) = (created("itemsCreated"), created("invoicesCreated"));
        if items.len() != batch.new_items.len() || sales.len() != batch.new_sales.len() {
            return Err(format!(
                "v1 batch created {items:?} {sales:?} for {:?} {:?}",
                batch.new_items, batch.new_sales
            ));
        }
        v1.ids.items.extend(items);
        v1.ids.sales.extend(sales);
    } else if batch.ops.len() > 1 {
        return Err(format!("a v1 batch of valid operations was refused: {:?}", res));
    }
    Ok(())
}

async fn run_v1(app: &TestApp, shop: &Registered, ops: &[Op], at: &str) -> Result<(Outcomes, Ids, usize), String> {
    let mut v1 = V1 { ids: Ids::default(), out: vec![None; ops.len()], batches: 0 };
    let mut b = Batch::default();
    for (i, op) in ops.iter().enumerate() {
        let Some(phase) = v1_phase(op) else {
            flush(app, shop, &mut v1, &mut b).await?;
            let r = online_op(app, shop, &mut v1.ids, op).await?;
            if r.is_ok() != op.ok() {
                return Err(format!("v1 (online part): operation {i} {op:?} answered {r:?}"));
            }
            v1.out[i] = Some(r);
            continue;
        };
        // what this operation names that the pending batch creates
        let names_new = match op {
            Op::ItemEdit { item, .. } | Op::ItemDelete { item } => b.new_items.contains(item),
            Op::Sale(s) => {
                s.lines.iter().any(|l| b.new_items.contains(&l.item))
                    || matches!(&s.who, Who::Id(p) if b.phones.contains(p) || !v1.ids.customers.contains_key(p))
            }
            Op::Pay { sale, .. } => b.new_sales.contains(sale),
            _ => false,
        };
        let later = b.ops.iter().any(|(_, p)| *p > phase);
        if names_new || later || !op.ok() {
            flush(app, shop, &mut v1, &mut b).await?;
        }
        if b.ops.is_empty() {
            b.body = json!({ "item": { "create": [], "update": [], "delete": [] }, "invoice": { "create": [] },
                "payment": { "create": [] } });
        }
        match op {
            Op::ItemCreate { name, price, stock } => {
                // the next abstract index (items made online or in earlier batches come first)
                b.new_items.push(v1.ids.items.len() + b.new_items.len());
                push(&mut b.body["item"]["create"], json!({ "name": name, "price": rupees(*price), "stock": stock }));
            }
            Op::ItemEdit { item, price, .. } => {
                let mut u = json!({ "_id": v1.ids.items[*item] });
                if let Some(p) = price {
                    u["price"] = rupees(*p);
                }
                push(&mut b.body["item"]["update"], u);
            }
            Op::ItemDelete { item } => push(&mut b.body["item"]["delete"], json!(v1.ids.items[*item])),
            Op::Sale(s) => {
                let products: Vec<Value> = s
                    .lines
                    .iter()
                    .map(|l| {
                        let id = if s.unknown_item { ObjectId::new().to_hex() } else { v1.ids.items[l.item].clone() };
                        json!({ "productId": id, "itemName": l.name, "quantity": l.qty,
                            "costPerUnit": rupees(l.price.unwrap_or(l.catalog)) })
                    })
                    .collect();
                let mut inv = json!({ "products": products, "totalAmount": rupees(s.total()),
                    "paidAmount": rupees(s.paid), "deviceTime": at, "deviceRef": format!("EQ-{i}") });
                match &s.who {
                    Who::None => {}
                    Who::Id(phone) => {
                        inv["clientCustomerId"] = json!(customer_id(app, shop, &mut v1.ids, phone).await?)
                    }
                    Who::Phone(phone, name) => {
                        inv["clientCustomerPhone"] = json!(phone);
                        if let Some(n) = name {
                            inv["clientCustomerName"] = json!(n);
                        }
                        if !v1.ids.customers.contains_key(phone) {
                            b.phones.push(phone.clone());
                        }
                    }
                }
                if s.sale.is_some() {
                    // sales made online (what v1 cannot express) are already in `ids`
                    b.new_sales.push(v1.ids.sales.len() + b.new_sales.len());
                }
                push(&mut b.body["invoice"]["create"], inv);
            }
            Op::Pay { sale, amount, method, .. } => push(
                &mut b.body["payment"]["create"],
                json!({ "invoiceId": v1.ids.sales[*sale], "amount": rupees(*amount), "method": method, "paidAt": at }),
            ),
            _ => unreachable!("phase() said v1 expresses it"),
        }
        b.ops.push((i, phase));
        b.ok = op.ok();
        if !op.ok() {
            flush(app, shop, &mut v1, &mut b).await?;
        }
    }
    flush(app, shop, &mut v1, &mut b).await?;
    let out = v1.out.into_iter().map(|o| o.unwrap_or_else(|| Err("never sent".into()))).collect();
    Ok((out, v1.ids, v1.batches))
}

fn push(list: &mut Value, v: Value) {
    if let Some(a) = list.as_array_mut() {
        a.push(v);
    }
}

// ------------------------------------------------------------------ reading and normalising

/// Fields allowed to differ between the doors (see the module docs for why).
const DROPPED: &[&str] =
    &["clientId", "createdAt", "updatedAt", "deviceRef", "deviceTime", "source", "at", "firstSeenAt"];

/// A BSON value as JSON with ids replaced by labels (unknown ids keep a marker) and
/// [`DROPPED`] fields left out; numbers of any BSON width compare equal, and a field stored
/// as `null` equals a field not stored (the v2 push writes `finalizedAt: null` where the
/// online path leaves it out: the same for every query `{f: null}` and for the wire).
fn norm(b: &Bson, labels: &HashMap<ObjectId, String>) -> Value {
    match b {
        Bson::ObjectId(id) => json!(labels.get(id).cloned().unwrap_or_else(|| format!("?{id}"))),
        Bson::DateTime(d) => json!(d.try_to_rfc3339_string().unwrap_or_default()),
        Bson::Int32(n) => json!(n),
        Bson::Int64(n) => json!(n),
        Bson::Document(d) => Value::Object(
            d.iter()
                .filter(|(k, v)| !DROPPED.contains(&k.as_str()) && !matches!(v, Bson::Null))
                .map(|(k, v)| (k.clone(), norm(v, labels)))
                .collect(),
        ),
        Bson::Array(a) => Value::Array(a.iter().map(|v| norm(v, labels)).collect()),
        other => other.clone().into_relaxed_extjson(),
    }
}

async fn read(app: &TestApp, coll: &str, client: ObjectId) -> Vec<Document> {
    use futures::TryStreamExt;
    let cur = app.db.collection::<Document>(coll).find(doc! { "clientId": client }).sort(doc! { "_id": 1 }).await;
    match cur {
        Ok(c) => c.try_collect().await.unwrap_or_default(),
        Err(_) => vec![],
    }
}

/// The shop's documents, normalised, per collection (in a canonical order).
async fn snapshot(app: &TestApp, shop: &Registered, ids: &Ids) -> BTreeMap<&'static str, Vec<Value>> {
    let client = ObjectId::parse_str(&shop.client_id).unwrap_or_default();
    let items = read(app, "items", client).await;
    let customers = read(app, "clientcustomers", client).await;
    let invoices = read(app, "invoices", client).await;
    let payments = read(app, "payments", client).await;
    let histories = read(app, "purchasehistories", client).await;
    let movements = read(app, "stockmovements", client).await;

    let mut labels: HashMap<ObjectId, String> = HashMap::new();
    // the owner (whose user id is the shop's id) is who every door records (`billedBy`, ...)
    labels.insert(client, "the owner".to_string());
    for (k, id) in ids.items.iter().enumerate() {
        if let Ok(id) = ObjectId::parse_str(id) {
            labels.insert(id, format!("item{k}"));
        }
    }
    for inv in &invoices {
        if let (Ok(id), Ok(n)) = (inv.get_object_id("_id"), inv.get_str("invoiceNumber")) {
            labels.insert(id, format!("inv {n}"));
        }
    }
    // customers: the live one of a phone is `phone#live`; a deleted one (named only by its
    // invoices) `phone#gone<k>`, k in the order of the invoice numbers that name it (ObjectId
    // order is no creation order: the server makes some ids, MongoDB others)
    for c in &customers {
        if let (Ok(id), Ok(phone)) = (c.get_object_id("_id"), c.get_str("phoneNumber")) {
            labels.insert(id, format!("{phone}#live"));
        }
    }
    let mut numbered: Vec<&Document> = invoices.iter().collect();
    numbered.sort_by_key(|d| d.get_str("invoiceNumber").unwrap_or_default().to_string());
    let mut gone: HashMap<String, usize> = HashMap::new();
    for d in numbered {
        if let (Ok(id), Ok(phone)) = (d.get_object_id("clientCustomerId"), d.get_str("clientCustomerPhone")) {
            if let std::collections::hash_map::Entry::Vacant(e) = labels.entry(id) {
                let k = gone.entry(phone.to_string()).or_default();
                e.insert(format!("{phone}#gone{k}"));
                *k += 1;
            }
        }
    }

    let n = |docs: &[Document], keep_id: bool| -> Vec<Value> {
        docs.iter()
            .map(|d| {
                let mut v = norm(&Bson::Document(d.clone()), &labels);
                if !keep_id {
                    if let Some(o) = v.as_object_mut() {
                        o.remove("_id");
                    }
                }
                v
            })
            .collect()
    };
    let sorted = |mut v: Vec<Value>, key: &str| -> Vec<Value> {
        v.sort_by(|a, b| a[key].to_string().cmp(&b[key].to_string()));
        v
    };
    let mut out = BTreeMap::new();
    out.insert("items", sorted(n(&items, true), "_id"));
    out.insert("clientcustomers", sorted(n(&customers, true), "_id"));
    out.insert("invoices", sorted(n(&invoices, true), "_id"));
    // in order of creation (by _id) within each invoice / item
    out.insert("payments", sorted(n(&payments, false), "invoiceId"));
    out.insert("purchasehistories", sorted(n(&histories, false), "invoiceId"));
    out.insert("stockmovements", sorted(n(&movements, false), "itemId"));
    out
}

/// The first difference in each collection of two snapshots, readable.
fn diff(a: &BTreeMap<&str, Vec<Value>>, b: &BTreeMap<&str, Vec<Value>>, names: (&str, &str)) -> Option<String> {
    let mut found = Vec::new();
    for (coll, xs) in a {
        let ys = b.get(coll).cloned().unwrap_or_default();
        if xs.len() != ys.len() {
            found.push(format!(
                "{coll}: {} has {} documents, {} has {}\n{}: {}\n{}: {}",
                names.0,
                xs.len(),
                names.1,
                ys.len(),
                names.0,
                Value::Array(xs.clone()),
                names.1,
                Value::Array(ys.clone())
            ));
            continue;
        }
        if let Some((x, y)) = xs.iter().zip(&ys).find(|(x, y)| x != y) {
            let mut fields: Vec<String> = Vec::new();
            for (k, v) in x.as_object().into_iter().flatten() {
                if y.get(k.as_str()) != Some(v) {
                    let other = y.get(k.as_str()).cloned().unwrap_or(Value::Null);
                    fields.push(format!("  {k}: {} = {v}, {} = {other}", names.0, names.1));
                }
            }
            for (k, v) in y.as_object().into_iter().flatten() {
                if x.get(k.as_str()).is_none() {
                    fields.push(format!("  {k}: only {} has it = {v}", names.1));
                }
            }
            found.push(format!("{coll} differ:\n{}\n{}: {x}\n{}: {y}", fields.join("\n"), names.0, names.1));
        }
    }
    (!found.is_empty()).then(|| found.join("\n"))
}

// ------------------------------------------------------------------ the property

async fn check_equivalence(app: &TestApp, raws: &[Raw]) -> Result<(), String> {
    let phones: Vec<String> = (0..PHONES).map(|_| phone()).collect();
    let ops = resolve(raws, &phones);
    let at = app.state.clock.now().try_to_rfc3339_string().map_err(|e| e.to_string())?;
    let shops = [app.register(&phone()).await, app.register(&phone()).await, app.register(&phone()).await];

    let (online, online_ids) = run_online(app, &shops[0], &ops).await?;
    let (v2, v2_ids) = run_v2(app, &shops[1], &ops, &at).await?;
    let (v1, v1_ids, _batches) = run_v1(app, &shops[2], &ops, &at).await?;

    let listing = || ops.iter().enumerate().map(|(i, o)| format!("  {i}: {o:?}")).collect::<Vec<_>>().join("\n");
    for (i, op) in ops.iter().enumerate() {
        for (door, out) in [("online", &online), ("v2", &v2), ("v1", &v1)] {
            if out[i].is_ok() != op.ok() {
                return Err(format!(
                    "operation {i} should be {} by every door; {door} answered {:?}\noperations:\n{}",
                    if op.ok() { "accepted" } else { "refused" },
                    out[i],
                    listing()
                ));
            }
        }
    }
    let a = snapshot(app, &shops[0], &online_ids).await;
    let mut found = Vec::new();
    for (name, shop, ids) in [("v2", &shops[1], &v2_ids), ("v1", &shops[2], &v1_ids)] {
        let b = snapshot(app, shop, ids).await;
        found.extend(diff(&a, &b, ("online", name)));
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\noperations:\n{}", found.join("\n"), listing()))
    }
}

/// See the module docs. Cases: `EQUIV_CASES` (default 6).
#[test]
fn prop_online_v1_and_v2_doors_write_the_same_documents() {
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    };
    let app = rt.block_on(TestApp::spawn());
    // every door dates its records at this instant (a whole second, in the accepted window)
    let now = bson::DateTime::now().timestamp_millis();
    app.state.clock.pin(Some(bson::DateTime::from_millis(now - now % 1000 - 60_000)));
    let cases = std::env::var("EQUIV_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(6);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let strategy = prop::collection::vec(raw_op(), 4..=24);
    let result = runner.run(&strategy, |raws| rt.block_on(check_equivalence(&app, &raws)).map_err(TestCaseError::fail));
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Found by the equivalence test's review of `lastPurchaseAt`: a v1 offline sale set it to the
/// sync time while the v2 push sets the sale's time. Now both (and online) date it at the
/// sale, and an older sale synced later never moves it back.
#[tokio::test]
async fn a_v1_sale_synced_later_dates_the_customers_last_purchase_at_the_sale() {
    let app = TestApp::spawn().await;
    let shop = app.register(&phone()).await;
    let cust = phone();
    let r =
        app.post("/api/business/items", Some(&shop.token), json!({ "name": "Bulb", "price": 50, "stock": 9 })).await;
    let item = r.body["item"]["_id"].as_str().unwrap_or_default().to_string();
    let sale = |t: bson::DateTime| {
        json!({ "invoice": { "create": [{ "deviceTime": t.try_to_rfc3339_string().unwrap_or_default(),
            "clientCustomerPhone": cust,
            "products": [{ "productId": item, "itemName": "Bulb", "quantity": 1, "costPerUnit": 50 }] }] } })
    };
    let last = || async {
        let c = app.db.collection::<Document>("clientcustomers").find_one(doc! { "phoneNumber": &cust }).await;
        c.ok().flatten().and_then(|c| c.get_datetime("lastPurchaseAt").ok().copied())
    };
    let now = bson::DateTime::now().timestamp_millis();
    let t = bson::DateTime::from_millis(now - now % 1000 - 2 * 3_600_000);
    let r = app.post("/api/sync", Some(&shop.token), sale(t)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(last().await, Some(t), "the sale's time, not the sync's");
    let older = bson::DateTime::from_millis(t.timestamp_millis() - 3_600_000);
    let r = app.post("/api/sync", Some(&shop.token), sale(older)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(last().await, Some(t), "an older sale synced later does not move it back");
}
