//! The deciders without a database: plans and refusals from documents in memory.

use std::collections::HashMap;

use bson::{oid::ObjectId, DateTime};

use super::*;
use crate::billing::command::{LineSource, SaleOptions};

/// 2026-11-29 10:00 India time (04:30 UTC).
fn now() -> DateTime {
    DateTime::parse_rfc3339_str("2026-11-29T04:30:00Z").unwrap_or(DateTime::MAX)
}

fn shop() -> ObjectId {
    ObjectId::parse_str("64b000000000000000000001").unwrap_or_else(|_| ObjectId::new())
}

/// Deterministic ids: 1, 2, 3, ... (the decider takes no randomness).
fn counter() -> impl FnMut() -> ObjectId {
    let mut n = 0x100_u32;
    move || {
        n += 1;
        let mut b = [0u8; 12];
        b[8..].copy_from_slice(&n.to_be_bytes());
        ObjectId::from_bytes(b)
    }
}

fn item(name: &str, price: i64, stock: i64) -> ItemDoc {
    ItemDoc {
        id: ObjectId::new(),
        client_id: shop(),
        group_id: None,
        brand_id: None,
        name: name.into(),
        price: Paise::new(price),
        stock,
        low_stock_quantity: 5,
        unit: "nos".into(),
        description: String::new(),
        dealer_ids: vec![],
        is_active: true,
        created_at: now(),
        updated_at: now(),
        version: 0,
        details: Default::default(),
    }
}

/// Issue 16 known answer: a pen with MRP Rs 7 sold at Rs 8 is refused (naming the line); at
/// Rs 7, or at its catalog price within the MRP, it passes; an item without an MRP is not
/// checked.
#[test]
fn a_line_above_the_mrp_is_refused_naming_the_line() {
    let mut pen = item("Pen", 700, 10);
    pen.details.mrp = Some(Paise::new(700));
    let loose = item("Rice", 5000, 10);
    let items: HashMap<ObjectId, ItemDoc> = [(pen.id, pen.clone()), (loose.id, loose.clone())].into();
    let groups = HashMap::new();
    let line = |i: usize, id: ObjectId, p: Option<i64>| (format!("products[{i}].productId"), id, 1, p.map(Paise::new));
    let r = price_lines(&[line(0, loose.id, Some(99_999)), line(1, pen.id, Some(800))], &items, &groups, false);
    assert_eq!(
        r.clone().err(),
        Some(Refusal::MrpExceeded { line: "products[1]".into(), price: Paise::new(800), mrp: Paise::new(700) })
    );
    let e = AppError::from(r.unwrap_err());
    assert_eq!((e.status().as_u16(), e.code()), (400, MRP_EXCEEDED));
    assert!(e.to_string().starts_with("products[1]: "), "{e}");
    assert!(price_lines(&[line(0, pen.id, Some(700))], &items, &groups, false).is_ok());
    assert!(price_lines(&[line(0, pen.id, None)], &items, &groups, false).is_ok());
    // the catalog price itself above the MRP (an MRP lowered by a raw write) is refused too
    let mut dear = pen.clone();
    dear.price = Paise::new(900);
    let items: HashMap<ObjectId, ItemDoc> = [(dear.id, dear)].into();
    assert!(matches!(price_lines(&[line(0, pen.id, None)], &items, &groups, false), Err(Refusal::MrpExceeded { .. })));
}

fn customer(name: &str, phone: &str, dues: i64) -> CustomerDoc {
    let mut c = CustomerDoc::new(shop(), phone, name, now());
    c.outstanding_balance = Paise::new(dues);
    c
}

/// A staff cashier of the shop (who sells in these tests).
fn cashier() -> crate::access::By {
    crate::access::By { user_id: ObjectId::from_bytes([7; 12]), name: "Asha Rao".into() }
}

