//! The composite reads (`project_context`, `invitation_context`, `invite_context`) answer exactly what
//! the single-record reads answer, and keep the version rule while changes land meanwhile.

use roster::StoreExt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Duration;
use roster::store::{
    InvitationContext, InvitationKey, InvitationWrite, InviteContext, InviteQuery, Invitee,
    MembershipWrite, OutboxWrite, ProjectContext,
};
use roster::{
    Change, Email, Entity, Invitation, InvitationId, InvitationState, Membership, OutboxEntry,
    ProjectId, Store, StoreError, UserId, Version,
};
use tokio::sync::Barrier;

use super::{add_project, apply_ok, project_version, seed};
use crate::fixtures::{Fixtures, email};

/// How many changes the writer of a concurrency case applies while the readers read.
const CHANGES: u64 = 500;

/// How many tasks read while the writer writes.
const READERS: usize = 4;

/// How often the writer may lose to a conflict before the case gives up on the store.
const MAX_ATTEMPTS: usize = 1_000;

/// `project_context` equals the project, account, user and membership reads, for no actor, the
/// owner (Administrator), the member, the outsider (no membership), an unknown user, and the
/// owner in a second project where they hold no membership; it follows the version a change
/// moves the project to; an unknown project is `None`.
pub async fn project_context_matches_the_single_reads(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let other = add_project(&*store, &fx, &world.account).await;
    let project = world.project.id;
    let unknown_user = fx.user_id();
    let cases = [
        ("no actor", project, None, None),
        (
            "the owner",
            project,
            Some(&world.owner),
            Some(&world.owner_membership),
        ),
        (
            "the member",
            project,
            Some(&world.member),
            Some(&world.member_membership),
        ),
        ("the outsider", project, Some(&world.outsider), None),
        ("the owner elsewhere", other.id, Some(&world.owner), None),
    ];
    for (what, project, actor, membership) in cases {
        let context = project_context(&*store, project, actor.map(|user| user.id), what).await;
        assert_eq!(context.actor.as_ref(), actor, "{what}: actor");
        assert_eq!(
            context.actor_membership.as_ref(),
            membership,
            "{what}: actor membership"
        );
        assert_eq!(context.account, world.account, "{what}: account");
    }
    let unknown = project_context(&*store, project, Some(unknown_user), "an unknown user").await;
    assert_eq!(
        (unknown.actor, unknown.actor_membership),
        (None, None),
        "an unknown user: no actor and no membership"
    );

    let change = Change {
        audit: vec![fx.audit_event(world.now, &world.project, None)],
        ..Change::on_project(project, world.project.version)
    };
    apply_ok(&*store, change, "moving the version").await;
    let moved = project_context(&*store, project, Some(world.owner.id), "after a change").await;
    assert_eq!(
        moved.project.version,
        world.project.version.next(),
        "after a change: the context carries the new version"
    );

    for actor in [None, Some(world.owner.id)] {
        let found = store.project_context(fx.project_id(), actor).await.unwrap();
        assert_eq!(found, None, "an unknown project (actor {actor:?}) is None");
    }
}

