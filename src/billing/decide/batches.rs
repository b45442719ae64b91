//! The lots a sale's lines take (issue 16): one rule for every door (online billing, v1
//! `/api/sync`, v2 push), since all of them run `decide::sale`.
//!
//! For a line of a `hasExpiry` item, [`crate::catalog::batch::fefo`] picks the lots by the
//! BILL's India date (`generatedAt`: an offline bill of 20 October synced on 31 October takes
//! the lots it would have taken on the 20th), the named batch (`batchNo`) first; an expired
//! lot is never picked automatically, and one named is refused unless the shop allows it.
//! Units no lot covers are taken unbatched (the item's stock rules as today) and recorded as
//! an allocation with `batchNo: null`. Offline sales are decided the same way: they are
//! never refused for lot quantities (what the lots lack is unbatched), only for a named batch
//! that does not exist or is expired where the shop does not allow it. A lot taken whose own
//! MRP is below the line's unit price is refused `MRP_EXCEEDED` (the MRP of the batch sold).

use std::collections::HashMap;

use bson::oid::ObjectId;

use super::{Refusal, SaleInputs};
use crate::{
    billing::{command::Sale, command::Wanted, model::InvoiceDoc},
    catalog::batch::{fefo, Allocation, Pick, Take},
    time,
};

/// Fill `allocations` of the invoice's lines and return the lot decrements. `wanted` is the
/// sale's lines ([`Sale::wanted`]), in the order of `inv.products`.
pub(super) fn allocate(
    cmd: &Sale,
    wanted: &[Wanted],
    inv: &mut InvoiceDoc,
    inputs: &SaleInputs<'_>,
) -> Result<Vec<Take>, Refusal> {
    let bill_date = time::ist_date(inv.generated_at);
    // what is left of each lot as the bill's lines take from them
    let mut left: HashMap<ObjectId, Vec<i64>> = HashMap::new();
    let mut takes: Vec<Take> = Vec::new();
    for (k, line) in inv.products.iter_mut().enumerate() {
        let named = cmd.batch_of(k);
        let label = wanted.get(k).map_or_else(|| format!("products[{k}]"), |w| w.0.replace(".productId", ""));
        let Some(item) = line.product_id.and_then(|p| inputs.items.get(&p)) else { continue };
        if !item.details.has_expiry {
            if let Some(b) = named {
                return Err(Refusal::BatchNotFound {
                    line: format!("{label}.batchNo"),
                    batch_no: b.trim().to_string(),
                });
            }
            continue;
        }
        let lots = inputs.lots.by_item.get(&item.id).map(Vec::as_slice).unwrap_or_default();
        let rest = left.entry(item.id).or_insert_with(|| lots.iter().map(|l| l.quantity).collect());
        let chosen =
            fefo(lots, rest, line.base_units(), bill_date, named, inputs.lots.allow_expired).map_err(|p| match p {
                Pick::NotFound(b) => Refusal::BatchNotFound { line: format!("{label}.batchNo"), batch_no: b },
                Pick::Expired { batch_no, expiry_date } => {
                    Refusal::BatchExpired { line: format!("{label}.batchNo"), batch_no, expiry_date }
                }
            })?;
        let mut alloc = Vec::with_capacity(chosen.taken.len() + 1);
        for (i, q) in &chosen.taken {
            let lot = &lots[*i];
            // the MRP of the batch sold (Legal Metrology), when printed on it: per base unit, so
            // a line sold in a packing unit compares factor x the lot's MRP
            let factor = line.unit.as_ref().map_or(1, |u| u.factor);
            let lot_mrp = lot.mrp.and_then(|m| crate::money::Paise::new(m).checked_mul(factor));
            if let Some(mrp) = lot_mrp.filter(|m| line.cost_per_unit > *m) {
                return Err(Refusal::MrpExceeded { line: label, price: line.cost_per_unit, mrp });
            }
            rest[*i] -= q;
            alloc.push(Allocation {
                batch_no: Some(lot.batch_no.clone()),
                expiry_date: Some(lot.expiry_date.clone()),
                quantity: *q,
            });
            match takes.iter_mut().find(|t| t.batch == lot.id) {
                Some(t) => t.quantity += q,
                None => takes.push(Take { batch: lot.id, item: item.id, quantity: *q }),
            }
        }
        if chosen.unbatched > 0 {
            alloc.push(Allocation { batch_no: None, expiry_date: None, quantity: chosen.unbatched });
        }
        line.allocations = alloc;
    }
    Ok(takes)
}