fn products_sale(lines: Vec<(ObjectId, i64, Option<i64>)>, paid: i64) -> Sale {
    Sale {
        client_id: shop(),
        lines: LineSource::Products(
            lines.into_iter().enumerate().map(|(i, (id, q, p))| (i, id, q, p.map(Paise::new))).collect(),
        ),
        customer: CustomerRef::None,
        customer_name: None,
        customer_phone: None,
        claimed_total: None,
        paid: Paise::new(paid),
        tax: Paise::ZERO,
        discount: Paise::ZERO,
        method: "cash".into(),
        split: None,
        notes: String::new(),
        kind: KIND_INVOICE,
        options: SaleOptions::default(),
        by: cashier(),
        rights: crate::billing::command::SellerRights::owner(),
        units: Default::default(),
        batch_nos: vec![],
        gst: Default::default(),
    }
}

fn catalog(items: &[&ItemDoc]) -> HashMap<ObjectId, ItemDoc> {
    items.iter().map(|i| (i.id, (*i).clone())).collect()
}

struct World {
    items: HashMap<ObjectId, ItemDoc>,
    groups: HashMap<ObjectId, String>,
    customer: Option<CustomerDoc>,
    cart: Option<CartDoc>,
    shop: ShopRules,
    lots: crate::catalog::batch::Lots,
    numbers: crate::billing::numbering::Numbers,
    gst: Option<crate::client::gst::GstProfile>,
    tax_codes: HashMap<ObjectId, crate::catalog::tax::TaxCode>,
}

impl World {
    fn of(items: &[&ItemDoc]) -> Self {
        World {
            items: catalog(items),
            groups: HashMap::new(),
            customer: None,
            cart: None,
            shop: ShopRules { allow_negative_stock: true, require_full_payment: false },
            lots: Default::default(),
            numbers: Default::default(),
            gst: None,
            tax_codes: HashMap::new(),
        }
    }
    fn decide(&self, cmd: &Sale) -> Result<SalePlan, Refusal> {
        let inputs = SaleInputs {
            cart: self.cart.as_ref(),
            items: &self.items,
            groups: &self.groups,
            customer: self.customer.as_ref(),
            shop: self.shop,
            lots: &self.lots,
            numbers: &self.numbers,
            gst: self.gst.as_ref(),
            tax_codes: &self.tax_codes,
        };
        sale(cmd, &inputs, now(), &mut counter())
    }
}

#[test]
fn a_counter_price_is_the_price_of_record_and_the_catalog_price_is_kept_beside_it() {
    // Rs 55 in the catalog, sold at Rs 50 x 2 (paid Rs 100 at the counter)
    let bulb = item("Bulb", 5500, 20);
    let plan = World::of(&[&bulb]).decide(&products_sale(vec![(bulb.id, 2, Some(5000))], 10000)).unwrap();
    let line = &plan.invoice.products[0];
    assert_eq!(
        (line.cost_per_unit, line.catalog_price, line.line_total),
        (Paise::new(5000), Paise::new(5500), Paise::new(10000))
    );
    assert!(line.price_overridden);
    assert_eq!(plan.invoice.total_amount, Paise::new(10000));
    assert_eq!(plan.invoice.status, STATUS_PAID, "paid in full: the customer owes nothing");
    assert!(plan.invoice.is_finalized);
    // no counter price: the catalog price, not an override
    let plain = World::of(&[&bulb]).decide(&products_sale(vec![(bulb.id, 2, None)], 0)).unwrap();
    assert_eq!(plain.invoice.products[0].cost_per_unit, Paise::new(5500));
    assert!(!plain.invoice.products[0].price_overridden);
}

