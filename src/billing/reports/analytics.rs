//! The pure computations of the billing reports: report values from rows already loaded by
//! `repo` (no I/O, no BSON), so each rule is unit-tested here. Money stays integer paise;
//! ratios and percentages are the only floats (rounded to 4 decimals) and never feed back
//! into money.

use std::collections::{BTreeMap, HashMap};

use bson::{oid::ObjectId, DateTime};
use serde_json::{json, Value};

use crate::{
    billing::{
        dto::{InvoiceWire, PaymentWire},
        model::{InvoiceDoc, PaymentDoc},
    },
    error::AppResult,
    money::Paise,
    // India calendar days (not 24-hour spans): an invoice at 23:00 paid at 09:00 the next
    // morning was paid 1 day later.
    time::days_between,
    wire,
};

use super::repo::{BehaviorRow, InvoiceFacets, PayStats, PaymentFacets};

/// Invoices paid in full within this many days count as paid on time (ENDPOINTS B29).
pub const ON_TIME_DAYS: i64 = 7;

/// Days after which an unpaid or part-paid invoice counts as overdue (ENDPOINTS B31).
pub const OVERDUE_DAYS: i64 = 30;

/// `a / b` rounded to 4 decimals (0 when `b` is 0).
pub fn ratio(a: i64, b: i64) -> f64 {
    if b == 0 {
        0.0
    } else {
        ((a as f64 / b as f64) * 10_000.0).round() / 10_000.0
    }
}

/// Average money rounded half up to the paisa (integer arithmetic).
pub fn avg(total: Paise, n: i64) -> Paise {
    if n <= 0 {
        Paise::ZERO
    } else {
        // in i128: exact for every i64 total
        let v = (i128::from(total.as_i64()) * 2 + i128::from(n)) / (2 * i128::from(n));
        Paise::try_from(v).unwrap_or(total)
    }
}

/// `a / b` as a percentage, as `ratio(a * 100, b)` but without an `i64` product that could
/// overflow (0 when `b` is 0).
pub fn pct(a: i64, b: i64) -> f64 {
    if b == 0 {
        0.0
    } else {
        ((a as f64 * 100.0 / b as f64) * 10_000.0).round() / 10_000.0
    }
}

fn ratio_of(a: Paise, b: Paise) -> f64 {
    pct(a.as_i64(), b.as_i64())
}

