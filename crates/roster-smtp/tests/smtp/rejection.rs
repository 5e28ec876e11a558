//! The server's refusals: 5xx fails the notice with the server's reason (and it can be sent
//! again after the fix), 4xx is retried.

use roster::{Acceptance, DeliveryStatus};

use super::server::TestServer;
use super::support::{LINK_BASE, Mail, Portal, mails_to, notifier};

#[tokio::test]
async fn a_refused_recipient_fails_with_the_reason_and_the_others_arrive() {
    let server = TestServer::start().await;
    server.refuse(
        "nobody@example.com",
        550,
        "5.1.1 <nobody@example.com>: mailbox unavailable",
    );
    let portal = Portal::open(notifier(&server.url())).await;
    let report = portal
        .invite(&["ann@example.com", "nobody@example.com", "bob@example.com"])
        .await;

    let received = server.received();
    assert_eq!(received.len(), 2);
    assert_eq!(mails_to(&received, "nobody@example.com").len(), 0);
    assert_eq!(
        portal.notices(Some(DeliveryStatus::Delivered)).await.len(),
        2
    );
    let [failed] = <[_; 1]>::try_from(portal.notices(Some(DeliveryStatus::Failed)).await).unwrap();
    assert_eq!(failed.notice.to.as_str(), "nobody@example.com");
    let reason = failed.last_error.clone().unwrap();
    assert!(
        reason.contains("550") && reason.contains("mailbox unavailable"),
        "{reason}"
    );
    let token = report.rows[1].outcome.token().unwrap().expose_secret();
    assert!(
        !reason.contains(&token) && !reason.contains(LINK_BASE),
        "{reason}"
    );

    // The mailbox is fixed; the administrator sends the notice again.
    server.welcome("nobody@example.com");
    let resent = portal
        .roster
        .requeue_notice(portal.admin.id, failed.id)
        .await
        .unwrap();
    assert_eq!(resent.delivered, 1);
    let [mail] = <[Mail; 1]>::try_from(mails_to(&server.received(), "nobody@example.com")).unwrap();
    assert!(portal.roster.preview(&mail.token().unwrap()).await.is_ok());
    assert!(
        portal
            .notices(Some(DeliveryStatus::Failed))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_temporary_refusal_is_retried_after_the_backoff() {
    let server = TestServer::start().await;
    server.refuse("busy@example.com", 451, "4.3.0 try again later");
    let portal = Portal::open(notifier(&server.url())).await;
    portal.invite(&["busy@example.com"]).await;

    let [queued] = <[_; 1]>::try_from(portal.notices(Some(DeliveryStatus::Queued)).await).unwrap();
    let reason = queued.last_error.unwrap();
    assert!(
        reason.contains("451") && reason.contains("try again later"),
        "{reason}"
    );
    assert_eq!(portal.roster.deliver_pending().await.unwrap().total(), 0);

    server.welcome("busy@example.com");
    portal.pass_backoff();
    assert_eq!(portal.roster.deliver_pending().await.unwrap().delivered, 1);
    let [mail] = <[Mail; 1]>::try_from(mails_to(&server.received(), "busy@example.com")).unwrap();
    let password = "busy-password".to_owned();
    portal
        .roster
        .accept(&mail.token().unwrap(), Acceptance::NewUser { password })
        .await
        .unwrap();
}
