//! The storage port: one in-isolation operation ([`Store::transact`]), the listings and the
//! sign-in lookup.
//!
//! A command is a pure decision: given what it reads (a [`Read`], answered as a [`Snapshot`]) it
//! yields one [`Change`] holding every write of the command, or a refusal (an empty change). The
//! store runs that decision inside its own isolation, in one trip: under its lock, inside one
//! write transaction, or holding the project's row lock. Changes to one project are thereby
//! serialized without conflicts, and different projects never wait for each other. What each
//! read contains is described once, by [`lookup::gather`] over a store's single-record
//! [`Lookup`]s. Uniqueness (one pending invitation per project and address, one membership per
//! project and user, one user per address, one invitation per token hash) is enforced by the
//! store as a second line and reported as [`StoreError::AlreadyExists`].
//!
//! Changes still name the versions of the project (and sometimes users) they were decided on
//! ([`Expectation`]s), and stores check and bump them: a store that can only make conditional
//! writes offers the same contract by deciding again on a [`StoreError::Conflict`].
//!
//! # Writing your own store
//!
//! Implement the nine methods of [`Store`] (for `transact`, implement [`Lookup`] over your
//! transaction and call [`lookup::gather`]) and run the conformance suite of the
//! `roster-testkit` crate against it: one macro call expands to the named tests every adapter
//! must pass. Conveniences for callers, such as reading one record or applying a change as it
//! is, are in [`StoreExt`], which every store gets for free.

mod change;
mod context;
mod error;
pub(crate) mod ext;
pub mod lookup;
mod query;
mod step;

pub use change::{
    AccountWrite, Change, Expectation, InvitationWrite, MembershipWrite, OutboxWrite, UserWrite,
};
pub use context::{
    InvitationContext, InvitationKey, InviteContext, InviteQuery, Invitee, ProjectContext,
};
pub use error::{Entity, StoreError};
pub use ext::StoreExt;
pub use lookup::Lookup;
pub use query::{InvitationQuery, Member, OutboxQuery};
pub use step::{Decide, MemberContext, NoticeContext, Read, Snapshot, Step};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::account::{Account, Project};
use crate::audit::AuditEvent;
use crate::email::Email;
use crate::id::{AccountId, EventId, ProjectId, UserId};
use crate::invitation::Invitation;
use crate::notice::OutboxEntry;
use crate::user::{PasswordHash, User};

/// Where roster keeps its state. Used as `Arc<dyn Store>`; every method may be called from many
/// tasks at once.
///
/// Nine methods: [`Store::transact`] runs a command (its reads, its decision and its writes) in
/// one trip inside the store's isolation; the rest are the listings and the sign-in lookup,
/// which read committed state. Everything else a caller may want (a single record, a change
/// applied as it is) is in [`StoreExt`], built on these, so a wrapper that forwards these nine
/// forwards everything.
///
/// Listing methods take a keyset cursor (`after`, exclusive) and a `limit`, and return items in
/// ascending id order, which is creation order because ids are UUID v7. None of them takes a
/// lock that outlives the call.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Runs one command in one trip, within one isolation scope: writes `step.deliveries` (as
    /// [`OutboxWrite::Update`]s), reads what `step.read` names (as [`lookup::gather`] does
    /// through the single-record [`Lookup`]s), calls [`Step::decide`] on that snapshot, and
    /// applies the [`Change`] it returns; all of it or none of it. See [`Change`] for the order
    /// of checks of a change and the errors each one answers.
    ///
    /// Nothing else may change what the snapshot holds between the read and the write: a store
    /// runs the step under its lock, inside one write transaction, or holding the lock of the
    /// step's project (and of the actor, when the read counts what the actor sent). Changes to
    /// one project are thereby serialized, and a step never fails because another was busy. A
    /// store that can only make conditional writes reads, decides, and applies guarded by the
    /// versions the change expects, deciding again (with jittered backoff) on a conflict;
    /// `decide` may then be called once per attempt.
    ///
    /// A [`Step::read_only`] step may instead run on a consistent snapshot of committed state
    /// without the write lock; its decision must then return an empty change (a store answers
    /// [`StoreError::Backend`] otherwise).
    ///
    /// Errors: whatever applying the change answers (then nothing of the step is kept), or
    /// [`StoreError::Backend`].
    async fn transact(&self, step: Step) -> Result<(), StoreError>;

    /// The projects of an account, in id order.
    async fn projects(&self, account: AccountId) -> Result<Vec<Project>, StoreError>;

    /// The accounts a user can pick after signing in: those they administer and those owning a
    /// project they are a member of. In id order, without duplicates.
    async fn accounts_of_user(&self, user: UserId) -> Result<Vec<Account>, StoreError>;

    /// The user whose address has the same canonical form as `email`, with their password hash
    /// if they have set a password.
    async fn credentials(
        &self,
        email: &Email,
    ) -> Result<Option<(User, Option<PasswordHash>)>, StoreError>;

    /// Members of a project with their users, in user id order, after the cursor.
    async fn members(
        &self,
        project: ProjectId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<Member>, StoreError>;

    /// Invitations of a project, filtered by effective state as of `query.now`.
    async fn invitations(&self, query: &InvitationQuery) -> Result<Vec<Invitation>, StoreError>;

    /// Audit events of a project in the order they happened, after the cursor.
    async fn audit_events(
        &self,
        project: ProjectId,
        after: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError>;

    /// Up to `limit` `Queued` entries with `next_attempt_at <= now`, earliest due first. `limit`
    /// may be `usize::MAX` and `now` the end of time ([`Roster::delivery_status`](crate::Roster::delivery_status)
    /// reads the whole queue so): do not allocate by `limit`.
    async fn due_notices(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Outbox entries filtered by status and project, in id order, after the cursor.
    async fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxEntry>, StoreError>;
}

/// Forwards every method to the store behind the pointer.
macro_rules! forward_store {
    ($($pointer:path),*) => {$(
        #[async_trait]
        impl<S: Store + ?Sized> Store for $pointer {
            async fn transact(&self, step: Step) -> Result<(), StoreError> {
                (**self).transact(step).await
            }
            async fn projects(&self, account: AccountId) -> Result<Vec<Project>, StoreError> {
                (**self).projects(account).await
            }
            async fn accounts_of_user(&self, user: UserId) -> Result<Vec<Account>, StoreError> {
                (**self).accounts_of_user(user).await
            }
            async fn credentials(
                &self,
                email: &Email,
            ) -> Result<Option<(User, Option<PasswordHash>)>, StoreError> {
                (**self).credentials(email).await
            }
            async fn members(
                &self,
                project: ProjectId,
                after: Option<UserId>,
                limit: usize,
            ) -> Result<Vec<Member>, StoreError> {
                (**self).members(project, after, limit).await
            }
            async fn invitations(
                &self,
                query: &InvitationQuery,
            ) -> Result<Vec<Invitation>, StoreError> {
                (**self).invitations(query).await
            }
            async fn audit_events(
                &self,
                project: ProjectId,
                after: Option<EventId>,
                limit: usize,
            ) -> Result<Vec<AuditEvent>, StoreError> {
                (**self).audit_events(project, after, limit).await
            }
            async fn due_notices(
                &self,
                now: DateTime<Utc>,
                limit: usize,
            ) -> Result<Vec<OutboxEntry>, StoreError> {
                (**self).due_notices(now, limit).await
            }
            async fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxEntry>, StoreError> {
                (**self).outbox(query).await
            }
        }
    )*};
}

forward_store!(std::sync::Arc<S>, Box<S>);
