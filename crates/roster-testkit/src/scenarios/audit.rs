//! The audit trail: every change appends who did what to whom, and when, in order.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use roster::{AuditAction, InviteRequest, Role, Store, UserId};

use super::harness::{World, email, new_user};

/// What one audit event must say.
type Entry = (DateTime<Utc>, Option<UserId>, AuditAction);

/// The project's events as (time, actor, action), after checking each names the project and its
/// account.
async fn trail(world: &World, project: &roster::Project) -> Vec<Entry> {
    let events = world.audit(project.id).await;
    for event in &events {
        assert_eq!(event.account, project.account, "{event:?}");
        assert_eq!(event.project, Some(project.id), "{event:?}");
    }
    events
        .into_iter()
        .map(|event| (event.at, event.actor, event.action))
        .collect()
}

/// Every command appends the expected actions with actor and time, in order: project created,
/// invitation sent, refreshed, resent, accepted, revoked, declined, role changed, member removed,
/// member left.
pub async fn every_command_is_audited_in_order(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let a = Some(admin.id);
    let mut expected: Vec<Entry> = vec![(
        world.now(),
        a,
        AuditAction::ProjectCreated {
            name: "Rocket".into(),
        },
    )];
    let mut log = |actor: Option<UserId>, action: AuditAction| {
        expected.push((world.now(), actor, action));
    };
    let step = Duration::minutes(1);

    world.advance(step);
    let (ann, _) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    let ann_email = email("ann@example.com");
    log(
        a,
        AuditAction::InvitationSent {
            invitation: ann.id,
            email: ann_email.clone(),
            role: Role::USER,
        },
    );
    world.advance(step);
    world
        .send(admin.id, project.id, "ann@example.com", Role::OBSERVER)
        .await;
    log(
        a,
        AuditAction::InvitationResent {
            invitation: ann.id,
            email: ann_email.clone(),
            role: Role::OBSERVER,
        },
    );
    world.advance(step);
    let resent = world.roster.resend(admin.id, ann.id).await.unwrap();
    log(
        a,
        AuditAction::InvitationResent {
            invitation: ann.id,
            email: ann_email,
            role: Role::OBSERVER,
        },
    );
    world.advance(step);
    let ann_user = world
        .roster
        .accept(&resent.token, new_user())
        .await
        .unwrap()
        .user;
    log(
        Some(ann_user.id),
        AuditAction::InvitationAccepted {
            invitation: ann.id,
            user: ann_user.id,
            role: Role::OBSERVER,
        },
    );

    world.advance(step);
    let (bob, _) = world
        .send(admin.id, project.id, "bob@example.com", Role::USER)
        .await;
    log(
        a,
        AuditAction::InvitationSent {
            invitation: bob.id,
            email: bob.email.clone(),
            role: Role::USER,
        },
    );
    world.advance(step);
    world.roster.revoke(admin.id, bob.id).await.unwrap();
    log(
        a,
        AuditAction::InvitationRevoked {
            invitation: bob.id,
            email: bob.email.clone(),
        },
    );

    world.advance(step);
    let (cat, cat_token) = world
        .send(admin.id, project.id, "cat@example.com", Role::USER)
        .await;
    log(
        a,
        AuditAction::InvitationSent {
            invitation: cat.id,
            email: cat.email.clone(),
            role: Role::USER,
        },
    );
    world.advance(step);
    world.roster.decline(&cat_token).await.unwrap();
    log(
        None,
        AuditAction::InvitationDeclined {
            invitation: cat.id,
            email: cat.email.clone(),
        },
    );

    world.advance(step);
    world
        .roster
        .change_role(admin.id, project.id, ann_user.id, Role::USER)
        .await
        .unwrap();
    log(
        a,
        AuditAction::RoleChanged {
            user: ann_user.id,
            from: Role::OBSERVER,
            to: Role::USER,
        },
    );
    world.advance(step);
    world
        .roster
        .remove_member(admin.id, project.id, ann_user.id)
        .await
        .unwrap();
    log(
        a,
        AuditAction::MemberRemoved {
            user: ann_user.id,
            role: Role::USER,
        },
    );

    world.advance(step);
    let (dan, dan_token) = world
        .send(admin.id, project.id, "dan@example.com", Role::ADMINISTRATOR)
        .await;
    log(
        a,
        AuditAction::InvitationSent {
            invitation: dan.id,
            email: dan.email.clone(),
            role: Role::ADMINISTRATOR,
        },
    );
    world.advance(step);
    let dan_user = world
        .roster
        .accept(&dan_token, new_user())
        .await
        .unwrap()
        .user;
    log(
        Some(dan_user.id),
        AuditAction::InvitationAccepted {
            invitation: dan.id,
            user: dan_user.id,
            role: Role::ADMINISTRATOR,
        },
    );
    world.advance(step);
    world.roster.leave(dan_user.id, project.id).await.unwrap();
    log(
        Some(dan_user.id),
        AuditAction::MemberLeft {
            user: dan_user.id,
            role: Role::ADMINISTRATOR,
        },
    );

    // Refused commands and reads append nothing.
    world.advance(step);
    assert!(world.roster.leave(admin.id, project.id).await.is_err());
    assert!(world.roster.preview(&dan_token).await.is_ok());

    assert_eq!(trail(&world, &project).await, expected);
    let listed = world
        .roster
        .audit_trail(admin.id, project.id, roster::PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), expected.len());
}

/// The events one command appends keep the order it appended them in, even within the same
/// instant: one bulk call's invitations in row order, and an expired invitation closed before its
/// replacement is sent.
pub async fn the_events_of_one_command_keep_their_order(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let (old, _) = world
        .send(admin.id, project.id, "zed@example.com", Role::USER)
        .await;
    world.advance(Duration::days(8));
    let skip = world.audit(project.id).await.len();
    let addresses: Vec<String> = (0..12).map(|i| format!("p{i:02}@example.com")).collect();
    let mut requests = vec![InviteRequest::new("zed@example.com", Role::USER)];
    requests.extend(
        addresses
            .iter()
            .map(|a| InviteRequest::new(a.as_str(), Role::USER)),
    );
    let report = world
        .roster
        .invite(admin.id, project.id, &requests)
        .await
        .unwrap();
    assert_eq!(report.sent(), 13);
    let actions: Vec<String> = world.audit(project.id).await[skip..]
        .iter()
        .map(|event| match &event.action {
            AuditAction::InvitationExpired { invitation, .. } if *invitation == old.id => {
                "expired zed@example.com".to_owned()
            }
            AuditAction::InvitationSent { email, .. } => format!("sent {}", email.canonical()),
            other => panic!("unexpected event {other:?}"),
        })
        .collect();
    let mut expected = vec![
        "expired zed@example.com".to_owned(),
        "sent zed@example.com".to_owned(),
    ];
    expected.extend(addresses.iter().map(|a| format!("sent {a}")));
    assert_eq!(actions, expected);
}
