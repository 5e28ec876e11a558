//! Corners of `apply` the shared suite does not reach: a record named by two expectations, runs
//! of outbox updates written as one statement, and values the store cannot keep exactly (as the SQLite store's tests of the same names). Skipped
//! with a notice when `ROSTER_POSTGRES_URL` is unset.

mod common;

use chrono::{TimeZone, Utc};
use roster::StoreExt;
use roster::store::{Expectation, OutboxWrite, Step, UserWrite};
use roster::{Change, Entity, Store, StoreError, Version};
use roster_postgres::PostgresStore;
use roster_testkit::fixtures::{Fixtures, World, start};

async fn seeded() -> Option<(PostgresStore, Fixtures, World)> {
    let (store, _, _) = common::fresh_postgres().await?;
    let fx = Fixtures::default();
    let world = World::seed(&store, &fx, start()).await.unwrap();
    Some((store, fx, world))
}

fn at(project: roster::ProjectId, version: Version) -> Expectation {
    Expectation::ProjectVersion { project, version }
}

#[tokio::test]
async fn a_project_named_twice_at_its_version_is_bumped_once() {
    let Some((store, fx, world)) = seeded().await else {
        return;
    };
    let (project, v0) = (world.project.id, world.project.version);
    let change = Change {
        expect: vec![at(project, v0), at(project, v0)],
        audit: vec![fx.audit_event(world.now, &world.project, None)],
        ..Change::default()
    };
    store.apply(change).await.unwrap();
    let stored = store.project(project).await.unwrap().unwrap();
    assert_eq!(stored.version, v0.next());
}

#[tokio::test]
async fn a_project_named_twice_at_two_versions_conflicts_and_applies_nothing() {
    let Some((store, fx, world)) = seeded().await else {
        return;
    };
    let (project, v0) = (world.project.id, world.project.version);
    let event = fx.audit_event(world.now, &world.project, None);
    for expect in [
        vec![at(project, v0), at(project, v0.next())],
        vec![at(project, v0.next()), at(project, v0)],
    ] {
        let change = Change {
            expect,
            audit: vec![event.clone()],
            ..Change::default()
        };
        let refused = store.apply(change).await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(Entity::Project))),
            "{refused:?}"
        );
    }
    let stored = store.project(project).await.unwrap().unwrap();
    assert_eq!(stored.version, v0);
    let events = store.audit_events(project, None, 10).await.unwrap();
    assert_eq!(events, vec![world.created]);
}

/// Two bumps from one version that meet at the primary key of `project_versions` instead of
/// at the project's lock (another writer that does not take it): the second is a conflict.
#[tokio::test]
async fn a_bump_that_loses_the_race_on_the_version_row_conflicts() {
    let Some((store, url, schema)) = common::fresh_postgres().await else {
        return;
    };
    let fx = Fixtures::default();
    let world = World::seed(&store, &fx, start()).await.unwrap();
    let (project, v0) = (world.project.id, world.project.version);
    let mut client = common::raw(&url).await;
    let other = client.transaction().await.unwrap();
    other
        .execute(
            &format!(
                "INSERT INTO \"{schema}\".project_versions (project_id, version) VALUES ($1, $2)"
            ),
            &[&project.as_uuid(), &(i64::try_from(v0.0).unwrap() + 1)],
        )
        .await
        .unwrap();
    let racing = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .apply(Change {
                    expect: vec![at(project, v0)],
                    ..Change::default()
                })
                .await
        }
    });
    // The store's bump waits on the other insert of the same key, then loses to its commit.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    other.commit().await.unwrap();
    let refused = racing.await.unwrap();
    assert!(
        matches!(refused, Err(StoreError::Conflict(Entity::Project))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_version_beyond_bigint_conflicts_or_is_not_found() {
    let Some((store, fx, world)) = seeded().await else {
        return;
    };
    let huge = Version(u64::MAX);
    let on_owner = Change {
        expect: vec![Expectation::UserVersion {
            user: world.owner.id,
            version: huge,
        }],
        ..Change::default()
    };
    let refused = store.apply(on_owner).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(Entity::User))),
        "{refused:?}"
    );
    let on_nobody = Change {
        expect: vec![Expectation::UserVersion {
            user: fx.user_id(),
            version: huge,
        }],
        ..Change::default()
    };
    let refused = store.apply(on_nobody).await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(Entity::User))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn an_instant_the_store_cannot_keep_exactly_is_refused_and_applies_nothing() {
    let Some((store, fx, world)) = seeded().await else {
        return;
    };
    let newcomer = fx.registered_user(world.now);
    let far = roster::User {
        registered_at: Some(Utc.with_ymd_and_hms(2300, 1, 1, 0, 0, 0).unwrap()),
        ..fx.registered_user(world.now)
    };
    let change = Change {
        expect: vec![at(world.project.id, world.project.version)],
        users: vec![
            UserWrite::Insert {
                user: newcomer.clone(),
                password: None,
            },
            UserWrite::Insert {
                user: far.clone(),
                password: None,
            },
        ],
        ..Change::default()
    };
    let refused = store.apply(change).await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Backend {
                retryable: false,
                ..
            })
        ),
        "{refused:?}"
    );
    assert_eq!(store.user(newcomer.id).await.unwrap(), None);
    assert_eq!(store.user(far.id).await.unwrap(), None);
    let stored = store.project(world.project.id).await.unwrap().unwrap();
    assert_eq!(stored.version, world.project.version, "the bump was undone");
}

