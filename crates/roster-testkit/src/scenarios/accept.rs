//! What an invitee does with a link: preview, accept (as a new or an existing user), decline;
//! and every way a link stops working.

use std::sync::Arc;

use chrono::Duration;
use roster::{
    Acceptance, Denial, InvitationState, InvitationToken, Limits, NoticeKind, Role, RosterError,
    SeededRandom, Store,
};

use super::harness::{ADMIN, PASSWORD, World, email, new_user};

/// A new person accepts with a password: registered, a member with the invitation's role, able to
/// sign in and pick the account; the invitation is closed as accepted.
pub async fn a_new_user_accepts_with_a_password(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let (invitation, token) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    world.advance(Duration::hours(1));
    let accepted = world.roster.accept(&token, new_user()).await.unwrap();
    assert!(accepted.user.is_registered());
    assert_eq!(accepted.user.email, email("ann@example.com"));
    assert_eq!(accepted.project.id, project.id);
    assert_eq!(accepted.account.id, project.account);
    assert_eq!(accepted.membership.role, Role::USER);
    assert_eq!(accepted.membership.invited_by, Some(admin.id));
    assert_eq!(accepted.membership.since, world.now());
    assert_eq!(
        world.role_of(project.id, accepted.user.id).await,
        Some(Role::USER)
    );
    let closed = world.invitation(&invitation).await;
    assert_eq!(closed.state, InvitationState::Accepted);
    assert_eq!(closed.closed_at, Some(world.now()));

    let sign_in = world
        .roster
        .authenticate("ann@example.com", PASSWORD)
        .await
        .unwrap();
    assert_eq!(sign_in.user.id, accepted.user.id);
    let accounts: Vec<_> = sign_in.accounts.iter().map(|account| account.id).collect();
    assert_eq!(accounts, [project.account]);
    assert_err!(
        world
            .roster
            .authenticate("ann@example.com", "wrong password")
            .await,
        RosterError::InvalidCredentials
    );
}

/// A registered user accepts while signed in: a membership, and the account joins those they can
/// pick, next to their own.
pub async fn an_existing_user_accepts_and_gains_the_account(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let bob = world.register("bob@example.com").await;
    let own = world.roster.create_account(bob.id, "Bob's").await.unwrap();
    assert_eq!(
        world
            .roster
            .accounts_of(bob.id)
            .await
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect::<Vec<_>>(),
        [own.id]
    );
    let (_, token) = world
        .send(admin.id, project.id, "bob@example.com", Role::OBSERVER)
        .await;
    let notice = world
        .notifier
        .messages_to(&email("bob@example.com"))
        .pop()
        .unwrap();
    assert_eq!(notice.notice.kind, NoticeKind::AccessGranted);
    let accepted = world
        .roster
        .accept(&token, Acceptance::ExistingUser { user: bob.id })
        .await
        .unwrap();
    assert_eq!(accepted.user.id, bob.id);
    assert_eq!(accepted.membership.role, Role::OBSERVER);
    assert_eq!(
        world.role_of(project.id, bob.id).await,
        Some(Role::OBSERVER)
    );
    let mut accounts: Vec<_> = world
        .roster
        .accounts_of(bob.id)
        .await
        .unwrap()
        .iter()
        .map(|account| account.id)
        .collect();
    accounts.sort();
    let mut expected = vec![own.id, project.account];
    expected.sort();
    assert_eq!(accounts, expected);
    let sign_in = world
        .roster
        .authenticate("bob@example.com", PASSWORD)
        .await
        .unwrap();
    assert_eq!(sign_in.accounts.len(), 2);
}

/// Each wrong way to accept is refused and changes nothing: someone else's user id, a new password
/// for a registered address, a short password.
pub async fn wrong_acceptances_are_refused_and_change_nothing(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let bob = world.register("bob@example.com").await;
    let eve = world.register("eve@example.com").await;
    let (_, bob_token) = world
        .send(admin.id, project.id, "bob@example.com", Role::USER)
        .await;
    let (_, ann_token) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    let ann = world.user("ann@example.com").await;
    let before = world.snapshot(project.id).await;

    assert_err!(
        world
            .roster
            .accept(&bob_token, Acceptance::ExistingUser { user: eve.id })
            .await,
        RosterError::Forbidden(Denial::NotTheInvitee)
    );
    assert_err!(
        world
            .roster
            .accept(
                &bob_token,
                Acceptance::NewUser {
                    password: "a new password".into()
                }
            )
            .await,
        RosterError::AlreadyRegistered
    );
    assert_err!(
        world
            .roster
            .accept(&ann_token, Acceptance::ExistingUser { user: bob.id })
            .await,
        RosterError::Forbidden(Denial::NotTheInvitee)
    );
    assert_err!(
        world
            .roster
            .accept(
                &ann_token,
                Acceptance::NewUser {
                    password: "short".into()
                }
            )
            .await,
        RosterError::PasswordLength { min: 8, max: 1024 }
    );
    assert_eq!(world.snapshot(project.id).await, before);
    assert_eq!(world.user("ann@example.com").await, ann);
    // Bob's password is untouched by the refused new-user acceptance.
    assert!(
        world
            .roster
            .authenticate("bob@example.com", PASSWORD)
            .await
            .is_ok()
    );
    assert_err!(
        world
            .roster
            .authenticate("bob@example.com", "a new password")
            .await,
        RosterError::InvalidCredentials
    );
    // Both links still work the right way.
    world.roster.accept(&ann_token, new_user()).await.unwrap();
    world
        .roster
        .accept(&bob_token, Acceptance::ExistingUser { user: bob.id })
        .await
        .unwrap();
}

