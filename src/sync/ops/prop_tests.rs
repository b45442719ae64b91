//! Property tests of the v2 push parser (`prop_` prefix; long run: docs/SECURITY.md, "Fuzzing").
//! Arbitrary JSON, and valid operations with one field mutated: parsing never panics, every
//! element is a 400/413 for the whole push or an `Op` whose action is accepted or refused,
//! and whatever is accepted satisfies what the apply code relies on.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::*;
use crate::{
    arb,
    billing::{
        model::METHODS,
        rules::{MAX_INVOICE_LINES, MAX_QUANTITY},
    },
    catalog::model::UNITS,
    validate::normalize_phone,
};

fn uuid() -> impl Strategy<Value = String> {
    any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).hyphenated().to_string())
}

fn hex_id() -> impl Strategy<Value = String> {
    "[0-9a-f]{24}"
}

/// A server id or the opId of an earlier operation, under the given field names.
fn reference(id_field: &'static str, op_field: &'static str) -> impl Strategy<Value = (String, Value)> {
    prop_oneof![
        hex_id().prop_map(move |h| (id_field.to_string(), json!(h))),
        uuid().prop_map(move |u| (op_field.to_string(), json!(u))),
    ]
}

fn money(max: i64) -> impl Strategy<Value = Value> {
    (0..=max).prop_map(|p| serde_json::to_value(Paise::new(p)).unwrap_or(Value::Null))
}

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9 ]{0,30}[a-z]"
}

fn recent_time() -> impl Strategy<Value = String> {
    // within the accepted window: up to 29 days old
    (0i64..29 * 86_400).prop_map(|age| (chrono::Utc::now() - chrono::Duration::seconds(age)).to_rfc3339())
}

fn obj(pairs: Vec<(String, Value)>) -> Value {
    Value::Object(pairs.into_iter().collect::<Map<_, _>>())
}

/// A valid `(entity, kind, payload, needs deviceTime)`.
fn valid_action() -> impl Strategy<Value = (&'static str, &'static str, Value)> {
    let item_create = (name(), money(10_000_000), 0i64..=MAX_QUANTITY, prop::sample::select(UNITS), 0i64..100)
        .prop_map(|(n, price, stock, unit, low)| {
            (
                "item",
                "create",
                json!({ "name": n, "price": price, "stock": stock, "unit": unit, "lowStockQuantity": low }),
            )
        });
    let item_update = (
        reference("id", "itemOpId"),
        prop_oneof![
            name().prop_map(|n| ("name", json!(n))),
            money(10_000_000).prop_map(|p| ("price", p)),
            (1..=MAX_QUANTITY, any::<bool>()).prop_map(|(d, neg)| ("stockDelta", json!(if neg { -d } else { d }))),
        ],
    )
        .prop_map(|((k, v), (f, x))| ("item", "update", obj(vec![(k, v), (f.to_string(), x)])));
    let item_delete = reference("id", "itemOpId").prop_map(|(k, v)| ("item", "delete", obj(vec![(k, v)])));
    let customer_create = ("[6-9][0-9]{9}", prop::option::of(name()))
        .prop_map(|(p, n)| ("customer", "create", json!({ "phoneNumber": format!("+91 {p}"), "name": n })));
    let customer_update = (reference("id", "customerOpId"), name())
        .prop_map(|((k, v), n)| ("customer", "update", obj(vec![(k, v), ("name".into(), json!(n))])));
    let customer_delete = reference("id", "customerOpId").prop_map(|(k, v)| ("customer", "delete", obj(vec![(k, v)])));
    let line = (reference("productId", "productOpId"), 1..=MAX_QUANTITY, prop::option::of(money(1_000_000)))
        .prop_map(|((k, v), q, c)| obj(vec![(k, v), ("quantity".into(), json!(q)), ("costPerUnit".into(), json!(c))]));
    let invoice = (
        prop::collection::vec(line, 1..5),
        money(1_000_000),
        prop::sample::select(METHODS),
        prop::option::of("[6-9][0-9]{9}"),
    )
        .prop_map(|(lines, paid, m, phone)| {
            (
                "invoice",
                "create",
                json!({ "products": lines, "paidAmount": paid, "method": m, "clientCustomerPhone": phone }),
            )
        });
    let payment = (reference("invoiceId", "invoiceOpId"), 1i64..10_000_000, prop::sample::select(METHODS)).prop_map(
        |((k, v), a, m)| {
            (
                "payment",
                "create",
                obj(vec![(k, v), ("amount".into(), json!(Paise::new(a))), ("method".into(), json!(m))]),
            )
        },
    );
    // issue 18: a cancel (with or without a refund) and a credit note (lines or an amount)
    let cancel = (reference("invoiceId", "invoiceOpId"), name(), prop::option::of(prop::sample::select(METHODS)))
        .prop_map(|((k, v), reason, m)| {
            let mut p = obj(vec![(k, v), ("reason".into(), json!(reason))]);
            if let Some(m) = m {
                p["refund"] = json!({ "method": m });
            }
            ("invoice", "cancel", p)
        });
    let return_line = (0i64..50, 0..=MAX_QUANTITY, any::<bool>()).prop_map(|(l, q, base)| {
        if base {
            json!({ "lineId": l, "baseQuantity": q })
        } else {
            json!({ "lineId": l, "quantity": q })
        }
    });
    let credit_note = (
        reference("invoiceId", "invoiceOpId"),
        prop_oneof![
            prop::collection::vec(return_line, 1..4).prop_map(|l| ("lines", json!(l))),
            (1i64..10_000_000).prop_map(|a| ("amount", json!(Paise::new(a)))),
        ],
        prop_oneof![
            prop::sample::select(METHODS).prop_map(|m| json!({ "type": "refund", "method": m })),
            Just(json!({ "type": "adjustToDues" })),
        ],
        name(),
        any::<bool>(),
    )
        .prop_map(|((k, v), (f, x), settlement, reason, restock)| {
            let mut p = obj(vec![(k, v), (f.to_string(), x)]);
            p["settlement"] = settlement;
            p["reason"] = json!(reason);
            p["restock"] = json!(restock);
            ("creditNote", "create", p)
        });
    prop_oneof![
        cancel,
        credit_note,
        item_create,
        item_update,
        item_delete,
        customer_create,
        customer_update,
        customer_delete,
        invoice,
        payment
    ]
}

