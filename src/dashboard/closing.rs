//! The cashier's day-closing report (issue 15, "who did it"): for one India day, one row per
//! user who billed or collected (invoices and sales they billed, `billedBy`; payments they
//! recorded, `recordedBy`, split by method; refunds), and the shop's total.
//! `GET /api/dashboard/reports/day-closing`, JSON or CSV.
//!
//! Definitions (docs/API.md, "Day closing"): a sale belongs to the India day of its
//! `generatedAt` and to its `billedBy` user; a collection to the India day of the payment's
//! `paidAt` and to its `recordedBy` user (a payment taken with a sale is recorded by who billed
//! it). Every invoice and payment of the day counts, as in the day book (the shop total's
//! `sales` and `collected` equal the day book's `sales` and `collections` for that date):
//! issue 18, a cancelled invoice is no sale, and a refund (a negative payment, `kind:
//! "refund"`) is netted out of its method's column and `collected` and summed, positive, in
//! `refunds` (the day book's `refunds`).
//! Documents written before users were recorded have no user: they form one row with
//! `userId: null` (`(not recorded)`). Money is summed from the stored paise by MongoDB
//! (`$sum` of integers) and in Rust with checked arithmetic; no floats.
//!
//! Who may ask (the route declares `sell`): a user with `sales_view` any date and any user
//! (`userId` narrows the rows to that user); anyone else (a cashier) only their own figures
//! for today in India: another date or another user's id is a 403 `FORBIDDEN`.

use std::collections::BTreeMap;

use axum::{
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    Json,
};
use bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use chrono::NaiveDate;
use futures::TryStreamExt;
use mongodb::Database;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    access::Permission,
    csv,
    dashboard::repo::{int, invoices, payments, too_large, Window, KIND_REFUND},
    error::{code, AppError, AppResult},
    extract::{ApiQuery, AuthClient},
    money::Paise,
    openapi::ErrorBody,
    state::AppState,
    time,
};

/// The payment methods with a column of their own (the `method` values a payment may have
/// today, `billing::model::METHODS`); a stored value outside them is counted as `other`.
pub const METHODS: [&str; 5] = ["cash", "upi", "card", "bank", "other"];

/// Query of the day-closing report.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayClosingQuery {
    /// `YYYY-MM-DD`, an India day (default: today in India). Without `sales_view` only today.
    pub date: Option<String>,
    /// Only this user's row (24-hex user id; the owner's is the shop's id). Without
    /// `sales_view` only one's own id.
    #[serde(rename = "userId")]
    pub user_id: Option<String>,
    /// `json` (default) or `csv` (or `Accept: text/csv`).
    pub format: Option<String>,
}

/// Collections by payment method, in rupees.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ByMethod {
    #[schema(value_type = f64)]
    pub cash: Paise,
    #[schema(value_type = f64)]
    pub upi: Paise,
    #[schema(value_type = f64)]
    pub card: Paise,
    #[schema(value_type = f64)]
    pub bank: Paise,
    /// Every other stored method.
    #[schema(value_type = f64)]
    pub other: Paise,
}

impl ByMethod {
    fn slot(&mut self, method: &str) -> &mut Paise {
        match method {
            "cash" => &mut self.cash,
            "upi" => &mut self.upi,
            "card" => &mut self.card,
            "bank" => &mut self.bank,
            _ => &mut self.other,
        }
    }

    fn get(&self, method: &str) -> Paise {
        let mut c = *self;
        *c.slot(method)
    }

    /// In [`METHODS`] order.
    fn values(&self) -> [Paise; 5] {
        [self.cash, self.upi, self.card, self.bank, self.other]
    }
}

/// The figures of one user, or of the shop, for the day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClosingFigures {
    /// Invoices billed.
    pub invoices: i64,
    /// Their `totalAmount`, in rupees.
    #[schema(value_type = f64)]
    pub sales: Paise,
    /// Payments recorded (refunds not counted).
    pub payments: i64,
    /// Their amounts by method net of the refunds paid out in that method, in rupees.
    pub collections: ByMethod,
    /// All collections, in rupees (the sum of `collections`).
    #[schema(value_type = f64)]
    pub collected: Paise,
    /// Money given back (issue 18: refund payments recorded by the user, a positive sum), in
    /// rupees. `collections` and `collected` are already net of them (what the drawer holds).
    #[schema(value_type = f64)]
    pub refunds: Paise,
}

