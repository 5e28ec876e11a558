//! The roles a service declares: what each stored [`Role`] key means.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::role::Role;

/// One role of a [`RoleCatalog`]: its key, how people see it, its rank and its rights.
///
/// ```
/// use roster::{Role, RoleDefinition};
///
/// let engineer = RoleDefinition::new(Role::from_static("engineer"), "Engineers", 30)
///     .name_in("de", "Ingenieure")
///     .permissions(["purge", "prefetch", "deploy"]);
/// assert_eq!(engineer.display_name_in(Some("de-AT")), "Ingenieure");
/// assert_eq!(engineer.display_name_in(None), "Engineers");
/// assert!(!engineer.manages_members());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDefinition {
    key: Role,
    display_name: String,
    /// (lower-case language tag, name), in the order given.
    names: Vec<(String, String)>,
    rank: u16,
    manages_members: bool,
    account_level: bool,
    /// Sorted, without duplicates.
    permissions: Vec<String>,
}

impl RoleDefinition {
    /// A project role `key`, shown as `display_name`, with `rank` (more rights, higher rank;
    /// ranks may tie). It does not manage members and has no permissions until told.
    pub fn new(key: Role, display_name: impl Into<String>, rank: u16) -> Self {
        RoleDefinition {
            key,
            display_name: display_name.into(),
            names: Vec::new(),
            rank,
            manages_members: false,
            account_level: false,
            permissions: Vec::new(),
        }
    }

    /// Holders may invite, resend, revoke, change roles and remove members (up to their rank).
    pub fn managing_members(mut self) -> Self {
        self.manages_members = true;
        self
    }

    /// The role is held on the account (by its administrators) rather than on a project, and
    /// counts in every project of it. It is never granted by invitation, and must manage members.
    pub fn account_level(mut self) -> Self {
        self.account_level = true;
        self
    }

    /// The name people see in `language` (a tag such as `de` or `pt-BR`).
    pub fn name_in(mut self, language: &str, name: impl Into<String>) -> Self {
        self.names
            .push((language.to_ascii_lowercase(), name.into()));
        self
    }

    /// Adds the service's own permission names: roster stores and answers them
    /// ([`Roster::access`](crate::Roster::access)), never interprets them.
    pub fn permissions<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.permissions.extend(names.into_iter().map(Into::into));
        self.permissions.sort();
        self.permissions.dedup();
        self
    }

    /// The stored key.
    pub fn key(&self) -> Role {
        self.key
    }

    /// The name people see, in the default language.
    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    /// The name people see in `language`: an exact match of the tag, else of its primary
    /// language (`de` for `de-AT`), else the default name.
    pub fn display_name_in(&self, language: Option<&str>) -> &str {
        let Some(language) = language.map(str::to_ascii_lowercase) else {
            return &self.display_name;
        };
        let primary = language.split('-').next().unwrap_or_default();
        self.names
            .iter()
            .find(|(tag, _)| *tag == language)
            .or_else(|| self.names.iter().find(|(tag, _)| tag == primary))
            .map_or(&self.display_name, |(_, name)| name)
    }

    /// The rank: more rights, higher.
    pub fn rank(&self) -> u16 {
        self.rank
    }

    /// Whether holders may manage members.
    pub fn manages_members(&self) -> bool {
        self.manages_members
    }

    /// Whether the role is held on the account rather than on a project.
    pub fn is_account_level(&self) -> bool {
        self.account_level
    }

    /// The service's permission names, sorted.
    pub fn permission_names(&self) -> &[String] {
        &self.permissions
    }
}

/// Why a list of roles is not a catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// No role at all.
    #[error("a role catalog needs at least one role")]
    Empty,
    /// Two roles have the same key.
    #[error("role {0} is declared twice")]
    DuplicateKey(Role),
    /// No project role manages members: nobody could invite anyone.
    #[error("at least one project role must manage members")]
    NoManagingProjectRole,
    /// More than one account-level role: which one account administrators hold would be unclear.
    #[error("at most one role can be account-level; {first} and {second} both are")]
    SeveralAccountRoles {
        /// The first declared.
        first: Role,
        /// The second declared.
        second: Role,
    },
    /// The account-level role does not manage members; account administrators always do.
    #[error("the account-level role {0} must manage members")]
    AccountRoleMustManage(Role),
    /// A project role ranks above the role account administrators hold (the account-level role,
    /// or without one the highest ranked managing project role): they could neither grant it
    /// nor act on its holders.
    #[error(
        "project role {project_role} ranks above {account_role}, the role account administrators hold"
    )]
    AccountRoleOutranked {
        /// The role account administrators hold.
        account_role: Role,
        /// The project role ranked above it.
        project_role: Role,
    },
    /// A display name is empty, longer than 100 characters, or holds control characters.
    #[error("role {0} has an empty, overlong or control-character display name")]
    InvalidDisplayName(Role),
    /// A permission name is empty, longer than 100 bytes, or holds whitespace or control
    /// characters.
    #[error("role {role} has an invalid permission name {name:?}")]
    InvalidPermission {
        /// The role.
        role: Role,
        /// The name refused.
        name: String,
    },
}

