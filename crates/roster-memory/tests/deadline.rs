//! The send deadline holds against a notifier that never answers: its sends are cut, in
//! a command and in a delivery pass, and the sends a command never began are left due at once.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{Duration, Utc};
use roster::{
    Clock, DeliveryPolicy, DeliveryStatus, InviteRequest, ManualClock, Notifier, NotifyError,
    OutgoingNotice, PageRequest, PasswordPolicy, Role, Roster, RosterConfig,
};
use roster_memory::InMemoryStore;

/// A notifier whose sends never end; counts how many were begun.
#[derive(Default)]
struct Hanging {
    begun: AtomicUsize,
}

#[async_trait]
impl Notifier for Hanging {
    async fn send(&self, _notice: &OutgoingNotice) -> Result<(), NotifyError> {
        self.begun.fetch_add(1, Ordering::SeqCst);
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_notifier_that_never_answers_is_cut_at_the_deadline() {
    let notifier = Arc::new(Hanging::default());
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let delivery = DeliveryPolicy::default()
        .send_deadline(Duration::seconds(1))
        .lease(Duration::seconds(3))
        .concurrency(1);
    let roster = Roster::builder(Arc::new(InMemoryStore::new()), notifier.clone())
        .clock(clock.clone())
        .config(
            RosterConfig::default()
                .delivery(delivery)
                .passwords(PasswordPolicy::insecure_fast_for_tests()),
        )
        .build()
        .expect("a valid configuration");
    let (admin, project) = support::admin_with_project(&roster).await;
    let rows: Vec<_> = ["a@example.com", "b@example.com", "c@example.com"]
        .into_iter()
        .map(|address| InviteRequest::new(address, Role::USER))
        .collect();

    // One send at a time: the first hangs and is cut, the other two are never begun.
    let report = roster.invite(admin.id, project.id, &rows).await.unwrap();
    assert_eq!(report.sent(), 3);
    assert_eq!(notifier.begun.load(Ordering::SeqCst), 1);
    let queued = roster
        .notices(
            admin.id,
            project.id,
            Some(DeliveryStatus::Queued),
            PageRequest::first(10),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(queued.len(), 3);
    let (cut, unsent): (Vec<_>, Vec<_>) = queued.iter().partition(|entry| entry.attempts == 1);
    assert_eq!(cut.len(), 1, "{queued:?}");
    assert!(
        cut[0]
            .last_error
            .as_deref()
            .is_some_and(|error| error.contains("deadline")),
        "{cut:?}"
    );
    assert!(
        cut[0].next_attempt_at > clock.now(),
        "the cut send backs off"
    );
    for entry in &unsent {
        assert_eq!(entry.attempts, 0, "never attempted: {entry:?}");
        assert_eq!(entry.next_attempt_at, clock.now(), "due at once: {entry:?}");
        assert_eq!(entry.last_error, None);
    }

    // A delivery pass meets the same silence: each of its sends is cut too, and counted.
    let report = roster.deliver_due().await.unwrap();
    assert_eq!(report.retrying, 2, "{report:?}");
    assert_eq!(notifier.begun.load(Ordering::SeqCst), 3);
    let status = roster.delivery_status().await.unwrap();
    assert_eq!((status.queued, status.retrying, status.failed), (3, 3, 0));
}
