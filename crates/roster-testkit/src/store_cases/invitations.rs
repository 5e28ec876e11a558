//! Invitation reads: by id, by token hash, by address, and the listings and counts judged by
//! effective state.

use roster::StoreExt;
use std::slice::from_ref;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use roster::store::{InvitationQuery, InvitationWrite, OutboxWrite};
use roster::{
    Change, DeliveryStatus, Invitation, InvitationId, InvitationState, NoticeKind, OutboxEntry,
    ProjectId, Role, Store, UserId,
};

use super::{ALL, add_project, all_invitations, apply_ok, seed};
use crate::fixtures::{Fixtures, email, invitation_lifetime};

/// An invitation read back by id equals what was written (closed ones included) and keeps the
/// address as typed; its current token finds it, an unknown token finds nothing.
pub async fn invitation_reads_back_by_id_and_current_token(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let other = add_project(&*store, &fx, &world.account).await;
    let now = world.now;
    let elsewhere_token = fx.token();
    let elsewhere = Invitation {
        role: Role::ADMINISTRATOR,
        ..fx.invitation(
            now,
            other.id,
            email("Zoe.Q@Example.ORG"),
            world.owner.id,
            &elsewhere_token,
        )
    };
    let accepted_token = fx.token();
    let accepted = close(
        fx.invitation(
            now,
            world.project.id,
            fx.email(),
            world.owner.id,
            &accepted_token,
        ),
        InvitationState::Accepted,
        now + Duration::hours(1),
    );
    apply_ok(
        &*store,
        invitations(vec![insert(&elsewhere), insert(&accepted)]),
        "inviting",
    )
    .await;

    let read = store.invitation(world.invitation.id).await.unwrap();
    assert_eq!(read.as_ref(), Some(&world.invitation));
    assert_eq!(
        read.unwrap().email.as_str(),
        world.invitation.email.as_str(),
        "typed form"
    );
    let read = store
        .invitation(elsewhere.id)
        .await
        .unwrap()
        .expect("by id");
    assert_eq!(read, elsewhere);
    assert_eq!(read.email.as_str(), "Zoe.Q@Example.ORG");
    assert_eq!(
        store.invitation(accepted.id).await.unwrap(),
        Some(accepted.clone())
    );

    for (token, invitation) in [
        (&world.token, &world.invitation),
        (&elsewhere_token, &elsewhere),
        (&accepted_token, &accepted),
    ] {
        let found = store.invitation_by_token(&token.hash()).await.unwrap();
        assert_eq!(found.as_ref(), Some(invitation));
    }
    assert_eq!(
        store.invitation_by_token(&fx.token().hash()).await.unwrap(),
        None
    );
}

/// After an update rotating the token hash, the old hash finds nothing and the new one finds
/// the updated invitation.
pub async fn rotating_the_token_hash_retires_the_old_one(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (fresh, later) = (fx.token(), world.now + Duration::hours(1));
    let resent = Invitation {
        token_hash: fresh.hash(),
        sent_at: later,
        expires_at: later + invitation_lifetime(),
        sends: 2,
        ..world.invitation.clone()
    };
    let change = Change {
        invitations: vec![InvitationWrite::Update(resent.clone())],
        ..Change::on_project(world.project.id, world.project.version)
    };
    apply_ok(&*store, change, "rotating the token").await;

    assert_eq!(
        store
            .invitation_by_token(&world.token.hash())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.invitation_by_token(&fresh.hash()).await.unwrap(),
        Some(resent.clone())
    );
    assert_eq!(store.invitation(resent.id).await.unwrap(), Some(resent));
}

