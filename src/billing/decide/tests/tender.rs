//! Split payments and cash tendered (issue 17): the pure rule (`decide::tender::settle`) and
//! the sale and payment deciders that use it. Helpers from the parent test module.

use super::*;
use crate::billing::{
    command::{PartIn, Split},
    decide::tender::{self, part, settle, Settled, MULTIPLE},
};

fn split(parts: Vec<PartIn>, claimed: Option<i64>) -> Split {
    Split { parts, claimed: claimed.map(Paise::new) }
}

fn problems(r: Result<Settled, Refusal>) -> String {
    match r {
        Err(Refusal::Invalid(v)) => v.join(" | "),
        other => panic!("expected a 400, got {other:?}"),
    }
}

/// The known answer, worked by hand: a bill of 231.00 paid UPI 100.00 and cash with
/// 200.00 handed over: the cash applied is 231.00 - 100.00 = 131.00, the change 200.00 -
/// 131.00 = 69.00, the paid amount 100.00 + 131.00 = 231.00 (nothing outstanding).
#[test]
fn the_known_answer_upi_100_and_cash_tendered_200_on_231() {
    let s = settle(
        &split(vec![part("upi", Some(10_000), None), part("cash", None, Some(20_000))], None),
        Paise::new(23_100),
        "paidAmount",
    )
    .unwrap();
    assert_eq!(s.paid, Paise::new(23_100));
    assert_eq!(s.parts.len(), 2);
    assert_eq!((s.parts[0].method.as_str(), s.parts[0].amount), ("upi", Paise::new(10_000)));
    assert_eq!((s.parts[0].tendered, s.parts[0].change), (None, None));
    assert_eq!((s.parts[1].method.as_str(), s.parts[1].amount), ("cash", Paise::new(13_100)));
    assert_eq!(s.parts[1].tendered, Some(Paise::new(20_000)));
    assert_eq!(s.parts[1].change, Some(Paise::new(6_900)));
    assert_eq!(s.tender(), Some((Paise::new(20_000), Paise::new(6_900))));
    // the order of the parts does not change the figures
    let t = settle(
        &split(vec![part("cash", None, Some(20_000)), part("upi", Some(10_000), None)], None),
        Paise::new(23_100),
        "paidAmount",
    )
    .unwrap();
    assert_eq!(t.paid, s.paid);
    assert_eq!(t.tender(), s.tender());
    // less handed over than is left: all of it applies, no change, the rest is due
    let short = settle(
        &split(vec![part("upi", Some(10_000), None), part("cash", None, Some(5_000))], None),
        Paise::new(23_100),
        "x",
    )
    .unwrap();
    assert_eq!((short.paid, short.tender()), (Paise::new(15_000), Some((Paise::new(5_000), Paise::ZERO))));
}

#[test]
fn tendered_below_the_amount_is_refused_naming_the_part() {
    let r = settle(&split(vec![part("cash", Some(13_100), Some(10_000))], None), Paise::new(23_100), "paidAmount");
    assert!(problems(r).starts_with("payments[0].tendered: "));
    // equal is fine: no change
    let ok =
        settle(&split(vec![part("cash", Some(13_100), Some(13_100))], None), Paise::new(23_100), "paidAmount").unwrap();
    assert_eq!(ok.tender(), Some((Paise::new(13_100), Paise::ZERO)));
}

#[test]
fn parts_that_disagree_with_the_paid_amount_sent_beside_them_are_refused_naming_payments() {
    let parts = vec![part("upi", Some(10_000), None), part("cash", None, Some(20_000))];
    let r = settle(&split(parts.clone(), Some(20_000)), Paise::new(23_100), "paidAmount");
    let why = problems(r);
    assert!(why.starts_with("payments: ") && why.contains("paidAmount"), "{why}");
    // agreeing is accepted
    assert_eq!(settle(&split(parts, Some(23_100)), Paise::new(23_100), "paidAmount").unwrap().paid, Paise::new(23_100));
    // more than is due
    let over = settle(
        &split(vec![part("upi", Some(20_000), None), part("card", Some(3_101), None)], None),
        Paise::new(23_100),
        "x",
    );
    assert!(problems(over).starts_with("payments: "));
}