/// A token works once: used again (to accept or decline) it answers `InvitationClosed { Accepted }`
/// and there is still exactly one membership.
pub async fn a_token_works_only_once(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let (_, token) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    let accepted = world.roster.accept(&token, new_user()).await.unwrap();
    let before = world.snapshot(project.id).await;
    let again = world.roster.accept(&token, new_user()).await;
    assert_err!(
        again,
        RosterError::InvitationClosed {
            state: InvitationState::Accepted
        }
    );
    assert_err!(
        world
            .roster
            .accept(
                &token,
                Acceptance::ExistingUser {
                    user: accepted.user.id
                }
            )
            .await,
        RosterError::InvitationClosed {
            state: InvitationState::Accepted
        }
    );
    assert_err!(
        world.roster.decline(&token).await,
        RosterError::InvitationClosed {
            state: InvitationState::Accepted
        }
    );
    assert_eq!(world.snapshot(project.id).await, before);
    assert_eq!(world.members(project.id).await.len(), 2);
}

/// A declined invitation stays closed: its token answers `InvitationClosed { Declined }`, nobody
/// joins, the invitee's record stays unregistered.
pub async fn a_declined_invitation_stays_closed(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let (invitation, token) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    world.roster.decline(&token).await.unwrap();
    assert_eq!(
        world.invitation(&invitation).await.state,
        InvitationState::Declined
    );
    let before = world.snapshot(project.id).await;
    let declined = |result| {
        assert_err!(
            result,
            RosterError::InvitationClosed {
                state: InvitationState::Declined
            }
        )
    };
    declined(world.roster.accept(&token, new_user()).await.map(|_| ()));
    declined(world.roster.decline(&token).await);
    assert_eq!(world.snapshot(project.id).await, before);
    assert_eq!(world.members(project.id).await.len(), 1);
    assert!(!world.is_registered("ann@example.com").await);
    let preview = world.roster.preview(&token).await.unwrap();
    assert_eq!(preview.state, InvitationState::Declined);
}

/// A revoked invitation's token answers `InvitationClosed { Revoked }` and changes nothing.
pub async fn a_revoked_invitation_stays_closed(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let (invitation, token) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    world.roster.revoke(admin.id, invitation.id).await.unwrap();
    let before = world.snapshot(project.id).await;
    assert_err!(
        world.roster.accept(&token, new_user()).await,
        RosterError::InvitationClosed {
            state: InvitationState::Revoked
        }
    );
    assert_err!(
        world.roster.decline(&token).await,
        RosterError::InvitationClosed {
            state: InvitationState::Revoked
        }
    );
    assert_eq!(world.snapshot(project.id).await, before);
    assert!(!world.is_registered("ann@example.com").await);
}

/// With the default lifetime a link works for just under 7 days; from then on it answers
/// `InvitationClosed { Expired }` and changes nothing (an Administrator renews it by resending:
/// see `resending_an_expired_invitation_renews_it`).
pub async fn an_invitation_expires_after_seven_days(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let sent_at = world.now();
    let (invitation, token) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    assert_eq!(invitation.expires_at, sent_at + Duration::days(7));
    world.advance(Duration::days(7) - Duration::seconds(1));
    assert_eq!(
        world.roster.preview(&token).await.unwrap().state,
        InvitationState::Pending
    );
    world.advance(Duration::seconds(1));
    assert_eq!(
        world.roster.preview(&token).await.unwrap().state,
        InvitationState::Expired
    );
    let before = world.snapshot(project.id).await;
    assert_err!(
        world.roster.accept(&token, new_user()).await,
        RosterError::InvitationClosed {
            state: InvitationState::Expired
        }
    );
    assert_err!(
        world.roster.decline(&token).await,
        RosterError::InvitationClosed {
            state: InvitationState::Expired
        }
    );
    assert_eq!(world.snapshot(project.id).await, before);
    assert_eq!(world.members(project.id).await.len(), 1);
    let _ = invitation;
}

/// `Limits::invitation_lifetime` sets how long a link works.
pub async fn a_custom_invitation_lifetime_is_honoured(store: Arc<dyn Store>) {
    let limits = Limits::default().invitation_lifetime(Duration::hours(1));
    let world = World::with_limits(store, limits);
    let (admin, project) = world.admin_with_project().await;
    let (invitation, token) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    assert_eq!(invitation.expires_at, world.now() + Duration::hours(1));
    let (_, other) = world
        .send(admin.id, project.id, "bob@example.com", Role::USER)
        .await;
    world.advance(Duration::minutes(59));
    world.roster.accept(&other, new_user()).await.unwrap();
    world.advance(Duration::minutes(1));
    assert_err!(
        world.roster.accept(&token, new_user()).await,
        RosterError::InvitationClosed {
            state: InvitationState::Expired
        }
    );
}

