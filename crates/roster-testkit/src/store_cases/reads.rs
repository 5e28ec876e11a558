//! Every read returns what was written, and nothing for what was not.

use roster::StoreExt;
use roster::store::AccountWrite;
use std::slice::from_ref;
use std::sync::Arc;

use chrono::Duration;
use roster::store::{Member, MembershipWrite, OutboxQuery, UserWrite};
use roster::{Account, Change, Membership, Project, Role, Store, User};

use super::{ALL, add_project, all_invitations, apply_ok, seed};
use crate::fixtures::{Fixtures, email, membership, start};

/// Unknown ids read as `None`, listings of unknown parents are empty and counts are zero, even
/// in a store that holds other records.
pub async fn unknown_ids_read_as_none_or_empty(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let now = world.now;
    let (account, project, user) = (fx.account_id(), fx.project_id(), fx.user_id());

    assert_eq!(store.account(account).await.unwrap(), None, "account");
    assert_eq!(store.project(project).await.unwrap(), None, "project");
    assert!(
        store.projects(account).await.unwrap().is_empty(),
        "projects"
    );
    assert_eq!(store.user(user).await.unwrap(), None, "user");
    assert_eq!(store.user_by_email(&fx.email()).await.unwrap(), None);
    assert_eq!(store.password_hash(user).await.unwrap(), None);
    assert!(store.accounts_of_user(user).await.unwrap().is_empty());
    assert!(
        store
            .accounts_of_user(world.outsider.id)
            .await
            .unwrap()
            .is_empty(),
        "a user with no account and no membership picks nothing"
    );
    assert_eq!(
        store.membership(project, world.owner.id).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .membership(world.project.id, world.outsider.id)
            .await
            .unwrap(),
        None,
        "a known user who is not a member"
    );
    assert!(store.members(project, None, ALL).await.unwrap().is_empty());
    assert_eq!(
        store
            .count_members(project, Role::ADMINISTRATOR)
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.invitation(fx.invitation_id()).await.unwrap(), None);
    assert_eq!(
        store.invitation_by_token(&fx.token().hash()).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .pending_invitation(world.project.id, &world.owner.email)
            .await
            .unwrap(),
        None,
        "no invitation for this address"
    );
    assert_eq!(
        store
            .pending_invitation(project, &world.invitation.email)
            .await
            .unwrap(),
        None,
        "the address is invited, but to another project"
    );
    assert!(
        store
            .invitations(&all_invitations(project, now))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.count_pending_invitations(project, now).await.unwrap(),
        0
    );
    assert_eq!(
        store
            .count_sends_by(world.outsider.id, now - Duration::days(30))
            .await
            .unwrap(),
        0
    );
    assert!(
        store
            .audit_events(project, None, ALL)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.outbox_entry(fx.notice_id()).await.unwrap(), None);
    let other_project = OutboxQuery {
        project: Some(project),
        limit: ALL,
        ..OutboxQuery::default()
    };
    assert!(store.outbox(&other_project).await.unwrap().is_empty());
    assert!(
        store
            .due_notices(now - Duration::seconds(1), ALL)
            .await
            .unwrap()
            .is_empty(),
        "the only notice is not due yet"
    );
}

/// A whole world written in one change (records referring to records of the same change) reads
/// back field for field, through every read.
pub async fn seeded_world_reads_back(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let project = world.project.id;

    assert_eq!(
        store.account(world.account.id).await.unwrap(),
        Some(world.account.clone())
    );
    assert_eq!(
        store.project(project).await.unwrap(),
        Some(world.project.clone())
    );
    assert_eq!(
        store.projects(world.account.id).await.unwrap(),
        from_ref(&world.project)
    );
    for user in [&world.owner, &world.member, &world.outsider, &world.invitee] {
        assert_eq!(store.user(user.id).await.unwrap().as_ref(), Some(user));
    }
    assert_eq!(
        store.membership(project, world.owner.id).await.unwrap(),
        Some(world.owner_membership.clone())
    );
    assert_eq!(
        store.membership(project, world.member.id).await.unwrap(),
        Some(world.member_membership.clone())
    );
    assert_eq!(
        store.invitation(world.invitation.id).await.unwrap(),
        Some(world.invitation.clone())
    );
    assert_eq!(
        store.audit_events(project, None, ALL).await.unwrap(),
        from_ref(&world.created)
    );
    assert_eq!(
        store.outbox_entry(world.notice.id).await.unwrap(),
        Some(world.notice.clone())
    );
}

