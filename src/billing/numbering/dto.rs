//! Wire types of bill books and device series.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    billing::numbering::{BillBookDoc, DeviceSeriesDoc},
    wire,
};

/// Register a paper bill book. Its leaves print `prefix` + the serial zero-padded to the
/// digits of `lastSerial` (`{prefix: "B7/", firstSerial: 1, lastSerial: 100}` prints
/// `B7/001`..`B7/100`); the largest must be at most 16 characters (GST rule 46).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBookRequest {
    /// The book's number, 1 to 20 characters, unique per shop and financial year.
    pub book_no: String,
    /// Letters, digits, `-` and `/`; may be empty.
    #[serde(default)]
    pub prefix: String,
    pub first_serial: i64,
    /// At most 10,000 leaves.
    pub last_serial: i64,
    /// `26-27`; default the current financial year in India.
    pub financial_year: Option<String>,
}

/// Edit a book: any field; a book with a used or cancelled leaf keeps its prefix and first
/// serial (409 `BOOK_IN_USE`), and its last serial may not drop below a used or cancelled leaf.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateBookRequest {
    pub book_no: Option<String>,
    pub prefix: Option<String>,
    pub first_serial: Option<i64>,
    pub last_serial: Option<i64>,
}

/// Mark a leaf spoilt or cancelled.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelSerialRequest {
    pub serial: i64,
    /// 1 to 200 characters.
    pub reason: String,
}

/// `?financialYear=26-27` filters the list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct BooksQuery {
    pub financial_year: Option<String>,
}

/// A cancelled leaf.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelledWire {
    pub serial: i64,
    pub number: String,
    pub reason: String,
    pub at: String,
}

/// A bill book.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub book_no: String,
    pub prefix: String,
    pub first_serial: i64,
    pub last_serial: i64,
    /// Digits the serial is padded to.
    pub width: u32,
    pub financial_year: String,
    /// The printed numbers of the first and last leaves.
    pub first_number: String,
    pub last_number: String,
    pub used_count: i64,
    pub cancelled: Vec<CancelledWire>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "__v")]
    pub v: i32,
}

impl From<&BillBookDoc> for BookWire {
    fn from(b: &BillBookDoc) -> Self {
        BookWire {
            id: b.id.to_hex(),
            book_no: b.book_no.clone(),
            prefix: b.prefix.clone(),
            first_serial: b.first_serial,
            last_serial: b.last_serial,
            width: b.width,
            financial_year: b.financial_year.clone(),
            first_number: b.number(b.first_serial),
            last_number: b.number(b.last_serial),
            used_count: b.used_count,
            cancelled: b
                .cancelled
                .iter()
                .map(|c| CancelledWire {
                    serial: c.serial,
                    number: b.number(c.serial),
                    reason: c.reason.clone(),
                    at: wire::iso(c.at),
                })
                .collect(),
            created_at: wire::iso(b.created_at),
            updated_at: wire::iso(b.updated_at),
            v: b.version,
        }
    }
}

/// One book.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookResponse {
    pub success: bool,
    pub book: BookWire,
}

/// The shop's books.
#[derive(Debug, Serialize, ToSchema)]
pub struct BooksResponse {
    pub success: bool,
    pub books: Vec<BookWire>,
}

/// A leaf entered as a bill.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsedLeafWire {
    pub serial: i64,
    pub number: String,
    pub invoice_id: String,
}

/// The leaves of a book: used (entered as bills), cancelled, and unused (neither), by serial.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookReportResponse {
    pub success: bool,
    pub book: BookWire,
    pub used: Vec<UsedLeafWire>,
    pub cancelled: Vec<CancelledWire>,
    /// Serials neither used nor cancelled.
    pub unused: Vec<i64>,
}

/// Allot the calling device its series (no fields; `financialYear` defaults to the current one).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllotSeriesRequest {
    pub financial_year: Option<String>,
}

/// A v2 device's number series.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeriesWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub device_id: String,
    pub financial_year: String,
    pub code: String,
    /// Numbers are `prefix` + a five-digit sequence from 00001.
    pub prefix: String,
    pub width: u32,
    /// The highest sequence received so far (0: none).
    pub highest: i64,
    pub used_count: i64,
    /// The next sequence and number after the highest received.
    pub next_seq: i64,
    pub next_number: String,
}

impl From<&DeviceSeriesDoc> for SeriesWire {
    fn from(d: &DeviceSeriesDoc) -> Self {
        SeriesWire {
            id: d.id.to_hex(),
            device_id: d.device_id.clone(),
            financial_year: d.financial_year.clone(),
            code: d.code.clone(),
            prefix: d.prefix.clone(),
            width: super::rules::SERIES_WIDTH,
            highest: d.highest,
            used_count: d.used_count,
            next_seq: d.highest + 1,
            next_number: d.number(d.highest + 1),
        }
    }
}

/// A device's series.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesResponse {
    pub success: bool,
    pub series: SeriesWire,
}

/// A series and the numbers missing below its highest (gaps: bills not received yet).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeriesDetailResponse {
    pub success: bool,
    pub series: SeriesWire,
    /// Missing numbers, ascending (at most 1,000 listed).
    pub missing: Vec<String>,
    pub missing_count: i64,
}

/// A paper bill entered later (seed 004 `offlineBillRef`): the book (by `bookId`, or by
/// `bookNo` in `financialYear`, default the year of the bill's date) and the leaf's serial.
/// The invoice keeps the leaf's printed number.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfflineBillRefInput {
    pub book_id: Option<String>,
    pub book_no: Option<String>,
    pub financial_year: Option<String>,
    pub serial: i64,
}

impl OfflineBillRefInput {
    /// The checked reference (errors under `field`: `offlineBillRef.bookId`, ...): exactly
    /// one of `bookId` (an id) and `bookNo`; a valid `financialYear` when sent.
    pub fn parse(&self, e: &mut crate::validate::Errors, field: &str) -> Option<super::PrintedRef> {
        let id = self.book_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let no = self.book_no.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let fy = self.financial_year.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if let Some(f) = fy.filter(|f| !super::rules::valid_fy(f)) {
            e.add(&format!("{field}.financialYear"), format!("{f} must look like 26-27"));
            return None;
        }
        let book = match (id, no) {
            (Some(i), None) => super::BookKey::Id(e.oid(&format!("{field}.bookId"), i)?),
            (None, Some(n)) => super::BookKey::No { book_no: n.to_string(), financial_year: fy.map(str::to_string) },
            _ => {
                e.add(&format!("{field}.bookId"), "send bookId or bookNo (one of them)");
                return None;
            }
        };
        Some(super::PrintedRef::Book { book, serial: self.serial })
    }
}

/// The leaf a paper bill was written on, as the invoice answers it (`offlineBillRef`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfflineBillRefWire {
    pub book_id: String,
    pub book_no: String,
    pub serial: i64,
}

impl From<&super::OfflineBillRef> for OfflineBillRefWire {
    fn from(r: &super::OfflineBillRef) -> Self {
        OfflineBillRefWire { book_id: r.book_id.to_hex(), book_no: r.book_no.clone(), serial: r.serial }
    }
}

/// A device series number as the invoice answers it (`deviceSeries`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeriesNumberWire {
    pub series_id: String,
    pub seq: i64,
}

impl From<&super::SeriesNumber> for SeriesNumberWire {
    fn from(s: &super::SeriesNumber) -> Self {
        SeriesNumberWire { series_id: s.series_id.to_hex(), seq: s.seq }
    }
}
