//! What arrives: headers, both parts, the link, and a token that opens the invitation.

use roster::{
    Acceptance, Email, InvitationId, InvitationState, InvitationToken, InviteOutcome,
    InviteRequest, Notice, NoticeId, NoticeKind, Notifier, OutgoingNotice, ProjectId, Role,
    RosterError, SeededRandom, UserId,
};
use roster_smtp::{Part, Templates};

use super::server::TestServer;
use super::support::{ADMIN, FROM, LINK_BASE, Mail, Portal, mails_to, notifier, notifier_with};

#[tokio::test]
async fn an_invitation_arrives_as_text_and_html_with_a_link_that_opens_it() {
    let server = TestServer::start().await;
    let portal = Portal::open(notifier(&server.url())).await;
    let report = portal.invite(&["new.person@example.com"]).await;
    let handed_out = report.rows[0].outcome.token().unwrap().clone();

    let received = server.wait_for(1).await;
    assert_eq!(received[0].from, FROM);
    let mail = Mail::parse(&received[0]);
    assert_eq!(mail.envelope_to, ["new.person@example.com"]);
    assert_eq!(mail.to, ["new.person@example.com"]);
    assert_eq!(mail.from_name.as_deref(), Some("Acme Portal"));
    assert_eq!(mail.from_address, FROM);
    assert_eq!(mail.subject, format!("{ADMIN} invited you to Billing"));
    assert!(mail.has_date);
    assert!(
        mail.message_id.ends_with("@acme.example"),
        "{}",
        mail.message_id
    );
    assert_eq!(mail.content_type, "multipart/alternative");
    assert!(
        mail.header_names
            .iter()
            .any(|name| name == "Auto-Submitted")
    );

    let token = mail.token().expect("a link in the text part");
    assert_eq!(token, handed_out);
    let link = format!("{LINK_BASE}/{}", token.expose_secret());
    assert!(mail.text.contains(&link));
    assert!(mail.html.contains(&format!("href=\"{link}\"")));
    for part in [&mail.text, &mail.html] {
        assert!(part.contains("Billing") && part.contains("Acme Cloud") && part.contains("User"));
    }

    let preview = portal.roster.preview(&token).await.unwrap();
    assert_eq!(preview.email.as_str(), "new.person@example.com");
    assert_eq!(preview.project_name, "Billing");
    let password = "a-new-password".to_owned();
    let accepted = portal
        .roster
        .accept(&token, Acceptance::NewUser { password })
        .await
        .unwrap();
    assert_eq!(accepted.membership.role, Role::USER);
}

