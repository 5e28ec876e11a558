//! The composite reads of the `Store` trait: what a command reads before it decides, gathered
//! in one trip to the blocking pool and read inside one transaction, so everything comes from
//! one snapshot of the file. Blocking: they run on the blocking pool.

use roster::store::{
    InvitationContext, InvitationKey, InviteContext, InviteQuery, Invitee, ProjectContext,
};
use roster::{ProjectId, UserId};
use rusqlite::Connection;

use crate::error::DbError;
use crate::read;

type Result<T> = std::result::Result<T, DbError>;

/// Runs `reads` inside one deferred read transaction: under WAL, every statement in it sees the
/// snapshot its first statement saw.
fn snapshot<T>(conn: &Connection, reads: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    let tx = conn.unchecked_transaction()?;
    let value = reads(&tx)?;
    // Only reads happened: ending the transaction either way releases the snapshot.
    tx.commit()?;
    Ok(value)
}

pub(crate) fn project_context(
    conn: &Connection,
    project: ProjectId,
    actor: Option<UserId>,
) -> Result<Option<ProjectContext>> {
    snapshot(conn, |conn| project_context_in(conn, project, actor))
}

/// [`project_context`] inside a snapshot already taken.
fn project_context_in(
    conn: &Connection,
    project: ProjectId,
    actor: Option<UserId>,
) -> Result<Option<ProjectContext>> {
    let Some(project) = read::project(conn, project)? else {
        return Ok(None);
    };
    let Some(account) = read::account(conn, project.account)? else {
        return Ok(None);
    };
    let (actor, actor_membership) = match actor {
        Some(actor) => (
            read::user(conn, actor)?,
            read::membership(conn, project.id, actor)?,
        ),
        None => (None, None),
    };
    Ok(Some(ProjectContext {
        project,
        account,
        actor,
        actor_membership,
    }))
}

pub(crate) fn invitation_context(
    conn: &Connection,
    key: InvitationKey,
    actor: Option<UserId>,
) -> Result<Option<InvitationContext>> {
    snapshot(conn, |conn| {
        let invitation = match &key {
            InvitationKey::Id(id) => read::invitation(conn, *id)?,
            InvitationKey::Token(hash) => read::invitation_by_token(conn, hash)?,
        };
        let Some(invitation) = invitation else {
            return Ok(None);
        };
        let Some(project) = project_context_in(conn, invitation.project, actor)? else {
            return Ok(None);
        };
        let project_id = project.project.id;
        let inviter = read::user(conn, invitation.invited_by)?;
        let inviter_membership = read::membership(conn, project_id, invitation.invited_by)?;
        let invitee = read::user_by_email(conn, invitation.email.canonical())?;
        let invitee_membership = match &invitee {
            Some(user) => read::membership(conn, project_id, user.id)?,
            None => None,
        };
        Ok(Some(InvitationContext {
            invitation,
            project,
            inviter,
            inviter_membership,
            invitee,
            invitee_membership,
        }))
    })
}

pub(crate) fn invite_context(
    conn: &Connection,
    query: &InviteQuery,
) -> Result<Option<InviteContext>> {
    snapshot(conn, |conn| {
        let Some(project) = project_context_in(conn, query.project, Some(query.actor))? else {
            return Ok(None);
        };
        let invitees = query
            .emails
            .iter()
            .map(|email| {
                let canonical = email.canonical();
                let user = read::user_by_email(conn, canonical)?;
                let membership = match &user {
                    Some(user) => read::membership(conn, query.project, user.id)?,
                    None => None,
                };
                let pending = read::pending_invitation(conn, query.project, canonical)?;
                Ok(Invitee {
                    user,
                    membership,
                    pending,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let sent_by_actor = query
            .sent_since
            .map(|since| read::count_invitations_sent_by(conn, query.actor, since))
            .transpose()?;
        let pending_invitations = query
            .pending_at
            .map(|now| read::count_pending_invitations(conn, query.project, now))
            .transpose()?;
        Ok(Some(InviteContext {
            project,
            invitees,
            sent_by_actor,
            pending_invitations,
        }))
    })
}
