//! Inviting: who may, which roles, one outcome per row, refreshes and re-invitations.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use roster::{
    AuditAction, Denial, InvitationState, InviteOutcome, InviteRequest, LimitKind, Limits,
    NoticeKind, Role, RosterError, Store,
};

use super::harness::{WitnessNotifier, World, email, new_user, sent};

/// Only an Administrator of the project (or an account administrator, even without a membership)
/// may invite; Users, Observers and outsiders are refused and change nothing.
pub async fn only_administrators_invite(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let user = world
        .new_member(admin.id, project.id, "user@example.com", Role::USER)
        .await;
    let observer = world
        .new_member(admin.id, project.id, "observer@example.com", Role::OBSERVER)
        .await;
    let outsider = world.register("outsider@example.com").await;
    let before = world.snapshot(project.id).await;
    let row = [InviteRequest::new("new@example.com", Role::OBSERVER)];
    for actor in [user.id, observer.id, outsider.id] {
        assert_err!(
            world.roster.invite(actor, project.id, &row).await,
            RosterError::Forbidden(Denial::NotAnAdministrator)
        );
    }
    assert_eq!(world.snapshot(project.id).await, before);
    assert_eq!(world.user("new@example.com").await, None);

    let manager = world
        .new_member(
            admin.id,
            project.id,
            "manager@example.com",
            Role::ADMINISTRATOR,
        )
        .await;
    world
        .send(manager.id, project.id, "a@example.com", Role::ADMINISTRATOR)
        .await;
    // The account administrator keeps the right after leaving the project.
    world.roster.leave(admin.id, project.id).await.unwrap();
    assert_eq!(world.role_of(project.id, admin.id).await, None);
    world
        .send(admin.id, project.id, "b@example.com", Role::ADMINISTRATOR)
        .await;
}

/// Nobody grants a role above their own, and `AccountAdministrator` is never granted by invitation,
/// not even by an account administrator.
pub async fn nobody_invites_above_their_own_role(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let manager = world
        .new_member(
            admin.id,
            project.id,
            "manager@example.com",
            Role::ADMINISTRATOR,
        )
        .await;
    for actor in [manager.id, admin.id] {
        let outcome = world
            .invite(
                actor,
                project.id,
                "boss@example.com",
                Role::ACCOUNT_ADMINISTRATOR,
            )
            .await;
        assert_eq!(
            outcome,
            InviteOutcome::RoleNotAllowed {
                role: Role::ACCOUNT_ADMINISTRATOR
            }
        );
    }
    assert_eq!(world.user("boss@example.com").await, None);
    assert!(world.invitations(project.id, None).await.len() == 1);
    let (invitation, _) = world
        .send(
            manager.id,
            project.id,
            "peer@example.com",
            Role::ADMINISTRATOR,
        )
        .await;
    assert_eq!(invitation.role, Role::ADMINISTRATOR);
}

