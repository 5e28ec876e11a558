//! The embedded schema and its migrations, applied when a store opens.
//!
//! Each migration is a SQL script with a version number, and may have a Rust step that runs
//! after the script, in the same transaction (version 2 recomputes canonical addresses, which
//! SQL cannot: see [`EmailConflicts`]). The versions applied to a file are
//! recorded in its `roster_schema` table, one row per version. Opening a file applies, in one
//! `IMMEDIATE` transaction, every migration newer than the newest recorded one: all of them or
//! none, and never twice (two processes opening a fresh file at once serialize on the write
//! lock, and the second finds nothing left to do). Migrations only move forward; a file recording
//! a version newer than this crate knows is refused untouched.

use chrono::Utc;
use rusqlite::{Connection, TransactionBehavior};

use crate::error::SqliteError;

#[path = "email_migration.rs"]
mod email_migration;

pub use email_migration::{EmailCollision, EmailConflicts, RefusedEmail};

/// One step of the schema.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
    /// Runs after `sql`, in the same transaction; its error rolls the whole migration back.
    step: Option<fn(&Connection) -> rusqlite::Result<()>>,
}

/// Every migration, oldest first. Append only: a released migration never changes.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/0001_initial.sql"),
        step: None,
    },
    Migration {
        version: 2,
        name: "email_canonical_idna",
        sql: "",
        step: Some(email_migration::recanonicalize),
    },
    Migration {
        version: 3,
        name: "leaner_writes",
        sql: include_str!("../migrations/0003_leaner_writes.sql"),
        step: None,
    },
    Migration {
        version: 4,
        name: "sends_by_sender",
        sql: include_str!("../migrations/0004_sends_by_sender.sql"),
        step: None,
    },
    Migration {
        version: 5,
        name: "role_catalog",
        sql: include_str!("../migrations/0005_role_catalog.sql"),
        step: None,
    },
];

/// The schema version this crate writes and reads.
pub const SCHEMA_VERSION: i64 = 5;

const CREATE_VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS roster_schema (
    version     INTEGER NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    applied_at  INTEGER NOT NULL
)";

/// Refuses, reading only, a file this crate must not touch: another program's database (tables,
/// but no roster schema), or one written by a newer roster-sqlite. Runs before any setting that
/// writes (switching to WAL rewrites the header), so a refused file keeps every byte.
pub(crate) fn inspect(conn: &Connection, path: &std::path::Path) -> Result<(), SqliteError> {
    let failed = |source| SqliteError::Migrate {
        version: SCHEMA_VERSION,
        source,
    };
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
            [],
            |row| row.get(0),
        )
        .map_err(failed)?;
    if tables == 0 {
        return Ok(());
    }
    let ours: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'roster_schema'",
            [],
            |row| row.get(0),
        )
        .map_err(failed)?;
    if ours == 0 {
        return Err(SqliteError::NotRoster {
            path: path.to_owned(),
        });
    }
    let found = recorded_version(conn).map_err(failed)?;
    if found > SCHEMA_VERSION {
        return Err(SqliteError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// Brings the schema of `conn`'s database to [`SCHEMA_VERSION`].
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), SqliteError> {
    let failed = |version| move |source| SqliteError::Migrate { version, source };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(failed(SCHEMA_VERSION))?;
    tx.execute_batch(CREATE_VERSION_TABLE)
        .map_err(failed(SCHEMA_VERSION))?;
    let found = recorded_version(&tx).map_err(failed(SCHEMA_VERSION))?;
    if found > SCHEMA_VERSION {
        return Err(SqliteError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > found) {
        apply(&tx, migration).map_err(failed(migration.version))?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied roster schema migration"
        );
    }
    tx.commit().map_err(failed(SCHEMA_VERSION))
}

/// The newest schema version recorded in the file; 0 for a file without roster tables.
pub(crate) fn recorded_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM roster_schema",
        [],
        |row| row.get(0),
    )
}

fn apply(conn: &Connection, migration: &Migration) -> rusqlite::Result<()> {
    conn.execute_batch(migration.sql)?;
    if let Some(step) = migration.step {
        step(conn)?;
    }
    let applied_at = Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
    conn.execute(
        "INSERT INTO roster_schema (version, name, applied_at) VALUES (?1, ?2, ?3)",
        (migration.version, migration.name, applied_at),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one_and_end_at_the_schema_version() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, index as i64 + 1, "{}", migration.name);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }

    #[test]
    fn migrating_twice_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM roster_schema", [], |row| row.get(0))
            .unwrap();
        assert_eq!(rows, MIGRATIONS.len() as i64);
        assert_eq!(recorded_version(&conn).unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn a_failing_migration_leaves_nothing_behind() {
        let mut conn = Connection::open_in_memory().unwrap();
        // A table the first migration creates, so applying it fails half way.
        conn.execute_batch("CREATE TABLE outbox (id INTEGER)")
            .unwrap();
        let error = migrate(&mut conn).unwrap_err();
        assert!(
            matches!(error, SqliteError::Migrate { version: 1, .. }),
            "{error:?}"
        );
        let tables: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('accounts', 'roster_schema')",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0, "the whole migration was rolled back");
    }
}