#[test]
fn strict_stock_refuses_the_short_lines_409_and_allowed_negative_stock_flags_them() {
    let bulb = item("Bulb", 5500, 1);
    let fan = item("Fan", 100000, 5);
    let mut w = World::of(&[&bulb, &fan]);
    w.shop.allow_negative_stock = false;
    let cmd = products_sale(vec![(bulb.id, 2, None), (fan.id, 1, None)], 0);
    let refusal = w.decide(&cmd).unwrap_err();
    assert_eq!(refusal, Refusal::InsufficientStock(vec!["Bulb".into()]));
    match AppError::from(refusal) {
        AppError::Conflict { code, message } => {
            assert_eq!((code, message.as_str()), ("INSUFFICIENT_STOCK", "Not enough stock for: Bulb"));
        }
        other => panic!("expected 409, got {other:?}"),
    }
    // the same sale where negative stock is allowed: applied, the short line flagged
    w.shop.allow_negative_stock = true;
    let plan = w.decide(&cmd).unwrap();
    assert_eq!(plan.invoice.stock_warnings.len(), 1);
    assert_eq!((plan.invoice.stock_warnings[0].item_name.as_str(), plan.invoice.stock_warnings[0].stock), ("Bulb", -1));
    assert_eq!(
        plan.moves,
        vec![
            StockMove { item: bulb.id, delta: -2, below_zero: true },
            StockMove { item: fan.id, delta: -1, below_zero: true }
        ]
    );
    assert_eq!(
        plan.movements.iter().map(|m| (m.item_id, m.delta)).collect::<Vec<_>>(),
        vec![(bulb.id, -2), (fan.id, -1)]
    );
    // an offline sale always subtracts, whatever the shop's setting
    w.shop.allow_negative_stock = false;
    let offline = Sale { options: SaleOptions::offline(Some(now()), None, None), ..cmd };
    assert!(w.decide(&offline).unwrap().moves.iter().all(|m| m.below_zero));
}

#[test]
fn two_lines_of_one_item_take_its_stock_in_turn() {
    let bulb = item("Bulb", 5500, 3);
    let mut w = World::of(&[&bulb]);
    w.shop.allow_negative_stock = false;
    let refusal = w.decide(&products_sale(vec![(bulb.id, 2, None), (bulb.id, 2, None)], 0)).unwrap_err();
    assert_eq!(refusal, Refusal::InsufficientStock(vec!["Bulb".into()]));
    assert!(w.decide(&products_sale(vec![(bulb.id, 2, None), (bulb.id, 1, None)], 0)).is_ok());
}

#[test]
fn an_incomplete_sale_has_no_number_until_a_payment_completes_it() {
    let bulb = item("Bulb", 5500, 20);
    let mut w = World::of(&[&bulb]);
    let ravi = customer("Ravi", "9876543210", 0);
    w.customer = Some(ravi.clone());
    let mut cmd = products_sale(vec![(bulb.id, 2, None)], 4000);
    cmd.kind = KIND_INCOMPLETE;
    cmd.customer = CustomerRef::Id(ravi.id);
    let plan = w.decide(&cmd).unwrap();
    assert_eq!(plan.number_in, None, "an incomplete sale is not numbered");
    assert!(!plan.invoice.is_finalized);
    assert!(plan.history.is_none());
    assert!(matches!(
        plan.customer,
        Some(CustomerEffect::Existing { id, dues, purchased_at, name: None })
            if id == ravi.id && dues == Paise::new(7000) && purchased_at == now()
    ));

    // paid in full later (the next day): numbered in the year of the payment, dated that day
    let later = DateTime::from_millis(now().timestamp_millis() + 24 * 3600 * 1000);
    let pay = RecordPayment {
        client_id: shop(),
        invoice_id: plan.invoice.id,
        amount: Paise::new(7000),
        method: "upi".into(),
        split: None,
        note: String::new(),
        paid_at: None,
        by: cashier(),
    };
    let p = payment(&pay, &PaymentInputs { invoice: Some(&plan.invoice) }, later, &mut counter()).unwrap();
    assert_eq!(p.number_in.as_deref(), Some(time::financial_year(later).as_str()));
    assert_eq!(p.invoice.kind, KIND_INVOICE);
    assert_eq!(p.invoice.invoice_date, time::ist_date_string(later));
    assert!(p.invoice.is_finalized);
    assert_eq!(p.invoice.status, STATUS_PAID);
    assert_eq!(p.paid_before, Paise::new(4000));
    assert_eq!(p.customer, Some((ravi.id, Paise::new(-7000))));
    assert_eq!(p.history.as_ref().map(|h| (h.client_customer_id, h.total_amount)), Some((ravi.id, Paise::new(11000))));

    // a part payment of an issued invoice: no number taken, no history
    let mut issued = plan.invoice.clone();
    issued.kind = KIND_INVOICE.into();
    let part = RecordPayment { amount: Paise::new(1000), ..pay };
    let p = payment(&part, &PaymentInputs { invoice: Some(&issued) }, later, &mut counter()).unwrap();
    assert_eq!((p.number_in, p.history.is_none(), p.invoice.status.as_str()), (None, true, STATUS_PARTIAL));
}

