//! What a command reads before it decides, gathered by one call each.
//!
//! Each composite read of [`Store`](crate::Store) has a default implementation made of the
//! single-record reads, so a store need not write them; a store whose calls cost a round trip
//! (a thread hop, a network exchange) overrides them to read everything at once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::account::{Account, Project};
use crate::email::Email;
use crate::id::{InvitationId, ProjectId, UserId};
use crate::invitation::Invitation;
use crate::membership::Membership;
use crate::token::TokenHash;
use crate::user::User;

/// A project as a command starts from it: the project with its version, its account, and the
/// acting user with their membership in the project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectContext {
    /// The project, with the version the command's change will expect.
    pub project: Project,
    /// The account owning it, with its administrators.
    pub account: Account,
    /// The acting user, if one was asked for and exists.
    pub actor: Option<User>,
    /// The acting user's membership in the project, if any.
    pub actor_membership: Option<Membership>,
}

/// How [`Store::invitation_context`](crate::Store::invitation_context) finds the invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationKey {
    /// By id.
    Id(InvitationId),
    /// By the hash of its current token; a rotated-away hash finds nothing.
    Token(TokenHash),
}

/// An invitation with everything a decision about it reads: its project (with the actor, if one
/// was asked for), the inviter and the invitee, each with their membership in the project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationContext {
    /// The invitation.
    pub invitation: Invitation,
    /// Its project, account and the acting user.
    pub project: ProjectContext,
    /// The user who last sent the invitation.
    pub inviter: Option<User>,
    /// The inviter's membership in the project.
    pub inviter_membership: Option<Membership>,
    /// The user with the invited address (canonical form), if there is one.
    pub invitee: Option<User>,
    /// The invitee's membership in the project.
    pub invitee_membership: Option<Membership>,
}

/// What [`Store::invite_context`](crate::Store::invite_context) reads for a bulk invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteQuery {
    /// The project invited to.
    pub project: ProjectId,
    /// The inviting user.
    pub actor: UserId,
    /// The addresses to invite, in the order the answer keeps.
    pub emails: Vec<Email>,
    /// If set, also count the invitations last sent by `actor` at or after this instant, in any
    /// project and any state (the per-inviter limit).
    pub sent_since: Option<DateTime<Utc>>,
    /// If set, also count the invitations of `project` pending in effect at this instant (the
    /// per-project limit).
    pub pending_at: Option<DateTime<Utc>>,
}

/// Everything a bulk invite decides on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteContext {
    /// The project, its account, and the inviting user with their membership.
    pub project: ProjectContext,
    /// One entry per address of the query, in its order.
    pub invitees: Vec<Invitee>,
    /// As [`Store::count_invitations_sent_by`](crate::Store::count_invitations_sent_by) answers
    /// for the query's `sent_since`; `None` when that is `None`.
    pub sent_by_actor: Option<u64>,
    /// As [`Store::count_pending_invitations`](crate::Store::count_pending_invitations) answers
    /// for the query's `pending_at`; `None` when that is `None`.
    pub pending_invitations: Option<u64>,
}

/// What a project knows about one address: the user with it, their membership, and the
/// invitation whose stored state is `Pending` (expired in effect or not).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitee {
    /// The user with the address (canonical form), if there is one.
    pub user: Option<User>,
    /// That user's membership in the project.
    pub membership: Option<Membership>,
    /// The project's stored-`Pending` invitation for the address.
    pub pending: Option<Invitation>,
}

// The default implementations of the composite reads, from the single-record reads.

pub(super) async fn project_context<S: Store + ?Sized>(
    store: &S,
    project: ProjectId,
    actor: Option<UserId>,
) -> Result<Option<ProjectContext>, StoreError> {
    // The project first: its version is what everything read after it is guarded by.
    let Some(project) = store.project(project).await? else {
        return Ok(None);
    };
    let Some(account) = store.account(project.account).await? else {
        return Ok(None);
    };
    let (actor, actor_membership) = match actor {
        Some(actor) => (
            store.user(actor).await?,
            store.membership(project.id, actor).await?,
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

pub(super) async fn invitation_context<S: Store + ?Sized>(
    store: &S,
    key: InvitationKey,
    actor: Option<UserId>,
) -> Result<Option<InvitationContext>, StoreError> {
    let found = match &key {
        InvitationKey::Id(id) => store.invitation(*id).await?,
        InvitationKey::Token(hash) => store.invitation_by_token(hash).await?,
    };
    let Some(found) = found else {
        return Ok(None);
    };
    let Some(project) = project_context(store, found.project, actor).await? else {
        return Ok(None);
    };
    // Read again now that the version is known: the first read may predate a change that
    // moved the version just read, and deciding on it would overwrite that change.
    let Some(invitation) = store.invitation(found.id).await? else {
        return Ok(None);
    };
    if let InvitationKey::Token(hash) = &key
        && invitation.token_hash != *hash
    {
        return Ok(None);
    }
    let project_id = project.project.id;
    let inviter = store.user(invitation.invited_by).await?;
    let inviter_membership = store.membership(project_id, invitation.invited_by).await?;
    let invitee = store.user_by_email(&invitation.email).await?;
    let invitee_membership = match &invitee {
        Some(user) => store.membership(project_id, user.id).await?,
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
}

pub(super) async fn invite_context<S: Store + ?Sized>(
    store: &S,
    query: InviteQuery,
) -> Result<Option<InviteContext>, StoreError> {
    let Some(project) = project_context(store, query.project, Some(query.actor)).await? else {
        return Ok(None);
    };
    let mut invitees = Vec::with_capacity(query.emails.len());
    for email in &query.emails {
        let user = store.user_by_email(email).await?;
        let membership = match &user {
            Some(user) => store.membership(query.project, user.id).await?,
            None => None,
        };
        let pending = store.pending_invitation(query.project, email).await?;
        invitees.push(Invitee {
            user,
            membership,
            pending,
        });
    }
    let sent_by_actor = match query.sent_since {
        Some(since) => Some(store.count_invitations_sent_by(query.actor, since).await?),
        None => None,
    };
    let pending_invitations = match query.pending_at {
        Some(now) => Some(store.count_pending_invitations(query.project, now).await?),
        None => None,
    };
    Ok(Some(InviteContext {
        project,
        invitees,
        sent_by_actor,
        pending_invitations,
    }))
}