/// One call with rows of every kind: one outcome per row in order, failing rows change nothing
/// (no invitation, user, notice or audit event), passing rows are all applied and announced with
/// a token that works.
pub async fn bulk_invite_reports_each_row_in_order(store: Arc<dyn Store>) {
    let limits = Limits::default().pending_invitations_per_project(Some(3));
    let world = World::with_limits(store, limits);
    let (admin, project) = world.admin_with_project().await;
    world.register("reg@example.com").await;
    let member = world
        .new_member(admin.id, project.id, "member@example.com", Role::USER)
        .await;
    let (pending, old_token) = world
        .send(admin.id, project.id, "pending@example.com", Role::OBSERVER)
        .await;
    world.notifier.clear();
    // The call's events are told apart from earlier ones by their time.
    world.advance(Duration::minutes(1));

    let rows = [
        InviteRequest::new("new@example.com", Role::USER),
        InviteRequest::new("Reg@Example.com", Role::OBSERVER),
        InviteRequest::new("pending@example.com", Role::ADMINISTRATOR),
        InviteRequest::new("member@example.com", Role::OBSERVER),
        InviteRequest::new("not an address", Role::USER),
        InviteRequest::new("NEW@example.COM", Role::OBSERVER),
        InviteRequest::new("boss@example.com", Role::ACCOUNT_ADMINISTRATOR),
        InviteRequest::new("late@example.com", Role::USER),
    ];
    let report = world
        .roster
        .invite(admin.id, project.id, &rows)
        .await
        .unwrap();
    let typed: Vec<&str> = report.rows.iter().map(|row| row.email.as_str()).collect();
    let asked: Vec<&str> = rows.iter().map(|row| row.email.as_str()).collect();
    assert_eq!(typed, asked);
    let outcomes: Vec<&InviteOutcome> = report.rows.iter().map(|row| &row.outcome).collect();
    let notice_of = |outcome: &InviteOutcome| match outcome {
        InviteOutcome::Invited { notice, .. } | InviteOutcome::Refreshed { notice, .. } => {
            Some(*notice)
        }
        _ => None,
    };
    assert!(matches!(outcomes[0], InviteOutcome::Invited { .. }));
    assert_eq!(notice_of(outcomes[0]), Some(NoticeKind::Invitation));
    assert!(matches!(outcomes[1], InviteOutcome::Invited { .. }));
    assert_eq!(notice_of(outcomes[1]), Some(NoticeKind::AccessGranted));
    assert!(
        matches!(outcomes[2], InviteOutcome::Refreshed { invitation, .. } if invitation.id == pending.id && invitation.role == Role::ADMINISTRATOR)
    );
    assert_eq!(
        outcomes[3],
        &InviteOutcome::AlreadyMember {
            user: member.id,
            role: Role::USER
        }
    );
    assert!(matches!(outcomes[4], InviteOutcome::InvalidEmail(_)));
    assert_eq!(outcomes[5], &InviteOutcome::Duplicate);
    assert_eq!(
        outcomes[6],
        &InviteOutcome::RoleNotAllowed {
            role: Role::ACCOUNT_ADMINISTRATOR
        }
    );
    assert_eq!(
        outcomes[7],
        &InviteOutcome::LimitReached(LimitKind::PendingInvitationsPerProject { limit: 3 })
    );
    assert_eq!(report.sent(), 3);

    // Failing rows left no trace.
    for address in ["boss@example.com", "late@example.com"] {
        assert_eq!(world.user(address).await, None, "{address}");
        assert!(world.pending_for(project.id, address).await.is_empty());
        assert!(world.notifier.messages_to(&email(address)).is_empty());
    }
    let new_events: Vec<AuditAction> = world
        .audit(project.id)
        .await
        .into_iter()
        .filter(|event| event.at == world.now())
        .map(|event| event.action)
        .collect();
    assert_eq!(new_events.len(), 3, "{new_events:?}");
    let sent_to: Vec<String> = new_events
        .iter()
        .map(|action| match action {
            AuditAction::InvitationSent { email, .. } => format!("sent {}", email.canonical()),
            AuditAction::InvitationResent { email, .. } => {
                format!("resent {}", email.canonical())
            }
            other => panic!("unexpected event {other:?}"),
        })
        .collect();
    let mut sorted = sent_to.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "resent pending@example.com",
            "sent new@example.com",
            "sent reg@example.com"
        ]
    );

    // Passing rows were applied and announced with the token in their outcome.
    assert_eq!(
        world
            .invitations(project.id, Some(InvitationState::Pending))
            .await
            .len(),
        3
    );
    assert!(!world.opens(&old_token).await);
    let messages = world.notifier.messages();
    assert_eq!(messages.len(), 3);
    for outcome in &outcomes[..3] {
        let token = outcome.token().unwrap();
        let message = messages
            .iter()
            .find(|message| message.token.as_ref() == Some(token))
            .expect("the row's token was sent");
        assert_eq!(Some(message.notice.kind), notice_of(outcome));
        let preview = world.roster.preview(token).await.unwrap();
        assert_eq!(preview.state, InvitationState::Pending);
        assert_eq!(preview.invitation, message.notice.invitation);
    }
    assert!(!world.is_registered("new@example.com").await);
}

