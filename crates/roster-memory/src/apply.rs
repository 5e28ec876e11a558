//! A step's change on the in-memory state: the order of checks and writes documented on
//! [`Change`], all or nothing.

use std::collections::HashSet;

use roster::store::{
    AccountWrite, Expectation, InvitationWrite, MembershipWrite, OutboxWrite, UserWrite,
};
use roster::{Change, Entity, Invitation, Membership, ProjectId, StoreError, UserId};

use crate::state::State;
use crate::undo::{Undo, UndoLog};

/// Applies `change` to `state` entirely, or leaves `state` exactly as it was and returns the
/// first error.
pub(crate) fn apply(state: &mut State, mut change: Change) -> Result<(), StoreError> {
    let expect = std::mem::take(&mut change.expect);
    check_expectations(state, &expect)?;
    let mut log = UndoLog::default();
    match write_all(state, &mut log, change) {
        Ok(()) => {
            bump_versions(state, &expect);
            Ok(())
        }
        Err(error) => {
            log.rollback(state);
            Err(error)
        }
    }
}

/// Step 2: every write, in the documented order, logging the inverse of each one that succeeds.
fn write_all(state: &mut State, log: &mut UndoLog, change: Change) -> Result<(), StoreError> {
    for write in change.accounts {
        log.push(write_account(state, write)?);
    }
    for project in change.projects {
        let id = project.id;
        state.projects.insert(project)?;
        log.push(Undo::RemoveProject(id));
    }
    for write in change.users {
        log.push(write_user(state, write)?);
    }
    for write in change.memberships {
        log.push(write_membership(state, write)?);
    }
    for write in change.invitations {
        log.push(write_invitation(state, write)?);
    }
    for event in change.audit {
        let id = event.id;
        state.audit.insert(event)?;
        log.push(Undo::RemoveAuditEvent(id));
    }
    for write in change.outbox {
        log.push(write_outbox(state, write)?);
    }
    Ok(())
}

fn write_account(state: &mut State, write: AccountWrite) -> Result<Undo, StoreError> {
    Ok(match write {
        AccountWrite::Insert(account) => {
            let id = account.id;
            state.accounts.insert(account)?;
            Undo::RemoveAccount(id)
        }
        AccountWrite::Update(account) => Undo::RestoreAccount(state.accounts.replace(account)?),
    })
}

/// Step 1: every expected record exists at the expected version. Reads only.
fn check_expectations(state: &State, expect: &[Expectation]) -> Result<(), StoreError> {
    for expectation in expect {
        let (current, expected, entity) = match *expectation {
            Expectation::ProjectVersion { project, version } => (
                state.projects.get(project).map(|p| p.version),
                version,
                Entity::Project,
            ),
            Expectation::UserVersion { user, version } => (
                state.users.get(user).map(|row| row.user.version),
                version,
                Entity::User,
            ),
        };
        match current {
            None => return Err(StoreError::NotFound(entity)),
            Some(current) if current != expected => return Err(StoreError::Conflict(entity)),
            Some(_) => {}
        }
    }
    Ok(())
}

fn write_user(state: &mut State, write: UserWrite) -> Result<Undo, StoreError> {
    match write {
        UserWrite::Insert { user, password } => {
            let id = user.id;
            state.users.insert(user, password)?;
            Ok(Undo::RemoveUser(id))
        }
        UserWrite::Update { user, password } => {
            state.users.update(user, password).map(Undo::RestoreUser)
        }
    }
}

fn write_membership(state: &mut State, write: MembershipWrite) -> Result<Undo, StoreError> {
    match write {
        MembershipWrite::Insert(membership) => {
            require_parents(state, &membership)?;
            let (project, user) = (membership.project, membership.user);
            state.memberships.insert(membership)?;
            Ok(Undo::RemoveMembership(project, user))
        }
        MembershipWrite::Update(membership) => state
            .memberships
            .update(membership)
            .map(Undo::RestoreMembership),
        MembershipWrite::Delete { project, user } => state
            .memberships
            .delete(project, user)
            .map(Undo::RestoreMembership),
    }
}

fn require_parents(state: &State, membership: &Membership) -> Result<(), StoreError> {
    if !state.projects.contains(membership.project) {
        return Err(StoreError::NotFound(Entity::Project));
    }
    if !state.users.contains(membership.user) {
        return Err(StoreError::NotFound(Entity::User));
    }
    Ok(())
}

fn write_invitation(state: &mut State, write: InvitationWrite) -> Result<Undo, StoreError> {
    match write {
        InvitationWrite::Insert(invitation) => {
            require_project(state, &invitation)?;
            let id = invitation.id;
            state.invitations.insert(invitation)?;
            Ok(Undo::RemoveInvitation(id))
        }
        InvitationWrite::Update(invitation) => {
            // An update must not move an invitation to a project that does not exist; an
            // unknown invitation is reported as such by the update itself.
            let moved = state
                .invitations
                .get(invitation.id)
                .is_some_and(|stored| stored.project != invitation.project);
            if moved {
                require_project(state, &invitation)?;
            }
            state
                .invitations
                .update(invitation)
                .map(Undo::RestoreInvitation)
        }
    }
}

fn require_project(state: &State, invitation: &Invitation) -> Result<(), StoreError> {
    if state.projects.contains(invitation.project) {
        Ok(())
    } else {
        Err(StoreError::NotFound(Entity::Project))
    }
}

fn write_outbox(state: &mut State, write: OutboxWrite) -> Result<Undo, StoreError> {
    match write {
        OutboxWrite::Insert(entry) => {
            let id = entry.id;
            state.outbox.insert(entry)?;
            Ok(Undo::RemoveOutboxEntry(id))
        }
        OutboxWrite::Update(entry) => state.outbox.update(entry).map(Undo::RestoreOutboxEntry),
    }
}

/// Step 3: every project and user named in an expectation moves forward by one, once even if
/// named twice. Cannot fail: step 1 saw them all, and nothing deletes projects or users.
fn bump_versions(state: &mut State, expect: &[Expectation]) {
    let mut bumped = HashSet::new();
    for expectation in expect {
        match *expectation {
            Expectation::ProjectVersion { project, .. }
                if bumped.insert(Named::Project(project)) =>
            {
                state.projects.bump_version(project);
            }
            Expectation::UserVersion { user, .. } if bumped.insert(Named::User(user)) => {
                state.users.bump_version(user);
            }
            _ => {}
        }
    }
}

/// A record an expectation names.
#[derive(PartialEq, Eq, Hash)]
enum Named {
    Project(ProjectId),
    User(UserId),
}
