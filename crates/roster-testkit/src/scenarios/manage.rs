//! What Administrators do after the fact: resend, revoke, change roles, remove; and the rules
//! that guard it (who may, whom they may act on, the last Administrator).

use std::sync::Arc;

use chrono::Duration;
use roster::{
    Denial, InvitationState, InviteRequest, Limits, NoticeKind, PageRequest, Role, RosterError,
    Store, User,
};

use super::harness::{World, email, new_user};

/// Users, Observers and outsiders may not resend, revoke, change roles, remove members or list
/// invitations, notices and the audit trail: `Forbidden(NotAnAdministrator)`, nothing changes.
pub async fn only_administrators_manage_members(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let user = world
        .new_member(admin.id, project.id, "user@example.com", Role::USER)
        .await;
    let observer = world
        .new_member(admin.id, project.id, "observer@example.com", Role::OBSERVER)
        .await;
    let target = world
        .new_member(admin.id, project.id, "target@example.com", Role::OBSERVER)
        .await;
    let outsider = world.register("outsider@example.com").await;
    let (invitation, _) = world
        .send(admin.id, project.id, "ann@example.com", Role::OBSERVER)
        .await;
    let before = world.snapshot(project.id).await;
    let roster = &world.roster;
    let p = project.id;
    for actor in [user.id, observer.id, outsider.id] {
        let errors = [
            roster
                .resend(actor, invitation.id)
                .await
                .map(drop)
                .unwrap_err(),
            roster
                .revoke(actor, invitation.id)
                .await
                .map(drop)
                .unwrap_err(),
            roster
                .change_role(actor, p, target.id, Role::USER)
                .await
                .map(drop)
                .unwrap_err(),
            roster.remove_member(actor, p, target.id).await.unwrap_err(),
            roster
                .invite(
                    actor,
                    p,
                    &[InviteRequest::new("x@example.com", Role::OBSERVER)],
                )
                .await
                .map(drop)
                .unwrap_err(),
            roster
                .invitations(actor, p, None, PageRequest::first(10))
                .await
                .map(drop)
                .unwrap_err(),
            roster
                .audit_trail(actor, p, PageRequest::first(10))
                .await
                .map(drop)
                .unwrap_err(),
            roster
                .notices(actor, p, None, PageRequest::first(10))
                .await
                .map(drop)
                .unwrap_err(),
        ];
        for error in errors {
            assert!(
                matches!(error, RosterError::Forbidden(Denial::NotAnAdministrator)),
                "expected Forbidden(NotAnAdministrator), got {error:?}"
            );
        }
    }
    assert_err!(
        roster.members(outsider.id, p, PageRequest::first(10)).await,
        RosterError::Forbidden(Denial::NotAMember)
    );
    assert_err!(
        roster
            .create_project(user.id, project.account, "Mine")
            .await,
        RosterError::Forbidden(Denial::NotAnAccountAdministrator)
    );
    assert_eq!(world.snapshot(project.id).await, before);
    assert_eq!(
        roster
            .members(observer.id, p, PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        4
    );
}

/// A project Administrator who is no account administrator resends, revokes, changes roles and
/// removes members.
pub async fn a_project_administrator_manages_members(store: Arc<dyn Store>) {
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
    manages(&world, &manager, project.id).await;
}

/// An account administrator manages a project of the account without being a member of it.
pub async fn an_account_administrator_manages_without_membership(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    world
        .new_member(
            admin.id,
            project.id,
            "manager@example.com",
            Role::ADMINISTRATOR,
        )
        .await;
    world.roster.leave(admin.id, project.id).await.unwrap();
    assert_eq!(world.role_of(project.id, admin.id).await, None);
    manages(&world, &admin, project.id).await;
}

/// `actor` resends, revokes, changes a role and removes a member, and each takes effect.
async fn manages(world: &World, actor: &User, project: roster::ProjectId) {
    let (invitation, old_token) = world
        .send(actor.id, project, "ann@example.com", Role::ADMINISTRATOR)
        .await;
    let resent = world.roster.resend(actor.id, invitation.id).await.unwrap();
    assert!(!world.opens(&old_token).await);
    assert!(world.opens(&resent.token).await);
    let revoked = world.roster.revoke(actor.id, invitation.id).await.unwrap();
    assert_eq!(revoked.state, InvitationState::Revoked);
    let member = world
        .new_member(actor.id, project, "member@example.com", Role::OBSERVER)
        .await;
    let changed = world
        .roster
        .change_role(actor.id, project, member.id, Role::ADMINISTRATOR)
        .await
        .unwrap();
    assert_eq!(changed.role, Role::ADMINISTRATOR);
    assert_eq!(
        world.role_of(project, member.id).await,
        Some(Role::ADMINISTRATOR)
    );
    world
        .roster
        .remove_member(actor.id, project, member.id)
        .await
        .unwrap();
    assert_eq!(world.role_of(project, member.id).await, None);
}

/// Nobody gives a member a role above their own, and `AccountAdministrator` is no project role:
/// `RoleNotAllowed`, nothing changes.
pub async fn nobody_grants_a_role_above_their_own(store: Arc<dyn Store>) {
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
    let member = world
        .new_member(admin.id, project.id, "member@example.com", Role::USER)
        .await;
    let before = world.snapshot(project.id).await;
    for actor in [manager.id, admin.id] {
        assert_err!(
            world
                .roster
                .change_role(actor, project.id, member.id, Role::ACCOUNT_ADMINISTRATOR)
                .await,
            RosterError::RoleNotAllowed {
                role: Role::ACCOUNT_ADMINISTRATOR
            }
        );
    }
    assert_eq!(world.snapshot(project.id).await, before);
    world
        .roster
        .change_role(manager.id, project.id, member.id, Role::ADMINISTRATOR)
        .await
        .unwrap();
}

/// Nobody acts on a member who outranks them: a project Administrator may neither demote nor
/// remove the account administrator's membership (`Forbidden(TargetOutranksActor)`).
pub async fn members_who_outrank_the_actor_are_out_of_reach(store: Arc<dyn Store>) {
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
    let before = world.snapshot(project.id).await;
    assert_err!(
        world
            .roster
            .change_role(manager.id, project.id, admin.id, Role::OBSERVER)
            .await,
        RosterError::Forbidden(Denial::TargetOutranksActor)
    );
    assert_err!(
        world
            .roster
            .remove_member(manager.id, project.id, admin.id)
            .await,
        RosterError::Forbidden(Denial::TargetOutranksActor)
    );
    assert_eq!(world.snapshot(project.id).await, before);
    // Peers are within reach.
    world
        .roster
        .change_role(admin.id, project.id, manager.id, Role::USER)
        .await
        .unwrap();
}

/// Resending rotates the token (old link refused, new one works), extends the expiry, counts the
/// send, makes the resender the inviter and notifies the invitee again.
pub async fn resend_rotates_the_token_and_extends_the_expiry(store: Arc<dyn Store>) {
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
    let (invitation, old_token) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    world.advance(Duration::days(3));
    let resent = world
        .roster
        .resend(manager.id, invitation.id)
        .await
        .unwrap();
    assert_eq!(resent.invitation.id, invitation.id);
    assert_eq!(resent.invitation.sends, 2);
    assert_eq!(resent.invitation.invited_by, manager.id);
    assert_eq!(
        resent.invitation.expires_at,
        world.now() + Duration::days(7)
    );
    assert_eq!(world.invitation(&invitation).await, resent.invitation);
    assert!(!world.opens(&old_token).await);
    assert_err!(
        world.roster.accept(&old_token, new_user()).await,
        RosterError::InvalidToken
    );
    let to = email("ann@example.com");
    let messages = world.notifier.messages_to(&to);
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].notice.kind, NoticeKind::Invitation);
    assert_eq!(messages[1].notice.expires_at, resent.invitation.expires_at);
    assert_eq!(
        world.notifier.last_token_to(&to),
        Some(resent.token.clone())
    );
    // Past the first expiry, the resent link still works.
    world.advance(Duration::days(5));
    world
        .roster
        .accept(&resent.token, new_user())
        .await
        .unwrap();
    assert_err!(
        world.roster.resend(admin.id, invitation.id).await,
        RosterError::InvitationClosed {
            state: InvitationState::Accepted
        }
    );
}