fn valid_op() -> impl Strategy<Value = Value> {
    (uuid(), valid_action(), recent_time()).prop_map(|(id, (entity, kind, payload), t)| {
        json!({ "opId": id, "entity": entity, "kind": kind, "payload": payload, "deviceTime": t })
    })
}

/// Values that break parsers: edge integers, money with a third decimal, huge exponents,
/// wrong types, and arbitrary JSON.
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
                "1e-400",
                "0.1",
                "18446744073709551616",
                "\"\"",
                "\" \"",
                "null",
                "true",
                "[]",
                "{}",
                "\"12\"",
            ][..]
        )
        .prop_map(|t| serde_json::from_str(t).unwrap_or(Value::Null)),
        arb::json(),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    SetPayload(String, Value),
    RemovePayload(String),
    SetTop(String, Value),
    /// a field inside the first invoice line
    SetLine(String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let field = || prop::sample::select(arb::KEYS).prop_map(str::to_string);
    prop_oneof![
        3 => (field(), hostile_value()).prop_map(|(k, v)| Mutation::SetPayload(k, v)),
        1 => field().prop_map(Mutation::RemovePayload),
        1 => (field(), hostile_value()).prop_map(|(k, v)| Mutation::SetTop(k, v)),
        2 => (field(), hostile_value()).prop_map(|(k, v)| Mutation::SetLine(k, v)),
    ]
}

fn mutate(op: &mut Value, m: &Mutation) {
    match m {
        Mutation::SetPayload(k, v) => {
            if let Some(p) = op.get_mut("payload").and_then(Value::as_object_mut) {
                p.insert(k.clone(), v.clone());
            }
        }
        Mutation::RemovePayload(k) => {
            if let Some(p) = op["payload"].as_object_mut() {
                p.remove(k.as_str());
            }
        }
        Mutation::SetTop(k, v) => {
            if let Some(o) = op.as_object_mut() {
                o.insert(k.clone(), v.clone());
            }
        }
        Mutation::SetLine(k, v) => {
            if let Some(l) = op.pointer_mut("/payload/products/0").and_then(Value::as_object_mut) {
                l.insert(k.clone(), v.clone());
            }
        }
    }
}