/// `invitation_context`, by id and by current token, for no actor, the owner and the outsider,
/// equals the invitation, `project_context`, inviter and invitee reads: for the world's
/// invitation (unregistered invitee, no membership), one of the member's address (invitee and
/// invitee membership present) sent by the member, one of an address nobody has sent by the
/// outsider (no inviter membership), a declined one (closed invitations are found too) and one
/// of the member's address in a second project (where the member holds no membership). Unknown
/// ids and token hashes are `None`; after the token hash is rotated, the old hash is `None` and
/// the new one finds the updated invitation.
pub async fn invitation_context_matches_the_single_reads(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let other = add_project(&*store, &fx, &world.account).await;
    let (now, project) = (world.now, world.project.id);
    let invite = |project: ProjectId, address: &Email, by: UserId| {
        let token = fx.token();
        (
            fx.invitation(now, project, address.clone(), by, &token),
            token,
        )
    };
    let member = invite(project, &world.member.email, world.member.id);
    let stranger = invite(project, &fx.email(), world.outsider.id);
    let (declined, declined_token) = invite(project, &fx.email(), world.owner.id);
    let declined = Invitation {
        state: InvitationState::Declined,
        closed_at: Some(now + Duration::hours(1)),
        ..declined
    };
    let elsewhere = invite(other.id, &world.member.email, world.owner.id);
    let written = [&member.0, &stranger.0, &declined, &elsewhere.0];
    let change = Change {
        invitations: written.map(|i| InvitationWrite::Insert(i.clone())).to_vec(),
        ..Change::default()
    };
    apply_ok(&*store, change, "inviting").await;

    let cases = [
        ("the world's invitation", &world.invitation, &world.token),
        ("the member's address", &member.0, &member.1),
        ("an address with no user", &stranger.0, &stranger.1),
        ("a declined invitation", &declined, &declined_token),
        ("the member's address elsewhere", &elsewhere.0, &elsewhere.1),
    ];
    for (what, invitation, token) in cases {
        for actor in [None, Some(world.owner.id), Some(world.outsider.id)] {
            let expected = expected_invitation_context(&*store, invitation.id, actor).await;
            assert_eq!(
                expected.invitation, *invitation,
                "{what}: the invitation read"
            );
            let keys = [
                ("id", InvitationKey::Id(invitation.id)),
                ("token", InvitationKey::Token(token.hash())),
            ];
            let composite = store.project_context(invitation.project, actor).await;
            assert_eq!(
                composite.unwrap().as_ref(),
                Some(&expected.project),
                "{what}, actor {actor:?}: project_context"
            );
            for (by, key) in keys {
                let found = store.invitation_context(key, actor).await.unwrap();
                assert_eq!(
                    found.as_ref(),
                    Some(&expected),
                    "{what} by {by}, actor {actor:?}"
                );
            }
        }
    }
    let context = |invitation: &Invitation| {
        let store = store.clone();
        let key = InvitationKey::Id(invitation.id);
        async move { store.invitation_context(key, None).await.unwrap().unwrap() }
    };
    let found = context(&world.invitation).await;
    assert_eq!(
        found.invitee.as_ref(),
        Some(&world.invitee),
        "unregistered invitee"
    );
    assert_eq!(
        found.invitee_membership, None,
        "unregistered invitee: membership"
    );
    assert_eq!(found.inviter.as_ref(), Some(&world.owner), "world: inviter");
    let found = context(&member.0).await;
    assert_eq!(
        found.invitee.as_ref(),
        Some(&world.member),
        "member: invitee"
    );
    assert_eq!(
        found.invitee_membership.as_ref(),
        Some(&world.member_membership),
        "member: invitee membership"
    );
    assert_eq!(
        found.inviter_membership.as_ref(),
        Some(&world.member_membership),
        "member: inviter membership"
    );
    let found = context(&stranger.0).await;
    assert_eq!(
        found.invitee, None,
        "an address with no user has no invitee"
    );
    assert_eq!(
        found.inviter.as_ref(),
        Some(&world.outsider),
        "stranger: inviter"
    );
    assert_eq!(
        found.inviter_membership, None,
        "an inviter without membership"
    );
    let found = context(&elsewhere.0).await;
    assert_eq!(
        found.project.project, other,
        "elsewhere: the invitation's project"
    );
    assert_eq!(
        found.invitee_membership, None,
        "elsewhere: membership of that project"
    );

    assert_eq!(
        store
            .invitation_context(InvitationKey::Id(fx.invitation_id()), None)
            .await
            .unwrap(),
        None,
        "unknown id"
    );
    assert_eq!(
        store
            .invitation_context(InvitationKey::Token(fx.token().hash()), None)
            .await
            .unwrap(),
        None,
        "unknown token hash"
    );
    token_rotation_moves_the_context(&*store, &fx, &world.invitation, &world.token).await;
}