/// Revoking closes the invitation (kept as history), tells the invitee without a link, and the
/// token is refused from then on.
pub async fn revoke_closes_the_invitation_and_tells_the_invitee(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let (invitation, token) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    world.advance(Duration::minutes(5));
    let revoked = world.roster.revoke(admin.id, invitation.id).await.unwrap();
    assert_eq!(revoked.state, InvitationState::Revoked);
    assert_eq!(revoked.closed_at, Some(world.now()));
    assert_eq!(world.invitation(&invitation).await, revoked);
    let last = world
        .notifier
        .messages_to(&email("ann@example.com"))
        .pop()
        .unwrap();
    assert_eq!(last.notice.kind, NoticeKind::Revocation);
    assert_eq!(last.notice.invitation, invitation.id);
    assert!(last.token.is_none());
    assert_err!(
        world.roster.accept(&token, new_user()).await,
        RosterError::InvitationClosed {
            state: InvitationState::Revoked
        }
    );
    assert_err!(
        world.roster.revoke(admin.id, invitation.id).await,
        RosterError::InvitationClosed {
            state: InvitationState::Revoked
        }
    );
    assert!(
        world
            .pending_for(project.id, "ann@example.com")
            .await
            .is_empty()
    );
    let listed = world
        .roster
        .invitations(
            admin.id,
            project.id,
            Some(InvitationState::Revoked),
            PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(listed.items, [revoked]);
}

/// The only Administrator can be neither demoted nor removed, and cannot leave, whoever asks
/// (themselves or an account administrator): `LastAdministrator`, nothing changes.
pub async fn the_last_administrator_stays(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let before = world.snapshot(project.id).await;
    assert_err!(
        world
            .roster
            .change_role(admin.id, project.id, admin.id, Role::USER)
            .await,
        RosterError::LastAdministrator
    );
    assert_err!(
        world
            .roster
            .remove_member(admin.id, project.id, admin.id)
            .await,
        RosterError::LastAdministrator
    );
    assert_err!(
        world.roster.leave(admin.id, project.id).await,
        RosterError::LastAdministrator
    );
    assert_eq!(world.snapshot(project.id).await, before);

    // The same for an Administrator who is no account administrator.
    let manager = world
        .new_member(
            admin.id,
            project.id,
            "manager@example.com",
            Role::ADMINISTRATOR,
        )
        .await;
    world.roster.leave(admin.id, project.id).await.unwrap();
    let before = world.snapshot(project.id).await;
    for actor in [manager.id, admin.id] {
        assert_err!(
            world
                .roster
                .change_role(actor, project.id, manager.id, Role::OBSERVER)
                .await,
            RosterError::LastAdministrator
        );
        assert_err!(
            world
                .roster
                .remove_member(actor, project.id, manager.id)
                .await,
            RosterError::LastAdministrator
        );
    }
    assert_err!(
        world.roster.leave(manager.id, project.id).await,
        RosterError::LastAdministrator
    );
    assert_eq!(world.snapshot(project.id).await, before);
    assert_eq!(world.administrators(project.id).await, 1);
}

/// With two Administrators, one may be demoted, removed or leave.
pub async fn one_of_two_administrators_may_step_down(store: Arc<dyn Store>) {
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
    world
        .roster
        .change_role(admin.id, project.id, manager.id, Role::USER)
        .await
        .unwrap();
    assert_eq!(
        world.role_of(project.id, manager.id).await,
        Some(Role::USER)
    );
    world
        .roster
        .change_role(admin.id, project.id, manager.id, Role::ADMINISTRATOR)
        .await
        .unwrap();
    world.roster.leave(manager.id, project.id).await.unwrap();
    assert_eq!(world.role_of(project.id, manager.id).await, None);
    let other = world
        .new_member(
            admin.id,
            project.id,
            "other@example.com",
            Role::ADMINISTRATOR,
        )
        .await;
    world
        .roster
        .remove_member(admin.id, project.id, other.id)
        .await
        .unwrap();
    assert_eq!(world.administrators(project.id).await, 1);
    // A former member no longer gets to pick the account.
    assert!(world.roster.accounts_of(other.id).await.unwrap().is_empty());
    assert!(
        world
            .roster
            .accounts_of(manager.id)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Role changes, removals and leaving name a membership that must exist: `NotFound`. Changing a
/// role to the one held writes nothing.
pub async fn managing_requires_an_existing_membership(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let outsider = world.register("outsider@example.com").await;
    let member = world
        .new_member(admin.id, project.id, "member@example.com", Role::USER)
        .await;
    let before = world.snapshot(project.id).await;
    let missing = roster::Entity::Membership;
    assert_err!(
        world.roster.change_role(admin.id, project.id, outsider.id, Role::USER).await,
        RosterError::NotFound(entity) if entity == missing
    );
    assert_err!(
        world.roster.remove_member(admin.id, project.id, outsider.id).await,
        RosterError::NotFound(entity) if entity == missing
    );
    assert_err!(
        world.roster.leave(outsider.id, project.id).await,
        RosterError::NotFound(entity) if entity == missing
    );
    let same = world
        .roster
        .change_role(admin.id, project.id, member.id, Role::USER)
        .await
        .unwrap();
    assert_eq!(same.role, Role::USER);
    assert_eq!(world.snapshot(project.id).await, before);
}

/// "Resend invite" on an expired link renews it, as in the portal: a new token (the old one
/// stays dead), a new expiry from now, one more send, the invitee told again, and it counts
/// against the resender's daily budget. An expired invitation that a newer one replaced stays
/// closed.
pub async fn resending_an_expired_invitation_renews_it(store: Arc<dyn Store>) {
    let world = World::with_limits(store, Limits::portal());
    let (admin, project) = world.admin_with_project().await;
    let (invitation, old_token) = world
        .send(admin.id, project.id, "ann@example.com", Role::USER)
        .await;
    assert_eq!(invitation.expires_at, world.now() + Duration::hours(24));
    world.advance(Duration::hours(25));
    assert_eq!(
        world.roster.preview(&old_token).await.unwrap().state,
        InvitationState::Expired
    );
    let resent = world.roster.resend(admin.id, invitation.id).await.unwrap();
    assert_eq!(resent.invitation.sends, 2);
    assert_eq!(
        resent.invitation.expires_at,
        world.now() + Duration::hours(24)
    );
    assert_eq!(
        world.roster.preview(&resent.token).await.unwrap().state,
        InvitationState::Pending
    );
    assert!(!world.opens(&old_token).await, "the old link stays dead");
    world
        .roster
        .accept(&resent.token, new_user())
        .await
        .expect("the renewed link works");

    // Replaced by a newer invitation after expiring: closed for good.
    let (bob, _) = world
        .send(admin.id, project.id, "bob@example.com", Role::USER)
        .await;
    world.advance(Duration::hours(25));
    world
        .send(admin.id, project.id, "bob@example.com", Role::USER)
        .await;
    assert_err!(
        world.roster.resend(admin.id, bob.id).await,
        RosterError::InvitationClosed {
            state: InvitationState::Expired
        }
    );
}