/// A token opens exactly one invitation of exactly one project: accepting the invitation of
/// project A leaves the invitation of the same address to project B pending and untouched.
pub async fn a_token_opens_only_its_own_project(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, alpha) = world.admin_with_project().await;
    let beta = world.sibling_project(&admin, &alpha, "Beta").await;
    let (_, alpha_token) = world
        .send(admin.id, alpha.id, "ann@example.com", Role::USER)
        .await;
    let (beta_invitation, beta_token) = world
        .send(admin.id, beta.id, "ann@example.com", Role::OBSERVER)
        .await;
    assert_ne!(alpha_token, beta_token);
    let beta_before = world.snapshot(beta.id).await;
    let accepted = world.roster.accept(&alpha_token, new_user()).await.unwrap();
    assert_eq!(accepted.project.id, alpha.id);
    assert_eq!(
        world.role_of(alpha.id, accepted.user.id).await,
        Some(Role::USER)
    );
    assert_eq!(world.role_of(beta.id, accepted.user.id).await, None);
    assert_eq!(world.snapshot(beta.id).await, beta_before);
    assert_eq!(
        world.invitation(&beta_invitation).await.state,
        InvitationState::Pending
    );
    let preview = world.roster.preview(&beta_token).await.unwrap();
    assert_eq!(preview.project_name, "Beta");
    assert!(preview.registered_user);
    world
        .roster
        .accept(
            &beta_token,
            Acceptance::ExistingUser {
                user: accepted.user.id,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        world.role_of(beta.id, accepted.user.id).await,
        Some(Role::OBSERVER)
    );
}

/// Previewing describes the invitation (project, account, role, inviter, whether the address is
/// registered, expiry) and changes nothing, however often it is done; unknown tokens are invalid.
pub async fn preview_describes_and_changes_nothing(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    world.register("bob@example.com").await;
    let (ann, ann_token) = world
        .send(admin.id, project.id, "Ann@example.com", Role::USER)
        .await;
    let (_, bob_token) = world
        .send(admin.id, project.id, "bob@example.com", Role::OBSERVER)
        .await;
    let before = world.snapshot(project.id).await;
    for _ in 0..3 {
        let preview = world.roster.preview(&ann_token).await.unwrap();
        assert_eq!(preview.invitation, ann.id);
        assert_eq!(preview.state, InvitationState::Pending);
        assert_eq!(preview.email, email("ann@example.com"));
        assert_eq!(preview.project_name, "Rocket");
        assert_eq!(preview.account_name, "Acme");
        assert_eq!(preview.role, Role::USER);
        assert_eq!(preview.inviter, email(ADMIN));
        assert!(!preview.registered_user);
        assert_eq!(preview.expires_at, ann.expires_at);
    }
    let bob = world.roster.preview(&bob_token).await.unwrap();
    assert!(bob.registered_user);
    assert_eq!(bob.role, Role::OBSERVER);
    let stranger = InvitationToken::generate(&SeededRandom::new(99));
    assert_err!(
        world.roster.preview(&stranger).await,
        RosterError::InvalidToken
    );
    assert_err!(
        world.roster.accept(&stranger, new_user()).await,
        RosterError::InvalidToken
    );
    assert_eq!(world.snapshot(project.id).await, before);
}

/// The inviter's right is checked again on acceptance: an invitation sent by an Administrator who
/// was demoted meanwhile answers `InviterNoLongerAuthorized` and changes nothing, until an
/// Administrator resends it.
pub async fn acceptance_rechecks_the_inviter(store: Arc<dyn Store>) {
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
    let (peer, peer_token) = world
        .send(
            manager.id,
            project.id,
            "peer@example.com",
            Role::ADMINISTRATOR,
        )
        .await;
    let (_, viewer_token) = world
        .send(manager.id, project.id, "viewer@example.com", Role::OBSERVER)
        .await;
    world
        .roster
        .change_role(admin.id, project.id, manager.id, Role::USER)
        .await
        .unwrap();
    let before = world.snapshot(project.id).await;
    for token in [&peer_token, &viewer_token] {
        assert_err!(
            world.roster.accept(token, new_user()).await,
            RosterError::InviterNoLongerAuthorized
        );
    }
    assert_eq!(world.snapshot(project.id).await, before);
    let resent = world.roster.resend(admin.id, peer.id).await.unwrap();
    assert_eq!(resent.invitation.invited_by, admin.id);
    let accepted = world
        .roster
        .accept(&resent.token, new_user())
        .await
        .unwrap();
    assert_eq!(accepted.membership.role, Role::ADMINISTRATOR);
    assert_eq!(accepted.membership.invited_by, Some(admin.id));
}