/// After the token hash of `invitation` (opened by `old`) is rotated, the old hash finds no
/// context and the new one finds the updated invitation, with the version the rotation moved
/// the project to.
async fn token_rotation_moves_the_context(
    store: &dyn Store,
    fx: &Fixtures,
    invitation: &Invitation,
    old: &roster::InvitationToken,
) {
    let fresh = fx.token();
    let version = project_version(store, invitation.project).await;
    let rotated = Invitation {
        token_hash: fresh.hash(),
        sends: invitation.sends + 1,
        ..invitation.clone()
    };
    let change = Change {
        invitations: vec![InvitationWrite::Update(rotated.clone())],
        ..Change::on_project(invitation.project, version)
    };
    apply_ok(store, change, "rotating the token").await;

    let by_old = store
        .invitation_context(InvitationKey::Token(old.hash()), None)
        .await
        .unwrap();
    assert_eq!(by_old, None, "a rotated-away token hash finds nothing");
    let by_new = store
        .invitation_context(InvitationKey::Token(fresh.hash()), None)
        .await
        .unwrap()
        .expect("the new token hash finds the invitation");
    assert_eq!(
        by_new.invitation, rotated,
        "by the new token: the rotated invitation"
    );
    assert_eq!(
        by_new.project.project.version,
        version.next(),
        "by the new token: version"
    );
    let expected = expected_invitation_context(store, invitation.id, None).await;
    assert_eq!(by_new, expected, "by the new token: the single reads");
}

