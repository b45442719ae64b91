//! What an applied operation answers, rendered once the invoice numbers are known.

use serde_json::{json, Value};

use bson::oid::ObjectId;

use crate::billing::{dto::TenderWire, model::PaymentDoc};

use super::{Res, World};

/// The batch's payment documents with these ids, in that order.
fn payments_of<'a>(world: &'a World, ids: &[ObjectId]) -> Vec<&'a PaymentDoc> {
    ids.iter().filter_map(|id| world.payments.iter().find(|p| p.id == *id)).collect()
}

/// The tender of these payments (`{tendered, change}` as stored on the cash part), or null.
fn tender(payments: &[&PaymentDoc]) -> Value {
    json!(TenderWire::of(payments.iter().copied()))
}

pub(super) fn render(world: &World, res: &Res) -> Value {
    match res {
        Res::Id(id) => json!({ "id": id.to_hex() }),
        Res::Invoice(id, payments, warnings, flags) => {
            let inv = world.invoices.get(id).map(|i| &i.doc);
            let docs = payments_of(world, payments);
            json!({
                "id": id.to_hex(),
                "invoiceNumber": inv.and_then(|i| i.invoice_number.clone()),
                "paymentId": payments.first().map(|p| p.to_hex()),
                "paymentIds": payments.iter().map(|p| p.to_hex()).collect::<Vec<_>>(),
                "paidAmount": inv.map(|i| i.paid_amount),
                "paymentMethod": inv.and_then(|i| i.payment_method.clone()),
                "tender": tender(&docs),
                "totalAmount": inv.map(|i| i.total_amount),
                "stockWarnings": warnings,
                "priceOverrides": flags["priceOverrides"],
                "inactiveItems": flags["inactiveItems"],
                "reviewFlags": inv.map(|i| i.review_flags.clone()).unwrap_or_default(),
                // issue 17: the paper bill's leaf, and a gap a device series number left
                "offlineBillRef": inv.and_then(|i| i.offline_bill_ref.as_ref())
                    .map(crate::billing::numbering::dto::OfflineBillRefWire::from),
                "numberGap": flags.get("numberGap"),
                // issue 17: the server's figures (a shop with a GST profile): the device prints
                // these, not its own
                "subtotal": inv.map(|i| i.subtotal),
                "totalTax": inv.map(|i| i.total_tax),
                "totalDiscount": inv.map(|i| i.total_discount),
                "gst": inv.and_then(|i| i.gst.as_ref()).map(crate::billing::dto::InvoiceGstWire::from),
                "lines": inv.filter(|i| i.gst.is_some()).map(|i| i.products.iter().map(|l| json!({
                    "productId": l.product_id.map(|p| p.to_hex()),
                    "lineTotal": l.line_total,
                    "tax": l.tax.as_ref().map(crate::billing::dto::LineTaxWire::from),
                })).collect::<Vec<_>>()),
            })
        }
        Res::Duplicate(id) => {
            let inv = world.invoices.get(id).map(|i| &i.doc);
            json!({
                "id": id.to_hex(),
                "invoiceNumber": inv.and_then(|i| i.invoice_number.clone()),
                "totalAmount": inv.map(|i| i.total_amount),
                "deviceRef": inv.and_then(|i| i.device_ref.clone()),
            })
        }
        Res::Payment(ids, invoice) => {
            let docs = payments_of(world, ids);
            let inv = world.invoices.get(invoice).map(|i| &i.doc);
            json!({
                "id": ids.first().map(|p| p.to_hex()),
                "paymentIds": ids.iter().map(|p| p.to_hex()).collect::<Vec<_>>(),
                "invoiceId": invoice.to_hex(),
                "invoiceNumber": inv.and_then(|i| i.invoice_number.clone()),
                "amount": crate::money::Paise::checked_sum(docs.iter().map(|p| p.amount)),
                "paymentMethod": inv.and_then(|i| i.payment_method.clone()),
                "tender": tender(&docs),
            })
        }
    }
}