impl ClosingFigures {
    fn add(&mut self, o: &ClosingFigures) -> AppResult<()> {
        let sum = |a: Paise, b: Paise| a.checked_add(b).ok_or_else(too_large);
        self.invoices = self.invoices.checked_add(o.invoices).ok_or_else(too_large)?;
        self.sales = sum(self.sales, o.sales)?;
        self.payments = self.payments.checked_add(o.payments).ok_or_else(too_large)?;
        for m in METHODS {
            let v = o.collections.get(m);
            let slot = self.collections.slot(m);
            *slot = sum(*slot, v)?;
        }
        self.collected = sum(self.collected, o.collected)?;
        self.refunds = sum(self.refunds, o.refunds)?;
        Ok(())
    }
}

/// One user's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClosingRow {
    /// The user (24 hex; the owner's is the shop's id); `null` for documents written before
    /// users were recorded.
    pub user_id: Option<String>,
    /// The user's name as recorded on their latest document of the day; `(not recorded)`.
    pub name: String,
    #[serde(flatten)]
    pub figures: ClosingFigures,
}

/// `GET /api/dashboard/reports/day-closing` (JSON).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayClosingResponse {
    pub success: bool,
    /// The India day, `YYYY-MM-DD`.
    pub date: String,
    /// One row per user who billed or collected that day (by name, then id; the unrecorded
    /// row last).
    pub users: Vec<ClosingRow>,
    /// The sum of the rows.
    pub total: ClosingFigures,
}

/// The name of the row of documents without a user.
pub const UNRECORDED: &str = "(not recorded)";
/// The name of the CSV total row.
pub const TOTAL: &str = "Shop total";

/// What one grouped invoice or payment row of the day adds to a user's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub user: Option<ObjectId>,
    /// The name on the user's latest document of the group.
    pub name: String,
    /// When that latest document was written (the newest name wins across groups).
    pub at: DateTime,
    pub figures: ClosingFigures,
}

/// Fold the grouped rows into the report's rows and total (pure; unit-tested).
pub fn fold(groups: Vec<Group>) -> AppResult<(Vec<ClosingRow>, ClosingFigures)> {
    let mut by_user: BTreeMap<Option<ObjectId>, (String, DateTime, ClosingFigures)> = BTreeMap::new();
    let mut total = ClosingFigures::default();
    for g in groups {
        total.add(&g.figures)?;
        let e = by_user.entry(g.user).or_insert_with(|| (g.name.clone(), g.at, ClosingFigures::default()));
        if g.at > e.1 {
            (e.0, e.1) = (g.name.clone(), g.at);
        }
        e.2.add(&g.figures)?;
    }
    let mut rows: Vec<ClosingRow> = by_user
        .into_iter()
        .map(|(user, (name, _, figures))| ClosingRow {
            user_id: user.map(|u| u.to_hex()),
            name: if user.is_some() { name } else { UNRECORDED.to_string() },
            figures,
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.user_id.is_none(), a.name.to_lowercase(), &a.user_id).cmp(&(
            b.user_id.is_none(),
            b.name.to_lowercase(),
            &b.user_id,
        ))
    });
    Ok((rows, total))
}

/// The day and user a caller may see: with `sales_view` what they ask (default today, every
/// user); without it only `me` today, and anything else is a 403 `FORBIDDEN`.
pub fn scope(
    sales_view: bool,
    me: ObjectId,
    today: NaiveDate,
    date: Option<NaiveDate>,
    user: Option<ObjectId>,
) -> AppResult<(NaiveDate, Option<ObjectId>)> {
    let day = date.unwrap_or(today);
    if sales_view {
        return Ok((day, user));
    }
    if day != today || user.is_some_and(|u| u != me) {
        return Err(AppError::forbidden(
            code::FORBIDDEN,
            "Without sales_view only your own day closing for today can be seen",
        ));
    }
    Ok((day, Some(me)))
}

