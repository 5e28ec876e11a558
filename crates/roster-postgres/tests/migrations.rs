//! Migrations on a real server: many instances connecting at once migrate exactly once, a
//! reconnect migrates nothing again, and a schema from a newer version is refused untouched.
//! Skipped with a notice when `ROSTER_POSTGRES_URL` is unset.

mod common;

use common::raw;
use roster_postgres::{PostgresError, PostgresStore, SCHEMA_VERSION};

async fn recorded(client: &tokio_postgres::Client, schema: &str) -> Vec<i64> {
    client
        .query(
            &format!("SELECT version FROM \"{schema}\".roster_schema ORDER BY version"),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

async fn tables(client: &tokio_postgres::Client, schema: &str) -> Vec<String> {
    client
        .query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = $1 ORDER BY 1",
            &[&schema],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_at_once_migrate_exactly_once() {
    let Some(url) = common::url() else {
        return;
    };
    let schema = common::unique_schema();
    let connects: Vec<_> = (0..12)
        .map(|_| {
            let options = common::options(&url, &schema);
            tokio::spawn(async move { PostgresStore::connect_with(options).await })
        })
        .collect();
    for connect in connects {
        let store = connect.await.unwrap().expect("every instance connects");
        store.check().await.expect("ready");
    }
    let client = raw(&url).await;
    let all: Vec<i64> = (1..=SCHEMA_VERSION).collect();
    assert_eq!(recorded(&client, &schema).await, all);
    // Connecting again migrates nothing.
    PostgresStore::connect_with(common::options(&url, &schema))
        .await
        .unwrap();
    assert_eq!(recorded(&client, &schema).await, all);
}

#[tokio::test]
async fn a_newer_schema_is_refused_untouched() {
    let Some(url) = common::url() else {
        return;
    };
    let schema = common::unique_schema();
    PostgresStore::connect_with(common::options(&url, &schema))
        .await
        .unwrap();
    let client = raw(&url).await;
    client
        .batch_execute(&format!(
            "INSERT INTO \"{schema}\".roster_schema (version, name) VALUES (999, 'future')"
        ))
        .await
        .unwrap();
    let before = tables(&client, &schema).await;
    let error = PostgresStore::connect_with(common::options(&url, &schema))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            PostgresError::SchemaTooNew { found: 999, supported } if supported == SCHEMA_VERSION
        ),
        "{error:?}"
    );
    assert_eq!(tables(&client, &schema).await, before);
    let mut versions: Vec<i64> = (1..=SCHEMA_VERSION).collect();
    versions.push(999);
    assert_eq!(recorded(&client, &schema).await, versions);
}

/// A project's version survives the move out of its row (migration 0003) and goes on from there.
#[tokio::test]
async fn a_schema_at_version_2_keeps_its_projects_versions() {
    use roster::store::Expectation;
    use roster::{Change, StoreExt, Version};
    let Some(url) = common::url() else {
        return;
    };
    let schema = common::unique_schema();
    let client = raw(&url).await;
    let (account, project) = (uuid::Uuid::from_u128(0xa), uuid::Uuid::from_u128(0xb));
    client
        .batch_execute(&format!(
            "CREATE SCHEMA \"{schema}\"; SET search_path TO \"{schema}\";
             CREATE TABLE roster_schema (version bigint PRIMARY KEY, name text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now());
             {initial}
             {second}
             INSERT INTO roster_schema (version, name) VALUES (1, 'initial'), (2, 'open_invitations_index');
             INSERT INTO accounts (id, name, created_at) VALUES ('{account}', 'A', 0);
             INSERT INTO projects (id, account_id, name, created_at, version)
                 VALUES ('{project}', '{account}', 'P', 0, 7);
             RESET search_path;",
            initial = include_str!("../migrations/0001_initial.sql"),
            second = include_str!("../migrations/0002_open_invitations_index.sql"),
        ))
        .await
        .unwrap();
    let store = PostgresStore::connect_with(common::options(&url, &schema))
        .await
        .unwrap();
    let id = roster::ProjectId::from_uuid(project);
    let migrated = store
        .project(id)
        .await
        .unwrap()
        .expect("the project is kept");
    assert_eq!(migrated.version, Version(7));
    store
        .apply(Change {
            expect: vec![Expectation::ProjectVersion {
                project: id,
                version: Version(7),
            }],
            ..Change::default()
        })
        .await
        .unwrap();
    let bumped = store.project(id).await.unwrap().unwrap();
    assert_eq!(bumped.version, Version(8));
}

#[tokio::test]
async fn errors_and_options_never_show_the_password() {
    let options = roster_postgres::PostgresOptions::new(
        "postgres://roster:hunter2secret@127.0.0.1:1/nowhere?connect_timeout=1",
    )
    .unwrap()
    .connect_timeout(std::time::Duration::from_secs(1));
    assert!(!format!("{options:?}").contains("hunter2secret"));
    let error = PostgresStore::connect_with(options).await.unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("hunter2secret"), "{shown}");
    assert!(matches!(error, PostgresError::Connect { .. }), "{error:?}");
}

#[test]
fn schema_names_are_plain_identifiers() {
    let options = roster_postgres::PostgresOptions::new("postgres://localhost/db").unwrap();
    for bad in ["", "Tenant", "a-b", "1abc", "x\"; DROP TABLE users; --"] {
        assert!(
            matches!(
                options.clone().schema(bad),
                Err(PostgresError::SchemaName(_))
            ),
            "{bad:?}"
        );
    }
    assert_eq!(
        options.schema("tenant_1").unwrap().schema_name(),
        "tenant_1"
    );
}