/// The analytics of B29/B30 over every invoice of the filter (`now` = when asked, for the
/// tenure); `customer_scope` names the keys for one customer (B29) or the shop (B30).
pub fn invoice_analytics(f: &InvoiceFacets, customer_scope: bool, now: DateTime) -> Value {
    let s = &f.summary;
    let (n, finalized) = (s.n, s.finalized);
    let (total, paid) = (s.total, s.paid);
    let (first, last) = (s.first, s.last);
    let tenure_days = match (first, last) {
        (Some(f), Some(_)) => days_between(f, now),
        _ => 0,
    };
    let items: Vec<Value> = f
        .items
        .iter()
        .map(|i| {
            json!({
                "itemName": i.name,
                "itemGroup": if i.group.is_empty() { "Uncategorized" } else { i.group.as_str() },
                "totalQuantity": i.qty, "totalRevenue": i.revenue, "purchaseCount": i.count,
            })
        })
        .collect();
    let groups: Vec<Value> = f
        .groups
        .iter()
        .map(|g| {
            json!({ "groupName": if g.name.is_empty() { "Uncategorized" } else { g.name.as_str() }, "invoiceCount": g.invoices, "totalRevenue": g.revenue })
        })
        .collect();
    let months = &f.months;
    let growth = match months.len() {
        l if l >= 2 => {
            let (prev, cur) = (months[l - 2].amount.as_i64(), months[l - 1].amount.as_i64());
            ratio(cur - prev, prev)
        }
        _ => 0.0,
    };
    let trend = match months.len() {
        l if l >= 2 => match months[l - 1].n.cmp(&months[l - 2].n) {
            std::cmp::Ordering::Greater => "increasing",
            std::cmp::Ordering::Less => "decreasing",
            std::cmp::Ordering::Equal => "stable",
        },
        _ => "stable",
    };
    let between = if n > 1 { ratio(tenure_days, n - 1) } else { 0.0 };
    let per_month = if tenure_days > 0 { ratio(n * 30, tenure_days) } else { 0.0 };
    let value_key = if customer_scope { "customerLifetimeValue" } else { "totalBusinessValue" };
    let mut summary = json!({
        "totalInvoices": n, "finalizedInvoices": finalized, "pendingInvoices": n - finalized,
        "totalRevenue": total, "totalPaid": paid, "totalPending": f.summary.pending,
        "averageInvoiceValue": avg(total, n),
    });
    summary[value_key] = json!(total);
    let mut timeline = json!({
        "firstInvoiceDate": first.map(wire::iso), "lastInvoiceDate": last.map(wire::iso),
    });
    let (tenure_key, between_key, freq_key, trend_key) = if customer_scope {
        ("customerTenure", "averageDaysBetweenPurchases", "monthlyPurchaseFrequency", "purchaseFrequencyTrend")
    } else {
        ("businessTenure", "averageDaysBetweenInvoices", "monthlyInvoiceFrequency", "invoiceFrequencyTrend")
    };
    timeline[tenure_key] = json!(tenure_days);
    timeline[between_key] = json!(between);
    timeline[freq_key] = json!(per_month);
    let mut trends = json!({
        "monthlyRevenue": months.iter().map(|m| json!({ "month": m.month, "revenue": m.amount, "invoiceCount": m.n })).collect::<Vec<_>>(),
        "revenueGrowthRate": growth,
    });
    trends[trend_key] = json!(trend);
    json!({
        "summary": summary,
        "purchasePatterns": {
            "frequentlyPurchasedItems": items, "preferredItemGroups": groups,
            "averageItemsPerInvoice": ratio(s.lines, n), "averageQuantityPerInvoice": ratio(s.qty, n),
        },
        "timeline": timeline,
        "trends": trends,
    })
}

/// B29/B30 `paymentBehavior`, and `summary.averagePaymentTime`:
/// * `averageDaysToPayment` = `averagePaymentTime` = Σ daysToFullPayment / #finalized;
/// * `onTimePaymentRate` = #finalized with daysToFullPayment <= 7 / #finalized (a fraction);
/// * `partialPaymentFrequency` = #invoices with more than one payment, or one payment and
///   not finalized / #invoices (a fraction);
/// * `paymentMethodPreference` = `{method: number of payments}`.
///
/// A zero denominator gives 0.
pub fn payment_behavior(b: &BehaviorRow) -> (Value, f64) {
    let average = ratio(b.days_sum, b.finalized);
    let methods: serde_json::Map<String, Value> = b.methods.iter().map(|(m, n)| (m.clone(), json!(n))).collect();
    let behavior = json!({
        "onTimePaymentRate": ratio(b.on_time, b.finalized),
        "averageDaysToPayment": average,
        "partialPaymentFrequency": ratio(b.partial, b.n),
        "paymentMethodPreference": methods,
    });
    (behavior, average)
}

/// `paid` if finalized, `partial` if something was paid, else `unpaid` (ENDPOINTS B29);
/// `cancelled` for a cancelled invoice (issue 18).
pub fn payment_status(i: &InvoiceDoc) -> &'static str {
    if i.is_cancelled {
        "cancelled"
    } else if i.is_finalized {
        "paid"
    } else if i.paid_amount.is_positive() {
        "partial"
    } else {
        "unpaid"
    }
}

/// A B29/B30 row: the invoice plus `paymentStatus`, `paymentCount`, `firstPaymentDate`,
/// `lastPaymentDate` (payment `paidAt`, null without payments) and `daysToFullPayment`
/// (whole days from `generatedAt` to the last payment of a finalized invoice, else null).
pub fn history_row(i: &InvoiceDoc, stats: Option<&PayStats>) -> Value {
    let st = stats.copied().unwrap_or_default();
    let mut row = json!(InvoiceWire::from_doc(i));
    row["paymentStatus"] = json!(payment_status(i));
    row["paymentCount"] = json!(st.count);
    row["firstPaymentDate"] = json!(st.first.map(wire::iso));
    row["lastPaymentDate"] = json!(st.last.map(wire::iso));
    row["daysToFullPayment"] =
        json!(st.last.filter(|_| i.is_finalized && st.count > 0).map(|l| days_between(i.generated_at, l)));
    row
}

