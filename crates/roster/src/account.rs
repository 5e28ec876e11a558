//! Accounts (tenants) and their projects.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{AccountId, ProjectId, UserId};
use crate::version::Version;

/// A tenant: owns projects and has account administrators, who are Administrators in every project
/// of the account. A user may belong to many accounts and picks one after signing in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The account's id.
    pub id: AccountId,
    /// Display name.
    pub name: String,
    /// Users holding [`Role::ACCOUNT_ADMINISTRATOR`](crate::Role::ACCOUNT_ADMINISTRATOR) here; the
    /// creator is the first. Never empty.
    pub administrators: Vec<UserId>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

impl Account {
    /// Whether `user` administers this account.
    pub fn is_administrator(&self, user: UserId) -> bool {
        self.administrators.contains(&user)
    }
}

/// A project of an account: the unit people are invited to. Its `version` serializes every change
/// to its members and invitations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// The project's id.
    pub id: ProjectId,
    /// The account that owns it.
    pub account: AccountId,
    /// Display name.
    pub name: String,
    /// When the project was created.
    pub created_at: DateTime<Utc>,
    /// Bumped by every change to the project's members or invitations.
    pub version: Version,
}
