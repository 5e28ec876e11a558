//! The memberships table: ordered by (project, user), indexed by user, with role counts.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use roster::{Entity, Membership, ProjectId, Role, StoreError, UserId};

use crate::keys;

/// Memberships keyed by (project, user), so a project's members come out in user id order.
#[derive(Debug, Default)]
pub(crate) struct Memberships {
    rows: BTreeMap<(ProjectId, UserId), Membership>,
    by_user: BTreeSet<(UserId, ProjectId)>,
    /// Kept up to date on every write so counting Administrators (checked by every demotion and
    /// removal) does not scan the project.
    role_counts: HashMap<(ProjectId, Role), u64>,
}

impl Memberships {
    pub(crate) fn get(&self, project: ProjectId, user: UserId) -> Option<&Membership> {
        self.rows.get(&(project, user))
    }

    /// Memberships of `project` after the `after` user (exclusive), in user id order.
    pub(crate) fn of_project(
        &self,
        project: ProjectId,
        after: Option<UserId>,
    ) -> impl Iterator<Item = &Membership> + '_ {
        let start = match after {
            Some(user) => Bound::Excluded((project, user)),
            None => Bound::Included((project, keys::lowest())),
        };
        self.rows
            .range((start, Bound::Unbounded))
            .take_while(move |((p, _), _)| *p == project)
            .map(|(_, membership)| membership)
    }

    /// The projects `user` is a member of, in id order.
    pub(crate) fn projects_of(&self, user: UserId) -> impl Iterator<Item = ProjectId> + '_ {
        keys::page_of(&self.by_user, user, None)
    }

    pub(crate) fn count(&self, project: ProjectId, role: Role) -> u64 {
        self.role_counts.get(&(project, role)).copied().unwrap_or(0)
    }

    /// Stores a new membership; (project, user) must have none.
    pub(crate) fn insert(&mut self, membership: Membership) -> Result<(), StoreError> {
        if self.rows.contains_key(&key(&membership)) {
            return Err(StoreError::AlreadyExists(Entity::Membership));
        }
        self.put(membership);
        Ok(())
    }

    /// Replaces an existing membership. Returns it as it was, for undoing.
    pub(crate) fn update(&mut self, membership: Membership) -> Result<Membership, StoreError> {
        let old = self
            .take(membership.project, membership.user)
            .ok_or(StoreError::NotFound(Entity::Membership))?;
        self.put(membership);
        Ok(old)
    }

    /// Deletes a membership. Returns it, for undoing.
    pub(crate) fn delete(
        &mut self,
        project: ProjectId,
        user: UserId,
    ) -> Result<Membership, StoreError> {
        self.take(project, user)
            .ok_or(StoreError::NotFound(Entity::Membership))
    }

    /// Stores a membership as is, indexing it. (project, user) must be free.
    pub(crate) fn put(&mut self, membership: Membership) {
        self.by_user.insert((membership.user, membership.project));
        *self
            .role_counts
            .entry((membership.project, membership.role))
            .or_default() += 1;
        self.rows.insert(key(&membership), membership);
    }

    /// Removes a membership and its index entries.
    pub(crate) fn take(&mut self, project: ProjectId, user: UserId) -> Option<Membership> {
        let membership = self.rows.remove(&(project, user))?;
        self.by_user.remove(&(user, project));
        let count_key = (project, membership.role);
        if let Some(count) = self.role_counts.get_mut(&count_key) {
            *count -= 1;
            if *count == 0 {
                self.role_counts.remove(&count_key);
            }
        }
        Some(membership)
    }
}

fn key(membership: &Membership) -> (ProjectId, UserId) {
    (membership.project, membership.user)
}
