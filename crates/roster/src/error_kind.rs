//! What kind of failure a [`RosterError`] is, and its stable code: what a web service maps to a
//! status and shows to clients, without matching every variant.

use std::fmt;

use serde::Serialize;

use crate::error::{Denial, RosterError};
use crate::store::StoreError;

/// The few kinds of [`RosterError`], each a different answer for a client (and an HTTP status:
/// 404, 403, 422, 409, 410, 401, 429, 503, 500).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// Something the command names does not exist (a project, a member, a notice).
    NotFound,
    /// The actor may not do this.
    Forbidden,
    /// The input is refused: an address, a password, a name, a role, a token's shape.
    Invalid,
    /// The request clashes with the current state (already a member, already registered, the
    /// last manager, a notice not in a re-queueable state).
    Conflict,
    /// The invitation is closed for good (used, declined, revoked, expired) or its inviter may no
    /// longer grant it.
    Gone,
    /// Sign-in failed.
    Unauthenticated,
    /// A configured limit was reached.
    Limit,
    /// The store is unavailable for now; the same command may succeed later.
    Unavailable,
    /// A failure on roster's side (storage refusing, hashing failing): not the client's doing.
    Internal,
}

impl ErrorKind {
    /// The kind's stable name (`not_found`, `forbidden`...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Gone => "gone",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Limit => "limit",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl RosterError {
    /// Which kind of failure this is.
    ///
    /// ```
    /// use roster::{ErrorKind, RosterError};
    ///
    /// assert_eq!(RosterError::InvalidToken.kind(), ErrorKind::Invalid);
    /// assert_eq!(RosterError::InvalidToken.code(), "invalid_token");
    /// ```
    pub fn kind(&self) -> ErrorKind {
        use RosterError as E;
        match self {
            E::NotFound(_) => ErrorKind::NotFound,
            E::Forbidden(_) => ErrorKind::Forbidden,
            E::InvalidEmail(_)
            | E::InvalidName { .. }
            | E::InvalidDomain { .. }
            | E::RoleNotAllowed { .. }
            | E::UnknownRole { .. }
            | E::DomainNotAllowed { .. }
            | E::InvalidToken
            | E::PasswordLength { .. } => ErrorKind::Invalid,
            E::LastAdministrator
            | E::AlreadyMember
            | E::NotRegistered
            | E::AlreadyRegistered
            | E::EmailTaken
            | E::NoticeNotRetryable => ErrorKind::Conflict,
            E::InvitationClosed { .. } | E::InviterNoLongerAuthorized => ErrorKind::Gone,
            E::InvalidCredentials => ErrorKind::Unauthenticated,
            E::LimitReached(_) => ErrorKind::Limit,
            E::Store(error) if error.is_retryable() => ErrorKind::Unavailable,
            E::Store(StoreError::NotFound(_)) => ErrorKind::NotFound,
            E::Store(StoreError::AlreadyExists(_) | StoreError::Conflict(_)) => ErrorKind::Conflict,
            E::Store(_) | E::PasswordHashing(_) => ErrorKind::Internal,
        }
    }

    /// A stable snake_case code naming the error (`invalid_email`, `forbidden.not_a_member`,
    /// `invitation_closed.expired`...): for clients to branch on, unchanged across releases.
    pub fn code(&self) -> &'static str {
        use RosterError as E;
        match self {
            E::NotFound(_) => "not_found",
            E::Forbidden(denial) => match denial {
                Denial::NotAnAdministrator => "forbidden.not_a_manager",
                Denial::NotAnAccountAdministrator => "forbidden.not_an_account_administrator",
                Denial::NotAMember => "forbidden.not_a_member",
                Denial::TargetOutranksActor => "forbidden.target_outranks_actor",
                Denial::NotTheInvitee => "forbidden.not_the_invitee",
            },
            E::InvalidEmail(_) => "invalid_email",
            E::InvalidName { .. } => "invalid_name",
            E::InvalidDomain { .. } => "invalid_domain",
            E::RoleNotAllowed { .. } => "role_not_allowed",
            E::UnknownRole { .. } => "unknown_role",
            E::DomainNotAllowed { .. } => "domain_not_allowed",
            E::LastAdministrator => "last_manager",
            E::InvalidToken => "invalid_token",
            E::InvitationClosed { state } => match state {
                crate::InvitationState::Pending => "invitation_closed",
                crate::InvitationState::Accepted => "invitation_closed.accepted",
                crate::InvitationState::Declined => "invitation_closed.declined",
                crate::InvitationState::Revoked => "invitation_closed.revoked",
                crate::InvitationState::Expired => "invitation_closed.expired",
            },
            E::InviterNoLongerAuthorized => "inviter_no_longer_authorized",
            E::AlreadyMember => "already_member",
            E::NotRegistered => "not_registered",
            E::AlreadyRegistered => "already_registered",
            E::EmailTaken => "email_taken",
            E::PasswordLength { .. } => "password_length",
            E::InvalidCredentials => "invalid_credentials",
            E::LimitReached(_) => "limit_reached",
            E::NoticeNotRetryable => "notice_not_retryable",
            E::PasswordHashing(_) => "password_hashing",
            E::Store(error) if error.is_retryable() => "store_unavailable",
            E::Store(_) => "store",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::EmailError;
    use crate::store::Entity;

    #[test]
    fn every_kind_of_error_has_its_kind_and_a_code() {
        let cases = [
            (
                RosterError::NotFound(Entity::Project),
                ErrorKind::NotFound,
                "not_found",
            ),
            (
                RosterError::Forbidden(Denial::NotAMember),
                ErrorKind::Forbidden,
                "forbidden.not_a_member",
            ),
            (
                RosterError::InvalidEmail(EmailError::MissingAt),
                ErrorKind::Invalid,
                "invalid_email",
            ),
            (
                RosterError::LastAdministrator,
                ErrorKind::Conflict,
                "last_manager",
            ),
            (
                RosterError::InvitationClosed {
                    state: crate::InvitationState::Expired,
                },
                ErrorKind::Gone,
                "invitation_closed.expired",
            ),
            (
                RosterError::InvalidCredentials,
                ErrorKind::Unauthenticated,
                "invalid_credentials",
            ),
            (
                RosterError::LimitReached(crate::LimitKind::RowsPerInvite { limit: 1 }),
                ErrorKind::Limit,
                "limit_reached",
            ),
            (
                RosterError::Store(StoreError::Backend {
                    source: "busy".into(),
                    retryable: true,
                }),
                ErrorKind::Unavailable,
                "store_unavailable",
            ),
            (
                RosterError::Store(StoreError::backend("disk full")),
                ErrorKind::Internal,
                "store",
            ),
        ];
        for (error, kind, code) in cases {
            assert_eq!(error.kind(), kind, "{error:?}");
            assert_eq!(error.code(), code, "{error:?}");
        }
    }
}