/// B31 `paymentMethodBreakdown`: `{method: {count, totalAmount, percentage}}` (by method;
/// percentage of the amount). 422 when the sum does not fit.
pub fn method_breakdown(payments: &[PaymentDoc]) -> AppResult<Value> {
    let too_large = crate::limits::report_too_large;
    let total = Paise::checked_sum(payments.iter().map(|p| p.amount)).ok_or_else(too_large)?;
    let mut by: BTreeMap<String, (i64, Paise)> = Default::default();
    for p in payments {
        let e = by.entry(p.method.clone()).or_default();
        e.0 += 1;
        e.1 = e.1.checked_add(p.amount).ok_or_else(too_large)?;
    }
    Ok(Value::Object(
        by.into_iter()
            .map(|(m, (n, amt))| (m, json!({ "count": n, "totalAmount": amt, "percentage": ratio_of(amt, total) })))
            .collect(),
    ))
}

/// A B31/B32 payment row: the payment plus `paymentNumber` (1-based, per invoice, in
/// `paidAt` order), `cumulativeAmount` (paid on the invoice up to and including it),
/// `remainingBalance` (>= 0), `percentagePaid` (<= 100) and `daysFromInvoice`.
pub fn payment_row(p: &PaymentDoc, inv: &InvoiceDoc, number: i64, cumulative: Paise) -> Value {
    let total = inv.total_amount;
    let remaining = total.checked_sub(cumulative).filter(|r| !r.is_negative()).unwrap_or_default();
    let mut row = json!(PaymentWire::from(p));
    row["paymentNumber"] = json!(number);
    row["cumulativeAmount"] = json!(cumulative);
    row["remainingBalance"] = json!(remaining);
    row["percentagePaid"] =
        json!(if total.is_positive() { pct(cumulative.as_i64(), total.as_i64()).min(100.0) } else { 100.0 });
    row["daysFromInvoice"] = json!(days_between(inv.generated_at, p.paid_at));
    row
}

/// (`paymentNumber`, `cumulativeAmount`) of every payment, from all payments of their
/// invoices ordered by invoice, then `paidAt` (as `repo::payments_of_invoices` loads them):
/// counted over all of each invoice's payments, not only those of a page.
pub fn running_balances(all: &[PaymentDoc]) -> HashMap<ObjectId, (i64, Paise)> {
    let mut out = HashMap::with_capacity(all.len());
    let mut at: HashMap<ObjectId, (i64, Paise)> = HashMap::new();
    for p in all {
        let e = at.entry(p.invoice_id).or_insert((0, Paise::ZERO));
        e.0 += 1;
        e.1 = e.1.checked_add(p.amount).unwrap_or(e.1);
        out.insert(p.id, *e);
    }
    out
}

/// `{amount, method, date}` of a payment (B31 `largestPayment` / `smallestPayment`).
fn payment_brief(p: &PaymentDoc) -> Value {
    json!({ "amount": p.amount, "method": p.method, "date": wire::iso(p.paid_at) })
}

