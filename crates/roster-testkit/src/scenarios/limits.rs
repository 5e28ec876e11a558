//! Configured limits answer with typed errors or row outcomes, never a silent drop.

use std::sync::Arc;

use chrono::Duration;
use roster::{InviteOutcome, InviteRequest, LimitKind, Limits, Role, RosterError, Store};

use super::harness::{World, email, sent};

const DAILY: LimitKind = LimitKind::InvitationsPerInviterPerDay { limit: 5 };

fn rows(addresses: &[&str]) -> Vec<InviteRequest> {
    addresses
        .iter()
        .map(|address| InviteRequest::new(*address, Role::User))
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
        .invite(admin.id, other.id, "f@example.com", Role::User)
        .await;
    assert_eq!(later, InviteOutcome::LimitReached(DAILY));

    world.advance(Duration::hours(1) + Duration::seconds(1));
    let next_day = world
        .invite(admin.id, other.id, "f@example.com", Role::User)
        .await;
    assert!(next_day.is_sent(), "{next_day:?}");
}

/// Refreshing or resending an invitation one already sent within the window costs nothing from
/// the daily budget, while a new address still hits the limit; resending or refreshing someone
/// else's invitation is a send of one's own and counts.
pub async fn refreshing_your_own_invitation_is_free(store: Arc<dyn Store>) {
    let world = World::with_limits(store, Limits::portal());
    let (admin, project) = world.admin_with_project().await;
    let manager = world
        .new_member(
            admin.id,
            project.id,
            "manager@example.com",
            Role::Administrator,
        )
        .await;
    let four = [
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
    ];
    let report = world
        .roster
        .invite(admin.id, project.id, &rows(&four))
        .await
        .unwrap();
    assert_eq!(report.sent(), 4);
    world.advance(Duration::hours(2));
    let refreshed = world
        .invite(admin.id, project.id, "a@example.com", Role::Observer)
        .await;
    assert!(
        matches!(refreshed, InviteOutcome::Refreshed { .. }),
        "{refreshed:?}"
    );
    let (b, _) = sent(report.rows[1].outcome.clone());
    world.roster.resend(admin.id, b.id).await.unwrap();
    assert_eq!(
        world
            .invite(admin.id, project.id, "e@example.com", Role::User)
            .await,
        InviteOutcome::LimitReached(DAILY)
    );

    let theirs = [
        "m1@example.com",
        "m2@example.com",
        "m3@example.com",
        "m4@example.com",
        "m5@example.com",
    ];
    let report = world
        .roster
        .invite(manager.id, project.id, &rows(&theirs))
        .await
        .unwrap();
    assert_eq!(report.sent(), 5);
    let before = world.invitation(&b).await;
    assert_err!(
        world.roster.resend(manager.id, b.id).await,
        RosterError::LimitReached(DAILY)
    );
    assert_eq!(world.invitation(&b).await, before);
    assert_eq!(
        world
            .invite(manager.id, project.id, "c@example.com", Role::User)
            .await,
        InviteOutcome::LimitReached(DAILY)
    );
}

/// `Limits::pending_invitations_per_project` caps the pending invitations of a project: the row
/// over the cap is `LimitReached`; refreshes do not add one; closed and expired ones do not count.
pub async fn pending_invitations_per_project_are_capped(store: Arc<dyn Store>) {
    let limits = Limits {
        pending_invitations_per_project: Some(2),
        ..Limits::default()
    };
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
        .invite(admin.id, project.id, "a@example.com", Role::Observer)
        .await;
    assert!(
        matches!(refreshed, InviteOutcome::Refreshed { .. }),
        "{refreshed:?}"
    );
    // Another project has its own budget.
    assert!(
        world
            .invite(admin.id, other.id, "c@example.com", Role::User)
            .await
            .is_sent()
    );

    let (a, _) = sent(refreshed);
    world.roster.revoke(admin.id, a.id).await.unwrap();
    assert!(
        world
            .invite(admin.id, project.id, "c@example.com", Role::User)
            .await
            .is_sent()
    );
    assert_eq!(
        world
            .invite(admin.id, project.id, "d@example.com", Role::User)
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
    let limits = Limits {
        rows_per_invite: 3,
        ..Limits::default()
    };
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
