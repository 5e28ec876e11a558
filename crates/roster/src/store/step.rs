//! One command as the store runs it: what to read, the pure decision to make on it, and the
//! delivery records that ride along. See [`Store::transact`](crate::Store::transact).

use std::fmt;

use chrono::{DateTime, Utc};

use super::{
    Change, InvitationContext, InvitationKey, InviteContext, InviteQuery, ProjectContext,
    StoreError,
};
use crate::account::Account;
use crate::email::Email;
use crate::id::{AccountId, NoticeId, ProjectId, UserId};
use crate::invitation::Invitation;
use crate::membership::Membership;
use crate::notice::OutboxEntry;
use crate::role::Role;
use crate::user::User;

/// What a command reads before it decides. The store answers it with the [`Snapshot`] of the
/// same variant, read inside the isolation the decision then runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Read {
    /// Nothing: the decision needs no stored state (delivery records alone, say).
    Nothing,
    /// The user with this id.
    User(UserId),
    /// The user whose address has this canonical form.
    Address(Email),
    /// The account with this id.
    Account(AccountId),
    /// The [`ProjectContext`] of `project` for `actor`.
    Project {
        /// The project.
        project: ProjectId,
        /// The acting user, if any.
        actor: Option<UserId>,
    },
    /// The project context (see [`ProjectContext`]) of `project` for `actor`, the membership of
    /// `member` in it, and how many members hold one of the `managers` roles there.
    Member {
        /// The project.
        project: ProjectId,
        /// The acting user.
        actor: UserId,
        /// The member acted on.
        member: UserId,
        /// The roles counted: those of the service's catalog that manage members.
        managers: Vec<Role>,
    },
    /// The [`InvitationContext`] `key` finds, for `actor`; with `sent_since`, also how many
    /// invitation emails `actor` sent at or after it, in any project (as
    /// [`Lookup::count_sends_by`](super::Lookup::count_sends_by) answers).
    Invitation {
        /// How to find the invitation.
        key: InvitationKey,
        /// The acting user, if any.
        actor: Option<UserId>,
        /// The start of the per-inviter limit's window, when that limit is on.
        sent_since: Option<DateTime<Utc>>,
    },
    /// Everything a bulk invite reads (see [`InviteContext`]).
    Invite(InviteQuery),
    /// The outbox entry with this id, with its project's context for `actor` and, if the notice
    /// is about one, its invitation.
    Notice {
        /// The entry.
        id: NoticeId,
        /// The acting user, if any.
        actor: Option<UserId>,
    },
}

/// What the store read for a [`Read`], in the variant of the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Snapshot {
    /// For [`Read::Nothing`].
    Nothing,
    /// For [`Read::User`].
    User(Option<User>),
    /// For [`Read::Address`].
    Address(Option<User>),
    /// For [`Read::Account`].
    Account(Option<Account>),
    /// For [`Read::Project`]; `None` if the project or its account does not exist.
    Project(Option<ProjectContext>),
    /// For [`Read::Member`]; `None` if the project or its account does not exist.
    Member(Option<MemberContext>),
    /// For [`Read::Invitation`].
    Invitation {
        /// The invitation with its people; `None` if `key` finds nothing or its project is gone.
        context: Option<InvitationContext>,
        /// How many invitation emails the actor sent since `sent_since`; `None` when not asked.
        sent_by_actor: Option<u64>,
    },
    /// For [`Read::Invite`]; `None` if the project or its account does not exist.
    Invite(Option<InviteContext>),
    /// For [`Read::Notice`]; `None` if the entry does not exist.
    Notice(Option<NoticeContext>),
}

/// A project member as a role change or removal decides on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberContext {
    /// The project, its account and the acting user.
    pub project: ProjectContext,
    /// The membership of the member acted on, if any.
    pub member: Option<Membership>,
    /// How many members of the project hold one of the roles the read named.
    pub managers: u64,
}

/// An outbox entry with what delivering or re-queueing it decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeContext {
    /// The entry.
    pub entry: OutboxEntry,
    /// Its project's context for the actor; `None` if the project or its account is gone.
    pub project: Option<ProjectContext>,
    /// The invitation the notice is about, if it still exists.
    pub invitation: Option<Invitation>,
}

/// The decision of a [`Step`]: given the snapshot, the change to apply. A refusal is an empty
/// change (the decision keeps its verdict for its caller).
pub type Decide = Box<dyn FnMut(Snapshot) -> Change + Send>;

/// One command for [`Store::transact`](crate::Store::transact).
pub struct Step {
    /// Outcomes of earlier sends (each entry as it should now be stored), written first. They
    /// ride along with a command instead of costing a commit of their own.
    pub deliveries: Vec<OutboxEntry>,
    /// What the decision reads.
    pub read: Read,
    /// The decision; call it through [`Step::decide`]. A store calls it once per attempt; one
    /// that runs it under its own isolation calls it exactly once.
    pub decision: Decide,
    /// Whether the decision only reads (a preview, a permission check): it then writes nothing,
    /// and a store may run it on a consistent snapshot of committed state without taking its
    /// write lock (a reader connection, say). A read-only step has no deliveries.
    pub read_only: bool,
}

impl Step {
    /// A step reading `read` and deciding with `decide`.
    pub fn new(read: Read, decide: impl FnMut(Snapshot) -> Change + Send + 'static) -> Self {
        Step {
            deliveries: Vec::new(),
            read,
            decision: Box::new(decide),
            read_only: false,
        }
    }

    /// A step that only reads: `look` sees the snapshot and keeps what it needs; nothing is
    /// written.
    pub fn read_only(read: Read, mut look: impl FnMut(Snapshot) + Send + 'static) -> Self {
        let mut step = Step::new(read, move |snapshot| {
            look(snapshot);
            Change::default()
        });
        step.read_only = true;
        step
    }

    /// Runs the decision on `snapshot`. A panic in it (a bug) is answered as a
    /// [`StoreError::Backend`] rather than unwinding through the store's lock or transaction.
    pub fn decide(&mut self, snapshot: Snapshot) -> Result<Change, StoreError> {
        let decision = &mut self.decision;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decision(snapshot)))
            .map_err(|_| StoreError::backend("the step's decision panicked"))
    }

    /// A step that only writes `change`, whatever is stored.
    pub fn write(change: Change) -> Self {
        let mut change = Some(change);
        Step::new(Read::Nothing, move |_| change.take().unwrap_or_default())
    }

    /// Records `deliveries` before reading (the step is then no longer read-only).
    pub fn with_deliveries(mut self, deliveries: Vec<OutboxEntry>) -> Self {
        self.read_only &= deliveries.is_empty();
        self.deliveries = deliveries;
        self
    }

    /// The delivery records as a change of their own.
    pub fn deliveries_change(&self) -> Change {
        Change {
            outbox: self
                .deliveries
                .iter()
                .cloned()
                .map(super::OutboxWrite::Update)
                .collect(),
            ..Change::default()
        }
    }
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Step")
            .field("deliveries", &self.deliveries.len())
            .field("read", &self.read)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}
