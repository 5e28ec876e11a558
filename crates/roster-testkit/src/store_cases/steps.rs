//! `Store::transact`: a step reads, decides and writes inside the store's isolation. Steps on one
//! project never conflict, a failing step leaves no trace and spares the steps beside it, and
//! delivery records ride along.

use roster::StoreExt;
use std::sync::{Arc, Mutex};

use roster::store::{MembershipWrite, Read, Snapshot, Step};
use roster::{Change, DeliveryStatus, Entity, Role, Store, StoreError};
use tokio::sync::Barrier;

use super::{ALL, apply_ok, project_version, seed};
use crate::fixtures::{Fixtures, membership};

/// How many steps race in the cases below: the figure the issue on contention names.
const RACERS: usize = 64;

/// Runs each step from its own task, all released at once; results in the order given.
async fn race(store: &Arc<dyn Store>, steps: Vec<Step>) -> Vec<Result<(), StoreError>> {
    let start = Arc::new(Barrier::new(steps.len()));
    let tasks: Vec<_> = steps
        .into_iter()
        .map(|step| {
            let (store, start) = (store.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                store.transact(step).await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.expect("a racing task panicked"));
    }
    results
}

/// A step hands its decision what the single reads say, and applies the change decided on it.
pub async fn a_step_decides_on_what_it_reads_and_applies_the_change(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let seen: Arc<Mutex<Option<Snapshot>>> = Arc::default();
    let kept = seen.clone();
    let event = fx.audit_event(world.now, &world.project, Some(world.owner.id));
    let mut change = Some(Change {
        audit: vec![event.clone()],
        ..Change::default()
    });
    // Counted over several roles (a catalog may have more than one that manages members),
    // one of them held by nobody.
    let read = Read::Member {
        project: world.project.id,
        actor: world.owner.id,
        member: world.member.id,
        managers: vec![Role::ADMINISTRATOR, Role::USER, Role::from_static("nobody")],
    };
    let step = Step::new(read, move |snapshot| {
        *kept.lock().expect("not poisoned") = Some(snapshot);
        change.take().unwrap_or_default()
    });
    store.transact(step).await.expect("the step applies");

    let Some(Snapshot::Member(Some(context))) = seen.lock().expect("not poisoned").take() else {
        panic!("the decision was not handed the member read it asked for");
    };
    assert_eq!(context.project.project.id, world.project.id);
    assert_eq!(context.project.account, world.account);
    assert_eq!(context.project.actor.as_ref(), Some(&world.owner));
    assert_eq!(
        context.project.actor_membership.as_ref(),
        Some(&world.owner_membership)
    );
    assert_eq!(context.member.as_ref(), Some(&world.member_membership));
    assert_eq!(
        context.managers, 2,
        "members holding one of the roles counted"
    );
    let audit = store
        .audit_events(world.project.id, None, ALL)
        .await
        .expect("audit events");
    assert_eq!(audit.last(), Some(&event), "the decided change was applied");
}

/// 64 steps at once each read the project and write a change expecting the version they read:
/// every one applies (none answers `Conflict`: each decided inside the isolation, on the state
/// the steps before it left), and the version moves by 64.
pub async fn racing_steps_on_one_project_never_conflict(store: Arc<dyn Store>) {
    let fx = Arc::new(Fixtures::default());
    let world = seed(&*store, &fx).await;
    let before = project_version(&*store, world.project.id).await;
    let steps = (0..RACERS)
        .map(|_| {
            let (fx, project, owner, now) =
                (fx.clone(), world.project.clone(), world.owner.id, world.now);
            let read = Read::Member {
                project: project.id,
                actor: owner,
                member: owner,
                managers: vec![Role::ADMINISTRATOR],
            };
            Step::new(read, move |snapshot| {
                let Snapshot::Member(Some(context)) = snapshot else {
                    return Change::default();
                };
                let mut change = Change::on_project(project.id, context.project.project.version);
                change
                    .audit
                    .push(fx.audit_event(now, &project, Some(owner)));
                change
            })
        })
        .collect();
    let results = race(&store, steps).await;
    assert!(
        results.iter().all(Result::is_ok),
        "every step applies: {results:?}"
    );
    let after = project_version(&*store, world.project.id).await;
    let expected = (0..RACERS).fold(before, |version, _| version.next());
    assert_eq!(after, expected);
    let audit = store
        .audit_events(world.project.id, None, ALL)
        .await
        .expect("audit events");
    assert_eq!(audit.len(), 1 + RACERS, "the seed's event and one per step");
}

/// Among 16 steps released together, one writes a duplicate membership: it alone is refused with
/// `AlreadyExists(Membership)` and leaves no trace (not even the event it also wrote), while
/// every other step commits.
pub async fn a_failing_step_leaves_no_trace_and_spares_the_others(store: Arc<dyn Store>) {
    let fx = Arc::new(Fixtures::default());
    let world = seed(&*store, &fx).await;
    let failing = 5;
    let events: Vec<_> = (0..16)
        .map(|_| fx.audit_event(world.now, &world.project, Some(world.owner.id)))
        .collect();
    let steps = events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let mut change = Change {
                audit: vec![event.clone()],
                ..Change::default()
            };
            if i == failing {
                change.memberships.push(MembershipWrite::Insert(membership(
                    world.now,
                    world.project.id,
                    world.member.id,
                    roster::Role::OBSERVER,
                )));
            }
            Step::write(change)
        })
        .collect();
    let results = race(&store, steps).await;
    for (i, result) in results.iter().enumerate() {
        if i == failing {
            assert!(
                matches!(result, Err(StoreError::AlreadyExists(Entity::Membership))),
                "the failing step: {result:?}"
            );
        } else {
            assert!(result.is_ok(), "step {i} commits: {result:?}");
        }
    }
    let audit = store
        .audit_events(world.project.id, None, ALL)
        .await
        .expect("audit events");
    for (i, event) in events.iter().enumerate() {
        assert_eq!(
            audit.contains(event),
            i != failing,
            "event of step {i} stored as its step fared"
        );
    }
    assert_eq!(
        store
            .membership(world.project.id, world.member.id)
            .await
            .expect("membership"),
        Some(world.member_membership.clone()),
        "the member keeps their role"
    );
}

