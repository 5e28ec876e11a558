//! Accounts (tenants) and their projects.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::email::Email;
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
    /// The email domains its invitations are restricted to, in canonical form (see
    /// [`Email::domain`]), sorted and without duplicates; empty for no restriction. Set with
    /// [`Roster::set_allowed_domains`](crate::Roster::set_allowed_domains).
    #[serde(default)]
    pub allowed_domains: Vec<String>,
}

impl Account {
    /// Whether `user` administers this account.
    pub fn is_administrator(&self, user: UserId) -> bool {
        self.administrators.contains(&user)
    }

    /// Whether the account's invitations may go to `email`: no restriction, or its domain (in
    /// canonical form: every spelling of a domain is one) is one of the allowed.
    pub fn allows(&self, email: &Email) -> bool {
        self.allowed_domains.is_empty()
            || self
                .allowed_domains
                .binary_search_by(|domain| domain.as_str().cmp(email.domain()))
                .is_ok()
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
