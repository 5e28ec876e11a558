use crate::account::{Account, Project};
use crate::audit::AuditEvent;
use crate::id::{ProjectId, UserId};
use crate::invitation::Invitation;
use crate::membership::Membership;
use crate::notice::OutboxEntry;
use crate::user::{PasswordHash, User};
use crate::version::Version;

/// A version the change was decided against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation {
    /// The project must still be at this version.
    ProjectVersion {
        /// The project.
        project: ProjectId,
        /// The version read.
        version: Version,
    },
    /// The user must still be at this version.
    UserVersion {
        /// The user.
        user: UserId,
        /// The version read.
        version: Version,
    },
}

/// A write to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountWrite {
    /// A new account. Fails with `AlreadyExists(Account)` if the id is taken.
    Insert(Account),
    /// Replaces an account's name, administrators and allowed domains. Fails with
    /// `NotFound(Account)` if absent.
    Update(Account),
}

/// A write to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserWrite {
    /// A new user. Fails with `AlreadyExists(User)` if the id or the canonical address is taken.
    Insert {
        /// The user.
        user: User,
        /// Their password hash, if they register with one.
        password: Option<PasswordHash>,
    },
    /// Replaces a user's fields (not its version) and, if `password` is `Some`, its password hash.
    /// Fails with `NotFound(User)` if absent, `AlreadyExists(User)` if the new address is taken.
    Update {
        /// The user as it should be.
        user: User,
        /// A new password hash, or `None` to keep the current one.
        password: Option<PasswordHash>,
    },
}

/// A write to a membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipWrite {
    /// A new membership. Fails with `AlreadyExists(Membership)` if (project, user) has one, and
    /// with `NotFound(Project)` / `NotFound(User)` if either is unknown.
    Insert(Membership),
    /// Replaces an existing membership (a role change). Fails with `NotFound(Membership)`.
    Update(Membership),
    /// Deletes a membership. Fails with `NotFound(Membership)`.
    Delete {
        /// The project.
        project: ProjectId,
        /// The member.
        user: UserId,
    },
}

/// A write to an invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvitationWrite {
    /// A new invitation. Fails with `AlreadyExists(Invitation)` if the id or token hash is taken,
    /// or if it is `Pending` while another stored `Pending` invitation has the same project and
    /// canonical address; with `NotFound(Project)` if the project is unknown.
    Insert(Invitation),
    /// Replaces an existing invitation (state, token, expiry...). Fails with
    /// `NotFound(Invitation)`, or `AlreadyExists(Invitation)` under the same uniqueness rules.
    Update(Invitation),
}

/// A write to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxWrite {
    /// A new entry. Fails with `AlreadyExists(OutboxEntry)` if the id is taken.
    Insert(OutboxEntry),
    /// Replaces an entry (status, attempts, schedule). Fails with `NotFound(OutboxEntry)`.
    Update(OutboxEntry),
}

/// Every write of one command, applied by [`Store::transact`](crate::Store::transact) atomically: all of
/// it or none of it.
///
/// A store applies a change in this order, stopping at the first error and then undoing everything:
/// 1. each [`Expectation`]: the record must exist (`NotFound`) at the expected version
///    (`Conflict`);
/// 2. accounts, projects (inserts; `AlreadyExists` on a taken id), users, memberships, invitations,
///    audit events (appended; `AlreadyExists` on a taken id), outbox entries, each list in order;
/// 3. every project and user named in an expectation gets its version bumped by one.
///
/// Version fields of written records are ignored: inserts start at [`Version::INITIAL`], updates
/// keep the stored version, and only step 3 moves it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    /// Versions the change was decided against.
    pub expect: Vec<Expectation>,
    /// Account writes.
    pub accounts: Vec<AccountWrite>,
    /// New projects.
    pub projects: Vec<Project>,
    /// User writes.
    pub users: Vec<UserWrite>,
    /// Membership writes.
    pub memberships: Vec<MembershipWrite>,
    /// Invitation writes.
    pub invitations: Vec<InvitationWrite>,
    /// Audit events to append.
    pub audit: Vec<AuditEvent>,
    /// Outbox writes.
    pub outbox: Vec<OutboxWrite>,
}

impl Change {
    /// An empty change expecting `project` to be at `version`.
    pub fn on_project(project: ProjectId, version: Version) -> Self {
        Change {
            expect: vec![Expectation::ProjectVersion { project, version }],
            ..Change::default()
        }
    }

    /// Whether the change writes nothing at all (expectations aside).
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
            && self.projects.is_empty()
            && self.users.is_empty()
            && self.memberships.is_empty()
            && self.invitations.is_empty()
            && self.audit.is_empty()
            && self.outbox.is_empty()
    }
}
