//! The shared conformance suite, run against a SQLite file and against an in-memory SQLite
//! database, through `Arc<dyn Store>`.

/// The suite on a fresh database file per case.
mod file {
    use std::sync::Arc;

    use roster::Store;
    use roster_sqlite::SqliteStore;
    use roster_testkit::Guarded;

    /// A fresh, empty database in a new temporary directory, deleted when the store goes.
    async fn fresh_store() -> Arc<dyn Store> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(dir.path().join("roster.db")).expect("opening the file");
        Arc::new(Guarded::new(Arc::new(store), dir))
    }

    roster_testkit::store_conformance!(fresh_store);
}

/// The suite on a fresh in-memory database per case.
mod memory {
    use std::sync::Arc;

    use roster::Store;
    use roster_sqlite::SqliteStore;

    /// A fresh, empty in-memory database.
    async fn fresh_store() -> Arc<dyn Store> {
        Arc::new(SqliteStore::open_in_memory().expect("an in-memory database"))
    }

    roster_testkit::store_conformance!(fresh_store);
}
