//! All or nothing: a change that fails on its last write leaves no trace of its earlier writes,
//! in reads, in indexes (token, address, project), in counts or in versions.

use roster::StoreExt;
use roster::store::AccountWrite;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use roster::store::{Expectation, InvitationWrite, MembershipWrite, OutboxWrite, UserWrite};
use roster::{
    Change, DeliveryStatus, Entity, Invitation, InvitationState, Membership, OutboxEntry,
    ProjectId, Role, Store, StoreError, User, UserId, Version,
};

use super::{Snapshot, add_project, apply_ok, project_version, seed, user_version};
use crate::fixtures::{Fixtures, email, invitation_lifetime, membership};

/// A change inserting an account, a project, a user and memberships and updating a user, whose
/// last membership insert is a duplicate, leaves no trace; without the duplicate it applies.
pub async fn failed_change_on_duplicate_membership_leaves_no_trace(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (now, project) = (world.now, world.project.id);
    let before = Snapshot::take(&*store, &world).await;
    let newcomer = fx.registered_user(now);
    let new_account = fx.account(now, newcomer.id);
    let new_project = fx.project(now, new_account.id);
    let moved = User {
        email: fx.email(),
        ..world.outsider.clone()
    };
    let promoted = Membership {
        role: Role::ADMINISTRATOR,
        ..world.member_membership.clone()
    };
    let change = |last: Option<MembershipWrite>| Change {
        expect: vec![
            project_at(project, world.project.version),
            user_at(world.outsider.id, Version::INITIAL),
        ],
        accounts: vec![AccountWrite::Insert(new_account.clone())],
        projects: vec![new_project.clone()],
        users: vec![
            UserWrite::Insert {
                user: newcomer.clone(),
                password: Some(fx.password()),
            },
            UserWrite::Update {
                user: moved.clone(),
                password: Some(fx.password()),
            },
        ],
        memberships: [
            MembershipWrite::Insert(membership(now, project, world.outsider.id, Role::OBSERVER)),
            MembershipWrite::Update(promoted.clone()),
            MembershipWrite::Insert(membership(now, new_project.id, newcomer.id, Role::USER)),
        ]
        .into_iter()
        .chain(last)
        .collect(),
        ..Change::default()
    };
    let duplicate = MembershipWrite::Insert(world.owner_membership.clone());
    let refused = change(Some(duplicate));
    assert_refused!(
        store,
        refused,
        StoreError::AlreadyExists(Entity::Membership),
        "duplicate"
    );

    assert_eq!(Snapshot::take(&*store, &world).await, before);
    assert_eq!(store.account(new_account.id).await.unwrap(), None);
    assert_eq!(store.project(new_project.id).await.unwrap(), None);
    assert!(store.projects(new_account.id).await.unwrap().is_empty());
    assert_eq!(store.user(newcomer.id).await.unwrap(), None);
    assert_eq!(store.user_by_email(&newcomer.email).await.unwrap(), None);
    assert_eq!(store.password_hash(newcomer.id).await.unwrap(), None);
    assert!(
        store
            .accounts_of_user(newcomer.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.user_by_email(&moved.email).await.unwrap(),
        None,
        "address index"
    );
    let joined = store.membership(new_project.id, newcomer.id).await.unwrap();
    assert_eq!(joined, None);

    apply_ok(
        &*store,
        change(None),
        "the same change without the duplicate",
    )
    .await;
    assert_eq!(
        project_version(&*store, project).await,
        world.project.version.next()
    );
    assert_eq!(user_version(&*store, world.outsider.id).await, Version(1));
    assert_eq!(
        store.membership(project, world.member.id).await.unwrap(),
        Some(promoted)
    );
    assert_eq!(
        store
            .user_by_email(&moved.email)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(moved.id)
    );
}

/// A change rotating an invitation's token and inserting a user and an invitation, whose last
/// write is a second pending invitation for an already invited address (in another case),
/// leaves no trace: the old token still works, the new ones find nothing.
pub async fn failed_change_on_second_pending_invitation_leaves_no_trace(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (now, project, owner) = (world.now, world.project.id, world.owner.id);
    let before = Snapshot::take(&*store, &world).await;
    let rotated = fx.token();
    let resent = resend(&world.invitation, &rotated, now + Duration::hours(1));
    let fresh_user = fx.invited_user(now, fx.email());
    let fresh_token = fx.token();
    let fresh = fx.invitation(now, project, fresh_user.email.clone(), owner, &fresh_token);
    let shouted = email(&world.invitation.email.as_str().to_uppercase());
    let clash = fx.invitation(now, project, shouted, owner, &fx.token());
    let change = Change {
        expect: vec![project_at(project, world.project.version)],
        users: vec![UserWrite::Insert {
            user: fresh_user.clone(),
            password: None,
        }],
        memberships: vec![MembershipWrite::Delete {
            project,
            user: world.member.id,
        }],
        invitations: vec![
            InvitationWrite::Update(resent.clone()),
            InvitationWrite::Insert(fresh.clone()),
            InvitationWrite::Insert(clash.clone()),
        ],
        ..Change::default()
    };
    let what = "second pending invitation";
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::Invitation),
        what
    );

    assert_eq!(Snapshot::take(&*store, &world).await, before);
    assert_eq!(
        store.invitation_by_token(&rotated.hash()).await.unwrap(),
        None
    );
    assert_eq!(store.invitation(fresh.id).await.unwrap(), None);
    assert_eq!(
        store
            .invitation_by_token(&fresh_token.hash())
            .await
            .unwrap(),
        None
    );
    let pending = store
        .pending_invitation(project, &fresh_user.email)
        .await
        .unwrap();
    assert_eq!(pending, None);
    assert_eq!(store.invitation(clash.id).await.unwrap(), None);
    assert_eq!(store.user_by_email(&fresh_user.email).await.unwrap(), None);
}

