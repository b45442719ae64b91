//! Shared pieces of the property tests (`prop_*`, test builds only).
//!
//! Every property runs a small number of cases by default so `cargo test` stays fast;
//! `PROPTEST_CASES=<n>` raises it for a long run (see docs/SECURITY.md, "Fuzzing"):
//!
//! ```text
//! PROPTEST_CASES=100000 cargo test --release --lib prop_
//! ```

use proptest::prelude::*;
use serde_json::{Map, Value};

/// `default_cases` unless `PROPTEST_CASES` is set.
pub fn config(default_cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = default_cases;
    }
    c
}

/// JSON number text: plain, huge, long fractions, exponents (including huge ones),
/// negative zero. Parsed with `arbitrary_precision`, so the exact text reaches the code.
pub fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        Just("-0".to_string()),
        Just("-0.0".to_string()),
        Just("0e999999999999".to_string()),
        Just("1e-999999999999".to_string()),
        Just("9223372036854775807".to_string()),
        Just("-9223372036854775808".to_string()),
        "-?(0|[1-9][0-9]{0,24})(\\.[0-9]{1,24})?([eE][+-]?[0-9]{1,14})?",
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(KEYS).prop_map(str::to_string),
        1 => ".{0,8}",
    ]
}

/// Field names the parsers know, so random objects hit real fields.
pub const KEYS: &[&str] = &[
    "opId",
    "entity",
    "kind",
    "payload",
    "deviceTime",
    "clientId",
    "id",
    "_id",
    "itemOpId",
    "customerOpId",
    "invoiceOpId",
    "productOpId",
    "name",
    "price",
    "stock",
    "stockDelta",
    "lowStockQuantity",
    "unit",
    "groupId",
    "description",
    "phoneNumber",
    "address",
    "emailId",
    "gstNo",
    "products",
    "productId",
    "quantity",
    "costPerUnit",
    "itemName",
    "itemGroup",
    "clientCustomerId",
    "clientCustomerPhone",
    "clientCustomerName",
    "totalAmount",
    "totalTax",
    "totalDiscount",
    "paidAmount",
    "method",
    "notes",
    "note",
    "deviceRef",
    "invoiceId",
    "amount",
    "paidAt",
    "item",
    "invoice",
    "payment",
    "create",
    "update",
    "delete",
    // issue 18: invoice cancel, creditNote create
    "cancel",
    "creditNote",
    "reason",
    "refund",
    "approvalToken",
    "lines",
    "lineId",
    "baseQuantity",
    "unitId",
    "batchNo",
    "restock",
    "settlement",
    "type",
];

/// Strings with a bias towards the values the parsers branch on.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => ".{0,12}",
        1 => prop::sample::select(&[
            "item", "customer", "invoice", "payment", "create", "update", "delete", "cash", "upi", "nos", "kg",
            "", " ", "2026-01-01T00:00:00Z", "not-a-date", "507f1f77bcf86cd799439011", "9890000000", "+91 98900 00000",
            "00000000-0000-0000-0000-000000000000",
        ][..])
        .prop_map(str::to_string),
        1 => any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).to_string()),
        1 => "[0-9a-f]{24}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number_text().prop_map(|t| serde_json::from_str(&t).unwrap_or(Value::Null)),
        text().prop_map(Value::String),
    ]
}

/// Any JSON value (recursive: arrays and objects up to a few levels, small widths).
pub fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}
