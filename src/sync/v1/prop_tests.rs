//! Property tests of the v1 `POST /api/sync` batch parsing (`prop_` prefix; long run:
//! docs/SECURITY.md, "Fuzzing"): the body goes through `from_value::<V1Batch>` (400 on a
//! wrong shape) and `plan` (400 naming the field), exactly as the handler does. Neither may
//! panic, a valid batch is planned in full, and what is planned is what `run` may trust.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::{
    arb,
    billing::rules::{MAX_INVOICE_LINES, MAX_QUANTITY},
    catalog::model::UNITS,
    extract::from_value,
};

const MAX_PAISE: i64 = crate::money::MAX_RUPEES * 100;

fn money(max: i64) -> impl Strategy<Value = i64> {
    0..=max
}

fn rupees(p: i64) -> Value {
    serde_json::to_value(Paise::new(p)).unwrap_or(Value::Null)
}

fn hex_id() -> impl Strategy<Value = String> {
    "[0-9a-f]{24}"
}

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9 ]{0,30}[a-z]"
}

fn recent_time() -> impl Strategy<Value = String> {
    (0i64..29 * 86_400).prop_map(|age| (chrono::Utc::now() - chrono::Duration::seconds(age)).to_rfc3339())
}

fn invoice() -> impl Strategy<Value = Value> {
    let line = (prop::option::of(hex_id()), name(), 1..=1000i64, money(1_000_000));
    (prop::collection::vec(line, 1..5), 0u8..=100, prop::option::of("[6-9][0-9]{9}"), prop::option::of(recent_time()))
        .prop_map(|(lines, pct, phone, at)| {
            let subtotal: i64 = lines.iter().map(|l| l.2 * l.3).sum();
            let products: Vec<Value> = lines
                .into_iter()
                .map(|(id, n, q, c)| json!({ "productId": id, "itemName": n, "quantity": q, "costPerUnit": rupees(c) }))
                .collect();
            json!({ "products": products, "paidAmount": rupees(subtotal / 100 * i64::from(pct)),
                "clientCustomerPhone": phone, "deviceTime": at })
        })
}

/// A valid batch and the number of steps it must plan.
fn valid_batch() -> impl Strategy<Value = (Value, usize)> {
    let create = (name(), money(10_000_000), 0i64..1000, prop::sample::select(UNITS))
        .prop_map(|(n, p, s, u)| json!({ "name": n, "price": rupees(p), "stock": s, "unit": u }));
    let update = (hex_id(), prop::option::of(name()), prop::option::of(money(10_000_000)))
        .prop_map(|(id, n, p)| json!({ "_id": id, "name": n, "price": p.map(rupees) }));
    let payment = (
        hex_id(),
        1i64..10_000_000,
        prop::sample::select(crate::billing::model::METHODS),
        prop::option::of(recent_time()),
    )
        .prop_map(|(id, a, m, t)| json!({ "invoiceId": id, "amount": rupees(a), "method": m, "paidAt": t }));
    (
        prop::collection::vec(create, 0..3),
        prop::collection::vec(update, 0..3),
        prop::collection::vec(hex_id(), 0..3),
        prop::collection::vec(invoice(), 0..3),
        prop::collection::vec(payment, 0..3),
    )
        .prop_map(|(c, u, d, i, p)| {
            let n = c.len() + u.len() + d.len() + i.len() + p.len();
            (json!({ "item": { "create": c, "update": u, "delete": d }, "invoice": { "create": i }, "payment": { "create": p } }), n)
        })
}

fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(
            &[
                "-9223372036854775808",
                "9223372036854775807",
                "-1",
                "0",
                "1.005",
                "1e400",
                "-0",
                "0.1",
                "1000000000000",
                "999999999999.99",
                "1000000",
                "\"\"",
                "\" \"",
                "null",
                "[]",
                "{}",
                "\"12\"",
            ][..]
        )
        .prop_map(|t| serde_json::from_str(t).unwrap_or(Value::Null)),
        arb::json(),
    ]
}

/// Set `key` of one element (chosen by `pick`) of the list at `list` to `v`.
fn mutate(batch: &mut Value, list: &str, pick: usize, key: &str, v: Value) {
    let Some(arr) = batch.pointer_mut(list).and_then(Value::as_array_mut) else { return };
    if arr.is_empty() {
        return;
    }
    let n = arr.len();
    let el = &mut arr[pick % n];
    if let Some(line_key) = key.strip_prefix("line.") {
        if let Some(l) = el.pointer_mut("/products/0").and_then(Value::as_object_mut) {
            l.insert(line_key.to_string(), v);
        }
    } else if let Some(o) = el.as_object_mut() {
        o.insert(key.to_string(), v);
    } else {
        *el = v;
    }
}

