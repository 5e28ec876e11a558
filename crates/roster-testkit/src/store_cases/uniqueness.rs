//! The store's second line: uniqueness rules answer `AlreadyExists`, writes to or references of
//! missing records answer `NotFound`, each naming the right entity.

use roster::StoreExt;
use roster::store::AccountWrite;
use std::slice::from_ref;
use std::sync::Arc;

use roster::store::{InvitationWrite, MembershipWrite, OutboxWrite, UserWrite};
use roster::{
    Account, AuditEvent, Change, Entity, Invitation, InvitationState, Membership, OutboxEntry,
    Project, Role, Store, StoreError, User,
};

use super::{Snapshot, add_project, apply_ok, seed};
use crate::fixtures::{Fixtures, email, membership};

/// A taken account or project id answers `AlreadyExists` for it, whether taken before or
/// earlier in the same change, and the stored record stays as it was.
pub async fn duplicate_account_and_project_ids_are_rejected(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let impostor = Account {
        name: "Impostor".to_owned(),
        ..world.account.clone()
    };
    let change = Change {
        accounts: vec![AccountWrite::Insert(impostor)],
        ..Change::default()
    };
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::Account),
        "account id"
    );
    assert_eq!(
        store.account(world.account.id).await.unwrap(),
        Some(world.account.clone())
    );

    let twice = fx.account(world.now, world.owner.id);
    let change = Change {
        accounts: vec![
            AccountWrite::Insert(twice.clone()),
            AccountWrite::Insert(twice.clone()),
        ],
        ..Change::default()
    };
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::Account),
        "same change"
    );
    assert_eq!(store.account(twice.id).await.unwrap(), None);

    let impostor = Project {
        name: "Impostor".to_owned(),
        ..world.project.clone()
    };
    let change = Change {
        projects: vec![impostor],
        ..Change::default()
    };
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::Project),
        "project id"
    );
    assert_eq!(
        store.project(world.project.id).await.unwrap(),
        Some(world.project.clone())
    );

    let twice = fx.project(world.now, world.account.id);
    let change = Change {
        projects: vec![twice.clone(), twice.clone()],
        ..Change::default()
    };
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::Project),
        "same change"
    );
    assert_eq!(store.project(twice.id).await.unwrap(), None);
}

/// A taken user id, or an address whose canonical form is taken (by insert or by update),
/// answers `AlreadyExists(User)`, and the stored users stay as they were.
pub async fn duplicate_user_id_or_canonical_email_is_rejected(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let now = world.now;
    let shouted = email(&world.owner.email.as_str().to_uppercase());

    let same_id = User {
        email: fx.email(),
        ..world.owner.clone()
    };
    let change = users(vec![insert(&same_id)]);
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::User),
        "user id"
    );
    assert_eq!(
        store.user(world.owner.id).await.unwrap(),
        Some(world.owner.clone())
    );
    assert_eq!(store.user_by_email(&same_id.email).await.unwrap(), None);

    let same_address = fx.invited_user(now, shouted.clone());
    let change = users(vec![insert(&same_address)]);
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::User),
        "same address"
    );
    assert_eq!(store.user(same_address.id).await.unwrap(), None);
    assert_eq!(
        store.user_by_email(&shouted).await.unwrap(),
        Some(world.owner.clone())
    );

    let address = fx.email();
    let first = fx.invited_user(now, address.clone());
    let second = fx.invited_user(now, email(&address.as_str().to_lowercase()));
    let change = users(vec![insert(&first), insert(&second)]);
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::User),
        "same change"
    );
    assert_eq!(store.user_by_email(&address).await.unwrap(), None);

    let taking = User {
        email: shouted.clone(),
        ..world.member.clone()
    };
    let change = users(vec![UserWrite::Update {
        user: taking,
        password: None,
    }]);
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::User),
        "update"
    );
    assert_eq!(
        store.user(world.member.id).await.unwrap(),
        Some(world.member.clone())
    );
    assert_eq!(
        store.user_by_email(&shouted).await.unwrap(),
        Some(world.owner.clone())
    );
}

