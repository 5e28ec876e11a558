//! Internationalized addresses: the domain travels as A-labels, so an ASCII local part needs
//! nothing of the server; a non-ASCII local part needs SMTPUTF8, and a server without it fails
//! the notice at once, permanently, saying so (it is not retried for hours).

use roster::DeliveryStatus;

use super::server::TestServer;
use super::support::{Mail, Portal, mails_to, notifier};

#[tokio::test]
async fn an_internationalized_domain_is_sent_as_a_labels() {
    let server = TestServer::start().await;
    let portal = Portal::open(notifier(&server.url())).await;
    portal
        .invite(&["Ann@Bücher.DE", "bob@xn--mller-kva.de"])
        .await;

    let received = server.wait_for(2).await;
    let [mail] = <[Mail; 1]>::try_from(mails_to(&received, "ann@xn--bcher-kva.de")).unwrap();
    assert_eq!(mail.envelope_to, ["ann@xn--bcher-kva.de"]);
    assert_eq!(
        mail.to,
        ["Ann@xn--bcher-kva.de"],
        "the local part keeps its case"
    );
    assert_eq!(mails_to(&received, "bob@xn--mller-kva.de").len(), 1);
    assert_eq!(
        portal.notices(Some(DeliveryStatus::Delivered)).await.len(),
        2
    );
}

#[tokio::test]
async fn a_server_without_smtputf8_fails_an_internationalized_local_part_permanently() {
    // The test server's EHLO lists 8BITMIME but not SMTPUTF8.
    let server = TestServer::start().await;
    let portal = Portal::open(notifier(&server.url())).await;
    portal.invite(&["jörg@bücher.de", "ann@example.com"]).await;

    let received = server.wait_for(1).await;
    assert_eq!(received.len(), 1, "only the ASCII address was sent");
    let [failed] = <[_; 1]>::try_from(portal.notices(Some(DeliveryStatus::Failed)).await).unwrap();
    assert_eq!(failed.notice.to.as_str(), "jörg@bücher.de");
    let reason = failed.last_error.clone().unwrap();
    assert!(reason.contains("SMTPUTF8"), "{reason}");
    assert!(reason.contains("jörg@xn--bcher-kva.de"), "{reason}");
    assert!(!reason.contains("internal client error"), "{reason}");
    assert!(
        portal
            .notices(Some(DeliveryStatus::Queued))
            .await
            .is_empty(),
        "nothing is left to retry"
    );
    // Later rounds do not try again.
    portal.pass_backoff();
    assert_eq!(portal.roster.deliver_pending().await.unwrap().total(), 0);
    assert_eq!(server.received().len(), 1);
}
