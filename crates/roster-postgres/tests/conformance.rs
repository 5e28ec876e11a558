//! The shared conformance suite, each case on a fresh schema of the server named by
//! `ROSTER_POSTGRES_URL` (skipped with a notice when it is unset).

mod common;

use common::fresh_store;

roster_testkit::store_conformance!(fresh_store);
