//! Races: commands running at once on a multi-threaded runtime, where only the store's atomic,
//! version-guarded `apply` keeps the rules. The store is wrapped in [`Dawdling`] so that the racing
//! commands really interleave between their reads and their write.

use roster::StoreExt;
use std::sync::Arc;

use chrono::Duration;
use roster::{
    Acceptance, Accepted, AuditAction, DeliveryStatus, Denial, InvitationState, InviteOutcome,
    InviteRequest, Limits, Project, Role, Roster, RosterError, Store, User,
};
use roster_memory::Failure;
use tokio::sync::Barrier;

use super::dawdle::{Dawdling, PAUSE};
use super::delivery::PAST_BACKOFF;
use super::harness::{PASSWORD, World, email, new_user, sent};

/// A world on the store under test, slowed down so that racing commands interleave.
fn racing(store: Arc<dyn Store>) -> World {
    racing_with(store, Limits::default())
}

fn racing_with(store: Arc<dyn Store>, limits: Limits) -> World {
    World::with_limits(Arc::new(Dawdling::new(store)), limits)
}

/// Runs `count` copies of a task at once (released together by a barrier) and collects their
/// results in spawn order.
async fn all_at_once<T, F, Fut>(count: usize, task: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(count));
    let handles: Vec<_> = (0..count)
        .map(|i| {
            let (barrier, work) = (barrier.clone(), task(i));
            tokio::spawn(async move {
                barrier.wait().await;
                work.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(count);
    for handle in handles {
        results.push(handle.await.expect("task did not panic"));
    }
    results
}

/// Checks that exactly one acceptance won and every other one was refused as the race allows:
/// told the invitation is accepted, or (having read it just before the winner committed) that the
/// address is registered now.
fn exactly_one_winner(results: &[Result<Accepted, RosterError>]) -> Accepted {
    let winners: Vec<&Accepted> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for result in results {
        if let Err(error) = result {
            assert!(
                matches!(
                    error,
                    RosterError::InvitationClosed {
                        state: InvitationState::Accepted
                    } | RosterError::AlreadyRegistered
                ),
                "unexpected loser: {error:?}"
            );
        }
    }
    winners[0].clone()
}

/// 32 tasks accept one token as new users at once: exactly one wins (and its password is the one
/// set), the rest are told the invitation is accepted or the address registered, and there is
/// exactly one membership.
pub async fn one_token_accepted_by_many_new_users_at_once(store: Arc<dyn Store>) {
    let world = racing(store);
    let (admin, project) = world.admin_with_project().await;
    let (_, token) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    let results = all_at_once(32, |i| {
        let (roster, token) = (world.roster.clone(), token.clone());
        async move {
            let password = format!("password number {i}");
            roster
                .accept(&token, Acceptance::NewUser { password })
                .await
        }
    })
    .await;
    let winner = exactly_one_winner(&results);
    let index = results.iter().position(Result::is_ok).unwrap();
    world
        .roster
        .authenticate("ann@example.com", &format!("password number {index}"))
        .await
        .expect("the winner's password is the one set");
    assert_eq!(world.members(project.id).await.len(), 2);
    assert_eq!(
        world.role_of(project.id, winner.user.id).await,
        Some(Role::USER)
    );
    let accepted = world
        .audit(project.id)
        .await
        .into_iter()
        .filter(|e| matches!(e.action, roster::AuditAction::InvitationAccepted { .. }))
        .count();
    assert_eq!(accepted, 1);
}

/// 32 tasks accept one token for a registered user at once, half of them (wrongly) as new users:
/// exactly one acceptance wins, and there is exactly one membership.
pub async fn one_token_accepted_by_a_registered_user_many_times_at_once(store: Arc<dyn Store>) {
    let world = racing(store);
    let (admin, project) = world.admin_with_project().await;
    let bob = world.register("bob@example.com").await;
    let (_, token) = world
        .send(admin.id, project.id, "bob@example.com", Role::OBSERVER)
        .await;
    let results = all_at_once(32, |i| {
        let (roster, token) = (world.roster.clone(), token.clone());
        let acceptance = if i % 2 == 0 {
            Acceptance::ExistingUser { user: bob.id }
        } else {
            new_user()
        };
        async move { roster.accept(&token, acceptance).await }
    })
    .await;
    let winner = exactly_one_winner(&results);
    assert_eq!(winner.user.id, bob.id);
    assert_eq!(world.members(project.id).await.len(), 2);
    world
        .roster
        .authenticate("bob@example.com", PASSWORD)
        .await
        .expect("the password is untouched");
}

/// A fresh project of `base`'s account whose only Administrators are two users who are not
/// account administrators.
async fn two_administrators(
    world: &World,
    admin: &User,
    base: &Project,
    round: usize,
) -> (Project, User, User) {
    let project = world
        .sibling_project(admin, base, &format!("Round {round}"))
        .await;
    let mut administrators = Vec::new();
    for name in ["b", "c"] {
        let address = format!("{name}{round}@example.com");
        administrators.push(
            world
                .new_member(admin.id, project.id, &address, Role::ADMINISTRATOR)
                .await,
        );
    }
    world.roster.leave(admin.id, project.id).await.unwrap();
    assert_eq!(world.administrators(project.id).await, 2);
    let c = administrators.pop().unwrap();
    let b = administrators.pop().unwrap();
    (project, b, c)
}

/// Two Administrators demote each other at the same moment, over and over on fresh projects: one
/// demotion wins, the other is refused, and the project always keeps an Administrator.
pub async fn administrators_demoting_each_other_keep_one(store: Arc<dyn Store>) {
    let world = racing(store);
    let (admin, base) = world.admin_with_project().await;
    for round in 0..20 {
        let (project, b, c) = two_administrators(&world, &admin, &base, round).await;
        let pairs = [(b.id, c.id), (c.id, b.id)];
        let results = all_at_once(2, |i| {
            let roster: Roster = world.roster.clone();
            let (actor, target) = pairs[i];
            async move {
                roster
                    .change_role(actor, project.id, target, Role::USER)
                    .await
            }
        })
        .await;
        assert_eq!(
            world.administrators(project.id).await,
            1,
            "round {round}: {results:?}"
        );
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: {results:?}"
        );
        for error in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(
                matches!(
                    error,
                    RosterError::Forbidden(Denial::NotAnAdministrator)
                        | RosterError::LastAdministrator
                ),
                "round {round}: {error:?}"
            );
        }
    }
}

/// The two last Administrators leave at the same moment, over and over on fresh projects: one
/// leaves, the other is told `LastAdministrator`.
pub async fn the_last_two_administrators_leaving_at_once_keep_one(store: Arc<dyn Store>) {
    let world = racing(store);
    let (admin, base) = world.admin_with_project().await;
    for round in 0..20 {
        let (project, b, c) = two_administrators(&world, &admin, &base, round).await;
        let leavers = [b.id, c.id];
        let results = all_at_once(2, |i| {
            let roster = world.roster.clone();
            let user = leavers[i];
            async move { roster.leave(user, project.id).await }
        })
        .await;
        assert_eq!(
            world.administrators(project.id).await,
            1,
            "round {round}: {results:?}"
        );
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}"
        );
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(RosterError::LastAdministrator)))
        );
    }
}