/// An acceptance-like change (register the invitee, add the membership, close the invitation)
/// across two projects, whose last write reuses a token hash, leaves no trace in either
/// project.
pub async fn failed_change_on_duplicate_token_hash_leaves_no_trace(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let other = add_project(&*store, &fx, &world.account).await;
    let (now, project, owner) = (world.now, world.project.id, world.owner.id);
    let elsewhere_token = fx.token();
    let elsewhere = fx.invitation(now, other.id, fx.email(), owner, &elsewhere_token);
    let change = Change {
        invitations: vec![InvitationWrite::Insert(elsewhere.clone())],
        ..Change::default()
    };
    apply_ok(&*store, change, "inviting elsewhere").await;
    let before = Snapshot::take(&*store, &world).await;
    let registered = User {
        registered_at: Some(now),
        ..world.invitee.clone()
    };
    let accepted = close(&world.invitation, InvitationState::Accepted, now);
    let new_token = fx.token();
    let newcomer = fx.invitation(now, project, fx.email(), owner, &new_token);
    let clash = fx.invitation(now, other.id, fx.email(), owner, &world.token);
    let change = Change {
        expect: vec![
            project_at(project, world.project.version),
            project_at(other.id, Version::INITIAL),
            user_at(world.invitee.id, Version::INITIAL),
        ],
        users: vec![UserWrite::Update {
            user: registered,
            password: Some(fx.password()),
        }],
        memberships: vec![MembershipWrite::Insert(membership(
            now,
            project,
            world.invitee.id,
            Role::USER,
        ))],
        invitations: vec![
            InvitationWrite::Update(accepted),
            InvitationWrite::Insert(newcomer.clone()),
            InvitationWrite::Insert(clash.clone()),
        ],
        ..Change::default()
    };
    let what = "duplicate token hash";
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::Invitation),
        what
    );

    assert_eq!(Snapshot::take(&*store, &world).await, before);
    assert_eq!(project_version(&*store, other.id).await, Version::INITIAL);
    assert_eq!(store.invitation(newcomer.id).await.unwrap(), None);
    assert_eq!(
        store.invitation_by_token(&new_token.hash()).await.unwrap(),
        None
    );
    assert_eq!(store.invitation(clash.id).await.unwrap(), None);
    let found = store
        .invitation_by_token(&elsewhere_token.hash())
        .await
        .unwrap();
    assert_eq!(found, Some(elsewhere));
}

