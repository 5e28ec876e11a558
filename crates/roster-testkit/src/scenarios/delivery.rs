//! The outbox: notices survive a failing notifier, are retried on schedule with a fresh token,
//! can be re-queued after a permanent failure, are cancelled when their invitation closed, and
//! are sent again when a process died mid-send.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use roster::{
    DeliveryReport, DeliveryStatus, Denial, InvitationState, NoticeKind, Role, RosterError, Store,
};
use roster_memory::Failure;

use super::harness::{HangingNotifier, World, email, new_user};

/// Longer than any first backoff (at most `DeliveryPolicy::initial_backoff`, 30 s by default).
pub(super) const PAST_BACKOFF: i64 = 31;

fn report(delivered: usize, retrying: usize, failed: usize, cancelled: usize) -> DeliveryReport {
    DeliveryReport {
        delivered,
        retrying,
        failed,
        cancelled,
    }
}

/// With a temporarily failing notifier the invite still succeeds and its notice waits, queued and
/// listed, not due before its backoff; once due it is delivered with a fresh token, and only that
/// newest token works (not the one in the invite's outcome).
pub async fn a_temporary_failure_leaves_the_notice_queued_for_retry(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    world.notifier.fail_with(Failure::Temporary);
    let sent_at = world.now();
    let (invitation, first_token) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    assert!(world.notifier.messages().is_empty());
    let queued = world
        .notices(admin.id, project.id, Some(DeliveryStatus::Queued))
        .await;
    assert_eq!(queued.len(), 1);
    let entry = &queued[0];
    assert_eq!(entry.notice.invitation, invitation.id);
    assert_eq!(entry.notice.kind, NoticeKind::Invitation);
    assert_eq!(entry.attempts, 1);
    assert!(entry.last_error.as_deref().is_some_and(|e| !e.is_empty()));
    assert!(entry.next_attempt_at > sent_at);
    assert!(entry.next_attempt_at <= sent_at + Duration::seconds(30));

    world.notifier.succeed();
    // Not due before its backoff: neither listed as due nor delivered.
    world.advance(Duration::seconds(14));
    assert!(
        world
            .store
            .due_notices(world.now(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        world.roster.deliver_due().await.unwrap(),
        report(0, 0, 0, 0)
    );
    assert!(world.notifier.messages().is_empty());

    world.advance(Duration::seconds(PAST_BACKOFF - 14));
    assert_eq!(
        world
            .store
            .due_notices(world.now(), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        world.roster.deliver_due().await.unwrap(),
        report(1, 0, 0, 0)
    );
    let to = email("ann@example.com");
    let fresh = world
        .notifier
        .last_token_to(&to)
        .expect("delivered with a token");
    assert_ne!(fresh, first_token);
    assert!(!world.opens(&first_token).await);
    assert!(world.opens(&fresh).await);
    let delivered = world
        .notices(admin.id, project.id, Some(DeliveryStatus::Delivered))
        .await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].id, entry.id);
    assert_eq!(delivered[0].attempts, 2);
    // Delivered notices are not due again.
    world.advance(Duration::hours(2));
    assert_eq!(
        world.roster.deliver_due().await.unwrap(),
        report(0, 0, 0, 0)
    );
    world.roster.accept(&fresh, new_user()).await.unwrap();
}

/// A permanent failure marks the notice `Failed` with its reason, listed for Administrators and
/// never retried by itself; `requeue_notice` sends it again with a working token.
pub async fn a_permanent_failure_is_listed_and_can_be_requeued(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let user = world
        .new_member(admin.id, project.id, "user@example.com", Role::USER)
        .await;
    world.notifier.fail_with(Failure::Permanent);
    let (_, first_token) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    let failed = world
        .notices(admin.id, project.id, Some(DeliveryStatus::Failed))
        .await;
    assert_eq!(failed.len(), 1);
    let entry = failed[0].clone();
    assert!(entry.last_error.as_deref().is_some_and(|e| !e.is_empty()));
    assert_eq!(entry.finished_at, Some(world.now()));
    let status = world.roster.delivery_status().await.unwrap();
    assert_eq!((status.queued, status.failed), (0, 1), "{status:?}");
    world.advance(Duration::hours(2));
    assert_eq!(
        world.roster.deliver_due().await.unwrap(),
        report(0, 0, 0, 0)
    );

    world.notifier.succeed();
    assert_err!(
        world.roster.requeue_notice(user.id, entry.id).await,
        RosterError::Forbidden(Denial::NotAnAdministrator)
    );
    assert_eq!(
        world
            .roster
            .requeue_notice(admin.id, entry.id)
            .await
            .unwrap(),
        report(1, 0, 0, 0)
    );
    let to = email("ann@example.com");
    let messages = world.notifier.messages_to(&to);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].id, entry.id);
    let token = messages[0]
        .token
        .clone()
        .expect("an invitation carries a link");
    assert!(!world.opens(&first_token).await);
    world.roster.accept(&token, new_user()).await.unwrap();
    assert_err!(
        world.roster.requeue_notice(admin.id, entry.id).await,
        RosterError::NoticeNotRetryable
    );
    assert!(
        world
            .notices(admin.id, project.id, Some(DeliveryStatus::Failed))
            .await
            .is_empty()
    );
}