/// Accounts and projects read back as written; `projects` lists one account's projects in id
/// order, whatever order they were written in.
pub async fn accounts_and_projects_read_back_in_id_order(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let now = start();
    let (first, second) = (fx.registered_user(now), fx.registered_user(now));
    let account = Account {
        administrators: vec![first.id, second.id],
        ..fx.account(now, first.id)
    };
    let other = fx.account(now, second.id);
    let projects: Vec<Project> = (0..3).map(|_| fx.project(now, account.id)).collect();
    let foreign = fx.project(now, other.id);
    let mut written = projects.clone();
    written.reverse();
    written.insert(1, foreign.clone());
    let change = Change {
        accounts: vec![
            AccountWrite::Insert(other.clone()),
            AccountWrite::Insert(account.clone()),
        ],
        projects: written,
        users: [&first, &second].map(insert).to_vec(),
        ..Change::default()
    };
    apply_ok(&*store, change, "writing accounts and projects").await;

    let read = store.account(account.id).await.unwrap();
    assert_eq!(
        read,
        Some(account.clone()),
        "administrators keep their order"
    );
    assert_eq!(store.account(other.id).await.unwrap(), Some(other.clone()));
    for project in projects.iter().chain([&foreign]) {
        assert_eq!(
            store.project(project.id).await.unwrap().as_ref(),
            Some(project)
        );
    }
    assert_eq!(
        store.projects(account.id).await.unwrap(),
        projects,
        "id order"
    );
    assert_eq!(store.projects(other.id).await.unwrap(), [foreign]);
}

/// Users read back by id and by any address with the same canonical form (case, Unicode
/// normalization, surrounding spaces), keeping the address as typed.
pub async fn users_are_found_by_id_and_by_canonical_email(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let now = start();
    let ann = User {
        email: email("Ann.Lee@Example.COM"),
        ..fx.registered_user(now)
    };
    let jorg = fx.invited_user(now, email("J\u{d6}RG@B\u{fc}cher.de"));
    let change = Change {
        users: vec![insert(&ann), insert(&jorg)],
        ..Change::default()
    };
    apply_ok(&*store, change, "inserting users").await;

    let read = store.user(ann.id).await.unwrap().expect("ann by id");
    assert_eq!(read, ann);
    assert_eq!(
        read.email.as_str(),
        "Ann.Lee@Example.COM",
        "typed form kept"
    );
    for probe in [
        "ann.lee@example.com",
        "ANN.LEE@EXAMPLE.COM",
        " Ann.Lee@example.Com ",
    ] {
        let found = store.user_by_email(&email(probe)).await.unwrap();
        assert_eq!(found.as_ref(), Some(&ann), "{probe:?}");
        assert_eq!(found.unwrap().email.as_str(), "Ann.Lee@Example.COM");
    }
    let decomposed = email("jo\u{308}rg@bu\u{308}cher.DE");
    assert_eq!(
        store.user_by_email(&decomposed).await.unwrap(),
        Some(jorg.clone())
    );
    assert_eq!(
        store.user(jorg.id).await.unwrap().unwrap().registered_at,
        None
    );
    for stranger in [
        "ann.lee@example.org",
        "annlee@example.com",
        "ann.lee@example.co",
    ] {
        let found = store.user_by_email(&email(stranger)).await.unwrap();
        assert_eq!(found, None, "{stranger:?}");
    }
}

