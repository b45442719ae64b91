//! Streamed CSV (RFC 4180): a header row, then one row per document as the driver cursor
//! yields it, so an export never holds the whole report in memory. Shared by the dashboard's
//! reports and the audit trail (`GET /api/audit?format=csv`).

use axum::{
    body::Body,
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
};
use bson::Document;
use futures::{stream, StreamExt};
use mongodb::Cursor;

use crate::{error::AppError, money::Paise};

/// Quote a field when it holds a comma, quote, CR or LF (RFC 4180); quotes are doubled.
/// A field starting with `=`, `+`, `-` or `@` gets a leading `'` so a spreadsheet does not
/// run it as a formula (amounts are written by `rupees` and never pass through here).
pub fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Rupees with exactly two decimals: `123456` paise -> `1234.56`, `-5` -> `-0.05`.
pub fn rupees(p: Paise) -> String {
    let v = p.as_i64();
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// One CRLF-terminated record.
pub fn record(fields: &[String]) -> String {
    let mut line = fields.join(",");
    line.push_str("\r\n");
    line
}

/// Whether the caller asked for CSV: `format=csv`, or `Accept: text/csv` without a
/// `format`. Any other `format` than `json`/`csv` is a 400.
pub fn wants_csv(format: Option<&str>, headers: &HeaderMap) -> Result<bool, AppError> {
    match format.map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) if f.eq_ignore_ascii_case("csv") => Ok(true),
        Some(f) if f.eq_ignore_ascii_case("json") => Ok(false),
        Some(_) => Err(AppError::validation("query.format", "must be json or csv")),
        None => Ok(headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|p| p.trim().to_ascii_lowercase().starts_with("text/csv")))),
    }
}

/// A streamed `text/csv` attachment: the header, then `row(doc)` for each cursor document.
/// A database error mid-stream ends the body early (logged); the status is already sent.
pub fn stream(filename: &str, header_row: &[&str], cursor: Cursor<Document>, row: fn(&Document) -> String) -> Response {
    let head = record(&header_row.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    let rows = cursor.map(move |r| match r {
        Ok(d) => Ok::<_, std::io::Error>(row(&d)),
        Err(e) => {
            tracing::error!(error = %e, "csv export cursor failed");
            Err(std::io::Error::other("export failed"))
        }
    });
    let body = Body::from_stream(stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(rows));
    as_attachment(filename, body.into_response())
}

/// `res` as a `text/csv` attachment named `filename`.
fn as_attachment(filename: &str, mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// A small report already built in memory (`body`, CSV records) as a `text/csv` attachment
/// named `filename`, with the same headers as [`stream`].
pub fn attachment(filename: &str, body: String) -> Response {
    as_attachment(filename, body.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_amounts() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(rupees(Paise::new(123456)), "1234.56");
        assert_eq!(rupees(Paise::new(5)), "0.05");
        assert_eq!(rupees(Paise::new(-5)), "-0.05");
        assert_eq!(rupees(Paise::new(100)), "1.00");
        assert_eq!(record(&["a".into(), "b".into()]), "a,b\r\n");
    }
}
