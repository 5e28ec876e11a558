//! Versions: where they start, how expectations move them, and how stale or missing
//! expectations refuse a whole change.

use roster::StoreExt;
use roster::store::AccountWrite;
use std::sync::Arc;

use chrono::Duration;
use roster::store::{Expectation, InvitationWrite, MembershipWrite, OutboxWrite, UserWrite};
use roster::{
    Change, Entity, Membership, Project, ProjectId, Role, Store, StoreError, User, UserId, Version,
};

use super::{Snapshot, add_project, apply_ok, project_version, seed, user_version};
use crate::fixtures::{Fixtures, World, membership, start};

/// Projects and users start at [`Version::INITIAL`] whatever version the inserted record
/// carries.
pub async fn inserted_projects_and_users_start_at_the_initial_version(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let now = start();
    let user = User {
        version: Version(9),
        ..fx.registered_user(now)
    };
    let account = fx.account(now, user.id);
    let project = Project {
        version: Version(7),
        ..fx.project(now, account.id)
    };
    let change = Change {
        accounts: vec![AccountWrite::Insert(account.clone())],
        projects: vec![project.clone()],
        users: vec![UserWrite::Insert {
            user: user.clone(),
            password: None,
        }],
        ..Change::default()
    };
    apply_ok(&*store, change, "inserting").await;

    assert_eq!(project_version(&*store, project.id).await, Version::INITIAL);
    let listed = store.projects(account.id).await.unwrap();
    assert_eq!(listed[0].version, Version::INITIAL, "listed projects too");
    assert_eq!(user_version(&*store, user.id).await, Version::INITIAL);
    let by_email = store.user_by_email(&user.email).await.unwrap().unwrap();
    assert_eq!(
        by_email.version,
        Version::INITIAL,
        "user found by address too"
    );
}

/// Every applied change bumps each project and user named in its expectations by exactly one
/// (even a change that writes nothing else), and nothing else: records a change writes without
/// expecting them keep their versions.
pub async fn each_applied_change_bumps_expected_versions_by_one(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let other = add_project(&*store, &fx, &world.account).await.id;
    let (project, owner, member) = (world.project.id, world.owner.id, world.member.id);
    let v0 = world.project.version;
    let versions = || {
        let store = store.clone();
        async move {
            (
                project_version(&*store, project).await,
                project_version(&*store, other).await,
                user_version(&*store, owner).await,
                user_version(&*store, member).await,
            )
        }
    };
    let initial = Version::INITIAL;
    assert_eq!(versions().await, (v0, initial, initial, initial));

    let mut change = Change::on_project(project, v0);
    change
        .audit
        .push(fx.audit_event(world.now, &world.project, Some(owner)));
    apply_ok(&*store, change, "an audited change").await;
    assert_eq!(versions().await, (v0.next(), initial, initial, initial));

    let empty = Change::on_project(project, v0.next());
    apply_ok(&*store, empty, "a change with an expectation only").await;
    let v2 = v0.next().next();
    assert_eq!(versions().await, (v2, initial, initial, initial));

    let promoted = Membership {
        role: Role::ADMINISTRATOR,
        ..world.member_membership.clone()
    };
    let mut change = Change {
        memberships: vec![MembershipWrite::Update(promoted)],
        ..Change::on_project(project, v2)
    };
    change.expect.push(user_expectation(owner, initial));
    apply_ok(&*store, change, "a change expecting a project and a user").await;
    let v3 = v2.next();
    let expected = (v3, initial, initial.next(), initial);
    assert_eq!(
        versions().await,
        expected,
        "the member was written, not expected"
    );

    let joins = Change {
        memberships: vec![MembershipWrite::Insert(membership(
            world.now,
            project,
            world.outsider.id,
            Role::OBSERVER,
        ))],
        ..Change::default()
    };
    apply_ok(&*store, joins, "a change with no expectation").await;
    assert_eq!(
        versions().await,
        expected,
        "only expectations move versions"
    );

    let member_only = Change {
        expect: vec![user_expectation(member, initial)],
        ..Change::default()
    };
    apply_ok(&*store, member_only, "a change expecting a user").await;
    assert_eq!(
        versions().await,
        (v3, initial, initial.next(), initial.next())
    );
}