/// A step's delivery records are written before it reads (its decision sees them), and are kept
/// with the step's change.
pub async fn delivery_records_are_written_before_the_step_reads(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let mut delivered = world.notice.clone();
    delivered.status = DeliveryStatus::Delivered;
    delivered.finished_at = Some(world.now);
    let seen: Arc<Mutex<Option<Snapshot>>> = Arc::default();
    let kept = seen.clone();
    let step = Step::new(
        Read::Notice {
            id: world.notice.id,
            actor: None,
        },
        move |snapshot| {
            *kept.lock().expect("not poisoned") = Some(snapshot);
            Change::default()
        },
    )
    .with_deliveries(vec![delivered.clone()]);
    store.transact(step).await.expect("the step applies");
    let Some(Snapshot::Notice(Some(context))) = seen.lock().expect("not poisoned").take() else {
        panic!("the decision was not handed the notice read it asked for");
    };
    assert_eq!(context.entry, delivered, "the decision sees the record");
    assert_eq!(context.invitation.as_ref(), Some(&world.invitation));
    let stored = store
        .outbox_entry(world.notice.id)
        .await
        .expect("outbox entry");
    assert_eq!(stored, Some(delivered));
}

/// A refusing decision (an empty change) writes nothing, and a failing delivery-less step
/// changes nothing either.
pub async fn a_step_deciding_nothing_writes_nothing(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let before = super::Snapshot::take(&*store, &world).await;
    let step = Step::new(Read::User(world.owner.id), |_| Change::default());
    store.transact(step).await.expect("an empty step succeeds");
    assert_eq!(super::Snapshot::take(&*store, &world).await, before);
    let missing = Change {
        memberships: vec![MembershipWrite::Delete {
            project: world.project.id,
            user: world.outsider.id,
        }],
        ..Change::default()
    };
    let result = store.transact(Step::write(missing)).await;
    assert!(
        matches!(result, Err(StoreError::NotFound(Entity::Membership))),
        "{result:?}"
    );
    assert_eq!(super::Snapshot::take(&*store, &world).await, before);
    apply_ok(&*store, Change::default(), "an empty change").await;
}

/// A decision that panics (a bug) is answered as a backend error, leaves no trace, and does not
/// take the store down: the next step runs as usual.
pub async fn a_panicking_decision_is_an_error_and_the_store_goes_on(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let before = super::Snapshot::take(&*store, &world).await;
    let step = Step::new(Read::User(world.owner.id), |_| -> Change {
        panic!("a deliberately broken decision")
    })
    .with_deliveries(vec![world.notice.clone()]);
    let result = store.transact(step).await;
    assert!(
        matches!(result, Err(StoreError::Backend { .. })),
        "{result:?}"
    );
    assert_eq!(super::Snapshot::take(&*store, &world).await, before);
    let event = fx.audit_event(world.now, &world.project, Some(world.owner.id));
    let change = Change {
        audit: vec![event],
        ..Change::default()
    };
    store
        .transact(Step::write(change))
        .await
        .expect("the store goes on after a panicking decision");
}
