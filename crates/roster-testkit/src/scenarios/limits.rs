//! Configured limits answer with typed errors or row outcomes, never a silent drop.

use std::sync::Arc;

use chrono::Duration;
use roster::{InviteOutcome, InviteRequest, LimitKind, Limits, Role, RosterError, Store};

use super::harness::{World, email, sent};

const DAILY: LimitKind = LimitKind::InvitationsPerInviterPerDay { limit: 5 };

fn rows(addresses: &[&str]) -> Vec<InviteRequest> {
    addresses
        .iter()
        .map(|address| InviteRequest::new(*address, Role::USER))
        .collect()
}

/// Under `Limits::portal()` an inviter sends at most 5 invitations in any rolling 24 hours, across
/// projects: the 6th row is `LimitReached` (and leaves no trace) while the others are sent; a day
/// later sending works again.
pub async fn the_portal_limit_allows_five_invitations_a_day(store: Arc<dyn Store>) {
    let world = World::with_limits(store, Limits::portal());
    let (admin, project) = world.admin_with_project().await;
    let other = world.sibling_project(&admin, &project, "Other").await;
    let six = [
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
        "e@example.com",
        "f@example.com",
    ];
    let report = world
        .roster
        .invite(admin.id, project.id, &rows(&six))
        .await
        .unwrap();
    assert_eq!(report.sent(), 5);
    assert!(report.rows[..5].iter().all(|row| row.outcome.is_sent()));
    assert_eq!(report.rows[5].outcome, InviteOutcome::LimitReached(DAILY));
    assert_eq!(world.user("f@example.com").await, None);
    assert!(
        world
            .notifier
            .messages_to(&email("f@example.com"))
            .is_empty()
    );
    assert_eq!(world.notifier.messages().len(), 5);

    // The budget is the inviter's, not the project's.
    world.advance(Duration::hours(23));
    let later = world
        .invite(admin.id, other.id, "f@example.com", Role::USER)
        .await;
    assert_eq!(later, InviteOutcome::LimitReached(DAILY));

    world.advance(Duration::hours(1) + Duration::seconds(1));
    let next_day = world
        .invite(admin.id, other.id, "f@example.com", Role::USER)
        .await;
    assert!(next_day.is_sent(), "{next_day:?}");
}

/// Every email counts against the one who sent it: refreshing or resending one's own
/// invitation spends a unit of the daily budget like a first send, and the send that would go
/// over is refused, changing nothing.
pub async fn every_send_counts_against_its_sender(store: Arc<dyn Store>) {
    let world = World::with_limits(store, Limits::portal());
    let (admin, project) = world.admin_with_project().await;
    let three = ["a@example.com", "b@example.com", "c@example.com"];
    let report = world
        .roster
        .invite(admin.id, project.id, &rows(&three))
        .await
        .unwrap();
    assert_eq!(report.sent(), 3);
    world.advance(Duration::hours(2));
    let refreshed = world
        .invite(admin.id, project.id, "a@example.com", Role::OBSERVER)
        .await;
    assert!(
        matches!(refreshed, InviteOutcome::Refreshed { .. }),
        "{refreshed:?}"
    );
    let (b, _) = sent(report.rows[1].outcome.clone());
    world.roster.resend(admin.id, b.id).await.unwrap();
    let before = world.invitation(&b).await;
    assert_err!(
        world.roster.resend(admin.id, b.id).await,
        RosterError::LimitReached(DAILY)
    );
    assert_eq!(
        world.invitation(&b).await,
        before,
        "a refused resend changes nothing"
    );
    assert_eq!(
        world
            .invite(admin.id, project.id, "c@example.com", Role::USER)
            .await,
        InviteOutcome::LimitReached(DAILY),
        "a refresh over the budget is refused too"
    );
}

