//! The shared conformance suite, run against a SQLite file and against an in-memory SQLite
//! database, through `Arc<dyn Store>`.

/// The suite on a fresh database file per case.
mod file {
    use std::sync::Arc;

    use async_trait::async_trait;
    use chrono::{DateTime, Utc};
    use roster::store::{
        InvitationContext, InvitationKey, InvitationQuery, InviteContext, InviteQuery, Member,
        OutboxQuery, ProjectContext, Step,
    };
    use roster::{
        Account, AccountId, AuditEvent, Change, Email, EventId, Invitation, InvitationId,
        Membership, NoticeId, OutboxEntry, PasswordHash, Project, ProjectId, Role, Store,
        StoreError, TokenHash, User, UserId,
    };
    use roster_sqlite::SqliteStore;
    use tempfile::TempDir;

    /// A store on a file in a directory of its own, which is deleted when the last handle on the
    /// store goes (fields drop in order: the connections close before the directory goes).
    /// It passes every method through, the composite reads included: a default left in place
    /// here would test the trait's default instead of the store's own.
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
        async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
            self.store.account(id).await
        }
        async fn project(&self, id: ProjectId) -> Result<Option<Project>, StoreError> {
            self.store.project(id).await
        }
        async fn projects(&self, account: AccountId) -> Result<Vec<Project>, StoreError> {
            self.store.projects(account).await
        }
        async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
            self.store.user(id).await
        }
        async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
            self.store.user_by_email(email).await
        }
        async fn password_hash(&self, user: UserId) -> Result<Option<PasswordHash>, StoreError> {
            self.store.password_hash(user).await
        }
        async fn accounts_of_user(&self, user: UserId) -> Result<Vec<Account>, StoreError> {
            self.store.accounts_of_user(user).await
        }
        async fn membership(
            &self,
            project: ProjectId,
            user: UserId,
        ) -> Result<Option<Membership>, StoreError> {
            self.store.membership(project, user).await
        }
        async fn members(
            &self,
            project: ProjectId,
            after: Option<UserId>,
            limit: usize,
        ) -> Result<Vec<Member>, StoreError> {
            self.store.members(project, after, limit).await
        }
        async fn count_members(&self, project: ProjectId, role: Role) -> Result<u64, StoreError> {
            self.store.count_members(project, role).await
        }
        async fn invitation(&self, id: InvitationId) -> Result<Option<Invitation>, StoreError> {
            self.store.invitation(id).await
        }
        async fn invitation_by_token(
            &self,
            hash: &TokenHash,
        ) -> Result<Option<Invitation>, StoreError> {
            self.store.invitation_by_token(hash).await
        }
        async fn pending_invitation(
            &self,
            project: ProjectId,
            email: &Email,
        ) -> Result<Option<Invitation>, StoreError> {
            self.store.pending_invitation(project, email).await
        }
        async fn invitations(
            &self,
            query: &InvitationQuery,
        ) -> Result<Vec<Invitation>, StoreError> {
            self.store.invitations(query).await
        }
        async fn count_pending_invitations(
            &self,
            project: ProjectId,
            now: DateTime<Utc>,
        ) -> Result<u64, StoreError> {
            self.store.count_pending_invitations(project, now).await
        }
        async fn count_invitations_sent_by(
            &self,
            inviter: UserId,
            since: DateTime<Utc>,
        ) -> Result<u64, StoreError> {
            self.store.count_invitations_sent_by(inviter, since).await
        }
        async fn audit_events(
            &self,
            project: ProjectId,
            after: Option<EventId>,
            limit: usize,
        ) -> Result<Vec<AuditEvent>, StoreError> {
            self.store.audit_events(project, after, limit).await
        }
        async fn outbox_entry(&self, id: NoticeId) -> Result<Option<OutboxEntry>, StoreError> {
            self.store.outbox_entry(id).await
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
        async fn project_context(
            &self,
            project: ProjectId,
            actor: Option<UserId>,
        ) -> Result<Option<ProjectContext>, StoreError> {
            self.store.project_context(project, actor).await
        }
        async fn invitation_context(
            &self,
            key: InvitationKey,
            actor: Option<UserId>,
        ) -> Result<Option<InvitationContext>, StoreError> {
            self.store.invitation_context(key, actor).await
        }
        async fn invite_context(
            &self,
            query: InviteQuery,
        ) -> Result<Option<InviteContext>, StoreError> {
            self.store.invite_context(query).await
        }
        async fn apply(&self, change: Change) -> Result<(), StoreError> {
            self.store.apply(change).await
        }
        async fn transact(&self, step: Step) -> Result<(), StoreError> {
            self.store.transact(step).await
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