/// B31 `insights` of one invoice (`now` = when asked):
///
/// | payments | state | `paymentBehavior` | `creditRisk` |
/// | --- | --- | --- | --- |
/// | none | invoice at most 30 days old | `no_payment` | `pending_assessment` |
/// | none | older than 30 days | `overdue` | `high` |
/// | some | finalized within 7 days of the invoice | `prompt` | `low` |
/// | some | finalized within 30 days | `delayed` | `medium` |
/// | some | finalized later | `overdue` | `high` |
/// | some | not finalized, invoice at most 30 days old | `partial` | `medium` |
/// | some | not finalized, older | `partial` | `high` |
///
/// A finalized invoice without payments (nothing was owed) is `prompt` / `low`. Days are
/// whole days (`floor`), as `daysToFullPayment`. `recommendations` are free-text strings
/// (at least one).
pub fn invoice_insights(inv: &InvoiceDoc, pays: &[PaymentDoc], now: DateTime) -> Value {
    let age = days_between(inv.generated_at, now);
    let due = inv.pending();
    let (behavior, risk, advice) = match pays.last() {
        None if inv.is_finalized => ("prompt", "low", "Nothing is owed on this invoice.".to_string()),
        None if age > OVERDUE_DAYS => {
            ("overdue", "high", format!("No payment in {age} days: follow up with the customer for Rs {due}."))
        }
        None => (
            "no_payment",
            "pending_assessment",
            format!("No payment yet: remind the customer of Rs {due} before the due date {}.", inv.due_date),
        ),
        Some(last) if inv.is_finalized => match days_between(inv.generated_at, last.paid_at) {
            d if d <= ON_TIME_DAYS => ("prompt", "low", "Paid promptly: a reliable customer.".to_string()),
            d if d <= OVERDUE_DAYS => {
                ("delayed", "medium", format!("Paid in full after {d} days: a reminder in the first week may help."))
            }
            d => (
                "overdue",
                "high",
                format!("Paid in full only after {d} days: consider asking for part payment at the sale."),
            ),
        },
        Some(_) => (
            "partial",
            if age > OVERDUE_DAYS { "high" } else { "medium" },
            format!("Rs {due} is still due: follow up with the customer for the balance."),
        ),
    };
    json!({ "paymentBehavior": behavior, "creditRisk": risk, "recommendations": [advice] })
}

/// B32 `insights.recommendations` from the shop's payment summary (at least one string).
pub fn shop_recommendations(n_invoices: i64, unpaid: i64, partial: i64, due: Paise, paid: Paise) -> Vec<String> {
    let mut out = Vec::new();
    let open = due.checked_sub(paid).filter(|d| d.is_positive());
    if unpaid > 0 {
        out.push(format!("{unpaid} invoice(s) have no payment yet: follow up with those customers."));
    }
    if partial > 0 {
        out.push(format!("{partial} invoice(s) are part-paid: collect the balance."));
    }
    if let Some(open) = open {
        if paid.as_i64().saturating_mul(2) < due.as_i64() {
            out.push(format!("Less than half of the amount billed is collected: Rs {open} is still due."));
        }
    }
    if out.is_empty() {
        out.push(if n_invoices == 0 {
            "No invoices yet: payments will show here once you bill.".to_string()
        } else {
            "Every invoice is paid in full.".to_string()
        });
    }
    out
}

