//! The model-based property test of `roster-testkit` (random command sequences against a
//! reference model, invariants after every step) on SQLite: on a private in-memory database for
//! many cases, and on a file (WAL, readers, group commit, the checkpoint thread) for fewer.

/// On `:memory:` (one connection), many sequences.
mod in_memory {
    use std::sync::Arc;

    use roster::Store;
    use roster_sqlite::SqliteStore;

    async fn fresh_store() -> Arc<dyn Store> {
        Arc::new(SqliteStore::open_in_memory().expect("an in-memory database"))
    }

    roster_testkit::model_conformance!(fresh_store, 128);
}

/// On a file in a temporary directory of its own per case.
mod file {
    use std::sync::Arc;

    use roster::Store;
    use roster_sqlite::{SqliteOptions, SqliteStore, Synchronous};
    use roster_testkit::Guarded;

    async fn fresh_store() -> Arc<dyn Store> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let options = SqliteOptions::default().synchronous(Synchronous::Normal);
        let store = SqliteStore::open_with(dir.path().join("roster.db"), options).expect("a file");
        Arc::new(Guarded::new(Arc::new(store), dir))
    }

    roster_testkit::model_conformance!(fresh_store, 24);
}
