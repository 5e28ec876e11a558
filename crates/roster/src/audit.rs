//! The audit trail: every change appends who did what to whom, and when.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::email::Email;
use crate::id::{AccountId, EventId, InvitationId, ProjectId, UserId};
use crate::role::Role;

/// One recorded change. Events are append-only and listed per project in the order they happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The event's id (time-ordered).
    pub id: EventId,
    /// When it happened (by the injected clock).
    pub at: DateTime<Utc>,
    /// Who did it; `None` for the invitee acting through a token or for the system (expiry).
    pub actor: Option<UserId>,
    /// The account concerned.
    pub account: AccountId,
    /// The project concerned, if the change was to a project.
    pub project: Option<ProjectId>,
    /// What happened.
    pub action: AuditAction,
}

/// What an [`AuditEvent`] records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditAction {
    /// An account was created by the actor, who became its administrator.
    AccountCreated {
        /// Its name.
        name: String,
    },
    /// The account's invitations were restricted to these domains (none: no restriction).
    AllowedDomainsChanged {
        /// The domains allowed before, in canonical form.
        from: Vec<String>,
        /// The domains allowed now, in canonical form.
        to: Vec<String>,
    },
    /// A project was created.
    ProjectCreated {
        /// Its name.
        name: String,
    },
    /// An invitation was sent for the first time.
    InvitationSent {
        /// The invitation.
        invitation: InvitationId,
        /// The invited address.
        email: Email,
        /// The role offered.
        role: Role,
    },
    /// A pending invitation was sent again with a new token and expiry (by inviting the same
    /// address again, by `resend`, or by redelivery of a notice whose token was lost).
    InvitationResent {
        /// The invitation.
        invitation: InvitationId,
        /// The invited address.
        email: Email,
        /// The role offered (it may have changed when the address was invited again).
        role: Role,
    },
    /// The invitee accepted; `user` now holds `role` in the project.
    InvitationAccepted {
        /// The invitation.
        invitation: InvitationId,
        /// The new member.
        user: UserId,
        /// The role granted.
        role: Role,
    },
    /// The invitee declined.
    InvitationDeclined {
        /// The invitation.
        invitation: InvitationId,
        /// The invited address.
        email: Email,
    },
    /// An Administrator revoked the invitation.
    InvitationRevoked {
        /// The invitation.
        invitation: InvitationId,
        /// The invited address.
        email: Email,
    },
    /// The invitation was found past its expiry and closed.
    InvitationExpired {
        /// The invitation.
        invitation: InvitationId,
        /// The invited address.
        email: Email,
    },
    /// A member's role changed.
    RoleChanged {
        /// The member.
        user: UserId,
        /// The role before.
        from: Role,
        /// The role after.
        to: Role,
    },
    /// An Administrator removed a member.
    MemberRemoved {
        /// The former member.
        user: UserId,
        /// The role they held.
        role: Role,
    },
    /// A member left on their own.
    MemberLeft {
        /// The former member.
        user: UserId,
        /// The role they held.
        role: Role,
    },
}
