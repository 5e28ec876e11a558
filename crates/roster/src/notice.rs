//! Notices (the emails roster asks a [`Notifier`](crate::Notifier) to send) and the outbox that
//! keeps them until they are delivered.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::email::Email;
use crate::id::{InvitationId, NoticeId, ProjectId, UserId};
use crate::role::Role;
use crate::token::InvitationToken;

/// Which message a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NoticeKind {
    /// To an address with no registered user: a link to accept and create a password.
    Invitation,
    /// To an existing user: access was granted, with a link to accept.
    AccessGranted,
    /// The invitation was revoked; the link no longer works.
    Revocation,
}

impl NoticeKind {
    /// Whether the message carries an invitation link (and so needs a token to be sent).
    pub fn carries_link(self) -> bool {
        matches!(self, NoticeKind::Invitation | NoticeKind::AccessGranted)
    }
}

/// Everything needed to write one email, except the token: that is never stored, and is handed to
/// the notifier beside the notice (see [`OutgoingNotice`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Which message.
    pub kind: NoticeKind,
    /// The recipient.
    pub to: Email,
    /// The invitation the notice is about.
    pub invitation: InvitationId,
    /// The project the invitation opens.
    pub project: ProjectId,
    /// The project's name, for the message text.
    pub project_name: String,
    /// The account's name, for the message text.
    pub account_name: String,
    /// The role offered (its key).
    pub role: Role,
    /// The role's display name in the notice's language, from the service's
    /// [`RoleCatalog`](crate::RoleCatalog) when the notice was written: what the email shows.
    #[serde(default)]
    pub role_name: String,
    /// The address of the person who sent the invitation.
    pub inviter: Email,
    /// The user whose command wrote this notice: who sent or resent the invitation, or who
    /// revoked it. A per-inviter limit counts the link-carrying notices each user wrote, so a
    /// resend by a colleague never gives the first sender budget back.
    pub sent_by: UserId,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
    /// Which send of the invitation this notice announces (its [`sends`](crate::Invitation::sends)
    /// count when the notice was written). A queued notice whose invitation has been sent again
    /// since is stale: a newer notice announces the current role, expiry and link.
    pub send: u32,
    /// The recipient's language (a tag such as `de` or `pt-BR`) if the inviter gave one; a
    /// notifier writes in it when it can and falls back to its default language otherwise.
    pub language: Option<String>,
}

/// A notice on its way out: what a [`Notifier`](crate::Notifier) receives.
#[derive(Debug, Clone)]
pub struct OutgoingNotice {
    /// The outbox entry being delivered (stable across retries: use it to deduplicate).
    pub id: NoticeId,
    /// The message to write.
    pub notice: Notice,
    /// The token for the link, for kinds that carry one. Redacted in `Debug`.
    pub token: Option<InvitationToken>,
}

/// Where an outbox entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for (another) delivery attempt at `next_attempt_at`.
    Queued,
    /// Handed to the notifier successfully.
    Delivered,
    /// Given up: a permanent error, or too many temporary ones. Can be re-queued.
    Failed,
    /// Not sent because the invitation was closed before delivery; sending it would be wrong.
    Cancelled,
}

impl DeliveryStatus {
    /// The stable lower-case name used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Cancelled => "cancelled",
        }
    }

    /// Parses the name produced by [`DeliveryStatus::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        use DeliveryStatus::*;
        [Queued, Delivered, Failed, Cancelled]
            .into_iter()
            .find(|status| status.as_str() == name)
    }
}

/// A notice in the outbox, written in the same change as the state it announces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The entry's id.
    pub id: NoticeId,
    /// The message.
    pub notice: Notice,
    /// Where delivery stands.
    pub status: DeliveryStatus,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// When the entry is next due. While an attempt is in flight this is its lease: nobody else
    /// picks the entry up before then.
    pub next_attempt_at: DateTime<Utc>,
    /// The last error reported by the notifier.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When it was delivered, cancelled or failed for good.
    pub finished_at: Option<DateTime<Utc>>,
}