/// The roles a service declares, once, at start-up ([`RosterBuilder::roles`](crate::RosterBuilder::roles)):
/// every rule works on it. Cheap to clone (an `Arc` inside).
///
/// - Nobody grants a role ranked above their own, and only holders of a role that
///   [manages members](RoleDefinition::managing_members) invite or manage people.
/// - A person's effective role in a project is the highest ranked of what they hold. Account
///   administrators hold the account-level role (or, without one, the highest ranked managing
///   project role, the first declared among ties) in every project, and it ranks at least as
///   high as every project role, so for them it is the role in effect.
/// - A project always keeps at least one member whose role manages members.
/// - A stored key the catalog does not have grants nothing: it is listed with its key, never
///   makes a command fail, and an administrator can change it.
///
/// The [default](RoleCatalog::default) is roster's historical four: Observer (10), User (20),
/// Administrator (30, manages) and the account-level Account administrator (40).
///
/// ```
/// use roster::{Role, RoleCatalog, RoleDefinition};
///
/// const ADMIN: Role = Role::from_static("administrators");
/// const ENGINEER: Role = Role::from_static("engineers");
/// const USER: Role = Role::from_static("users");
///
/// let catalog = RoleCatalog::build([
///     RoleDefinition::new(ADMIN, "Administrators", 100).managing_members(),
///     RoleDefinition::new(ENGINEER, "Engineers", 50).permissions(["deploy"]),
///     RoleDefinition::new(USER, "Users", 10),
/// ])?;
/// assert_eq!(catalog.display_name(ENGINEER), "Engineers");
/// assert_eq!(catalog.get(Role::from_static("gone")), None);
/// assert_eq!(catalog.account_administrator_role(), ADMIN);
/// # Ok::<(), roster::CatalogError>(())
/// ```
#[derive(Clone)]
pub struct RoleCatalog {
    inner: Arc<Inner>,
}

#[derive(Debug, PartialEq, Eq)]
struct Inner {
    /// In the order declared.
    roles: Vec<RoleDefinition>,
    index: HashMap<Role, usize>,
    /// What account administrators hold.
    account_role: Role,
    /// The keys of the project roles that manage members.
    managing: Vec<Role>,
    /// The highest ranked of them.
    top_manager: Role,
}

impl RoleCatalog {
    /// The catalog of `roles`, once it passes validation.
    ///
    /// Errors: [`CatalogError`] naming the first problem found.
    pub fn build(roles: impl IntoIterator<Item = RoleDefinition>) -> Result<Self, CatalogError> {
        let roles: Vec<RoleDefinition> = roles.into_iter().collect();
        if roles.is_empty() {
            return Err(CatalogError::Empty);
        }
        let mut index = HashMap::with_capacity(roles.len());
        let mut account_level: Option<&RoleDefinition> = None;
        for (position, role) in roles.iter().enumerate() {
            if index.insert(role.key, position).is_some() {
                return Err(CatalogError::DuplicateKey(role.key));
            }
            check_display_name(role.key, &role.display_name)?;
            for (_, name) in &role.names {
                check_display_name(role.key, name)?;
            }
            if let Some(name) = role.permissions.iter().find(|name| !valid_permission(name)) {
                return Err(CatalogError::InvalidPermission {
                    role: role.key,
                    name: name.clone(),
                });
            }
            if role.account_level {
                if let Some(first) = account_level {
                    return Err(CatalogError::SeveralAccountRoles {
                        first: first.key,
                        second: role.key,
                    });
                }
                if !role.manages_members {
                    return Err(CatalogError::AccountRoleMustManage(role.key));
                }
                account_level = Some(role);
            }
        }
        let managing_roles: Vec<&RoleDefinition> = roles
            .iter()
            .filter(|role| role.manages_members && !role.account_level)
            .collect();
        // Among tied ranks, the first declared (`max_by_key` keeps the last, hence `rev`).
        let highest_managing = *managing_roles
            .iter()
            .rev()
            .max_by_key(|role| role.rank)
            .ok_or(CatalogError::NoManagingProjectRole)?;
        let managing: Vec<Role> = managing_roles.iter().map(|role| role.key).collect();
        let account = account_level.unwrap_or(highest_managing);
        if let Some(above) = roles.iter().find(|role| role.rank > account.rank) {
            return Err(CatalogError::AccountRoleOutranked {
                account_role: account.key,
                project_role: above.key,
            });
        }
        let (account_role, top_manager) = (account.key, highest_managing.key);
        Ok(RoleCatalog {
            inner: Arc::new(Inner {
                roles,
                index,
                account_role,
                managing,
                top_manager,
            }),
        })
    }

