//! The deciders of issue 18 on hand-made invoices: the 30 November rule at IST midnight, a
//! cancel's plan (stock into the lots the sale took, dues, refund), lots walked by a partial
//! return, and the refusals.

use std::collections::HashMap;

use bson::{doc, oid::ObjectId, DateTime};

use super::{
    command::{CancelInvoice, Credit, IssueCreditNote, ReturnLine, ReturnUnit, Settle},
    decide::{self, last_credit_date, Inputs},
    lots::allocations_back,
};
use crate::{
    access::By,
    billing::model::InvoiceDoc,
    catalog::batch::{batch_key, BatchDoc},
    money::Paise,
};

fn at(s: &str) -> DateTime {
    DateTime::parse_rfc3339_str(s).unwrap_or(DateTime::MIN)
}

/// An invoice of 10 May 2026 (FY 2026-27): 4 units of `item` at Rs 25 (2 from lot L1, 2
/// unbatched), total Rs 100, `paid` paise paid, for `customer`.
fn invoice(client: ObjectId, item: ObjectId, customer: ObjectId, paid: i64) -> InvoiceDoc {
    let t = at("2026-05-10T06:00:00Z");
    let d = doc! {
        "_id": ObjectId::new(), "clientId": client, "clientCustomerId": customer,
        "invoiceNumber": "INV/26-27/00007", "financialYear": "26-27", "seq": 7_i64, "kind": "invoice",
        "invoiceDate": "2026-05-10", "dueDate": "2026-06-09",
        "subtotal": 10_000_i64, "totalTax": 0_i64, "totalDiscount": 0_i64, "totalAmount": 10_000_i64,
        "paidAmount": paid, "status": if paid >= 10_000 { "Paid" } else { "Partial" }, "isFinalized": paid >= 10_000,
        "products": [{
            "productId": item, "itemName": "Tube", "costPerUnit": 2_500_i64, "quantity": 4_i64, "lineTotal": 10_000_i64,
            "allocations": [
                { "batchNo": "L1", "expiryDate": "2027-01-31", "quantity": 2_i64 },
                { "batchNo": null, "expiryDate": null, "quantity": 2_i64 },
            ],
        }],
        "source": "online", "generatedAt": t, "createdAt": t, "updatedAt": t, "__v": 0,
    };
    bson::from_document(d).unwrap_or_else(|e| panic!("{e}"))
}

fn lot(client: ObjectId, item: ObjectId) -> BatchDoc {
    let t = at("2026-05-01T00:00:00Z");
    BatchDoc {
        id: ObjectId::new(),
        client_id: client,
        item_id: item,
        batch_no: "L1".into(),
        batch_key: batch_key("L1"),
        expiry_date: "2027-01-31".into(),
        quantity: 0,
        mrp: None,
        created_at: t,
        updated_at: t,
        by: None,
    }
}

fn tube(client: ObjectId, item: ObjectId) -> crate::catalog::model::ItemDoc {
    let t = at("2026-05-01T00:00:00Z");
    let d = doc! { "_id": item, "clientId": client, "name": "Tube", "price": 2_500_i64, "stock": 10_i64,
    "isActive": true, "hasExpiry": true, "createdAt": t, "updatedAt": t };
    bson::from_document(d).unwrap_or_else(|e| panic!("{e}"))
}

fn who() -> (By, crate::audit::Who) {
    let id = ObjectId::new();
    (By { user_id: id, name: "Owner".into() }, crate::audit::Who::new(id.to_hex(), "Owner", "super_admin"))
}

fn note(inv: &InvoiceDoc, q: i64, settlement: Settle) -> IssueCreditNote {
    let (by, who) = who();
    IssueCreditNote {
        client_id: inv.client_id,
        invoice_id: inv.id,
        credit: Credit::Lines(vec![ReturnLine { line: 0, quantity: q, unit: ReturnUnit::Sold, batch_no: None }]),
        restock: true,
        settlement,
        reason: "back".into(),
        by,
        who,
        approved_by: None,
        at: None,
        device_ref: None,
        source: "online",
    }
}