#[test]
fn a_payment_above_what_is_due_or_on_a_settled_invoice_is_refused() {
    let bulb = item("Bulb", 5500, 20);
    let plan = World::of(&[&bulb]).decide(&products_sale(vec![(bulb.id, 2, None)], 4000)).unwrap();
    let pay = RecordPayment {
        client_id: shop(),
        invoice_id: plan.invoice.id,
        amount: Paise::new(7001),
        method: "cash".into(),
        split: None,
        note: String::new(),
        paid_at: None,
        by: cashier(),
    };
    let inputs = PaymentInputs { invoice: Some(&plan.invoice) };
    let r = payment(&pay, &inputs, now(), &mut counter()).unwrap_err();
    assert_eq!(r, Refusal::Invalid(vec!["amount: exceeds the outstanding balance 70".into()]));
    assert_eq!(r.message(), "amount: exceeds the outstanding balance 70");
    // exactly what is due: accepted
    assert!(payment(&RecordPayment { amount: Paise::new(7000), ..pay.clone() }, &inputs, now(), &mut counter()).is_ok());
    // an unknown (or another shop's) invoice
    let none = PaymentInputs { invoice: None };
    assert_eq!(payment(&pay, &none, now(), &mut counter()).unwrap_err(), Refusal::InvoiceNotFound);
    let mut foreign = plan.invoice.clone();
    foreign.client_id = ObjectId::new();
    let other = PaymentInputs { invoice: Some(&foreign) };
    assert_eq!(payment(&pay, &other, now(), &mut counter()).unwrap_err(), Refusal::InvoiceNotFound);
}

#[test]
fn a_payment_dated_before_its_invoice_is_moved_to_the_invoice_time_and_never_after_now() {
    let bulb = item("Bulb", 5500, 20);
    let plan = World::of(&[&bulb]).decide(&products_sale(vec![(bulb.id, 2, None)], 0)).unwrap();
    let hour = 3600 * 1000;
    let pay = |at: DateTime| RecordPayment {
        client_id: shop(),
        invoice_id: plan.invoice.id,
        amount: Paise::new(1000),
        method: "cash".into(),
        split: None,
        note: String::new(),
        paid_at: Some(at),
        by: cashier(),
    };
    let inputs = PaymentInputs { invoice: Some(&plan.invoice) };
    let later = DateTime::from_millis(now().timestamp_millis() + 2 * hour);
    let early = DateTime::from_millis(now().timestamp_millis() - hour);
    let p = payment(&pay(early), &inputs, later, &mut counter()).unwrap();
    assert_eq!(p.payments[0].paid_at, plan.invoice.generated_at, "moved to the invoice");
    assert_eq!(p.payments[0].device_time, Some(early), "the device's reading is kept");
    let ahead = DateTime::from_millis(later.timestamp_millis() + hour);
    let p = payment(&pay(ahead), &inputs, later, &mut counter()).unwrap();
    assert_eq!(p.payments[0].paid_at, later, "never later than the receipt time");
    let between = DateTime::from_millis(now().timestamp_millis() + hour);
    assert_eq!(payment(&pay(between), &inputs, later, &mut counter()).unwrap().payments[0].paid_at, between);
}