    /// The definition of `role`, if the catalog has it.
    pub fn get(&self, role: Role) -> Option<&RoleDefinition> {
        self.inner
            .index
            .get(&role)
            .map(|&position| &self.inner.roles[position])
    }

    /// The display name of `role` in the default language; a key the catalog does not have
    /// shows as "No access" (it grants nothing).
    pub fn display_name(&self, role: Role) -> &str {
        self.display_name_in(role, None)
    }

    /// The display name of `role` in `language` (see [`RoleDefinition::display_name_in`]); a
    /// key the catalog does not have shows as "No access".
    pub fn display_name_in(&self, role: Role, language: Option<&str>) -> &str {
        self.get(role)
            .map_or(NO_ACCESS, |definition| definition.display_name_in(language))
    }

    /// Every role, in the order declared.
    pub fn roles(&self) -> &[RoleDefinition] {
        &self.inner.roles
    }

    /// The project roles an invitation can offer, in the order declared.
    pub fn project_roles(&self) -> impl Iterator<Item = &RoleDefinition> {
        self.inner.roles.iter().filter(|role| !role.account_level)
    }

    /// The role account administrators hold in every project of their account: the
    /// account-level role, or without one the highest ranked managing project role.
    pub fn account_administrator_role(&self) -> Role {
        self.inner.account_role
    }

    /// The highest ranked project role that manages members (the first declared among ties):
    /// what the creator of a project holds in it.
    pub fn top_manager_role(&self) -> Role {
        self.inner.top_manager
    }

    /// The keys of the project roles that manage members: the last-manager rule counts the
    /// members holding any of them.
    pub fn managing_project_roles(&self) -> &[Role] {
        &self.inner.managing
    }
}

/// What a stored key the catalog does not have is shown as: it grants nothing.
const NO_ACCESS: &str = "No access";

fn check_display_name(role: Role, name: &str) -> Result<(), CatalogError> {
    let length = name.chars().count();
    if name.trim().is_empty() || length > 100 || name.chars().any(char::is_control) {
        Err(CatalogError::InvalidDisplayName(role))
    } else {
        Ok(())
    }
}

fn valid_permission(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl Default for RoleCatalog {
    fn default() -> Self {
        RoleCatalog::build([
            RoleDefinition::new(Role::OBSERVER, "Observer", 10),
            RoleDefinition::new(Role::USER, "User", 20),
            RoleDefinition::new(Role::ADMINISTRATOR, "Administrator", 30).managing_members(),
            RoleDefinition::new(Role::ACCOUNT_ADMINISTRATOR, "Account administrator", 40)
                .managing_members()
                .account_level(),
        ])
        .unwrap_or_else(|error| unreachable!("the default catalog is refused: {error}"))
    }
}

impl PartialEq for RoleCatalog {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner) || self.inner.roles == other.inner.roles
    }
}

impl Eq for RoleCatalog {}