/// A second membership for one (project, user) answers `AlreadyExists(Membership)`, whether the
/// first was stored before or earlier in the same change; the same user may join another
/// project.
pub async fn duplicate_membership_is_rejected(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (now, project) = (world.now, world.project.id);
    let again = Membership {
        role: Role::OBSERVER,
        ..world.owner_membership.clone()
    };
    let change = memberships(vec![MembershipWrite::Insert(again)]);
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::Membership),
        "stored"
    );
    assert_eq!(
        store.membership(project, world.owner.id).await.unwrap(),
        Some(world.owner_membership.clone())
    );

    let joining = membership(now, project, world.outsider.id, Role::USER);
    let twice = memberships(vec![
        MembershipWrite::Insert(joining.clone()),
        MembershipWrite::Insert(Membership {
            role: Role::OBSERVER,
            ..joining
        }),
    ]);
    assert_refused!(
        store,
        twice,
        StoreError::AlreadyExists(Entity::Membership),
        "twice"
    );
    assert_eq!(
        store.membership(project, world.outsider.id).await.unwrap(),
        None
    );

    let other = add_project(&*store, &fx, &world.account).await;
    let elsewhere = membership(now, other.id, world.owner.id, Role::OBSERVER);
    let change = memberships(vec![MembershipWrite::Insert(elsewhere.clone())]);
    apply_ok(&*store, change, "the same user in another project").await;
    assert_eq!(
        store.membership(other.id, world.owner.id).await.unwrap(),
        Some(elsewhere)
    );
}

/// A taken invitation id or token hash (taken by any invitation, in any project and any state,
/// before or in the same change) answers `AlreadyExists(Invitation)` on insert and on update.
pub async fn duplicate_invitation_id_or_token_hash_is_rejected(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let other = add_project(&*store, &fx, &world.account).await;
    let (now, owner) = (world.now, world.owner.id);
    let revoked = |invitation: Invitation| Invitation {
        state: InvitationState::Revoked,
        closed_at: Some(now),
        ..invitation
    };
    let hash = world.token.hash();
    let found = || {
        let store = store.clone();
        async move { store.invitation_by_token(&hash).await.unwrap() }
    };

    let same_id = Invitation {
        email: fx.email(),
        token_hash: fx.token().hash(),
        ..revoked(world.invitation.clone())
    };
    let change = invitations(vec![InvitationWrite::Insert(same_id)]);
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::Invitation),
        "id"
    );
    let stored = store.invitation(world.invitation.id).await.unwrap();
    assert_eq!(stored, Some(world.invitation.clone()));

    for project in [world.project.id, other.id] {
        let same_hash = revoked(fx.invitation(now, project, fx.email(), owner, &world.token));
        let change = invitations(vec![InvitationWrite::Insert(same_hash.clone())]);
        assert_refused!(
            store,
            change,
            StoreError::AlreadyExists(Entity::Invitation),
            "hash"
        );
        assert_eq!(store.invitation(same_hash.id).await.unwrap(), None);
        assert_eq!(found().await, Some(world.invitation.clone()));
    }

    let token = fx.token();
    let (first, second) = (
        fx.invitation(now, other.id, fx.email(), owner, &token),
        fx.invitation(now, other.id, fx.email(), owner, &token),
    );
    let change = invitations(vec![
        InvitationWrite::Insert(first.clone()),
        InvitationWrite::Insert(second),
    ]);
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::Invitation),
        "twice"
    );
    assert_eq!(
        store.invitation_by_token(&token.hash()).await.unwrap(),
        None
    );

    apply_ok(
        &*store,
        invitations(vec![InvitationWrite::Insert(first.clone())]),
        "one",
    )
    .await;
    let taking = Invitation {
        token_hash: hash,
        ..first.clone()
    };
    let change = invitations(vec![InvitationWrite::Update(taking)]);
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::Invitation),
        "update"
    );
    assert_eq!(store.invitation(first.id).await.unwrap(), Some(first));
    assert_eq!(found().await, Some(world.invitation.clone()));
}