#[test]
fn a_credit_part_is_not_paid_and_documents_the_due_only() {
    let s = settle(
        &split(vec![part("upi", Some(10_000), None), part("credit", Some(13_100), None)], None),
        Paise::new(23_100),
        "x",
    )
    .unwrap();
    assert_eq!(s.paid, Paise::new(10_000));
    assert_eq!(s.parts.len(), 1, "credit is no payment document");
    // its amount is not checked against the due (it only documents the intent)
    let s = settle(&split(vec![part("credit", None, None)], None), Paise::new(23_100), "x").unwrap();
    assert_eq!((s.paid, s.parts.len()), (Paise::ZERO, 0));
}

#[test]
fn malformed_splits_are_refused_each_naming_its_field() {
    let due = Paise::new(23_100);
    let cases: Vec<(Vec<PartIn>, &str)> = vec![
        (vec![part("upi", None, None)], "payments[0].amount: "),
        (vec![part("upi", Some(100), Some(200))], "payments[0].tendered: "),
        (vec![part("credit", None, Some(200))], "payments[0].tendered: "),
        (vec![part("cash", Some(100), Some(200)), part("cash", None, Some(500))], "payments[1].tendered: "),
        // the other parts already pay it all: no cash left to apply
        (vec![part("upi", Some(23_100), None), part("cash", None, Some(500))], "payments[1].tendered: "),
    ];
    for (parts, field) in cases {
        let why = problems(settle(&split(parts.clone(), None), due, "x"));
        assert!(why.starts_with(field), "{parts:?}: {why}");
    }
}

/// A split of one part is exactly the old one-method sale: the same invoice, the same
/// payment document (the v1 app, which never sends `payments`, is unchanged).
#[test]
fn a_one_part_split_decides_exactly_like_the_v1_shape() {
    let bulb = item("Bulb", 23_100, 10);
    let w = World::of(&[&bulb]);
    let old = Sale { method: "upi".into(), ..products_sale(vec![(bulb.id, 1, None)], 23_100) };
    let mut new = products_sale(vec![(bulb.id, 1, None)], 0);
    new.split = Some(split(vec![part("upi", Some(23_100), None)], None));
    let (a, b) = (w.decide(&old).unwrap(), w.decide(&new).unwrap());
    assert_eq!(bson::to_document(&a.invoice).ok(), bson::to_document(&b.invoice).ok());
    let docs = |p: &SalePlan| p.payments.iter().map(|d| bson::to_document(d).ok()).collect::<Vec<_>>();
    assert_eq!(docs(&a), docs(&b));
    assert_eq!(a.payments.len(), 1);
    assert_eq!(a.invoice.payment_method.as_deref(), Some("upi"));
    // and the one-method payment likewise
    let pay = |split: Option<Split>, amount: i64| RecordPayment {
        client_id: shop(),
        invoice_id: a.invoice.id,
        amount: Paise::new(amount),
        method: "cash".into(),
        split,
        note: String::new(),
        paid_at: None,
        by: cashier(),
    };
    let unpaid = w.decide(&products_sale(vec![(bulb.id, 1, None)], 0)).unwrap().invoice;
    let inputs = PaymentInputs { invoice: Some(&unpaid) };
    let p = |c: RecordPayment| payment(&RecordPayment { invoice_id: unpaid.id, ..c }, &inputs, now(), &mut counter());
    let (x, y) =
        (p(pay(None, 5_000)).unwrap(), p(pay(Some(split(vec![part("cash", Some(5_000), None)], None)), 0)).unwrap());
    assert_eq!(bson::to_document(&x.invoice).ok(), bson::to_document(&y.invoice).ok());
    assert_eq!(
        x.payments.iter().map(|d| bson::to_document(d).ok()).collect::<Vec<_>>(),
        y.payments.iter().map(|d| bson::to_document(d).ok()).collect::<Vec<_>>()
    );
}

