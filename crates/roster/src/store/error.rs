use std::error::Error as StdError;
use std::fmt;

/// The kinds of record a [`StoreError`] can be about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Entity {
    /// An [`Account`](crate::Account).
    Account,
    /// A [`Project`](crate::Project).
    Project,
    /// A [`User`](crate::User).
    User,
    /// A [`Membership`](crate::Membership).
    Membership,
    /// An [`Invitation`](crate::Invitation).
    Invitation,
    /// An [`OutboxEntry`](crate::OutboxEntry).
    OutboxEntry,
    /// An [`AuditEvent`](crate::AuditEvent).
    AuditEvent,
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entity::Account => "account",
            Entity::Project => "project",
            Entity::User => "user",
            Entity::Membership => "membership",
            Entity::Invitation => "invitation",
            Entity::OutboxEntry => "outbox entry",
            Entity::AuditEvent => "audit event",
        })
    }
}

/// What went wrong in a [`Store`](crate::Store). One concrete type for every adapter, so callers
/// and the conformance suite match it the same way everywhere.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A record that a change updates, deletes or expects does not exist.
    #[error("{0} not found")]
    NotFound(Entity),
    /// An insert or update would break a uniqueness rule (same id, same address, same token hash,
    /// a second pending invitation for one address, a second membership).
    #[error("{0} already exists")]
    AlreadyExists(Entity),
    /// An expected version had moved: somebody else changed the record since it was read.
    #[error("the {0} changed since it was read")]
    Conflict(Entity),
    /// The backend failed (I/O, driver, corrupt data). `retryable` tells whether the same call may
    /// succeed later (a busy database, a dropped connection).
    #[error("storage backend failed")]
    Backend {
        /// The backend's own error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
        /// Whether trying again later can help.
        retryable: bool,
    },
}

impl StoreError {
    /// A backend failure that will not go away by itself.
    pub fn backend(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        StoreError::Backend {
            source: source.into(),
            retryable: false,
        }
    }

    /// A backend failure that may go away (busy, timed out, disconnected).
    pub fn transient(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        StoreError::Backend {
            source: source.into(),
            retryable: true,
        }
    }

    /// Whether the same call may succeed if tried again: a conflict (after re-reading) or a
    /// transient backend failure.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Conflict(_) => true,
            StoreError::Backend { retryable, .. } => *retryable,
            StoreError::NotFound(_) | StoreError::AlreadyExists(_) => false,
        }
    }
}