/// What the apply code relies on for an accepted action.
fn check_accepted(a: &Action) -> Result<(), String> {
    let ok = match a {
        Action::ItemCreate(n) => {
            !n.price.is_negative()
                && n.stock >= 0
                && n.low_stock_quantity >= 0
                && (2..=200).contains(&n.name.chars().count())
                && UNITS.contains(&n.unit.as_str())
        }
        Action::ItemUpdate { patch, stock_delta, .. } => {
            stock_delta.unsigned_abs() <= MAX_QUANTITY as u64
                && (!patch.is_empty() || *stock_delta != 0)
                && patch.price.is_none_or(|p| !p.is_negative())
                && patch.low_stock_quantity.is_none_or(|l| l >= 0)
        }
        Action::CustomerCreate { phone, .. } => normalize_phone(phone).as_deref() == Ok(phone.as_str()),
        Action::CustomerUpdate { name, extra, .. } => name.is_some() || !extra.is_empty(),
        Action::InvoiceCreate(inv) => {
            (1..=MAX_INVOICE_LINES).contains(&inv.lines.len())
                && inv
                    .lines
                    .iter()
                    .all(|(_, q, c)| (1..=MAX_QUANTITY).contains(q) && c.is_none_or(|c| !c.is_negative()))
                && !inv.paid.is_negative()
                && !inv.tax.is_negative()
                && !inv.discount.is_negative()
                && METHODS.contains(&inv.method.as_str())
                && inv.phone.as_ref().is_none_or(|p| normalize_phone(p).as_deref() == Ok(p.as_str()))
        }
        Action::PaymentCreate { amount, method, .. } => amount.is_positive() && METHODS.contains(&method.as_str()),
        Action::ItemDelete(_) | Action::CustomerDelete(_) => true,
        Action::InvoiceCancel(c) => {
            (1..=500).contains(&c.reason.chars().count())
                && c.refund_method.as_deref().is_none_or(|m| METHODS.contains(&m))
        }
        Action::CreditNoteCreate(c) => {
            use crate::billing::credit::command::{Credit, Settle};
            (1..=500).contains(&c.reason.chars().count())
                && match &c.credit {
                    Credit::Amount(a) => a.is_positive(),
                    Credit::Lines(l) => {
                        (1..=MAX_INVOICE_LINES).contains(&l.len())
                            && l.iter().all(|r| (0..=MAX_QUANTITY).contains(&r.quantity))
                    }
                }
                && match &c.settlement {
                    Settle::Refund { method, amount } => {
                        METHODS.contains(&method.as_str()) && amount.is_none_or(|a| a.is_positive())
                    }
                    Settle::AdjustToDues => true,
                }
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!("accepted an action the apply code cannot trust: {a:?}"))
    }
}

/// The contract of `parse_ops` for any input.
fn check_parse(raw: &[Value]) -> Result<Option<Vec<Op>>, TestCaseError> {
    match parse_ops(raw) {
        Ok(ops) => {
            prop_assert_eq!(ops.len(), raw.len());
            for op in &ops {
                prop_assert!(uuid::Uuid::parse_str(&op.op_id).is_ok(), "{}", op.op_id);
                prop_assert!(op.raw.len() <= 8000);
                if let Ok(a) = &op.action {
                    check_accepted(a).map_err(TestCaseError::fail)?;
                }
            }
            Ok(Some(ops))
        }
        Err(AppError::Validation(errors)) => {
            prop_assert!(!errors.is_empty());
            Ok(None)
        }
        Err(AppError::PayloadTooLarge) => {
            prop_assert!(raw.len() > MAX_OPS);
            Ok(None)
        }
        Err(other) => Err(TestCaseError::fail(format!("neither a 400 nor a 413: {other:?}"))),
    }
}

