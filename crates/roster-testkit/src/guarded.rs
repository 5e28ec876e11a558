//! [`Guarded`]: a store that keeps something alive as long as it lives, such as the temporary
//! directory its file is in, or the server it talks to.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use roster::store::{InvitationQuery, Member, OutboxQuery, Step};
use roster::{
    Account, AccountId, AuditEvent, Email, EventId, Invitation, OutboxEntry, PasswordHash, Project,
    ProjectId, Store, StoreError, User, UserId,
};

/// The future `async_trait` gives every `Store` method (written out: this crate does not depend
/// on `async-trait`).
type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Forwards every call to `store`, and drops `guard` only after it: hand the suite a store
/// whose temporary directory (or server) goes away with it.
///
/// ```
/// # async fn demo() {
/// use std::sync::Arc;
/// use roster_testkit::Guarded;
///
/// let dir = tempfile::tempdir().unwrap();
/// let store = roster_memory::InMemoryStore::new(); // a file store in `dir`, in real use
/// let store: Arc<dyn roster::Store> = Arc::new(Guarded::new(Arc::new(store), dir));
/// # let _ = store;
/// # }
/// ```
pub struct Guarded {
    store: Arc<dyn Store>,
    // Declared after `store`: fields drop in order, so the store closes first.
    _guard: Box<dyn Any + Send + Sync>,
}

impl Guarded {
    /// `store`, keeping `guard` alive as long as it lives.
    pub fn new(store: Arc<dyn Store>, guard: impl Any + Send + Sync) -> Self {
        Guarded {
            store,
            _guard: Box::new(guard),
        }
    }
}

impl std::fmt::Debug for Guarded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guarded").finish_non_exhaustive()
    }
}

/// Writes out one forwarding method; `ref` marks methods whose argument is borrowed.
macro_rules! forward {
    (fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty) => {
        fn $name<'life0, 'async_trait>(&'life0 self $(, $arg: $ty)*) -> StoreFuture<'async_trait, $ret>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            self.store.$name($($arg),*)
        }
    };
    (ref fn $name:ident(&self, $arg:ident: &$ty:ty) -> $ret:ty) => {
        fn $name<'life0, 'life1, 'async_trait>(
            &'life0 self,
            $arg: &'life1 $ty,
        ) -> StoreFuture<'async_trait, $ret>
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            Self: 'async_trait,
        {
            self.store.$name($arg)
        }
    };
}

impl Store for Guarded {
    forward!(fn transact(&self, step: Step) -> ());
    forward!(fn projects(&self, account: AccountId) -> Vec<Project>);
    forward!(fn accounts_of_user(&self, user: UserId) -> Vec<Account>);
    forward!(ref fn credentials(&self, email: &Email) -> Option<(User, Option<PasswordHash>)>);
    forward!(fn members(&self, project: ProjectId, after: Option<UserId>, limit: usize) -> Vec<Member>);
    forward!(ref fn invitations(&self, query: &InvitationQuery) -> Vec<Invitation>);
    forward!(fn audit_events(&self, project: ProjectId, after: Option<EventId>, limit: usize) -> Vec<AuditEvent>);
    forward!(fn due_notices(&self, now: DateTime<Utc>, limit: usize) -> Vec<OutboxEntry>);
    forward!(ref fn outbox(&self, query: &OutboxQuery) -> Vec<OutboxEntry>);
}
