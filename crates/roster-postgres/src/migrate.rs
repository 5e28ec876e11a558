//! The embedded schema and its migrations, applied when a store connects.
//!
//! Each migration is a SQL script with a version number; the versions applied are recorded in
//! the schema's `roster_schema` table. Connecting applies, in one transaction holding a
//! transaction-level advisory lock keyed by the schema's name, every migration newer than the
//! newest recorded one: all of them or none. Many instances starting at once queue on that lock,
//! and all but the first find nothing left to do, so every migration runs exactly once. A schema
//! recording a version newer than this crate knows is refused, and the transaction rolled back:
//! nothing is changed.

use deadpool_postgres::Object;

use crate::error::PostgresError;

/// One step of the schema.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, oldest first. Append only: a released migration never changes.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "open_invitations_index",
        sql: include_str!("../migrations/0002_open_invitations_index.sql"),
    },
    Migration {
        version: 3,
        name: "project_versions",
        sql: include_str!("../migrations/0003_project_versions.sql"),
    },
];

/// The schema version this crate writes: the newest migration's.
pub const SCHEMA_VERSION: i64 = 3;

/// The first key of roster's advisory locks (the second is the schema name's hash).
const LOCK_CLASS: i32 = 0x0520_5e7a;

/// Brings `schema` up to date on `client`.
pub(crate) async fn migrate(client: &mut Object, schema: &str) -> Result<(), PostgresError> {
    let setup = |source| PostgresError::Setup { source };
    let tx = client.transaction().await.map_err(setup)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&LOCK_CLASS, &schema],
    )
    .await
    .map_err(setup)?;
    // The name was checked to be a plain identifier, so quoting it is all it needs.
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET LOCAL search_path TO \"{schema}\"; \
         CREATE TABLE IF NOT EXISTS roster_schema (version bigint PRIMARY KEY, \
         name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
    ))
    .await
    .map_err(setup)?;
    let found: Option<i64> = tx
        .query_one("SELECT max(version) FROM roster_schema", &[])
        .await
        .map_err(setup)?
        .get(0);
    let found = found.unwrap_or(0);
    if found > SCHEMA_VERSION {
        // Dropping the transaction rolls back: nothing was changed.
        return Err(PostgresError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > found) {
        let failed = |source| PostgresError::Migrate {
            version: migration.version,
            source,
        };
        tx.batch_execute(migration.sql).await.map_err(failed)?;
        tx.execute(
            "INSERT INTO roster_schema (version, name) VALUES ($1, $2)",
            &[&migration.version, &migration.name],
        )
        .await
        .map_err(failed)?;
        tracing::info!(
            schema,
            version = migration.version,
            "applied roster migration"
        );
    }
    tx.commit().await.map_err(setup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_and_end_at_the_schema_version() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, index as i64 + 1, "{}", migration.name);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }
}
