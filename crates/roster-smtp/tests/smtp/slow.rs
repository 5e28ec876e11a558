//! A slow server never leaves a dead link: roster cuts a send at its deadline, well before the
//! lease runs out, so no stalled send can finish after a later one with a fresh token.

use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use roster::{DeliveryPolicy, DeliveryStatus, InviteOutcome, InviteRequest, Role};

use super::server::TestServer;
use super::support::{Portal, mails_to, notifier};

/// The send deadline of these tests.
const DEADLINE: Duration = Duration::seconds(1);
/// How long the server hangs before answering `DATA`: longer than the deadline and the lease.
const STALL: StdDuration = StdDuration::from_secs(4);

fn delivery() -> DeliveryPolicy {
    // The shortest lease the configuration allows: two deadlines and the record delay.
    DeliveryPolicy::default()
        .send_deadline(DEADLINE)
        .lease(Duration::milliseconds(2_200))
        .batch_size(3)
}

/// The sequence: the server hangs on the first message, the lease runs out (the clock
/// moves past it) while a delivery pass sends the notice again with a fresh token, and the
/// hung send must not deliver its old link last. Without a deadline the first send finished
/// after the second and the last email carried a dead link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_send_is_cut_and_the_last_link_delivered_works() {
    let server = TestServer::start().await;
    let portal = Portal::open_with(notifier(&server.url()), delivery()).await;
    server.stall_next(1, STALL);
    let started = Instant::now();
    let invite = {
        let (roster, admin, project) = (portal.roster.clone(), portal.admin.id, portal.project.id);
        tokio::spawn(async move {
            let rows = [InviteRequest::new("ann@example.com", Role::USER)];
            roster.invite(admin, project, &rows).await
        })
    };
    tokio::time::sleep(StdDuration::from_millis(1_500)).await;
    portal.pass_backoff();
    portal.roster.deliver_due().await.unwrap();
    let report = invite.await.unwrap().unwrap();
    assert!(
        matches!(report.rows[0].outcome, InviteOutcome::Invited { .. }),
        "{report:?}"
    );
    // Give the hung send every chance to finish and deliver its message.
    let settle = (STALL + StdDuration::from_secs(1)).saturating_sub(started.elapsed());
    tokio::time::sleep(settle).await;

    let mails = mails_to(&server.received(), "ann@example.com");
    let last = mails.last().expect("an email arrived");
    let token = last.token().expect("a link");
    portal
        .roster
        .preview(&token)
        .await
        .expect("the link in the last email delivered works");
    assert_eq!(mails.len(), 1, "the cut send delivered nothing");
    let delivered = portal.notices(Some(DeliveryStatus::Delivered)).await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        delivered[0].attempts, 2,
        "the cut attempt counted, then one more"
    );
}

/// The mail a command waits for is bounded by the deadline: with the server hanging on every
/// message, a bulk invite returns with its notices queued for the worker (the one cut, the
/// others never begun), and they go out once the server answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_waits_for_mail_no_longer_than_the_deadline() {
    let server = TestServer::start().await;
    let portal = Portal::open_with(notifier(&server.url()), delivery().concurrency(1)).await;
    server.stall_next(1, STALL);
    let report = portal
        .invite(&["a@example.com", "b@example.com", "c@example.com"])
        .await;
    assert_eq!(report.sent(), 3);
    let queued = portal.notices(Some(DeliveryStatus::Queued)).await;
    assert_eq!(queued.len(), 3, "all left to the worker: {queued:?}");
    let cut: Vec<_> = queued.iter().filter(|entry| entry.attempts == 1).collect();
    assert_eq!(
        cut.len(),
        1,
        "one send was cut, two never began: {queued:?}"
    );
    assert!(
        cut[0]
            .last_error
            .as_deref()
            .is_some_and(|error| error.contains("deadline")),
        "{cut:?}"
    );
    assert!(server.received().is_empty());

    portal.pass_backoff();
    let delivered = portal.roster.deliver_pending().await.unwrap();
    assert_eq!(delivered.delivered, 3, "{delivered:?}");
    for address in ["a@example.com", "b@example.com", "c@example.com"] {
        let mails = mails_to(&server.received(), address);
        assert_eq!(mails.len(), 1, "{address}");
        portal
            .roster
            .preview(&mails[0].token().unwrap())
            .await
            .unwrap_or_else(|error| panic!("{address}: {error}"));
    }
}
