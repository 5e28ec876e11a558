//! Invitations and their states.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::email::Email;
use crate::id::{InvitationId, ProjectId, UserId};
use crate::role::Role;
use crate::token::TokenHash;

/// Where an invitation stands. Only `Pending` moves; the others are final and kept as history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    /// Sent, waiting for an answer.
    Pending,
    /// Accepted: a membership was created.
    Accepted,
    /// Declined by the invitee.
    Declined,
    /// Withdrawn by an Administrator.
    Revoked,
    /// Its lifetime ran out before an answer.
    Expired,
}

impl InvitationState {
    /// Whether the state is final (anything but `Pending`).
    pub fn is_final(self) -> bool {
        self != InvitationState::Pending
    }

    /// The stable lower-case name used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationState::Pending => "pending",
            InvitationState::Accepted => "accepted",
            InvitationState::Declined => "declined",
            InvitationState::Revoked => "revoked",
            InvitationState::Expired => "expired",
        }
    }

    /// Parses the name produced by [`InvitationState::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        use InvitationState::*;
        [Pending, Accepted, Declined, Revoked, Expired]
            .into_iter()
            .find(|state| state.as_str() == name)
    }
}

impl fmt::Display for InvitationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An invitation of one address to one project with one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// The invitation's id.
    pub id: InvitationId,
    /// The project it opens.
    pub project: ProjectId,
    /// The invited address (compared by canonical form).
    pub email: Email,
    /// The role granted on acceptance.
    pub role: Role,
    /// Who (last) sent it; their right to grant `role` is checked again on acceptance.
    pub invited_by: UserId,
    /// The stored state. A `Pending` invitation past `expires_at` is expired in effect: see
    /// [`Invitation::effective_state`].
    pub state: InvitationState,
    /// When it was first created.
    pub created_at: DateTime<Utc>,
    /// When it was last sent (created, refreshed or resent).
    pub sent_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it left `Pending`.
    pub closed_at: Option<DateTime<Utc>>,
    /// Hash of the only token that opens it now; rotated on every send.
    pub token_hash: TokenHash,
    /// How many times it was sent.
    pub sends: u32,
    /// The invitee's language (a tag such as `de`), if the inviter gave one: every notice about
    /// the invitation carries it. Kept when the invitation is sent again without one.
    pub language: Option<String>,
}

impl Invitation {
    /// The state as of `now`: a stored `Pending` past its expiry counts as `Expired`.
    pub fn effective_state(&self, now: DateTime<Utc>) -> InvitationState {
        if self.state == InvitationState::Pending && self.expires_at <= now {
            InvitationState::Expired
        } else {
            self.state
        }
    }
}
