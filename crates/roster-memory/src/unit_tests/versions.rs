use roster::StoreExt;
use roster::store::{Expectation, UserWrite};
use roster::{Change, Entity, Project, ProjectId, StoreError, User, UserId, Version};

use super::fixtures::{World, email, now};

#[tokio::test]
async fn each_named_record_moves_forward_once_per_change() {
    let world = World::new().await;
    let store = &world.store;
    let mut change = world.change().await;
    change.expect.push(Expectation::ProjectVersion {
        project: world.project,
        version: Version::INITIAL,
    });
    change.expect.push(Expectation::UserVersion {
        user: world.admin,
        version: Version::INITIAL,
    });

    store.apply(change).await.unwrap();

    assert_eq!(world.version().await, Version(1));
    let admin = store.user(world.admin).await.unwrap().unwrap();
    assert_eq!(admin.version, Version(1));
}

#[tokio::test]
async fn a_stale_or_unknown_expectation_applies_nothing() {
    let world = World::new().await;
    let store = &world.store;
    let stale = Change::on_project(world.project, Version(5));
    assert!(matches!(
        store.apply(stale).await,
        Err(StoreError::Conflict(Entity::Project))
    ));
    let mut unknown = world.change().await;
    unknown.expect.push(Expectation::UserVersion {
        user: UserId::generate(now(), &world.random),
        version: Version::INITIAL,
    });
    assert!(matches!(
        store.apply(unknown).await,
        Err(StoreError::NotFound(Entity::User))
    ));
    assert_eq!(world.version().await, Version::INITIAL);
}

#[tokio::test]
async fn written_version_fields_are_ignored() {
    let world = World::new().await;
    let store = &world.store;
    let project = Project {
        id: ProjectId::generate(now(), &world.random),
        account: world.account,
        name: "Docs".into(),
        created_at: now(),
        version: Version(9),
    };
    let user = User {
        id: UserId::generate(now(), &world.random),
        email: email("ann@example.com"),
        registered_at: None,
        created_at: now(),
        version: Version(9),
    };
    let inserts = Change {
        projects: vec![project.clone()],
        users: vec![UserWrite::Insert {
            user: user.clone(),
            password: None,
        }],
        ..Change::default()
    };
    store.apply(inserts).await.unwrap();
    assert_eq!(
        store.project(project.id).await.unwrap().unwrap().version,
        Version::INITIAL
    );
    assert_eq!(
        store.user(user.id).await.unwrap().unwrap().version,
        Version::INITIAL
    );

    let mut registered = user.clone();
    registered.registered_at = Some(now());
    registered.version = Version(42);
    let update = Change {
        users: vec![UserWrite::Update {
            user: registered,
            password: None,
        }],
        ..Change::default()
    };
    store.apply(update).await.unwrap();
    let stored = store.user(user.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.version, stored.registered_at),
        (Version::INITIAL, Some(now()))
    );
}
