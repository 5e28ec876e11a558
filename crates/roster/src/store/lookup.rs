//! The single-record lookups a store makes inside its isolation, and [`gather`], which turns them
//! into the [`Snapshot`] a [`Read`] asks for. A store that runs decisions under a lock or inside
//! a transaction implements [`Lookup`] over its locked state or transaction and calls [`gather`],
//! so what each read contains is described once, here.

use chrono::{DateTime, Utc};

use super::{
    InvitationContext, InvitationKey, InviteContext, InviteQuery, Invitee, MemberContext,
    NoticeContext, ProjectContext, Read, Snapshot, StoreError,
};
use crate::account::{Account, Project};
use crate::email::Email;
use crate::id::{AccountId, InvitationId, NoticeId, ProjectId, UserId};
use crate::invitation::Invitation;
use crate::membership::Membership;
use crate::notice::OutboxEntry;
use crate::role::Role;
use crate::token::TokenHash;
use crate::user::User;

/// The single-record lookups a store answers inside whatever isolation it runs a step in
/// (blocking: they run under the store's lock or on its connection). Each searches an index;
/// none scans a table.
pub trait Lookup {
    /// The account with this id, with its administrators.
    fn account(&mut self, id: AccountId) -> Result<Option<Account>, StoreError>;
    /// The project with this id, with its current version.
    fn project(&mut self, id: ProjectId) -> Result<Option<Project>, StoreError>;
    /// The user with this id.
    fn user(&mut self, id: UserId) -> Result<Option<User>, StoreError>;
    /// The user whose address has the same canonical form as `email`.
    fn user_by_email(&mut self, email: &Email) -> Result<Option<User>, StoreError>;
    /// The membership of `user` in `project`.
    fn membership(
        &mut self,
        project: ProjectId,
        user: UserId,
    ) -> Result<Option<Membership>, StoreError>;
    /// How many members of `project` hold exactly `role`.
    fn count_members(&mut self, project: ProjectId, role: Role) -> Result<u64, StoreError>;
    /// The invitation with this id.
    fn invitation(&mut self, id: InvitationId) -> Result<Option<Invitation>, StoreError>;
    /// The invitation whose current token has this hash; rotated-away hashes find nothing.
    fn invitation_by_token(&mut self, hash: &TokenHash) -> Result<Option<Invitation>, StoreError>;
    /// The invitation of `project` for `email` (canonical form) whose *stored* state is
    /// `Pending`, expired in effect or not. There is at most one.
    fn pending_invitation(
        &mut self,
        project: ProjectId,
        email: &Email,
    ) -> Result<Option<Invitation>, StoreError>;
    /// How many invitations of `project` are pending in effect at `now` (stored `Pending` and
    /// `expires_at > now`).
    fn count_pending_invitations(
        &mut self,
        project: ProjectId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// How many invitation emails `sender` sent at or after `since`, in any project: the outbox
    /// entries of a kind that carries a link ([`NoticeKind::carries_link`](crate::NoticeKind::carries_link))
    /// whose notice was written by them ([`Notice::sent_by`](crate::Notice::sent_by)) and
    /// created then, in any status.
    fn count_sends_by(&mut self, sender: UserId, since: DateTime<Utc>) -> Result<u64, StoreError>;
    /// The outbox entry with this id.
    fn outbox_entry(&mut self, id: NoticeId) -> Result<Option<OutboxEntry>, StoreError>;
}

/// Reads what `read` asks for through `lookup`.
pub fn gather(lookup: &mut impl Lookup, read: &Read) -> Result<Snapshot, StoreError> {
    Ok(match read {
        Read::Nothing => Snapshot::Nothing,
        Read::User(id) => Snapshot::User(lookup.user(*id)?),
        Read::Address(email) => Snapshot::Address(lookup.user_by_email(email)?),
        Read::Account(id) => Snapshot::Account(lookup.account(*id)?),
        Read::Project { project, actor } => {
            Snapshot::Project(project_context(lookup, *project, *actor)?)
        }
        Read::Member {
            project,
            actor,
            member,
            managers,
        } => Snapshot::Member(member_context(lookup, *project, *actor, *member, managers)?),
        Read::Invitation {
            key,
            actor,
            sent_since,
        } => Snapshot::Invitation {
            context: invitation_context(lookup, key, *actor)?,
            sent_by_actor: match (actor, sent_since) {
                (Some(actor), Some(since)) => Some(lookup.count_sends_by(*actor, *since)?),
                _ => None,
            },
        },
        Read::Invite(query) => Snapshot::Invite(invite_context(lookup, query)?),
        Read::Notice { id, actor } => Snapshot::Notice(notice_context(lookup, *id, *actor)?),
    })
}

/// The project context of `project` for `actor`: `None` if the project or its account is gone.
pub fn project_context(
    lookup: &mut impl Lookup,
    project: ProjectId,
    actor: Option<UserId>,
) -> Result<Option<ProjectContext>, StoreError> {
    let Some(project) = lookup.project(project)? else {
        return Ok(None);
    };
    let Some(account) = lookup.account(project.account)? else {
        return Ok(None);
    };
    let (actor, actor_membership) = match actor {
        Some(actor) => (lookup.user(actor)?, lookup.membership(project.id, actor)?),
        None => (None, None),
    };
    Ok(Some(ProjectContext {
        project,
        account,
        actor,
        actor_membership,
    }))
}

/// The invitation context `key` finds: `None` if nothing is found or its project is gone.
pub fn invitation_context(
    lookup: &mut impl Lookup,
    key: &InvitationKey,
    actor: Option<UserId>,
) -> Result<Option<InvitationContext>, StoreError> {
    let invitation = match key {
        InvitationKey::Id(id) => lookup.invitation(*id)?,
        InvitationKey::Token(hash) => lookup.invitation_by_token(hash)?,
    };
    let Some(invitation) = invitation else {
        return Ok(None);
    };
    let Some(project) = project_context(lookup, invitation.project, actor)? else {
        return Ok(None);
    };
    let project_id = project.project.id;
    let inviter = lookup.user(invitation.invited_by)?;
    let inviter_membership = lookup.membership(project_id, invitation.invited_by)?;
    let invitee = lookup.user_by_email(&invitation.email)?;
    let invitee_membership = match &invitee {
        Some(user) => lookup.membership(project_id, user.id)?,
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

/// Everything a bulk invite reads: `None` if the project or its account is gone.
pub fn invite_context(
    lookup: &mut impl Lookup,
    query: &InviteQuery,
) -> Result<Option<InviteContext>, StoreError> {
    let Some(project) = project_context(lookup, query.project, Some(query.actor))? else {
        return Ok(None);
    };
    let mut invitees = Vec::with_capacity(query.emails.len());
    for email in &query.emails {
        let user = lookup.user_by_email(email)?;
        let membership = match &user {
            Some(user) => lookup.membership(query.project, user.id)?,
            None => None,
        };
        let pending = lookup.pending_invitation(query.project, email)?;
        invitees.push(Invitee {
            user,
            membership,
            pending,
        });
    }
    let sent_by_actor = match query.sent_since {
        Some(since) => Some(lookup.count_sends_by(query.actor, since)?),
        None => None,
    };
    let pending_invitations = match query.pending_at {
        Some(now) => Some(lookup.count_pending_invitations(query.project, now)?),
        None => None,
    };
    Ok(Some(InviteContext {
        project,
        invitees,
        sent_by_actor,
        pending_invitations,
    }))
}

fn member_context(
    lookup: &mut impl Lookup,
    project: ProjectId,
    actor: UserId,
    member: UserId,
    managers: &[Role],
) -> Result<Option<MemberContext>, StoreError> {
    let Some(project) = project_context(lookup, project, Some(actor))? else {
        return Ok(None);
    };
    let member = if member == actor {
        project.actor_membership.clone()
    } else {
        lookup.membership(project.project.id, member)?
    };
    // One indexed count per role: a catalog has few managing roles.
    let mut count = 0;
    for role in managers {
        count += lookup.count_members(project.project.id, *role)?;
    }
    Ok(Some(MemberContext {
        project,
        member,
        managers: count,
    }))
}

fn notice_context(
    lookup: &mut impl Lookup,
    id: NoticeId,
    actor: Option<UserId>,
) -> Result<Option<NoticeContext>, StoreError> {
    let Some(entry) = lookup.outbox_entry(id)? else {
        return Ok(None);
    };
    let project = project_context(lookup, entry.notice.project, actor)?;
    let invitation = lookup.invitation(entry.notice.invitation)?;
    Ok(Some(NoticeContext {
        entry,
        project,
        invitation,
    }))
}
