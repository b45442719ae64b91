//! Where returned units go back (issue 18): the lots a sale line took them from, in the order
//! taken, after what earlier returns put back into each. Pure.

use std::collections::HashMap;

use bson::oid::ObjectId;

use crate::{
    billing::model::InvoiceLine,
    catalog::batch::{batch_key, Allocation, BatchDoc},
};

/// Units going back on the shelf: the item, base units, and where (lots and unbatched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restock {
    pub item: ObjectId,
    pub units: i64,
    /// Lot ids and units put back into each (the rest of `units` is unbatched).
    pub lots: Vec<(ObjectId, i64)>,
}

/// Where `units` more of a line go back: the line's lots (`allocations`, in the order
/// taken), each up to what it gave less what earlier returns already put back into it
/// (`returned.restocked`, wherever those went); units beyond (a line of an item without
/// lots) are unbatched. So no lot gets back more than the sale took from it, unless a return
/// named it.
pub fn allocations_back(line: &InvoiceLine, units: i64) -> Vec<Allocation> {
    let mut back: HashMap<Option<String>, i64> = HashMap::new();
    for a in line.returned.iter().flat_map(|r| r.restocked.iter()) {
        *back.entry(a.batch_no.as_deref().map(batch_key)).or_default() += a.quantity.max(0);
    }
    let mut out: Vec<Allocation> = Vec::new();
    let mut need = units.max(0);
    for a in &line.allocations {
        if need == 0 {
            break;
        }
        let had = back.entry(a.batch_no.as_deref().map(batch_key)).or_default();
        let used = (*had).min(a.quantity.max(0));
        *had -= used;
        let take = (a.quantity.max(0) - used).min(need);
        if take > 0 {
            out.push(Allocation { batch_no: a.batch_no.clone(), expiry_date: a.expiry_date.clone(), quantity: take });
            need -= take;
        }
    }
    if need > 0 {
        out.push(Allocation { batch_no: None, expiry_date: None, quantity: need });
    }
    out
}

/// `into` plus `more`, summed per lot (`batchNo`, case-insensitively; unbatched together).
pub fn add_restocked(into: &mut Vec<Allocation>, more: &[Allocation]) {
    for m in more {
        let key = m.batch_no.as_deref().map(batch_key);
        match into.iter_mut().find(|a| a.batch_no.as_deref().map(batch_key) == key) {
            Some(a) => a.quantity += m.quantity,
            None => into.push(m.clone()),
        }
    }
}

/// The restock of `units` of `item` into `allocs`, with the lot ids found among `lots` (a lot
/// no longer there takes its units unbatched).
pub fn restock_of(item: ObjectId, allocs: &[Allocation], lots: &HashMap<ObjectId, Vec<BatchDoc>>) -> Restock {
    let mine = lots.get(&item).map(Vec::as_slice).unwrap_or(&[]);
    let mut by_lot: Vec<(ObjectId, i64)> = Vec::new();
    for a in allocs {
        let Some(no) = &a.batch_no else { continue };
        let key = batch_key(no);
        if let Some(lot) = mine.iter().find(|l| l.batch_key == key) {
            match by_lot.iter_mut().find(|(id, _)| *id == lot.id) {
                Some((_, q)) => *q += a.quantity,
                None => by_lot.push((lot.id, a.quantity)),
            }
        }
    }
    Restock { item, units: allocs.iter().map(|a| a.quantity).sum(), lots: by_lot }
}