#[test]
fn the_last_day_of_a_credit_note_is_30_november_after_the_financial_year() {
    let d = |s: &str| crate::time::parse_date(s);
    for (invoice, last) in [
        ("2026-05-10", "2027-11-30"),
        ("2027-03-31", "2027-11-30"),
        ("2027-04-01", "2028-11-30"),
        ("2026-04-01", "2027-11-30"),
    ] {
        assert_eq!(d(invoice).and_then(last_credit_date), d(last), "{invoice}");
    }
}

#[test]
fn a_note_at_2359_ist_on_30_november_is_issued_and_at_0000_refused() {
    let (client, item, customer) = (ObjectId::new(), ObjectId::new(), ObjectId::new());
    let inv = invoice(client, item, customer, 0);
    let items = HashMap::new();
    let lots = HashMap::new();
    let inputs = Inputs { invoice: Some(&inv), items: &items, lots: &lots, round_off: false, series: "CN" };
    let cmd = note(&inv, 1, Settle::AdjustToDues);
    let ok = decide::credit_note(&cmd, &inputs, at("2027-11-30T18:29:59Z"), &mut ObjectId::new);
    let n = ok.map(|p| p.note.map(|n| (n.credit_note_date, n.financial_year, n.total_amount)));
    assert_eq!(n.ok().flatten(), Some(("2027-11-30".to_string(), "27-28".to_string(), Paise::new(2_500))));
    let late = decide::credit_note(&cmd, &inputs, at("2027-11-30T18:30:00Z"), &mut ObjectId::new);
    assert_eq!(late.err().map(|e| e.code().to_string()), Some(decide::TIME_BARRED.to_string()));
}

#[test]
fn a_cancel_puts_every_unit_back_where_it_came_from_and_clears_what_was_pending() {
    let (client, item, customer) = (ObjectId::new(), ObjectId::new(), ObjectId::new());
    let inv = invoice(client, item, customer, 4_000);
    let l1 = lot(client, item);
    let lots = HashMap::from([(item, vec![l1.clone()])]);
    let items = HashMap::from([(item, tube(client, item))]);
    let inputs = Inputs { invoice: Some(&inv), items: &items, lots: &lots, round_off: false, series: "CN" };
    let (by, who) = who();
    let mut cmd = CancelInvoice {
        client_id: client,
        invoice_id: inv.id,
        reason: "wrong bill".into(),
        refund_method: None,
        by,
        who,
        approved_by: None,
        at: None,
    };
    let now = at("2026-05-11T06:00:00Z");
    let refused = decide::cancel(&cmd, &inputs, now, &mut ObjectId::new);
    assert_eq!(refused.err().map(|e| e.code().to_string()), Some(decide::REFUND_REQUIRED.to_string()));
    cmd.refund_method = Some("upi".into());
    let plan = decide::cancel(&cmd, &inputs, now, &mut ObjectId::new).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.restock.len(), 1);
    assert_eq!((plan.restock[0].units, plan.restock[0].lots.clone()), (4, vec![(l1.id, 2)]));
    assert_eq!(plan.customer, Some((customer, Paise::new(-6_000))), "the 60.00 still pending");
    let refund = plan.refund.as_ref().map(|p| (p.amount, p.method.as_str(), p.kind.as_deref()));
    assert_eq!(refund, Some((Paise::new(-4_000), "upi", Some("refund"))));
    assert_eq!(
        (plan.invoice.status.as_str(), plan.invoice.paid_amount, plan.invoice.is_cancelled),
        ("Cancelled", Paise::ZERO, true)
    );
    assert_eq!(plan.invoice.invoice_number.as_deref(), Some("INV/26-27/00007"), "it keeps its number");
    assert!(plan.drop_history && plan.audit.is_some());
    let mut cancelled = plan.invoice.clone();
    cancelled.version += 1;
    let again = Inputs { invoice: Some(&cancelled), ..inputs };
    let twice = decide::cancel(&cmd, &again, now, &mut ObjectId::new);
    assert_eq!(twice.err().map(|e| e.code().to_string()), Some(decide::ALREADY_CANCELLED.to_string()));
}

