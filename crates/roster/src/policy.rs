//! The rules of who may do what, as pure functions: each rule lives here once and every command
//! calls it.

use chrono::{DateTime, Utc};

use crate::account::Account;
use crate::error::{Denial, RosterError};
use crate::id::UserId;
use crate::invitation::{Invitation, InvitationState};
use crate::membership::Membership;
use crate::role::Role;

/// The role `user` holds in a project of `account`: account administrators are at least
/// Administrators everywhere; otherwise the membership's role, if any.
pub(crate) fn effective_role(
    account: &Account,
    user: UserId,
    membership: Option<&Membership>,
) -> Option<Role> {
    if account.is_administrator(user) {
        Some(Role::AccountAdministrator)
    } else {
        membership.map(|m| m.role)
    }
}

/// Only a pending invitation (in effect, at `now`) can be acted on; the error says what it is now.
pub(crate) fn require_pending(
    invitation: &Invitation,
    now: DateTime<Utc>,
) -> Result<(), RosterError> {
    match invitation.effective_state(now) {
        InvitationState::Pending => Ok(()),
        state => Err(RosterError::InvitationClosed { state }),
    }
}

/// An invitation can be sent again while nothing has closed it: pending, or expired in effect
/// only (its stored state still `Pending`): resending an expired link is how an Administrator
/// renews it. One closed for good (accepted, declined, revoked, or expired and replaced by a
/// newer invitation) stays closed.
pub(crate) fn require_resendable(
    invitation: &Invitation,
    now: DateTime<Utc>,
) -> Result<(), RosterError> {
    match invitation.state {
        InvitationState::Pending => Ok(()),
        _ => Err(RosterError::InvitationClosed {
            state: invitation.effective_state(now),
        }),
    }
}

/// The actor must be allowed to manage people in the project.
pub(crate) fn require_manager(role: Option<Role>) -> Result<Role, RosterError> {
    match role {
        Some(role) if role.can_manage_members() => Ok(role),
        _ => Err(RosterError::Forbidden(Denial::NotAnAdministrator)),
    }
}

/// The actor (a manager holding `actor_role`) must be allowed to grant `role`.
pub(crate) fn require_grantable(actor_role: Role, role: Role) -> Result<(), RosterError> {
    if actor_role.may_grant(role) {
        Ok(())
    } else {
        Err(RosterError::RoleNotAllowed { role })
    }
}

/// Nobody acts on a member who outranks them.
pub(crate) fn require_not_outranked(
    actor_role: Role,
    target_role: Role,
) -> Result<(), RosterError> {
    if target_role <= actor_role {
        Ok(())
    } else {
        Err(RosterError::Forbidden(Denial::TargetOutranksActor))
    }
}

/// A project never loses its last Administrator: a member holding `current` may move to `next`
/// (`None`: leaves the project) only if that keeps at least one Administrator among
/// `administrators` (the current count).
pub(crate) fn require_keeps_administrator(
    current: Role,
    next: Option<Role>,
    administrators: u64,
) -> Result<(), RosterError> {
    let loses_one = current == Role::Administrator && next != Some(Role::Administrator);
    if loses_one && administrators <= 1 {
        Err(RosterError::LastAdministrator)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::{AccountId, ProjectId};
    use chrono::Utc;
    use uuid::Uuid;

    fn account_administered_by(user: UserId) -> Account {
        Account {
            id: AccountId::from_uuid(Uuid::nil()),
            name: "Acme".into(),
            administrators: vec![user],
            created_at: Utc::now(),
        }
    }

    fn membership(user: UserId, role: Role) -> Membership {
        Membership {
            project: ProjectId::from_uuid(Uuid::nil()),
            user,
            role,
            invited_by: None,
            since: Utc::now(),
        }
    }

    #[test]
    fn account_administrators_outrank_their_membership() {
        let admin = UserId::from_uuid(Uuid::from_u128(1));
        let other = UserId::from_uuid(Uuid::from_u128(2));
        let account = account_administered_by(admin);
        let observer = membership(admin, Role::Observer);
        assert_eq!(
            effective_role(&account, admin, Some(&observer)),
            Some(Role::AccountAdministrator)
        );
        assert_eq!(effective_role(&account, other, None), None);
        let user = membership(other, Role::User);
        assert_eq!(
            effective_role(&account, other, Some(&user)),
            Some(Role::User)
        );
    }

    #[test]
    fn only_invitations_pending_in_effect_can_be_acted_on() {
        use crate::email::Email;
        use crate::id::InvitationId;
        use crate::invitation::{Invitation, InvitationState};
        use crate::token::TokenHash;
        let now = Utc::now();
        let mut invitation = Invitation {
            id: InvitationId::from_uuid(Uuid::nil()),
            project: ProjectId::from_uuid(Uuid::nil()),
            email: Email::parse("ann@example.com").unwrap(),
            role: Role::User,
            invited_by: UserId::from_uuid(Uuid::nil()),
            state: InvitationState::Pending,
            created_at: now,
            sent_at: now,
            expires_at: now + chrono::Duration::hours(1),
            closed_at: None,
            token_hash: TokenHash::from_bytes([0; 32]),
            sends: 1,
            language: None,
        };
        assert!(require_pending(&invitation, now).is_ok());
        assert!(matches!(
            require_pending(&invitation, now + chrono::Duration::hours(1)),
            Err(RosterError::InvitationClosed {
                state: InvitationState::Expired
            })
        ));
        invitation.state = InvitationState::Revoked;
        assert!(matches!(
            require_pending(&invitation, now),
            Err(RosterError::InvitationClosed {
                state: InvitationState::Revoked
            })
        ));
    }

    #[test]
    fn only_administrators_manage() {
        assert!(require_manager(None).is_err());
        assert!(require_manager(Some(Role::Observer)).is_err());
        assert!(require_manager(Some(Role::User)).is_err());
        assert_eq!(
            require_manager(Some(Role::Administrator)).unwrap(),
            Role::Administrator
        );
        assert!(require_manager(Some(Role::AccountAdministrator)).is_ok());
    }

    #[test]
    fn nobody_grants_above_their_own_role() {
        assert!(require_grantable(Role::Administrator, Role::Administrator).is_ok());
        assert!(matches!(
            require_grantable(Role::Administrator, Role::AccountAdministrator),
            Err(RosterError::RoleNotAllowed {
                role: Role::AccountAdministrator
            })
        ));
        assert!(require_grantable(Role::User, Role::Observer).is_err());
    }

    #[test]
    fn outranked_targets_are_refused() {
        assert!(require_not_outranked(Role::Administrator, Role::Administrator).is_ok());
        assert!(require_not_outranked(Role::Administrator, Role::AccountAdministrator).is_err());
    }

    #[test]
    fn the_last_administrator_stays() {
        use Role::*;
        assert!(matches!(
            require_keeps_administrator(Administrator, Some(User), 1),
            Err(RosterError::LastAdministrator)
        ));
        assert!(matches!(
            require_keeps_administrator(Administrator, None, 1),
            Err(RosterError::LastAdministrator)
        ));
        assert!(require_keeps_administrator(Administrator, Some(User), 2).is_ok());
        assert!(require_keeps_administrator(Administrator, Some(Administrator), 1).is_ok());
        assert!(require_keeps_administrator(User, None, 1).is_ok());
    }
}
