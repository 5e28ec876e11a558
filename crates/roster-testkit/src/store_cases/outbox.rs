//! Outbox reads: one entry, the due ones, and filtered listings.

use roster::StoreExt;
use std::slice::from_ref;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use roster::store::{InvitationWrite, OutboxQuery, OutboxWrite};
use roster::{
    Change, DeliveryStatus, Invitation, NoticeId, NoticeKind, OutboxEntry, ProjectId, Store,
};

use super::{ALL, add_project, apply_ok, seed};
use crate::fixtures::{Fixtures, email};

/// An outbox entry reads back as written (address as typed included) and follows updates of its
/// status, attempts, schedule and error.
pub async fn outbox_entry_reads_back_and_updates(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let now = world.now;
    let read = store.outbox_entry(world.notice.id).await.unwrap();
    assert_eq!(read.as_ref(), Some(&world.notice));
    let typed = world.notice.notice.to.as_str();
    assert_eq!(read.unwrap().notice.to.as_str(), typed, "typed form kept");

    let mut granted = fx.outbox_entry(now, &world.invitation);
    granted.notice.kind = NoticeKind::AccessGranted;
    granted.notice.to = email("Granted.Person@Example.NET");
    granted.notice.inviter = world.owner.email.clone();
    apply_ok(
        &*store,
        outbox(vec![OutboxWrite::Insert(granted.clone())]),
        "enqueueing",
    )
    .await;
    let read = store
        .outbox_entry(granted.id)
        .await
        .unwrap()
        .expect("by id");
    assert_eq!(read, granted);
    assert_eq!(read.notice.to.as_str(), "Granted.Person@Example.NET");

    let failed = OutboxEntry {
        status: DeliveryStatus::Failed,
        attempts: 3,
        next_attempt_at: now + Duration::minutes(10),
        last_error: Some("mailbox full".to_owned()),
        finished_at: Some(now + Duration::minutes(10)),
        ..world.notice.clone()
    };
    apply_ok(
        &*store,
        outbox(vec![OutboxWrite::Update(failed.clone())]),
        "failing",
    )
    .await;
    assert_eq!(
        store.outbox_entry(failed.id).await.unwrap(),
        Some(failed.clone())
    );

    let requeued = OutboxEntry {
        status: DeliveryStatus::Queued,
        attempts: 0,
        finished_at: None,
        ..failed
    };
    apply_ok(
        &*store,
        outbox(vec![OutboxWrite::Update(requeued.clone())]),
        "requeue",
    )
    .await;
    assert_eq!(
        store.outbox_entry(requeued.id).await.unwrap(),
        Some(requeued)
    );
    assert_eq!(
        store.outbox_entry(granted.id).await.unwrap(),
        Some(granted),
        "untouched"
    );
}

/// `due_notices` returns only `Queued` entries with `next_attempt_at <= now`, earliest due
/// first, at most `limit` of them.
pub async fn due_notices_are_queued_and_due_earliest_first(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let now = world.now;
    let entry = |status, due: DateTime<Utc>| OutboxEntry {
        status,
        next_attempt_at: due,
        ..fx.outbox_entry(now - Duration::hours(1), &world.invitation)
    };
    use DeliveryStatus::*;
    let minutes = Duration::minutes;
    let soon = entry(Queued, now - minutes(1));
    let not_yet = entry(Queued, now + minutes(1));
    let sooner = entry(Queued, now - minutes(3));
    let delivered = entry(Delivered, now - minutes(5));
    let failed = entry(Failed, now - minutes(5));
    let cancelled = entry(Cancelled, now - minutes(5));
    let writes = [&soon, &not_yet, &sooner, &delivered, &failed, &cancelled]
        .map(|entry| OutboxWrite::Insert(entry.clone()));
    apply_ok(&*store, outbox(writes.to_vec()), "enqueueing").await;
    let on_time = world.notice.clone();

    let due = |at, limit| {
        let store = store.clone();
        async move { store.due_notices(at, limit).await.unwrap() }
    };
    let expected = [sooner.clone(), soon.clone(), on_time.clone()];
    assert_eq!(
        due(now, ALL).await,
        expected,
        "due at or before now, earliest first"
    );
    assert_eq!(due(now, 2).await, expected[..2], "limited");
    assert_eq!(due(now - minutes(2), ALL).await, from_ref(&sooner));
    assert_eq!(
        due(now + minutes(1), ALL).await,
        [sooner.clone(), soon.clone(), on_time.clone(), not_yet]
    );

    let sent = OutboxEntry {
        status: Delivered,
        finished_at: Some(now),
        ..soon
    };
    apply_ok(
        &*store,
        outbox(vec![OutboxWrite::Update(sent)]),
        "delivering",
    )
    .await;
    assert_eq!(
        due(now, ALL).await,
        [sooner, on_time],
        "delivered entries are not due"
    );
}

