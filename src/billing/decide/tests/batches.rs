//! The sale decider with lots (issue 16): first-expiring-first-out by the bill's date, named
//! batches, a lot's MRP. Helpers from the parent test module.

use super::*;

fn lot(item: &ItemDoc, no: &str, expiry: &str, qty: i64, mrp: Option<i64>) -> crate::catalog::batch::BatchDoc {
    crate::catalog::batch::BatchDoc {
        id: ObjectId::new(),
        client_id: shop(),
        item_id: item.id,
        batch_no: no.into(),
        batch_key: crate::catalog::batch::batch_key(no),
        expiry_date: expiry.into(),
        quantity: qty,
        mrp,
        created_at: now(),
        updated_at: now(),
        by: None,
    }
}

/// A sale of a hasExpiry item: its line records the lots taken first-expiring-first-out
/// (the expired lot skipped, the rest unbatched), the plan decrements each lot once and
/// logs it for the pull; the same sale dated earlier offline takes the lot good that day.
#[test]
fn a_sale_allocates_lots_by_the_bills_date_and_plans_their_decrements() {
    let mut syrup = item("Syrup", 1000, 20);
    syrup.details.has_expiry = true;
    let mut w = World::of(&[&syrup]);
    let (gone, soon, late) = (
        lot(&syrup, "GONE", "2026-11-20", 5, None),
        lot(&syrup, "SOON", "2026-12-05", 2, None),
        lot(&syrup, "LATE", "2027-03-31", 3, None),
    );
    w.lots.by_item.insert(syrup.id, vec![late.clone(), gone.clone(), soon.clone()]);
    let plan = w.decide(&products_sale(vec![(syrup.id, 6, None)], 6000)).unwrap();
    let got: Vec<(Option<String>, i64)> =
        plan.invoice.products[0].allocations.iter().map(|a| (a.batch_no.clone(), a.quantity)).collect();
    assert_eq!(got, vec![(Some("SOON".into()), 2), (Some("LATE".into()), 3), (None, 1)]);
    let takes: Vec<(ObjectId, i64)> = plan.batch_takes.iter().map(|t| (t.batch, t.quantity)).collect();
    assert_eq!(takes, vec![(soon.id, 2), (late.id, 3)]);
    assert!(plan.changes().contains(&(crate::changelog::BATCHES, soon.id, false)));
    assert_eq!(plan.moves[0].delta, -6, "the item's stock moves by the whole line");

    // offline, billed on 19 November (before GONE expired): GONE first
    let mut cmd = products_sale(vec![(syrup.id, 6, None)], 6000);
    let sold = DateTime::parse_rfc3339_str("2026-11-19T06:30:00Z").unwrap_or(DateTime::MAX);
    cmd.options = SaleOptions::offline(Some(sold), None, None);
    let plan = w.decide(&cmd).unwrap();
    let got: Vec<(Option<String>, i64)> =
        plan.invoice.products[0].allocations.iter().map(|a| (a.batch_no.clone(), a.quantity)).collect();
    assert_eq!(got, vec![(Some("GONE".into()), 5), (Some("SOON".into()), 1)]);
}

/// Named batches: expired refused (BATCH_EXPIRED, the line named) unless the shop allows it,
/// unknown refused (BATCH_NOT_FOUND); a lot whose own MRP is below the price is refused
/// (MRP_EXCEEDED); two lines of one bill share a lot's quantity.
#[test]
fn named_batches_and_batch_mrp_are_judged_per_line() {
    let mut drops = item("Drops", 1000, 20);
    drops.details.has_expiry = true;
    let mut w = World::of(&[&drops]);
    let old = lot(&drops, "OLD", "2026-11-01", 5, None);
    let cheap = lot(&drops, "CHEAP", "2026-12-01", 2, Some(900));
    let good = lot(&drops, "GOOD", "2027-01-01", 3, None);
    w.lots.by_item.insert(drops.id, vec![old.clone(), cheap.clone(), good.clone()]);
    let named = |b: &str| {
        let mut s = products_sale(vec![(drops.id, 1, Some(800))], 800);
        s.batch_nos = vec![Some(b.to_string())];
        s
    };
    let r = w.decide(&named("old")).unwrap_err();
    assert_eq!(
        r,
        Refusal::BatchExpired {
            line: "products[0].batchNo".into(),
            batch_no: "OLD".into(),
            expiry_date: "2026-11-01".into()
        }
    );
    assert_eq!(AppError::from(r).code(), crate::catalog::batch::BATCH_EXPIRED);
    assert!(matches!(w.decide(&named("NONE")), Err(Refusal::BatchNotFound { .. })));
    w.lots.allow_expired = true;
    let plan = w.decide(&named("old")).unwrap();
    assert_eq!(plan.batch_takes.iter().map(|t| (t.batch, t.quantity)).collect::<Vec<_>>(), vec![(old.id, 1)]);

    // at Rs 10 the automatic pick of CHEAP (MRP Rs 9) is refused; named GOOD passes
    let dear = products_sale(vec![(drops.id, 1, None)], 1000);
    assert!(matches!(w.decide(&dear), Err(Refusal::MrpExceeded { .. })));
    let mut good_one = dear.clone();
    good_one.batch_nos = vec![Some("good".into())];
    assert!(w.decide(&good_one).is_ok());

    // two lines share CHEAP's 2 units: 1 + 1, then GOOD
    let two = products_sale(vec![(drops.id, 1, Some(800)), (drops.id, 2, Some(800))], 2400);
    let plan = w.decide(&two).unwrap();
    let takes: Vec<(ObjectId, i64)> = plan.batch_takes.iter().map(|t| (t.batch, t.quantity)).collect();
    assert_eq!(takes, vec![(cheap.id, 2), (good.id, 1)]);
}