/// Updates keep the stored version whatever the written record carries; only the expectation
/// moves it, by one.
pub async fn updates_keep_the_stored_version(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (project, owner) = (world.project.id, world.owner.id);
    let renamed = User {
        version: Version(50),
        registered_at: Some(world.now + Duration::hours(1)),
        ..world.owner.clone()
    };
    let update = |user: &User| UserWrite::Update {
        user: user.clone(),
        password: None,
    };
    let change = Change {
        users: vec![update(&renamed)],
        ..Change::default()
    };
    apply_ok(&*store, change, "an update without expectation").await;
    let read = store.user(owner).await.unwrap().expect("the owner");
    assert_eq!(read.version, Version::INITIAL);
    assert_eq!(
        read.registered_at, renamed.registered_at,
        "the fields did change"
    );

    let change = Change {
        expect: vec![user_expectation(owner, Version::INITIAL)],
        users: vec![update(&renamed)],
        ..Change::default()
    };
    apply_ok(&*store, change, "an update with expectation").await;
    assert_eq!(
        user_version(&*store, owner).await,
        Version(1),
        "one more, not 51"
    );

    let revoked = roster::Invitation {
        state: roster::InvitationState::Revoked,
        closed_at: Some(world.now),
        ..world.invitation.clone()
    };
    let change = Change {
        invitations: vec![InvitationWrite::Update(revoked)],
        ..Change::default()
    };
    apply_ok(&*store, change, "an invitation update without expectation").await;
    assert_eq!(
        project_version(&*store, project).await,
        world.project.version
    );
}

/// A change expecting a project version that moved (or that never was) answers
/// `Conflict(Project)` and applies nothing; the same writes then apply at the current version.
pub async fn stale_project_expectation_conflicts_and_applies_nothing(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let project = world.project.id;
    let v0 = world.project.version;
    apply_ok(
        &*store,
        Change::on_project(project, v0),
        "moving the project",
    )
    .await;
    let before = Snapshot::take(&*store, &world).await;
    let (newcomer, writes) = busy_change(&fx, &world);

    for stale in [v0, Version(v0.0 + 5)] {
        let change = Change {
            expect: vec![project_expectation(project, stale)],
            ..writes.clone()
        };
        let what = format!("expecting {stale:?} at {:?}", v0.next());
        assert_refused!(store, change, StoreError::Conflict(Entity::Project), what);
        assert_eq!(
            Snapshot::take(&*store, &world).await,
            before,
            "{what}: nothing applied"
        );
        assert_eq!(store.user(newcomer.id).await.unwrap(), None, "{what}");
        assert_eq!(
            store.user_by_email(&newcomer.email).await.unwrap(),
            None,
            "{what}"
        );
    }

    let change = Change {
        expect: vec![project_expectation(project, v0.next())],
        ..writes
    };
    apply_ok(&*store, change, "the same writes at the current version").await;
    assert_eq!(project_version(&*store, project).await, v0.next().next());
    assert!(store.user(newcomer.id).await.unwrap().is_some());
}

/// A change expecting a user version that moved answers `Conflict(User)` and applies nothing:
/// not its writes, and not the bump of a project whose expectation held.
pub async fn stale_user_expectation_conflicts_and_applies_nothing(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (project, owner) = (world.project.id, world.owner.id);
    let moving = Change {
        expect: vec![user_expectation(owner, Version::INITIAL)],
        ..Change::default()
    };
    apply_ok(&*store, moving, "moving the owner").await;
    let before = Snapshot::take(&*store, &world).await;
    let (newcomer, writes) = busy_change(&fx, &world);
    let mut change = Change {
        expect: vec![
            project_expectation(project, world.project.version),
            user_expectation(owner, Version::INITIAL),
        ],
        ..writes
    };
    change.users.push(UserWrite::Update {
        user: world.owner.clone(),
        password: Some(fx.password()),
    });
    assert_refused!(
        store,
        change,
        StoreError::Conflict(Entity::User),
        "stale user"
    );
    assert_eq!(
        Snapshot::take(&*store, &world).await,
        before,
        "nothing applied"
    );
    assert_eq!(store.user(newcomer.id).await.unwrap(), None);
    assert_eq!(user_version(&*store, owner).await, Version(1));
    assert_eq!(
        project_version(&*store, project).await,
        world.project.version
    );
}

