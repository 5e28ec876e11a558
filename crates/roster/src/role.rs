//! Roles, ordered by rights.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a person may do. Roles are ordered by rights: `Observer < User < Administrator <
/// AccountAdministrator`, so `role >= Role::Administrator` asks "may this person manage people?".
///
/// `AccountAdministrator` is held on an account and counts as `Administrator` in every project of
/// it; the other three are held on one project through a [`Membership`](crate::Membership).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May look at the project, change nothing.
    Observer,
    /// May use the project.
    User,
    /// May invite, resend, revoke, change roles and remove members of the project.
    Administrator,
    /// Administrator of every project of the account. Granted on the account, never by invitation.
    AccountAdministrator,
}

impl Role {
    /// The roles a project membership or invitation can carry, lowest first.
    pub const PROJECT_ROLES: [Role; 3] = [Role::Observer, Role::User, Role::Administrator];

    /// Whether this role may manage people (invite, resend, revoke, change roles, remove members).
    pub fn can_manage_members(self) -> bool {
        self >= Role::Administrator
    }

    /// Whether this role can be held on a single project (and so be granted by an invitation).
    pub fn is_project_role(self) -> bool {
        self != Role::AccountAdministrator
    }

    /// Whether a person holding `self` may grant `role`: never above their own, and only roles a
    /// project can hold.
    pub fn may_grant(self, role: Role) -> bool {
        self.can_manage_members() && role.is_project_role() && role <= self
    }

    /// The stable lower-case name used in storage and serialization.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Observer => "observer",
            Role::User => "user",
            Role::Administrator => "administrator",
            Role::AccountAdministrator => "account_administrator",
        }
    }

    /// Parses the name produced by [`Role::as_str`].
    pub fn from_name(name: &str) -> Option<Role> {
        [
            Role::Observer,
            Role::User,
            Role::Administrator,
            Role::AccountAdministrator,
        ]
        .into_iter()
        .find(|role| role.as_str() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Observer => "Observer",
            Role::User => "User",
            Role::Administrator => "Administrator",
            Role::AccountAdministrator => "Account administrator",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_rights() {
        assert!(Role::Observer < Role::User);
        assert!(Role::User < Role::Administrator);
        assert!(Role::Administrator < Role::AccountAdministrator);
    }

    #[test]
    fn only_administrators_manage_and_never_above_themselves() {
        assert!(!Role::User.may_grant(Role::Observer));
        assert!(Role::Administrator.may_grant(Role::Administrator));
        assert!(Role::Administrator.may_grant(Role::Observer));
        assert!(!Role::Administrator.may_grant(Role::AccountAdministrator));
        assert!(Role::AccountAdministrator.may_grant(Role::Administrator));
        assert!(!Role::AccountAdministrator.may_grant(Role::AccountAdministrator));
    }

    #[test]
    fn names_round_trip() {
        for role in [
            Role::Observer,
            Role::User,
            Role::Administrator,
            Role::AccountAdministrator,
        ] {
            assert_eq!(Role::from_name(role.as_str()), Some(role));
        }
        assert_eq!(Role::from_name("root"), None);
    }
}