#[tokio::test]
async fn instants_read_back_to_the_nanosecond() {
    let Some((store, fx, world)) = seeded().await else {
        return;
    };
    let precise = Utc
        .timestamp_opt(1_767_225_600, 123_456_789)
        .single()
        .unwrap();
    let user = roster::User {
        registered_at: Some(precise),
        created_at: precise,
        ..fx.registered_user(world.now)
    };
    let change = Change {
        users: vec![UserWrite::Insert {
            user: user.clone(),
            password: None,
        }],
        ..Change::default()
    };
    store.apply(change).await.unwrap();
    assert_eq!(store.user(user.id).await.unwrap(), Some(user));
}

/// An entry as a delivery pass might record it: `attempts` tells the writes apart.
fn attempted(entry: &roster::OutboxEntry, attempts: u32) -> roster::OutboxEntry {
    roster::OutboxEntry {
        attempts,
        last_error: Some(format!("attempt {attempts}")),
        ..entry.clone()
    }
}

/// Two more entries beside the world's, stored.
async fn three_entries(
    store: &PostgresStore,
    fx: &Fixtures,
    world: &World,
) -> [roster::OutboxEntry; 3] {
    let second = fx.outbox_entry(world.now, &world.invitation);
    let third = fx.outbox_entry(world.now, &world.invitation);
    store
        .apply(Change {
            outbox: vec![
                OutboxWrite::Insert(second.clone()),
                OutboxWrite::Insert(third.clone()),
            ],
            ..Change::default()
        })
        .await
        .unwrap();
    [world.notice.clone(), second, third]
}

#[tokio::test]
async fn a_run_of_outbox_updates_writes_each_entry_its_last_record() {
    let Some((store, fx, world)) = seeded().await else {
        return;
    };
    let [first, second, third] = three_entries(&store, &fx, &world).await;
    // A change's updates, and a step's delivery records, each as one run.
    store
        .apply(Change {
            outbox: vec![
                OutboxWrite::Update(attempted(&first, 1)),
                OutboxWrite::Update(attempted(&second, 1)),
                OutboxWrite::Update(attempted(&first, 2)),
            ],
            ..Change::default()
        })
        .await
        .unwrap();
    let step = Step::write(Change::default()).with_deliveries(vec![
        attempted(&second, 3),
        attempted(&first, 4),
        attempted(&second, 5),
    ]);
    store.transact(step).await.unwrap();
    let attempts = async |id| store.outbox_entry(id).await.unwrap().unwrap();
    assert_eq!(attempts(first.id).await, attempted(&first, 4));
    assert_eq!(attempts(second.id).await, attempted(&second, 5));
    assert_eq!(attempts(third.id).await, third);
}

#[tokio::test]
async fn a_run_of_outbox_updates_naming_a_missing_entry_applies_nothing() {
    let Some((store, fx, world)) = seeded().await else {
        return;
    };
    let [first, second, _] = three_entries(&store, &fx, &world).await;
    let missing = fx.outbox_entry(world.now, &world.invitation);
    let refused = store
        .apply(Change {
            outbox: vec![
                OutboxWrite::Update(attempted(&first, 1)),
                OutboxWrite::Update(attempted(&missing, 1)),
                OutboxWrite::Update(attempted(&second, 1)),
            ],
            audit: vec![fx.audit_event(world.now, &world.project, None)],
            ..Change::default()
        })
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(Entity::OutboxEntry))),
        "{refused:?}"
    );
    assert_eq!(store.outbox_entry(first.id).await.unwrap().unwrap(), first);
    assert_eq!(
        store.outbox_entry(second.id).await.unwrap().unwrap(),
        second
    );
    let events = store
        .audit_events(world.project.id, None, 10)
        .await
        .unwrap();
    assert_eq!(events, vec![world.created]);
}
