//! Selling in packing units (issue 16): the one rule every door's sale lines go through
//! (online B19/B20, v1 `/api/sync`, v2 push all reach it via `decide::sale`). Pure.
//!
//! A line may name one of the item's units (`unitId`): the quantity is then counted in that
//! unit, the stock moves by `baseQuantity = quantity x factor` (checked `i64`), the catalog
//! price of one such unit is its own price, else `factor` x the item's price (checked
//! [`Paise`] arithmetic), and its MRP is its own, else `factor` x the item's MRP. The line
//! keeps a snapshot of the unit (`unitId`, `unitName`, `factor`).

use bson::oid::ObjectId;

use super::Refusal;
use crate::{billing::model::LineUnit, catalog::model::ItemDoc, money::Paise};

/// How one line sells its item: the unit snapshot (none for a plain line), the quantity in
/// base units, and the catalog price and MRP of one unit sold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sold {
    pub unit: Option<LineUnit>,
    /// `quantity x factor` (the quantity itself for a plain line).
    pub base_quantity: i64,
    /// The catalog price of one unit sold.
    pub price: Paise,
    /// The MRP of one unit sold (none for loose goods).
    pub mrp: Option<Paise>,
}

/// The code of [`Refusal::UnitNotSold`].
pub const UNIT_NOT_SOLD: &str = "UNIT_NOT_SOLD";

/// Sell `quantity` of `item` on `line` (`products[i]`, for messages) in `unit` (`None`: a
/// plain line, in the item's base unit). A unit the item does not declare (a unit of another
/// item, of another shop, or no unit at all) is [`Refusal::UnitNotSold`]; a quantity, price
/// or MRP that overflows is refused, never wrapped.
pub fn sold_in(line: &str, item: &ItemDoc, unit: Option<ObjectId>, quantity: i64) -> Result<Sold, Refusal> {
    let Some(unit_id) = unit else {
        return Ok(Sold { unit: None, base_quantity: quantity, price: item.price, mrp: item.details.mrp });
    };
    let Some(u) = item.details.units.iter().find(|u| u.unit_id == unit_id) else {
        return Err(Refusal::UnitNotSold { line: line.to_string(), unit: unit_id.to_hex(), item: item.name.clone() });
    };
    let too_large = || Refusal::Invalid(vec![format!("{line}.quantity: {quantity} {} is too large", u.name)]);
    let base_quantity = quantity.checked_mul(u.factor).ok_or_else(too_large)?;
    let price = u.price_of(item.price).ok_or_else(too_large)?;
    let mrp = u.mrp_of(item.details.mrp).map_err(|()| too_large())?;
    Ok(Sold {
        unit: Some(LineUnit { unit_id: u.unit_id, unit_name: u.name.clone(), factor: u.factor }),
        base_quantity,
        price,
        mrp,
    })
}

#[cfg(test)]
mod tests {
    use bson::DateTime;
    use proptest::prelude::*;

    use super::*;
    use crate::catalog::{rules::NewItem, unit::ItemUnit};

    fn pen(units: Vec<ItemUnit>) -> ItemDoc {
        let n = NewItem {
            name: "Pen".into(),
            price: Paise::new(500),
            stock: 250,
            low_stock_quantity: 5,
            unit: "pcs".into(),
            group_id: None,
            brand_id: None,
            description: String::new(),
            details: Default::default(),
        };
        let mut i = n.doc(ObjectId::new(), ObjectId::new(), 250, DateTime::from_millis(0));
        i.details.units = units;
        i
    }

    fn unit(name: &str, factor: i64, price: Option<i64>) -> ItemUnit {
        ItemUnit {
            unit_id: ObjectId::new(),
            name: name.into(),
            factor,
            price: price.map(Paise::new),
            mrp: None,
            barcode: None,
        }
    }

    #[test]
    fn two_boxes_and_three_pieces_of_the_pen_bill_105_and_take_23() {
        let (pcs, bx) = (unit("PCS", 1, None), unit("BOX", 10, Some(4500)));
        let item = pen(vec![pcs.clone(), bx.clone()]);
        let a = sold_in("products[0]", &item, Some(bx.unit_id), 2).unwrap();
        let b = sold_in("products[1]", &item, Some(pcs.unit_id), 3).unwrap();
        assert_eq!((a.base_quantity, a.price), (20, Paise::new(4500)));
        assert_eq!((b.base_quantity, b.price), (3, Paise::new(500)));
        let billed = a.price.checked_mul(2).unwrap().checked_add(b.price.checked_mul(3).unwrap()).unwrap();
        assert_eq!(billed, Paise::new(10_500));
        assert_eq!(250 - a.base_quantity - b.base_quantity, 227);
        assert_eq!(a.unit, Some(LineUnit { unit_id: bx.unit_id, unit_name: "BOX".into(), factor: 10 }));
        // a box without its own price costs factor x the piece price; its MRP factor x the MRP
        let mut item = pen(vec![pcs, unit("BOX", 10, None)]);
        item.details.mrp = Some(Paise::new(700));
        let c = sold_in("products[0]", &item, Some(item.details.units[1].unit_id), 1).unwrap();
        assert_eq!((c.price, c.mrp), (Paise::new(5000), Some(Paise::new(7000))));
    }

