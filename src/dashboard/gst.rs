//! The GST summary of a period (issue 18, "Reports net of returns"):
//! `GET /api/dashboard/reports/gst-summary?from=&to=`.
//!
//! * `sales`: the tax figures of the invoices generated in the window that are not cancelled
//!   (`gst.taxableValue`, `gst.cgst`, ...; an invoice of a shop without a GST profile has no
//!   `gst`: its whole `totalAmount` is its value, without tax);
//! * `returns`: the same figures of the credit notes issued in the window (by their own
//!   `issuedAt`: a September sale returned on 1 October is a September sale and an October
//!   return);
//! * `net` = `sales - returns`, figure by figure;
//! * `documents`: the documents issued in the window per series and financial year (GSTR-1
//!   table 13): the first and last number, how many, how many cancelled (a cancelled invoice
//!   keeps its number and is reported as cancelled), and the net issued.
//!
//! Every figure is the sum of its documents (MongoDB `$sum` of integer paise; checked
//! arithmetic in Rust).

use axum::{extract::State, Json};
use bson::{doc, oid::ObjectId, Bson, Document};
use futures::TryStreamExt;
use mongodb::Database;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    dashboard::{
        dto::RangeQuery,
        repo::{credit_notes, int, invoices, too_large, Window},
    },
    error::{AppError, AppResult},
    extract::{ApiQuery, AuthClient},
    money::Paise,
    openapi::ErrorBody,
    state::AppState,
    wire,
};

/// Tax figures of a set of documents, in rupees on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaxFigures {
    /// Σ taxable value (for a document without GST: its total).
    #[schema(value_type = f64)]
    pub taxable_value: Paise,
    #[schema(value_type = f64)]
    pub cgst: Paise,
    #[schema(value_type = f64)]
    pub sgst: Paise,
    #[schema(value_type = f64)]
    pub igst: Paise,
    #[schema(value_type = f64)]
    pub cess: Paise,
    /// Σ `totalAmount` (round-off included).
    #[schema(value_type = f64)]
    pub total: Paise,
    /// Documents counted.
    pub count: i64,
}

impl TaxFigures {
    /// `self - o`, figure by figure (the count too); an error when a figure leaves `i64`.
    pub fn minus(&self, o: &TaxFigures) -> AppResult<TaxFigures> {
        let d = |a: Paise, b: Paise| a.checked_sub(b).ok_or_else(too_large);
        Ok(TaxFigures {
            taxable_value: d(self.taxable_value, o.taxable_value)?,
            cgst: d(self.cgst, o.cgst)?,
            sgst: d(self.sgst, o.sgst)?,
            igst: d(self.igst, o.igst)?,
            cess: d(self.cess, o.cess)?,
            total: d(self.total, o.total)?,
            count: self.count.checked_sub(o.count).ok_or_else(too_large)?,
        })
    }

    fn from_row(d: &Document) -> TaxFigures {
        TaxFigures {
            taxable_value: Paise::new(int(d, "taxable")),
            cgst: Paise::new(int(d, "cgst")),
            sgst: Paise::new(int(d, "sgst")),
            igst: Paise::new(int(d, "igst")),
            cess: Paise::new(int(d, "cess")),
            total: Paise::new(int(d, "total")),
            count: int(d, "n"),
        }
    }
}

/// The documents of one series and financial year issued in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentRange {
    /// `invoice` (sales documents of every GST type) or `creditNote`.
    pub document: String,
    /// The number series prefix (`INV`, `BOS`, `CN`, ...).
    pub series: String,
    /// `26-27`.
    pub financial_year: String,
    /// The lowest and highest number (text order; the numbers of one series and year have one
    /// width).
    pub from: String,
    pub to: String,
    /// Documents issued, cancelled ones included.
    pub total: i64,
    pub cancelled: i64,
    /// `total - cancelled`.
    pub net_issued: i64,
}

/// `GET /api/dashboard/reports/gst-summary`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GstSummaryResponse {
    pub success: bool,
    pub from: String,
    pub to: String,
    /// Invoices generated in the window, not cancelled (gross).
    pub sales: TaxFigures,
    /// Credit notes issued in the window.
    pub returns: TaxFigures,
    /// `sales - returns`.
    pub net: TaxFigures,
    /// Invoices (cancelled included, counted apart) and credit notes issued in the window.
    pub documents: Vec<DocumentRange>,
}

/// The `$group` fields of [`TaxFigures`] with `prefix` (`$gst.` for invoices, `$` for credit
/// notes); a document without the taxable value counts its total as its value.
fn tax_group(prefix: &str) -> Document {
    let f = |k: &str| Bson::Document(doc! { "$ifNull": [format!("{prefix}{k}"), 0_i64] });
    let mut g = doc! {
        "taxable": { "$sum": { "$ifNull": [format!("{prefix}taxableValue"), "$totalAmount"] } },
        "cgst": { "$sum": f("cgst") },
        "sgst": { "$sum": f("sgst") },
        "igst": { "$sum": f("igst") },
        "cess": { "$sum": f("cess") },
        "total": { "$sum": "$totalAmount" },
        "n": { "$sum": 1_i64 },
    };
    g.insert("_id", Bson::Null);
    g
}

/// The number ranges of a collection's documents matching `m`.
fn ranges(m: Document, number: &str, cancelled: Bson) -> Vec<Document> {
    vec![
        doc! { "$match": m },
        doc! { "$match": { number: { "$type": "string" } } },
        doc! { "$group": {
            "_id": { "s": { "$ifNull": ["$series", "INV"] }, "fy": { "$ifNull": ["$financialYear", ""] } },
            "from": { "$min": format!("${number}") },
            "to": { "$max": format!("${number}") },
            "n": { "$sum": 1_i64 },
            "x": { "$sum": { "$cond": [cancelled, 1_i64, 0_i64] } },
        } },
        doc! { "$sort": { "_id.s": 1, "_id.fy": 1 } },
    ]
}