proptest! {
    #![proptest_config(arb::config(128))]

    #[test]
    fn prop_sync_ops_arbitrary_json_never_panics(raw in prop::collection::vec(arb::json(), 0..6)) {
        check_parse(&raw)?;
    }

    /// Objects with a valid opId and random entity, kind, payload and deviceTime go past the
    /// envelope checks into the per-entity parsers.
    #[test]
    fn prop_sync_ops_random_payloads_never_panic(
        ops in prop::collection::vec((uuid(), arb::text(), arb::text(), arb::json(), prop::option::of(arb::text())), 1..6)
    ) {
        let raw: Vec<Value> = ops
            .into_iter()
            .map(|(id, entity, kind, payload, t)| json!({ "opId": id, "entity": entity, "kind": kind, "payload": payload, "deviceTime": t }))
            .collect();
        check_parse(&raw)?;
    }

    #[test]
    fn prop_sync_ops_valid_operations_are_accepted(raw in prop::collection::vec(valid_op(), 1..8)) {
        let ops = check_parse(&raw)?.ok_or_else(|| TestCaseError::fail("a valid push was refused"))?;
        for (op, v) in ops.iter().zip(&raw) {
            prop_assert!(op.action.is_ok(), "refused {}: {:?}", v, op.action);
            prop_assert_eq!(Some(op.entity.as_str()), v["entity"].as_str());
            prop_assert_eq!(Some(op.op_id.as_str()), v["opId"].as_str());
        }
    }

    #[test]
    fn prop_sync_ops_mutated_operations_never_panic(
        mut op in valid_op(),
        muts in prop::collection::vec(mutation(), 1..3),
    ) {
        for m in &muts {
            mutate(&mut op, m);
        }
        check_parse(std::slice::from_ref(&op))?;
    }
}

#[test]
fn more_than_the_cap_is_413_and_non_objects_are_400() {
    assert!(matches!(parse_ops(&vec![Value::Null; MAX_OPS + 1]), Err(AppError::PayloadTooLarge)));
    assert!(matches!(parse_ops(&[json!(1)]), Err(AppError::Validation(_))));
    let id = uuid::Uuid::new_v4().to_string();
    let twice =
        json!({ "opId": id, "entity": "item", "kind": "delete", "payload": { "id": "507f1f77bcf86cd799439011" } });
    assert!(matches!(parse_ops(&[twice.clone(), twice]), Err(AppError::Validation(_))));
}

#[test]
fn extreme_stock_delta_is_refused() {
    for d in [i64::MIN, i64::MIN + 1, -MAX_QUANTITY - 1, MAX_QUANTITY + 1, i64::MAX] {
        let op = json!({ "opId": uuid::Uuid::new_v4().to_string(), "entity": "item", "kind": "update",
            "payload": { "id": "507f1f77bcf86cd799439011", "stockDelta": d } });
        let ops = parse_ops(&[op]).map_err(|e| format!("{e:?}"));
        assert!(
            ops.as_ref().is_ok_and(|o| o[0].action.is_err()),
            "stockDelta {d}: {:?}",
            ops.map(|o| o[0].action.clone())
        );
    }
}

