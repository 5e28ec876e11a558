//! # roster
//!
//! Project access for services: accounts and their projects, roles, the rule that only an
//! Administrator may add people, and the whole life of an email invitation (sent, accepted by a new
//! or an existing user, declined, resent, revoked, expired).
//!
//! roster owns the rules and the state; storage and email sit behind two traits:
//! [`Store`] (adapters: `roster-memory`, `roster-sqlite`, `roster-postgres`) and [`Notifier`]
//! (adapters: `roster-smtp`, and `roster-memory`'s `RecordingNotifier` for tests).
//! The [`Roster`] service ties them together with an injected [`Clock`] and [`RandomSource`].
//!
//! ## How a command works
//!
//! Every command reads what its decision needs, decides with pure rules, and hands the store one
//! [`Change`] guarded by the version of the project it read. If someone else changed the project
//! meanwhile the store answers [`StoreError::Conflict`] and the command reads and decides again.
//! Changes to one project are thereby serialized; different projects never contend. The emails a
//! change announces are written to an outbox in the same change and sent after the commit, so a
//! crash or an outage delays mail but never loses it (see [`Roster::deliver_due`]).
//!
//! ## Rules that hold on every path
//!
//! - only an Administrator of a project (or an account administrator) may invite, resend, revoke,
//!   change roles or remove members, and nobody grants a role above their own;
//! - at most one pending invitation per project and address; inviting again refreshes it;
//! - an accepted invitation yields exactly one membership, and a token never works twice;
//! - the inviter's right is checked again when the invitation is accepted;
//! - a project never loses its last Administrator;
//! - configured [`Limits`] answer with typed errors, never a silent drop.
//!
//! ## Writing your own store
//!
//! ```
//! use async_trait::async_trait;
//! use roster::store::*;
//! use roster::*;
//!
//! /// A store that delegates to another one and counts the commands it runs.
//! struct Counting<S> { inner: S, steps: std::sync::atomic::AtomicUsize }
//!
//! #[async_trait]
//! impl<S: Store> Store for Counting<S> {
//!     async fn transact(&self, step: Step) -> Result<(), StoreError> {
//!         self.inner.transact(step).await?;
//!         self.steps.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
//!         Ok(())
//!     }
//!     async fn apply(&self, change: Change) -> Result<(), StoreError> { self.inner.apply(change).await }
//!     // Reads delegate unchanged.
//!     async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> { self.inner.account(id).await }
//!     async fn project(&self, id: ProjectId) -> Result<Option<Project>, StoreError> { self.inner.project(id).await }
//!     async fn projects(&self, a: AccountId) -> Result<Vec<Project>, StoreError> { self.inner.projects(a).await }
//!     async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> { self.inner.user(id).await }
//!     async fn user_by_email(&self, e: &Email) -> Result<Option<User>, StoreError> { self.inner.user_by_email(e).await }
//!     async fn password_hash(&self, u: UserId) -> Result<Option<PasswordHash>, StoreError> { self.inner.password_hash(u).await }
//!     async fn accounts_of_user(&self, u: UserId) -> Result<Vec<Account>, StoreError> { self.inner.accounts_of_user(u).await }
//!     async fn membership(&self, p: ProjectId, u: UserId) -> Result<Option<Membership>, StoreError> { self.inner.membership(p, u).await }
//!     async fn members(&self, p: ProjectId, after: Option<UserId>, limit: usize) -> Result<Vec<Member>, StoreError> { self.inner.members(p, after, limit).await }
//!     async fn count_members(&self, p: ProjectId, r: Role) -> Result<u64, StoreError> { self.inner.count_members(p, r).await }
//!     async fn invitation(&self, id: InvitationId) -> Result<Option<Invitation>, StoreError> { self.inner.invitation(id).await }
//!     async fn invitation_by_token(&self, h: &TokenHash) -> Result<Option<Invitation>, StoreError> { self.inner.invitation_by_token(h).await }
//!     async fn pending_invitation(&self, p: ProjectId, e: &Email) -> Result<Option<Invitation>, StoreError> { self.inner.pending_invitation(p, e).await }
//!     async fn invitations(&self, q: &InvitationQuery) -> Result<Vec<Invitation>, StoreError> { self.inner.invitations(q).await }
//!     async fn count_pending_invitations(&self, p: ProjectId, now: chrono::DateTime<chrono::Utc>) -> Result<u64, StoreError> { self.inner.count_pending_invitations(p, now).await }
//!     async fn count_invitations_sent_by(&self, u: UserId, since: chrono::DateTime<chrono::Utc>) -> Result<u64, StoreError> { self.inner.count_invitations_sent_by(u, since).await }
//!     async fn audit_events(&self, p: ProjectId, after: Option<EventId>, limit: usize) -> Result<Vec<AuditEvent>, StoreError> { self.inner.audit_events(p, after, limit).await }
//!     async fn outbox_entry(&self, id: NoticeId) -> Result<Option<OutboxEntry>, StoreError> { self.inner.outbox_entry(id).await }
//!     async fn due_notices(&self, now: chrono::DateTime<chrono::Utc>, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> { self.inner.due_notices(now, limit).await }
//!     async fn outbox(&self, q: &OutboxQuery) -> Result<Vec<OutboxEntry>, StoreError> { self.inner.outbox(q).await }
//! }
//! ```
//!
//! Then run the conformance suite of `roster-testkit` against it (one macro call).

#![forbid(unsafe_code)]

mod account;
mod audit;
mod clock;
mod config;
mod email;
mod error;
mod id;
mod invitation;
mod membership;
mod notice;
mod notifier;
mod page;
mod password;
mod policy;
mod random;
mod role;
mod service;
pub mod store;
mod token;
mod user;
mod version;

pub use account::{Account, Project};
pub use audit::{AuditAction, AuditEvent};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{DeliveryPolicy, Limits, PasswordPolicy, RosterConfig};
pub use email::{Email, EmailError};
pub use error::{Denial, LimitKind, RosterError};
pub use id::{AccountId, EventId, InvitationId, NoticeId, ProjectId, UserId};
pub use invitation::{Invitation, InvitationState};
pub use membership::Membership;
pub use notice::{DeliveryStatus, Notice, NoticeKind, OutboxEntry, OutgoingNotice};
pub use notifier::{Notifier, NotifyError};
pub use page::{MAX_PAGE_SIZE, Page, PageRequest};
pub use random::{OsRandom, RandomSource, SeededRandom};
pub use role::Role;
#[cfg(feature = "worker")]
pub use service::DeliveryWorker;
pub use service::{
    Acceptance, Accepted, DeliveryReport, InvitationPreview, InviteOutcome, InviteReport,
    InviteRequest, InviteRow, Resent, Roster, RosterBuilder, SignIn,
};
pub use store::{Change, Entity, Store, StoreError};
pub use token::{InvitationToken, MalformedToken, TokenHash};
pub use user::{PasswordHash, User};
pub use version::Version;
