//! Roles the service declares: every rule on a catalog other than the default four, ranks that
//! tie, a role removed from the catalog between two deployments, and `access`.

use std::sync::Arc;

use roster::{
    Denial, InviteOutcome, InviteRequest, PageRequest, Role, RoleCatalog, RoleDefinition,
    RosterError, Store,
};

use super::harness::{World, email, new_user, sent};

const CLIENT_ADMIN: Role = Role::from_static("client_administrator");
const PROJECT_ADMIN: Role = Role::from_static("project_administrator");
const USER: Role = Role::from_static("user");
const INTERNAL: Role = Role::from_static("internal_network_only_user");
const OBSERVER: Role = Role::from_static("observer");

/// The cloud projects' roles of the portal roster follows: "a Project Administrator can assign
/// roles up to Project Administrator"; User and InternalNetworkOnlyUser tie.
fn cloud_catalog() -> RoleCatalog {
    RoleCatalog::build([
        RoleDefinition::new(CLIENT_ADMIN, "Client administrator", 100)
            .managing_members()
            .account_level()
            .permissions(["billing", "deploy", "view"]),
        RoleDefinition::new(PROJECT_ADMIN, "Project administrator", 80)
            .managing_members()
            .permissions(["deploy", "view"]),
        RoleDefinition::new(USER, "User", 50).permissions(["deploy", "view"]),
        RoleDefinition::new(INTERNAL, "Internal network only user", 50)
            .name_in("de", "Nur internes Netz")
            .permissions(["view", "vpn"]),
        RoleDefinition::new(OBSERVER, "Observer", 10).permissions(["view"]),
    ])
    .expect("a valid catalog")
}

/// On a host catalog a manager grants up to their own rank (ties included), never the
/// account-level role nor a key the catalog lacks; each row says which, and emails name the role
/// as people see it, in the invitee's language.
pub async fn a_host_catalog_bounds_grants_by_rank(store: Arc<dyn Store>) {
    let world = World::with_roles(store, cloud_catalog());
    let (admin, project) = world.admin_with_project().await;
    assert_eq!(
        world.role_of(project.id, admin.id).await,
        Some(PROJECT_ADMIN),
        "the creator holds the top managing project role"
    );
    let manager = world
        .new_member(admin.id, project.id, "pa@example.com", PROJECT_ADMIN)
        .await;
    let rows = [
        InviteRequest::new("user@example.com", USER),
        InviteRequest::new("internal@example.com", INTERNAL).language("de-CH"),
        InviteRequest::new("peer@example.com", PROJECT_ADMIN),
        InviteRequest::new("boss@example.com", CLIENT_ADMIN),
        InviteRequest::new("ghost@example.com", Role::from_static("ghost")),
    ];
    let report = world
        .roster
        .invite(manager.id, project.id, &rows)
        .await
        .expect("the call succeeds");
    let outcomes: Vec<_> = report.rows.into_iter().map(|row| row.outcome).collect();
    assert!(
        outcomes[..3].iter().all(InviteOutcome::is_sent),
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes[3],
        InviteOutcome::RoleNotAllowed { role: CLIENT_ADMIN }
    );
    assert_eq!(
        outcomes[4],
        InviteOutcome::UnknownRole {
            role: Role::from_static("ghost")
        }
    );
    assert!(world.user("ghost@example.com").await.is_none());
    assert!(
        world
            .pending_for(project.id, "ghost@example.com")
            .await
            .is_empty()
    );

    let names: Vec<(String, String)> = world
        .notifier
        .messages()
        .into_iter()
        .map(|message| (message.notice.to.to_string(), message.notice.role_name))
        .collect();
    assert!(names.contains(&("internal@example.com".into(), "Nur internes Netz".into())));
    assert!(names.contains(&("peer@example.com".into(), "Project administrator".into())));

    // The account administrator outranks every project role, so is out of the manager's reach.
    assert_err!(
        world
            .roster
            .change_role(manager.id, project.id, admin.id, USER)
            .await,
        RosterError::Forbidden(Denial::TargetOutranksActor)
    );
    let before = world.snapshot(project.id).await;
    let (_, token) = sent(outcomes[0].clone());
    let user = world.roster.accept(&token, new_user()).await.unwrap().user;
    let after_accept = world.snapshot(project.id).await;
    assert_ne!(before, after_accept);
    assert_err!(
        world
            .roster
            .change_role(manager.id, project.id, user.id, Role::from_static("ghost"))
            .await,
        RosterError::UnknownRole { .. }
    );
    assert_eq!(world.snapshot(project.id).await, after_accept);
    // Ties: a User may become an InternalNetworkOnlyUser and back.
    let moved = world
        .roster
        .change_role(manager.id, project.id, user.id, INTERNAL)
        .await
        .unwrap();
    assert_eq!(moved.role, INTERNAL);
}