/// A queued notice whose invitation was revoked meanwhile is cancelled, not sent; the revocation
/// notice is delivered instead.
pub async fn a_notice_for_a_revoked_invitation_is_cancelled(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    world.notifier.fail_with(Failure::Temporary);
    let (invitation, _) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    world.roster.revoke(admin.id, invitation.id).await.unwrap();
    world.notifier.succeed();
    world.advance(Duration::seconds(PAST_BACKOFF));
    assert_eq!(
        world.roster.deliver_due().await.unwrap(),
        report(1, 0, 0, 1)
    );
    let messages = world.notifier.messages_to(&email("ann@example.com"));
    let kinds: Vec<NoticeKind> = messages.iter().map(|m| m.notice.kind).collect();
    assert_eq!(kinds, [NoticeKind::Revocation]);
    let cancelled = world
        .notices(admin.id, project.id, Some(DeliveryStatus::Cancelled))
        .await;
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].notice.kind, NoticeKind::Invitation);
    assert_eq!(
        world.invitation(&invitation).await.state,
        InvitationState::Revoked
    );
}

/// When an invitation is sent again while its first notice waits, only the newer notice goes out;
/// the older one is cancelled, and the one link delivered is the one that works.
pub async fn a_superseded_notice_is_not_sent(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    world.notifier.fail_with(Failure::Temporary);
    let (_, first) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    world.advance(Duration::minutes(1));
    let (_, second) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    world.notifier.succeed();
    world.advance(Duration::seconds(PAST_BACKOFF));
    assert_eq!(
        world.roster.deliver_due().await.unwrap(),
        report(1, 0, 0, 1)
    );
    let to = email("ann@example.com");
    assert_eq!(world.notifier.messages_to(&to).len(), 1);
    let delivered = world.notifier.last_token_to(&to).unwrap();
    assert!(!world.opens(&first).await);
    assert!(!world.opens(&second).await);
    world.roster.accept(&delivered, new_user()).await.unwrap();
}

/// A process that dies mid-send leaves its notice queued under a lease: not due before the lease
/// runs out, due after it, and then delivered (again) by another process with a working token.
pub async fn a_notice_interrupted_mid_send_is_sent_after_its_lease(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let reached = Arc::new(tokio::sync::Notify::new());
    let doomed = world.process_with(Arc::new(HangingNotifier {
        reached: reached.clone(),
    }));
    let invite = {
        let (admin, project) = (admin.id, project.id);
        tokio::spawn(async move {
            let rows = [roster::InviteRequest::new("ann@example.com", Role::USER)];
            doomed.invite(admin, project, &rows).await
        })
    };
    tokio::time::timeout(StdDuration::from_secs(10), reached.notified())
        .await
        .expect("the invite reached its send");
    invite.abort();
    assert!(invite.await.unwrap_err().is_cancelled());

    let committed_at = world.now();
    let lease = world.roster.config().delivery.lease;
    let queued = world
        .notices(admin.id, project.id, Some(DeliveryStatus::Queued))
        .await;
    assert_eq!(
        queued.len(),
        1,
        "the invitation and its notice were committed"
    );
    let entry = &queued[0];
    assert_eq!(entry.attempts, 1);
    assert_eq!(entry.next_attempt_at, committed_at + lease);
    let store = &world.store;
    let before_lease = committed_at + lease - Duration::seconds(1);
    assert!(
        store
            .due_notices(before_lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .due_notices(committed_at + lease, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        world.roster.deliver_due().await.unwrap(),
        report(0, 0, 0, 0)
    );

    world.advance(lease);
    assert_eq!(
        world.roster.deliver_due().await.unwrap(),
        report(1, 0, 0, 0)
    );
    let token = world
        .notifier
        .last_token_to(&email("ann@example.com"))
        .expect("sent again with a token");
    let delivered = world
        .notices(admin.id, project.id, Some(DeliveryStatus::Delivered))
        .await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].attempts, 2);
    world.roster.accept(&token, new_user()).await.unwrap();
}

