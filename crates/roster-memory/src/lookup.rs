//! [`Lookup`] over the locked state, so a step reads inside the lock it is decided and applied
//! under.

use chrono::{DateTime, Utc};
use roster::store::Lookup;
use roster::{
    Account, AccountId, Email, Invitation, InvitationId, Membership, NoticeId, OutboxEntry,
    Project, ProjectId, Role, StoreError, TokenHash, User, UserId,
};

use crate::state::State;

/// The state as a step's decision reads it.
pub(crate) struct Locked<'a>(pub(crate) &'a State);

impl Lookup for Locked<'_> {
    fn account(&mut self, id: AccountId) -> Result<Option<Account>, StoreError> {
        Ok(self.0.accounts.get(id).cloned())
    }

    fn project(&mut self, id: ProjectId) -> Result<Option<Project>, StoreError> {
        Ok(self.0.projects.get(id).cloned())
    }

    fn user(&mut self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.0.users.get(id).map(|row| row.user.clone()))
    }

    fn user_by_email(&mut self, email: &Email) -> Result<Option<User>, StoreError> {
        Ok(self.0.users.by_email(email).map(|row| row.user.clone()))
    }

    fn membership(
        &mut self,
        project: ProjectId,
        user: UserId,
    ) -> Result<Option<Membership>, StoreError> {
        Ok(self.0.memberships.get(project, user).cloned())
    }

    fn count_members(&mut self, project: ProjectId, role: Role) -> Result<u64, StoreError> {
        Ok(self.0.memberships.count(project, role))
    }

    fn invitation(&mut self, id: InvitationId) -> Result<Option<Invitation>, StoreError> {
        Ok(self.0.invitations.get(id).cloned())
    }

    fn invitation_by_token(&mut self, hash: &TokenHash) -> Result<Option<Invitation>, StoreError> {
        Ok(self.0.invitations.by_token(hash).cloned())
    }

    fn pending_invitation(
        &mut self,
        project: ProjectId,
        email: &Email,
    ) -> Result<Option<Invitation>, StoreError> {
        Ok(self.0.invitations.pending_for(project, email).cloned())
    }

    fn count_pending_invitations(
        &mut self,
        project: ProjectId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        Ok(self.0.invitations.count_pending(project, now))
    }

    fn count_sends_by(&mut self, sender: UserId, since: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(self.0.outbox.count_sends_by(sender, since))
    }

    fn outbox_entry(&mut self, id: NoticeId) -> Result<Option<OutboxEntry>, StoreError> {
        Ok(self.0.outbox.get(id).cloned())
    }
}
