//! FEFO selection, worked by hand.

use super::*;

fn d(s: &str) -> NaiveDate {
    crate::time::parse_date(s).unwrap_or_default()
}

fn lot(no: &str, expiry: &str, qty: i64) -> BatchDoc {
    let now = DateTime::from_millis(0);
    BatchDoc {
        id: ObjectId::new(),
        client_id: ObjectId::new(),
        item_id: ObjectId::new(),
        batch_no: no.into(),
        batch_key: batch_key(no),
        expiry_date: expiry.into(),
        quantity: qty,
        mrp: None,
        created_at: now,
        updated_at: now,
        by: None,
    }
}

fn left(lots: &[BatchDoc]) -> Vec<i64> {
    lots.iter().map(|l| l.quantity).collect()
}

/// Names and units of a choice, for readable asserts.
fn named(lots: &[BatchDoc], c: &Chosen) -> Vec<(String, i64)> {
    c.taken.iter().map(|(i, q)| (lots[*i].batch_no.clone(), *q)).collect()
}

#[test]
fn first_expiring_first_out_across_lots() {
    // stored out of order: B expires first, then A, then C
    let lots = vec![lot("A", "2026-12-31", 5), lot("B", "2026-11-30", 3), lot("C", "2027-06-30", 10)];
    let c = fefo(&lots, &left(&lots), 10, d("2026-11-01"), None, false).unwrap();
    assert_eq!(named(&lots, &c), vec![("B".into(), 3), ("A".into(), 5), ("C".into(), 2)]);
    assert_eq!(c.unbatched, 0);
}

#[test]
fn expired_lots_are_never_picked_and_the_rest_is_unbatched() {
    let lots = vec![lot("OLD", "2026-10-19", 50), lot("OK", "2026-10-20", 2)];
    // billed on the 20th: OLD expired the day before; OK is sellable on its expiry day
    for allow in [false, true] {
        let c = fefo(&lots, &left(&lots), 5, d("2026-10-20"), None, allow).unwrap();
        assert_eq!(named(&lots, &c), vec![("OK".into(), 2)], "allowExpiredSale={allow}");
        assert_eq!(c.unbatched, 3);
    }
}

#[test]
fn the_bill_date_decides_not_the_sync_date() {
    // an offline bill of 20 October synced on 31 October takes the lot it took on the 20th
    let lots = vec![lot("OCT25", "2026-10-25", 4), lot("DEC", "2026-12-31", 10)];
    let on_20th = fefo(&lots, &left(&lots), 3, d("2026-10-20"), None, false).unwrap();
    assert_eq!(named(&lots, &on_20th), vec![("OCT25".into(), 3)]);
    let on_31st = fefo(&lots, &left(&lots), 3, d("2026-10-31"), None, false).unwrap();
    assert_eq!(named(&lots, &on_31st), vec![("DEC".into(), 3)]);
}

#[test]
fn a_named_batch_goes_first_case_insensitively() {
    let lots = vec![lot("b-1", "2026-11-30", 3), lot("B-2", "2027-01-31", 2)];
    let c = fefo(&lots, &left(&lots), 4, d("2026-11-01"), Some(" b-2 "), false).unwrap();
    assert_eq!(named(&lots, &c), vec![("B-2".into(), 2), ("b-1".into(), 2)]);
    assert_eq!(c.unbatched, 0);
}

#[test]
fn a_named_expired_batch_is_refused_unless_allowed() {
    let lots = vec![lot("X", "2026-10-01", 3)];
    let refused = fefo(&lots, &left(&lots), 1, d("2026-10-02"), Some("x"), false);
    assert_eq!(refused, Err(Pick::Expired { batch_no: "X".into(), expiry_date: "2026-10-01".into() }));
    let allowed = fefo(&lots, &left(&lots), 1, d("2026-10-02"), Some("x"), true).unwrap();
    assert_eq!(named(&lots, &allowed), vec![("X".into(), 1)]);
}

#[test]
fn an_unknown_named_batch_is_refused() {
    let lots = vec![lot("X", "2027-10-01", 3)];
    assert_eq!(fefo(&lots, &left(&lots), 1, d("2026-10-02"), Some("Y"), true), Err(Pick::NotFound("Y".into())));
    assert_eq!(fefo(&[], &[], 1, d("2026-10-02"), Some("Y"), true), Err(Pick::NotFound("Y".into())));
}

#[test]
fn lines_of_one_bill_share_what_is_left() {
    let lots = vec![lot("A", "2026-11-30", 3), lot("B", "2026-12-31", 3)];
    let mut rest = left(&lots);
    for (qty, want) in [(2, vec![("A".to_string(), 2)]), (2, vec![("A".into(), 1), ("B".into(), 1)])] {
        let c = fefo(&lots, &rest, qty, d("2026-11-01"), None, false).unwrap();
        assert_eq!(named(&lots, &c), want);
        for (i, q) in &c.taken {
            rest[*i] -= q;
        }
    }
    assert_eq!(rest, vec![0, 2]);
}

/// Generalising: for any lots and quantity, FEFO never takes from an expired or empty lot,
/// never more than a lot holds, takes exactly the quantity (batched + unbatched), and only
/// leaves units unbatched when every sellable lot is exhausted; the lots taken are in
/// expiry order.
#[test]
fn fefo_invariants_hold_for_generated_cases() {
    use proptest::prelude::*;
    let mut runner = proptest::test_runner::TestRunner::default();
    let strat = (proptest::collection::vec((0u32..60, 0i64..8), 0..6), 0i64..30, 0u32..60);
    runner
        .run(&strat, |(spec, qty, bill)| {
            let base = d("2026-10-01");
            let lots: Vec<BatchDoc> = spec
                .iter()
                .enumerate()
                .map(|(i, (days, q))| {
                    let e = base + chrono::Duration::days(i64::from(*days));
                    lot(&format!("L{i}"), &e.format("%Y-%m-%d").to_string(), *q)
                })
                .collect();
            let bill_date = base + chrono::Duration::days(i64::from(bill));
            let c = fefo(&lots, &left(&lots), qty, bill_date, None, false).unwrap();
            let batched: i64 = c.taken.iter().map(|(_, q)| q).sum();
            prop_assert_eq!(batched + c.unbatched, qty);
            let mut last = None;
            for (i, q) in &c.taken {
                let l = &lots[*i];
                prop_assert!(l.expiry().unwrap() >= bill_date, "expired lot taken");
                prop_assert!(*q > 0 && *q <= l.quantity);
                prop_assert!(last.is_none_or(|e| e <= l.expiry().unwrap()), "not in expiry order");
                last = l.expiry();
            }
            let sellable: i64 = lots.iter().filter(|l| l.expiry().unwrap() >= bill_date).map(|l| l.quantity).sum();
            prop_assert_eq!(c.unbatched, (qty - sellable).max(0));
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_return_goes_back_into_a_lot_even_when_expired() {
    let lots = vec![lot("GONE", "2020-01-31", 0)];
    assert_eq!(put_back(&lots, "gone", 4), Some((lots[0].id, 4)));
    assert_eq!(put_back(&lots, "other", 4), None);
}