/// B31 over one invoice and all its payments (`paidAt` order; `now` = when asked): the
/// payment rows (running balances) and the `analytics` value (summary, timeline, method
/// breakdown, pattern, milestones, insights).
pub fn invoice_payment_history(inv: &InvoiceDoc, pays: &[PaymentDoc], now: DateTime) -> AppResult<(Vec<Value>, Value)> {
    let total = inv.total_amount;
    let mut cumulative = Paise::ZERO;
    let mut rows = Vec::new();
    let mut milestones = vec![
        json!({ "date": wire::iso(inv.generated_at), "event": "Invoice Generated", "amount": total, "balance": total }),
    ];
    for (i, p) in pays.iter().enumerate() {
        cumulative = cumulative.checked_add(p.amount).unwrap_or(cumulative);
        let remaining = total.checked_sub(cumulative).filter(|r| !r.is_negative()).unwrap_or_default();
        rows.push(payment_row(p, inv, i as i64 + 1, cumulative));
        let event = if remaining == Paise::ZERO {
            "Invoice Finalized"
        } else if i == 0 {
            "First Payment Received"
        } else {
            "Payment Received"
        };
        milestones.push(json!({ "date": wire::iso(p.paid_at), "event": event, "amount": p.amount, "balance": remaining, "method": p.method }));
    }
    let first = pays.first().map(|p| p.paid_at);
    let last = pays.last().map(|p| p.paid_at);
    let duration = match (first, last) {
        (Some(f), Some(l)) => days_between(f, l),
        _ => 0,
    };
    // the earliest payment wins a tie
    let largest = pays.iter().rev().max_by_key(|p| p.amount);
    let smallest = pays.iter().min_by_key(|p| p.amount);
    let remaining = inv.pending();
    let analytics = json!({
        "paymentSummary": {
            "totalPayments": pays.len(), "totalAmountPaid": inv.paid_amount, "totalAmountDue": total, "remainingBalance": remaining,
            "paymentCompletionRate": if total.is_positive() { pct(inv.paid_amount.as_i64(), total.as_i64()).min(100.0) } else { 100.0 },
            "isFullyPaid": inv.is_finalized, "isPending": !inv.is_finalized,
        },
        "paymentTimeline": {
            "invoiceGeneratedDate": wire::iso(inv.generated_at),
            "firstPaymentDate": first.map(wire::iso), "lastPaymentDate": last.map(wire::iso),
            "finalizedDate": inv.finalized_at.map(wire::iso),
            "daysToFirstPayment": first.map(|f| days_between(inv.generated_at, f)),
            "daysToFullPayment": inv.finalized_at.filter(|_| !pays.is_empty()).map(|f| days_between(inv.generated_at, f)),
            "totalPaymentDuration": duration,
            "averageDaysBetweenPayments": if pays.len() > 1 { ratio(duration, pays.len() as i64 - 1) } else { 0.0 },
        },
        "paymentMethodBreakdown": method_breakdown(pays)?,
        "paymentPattern": {
            "averagePaymentSize": avg(inv.paid_amount, pays.len() as i64),
            "largestPayment": largest.map(payment_brief),
            "smallestPayment": smallest.map(payment_brief),
            "initialPaymentPercentage": pays.first().map(|p| pct(p.amount.as_i64(), total.as_i64())).unwrap_or(0.0),
            "paymentFrequency": match pays.len() { 0 => "none", 1 => "single", _ => "multiple" },
            "isPartialPayment": !inv.is_finalized && inv.paid_amount.is_positive(),
        },
        "milestones": milestones,
        "insights": invoice_insights(inv, pays, now),
    });
    Ok((rows, analytics))
}

/// The shop's invoice counts that B32's summary needs: all, finalized, unpaid (nothing paid,
/// not finalized), and the shop's Σ total (`due`) and Σ paid.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShopDues {
    pub invoices: i64,
    pub finalized: i64,
    pub unpaid: i64,
    pub due: Paise,
    pub paid: Paise,
    /// Σ what is still due (issue 18: `total − credited − paid` of each invoice).
    pub pending: Paise,
}