/// 16 invites of one new address to one project at once: all succeed, exactly one creates the
/// invitation and the others refresh it, exactly one invitation is pending, exactly one of the 16
/// tokens works, and each committed call sent exactly one notice (a retried decision sends
/// nothing).
pub async fn concurrent_invites_of_one_address_leave_one_pending_invitation(store: Arc<dyn Store>) {
    let world = racing(store);
    let (admin, project) = world.admin_with_project().await;
    let roles = [Role::OBSERVER, Role::USER, Role::ADMINISTRATOR];
    let results = all_at_once(16, |i| {
        let roster = world.roster.clone();
        let (actor, project) = (admin.id, project.id);
        let rows = [InviteRequest::new("Ann@example.com", roles[i % 3])];
        async move { roster.invite(actor, project, &rows).await }
    })
    .await;
    let outcomes: Vec<InviteOutcome> = results
        .into_iter()
        .map(|r| r.expect("every invite succeeds").rows.remove(0).outcome)
        .collect();
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, InviteOutcome::Invited { .. }))
        .count();
    assert_eq!(created, 1, "{outcomes:?}");
    assert!(outcomes.iter().all(InviteOutcome::is_sent), "{outcomes:?}");
    let pending = world.pending_for(project.id, "ann@example.com").await;
    assert_eq!(pending.len(), 1);
    assert_eq!(world.invitations(project.id, None).await.len(), 1);
    assert_eq!(pending[0].sends, 16);
    let mut working = 0;
    for outcome in &outcomes {
        let (invitation, token) = sent(outcome.clone());
        assert_eq!(invitation.id, pending[0].id);
        if world.opens(&token).await {
            working += 1;
        }
    }
    assert_eq!(working, 1);
    assert_eq!(
        world.notifier.messages_to(&email("ann@example.com")).len(),
        16
    );
    assert!(!world.is_registered("ann@example.com").await);
}

