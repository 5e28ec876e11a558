//! What a command reads before it decides: the contexts a [`Snapshot`](super::Snapshot) holds.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

/// How a [`Read::Invitation`](super::Read::Invitation) finds the invitation.
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

/// What a [`Read::Invite`](super::Read::Invite) reads for a bulk invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteQuery {
    /// The project invited to.
    pub project: ProjectId,
    /// The inviting user.
    pub actor: UserId,
    /// The addresses to invite, in the order the answer keeps.
    pub emails: Vec<Email>,
    /// If set, also count the invitation emails `actor` sent at or after this instant, in any
    /// project (the per-inviter limit; see [`Lookup::count_sends_by`](super::Lookup::count_sends_by)).
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
    /// How many invitation emails `actor` sent at or after the query's `sent_since`, in any
    /// project (as [`Lookup::count_sends_by`](super::Lookup::count_sends_by) answers); `None`
    /// when that is `None`.
    pub sent_by_actor: Option<u64>,
    /// How many invitations of the project are pending in effect at the query's `pending_at`;
    /// `None` when that is `None`.
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
