//! Group commit on a real server: the steps one instance queues on one project run in one
//! transaction, each seeing the writes of those before it; a refused step undoes only itself,
//! wherever it stands; and a step that would wait for another actor's lock leaves the
//! transaction to the next one instead of holding the others' locks while it waits. Skipped with
//! a notice when `ROSTER_POSTGRES_URL` is unset.
//!
//! Each test first holds the project's row lock from a connection of its own, so that the
//! store's steps all queue behind it before the first one runs.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::raw;
use roster::store::{Expectation, Read, Snapshot, Step};
use roster::{
    AuditEvent, Change, Entity, InviteOutcome, InviteRequest, Limits, Project, Role, Store,
    StoreError, StoreExt, Version,
};
use roster_memory::RecordingNotifier;
use roster_testkit::fixtures::{Fixtures, World, start};
use tokio_postgres::Client;

/// Opens a transaction on `client` holding the row lock `lock` selects.
async fn hold(client: &Client, lock: &str) {
    client
        .batch_execute(&format!("BEGIN; {lock} FOR NO KEY UPDATE"))
        .await
        .unwrap();
}

/// A step that records `event` and bumps the project from the version it reads, plus `skew`: a
/// skewed step is refused by the server when its writes run.
fn bump(project: &Project, event: AuditEvent, skew: u64) -> Step {
    let id = project.id;
    Step::new(
        Read::Project {
            project: id,
            actor: None,
        },
        move |snapshot| {
            let Snapshot::Project(Some(context)) = snapshot else {
                return Change::default();
            };
            Change {
                expect: vec![Expectation::ProjectVersion {
                    project: id,
                    version: Version(context.project.version.0 + skew),
                }],
                audit: vec![event.clone()],
                ..Change::default()
            }
        },
    )
}

/// Runs one step per entry of `skews` on `store`, each queued after the one before while the
/// project's lock is held elsewhere, and returns their events and outcomes in order.
async fn queued(
    store: &Arc<dyn Store>,
    url: &str,
    schema: &str,
    fx: &Fixtures,
    world: &World,
    skews: &[u64],
) -> Vec<(AuditEvent, Result<(), StoreError>)> {
    let locker = raw(url).await;
    hold(
        &locker,
        &format!(
            "SELECT 1 FROM \"{schema}\".projects WHERE id = '{}'",
            world.project.id.as_uuid()
        ),
    )
    .await;
    let mut tasks = Vec::new();
    for &skew in skews {
        let event = fx.audit_event(world.now, &world.project, None);
        let step = bump(&world.project, event.clone(), skew);
        let store = store.clone();
        tasks.push((
            event,
            tokio::spawn(async move { store.transact(step).await }),
        ));
        // In the queue before the next one.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Every step queued (one that is late is not lost: it runs in a transaction after).
    tokio::time::sleep(Duration::from_millis(200)).await;
    locker.batch_execute("COMMIT").await.unwrap();
    let mut outcomes = Vec::new();
    for (event, task) in tasks {
        outcomes.push((event, task.await.unwrap()));
    }
    outcomes
}

/// How many transactions committed the rows of `events`, when the server tracks commit
/// timestamps (`track_commit_timestamp`, which the repository's throw-away server turns on);
/// `None` otherwise. Savepoints commit with their transaction, at its timestamp.
async fn commits(client: &Client, schema: &str, events: &[&AuditEvent]) -> Option<i64> {
    let tracked: String = client
        .query_one("SHOW track_commit_timestamp", &[])
        .await
        .unwrap()
        .get(0);
    if tracked != "on" {
        eprintln!("track_commit_timestamp is off: not counting the commits");
        return None;
    }
    let ids: Vec<uuid::Uuid> = events.iter().map(|e| e.id.as_uuid()).collect();
    let row = client
        .query_one(
            &format!(
                "SELECT count(DISTINCT pg_xact_commit_timestamp(xmin)) \
                 FROM \"{schema}\".audit_events WHERE id = ANY($1)"
            ),
            &[&ids],
        )
        .await
        .unwrap();
    Some(row.get(0))
}

async fn seeded() -> Option<(Arc<dyn Store>, String, String, Fixtures, World)> {
    let (store, url, schema) = common::fresh_postgres().await?;
    let fx = Fixtures::default();
    let world = World::seed(&store, &fx, start()).await.unwrap();
    Some((Arc::new(store), url, schema, fx, world))
}

/// Checks that exactly the unskewed steps were applied, each on the version the one before it
/// left, and returns their events.
async fn only_the_unskewed_applied<'a>(
    store: &Arc<dyn Store>,
    world: &World,
    skews: &[u64],
    outcomes: &'a [(AuditEvent, Result<(), StoreError>)],
) -> Vec<&'a AuditEvent> {
    let mut applied = Vec::new();
    for ((event, outcome), &skew) in outcomes.iter().zip(skews) {
        if skew == 0 {
            assert!(outcome.is_ok(), "{outcome:?}");
            applied.push(event);
        } else {
            assert!(
                matches!(outcome, Err(StoreError::Conflict(Entity::Project))),
                "{outcome:?}"
            );
        }
    }
    let project = store.project(world.project.id).await.unwrap().unwrap();
    assert_eq!(
        project.version.0,
        world.project.version.0 + applied.len() as u64
    );
    let mut stored: Vec<_> = store
        .audit_events(world.project.id, None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    let mut expected: Vec<_> = applied.iter().map(|e| e.id).collect();
    expected.push(world.created.id);
    stored.sort();
    expected.sort();
    assert_eq!(stored, expected);
    applied
}