#[tokio::test]
async fn an_existing_user_is_told_of_access_and_a_revocation_carries_no_link() {
    let server = TestServer::start().await;
    let portal = Portal::open(notifier(&server.url())).await;
    let bob = portal
        .roster
        .register("bob@example.org", "bob-password")
        .await
        .unwrap();
    let report = portal
        .invite(&["bob@example.org", "carol@example.org"])
        .await;
    let InviteOutcome::Invited { invitation, .. } = &report.rows[1].outcome else {
        panic!("carol is invited: {:?}", report.rows[1]);
    };
    portal
        .roster
        .revoke(portal.admin.id, invitation.id)
        .await
        .unwrap();

    let received = server.wait_for(3).await;
    let [access] = <[Mail; 1]>::try_from(mails_to(&received, "bob@example.org")).unwrap();
    assert_eq!(access.subject, "You were given access to Billing");
    let token = access.token().expect("an accept link");
    let user = bob.id;
    portal
        .roster
        .accept(&token, Acceptance::ExistingUser { user })
        .await
        .unwrap();

    let [invited, revoked] =
        <[Mail; 2]>::try_from(mails_to(&received, "carol@example.org")).unwrap();
    assert_eq!(revoked.subject, "Your invitation to Billing was withdrawn");
    assert!(revoked.token().is_none());
    assert!(!revoked.html.contains(LINK_BASE));
    let link = invited.token().unwrap();
    let preview = portal.roster.preview(&link).await.unwrap();
    assert_eq!(preview.state, InvitationState::Revoked);
    let password = "carol-password".to_owned();
    let refused = portal
        .roster
        .accept(&link, Acceptance::NewUser { password })
        .await;
    assert!(
        matches!(refused, Err(RosterError::InvitationClosed { .. })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn every_send_is_a_new_message_and_only_the_newest_link_works() {
    let server = TestServer::start().await;
    let portal = Portal::open(notifier(&server.url())).await;
    let report = portal.invite(&["dana@example.com"]).await;
    let InviteOutcome::Invited { invitation, .. } = &report.rows[0].outcome else {
        panic!("invited");
    };
    portal
        .roster
        .resend(portal.admin.id, invitation.id)
        .await
        .unwrap();

    let [first, second] =
        <[Mail; 2]>::try_from(mails_to(&server.wait_for(2).await, "dana@example.com")).unwrap();
    assert_ne!(first.message_id, second.message_id);
    assert!(matches!(
        portal.roster.preview(&first.token().unwrap()).await,
        Err(RosterError::InvalidToken)
    ));
    assert!(
        portal
            .roster
            .preview(&second.token().unwrap())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn the_recipients_language_picks_the_templates_and_survives_a_refresh() {
    let server = TestServer::start().await;
    let mut templates = Templates::new();
    templates
        .set(
            NoticeKind::Invitation,
            "de",
            Part::Subject,
            "{{ inviter }} hat Sie zu {{ project }} eingeladen",
        )
        .unwrap()
        .set(
            NoticeKind::Invitation,
            "de",
            Part::Text,
            "Hallo,\n\nbitte hier annehmen:\n{{ link }}\n",
        )
        .unwrap();
    let portal = Portal::open(notifier_with(&server.url(), templates)).await;
    portal
        .invite_rows(&[
            InviteRequest::new("hans@example.de", Role::USER).language("de-AT"),
            InviteRequest::new("jean@example.fr", Role::USER).language("fr"),
        ])
        .await;
    // Sent again without a language: the invitation keeps German.
    portal.invite(&["hans@example.de"]).await;

    let received = server.wait_for(3).await;
    let hans = mails_to(&received, "hans@example.de");
    assert_eq!(hans.len(), 2);
    for mail in &hans {
        assert_eq!(
            mail.subject,
            format!("{ADMIN} hat Sie zu Billing eingeladen")
        );
        assert!(mail.text.starts_with("Hallo,"), "{}", mail.text);
        // No German HTML: the English one stands in.
        assert!(mail.html.contains("You are invited to Billing"));
    }
    assert!(
        portal
            .roster
            .preview(&hans[1].token().unwrap())
            .await
            .is_ok()
    );
    let [jean] = <[Mail; 1]>::try_from(mails_to(&received, "jean@example.fr")).unwrap();
    assert_eq!(jean.subject, format!("{ADMIN} invited you to Billing"));
}

/// Roster refuses control characters in names, but the notifier does not rely on it: a notice
/// from anywhere cannot add headers or markup.
#[tokio::test]
async fn names_can_neither_add_headers_nor_markup() {
    let server = TestServer::start().await;
    let notifier =
        roster_smtp::SmtpNotifier::builder(server.url().parse().unwrap(), FROM, LINK_BASE)
            .from_name("Acme\r\nBcc: sender-victim@evil.example")
            .build()
            .unwrap();
    let random = SeededRandom::new(5);
    let now = "2026-03-01T09:00:00Z".parse().unwrap();
    let outgoing = OutgoingNotice {
        id: NoticeId::generate(now, &random),
        notice: Notice {
            kind: NoticeKind::Invitation,
            to: Email::parse("target@example.com").unwrap(),
            invitation: InvitationId::generate(now, &random),
            project: ProjectId::generate(now, &random),
            project_name: "R&D <Team>\r\nBcc: victim@evil.example".into(),
            account_name: "Acme\nX-Injected: yes".into(),
            role: Role::OBSERVER,
            role_name: "Observer".into(),
            inviter: Email::parse("boss@example.com").unwrap(),
            sent_by: UserId::generate(now, &random),
            expires_at: now,
            send: 1,
            language: None,
        },
        token: Some(InvitationToken::generate(&random)),
    };
    notifier.send(&outgoing).await.unwrap();

    let received = server.wait_for(1).await;
    let mail = Mail::parse(&received[0]);
    assert_eq!(mail.envelope_to, ["target@example.com"]);
    for name in &mail.header_names {
        assert!(
            !["Bcc", "X-Injected"].contains(&name.as_str()),
            "{name} header"
        );
    }
    assert_eq!(
        mail.from_name.as_deref(),
        Some("Acme Bcc: sender-victim@evil.example")
    );
    assert_eq!(
        mail.subject,
        "boss@example.com invited you to R&D <Team> Bcc: victim@evil.example"
    );
    assert!(mail.html.contains("R&amp;D &lt;Team&gt;"));
    assert!(!mail.html.contains("<Team>"));
    assert!(mail.text.contains("R&D <Team>"));
}
