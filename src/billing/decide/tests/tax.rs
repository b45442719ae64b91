//! Issue 17 at the decider: GST settled on a sale of a shop with a GST profile.

use super::*;
use crate::{
    catalog::tax::{RatePeriod, TaxCode, Taxability},
    client::gst::{GstProfile, Scheme, Series},
};

fn profile(scheme: Scheme) -> GstProfile {
    GstProfile {
        gstin: "27AAPFU0939F1ZV".into(),
        legal_name: "Shree Auto".into(),
        trade_name: "Shree Auto".into(),
        address: Default::default(),
        state_code: "27".into(),
        gst_scheme: scheme,
        turnover_above5_crore: false,
        prices_include_tax: false,
        round_off: true,
        series: Series::default(),
    }
}

fn taxed(name: &str, price: i64, gst_bp: u32) -> ItemDoc {
    let mut i = item(name, price, 100);
    i.details.tax = Some(TaxCode {
        hsn_code: Some("8708".into()),
        uqc: None,
        rates: vec![RatePeriod { from: "2017-07-01".into(), taxability: Taxability::Taxable, gst_bp, cess_bp: 0 }],
        prices_include_tax: None,
    });
    i
}

/// A Karnataka buyer (its billing address; no GSTIN) of a Maharashtra shop.
fn ka_buyer() -> CustomerDoc {
    let mut c = customer("Ravi", "9812345678", 0);
    c.billing_address =
        Some(crate::address::Address { line1: "4 Residency Rd".into(), state: "29".into(), ..Default::default() });
    c
}

/// Whatever order the lines (and the customer) come in, every line of one sale is taxed the
/// same way: IGST alone across states, CGST = SGST within; never both on a line.
#[test]
fn every_line_of_a_sale_has_the_same_supply_whatever_the_order() {
    let items = [taxed("Pen", 4_750, 500), taxed("Ink", 3_333, 1_200), taxed("Nib", 1_899, 1_800)];
    let orders: [[usize; 3]; 6] = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    for buyer in [None, Some(ka_buyer())] {
        for order in orders {
            let mut w = World::of(&[&items[0], &items[1], &items[2]]);
            w.gst = Some(profile(Scheme::Regular));
            let mut cmd = products_sale(order.iter().map(|&k| (items[k].id, 2, None)).collect(), 0);
            if let Some(c) = &buyer {
                w.customer = Some(c.clone());
                cmd.customer = CustomerRef::Id(c.id);
            }
            let plan = w.decide(&cmd).unwrap();
            let g = plan.invoice.gst.as_ref().unwrap();
            let inter = buyer.is_some();
            assert_eq!(g.supply_type == crate::billing::model::SupplyType::InterState, inter);
            assert_eq!(g.place_of_supply, if inter { "29" } else { "27" });
            for l in &plan.invoice.products {
                let t = l.tax.as_ref().unwrap();
                assert_eq!(t.cgst, t.sgst, "{order:?}");
                if inter {
                    assert!(t.igst.is_positive() && t.cgst == Paise::ZERO, "{order:?}: {t:?}");
                } else {
                    assert!(t.igst == Paise::ZERO && t.cgst.is_positive(), "{order:?}: {t:?}");
                }
                assert_eq!(l.line_total, t.total);
            }
            // the same figures per item whatever the order (exclusive prices, no bill discount)
            let by_item: Vec<(ObjectId, Paise)> = plan
                .invoice
                .products
                .iter()
                .map(|l| (l.product_id.unwrap(), l.tax.as_ref().unwrap().taxable_value))
                .collect();
            for (id, taxable) in by_item {
                let k = items.iter().position(|i| i.id == id).unwrap();
                assert_eq!(taxable, Paise::new(items[k].price.as_i64() * 2));
            }
        }
    }
}

/// A composition shop charges no tax, issues a bill of supply with its legend, and an offline
/// inter-state sale is applied untaxed with the finding flagged (online it is refused).
#[test]
fn a_composition_shop_charges_no_tax_and_flags_an_offline_inter_state_sale() {
    let pen = taxed("Pen", 11_800, 1_800);
    let mut w = World::of(&[&pen]);
    w.gst = Some(profile(Scheme::Composition));
    let plan = w.decide(&products_sale(vec![(pen.id, 1, None)], 0)).unwrap();
    let g = plan.invoice.gst.as_ref().unwrap();
    assert_eq!(g.document_type, crate::billing::model::DocumentType::BillOfSupply);
    assert!(g.legend.is_some());
    assert_eq!((plan.invoice.total_tax, plan.invoice.total_amount), (Paise::ZERO, Paise::new(11_800)));
    assert_eq!(plan.invoice.series.as_deref(), Some("BOS"));

    let buyer = ka_buyer();
    w.customer = Some(buyer.clone());
    let mut cmd = products_sale(vec![(pen.id, 1, None)], 0);
    cmd.customer = CustomerRef::Id(buyer.id);
    match w.decide(&cmd) {
        Err(Refusal::Invalid(v)) => assert!(v[0].starts_with("placeOfSupply:"), "{v:?}"),
        other => panic!("{other:?}"),
    }
    cmd.options = SaleOptions::offline(None, None, None);
    let plan = w.decide(&cmd).unwrap();
    assert!(
        plan.invoice.review_flags.iter().any(|f| f.starts_with("gst: placeOfSupply")),
        "{:?}",
        plan.invoice.review_flags
    );
    assert_eq!(plan.invoice.total_tax, Paise::ZERO);
}
