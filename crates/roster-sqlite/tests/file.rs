//! Behaviour only a file shows: the settings it is opened with, several stores sharing it, and
//! a write lock held elsewhere past the busy timeout.

use roster::StoreExt;
use std::path::Path;
use std::time::Duration;

use roster::store::UserWrite;
use roster::{Change, StoreError};
use roster_sqlite::rusqlite::Connection;
use roster_sqlite::{JournalMode, SqliteOptions, SqliteStore, Synchronous};
use roster_testkit::fixtures::{Fixtures, World, start};

/// A change inserting one new user.
fn new_user(fx: &Fixtures) -> (roster::User, Change) {
    let user = fx.registered_user(start());
    let change = Change {
        users: vec![UserWrite::Insert {
            user: user.clone(),
            password: None,
        }],
        ..Change::default()
    };
    (user, change)
}

/// The journal mode recorded in the file at `path`.
fn journal_mode(path: &Path) -> String {
    Connection::open(path)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap()
}

#[test]
fn the_default_is_wal_with_full_sync() {
    let options = SqliteOptions::default();
    assert_eq!(options.journal_mode, JournalMode::Wal);
    assert_eq!(options.synchronous, Synchronous::Full);
    assert_eq!(options.busy_timeout, Duration::from_secs(5));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.db");
    let _store = SqliteStore::open(&path).unwrap();
    assert_eq!(journal_mode(&path), "wal");
}

#[tokio::test]
async fn a_rollback_journal_without_readers_works_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.db");
    let options = SqliteOptions::default()
        .journal_mode(JournalMode::Delete)
        .synchronous(Synchronous::Extra)
        .readers(0);
    let store = SqliteStore::open_with(&path, options).unwrap();
    assert_eq!(journal_mode(&path), "delete");
    let fx = Fixtures::default();
    let world = World::seed(&store, &fx, start()).await.unwrap();
    let read = store.project(world.project.id).await.unwrap();
    assert_eq!(read, Some(world.project));
}

#[tokio::test]
async fn two_stores_on_one_file_see_each_other_and_keep_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.db");
    let (first, second) = (
        SqliteStore::open(&path).unwrap(),
        SqliteStore::open(&path).unwrap(),
    );
    let fx = Fixtures::default();
    let world = World::seed(&first, &fx, start()).await.unwrap();
    assert_eq!(
        second
            .invitation_by_token(&world.token.hash())
            .await
            .unwrap(),
        Some(world.invitation.clone())
    );
    let refused = second.apply(world.change(&fx)).await;
    assert!(
        matches!(refused, Err(StoreError::AlreadyExists(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_write_lock_held_past_the_busy_timeout_is_a_retryable_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.db");
    let options = SqliteOptions::default().busy_timeout(Duration::from_millis(100));
    let store = SqliteStore::open_with(&path, options).unwrap();
    let fx = Fixtures::default();
    let world = World::seed(&store, &fx, start()).await.unwrap();

    // Another connection (another process, as far as SQLite can tell) holds the write lock
    // with an uncommitted change.
    let other = Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    other
        .execute("UPDATE projects SET name = 'uncommitted'", [])
        .unwrap();

    let (user, change) = new_user(&fx);
    match store.apply(change.clone()).await {
        Err(error @ StoreError::Backend { .. }) => {
            assert!(error.is_retryable(), "busy is retryable: {error:?}");
        }
        other => panic!("expected a retryable backend error, got {other:?}"),
    }
    let read = store.project(world.project.id).await.unwrap();
    assert_eq!(
        read,
        Some(world.project.clone()),
        "readers are not blocked and see committed data only"
    );

    other.execute_batch("ROLLBACK").unwrap();
    store.apply(change).await.expect("the retry goes through");
    assert_eq!(store.user(user.id).await.unwrap(), Some(user));
}

#[tokio::test]
async fn writers_wait_within_the_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.db");
    let store = SqliteStore::open(&path).unwrap();
    let other = Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        other.execute_batch("COMMIT").unwrap();
    });
    let fx = Fixtures::default();
    let (user, change) = new_user(&fx);
    store.apply(change).await.expect("waits for the lock");
    release.join().unwrap();
    assert_eq!(store.user(user.id).await.unwrap(), Some(user));
}

#[tokio::test]
async fn the_memory_path_opens_an_in_memory_store() {
    let store = SqliteStore::open(":memory:").unwrap();
    assert_eq!(store.path(), None);
    let fx = Fixtures::default();
    let world = World::seed(&store, &fx, start()).await.unwrap();
    let clone = store.clone();
    assert_eq!(
        clone.project(world.project.id).await.unwrap(),
        Some(world.project),
        "clones share the database"
    );
}

/// Checkpoints run on a thread of the store's own rather than in commits, and the WAL is still
/// copied into the database and started over: after writing about twenty times SQLite's
/// automatic threshold of 1,000 pages, the WAL file stays within the 4,000 pages at which a
/// commit finishes a checkpoint itself, and the database file holds the data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_bounded_with_checkpoints_off_the_commit_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.db");
    let options = SqliteOptions::default().synchronous(Synchronous::Normal);
    let store = SqliteStore::open_with(&path, options).unwrap();
    let fx = Fixtures::default();
    World::seed(&store, &fx, start()).await.unwrap();
    // Each change adds a user with a long address and a password: about 80 MiB of WAL frames.
    for _ in 0..6_000 {
        let mut user = fx.registered_user(start());
        let local = format!("{}{}", "x".repeat(32), user.id.to_string().replace('-', ""));
        user.email = roster::Email::parse(&format!("{local}@example.com")).unwrap();
        let change = Change {
            users: vec![UserWrite::Insert {
                user,
                password: Some(fx.password()),
            }],
            ..Change::default()
        };
        store.apply(change).await.unwrap();
    }
    let wal = dir.path().join("roster.db-wal");
    let mut wal_size = u64::MAX;
    for _ in 0..200 {
        wal_size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        if wal_size < 20 * 1024 * 1024 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let db_size = std::fs::metadata(&path).unwrap().len();
    assert!(
        wal_size < 20 * 1024 * 1024,
        "the WAL was started over: {wal_size} bytes"
    );
    assert!(
        db_size > 1024 * 1024,
        "the database file holds the data: {db_size} bytes"
    );
}
