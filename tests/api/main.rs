//! One integration-test binary: every test starts the real server on 127.0.0.1:0 against
//! the real MongoDB replica set named by `MONGO_URL` (scripts/test.sh starts one), with a
//! fresh database `test_<uuid>` that is dropped afterwards.

mod helpers;

mod audit;
mod auth;
mod batches;
mod bill_books;
mod billing;
mod credit_notes;
mod dashboard;
mod dates;
mod dealers;
mod device_series;
mod equivalence;
mod faults;
mod feed;
mod gst;
mod hygiene;
mod idempotency;
mod otp;
mod profile;
mod robust;
mod roles;
mod rules;
mod sale_rights;
mod security;
mod split_payments;
mod stock_ledger;
mod sync;
mod sync_returns;
mod who;

mod catalog;
mod codes;
mod customers;
mod isolation;
mod newcomer;
mod parties;
mod products;
mod taxcodes;
mod units;