/// Runs steps skewed by `skews` (see [`queued`]), checks that exactly the unskewed ones were
/// applied, and that they committed in one transaction.
async fn only_the_unskewed_commit_together(skews: &[u64]) {
    let Some((store, url, schema, fx, world)) = seeded().await else {
        return;
    };
    let outcomes = queued(&store, &url, &schema, &fx, &world, skews).await;
    let applied = only_the_unskewed_applied(&store, &world, skews, &outcomes).await;
    let client = raw(&url).await;
    if let Some(commits) = commits(&client, &schema, &applied).await {
        assert_eq!(commits, 1, "the applied steps committed together");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refused_steps_inside_a_group_undo_only_themselves() {
    // Every third step is refused, never the last.
    let skews: Vec<u64> = (0..12).map(|i| if i % 3 == 1 { 100 } else { 0 }).collect();
    only_the_unskewed_commit_together(&skews).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_last_step_refused_with_the_commit_leaves_the_others_to_commit_again() {
    // The last step's writes travel with the COMMIT, which they turn into a rollback; the others
    // go again, together.
    only_the_unskewed_commit_together(&[0, 0, 0, 0, 100]).await;
}

/// Two administrators of one project invite at once under a per-inviter limit, so each step
/// also locks its inviter's row. Another transaction holds the second inviter's row and then
/// asks for the first's: had the second step waited for its lock inside the first step's
/// transaction, that transaction would hold the first inviter's row until the other ends, and
/// the two would deadlock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_step_that_would_wait_for_its_actor_leaves_the_group_to_the_next_transaction() {
    let Some((store, url, schema)) = common::fresh_postgres().await else {
        return;
    };
    let store: Arc<dyn Store> = Arc::new(store);
    let roster = common::roster_builder(
        store.clone(),
        Arc::new(RecordingNotifier::new()),
        Limits::portal(),
    )
    .build()
    .unwrap();
    let (first, project) = common::admin_with_project(&roster).await;
    let rows = [InviteRequest::new(
        "second@example.com",
        Role::ADMINISTRATOR,
    )];
    let mut invited = roster.invite(first.id, project.id, &rows).await.unwrap();
    let InviteOutcome::Invited { token, .. } = invited.rows.remove(0).outcome else {
        panic!("the second administrator is invited");
    };
    let password = common::PASSWORD.to_owned();
    let second = roster
        .accept(&token, roster::Acceptance::NewUser { password })
        .await
        .unwrap()
        .user;

    let project_lock = raw(&url).await;
    hold(
        &project_lock,
        &format!(
            "SELECT 1 FROM \"{schema}\".projects WHERE id = '{}'",
            project.id.as_uuid()
        ),
    )
    .await;
    let other = raw(&url).await;
    hold(
        &other,
        &format!(
            "SELECT 1 FROM \"{schema}\".users WHERE id = '{}'",
            second.id.as_uuid()
        ),
    )
    .await;
    let invite = |actor: roster::UserId, address: &'static str| {
        let roster = roster.clone();
        tokio::spawn(async move {
            let rows = [InviteRequest::new(address, Role::USER)];
            roster.invite(actor, project.id, &rows).await
        })
    };
    let by_first = invite(first.id, "ann@example.com");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let by_second = invite(second.id, "bob@example.com");
    tokio::time::sleep(Duration::from_millis(20)).await;
    project_lock.batch_execute("COMMIT").await.unwrap();

    // The first inviter's step commits without the second's, which waits for the other
    // transaction in a transaction of its own.
    for _ in 0..500 {
        if by_first.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        by_first.is_finished(),
        "the first inviter's step waited for the second inviter's lock"
    );
    assert_eq!(by_first.await.unwrap().unwrap().sent(), 1);
    other
        .batch_execute(&format!(
            "SET lock_timeout = '10s'; SELECT 1 FROM \"{schema}\".users WHERE id = '{}' \
             FOR NO KEY UPDATE; COMMIT",
            first.id.as_uuid()
        ))
        .await
        .expect("the first inviter's row is free");
    assert_eq!(by_second.await.unwrap().unwrap().sent(), 1);
}