/// `access` answers the role in effect and its permission names: the account's role for account
/// administrators, the membership's for members, nothing for outsiders.
pub async fn access_answers_the_role_in_effect_and_its_permissions(store: Arc<dyn Store>) {
    let world = World::with_roles(store, cloud_catalog());
    let (admin, project) = world.admin_with_project().await;
    let internal = world
        .new_member(admin.id, project.id, "net@example.com", INTERNAL)
        .await;
    let outsider = world.register("outsider@example.com").await;

    let access = world.roster.access(admin.id, project.id).await.unwrap();
    assert_eq!(access.role(), Some(CLIENT_ADMIN));
    assert_eq!(access.held(), Some(PROJECT_ADMIN));
    assert!(access.allows("billing") && access.manages_members());

    let access = world.roster.access(internal.id, project.id).await.unwrap();
    assert_eq!(access.role(), Some(INTERNAL));
    assert_eq!(access.display_name(), Some("Internal network only user"));
    assert_eq!(access.permissions(), ["view", "vpn"]);
    assert!(access.allows("vpn") && !access.allows("deploy") && !access.manages_members());

    let access = world.roster.access(outsider.id, project.id).await.unwrap();
    assert_eq!((access.role(), access.held()), (None, None));
    assert!(access.permissions().is_empty() && !access.allows("view"));

    let missing = roster::ProjectId::from_uuid(uuid_of(1));
    assert_err!(
        world.roster.access(admin.id, missing).await,
        RosterError::NotFound(roster::Entity::Project)
    );
}

fn uuid_of(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(n)
}

const ADMINS: Role = Role::from_static("administrators");
const API_LEAD: Role = Role::from_static("api_lead");
const WEB_LEAD: Role = Role::from_static("web_lead");
const USERS: Role = Role::from_static("users");

/// Managers whose ranks tie may grant each other's role and act on each other, and the project
/// keeps a member able to manage members whichever managing role they hold.
pub async fn tied_managers_and_the_last_manager(store: Arc<dyn Store>) {
    let catalog = RoleCatalog::build([
        RoleDefinition::new(ADMINS, "Administrators", 100).managing_members(),
        RoleDefinition::new(API_LEAD, "API lead", 50).managing_members(),
        RoleDefinition::new(WEB_LEAD, "Web lead", 50).managing_members(),
        RoleDefinition::new(USERS, "Users", 10),
    ])
    .expect("a valid catalog");
    let world = World::with_roles(store, catalog);
    let (admin, project) = world.admin_with_project().await;
    let api = world
        .new_member(admin.id, project.id, "api@example.com", API_LEAD)
        .await;
    let web = world
        .new_member(api.id, project.id, "web@example.com", WEB_LEAD)
        .await;
    assert_eq!(world.role_of(project.id, web.id).await, Some(WEB_LEAD));
    // A tie does not outrank: the API lead may demote the Web lead.
    assert_eq!(
        world
            .roster
            .change_role(api.id, project.id, web.id, USERS)
            .await
            .unwrap()
            .role,
        USERS
    );
    // Administrators (rank 100) are above the leads' reach.
    assert_eq!(
        world
            .invite(api.id, project.id, "x@example.com", ADMINS)
            .await,
        InviteOutcome::RoleNotAllowed { role: ADMINS }
    );
    world.roster.leave(admin.id, project.id).await.unwrap();
    // The API lead is now the only member managing members: moving to another managing role
    // keeps one, moving to a non-managing role or leaving does not.
    world
        .roster
        .change_role(api.id, project.id, api.id, WEB_LEAD)
        .await
        .unwrap();
    let before = world.snapshot(project.id).await;
    assert_err!(
        world
            .roster
            .change_role(api.id, project.id, api.id, USERS)
            .await,
        RosterError::LastAdministrator
    );
    assert_err!(
        world.roster.leave(api.id, project.id).await,
        RosterError::LastAdministrator
    );
    assert_eq!(world.snapshot(project.id).await, before);
}

