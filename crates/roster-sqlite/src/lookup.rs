//! [`Lookup`] over the writer connection inside its transaction, so a step reads what it then
//! decides on and writes within one `BEGIN IMMEDIATE`.

use chrono::{DateTime, Utc};
use roster::store::Lookup;
use roster::{
    Account, AccountId, Email, Invitation, InvitationId, Membership, NoticeId, OutboxEntry,
    Project, ProjectId, Role, StoreError, TokenHash, User, UserId,
};
use rusqlite::Connection;

use crate::read;

/// A connection inside a write transaction, as a step's decision reads it.
pub(crate) struct InTransaction<'a>(pub(crate) &'a Connection);

impl Lookup for InTransaction<'_> {
    fn account(&mut self, id: AccountId) -> Result<Option<Account>, StoreError> {
        Ok(read::account(self.0, id)?)
    }

    fn project(&mut self, id: ProjectId) -> Result<Option<Project>, StoreError> {
        Ok(read::project(self.0, id)?)
    }

    fn user(&mut self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(read::user(self.0, id)?)
    }

    fn user_by_email(&mut self, email: &Email) -> Result<Option<User>, StoreError> {
        Ok(read::user_by_email(self.0, email.canonical())?)
    }

    fn membership(
        &mut self,
        project: ProjectId,
        user: UserId,
    ) -> Result<Option<Membership>, StoreError> {
        Ok(read::membership(self.0, project, user)?)
    }

    fn count_members(&mut self, project: ProjectId, role: Role) -> Result<u64, StoreError> {
        Ok(read::count_members(self.0, project, role)?)
    }

    fn invitation(&mut self, id: InvitationId) -> Result<Option<Invitation>, StoreError> {
        Ok(read::invitation(self.0, id)?)
    }

    fn invitation_by_token(&mut self, hash: &TokenHash) -> Result<Option<Invitation>, StoreError> {
        Ok(read::invitation_by_token(self.0, hash)?)
    }

    fn pending_invitation(
        &mut self,
        project: ProjectId,
        email: &Email,
    ) -> Result<Option<Invitation>, StoreError> {
        Ok(read::pending_invitation(
            self.0,
            project,
            email.canonical(),
        )?)
    }

    fn count_pending_invitations(
        &mut self,
        project: ProjectId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        Ok(read::count_pending_invitations(self.0, project, now)?)
    }

    fn count_sends_by(&mut self, sender: UserId, since: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(read::count_sends_by(self.0, sender, since)?)
    }

    fn outbox_entry(&mut self, id: NoticeId) -> Result<Option<OutboxEntry>, StoreError> {
        Ok(read::outbox_entry(self.0, id)?)
    }
}
