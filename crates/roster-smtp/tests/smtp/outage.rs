//! An SMTP outage delays mail but never loses it; only a delivery cut mid-way arrives twice, and
//! the link in the last email delivered for an invitation is the one that works.

use roster::{Acceptance, DeliveryStatus, InviteOutcome, RosterError};

use super::server::{TestServer, url_for, vacant_addr};
use super::support::{Mail, Portal, mails_to, notifier};

fn invitation_of(outcome: &InviteOutcome) -> roster::InvitationId {
    match outcome {
        InviteOutcome::Invited { invitation, .. } => invitation.id,
        other => panic!("not invited: {other:?}"),
    }
}

#[tokio::test]
async fn notices_queued_while_the_server_is_down_arrive_once_after_it_is_up() {
    let addr = vacant_addr();
    let portal = Portal::open(notifier(&url_for(addr))).await;
    let (admin, roster) = (portal.admin.id, &portal.roster);

    let report = portal
        .invite(&[
            "ann@example.com",
            "bob@example.com",
            "cat@example.com",
            "dan@example.com",
        ])
        .await;
    let queued = portal.notices(Some(DeliveryStatus::Queued)).await;
    assert_eq!(queued.len(), 4);
    for entry in &queued {
        let error = entry.last_error.as_deref().unwrap_or_default();
        assert!(error.contains(&addr.to_string()), "{error}");
    }
    // Still down: Ann's invitation is sent again (her first notice is now stale), Dan's revoked
    // (his invitation notice must not go out, the revocation must).
    roster
        .resend(admin, invitation_of(&report.rows[0].outcome))
        .await
        .unwrap();
    roster
        .revoke(admin, invitation_of(&report.rows[3].outcome))
        .await
        .unwrap();
    assert_eq!(portal.notices(Some(DeliveryStatus::Queued)).await.len(), 6);

    let server = TestServer::start_on(addr).await;
    assert_eq!(
        roster.deliver_pending().await.unwrap().total(),
        0,
        "backing off"
    );
    portal.pass_backoff();
    let delivered = roster.deliver_pending().await.unwrap();
    assert_eq!(
        (delivered.delivered, delivered.cancelled),
        (4, 2),
        "{delivered:?}"
    );
    assert_eq!(delivered.retrying + delivered.failed, 0);
    portal.pass_backoff();
    assert_eq!(
        roster.deliver_pending().await.unwrap().total(),
        0,
        "drained"
    );

    let received = server.received();
    assert_eq!(received.len(), 4, "none twice");
    for address in ["ann@example.com", "bob@example.com", "cat@example.com"] {
        let [mail] = <[Mail; 1]>::try_from(mails_to(&received, address)).unwrap();
        let token = mail.token().expect("a link");
        let password = format!("{address}-password");
        roster
            .accept(&token, Acceptance::NewUser { password })
            .await
            .unwrap_or_else(|error| panic!("{address}: {error}"));
    }
    let [dan] = <[Mail; 1]>::try_from(mails_to(&received, "dan@example.com")).unwrap();
    assert!(dan.subject.contains("withdrawn") && dan.token().is_none());
    // The tokens handed out while the server was down were replaced when the notices went out.
    for row in &report.rows[1..3] {
        let stale = roster.preview(row.outcome.token().unwrap()).await;
        assert!(matches!(stale, Err(RosterError::InvalidToken)), "{stale:?}");
    }
}

#[tokio::test]
async fn a_delivery_cut_after_the_server_took_it_arrives_twice_and_the_last_link_works() {
    let server = TestServer::start().await;
    server.cut_next(1);
    let portal = Portal::open(notifier(&server.url())).await;
    portal.invite(&["eve@example.com"]).await;
    assert_eq!(server.received().len(), 1, "the server has it");
    let [queued] = <[_; 1]>::try_from(portal.notices(Some(DeliveryStatus::Queued)).await).unwrap();
    assert!(queued.last_error.is_some(), "the outbox does not know");

    portal.pass_backoff();
    assert_eq!(portal.roster.deliver_pending().await.unwrap().delivered, 1);
    let [first, last] =
        <[Mail; 2]>::try_from(mails_to(&server.wait_for(2).await, "eve@example.com")).unwrap();
    let stale = portal.roster.preview(&first.token().unwrap()).await;
    assert!(matches!(stale, Err(RosterError::InvalidToken)), "{stale:?}");
    let password = "eve-password".to_owned();
    portal
        .roster
        .accept(&last.token().unwrap(), Acceptance::NewUser { password })
        .await
        .unwrap();
}
