//! Opening files: a new or empty file gets the schema, an existing one keeps its data, and a file
//! from a newer schema is refused untouched. Version 2 recomputes canonical addresses and refuses,
//! changing nothing, when stored rows would collapse into one identity; version 4 gives old
//! notices a sender; version 5 stores any role key of the catalog.

use roster::{Store, StoreExt};
use std::path::Path;

use roster::{Email, InvitationId, ProjectId, UserId};
use roster_sqlite::rusqlite::Connection;
use roster_sqlite::{EmailCollision, EmailConflicts, SCHEMA_VERSION, SqliteError, SqliteStore};
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

/// Every version up to the current one, as a new file records them.
fn all_versions() -> Vec<i64> {
    (1..=SCHEMA_VERSION).collect()
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
    assert_eq!(recorded_versions(&path), all_versions());
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
    assert_eq!(recorded_versions(&path), all_versions());
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
    assert_eq!(recorded_versions(&path), all_versions());
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
    let mut versions = all_versions();
    versions.push(newer);
    assert_eq!(recorded_versions(&path), versions);
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

// ---- Version 2: canonical addresses under the IDNA policy. ----

/// A file as roster-sqlite wrote it at schema version 1, with rows inserted as that version
/// stored them: the canonical address was NFC and lowercase, the domain as typed.
struct VersionOne {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    conn: Connection,
}

const PROJECT: [u8; 16] = [0x70; 16];
const OTHER_PROJECT: [u8; 16] = [0x71; 16];

impl VersionOne {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("../migrations/0001_initial.sql"))
            .unwrap();
        conn.execute_batch(
            "CREATE TABLE roster_schema (
                version     INTEGER NOT NULL PRIMARY KEY,
                name        TEXT    NOT NULL,
                applied_at  INTEGER NOT NULL
            );
            INSERT INTO roster_schema VALUES (1, 'initial', 0);",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO accounts (id, name, created_at) VALUES (?1, 'A', 0)",
            [[0x0a_u8; 16].as_slice()],
        )
        .unwrap();
        for project in [PROJECT, OTHER_PROJECT] {
            conn.execute(
                "INSERT INTO projects (id, account_id, name, created_at) VALUES (?1, ?2, 'P', 0)",
                (project.as_slice(), [0x0a_u8; 16].as_slice()),
            )
            .unwrap();
        }
        VersionOne {
            _dir: dir,
            path,
            conn,
        }
    }

    /// How version 1 canonicalized: NFC (typed input here is NFC already) and lowercase.
    fn old_canonical(typed: &str) -> String {
        typed.to_lowercase()
    }

    fn user(&self, id: u8, typed: &str) -> UserId {
        let bytes = [id; 16];
        self.conn
            .execute(
                "INSERT INTO users (id, email, email_canonical, created_at) VALUES (?1, ?2, ?3, 0)",
                (bytes.as_slice(), typed, VersionOne::old_canonical(typed)),
            )
            .unwrap();
        UserId::from(uuid::Uuid::from_bytes(bytes))
    }

    fn invitation(&self, id: u8, project: [u8; 16], typed: &str, state: &str) -> InvitationId {
        let bytes = [id; 16];
        self.conn
            .execute(
                "INSERT INTO invitations (id, project_id, email, email_canonical, role, invited_by, \
                 state, created_at, sent_at, expires_at, token_hash, sends) \
                 VALUES (?1, ?2, ?3, ?4, 'user', ?5, ?6, 0, 0, 1, ?7, 1)",
                (
                    bytes.as_slice(),
                    project.as_slice(),
                    typed,
                    VersionOne::old_canonical(typed),
                    [0x0b_u8; 16].as_slice(),
                    state,
                    [id; 32].as_slice(),
                ),
            )
            .unwrap();
        InvitationId::from(uuid::Uuid::from_bytes(bytes))
    }

    fn canonicals(&self, table: &str) -> Vec<String> {
        let conn = Connection::open(&self.path).unwrap();
        let mut stmt = conn
            .prepare(&format!("SELECT email_canonical FROM {table} ORDER BY id"))
            .unwrap();
        stmt.query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Opens the file with the store, expecting the migration to refuse.
    fn refused(&self) -> EmailConflicts {
        let error = SqliteStore::open(&self.path).expect_err("the migration refuses");
        assert!(
            matches!(error, SqliteError::Migrate { version: 2, .. }),
            "{error:?}"
        );
        let conflicts = EmailConflicts::find(&error)
            .unwrap_or_else(|| panic!("typed conflicts in {error:?}"))
            .clone();
        // Nothing was changed: still version 1, the old canonical forms in place.
        assert_eq!(recorded_versions(&self.path), vec![1]);
        conflicts
    }
}