const CONTRACTOR: Role = Role::from_static("contractor");

/// A role the next deployment's catalog no longer has: its holders get no access (listed with
/// the key, flagged), and nothing about it fails: its invitations can be previewed, accepted
/// (granting nothing), resent and revoked, and an administrator can change or remove it. Asking
/// for it anew is refused.
pub async fn a_removed_role_grants_nothing_and_never_fails(store: Arc<dyn Store>) {
    let with_contractors = RoleCatalog::build([
        RoleDefinition::new(ADMINS, "Administrators", 100).managing_members(),
        RoleDefinition::new(CONTRACTOR, "Contractors", 20).permissions(["view"]),
        RoleDefinition::new(USERS, "Users", 10).permissions(["view"]),
    ])
    .expect("a valid catalog");
    let world = World::with_roles(store, with_contractors);
    let (admin, project) = world.admin_with_project().await;
    let member = world
        .new_member(admin.id, project.id, "c1@example.com", CONTRACTOR)
        .await;
    let (_, pending_token) = world
        .send(admin.id, project.id, "c2@example.com", CONTRACTOR)
        .await;
    let (other, _) = world
        .send(admin.id, project.id, "c3@example.com", CONTRACTOR)
        .await;
    let (revocable, _) = world
        .send(admin.id, project.id, "c4@example.com", CONTRACTOR)
        .await;

    let without = RoleCatalog::build([
        RoleDefinition::new(ADMINS, "Administrators", 100).managing_members(),
        RoleDefinition::new(USERS, "Users", 10).permissions(["view"]),
    ])
    .expect("a valid catalog");
    let next = world.process_with_roles(Arc::new(world.notifier.clone()), without);
    assert_eq!(next.roles().display_name(CONTRACTOR), "No access");

    let access = next.access(member.id, project.id).await.unwrap();
    assert_eq!((access.role(), access.held()), (None, Some(CONTRACTOR)));
    assert!(!access.allows("view"));
    assert_err!(
        next.members(member.id, project.id, PageRequest::first(10))
            .await,
        RosterError::Forbidden(Denial::NotAMember)
    );
    let listed = next
        .members(admin.id, project.id, PageRequest::first(10))
        .await
        .unwrap();
    let flagged: Vec<_> = listed
        .items
        .iter()
        .filter(|m| next.roles().get(m.membership.role).is_none())
        .map(|m| (m.user.id, m.membership.role))
        .collect();
    assert_eq!(flagged, [(member.id, CONTRACTOR)]);

    let preview = next.preview(&pending_token).await.unwrap();
    assert_eq!(preview.role, CONTRACTOR);
    let accepted = next.accept(&pending_token, new_user()).await.unwrap();
    assert_eq!(accepted.membership.role, CONTRACTOR);
    let resent = next.resend(admin.id, other.id).await.unwrap();
    assert_eq!(resent.invitation.role, CONTRACTOR);
    next.revoke(admin.id, revocable.id).await.unwrap();

    let report = next
        .invite(
            admin.id,
            project.id,
            &[InviteRequest::new("c5@example.com", CONTRACTOR)],
        )
        .await
        .unwrap();
    assert_eq!(
        report.rows[0].outcome,
        InviteOutcome::UnknownRole { role: CONTRACTOR }
    );
    let changed = next
        .change_role(admin.id, project.id, member.id, USERS)
        .await
        .unwrap();
    assert_eq!(changed.role, USERS);
    next.remove_member(admin.id, project.id, accepted.user.id)
        .await
        .unwrap();
    assert!(world.user("c5@example.com").await.is_none());
    assert_eq!(email("c1@example.com"), member.email);
}
