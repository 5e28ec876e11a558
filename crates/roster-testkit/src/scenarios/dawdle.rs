//! A store wrapper that pauses before every call, so that commands racing on a fast store (one
//! that never really waits, like the memory store) interleave their reads and writes the way
//! they would on a real database, instead of each running start to finish in one go. It also
//! notes the users every committed change created, which no `Store` read can list.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use roster::store::{InvitationQuery, Member, OutboxQuery, Step, UserWrite};
use roster::{
    Account, AccountId, AuditEvent, Change, Email, EventId, Invitation, OutboxEntry, PasswordHash,
    Project, ProjectId, Store, StoreError, User, UserId,
};

/// The future `async_trait` gives every `Store` method (written out: this crate does not depend
/// on `async-trait`).
type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Long enough for a task released at the same moment to reach the same point meanwhile.
pub(super) const PAUSE: Duration = Duration::from_millis(1);

/// Delegates every call to the store under test after a short pause.
pub(crate) struct Dawdling {
    inner: Arc<dyn Store>,
    created_users: Mutex<Vec<User>>,
}

impl Dawdling {
    pub(crate) fn new(inner: Arc<dyn Store>) -> Self {
        Dawdling {
            inner,
            created_users: Mutex::new(Vec::new()),
        }
    }

    /// The users inserted by changes that the store committed.
    pub(crate) fn created_users(&self) -> Vec<User> {
        self.created_users.lock().expect("not poisoned").clone()
    }

    async fn transact_noting_users(&self, mut step: Step) -> Result<(), StoreError> {
        let inserted = Arc::new(Mutex::new(Vec::new()));
        let noted = inserted.clone();
        let mut decision = step.decision;
        step.decision = Box::new(move |snapshot| {
            let change = decision(snapshot);
            *noted.lock().expect("not poisoned") = inserted_users(&change);
            change
        });
        let result = self.inner.transact(step).await;
        if result.is_ok() {
            let inserted = std::mem::take(&mut *inserted.lock().expect("not poisoned"));
            self.created_users
                .lock()
                .expect("not poisoned")
                .extend(inserted);
        }
        result
    }
}

/// The users `change` inserts.
fn inserted_users(change: &Change) -> Vec<User> {
    change
        .users
        .iter()
        .filter_map(|write| match write {
            UserWrite::Insert { user, .. } => Some(user.clone()),
            UserWrite::Update { .. } => None,
        })
        .collect()
}

/// Writes out one delegating method; `ref` marks methods whose argument is borrowed (they get one
/// more lifetime, as `async_trait` generates them).
macro_rules! delegate {
    (fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty) => {
        fn $name<'life0, 'async_trait>(&'life0 self $(, $arg: $ty)*) -> StoreFuture<'async_trait, $ret>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(async move {
                tokio::time::sleep(PAUSE).await;
                self.inner.$name($($arg),*).await
            })
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
            Box::pin(async move {
                tokio::time::sleep(PAUSE).await;
                self.inner.$name($arg).await
            })
        }
    };
}

impl Store for Dawdling {
    delegate!(fn projects(&self, account: AccountId) -> Vec<Project>);
    delegate!(fn accounts_of_user(&self, user: UserId) -> Vec<Account>);
    delegate!(ref fn credentials(&self, email: &Email) -> Option<(User, Option<PasswordHash>)>);
    delegate!(fn members(&self, project: ProjectId, after: Option<UserId>, limit: usize) -> Vec<Member>);
    delegate!(ref fn invitations(&self, query: &InvitationQuery) -> Vec<Invitation>);
    delegate!(fn audit_events(&self, project: ProjectId, after: Option<EventId>, limit: usize) -> Vec<AuditEvent>);
    delegate!(fn due_notices(&self, now: DateTime<Utc>, limit: usize) -> Vec<OutboxEntry>);
    delegate!(ref fn outbox(&self, query: &OutboxQuery) -> Vec<OutboxEntry>);

    fn transact<'life0, 'async_trait>(&'life0 self, step: Step) -> StoreFuture<'async_trait, ()>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            tokio::time::sleep(PAUSE).await;
            self.transact_noting_users(step).await
        })
    }
}
