//! What a user may do in a project: the question a service asks on every request.

use super::Roster;
use crate::catalog::{RoleCatalog, RoleDefinition};
use crate::error::RosterError;
use crate::id::{ProjectId, UserId};
use crate::policy;
use crate::role::Role;
use crate::store::{Entity, Read, Snapshot};

/// A user's standing in a project, as [`Roster::access`] answers it: the role in effect and,
/// through the service's catalog, its rights. Cheap to keep: the permission names are the
/// catalog's own.
///
/// ```
/// # use roster::{Access, Role, RoleCatalog};
/// # fn check(access: &Access) {
/// if access.allows("purge") {
///     // serve the purge request
/// }
/// match access.role() {
///     Some(_) => println!("acting as {}", access.display_name().unwrap_or_default()),
///     None if access.held().is_some() => println!("a role this service no longer has: no access"),
///     None => println!("not a member"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    role: Option<Role>,
    held: Option<Role>,
    roles: RoleCatalog,
}

impl Access {
    /// The role in effect: the highest the user holds (for account administrators, the
    /// account's); `None` for no access at all.
    pub fn role(&self) -> Option<Role> {
        self.role
    }

    /// The key stored on the user's membership, if they have one, whether or not the catalog
    /// still has it: `held()` set while [`role`](Access::role) is `None` is the "No access" of
    /// a role removed from the catalog.
    pub fn held(&self) -> Option<Role> {
        self.held
    }

    fn definition(&self) -> Option<&RoleDefinition> {
        self.role.and_then(|role| self.roles.get(role))
    }

    /// The display name of the role in effect.
    pub fn display_name(&self) -> Option<&str> {
        self.definition().map(RoleDefinition::display_name)
    }

    /// The service's permission names of the role in effect, sorted; empty for no access.
    pub fn permissions(&self) -> &[String] {
        self.definition()
            .map_or(&[], RoleDefinition::permission_names)
    }

    /// Whether the role in effect has the permission `name` (a binary search).
    pub fn allows(&self, name: &str) -> bool {
        self.permissions()
            .binary_search_by(|held| held.as_str().cmp(name))
            .is_ok()
    }

    /// Whether the role in effect manages members (invites, resends, revokes, changes roles).
    pub fn manages_members(&self) -> bool {
        self.role
            .is_some_and(|role| policy::manages(&self.roles, role))
    }
}

/// `{"role": …, "held": …, "display_name": …, "permissions": […], "manages_members": …}`.
impl serde::Serialize for Access {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("Access", 5)?;
        out.serialize_field("role", &self.role)?;
        out.serialize_field("held", &self.held)?;
        out.serialize_field("display_name", &self.display_name())?;
        out.serialize_field("permissions", self.permissions())?;
        out.serialize_field("manages_members", &self.manages_members())?;
        out.end()
    }
}

impl Roster {
    /// What `user` may do in `project`: their role in effect and its permissions, in one
    /// read-only step (a reader connection, on SQLite; nothing is written). Anyone may ask about
    /// anyone: this answers for the service's own checks, not for display to other users.
    ///
    /// A user who is no member, or whose stored role the catalog no longer has, gets an
    /// [`Access`] with no role: never an error.
    ///
    /// Errors: [`RosterError::NotFound`] if the project does not exist.
    pub async fn access(&self, user: UserId, project: ProjectId) -> Result<Access, RosterError> {
        let roles = self.roles().clone();
        let read = Read::Project {
            project,
            actor: Some(user),
        };
        self.look(read, move |snapshot| {
            let Snapshot::Project(context) = snapshot else {
                return Err(super::wrong_snapshot());
            };
            let context = context.ok_or(RosterError::NotFound(Entity::Project))?;
            let membership = context.actor_membership.as_ref();
            let role = policy::effective_role(&roles, &context.account, user, membership);
            Ok(Access {
                role,
                held: membership.map(|membership| membership.role),
                roles,
            })
        })
        .await
    }
}
