//! Races at the store level: many tasks (`tokio::spawn`, on a multi-threaded runtime) applying
//! changes at once. Versions serialize changes to one project; uniqueness holds under races.

use roster::StoreExt;
use std::sync::Arc;

use roster::store::{InvitationWrite, MembershipWrite, UserWrite};
use roster::{Change, Entity, Role, Store, StoreError, Version};
use tokio::sync::Barrier;

use super::{ALL, apply_ok, project_version, seed};
use crate::fixtures::{Fixtures, email, membership};

/// How many tasks race in each case.
const RACERS: usize = 32;

/// How often one racer may lose before the case gives up on the store ever letting it through.
const MAX_ATTEMPTS: usize = 10_000;

/// Applies each change from its own task, all released at once, and returns the results in
/// the order of `changes`.
async fn race(store: &Arc<dyn Store>, changes: Vec<Change>) -> Vec<Result<(), StoreError>> {
    let start = Arc::new(Barrier::new(changes.len()));
    let tasks: Vec<_> = changes
        .into_iter()
        .map(|change| {
            let (store, start) = (store.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                store.apply(change).await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.expect("a racing task panicked"));
    }
    results
}

/// Asserts exactly one `Ok` among `results` and that every other one matches `loser`; returns
/// the index of the winner.
fn single_winner(
    results: &[Result<(), StoreError>],
    loser: impl Fn(&StoreError) -> bool,
    what: &str,
) -> usize {
    let winners: Vec<usize> = (0..results.len()).filter(|i| results[*i].is_ok()).collect();
    assert_eq!(
        winners.len(),
        1,
        "{what}: exactly one change applies, got {results:?}"
    );
    for result in results {
        if let Err(error) = result {
            assert!(loser(error), "{what}: unexpected loser error {error:?}");
        }
    }
    winners[0]
}

/// 32 tasks apply changes expecting the same project version (each adding a member and an
/// event): exactly one applies, the others get `Conflict(Project)` and leave no trace; the
/// version moves by one.
pub async fn racing_changes_on_one_project_version_exactly_one_wins(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (now, project) = (world.now, world.project.id);
    let joiners: Vec<_> = (0..RACERS).map(|_| fx.registered_user(now)).collect();
    let users = Change {
        users: joiners
            .iter()
            .map(|user| UserWrite::Insert {
                user: user.clone(),
                password: None,
            })
            .collect(),
        ..Change::default()
    };
    apply_ok(&*store, users, "inserting the racers").await;
    let changes = joiners
        .iter()
        .map(|user| Change {
            memberships: vec![MembershipWrite::Insert(membership(
                now,
                project,
                user.id,
                Role::OBSERVER,
            ))],
            audit: vec![fx.audit_event(now, &world.project, Some(user.id))],
            ..Change::on_project(project, world.project.version)
        })
        .collect();

    let results = race(&store, changes).await;
    let conflict = |error: &StoreError| matches!(error, StoreError::Conflict(Entity::Project));
    let winner = single_winner(&results, conflict, "same project version");

    assert_eq!(
        project_version(&*store, project).await,
        world.project.version.next()
    );
    for (index, user) in joiners.iter().enumerate() {
        let joined = store.membership(project, user.id).await.unwrap().is_some();
        assert_eq!(joined, index == winner, "racer {index} membership");
    }
    assert_eq!(
        store.count_members(project, Role::OBSERVER).await.unwrap(),
        1
    );
    let events = store.audit_events(project, None, ALL).await.unwrap();
    assert_eq!(events.len(), 2, "the seed's event and the winner's");
    assert_eq!(events[1].actor, Some(joiners[winner].id));
}

/// 32 tasks that re-read the version and try again on `Conflict` all get through, one at a
/// time: the version moves by exactly 32 and every change is recorded once.
pub async fn racing_changes_that_retry_on_conflict_all_apply_once(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let project = world.project.id;
    let start = Arc::new(Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let (store, start) = (store.clone(), start.clone());
            let event = fx.audit_event(world.now, &world.project, None);
            tokio::spawn(async move {
                start.wait().await;
                for _ in 0..MAX_ATTEMPTS {
                    let version = project_version(&*store, project).await;
                    let change = Change {
                        audit: vec![event.clone()],
                        ..Change::on_project(project, version)
                    };
                    match store.apply(change).await {
                        Ok(()) => return,
                        Err(StoreError::Conflict(Entity::Project)) => {
                            tokio::task::yield_now().await
                        }
                        Err(error) => panic!("a retrying racer failed: {error:?}"),
                    }
                }
                panic!("a racer lost {MAX_ATTEMPTS} times in a row");
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a racing task panicked");
    }

    let expected = Version(world.project.version.0 + RACERS as u64);
    assert_eq!(project_version(&*store, project).await, expected);
    let events = store.audit_events(project, None, ALL).await.unwrap();
    assert_eq!(
        events.len(),
        RACERS + 1,
        "each change recorded exactly once"
    );
}

/// 32 tasks each changing their own project all apply: different projects never contend.
pub async fn changes_to_different_projects_do_not_contend(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let projects: Vec<_> = (0..RACERS)
        .map(|_| fx.project(world.now, world.account.id))
        .collect();
    let change = Change {
        projects: projects.clone(),
        ..Change::default()
    };
    apply_ok(&*store, change, "inserting the projects").await;
    let changes = projects
        .iter()
        .map(|project| Change {
            audit: vec![fx.audit_event(world.now, project, None)],
            ..Change::on_project(project.id, Version::INITIAL)
        })
        .collect();

    let results = race(&store, changes).await;
    for (index, result) in results.iter().enumerate() {
        assert!(result.is_ok(), "project {index}: {result:?}");
    }
    for project in &projects {
        assert_eq!(project_version(&*store, project.id).await, Version(1));
    }
}

/// 32 tasks inserting (without expectations) a pending invitation of one project for one
/// address, typed in different cases: exactly one is stored, the others get
/// `AlreadyExists(Invitation)`.
pub async fn racing_pending_invitations_for_one_address_exactly_one_is_stored(
    store: Arc<dyn Store>,
) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (now, project) = (world.now, world.project.id);
    let spellings = [
        "racer@example.com",
        "Racer@Example.com",
        "RACER@EXAMPLE.COM",
    ];
    let invitations: Vec<_> = (0..RACERS)
        .map(|index| {
            let address = email(spellings[index % spellings.len()]);
            fx.invitation(now, project, address, world.owner.id, &fx.token())
        })
        .collect();
    let changes = invitations
        .iter()
        .map(|invitation| Change {
            invitations: vec![InvitationWrite::Insert(invitation.clone())],
            ..Change::default()
        })
        .collect();

    let results = race(&store, changes).await;
    let taken = |error: &StoreError| matches!(error, StoreError::AlreadyExists(Entity::Invitation));
    let winner = single_winner(&results, taken, "same pending address");

    let pending = store
        .pending_invitation(project, &email("racer@example.com"))
        .await;
    assert_eq!(pending.unwrap(), Some(invitations[winner].clone()));
    assert_eq!(
        store.count_pending_invitations(project, now).await.unwrap(),
        2
    );
}

/// 32 tasks inserting users for one address, typed in different cases: exactly one is stored,
/// the others get `AlreadyExists(User)`.
pub async fn racing_user_inserts_for_one_address_exactly_one_is_stored(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let now = crate::fixtures::start();
    let spellings = ["twin@example.com", "Twin@Example.com", "TWIN@EXAMPLE.COM"];
    let users: Vec<_> = (0..RACERS)
        .map(|index| fx.invited_user(now, email(spellings[index % spellings.len()])))
        .collect();
    let changes = users
        .iter()
        .map(|user| Change {
            users: vec![UserWrite::Insert {
                user: user.clone(),
                password: None,
            }],
            ..Change::default()
        })
        .collect();

    let results = race(&store, changes).await;
    let taken = |error: &StoreError| matches!(error, StoreError::AlreadyExists(Entity::User));
    let winner = single_winner(&results, taken, "same user address");

    let found = store
        .user_by_email(&email("twin@example.com"))
        .await
        .unwrap();
    assert_eq!(found, Some(users[winner].clone()));
    for (index, user) in users.iter().enumerate() {
        let stored = store.user(user.id).await.unwrap().is_some();
        assert_eq!(stored, index == winner, "racer {index}");
    }
}
