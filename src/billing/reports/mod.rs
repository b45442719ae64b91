//! Dues and reports (B21, B23-B32): date-range filters, paging with a cap, and aggregates
//! computed by MongoDB. Money stays integer paise until the wire.
//!
//! Three layers, one direction: `handlers` (HTTP: validate the query, call the repository,
//! shape the answer) -> `repo` (the queries and aggregation pipelines, typed filters in,
//! typed rows out; the only BSON) and `analytics` (pure computations on loaded rows,
//! unit-tested). Paging and date windows are the shared `paging` and `window` modules.
//! The handlers are re-exported here (the router and the OpenAPI doc name
//! `billing::reports::HANDLER`).

pub mod analytics;
pub mod handlers;
pub mod repo;

pub use handlers::*;
