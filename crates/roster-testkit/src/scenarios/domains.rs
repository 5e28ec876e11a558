//! An account that restricts its invitations to its own email domains.

use std::sync::Arc;

use roster::{Denial, InviteOutcome, InviteRequest, Role, RosterError, Store};

use super::harness::World;

/// Only account administrators restrict the domains, given in any spelling and kept in
/// canonical form; a row for another domain gets its own outcome and changes nothing, resending
/// to one is refused, and an empty list lifts the restriction.
pub async fn an_account_restricts_invitations_to_its_domains(store: Arc<dyn Store>) {
    let world = World::new(store);
    let (admin, project) = world.admin_with_project().await;
    let manager = world
        .new_member(admin.id, project.id, "pm@example.com", Role::ADMINISTRATOR)
        .await;
    let (elsewhere, _) = world
        .send(admin.id, project.id, "ann@other.org", Role::USER)
        .await;
    let roster = &world.roster;
    let before = world.snapshot(project.id).await;
    assert_err!(
        roster
            .set_allowed_domains(manager.id, project.account, &["example.com"])
            .await,
        RosterError::Forbidden(Denial::NotAnAccountAdministrator)
    );
    assert_err!(
        roster
            .set_allowed_domains(admin.id, project.account, &["example.com", "localhost"])
            .await,
        RosterError::InvalidDomain { ref domain, .. } if domain == "localhost"
    );
    let too_many: Vec<String> = (0..=roster::MAX_ALLOWED_DOMAINS)
        .map(|i| format!("d{i}.example"))
        .collect();
    let too_many: Vec<&str> = too_many.iter().map(String::as_str).collect();
    assert_err!(
        roster
            .set_allowed_domains(admin.id, project.account, &too_many)
            .await,
        RosterError::LimitReached(roster::LimitKind::AllowedDomains { .. })
    );
    assert_eq!(world.snapshot(project.id).await, before);

    let account = roster
        .set_allowed_domains(
            admin.id,
            project.account,
            &[" Example.COM", "xn--bcher-kva.de", "example.com"],
        )
        .await
        .unwrap();
    assert_eq!(account.allowed_domains, ["bücher.de", "example.com"]);
    let listed = roster.accounts_of(admin.id).await.unwrap();
    assert_eq!(listed[0].allowed_domains, account.allowed_domains);

    let rows = [
        InviteRequest::new("x@EXAMPLE.com", Role::USER),
        InviteRequest::new("y@Bücher.de", Role::USER),
        InviteRequest::new("z@other.org", Role::USER),
    ];
    let report = roster.invite(manager.id, project.id, &rows).await.unwrap();
    assert!(report.rows[0].outcome.is_sent() && report.rows[1].outcome.is_sent());
    assert_eq!(
        report.rows[2].outcome,
        InviteOutcome::DomainNotAllowed {
            domain: "other.org".into()
        }
    );
    assert!(
        world
            .pending_for(project.id, "z@other.org")
            .await
            .is_empty()
    );
    let before = world.snapshot(project.id).await;
    assert_err!(
        roster.resend(manager.id, elsewhere.id).await,
        RosterError::DomainNotAllowed { ref domain } if domain == "other.org"
    );
    assert_eq!(world.snapshot(project.id).await, before);

    let lifted = roster
        .set_allowed_domains(admin.id, project.account, &[])
        .await
        .unwrap();
    assert!(lifted.allowed_domains.is_empty());
    assert!(
        world
            .invite(manager.id, project.id, "z@other.org", Role::USER)
            .await
            .is_sent()
    );
}