/// A change updating and inserting memberships and closing an invitation, whose last
/// invitation write updates one that does not exist, leaves no trace.
pub async fn failed_change_on_missing_invitation_update_leaves_no_trace(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (now, project) = (world.now, world.project.id);
    let before = Snapshot::take(&*store, &world).await;
    let ghost = fx.invitation(now, project, fx.email(), world.owner.id, &fx.token());
    let change = Change {
        expect: vec![project_at(project, world.project.version)],
        memberships: vec![
            MembershipWrite::Update(Membership {
                role: Role::OBSERVER,
                ..world.member_membership.clone()
            }),
            MembershipWrite::Insert(membership(
                now,
                project,
                world.outsider.id,
                Role::ADMINISTRATOR,
            )),
        ],
        invitations: vec![
            InvitationWrite::Update(close(&world.invitation, InvitationState::Revoked, now)),
            InvitationWrite::Update(ghost.clone()),
        ],
        audit: vec![fx.audit_event(now, &world.project, Some(world.owner.id))],
        outbox: vec![OutboxWrite::Insert(fx.outbox_entry(now, &world.invitation))],
        ..Change::default()
    };
    let what = "update of a missing invitation";
    assert_refused!(
        store,
        change,
        StoreError::NotFound(Entity::Invitation),
        what
    );

    assert_eq!(Snapshot::take(&*store, &world).await, before);
    assert_eq!(store.invitation(ghost.id).await.unwrap(), None);
}

/// A change whose last audit event reuses an id leaves no trace of its user, invitation and
/// earlier event.
pub async fn failed_change_on_duplicate_audit_event_leaves_no_trace(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (now, project, owner) = (world.now, world.project.id, world.owner.id);
    let before = Snapshot::take(&*store, &world).await;
    let invited = fx.invited_user(now, fx.email());
    let token = fx.token();
    let invitation = fx.invitation(now, project, invited.email.clone(), owner, &token);
    let change = Change {
        expect: vec![
            project_at(project, world.project.version),
            user_at(owner, Version::INITIAL),
        ],
        users: vec![
            UserWrite::Insert {
                user: invited.clone(),
                password: None,
            },
            UserWrite::Update {
                user: world.owner.clone(),
                password: Some(fx.password()),
            },
        ],
        invitations: vec![InvitationWrite::Insert(invitation.clone())],
        audit: vec![
            fx.audit_event(now, &world.project, Some(owner)),
            world.created.clone(),
        ],
        ..Change::default()
    };
    let what = "duplicate audit event";
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::AuditEvent),
        what
    );

    assert_eq!(Snapshot::take(&*store, &world).await, before);
    assert_eq!(store.user(invited.id).await.unwrap(), None);
    assert_eq!(store.invitation(invitation.id).await.unwrap(), None);
    assert_eq!(
        store.invitation_by_token(&token.hash()).await.unwrap(),
        None
    );
}

