//! The outbox: entries in id order, queued ones by due time, and listings by project and status.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use chrono::{DateTime, Utc};
use roster::store::OutboxQuery;
use roster::{DeliveryStatus, Entity, NoticeId, OutboxEntry, ProjectId, StoreError, UserId};

use crate::keys::{self, delivery_status_rank};

/// Outbox entries by id, with the indexes the delivery worker and the listings read.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    rows: BTreeMap<NoticeId, OutboxEntry>,
    /// `Queued` entries only, earliest due first.
    due: BTreeSet<(DateTime<Utc>, NoticeId)>,
    by_project: BTreeSet<(ProjectId, NoticeId)>,
    by_status: BTreeSet<(u8, NoticeId)>,
    by_project_status: BTreeSet<((ProjectId, u8), NoticeId)>,
    /// Link-carrying entries by who wrote them and when: the sends a per-inviter limit counts.
    sends: BTreeSet<(UserId, DateTime<Utc>, NoticeId)>,
}

impl Outbox {
    pub(crate) fn get(&self, id: NoticeId) -> Option<&OutboxEntry> {
        self.rows.get(&id)
    }

    /// How many link-carrying entries `sender` wrote at or after `since`.
    pub(crate) fn count_sends_by(&self, sender: UserId, since: DateTime<Utc>) -> u64 {
        let start = Bound::Included((sender, since, keys::lowest()));
        let sends = self
            .sends
            .range((start, Bound::Unbounded))
            .take_while(|(by, _, _)| *by == sender)
            .count();
        u64::try_from(sends).unwrap_or(u64::MAX)
    }

    /// Up to `limit` queued entries due at `now`, earliest due first.
    pub(crate) fn due(&self, now: DateTime<Utc>, limit: usize) -> Vec<OutboxEntry> {
        let end = Bound::Included((now, keys::highest()));
        self.due
            .range((Bound::Unbounded, end))
            .take(limit)
            .map(|(_, id)| self.rows[id].clone())
            .collect()
    }

    /// The entries a query selects, in id order.
    pub(crate) fn list(&self, query: &OutboxQuery) -> Vec<OutboxEntry> {
        let status = query.status.map(delivery_status_rank);
        let ids: Box<dyn Iterator<Item = NoticeId> + '_> = match (query.project, status) {
            (None, None) => {
                let start = query.after.map_or(Bound::Unbounded, Bound::Excluded);
                Box::new(
                    self.rows
                        .range((start, Bound::Unbounded))
                        .map(|(id, _)| *id),
                )
            }
            (Some(project), None) => {
                Box::new(keys::page_of(&self.by_project, project, query.after))
            }
            (None, Some(status)) => Box::new(keys::page_of(&self.by_status, status, query.after)),
            (Some(project), Some(status)) => Box::new(keys::page_of(
                &self.by_project_status,
                (project, status),
                query.after,
            )),
        };
        ids.take(query.limit)
            .map(|id| self.rows[&id].clone())
            .collect()
    }

    /// Stores a new entry; its id must be free.
    pub(crate) fn insert(&mut self, entry: OutboxEntry) -> Result<(), StoreError> {
        if self.rows.contains_key(&entry.id) {
            return Err(StoreError::AlreadyExists(Entity::OutboxEntry));
        }
        self.put(entry);
        Ok(())
    }

    /// Replaces an existing entry. Returns it as it was, for undoing.
    pub(crate) fn update(&mut self, entry: OutboxEntry) -> Result<OutboxEntry, StoreError> {
        let old = self
            .take(entry.id)
            .ok_or(StoreError::NotFound(Entity::OutboxEntry))?;
        self.put(entry);
        Ok(old)
    }

    /// Stores an entry as is, indexing it. Its id must be free.
    pub(crate) fn put(&mut self, entry: OutboxEntry) {
        let (id, project) = (entry.id, entry.notice.project);
        let status = delivery_status_rank(entry.status);
        if entry.status == DeliveryStatus::Queued {
            self.due.insert((entry.next_attempt_at, id));
        }
        self.by_project.insert((project, id));
        self.by_status.insert((status, id));
        self.by_project_status.insert(((project, status), id));
        if entry.notice.kind.carries_link() {
            self.sends
                .insert((entry.notice.sent_by, entry.created_at, id));
        }
        self.rows.insert(id, entry);
    }

    /// Removes an entry and its index entries.
    pub(crate) fn take(&mut self, id: NoticeId) -> Option<OutboxEntry> {
        let entry = self.rows.remove(&id)?;
        let project = entry.notice.project;
        let status = delivery_status_rank(entry.status);
        self.due.remove(&(entry.next_attempt_at, id));
        self.by_project.remove(&(project, id));
        self.by_status.remove(&(status, id));
        self.by_project_status.remove(&((project, status), id));
        self.sends
            .remove(&(entry.notice.sent_by, entry.created_at, id));
        Some(entry)
    }
}
