//! Races across service instances: separate `PostgresStore`s (separate pools, as separate
//! processes would have) on one schema, each with its own `Roster`. Skipped with a notice when
//! `ROSTER_POSTGRES_URL` is unset.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use roster::{
    Acceptance, InvitationState, InviteOutcome, InviteRequest, Limits, Role, Roster, RosterError,
    Store,
};
use roster_memory::RecordingNotifier;

use common::{PASSWORD, admin_with_project};

/// One `Roster` per store, with fast password hashing and `limits`.
fn services(stores: &[Arc<dyn Store>], limits: &Limits) -> Vec<Roster> {
    stores
        .iter()
        .map(|store| {
            common::roster_builder(
                store.clone(),
                Arc::new(RecordingNotifier::new()),
                limits.clone(),
            )
            .build()
            .expect("a valid configuration")
        })
        .collect()
}

fn token_of(outcome: InviteOutcome) -> roster::InvitationToken {
    match outcome {
        InviteOutcome::Invited { token, .. } | InviteOutcome::Refreshed { token, .. } => token,
        other => panic!("expected the row to be sent, got {other:?}"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

/// 32 acceptances of one token, spread over 8 instances, at once: one wins, one membership.
#[test]
fn one_token_accepted_32_times_across_instances_makes_one_membership() {
    runtime().block_on(async {
        let Some(stores) = common::instances(8).await else {
            return;
        };
        let rosters = services(&stores, &Limits::default());
        let (admin, project) = admin_with_project(&rosters[0]).await;
        let rows = [InviteRequest::new("ann@example.com", Role::USER)];
        let mut invited = rosters[0]
            .invite(admin.id, project.id, &rows)
            .await
            .unwrap();
        let token = token_of(invited.rows.remove(0).outcome);
        let barrier = Arc::new(tokio::sync::Barrier::new(32));
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                let (roster, token, barrier) =
                    (rosters[i % 8].clone(), token.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let password = format!("password number {i}");
                    roster
                        .accept(&token, Acceptance::NewUser { password })
                        .await
                })
            })
            .collect();
        let mut wins = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => wins += 1,
                Err(
                    RosterError::InvitationClosed {
                        state: InvitationState::Accepted,
                    }
                    | RosterError::AlreadyRegistered,
                ) => {}
                Err(other) => panic!("unexpected loser: {other:?}"),
            }
        }
        assert_eq!(wins, 1);
        let members = stores[3].members(project.id, None, 100).await.unwrap();
        assert_eq!(members.len(), 2, "the admin and the one acceptance");
    });
}

/// One inviter on 4 projects through 4 instances at once, 3 new addresses each, under the
/// portal's 5 a day: exactly 5 rows are sent in all.
#[test]
fn the_daily_limit_holds_across_instances() {
    runtime().block_on(async {
        let Some(stores) = common::instances(4).await else {
            return;
        };
        let rosters = services(&stores, &Limits::portal());
        let (admin, first) = admin_with_project(&rosters[0]).await;
        let mut projects = vec![first.id];
        for i in 1..4 {
            let project = rosters[0]
                .create_project(admin.id, first.account, &format!("P{i}"))
                .await
                .unwrap();
            projects.push(project.id);
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(4));
        let tasks: Vec<_> = (0..4)
            .map(|i| {
                let (roster, barrier, project) = (rosters[i].clone(), barrier.clone(), projects[i]);
                tokio::spawn(async move {
                    let rows: Vec<_> = (0..3)
                        .map(|j| InviteRequest::new(format!("p{i}-{j}@example.com"), Role::USER))
                        .collect();
                    barrier.wait().await;
                    roster.invite(admin.id, project, &rows).await
                })
            })
            .collect();
        let mut sent = 0;
        for task in tasks {
            sent += task.await.unwrap().expect("every call succeeds").sent();
        }
        assert_eq!(sent, 5);
    });
}