/// `invite_context` answers `project_context` for the inviter, the counts it is asked for as
/// `count_sends_by` and `count_pending_invitations` do (and none it is not asked for),
/// and, in input order, what `user_by_email`, `membership` and `pending_invitation` answer for
/// each address: an unknown one, the outsider's (user, no
/// membership; a declined invitation does not count), the member's (user and membership; a
/// pending invitation to another project does not count), the invited one (unregistered user
/// and pending invitation), one with a pending invitation and no user, the same one again,
/// respellings with the same canonical form, and one whose stored-`Pending` invitation has
/// expired in effect. An empty list gives no invitees; an unknown project gives `None`.
pub async fn invite_context_matches_the_single_reads(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let other = add_project(&*store, &fx, &world.account).await;
    let (now, project, owner) = (world.now, world.project.id, world.owner.id);
    let lone = fx.invitation(
        now,
        project,
        email("Lone.Ranger@Example.com"),
        owner,
        &fx.token(),
    );
    let expired = {
        let sent = now - Duration::days(8);
        let invitation = fx.invitation(sent, project, fx.email(), owner, &fx.token());
        assert!(
            invitation.expires_at < now,
            "the case's setup: expired in effect"
        );
        invitation
    };
    let declined = Invitation {
        state: InvitationState::Declined,
        closed_at: Some(now),
        ..fx.invitation(
            now,
            project,
            world.outsider.email.clone(),
            owner,
            &fx.token(),
        )
    };
    let elsewhere = fx.invitation(
        now,
        other.id,
        world.member.email.clone(),
        owner,
        &fx.token(),
    );
    let written = [&lone, &expired, &declined, &elsewhere];
    let change = Change {
        invitations: written.map(|i| InvitationWrite::Insert(i.clone())).to_vec(),
        ..Change::default()
    };
    apply_ok(&*store, change, "inviting").await;

    let nobody = Invitee::default();
    let outsider = Invitee {
        user: Some(world.outsider.clone()),
        ..Invitee::default()
    };
    let member = Invitee {
        user: Some(world.member.clone()),
        membership: Some(world.member_membership.clone()),
        pending: None,
    };
    let invited = Invitee {
        user: Some(world.invitee.clone()),
        membership: None,
        pending: Some(world.invitation.clone()),
    };
    let pending_only = |invitation: &Invitation| Invitee {
        pending: Some(invitation.clone()),
        ..Invitee::default()
    };
    let respelled = |address: &Email| email(&address.as_str().to_uppercase());
    let asked = [
        ("an unknown address", fx.email(), nobody),
        ("the outsider", world.outsider.email.clone(), outsider),
        ("the member", world.member.email.clone(), member.clone()),
        (
            "the invited address",
            world.invitation.email.clone(),
            invited.clone(),
        ),
        (
            "an address with no user",
            lone.email.clone(),
            pending_only(&lone),
        ),
        (
            "the same address again",
            lone.email.clone(),
            pending_only(&lone),
        ),
        (
            "respelled, no user",
            email("lone.ranger@example.COM"),
            pending_only(&lone),
        ),
        (
            "the member respelled",
            respelled(&world.member.email),
            member,
        ),
        (
            "the invited address respelled",
            respelled(&world.invitation.email),
            invited,
        ),
        (
            "expired in effect",
            expired.email.clone(),
            pending_only(&expired),
        ),
    ];
    let emails: Vec<Email> = asked
        .iter()
        .map(|(_, address, _)| address.clone())
        .collect();
    let since = now - Duration::days(1);
    let query = |emails: Vec<Email>, counted: bool| InviteQuery {
        project,
        actor: owner,
        emails,
        sent_since: counted.then_some(since),
        pending_at: counted.then_some(now),
    };
    let context = store
        .invite_context(query(emails.clone(), true))
        .await
        .unwrap()
        .expect("the project exists");
    assert_eq!(
        Some(context.project),
        store.project_context(project, Some(owner)).await.unwrap(),
        "the project part is the project context for the inviter"
    );
    assert_eq!(
        context.sent_by_actor,
        Some(store.count_sends_by(owner, since).await.unwrap()),
        "invitations sent by the inviter"
    );
    assert_eq!(
        context.pending_invitations,
        Some(store.count_pending_invitations(project, now).await.unwrap()),
        "pending invitations of the project"
    );
    let answered = context.invitees;
    assert_eq!(answered.len(), asked.len(), "one entry per address asked");
    for ((what, address, expected), entry) in asked.iter().zip(&answered) {
        let single = single_reads(&*store, project, address).await;
        assert_eq!(&single, expected, "{what}: the single reads");
        assert_eq!(entry, expected, "{what} ({address})");
    }

    let uncounted = store
        .invite_context(query(Vec::new(), false))
        .await
        .unwrap()
        .expect("the project exists");
    assert!(
        uncounted.invitees.is_empty(),
        "an empty list gives no invitees: {:?}",
        uncounted.invitees
    );
    assert_eq!(
        (uncounted.sent_by_actor, uncounted.pending_invitations),
        (None, None),
        "counts not asked for are not given"
    );
    let unknown = InviteQuery {
        project: fx.project_id(),
        ..query(emails[..3].to_vec(), true)
    };
    assert_eq!(
        store.invite_context(unknown).await.unwrap(),
        None,
        "an unknown project"
    );
}