/// Invites of one new address to 8 projects at once: 8 invitations and no user record yet; the
/// first acceptance makes exactly one, which the 7 other acceptances then join.
pub async fn concurrent_invites_to_many_projects_create_one_user(store: Arc<dyn Store>) {
    let dawdling = Arc::new(Dawdling::new(store));
    let world = World::new(dawdling.clone());
    let (admin, first) = world.admin_with_project().await;
    let mut projects = vec![first.clone()];
    for i in 1..8 {
        projects.push(
            world
                .sibling_project(&admin, &first, &format!("P{i}"))
                .await,
        );
    }
    let ids: Vec<_> = projects.iter().map(|p| p.id).collect();
    let results = all_at_once(8, |i| {
        let roster = world.roster.clone();
        let (actor, project) = (admin.id, ids[i]);
        let rows = [InviteRequest::new("ann@example.com", Role::USER)];
        async move { roster.invite(actor, project, &rows).await }
    })
    .await;
    let tokens: Vec<_> = results
        .into_iter()
        .map(|r| {
            let outcome = r.expect("every invite succeeds").rows.remove(0).outcome;
            assert!(
                matches!(outcome, InviteOutcome::Invited { .. }),
                "{outcome:?}"
            );
            sent(outcome).1
        })
        .collect();
    assert_eq!(
        world.user("ann@example.com").await,
        None,
        "invitations make no user"
    );
    for id in &ids {
        let pending = world.pending_for(*id, "ann@example.com").await;
        assert_eq!(pending.len(), 1);
    }
    let accepted = world.roster.accept(&tokens[0], new_user()).await.unwrap();
    let user = accepted.user.clone();
    let ann = email("ann@example.com");
    let created: Vec<_> = dawdling
        .created_users()
        .into_iter()
        .filter(|created| created.email == ann)
        .map(|created| created.id)
        .collect();
    assert_eq!(created, [user.id], "the address got several user records");
    for token in &tokens[1..] {
        let accepted = world
            .roster
            .accept(token, Acceptance::ExistingUser { user: user.id })
            .await
            .unwrap();
        assert_eq!(accepted.user.id, user.id);
    }
    for id in &ids {
        assert_eq!(world.role_of(*id, user.id).await, Some(Role::USER));
    }
}

/// Invites by one inviter to 4 projects at once, 3 new addresses each, under `Limits::portal()`:
/// exactly 5 rows are sent in all, the daily budget holds across concurrent calls.
pub async fn concurrent_invites_respect_the_daily_limit(store: Arc<dyn Store>) {
    let world = racing_with(store, Limits::portal());
    let (admin, first) = world.admin_with_project().await;
    let mut ids = vec![first.id];
    for i in 1..4 {
        ids.push(
            world
                .sibling_project(&admin, &first, &format!("P{i}"))
                .await
                .id,
        );
    }
    let results = all_at_once(4, |i| {
        let roster = world.roster.clone();
        let (actor, project) = (admin.id, ids[i]);
        let rows: Vec<_> = (0..3)
            .map(|j| InviteRequest::new(format!("p{i}-{j}@example.com"), Role::USER))
            .collect();
        async move { roster.invite(actor, project, &rows).await }
    })
    .await;
    let sent_rows: usize = results
        .iter()
        .map(|r| r.as_ref().expect("every call succeeds").sent())
        .sum();
    assert_eq!(sent_rows, 5, "{results:?}");
    let mut pending = 0;
    for id in &ids {
        pending += world
            .invitations(*id, Some(InvitationState::Pending))
            .await
            .len();
    }
    assert_eq!(pending, 5);
}

/// Accepting and revoking one invitation at the same moment, over and over: exactly one of them
/// wins, and the membership exists exactly when the acceptance won.
pub async fn accept_and_revoke_at_once_have_one_winner(store: Arc<dyn Store>) {
    let world = racing(store);
    let (admin, project) = world.admin_with_project().await;
    for round in 0..20 {
        let address = format!("r{round}@example.com");
        let (invitation, token) = world.send(admin.id, project.id, &address, Role::USER).await;
        let results = all_at_once(2, |i| {
            let (roster, token) = (world.roster.clone(), token.clone());
            let (actor, id) = (admin.id, invitation.id);
            async move {
                if i == 0 {
                    roster.accept(&token, new_user()).await.map(|_| ())
                } else {
                    roster.revoke(actor, id).await.map(|_| ())
                }
            }
        })
        .await;
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: {results:?}"
        );
        let state = world.invitation(&invitation).await.state;
        let joined = match world.user(&address).await {
            Some(member) => world.role_of(project.id, member.id).await.is_some(),
            None => false,
        };
        match state {
            InvitationState::Accepted => assert!(joined && results[0].is_ok()),
            InvitationState::Revoked => assert!(!joined && results[1].is_ok()),
            other => panic!("round {round}: unexpected state {other:?}"),
        }
    }
}

