//! The storage port: reads, plus one atomic, conditional [`Store::apply`].
//!
//! The service reads what a decision needs, decides with pure code, and hands the store one
//! [`Change`] holding every write of the command together with [`Expectation`]s: the versions of the
//! project (and sometimes users) it read. If any of them moved meanwhile the store answers
//! [`StoreError::Conflict`] and applies nothing; the service then reads again and decides again.
//! Uniqueness (one pending invitation per project and address, one membership per project and user,
//! one user per address, one invitation per token hash) is enforced by the store as a second line
//! and reported as [`StoreError::AlreadyExists`].
//!
//! # Writing your own store
//!
//! Implement [`Store`] and run the conformance suite of the `roster-testkit` crate against it:
//! one macro call expands to the named tests every adapter must pass. The contract of each method is
//! on the method; the contract of `apply` is on [`Change`].
//!
//! # Composite reads
//!
//! A command starts with a few reads that always go together: the project with its account and
//! the actor ([`Store::project_context`]), an invitation with its project, inviter and invitee
//! ([`Store::invitation_context`]), or all of a bulk invite's reads: the project context, what
//! the project knows about each address, and the counts its limits need
//! ([`Store::invite_context`]). Each has a default implementation made of the single-record reads, in
//! an order that keeps the version rule below. A store whose every call costs a round trip
//! overrides them to read everything at once, ideally from one snapshot; the conformance suite
//! checks an override against the single-record reads.
//!
//! The version rule: every record a decision uses is read *at or after* the moment the project's
//! version was read. A change guarded by that version then cannot overwrite a newer state of
//! any of them, since whatever changed them also moved the version.

mod change;
mod context;
mod error;
pub mod lookup;
mod query;
mod step;

pub use change::{Change, Expectation, InvitationWrite, MembershipWrite, OutboxWrite, UserWrite};
pub use context::{
    InvitationContext, InvitationKey, InviteContext, InviteQuery, Invitee, ProjectContext,
};
pub use error::{Entity, StoreError};
pub use lookup::Lookup;
pub use query::{InvitationQuery, Member, OutboxQuery};
pub use step::{Decide, MemberContext, NoticeContext, Read, Snapshot, Step};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::account::{Account, Project};
use crate::audit::AuditEvent;
use crate::email::Email;
use crate::id::{AccountId, EventId, InvitationId, NoticeId, ProjectId, UserId};
use crate::invitation::Invitation;
use crate::membership::Membership;
use crate::notice::OutboxEntry;
use crate::role::Role;
use crate::token::TokenHash;
use crate::user::{PasswordHash, User};