/// An outage of the mail server, however long, delays mail but never loses it: through 30
/// hours of temporary failures (a delivery pass every 10 minutes of the clock, past many retry
/// schedules) no notice is marked failed, and once the server is back every one goes out, with
/// links that work.
pub async fn a_long_outage_delays_mail_but_never_loses_it(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    world.notifier.fail_with(Failure::Temporary);
    let addresses = ["ann@example.com", "bob@example.com", "cid@example.com"];
    let outage_began = world.now();
    for address in addresses {
        world.send(admin.id, project.id, address, Role::USER).await;
    }
    for _ in 0..(30 * 6) {
        world.advance(Duration::minutes(10));
        world.roster.deliver_pending().await.unwrap();
    }
    let failed = world
        .notices(admin.id, project.id, Some(DeliveryStatus::Failed))
        .await;
    assert!(
        failed.is_empty(),
        "temporary failures never fail a notice: {failed:?}"
    );
    assert_eq!(
        world
            .notices(admin.id, project.id, Some(DeliveryStatus::Queued))
            .await
            .len(),
        addresses.len()
    );
    let status = world.roster.delivery_status().await.unwrap();
    assert_eq!(
        (status.queued, status.retrying, status.failed),
        (3, 3, 0),
        "the outage is visible: {status:?}"
    );
    assert_eq!(status.oldest_queued_at, Some(outage_began), "{status:?}");

    world.notifier.succeed();
    world.advance(Duration::hours(1) + Duration::seconds(1));
    let report = world.roster.deliver_pending().await.unwrap();
    assert_eq!(report.delivered, addresses.len(), "{report:?}");
    for address in addresses {
        let token = world
            .notifier
            .last_token_to(&email(address))
            .expect("delivered after the outage");
        assert!(world.opens(&token).await, "{address}: the last link works");
    }
    let status = world.roster.delivery_status().await.unwrap();
    assert_eq!(
        status,
        roster::OutboxStatus::default(),
        "nothing left waiting"
    );
}

/// An invite call's rows, and a resend, say how their email fared right after the commit:
/// delivered, queued for a retry (the notifier failed for now), or failed for good; rows that
/// sent nothing say nothing.
pub async fn each_sent_row_says_how_its_email_fared(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let rows = |addresses: &[&str]| -> Vec<roster::InviteRequest> {
        addresses
            .iter()
            .map(|address| roster::InviteRequest::new(*address, Role::USER))
            .collect()
    };
    let report = world
        .roster
        .invite(
            admin.id,
            project.id,
            &rows(&["a@example.com", "not-an-address"]),
        )
        .await
        .unwrap();
    assert_eq!(report.rows[0].delivery, Some(DeliveryStatus::Delivered));
    assert_eq!(report.rows[1].delivery, None);
    assert_eq!(report.delivery, self::report(1, 0, 0, 0));

    world.notifier.fail_with(Failure::Temporary);
    let report = world
        .roster
        .invite(admin.id, project.id, &rows(&["b@example.com"]))
        .await
        .unwrap();
    assert_eq!(report.rows[0].delivery, Some(DeliveryStatus::Queued));
    assert_eq!(report.delivery, self::report(0, 1, 0, 0));
    let (invitation, _) = super::harness::sent(report.rows[0].outcome.clone());
    let resent = world.roster.resend(admin.id, invitation.id).await.unwrap();
    assert_eq!(resent.delivery, DeliveryStatus::Queued);

    world.notifier.fail_with(Failure::Permanent);
    let report = world
        .roster
        .invite(admin.id, project.id, &rows(&["c@example.com"]))
        .await
        .unwrap();
    assert_eq!(report.rows[0].delivery, Some(DeliveryStatus::Failed));

    world.notifier.succeed();
    let resent = world.roster.resend(admin.id, invitation.id).await.unwrap();
    assert_eq!(resent.delivery, DeliveryStatus::Delivered);
}