/// An expectation on a project or user that does not exist answers `NotFound` for it and
/// applies nothing, not even the bumps of expectations that held.
pub async fn expectation_on_missing_record_is_not_found(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let before = Snapshot::take(&*store, &world).await;
    let (_, writes) = busy_change(&fx, &world);
    let held = project_expectation(world.project.id, world.project.version);
    let attempts = [
        (
            project_expectation(fx.project_id(), Version::INITIAL),
            Entity::Project,
        ),
        (
            user_expectation(fx.user_id(), Version::INITIAL),
            Entity::User,
        ),
    ];
    for (missing, entity) in attempts {
        let change = Change {
            expect: vec![held, missing],
            ..writes.clone()
        };
        let what = format!("an expectation on a missing {entity}");
        match store.apply(change).await {
            Err(StoreError::NotFound(found)) if found == entity => {}
            other => panic!("{what}: expected NotFound({entity:?}), got {other:?}"),
        }
        assert_eq!(
            Snapshot::take(&*store, &world).await,
            before,
            "{what}: nothing applied"
        );
    }
}

/// Expectations are checked before any write: a change that is both stale and invalid answers
/// the expectation's error, not the write's.
pub async fn expectations_are_checked_before_writes(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let project = world.project.id;
    let duplicate = Change {
        memberships: vec![MembershipWrite::Insert(world.owner_membership.clone())],
        ..Change::default()
    };
    let expecting = |expectation| Change {
        expect: vec![expectation],
        ..duplicate.clone()
    };
    let stale = project_expectation(project, world.project.version.next());
    assert_refused!(
        store,
        expecting(stale),
        StoreError::Conflict(Entity::Project),
        "stale and duplicate"
    );
    let missing = project_expectation(fx.project_id(), Version::INITIAL);
    assert_refused!(
        store,
        expecting(missing),
        StoreError::NotFound(Entity::Project),
        "missing and duplicate"
    );
    let held = project_expectation(project, world.project.version);
    assert_refused!(
        store,
        expecting(held),
        StoreError::AlreadyExists(Entity::Membership),
        "current and duplicate"
    );
    assert_eq!(
        project_version(&*store, project).await,
        world.project.version
    );
}

/// A change touching every kind of record in `world`'s project, valid at the world's current
/// state, with no expectations; and the new user it inserts.
fn busy_change(fx: &Fixtures, world: &World) -> (User, Change) {
    let now = world.now;
    let newcomer = fx.invited_user(now, fx.email());
    let invitation = fx.invitation(
        now,
        world.project.id,
        newcomer.email.clone(),
        world.owner.id,
        &fx.token(),
    );
    let change = Change {
        users: vec![UserWrite::Insert {
            user: newcomer.clone(),
            password: None,
        }],
        memberships: vec![
            MembershipWrite::Insert(membership(
                now,
                world.project.id,
                world.outsider.id,
                Role::USER,
            )),
            MembershipWrite::Delete {
                project: world.project.id,
                user: world.member.id,
            },
        ],
        invitations: vec![InvitationWrite::Insert(invitation.clone())],
        audit: vec![fx.audit_event(now, &world.project, Some(world.owner.id))],
        outbox: vec![OutboxWrite::Insert(fx.outbox_entry(now, &invitation))],
        ..Change::default()
    };
    (newcomer, change)
}

/// Expects `project` at `version`.
fn project_expectation(project: ProjectId, version: Version) -> Expectation {
    Expectation::ProjectVersion { project, version }
}

/// Expects `user` at `version`.
fn user_expectation(user: UserId, version: Version) -> Expectation {
    Expectation::UserVersion { user, version }
}
