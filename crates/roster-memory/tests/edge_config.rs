//! Configurations and clocks at the edges of what their types allow: no command panics. Times
//! that would overflow saturate at the latest (or earliest) instant `chrono` can hold.

mod support;

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use roster::{
    DeliveryPolicy, InviteRequest, Limits, ManualClock, PasswordPolicy, Role, Roster, RosterConfig,
    RosterError,
};
use roster_memory::{InMemoryStore, RecordingNotifier};

fn roster(clock: DateTime<Utc>, config: RosterConfig) -> Roster {
    Roster::builder(
        Arc::new(InMemoryStore::new()),
        Arc::new(RecordingNotifier::new()),
    )
    .clock(Arc::new(ManualClock::new(clock)))
    .config(config.passwords(PasswordPolicy::insecure_fast_for_tests()))
    .build()
    .expect("a valid configuration")
}

/// Registers an administrator with a project, invites one address, resends it and runs a
/// delivery pass: every time a command computes.
async fn every_computed_time(roster: &Roster) {
    let (admin, project) = support::admin_with_project(roster).await;
    let rows = [InviteRequest::new("ann@example.com", Role::USER)];
    let report = roster.invite(admin.id, project.id, &rows).await.unwrap();
    let invitation = match &report.rows[0].outcome {
        roster::InviteOutcome::Invited { invitation, .. } => invitation.id,
        other => panic!("not invited: {other:?}"),
    };
    // At the end of time an invitation expires as it is made (its expiry saturates at "now"):
    // a typed refusal, never a panic (which a store would answer as a backend error).
    match roster.resend(admin.id, invitation).await {
        Ok(_) | Err(RosterError::InvitationClosed { .. }) => {}
        Err(other) => panic!("resend: {other:?}"),
    }
    roster.deliver_due().await.unwrap();
}

#[tokio::test]
async fn the_longest_invitation_lifetime_and_lease_do_not_panic() {
    let config = RosterConfig::default()
        .limits(
            Limits::default()
                .invitation_lifetime(TimeDelta::MAX)
                .invitations_per_inviter_per_day(Some(5)),
        )
        .delivery(
            DeliveryPolicy::default()
                .lease(TimeDelta::MAX)
                .initial_backoff(TimeDelta::MAX)
                .max_backoff(TimeDelta::MAX),
        );
    every_computed_time(&roster(Utc::now(), config)).await;
}

#[tokio::test]
async fn a_clock_at_the_latest_instant_does_not_panic() {
    let config = RosterConfig::default().limits(Limits::portal());
    every_computed_time(&roster(DateTime::<Utc>::MAX_UTC, config)).await;
}

#[tokio::test]
async fn a_clock_at_the_earliest_instant_does_not_panic() {
    let config = RosterConfig::default().limits(Limits::portal());
    every_computed_time(&roster(DateTime::<Utc>::MIN_UTC, config)).await;
}