/// `pending_invitation` finds the stored-`Pending` invitation of a project for any address with
/// the same canonical form, even past its expiry; closed invitations and other projects'
/// invitations do not count.
pub async fn pending_invitation_matches_canonical_email_even_when_expired(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let other = add_project(&*store, &fx, &world.account).await;
    let (now, project, owner) = (world.now, world.project.id, world.owner.id);
    let expired = sent_at(
        fx.invitation(now, project, email("Late@Example.com"), owner, &fx.token()),
        now - Duration::days(8),
    );
    let done = close(
        fx.invitation(now, project, email("Done@Example.com"), owner, &fx.token()),
        InvitationState::Accepted,
        now,
    );
    apply_ok(
        &*store,
        invitations(vec![insert(&expired), insert(&done)]),
        "inviting",
    )
    .await;
    let pending = |project: ProjectId, address: &str| {
        let (store, address) = (store.clone(), email(address));
        async move { store.pending_invitation(project, &address).await.unwrap() }
    };

    assert_eq!(
        pending(project, "LATE@example.COM").await,
        Some(expired.clone())
    );
    let shouted = world.invitation.email.as_str().to_uppercase();
    assert_eq!(
        pending(project, &shouted).await,
        Some(world.invitation.clone())
    );
    assert_eq!(
        pending(other.id, "late@example.com").await,
        None,
        "other project"
    );
    assert_eq!(pending(project, "done@example.com").await, None, "closed");

    let closed = close(expired.clone(), InvitationState::Expired, now);
    apply_ok(&*store, invitations(vec![update(&closed)]), "closing").await;
    assert_eq!(
        pending(project, "late@example.com").await,
        None,
        "after closing"
    );
    let again = fx.invitation(now, project, email("late@example.com"), owner, &fx.token());
    apply_ok(&*store, invitations(vec![insert(&again)]), "inviting again").await;
    assert_eq!(pending(project, "Late@Example.com").await, Some(again));
}

/// `invitations` filters by the state in effect at `query.now` (a stored `Pending` whose
/// `expires_at <= now` lists as `Expired`, not `Pending`), lists in id order whatever the
/// writing order, returns the records as stored, and leaves other projects out.
pub async fn invitations_filter_by_effective_state(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let other = add_project(&*store, &fx, &world.account).await;
    let (now, project, owner) = (world.now, world.project.id, world.owner.id);
    let fresh = |at: DateTime<Utc>| {
        let invitation = fx.invitation(now, project, fx.email(), owner, &fx.token());
        sent_at(invitation, at)
    };
    let live = world.invitation.clone();
    let past = fresh(now - invitation_lifetime() - Duration::seconds(1));
    let edge = fresh(now - invitation_lifetime());
    let accepted = close(fresh(now), InvitationState::Accepted, now);
    let declined = close(fresh(now), InvitationState::Declined, now);
    let revoked = close(fresh(now), InvitationState::Revoked, now);
    let expired = close(fresh(now), InvitationState::Expired, now);
    let foreign = fx.invitation(now, other.id, fx.email(), owner, &fx.token());
    let written = [
        &foreign, &expired, &revoked, &declined, &accepted, &edge, &past,
    ];
    let change = invitations(
        written
            .iter()
            .map(|invitation| insert(invitation))
            .collect(),
    );
    apply_ok(&*store, change, "inviting").await;

    let listed = |state, at| {
        let store = store.clone();
        let query = InvitationQuery {
            state,
            ..all_invitations(project, at)
        };
        async move { store.invitations(&query).await.unwrap() }
    };
    use InvitationState::*;
    assert_eq!(listed(Some(Pending), now).await, from_ref(&live));
    assert_eq!(
        listed(Some(Expired), now).await,
        [past.clone(), edge.clone(), expired.clone()],
        "expired in effect, stored as they are"
    );
    assert_eq!(listed(Some(Accepted), now).await, from_ref(&accepted));
    assert_eq!(listed(Some(Declined), now).await, from_ref(&declined));
    assert_eq!(listed(Some(Revoked), now).await, from_ref(&revoked));
    let everything = [
        live.clone(),
        past.clone(),
        edge.clone(),
        accepted,
        declined,
        revoked,
        expired.clone(),
    ];
    assert_eq!(listed(None, now).await, everything, "all, in id order");

    let earlier = now - Duration::hours(1);
    assert_eq!(
        listed(Some(Pending), earlier).await,
        [live, past, edge],
        "judged at query.now"
    );
    assert_eq!(listed(Some(Expired), earlier).await, [expired]);
}