/// A password hash is stored with the user, kept by an update without one, and replaced by an
/// update with one; a user inserted without one has none.
pub async fn password_hash_is_stored_kept_and_replaced(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let now = start();
    let (with, without) = (fx.registered_user(now), fx.invited_user(now, fx.email()));
    let (first, second, third) = (fx.password(), fx.password(), fx.password());
    let change = Change {
        users: vec![
            UserWrite::Insert {
                user: with.clone(),
                password: Some(first.clone()),
            },
            insert(&without),
        ],
        ..Change::default()
    };
    apply_ok(&*store, change, "inserting users").await;
    assert_eq!(
        store.password_hash(with.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.password_hash(without.id).await.unwrap(), None);

    let kept = User {
        created_at: now + Duration::seconds(1),
        ..with.clone()
    };
    apply_ok(&*store, users(vec![update(&kept, None)]), "update keeping").await;
    assert_eq!(store.password_hash(with.id).await.unwrap(), Some(first));
    assert_eq!(store.user(with.id).await.unwrap(), Some(kept.clone()));

    let registered = User {
        registered_at: Some(now + Duration::hours(1)),
        ..without.clone()
    };
    let change = users(vec![
        update(&registered, Some(second.clone())),
        update(&kept, Some(third.clone())),
    ]);
    apply_ok(&*store, change, "updates replacing").await;
    assert_eq!(store.password_hash(without.id).await.unwrap(), Some(second));
    assert_eq!(store.user(without.id).await.unwrap(), Some(registered));
    assert_eq!(store.password_hash(with.id).await.unwrap(), Some(third));
}

/// Updating a user's address moves the lookup: the old address finds nobody (and can be taken
/// by someone else), the new one finds the user; changing only the case of one's own address is
/// no conflict.
pub async fn user_update_moves_the_email_index(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let now = start();
    let user = fx.registered_user(now);
    apply_ok(&*store, users(vec![insert(&user)]), "inserting a user").await;

    let moved = User {
        email: email("Moved@Example.com"),
        ..user.clone()
    };
    apply_ok(&*store, users(vec![update(&moved, None)]), "moving").await;
    assert_eq!(
        store.user_by_email(&user.email).await.unwrap(),
        None,
        "old address"
    );
    let found = store
        .user_by_email(&email("moved@example.com"))
        .await
        .unwrap();
    assert_eq!(found.as_ref(), Some(&moved));
    assert_eq!(found.unwrap().email.as_str(), "Moved@Example.com");

    let recased = User {
        email: email("MOVED@example.COM"),
        ..moved
    };
    apply_ok(&*store, users(vec![update(&recased, None)]), "recasing").await;
    let read = store.user(user.id).await.unwrap().expect("the user");
    assert_eq!(
        read.email.as_str(),
        "MOVED@example.COM",
        "new typed form kept"
    );

    let successor = fx.invited_user(now, user.email.clone());
    apply_ok(
        &*store,
        users(vec![insert(&successor)]),
        "reusing the old address",
    )
    .await;
    assert_eq!(
        store.user_by_email(&user.email).await.unwrap(),
        Some(successor)
    );
}

/// A membership reads back as written, follows an update (role change), and is gone after a
/// delete, without touching other memberships.
pub async fn membership_reads_back_updates_and_deletes(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (project, member) = (world.project.id, world.member.id);
    let other = add_project(&*store, &fx, &world.account).await;

    assert_eq!(
        store.membership(project, member).await.unwrap(),
        Some(world.member_membership.clone())
    );
    assert_eq!(
        store.membership(other.id, member).await.unwrap(),
        None,
        "other project"
    );

    let demoted = Membership {
        role: Role::OBSERVER,
        invited_by: Some(world.outsider.id),
        since: world.now + Duration::hours(2),
        ..world.member_membership.clone()
    };
    let change = Change {
        memberships: vec![MembershipWrite::Update(demoted.clone())],
        ..Change::default()
    };
    apply_ok(&*store, change, "updating a membership").await;
    assert_eq!(
        store.membership(project, member).await.unwrap(),
        Some(demoted)
    );

    let change = Change {
        memberships: vec![MembershipWrite::Delete {
            project,
            user: member,
        }],
        ..Change::default()
    };
    apply_ok(&*store, change, "deleting a membership").await;
    assert_eq!(store.membership(project, member).await.unwrap(), None);
    assert_eq!(
        store.membership(project, world.owner.id).await.unwrap(),
        Some(world.owner_membership.clone()),
        "other memberships stay"
    );
    assert_eq!(
        store.user(member).await.unwrap(),
        Some(world.member.clone()),
        "user stays"
    );
}

/// `members` lists a project's members with their current user records, in user id order,
/// paginated with an exclusive cursor.
pub async fn members_paginate_in_user_id_order_with_their_users(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let now = start();
    let owner = fx.registered_user(now);
    let account = fx.account(now, owner.id);
    let (project, other) = (fx.project(now, account.id), fx.project(now, account.id));
    let people: Vec<User> = (0..5).map(|_| fx.registered_user(now)).collect();
    let roles = [Role::ADMINISTRATOR, Role::USER, Role::OBSERVER];
    let expected: Vec<Member> = people
        .iter()
        .zip(roles.iter().cycle())
        .map(|(user, role)| Member {
            membership: membership(now, project.id, user.id, *role),
            user: user.clone(),
        })
        .collect();
    let mut memberships: Vec<MembershipWrite> = expected
        .iter()
        .rev()
        .map(|member| MembershipWrite::Insert(member.membership.clone()))
        .collect();
    let elsewhere = membership(now, other.id, people[0].id, Role::USER);
    memberships.push(MembershipWrite::Insert(elsewhere));
    let change = Change {
        accounts: vec![AccountWrite::Insert(account)],
        projects: vec![project.clone(), other],
        users: people.iter().chain([&owner]).map(insert).collect(),
        memberships,
        ..Change::default()
    };
    apply_ok(&*store, change, "writing members").await;

    let listed = store.members(project.id, None, ALL).await.unwrap();
    assert_eq!(listed, expected, "all members, in user id order");
    let page = |after: Option<usize>| {
        let store = store.clone();
        let after = after.map(|index| expected[index].user.id);
        async move { store.members(project.id, after, 2).await.unwrap() }
    };
    assert_eq!(page(None).await, expected[..2], "first page");
    assert_eq!(page(Some(1)).await, expected[2..4], "second page");
    assert_eq!(page(Some(3)).await, expected[4..], "last page");
    assert!(page(Some(4)).await.is_empty(), "after the last member");

    let renamed = User {
        email: email("Renamed@Example.com"),
        ..people[2].clone()
    };
    apply_ok(&*store, users(vec![update(&renamed, None)]), "renaming").await;
    let listed = store.members(project.id, None, ALL).await.unwrap();
    assert_eq!(listed[2].user, renamed, "members carry the current user");
}

/// `count_members` counts the members of one project holding exactly one role.
pub async fn count_members_counts_each_role(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let other = add_project(&*store, &fx, &world.account).await;
    let now = world.now;
    let extra: Vec<User> = (0..4).map(|_| fx.registered_user(now)).collect();
    let roles = [Role::USER, Role::OBSERVER, Role::OBSERVER, Role::OBSERVER];
    let mut memberships: Vec<MembershipWrite> = extra
        .iter()
        .zip(roles)
        .map(|(user, role)| {
            MembershipWrite::Insert(membership(now, world.project.id, user.id, role))
        })
        .collect();
    for user in &extra {
        let elsewhere = membership(now, other.id, user.id, Role::ADMINISTRATOR);
        memberships.push(MembershipWrite::Insert(elsewhere));
    }
    let change = Change {
        users: extra.iter().map(insert).collect(),
        memberships,
        ..Change::default()
    };
    apply_ok(&*store, change, "adding members").await;

    let count = |project, role| {
        let store = store.clone();
        async move { store.count_members(project, role).await.unwrap() }
    };
    let project = world.project.id;
    assert_eq!(count(project, Role::ADMINISTRATOR).await, 1);
    assert_eq!(count(project, Role::USER).await, 2);
    assert_eq!(count(project, Role::OBSERVER).await, 3);
    assert_eq!(count(project, Role::ACCOUNT_ADMINISTRATOR).await, 0);
    assert_eq!(count(other.id, Role::ADMINISTRATOR).await, 4);
    assert_eq!(count(other.id, Role::OBSERVER).await, 0);
}

/// `accounts_of_user` lists the accounts a user administers (first or not) and those owning a
/// project they are a member of: once each, in id order. A pending invitation grants nothing.
pub async fn accounts_of_user_lists_administered_and_member_accounts(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let now = start();
    let (user, other) = (fx.registered_user(now), fx.registered_user(now));
    let administered = fx.account(now, user.id);
    let member_of = fx.account(now, other.id);
    let both = fx.account(now, user.id);
    let unrelated = fx.account(now, other.id);
    let co_administered = Account {
        administrators: vec![other.id, user.id],
        ..fx.account(now, other.id)
    };
    let (m1, m2) = (fx.project(now, member_of.id), fx.project(now, member_of.id));
    let (b1, u1) = (fx.project(now, both.id), fx.project(now, unrelated.id));
    let invited = fx.invitation(now, u1.id, user.email.clone(), other.id, &fx.token());
    let mut accounts = vec![
        administered.clone(),
        member_of.clone(),
        both.clone(),
        unrelated.clone(),
        co_administered.clone(),
    ];
    accounts.reverse();
    let change = Change {
        accounts: accounts.into_iter().map(AccountWrite::Insert).collect(),
        projects: vec![m1.clone(), m2.clone(), b1.clone(), u1.clone()],
        users: vec![insert(&user), insert(&other)],
        memberships: [(&m1, &user), (&m2, &user), (&b1, &user), (&u1, &other)]
            .map(|(project, member)| {
                MembershipWrite::Insert(membership(now, project.id, member.id, Role::USER))
            })
            .to_vec(),
        invitations: vec![roster::store::InvitationWrite::Insert(invited)],
        ..Change::default()
    };
    apply_ok(&*store, change, "writing accounts").await;

    assert_eq!(
        store.accounts_of_user(user.id).await.unwrap(),
        [
            administered,
            member_of.clone(),
            both,
            co_administered.clone()
        ]
    );
    assert_eq!(
        store.accounts_of_user(other.id).await.unwrap(),
        [member_of, unrelated, co_administered]
    );
}

/// `audit_events` lists one project's events in the order they were appended, which is id order,
/// paginated with an exclusive cursor; events of other projects or of no project are left out.
pub async fn audit_events_list_per_project_in_order_with_cursor(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let other = add_project(&*store, &fx, &world.account).await;
    let later = |minutes| world.now + Duration::minutes(minutes);
    let (project, actor) = (&world.project, Some(world.owner.id));
    let e1 = fx.audit_event(later(1), project, actor);
    let e2 = fx.audit_event(later(1), &other, actor);
    let account_level = roster::AuditEvent {
        project: None,
        ..fx.audit_event(later(2), project, None)
    };
    let e3 = fx.audit_event(later(2), project, None);
    let e4 = fx.audit_event(later(3), project, actor);
    for batch in [
        vec![e1.clone(), e2.clone()],
        vec![account_level, e3.clone()],
        vec![e4.clone()],
    ] {
        let change = Change {
            audit: batch,
            ..Change::default()
        };
        apply_ok(&*store, change, "appending events").await;
    }

    let expected = [world.created.clone(), e1, e3, e4];
    let listed = world.project.id;
    let events = |after: Option<usize>, limit| {
        let store = store.clone();
        let after = after.map(|index: usize| expected[index].id);
        async move { store.audit_events(listed, after, limit).await.unwrap() }
    };
    assert_eq!(events(None, ALL).await, expected);
    assert_eq!(events(None, 2).await, expected[..2]);
    assert_eq!(events(Some(1), 2).await, expected[2..]);
    assert_eq!(events(Some(2), ALL).await, expected[3..]);
    assert!(events(Some(3), ALL).await.is_empty());
    assert_eq!(store.audit_events(other.id, None, ALL).await.unwrap(), [e2]);
}

/// A user insert without a password.
fn insert(user: &User) -> UserWrite {
    UserWrite::Insert {
        user: user.clone(),
        password: None,
    }
}

/// A user update, with a new password hash or keeping the current one.
fn update(user: &User, password: Option<roster::PasswordHash>) -> UserWrite {
    UserWrite::Update {
        user: user.clone(),
        password,
    }
}

/// A change made of user writes only.
fn users(writes: Vec<UserWrite>) -> Change {
    Change {
        users: writes,
        ..Change::default()
    }
}

/// An account update replaces the name, the administrators (and so whose accounts it is) and
/// the allowed domains; updating an unknown account is `NotFound(Account)` and writes nothing.
pub async fn account_update_replaces_its_fields(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let mut updated = world.account.clone();
    updated.name = "Renamed".into();
    updated.administrators = vec![world.member.id, world.owner.id];
    updated.allowed_domains = vec!["bücher.de".into(), "example.com".into()];
    let change = Change {
        accounts: vec![AccountWrite::Update(updated.clone())],
        ..Change::default()
    };
    apply_ok(&*store, change, "updating the account").await;
    assert_eq!(
        store.account(updated.id).await.unwrap(),
        Some(updated.clone())
    );
    let theirs = store.accounts_of_user(world.member.id).await.unwrap();
    assert_eq!(
        theirs,
        [updated.clone()],
        "the new administrator's accounts"
    );

    let missing = fx.account(start(), world.owner.id);
    let refused = store
        .apply(Change {
            accounts: vec![AccountWrite::Update(missing.clone())],
            ..Change::default()
        })
        .await;
    assert!(
        matches!(
            refused,
            Err(roster::StoreError::NotFound(roster::Entity::Account))
        ),
        "{refused:?}"
    );
    assert_eq!(store.account(missing.id).await.unwrap(), None);
    assert_eq!(store.account(updated.id).await.unwrap(), Some(updated));
}
