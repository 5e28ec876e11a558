//! The model-based property test of `roster-testkit` (random command sequences against a
//! reference model, invariants after every step) on PostgreSQL, a fresh schema per sequence.

mod common;

use common::fresh_store;

roster_testkit::model_conformance!(fresh_store, 24);
