//! The rollback log of one `apply`: the inverse of every write done so far.
//!
//! Reverting replays the inverses newest first through the tables' own primitives, so every
//! index is restored with its row. Only the records a change touched are copied, which keeps a
//! failed change as cheap as a successful one however large the store is.

use roster::{
    Account, AccountId, EventId, Invitation, InvitationId, Membership, NoticeId, OutboxEntry,
};
use roster::{ProjectId, UserId};

use crate::state::{State, UserRow};

/// The inverse of one write.
#[derive(Debug)]
pub(crate) enum Undo {
    /// Undoes an account insert.
    RemoveAccount(AccountId),
    /// Undoes an account update: the account as it was.
    RestoreAccount(Account),
    /// Undoes a project insert.
    RemoveProject(ProjectId),
    /// Undoes a user insert.
    RemoveUser(UserId),
    /// Undoes a user update: the row as it was.
    RestoreUser(UserRow),
    /// Undoes a membership insert.
    RemoveMembership(ProjectId, UserId),
    /// Undoes a membership update or delete: the membership as it was.
    RestoreMembership(Membership),
    /// Undoes an invitation insert.
    RemoveInvitation(InvitationId),
    /// Undoes an invitation update: the invitation as it was.
    RestoreInvitation(Invitation),
    /// Undoes an audit append.
    RemoveAuditEvent(EventId),
    /// Undoes an outbox insert.
    RemoveOutboxEntry(NoticeId),
    /// Undoes an outbox update: the entry as it was.
    RestoreOutboxEntry(OutboxEntry),
}

impl Undo {
    fn revert(self, state: &mut State) {
        match self {
            Undo::RemoveAccount(id) => state.accounts.remove(id),
            Undo::RestoreAccount(account) => {
                state.accounts.remove(account.id);
                // The id was just freed, so the insert cannot fail.
                let _ = state.accounts.insert(account);
            }
            Undo::RemoveProject(id) => state.projects.remove(id),
            Undo::RemoveUser(id) => {
                state.users.take(id);
            }
            Undo::RestoreUser(row) => {
                state.users.take(row.user.id);
                state.users.put(row);
            }
            Undo::RemoveMembership(project, user) => {
                state.memberships.take(project, user);
            }
            Undo::RestoreMembership(membership) => {
                state.memberships.take(membership.project, membership.user);
                state.memberships.put(membership);
            }
            Undo::RemoveInvitation(id) => {
                state.invitations.take(id);
            }
            Undo::RestoreInvitation(invitation) => {
                state.invitations.take(invitation.id);
                state.invitations.put(invitation);
            }
            Undo::RemoveAuditEvent(id) => state.audit.remove(id),
            Undo::RemoveOutboxEntry(id) => {
                state.outbox.take(id);
            }
            Undo::RestoreOutboxEntry(entry) => {
                state.outbox.take(entry.id);
                state.outbox.put(entry);
            }
        }
    }
}

/// The inverses of the writes done so far, oldest first.
#[derive(Debug, Default)]
pub(crate) struct UndoLog(Vec<Undo>);

impl UndoLog {
    pub(crate) fn push(&mut self, undo: Undo) {
        self.0.push(undo);
    }

    /// Reverts every logged write, newest first, leaving the state as it was before the first.
    pub(crate) fn rollback(self, state: &mut State) {
        for undo in self.0.into_iter().rev() {
            undo.revert(state);
        }
    }
}