/// A second stored-`Pending` invitation for one project and canonical address answers
/// `AlreadyExists(Invitation)`, on insert and on update, even when the first is past its
/// expiry; closed invitations and other projects do not count.
pub async fn second_pending_invitation_per_project_and_address_is_rejected(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let other = add_project(&*store, &fx, &world.account).await;
    let (now, project, owner) = (world.now, world.project.id, world.owner.id);
    let address = world.invitation.email.clone();
    let shouted = email(&address.as_str().to_uppercase());
    let invite = |project, address: &roster::Email| {
        fx.invitation(now, project, address.clone(), owner, &fx.token())
    };
    let insert_one =
        |invitation: &Invitation| invitations(vec![InvitationWrite::Insert(invitation.clone())]);
    let pending_count = || {
        let store = store.clone();
        async move { store.count_pending_invitations(project, now).await.unwrap() }
    };

    let second = invite(project, &shouted);
    let what = "same project, address in other case";
    assert_refused!(
        store,
        insert_one(&second),
        StoreError::AlreadyExists(Entity::Invitation),
        what
    );
    assert_eq!(store.invitation(second.id).await.unwrap(), None);
    assert_eq!(
        store.pending_invitation(project, &address).await.unwrap(),
        Some(world.invitation.clone())
    );
    assert_eq!(pending_count().await, 1);

    let declined = Invitation {
        state: InvitationState::Declined,
        closed_at: Some(now),
        ..invite(project, &shouted)
    };
    apply_ok(
        &*store,
        insert_one(&declined),
        "a closed one for the same address",
    )
    .await;
    apply_ok(
        &*store,
        insert_one(&invite(other.id, &shouted)),
        "another project",
    )
    .await;

    let stale_address = fx.email();
    let stale = Invitation {
        expires_at: now - chrono::Duration::hours(1),
        ..invite(project, &stale_address)
    };
    apply_ok(&*store, insert_one(&stale), "an expired pending one").await;
    let after_stale = invite(project, &email(&stale_address.as_str().to_lowercase()));
    let what = "the first is only expired in effect";
    assert_refused!(
        store,
        insert_one(&after_stale),
        StoreError::AlreadyExists(Entity::Invitation),
        what
    );

    let accepted = Invitation {
        state: InvitationState::Accepted,
        closed_at: Some(now),
        ..world.invitation.clone()
    };
    apply_ok(
        &*store,
        invitations(vec![InvitationWrite::Update(accepted)]),
        "accepting",
    )
    .await;
    let renewed = invite(project, &shouted);
    apply_ok(
        &*store,
        insert_one(&renewed),
        "pending again once the first is closed",
    )
    .await;
    let reopened = world.invitation.clone();
    let change = invitations(vec![InvitationWrite::Update(reopened)]);
    let what = "reopening beside a pending one";
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::Invitation),
        what
    );
    let reopened = Invitation {
        state: InvitationState::Pending,
        closed_at: None,
        ..declined
    };
    let change = invitations(vec![InvitationWrite::Update(reopened)]);
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::Invitation),
        what
    );
    assert_eq!(
        store.pending_invitation(project, &address).await.unwrap(),
        Some(renewed)
    );
}

/// A taken audit event or outbox entry id answers `AlreadyExists` for it, and the stored record
/// stays as it was.
pub async fn duplicate_audit_event_and_outbox_ids_are_rejected(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let project = world.project.id;
    let impostor = AuditEvent {
        actor: None,
        ..world.created.clone()
    };
    let change = Change {
        audit: vec![impostor],
        ..Change::default()
    };
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::AuditEvent),
        "event id"
    );
    let twice = fx.audit_event(world.now, &world.project, None);
    let change = Change {
        audit: vec![twice.clone(), twice],
        ..Change::default()
    };
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::AuditEvent),
        "twice"
    );
    let events = store.audit_events(project, None, super::ALL).await.unwrap();
    assert_eq!(events, from_ref(&world.created));

    let impostor = OutboxEntry {
        attempts: 7,
        ..world.notice.clone()
    };
    let change = Change {
        outbox: vec![OutboxWrite::Insert(impostor)],
        ..Change::default()
    };
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::OutboxEntry),
        "entry id"
    );
    let twice = fx.outbox_entry(world.now, &world.invitation);
    let change = Change {
        outbox: vec![
            OutboxWrite::Insert(twice.clone()),
            OutboxWrite::Insert(twice.clone()),
        ],
        ..Change::default()
    };
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::OutboxEntry),
        "twice"
    );
    assert_eq!(store.outbox_entry(twice.id).await.unwrap(), None);
    let stored = store.outbox_entry(world.notice.id).await.unwrap();
    assert_eq!(stored, Some(world.notice.clone()));
}

/// Updates and deletes of records that do not exist answer `NotFound` for them.
pub async fn updates_and_deletes_of_missing_records_are_not_found(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (now, project) = (world.now, world.project.id);
    let before = Snapshot::take(&*store, &world).await;

    let stranger = fx.registered_user(now);
    let change = users(vec![UserWrite::Update {
        user: stranger,
        password: Some(fx.password()),
    }]);
    assert_refused!(
        store,
        change,
        StoreError::NotFound(Entity::User),
        "user update"
    );

    let outsider = membership(now, project, world.outsider.id, Role::USER);
    let nowhere = membership(now, fx.project_id(), world.owner.id, Role::USER);
    for (write, what) in [
        (MembershipWrite::Update(outsider), "membership update"),
        (
            MembershipWrite::Update(nowhere),
            "membership update in unknown project",
        ),
        (
            MembershipWrite::Delete {
                project,
                user: world.outsider.id,
            },
            "membership delete",
        ),
    ] {
        let change = memberships(vec![write]);
        assert_refused!(
            store,
            change,
            StoreError::NotFound(Entity::Membership),
            what
        );
    }

    let ghost = fx.invitation(now, project, fx.email(), world.owner.id, &fx.token());
    let change = invitations(vec![InvitationWrite::Update(ghost.clone())]);
    assert_refused!(
        store,
        change,
        StoreError::NotFound(Entity::Invitation),
        "invitation"
    );
    assert_eq!(store.invitation(ghost.id).await.unwrap(), None, "no upsert");

    let ghost = fx.outbox_entry(now, &world.invitation);
    let change = Change {
        outbox: vec![OutboxWrite::Update(ghost.clone())],
        ..Change::default()
    };
    assert_refused!(
        store,
        change,
        StoreError::NotFound(Entity::OutboxEntry),
        "outbox entry"
    );
    assert_eq!(
        store.outbox_entry(ghost.id).await.unwrap(),
        None,
        "no upsert"
    );
    assert_eq!(Snapshot::take(&*store, &world).await, before);

    let leave = || {
        memberships(vec![MembershipWrite::Delete {
            project,
            user: world.member.id,
        }])
    };
    apply_ok(&*store, leave(), "deleting a membership").await;
    assert_refused!(
        store,
        leave(),
        StoreError::NotFound(Entity::Membership),
        "deleted twice"
    );
}

