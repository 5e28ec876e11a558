//! The invitations table and its indexes: by token hash, by pending (project, address), per
//! project in id order (overall and per stored state), pending ones by expiry, and by sender.

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

use chrono::{DateTime, Utc};
use roster::store::InvitationQuery;
use roster::{
    Email, Entity, Invitation, InvitationId, InvitationState, ProjectId, StoreError, TokenHash,
};

use crate::keys::{self, invitation_state_rank};

/// Invitations by id and every index a command's read needs.
#[derive(Debug, Default)]
pub(crate) struct Invitations {
    rows: HashMap<InvitationId, Invitation>,
    by_token: HashMap<TokenHash, InvitationId>,
    /// The one stored-`Pending` invitation per (project, canonical address).
    pending_by_address: HashMap<(ProjectId, Email), InvitationId>,
    by_project: BTreeSet<(ProjectId, InvitationId)>,
    by_project_state: BTreeSet<(ProjectId, u8, InvitationId)>,
    /// Stored-`Pending` invitations only: counting those pending in effect at `now` is a range.
    pending_by_expiry: BTreeSet<(ProjectId, DateTime<Utc>, InvitationId)>,
}

impl Invitations {
    pub(crate) fn get(&self, id: InvitationId) -> Option<&Invitation> {
        self.rows.get(&id)
    }

    pub(crate) fn by_token(&self, hash: &TokenHash) -> Option<&Invitation> {
        self.by_token.get(hash).and_then(|id| self.rows.get(id))
    }

    pub(crate) fn pending_for(&self, project: ProjectId, email: &Email) -> Option<&Invitation> {
        self.pending_by_address
            .get(&(project, email.clone()))
            .and_then(|id| self.rows.get(id))
    }

    /// The invitations a query selects, by effective state, in id order.
    pub(crate) fn list(&self, query: &InvitationQuery) -> Vec<Invitation> {
        let ids: Box<dyn Iterator<Item = InvitationId> + '_> = match query.state {
            None => Box::new(keys::page_of(&self.by_project, query.project, query.after)),
            Some(InvitationState::Pending) => Box::new(
                self.stored_in(query.project, InvitationState::Pending, query.after)
                    .filter(|id| self.rows[id].expires_at > query.now),
            ),
            // Expired in effect: stored as expired, or stored as pending and past expiry.
            Some(InvitationState::Expired) => Box::new(keys::merge_ascending(
                self.stored_in(query.project, InvitationState::Expired, query.after),
                self.stored_in(query.project, InvitationState::Pending, query.after)
                    .filter(|id| self.rows[id].expires_at <= query.now),
            )),
            Some(state) => Box::new(self.stored_in(query.project, state, query.after)),
        };
        ids.take(query.limit)
            .map(|id| self.rows[&id].clone())
            .collect()
    }

    /// Ids of the project's invitations whose stored state is `state`, after the cursor.
    fn stored_in(
        &self,
        project: ProjectId,
        state: InvitationState,
        after: Option<InvitationId>,
    ) -> impl Iterator<Item = InvitationId> + '_ {
        let rank = invitation_state_rank(state);
        let start = match after {
            Some(cursor) => Bound::Excluded((project, rank, cursor)),
            None => Bound::Included((project, rank, keys::lowest())),
        };
        self.by_project_state
            .range((start, Bound::Unbounded))
            .take_while(move |(p, r, _)| *p == project && *r == rank)
            .map(|(_, _, id)| *id)
    }

    /// How many invitations of `project` are stored `Pending` with `expires_at > now`.
    pub(crate) fn count_pending(&self, project: ProjectId, now: DateTime<Utc>) -> u64 {
        let start = Bound::Excluded((project, now, keys::highest()));
        count(
            self.pending_by_expiry
                .range((start, Bound::Unbounded))
                .take_while(|(p, _, _)| *p == project),
        )
    }

    /// Stores a new invitation; its id, its token hash and (if pending) its address's pending
    /// slot must be free.
    pub(crate) fn insert(&mut self, invitation: Invitation) -> Result<(), StoreError> {
        if self.rows.contains_key(&invitation.id) {
            return Err(StoreError::AlreadyExists(Entity::Invitation));
        }
        self.check_slots_free(&invitation)?;
        self.put(invitation);
        Ok(())
    }

    /// Replaces an existing invitation, which keeps its own slots. Returns it as it was, for
    /// undoing.
    pub(crate) fn update(&mut self, invitation: Invitation) -> Result<Invitation, StoreError> {
        if !self.rows.contains_key(&invitation.id) {
            return Err(StoreError::NotFound(Entity::Invitation));
        }
        self.check_slots_free(&invitation)?;
        let old = self
            .take(invitation.id)
            .ok_or(StoreError::NotFound(Entity::Invitation))?;
        self.put(invitation);
        Ok(old)
    }

    /// Fails if another invitation holds the token hash, or the pending slot `invitation` needs.
    fn check_slots_free(&self, invitation: &Invitation) -> Result<(), StoreError> {
        let held_by_other =
            |holder: Option<&InvitationId>| holder.is_some_and(|id| *id != invitation.id);
        let token_taken = held_by_other(self.by_token.get(&invitation.token_hash));
        let pending_taken = invitation.state == InvitationState::Pending
            && held_by_other(
                self.pending_by_address
                    .get(&(invitation.project, invitation.email.clone())),
            );
        if token_taken || pending_taken {
            return Err(StoreError::AlreadyExists(Entity::Invitation));
        }
        Ok(())
    }

    /// Stores an invitation as is, indexing it. Its id and slots must be free.
    pub(crate) fn put(&mut self, invitation: Invitation) {
        let (id, project) = (invitation.id, invitation.project);
        self.by_token.insert(invitation.token_hash, id);
        if invitation.state == InvitationState::Pending {
            self.pending_by_address
                .insert((project, invitation.email.clone()), id);
            self.pending_by_expiry
                .insert((project, invitation.expires_at, id));
        }
        self.by_project.insert((project, id));
        self.by_project_state
            .insert((project, invitation_state_rank(invitation.state), id));
        self.rows.insert(id, invitation);
    }

    /// Removes an invitation and all its index entries.
    pub(crate) fn take(&mut self, id: InvitationId) -> Option<Invitation> {
        let invitation = self.rows.remove(&id)?;
        let project = invitation.project;
        self.by_token.remove(&invitation.token_hash);
        if invitation.state == InvitationState::Pending {
            self.pending_by_address
                .remove(&(project, invitation.email.clone()));
            self.pending_by_expiry
                .remove(&(project, invitation.expires_at, id));
        }
        self.by_project.remove(&(project, id));
        self.by_project_state
            .remove(&(project, invitation_state_rank(invitation.state), id));
        Some(invitation)
    }
}

fn count<T>(items: impl Iterator<Item = T>) -> u64 {
    u64::try_from(items.count()).unwrap_or(u64::MAX)
}