fn range_rows(rows: &[Document], document: &str) -> Vec<DocumentRange> {
    rows.iter()
        .map(|d| {
            let id = d.get_document("_id").ok();
            let s = |k: &str| id.and_then(|i| i.get_str(k).ok()).unwrap_or("").to_string();
            let (total, cancelled) = (int(d, "n"), int(d, "x"));
            DocumentRange {
                document: document.to_string(),
                series: s("s"),
                financial_year: s("fy"),
                from: d.get_str("from").unwrap_or("").to_string(),
                to: d.get_str("to").unwrap_or("").to_string(),
                total,
                cancelled,
                net_issued: total - cancelled,
            }
        })
        .collect()
}

/// The summary's figures over the window (four small aggregations, run concurrently).
pub async fn summary(
    db: &Database,
    client: ObjectId,
    w: Window,
) -> AppResult<(TaxFigures, TaxFigures, Vec<DocumentRange>)> {
    let mut inv_m = doc! { "clientId": client };
    inv_m.extend(w.filter("generatedAt"));
    let mut cn_m = doc! { "clientId": client };
    cn_m.extend(w.filter("issuedAt"));
    let mut sold = inv_m.clone();
    sold.extend(crate::dashboard::repo::not_cancelled());
    let sales_p = vec![doc! { "$match": sold }, doc! { "$group": tax_group("$gst.") }];
    let returns_p = vec![doc! { "$match": cn_m.clone() }, doc! { "$group": tax_group("$") }];
    let inv_ranges = ranges(inv_m, "invoiceNumber", Bson::Document(doc! { "$eq": ["$isCancelled", true] }));
    let cn_ranges = ranges(cn_m, "creditNoteNumber", Bson::Boolean(false));
    let (s, r, ir, cr): (Vec<Document>, Vec<Document>, Vec<Document>, Vec<Document>) = tokio::try_join!(
        async { Ok::<_, AppError>(invoices(db).aggregate(sales_p).await?.try_collect().await?) },
        async { Ok::<_, AppError>(credit_notes(db).aggregate(returns_p).await?.try_collect().await?) },
        async { Ok::<_, AppError>(invoices(db).aggregate(inv_ranges).await?.try_collect().await?) },
        async { Ok::<_, AppError>(credit_notes(db).aggregate(cn_ranges).await?.try_collect().await?) },
    )?;
    let one = |v: &[Document]| v.first().map(TaxFigures::from_row).unwrap_or_default();
    let mut docs = range_rows(&ir, "invoice");
    docs.extend(range_rows(&cr, "creditNote"));
    Ok((one(&s), one(&r), docs))
}

/// GST summary.
///
/// Taxable value, CGST, SGST, IGST, cess and totals of the invoices generated in `from`/`to`
/// (default: this India month) that are not cancelled (gross), of the credit notes issued in
/// it (returns, by their own date) and the net; and the documents issued per series with the
/// cancelled ones counted apart (GSTR-1 table 13).
#[utoipa::path(get, path = "/dashboard/reports/gst-summary", tag = "dashboard", security(("bearer" = [])), params(RangeQuery),
    responses((status = 200, body = GstSummaryResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    extensions(("x-permission" = json!("sales_view"))),
)]
pub async fn gst_summary(
    State(state): State<AppState>,
    auth: AuthClient,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<GstSummaryResponse>> {
    let w = crate::dashboard::handlers::window_or_month(&q)?;
    let (sales, returns, documents) = summary(&state.db, auth.client_id, w).await?;
    Ok(Json(GstSummaryResponse {
        success: true,
        from: w.from.map(wire::iso).unwrap_or_default(),
        to: w.to.map(wire::iso).unwrap_or_default(),
        net: sales.minus(&returns)?,
        sales,
        returns,
        documents,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_is_sales_minus_returns_figure_by_figure_and_never_wraps() {
        let p = Paise::new;
        let sales = TaxFigures {
            taxable_value: p(14_249),
            cgst: p(1_282),
            sgst: p(1_282),
            igst: p(0),
            cess: p(0),
            total: p(16_800),
            count: 1,
        };
        // known answer A's return of 1 of 3 units: 47.50 + 4.27 + 4.27, a note of 56.00
        let ret = TaxFigures {
            taxable_value: p(4_750),
            cgst: p(427),
            sgst: p(427),
            igst: p(0),
            cess: p(0),
            total: p(5_600),
            count: 1,
        };
        let net = sales.minus(&ret).unwrap();
        assert_eq!(
            (net.taxable_value, net.cgst, net.sgst, net.total, net.count),
            (p(9_499), p(855), p(855), p(11_200), 0)
        );
        let huge = TaxFigures { total: p(i64::MIN), ..Default::default() };
        assert!(huge.minus(&ret).is_err(), "an out-of-range figure is an error, not a wrapped one");
    }

    #[test]
    fn document_ranges_count_cancelled_apart() {
        let rows = vec![doc! {
            "_id": { "s": "INV", "fy": "26-27" }, "from": "INV/26-27/00001", "to": "INV/26-27/00009",
            "n": 9_i64, "x": 2_i64,
        }];
        let r = range_rows(&rows, "invoice");
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].total, r[0].cancelled, r[0].net_issued), (9, 2, 7));
        assert_eq!(
            (r[0].from.as_str(), r[0].to.as_str(), r[0].series.as_str()),
            ("INV/26-27/00001", "INV/26-27/00009", "INV")
        );
    }
}
