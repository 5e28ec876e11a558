//! The model-based property test of `roster-testkit` (random command sequences against a
//! reference model, invariants after every step) on the in-memory store.

use std::sync::Arc;

use roster::Store;
use roster_memory::InMemoryStore;

async fn fresh_store() -> Arc<dyn Store> {
    Arc::new(InMemoryStore::new())
}

roster_testkit::model_conformance!(fresh_store, 256);