/// A writer applies 500 changes one after another, each expecting the project's version and
/// setting the world invitation's `sends` to the version the change moves the project to, while
/// 4 readers call `invitation_context` by id in a loop: every context pairs an invitation with a
/// version no newer than it (`sends >= version`). A store that reads the invitation before the
/// version, outside one snapshot, pairs an old invitation with a newer version and fails (almost
/// always: it is a race, so the writer makes many changes).
pub async fn invitation_context_never_pairs_an_old_invitation_with_a_newer_version(
    store: Arc<dyn Store>,
) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    // From here on `sends` equals the version after every change, so the check is tight.
    let first = bump_sends(&*store, &world.invitation).await;
    assert_eq!(first, world.project.version.next(), "the first change");
    let done = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(READERS + 1));
    let readers: Vec<_> = (0..READERS)
        .map(|reader| {
            let (store, done, start) = (store.clone(), done.clone(), start.clone());
            let id = world.invitation.id;
            tokio::spawn(async move {
                start.wait().await;
                read_until(&*store, id, &done, reader).await
            })
        })
        .collect();
    let writer = {
        let (store, done, start) = (store.clone(), done.clone(), start.clone());
        let invitation = world.invitation.clone();
        tokio::spawn(async move {
            start.wait().await;
            let mut last = first;
            for _ in 0..CHANGES {
                last = bump_sends(&*store, &invitation).await;
                // Let readers sharing this worker run between changes.
                tokio::task::yield_now().await;
            }
            done.store(true, Ordering::Release);
            last
        })
    };
    let last = writer.await.expect("the writer panicked");
    for reader in readers {
        reader.await.expect("a reader panicked");
    }

    assert_eq!(
        last,
        Version(first.0 + CHANGES),
        "every change applied once"
    );
    let context = store
        .invitation_context(InvitationKey::Id(world.invitation.id), None)
        .await
        .unwrap()
        .expect("the invitation exists");
    assert_eq!(
        (
            u64::from(context.invitation.sends),
            context.project.project.version
        ),
        (last.0, last),
        "after the writer: sends and version agree"
    );
}

/// Reads the context of invitation `id` over and over, up to a read begun after `done` was set,
/// checking the version rule each time.
async fn read_until(store: &dyn Store, id: InvitationId, done: &AtomicBool, reader: usize) {
    let mut reads = 0_u64;
    loop {
        let finished = done.load(Ordering::Acquire);
        let context = store
            .invitation_context(InvitationKey::Id(id), None)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("reader {reader}: the invitation vanished"));
        let (sends, version) = (context.invitation.sends, context.project.project.version);
        assert!(
            u64::from(sends) >= version.0,
            "reader {reader}, read {reads}: the invitation (sends {sends}) predates the \
             version it came with ({version:?})"
        );
        reads += 1;
        if finished {
            return;
        }
        // Memory-backed stores never yield: let the writer's task run on this worker too.
        tokio::task::yield_now().await;
    }
}

/// Applies one change to `invitation` setting `sends` to the version the change moves its project
/// to, expecting the current version (read again after a conflict); returns the new version.
async fn bump_sends(store: &dyn Store, invitation: &Invitation) -> Version {
    let project = invitation.project;
    for _ in 0..MAX_ATTEMPTS {
        let version = project_version(store, project).await;
        let next = version.next();
        let updated = Invitation {
            sends: u32::try_from(next.0).expect("few enough changes for a u32"),
            ..invitation.clone()
        };
        let change = Change {
            invitations: vec![InvitationWrite::Update(updated)],
            ..Change::on_project(project, version)
        };
        match store.apply(change).await {
            Ok(()) => return next,
            Err(StoreError::Conflict(Entity::Project)) => tokio::task::yield_now().await,
            Err(error) => panic!("the writer's change was refused: {error:?}"),
        }
    }
    panic!("the writer lost {MAX_ATTEMPTS} times in a row");
}

/// How many invitations the writer of the `invite_context` concurrency case inserts, one per
/// change. Fewer than the other cases' changes: every read asks about every address, so the case
/// costs the square of this, and on SQLite in memory (one connection) reads hold up the writer.
/// A store reading in the wrong order still fails on almost every run.
const INVITED: u64 = 100;

