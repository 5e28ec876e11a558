//! The shared conformance suite, run against the in-memory store.

use std::sync::Arc;

use roster::Store;
use roster_memory::InMemoryStore;

/// A fresh, empty store for each case.
async fn fresh_store() -> Arc<dyn Store> {
    Arc::new(InMemoryStore::new())
}

roster_testkit::store_conformance!(fresh_store);
