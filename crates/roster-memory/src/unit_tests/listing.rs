use chrono::Duration;
use roster::StoreExt;
use roster::store::{InvitationQuery, InvitationWrite};
use roster::{Invitation, InvitationState, Store};

use super::fixtures::{World, now};

/// Five invitations in id order: pending, expired in effect, stored expired, revoked, pending.
async fn mixed_invitations(world: &World) -> Vec<Invitation> {
    let states = [
        (InvitationState::Pending, 7),
        (InvitationState::Pending, -1),
        (InvitationState::Expired, -1),
        (InvitationState::Revoked, 7),
        (InvitationState::Pending, 7),
    ];
    let mut change = world.change().await;
    let mut all = Vec::new();
    for (seed, (state, days)) in (1u8..).zip(states) {
        let mut invitation = world.invitation(&format!("p{seed}@example.com"), seed);
        invitation.state = state;
        invitation.expires_at = now() + Duration::days(days);
        change
            .invitations
            .push(InvitationWrite::Insert(invitation.clone()));
        all.push(invitation);
    }
    world.store.apply(change).await.unwrap();
    all.sort_by_key(|invitation| invitation.id);
    all
}

fn query(
    world: &World,
    state: Option<InvitationState>,
    after: Option<&Invitation>,
) -> InvitationQuery {
    InvitationQuery {
        project: world.project,
        state,
        now: now(),
        after: after.map(|invitation| invitation.id),
        limit: 2,
    }
}

#[tokio::test]
async fn pages_follow_id_order_with_an_exclusive_cursor() {
    let world = World::new().await;
    let all = mixed_invitations(&world).await;
    let store = &world.store;

    let first = store.invitations(&query(&world, None, None)).await.unwrap();
    let second = store
        .invitations(&query(&world, None, first.last()))
        .await
        .unwrap();
    let third = store
        .invitations(&query(&world, None, second.last()))
        .await
        .unwrap();

    assert_eq!([first, second, third].concat(), all);
}

#[tokio::test]
async fn state_filters_use_the_effective_state() {
    let world = World::new().await;
    let all = mixed_invitations(&world).await;
    let store = &world.store;
    let ids_in = |state: InvitationState| -> Vec<_> {
        all.iter()
            .filter(|invitation| invitation.effective_state(now()) == state)
            .map(|invitation| invitation.id)
            .collect()
    };

    let expired_first = store
        .invitations(&query(&world, Some(InvitationState::Expired), None))
        .await
        .unwrap();
    let pending = store
        .invitations(&query(&world, Some(InvitationState::Pending), None))
        .await
        .unwrap();

    let ids = |page: &[Invitation]| page.iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(ids(&expired_first), ids_in(InvitationState::Expired));
    assert_eq!(ids(&pending), ids_in(InvitationState::Pending));
    let after_first = query(
        &world,
        Some(InvitationState::Expired),
        expired_first.first(),
    );
    assert_eq!(
        ids(&store.invitations(&after_first).await.unwrap()),
        ids_in(InvitationState::Expired)[1..]
    );
    assert_eq!(
        store
            .count_pending_invitations(world.project, now())
            .await
            .unwrap(),
        2
    );
}