/// Two Administrators demote each other through two instances, round after round: the project
/// always keeps one.
#[test]
fn concurrent_demotions_across_instances_keep_a_manager() {
    runtime().block_on(async {
        let Some(stores) = common::instances(2).await else {
            return;
        };
        let rosters = services(&stores, &Limits::default());
        let (admin, base) = admin_with_project(&rosters[0]).await;
        for round in 0..10 {
            let project = rosters[0]
                .create_project(admin.id, base.account, &format!("Round {round}"))
                .await
                .unwrap();
            let mut admins = Vec::new();
            for name in ["b", "c"] {
                let address = format!("{name}{round}@example.com");
                let rows = [InviteRequest::new(address.as_str(), Role::ADMINISTRATOR)];
                let mut invited = rosters[0]
                    .invite(admin.id, project.id, &rows)
                    .await
                    .unwrap();
                let token = token_of(invited.rows.remove(0).outcome);
                let password = PASSWORD.to_owned();
                let accepted = rosters[1]
                    .accept(&token, Acceptance::NewUser { password })
                    .await
                    .unwrap();
                admins.push(accepted.user.id);
            }
            rosters[0].leave(admin.id, project.id).await.unwrap();
            let (b, c) = (admins[0], admins[1]);
            let first = rosters[0].clone();
            let second = rosters[1].clone();
            let (one, two) = tokio::join!(
                tokio::spawn(async move { first.change_role(b, project.id, c, Role::USER).await }),
                tokio::spawn(async move { second.change_role(c, project.id, b, Role::USER).await }),
            );
            let results = [one.unwrap(), two.unwrap()];
            assert_eq!(
                results.iter().filter(|r| r.is_ok()).count(),
                1,
                "round {round}: {results:?}"
            );
            let members = stores[0].members(project.id, None, 100).await.unwrap();
            let managers = members
                .iter()
                .filter(|m| m.membership.role == Role::ADMINISTRATOR)
                .count();
            assert_eq!(managers, 1, "round {round}");
        }
    });
}

/// 8 instances × 8 tasks of mixed commands (invites, acceptances, resends, revocations, role
/// changes) on one project for a bounded time: no store error at all, and the rules hold after.
#[test]
fn mixed_commands_from_8_instances_on_one_project_never_fail_in_the_store() {
    runtime().block_on(async {
        let Some(stores) = common::instances(8).await else {
            return;
        };
        let rosters = services(&stores, &Limits::default());
        let (admin, project) = admin_with_project(&rosters[0]).await;
        let deadline = Instant::now() + Duration::from_secs(4);
        let mut tasks = Vec::new();
        for task in 0..64_usize {
            let roster = rosters[task % 8].clone();
            tasks.push(tokio::spawn(async move {
                let mut done = 0_usize;
                let mut step = task;
                while Instant::now() < deadline && done < 40 {
                    step = step.wrapping_mul(31).wrapping_add(7);
                    let address = format!("person{}@example.com", step % 24);
                    let role = [Role::OBSERVER, Role::USER, Role::ADMINISTRATOR][step % 3];
                    let rows = [InviteRequest::new(address.as_str(), role)];
                    let result = match roster.invite(admin.id, project.id, &rows).await {
                        Ok(mut outcome) => match outcome.rows.remove(0).outcome {
                            InviteOutcome::Invited {
                                token, invitation, ..
                            }
                            | InviteOutcome::Refreshed {
                                token, invitation, ..
                            } => match step % 4 {
                                0 | 1 => roster
                                    .accept(
                                        &token,
                                        Acceptance::NewUser {
                                            password: PASSWORD.to_owned(),
                                        },
                                    )
                                    .await
                                    .map(|_| ()),
                                2 => roster.revoke(admin.id, invitation.id).await.map(|_| ()),
                                _ => roster.resend(admin.id, invitation.id).await.map(|_| ()),
                            },
                            _ => Ok(()),
                        },
                        Err(error) => Err(error),
                    };
                    if let Err(RosterError::Store(error)) = &result {
                        panic!("task {task}: a store error: {error:?}");
                    }
                    done += 1;
                }
                done
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("no task panicked");
        }
        eprintln!("8 instances x 8 tasks ran {total} invites (each with a follow-up command)");
        assert!(total >= 64, "every task ran at least once: {total}");
        // One pending invitation per address, and the admin still manages the project.
        let query = roster::store::InvitationQuery {
            project: project.id,
            state: Some(InvitationState::Pending),
            now: chrono::Utc::now(),
            after: None,
            limit: 10_000,
        };
        let pending = stores[0].invitations(&query).await.unwrap();
        let mut addresses: Vec<_> = pending
            .iter()
            .map(|i| i.email.canonical().to_owned())
            .collect();
        let count = addresses.len();
        addresses.sort();
        addresses.dedup();
        assert_eq!(addresses.len(), count, "one pending invitation per address");
        let members = stores[0].members(project.id, None, 1000).await.unwrap();
        assert!(
            members
                .iter()
                .any(|m| m.user.id == admin.id && m.membership.role == Role::ADMINISTRATOR)
        );
    });
}