    #[test]
    fn the_shared_pricer_bills_the_pen_at_105_with_unit_snapshots_and_checks_each_units_mrp() {
        use std::collections::HashMap;
        let (pcs, bx) = (unit("PCS", 1, None), unit("BOX", 10, Some(4500)));
        let mut item = pen(vec![bx.clone(), pcs.clone()]);
        let items = HashMap::from([(item.id, item.clone())]);
        let wanted = vec![
            ("products[0].productId".to_string(), item.id, 2, None),
            ("products[1].productId".to_string(), item.id, 3, None),
        ];
        let (lines, subtotal) = crate::billing::decide::price_lines_in_units(
            &wanted,
            &[Some(bx.unit_id), None],
            &items,
            &HashMap::new(),
            false,
        )
        .unwrap();
        assert_eq!(subtotal, Paise::new(10_500));
        assert_eq!(lines.iter().map(|l| l.base_units()).sum::<i64>(), 23);
        assert_eq!((lines[0].base_quantity, lines[0].line_total), (Some(20), Paise::new(9000)));
        assert_eq!((lines[1].unit.clone(), lines[1].base_quantity), (None, None), "a plain line stays plain");
        // MRP Rs 4.40 a piece: the box at Rs 45 exceeds its MRP of Rs 44 (10 x 4.40)
        item.details.mrp = Some(Paise::new(440));
        item.price = Paise::new(400);
        let items = HashMap::from([(item.id, item)]);
        let r = crate::billing::decide::price_lines_in_units(
            &wanted[..1],
            &[Some(bx.unit_id)],
            &items,
            &HashMap::new(),
            false,
        );
        assert_eq!(
            r.map(|_| ()),
            Err(Refusal::MrpExceeded { line: "products[0]".into(), price: Paise::new(4500), mrp: Paise::new(4400) })
        );
    }

    #[test]
    fn a_unit_the_item_does_not_declare_is_not_sold() {
        let item = pen(vec![unit("PCS", 1, None)]);
        let other = ObjectId::new();
        let r = sold_in("products[0]", &item, Some(other), 1);
        assert!(matches!(&r, Err(Refusal::UnitNotSold { unit, .. }) if *unit == other.to_hex()), "{r:?}");
        // a plain item has no units at all
        assert!(matches!(sold_in("products[0]", &pen(vec![]), Some(other), 1), Err(Refusal::UnitNotSold { .. })));
        // a plain line sells in base units
        assert_eq!(sold_in("products[0]", &item, None, 4).unwrap().base_quantity, 4);
    }

    proptest! {
        /// Lines in any units of an item: the stock moves by exactly the sum of quantity x
        /// factor (computed wide here), never fractional; a line whose base quantity does not
        /// fit an i64 is refused instead of wrapping.
        #[test]
        fn base_quantity_is_the_sum_of_quantity_times_factor(
            factors in proptest::collection::vec(1i64..=i64::MAX / 2, 1..5),
            lines in proptest::collection::vec((0usize..5, 1i64..=i64::MAX / 4), 1..6),
        ) {
            let units: Vec<ItemUnit> =
                factors.iter().enumerate().map(|(i, f)| unit(&format!("U{i}"), *f, Some(100))).collect();
            let item = pen(units.clone());
            let mut expected: i128 = 0;
            let mut got: i128 = 0;
            for (u, q) in &lines {
                let u = &units[*u % units.len()];
                let wide = i128::from(*q) * i128::from(u.factor);
                match sold_in("products[0]", &item, Some(u.unit_id), *q) {
                    Ok(s) => {
                        prop_assert_eq!(i128::from(s.base_quantity), wide);
                        prop_assert_eq!(s.unit.as_ref().map(|x| x.factor), Some(u.factor));
                        got += i128::from(s.base_quantity);
                        expected += wide;
                    }
                    Err(Refusal::Invalid(_)) => prop_assert!(wide > i128::from(i64::MAX)),
                    Err(other) => prop_assert!(false, "unexpected {:?}", other),
                }
            }
            prop_assert_eq!(got, expected);
        }
    }
}
