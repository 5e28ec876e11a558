//! The service's error type.

use std::error::Error as StdError;
use std::fmt;

use crate::email::EmailError;
use crate::invitation::InvitationState;
use crate::role::Role;
use crate::store::{Entity, StoreError};

/// Why a command was refused for lack of rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Denial {
    /// Only a member whose role manages members (an Administrator, in the default catalog) or
    /// an account administrator may do this.
    NotAnAdministrator,
    /// Only an account administrator may do this.
    NotAnAccountAdministrator,
    /// The actor is not a member of the project.
    NotAMember,
    /// The target holds a role above the actor's.
    TargetOutranksActor,
    /// The user acting on an invitation is not the one it was sent to.
    NotTheInvitee,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Denial::NotAnAdministrator => {
                "only someone who manages the project's members may do this"
            }
            Denial::NotAnAccountAdministrator => "only an account administrator may do this",
            Denial::NotAMember => "not a member of the project",
            Denial::TargetOutranksActor => "the member holds a role above yours",
            Denial::NotTheInvitee => "the invitation was sent to another address",
        })
    }
}

/// Which configured limit was reached. Serialized with its kind in `limit_kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "limit_kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LimitKind {
    /// [`Limits::invitations_per_inviter_per_day`](crate::Limits::invitations_per_inviter_per_day).
    InvitationsPerInviterPerDay {
        /// The configured limit.
        limit: u32,
    },
    /// [`Limits::pending_invitations_per_project`](crate::Limits::pending_invitations_per_project).
    PendingInvitationsPerProject {
        /// The configured limit.
        limit: u32,
    },
    /// [`Limits::rows_per_invite`](crate::Limits::rows_per_invite).
    RowsPerInvite {
        /// The configured limit.
        limit: usize,
    },
    /// [`MAX_ALLOWED_DOMAINS`](crate::MAX_ALLOWED_DOMAINS) domains per account.
    AllowedDomains {
        /// The limit.
        limit: usize,
    },
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitKind::InvitationsPerInviterPerDay { limit } => {
                write!(f, "at most {limit} invitations per inviter in 24 hours")
            }
            LimitKind::PendingInvitationsPerProject { limit } => {
                write!(f, "at most {limit} pending invitations per project")
            }
            LimitKind::RowsPerInvite { limit } => write!(f, "at most {limit} rows per invite"),
            LimitKind::AllowedDomains { limit } => {
                write!(f, "at most {limit} allowed domains per account")
            }
        }
    }
}

/// Why a command failed. A failed command changed nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RosterError {
    /// A record the command names does not exist.
    #[error("{0} not found")]
    NotFound(Entity),
    /// The actor lacks the rights.
    #[error("not allowed: {0}")]
    Forbidden(Denial),
    /// An address failed the syntax policy.
    #[error("invalid email address")]
    InvalidEmail(#[from] EmailError),
    /// A domain given for [`Roster::set_allowed_domains`](crate::Roster::set_allowed_domains)
    /// is not one an address could have.
    #[error("invalid email domain {domain:?}")]
    InvalidDomain {
        /// The domain as given.
        domain: String,
        /// What is wrong with it.
        #[source]
        source: EmailError,
    },
    /// The account restricts its invitations to other domains.
    #[error("the account does not invite addresses at {domain}")]
    DomainNotAllowed {
        /// The address's domain, in canonical form.
        domain: String,
    },
    /// A name (account, project) is empty or too long.
    #[error("invalid {field}: {reason}")]
    InvalidName {
        /// Which name.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The role cannot be granted here by this actor: above the actor's own, or not a project role.
    #[error("role {role} cannot be granted here")]
    RoleNotAllowed {
        /// The role asked for.
        role: Role,
    },
    /// The service's [`RoleCatalog`](crate::RoleCatalog) has no role with this key.
    #[error("no role {role} in the catalog")]
    UnknownRole {
        /// The key asked for.
        role: Role,
    },
    /// The change would leave the project without a member able to manage members (an
    /// Administrator, in the default catalog).
    #[error("a project must keep at least one member who manages members")]
    LastAdministrator,
    /// The token is malformed or opens no invitation.
    #[error("invalid invitation token")]
    InvalidToken,
    /// The invitation is no longer pending; `state` says why (used, declined, revoked, expired).
    #[error("the invitation is no longer pending: it was {state}")]
    InvitationClosed {
        /// Its effective state.
        state: InvitationState,
    },
    /// The person who sent the invitation may no longer grant its role; an administrator can
    /// resend it.
    #[error("the inviter may no longer grant this invitation's role")]
    InviterNoLongerAuthorized,
    /// The user is already a member of the project.
    #[error("already a member of the project")]
    AlreadyMember,
    /// Accepting as an existing user, but the address has no password yet: accept as a new user.
    #[error("the address is not registered yet; accept with a new password")]
    NotRegistered,
    /// Accepting as a new user, but the address is registered: sign in and accept as that user.
    #[error("the address is already registered; sign in to accept")]
    AlreadyRegistered,
    /// Registering an address that is already registered.
    #[error("the address is already registered")]
    EmailTaken,
    /// The password breaks the [`PasswordPolicy`](crate::PasswordPolicy).
    #[error("password must be {min} to {max} characters long")]
    PasswordLength {
        /// Shortest accepted, in characters.
        min: usize,
        /// Longest accepted, in bytes.
        max: usize,
    },
    /// Unknown address or wrong password (deliberately not told apart).
    #[error("invalid email or password")]
    InvalidCredentials,
    /// A configured limit was reached.
    #[error("limit reached: {0}")]
    LimitReached(LimitKind),
    /// The outbox entry is not in a state that allows this (e.g. re-queueing a delivered notice).
    #[error("the notice cannot be re-queued in its current state")]
    NoticeNotRetryable,
    /// Password hashing failed.
    #[error("password hashing failed")]
    PasswordHashing(#[source] Box<dyn StdError + Send + Sync>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RosterError {
    /// Whether the same command may succeed if tried again unchanged.
    pub fn is_retryable(&self) -> bool {
        match self {
            RosterError::Store(error) => error.is_retryable(),
            _ => false,
        }
    }
}