/// `invitations` pages through the matching invitations in id order with an exclusive cursor,
/// filtering before it limits.
pub async fn invitations_paginate_in_id_order_after_filtering(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (now, project, owner) = (world.now, world.project.id, world.owner.id);
    let mut all = vec![world.invitation.clone()];
    for index in 0..6 {
        let invitation = fx.invitation(now, project, fx.email(), owner, &fx.token());
        all.push(if index % 2 == 0 {
            close(invitation, InvitationState::Revoked, now)
        } else {
            invitation
        });
    }
    let change = invitations(all[1..].iter().rev().map(insert).collect());
    apply_ok(&*store, change, "inviting").await;
    let ids = |invitations: &[Invitation]| -> Vec<InvitationId> {
        invitations.iter().map(|invitation| invitation.id).collect()
    };
    let in_state = |state| -> Vec<InvitationId> {
        let matching: Vec<Invitation> = all
            .iter()
            .filter(|invitation| invitation.state == state)
            .cloned()
            .collect();
        ids(&matching)
    };
    let pending = in_state(InvitationState::Pending);
    let revoked = in_state(InvitationState::Revoked);
    let all = ids(&all);
    let page = |state, after, limit| {
        let store = store.clone();
        let query = InvitationQuery {
            state,
            now,
            after,
            limit,
            project,
        };
        async move { ids(&store.invitations(&query).await.unwrap()) }
    };

    assert_eq!(page(None, None, 3).await, all[..3]);
    assert_eq!(page(None, Some(all[2]), 3).await, all[3..6]);
    assert_eq!(page(None, Some(all[5]), 3).await, all[6..]);
    assert!(page(None, Some(all[6]), 3).await.is_empty());

    let pending_state = Some(InvitationState::Pending);
    assert_eq!(
        page(pending_state, None, 2).await,
        pending[..2],
        "filter, then limit"
    );
    assert_eq!(page(pending_state, Some(pending[1]), 2).await, pending[2..]);
    let revoked_state = Some(InvitationState::Revoked);
    assert_eq!(
        page(revoked_state, Some(all[0]), ALL).await,
        revoked,
        "a cursor need not match the filter"
    );
}

/// `count_pending_invitations` counts stored-`Pending` invitations of one project with
/// `expires_at > now`.
pub async fn count_pending_invitations_excludes_expired_in_effect(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let other = add_project(&*store, &fx, &world.account).await;
    let (now, project, owner) = (world.now, world.project.id, world.owner.id);
    let fresh = |project, at| {
        sent_at(
            fx.invitation(now, project, fx.email(), owner, &fx.token()),
            at,
        )
    };
    let writes = [
        fresh(project, now - Duration::hours(1)),
        fresh(project, now - invitation_lifetime() - Duration::hours(1)),
        fresh(project, now - invitation_lifetime()),
        close(fresh(project, now), InvitationState::Accepted, now),
        close(fresh(project, now), InvitationState::Revoked, now),
        fresh(other.id, now),
    ];
    apply_ok(
        &*store,
        invitations(writes.iter().map(insert).collect()),
        "inviting",
    )
    .await;

    let count = |project, at| {
        let store = store.clone();
        async move { store.count_pending_invitations(project, at).await.unwrap() }
    };
    assert_eq!(
        count(project, now).await,
        2,
        "the world's and the recent one"
    );
    assert_eq!(
        count(project, now - Duration::hours(2)).await,
        4,
        "earlier, none expired"
    );
    assert_eq!(count(other.id, now).await, 1);
    assert_eq!(
        count(project, now + invitation_lifetime()).await,
        0,
        "all expired"
    );
}