#[tokio::test]
async fn version_2_recomputes_canonical_addresses() {
    let file = VersionOne::new();
    let joerg = file.user(1, "Jörg@xn--bcher-kva.de");
    let ann = file.user(2, "ann@ＥＸＡＭＰＬＥ.com");
    let plain = file.user(3, "bob@example.com");
    file.invitation(10, PROJECT, "eve@xn--mller-kva.de", "pending");
    file.invitation(11, PROJECT, "eve@müller.de", "revoked");

    let store = SqliteStore::open(&file.path).expect("the migration runs");
    assert_eq!(recorded_versions(&file.path), all_versions());
    assert_eq!(
        file.canonicals("users"),
        ["jörg@bücher.de", "ann@example.com", "bob@example.com"]
    );
    assert_eq!(
        file.canonicals("invitations"),
        ["eve@müller.de", "eve@müller.de"],
        "a closed invitation may share its address with a pending one"
    );

    // Every spelling now finds the one user.
    for spelling in [
        "jörg@bücher.de",
        "JÖRG@xn--bcher-kva.de",
        "jo\u{308}rg@BU\u{308}CHER.de",
    ] {
        let found = store
            .user_by_email(&Email::parse(spelling).unwrap())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{spelling:?} finds the user"));
        assert_eq!(found.id, joerg);
        assert_eq!(
            found.email.as_str(),
            "Jörg@xn--bcher-kva.de",
            "the typed form stays"
        );
    }
    let found = store
        .user_by_email(&Email::parse("ann@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, ann);
    let found = store
        .user_by_email(&Email::parse("bob@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, plain);
    let pending = store
        .pending_invitation(
            ProjectId::from(uuid::Uuid::from_bytes(PROJECT)),
            &Email::parse("eve@müller.de").unwrap(),
        )
        .await
        .unwrap()
        .expect("the pending invitation is found by its new canonical address");
    assert_eq!(pending.email.as_str(), "eve@xn--mller-kva.de");
    drop(store);
    SqliteStore::open(&file.path).expect("opening again migrates nothing");
    assert_eq!(recorded_versions(&file.path), all_versions());
}

#[test]
fn version_2_refuses_users_that_become_one_identity() {
    let file = VersionOne::new();
    let unicode = file.user(1, "jörg@bücher.de");
    let a_label = file.user(2, "jörg@xn--bcher-kva.de");
    let fullwidth = file.user(3, "ａ@example.com");
    let ascii = file.user(4, "a@example.com");
    file.user(5, "someone@else.com");

    let conflicts = file.refused();
    assert!(conflicts.refused.is_empty());
    assert_eq!(
        conflicts.collisions,
        vec![
            EmailCollision::Users {
                canonical: "a@example.com".into(),
                users: vec![
                    (fullwidth, "ａ@example.com".into()),
                    (ascii, "a@example.com".into())
                ],
            },
            EmailCollision::Users {
                canonical: "jörg@bücher.de".into(),
                users: vec![
                    (unicode, "jörg@bücher.de".into()),
                    (a_label, "jörg@xn--bcher-kva.de".into())
                ],
            },
        ]
    );
    assert_eq!(
        file.canonicals("users"),
        [
            "jörg@bücher.de",
            "jörg@xn--bcher-kva.de",
            "ａ@example.com",
            "a@example.com",
            "someone@else.com"
        ],
        "nothing was rewritten"
    );
    let message = conflicts.to_string();
    assert!(message.contains(&unicode.to_string()), "{message}");
    assert!(message.contains(&a_label.to_string()), "{message}");
    assert!(message.contains("nothing was changed"), "{message}");

    // Resolved as the README says (here: the duplicate accounts get distinct addresses), the
    // file opens.
    let conn = Connection::open(&file.path).unwrap();
    conn.execute(
        "UPDATE users SET email = 'joerg.old@bücher.de' WHERE id = ?1",
        [[2u8; 16].as_slice()],
    )
    .unwrap();
    conn.execute("DELETE FROM users WHERE id = ?1", [[3u8; 16].as_slice()])
        .unwrap();
    SqliteStore::open(&file.path).expect("opens once the conflicts are resolved");
    assert_eq!(recorded_versions(&file.path), all_versions());
}

#[test]
fn version_2_refuses_pending_invitations_of_one_project_that_become_one() {
    let file = VersionOne::new();
    let first = file.invitation(10, PROJECT, "x@ﬁle.com", "pending");
    let second = file.invitation(11, PROJECT, "x@file.com", "pending");
    // Other projects and closed invitations may share the address.
    file.invitation(12, OTHER_PROJECT, "x@file.com", "pending");
    file.invitation(13, PROJECT, "X@FILE.COM", "accepted");

    let conflicts = file.refused();
    assert_eq!(
        conflicts.collisions,
        vec![EmailCollision::PendingInvitations {
            project: ProjectId::from(uuid::Uuid::from_bytes(PROJECT)),
            canonical: "x@file.com".into(),
            invitations: vec![(first, "x@ﬁle.com".into()), (second, "x@file.com".into())],
        }]
    );
}

#[test]
fn version_2_refuses_stored_addresses_the_policy_now_refuses() {
    let file = VersionOne::new();
    file.user(1, "a\u{200b}@example.com");
    file.invitation(10, PROJECT, "\u{202e}admin@example.com", "declined");
    file.user(2, "fine@example.com");

    let conflicts = file.refused();
    assert!(conflicts.collisions.is_empty());
    let refused: Vec<(&str, &str)> = conflicts
        .refused
        .iter()
        .map(|r| (r.column, r.address.as_str()))
        .collect();
    assert_eq!(
        refused,
        [
            ("users.email", "a\u{200b}@example.com"),
            ("invitations.email", "\u{202e}admin@example.com"),
        ]
    );
    assert!(conflicts.refused.iter().all(|r| r.reason.is_some()));
}

/// Every file in `dir`, with its bytes: what a refused open must leave exactly as it was.
fn files_in(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    files.sort();
    files
}

/// A file in rollback-journal mode (as another program might leave it) with a newer roster schema
/// is refused without a byte changing: the version is checked before any setting that writes
/// (switching to WAL rewrites the header).
#[test]
fn a_newer_schema_is_refused_without_a_byte_changing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = DELETE;
             CREATE TABLE roster_schema (
                 version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL,
                 applied_at INTEGER NOT NULL);",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO roster_schema VALUES (?1, 'future', 0)",
            [SCHEMA_VERSION + 1],
        )
        .unwrap();
    }
    let before = files_in(dir.path());
    assert!(matches!(
        SqliteStore::open(&path),
        Err(SqliteError::SchemaTooNew { .. })
    ));
    assert_eq!(
        files_in(dir.path()),
        before,
        "the refused file is untouched"
    );
}

/// A SQLite file that is not roster's (tables, but no roster schema) is refused with a typed
/// error, without a byte changing.
#[test]
fn a_foreign_database_is_refused_without_a_byte_changing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
             INSERT INTO notes (body) VALUES ('keep me');",
        )
        .unwrap();
    }
    let before = files_in(dir.path());
    match SqliteStore::open(&path) {
        Err(SqliteError::NotRoster { path: refused }) => assert_eq!(refused, path),
        other => panic!("expected NotRoster, got {other:?}"),
    }
    assert_eq!(
        files_in(dir.path()),
        before,
        "the refused file is untouched"
    );
}

