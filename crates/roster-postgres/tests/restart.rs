//! A real server restart (`pg_ctl restart -m fast`, through the shell command
//! `ROSTER_POSTGRES_RESTART` that `scripts/postgres-throwaway` sets): the store serves the next
//! calls on fresh connections, and notices queued before the restart are delivered after it.
//! Skipped with a notice when either variable is unset. The only test of its binary, so that no
//! other test runs while the server is down.

mod common;

use std::sync::Arc;

use chrono::Duration;
use roster::{InvitationState, InviteRequest, Limits, ManualClock, Role};
use roster_memory::{Failure, RecordingNotifier};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_server_restart_the_store_recovers_and_queued_notices_go_out() {
    let Ok(restart) = std::env::var("ROSTER_POSTGRES_RESTART") else {
        eprintln!(
            "ROSTER_POSTGRES_RESTART is not set: skipping the restart test \
             (scripts/postgres-throwaway -- cargo test -p roster-postgres runs it)"
        );
        return;
    };
    let Some((store, _, _)) = common::fresh_postgres().await else {
        return;
    };
    let notifier = RecordingNotifier::new();
    let clock = Arc::new(ManualClock::new("2026-03-01T09:00:00Z".parse().unwrap()));
    let roster = common::roster_builder(
        Arc::new(store),
        Arc::new(notifier.clone()),
        Limits::default(),
    )
    .clock(clock.clone())
    .build()
    .unwrap();
    let (admin, project) = common::admin_with_project(&roster).await;

    // Mail is down: both invitations commit, their notices stay queued.
    notifier.fail_with(Failure::Temporary);
    let rows = [
        InviteRequest::new("ana@example.com", Role::USER),
        InviteRequest::new("ben@example.com", Role::USER),
    ];
    let report = roster.invite(admin.id, project.id, &rows).await.unwrap();
    assert_eq!(report.sent(), 2);
    roster.flush().await.unwrap();
    assert_eq!(roster.delivery_status().await.unwrap().queued, 2);

    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(&restart)
        .status()
        .expect("run ROSTER_POSTGRES_RESTART");
    assert!(status.success(), "the restart failed: {status}");

    // Mail is back and the retry is due: the pooled connections all died with the server, and
    // the next calls go through on fresh ones.
    notifier.succeed();
    clock.advance(Duration::hours(2));
    let delivered = roster.deliver_pending().await.unwrap();
    assert_eq!(delivered.delivered, 2, "{delivered:?}");
    for address in ["ana@example.com", "ben@example.com"] {
        let email = roster::Email::parse(address).unwrap();
        let token = notifier.last_token_to(&email).expect("a delivered link");
        let preview = roster.preview(&token).await.unwrap();
        assert_eq!(preview.state, InvitationState::Pending);
    }
    assert_eq!(roster.delivery_status().await.unwrap().queued, 0);

    // Writes go on as before.
    let rows = [InviteRequest::new("cy@example.com", Role::USER)];
    assert_eq!(
        roster
            .invite(admin.id, project.id, &rows)
            .await
            .unwrap()
            .sent(),
        1
    );
}