/// A call whose rows all fail writes nothing at all: not even the project's version moves.
pub async fn an_invite_with_only_failing_rows_changes_nothing(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let member = world
        .new_member(admin.id, project.id, "member@example.com", Role::USER)
        .await;
    let before = world.snapshot(project.id).await;
    let rows = [
        InviteRequest::new("member@example.com", Role::USER),
        InviteRequest::new("@nowhere", Role::USER),
        InviteRequest::new("MEMBER@example.com", Role::USER),
        InviteRequest::new("boss@example.com", Role::ACCOUNT_ADMINISTRATOR),
    ];
    let report = world
        .roster
        .invite(admin.id, project.id, &rows)
        .await
        .unwrap();
    assert_eq!(report.sent(), 0);
    assert_eq!(
        report.rows[0].outcome,
        InviteOutcome::AlreadyMember {
            user: member.id,
            role: Role::USER
        }
    );
    assert_eq!(report.rows[2].outcome, InviteOutcome::Duplicate);
    assert_eq!(world.snapshot(project.id).await, before);
    assert_eq!(world.user("boss@example.com").await, None);
}

/// Notices go out only after the change announcing them is committed: at the moment of sending,
/// the outbox entry exists and the token opens the pending invitation.
pub async fn notices_are_sent_after_the_commit(store: Arc<dyn Store>) {
    let world = World::new(store.clone());
    let (admin, project) = world.admin_with_project().await;
    world.register("reg@example.com").await;
    let witness = Arc::new(WitnessNotifier {
        store,
        seen: Mutex::new(Vec::new()),
    });
    let roster = world.process_with(witness.clone());
    let rows = [
        InviteRequest::new("new@example.com", Role::USER),
        InviteRequest::new("reg@example.com", Role::OBSERVER),
    ];
    let report = roster.invite(admin.id, project.id, &rows).await.unwrap();
    let seen = witness.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    // Sends run concurrently, so they may finish (and be witnessed) in any order.
    for row in &report.rows {
        let witnessed = seen
            .iter()
            .find(|witnessed| witnessed.notice.notice.to == email(&row.email))
            .expect("every row was sent");
        assert!(
            witnessed.entry_committed,
            "sent before its outbox entry was committed"
        );
        assert!(
            witnessed.token_opens_pending,
            "sent before its invitation was committed"
        );
        assert_eq!(witnessed.notice.token.as_ref(), row.outcome.token());
    }
}

/// Inviting an address with a pending invitation refreshes it: same invitation, new token (the
/// old one stops working), the new role, a later expiry, and still exactly one pending invitation.
pub async fn inviting_again_refreshes_the_pending_invitation(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let (first, old_token) = world
        .send(admin.id, project.id, "ann@example.com", Role::OBSERVER)
        .await;
    world.advance(Duration::days(2));
    let outcome = world
        .invite(admin.id, project.id, "ANN@example.com", Role::USER)
        .await;
    assert!(matches!(
        outcome,
        InviteOutcome::Refreshed {
            notice: NoticeKind::Invitation,
            ..
        }
    ));
    let (again, new_token) = sent(outcome);
    assert_eq!(again.id, first.id);
    assert_ne!(new_token, old_token);
    assert_eq!(again.role, Role::USER);
    assert_eq!(again.sends, 2);
    assert_eq!(again.expires_at, world.now() + Duration::days(7));
    assert!(again.expires_at > first.expires_at);
    assert_eq!(world.invitation(&first).await, again);
    assert!(!world.opens(&old_token).await);
    assert_err!(
        world.roster.accept(&old_token, new_user()).await,
        RosterError::InvalidToken
    );
    assert!(world.opens(&new_token).await);
    assert_eq!(
        world.pending_for(project.id, "ann@example.com").await.len(),
        1
    );
    assert_eq!(world.invitations(project.id, None).await.len(), 1);
    let messages = world.notifier.messages_to(&email("ann@example.com"));
    assert_eq!(messages.len(), 2);
    assert_eq!(
        world.notifier.last_token_to(&email("ann@example.com")),
        Some(new_token.clone())
    );
    let accepted = world.roster.accept(&new_token, new_user()).await.unwrap();
    assert_eq!(accepted.membership.role, Role::USER);
}

