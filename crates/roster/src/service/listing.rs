//! Listings: members, invitations, the audit trail, pickable accounts and the outbox.

use super::Roster;
use crate::account::Account;
use crate::audit::AuditEvent;
use crate::error::{Denial, RosterError};
use crate::id::{EventId, InvitationId, NoticeId, ProjectId, UserId};
use crate::invitation::{Invitation, InvitationState};
use crate::notice::{DeliveryStatus, OutboxEntry};
use crate::page::{Page, PageRequest};
use crate::policy;
use crate::store::{InvitationQuery, Member, OutboxQuery};

impl Roster {
    /// Members of a project with their roles. Any member (or account administrator) may list.
    pub async fn members(
        &self,
        actor: UserId,
        project: ProjectId,
        page: PageRequest<UserId>,
    ) -> Result<Page<Member, UserId>, RosterError> {
        let scope = self.scope(project, Some(actor)).await?;
        if scope.actor_role.is_none() {
            return Err(RosterError::Forbidden(Denial::NotAMember));
        }
        let limit = page.clamped_limit();
        let items = self.store().members(project, page.after, limit).await?;
        Ok(Page::from_items(items, limit, |member| member.user.id))
    }

    /// Invitations of a project, optionally only those in one (effective) state. Administrators
    /// only: invitations show addresses of people outside the project.
    pub async fn invitations(
        &self,
        actor: UserId,
        project: ProjectId,
        state: Option<InvitationState>,
        page: PageRequest<InvitationId>,
    ) -> Result<Page<Invitation, InvitationId>, RosterError> {
        let scope = self.scope(project, Some(actor)).await?;
        policy::require_manager(self.roles(), scope.actor_role)?;
        let limit = page.clamped_limit();
        let query = InvitationQuery {
            project,
            state,
            now: self.now(),
            after: page.after,
            limit,
        };
        let mut items = self.store().invitations(&query).await?;
        // Report the state callers would be told on use, not a stale stored `Pending`.
        let now = query.now;
        for invitation in &mut items {
            invitation.state = invitation.effective_state(now);
        }
        Ok(Page::from_items(items, limit, |invitation| invitation.id))
    }

    /// The audit trail of a project, oldest first. Administrators only.
    pub async fn audit_trail(
        &self,
        actor: UserId,
        project: ProjectId,
        page: PageRequest<EventId>,
    ) -> Result<Page<AuditEvent, EventId>, RosterError> {
        let scope = self.scope(project, Some(actor)).await?;
        policy::require_manager(self.roles(), scope.actor_role)?;
        let limit = page.clamped_limit();
        let items = self
            .store()
            .audit_events(project, page.after, limit)
            .await?;
        Ok(Page::from_items(items, limit, |event| event.id))
    }

    /// The accounts a user may pick after signing in.
    pub async fn accounts_of(&self, user: UserId) -> Result<Vec<Account>, RosterError> {
        Ok(self.store().accounts_of_user(user).await?)
    }

    /// Notices about a project, optionally only those with one delivery status (for example
    /// [`DeliveryStatus::Failed`]: the "failed invitations" list). Administrators only.
    pub async fn notices(
        &self,
        actor: UserId,
        project: ProjectId,
        status: Option<DeliveryStatus>,
        page: PageRequest<NoticeId>,
    ) -> Result<Page<OutboxEntry, NoticeId>, RosterError> {
        let scope = self.scope(project, Some(actor)).await?;
        policy::require_manager(self.roles(), scope.actor_role)?;
        // What this process sent is recorded first, so the listing shows it.
        self.flush().await?;
        let limit = page.clamped_limit();
        let query = OutboxQuery {
            status,
            project: Some(project),
            after: page.after,
            limit,
        };
        let items = self.store().outbox(&query).await?;
        Ok(Page::from_items(items, limit, |entry| entry.id))
    }
}