/// Accepting (as the registered invitee), declining (with the token) and revoking (as the
/// administrator) one invitation at the same moment, over and over: exactly one of them wins, the
/// stored invitation carries the winner's state, the membership exists exactly when the acceptance
/// won, one closing event is audited, and each loser is told the invitation is closed in the
/// winner's state (closing never rotates the token, so `InvalidToken` would be wrong).
pub async fn accepting_declining_and_revoking_at_once_leave_one_outcome(store: Arc<dyn Store>) {
    let world = racing(store);
    let (admin, project) = world.admin_with_project().await;
    let outcomes = [
        InvitationState::Accepted,
        InvitationState::Declined,
        InvitationState::Revoked,
    ];
    for round in 0..10 {
        let address = format!("closing{round}@example.com");
        let user = world.register(&address).await;
        let (invitation, token) = world.send(admin.id, project.id, &address, Role::USER).await;
        let results = all_at_once(outcomes.len(), |i| {
            let (roster, token) = (world.roster.clone(), token.clone());
            let (actor, id, user) = (admin.id, invitation.id, user.id);
            async move {
                match i {
                    0 => roster
                        .accept(&token, Acceptance::ExistingUser { user })
                        .await
                        .map(|_| ()),
                    1 => roster.decline(&token).await,
                    _ => roster.revoke(actor, id).await.map(|_| ()),
                }
            }
        })
        .await;
        let winners: Vec<usize> = (0..results.len()).filter(|i| results[*i].is_ok()).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: one winner, got {results:?}"
        );
        let won = outcomes[winners[0]];
        for result in &results {
            if let Err(error) = result {
                assert!(
                    matches!(error, RosterError::InvitationClosed { state } if *state == won),
                    "round {round}: {won:?} won, a loser got {error:?}"
                );
            }
        }
        let stored = world.invitation(&invitation).await;
        assert_eq!(stored.state, won, "round {round}: the stored state");
        assert!(
            stored.closed_at.is_some(),
            "round {round}: closed_at is set"
        );
        let joined = world.role_of(project.id, user.id).await;
        let expected = (won == InvitationState::Accepted).then_some(Role::USER);
        assert_eq!(joined, expected, "round {round}: {won:?} won, membership");
        let closings = world
            .audit(project.id)
            .await
            .into_iter()
            .filter(|event| closes(&event.action, invitation.id))
            .count();
        assert_eq!(closings, 1, "round {round}: closing events audited");
    }
}

/// 8 delivery passes at once (started one store call apart) over one notice made due again by a
/// temporary failure: exactly one of them leases and sends it, so the invitee gets exactly one
/// more email, whose link works; the entry ends `Delivered` with exactly one more attempt.
pub async fn many_delivery_passes_at_once_send_each_notice_once(store: Arc<dyn Store>) {
    let world = racing(store);
    let (admin, project) = world.admin_with_project().await;
    world.notifier.fail_with(Failure::Temporary);
    let (invitation, _) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    let queued = world
        .notices(admin.id, project.id, Some(DeliveryStatus::Queued))
        .await;
    assert_eq!(queued.len(), 1, "the failed notice waits: {queued:?}");
    let entry = queued[0].clone();
    assert_eq!(entry.notice.invitation, invitation.id);
    world.notifier.succeed();
    world.advance(Duration::seconds(PAST_BACKOFF));
    let ann = email("ann@example.com");
    let before = world.notifier.messages_to(&ann).len();

    let results = all_at_once(8, |i| {
        let roster = world.roster.clone();
        async move {
            // One store call apart, so that later passes read the entry while an earlier one
            // is between its reads and its write; released together, they would all read it
            // side by side before any of them writes.
            tokio::time::sleep(PAUSE * u32::try_from(i).expect("few passes")).await;
            roster.deliver_due().await
        }
    })
    .await;
    let delivered: usize = results
        .iter()
        .map(|r| r.as_ref().expect("every pass succeeds").delivered)
        .sum();
    assert_eq!(delivered, 1, "passes reporting the delivery: {results:?}");
    let messages = world.notifier.messages_to(&ann);
    assert_eq!(
        messages.len(),
        before + 1,
        "emails for the notice: {messages:?}"
    );
    assert_eq!(messages[before].id, entry.id, "the email is the notice's");
    world
        .roster
        .flush()
        .await
        .expect("delivery records are written");
    let stored = world
        .store
        .outbox_entry(entry.id)
        .await
        .expect("store reads")
        .expect("the entry exists");
    assert_eq!(
        (stored.status, stored.attempts),
        (DeliveryStatus::Delivered, entry.attempts + 1),
        "the entry after the passes: {stored:?}"
    );
    let token = messages[before]
        .token
        .clone()
        .expect("an invitation carries a link");
    assert!(world.opens(&token).await, "the link delivered works");
}