/// An address whose invitation expired is invited afresh: a new invitation, the old one closed as
/// `Expired` (and audited so, by no one), its token still refused.
pub async fn reinviting_after_expiry_creates_a_new_invitation(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let (old, old_token) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    world.advance(Duration::days(8));
    let outcome = world
        .invite(admin.id, project.id, "ann@example.com", Role::OBSERVER)
        .await;
    assert!(
        matches!(outcome, InviteOutcome::Invited { .. }),
        "{outcome:?}"
    );
    let (new, new_token) = sent(outcome);
    assert_ne!(new.id, old.id);
    let closed = world.invitation(&old).await;
    assert_eq!(closed.state, InvitationState::Expired);
    assert_eq!(closed.closed_at, Some(old.expires_at));
    assert_err!(
        world.roster.accept(&old_token, new_user()).await,
        RosterError::InvitationClosed {
            state: InvitationState::Expired
        }
    );
    let pending = world.pending_for(project.id, "ann@example.com").await;
    assert_eq!(pending.iter().map(|i| i.id).collect::<Vec<_>>(), [new.id]);
    let expired = world
        .invitations(project.id, Some(InvitationState::Expired))
        .await;
    assert_eq!(expired.iter().map(|i| i.id).collect::<Vec<_>>(), [old.id]);
    let audit = world.audit(project.id).await;
    assert!(audit.iter().any(|event| event.actor.is_none()
        && event.action
            == AuditAction::InvitationExpired {
                invitation: old.id,
                email: email("ann@example.com")
            }));
    let accepted = world.roster.accept(&new_token, new_user()).await.unwrap();
    assert_eq!(accepted.membership.role, Role::OBSERVER);
}

/// An address invited before it registered accepts as the registered user it became, keeping
/// the user record the invitation created.
pub async fn an_invitee_who_registers_meanwhile_accepts_as_existing_user(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let (_, token) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    assert_eq!(
        world.user("ann@example.com").await,
        None,
        "an invitation makes no user record"
    );
    let registered = world.register("Ann@Example.com").await;
    assert!(world.roster.preview(&token).await.unwrap().registered_user);
    assert_err!(
        world.roster.accept(&token, new_user()).await,
        RosterError::AlreadyRegistered
    );
    let accepted = world
        .roster
        .accept(
            &token,
            roster::Acceptance::ExistingUser {
                user: registered.id,
            },
        )
        .await
        .unwrap();
    assert_eq!(accepted.user.id, registered.id);
    assert_eq!(
        world.role_of(project.id, registered.id).await,
        Some(Role::USER)
    );
}

/// A row's language must be a BCP 47 tag of at most 35 characters: a 10 MB string, NUL, CR/LF or
/// markup is refused with its own outcome and stores nothing, while `PT-br` is stored (and
/// copied onto its notice) as the canonical `pt-BR`.
pub async fn only_language_tags_are_stored(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let hostile = [
        "x".repeat(10 * 1024 * 1024),
        "de\0".to_owned(),
        "de\r\nBcc: x@example.com".to_owned(),
        "<b>de</b>".to_owned(),
        String::new(),
    ];
    let mut rows: Vec<InviteRequest> = hostile
        .iter()
        .enumerate()
        .map(|(i, tag)| InviteRequest::new(format!("h{i}@example.com"), Role::USER).language(tag))
        .collect();
    rows.push(InviteRequest::new("ann@example.com", Role::USER).language("PT-br"));
    let report = world
        .roster
        .invite(admin.id, project.id, &rows)
        .await
        .unwrap();
    for row in &report.rows[..hostile.len()] {
        assert_eq!(row.outcome, InviteOutcome::InvalidLanguage, "{}", row.email);
    }
    let (invitation, _) = sent(report.rows[hostile.len()].outcome.clone());
    assert_eq!(invitation.language.as_deref(), Some("pt-BR"));
    let stored = world.invitations(project.id, None).await;
    assert_eq!(stored.len(), 1, "only the valid row is stored");
    assert_eq!(stored[0].language.as_deref(), Some("pt-BR"));
    let message = world
        .notifier
        .messages()
        .pop()
        .expect("the valid row's notice");
    assert_eq!(message.notice.language.as_deref(), Some("pt-BR"));
}