impl fmt::Debug for RoleCatalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.inner.roles.iter().map(|role| role.key))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Role = Role::from_static("a");
    const B: Role = Role::from_static("b");
    const C: Role = Role::from_static("c");

    fn manager(key: Role, rank: u16) -> RoleDefinition {
        RoleDefinition::new(key, "Name", rank).managing_members()
    }

    #[test]
    fn the_default_is_the_historical_four() {
        let catalog = RoleCatalog::default();
        assert_eq!(catalog.roles().len(), 4);
        assert_eq!(
            catalog.account_administrator_role(),
            Role::ACCOUNT_ADMINISTRATOR
        );
        assert_eq!(catalog.managing_project_roles(), &[Role::ADMINISTRATOR]);
        assert_eq!(catalog.display_name(Role::USER), "User");
        let ranks: Vec<u16> = catalog.roles().iter().map(RoleDefinition::rank).collect();
        assert_eq!(ranks, [10, 20, 30, 40]);
    }

    #[test]
    fn validation_names_the_problem() {
        let none: [RoleDefinition; 0] = [];
        assert_eq!(RoleCatalog::build(none), Err(CatalogError::Empty));
        assert_eq!(
            RoleCatalog::build([manager(A, 1), RoleDefinition::new(A, "Again", 2)]),
            Err(CatalogError::DuplicateKey(A))
        );
        assert_eq!(
            RoleCatalog::build([RoleDefinition::new(A, "Viewer", 1)]),
            Err(CatalogError::NoManagingProjectRole)
        );
        // An account-level role alone does not let anyone in a project invite.
        assert_eq!(
            RoleCatalog::build([manager(A, 5).account_level()]),
            Err(CatalogError::NoManagingProjectRole)
        );
        assert_eq!(
            RoleCatalog::build([
                manager(A, 1),
                manager(B, 2).account_level(),
                manager(C, 3).account_level()
            ]),
            Err(CatalogError::SeveralAccountRoles {
                first: B,
                second: C
            })
        );
        assert_eq!(
            RoleCatalog::build([
                manager(A, 1),
                RoleDefinition::new(B, "Owner", 2).account_level()
            ]),
            Err(CatalogError::AccountRoleMustManage(B))
        );
        assert_eq!(
            RoleCatalog::build([manager(A, 3), manager(B, 2).account_level()]),
            Err(CatalogError::AccountRoleOutranked {
                account_role: B,
                project_role: A
            })
        );
        // A tie with the account-level role is fine.
        assert!(RoleCatalog::build([manager(A, 2), manager(B, 2).account_level()]).is_ok());
        for bad in ["", "  ", "a\nb", &"x".repeat(101)] {
            assert_eq!(
                RoleCatalog::build([RoleDefinition::new(A, bad, 1).managing_members()]),
                Err(CatalogError::InvalidDisplayName(A)),
                "{bad:?}"
            );
        }
        assert_eq!(
            RoleCatalog::build([manager(A, 1).name_in("de", "")]),
            Err(CatalogError::InvalidDisplayName(A))
        );
        assert_eq!(
            RoleCatalog::build([manager(A, 1).permissions(["ok", "not ok"])]),
            Err(CatalogError::InvalidPermission {
                role: A,
                name: "not ok".into()
            })
        );
    }

    #[test]
    fn without_an_account_role_account_administrators_hold_the_top_manager() {
        assert_eq!(
            RoleCatalog::build([manager(A, 5), RoleDefinition::new(B, "Viewer", 9)]),
            Err(CatalogError::AccountRoleOutranked {
                account_role: A,
                project_role: B
            })
        );
        let catalog = RoleCatalog::build([
            manager(A, 5),
            RoleDefinition::new(B, "Viewer", 7),
            manager(C, 7),
            manager(Role::USER, 7),
        ])
        .unwrap();
        assert_eq!(
            catalog.account_administrator_role(),
            C,
            "the first of a tie"
        );
        assert_eq!(catalog.managing_project_roles(), &[A, C, Role::USER]);
    }

    #[test]
    fn names_fall_back_from_tag_to_language_to_default() {
        let role = RoleDefinition::new(A, "Users", 1)
            .name_in("pt-BR", "Usuários")
            .name_in("pt", "Utilizadores");
        assert_eq!(role.display_name_in(Some("pt-br")), "Usuários");
        assert_eq!(role.display_name_in(Some("pt-PT")), "Utilizadores");
        assert_eq!(role.display_name_in(Some("fr")), "Users");
        assert_eq!(role.display_name_in(None), "Users");
    }

    #[test]
    fn unknown_keys_show_as_no_access() {
        let catalog = RoleCatalog::default();
        assert_eq!(catalog.get(A), None);
        assert_eq!(catalog.display_name(A), "No access");
    }

    #[test]
    fn permissions_are_sorted_and_deduplicated() {
        let role = RoleDefinition::new(A, "Users", 1).permissions(["b", "a", "b"]);
        assert_eq!(role.permission_names(), ["a", "b"]);
    }
}
