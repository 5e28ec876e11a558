use chrono::Duration;
use roster::StoreExt;
use roster::store::{InvitationWrite, MembershipWrite, OutboxQuery, OutboxWrite, UserWrite};
use roster::{
    AuditAction, AuditEvent, Entity, EventId, InvitationState, Membership, Role, Store, StoreError,
    TokenHash, User, UserId, Version,
};

use super::fixtures::{World, email, now};

#[tokio::test]
async fn a_uniqueness_violation_midway_leaves_nothing_of_the_change() {
    let world = World::new().await;
    let store = &world.store;
    let newcomer = User {
        id: UserId::generate(now(), &world.random),
        email: email("ann@example.com"),
        registered_at: None,
        created_at: now(),
        version: Version::INITIAL,
    };
    let first = world.invitation("ann@example.com", 1);
    // Another pending invitation for the same address: the second insert must fail.
    let second = world.invitation("ANN@example.com", 2);
    let mut change = world.change().await;
    change.users.push(UserWrite::Insert {
        user: newcomer.clone(),
        password: None,
    });
    change.memberships.push(MembershipWrite::Insert(Membership {
        project: world.project,
        user: newcomer.id,
        role: Role::OBSERVER,
        invited_by: Some(world.admin),
        since: now(),
    }));
    change
        .invitations
        .push(InvitationWrite::Insert(first.clone()));
    change
        .invitations
        .push(InvitationWrite::Insert(second.clone()));

    let result = store.apply(change).await;

    assert!(matches!(
        result,
        Err(StoreError::AlreadyExists(Entity::Invitation))
    ));
    assert_eq!(world.version().await, Version::INITIAL);
    assert_eq!(store.invitation(first.id).await.unwrap(), None);
    assert_eq!(
        store.invitation_by_token(&first.token_hash).await.unwrap(),
        None
    );
    let address = email("ann@example.com");
    assert_eq!(
        store
            .pending_invitation(world.project, &address)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .count_pending_invitations(world.project, now())
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.count_sends_by(world.admin, now()).await.unwrap(), 0);
    assert_eq!(store.user(newcomer.id).await.unwrap(), None);
    assert_eq!(store.user_by_email(&address).await.unwrap(), None);
    assert_eq!(
        store.membership(world.project, newcomer.id).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .count_members(world.project, Role::OBSERVER)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store.members(world.project, None, 10).await.unwrap().len(),
        1
    );

    // Nothing stale blocks the same records now.
    let mut retry = world.change().await;
    retry.users.push(UserWrite::Insert {
        user: newcomer,
        password: None,
    });
    retry
        .invitations
        .push(InvitationWrite::Insert(first.clone()));
    store.apply(retry).await.unwrap();
    assert_eq!(
        store.invitation_by_token(&first.token_hash).await.unwrap(),
        Some(first)
    );
}

#[tokio::test]
async fn a_failure_in_the_last_write_restores_updated_and_deleted_records() {
    let world = World::new().await;
    let store = &world.store;
    let invitation = world.invitation("bob@example.com", 1);
    world.insert_invitation(&invitation).await;
    let entry = world.notice(&invitation);
    let mut queue = world.change().await;
    queue.outbox.push(OutboxWrite::Insert(entry.clone()));
    store.apply(queue).await.unwrap();
    let version = world.version().await;

    let mut accepted = invitation.clone();
    accepted.state = InvitationState::Accepted;
    accepted.closed_at = Some(now());
    accepted.token_hash = TokenHash::from_bytes([9; 32]);
    accepted.sent_at = now() + Duration::hours(1);
    let mut cancelled = entry.clone();
    cancelled.status = roster::DeliveryStatus::Cancelled;
    let mut unknown_entry = world.notice(&invitation);
    unknown_entry.status = roster::DeliveryStatus::Delivered;
    let mut change = world.change().await;
    change.memberships.push(MembershipWrite::Update(Membership {
        project: world.project,
        user: world.admin,
        role: Role::USER,
        invited_by: None,
        since: now(),
    }));
    change.memberships.push(MembershipWrite::Delete {
        project: world.project,
        user: world.admin,
    });
    change
        .invitations
        .push(InvitationWrite::Update(accepted.clone()));
    change.audit.push(AuditEvent {
        id: EventId::generate(now(), &world.random),
        at: now(),
        actor: Some(world.admin),
        account: world.account,
        project: Some(world.project),
        action: AuditAction::ProjectCreated { name: "x".into() },
    });
    change.outbox.push(OutboxWrite::Update(cancelled));
    // Never inserted: fails after every other write succeeded.
    change.outbox.push(OutboxWrite::Update(unknown_entry));

    let result = store.apply(change).await;

    assert!(matches!(
        result,
        Err(StoreError::NotFound(Entity::OutboxEntry))
    ));
    assert_eq!(world.version().await, version);
    let membership = store.membership(world.project, world.admin).await.unwrap();
    assert_eq!(membership.map(|m| m.role), Some(Role::ADMINISTRATOR));
    assert_eq!(
        store
            .count_members(world.project, Role::ADMINISTRATOR)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .count_members(world.project, Role::USER)
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.accounts_of_user(world.admin).await.unwrap().len(), 1);
    assert_eq!(
        store
            .invitation_by_token(&invitation.token_hash)
            .await
            .unwrap(),
        Some(invitation.clone())
    );
    assert_eq!(
        store
            .invitation_by_token(&accepted.token_hash)
            .await
            .unwrap(),
        None
    );
    let address = email("bob@example.com");
    assert!(
        store
            .pending_invitation(world.project, &address)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .count_pending_invitations(world.project, now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.count_sends_by(world.admin, now()).await.unwrap(), 1);
    assert!(
        store
            .audit_events(world.project, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.due_notices(now(), 10).await.unwrap(),
        vec![entry.clone()]
    );
    let all = OutboxQuery {
        limit: 10,
        ..OutboxQuery::default()
    };
    assert_eq!(store.outbox(&all).await.unwrap(), vec![entry]);
}