/// A writer applies 100 changes one after another, each expecting the project's version and
/// inserting a pending invitation, sent by the owner, for the address numbered with the version
/// the change moves the project to, while 4 readers call `invite_context` for all 100 addresses
/// (counts included) in a loop: every answer that carries version `v` has the pending invitation
/// of each address numbered `v` or less, and counts at least that many more pending invitations
/// of the project and sent by the owner than there were before the writer. A store that reads
/// the addresses or the counts before the version, outside one snapshot, answers some version
/// `v` without the invitation of address `v`, or with counts from before it, and fails (almost
/// always: it is a race).
pub async fn invite_context_never_pairs_old_invitees_with_a_newer_version(store: Arc<dyn Store>) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (now, project, owner) = (world.now, world.project.id, world.owner.id);
    let since = now - Duration::days(1);
    // Address i (counted from 1) is invited by the change moving the version from v0 + i - 1.
    let v0 = project_version(&*store, project).await;
    let invitations: Arc<Vec<Invitation>> = Arc::new(
        (0..INVITED)
            .map(|_| fx.invitation(now, project, fx.email(), owner, &fx.token()))
            .collect(),
    );
    let query = InviteQuery {
        project,
        actor: owner,
        emails: invitations.iter().map(|i| i.email.clone()).collect(),
        sent_since: Some(since),
        pending_at: Some(now),
    };
    let before = Counts {
        pending: store.count_pending_invitations(project, now).await.unwrap(),
        sent: store.count_sends_by(owner, since).await.unwrap(),
    };

    let check = {
        let invitations = invitations.clone();
        move |context: InviteContext, read: &str| {
            check_invitees(&context, &invitations, v0, before, read);
        }
    };
    let read = {
        let query = query.clone();
        move |store: Arc<dyn Store>| {
            let query = query.clone();
            async move {
                store
                    .invite_context(query)
                    .await
                    .unwrap()
                    .expect("the project exists")
            }
        }
    };
    // Each invitation is sent with its notice, which the owner's count of sends counts.
    let notices: Arc<Vec<OutboxEntry>> = Arc::new(
        invitations
            .iter()
            .map(|invitation| fx.outbox_entry(now, invitation))
            .collect(),
    );
    let writer = {
        let invitations = invitations.clone();
        move |version: Version| {
            let index = usize::try_from(version.0 - v0.0).expect("a small index");
            Change {
                invitations: vec![InvitationWrite::Insert(invitations[index].clone())],
                outbox: vec![OutboxWrite::Insert(notices[index].clone())],
                ..Change::on_project(project, version)
            }
        }
    };
    let last = race(&store, project, INVITED, writer, read, check.clone()).await;

    assert_eq!(last, Version(v0.0 + INVITED), "every change applied once");
    let context = store
        .invite_context(query)
        .await
        .unwrap()
        .expect("the project exists");
    check(context.clone(), "after the writer");
    assert_eq!(
        (context.pending_invitations, context.sent_by_actor),
        (Some(before.pending + INVITED), Some(before.sent + INVITED)),
        "after the writer: the counts"
    );
}

/// What `invite_context` counted before the writer of the concurrency case started.
#[derive(Debug, Clone, Copy)]
struct Counts {
    /// Pending invitations of the project.
    pending: u64,
    /// Invitations sent by the inviter.
    sent: u64,
}

/// Checks one `invite_context` answer of the concurrency case: the invitation of every address
/// numbered up to the version it carries (counted from `v0`) is there, and so are as many more
/// pending and sent invitations than `before`.
fn check_invitees(
    context: &InviteContext,
    invitations: &[Invitation],
    v0: Version,
    before: Counts,
    read: &str,
) {
    let version = context.project.project.version;
    assert_eq!(
        context.invitees.len(),
        invitations.len(),
        "{read}: one entry per address asked"
    );
    let landed = version.0 - v0.0;
    let inserted = usize::try_from(landed).expect("a small count");
    for (number, (entry, invitation)) in context.invitees.iter().zip(invitations).enumerate() {
        if number < inserted {
            assert_eq!(
                entry.pending.as_ref(),
                Some(invitation),
                "{read}: the invitation of address {} predates the version it came with \
                 ({version:?})",
                number + 1
            );
        }
    }
    let counts = (context.pending_invitations, context.sent_by_actor);
    let (pending, sent) = (
        counts.0.expect("the pending count was asked for"),
        counts.1.expect("the sent count was asked for"),
    );
    assert!(
        pending >= before.pending + landed && sent >= before.sent + landed,
        "{read}: the counts (pending {pending}, sent {sent}) predate the version they came with \
         ({version:?}, {landed} invitations after {before:?})"
    );
}

