//! The per-line and per-sale checks of a sale (split from `decide`): the lines name active
//! items of the shop, the MRP ceiling of a line (issue 16, Legal Metrology) and what a sale
//! needs an approval for (issue 15). Pure, like the rest of `billing::decide`.

use std::collections::HashMap;

use bson::{oid::ObjectId, DateTime};

use super::{Refusal, Sale};
use crate::{
    billing::{command::Wanted, model::InvoiceLine},
    catalog::model::ItemDoc,
    money::Paise,
};

/// The unit price charged on a line (the counter price, else the catalog price) must not
/// exceed the item's MRP when it has one (issue 16; Legal Metrology). Loose goods without an
/// MRP are not checked. Today the comparison is of the unit price as charged; the
/// tax-inclusive comparison comes with the tax codes (issue 17).
pub fn within_mrp(line: &str, unit: Paise, item: &ItemDoc) -> Result<(), Refusal> {
    within_mrp_of(line, unit, item.details.mrp)
}

/// [`within_mrp`] against the MRP of the unit sold (issue 16: a packing unit's own MRP, else
/// factor x the item's; `billing::decide::units::sold_in`); `None`: loose goods, not checked.
pub fn within_mrp_of(line: &str, unit: Paise, mrp: Option<Paise>) -> Result<(), Refusal> {
    match mrp {
        Some(mrp) if unit > mrp => Err(Refusal::MrpExceeded { line: line.to_string(), price: unit, mrp }),
        _ => Ok(()),
    }
}

/// What a sale does that its seller may not do without an approval (issue 15's table), one
/// text per finding, in line order: a product-list line priced other than the catalog by a
/// seller without `price_override` (`"price_override: <item> at <price> (catalog <price>)"`,
/// rupees as the API writes them;
/// a cart's lines were judged when they were added, with their own approvals), and a bill
/// discount above the seller's cap (`"discount_over_cap: 5.51 is 5.01 % of 110.00, above the
/// cap of 5.00 %"`: percent of the subtotal before tax, rounded up to a basis point; integer
/// arithmetic). `discount` is the sale's whole discount (with a GST profile the line and
/// bill discounts, issue 17) and `subtotal` the lines' gross. Empty when nothing needs an
/// approval.
pub fn unapproved(cmd: &Sale, lines: &[InvoiceLine], discount: Paise, subtotal: Paise) -> Vec<String> {
    let mut out = Vec::new();
    if !cmd.rights.price_override && matches!(cmd.lines, crate::billing::command::LineSource::Products(_)) {
        for l in lines.iter().filter(|l| l.price_overridden) {
            out.push(format!(
                "price_override: {} at {} (catalog {})",
                l.item_name,
                rupees(i128::from(l.cost_per_unit.as_i64())),
                rupees(i128::from(l.catalog_price.as_i64()))
            ));
        }
    }
    if let Some(cap) = cmd.rights.discount_cap_bp {
        let (d, sub) = (i128::from(discount.as_i64()), i128::from(subtotal.as_i64()));
        // discount / subtotal > cap / 10,000, without division (a discount on a 0.00 subtotal
        // is above any cap)
        if d > 0 && d * 10_000 > i128::from(cap) * sub {
            // the share, rounded up to a basis point (so it never reads as the cap itself)
            let bp = if sub > 0 { (d * 10_000 + sub - 1) / sub } else { 0 };
            out.push(format!(
                "discount_over_cap: {} is {} % of {}, above the cap of {} %",
                rupees(d),
                rupees(bp),
                rupees(sub),
                rupees(i128::from(cap))
            ));
        }
    }
    out
}

/// Non-negative paise as rupees with two decimals (`110.00`), for the texts of [`unapproved`].
fn rupees(p: i128) -> String {
    format!("{}.{:02}", p / 100, p % 100)
}

/// The flagged `offline_unapproved` audit entry of an offline sale applied without the
/// approval it needed (`flags` from [`unapproved`]); `None` when there is nothing to flag.
pub(super) fn review_entry(
    cmd: &Sale,
    flags: &[String],
    invoice: ObjectId,
    now: DateTime,
) -> Option<crate::audit::Entry> {
    if flags.is_empty() {
        return None;
    }
    let who = crate::audit::Who::new(cmd.by.user_id.to_hex(), cmd.by.name.clone(), cmd.rights.role.clone());
    let reason = crate::validate::cut(&flags.join("; "), 440).to_string();
    crate::audit::Entry::builder(
        cmd.client_id,
        who,
        crate::audit::Action::OfflineUnapproved,
        crate::changelog::INVOICES,
    )
    .entity_id(invoice.to_hex())
    .at(now)
    .reason(format!("offline sale applied without approval: {reason}"))
    .flagged(true)
    .build()
    .ok()
}

/// Every wanted line must be an active item of the client (`items` holds the client's
/// items that were found); with `allow_inactive` (offline sales, issue 14) an item of the
/// shop that was deactivated is accepted, only ids that never belonged to the shop are
/// refused.
pub fn check_items(wanted: &[Wanted], items: &HashMap<ObjectId, ItemDoc>, allow_inactive: bool) -> Result<(), Refusal> {
    let missing: Vec<String> = wanted
        .iter()
        .filter(|(_, id, _, _)| !items.get(id).is_some_and(|i| i.is_active || allow_inactive))
        .map(|(label, _, _, _)| format!("{label}: is not an active item of this shop"))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Invalid(missing))
    }
}
