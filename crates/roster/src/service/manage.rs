//! What Administrators do to invitations and members after the fact.

use chrono::{DateTime, Utc};

use super::invite::{notice_for, notice_kind, sending_window_start};
use super::{Plan, ProjectScope, Roster};
use crate::audit::AuditAction;
use crate::catalog::RoleCatalog;
use crate::clock::later;
use crate::error::{LimitKind, RosterError};
use crate::id::{InvitationId, ProjectId, UserId};
use crate::invitation::{Invitation, InvitationState};
use crate::membership::Membership;
use crate::notice::{DeliveryStatus, NoticeKind};
use crate::policy;
use crate::role::Role;
use crate::store::{
    Change, Entity, InvitationContext, InvitationKey, InvitationWrite, MembershipWrite, Read,
    Snapshot,
};
use crate::token::InvitationToken;
use crate::user::User;

/// A resent invitation and its new token (the previous link no longer works).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resent {
    /// The invitation, with its new expiry.
    pub invitation: Invitation,
    /// The new token. Never serialized.
    #[serde(skip_serializing)]
    pub token: InvitationToken,
    /// How the email fared right after the commit (see
    /// [`InviteRow::delivery`](crate::InviteRow::delivery)).
    pub delivery: DeliveryStatus,
}

impl Roster {
    /// Sends an invitation again: new token (the old link stops working), new expiry, and the
    /// resender becomes its inviter. An invitation that expired (and was not replaced by a newer
    /// one) is renewed this way, as "Resend invite" does in the portal. Counts one email against
    /// the resender's daily limit, whoever sent it before.
    ///
    /// Errors: [`RosterError::NotFound`], [`RosterError::Forbidden`],
    /// [`RosterError::RoleNotAllowed`], [`RosterError::InvitationClosed`],
    /// [`RosterError::LimitReached`], [`RosterError::DomainNotAllowed`] (the account now
    /// restricts its invitations to other domains).
    #[tracing::instrument(skip_all, fields(actor = %actor, invitation = %invitation))]
    pub async fn resend(
        &self,
        actor: UserId,
        invitation: InvitationId,
    ) -> Result<Resent, RosterError> {
        let now = self.now();
        let read = Read::Invitation {
            key: InvitationKey::Id(invitation),
            actor: Some(actor),
            sent_since: self
                .config()
                .limits
                .invitations_per_inviter_per_day
                .map(|_| sending_window_start(now)),
        };
        let roster = self.clone();
        let (mut resent, sent) = self
            .run_and_deliver(read, move |snapshot| roster.plan_resend(actor, snapshot))
            .await?;
        // A command's own notice is always attempted or left queued: never absent.
        resent.delivery = sent
            .status_of(resent.invitation.id)
            .unwrap_or(DeliveryStatus::Queued);
        tracing::info!(sends = resent.invitation.sends, "invitation resent");
        Ok(resent)
    }

