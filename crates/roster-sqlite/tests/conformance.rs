//! The shared conformance suite, run against a SQLite file and against an in-memory SQLite
//! database, through `Arc<dyn Store>`.

/// The suite on a fresh database file per case.
mod file {
    use std::sync::Arc;

    use async_trait::async_trait;
    use chrono::{DateTime, Utc};
    use roster::store::{InvitationQuery, Member, OutboxQuery, Step};
    use roster::{
        Account, AccountId, AuditEvent, Email, EventId, Invitation, OutboxEntry, PasswordHash,
        Project, ProjectId, Store, StoreError, User, UserId,
    };
    use roster_sqlite::SqliteStore;
    use tempfile::TempDir;

    /// A store on a file in a directory of its own, which is deleted when the last handle on the
    /// store goes (fields drop in order: the connections close before the directory goes).
    struct OnTempFile {
        store: SqliteStore,
        _dir: TempDir,
    }

    /// A fresh, empty database in a new temporary directory.
    async fn fresh_store() -> Arc<dyn Store> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(dir.path().join("roster.db")).expect("opening the file");
        Arc::new(OnTempFile { store, _dir: dir })
    }

    roster_testkit::store_conformance!(fresh_store);

    #[async_trait]
    impl Store for OnTempFile {
        async fn transact(&self, step: Step) -> Result<(), StoreError> {
            self.store.transact(step).await
        }
        async fn projects(&self, account: AccountId) -> Result<Vec<Project>, StoreError> {
            self.store.projects(account).await
        }
        async fn accounts_of_user(&self, user: UserId) -> Result<Vec<Account>, StoreError> {
            self.store.accounts_of_user(user).await
        }
        async fn credentials(
            &self,
            email: &Email,
        ) -> Result<Option<(User, Option<PasswordHash>)>, StoreError> {
            self.store.credentials(email).await
        }
        async fn members(
            &self,
            project: ProjectId,
            after: Option<UserId>,
            limit: usize,
        ) -> Result<Vec<Member>, StoreError> {
            self.store.members(project, after, limit).await
        }
        async fn invitations(
            &self,
            query: &InvitationQuery,
        ) -> Result<Vec<Invitation>, StoreError> {
            self.store.invitations(query).await
        }
        async fn audit_events(
            &self,
            project: ProjectId,
            after: Option<EventId>,
            limit: usize,
        ) -> Result<Vec<AuditEvent>, StoreError> {
            self.store.audit_events(project, after, limit).await
        }
        async fn due_notices(
            &self,
            now: DateTime<Utc>,
            limit: usize,
        ) -> Result<Vec<OutboxEntry>, StoreError> {
            self.store.due_notices(now, limit).await
        }
        async fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxEntry>, StoreError> {
            self.store.outbox(query).await
        }
    }
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
