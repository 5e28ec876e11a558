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
//! Every command is one [`store::Step`]: what to read, and a pure decision (the rules) that turns
//! what was read into one [`Change`] or a refusal. The store reads, decides and writes inside its
//! own isolation ([`Store::transact`]), so changes to one project are serialized without
//! conflicts, and different projects never contend. The emails a
//! change announces are written to an outbox in the same change and sent after the commit, so a
//! crash or an outage delays mail but never loses it (see [`Roster::deliver_due`]).
//!
//! ## Rules that hold on every path
//!
//! - roles are the service's own ([`RoleCatalog`]: keys, display names, ranks, permissions;
//!   the default is Observer, User, Administrator and Account administrator);
//! - only a member whose role manages members (or an account administrator) may invite, resend,
//!   revoke, change roles or remove members, and nobody grants a role ranked above their own;
//! - at most one pending invitation per project and address; inviting again refreshes it;
//! - an accepted invitation yields exactly one membership, and a token never works twice;
//! - the inviter's right is checked again when the invitation is accepted;
//! - a project never loses its last member able to manage members;
//! - an account may restrict its invitations to its own email domains;
//! - configured [`Limits`] answer with typed errors, never a silent drop.
//!
//! ## Writing your own store
//!
//! A store is nine methods: [`Store::transact`] runs a command's reads, decision and writes
//! inside the store's isolation, the rest are listings and the sign-in lookup. A store built
//! on a lock or a transaction implements [`store::Lookup`] over it and lets
//! [`store::lookup::gather`] assemble what each step reads. Here, a wrapper that counts the
//! commands another store runs, written out in full:
//!
//! ```
//! use async_trait::async_trait;
//! use chrono::{DateTime, Utc};
//! use roster::store::{InvitationQuery, Member, OutboxQuery, Step};
//! use roster::*;
//!
//! struct Counting<S> { inner: S, steps: std::sync::atomic::AtomicUsize }
//!
//! #[async_trait]
//! impl<S: Store> Store for Counting<S> {
//!     async fn transact(&self, step: Step) -> Result<(), StoreError> {
//!         self.inner.transact(step).await?;
//!         self.steps.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
//!         Ok(())
//!     }
//!     async fn projects(&self, a: AccountId) -> Result<Vec<Project>, StoreError> { self.inner.projects(a).await }
//!     async fn accounts_of_user(&self, u: UserId) -> Result<Vec<Account>, StoreError> { self.inner.accounts_of_user(u).await }
//!     async fn credentials(&self, e: &Email) -> Result<Option<(User, Option<PasswordHash>)>, StoreError> { self.inner.credentials(e).await }
//!     async fn members(&self, p: ProjectId, after: Option<UserId>, limit: usize) -> Result<Vec<Member>, StoreError> { self.inner.members(p, after, limit).await }
//!     async fn invitations(&self, q: &InvitationQuery) -> Result<Vec<Invitation>, StoreError> { self.inner.invitations(q).await }
//!     async fn audit_events(&self, p: ProjectId, after: Option<EventId>, limit: usize) -> Result<Vec<AuditEvent>, StoreError> { self.inner.audit_events(p, after, limit).await }
//!     async fn due_notices(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> { self.inner.due_notices(now, limit).await }
//!     async fn outbox(&self, q: &OutboxQuery) -> Result<Vec<OutboxEntry>, StoreError> { self.inner.outbox(q).await }
//! }
//! ```
//!
//! Then run the conformance suite of `roster-testkit` against it (one macro call).

#![forbid(unsafe_code)]

mod account;
mod audit;
mod catalog;
mod clock;
mod config;
mod email;
mod error;
mod error_kind;
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
pub use catalog::{CatalogError, RoleCatalog, RoleDefinition};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{ConfigError, DeliveryPolicy, Limits, PasswordPolicy, RosterConfig};
pub use email::{Email, EmailError};
pub use error::{Denial, LimitKind, RosterError};
pub use error_kind::ErrorKind;
pub use id::{AccountId, EventId, InvitationId, NoticeId, ProjectId, UserId};
pub use invitation::{Invitation, InvitationState};
pub use membership::Membership;
pub use notice::{DeliveryStatus, Notice, NoticeKind, OutboxEntry, OutgoingNotice};
pub use notifier::{Notifier, NotifyError};
pub use page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest};
pub use random::{OsRandom, RandomSource, SeededRandom};
pub use role::{Role, RoleKeyError};
#[cfg(feature = "worker")]
pub use service::DeliveryWorker;
pub use service::{
    Acceptance, Accepted, Access, DeliveryReport, InvitationPreview, InviteOutcome, InviteReport,
    InviteRequest, InviteRow, MAX_ALLOWED_DOMAINS, OutboxStatus, Resent, Roster, RosterBuilder,
    SignIn, WithTokens,
};
pub use store::{Change, Entity, Store, StoreError, StoreExt};
pub use token::{InvitationToken, MalformedToken, TokenHash};
pub use user::{PasswordHash, User};
pub use version::Version;