/// The sequence that refilled a budget when the count followed an invitation's last sender:
/// Alice sends 5 and her sixth is refused; Bob re-invites 4 of her pending addresses (his own
/// sends); Alice's next new invitations are still refused until her first sends leave the
/// window.
pub async fn a_colleague_refresh_gives_no_budget_back(store: Arc<dyn Store>) {
    let world = World::with_limits(store, Limits::portal());
    let (alice, project) = world.admin_with_project().await;
    let bob = world
        .new_member(alice.id, project.id, "bob@example.com", Role::ADMINISTRATOR)
        .await;
    // Bob's own invitation leaves Alice's window first.
    world.advance(Duration::hours(25));
    let hers = [
        "a1@example.com",
        "a2@example.com",
        "a3@example.com",
        "a4@example.com",
        "a5@example.com",
    ];
    let report = world
        .roster
        .invite(alice.id, project.id, &rows(&hers))
        .await
        .unwrap();
    assert_eq!(report.sent(), 5);
    assert_eq!(
        world
            .invite(alice.id, project.id, "a6@example.com", Role::USER)
            .await,
        InviteOutcome::LimitReached(DAILY)
    );
    world.advance(Duration::hours(1));
    let refreshed = world
        .roster
        .invite(bob.id, project.id, &rows(&hers[..4]))
        .await
        .unwrap();
    assert!(
        refreshed
            .rows
            .iter()
            .all(|row| matches!(row.outcome, InviteOutcome::Refreshed { .. })),
        "{refreshed:?}"
    );
    let more = [
        "n1@example.com",
        "n2@example.com",
        "n3@example.com",
        "n4@example.com",
    ];
    let report = world
        .roster
        .invite(alice.id, project.id, &rows(&more))
        .await
        .unwrap();
    assert_eq!(report.sent(), 0, "{report:?}");
    assert!(
        report
            .rows
            .iter()
            .all(|row| row.outcome == InviteOutcome::LimitReached(DAILY)),
        "{report:?}"
    );
    world.advance(Duration::hours(24));
    let next_day = world
        .invite(alice.id, project.id, "n1@example.com", Role::USER)
        .await;
    assert!(
        next_day.is_sent(),
        "a day after her first sends: {next_day:?}"
    );
}

/// `Limits::pending_invitations_per_project` caps the pending invitations of a project: the row
/// over the cap is `LimitReached`; refreshes do not add one; closed and expired ones do not count.
pub async fn pending_invitations_per_project_are_capped(store: Arc<dyn Store>) {
    let limits = Limits::default().pending_invitations_per_project(Some(2));
    let world = World::with_limits(store, limits);
    let (admin, project) = world.admin_with_project().await;
    let other = world.sibling_project(&admin, &project, "Other").await;
    let cap = LimitKind::PendingInvitationsPerProject { limit: 2 };
    let report = world
        .roster
        .invite(
            admin.id,
            project.id,
            &rows(&["a@example.com", "b@example.com", "c@example.com"]),
        )
        .await
        .unwrap();
    assert_eq!(report.sent(), 2);
    assert_eq!(report.rows[2].outcome, InviteOutcome::LimitReached(cap));
    assert_eq!(world.user("c@example.com").await, None);
    let refreshed = world
        .invite(admin.id, project.id, "a@example.com", Role::OBSERVER)
        .await;
    assert!(
        matches!(refreshed, InviteOutcome::Refreshed { .. }),
        "{refreshed:?}"
    );
    // Another project has its own budget.
    assert!(
        world
            .invite(admin.id, other.id, "c@example.com", Role::USER)
            .await
            .is_sent()
    );

    let (a, _) = sent(refreshed);
    world.roster.revoke(admin.id, a.id).await.unwrap();
    assert!(
        world
            .invite(admin.id, project.id, "c@example.com", Role::USER)
            .await
            .is_sent()
    );
    assert_eq!(
        world
            .invite(admin.id, project.id, "d@example.com", Role::USER)
            .await,
        InviteOutcome::LimitReached(cap)
    );
    world.advance(Duration::days(8));
    let report = world
        .roster
        .invite(
            admin.id,
            project.id,
            &rows(&["d@example.com", "e@example.com"]),
        )
        .await
        .unwrap();
    assert_eq!(report.sent(), 2, "{report:?}");
}

/// `Limits::rows_per_invite` bounds one call: a longer one fails as a whole with
/// `LimitReached(RowsPerInvite)` and changes nothing.
pub async fn too_many_rows_fail_the_whole_call(store: Arc<dyn Store>) {
    let limits = Limits::default().rows_per_invite(3);
    let world = World::with_limits(store, limits);
    let (admin, project) = world.admin_with_project().await;
    let before = world.snapshot(project.id).await;
    let four = [
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
    ];
    assert_err!(
        world
            .roster
            .invite(admin.id, project.id, &rows(&four))
            .await,
        RosterError::LimitReached(LimitKind::RowsPerInvite { limit: 3 })
    );
    assert_eq!(world.snapshot(project.id).await, before);
    assert_eq!(world.user("a@example.com").await, None);
    let report = world
        .roster
        .invite(admin.id, project.id, &rows(&four[..3]))
        .await
        .unwrap();
    assert_eq!(report.sent(), 3);
}
