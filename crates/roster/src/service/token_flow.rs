//! What an invitee does with a link: preview, accept, decline.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Plan, ProjectScope, Roster};
use crate::account::{Account, Project};
use crate::audit::AuditAction;
use crate::email::Email;
use crate::error::{Denial, RosterError};
use crate::id::{InvitationId, UserId};
use crate::invitation::InvitationState;
use crate::membership::Membership;
use crate::policy;
use crate::role::Role;
use crate::store::{
    Change, Entity, InvitationContext, InvitationKey, InvitationWrite, MembershipWrite, Read,
    Snapshot,
};
use crate::token::InvitationToken;
use crate::user::{PasswordHash, User};

/// What a link shows before anyone acts on it. Reading it changes nothing, so mail scanners that
/// open links cannot use up an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationPreview {
    /// The invitation.
    pub invitation: InvitationId,
    /// Its effective state now (a link page can say "this invitation was revoked").
    pub state: InvitationState,
    /// The invited address.
    pub email: Email,
    /// The project's name.
    pub project_name: String,
    /// The account's name.
    pub account_name: String,
    /// The role offered.
    pub role: Role,
    /// The inviter's address.
    pub inviter: Email,
    /// Whether the address belongs to a registered user (accept by signing in) or not (accept by
    /// choosing a password).
    pub registered_user: bool,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// How the invitee accepts.
#[derive(Clone, PartialEq, Eq)]
pub enum Acceptance {
    /// A person with no account yet, choosing a password.
    NewUser {
        /// The password to set (checked against the [`PasswordPolicy`](crate::PasswordPolicy)).
        password: String,
    },
    /// A registered user, already signed in to the host service as `user`.
    ExistingUser {
        /// The signed-in user; must be the invited address.
        user: UserId,
    },
}

impl std::fmt::Debug for Acceptance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Acceptance::NewUser { .. } => f.write_str("NewUser { password: <redacted> }"),
            Acceptance::ExistingUser { user } => {
                f.debug_struct("ExistingUser").field("user", user).finish()
            }
        }
    }
}

/// A successful acceptance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// The user, now registered.
    pub user: User,
    /// The new membership.
    pub membership: Membership,
    /// The project joined.
    pub project: Project,
    /// Its account, now among those the user can pick.
    pub account: Account,
}

/// The invitation a token opens, from a snapshot of [`Read::Invitation`] by its hash.
fn opened(snapshot: Snapshot) -> Result<InvitationContext, RosterError> {
    match snapshot {
        Snapshot::Invitation { context, .. } => context.ok_or(RosterError::InvalidToken),
        _ => Err(super::wrong_snapshot()),
    }
}

/// What opening `token` reads.
fn open(token: &InvitationToken) -> Read {
    Read::Invitation {
        key: InvitationKey::Token(token.hash()),
        actor: None,
        sent_since: None,
    }
}

impl Roster {
    /// Describes the invitation a token opens, without changing anything.
    ///
    /// Errors: [`RosterError::InvalidToken`] if the token opens nothing (never issued, or rotated
    /// away by a resend).
    #[tracing::instrument(skip_all)]
    pub async fn preview(&self, token: &InvitationToken) -> Result<InvitationPreview, RosterError> {
        let now = self.now();
        self.look(open(token), move |snapshot| {
            let InvitationContext {
                invitation,
                project,
                inviter,
                invitee,
                ..
            } = opened(snapshot)?;
            let inviter = inviter.ok_or(RosterError::NotFound(Entity::User))?;
            Ok(InvitationPreview {
                invitation: invitation.id,
                state: invitation.effective_state(now),
                email: invitation.email,
                project_name: project.project.name,
                account_name: project.account.name,
                role: invitation.role,
                inviter: inviter.email,
                registered_user: invitee.is_some_and(|user| user.is_registered()),
                expires_at: invitation.expires_at,
            })
        })
        .await
    }

