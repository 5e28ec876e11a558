//! The projects table, indexed by account, with the per-project version.

use std::collections::{BTreeSet, HashMap};

use roster::{AccountId, Entity, Project, ProjectId, StoreError, Version};

/// Projects by id, plus the projects of each account in id order.
#[derive(Debug, Default)]
pub(crate) struct Projects {
    rows: HashMap<ProjectId, Project>,
    by_account: BTreeSet<(AccountId, ProjectId)>,
}

impl Projects {
    pub(crate) fn get(&self, id: ProjectId) -> Option<&Project> {
        self.rows.get(&id)
    }

    pub(crate) fn contains(&self, id: ProjectId) -> bool {
        self.rows.contains_key(&id)
    }

    /// The projects of `account`, in id order.
    pub(crate) fn of_account(&self, account: AccountId) -> Vec<Project> {
        crate::keys::page_of(&self.by_account, account, None)
            .filter_map(|id| self.rows.get(&id).cloned())
            .collect()
    }

    /// Stores a new project at [`Version::INITIAL`], whatever version it carries.
    pub(crate) fn insert(&mut self, mut project: Project) -> Result<(), StoreError> {
        if self.rows.contains_key(&project.id) {
            return Err(StoreError::AlreadyExists(Entity::Project));
        }
        project.version = Version::INITIAL;
        self.by_account.insert((project.account, project.id));
        self.rows.insert(project.id, project);
        Ok(())
    }

    /// Removes a project and its index entry (used to undo an insert).
    pub(crate) fn remove(&mut self, id: ProjectId) {
        if let Some(project) = self.rows.remove(&id) {
            self.by_account.remove(&(project.account, id));
        }
    }

    /// Moves the project's version forward by one. Returns whether the project exists.
    pub(crate) fn bump_version(&mut self, id: ProjectId) -> bool {
        self.rows
            .get_mut(&id)
            .map(|project| project.version = project.version.next())
            .is_some()
    }
}
