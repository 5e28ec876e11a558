//! A store wrapper that pauses before every call, so that commands racing on a fast store (one
//! that never really waits, like the memory store) interleave their reads and writes the way
//! they would on a real database, instead of each running start to finish in one go. It also
//! notes the users every committed change created, which no `Store` read can list.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use roster::store::{
    InvitationContext, InvitationKey, InvitationQuery, InviteContext, InviteQuery, Member,
    OutboxQuery, ProjectContext, Step, UserWrite,
};
use roster::{
    Account, AccountId, AuditEvent, Change, Email, EventId, Invitation, InvitationId, Membership,
    NoticeId, OutboxEntry, PasswordHash, Project, ProjectId, Role, Store, StoreError, TokenHash,
    User, UserId,
};

/// The future `async_trait` gives every `Store` method (written out: this crate does not depend
/// on `async-trait`).
type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Long enough for a task released at the same moment to reach the same point meanwhile.
pub(super) const PAUSE: Duration = Duration::from_millis(1);

/// Delegates every call to the store under test after a short pause. It forwards every method,
/// the composite reads included, so races run the store's own versions of them rather than the
/// trait's defaults over its single reads.
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

    async fn apply_noting_users(&self, change: Change) -> Result<(), StoreError> {
        let inserted = inserted_users(&change);
        let result = self.inner.apply(change).await;
        if result.is_ok() {
            self.created_users
                .lock()
                .expect("not poisoned")
                .extend(inserted);
        }
        result
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
    delegate!(fn account(&self, id: AccountId) -> Option<Account>);
    delegate!(fn project(&self, id: ProjectId) -> Option<Project>);
    delegate!(fn projects(&self, account: AccountId) -> Vec<Project>);
    delegate!(fn user(&self, id: UserId) -> Option<User>);
    delegate!(ref fn user_by_email(&self, email: &Email) -> Option<User>);
    delegate!(fn password_hash(&self, user: UserId) -> Option<PasswordHash>);
    delegate!(fn accounts_of_user(&self, user: UserId) -> Vec<Account>);
    delegate!(fn membership(&self, project: ProjectId, user: UserId) -> Option<Membership>);
    delegate!(fn members(&self, project: ProjectId, after: Option<UserId>, limit: usize) -> Vec<Member>);
    delegate!(fn count_members(&self, project: ProjectId, role: Role) -> u64);
    delegate!(fn invitation(&self, id: InvitationId) -> Option<Invitation>);
    delegate!(ref fn invitation_by_token(&self, hash: &TokenHash) -> Option<Invitation>);
    delegate!(ref fn invitations(&self, query: &InvitationQuery) -> Vec<Invitation>);
    delegate!(fn count_pending_invitations(&self, project: ProjectId, now: DateTime<Utc>) -> u64);
    delegate!(fn count_invitations_sent_by(&self, inviter: UserId, since: DateTime<Utc>) -> u64);
    delegate!(fn audit_events(&self, project: ProjectId, after: Option<EventId>, limit: usize) -> Vec<AuditEvent>);
    delegate!(fn outbox_entry(&self, id: NoticeId) -> Option<OutboxEntry>);
    delegate!(fn due_notices(&self, now: DateTime<Utc>, limit: usize) -> Vec<OutboxEntry>);
    delegate!(ref fn outbox(&self, query: &OutboxQuery) -> Vec<OutboxEntry>);
    delegate!(fn project_context(&self, project: ProjectId, actor: Option<UserId>) -> Option<ProjectContext>);
    delegate!(fn invitation_context(&self, key: InvitationKey, actor: Option<UserId>) -> Option<InvitationContext>);
    delegate!(fn invite_context(&self, query: InviteQuery) -> Option<InviteContext>);

    fn apply<'life0, 'async_trait>(&'life0 self, change: Change) -> StoreFuture<'async_trait, ()>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            tokio::time::sleep(PAUSE).await;
            self.apply_noting_users(change).await
        })
    }

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

    fn pending_invitation<'life0, 'life1, 'async_trait>(
        &'life0 self,
        project: ProjectId,
        email: &'life1 Email,
    ) -> StoreFuture<'async_trait, Option<Invitation>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            tokio::time::sleep(PAUSE).await;
            self.inner.pending_invitation(project, email).await
        })
    }
}