    /// Accepts the invitation a token opens: exactly one membership results, and the token never
    /// works again.
    ///
    /// A new person accepts with [`Acceptance::NewUser`] and a password, and is registered; a
    /// registered user accepts with [`Acceptance::ExistingUser`] and gets the account added to
    /// those they can pick. The inviter's right to grant the role is checked again here.
    ///
    /// Errors: [`RosterError::InvalidToken`]; [`RosterError::InvitationClosed`] with the state
    /// (accepted, declined, revoked, expired); [`RosterError::InviterNoLongerAuthorized`];
    /// [`RosterError::AlreadyRegistered`] / [`RosterError::NotRegistered`] when the wrong kind of
    /// acceptance is used; [`RosterError::Forbidden`] with [`Denial::NotTheInvitee`];
    /// [`RosterError::PasswordLength`]; [`RosterError::AlreadyMember`].
    #[tracing::instrument(skip_all)]
    pub async fn accept(
        &self,
        token: &InvitationToken,
        acceptance: Acceptance,
    ) -> Result<Accepted, RosterError> {
        // Hashing is slow on purpose: do it once, outside the retry loop.
        let password = match &acceptance {
            Acceptance::NewUser { password } => Some(self.hash_password(password).await?),
            Acceptance::ExistingUser { .. } => None,
        };
        let claimed = match &acceptance {
            Acceptance::ExistingUser { user } => Some(*user),
            Acceptance::NewUser { .. } => None,
        };
        let roster = self.clone();
        let accepted = self
            .run(open(token), move |snapshot| {
                roster.plan_accept(opened(snapshot)?, claimed, password.clone())
            })
            .await?;
        tracing::info!(
            user = %accepted.user.id,
            project = %accepted.project.id,
            role = %accepted.membership.role,
            "invitation accepted"
        );
        Ok(accepted)
    }

    fn plan_accept(
        &self,
        context: InvitationContext,
        claimed: Option<UserId>,
        password: Option<PasswordHash>,
    ) -> Result<Plan<Accepted>, RosterError> {
        let now = self.now();
        let InvitationContext {
            mut invitation,
            project,
            inviter_membership,
            invitee,
            invitee_membership,
            ..
        } = context;
        policy::require_pending(&invitation, now)?;
        let roles = self.roles();
        let scope = ProjectScope::new(roles, project, None);
        let inviter_role = policy::effective_role(
            roles,
            &scope.account,
            invitation.invited_by,
            inviter_membership.as_ref(),
        );
        if !policy::still_grants(roles, inviter_role, invitation.role) {
            return Err(RosterError::InviterNoLongerAuthorized);
        }

        let mut change = Change::on_project(scope.project.id, scope.project.version);
        let user = match (claimed, password, invitee) {
            (Some(claimed), _, Some(user)) if user.id == claimed => {
                if !user.is_registered() {
                    return Err(RosterError::NotRegistered);
                }
                user
            }
            (Some(_), _, _) => return Err(RosterError::Forbidden(Denial::NotTheInvitee)),
            (None, _, Some(user)) if user.is_registered() => {
                return Err(RosterError::AlreadyRegistered);
            }
            (None, password, existing) => self.plan_registration(
                existing,
                invitation.email.clone(),
                password,
                now,
                &mut change,
            ),
        };
        if invitee_membership.is_some() {
            return Err(RosterError::AlreadyMember);
        }

        invitation.state = InvitationState::Accepted;
        invitation.closed_at = Some(now);
        let membership = Membership {
            project: scope.project.id,
            user: user.id,
            role: invitation.role,
            invited_by: Some(invitation.invited_by),
            since: now,
        };
        change
            .memberships
            .push(MembershipWrite::Insert(membership.clone()));
        change.audit.push(self.event(
            now,
            Some(user.id),
            &scope,
            AuditAction::InvitationAccepted {
                invitation: invitation.id,
                user: user.id,
                role: invitation.role,
            },
        ));
        change.invitations.push(InvitationWrite::Update(invitation));
        let accepted = Accepted {
            user,
            membership,
            project: scope.project,
            account: scope.account,
        };
        Ok(Plan::new(change, accepted))
    }

    /// Declines the invitation a token opens. The token stops working.
    ///
    /// Errors: [`RosterError::InvalidToken`], [`RosterError::InvitationClosed`].
    #[tracing::instrument(skip_all)]
    pub async fn decline(&self, token: &InvitationToken) -> Result<(), RosterError> {
        let roster = self.clone();
        let invitation = self
            .run(open(token), move |snapshot| {
                let now = roster.now();
                let context = opened(snapshot)?;
                let mut invitation = context.invitation;
                policy::require_pending(&invitation, now)?;
                let scope = ProjectScope::new(roster.roles(), context.project, None);
                let mut change = Change::on_project(scope.project.id, scope.project.version);
                invitation.state = InvitationState::Declined;
                invitation.closed_at = Some(now);
                change.audit.push(roster.event(
                    now,
                    None,
                    &scope,
                    AuditAction::InvitationDeclined {
                        invitation: invitation.id,
                        email: invitation.email.clone(),
                    },
                ));
                change
                    .invitations
                    .push(InvitationWrite::Update(invitation.clone()));
                Ok(Plan::new(change, invitation.id))
            })
            .await?;
        tracing::info!(invitation = %invitation, "invitation declined");
        Ok(())
    }
}