/// A writer applies 500 changes one after another, each expecting the project's version and
/// setting the member's membership `since` to as many seconds after the world's start as the
/// version the change moves the project to, while 4 readers call `project_context` for the
/// member in a loop: every context pairs a membership with a version no newer than it (`since`
/// at least version seconds after the start). A store that reads the membership before the
/// version, outside one snapshot, pairs an old membership with a newer version and fails (almost
/// always: it is a race).
pub async fn project_context_never_pairs_an_old_membership_with_a_newer_version(
    store: Arc<dyn Store>,
) {
    let fx = Fixtures::default();
    let world = seed(&*store, &fx).await;
    let (project, member) = (world.project.id, world.member.id);
    let origin = world.now;
    let since = move |version: Version| {
        origin + Duration::seconds(i64::try_from(version.0).expect("a small version"))
    };
    let check = move |context: ProjectContext, read: &str| {
        let version = context.project.version;
        let membership = context
            .actor_membership
            .unwrap_or_else(|| panic!("{read}: the member's membership vanished"));
        assert!(
            membership.since >= since(version),
            "{read}: the membership (since {}) predates the version it came with ({version:?})",
            membership.since
        );
    };
    // The seeded membership begins at the start, so the check holds from the first read.
    let v0 = project_version(&*store, project).await;
    assert_eq!(
        world.member_membership.since,
        since(v0),
        "the case's setup: since matches the version"
    );
    let read = move |store: Arc<dyn Store>| async move {
        store
            .project_context(project, Some(member))
            .await
            .unwrap()
            .expect("the project exists")
    };
    let writer = {
        let membership = world.member_membership.clone();
        move |version: Version| Change {
            memberships: vec![MembershipWrite::Update(Membership {
                since: since(version.next()),
                ..membership.clone()
            })],
            ..Change::on_project(project, version)
        }
    };
    let last = race(&store, project, CHANGES, writer, read, check).await;

    assert_eq!(last, Version(v0.0 + CHANGES), "every change applied once");
    let context = store
        .project_context(project, Some(member))
        .await
        .unwrap()
        .expect("the project exists");
    assert_eq!(
        (
            context.project.version,
            context.actor_membership.map(|m| m.since)
        ),
        (last, Some(since(last))),
        "after the writer: since and version agree"
    );
}

