//! Errors: [`SqliteError`] for opening and migrating, and how SQLite failures become
//! [`StoreError`]s on the `Store` methods.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use roster::{Entity, StoreError};
use rusqlite::ffi;

/// Why a [`SqliteStore`](crate::SqliteStore) could not be opened.
///
/// Once open, the store's methods report failures as [`StoreError`] like every other adapter; a
/// database busy past the busy timeout is then a retryable `StoreError::Backend`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqliteError {
    /// The file could not be opened or is not a SQLite database.
    #[error("cannot open the SQLite database {path:?}")]
    Open {
        /// The path given.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A connection setting (`PRAGMA`) could not be applied.
    #[error("cannot apply the SQLite setting {setting}")]
    Configure {
        /// The setting, as `name = value`.
        setting: String,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// Reading the schema version or applying a migration failed; nothing of it was kept.
    #[error("cannot migrate the roster schema to version {version}")]
    Migrate {
        /// The version being reached.
        version: i64,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The file is a SQLite database of something else (it has tables, but no roster schema).
    /// Nothing was changed.
    #[error("{path:?} is a SQLite database, but not roster's: it has tables and no roster schema")]
    NotRoster {
        /// The path given.
        path: PathBuf,
    },
    /// The thread that runs WAL checkpoints off the commit path could not be started.
    #[error("cannot start the WAL checkpoint thread")]
    Checkpointer {
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file was written by a newer roster-sqlite, whose schema this one does not know.
    /// Nothing was changed; upgrade roster-sqlite to open it.
    #[error(
        "the database has roster schema version {found}, newer than version {supported} that \
         this roster-sqlite knows; upgrade roster-sqlite to open it"
    )]
    SchemaTooNew {
        /// The version recorded in the file.
        found: i64,
        /// The newest version this crate knows.
        supported: i64,
    },
}

/// A timestamp outside what the store can keep exactly (nanoseconds since the Unix epoch in a
/// signed 64-bit integer: years 1677 to 2262).
#[derive(Debug, thiserror::Error)]
#[error("{at} cannot be stored: the SQLite store keeps instants between the years 1677 and 2262")]
pub(crate) struct TimestampOutOfRange {
    pub(crate) at: DateTime<Utc>,
}

/// A version too large for SQLite's signed 64-bit integers.
#[derive(Debug, thiserror::Error)]
#[error("version {0} does not fit in SQLite's signed 64-bit integers")]
pub(crate) struct VersionOutOfRange(pub(crate) u64);

/// A failure inside one store call: either SQLite's, or one the call already decided.
#[derive(Debug)]
pub(crate) enum DbError {
    Sql(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for DbError {
    fn from(error: rusqlite::Error) -> Self {
        DbError::Sql(error)
    }
}

impl From<StoreError> for DbError {
    fn from(error: StoreError) -> Self {
        DbError::Store(error)
    }
}

impl From<DbError> for StoreError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Sql(error) => backend(error),
            DbError::Store(error) => error,
        }
    }
}

/// A SQLite failure as a backend error: retryable when the database was busy or locked past the
/// busy timeout (another writer, in this process or another one, held it), not otherwise.
pub(crate) fn backend(error: rusqlite::Error) -> StoreError {
    if is_busy(&error) {
        StoreError::transient(error)
    } else {
        StoreError::backend(error)
    }
}

/// Whether `error` says the database was busy or locked past the busy timeout.
pub(crate) fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ffi::ErrorCode::DatabaseBusy | ffi::ErrorCode::DatabaseLocked)
    )
}

/// Which uniqueness or reference rule a write broke, if it broke one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Violation {
    /// A primary key or unique index.
    Unique,
    /// A foreign key: the referenced row does not exist.
    ForeignKey,
}

/// The rule `error` reports as broken, if it is a constraint violation of a kind the store maps
/// to a [`StoreError`] variant. Other constraints (`CHECK`, `NOT NULL`) stay backend errors:
/// the core never writes such rows, so one means a bug or a damaged file.
pub(crate) fn violation(error: &rusqlite::Error) -> Option<Violation> {
    let failure = error.sqlite_error()?;
    if failure.code != ffi::ErrorCode::ConstraintViolation {
        return None;
    }
    match failure.extended_code {
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
            Some(Violation::Unique)
        }
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => Some(Violation::ForeignKey),
        _ => None,
    }
}

/// Maps a uniqueness violation of a write to `table`'s entity to `AlreadyExists(entity)`, and
/// passes every other error through.
pub(crate) fn unique_is_taken(error: rusqlite::Error, entity: Entity) -> DbError {
    match violation(&error) {
        Some(Violation::Unique) => StoreError::AlreadyExists(entity).into(),
        _ => error.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: std::os::raw::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), Some("test".to_owned()))
    }

    #[test]
    fn busy_and_locked_are_retryable_backend_errors() {
        for code in [
            ffi::SQLITE_BUSY,
            ffi::SQLITE_LOCKED,
            ffi::SQLITE_BUSY_SNAPSHOT,
        ] {
            let error = backend(failure(code));
            assert!(
                matches!(
                    error,
                    StoreError::Backend {
                        retryable: true,
                        ..
                    }
                ),
                "code {code}: {error:?}"
            );
        }
    }

    #[test]
    fn other_failures_are_permanent_backend_errors() {
        for error in [
            failure(ffi::SQLITE_IOERR),
            failure(ffi::SQLITE_CORRUPT),
            failure(ffi::SQLITE_CONSTRAINT_CHECK),
            rusqlite::Error::QueryReturnedNoRows,
        ] {
            let error = backend(error);
            assert!(!error.is_retryable(), "{error:?}");
            assert!(matches!(error, StoreError::Backend { .. }));
        }
    }

    #[test]
    fn the_source_is_kept() {
        let error = backend(failure(ffi::SQLITE_BUSY));
        let source = std::error::Error::source(&error).expect("a source");
        assert!(source.downcast_ref::<rusqlite::Error>().is_some());
    }

    #[test]
    fn constraint_kinds_are_told_apart() {
        let cases = [
            (ffi::SQLITE_CONSTRAINT_UNIQUE, Some(Violation::Unique)),
            (ffi::SQLITE_CONSTRAINT_PRIMARYKEY, Some(Violation::Unique)),
            (
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY,
                Some(Violation::ForeignKey),
            ),
            (ffi::SQLITE_CONSTRAINT_CHECK, None),
            (ffi::SQLITE_CONSTRAINT_NOTNULL, None),
            (ffi::SQLITE_BUSY, None),
        ];
        for (code, expected) in cases {
            assert_eq!(violation(&failure(code)), expected, "code {code}");
        }
    }

    #[test]
    fn only_uniqueness_becomes_already_exists() {
        let taken = unique_is_taken(failure(ffi::SQLITE_CONSTRAINT_UNIQUE), Entity::User);
        assert!(matches!(
            StoreError::from(taken),
            StoreError::AlreadyExists(Entity::User)
        ));
        let busy = unique_is_taken(failure(ffi::SQLITE_BUSY), Entity::User);
        assert!(StoreError::from(busy).is_retryable());
        let check = unique_is_taken(failure(ffi::SQLITE_CONSTRAINT_CHECK), Entity::User);
        assert!(matches!(
            StoreError::from(check),
            StoreError::Backend {
                retryable: false,
                ..
            }
        ));
    }

    #[test]
    fn decided_errors_pass_through() {
        let error = StoreError::from(DbError::from(StoreError::Conflict(Entity::Project)));
        assert!(matches!(error, StoreError::Conflict(Entity::Project)));
    }
}
