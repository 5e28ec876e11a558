//! Users and their password hashes.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::email::Email;
use crate::id::UserId;
use crate::version::Version;

/// A person known by email address. An invited address with no user yet gets a user that is not
/// registered (`registered_at` is `None`) until it accepts an invitation and sets a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// The address; its canonical form is unique among users.
    pub email: Email,
    /// When the user set a password; `None` while only invited.
    pub registered_at: Option<DateTime<Utc>>,
    /// When the record was created (by registration or by a first invitation).
    pub created_at: DateTime<Utc>,
    /// Bumped by every change to the user; guards registration and per-inviter limits.
    pub version: Version,
}

impl User {
    /// Whether the user has set a password and can sign in.
    pub fn is_registered(&self) -> bool {
        self.registered_at.is_some()
    }
}

/// A PHC-format password hash (argon2id). Redacted in `Debug`; stored, never shown.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string read back from storage.
    pub fn from_phc(phc: impl Into<String>) -> Self {
        Self(phc.into())
    }

    /// The PHC string, for storage.
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}