/// Runs the writer and the readers of a concurrency case, released together: the writer applies
/// `changes` changes of `project` one after another, each built by `change` for the version it
/// expects (read again after a conflict); [`READERS`] tasks each call `read` over and over,
/// passing every answer (and a name for it) to `check`, up to a read begun after the writer
/// finished. Returns the version the last change moved the project to.
async fn race<W, R, Fut, T, C>(
    store: &Arc<dyn Store>,
    project: ProjectId,
    changes: u64,
    change: W,
    read: R,
    check: C,
) -> Version
where
    W: Fn(Version) -> Change + Send + Sync + 'static,
    R: Fn(Arc<dyn Store>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = T> + Send,
    T: Send,
    C: Fn(T, &str) + Clone + Send + 'static,
{
    let done = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(READERS + 1));
    let tasks: Vec<_> = (0..READERS)
        .map(|reader| {
            let (done, start) = (done.clone(), start.clone());
            let (read, store, check) = (read.clone(), store.clone(), check.clone());
            tokio::spawn(async move {
                start.wait().await;
                let mut reads = 0_u64;
                loop {
                    let finished = done.load(Ordering::Acquire);
                    let answer = read(store.clone()).await;
                    check(answer, &format!("reader {reader}, read {reads}"));
                    reads += 1;
                    if finished {
                        return;
                    }
                    // Memory-backed stores never yield: let the writer's task run here too.
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let writer = {
        let (store, done) = (store.clone(), done.clone());
        tokio::spawn(async move {
            start.wait().await;
            let mut last = None;
            for _ in 0..changes {
                last = Some(apply_next(&*store, project, &change).await);
                // Let readers sharing this worker run between changes.
                tokio::task::yield_now().await;
            }
            done.store(true, Ordering::Release);
            last.expect("at least one change")
        })
    };
    let last = writer.await.expect("the writer panicked");
    for task in tasks {
        task.await.expect("a reader panicked");
    }
    last
}

/// Applies the change `change` builds for the project's current version, reading the version
/// again after a conflict; returns the version the change moved the project to.
async fn apply_next(
    store: &dyn Store,
    project: ProjectId,
    change: impl Fn(Version) -> Change,
) -> Version {
    for _ in 0..MAX_ATTEMPTS {
        let version = project_version(store, project).await;
        match store.apply(change(version)).await {
            Ok(()) => return version.next(),
            Err(StoreError::Conflict(Entity::Project)) => tokio::task::yield_now().await,
            Err(error) => panic!("the writer's change was refused: {error:?}"),
        }
    }
    panic!("the writer lost {MAX_ATTEMPTS} times in a row");
}

/// `project_context` of a project the case knows exists, checked against the single reads;
/// `what` names the call in failure messages.
async fn project_context(
    store: &dyn Store,
    project: ProjectId,
    actor: Option<UserId>,
    what: &str,
) -> ProjectContext {
    let expected = expected_project_context(store, project, actor)
        .await
        .unwrap_or_else(|| panic!("{what}: the project and its account exist"));
    let context = store.project_context(project, actor).await.unwrap();
    assert_eq!(context.as_ref(), Some(&expected), "{what}");
    expected
}

/// What `project_context` must answer, from the single-record reads.
async fn expected_project_context(
    store: &dyn Store,
    project: ProjectId,
    actor: Option<UserId>,
) -> Option<ProjectContext> {
    let project = store.project(project).await.unwrap()?;
    let account = store.account(project.account).await.unwrap()?;
    let (actor, actor_membership) = match actor {
        Some(actor) => (
            store.user(actor).await.unwrap(),
            store.membership(project.id, actor).await.unwrap(),
        ),
        None => (None, None),
    };
    Some(ProjectContext {
        project,
        account,
        actor,
        actor_membership,
    })
}

/// What `invitation_context` must answer for the invitation `id`, which the case knows exists,
/// from the single-record reads.
async fn expected_invitation_context(
    store: &dyn Store,
    id: InvitationId,
    actor: Option<UserId>,
) -> InvitationContext {
    let invitation = store
        .invitation(id)
        .await
        .unwrap()
        .expect("the invitation exists");
    let project = expected_project_context(store, invitation.project, actor)
        .await
        .expect("the invitation's project exists");
    let (inviter, invitee) = (invitation.invited_by, &invitation.email);
    let inviter_user = store.user(inviter).await.unwrap();
    let inviter_membership = store.membership(invitation.project, inviter).await.unwrap();
    let invitee = store.user_by_email(invitee).await.unwrap();
    let invitee_membership = match &invitee {
        Some(user) => store.membership(invitation.project, user.id).await.unwrap(),
        None => None,
    };
    InvitationContext {
        invitation,
        project,
        inviter: inviter_user,
        inviter_membership,
        invitee,
        invitee_membership,
    }
}

/// What `invite_context` must answer for one address, from the single-record reads.
async fn single_reads(store: &dyn Store, project: ProjectId, address: &Email) -> Invitee {
    let user = store.user_by_email(address).await.unwrap();
    let membership = match &user {
        Some(user) => store.membership(project, user.id).await.unwrap(),
        None => None,
    };
    let pending = store.pending_invitation(project, address).await.unwrap();
    Invitee {
        user,
        membership,
        pending,
    }
}