#[test]
fn a_partial_return_walks_the_lots_in_the_order_taken_after_what_went_back() {
    let (client, item, customer) = (ObjectId::new(), ObjectId::new(), ObjectId::new());
    let mut inv = invoice(client, item, customer, 0);
    let pairs = |v: Vec<crate::catalog::batch::Allocation>| {
        v.iter().map(|a| (a.batch_no.clone(), a.quantity)).collect::<Vec<_>>()
    };
    let l1 = |q| (Some("L1".to_string()), q);
    assert_eq!(pairs(allocations_back(&inv.products[0], 3)), vec![l1(2), (None, 1)]);
    // one unit went back into L1 (in any case), one unbatched by an earlier return
    let back = |no: Option<&str>, q| crate::catalog::batch::Allocation {
        batch_no: no.map(str::to_string),
        expiry_date: None,
        quantity: q,
    };
    inv.products[0].returned = Some(crate::billing::model::Returned {
        base_quantity: 2,
        restocked: vec![back(Some("l1"), 1), back(None, 1)],
        ..Default::default()
    });
    assert_eq!(pairs(allocations_back(&inv.products[0], 2)), vec![l1(1), (None, 1)]);
    // a return that named L1 for both of its units: the rest is unbatched, L1 never gets more
    inv.products[0].returned = Some(crate::billing::model::Returned {
        base_quantity: 2,
        restocked: vec![back(Some("L1"), 2)],
        ..Default::default()
    });
    assert_eq!(pairs(allocations_back(&inv.products[0], 2)), vec![(None, 2)]);
}

#[test]
fn refunds_and_dues_are_bounded_by_what_was_paid_and_what_is_pending() {
    let (client, item, customer) = (ObjectId::new(), ObjectId::new(), ObjectId::new());
    let inv = invoice(client, item, customer, 2_000);
    let (items, lots) = (HashMap::new(), HashMap::new());
    let inputs = Inputs { invoice: Some(&inv), items: &items, lots: &lots, round_off: false, series: "CN" };
    let now = at("2026-05-12T06:00:00Z");
    let code = |cmd: &IssueCreditNote| {
        decide::credit_note(cmd, &inputs, now, &mut ObjectId::new).err().map(|e| e.code().to_string())
    };
    // 2 units = 50.00: a refund above the 20.00 paid is refused
    let refund = |amount| Settle::Refund { method: "cash".into(), amount };
    assert_eq!(code(&note(&inv, 2, refund(None))), Some(decide::REFUND_EXCEEDS_PAID.to_string()));
    // 20.00 back and 30.00 off the 80.00 pending: accepted
    let plan = decide::credit_note(&note(&inv, 2, refund(Some(Paise::new(2_000)))), &inputs, now, &mut ObjectId::new);
    let plan = plan.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.customer, Some((customer, Paise::new(-3_000))));
    assert_eq!(
        (plan.invoice.paid_amount, plan.invoice.credited_amount, plan.invoice.pending()),
        (Paise::ZERO, Paise::new(5_000), Paise::new(5_000))
    );
    // more than was sold
    assert_eq!(code(&note(&inv, 5, Settle::AdjustToDues)), Some(decide::RETURN_EXCEEDS_SOLD.to_string()));
    // a foreign invoice reads as a missing one
    let mut foreign = note(&inv, 1, Settle::AdjustToDues);
    foreign.client_id = ObjectId::new();
    assert_eq!(code(&foreign), Some(crate::error::code::NOT_FOUND.to_string()));
}