/// `[00:00, 24:00)` of India day `d`, as an inclusive window.
fn india_day(d: NaiveDate) -> Window {
    let next = d + chrono::Days::new(1);
    Window {
        from: Some(time::ist_midnight(d)),
        to: Some(DateTime::from_millis(time::ist_midnight(next).timestamp_millis() - 1)),
    }
}

fn user_of(d: &Document) -> Option<ObjectId> {
    match d.get_document("_id").ok()?.get("u") {
        Some(Bson::ObjectId(o)) => Some(*o),
        _ => None,
    }
}

fn last_name(d: &Document) -> (String, DateTime) {
    let last = d.get_document("last").ok();
    (
        last.and_then(|l| l.get_str("n").ok()).unwrap_or_default().to_string(),
        last.and_then(|l| l.get_datetime("at").ok()).copied().unwrap_or(DateTime::MIN),
    )
}

/// `m` and not cancelled (issue 18: a cancelled invoice is no sale).
fn with_not_cancelled(mut m: Document) -> Document {
    m.extend(crate::dashboard::repo::not_cancelled());
    m
}

/// The day's invoices grouped by `billedBy.userId` and its payments by (`recordedBy.userId`,
/// method), as [`Group`]s (two aggregations; `user` narrows both).
pub async fn groups(db: &Database, client: ObjectId, w: Window, user: Option<ObjectId>) -> AppResult<Vec<Group>> {
    let matching = |who: &str, at: &str| {
        let mut m = doc! { "clientId": client };
        m.extend(w.filter(at));
        if let Some(u) = user {
            m.insert(format!("{who}.userId"), u);
        }
        m
    };
    let inv = vec![
        doc! { "$match": with_not_cancelled(matching("billedBy", "generatedAt")) },
        doc! { "$group": {
            "_id": { "u": "$billedBy.userId" },
            "n": { "$sum": 1_i64 },
            "sales": { "$sum": "$totalAmount" },
            "last": { "$max": { "at": "$generatedAt", "n": "$billedBy.name" } },
        } },
    ];
    let pay = vec![
        doc! { "$match": matching("recordedBy", "paidAt") },
        doc! { "$group": {
            "_id": { "u": "$recordedBy.userId", "m": "$method", "r": { "$eq": ["$kind", KIND_REFUND] } },
            "n": { "$sum": 1_i64 },
            "amount": { "$sum": "$amount" },
            "last": { "$max": { "at": "$paidAt", "n": "$recordedBy.name" } },
        } },
    ];
    let (i, p): (Vec<Document>, Vec<Document>) = tokio::try_join!(
        async { Ok::<_, AppError>(invoices(db).aggregate(inv).await?.try_collect().await?) },
        async { Ok::<_, AppError>(payments(db).aggregate(pay).await?.try_collect().await?) },
    )?;
    let mut out = Vec::with_capacity(i.len() + p.len());
    for d in &i {
        let (name, at) = last_name(d);
        let figures =
            ClosingFigures { invoices: int(d, "n"), sales: Paise::new(int(d, "sales")), ..Default::default() };
        out.push(Group { user: user_of(d), name, at, figures });
    }
    for d in &p {
        let (name, at) = last_name(d);
        let amount = Paise::new(int(d, "amount"));
        let key = d.get_document("_id").ok();
        let method = key.and_then(|k| k.get_str("m").ok()).unwrap_or("other");
        let refund = key.and_then(|k| k.get_bool("r").ok()).unwrap_or(false);
        let figures = payment_figures(method, refund, int(d, "n"), amount)?;
        out.push(Group { user: user_of(d), name, at, figures });
    }
    Ok(out)
}

/// What `n` payment documents of one method summing to `amount` add to a user's figures
/// (pure; unit-tested). Payments count in `payments`; refunds (issue 18, stored negative)
/// do not: they are netted in their method's column and `collected` (what the drawer
/// holds) and summed, positive, in `refunds`.
pub fn payment_figures(method: &str, refund: bool, n: i64, amount: Paise) -> AppResult<ClosingFigures> {
    let mut figures = ClosingFigures { collected: amount, ..Default::default() };
    if refund {
        figures.refunds = Paise::ZERO.checked_sub(amount).ok_or_else(too_large)?;
    } else {
        figures.payments = n;
    }
    *figures.collections.slot(method) = amount;
    Ok(figures)
}

