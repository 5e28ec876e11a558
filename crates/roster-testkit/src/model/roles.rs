//! The model's role catalog: a plain list, with the rules on ranks said again independently of
//! the service's `policy`, and a strategy drawing a different valid catalog for every case.

use proptest::prelude::*;
use roster::{Role, RoleCatalog, RoleDefinition};

/// The keys commands draw roles from. A case's catalog declares some of them; the others are
/// keys the service does not know.
pub const KEYS: [Role; 5] = [
    Role::OBSERVER,
    Role::USER,
    Role::ADMINISTRATOR,
    Role::ACCOUNT_ADMINISTRATOR,
    Role::from_static("auditor"),
];

/// One declared role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRole {
    pub key: Role,
    pub rank: u16,
    pub manages: bool,
    pub account: bool,
}

/// A case's catalog, in declaration order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRoles {
    pub roles: Vec<ModelRole>,
}

impl ModelRoles {
    /// The service's default four.
    pub fn default_four() -> Self {
        let role = |key, rank, manages, account| ModelRole {
            key,
            rank,
            manages,
            account,
        };
        ModelRoles {
            roles: vec![
                role(Role::OBSERVER, 10, false, false),
                role(Role::USER, 20, false, false),
                role(Role::ADMINISTRATOR, 30, true, false),
                role(Role::ACCOUNT_ADMINISTRATOR, 40, true, true),
            ],
        }
    }

    /// The service's catalog for these roles.
    pub fn catalog(&self) -> RoleCatalog {
        let definitions = self.roles.iter().map(|role| {
            let mut definition = RoleDefinition::new(role.key, role.key.as_str(), role.rank);
            if role.manages {
                definition = definition.managing_members();
            }
            if role.account {
                definition = definition.account_level();
            }
            definition
        });
        RoleCatalog::build(definitions).expect("the model's catalogs are valid")
    }

    pub fn get(&self, key: Role) -> Option<&ModelRole> {
        self.roles.iter().find(|role| role.key == key)
    }

    /// A declared project role that manages members.
    pub fn manages(&self, key: Role) -> bool {
        self.get(key).is_some_and(|role| role.manages)
    }

    fn project_role(&self, key: Role) -> Option<&ModelRole> {
        self.get(key).filter(|role| !role.account)
    }

    /// The highest ranked managing project role, the first declared among ties.
    pub fn top_manager(&self) -> Role {
        let mut top: Option<&ModelRole> = None;
        for role in self.roles.iter().filter(|r| r.manages && !r.account) {
            if top.is_none_or(|top| role.rank > top.rank) {
                top = Some(role);
            }
        }
        top.map(|role| role.key).expect("a managing project role")
    }

    /// What account administrators hold: the account-level role, or the top manager.
    pub fn account_role(&self) -> Role {
        self.roles
            .iter()
            .find(|role| role.account)
            .map_or_else(|| self.top_manager(), |role| role.key)
    }

    /// The lowest ranked project role, the last declared among ties.
    pub fn lowest(&self) -> Role {
        let mut low: Option<&ModelRole> = None;
        for role in self.roles.iter().filter(|r| !r.account) {
            if low.is_none_or(|low| role.rank <= low.rank) {
                low = Some(role);
            }
        }
        low.map(|role| role.key).expect("a project role")
    }

    /// The role held in effect: the account's for account administrators (it ranks highest),
    /// else a membership's role the catalog declares for projects.
    pub fn effective(&self, account_admin: bool, membership: Option<Role>) -> Option<Role> {
        if account_admin {
            return Some(self.account_role());
        }
        membership.filter(|key| self.project_role(*key).is_some())
    }

    fn rank(&self, key: Role) -> Option<u16> {
        self.get(key).map(|role| role.rank)
    }

    /// A holder of `holder` may grant `key`: manages, and `key` a declared project role ranked
    /// no higher.
    pub fn may_grant(&self, holder: Role, key: Role) -> bool {
        self.manages(holder)
            && self
                .project_role(key)
                .is_some_and(|target| self.rank(holder).is_some_and(|own| target.rank <= own))
    }

    /// An earlier grant still stands: a manager, and `key` grantable or no longer declared.
    pub fn still_grants(&self, holder: Option<Role>, key: Role) -> bool {
        holder.is_some_and(|holder| {
            self.manages(holder) && (self.get(key).is_none() || self.may_grant(holder, key))
        })
    }

    /// `target` (held in effect) ranks above `actor`'s role; undeclared keys rank below all.
    pub fn outranks(&self, target: Role, actor: Role) -> bool {
        match (self.rank(target), self.rank(actor)) {
            (Some(target), Some(actor)) => target > actor,
            (Some(_), None) => true,
            _ => false,
        }
    }
}

/// A valid catalog over [`KEYS`]: each key declared or not, small ranks (so ties are common),
/// managing or not, and at most one account-level role, which manages and ranks highest.
pub fn model_roles() -> impl Strategy<Value = ModelRoles> {
    let role = (any::<bool>(), 1u16..=4, any::<bool>());
    (
        proptest::collection::vec(role, KEYS.len()),
        proptest::option::of(0..KEYS.len()),
        any::<bool>(),
    )
        .prop_map(|(drawn, account, default)| {
            if default {
                return ModelRoles::default_four();
            }
            let mut roles: Vec<ModelRole> = KEYS
                .iter()
                .zip(drawn)
                .filter(|(_, (declared, _, _))| *declared)
                .map(|(key, (_, rank, manages))| ModelRole {
                    key: *key,
                    rank,
                    manages,
                    account: false,
                })
                .collect();
            if !roles.iter().any(|role| role.manages) {
                match roles.first_mut() {
                    Some(first) => first.manages = true,
                    None => roles.push(ModelRole {
                        key: Role::ADMINISTRATOR,
                        rank: 2,
                        manages: true,
                        account: false,
                    }),
                }
            }
            // Account administrators' role ranks highest (the catalog checks).
            let top = roles.iter().map(|role| role.rank).max().unwrap_or(1);
            let manager = ModelRoles {
                roles: roles.clone(),
            }
            .top_manager();
            for role in &mut roles {
                if role.key == manager {
                    role.rank = top;
                }
            }
            // An account-level role besides at least one managing project role.
            if let Some(pick) = account.map(|pick| pick % roles.len()) {
                let others_manage = roles
                    .iter()
                    .enumerate()
                    .any(|(i, role)| i != pick && role.manages);
                if others_manage {
                    let top = roles.iter().map(|role| role.rank).max().unwrap_or(1);
                    let chosen = &mut roles[pick];
                    chosen.account = true;
                    chosen.manages = true;
                    chosen.rank = top;
                }
            }
            ModelRoles { roles }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    /// Every drawn catalog is one the service accepts, and the model's reading of it agrees
    /// with the service's on who account administrators are.
    #[test]
    fn drawn_catalogs_are_valid() {
        let mut runner = TestRunner::deterministic();
        for _ in 0..500 {
            let roles = model_roles().new_tree(&mut runner).unwrap().current();
            let catalog = roles.catalog();
            assert_eq!(catalog.account_administrator_role(), roles.account_role());
        }
    }
}