/// Version 4 records who sent each notice: entries written before it take their invitation's
/// last sender (what the per-inviter count used then), and the count of sends reads them.
#[tokio::test]
async fn version_4_gives_old_notices_their_invitations_sender() {
    let file = VersionOne::new();
    let invitation = file.invitation(10, PROJECT, "eve@example.com", "pending");
    let at = chrono::Utc::now();
    let nanos = at.timestamp_nanos_opt().unwrap();
    for (id, kind) in [(0x31_u8, "invitation"), (0x32, "revocation")] {
        file.conn
            .execute(
                "INSERT INTO outbox (id, kind, to_email, invitation_id, project_id, project_name, \
                 account_name, role, inviter, expires_at, send, status, attempts, \
                 next_attempt_at, created_at) \
                 VALUES (?1, ?2, 'eve@example.com', ?3, ?4, 'P', 'A', 'user', 'b@example.com', \
                 ?5, 1, 'delivered', 1, ?5, ?5)",
                (
                    [id; 16].as_slice(),
                    kind,
                    [10_u8; 16].as_slice(),
                    PROJECT.as_slice(),
                    nanos,
                ),
            )
            .unwrap();
    }

    let store = SqliteStore::open(&file.path).expect("the migrations run");
    assert_eq!(recorded_versions(&file.path), all_versions());
    let sender = UserId::from(uuid::Uuid::from_bytes([0x0b; 16]));
    let entries = store
        .outbox(&roster::store::OutboxQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(entries.len(), 2);
    assert!(
        entries
            .iter()
            .all(|entry| entry.notice.sent_by == sender && entry.notice.invitation == invitation),
        "{entries:?}"
    );
    assert_eq!(
        store
            .count_sends_by(sender, at - chrono::Duration::hours(1))
            .await
            .unwrap(),
        1,
        "the invitation email counts, the revocation does not"
    );
}

/// Version 5 lets memberships and invitations hold any key of the service's role catalog: the
/// rebuilt tables keep every row and every uniqueness rule, old notices get the display names
/// the built-in roles had, and accounts start with no domain restriction.
#[tokio::test]
async fn version_5_keeps_roles_and_stores_any_catalog_key() {
    let file = VersionOne::new();
    let admin = file.user(0x0b, "boss@example.com");
    let invitation = file.invitation(10, PROJECT, "eve@example.com", "pending");
    file.conn
        .execute(
            "INSERT INTO memberships (project_id, user_id, role, since) \
             VALUES (?1, ?2, 'administrator', 0)",
            (PROJECT.as_slice(), [0x0b_u8; 16].as_slice()),
        )
        .unwrap();
    file.conn
        .execute(
            "INSERT INTO outbox (id, kind, to_email, invitation_id, project_id, project_name, \
             account_name, role, inviter, expires_at, send, status, attempts, next_attempt_at, \
             created_at) VALUES (?1, 'invitation', 'eve@example.com', ?2, ?3, 'P', 'A', \
             'account_administrator', 'boss@example.com', 0, 1, 'queued', 0, 0, 0)",
            (
                [0x31_u8; 16].as_slice(),
                [10_u8; 16].as_slice(),
                PROJECT.as_slice(),
            ),
        )
        .unwrap();

    let store = SqliteStore::open(&file.path).expect("the migrations run");
    assert_eq!(recorded_versions(&file.path), all_versions());
    let project = ProjectId::from(uuid::Uuid::from_bytes(PROJECT));
    let kept = store.membership(project, admin).await.unwrap().unwrap();
    assert_eq!(kept.role, roster::Role::ADMINISTRATOR);
    let pending = store.invitation(invitation).await.unwrap().unwrap();
    assert_eq!(pending.role, roster::Role::USER);
    let entries = store
        .outbox(&roster::store::OutboxQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(entries[0].notice.role_name, "Account administrator");
    let account = roster::AccountId::from(uuid::Uuid::from_bytes([0x0a; 16]));
    let account = store.account(account).await.unwrap().unwrap();
    assert!(account.allowed_domains.is_empty());

    // A catalog's own key is stored and read back.
    let engineer = roster::Role::from_static("engineer");
    let mut promoted = kept.clone();
    promoted.role = engineer;
    store
        .apply(roster::Change {
            memberships: vec![roster::store::MembershipWrite::Update(promoted)],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .membership(project, admin)
            .await
            .unwrap()
            .unwrap()
            .role,
        engineer
    );
    // The one-pending-invitation rule survived the rebuild.
    let fx = Fixtures::default();
    let token = fx.token();
    let mut second = fx.invitation(start(), project, pending.email.clone(), admin, &token);
    second.role = engineer;
    let refused = store
        .apply(roster::Change {
            invitations: vec![roster::store::InvitationWrite::Insert(second)],
            ..Default::default()
        })
        .await;
    assert!(
        matches!(
            refused,
            Err(roster::StoreError::AlreadyExists(
                roster::Entity::Invitation
            ))
        ),
        "{refused:?}"
    );
    let indexes: i64 = Connection::open(&file.path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN \
             ('memberships_by_user', 'memberships_by_role', 'invitations_one_pending_per_address', \
              'invitations_by_project', 'invitations_pending')",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 5, "every index of the rebuilt tables is back");
}
