//! Errors: [`PostgresError`] for connecting and migrating, and how PostgreSQL failures become
//! [`StoreError`]s on the `Store` methods.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use roster::{Entity, StoreError};
use tokio_postgres::error::SqlState;

/// Why a [`PostgresStore`](crate::PostgresStore) could not be set up.
///
/// Once connected, the store's methods report failures as [`StoreError`] like every other
/// adapter. No variant holds the connection URL or its password; the sources are the driver's
/// errors, which do not show them either.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresError {
    /// The connection URL (or key-value string) does not parse.
    #[error("invalid PostgreSQL connection string")]
    Url {
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The schema name is not a plain lower-case identifier.
    #[error(
        "invalid schema name {0:?}: use 1 to 63 of a-z, 0-9 and '_', starting with a letter or '_'"
    )]
    SchemaName(String),
    /// The connection pool could not be built.
    #[error("cannot build the PostgreSQL connection pool")]
    Pool {
        /// The pool's error.
        #[source]
        source: deadpool_postgres::BuildError,
    },
    /// TLS could not be set up.
    #[cfg(feature = "tls")]
    #[error("cannot set up TLS for PostgreSQL")]
    Tls {
        /// rustls' error.
        #[source]
        source: rustls::Error,
    },
    /// The root certificates given to
    /// [`PostgresOptions::tls_root_certificates`](crate::PostgresOptions::tls_root_certificates)
    /// do not parse, or there are none.
    #[cfg(feature = "tls")]
    #[error("invalid TLS root certificates")]
    Certificates {
        /// What is wrong with them: the PEM parser's error, or that there were none.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// No connection to the server could be made (or the readiness check failed).
    #[error("cannot connect to PostgreSQL")]
    Connect {
        /// The pool's error, holding the driver's.
        #[source]
        source: deadpool_postgres::PoolError,
    },
    /// A statement of setup failed (creating the schema, reading its version).
    #[error("PostgreSQL refused a setup statement")]
    Setup {
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// Applying a migration failed; nothing of it was kept.
    #[error("cannot migrate the roster schema to version {version}")]
    Migrate {
        /// The version being reached.
        version: i64,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The schema was written by a newer roster-postgres. Nothing was changed.
    #[error(
        "the database has roster schema version {found}, newer than version {supported} that \
         this roster-postgres knows; upgrade roster-postgres to use it"
    )]
    SchemaTooNew {
        /// The version recorded in the database.
        found: i64,
        /// The newest version this crate knows.
        supported: i64,
    },
}

/// The entity a table holds, for the constraint violations reported on it.
fn entity_of(table: &str) -> Option<Entity> {
    Some(match table {
        "accounts" | "account_administrators" => Entity::Account,
        "projects" => Entity::Project,
        "users" => Entity::User,
        "memberships" => Entity::Membership,
        "invitations" => Entity::Invitation,
        "audit_events" => Entity::AuditEvent,
        "outbox" => Entity::OutboxEntry,
        _ => return None,
    })
}

/// The parent a foreign key names, reported as `NotFound` when missing.
fn parent_of(constraint: &str) -> Option<Entity> {
    Some(match constraint {
        "memberships_project_id_fkey" | "invitations_project_id_fkey" => Entity::Project,
        "memberships_user_id_fkey" => Entity::User,
        "account_administrators_account_id_fkey" => Entity::Account,
        _ => return None,
    })
}

/// Whether an error may go away by trying again: serialization failures and deadlocks, a lock
/// or statement timeout, the server shutting down or refusing connections for now, and every
/// connection failure.
pub(crate) fn is_transient(error: &tokio_postgres::Error) -> bool {
    let Some(db) = error.as_db_error() else {
        // No answer from the server: I/O, a closed connection, a timeout.
        return error.code().is_none_or(is_transient_state);
    };
    is_transient_state(db.code())
}

fn is_transient_state(code: &SqlState) -> bool {
    let code = code.code();
    matches!(
        code,
        "40001" | "40P01" | "55P03" | "57014" | "57P01" | "57P02" | "57P03" | "53300" | "25P03"
    ) || code.starts_with("08")
}

/// A driver error as the contract's error: unique violations as `AlreadyExists` of the entity
/// whose table refused, missing parents as `NotFound`, passing failures as retryable backend
/// errors, everything else as permanent ones.
pub(crate) fn store_error(error: tokio_postgres::Error) -> StoreError {
    if let Some(db) = error.as_db_error() {
        let code = db.code();
        if *code == SqlState::UNIQUE_VIOLATION
            && let Some(entity) = db.table().and_then(entity_of)
        {
            return StoreError::AlreadyExists(entity);
        }
        if *code == SqlState::FOREIGN_KEY_VIOLATION
            && let Some(entity) = db.constraint().and_then(parent_of)
        {
            return StoreError::NotFound(entity);
        }
    }
    if is_transient(&error) {
        StoreError::transient(error)
    } else {
        StoreError::backend(error)
    }
}

/// A pool error as the contract's error: no connection now is worth retrying later.
pub(crate) fn pool_error(error: deadpool_postgres::PoolError) -> StoreError {
    match error {
        deadpool_postgres::PoolError::Backend(error) => store_error(error),
        other => StoreError::transient(other),
    }
}

/// Whether `error` says the connection itself is gone: closed, cut by the server (an
/// administrator or a shutdown, `57P01`–`57P03`), or failed (`08…`). Such a connection is
/// dropped, and a step that had not sent its commit may go again on another.
pub(crate) fn connection_lost(error: &StoreError) -> bool {
    let StoreError::Backend { source, .. } = error else {
        return false;
    };
    let Some(error) = source.downcast_ref::<tokio_postgres::Error>() else {
        return false;
    };
    if error.is_closed() {
        return true;
    }
    match error.code() {
        Some(code) => {
            let code = code.code();
            matches!(code, "57P01" | "57P02" | "57P03") || code.starts_with("08")
        }
        // No answer at all: I/O.
        None => error.as_db_error().is_none(),
    }
}

/// Whether `error` is a lock that a step joining a running transaction would have had to wait
/// for (`55P03`, from `NOWAIT`).
pub(crate) fn lock_unavailable(error: &StoreError) -> bool {
    let StoreError::Backend { source, .. } = error else {
        return false;
    };
    source
        .downcast_ref::<tokio_postgres::Error>()
        .and_then(tokio_postgres::Error::code)
        .is_some_and(|code| *code == SqlState::LOCK_NOT_AVAILABLE)
}

/// `error` once for each of `count` steps that shared the transaction it ended. A step alone
/// gets the error itself; steps together each get one of its kind (the record refused, or a
/// backend failure as retryable as it, with it as the source).
pub(crate) fn shared(error: StoreError, count: usize) -> Vec<StoreError> {
    if count <= 1 {
        return if count == 1 { vec![error] } else { Vec::new() };
    }
    let retryable = error.is_retryable();
    let source = Arc::new(error);
    (0..count)
        .map(|_| match &*source {
            StoreError::NotFound(entity) => StoreError::NotFound(*entity),
            StoreError::AlreadyExists(entity) => StoreError::AlreadyExists(*entity),
            StoreError::Conflict(entity) => StoreError::Conflict(*entity),
            _ => StoreError::Backend {
                source: Box::new(SharedFailure(source.clone())),
                retryable,
            },
        })
        .collect()
}

/// The failure of a transaction that several steps shared, as each of them reports it.
#[derive(Debug)]
struct SharedFailure(Arc<StoreError>);

impl fmt::Display for SharedFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the transaction this step shared failed: {}", self.0)
    }
}

impl StdError for SharedFailure {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.0)
    }
}