/// Issue 18: the field rules of `invoice cancel` and `creditNote create` (each bad payload is
/// a rejection of that operation naming the field; a good one parses to its command's parts).
#[test]
fn cancel_and_credit_note_payloads_are_checked_field_by_field() {
    use crate::billing::credit::command::{Credit, ReturnUnit, Settle};
    let inv = "507f1f77bcf86cd799439011";
    let t = chrono::Utc::now().to_rfc3339();
    let parse = |entity: &str, kind: &str, payload: Value| {
        let op = json!({ "opId": uuid::Uuid::new_v4().to_string(), "entity": entity, "kind": kind,
            "deviceTime": t, "payload": payload });
        parse_ops(&[op]).map(|mut o| o.remove(0).action).unwrap_or_else(|e| Err(format!("{e:?}")))
    };
    let refused = |entity: &str, kind: &str, payload: Value, field: &str| {
        let a = parse(entity, kind, payload.clone());
        assert!(a.as_ref().is_err_and(|e| e.contains(field)), "{payload} -> {a:?} (expected {field})");
    };
    refused("invoice", "cancel", json!({ "invoiceId": inv }), "reason");
    refused("invoice", "cancel", json!({ "invoiceId": inv, "reason": " " }), "reason");
    refused("invoice", "cancel", json!({ "invoiceId": inv, "reason": "x".repeat(501) }), "reason");
    refused("invoice", "cancel", json!({ "reason": "r" }), "invoiceId");
    refused(
        "invoice",
        "cancel",
        json!({ "invoiceId": inv, "reason": "r", "refund": { "method": "gold" } }),
        "refund.method",
    );
    refused("invoice", "cancel", json!({ "invoiceId": inv, "reason": "r", "extra": 1 }), "extra");
    let good = json!({ "invoiceId": inv, "lines": [{ "lineId": 0, "quantity": 1 }], "settlement": { "type": "adjustToDues" }, "reason": "r" });
    let with = |k: &str, v: Value| {
        let mut p = good.clone();
        p[k] = v;
        p
    };
    refused("creditNote", "create", with("amount", json!(5)), "amount");
    refused("creditNote", "create", with("lines", json!([])), "lines");
    refused("creditNote", "create", with("lines", json!([{ "lineId": -1, "quantity": 1 }])), "lines[0].lineId");
    refused("creditNote", "create", with("lines", json!([{ "lineId": 0 }])), "lines[0].quantity");
    refused("creditNote", "create", with("lines", json!([{ "lineId": 0, "quantity": -1 }])), "lines[0].quantity");
    refused(
        "creditNote",
        "create",
        with("lines", json!([{ "lineId": 0, "quantity": 1, "baseQuantity": 1 }])),
        "lines[0].quantity",
    );
    refused("creditNote", "create", with("settlement", json!({ "type": "cash" })), "settlement.type");
    refused(
        "creditNote",
        "create",
        with("settlement", json!({ "type": "refund", "method": "cash", "amount": 0 })),
        "settlement.amount",
    );
    refused("creditNote", "create", with("deviceRef", json!("x".repeat(101))), "deviceRef");
    refused("creditNote", "update", good.clone(), "kind");
    let no_time =
        json!({ "opId": uuid::Uuid::new_v4().to_string(), "entity": "creditNote", "kind": "create", "payload": good });
    assert!(parse_ops(&[no_time]).unwrap()[0].action.as_ref().is_err_and(|e| e.contains("deviceTime")));

    let Ok(Action::CreditNoteCreate(c)) = parse(
        "creditNote",
        "create",
        with("lines", json!([{ "lineId": 2, "baseQuantity": 5 }, { "lineId": 0, "quantity": 1, "unitId": inv }])),
    ) else {
        panic!("a good credit note was refused")
    };
    let Credit::Lines(lines) = &c.credit else { panic!("lines expected") };
    assert_eq!((lines[0].line, lines[0].quantity, lines[0].unit), (2, 5, ReturnUnit::Base));
    assert_eq!(lines[1].unit, ReturnUnit::Unit(ObjectId::parse_str(inv).unwrap()));
    assert!(c.restock, "restock defaults to true");
    assert_eq!(c.settlement, Settle::AdjustToDues);
    let Ok(Action::CreditNoteCreate(c)) = parse(
        "creditNote",
        "create",
        json!({ "invoiceOpId": uuid::Uuid::new_v4().to_string(), "amount": 12.5, "restock": false,
                "settlement": { "type": "refund", "method": "upi", "amount": 2 }, "reason": "r" }),
    ) else {
        panic!("an adjustment was refused")
    };
    assert_eq!(c.credit, Credit::Amount(Paise::new(1250)));
    assert_eq!(c.settlement, Settle::Refund { method: "upi".into(), amount: Some(Paise::new(200)) });
    assert!(matches!(c.invoice, Ref::Op(_)));
    let Ok(Action::InvoiceCancel(c)) =
        parse("invoice", "cancel", json!({ "invoiceId": inv, "reason": " wrong ", "refund": { "method": "upi" } }))
    else {
        panic!("a good cancel was refused")
    };
    assert_eq!((c.reason.as_str(), c.refund_method.as_deref()), ("wrong", Some("upi")));
}