/// `outbox` filters by status, by project or both, lists in id order and pages with an
/// exclusive cursor.
pub async fn outbox_filters_by_status_and_project_in_id_order(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let other = add_project(&*store, &fx, &world.account).await;
    let now = world.now;
    let elsewhere = fx.invitation(now, other.id, fx.email(), world.owner.id, &fx.token());
    let entry = |invitation: &Invitation, status| OutboxEntry {
        status,
        ..fx.outbox_entry(now, invitation)
    };
    use DeliveryStatus::*;
    let here = &world.invitation;
    let entries = [
        world.notice.clone(),
        entry(here, Failed),
        entry(&elsewhere, Queued),
        entry(here, Delivered),
        entry(&elsewhere, Failed),
        entry(here, Queued),
    ];
    let change = Change {
        invitations: vec![InvitationWrite::Insert(elsewhere)],
        outbox: entries[1..]
            .iter()
            .rev()
            .map(|entry| OutboxWrite::Insert(entry.clone()))
            .collect(),
        ..Change::default()
    };
    apply_ok(&*store, change, "enqueueing").await;

    let ids = |picked: &[usize]| -> Vec<NoticeId> {
        picked.iter().map(|index| entries[*index].id).collect()
    };
    let listed = |status, project: Option<ProjectId>, after: Option<usize>, limit| {
        let store = store.clone();
        let query = OutboxQuery {
            status,
            project,
            after: after.map(|index: usize| entries[index].id),
            limit,
        };
        async move {
            let found = store.outbox(&query).await.unwrap();
            found.iter().map(|entry| entry.id).collect::<Vec<_>>()
        }
    };
    let (here, there) = (Some(world.project.id), Some(other.id));
    assert_eq!(
        listed(None, None, None, ALL).await,
        ids(&[0, 1, 2, 3, 4, 5])
    );
    assert_eq!(listed(Some(Queued), None, None, ALL).await, ids(&[0, 2, 5]));
    assert_eq!(listed(None, here, None, ALL).await, ids(&[0, 1, 3, 5]));
    assert_eq!(listed(Some(Failed), there, None, ALL).await, ids(&[4]));
    assert_eq!(listed(Some(Cancelled), None, None, ALL).await, ids(&[]));
    assert_eq!(listed(None, None, None, 4).await, ids(&[0, 1, 2, 3]));
    assert_eq!(listed(None, None, Some(3), 4).await, ids(&[4, 5]));
    assert_eq!(
        listed(None, here, Some(0), 2).await,
        ids(&[1, 3]),
        "filter, then limit"
    );
    assert_eq!(listed(None, here, Some(5), 2).await, ids(&[]));

    let read = store
        .outbox(&OutboxQuery {
            limit: ALL,
            ..OutboxQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(read, entries, "entries come back as written");
}

/// A change made of outbox writes only.
fn outbox(writes: Vec<OutboxWrite>) -> Change {
    Change {
        outbox: writes,
        ..Change::default()
    }
}