#[test]
fn the_customer_is_resolved_by_id_or_got_or_created_by_phone() {
    let bulb = item("Bulb", 5500, 20);
    let mut w = World::of(&[&bulb]);
    let mut cmd = products_sale(vec![(bulb.id, 1, None)], 0);
    // an id that is not a customer of the shop
    cmd.customer = CustomerRef::Id(ObjectId::new());
    let r = w.decide(&cmd).unwrap_err();
    assert_eq!(r, Refusal::Invalid(vec!["clientCustomerId: is not a customer of this shop".into()]));
    // a new phone: a new customer owing the unpaid part, the invoice names them
    cmd.customer = CustomerRef::Phone { phone: "9876543210".into(), name: Some("Asha".into()) };
    let plan = w.decide(&cmd).unwrap();
    let Some(CustomerEffect::New(c)) = &plan.customer else { panic!("expected a new customer") };
    assert_eq!((c.name.as_str(), c.outstanding_balance, c.last_purchase_at), ("Asha", Paise::new(5500), Some(now())));
    assert_eq!(plan.invoice.client_customer_id, Some(c.id));
    assert_eq!(plan.invoice.previous_balance, Paise::ZERO);
    // a known phone still named by the placeholder: the name is written (never over a real one)
    w.customer = Some(customer(PLACEHOLDER_NAME, "9876543210", 1200));
    let plan = w.decide(&cmd).unwrap();
    assert!(matches!(&plan.customer, Some(CustomerEffect::Existing { name: Some(n), .. }) if n == "Asha"));
    assert_eq!(plan.invoice.previous_balance, Paise::new(1200));
    w.customer = Some(customer("Ravi", "9876543210", 0));
    let plan = w.decide(&cmd).unwrap();
    assert!(matches!(&plan.customer, Some(CustomerEffect::Existing { name: None, .. })));
    // dues that would leave i64 paise
    w.customer = Some(customer("Ravi", "9876543210", i64::MAX));
    let r = w.decide(&cmd).unwrap_err();
    assert_eq!(r, Refusal::Invalid(vec!["clientCustomerId: the customer's dues would overflow".into()]));
}

#[test]
fn a_cart_must_be_open_and_hold_lines() {
    let bulb = item("Bulb", 5500, 20);
    let mut w = World::of(&[&bulb]);
    let id = ObjectId::new();
    let mut cmd = products_sale(vec![], 0);
    cmd.lines = LineSource::Cart(id);
    assert_eq!(w.decide(&cmd).unwrap_err(), Refusal::CartNotFound);
    let mut cart = CartDoc {
        id,
        client_id: shop(),
        client_customer_id: None,
        client_customer_phone: Some("9876543210".into()),
        status: CART_OPEN.into(),
        invoice_id: None,
        lines: vec![],
        expires_at: now(),
        created_at: now(),
        updated_at: now(),
        version: 0,
    };
    w.cart = Some(cart.clone());
    assert_eq!(w.decide(&cmd).unwrap_err(), Refusal::CartEmpty);
    cart.lines.push(CartLine {
        id: ObjectId::new(),
        item_id: bulb.id,
        item_name_snapshot: "Bulb".into(),
        unit_price_snapshot: Paise::new(5000),
        catalog_price: Paise::new(5500),
        price_overridden: true,
        quantity: 2,
        created_at: now(),
        approved_by: None,
    });
    w.cart = Some(cart.clone());
    let plan = w.decide(&cmd).unwrap();
    assert_eq!(plan.cart, Some(id));
    assert_eq!(plan.invoice.source, "cart");
    assert_eq!(plan.invoice.total_amount, Paise::new(10000), "the cart line's counter price");
    assert!(
        matches!(&plan.customer, Some(CustomerEffect::New(c)) if c.phone_number == "9876543210"),
        "the cart's customer"
    );
    cart.status = CART_INVOICED.into();
    w.cart = Some(cart);
    let r = w.decide(&cmd).unwrap_err();
    assert_eq!(r, Refusal::CartInvoiced);
    assert!(matches!(AppError::from(r), AppError::Conflict { .. }));
}