/// The known answer through the sale decider: two payment documents (upi 100.00; cash
/// 131.00 with tendered 200.00, change 69.00), the invoice Paid with `Multiple`, the
/// customer's dues unchanged, and all in the change list.
#[test]
fn a_split_sale_records_one_payment_per_part_and_is_paid_in_full() {
    let item_231 = item("Kettle", 23_100, 10);
    let mut w = World::of(&[&item_231]);
    w.customer = Some(customer("Ravi", "9876543210", 0));
    let mut cmd = products_sale(vec![(item_231.id, 1, None)], 0);
    cmd.customer = CustomerRef::Phone { phone: "9876543210".into(), name: None };
    cmd.split = Some(split(
        vec![
            PartIn { reference: Some("UPI-4411".into()), ..part("upi", Some(10_000), None) },
            part("cash", None, Some(20_000)),
            part("credit", None, None),
        ],
        None,
    ));
    let plan = w.decide(&cmd).unwrap();
    assert_eq!(plan.invoice.paid_amount, Paise::new(23_100));
    assert_eq!(plan.invoice.status, STATUS_PAID);
    assert!(plan.invoice.is_finalized);
    assert_eq!(plan.invoice.payment_method.as_deref(), Some(MULTIPLE));
    assert_eq!(plan.invoice.tender, Some((Paise::new(20_000), Paise::new(6_900))));
    let got: Vec<_> = plan
        .payments
        .iter()
        .map(|p| (p.method.as_str(), p.amount.as_i64(), p.reference.as_deref(), p.tendered, p.change))
        .collect();
    assert_eq!(
        got,
        vec![
            ("upi", 10_000, Some("UPI-4411"), None, None),
            ("cash", 13_100, None, Some(Paise::new(20_000)), Some(Paise::new(6_900))),
        ]
    );
    assert!(matches!(plan.customer, Some(CustomerEffect::Existing { dues, .. }) if dues == Paise::ZERO));
    for p in &plan.payments {
        assert!(plan.changes().contains(&(PAYMENTS, p.id, false)));
    }
    // a shop requiring full payment refuses the part paid by a short cash tender
    let mut strict = World::of(&[&item_231]);
    strict.shop.require_full_payment = true;
    let mut short = products_sale(vec![(item_231.id, 1, None)], 0);
    short.split = Some(split(vec![part("upi", Some(10_000), None), part("cash", None, Some(5_000))], None));
    assert!(matches!(strict.decide(&short), Err(Refusal::FullPaymentRequired)));
    // a paidAmount that disagrees is refused naming payments
    let mut wrong = cmd.clone();
    wrong.split = Some(Split { claimed: Some(Paise::new(20_000)), ..cmd.split.clone().unwrap() });
    assert!(matches!(w.decide(&wrong), Err(Refusal::Invalid(v)) if v[0].starts_with("payments: ")));
}

#[test]
fn a_split_payment_on_an_invoice_records_each_part_and_keeps_the_method_summary() {
    let bulb = item("Bulb", 23_100, 10);
    let mut w = World::of(&[&bulb]);
    w.customer = Some(customer("Ravi", "9876543210", 0));
    let mut sale_cmd = products_sale(vec![(bulb.id, 1, None)], 3_100);
    sale_cmd.customer = CustomerRef::Phone { phone: "9876543210".into(), name: None };
    let inv = w.decide(&sale_cmd).unwrap().invoice;
    assert_eq!(inv.payment_method.as_deref(), Some("cash"));
    let pay = RecordPayment {
        client_id: shop(),
        invoice_id: inv.id,
        amount: Paise::ZERO,
        method: "cash".into(),
        split: Some(split(vec![part("upi", Some(5_000), None), part("cash", None, Some(20_000))], None)),
        note: String::new(),
        paid_at: None,
        by: cashier(),
    };
    let p = payment(&pay, &PaymentInputs { invoice: Some(&inv) }, now(), &mut counter()).unwrap();
    // due 200.00: upi 50.00, cash applied 150.00 of 200.00 handed over, change 50.00
    let got: Vec<_> = p.payments.iter().map(|d| (d.method.as_str(), d.amount.as_i64(), d.change)).collect();
    assert_eq!(got, vec![("upi", 5_000, None), ("cash", 15_000, Some(Paise::new(5_000)))]);
    assert_eq!(p.invoice.paid_amount, Paise::new(23_100));
    assert!(p.invoice.is_finalized);
    assert_eq!(p.invoice.payment_method.as_deref(), Some(MULTIPLE));
    assert_eq!(p.customer.map(|c| c.1), Some(Paise::new(-20_000)));
    // only credit: nothing to record
    let nothing = RecordPayment { split: Some(split(vec![part("credit", None, None)], None)), ..pay.clone() };
    assert!(
        matches!(payment(&nothing, &PaymentInputs { invoice: Some(&inv) }, now(), &mut counter()), Err(Refusal::Invalid(v)) if v[0].starts_with("payments: "))
    );
    // more than is due
    let over = RecordPayment { split: Some(split(vec![part("upi", Some(20_001), None)], None)), ..pay };
    assert!(
        matches!(payment(&over, &PaymentInputs { invoice: Some(&inv) }, now(), &mut counter()), Err(Refusal::Invalid(v)) if v[0].starts_with("payments: "))
    );
}

