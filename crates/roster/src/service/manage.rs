//! What Administrators do to invitations and members after the fact.

use chrono::{DateTime, Utc};

use super::invite::{already_counted, notice_for, notice_kind, sending_window_start};
use super::{Plan, ProjectScope, Roster};
use crate::audit::AuditAction;
use crate::error::{LimitKind, RosterError};
use crate::id::{InvitationId, ProjectId, UserId};
use crate::invitation::{Invitation, InvitationState};
use crate::membership::Membership;
use crate::notice::NoticeKind;
use crate::policy;
use crate::role::Role;
use crate::store::{Change, Entity, InvitationKey, InvitationWrite, MembershipWrite};
use crate::token::InvitationToken;
use crate::user::User;

/// A resent invitation and its new token (the previous link no longer works).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resent {
    /// The invitation, with its new expiry.
    pub invitation: Invitation,
    /// The new token.
    pub token: InvitationToken,
}

impl Roster {
    /// Sends a pending invitation again: new token (the old link stops working), new expiry, and
    /// the resender becomes its inviter. Counts against the resender's daily limit unless they
    /// already sent it within the window.
    ///
    /// Errors: [`RosterError::NotFound`], [`RosterError::Forbidden`],
    /// [`RosterError::RoleNotAllowed`], [`RosterError::InvitationClosed`],
    /// [`RosterError::LimitReached`].
    #[tracing::instrument(skip_all, fields(actor = %actor, invitation = %invitation))]
    pub async fn resend(
        &self,
        actor: UserId,
        invitation: InvitationId,
    ) -> Result<Resent, RosterError> {
        let resent = self
            .transact(|| Box::pin(self.plan_resend(actor, invitation)))
            .await?;
        tracing::info!(sends = resent.invitation.sends, "invitation resent");
        Ok(resent)
    }

    async fn plan_resend(
        &self,
        actor: UserId,
        id: InvitationId,
    ) -> Result<Plan<Resent>, RosterError> {
        let now = self.now();
        let (mut invitation, scope, invitee) = self.pending_for_manager(actor, id, now).await?;
        let inviter = scope.actor_user()?;
        let mut change = Change::on_project(scope.project.id, scope.project.version);
        let window_start = sending_window_start(now);
        let sent = match self.config().limits.invitations_per_inviter_per_day {
            Some(_) => Some(
                self.store()
                    .count_invitations_sent_by(actor, window_start)
                    .await?,
            ),
            None => None,
        };
        if let Some((limit, 0)) = self.inviter_budget(inviter, sent, &mut change)?
            && !already_counted(&invitation, actor, window_start)
        {
            return Err(RosterError::LimitReached(
                LimitKind::InvitationsPerInviterPerDay { limit },
            ));
        }

        let token = InvitationToken::generate(self.random());
        invitation.token_hash = token.hash();
        invitation.invited_by = actor;
        invitation.sent_at = now;
        invitation.expires_at = now + self.config().limits.invitation_lifetime;
        invitation.sends += 1;
        let kind = notice_kind(invitee.as_ref());
        change
            .invitations
            .push(InvitationWrite::Update(invitation.clone()));
        change.audit.push(self.event(
            now,
            Some(actor),
            &scope,
            AuditAction::InvitationResent {
                invitation: invitation.id,
                email: invitation.email.clone(),
                role: invitation.role,
            },
        ));
        let notice = notice_for(&scope, &invitation, &inviter.email, kind);
        let outgoing = vec![self.enqueue(&mut change, notice, Some(token.clone()), now)];
        Ok(Plan {
            change,
            outcome: Resent { invitation, token },
            outgoing,
        })
    }

    /// Withdraws a pending invitation; its link stops working and the invitee is told.
    ///
    /// Errors: [`RosterError::NotFound`], [`RosterError::Forbidden`],
    /// [`RosterError::RoleNotAllowed`], [`RosterError::InvitationClosed`].
    #[tracing::instrument(skip_all, fields(actor = %actor, invitation = %invitation))]
    pub async fn revoke(
        &self,
        actor: UserId,
        invitation: InvitationId,
    ) -> Result<Invitation, RosterError> {
        let revoked = self
            .transact(|| {
                Box::pin(async move {
                    let now = self.now();
                    let (mut invitation, scope, _) =
                        self.pending_for_manager(actor, invitation, now).await?;
                    let inviter = scope.actor_user()?;
                    let mut change = Change::on_project(scope.project.id, scope.project.version);
                    invitation.state = InvitationState::Revoked;
                    invitation.closed_at = Some(now);
                    change
                        .invitations
                        .push(InvitationWrite::Update(invitation.clone()));
                    change.audit.push(self.event(
                        now,
                        Some(actor),
                        &scope,
                        AuditAction::InvitationRevoked {
                            invitation: invitation.id,
                            email: invitation.email.clone(),
                        },
                    ));
                    let notice =
                        notice_for(&scope, &invitation, &inviter.email, NoticeKind::Revocation);
                    let outgoing = vec![self.enqueue(&mut change, notice, None, now)];
                    Ok(Plan {
                        change,
                        outcome: invitation,
                        outgoing,
                    })
                })
            })
            .await?;
        tracing::info!("invitation revoked");
        Ok(revoked)
    }

