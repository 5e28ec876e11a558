//! A connection lost in the middle of a change (its backend terminated by another connection
//! while the step holds the project lock and is deciding): the change is all or nothing, the
//! error is retryable, and the store serves the next call on a fresh connection. Skipped with a
//! notice when `ROSTER_POSTGRES_URL` is unset.

mod common;

use roster::store::{Expectation, Read, Step, UserWrite};
use roster::{Change, Store, StoreError, StoreExt};
use roster_testkit::fixtures::{Fixtures, World, start};

/// Terminates every backend holding a lock on `schema`'s projects table (the step's transaction
/// holds its row lock there), from a connection of its own, on a thread of its own: the step's
/// decision is synchronous.
fn terminate_lock_holders(url: String, schema: String) -> u64 {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                let client = common::raw(&url).await;
                let sql = format!(
                    "SELECT count(pg_terminate_backend(pid)) FROM (SELECT DISTINCT l.pid \
                     FROM pg_locks l WHERE l.relation = '\"{schema}\".projects'::regclass \
                     AND l.pid <> pg_backend_pid()) AS holders"
                );
                let killed: i64 = client.query_one(&sql, &[]).await.unwrap().get(0);
                killed as u64
            })
    })
    .join()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_cut_by_a_lost_connection_is_all_or_nothing_and_the_store_recovers() {
    let Some((store, url, schema)) = common::fresh_postgres().await else {
        return;
    };
    let fx = Fixtures::default();
    let world = World::seed(&store, &fx, start()).await.unwrap();
    let project = world.project.clone();
    let newcomer = fx.registered_user(world.now);
    let event = fx.audit_event(world.now, &project, None);
    let (user, audit) = (newcomer.clone(), event.clone());
    let step = Step::new(
        Read::Project {
            project: project.id,
            actor: None,
        },
        move |_| {
            let killed = terminate_lock_holders(url.clone(), schema.clone());
            assert_eq!(killed, 1, "the step's own backend holds the lock");
            Change {
                expect: vec![Expectation::ProjectVersion {
                    project: project.id,
                    version: project.version,
                }],
                users: vec![UserWrite::Insert {
                    user: user.clone(),
                    password: None,
                }],
                audit: vec![audit.clone()],
                ..Change::default()
            }
        },
    );
    let error = store.transact(step).await.unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Backend {
                retryable: true,
                ..
            }
        ),
        "{error:?}"
    );
    // Nothing of the change was kept.
    assert_eq!(store.user(newcomer.id).await.unwrap(), None);
    let stored = store.project(world.project.id).await.unwrap().unwrap();
    assert_eq!(stored.version, world.project.version);
    let events = store
        .audit_events(world.project.id, None, 10)
        .await
        .unwrap();
    assert!(!events.contains(&event));
    // The next change goes through on a fresh connection.
    let change = Change {
        expect: vec![Expectation::ProjectVersion {
            project: world.project.id,
            version: world.project.version,
        }],
        users: vec![UserWrite::Insert {
            user: newcomer.clone(),
            password: None,
        }],
        audit: vec![event.clone()],
        ..Change::default()
    };
    store.apply(change).await.unwrap();
    assert_eq!(store.user(newcomer.id).await.unwrap(), Some(newcomer));
    store.check().await.unwrap();
}

/// Every connection of a store cut at once (as a server restart does): the calls that follow
/// succeed, each on a fresh connection (a step whose connection turns out dead before its commit
/// is tried again on another), and nothing was lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_cut_at_once_and_the_next_calls_succeed() {
    let Some(url) = common::url() else {
        return;
    };
    let schema = common::unique_schema();
    let separator = if url.contains('?') { '&' } else { '?' };
    let tagged = format!("{url}{separator}application_name={schema}");
    let store = roster_postgres::PostgresStore::connect_with(common::options(&tagged, &schema))
        .await
        .unwrap();
    let fx = Fixtures::default();
    let world = World::seed(&store, &fx, start()).await.unwrap();
    // Fill the pool: four reads at once hold four connections.
    let reads: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            let id = world.project.id;
            tokio::spawn(async move { store.project(id).await })
        })
        .collect();
    for read in reads {
        read.await.unwrap().unwrap();
    }
    let client = common::raw(&url).await;
    let cut: i64 = client
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE application_name = $1",
            &[&schema],
        )
        .await
        .unwrap()
        .get(0);
    assert!(cut >= 1, "the store had connections");
    for _ in 0..6 {
        let project = store.project(world.project.id).await.unwrap().unwrap();
        assert_eq!(project.version, world.project.version);
    }
    let newcomer = fx.registered_user(world.now);
    let change = Change {
        expect: vec![Expectation::ProjectVersion {
            project: world.project.id,
            version: world.project.version,
        }],
        users: vec![UserWrite::Insert {
            user: newcomer.clone(),
            password: None,
        }],
        ..Change::default()
    };
    store.apply(change).await.unwrap();
    assert_eq!(store.user(newcomer.id).await.unwrap(), Some(newcomer));
    store.check().await.unwrap();
}
