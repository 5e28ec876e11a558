//! [`InMemoryStore`]: the [`Store`] trait over one locked [`State`].

use std::fmt;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use roster::store::{InvitationQuery, Member, OutboxQuery, Step, lookup};
use roster::{
    Account, AccountId, AuditEvent, Email, EventId, Invitation, OutboxEntry, PasswordHash, Project,
    ProjectId, Store, StoreError, User, UserId,
};

use crate::lookup::Locked;
use crate::state::State;

/// A [`Store`] that keeps everything in memory, behind one lock.
///
/// Every listing and every [`Store::transact`] takes the lock, does its work without awaiting,
/// and releases it: a step reads, decides and writes under the lock, so steps are serialized and
/// each one is atomic (a change that fails half way is undone before the lock is released), and
/// readers never see part of one. Every read a
/// command makes is an index lookup, so the store stays fast with millions of records.
///
/// State lives as long as the value (and its clones through `Arc`): nothing survives a restart.
///
/// ```
/// use std::sync::Arc;
/// use roster::Store;
/// use roster_memory::InMemoryStore;
///
/// let store: Arc<dyn Store> = Arc::new(InMemoryStore::new());
/// # let _ = store;
/// ```
#[derive(Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Locks the state. A panic while the lock was held cannot have left a change half applied
    /// (writes are undone before an error returns, and the tables do not panic mid-write), so a
    /// poisoned lock is taken over rather than making the store unusable.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for InMemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryStore").finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for InMemoryStore {
    async fn transact(&self, mut step: Step) -> Result<(), StoreError> {
        let mut state = self.state();
        if !step.deliveries.is_empty() {
            crate::apply::apply(&mut state, step.deliveries_change())?;
        }
        let snapshot = lookup::gather(&mut Locked(&state), &step.read)?;
        let change = step.decide(snapshot)?;
        crate::apply::apply(&mut state, change)
    }

    async fn projects(&self, account: AccountId) -> Result<Vec<Project>, StoreError> {
        Ok(self.state().projects.of_account(account))
    }

    async fn accounts_of_user(&self, user: UserId) -> Result<Vec<Account>, StoreError> {
        Ok(self.state().accounts_of_user(user))
    }

    async fn credentials(
        &self,
        email: &Email,
    ) -> Result<Option<(User, Option<PasswordHash>)>, StoreError> {
        Ok(self
            .state()
            .users
            .by_email(email)
            .map(|row| (row.user.clone(), row.password.clone())))
    }

    async fn members(
        &self,
        project: ProjectId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<Member>, StoreError> {
        Ok(self.state().members(project, after, limit))
    }

    async fn invitations(&self, query: &InvitationQuery) -> Result<Vec<Invitation>, StoreError> {
        Ok(self.state().invitations.list(query))
    }

    async fn audit_events(
        &self,
        project: ProjectId,
        after: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        Ok(self.state().audit.of_project(project, after, limit))
    }

    async fn due_notices(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        Ok(self.state().outbox.due(now, limit))
    }

    async fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxEntry>, StoreError> {
        Ok(self.state().outbox.list(query))
    }
}
