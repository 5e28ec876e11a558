//! Opening files: a new or empty file gets the schema, an existing one keeps its data, and a file
//! from a newer schema is refused untouched.

use roster::StoreExt;
use std::path::Path;

use roster_sqlite::rusqlite::Connection;
use roster_sqlite::{SCHEMA_VERSION, SqliteError, SqliteStore};
use roster_testkit::fixtures::{Fixtures, World, start};

/// The schema versions recorded in the file at `path`, oldest first.
fn recorded_versions(path: &Path) -> Vec<i64> {
    let conn = Connection::open(path).expect("opening the file directly");
    let mut stmt = conn
        .prepare("SELECT version FROM roster_schema ORDER BY version")
        .expect("the version table exists");
    stmt.query_map([], |row| row.get(0))
        .expect("reading versions")
        .collect::<Result<_, _>>()
        .expect("versions are integers")
}

/// The roster tables in the file at `path`, by name.
fn tables(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).expect("opening the file directly");
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .expect("listing tables");
    stmt.query_map([], |row| row.get(0))
        .expect("reading names")
        .collect::<Result<_, _>>()
        .expect("names are text")
}

#[tokio::test]
async fn a_missing_file_is_created_with_the_current_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let store = SqliteStore::open(&path).expect("creating the file");
    assert_eq!(store.path(), Some(path.as_path()));
    assert!(path.exists());
    assert_eq!(recorded_versions(&path), vec![SCHEMA_VERSION]);
    for table in [
        "accounts",
        "invitations",
        "memberships",
        "outbox",
        "projects",
        "users",
    ] {
        assert!(tables(&path).iter().any(|t| t == table), "table {table}");
    }
    let fx = Fixtures::default();
    World::seed(&store, &fx, start())
        .await
        .expect("the new file takes a world");
}

#[tokio::test]
async fn an_empty_file_gets_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    let store = SqliteStore::open(&path).expect("opening an empty file");
    assert_eq!(recorded_versions(&path), vec![SCHEMA_VERSION]);
    let fx = Fixtures::default();
    World::seed(&store, &fx, start())
        .await
        .expect("the migrated file takes a world");
}

#[tokio::test]
async fn reopening_keeps_the_data_and_migrates_nothing_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.db");
    let fx = Fixtures::default();
    let world = {
        let store = SqliteStore::open(&path).unwrap();
        World::seed(&store, &fx, start()).await.unwrap()
    };

    let reopened = SqliteStore::open(&path).expect("reopening");
    assert_eq!(recorded_versions(&path), vec![SCHEMA_VERSION]);
    assert_eq!(
        reopened.project(world.project.id).await.unwrap(),
        Some(world.project.clone())
    );
    assert_eq!(
        reopened.user_by_email(&world.owner.email).await.unwrap(),
        Some(world.owner.clone())
    );
    assert_eq!(
        reopened
            .invitation_by_token(&world.token.hash())
            .await
            .unwrap(),
        Some(world.invitation.clone())
    );
    assert_eq!(
        reopened.outbox_entry(world.notice.id).await.unwrap(),
        Some(world.notice.clone()),
        "a queued notice survives a restart"
    );
    let again = SqliteStore::open(&path).expect("a third open");
    assert_eq!(
        again.account(world.account.id).await.unwrap(),
        Some(world.account)
    );
}

#[tokio::test]
async fn a_newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    let fx = Fixtures::default();
    {
        let store = SqliteStore::open(&path).unwrap();
        World::seed(&store, &fx, start()).await.unwrap();
    }
    let newer = SCHEMA_VERSION + 1;
    Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO roster_schema (version, name, applied_at) VALUES (?1, 'future', 0)",
            [newer],
        )
        .unwrap();

    match SqliteStore::open(&path) {
        Err(SqliteError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (newer, SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    let message = SqliteStore::open(&path).unwrap_err().to_string();
    assert!(message.contains("upgrade"), "{message}");
    assert_eq!(recorded_versions(&path), vec![SCHEMA_VERSION, newer]);
    let conn = Connection::open(&path).unwrap();
    let projects: i64 = conn
        .query_row("SELECT COUNT(*) FROM projects", [], |row| row.get(0))
        .unwrap();
    assert_eq!(projects, 1, "the data is still there");
}

#[test]
fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "not a database, just some text that is long enough".repeat(50),
    )
    .unwrap();
    match SqliteStore::open(&path) {
        Err(SqliteError::Open { path: reported, .. }) => assert_eq!(reported, path),
        other => panic!("expected Open, got {other:?}"),
    }
}