/// What `run` relies on for a planned step.
fn check_step(s: &Step) -> Result<(), String> {
    let ok = match s {
        Step::Forbidden { .. } => false,
        Step::ItemCreate(c) => {
            let n = &c.item;
            !n.price.is_negative()
                && n.stock >= 0
                && n.low_stock_quantity >= 0
                && (2..=200).contains(&n.name.chars().count())
                && UNITS.contains(&n.unit.as_str())
        }
        Step::ItemUpdate(u) => u.patch.price.is_none_or(|p| !p.is_negative()),
        Step::ItemDelete(_) => true,
        Step::Invoice(lines, sale) => {
            let subtotal: i128 = lines.iter().map(|l| i128::from(l.3.as_i64()) * i128::from(l.2)).sum();
            // a total is claimed only when the entry sent one (issue 17: with a GST profile the
            // server computes the tax); without one it is the lines' sum
            let computed = subtotal + i128::from(sale.tax.as_i64()) - i128::from(sale.discount.as_i64());
            let total = sale.claimed_total.map(|t| i128::from(t.as_i64())).unwrap_or(computed);
            (1..=MAX_INVOICE_LINES).contains(&lines.len())
                && lines.iter().all(|l| (1..=MAX_QUANTITY).contains(&l.2) && !l.3.is_negative())
                && !sale.tax.is_negative()
                && !sale.discount.is_negative()
                && !sale.paid.is_negative()
                && total >= 0
                && i128::from(sale.paid.as_i64()) <= total
                && computed == total
        }
        Step::Pay(p) => p.amount.is_positive() && crate::billing::model::METHODS.contains(&p.method.as_str()),
    };
    if ok {
        Ok(())
    } else {
        Err("planned a step that run cannot trust".to_string())
    }
}

/// The handler's parsing: shape (400) then plan (400); `Ok(n)` = steps planned.
fn check(body: Value) -> Result<Option<usize>, TestCaseError> {
    let batch: V1Batch = match from_value(body) {
        Ok(b) => b,
        Err(AppError::Validation(v)) => {
            prop_assert!(!v.is_empty());
            return Ok(None);
        }
        Err(e) => return Err(TestCaseError::fail(format!("shape error is not a 400: {e:?}"))),
    };
    match plan(ObjectId::new(), &crate::access::Actor::owner(ObjectId::new(), "Owner"), &batch) {
        Ok(steps) => {
            for s in &steps {
                check_step(s).map_err(TestCaseError::fail)?;
            }
            Ok(Some(steps.len()))
        }
        Err(AppError::Validation(v)) => {
            prop_assert!(!v.is_empty());
            Ok(None)
        }
        Err(e) => Err(TestCaseError::fail(format!("plan error is not a 400: {e:?}"))),
    }
}

proptest! {
    #![proptest_config(arb::config(128))]

    #[test]
    fn prop_sync_v1_arbitrary_json_never_panics(body in arb::json()) {
        check(body)?;
    }

    /// Random values inside the batch's own structure reach `plan`.
    #[test]
    fn prop_sync_v1_random_elements_never_panic(
        c in prop::collection::vec(arb::json(), 0..3),
        u in prop::collection::vec(arb::json(), 0..3),
        d in prop::collection::vec(arb::json(), 0..3),
        i in prop::collection::vec(arb::json(), 0..3),
        p in prop::collection::vec(arb::json(), 0..3),
    ) {
        check(json!({ "item": { "create": c, "update": u, "delete": d }, "invoice": { "create": i }, "payment": { "create": p } }))?;
    }

    #[test]
    fn prop_sync_v1_valid_batches_are_planned_in_full((body, n) in valid_batch()) {
        let planned = check(body.clone())?;
        prop_assert_eq!(planned, Some(n), "{}", body);
    }

    #[test]
    fn prop_sync_v1_mutated_batches_never_panic(
        (mut body, _) in valid_batch(),
        muts in prop::collection::vec((
            prop::sample::select(&["/item/create", "/item/update", "/item/delete", "/invoice/create", "/payment/create"][..]),
            0usize..3,
            prop_oneof![
                prop::sample::select(arb::KEYS).prop_map(str::to_string),
                prop::sample::select(&["line.quantity", "line.costPerUnit", "line.productId", "line.itemName"][..]).prop_map(str::to_string),
            ],
            hostile_value(),
        ), 1..3),
    ) {
        for (list, pick, key, v) in muts {
            mutate(&mut body, list, pick, &key, v);
        }
        check(body)?;
    }
}

#[test]
fn a_line_total_past_i64_is_refused_not_wrapped_to_zero() {
    let body = json!({ "invoice": { "create": [{ "products": [
        { "itemName": "Big", "quantity": MAX_QUANTITY, "costPerUnit": rupees(MAX_PAISE) }
    ] }] } });
    let batch: V1Batch = from_value(body).map_err(|e| format!("{e:?}")).unwrap_or_default();
    assert!(matches!(
        plan(ObjectId::new(), &crate::access::Actor::owner(ObjectId::new(), "Owner"), &batch),
        Err(AppError::Validation(_))
    ));
}