/// Whether `action` records `invitation` being accepted, declined or revoked.
fn closes(action: &AuditAction, invitation: roster::InvitationId) -> bool {
    match action {
        AuditAction::InvitationAccepted { invitation: id, .. }
        | AuditAction::InvitationDeclined { invitation: id, .. }
        | AuditAction::InvitationRevoked { invitation: id, .. } => *id == invitation,
        _ => false,
    }
}

/// What one task of the mixed load did.
type Done = Result<(), RosterError>;

/// 64 tasks of mixed commands on one project at once (role changes, resends, revocations,
/// acceptances, each with an invitation of a new address alongside): every command succeeds,
/// none answers `Contention` or any other error because others were busy, and the project
/// ends as the commands say.
pub async fn mixed_commands_of_64_tasks_on_one_project_never_fail(store: Arc<dyn Store>) {
    const EACH: usize = 16;
    let world = racing(store);
    let (admin, project) = world.admin_with_project().await;
    let mut members = Vec::new();
    let mut resent = Vec::new();
    let mut revoked = Vec::new();
    let mut tokens = Vec::new();
    for i in 0..EACH {
        members.push(
            world
                .new_member(
                    admin.id,
                    project.id,
                    &format!("m{i}@example.com"),
                    Role::USER,
                )
                .await,
        );
        resent.push(
            world
                .send(
                    admin.id,
                    project.id,
                    &format!("r{i}@example.com"),
                    Role::USER,
                )
                .await
                .0,
        );
        revoked.push(
            world
                .send(
                    admin.id,
                    project.id,
                    &format!("v{i}@example.com"),
                    Role::USER,
                )
                .await
                .0,
        );
        tokens.push(
            world
                .send(
                    admin.id,
                    project.id,
                    &format!("a{i}@example.com"),
                    Role::USER,
                )
                .await
                .1,
        );
    }
    let (members, resent, revoked, tokens) = (
        Arc::new(members),
        Arc::new(resent),
        Arc::new(revoked),
        Arc::new(tokens),
    );
    let results: Vec<Done> = all_at_once(4 * EACH, |i| {
        let roster = world.roster.clone();
        let (members, resent, revoked, tokens) = (
            members.clone(),
            resent.clone(),
            revoked.clone(),
            tokens.clone(),
        );
        let (admin, project) = (admin.id, project.id);
        async move {
            let n = i / 4;
            match i % 4 {
                0 => roster
                    .change_role(admin, project, members[n].id, Role::OBSERVER)
                    .await
                    .map(drop)?,
                1 => roster.resend(admin, resent[n].id).await.map(drop)?,
                2 => roster.revoke(admin, revoked[n].id).await.map(drop)?,
                _ => roster.accept(&tokens[n], new_user()).await.map(drop)?,
            }
            let row = InviteRequest::new(format!("new{i}@example.com"), Role::USER);
            let report = roster.invite(admin, project, &[row]).await?;
            assert!(report.rows[0].outcome.is_sent(), "{report:?}");
            Ok(())
        }
    })
    .await;
    let failures: Vec<&Done> = results.iter().filter(|r| r.is_err()).collect();
    assert!(failures.is_empty(), "commands that failed: {failures:?}");

    let listed = world.members(project.id).await;
    assert_eq!(
        listed.len(),
        1 + 2 * EACH,
        "the admin, the members, the acceptors"
    );
    for member in members.iter() {
        assert_eq!(
            world.role_of(project.id, member.id).await,
            Some(Role::OBSERVER)
        );
    }
    let pending = world
        .invitations(project.id, Some(InvitationState::Pending))
        .await;
    assert_eq!(
        pending.len(),
        EACH + 4 * EACH,
        "resent ones and the new ones"
    );
    for invitation in resent.iter() {
        assert_eq!(world.invitation(invitation).await.sends, 2);
    }
    let revoked_now = world
        .invitations(project.id, Some(InvitationState::Revoked))
        .await;
    assert_eq!(revoked_now.len(), EACH);
}