/// B32 `analytics` over the payments of the filter (`f`) and the shop's invoices (`s`).
pub fn payment_history_analytics(f: &PaymentFacets, s: ShopDues) -> Value {
    let (n_pay, amount) = (f.n, f.amount);
    let (first, last) = (f.first, f.last);
    let methods: serde_json::Map<String, Value> = f
        .methods
        .iter()
        .map(|m| {
            (
                m.method.clone(),
                json!({ "count": m.n, "totalAmount": Paise::new(m.amount), "percentage": pct(m.amount, amount) }),
            )
        })
        .collect();
    let months: Vec<Value> =
        f.months.iter().map(|m| json!({ "month": m.month, "totalAmount": m.amount, "paymentCount": m.n })).collect();
    let (n_inv, fully, unpaid, due, paid) = (s.invoices, s.finalized, s.unpaid, s.due, s.paid);
    json!({
        "paymentSummary": {
            "totalPayments": n_pay, "totalAmountPaid": Paise::new(amount), "totalAmountDue": due,
            "remainingBalance": s.pending,
            "paymentCompletionRate": if due.is_positive() { pct(paid.as_i64(), due.as_i64()).min(100.0) } else { 0.0 },
            "totalInvoices": n_inv, "fullyPaidInvoices": fully, "partiallyPaidInvoices": n_inv - fully - unpaid, "unpaidInvoices": unpaid,
        },
        "paymentTimeline": {
            "firstPaymentDate": first.map(wire::iso), "lastPaymentDate": last.map(wire::iso),
            "totalPaymentDuration": match (first, last) { (Some(f), Some(l)) => days_between(f, l), _ => 0 },
            "averagePaymentSize": avg(Paise::new(amount), n_pay),
        },
        "paymentMethodBreakdown": methods,
        "trends": { "monthlyPayments": months },
        "insights": { "recommendations": shop_recommendations(n_inv, unpaid, n_inv - fully - unpaid, due, paid) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::reports::repo::{InvoiceSummaryRow, MethodRow, MonthRow};

    fn at(s: &str) -> DateTime {
        DateTime::parse_rfc3339_str(s).unwrap()
    }

    fn pay(invoice: ObjectId, rupees: i64, method: &str, paid_at: &str) -> PaymentDoc {
        let t = at(paid_at);
        PaymentDoc {
            id: ObjectId::new(),
            client_id: ObjectId::new(),
            invoice_id: invoice,
            amount: Paise::new(rupees * 100),
            method: method.into(),
            note: String::new(),
            paid_at: t,
            device_time: None,
            created_at: t,
            updated_at: t,
            version: 0,
            recorded_by: None,
            reference: None,
            tendered: None,
            change: None,
            kind: None,
            credit_note_id: None,
        }
    }

    #[test]
    fn ratios_averages_and_percentages() {
        assert_eq!(ratio(1, 3), 0.3333);
        assert_eq!(ratio(5, 0), 0.0);
        assert_eq!(pct(1, 8), 12.5);
        assert_eq!(pct(i64::MAX, i64::MAX), 100.0); // no i64 product
        assert_eq!(pct(3, 0), 0.0);
        // Rs 100.01 over 2 = 50.005 rounds half up to 50.01; Rs 100.00 over 3 = 33.333.. -> 33.33
        assert_eq!(avg(Paise::new(10_001), 2), Paise::new(5_001));
        assert_eq!(avg(Paise::new(10_000), 3), Paise::new(3_333));
        assert_eq!(avg(Paise::new(500), 0), Paise::ZERO);
    }

    #[test]
    fn running_balances_count_per_invoice_in_order() {
        let (a, b) = (ObjectId::new(), ObjectId::new());
        let all = [
            pay(a, 100, "cash", "2026-04-01T05:00:00Z"),
            pay(a, 50, "upi", "2026-04-02T05:00:00Z"),
            pay(b, 30, "cash", "2026-04-01T06:00:00Z"),
        ];
        let r = running_balances(&all);
        assert_eq!(r[&all[0].id], (1, Paise::new(10_000)));
        assert_eq!(r[&all[1].id], (2, Paise::new(15_000)));
        assert_eq!(r[&all[2].id], (1, Paise::new(3_000)));
    }

    #[test]
    fn method_breakdown_sums_by_method() {
        let inv = ObjectId::new();
        let pays = [
            pay(inv, 75, "cash", "2026-04-01T05:00:00Z"),
            pay(inv, 25, "upi", "2026-04-02T05:00:00Z"),
            pay(inv, 100, "cash", "2026-04-03T05:00:00Z"),
        ];
        let v = method_breakdown(&pays).unwrap();
        // cash 175 of 200 = 87.5 %, upi 25 of 200 = 12.5 %
        assert_eq!(v["cash"], json!({ "count": 2, "totalAmount": Paise::new(17_500), "percentage": 87.5 }));
        assert_eq!(v["upi"], json!({ "count": 1, "totalAmount": Paise::new(2_500), "percentage": 12.5 }));
    }

    #[test]
    fn payment_behavior_rates() {
        // 4 invoices, 2 finalized after 3 and 10 days (one on time), 1 part-paid
        let b = BehaviorRow {
            n: 4,
            finalized: 2,
            days_sum: 13,
            on_time: 1,
            partial: 1,
            methods: vec![("cash".into(), 3), ("upi".into(), 1)],
        };
        let (v, average) = payment_behavior(&b);
        assert_eq!(average, 6.5);
        assert_eq!(v["onTimePaymentRate"], json!(0.5));
        assert_eq!(v["partialPaymentFrequency"], json!(0.25));
        assert_eq!(v["paymentMethodPreference"], json!({ "cash": 3, "upi": 1 }));
        let (v, average) = payment_behavior(&BehaviorRow::default());
        assert_eq!((average, v["onTimePaymentRate"].clone()), (0.0, json!(0.0)));
    }

    #[test]
    fn invoice_analytics_keys_trend_and_growth() {
        let month = |m: &str, rupees: i64, n: i64| MonthRow { month: m.into(), amount: Paise::new(rupees * 100), n };
        let f = InvoiceFacets {
            summary: InvoiceSummaryRow {
                n: 3,
                finalized: 1,
                total: Paise::new(30_001),
                paid: Paise::new(10_000),
                pending: Paise::new(20_001),
                first: Some(at("2026-03-01T06:30:00Z")),
                last: Some(at("2026-04-10T06:30:00Z")),
                lines: 5,
                qty: 7,
            },
            items: vec![],
            groups: vec![],
            months: vec![month("2026-03", 200, 2), month("2026-04", 100, 1)],
        };
        let now = at("2026-04-30T06:30:00Z"); // 60 India days after the first invoice
        let c = invoice_analytics(&f, true, now);
        assert_eq!(c["summary"]["customerLifetimeValue"], json!(Paise::new(30_001)));
        assert_eq!(c["summary"]["averageInvoiceValue"], json!(Paise::new(10_000))); // 300.01 / 3 = 100.0033
        assert_eq!(c["summary"]["totalPending"], json!(Paise::new(20_001)));
        assert_eq!(c["timeline"]["customerTenure"], json!(60));
        assert_eq!(c["timeline"]["averageDaysBetweenPurchases"], json!(30.0));
        assert_eq!(c["timeline"]["monthlyPurchaseFrequency"], json!(1.5)); // 3 x 30 / 60
        assert_eq!(c["trends"]["purchaseFrequencyTrend"], json!("decreasing"));
        assert_eq!(c["trends"]["revenueGrowthRate"], json!(-0.5)); // 200 -> 100
        assert_eq!(c["purchasePatterns"]["averageItemsPerInvoice"], json!(1.6667));
        let s = invoice_analytics(&f, false, now);
        assert!(s["summary"].get("customerLifetimeValue").is_none());
        assert_eq!(s["summary"]["totalBusinessValue"], json!(Paise::new(30_001)));
        assert_eq!(s["trends"]["invoiceFrequencyTrend"], json!("decreasing"));
    }

    #[test]
    fn shop_payment_history_summary() {
        let f = PaymentFacets {
            n: 3,
            amount: 20_000,
            first: Some(at("2026-04-01T05:00:00Z")),
            last: Some(at("2026-04-11T05:00:00Z")),
            methods: vec![MethodRow { method: "cash".into(), n: 3, amount: 20_000 }],
            months: vec![],
        };
        let s = ShopDues {
            invoices: 4,
            finalized: 1,
            unpaid: 2,
            due: Paise::new(50_000),
            paid: Paise::new(20_000),
            pending: Paise::new(30_000),
        };
        let v = payment_history_analytics(&f, s);
        assert_eq!(v["paymentSummary"]["partiallyPaidInvoices"], json!(1));
        assert_eq!(v["paymentSummary"]["remainingBalance"], json!(Paise::new(30_000)));
        assert_eq!(v["paymentSummary"]["paymentCompletionRate"], json!(40.0));
        assert_eq!(v["paymentTimeline"]["totalPaymentDuration"], json!(10));
        assert_eq!(v["paymentTimeline"]["averagePaymentSize"], json!(Paise::new(6_667)));
        let recs = v["insights"]["recommendations"].as_array().unwrap();
        // unpaid, part-paid, and less than half collected
        assert_eq!(recs.len(), 3, "{recs:?}");
        assert_eq!(shop_recommendations(0, 0, 0, Paise::ZERO, Paise::ZERO).len(), 1);
        assert_eq!(
            shop_recommendations(2, 0, 0, Paise::new(100), Paise::new(100)),
            vec!["Every invoice is paid in full.".to_string()]
        );
    }
}
