//! The rules of who may do what, as pure functions: each rule lives here once and every command
//! calls it.

use chrono::{DateTime, Utc};

use crate::account::Account;
use crate::catalog::RoleCatalog;
use crate::email::Email;
use crate::error::{Denial, RosterError};
use crate::id::UserId;
use crate::invitation::{Invitation, InvitationState};
use crate::membership::Membership;
use crate::role::Role;

/// The role `user` holds in effect in a project of `account`, the highest ranked of what they
/// hold: for account administrators the catalog's account administrator role (which ranks at
/// least as high as every project role: the catalog checks), else their membership's role if
/// the catalog has it as a project role (an unknown key grants nothing).
pub(crate) fn effective_role(
    catalog: &RoleCatalog,
    account: &Account,
    user: UserId,
    membership: Option<&Membership>,
) -> Option<Role> {
    if account.is_administrator(user) {
        return Some(catalog.account_administrator_role());
    }
    membership
        .and_then(|m| catalog.get(m.role))
        .filter(|definition| !definition.is_account_level())
        .map(|definition| definition.key())
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

/// An invitation goes only to an address the account allows ([`Account::allows`]).
pub(crate) fn require_allowed_domain(account: &Account, email: &Email) -> Result<(), RosterError> {
    if account.allows(email) {
        Ok(())
    } else {
        Err(RosterError::DomainNotAllowed {
            domain: email.domain().to_owned(),
        })
    }
}

/// The actor must hold (in effect) a role that manages members.
pub(crate) fn require_manager(
    catalog: &RoleCatalog,
    role: Option<Role>,
) -> Result<Role, RosterError> {
    match role {
        Some(role) if manages(catalog, role) => Ok(role),
        _ => Err(RosterError::Forbidden(Denial::NotAnAdministrator)),
    }
}

/// Whether `role` manages members (an unknown key manages nothing).
pub(crate) fn manages(catalog: &RoleCatalog, role: Role) -> bool {
    catalog.get(role).is_some_and(|d| d.manages_members())
}

/// The rank of `role`; an unknown key ranks below every role.
fn rank(catalog: &RoleCatalog, role: Role) -> Option<u16> {
    catalog.get(role).map(|d| d.rank())
}

/// Whether a person holding `actor_role` may grant `role`: they manage members, `role` is a
/// project role of the catalog, and it ranks no higher than their own (ties allowed).
pub(crate) fn may_grant(catalog: &RoleCatalog, actor_role: Role, role: Role) -> bool {
    let Some(target) = catalog.get(role) else {
        return false;
    };
    manages(catalog, actor_role)
        && !target.is_account_level()
        && rank(catalog, actor_role).is_some_and(|own| target.rank() <= own)
}

/// The actor (a manager holding `actor_role`) must be allowed to grant `role`, a role asked
/// for now: a key the catalog does not have is [`RosterError::UnknownRole`].
pub(crate) fn require_grantable(
    catalog: &RoleCatalog,
    actor_role: Role,
    role: Role,
) -> Result<(), RosterError> {
    if catalog.get(role).is_none() {
        Err(RosterError::UnknownRole { role })
    } else if may_grant(catalog, actor_role, role) {
        Ok(())
    } else {
        Err(RosterError::RoleNotAllowed { role })
    }
}

/// Whether `holder` (in effect, if anyone) still stands behind an invitation offering `role`
/// that was granted earlier: they manage members and may grant it, or the catalog no longer has
/// `role`, which grants nothing and so is above no one. Checked on acceptance, resend and
/// revocation, so a removed role never makes those fail.
pub(crate) fn still_grants(catalog: &RoleCatalog, holder: Option<Role>, role: Role) -> bool {
    holder.is_some_and(|holder| {
        manages(catalog, holder)
            && (catalog.get(role).is_none() || may_grant(catalog, holder, role))
    })
}

/// Nobody acts on a member who outranks them; an unknown key outranks no one.
pub(crate) fn require_not_outranked(
    catalog: &RoleCatalog,
    actor_role: Role,
    target_role: Role,
) -> Result<(), RosterError> {
    match (rank(catalog, target_role), rank(catalog, actor_role)) {
        (Some(target), Some(own)) if target > own => {
            Err(RosterError::Forbidden(Denial::TargetOutranksActor))
        }
        (Some(_), None) => Err(RosterError::Forbidden(Denial::TargetOutranksActor)),
        _ => Ok(()),
    }
}

/// A project never loses its last member able to manage members: a member holding `current`
/// may move to `next` (`None`: leaves the project) only if that keeps at least one among
/// `managers` (the current count of members holding a managing project role).
pub(crate) fn require_keeps_manager(
    catalog: &RoleCatalog,
    current: Role,
    next: Option<Role>,
    managers: u64,
) -> Result<(), RosterError> {
    let loses_one = manages(catalog, current) && !next.is_some_and(|next| manages(catalog, next));
    if loses_one && managers <= 1 {
        Err(RosterError::LastAdministrator)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::RoleDefinition;
    use crate::id::{AccountId, ProjectId};
    use chrono::Utc;
    use uuid::Uuid;

    fn account_administered_by(user: UserId) -> Account {
        Account {
            id: AccountId::from_uuid(Uuid::nil()),
            name: "Acme".into(),
            administrators: vec![user],
            created_at: Utc::now(),
            allowed_domains: Vec::new(),
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

    fn defaults() -> RoleCatalog {
        RoleCatalog::default()
    }

    #[test]
    fn account_administrators_outrank_their_membership() {
        let admin = UserId::from_uuid(Uuid::from_u128(1));
        let other = UserId::from_uuid(Uuid::from_u128(2));
        let account = account_administered_by(admin);
        let observer = membership(admin, Role::OBSERVER);
        assert_eq!(
            effective_role(&defaults(), &account, admin, Some(&observer)),
            Some(Role::ACCOUNT_ADMINISTRATOR)
        );
        assert_eq!(effective_role(&defaults(), &account, other, None), None);
        let user = membership(other, Role::USER);
        assert_eq!(
            effective_role(&defaults(), &account, other, Some(&user)),
            Some(Role::USER)
        );
    }

    #[test]
    fn the_highest_held_role_wins_and_unknown_keys_grant_nothing() {
        const OWNER: Role = Role::from_static("owner");
        const LEAD: Role = Role::from_static("lead");
        let catalog = RoleCatalog::build([
            RoleDefinition::new(LEAD, "Lead", 50).managing_members(),
            RoleDefinition::new(OWNER, "Owner", 90).managing_members(),
        ])
        .unwrap();
        let admin = UserId::from_uuid(Uuid::from_u128(1));
        let account = account_administered_by(admin);
        // Without an account-level role, account administrators hold the top managing role.
        assert_eq!(
            effective_role(&catalog, &account, admin, Some(&membership(admin, LEAD))),
            Some(OWNER)
        );
        let other = UserId::from_uuid(Uuid::from_u128(2));
        let gone = membership(other, Role::from_static("gone"));
        assert_eq!(effective_role(&catalog, &account, other, Some(&gone)), None);
        assert_eq!(
            effective_role(&catalog, &account, admin, Some(&gone)),
            Some(OWNER)
        );
    }

    #[test]
    fn ties_may_grant_each_other_and_unknown_roles_are_named() {
        const API: Role = Role::from_static("api");
        const WEB: Role = Role::from_static("web");
        const ADMIN: Role = Role::from_static("admin");
        let catalog = RoleCatalog::build([
            RoleDefinition::new(ADMIN, "Admin", 9).managing_members(),
            RoleDefinition::new(API, "API", 5).managing_members(),
            RoleDefinition::new(WEB, "Web", 5),
        ])
        .unwrap();
        assert!(may_grant(&catalog, API, WEB));
        assert!(may_grant(&catalog, API, API));
        assert!(!may_grant(&catalog, API, ADMIN));
        assert!(!may_grant(&catalog, WEB, WEB));
        assert!(matches!(
            require_grantable(&catalog, ADMIN, Role::from_static("gone")),
            Err(RosterError::UnknownRole { .. })
        ));
        assert!(still_grants(&catalog, Some(API), Role::from_static("gone")));
        assert!(!still_grants(
            &catalog,
            Some(WEB),
            Role::from_static("gone")
        ));
        assert!(!still_grants(&catalog, Some(API), ADMIN));
        assert!(require_not_outranked(&catalog, API, WEB).is_ok());
        assert!(require_not_outranked(&catalog, API, Role::from_static("gone")).is_ok());
        assert!(require_not_outranked(&catalog, API, ADMIN).is_err());
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
            role: Role::USER,
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
        let c = &defaults();
        assert!(require_manager(c, None).is_err());
        assert!(require_manager(c, Some(Role::OBSERVER)).is_err());
        assert!(require_manager(c, Some(Role::USER)).is_err());
        assert_eq!(
            require_manager(c, Some(Role::ADMINISTRATOR)).unwrap(),
            Role::ADMINISTRATOR
        );
        assert!(require_manager(c, Some(Role::ACCOUNT_ADMINISTRATOR)).is_ok());
        assert!(require_manager(c, Some(Role::from_static("gone"))).is_err());
    }

    #[test]
    fn nobody_grants_above_their_own_role() {
        let c = &defaults();
        assert!(require_grantable(c, Role::ADMINISTRATOR, Role::ADMINISTRATOR).is_ok());
        assert!(matches!(
            require_grantable(c, Role::ADMINISTRATOR, Role::ACCOUNT_ADMINISTRATOR),
            Err(RosterError::RoleNotAllowed {
                role: Role::ACCOUNT_ADMINISTRATOR
            })
        ));
        assert!(require_grantable(c, Role::USER, Role::OBSERVER).is_err());
        assert!(require_grantable(c, Role::ACCOUNT_ADMINISTRATOR, Role::ADMINISTRATOR).is_ok());
        assert!(!may_grant(
            c,
            Role::ACCOUNT_ADMINISTRATOR,
            Role::ACCOUNT_ADMINISTRATOR
        ));
    }

    #[test]
    fn outranked_targets_are_refused() {
        let c = &defaults();
        assert!(require_not_outranked(c, Role::ADMINISTRATOR, Role::ADMINISTRATOR).is_ok());
        assert!(
            require_not_outranked(c, Role::ADMINISTRATOR, Role::ACCOUNT_ADMINISTRATOR).is_err()
        );
    }

    #[test]
    fn the_last_manager_stays() {
        let c = &defaults();
        let (admin, user) = (Role::ADMINISTRATOR, Role::USER);
        assert!(matches!(
            require_keeps_manager(c, admin, Some(user), 1),
            Err(RosterError::LastAdministrator)
        ));
        assert!(matches!(
            require_keeps_manager(c, admin, None, 1),
            Err(RosterError::LastAdministrator)
        ));
        assert!(require_keeps_manager(c, admin, Some(user), 2).is_ok());
        assert!(require_keeps_manager(c, admin, Some(admin), 1).is_ok());
        assert!(require_keeps_manager(c, user, None, 1).is_ok());
        assert!(require_keeps_manager(c, Role::from_static("gone"), None, 1).is_ok());
    }

    #[test]
    fn moving_between_managing_roles_keeps_a_manager() {
        const LEAD: Role = Role::from_static("lead");
        const OWNER: Role = Role::from_static("owner");
        let c = &RoleCatalog::build([
            RoleDefinition::new(LEAD, "Lead", 5).managing_members(),
            RoleDefinition::new(OWNER, "Owner", 9).managing_members(),
            RoleDefinition::new(Role::USER, "User", 1),
        ])
        .unwrap();
        assert!(require_keeps_manager(c, OWNER, Some(LEAD), 1).is_ok());
        assert!(require_keeps_manager(c, OWNER, Some(Role::USER), 1).is_err());
    }
}