/// A change writing every kind of record, whose very last write (an outbox update of a missing
/// entry) fails, leaves no trace at all; without that write the same change applies whole.
pub async fn failed_change_on_last_outbox_write_leaves_no_trace(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (now, project, owner) = (world.now, world.project.id, world.owner.id);
    let before = Snapshot::take(&*store, &world).await;
    let newcomer = fx.invited_user(now, fx.email());
    let new_account = fx.account(now, world.outsider.id);
    let new_project = fx.project(now, world.account.id);
    let rotated = fx.token();
    let new_token = fx.token();
    let invitation = fx.invitation(now, project, newcomer.email.clone(), owner, &new_token);
    let notice = fx.outbox_entry(now, &invitation);
    let delivered = OutboxEntry {
        status: DeliveryStatus::Delivered,
        attempts: 1,
        finished_at: Some(now),
        ..world.notice.clone()
    };
    let events = [
        fx.audit_event(now, &world.project, Some(owner)),
        fx.audit_event(now, &world.project, None),
    ];
    let ghost = fx.outbox_entry(now, &world.invitation);
    let change = |last: Option<OutboxWrite>| Change {
        expect: vec![
            project_at(project, world.project.version),
            user_at(owner, Version::INITIAL),
        ],
        accounts: vec![AccountWrite::Insert(new_account.clone())],
        projects: vec![new_project.clone()],
        users: vec![
            UserWrite::Insert {
                user: newcomer.clone(),
                password: None,
            },
            UserWrite::Update {
                user: User {
                    registered_at: Some(now + Duration::hours(1)),
                    ..world.owner.clone()
                },
                password: Some(fx.password()),
            },
        ],
        memberships: vec![
            MembershipWrite::Insert(membership(now, project, world.outsider.id, Role::OBSERVER)),
            MembershipWrite::Update(Membership {
                role: Role::ADMINISTRATOR,
                ..world.member_membership.clone()
            }),
        ],
        invitations: vec![
            InvitationWrite::Update(resend(&world.invitation, &rotated, now)),
            InvitationWrite::Insert(invitation.clone()),
        ],
        audit: events.to_vec(),
        outbox: [
            OutboxWrite::Update(delivered.clone()),
            OutboxWrite::Insert(notice.clone()),
        ]
        .into_iter()
        .chain(last)
        .collect(),
    };
    let refused = change(Some(OutboxWrite::Update(ghost.clone())));
    let what = "update of a missing outbox entry";
    assert_refused!(
        store,
        refused,
        StoreError::NotFound(Entity::OutboxEntry),
        what
    );

    assert_eq!(Snapshot::take(&*store, &world).await, before);
    assert_eq!(store.account(new_account.id).await.unwrap(), None);
    assert_eq!(store.project(new_project.id).await.unwrap(), None);
    assert_eq!(store.user(newcomer.id).await.unwrap(), None);
    assert_eq!(store.user_by_email(&newcomer.email).await.unwrap(), None);
    assert_eq!(store.invitation(invitation.id).await.unwrap(), None);
    assert_eq!(
        store.invitation_by_token(&new_token.hash()).await.unwrap(),
        None
    );
    assert_eq!(
        store.invitation_by_token(&rotated.hash()).await.unwrap(),
        None
    );
    let pending = store
        .pending_invitation(project, &newcomer.email)
        .await
        .unwrap();
    assert_eq!(pending, None);
    assert_eq!(store.outbox_entry(notice.id).await.unwrap(), None);
    assert_eq!(store.outbox_entry(ghost.id).await.unwrap(), None);

    apply_ok(
        &*store,
        change(None),
        "the same change without the failing write",
    )
    .await;
    let after = Snapshot::take(&*store, &world).await;
    assert_eq!(
        after.project.map(|p| p.version),
        Some(world.project.version.next())
    );
    assert_eq!(user_version(&*store, owner).await, Version(1));
    assert_eq!(after.audit.len(), before.audit.len() + 2);
    assert_eq!(
        store.outbox_entry(world.notice.id).await.unwrap(),
        Some(delivered)
    );
    assert_eq!(
        store.invitation(invitation.id).await.unwrap(),
        Some(invitation)
    );
    assert!(store.account(new_account.id).await.unwrap().is_some());
}