/// Memberships and invitations naming an unknown project, and memberships naming an unknown
/// user, answer `NotFound` for the missing record.
pub async fn references_to_unknown_projects_or_users_are_not_found(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (now, project) = (world.now, world.project.id);
    let before = Snapshot::take(&*store, &world).await;
    let (unknown_project, unknown_user) = (fx.project_id(), fx.user_id());

    let change = memberships(vec![MembershipWrite::Insert(membership(
        now,
        unknown_project,
        world.outsider.id,
        Role::USER,
    ))]);
    assert_refused!(
        store,
        change,
        StoreError::NotFound(Entity::Project),
        "membership project"
    );

    let change = memberships(vec![MembershipWrite::Insert(membership(
        now,
        project,
        unknown_user,
        Role::USER,
    ))]);
    assert_refused!(
        store,
        change,
        StoreError::NotFound(Entity::User),
        "membership user"
    );

    let nowhere = fx.invitation(
        now,
        unknown_project,
        fx.email(),
        world.owner.id,
        &fx.token(),
    );
    let change = invitations(vec![InvitationWrite::Insert(nowhere.clone())]);
    assert_refused!(
        store,
        change,
        StoreError::NotFound(Entity::Project),
        "invitation project"
    );
    assert_eq!(store.invitation(nowhere.id).await.unwrap(), None);
    assert_eq!(Snapshot::take(&*store, &world).await, before);
}

/// Writes are checked in the documented order (accounts, projects, users, memberships,
/// invitations, audit events, outbox) and the first failing one decides the error.
pub async fn the_first_failing_write_decides_the_error(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let mut change = Change {
        accounts: vec![AccountWrite::Insert(world.account.clone())],
        projects: vec![world.project.clone()],
        users: vec![insert(&world.owner)],
        memberships: vec![MembershipWrite::Insert(world.owner_membership.clone())],
        invitations: vec![InvitationWrite::Insert(world.invitation.clone())],
        audit: vec![world.created.clone()],
        outbox: vec![OutboxWrite::Insert(world.notice.clone())],
        ..Change::default()
    };
    assert_refused!(
        store,
        change.clone(),
        StoreError::AlreadyExists(Entity::Account),
        "all"
    );
    change.accounts.clear();
    assert_refused!(
        store,
        change.clone(),
        StoreError::AlreadyExists(Entity::Project),
        "2"
    );
    change.projects.clear();
    assert_refused!(
        store,
        change.clone(),
        StoreError::AlreadyExists(Entity::User),
        "3"
    );
    change.users.clear();
    assert_refused!(
        store,
        change.clone(),
        StoreError::AlreadyExists(Entity::Membership),
        "4"
    );
    change.memberships.clear();
    assert_refused!(
        store,
        change.clone(),
        StoreError::AlreadyExists(Entity::Invitation),
        "5"
    );
    change.invitations.clear();
    assert_refused!(
        store,
        change.clone(),
        StoreError::AlreadyExists(Entity::AuditEvent),
        "6"
    );
    change.audit.clear();
    assert_refused!(
        store,
        change,
        StoreError::AlreadyExists(Entity::OutboxEntry),
        "7"
    );
}

/// A user insert without a password.
fn insert(user: &User) -> UserWrite {
    UserWrite::Insert {
        user: user.clone(),
        password: None,
    }
}

/// A change made of user writes only.
fn users(writes: Vec<UserWrite>) -> Change {
    Change {
        users: writes,
        ..Change::default()
    }
}

/// A change made of membership writes only.
fn memberships(writes: Vec<MembershipWrite>) -> Change {
    Change {
        memberships: writes,
        ..Change::default()
    }
}

/// A change made of invitation writes only.
fn invitations(writes: Vec<InvitationWrite>) -> Change {
    Change {
        invitations: writes,
        ..Change::default()
    }
}