    /// Gives a member another project role. Nobody grants above their own role or acts on a member
    /// who outranks them, and the project keeps at least one Administrator.
    ///
    /// Errors: [`RosterError::NotFound`] (no such membership), [`RosterError::Forbidden`],
    /// [`RosterError::RoleNotAllowed`], [`RosterError::LastAdministrator`].
    #[tracing::instrument(skip_all, fields(actor = %actor, project = %project, user = %user, role = %role))]
    pub async fn change_role(
        &self,
        actor: UserId,
        project: ProjectId,
        user: UserId,
        role: Role,
    ) -> Result<Membership, RosterError> {
        self.transact(|| {
            Box::pin(async move {
                let now = self.now();
                let scope = self.scope(project, Some(actor)).await?;
                let actor_role = policy::require_manager(scope.actor_role)?;
                policy::require_grantable(actor_role, role)?;
                let mut membership = self.target_membership(&scope, actor, user).await?;
                policy::require_not_outranked(actor_role, target_role(&scope, &membership))?;
                if membership.role == role {
                    return Ok(Plan::new(Change::default(), membership));
                }
                self.require_administrator_left(project, membership.role, Some(role))
                    .await?;
                let mut change = Change::on_project(scope.project.id, scope.project.version);
                change.audit.push(self.event(
                    now,
                    Some(actor),
                    &scope,
                    AuditAction::RoleChanged {
                        user,
                        from: membership.role,
                        to: role,
                    },
                ));
                membership.role = role;
                change
                    .memberships
                    .push(MembershipWrite::Update(membership.clone()));
                Ok(Plan::new(change, membership))
            })
        })
        .await
    }

    /// Removes a member from a project. The project keeps at least one Administrator.
    ///
    /// Errors: [`RosterError::NotFound`], [`RosterError::Forbidden`],
    /// [`RosterError::LastAdministrator`].
    #[tracing::instrument(skip_all, fields(actor = %actor, project = %project, user = %user))]
    pub async fn remove_member(
        &self,
        actor: UserId,
        project: ProjectId,
        user: UserId,
    ) -> Result<(), RosterError> {
        self.transact(|| {
            Box::pin(async move {
                let now = self.now();
                let scope = self.scope(project, Some(actor)).await?;
                let actor_role = policy::require_manager(scope.actor_role)?;
                let membership = self.target_membership(&scope, actor, user).await?;
                policy::require_not_outranked(actor_role, target_role(&scope, &membership))?;
                self.require_administrator_left(project, membership.role, None)
                    .await?;
                let mut change = Change::on_project(scope.project.id, scope.project.version);
                change
                    .memberships
                    .push(MembershipWrite::Delete { project, user });
                change.audit.push(self.event(
                    now,
                    Some(actor),
                    &scope,
                    AuditAction::MemberRemoved {
                        user,
                        role: membership.role,
                    },
                ));
                Ok(Plan::new(change, ()))
            })
        })
        .await
    }

    /// The user leaves a project of their own accord. The last Administrator cannot leave.
    ///
    /// Errors: [`RosterError::NotFound`] (not a member), [`RosterError::LastAdministrator`].
    #[tracing::instrument(skip_all, fields(user = %user, project = %project))]
    pub async fn leave(&self, user: UserId, project: ProjectId) -> Result<(), RosterError> {
        self.transact(|| {
            Box::pin(async move {
                let now = self.now();
                let scope = self.scope(project, Some(user)).await?;
                let membership = scope
                    .actor_membership
                    .clone()
                    .ok_or(RosterError::NotFound(Entity::Membership))?;
                self.require_administrator_left(project, membership.role, None)
                    .await?;
                let mut change = Change::on_project(scope.project.id, scope.project.version);
                change
                    .memberships
                    .push(MembershipWrite::Delete { project, user });
                change.audit.push(self.event(
                    now,
                    Some(user),
                    &scope,
                    AuditAction::MemberLeft {
                        user,
                        role: membership.role,
                    },
                ));
                Ok(Plan::new(change, ()))
            })
        })
        .await
    }

    /// Reads a pending invitation that `actor` may act on (manage the project, grant its role),
    /// with its project scope (whose actor is known to exist) and the invitee, if a user.
    async fn pending_for_manager(
        &self,
        actor: UserId,
        id: InvitationId,
        now: DateTime<Utc>,
    ) -> Result<(Invitation, ProjectScope, Option<User>), RosterError> {
        let context = self
            .store()
            .invitation_context(InvitationKey::Id(id), Some(actor))
            .await?
            .ok_or(RosterError::NotFound(Entity::Invitation))?;
        let scope = ProjectScope::new(context.project, Some(actor));
        let actor_role = policy::require_manager(scope.actor_role)?;
        policy::require_grantable(actor_role, context.invitation.role)?;
        policy::require_pending(&context.invitation, now)?;
        scope.actor_user()?;
        Ok((context.invitation, scope, context.invitee))
    }

    /// [`policy::require_keeps_administrator`] for a member of `project` going from `from` to
    /// `to` (`None`: leaving), against the project's current count of Administrators.
    async fn require_administrator_left(
        &self,
        project: ProjectId,
        from: Role,
        to: Option<Role>,
    ) -> Result<(), RosterError> {
        let administrators = self
            .store()
            .count_members(project, Role::Administrator)
            .await?;
        policy::require_keeps_administrator(from, to, administrators)
    }

    async fn target_membership(
        &self,
        scope: &ProjectScope,
        actor: UserId,
        user: UserId,
    ) -> Result<Membership, RosterError> {
        if user == actor
            && let Some(membership) = &scope.actor_membership
        {
            return Ok(membership.clone());
        }
        self.store()
            .membership(scope.project.id, user)
            .await?
            .ok_or(RosterError::NotFound(Entity::Membership))
    }
}

/// The role the holder of `membership` has in effect: account administrators keep their rank even
/// where they also hold a membership.
fn target_role(scope: &super::ProjectScope, membership: &Membership) -> Role {
    policy::effective_role(&scope.account, membership.user, Some(membership))
        .unwrap_or(membership.role)
}