/// Writes of one change apply in their order: a record inserted earlier in the change can be
/// updated or deleted later in it, and a deleted membership inserted again. The change bumps
/// its project once.
pub async fn writes_within_a_change_apply_in_order(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (now, project, owner) = (world.now, world.project.id, world.owner.id);
    let joining = membership(now, project, world.outsider.id, Role::OBSERVER);
    let promoted = Membership {
        role: Role::ADMINISTRATOR,
        ..joining.clone()
    };
    let rejoined = Membership {
        role: Role::OBSERVER,
        since: now + Duration::hours(1),
        ..world.member_membership.clone()
    };
    let newcomer = fx.invited_user(now, fx.email());
    let registered = User {
        registered_at: Some(now),
        ..newcomer.clone()
    };
    let (first_password, second_password) = (fx.password(), fx.password());
    let (first_token, second_token) = (fx.token(), fx.token());
    let invitation = fx.invitation(now, project, newcomer.email.clone(), owner, &first_token);
    let resent = resend(&invitation, &second_token, now + Duration::minutes(5));
    let notice = fx.outbox_entry(now, &invitation);
    let cancelled = OutboxEntry {
        status: DeliveryStatus::Cancelled,
        finished_at: Some(now),
        ..notice.clone()
    };
    let change = Change {
        expect: vec![project_at(project, world.project.version)],
        users: vec![
            UserWrite::Insert {
                user: newcomer.clone(),
                password: Some(first_password),
            },
            UserWrite::Update {
                user: registered.clone(),
                password: Some(second_password.clone()),
            },
        ],
        memberships: vec![
            MembershipWrite::Insert(joining),
            MembershipWrite::Update(promoted.clone()),
            MembershipWrite::Delete {
                project,
                user: world.member.id,
            },
            MembershipWrite::Insert(rejoined.clone()),
        ],
        invitations: vec![
            InvitationWrite::Insert(invitation.clone()),
            InvitationWrite::Update(resent.clone()),
        ],
        outbox: vec![
            OutboxWrite::Insert(notice),
            OutboxWrite::Update(cancelled.clone()),
        ],
        ..Change::default()
    };
    apply_ok(&*store, change, "a change writing records twice").await;

    let member = |user: UserId| {
        let store = store.clone();
        async move { store.membership(project, user).await.unwrap() }
    };
    assert_eq!(member(world.outsider.id).await, Some(promoted));
    assert_eq!(member(world.member.id).await, Some(rejoined));
    assert_eq!(store.user(newcomer.id).await.unwrap(), Some(registered));
    let password = store.password_hash(newcomer.id).await.unwrap();
    assert_eq!(password, Some(second_password));
    assert_eq!(
        store.invitation(invitation.id).await.unwrap(),
        Some(resent.clone())
    );
    assert_eq!(
        store
            .invitation_by_token(&first_token.hash())
            .await
            .unwrap(),
        None
    );
    let found = store
        .invitation_by_token(&second_token.hash())
        .await
        .unwrap();
    assert_eq!(found, Some(resent));
    assert_eq!(
        store.outbox_entry(cancelled.id).await.unwrap(),
        Some(cancelled)
    );
    assert_eq!(
        project_version(&*store, project).await,
        world.project.version.next(),
        "one bump per change"
    );
}

/// `invitation` sent again at `at` with `token`.
fn resend(
    invitation: &Invitation,
    token: &roster::InvitationToken,
    at: DateTime<Utc>,
) -> Invitation {
    Invitation {
        token_hash: token.hash(),
        sent_at: at,
        expires_at: at + invitation_lifetime(),
        sends: invitation.sends + 1,
        ..invitation.clone()
    }
}

/// `invitation` moved to the final `state` at `at`.
fn close(invitation: &Invitation, state: InvitationState, at: DateTime<Utc>) -> Invitation {
    Invitation {
        state,
        closed_at: Some(at),
        ..invitation.clone()
    }
}

/// Expects `project` at `version`.
fn project_at(project: ProjectId, version: Version) -> Expectation {
    Expectation::ProjectVersion { project, version }
}

/// Expects `user` at `version`.
fn user_at(user: UserId, version: Version) -> Expectation {
    Expectation::UserVersion { user, version }
}
