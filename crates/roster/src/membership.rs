//! Memberships: who holds which role in which project.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{ProjectId, UserId};
use crate::role::Role;

/// A user's role in one project. At most one per (project, user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The project.
    pub project: ProjectId,
    /// The member.
    pub user: UserId,
    /// The role held; always a project role (never `AccountAdministrator`).
    pub role: Role,
    /// Who invited this member (`None` for the creator of the project).
    pub invited_by: Option<UserId>,
    /// When the membership began.
    pub since: DateTime<Utc>,
}
