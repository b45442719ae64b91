//! The total of a sale (split from `billing::decide`): the server's figure, the client's
//! claim checked against it, the payment bounds. Pure.

use super::{refused, tax, tender, Refusal};
use crate::{billing::command::Sale, money::Paise};

/// The total of a sale, computed by the server: without a GST profile `subtotal + tax -
/// discount` as sent; with one, the settled figures (`settled`, issue 17). A client total
/// that disagrees (with a profile the answer carries the server's figures, `computed`), a
/// payment above the total, or a part payment where the shop requires full payment is
/// refused. The payment is the sale's `payments` settled against the total when it sent
/// them ([`tender::settle`], issue 17), else its `paidAmount`.
pub fn sale_total(
    sale: &Sale,
    subtotal: Paise,
    settled: Option<&tax::Settled>,
    require_full: bool,
) -> Result<Paise, Refusal> {
    sale_total_flagged(sale, subtotal, settled, require_full).map(|(t, _)| t)
}

/// [`sale_total`], and what an offline sale of a shop with a GST profile is applied with
/// instead of refused (issue 17: it already happened, and the v1 app computes no tax): a
/// client total that differs from the server's, a payment above the server's total (kept as
/// paid: the customer's overpayment, a credit on their dues). Each is a `gst: ...` review flag.
pub fn sale_total_flagged(
    sale: &Sale,
    subtotal: Paise,
    settled: Option<&tax::Settled>,
    require_full: bool,
) -> Result<(Paise, Vec<String>), Refusal> {
    let lenient = settled.is_some() && sale.options.flag_unapproved;
    let mut flags = Vec::new();
    let mut e = crate::validate::Errors::new();
    crate::limits::amount(&mut e, "totalTax", sale.tax);
    crate::limits::amount(&mut e, "totalDiscount", sale.discount);
    crate::limits::amount(&mut e, "paidAmount", sale.paid);
    e.finish().map_err(refused)?;
    let total = match settled {
        Some(s) => s.total,
        None => subtotal
            .checked_add(sale.tax)
            .and_then(|t| t.checked_sub(sale.discount))
            .ok_or_else(|| Refusal::field("products", "amounts are too large"))?,
    };
    if total > crate::limits::MAX_INVOICE {
        return Err(Refusal::field("totalAmount", crate::limits::invoice_too_large()));
    }
    if total.is_negative() {
        return Err(Refusal::field("totalDiscount", "cannot exceed the subtotal plus tax"));
    }
    if let Some(claimed) = sale.claimed_total.filter(|c| *c != total) {
        if lenient {
            flags.push(format!(
                "gst: totalAmount: the device's total {claimed} differs from the computed total {total}; the invoice holds the computed figures"
            ));
        } else {
            return Err(match settled {
                None => Refusal::field(
                    "totalAmount",
                    format!(
                        "does not match the computed total {total} (subtotal {subtotal} + tax {} - discount {})",
                        sale.tax, sale.discount
                    ),
                ),
                Some(s) => Refusal::TotalMismatch {
                    message: format!(
                        "does not match the computed total {total} (taxable value {} + tax {} + round-off {}; see computed)",
                        s.gst.taxable_value, s.tax, s.gst.round_off
                    ),
                    computed: serde_json::json!({
                        "subtotal": s.subtotal, "totalDiscount": s.discount, "taxableValue": s.gst.taxable_value,
                        "cgst": s.gst.cgst, "sgst": s.gst.sgst, "igst": s.gst.igst, "cess": s.gst.cess,
                        "totalTax": s.tax, "roundOff": s.gst.round_off, "totalAmount": total,
                        "documentType": s.gst.document_type, "supplyType": s.gst.supply_type,
                        "placeOfSupply": s.gst.place_of_supply,
                    }),
                },
            });
        }
    }
    if sale.split.is_none() && sale.paid > total {
        if !lenient {
            return Err(Refusal::field("paidAmount", format!("cannot exceed the total {total}")));
        }
        let over = sale.paid.checked_sub(total).unwrap_or_default();
        flags.push(format!(
            "gst: paidAmount: {} was paid on a computed total of {total}: {over} overpaid (a credit on the customer's dues)",
            sale.paid
        ));
    }
    let paid = tender::of_sale(sale, total)?.paid;
    if require_full && paid < total {
        return Err(Refusal::FullPaymentRequired);
    }
    Ok((total, flags))
}
