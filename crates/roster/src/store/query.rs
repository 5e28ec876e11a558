use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{InvitationId, NoticeId, ProjectId};
use crate::invitation::InvitationState;
use crate::membership::Membership;
use crate::notice::DeliveryStatus;
use crate::user::User;

/// A member of a project: the membership and the user holding it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The membership.
    pub membership: Membership,
    /// The user holding it.
    pub user: User,
}

/// Which invitations [`Store::invitations`](crate::Store::invitations) lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationQuery {
    /// The project.
    pub project: ProjectId,
    /// Only invitations in this effective state (see
    /// [`Invitation::effective_state`](crate::Invitation::effective_state)); `None` for all.
    pub state: Option<InvitationState>,
    /// The instant against which expiry is judged.
    pub now: DateTime<Utc>,
    /// Only invitations with an id greater than this.
    pub after: Option<InvitationId>,
    /// At most this many.
    pub limit: usize,
}

/// Which outbox entries [`Store::outbox`](crate::Store::outbox) lists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutboxQuery {
    /// Only entries with this status; `None` for all.
    pub status: Option<DeliveryStatus>,
    /// Only entries about this project; `None` for all.
    pub project: Option<ProjectId>,
    /// Only entries with an id greater than this.
    pub after: Option<NoticeId>,
    /// At most this many.
    pub limit: usize,
}
