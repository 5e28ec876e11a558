//! The audit trail: append-only events, listed per project in id order.

use std::collections::{BTreeSet, HashMap};

use roster::{AuditEvent, Entity, EventId, ProjectId, StoreError};

use crate::keys;

/// Audit events by id, plus each project's events in id order.
#[derive(Debug, Default)]
pub(crate) struct AuditTrail {
    rows: HashMap<EventId, AuditEvent>,
    by_project: BTreeSet<(ProjectId, EventId)>,
}

impl AuditTrail {
    /// Up to `limit` events of `project` after the cursor, in id order.
    pub(crate) fn of_project(
        &self,
        project: ProjectId,
        after: Option<EventId>,
        limit: usize,
    ) -> Vec<AuditEvent> {
        keys::page_of(&self.by_project, project, after)
            .take(limit)
            .filter_map(|id| self.rows.get(&id).cloned())
            .collect()
    }

    /// Appends an event; its id must be free.
    pub(crate) fn insert(&mut self, event: AuditEvent) -> Result<(), StoreError> {
        if self.rows.contains_key(&event.id) {
            return Err(StoreError::AlreadyExists(Entity::AuditEvent));
        }
        if let Some(project) = event.project {
            self.by_project.insert((project, event.id));
        }
        self.rows.insert(event.id, event);
        Ok(())
    }

    /// Removes an event (used to undo an append).
    pub(crate) fn remove(&mut self, id: EventId) {
        if let Some(project) = self.rows.remove(&id).and_then(|event| event.project) {
            self.by_project.remove(&(project, id));
        }
    }
}