const HEADER: [&str; 13] = [
    "date",
    "userId",
    "name",
    "invoices",
    "sales",
    "cash",
    "upi",
    "card",
    "bank",
    "other",
    "payments",
    "collected",
    "refunds",
];

fn csv_record(date: &str, user: &str, name: &str, f: &ClosingFigures) -> String {
    let mut fields =
        vec![csv::field(date), csv::field(user), csv::field(name), f.invoices.to_string(), csv::rupees(f.sales)];
    fields.extend(f.collections.values().into_iter().map(csv::rupees));
    fields.extend([f.payments.to_string(), csv::rupees(f.collected), csv::rupees(f.refunds)]);
    csv::record(&fields)
}

/// The CSV body: the header, a row per user (the unrecorded row with an empty `userId`), and
/// the shop total (empty `userId`, name `Shop total`). Amounts in rupees with 2 decimals.
pub fn to_csv(date: &str, rows: &[ClosingRow], total: &ClosingFigures) -> String {
    let mut out = csv::record(&HEADER.map(String::from));
    for r in rows {
        out.push_str(&csv_record(date, r.user_id.as_deref().unwrap_or(""), &r.name, &r.figures));
    }
    out.push_str(&csv_record(date, "", TOTAL, total));
    out
}

/// Day closing (JSON or CSV).
///
/// For one India day (`date`, default today): one row per user who billed or collected
/// (invoices and sales billed, payments recorded by method, refunds), and the shop total. A
/// user with `sales_view` may ask any day and any user (`userId`); anyone else only their own
/// row for today (403 `FORBIDDEN` otherwise). Refunds (issue 18) are counted in their own
/// column and netted out of the method columns.
#[utoipa::path(get, path = "/dashboard/reports/day-closing", tag = "dashboard", security(("bearer" = [])), params(DayClosingQuery),
    responses(
        (status = 200, description = "JSON, or RFC 4180 CSV (header row, a row per user, then the `Shop total` row; amounts in rupees with 2 decimals) for `format=csv` or `Accept: text/csv`",
            content((DayClosingResponse = "application/json"), (String = "text/csv"))),
        (status = 400, description = "Malformed date, userId or format", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN: without sales_view, another day or another user", body = ErrorBody)),
    extensions(("x-permission" = json!("sell"))),
)]
pub async fn day_closing(
    State(state): State<AppState>,
    auth: AuthClient,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<DayClosingQuery>,
) -> AppResult<Response> {
    let date = match q.date.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(time::parse_date(s).ok_or_else(|| AppError::validation("query.date", "must be YYYY-MM-DD"))?),
    };
    let user = q
        .user_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|u| crate::validate::oid("query.userId", u))
        .transpose()?;
    let wants_csv = csv::wants_csv(q.format.as_deref(), &headers)?;
    let today = time::ist_date(state.clock.now());
    let (day, user) = scope(auth.can(Permission::SalesView), auth.user.user_id, today, date, user)?;
    let (users, total) = fold(groups(&state.db, auth.client_id, india_day(day), user).await?)?;
    let date = day.format("%Y-%m-%d").to_string();
    if wants_csv {
        let body = to_csv(&date, &users, &total);
        return Ok(csv::attachment(&format!("day-closing-{date}.csv"), body));
    }
    Ok(Json(DayClosingResponse { success: true, date, users, total }).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(r: i64) -> Paise {
        Paise::new(r)
    }

    fn sale(user: Option<ObjectId>, name: &str, at: i64, n: i64, paise: i64) -> Group {
        let figures = ClosingFigures { invoices: n, sales: p(paise), ..Default::default() };
        Group { user, name: name.into(), at: DateTime::from_millis(at), figures }
    }

    fn paid(user: Option<ObjectId>, name: &str, at: i64, method: &str, paise: i64) -> Group {
        let mut figures = ClosingFigures { payments: 1, collected: p(paise), ..Default::default() };
        *figures.collections.slot(method) = p(paise);
        Group { user, name: name.into(), at: DateTime::from_millis(at), figures }
    }

    #[test]
    fn groups_fold_into_one_row_per_user_and_a_total() {
        let (a, b) = (ObjectId::new(), ObjectId::new());
        let groups = vec![
            sale(Some(a), "Kiran", 1, 2, 10_050),
            paid(Some(a), "Kiran K", 5, "upi", 5_025),
            paid(Some(a), "Kiran", 3, "cheque", 100),
            sale(Some(b), "arun", 2, 1, 99),
            paid(None, "", 4, "cash", 1),
        ];
        let (rows, total) = fold(groups).unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, vec!["arun", "Kiran K", UNRECORDED], "by name, latest name, unrecorded last");
        let k = &rows[1].figures;
        assert_eq!((k.invoices, k.sales, k.payments, k.collected), (2, p(10_050), 2, p(5_125)));
        assert_eq!((k.collections.upi, k.collections.other, k.collections.cash), (p(5_025), p(100), p(0)));
        assert_eq!(
            total,
            ClosingFigures {
                invoices: 3,
                sales: p(10_149),
                payments: 3,
                collections: ByMethod { cash: p(1), upi: p(5_025), other: p(100), ..Default::default() },
                collected: p(5_126),
                refunds: p(0),
            }
        );
        let over = vec![sale(Some(a), "x", 0, 1, i64::MAX), sale(Some(b), "y", 0, 1, 1)];
        assert!(fold(over).is_err(), "a total beyond i64 paise is an error, never a wrapped figure");
    }

    #[test]
    fn refunds_are_netted_in_their_method_and_counted_apart() {
        let a = ObjectId::new();
        let g = |method: &str, refund: bool, n: i64, paise: i64| Group {
            user: Some(a),
            name: "Kiran".into(),
            at: DateTime::from_millis(1),
            figures: payment_figures(method, refund, n, p(paise)).unwrap(),
        };
        // 2 cash payments of 500 in all, 1 upi 300; 1 cash refund of 120, 1 upi refund of 300
        let (rows, total) = fold(vec![
            g("cash", false, 2, 50_000),
            g("upi", false, 1, 30_000),
            g("cash", true, 1, -12_000),
            g("upi", true, 1, -30_000),
        ])
        .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (total.payments, total.collections.cash, total.collections.upi, total.collected, total.refunds),
            (3, p(38_000), p(0), p(38_000), p(42_000)),
            "net 500 - 120 cash, 300 - 300 upi; 420 given back; refunds are not payments"
        );
        // the shop total's collected is the sum of every payment document (refunds negative)
        assert_eq!(total.collected, p(50_000 + 30_000 - 12_000 - 30_000));
    }

    #[test]
    fn without_sales_view_only_ones_own_day_today() {
        let (me, other) = (ObjectId::new(), ObjectId::new());
        let today = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default();
        let yesterday = today.pred_opt().unwrap_or_default();
        assert_eq!(scope(false, me, today, None, None).ok(), Some((today, Some(me))));
        assert_eq!(scope(false, me, today, Some(today), Some(me)).ok(), Some((today, Some(me))));
        assert!(scope(false, me, today, Some(yesterday), None).is_err());
        assert!(scope(false, me, today, None, Some(other)).is_err());
        assert_eq!(scope(true, me, today, Some(yesterday), None).ok(), Some((yesterday, None)));
        assert_eq!(scope(true, me, today, None, Some(other)).ok(), Some((today, Some(other))));
    }

    #[test]
    fn csv_has_a_row_per_user_and_the_total() {
        let a = ObjectId::new();
        let (rows, total) =
            fold(vec![sale(Some(a), "Kiran, K", 1, 1, 12_345), paid(Some(a), "Kiran, K", 1, "cash", 5)]).unwrap();
        let body = to_csv("2026-11-20", &rows, &total);
        let lines: Vec<&str> = body.split("\r\n").collect();
        assert_eq!(lines[0], HEADER.join(","));
        assert_eq!(
            lines[1],
            format!("2026-11-20,{},\"Kiran, K\",1,123.45,0.05,0.00,0.00,0.00,0.00,1,0.05,0.00", a.to_hex())
        );
        assert_eq!(lines[2], "2026-11-20,,Shop total,1,123.45,0.05,0.00,0.00,0.00,0.00,1,0.05,0.00");
        assert_eq!(lines[3], "", "CRLF-terminated");
    }
}