/// Where roster keeps its state. Used as `Arc<dyn Store>`; every method may be called from many
/// tasks at once.
///
/// Reads return what is committed; none of them takes a lock that outlives the call. Listing methods
/// take a keyset cursor (`after`, exclusive) and a `limit`, and return items in ascending id order,
/// which is creation order because ids are UUID v7.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The account with this id.
    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError>;

    /// The project with this id, with its current version.
    async fn project(&self, id: ProjectId) -> Result<Option<Project>, StoreError>;

    /// The projects of an account, in id order.
    async fn projects(&self, account: AccountId) -> Result<Vec<Project>, StoreError>;

    /// The user with this id.
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;

    /// The user whose address has the same canonical form as `email`.
    async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError>;

    /// The password hash of a user, if they have set a password.
    async fn password_hash(&self, user: UserId) -> Result<Option<PasswordHash>, StoreError>;

    /// The accounts a user can pick after signing in: those they administer and those owning a
    /// project they are a member of. In id order, without duplicates.
    async fn accounts_of_user(&self, user: UserId) -> Result<Vec<Account>, StoreError>;

    /// The membership of `user` in `project`.
    async fn membership(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> Result<Option<Membership>, StoreError>;

    /// Members of a project with their users, in user id order, after the cursor.
    async fn members(
        &self,
        project: ProjectId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<Member>, StoreError>;

    /// How many members of `project` hold exactly `role`.
    async fn count_members(&self, project: ProjectId, role: Role) -> Result<u64, StoreError>;

    /// The invitation with this id.
    async fn invitation(&self, id: InvitationId) -> Result<Option<Invitation>, StoreError>;

    /// The invitation whose current token has this hash. Rotated-away hashes find nothing.
    async fn invitation_by_token(&self, hash: &TokenHash)
    -> Result<Option<Invitation>, StoreError>;

    /// The invitation of `project` for `email` (canonical form) whose *stored* state is `Pending`,
    /// expired in effect or not. There is at most one.
    async fn pending_invitation(
        &self,
        project: ProjectId,
        email: &Email,
    ) -> Result<Option<Invitation>, StoreError>;

    /// Invitations of a project, filtered by effective state as of `query.now`.
    async fn invitations(&self, query: &InvitationQuery) -> Result<Vec<Invitation>, StoreError>;

    /// How many invitations of `project` are pending in effect at `now` (stored `Pending` and
    /// `expires_at > now`).
    async fn count_pending_invitations(
        &self,
        project: ProjectId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// How many invitations, in any project and any state, were last sent by `inviter` at or
    /// after `since`.
    async fn count_invitations_sent_by(
        &self,
        inviter: UserId,
        since: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Audit events of a project in the order they happened, after the cursor.
    async fn audit_events(
        &self,
        project: ProjectId,
        after: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError>;

    /// The outbox entry with this id.
    async fn outbox_entry(&self, id: NoticeId) -> Result<Option<OutboxEntry>, StoreError>;

    /// Up to `limit` `Queued` entries with `next_attempt_at <= now`, earliest due first.
    async fn due_notices(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Outbox entries filtered by status and project, in id order, after the cursor.
    async fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxEntry>, StoreError>;

    /// The project with its account, and the acting user (if `actor` is `Some`) with their
    /// membership in it. `None` if the project or its account does not exist; `actor` and
    /// `actor_membership` are `None` when absent.
    ///
    /// Every record is read at or after the project's version (see the module docs). The
    /// default reads the project first, then the rest.
    async fn project_context(
        &self,
        project: ProjectId,
        actor: Option<UserId>,
    ) -> Result<Option<ProjectContext>, StoreError> {
        context::project_context(self, project, actor).await
    }

    /// The invitation `key` finds, with [`Store::project_context`] of its project for `actor`,
    /// its inviter and its invitee (the user with its canonical address), each with their
    /// membership. `None` if nothing is found by `key`, or the project is gone.
    ///
    /// The invitation and everything else are read at or after the project's version (see the
    /// module docs). The default finds the invitation, reads the project context, then reads
    /// the invitation again by id (answering `None` if its token was rotated away from a `key`
    /// hash meanwhile), then the users and memberships.
    async fn invitation_context(
        &self,
        key: InvitationKey,
        actor: Option<UserId>,
    ) -> Result<Option<InvitationContext>, StoreError> {
        context::invitation_context(self, key, actor).await
    }

    /// Everything a bulk invite decides on: [`Store::project_context`] for `query.actor`; for
    /// each address of `query.emails`, in order, the user with its canonical form, their
    /// membership in the project and the project's stored-`Pending` invitation for it (as
    /// [`Store::user_by_email`], [`Store::membership`] and [`Store::pending_invitation`] answer);
    /// and the counts the query asks for. `None` if the project or its account does not exist.
    ///
    /// Everything is read at or after the project's version (see the module docs). The default
    /// reads the project context first, then each address, then the counts.
    async fn invite_context(
        &self,
        query: InviteQuery,
    ) -> Result<Option<InviteContext>, StoreError> {
        context::invite_context(self, query).await
    }

    /// Applies every write of `change` atomically, or none of them. See [`Change`] for the order
    /// of checks and the errors.
    async fn apply(&self, change: Change) -> Result<(), StoreError>;

    /// Runs one command in one trip, within one isolation scope: writes `step.deliveries` (as
    /// [`OutboxWrite::Update`]s), reads what `step.read` names (as [`lookup::gather`] would
    /// through the single-record reads), calls `step.decide` on that snapshot, and applies the
    /// [`Change`] it returns as [`Store::apply`] would; all of it or none of it.
    ///
    /// Nothing else may change what the snapshot holds between the read and the write: a store
    /// runs the step under its lock, inside one write transaction, or holding the lock of the
    /// step's project (and of the actor, when the read counts what the actor sent). Changes to
    /// one project are thereby serialized, and a command never answers [`StoreError::Conflict`]
    /// because another was busy. A store that can only make conditional writes reads, decides,
    /// and applies guarded by the versions in the change, deciding again (with jittered
    /// backoff) on a conflict; `decide` may be called once per attempt.
    ///
    /// Errors: whatever applying the change answers (then nothing of the step is kept), or a
    /// [`StoreError::Backend`].
    async fn transact(&self, step: Step) -> Result<(), StoreError>;
}