#[test]
fn the_method_summary_is_the_one_method_or_multiple_and_unknown_for_older_invoices() {
    let parts = |ms: &[&str]| -> Vec<tender::Part> {
        ms.iter()
            .map(|m| tender::Part {
                method: m.to_string(),
                amount: Paise::new(100),
                reference: None,
                tendered: None,
                change: None,
            })
            .collect()
    };
    assert_eq!(tender::method_summary(None, Paise::ZERO, &[]), None);
    assert_eq!(tender::method_summary(None, Paise::ZERO, &parts(&["upi", "upi"])).as_deref(), Some("upi"));
    assert_eq!(tender::method_summary(None, Paise::ZERO, &parts(&["upi", "cash"])).as_deref(), Some(MULTIPLE));
    assert_eq!(tender::method_summary(Some("upi"), Paise::new(100), &parts(&["upi"])).as_deref(), Some("upi"));
    assert_eq!(tender::method_summary(Some("upi"), Paise::new(100), &parts(&["card"])).as_deref(), Some(MULTIPLE));
    assert_eq!(tender::method_summary(Some(MULTIPLE), Paise::new(100), &parts(&["upi"])).as_deref(), Some(MULTIPLE));
    // paid before the summary was kept: its methods are not known, none is invented
    assert_eq!(tender::method_summary(None, Paise::new(100), &parts(&["upi"])), None);
}

mod prop {
    //! The settle rule's invariants on random splits (`prop_` prefix: the fuzzing run picks
    //! them up).
    use proptest::prelude::*;

    use super::*;

    fn a_part() -> impl Strategy<Value = PartIn> {
        (
            proptest::sample::select(vec!["cash", "upi", "card", "bank", "cheque", "other", "credit"]),
            proptest::option::of(1_i64..50_000),
            proptest::option::of(1_i64..60_000),
        )
            .prop_map(|(m, a, t)| part(m, a, t))
    }

    proptest! {
        #[test]
        fn prop_settled_parts_add_up_stay_within_the_due_and_give_change_from_the_tender(
            parts in proptest::collection::vec(a_part(), 1..5),
            due in 1_i64..150_000,
            claimed in proptest::option::of(0_i64..150_000),
        ) {
            let sp = split(parts.clone(), claimed);
            match settle(&sp, Paise::new(due), "paidAmount") {
                Ok(s) => {
                    prop_assert_eq!(Paise::checked_sum(s.parts.iter().map(|p| p.amount)), Some(s.paid));
                    prop_assert!(s.paid <= Paise::new(due));
                    if let Some(c) = claimed {
                        prop_assert_eq!(s.paid, Paise::new(c));
                    }
                    prop_assert_eq!(s.parts.len(), parts.iter().filter(|p| p.method != "credit").count());
                    for (p, sent) in s.parts.iter().zip(parts.iter().filter(|p| p.method != "credit")) {
                        prop_assert!(p.amount.is_positive());
                        prop_assert_ne!(p.method.as_str(), "credit");
                        if let Some(a) = sent.amount {
                            prop_assert_eq!(p.amount, a);
                        }
                        match p.tendered {
                            Some(t) => {
                                prop_assert_eq!(p.method.as_str(), "cash");
                                prop_assert_eq!(p.change, t.checked_sub(p.amount));
                                prop_assert!(!p.change.unwrap_or_default().is_negative());
                            }
                            None => prop_assert_eq!(p.change, None),
                        }
                    }
                }
                Err(Refusal::Invalid(v)) => prop_assert!(v.iter().all(|m| m.starts_with("payments"))),
                Err(other) => prop_assert!(false, "unexpected refusal {:?}", other),
            }
        }
    }
}