    fn plan_resend(&self, actor: UserId, snapshot: Snapshot) -> Result<Plan<Resent>, RosterError> {
        let now = self.now();
        let Snapshot::Invitation {
            context,
            sent_by_actor,
        } = snapshot
        else {
            return Err(super::wrong_snapshot());
        };
        let (mut invitation, scope, invitee) = for_manager(
            self.roles(),
            context,
            actor,
            now,
            policy::require_resendable,
        )?;
        policy::require_allowed_domain(&scope.account, &invitation.email)?;
        let inviter = scope.actor_user()?;
        let mut change = Change::on_project(scope.project.id, scope.project.version);
        if let Some((limit, 0)) = self.inviter_budget(inviter, sent_by_actor, &mut change)? {
            return Err(RosterError::LimitReached(
                LimitKind::InvitationsPerInviterPerDay { limit },
            ));
        }

        let token = InvitationToken::generate(self.random());
        invitation.token_hash = token.hash();
        invitation.invited_by = actor;
        invitation.sent_at = now;
        invitation.expires_at = later(now, self.config().limits.invitation_lifetime);
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
        let notice = notice_for(self.roles(), &scope, &invitation, inviter, kind);
        let outgoing = vec![self.enqueue(&mut change, notice, Some(token.clone()), now)];
        Ok(Plan {
            change,
            outcome: Resent {
                invitation,
                token,
                delivery: DeliveryStatus::Queued,
            },
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
        let read = Read::Invitation {
            key: InvitationKey::Id(invitation),
            actor: Some(actor),
            sent_since: None,
        };
        let roster = self.clone();
        let revoked = self
            .run(read, move |snapshot| {
                let now = roster.now();
                let Snapshot::Invitation { context, .. } = snapshot else {
                    return Err(super::wrong_snapshot());
                };
                let (mut invitation, scope, _) =
                    for_manager(roster.roles(), context, actor, now, policy::require_pending)?;
                let inviter = scope.actor_user()?;
                let mut change = Change::on_project(scope.project.id, scope.project.version);
                invitation.state = InvitationState::Revoked;
                invitation.closed_at = Some(now);
                change
                    .invitations
                    .push(InvitationWrite::Update(invitation.clone()));
                change.audit.push(roster.event(
                    now,
                    Some(actor),
                    &scope,
                    AuditAction::InvitationRevoked {
                        invitation: invitation.id,
                        email: invitation.email.clone(),
                    },
                ));
                let notice = notice_for(
                    roster.roles(),
                    &scope,
                    &invitation,
                    inviter,
                    NoticeKind::Revocation,
                );
                let outgoing = vec![roster.enqueue(&mut change, notice, None, now)];
                Ok(Plan {
                    change,
                    outcome: invitation,
                    outgoing,
                })
            })
            .await?;
        tracing::info!("invitation revoked");
        Ok(revoked)
    }

    /// Gives a member another project role of the catalog. Nobody grants a role ranked above
    /// their own or acts on a member who outranks them, and the project keeps at least one
    /// member able to manage members.
    ///
    /// Errors: [`RosterError::NotFound`] (no such membership), [`RosterError::Forbidden`],
    /// [`RosterError::UnknownRole`] (not in the service's catalog),
    /// [`RosterError::RoleNotAllowed`], [`RosterError::LastAdministrator`].
    #[tracing::instrument(skip_all, fields(actor = %actor, project = %project, user = %user, role = %role))]
    pub async fn change_role(
        &self,
        actor: UserId,
        project: ProjectId,
        user: UserId,
        role: Role,
    ) -> Result<Membership, RosterError> {
        let roster = self.clone();
        self.run(self.member(project, actor, user), move |snapshot| {
            let now = roster.now();
            let roles = roster.roles();
            let (scope, mut membership, managers) = target(roles, snapshot, actor)?;
            let actor_role = policy::require_manager(roles, scope.actor_role)?;
            policy::require_grantable(roles, actor_role, role)?;
            let mut membership = membership
                .take()
                .ok_or(RosterError::NotFound(Entity::Membership))?;
            policy::require_not_outranked(
                roles,
                actor_role,
                target_role(roles, &scope, &membership),
            )?;
            if membership.role == role {
                return Ok(Plan::new(Change::default(), membership));
            }
            policy::require_keeps_manager(roles, membership.role, Some(role), managers)?;
            let mut change = Change::on_project(scope.project.id, scope.project.version);
            change.audit.push(roster.event(
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
        let roster = self.clone();
        self.run(self.member(project, actor, user), move |snapshot| {
            let roles = roster.roles();
            let (scope, membership, managers) = target(roles, snapshot, actor)?;
            let actor_role = policy::require_manager(roles, scope.actor_role)?;
            let membership = membership.ok_or(RosterError::NotFound(Entity::Membership))?;
            policy::require_not_outranked(
                roles,
                actor_role,
                target_role(roles, &scope, &membership),
            )?;
            policy::require_keeps_manager(roles, membership.role, None, managers)?;
            let action = AuditAction::MemberRemoved {
                user,
                role: membership.role,
            };
            Ok(roster.plan_departure(&scope, actor, membership, action))
        })
        .await
    }

    /// The user leaves a project of their own accord. The last Administrator cannot leave.
    ///
    /// Errors: [`RosterError::NotFound`] (not a member), [`RosterError::LastAdministrator`].
    #[tracing::instrument(skip_all, fields(user = %user, project = %project))]
    pub async fn leave(&self, user: UserId, project: ProjectId) -> Result<(), RosterError> {
        let roster = self.clone();
        self.run(self.member(project, user, user), move |snapshot| {
            let roles = roster.roles();
            let (scope, membership, managers) = target(roles, snapshot, user)?;
            let membership = membership.ok_or(RosterError::NotFound(Entity::Membership))?;
            policy::require_keeps_manager(roles, membership.role, None, managers)?;
            let action = AuditAction::MemberLeft {
                user,
                role: membership.role,
            };
            Ok(roster.plan_departure(&scope, user, membership, action))
        })
        .await
    }

    /// What a command on `member` of `project` by `actor` reads.
    fn member(&self, project: ProjectId, actor: UserId, member: UserId) -> Read {
        Read::Member {
            project,
            actor,
            member,
            managers: self.roles().managing_project_roles().to_vec(),
        }
    }

    /// The change deleting `membership`, audited as `action` by `actor`.
    fn plan_departure(
        &self,
        scope: &ProjectScope,
        actor: UserId,
        membership: Membership,
        action: AuditAction,
    ) -> Plan<()> {
        let mut change = Change::on_project(scope.project.id, scope.project.version);
        change.memberships.push(MembershipWrite::Delete {
            project: membership.project,
            user: membership.user,
        });
        change
            .audit
            .push(self.event(self.now(), Some(actor), scope, action));
        Plan::new(change, ())
    }
}

/// The project scope for `actor`, the target's membership and the project's count of members
/// who manage members, from a snapshot of [`Read::Member`].
fn target(
    roles: &RoleCatalog,
    snapshot: Snapshot,
    actor: UserId,
) -> Result<(ProjectScope, Option<Membership>, u64), RosterError> {
    let Snapshot::Member(context) = snapshot else {
        return Err(super::wrong_snapshot());
    };
    let context = context.ok_or(RosterError::NotFound(Entity::Project))?;
    Ok((
        ProjectScope::new(roles, context.project, Some(actor)),
        context.member,
        context.managers,
    ))
}

/// An invitation that `actor` may act on (manage the project, grant its role) and that `open`
/// allows acting on now, with its project scope (whose actor is known to exist) and the
/// invitee, if a user.
fn for_manager(
    roles: &RoleCatalog,
    context: Option<InvitationContext>,
    actor: UserId,
    now: DateTime<Utc>,
    open: fn(&Invitation, DateTime<Utc>) -> Result<(), RosterError>,
) -> Result<(Invitation, ProjectScope, Option<User>), RosterError> {
    let context = context.ok_or(RosterError::NotFound(Entity::Invitation))?;
    let scope = ProjectScope::new(roles, context.project, Some(actor));
    let actor_role = policy::require_manager(roles, scope.actor_role)?;
    // A role since removed from the catalog grants nothing: resending or revoking it is fine.
    if !policy::still_grants(roles, Some(actor_role), context.invitation.role) {
        return Err(RosterError::RoleNotAllowed {
            role: context.invitation.role,
        });
    }
    open(&context.invitation, now)?;
    scope.actor_user()?;
    Ok((context.invitation, scope, context.invitee))
}

/// The role the holder of `membership` has in effect: account administrators keep their rank even
/// where they also hold a membership.
fn target_role(roles: &RoleCatalog, scope: &super::ProjectScope, membership: &Membership) -> Role {
    policy::effective_role(roles, &scope.account, membership.user, Some(membership))
        .unwrap_or(membership.role)
}