#[test]
fn totals_are_the_servers_and_full_payment_is_required_only_where_the_shop_says_so() {
    let bulb = item("Bulb", 5500, 20);
    let mut w = World::of(&[&bulb]);
    let mut cmd = products_sale(vec![(bulb.id, 2, None)], 0);
    cmd.claimed_total = Some(Paise::new(10000));
    let r = w.decide(&cmd).unwrap_err();
    assert!(
        matches!(&r, Refusal::Invalid(v) if v[0].starts_with("totalAmount: does not match the computed total 110 "))
    );
    cmd.claimed_total = Some(Paise::new(11000));
    cmd.paid = Paise::new(12000);
    assert_eq!(w.decide(&cmd).unwrap_err(), Refusal::Invalid(vec!["paidAmount: cannot exceed the total 110".into()]));
    cmd.paid = Paise::new(5000);
    w.shop.require_full_payment = true;
    assert_eq!(w.decide(&cmd).unwrap_err(), Refusal::FullPaymentRequired);
    // an incomplete sale is how such a shop records a part payment; an offline sale happened
    let incomplete = Sale { kind: KIND_INCOMPLETE, ..cmd.clone() };
    assert!(w.decide(&incomplete).is_ok());
    let offline = Sale { options: SaleOptions::offline(None, None, None), ..cmd };
    assert!(w.decide(&offline).is_ok());
}

#[test]
fn a_deactivated_item_sells_only_offline_and_is_flagged() {
    let mut bulb = item("Bulb", 5500, 20);
    bulb.is_active = false;
    let w = World::of(&[&bulb]);
    let cmd = products_sale(vec![(bulb.id, 1, None)], 0);
    let r = w.decide(&cmd).unwrap_err();
    assert_eq!(r, Refusal::Invalid(vec!["products[0].productId: is not an active item of this shop".into()]));
    let offline = Sale { options: SaleOptions::offline(Some(now()), None, Some("DEV-A-0042".into())), ..cmd.clone() };
    let plan = w.decide(&offline).unwrap();
    assert_eq!(plan.inactive, vec![bulb.id]);
    assert_eq!(plan.invoice.device_ref.as_deref(), Some("DEV-A-0042"));
    // an id that never belonged to the shop is refused offline too
    let stranger = products_sale(vec![(ObjectId::new(), 1, None)], 0);
    let stranger = Sale { options: SaleOptions::offline(Some(now()), None, None), ..stranger };
    assert!(matches!(w.decide(&stranger), Err(Refusal::Invalid(_))));
}

#[test]
fn the_decider_is_pure_same_inputs_and_ids_give_the_same_plan() {
    let bulb = item("Bulb", 5500, 20);
    let mut w = World::of(&[&bulb]);
    w.customer = Some(customer("Ravi", "9876543210", 0));
    let mut cmd = products_sale(vec![(bulb.id, 3, Some(5000))], 2000);
    cmd.customer = CustomerRef::Phone { phone: "9876543210".into(), name: None };
    let a = w.decide(&cmd).unwrap();
    let b = w.decide(&cmd).unwrap();
    let doc = |p: &SalePlan| bson::to_document(&p.invoice).unwrap_or_default();
    assert_eq!(doc(&a), doc(&b));
    assert_eq!(
        a.payments.iter().map(|p| p.id).collect::<Vec<_>>(),
        b.payments.iter().map(|p| p.id).collect::<Vec<_>>()
    );
    assert_eq!(a.changes(), b.changes());
    // every synced document the plan writes is in its change list
    assert_eq!(
        a.changes(),
        vec![
            (INVOICES, a.invoice.id, false),
            (PAYMENTS, a.payments.first().map(|p| p.id).unwrap_or_default(), false),
            (ITEMS, bulb.id, false),
            (CUSTOMERS, w.customer.as_ref().map(|c| c.id).unwrap_or_default(), false),
        ]
    );
    assert_eq!(a.number_in.as_deref(), Some(time::financial_year(now()).as_str()));
}

