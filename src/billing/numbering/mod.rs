//! Invoice numbers printed outside the server (issue 17): paper bill books and v2 device
//! number series.
//!
//! GST rule 46(b) asks for a consecutive serial number, unique per financial year, of at
//! most 16 characters (letters, digits, `-` and `/`), and allows several series. Besides the
//! server's own counter (`INV/26-27/00042`, `billing::decide::format_number`) a shop has:
//!
//! - **paper bill books** ([`BillBookDoc`], `/api/business/bill-books`): pre-printed books
//!   the counter writes bills from while the system is down (seed 004 `offlineBillRef`). A
//!   leaf's number is `prefix` + the serial zero-padded to `width` (the digits of
//!   `lastSerial` at registration: book `B7`, serials 1..100 -> `B7001`..`B7100`). A sale
//!   entered later names the leaf (`offlineBillRef: {bookId | bookNo, serial}`) and keeps
//!   that number; no counter number is taken.
//! - **device series** ([`DeviceSeriesDoc`], `POST /api/v2/sync/series`): a v2 device's own
//!   series for a financial year (`D1-26-27/00001`), so the bill it prints offline is the tax
//!   invoice; a pushed `invoice.create` carries its `invoiceNumber`.
//!
//! The rules are pure ([`rules`]: the number of a leaf, the collision check between series,
//! [`rules::assign`] which `billing::decide::sale` calls on every door); the invariants are
//! MongoDB's (migration 0022): one number per shop (`uniq_client_number` on invoices), one
//! invoice per leaf and per series number, book numbers unique per shop and year, a device
//! series per device and year with a prefix unique per shop and year. Registrations of one
//! shop and year are serialised by a write to the counter `numbering:<client>:<fy>` in their
//! transaction, so two overlapping books registered at once cannot both pass the check.

pub mod dto;
pub mod handlers;
pub mod repo;
pub mod rules;
pub mod service;

use std::collections::HashSet;

use bson::{oid::ObjectId, DateTime};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// The collection of paper bill books.
pub const BILL_BOOKS: &str = "billbooks";
/// The collection of v2 device number series.
pub const DEVICE_SERIES: &str = "deviceseries";
/// The code of a 409 for a number (leaf or series number) already used, or a cancelled leaf.
pub const NUMBER_USED: &str = "NUMBER_USED";
/// The code of a 409 for an edit a used book cannot take (its printed numbers would change).
pub const BOOK_IN_USE: &str = "BOOK_IN_USE";

/// The routes of bill books (`/api/business/bill-books`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::create_book, handlers::list_books))
        .routes(routes!(handlers::get_book, handlers::update_book))
        .routes(routes!(handlers::cancel_serial))
        .routes(routes!(handlers::book_report))
}

/// A cancelled (spoilt) leaf of a bill book: never used for a bill.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CancelledLeaf {
    pub serial: i64,
    pub reason: String,
    pub at: DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<crate::access::By>,
}

/// A paper bill book of a shop (`billbooks`). Its leaves are `firstSerial..=lastSerial`;
/// [`BillBookDoc::number`] is a leaf's printed number.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillBookDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    /// The book's own number (`"7"`, `"B-12"`), unique per shop and financial year.
    pub book_no: String,
    /// Printed before the serial (may be empty).
    pub prefix: String,
    pub first_serial: i64,
    pub last_serial: i64,
    /// Digits the serial is zero-padded to: those of `lastSerial` at registration (fixed, so
    /// a leaf's number never changes).
    pub width: u32,
    /// `26-27`.
    pub financial_year: String,
    #[serde(default)]
    pub cancelled: Vec<CancelledLeaf>,
    /// Leaves entered as bills (the invoices say which).
    #[serde(default)]
    pub used_count: i64,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(rename = "__v", default)]
    pub version: i32,
}

impl BillBookDoc {
    /// The printed number of leaf `serial`: prefix + serial zero-padded to `width`.
    pub fn number(&self, serial: i64) -> String {
        rules::leaf_number(&self.prefix, serial, self.width)
    }

    /// The book as a number series (for the collision check).
    pub fn series(&self) -> rules::Series {
        rules::Series {
            prefix: self.prefix.clone(),
            first: self.first_serial,
            last: self.last_serial,
            width: self.width,
        }
    }

    /// Whether leaf `serial` was cancelled.
    pub fn is_cancelled(&self, serial: i64) -> bool {
        self.cancelled.iter().any(|c| c.serial == serial)
    }
}

/// A v2 device's number series for a financial year (`deviceseries`): numbers `prefix` +
/// the sequence zero-padded to [`rules::SERIES_WIDTH`] digits, from 1.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceSeriesDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client_id: ObjectId,
    /// The device (`devicesessions.deviceId`) it is allotted to.
    pub device_id: String,
    pub financial_year: String,
    /// `D1`: the series' code (unique per shop and year).
    pub code: String,
    /// `D1-26-27/`.
    pub prefix: String,
    /// The highest sequence received so far (0: none).
    #[serde(default)]
    pub highest: i64,
    /// Numbers received (a gap exists while `usedCount < highest`).
    #[serde(default)]
    pub used_count: i64,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

impl DeviceSeriesDoc {
    /// The number of sequence `seq` in this series.
    pub fn number(&self, seq: i64) -> String {
        rules::leaf_number(&self.prefix, seq, rules::SERIES_WIDTH)
    }

    /// The sequence of `number` when it is a number of this series.
    pub fn seq_of(&self, number: &str) -> Option<i64> {
        let digits = number.strip_prefix(&self.prefix)?;
        if digits.len() != rules::SERIES_WIDTH as usize || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<i64>().ok().filter(|s| *s >= 1)
    }

    /// The series as a number series (for the collision check).
    pub fn series(&self) -> rules::Series {
        rules::Series { prefix: self.prefix.clone(), first: 1, last: rules::SERIES_LAST, width: rules::SERIES_WIDTH }
    }
}

/// The leaf a paper bill was written on, kept on its invoice (`offlineBillRef`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OfflineBillRef {
    pub book_id: ObjectId,
    pub book_no: String,
    pub serial: i64,
}

/// A device series number kept on its invoice (`deviceSeries`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SeriesNumber {
    pub series_id: ObjectId,
    pub seq: i64,
}

/// Which book a sale's `offlineBillRef` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookKey {
    Id(ObjectId),
    /// By its number, in `financial_year` (default: the financial year of the bill's date).
    No {
        book_no: String,
        financial_year: Option<String>,
    },
}

/// A number printed outside the server that a sale keeps (`billing::command::SaleOptions::printed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintedRef {
    /// A leaf of a paper bill book (online, v1 and v2 `offlineBillRef`).
    Book { book: BookKey, serial: i64 },
    /// A number of the pushing device's own series (v2 `invoiceNumber`).
    Device { number: String },
}

/// What a sale's printed number is judged against (`billing::decide::SaleInputs::numbers`):
/// the books its `offlineBillRef` may name, the pushing device's series, and which of the
/// candidate numbers are already some invoice's.
#[derive(Debug, Clone, Default)]
pub struct Numbers {
    pub books: Vec<BillBookDoc>,
    pub series: Vec<DeviceSeriesDoc>,
    pub taken: HashSet<String>,
}