/// `count_sends_by` counts the link-carrying notices a sender wrote at or after `since`, in
/// every project and every delivery status: revocations do not count, and a colleague sending
/// the same invitation again adds to the colleague's count without taking from the first
/// sender's.
pub async fn count_sends_by_counts_link_notices_since_across_projects(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let other = add_project(&*store, &fx, &world.account).await;
    let (now, owner, member) = (world.now, world.owner.id, world.member.id);
    let since = now - Duration::days(1);
    let count = |sender, since| {
        let store = store.clone();
        async move { store.count_sends_by(sender, since).await.unwrap() }
    };
    let before = [
        count(owner, since).await,
        count(owner, now - Duration::days(3)).await,
        count(member, since).await,
    ];
    let invited = fx.invitation(now, other.id, fx.email(), owner, &fx.token());
    let notice = |kind: NoticeKind, sent_by: UserId, at: DateTime<Utc>| {
        let mut entry = fx.outbox_entry(at, &invited);
        entry.notice.kind = kind;
        entry.notice.sent_by = sent_by;
        entry
    };
    let mut delivered = notice(NoticeKind::Invitation, owner, now - Duration::hours(1));
    delivered.status = DeliveryStatus::Delivered;
    delivered.finished_at = Some(now);
    let entries = [
        notice(NoticeKind::Invitation, owner, now - Duration::days(2)),
        notice(NoticeKind::AccessGranted, owner, since),
        delivered,
        notice(NoticeKind::Revocation, owner, now),
        notice(NoticeKind::Invitation, member, now),
    ];
    apply_ok(&*store, outbox(&entries), "sending").await;

    assert_eq!(
        count(owner, since).await,
        before[0] + 2,
        "the edge and the delivered one, not the old one nor the revocation"
    );
    assert_eq!(count(owner, now - Duration::days(3)).await, before[1] + 3);
    assert_eq!(count(owner, now + Duration::seconds(1)).await, 0);
    assert_eq!(count(member, since).await, before[2] + 1);
    assert_eq!(count(world.outsider.id, since).await, 0);

    let resent_by_member = notice(NoticeKind::Invitation, member, now);
    apply_ok(&*store, outbox(from_ref(&resent_by_member)), "resending").await;
    assert_eq!(
        count(owner, since).await,
        before[0] + 2,
        "a colleague's resend leaves the first sender's count alone"
    );
    assert_eq!(count(member, since).await, before[2] + 2);
}

/// A change inserting `entries` into the outbox.
fn outbox(entries: &[OutboxEntry]) -> Change {
    Change {
        outbox: entries.iter().cloned().map(OutboxWrite::Insert).collect(),
        ..Change::default()
    }
}

/// `invitation` as if (last) sent at `at`: created then too, expiring a lifetime later.
fn sent_at(invitation: Invitation, at: DateTime<Utc>) -> Invitation {
    Invitation {
        created_at: at,
        sent_at: at,
        expires_at: at + invitation_lifetime(),
        ..invitation
    }
}

/// `invitation` moved to the final `state` at `at`.
fn close(invitation: Invitation, state: InvitationState, at: DateTime<Utc>) -> Invitation {
    Invitation {
        state,
        closed_at: Some(at),
        ..invitation
    }
}

/// An insert of a copy of `invitation`.
fn insert(invitation: &Invitation) -> InvitationWrite {
    InvitationWrite::Insert(invitation.clone())
}

/// An update to a copy of `invitation`.
fn update(invitation: &Invitation) -> InvitationWrite {
    InvitationWrite::Update(invitation.clone())
}

/// A change made of invitation writes only.
fn invitations(writes: Vec<InvitationWrite>) -> Change {
    Change {
        invitations: writes,
        ..Change::default()
    }
}