mod prop {
    //! The sale decider's invariants on random sales (`prop_` prefix: the fuzzing run of
    //! docs/SECURITY.md picks them up).
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn prop_a_decided_sale_adds_up_moves_its_stock_and_flags_exactly_the_lines_below_zero(
            stocks in proptest::collection::vec(-50_i64..50, 1..4),
            lines in proptest::collection::vec((0_usize..4, 1_i64..40, proptest::option::of(0_i64..100_000)), 1..6),
            tax in 0_i64..5_000,
            paid_share in 0_u8..=100,
            strict in any::<bool>(),
        ) {
            let items: Vec<ItemDoc> = stocks.iter().enumerate().map(|(i, s)| item(&format!("I{i}"), 5_000 + i as i64, *s)).collect();
            let refs: Vec<&ItemDoc> = items.iter().collect();
            let mut w = World::of(&refs);
            w.shop.allow_negative_stock = !strict;
            let picked: Vec<(ObjectId, i64, Option<i64>)> =
                lines.iter().map(|(i, q, p)| (items[i % items.len()].id, *q, *p)).collect();
            let subtotal: i64 = picked.iter().map(|(id, q, p)| q * p.unwrap_or_else(|| w.items[id].price.as_i64())).sum();
            let total = subtotal + tax;
            let paid = total * i64::from(paid_share) / 100;
            let mut cmd = products_sale(picked.clone(), paid);
            cmd.tax = Paise::new(tax);
            // the running stock of each line, as the decider must see it
            let mut level: HashMap<ObjectId, i64> = HashMap::new();
            let mut below = Vec::new();
            for (id, q, _) in &picked {
                let after = level.get(id).copied().unwrap_or(w.items[id].stock) - q;
                level.insert(*id, after);
                if after < 0 {
                    below.push(w.items[id].name.clone());
                }
            }
            match w.decide(&cmd) {
                Err(Refusal::InsufficientStock(short)) => {
                    prop_assert!(strict);
                    prop_assert_eq!(short, below);
                }
                Err(other) => prop_assert!(false, "unexpected refusal {:?}", other),
                Ok(plan) => {
                    prop_assert!(!strict || below.is_empty());
                    prop_assert_eq!(plan.invoice.total_amount, Paise::new(total));
                    prop_assert_eq!(plan.invoice.subtotal, Paise::new(subtotal));
                    prop_assert_eq!(plan.invoice.paid_amount, Paise::new(paid));
                    prop_assert_eq!(plan.invoice.is_finalized, paid == total);
                    prop_assert_eq!(plan.payments.len(), usize::from(paid > 0));
                    let moved: i64 = plan.moves.iter().map(|m| m.delta).sum();
                    prop_assert_eq!(moved, -picked.iter().map(|p| p.1).sum::<i64>());
                    prop_assert_eq!(plan.movements.len(), picked.len());
                    let flagged: Vec<String> = plan.invoice.stock_warnings.iter().map(|s| s.item_name.clone()).collect();
                    prop_assert_eq!(flagged, below);
                    for (l, (id, _, p)) in plan.invoice.products.iter().zip(&picked) {
                        prop_assert_eq!(l.price_overridden, p.is_some_and(|p| p != w.items[id].price.as_i64()));
                    }
                    prop_assert!(plan.number_in.is_some());
                }
            }
        }
    }
}

#[test]
fn the_seller_is_recorded_on_the_invoice_its_payments_and_movements() {
    let bulb = item("Bulb", 2500, 10);
    let plan = World::of(&[&bulb]).decide(&products_sale(vec![(bulb.id, 2, None)], 1000)).unwrap();
    assert_eq!(plan.invoice.billed_by, Some(cashier()));
    assert_eq!(plan.payments.first().and_then(|p| p.recorded_by.clone()), Some(cashier()));
    assert!(!plan.movements.is_empty());
    assert!(plan.movements.iter().all(|m| m.by == Some(cashier())));
    let other = crate::access::By { user_id: ObjectId::from_bytes([9; 12]), name: "Ravi".into() };
    let pay = RecordPayment {
        client_id: shop(),
        invoice_id: plan.invoice.id,
        amount: Paise::new(1000),
        method: "cash".into(),
        split: None,
        note: String::new(),
        paid_at: None,
        by: other.clone(),
    };
    let p = payment(&pay, &PaymentInputs { invoice: Some(&plan.invoice) }, now(), &mut counter()).unwrap();
    assert_eq!(p.payments[0].recorded_by, Some(other));
}

/// A cashier's rights: no counter prices, discounts up to 5 %.
fn cashier_rights() -> crate::billing::command::SellerRights {
    crate::billing::command::SellerRights {
        role: "cashier".into(),
        price_override: false,
        discount_cap_bp: Some(500),
        approved_by: None,
    }
}

#[test]
fn a_cashiers_counter_price_or_discount_above_the_cap_needs_an_approval_online_and_is_flagged_offline() {
    // Rs 55 bulb x 2 = Rs 110 subtotal; the cashier's cap is 5 % = Rs 5.50
    let bulb = item("Bulb", 5500, 20);
    let w = World::of(&[&bulb]);
    let mut at_catalog = products_sale(vec![(bulb.id, 2, None)], 0);
    at_catalog.rights = cashier_rights();
    // at the catalog price and within the cap (5.50 is exactly 5 %): nothing to approve
    at_catalog.discount = Paise::new(550);
    let plan = w.decide(&at_catalog).unwrap();
    assert!(plan.invoice.review_flags.is_empty() && plan.audit.is_none());
    // one paisa above the cap: refused online, 403 APPROVAL_REQUIRED naming the discount
    let mut over = at_catalog.clone();
    over.discount = Paise::new(551);
    match w.decide(&over) {
        Err(Refusal::ApprovalRequired(why)) => {
            assert_eq!(why, vec!["discount_over_cap: 5.51 is 5.01 % of 110.00, above the cap of 5.00 %".to_string()])
        }
        other => panic!("expected ApprovalRequired, got {other:?}"),
    }
    let err = AppError::from(Refusal::ApprovalRequired(vec!["x".into()]));
    assert_eq!(err.status(), axum::http::StatusCode::FORBIDDEN);
    // a counter price without price_override: refused online too
    let mut priced = products_sale(vec![(bulb.id, 2, Some(5000))], 0);
    priced.rights = cashier_rights();
    match w.decide(&priced) {
        Err(Refusal::ApprovalRequired(why)) => {
            assert_eq!(why, vec!["price_override: Bulb at 50.00 (catalog 55.00)".to_string()])
        }
        other => panic!("expected ApprovalRequired, got {other:?}"),
    }
    // offline (it already happened): applied, flagged on the invoice and in a flagged audit entry
    priced.options = SaleOptions::offline(None, None, None);
    priced.discount = Paise::new(1000);
    let plan = w.decide(&priced).unwrap();
    assert_eq!(plan.invoice.review_flags.len(), 2, "{:?}", plan.invoice.review_flags);
    assert_eq!(plan.invoice.total_amount, Paise::new(9000));
    let audit = plan.audit.expect("a flagged audit entry");
    assert!(audit.flagged());
    assert_eq!(audit.action(), crate::audit::Action::OfflineUnapproved);
    assert_eq!(audit.entity_id(), Some(plan.invoice.id.to_hex().as_str()));
    assert_eq!(audit.who().role, "cashier");
    // an approval of the sale: nothing refused, nothing flagged, the approver recorded
    let mut approved = products_sale(vec![(bulb.id, 2, Some(5000))], 0);
    approved.rights = cashier_rights();
    approved.discount = Paise::new(2000);
    let approver =
        crate::approval::Approver { user_id: "m1".into(), name: "Meena".into(), role: crate::access::Role::Manager };
    approved.rights.approved_by = Some(approver.clone());
    let plan = w.decide(&approved).unwrap();
    assert!(plan.invoice.review_flags.is_empty() && plan.audit.is_none());
    assert_eq!(plan.invoice.approved_by, Some(approver));
    // the owner: any price, any discount
    let mut owner = products_sale(vec![(bulb.id, 2, Some(100))], 0);
    owner.discount = Paise::new(200);
    assert!(w.decide(&owner).unwrap().invoice.review_flags.is_empty());
}

mod batches;
mod tax;
mod tender;
