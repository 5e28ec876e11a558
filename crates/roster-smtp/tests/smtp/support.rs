//! A portal on a SQLite file sending through an [`SmtpNotifier`], and received messages parsed
//! back with `mail-parser`.

use std::str::FromStr;
use std::sync::Arc;

use chrono::Duration;
use mail_parser::{MessageParser, MimeHeaders, PartType};
use roster::{
    DeliveryPolicy, DeliveryStatus, InvitationToken, InviteReport, InviteRequest, ManualClock,
    OutboxEntry, PageRequest, PasswordPolicy, Project, Role, Roster, RosterConfig, User,
};
use roster_smtp::{SmtpNotifier, Templates};
use roster_sqlite::SqliteStore;
use tempfile::TempDir;

use super::server::Received;

/// Where the test portal's links point.
pub const LINK_BASE: &str = "https://portal.acme.example/invitations";
/// The test portal's sender address.
pub const FROM: &str = "portal@acme.example";
/// The administrator who invites.
pub const ADMIN: &str = "admin@acme.example";

/// A notifier sending through the server at `url` with the built-in templates.
pub fn notifier(url: &str) -> SmtpNotifier {
    notifier_with(url, Templates::new())
}

/// A notifier sending through the server at `url` with `templates`.
pub fn notifier_with(url: &str, templates: Templates) -> SmtpNotifier {
    SmtpNotifier::builder(url.parse().expect("a valid URL"), FROM, LINK_BASE)
        .from_name("Acme Portal")
        .templates(templates)
        .build()
        .expect("the notifier builds")
}

/// A roster on a fresh SQLite file with one administrator and one project.
pub struct Portal {
    pub roster: Roster,
    pub clock: Arc<ManualClock>,
    pub admin: User,
    pub project: Project,
    _dir: TempDir,
}

impl Portal {
    /// The portal, sending through `notifier`.
    pub async fn open(notifier: SmtpNotifier) -> Portal {
        Portal::open_with(notifier, DeliveryPolicy::default().batch_size(3)).await
    }

    /// The portal, sending through `notifier` under `delivery`.
    pub async fn open_with(notifier: SmtpNotifier, delivery: DeliveryPolicy) -> Portal {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("roster.db")).unwrap();
        let clock = Arc::new(ManualClock::new("2026-03-01T09:00:00Z".parse().unwrap()));
        let roster = Roster::builder(Arc::new(store), Arc::new(notifier))
            .clock(clock.clone())
            .config(
                RosterConfig::default()
                    .passwords(PasswordPolicy::insecure_fast_for_tests())
                    .delivery(delivery),
            )
            .build()
            .expect("a valid configuration");
        let admin = roster.register(ADMIN, "admin-password").await.unwrap();
        let account = roster.create_account(admin.id, "Acme Cloud").await.unwrap();
        let project = roster
            .create_project(admin.id, account.id, "Billing")
            .await
            .unwrap();
        Portal {
            roster,
            clock,
            admin,
            project,
            _dir: dir,
        }
    }

    /// The administrator invites each address as a User.
    pub async fn invite(&self, addresses: &[&str]) -> InviteReport {
        let rows: Vec<_> = addresses
            .iter()
            .map(|address| InviteRequest::new(*address, Role::USER))
            .collect();
        self.invite_rows(&rows).await
    }

    /// The administrator sends `rows`.
    pub async fn invite_rows(&self, rows: &[InviteRequest]) -> InviteReport {
        self.roster
            .invite(self.admin.id, self.project.id, rows)
            .await
            .unwrap()
    }

    /// The project's notices, optionally only those in `status`.
    pub async fn notices(&self, status: Option<DeliveryStatus>) -> Vec<OutboxEntry> {
        self.roster
            .notices(
                self.admin.id,
                self.project.id,
                status,
                PageRequest::first(100),
            )
            .await
            .unwrap()
            .items
    }

    /// Moves the clock past every backoff and lease.
    pub fn pass_backoff(&self) {
        self.clock.advance(Duration::hours(2));
    }
}

/// A received message, parsed.
#[derive(Debug)]
pub struct Mail {
    /// The `RCPT TO` list.
    pub envelope_to: Vec<String>,
    pub subject: String,
    pub from_name: Option<String>,
    pub from_address: String,
    pub to: Vec<String>,
    pub has_date: bool,
    pub message_id: String,
    /// `type/subtype` of the whole message.
    pub content_type: String,
    /// Every header name, in order.
    pub header_names: Vec<String>,
    pub text: String,
    pub html: String,
}

impl Mail {
    /// Parses what the server received, checking it has exactly one text and one HTML part.
    pub fn parse(received: &Received) -> Mail {
        let message = MessageParser::default()
            .parse(&received.data)
            .expect("a parseable message");
        let content_type = message
            .content_type()
            .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()))
            .unwrap_or_default();
        let (mut texts, mut htmls) = (Vec::new(), Vec::new());
        for part in &message.parts {
            match &part.body {
                PartType::Text(text) => texts.push(text.to_string()),
                PartType::Html(html) => htmls.push(html.to_string()),
                PartType::Multipart(_) => {}
                other => panic!("unexpected part {other:?}"),
            }
        }
        assert_eq!(
            (texts.len(), htmls.len()),
            (1, 1),
            "one text and one HTML part"
        );
        let from = message.from().and_then(|from| from.first()).expect("From");
        Mail {
            envelope_to: received.to.clone(),
            subject: message.subject().unwrap_or_default().to_owned(),
            from_name: from.name().map(str::to_owned),
            from_address: from.address().unwrap_or_default().to_owned(),
            to: message
                .to()
                .map(|to| {
                    to.iter()
                        .filter_map(|addr| addr.address().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            has_date: message.date().is_some(),
            message_id: message.message_id().unwrap_or_default().to_owned(),
            content_type,
            header_names: message
                .headers()
                .iter()
                .map(|header| header.name().to_owned())
                .collect(),
            text: texts.remove(0),
            html: htmls.remove(0),
        }
    }

    /// The token of the link in the text part, if there is one.
    pub fn token(&self) -> Option<InvitationToken> {
        let prefix = format!("{LINK_BASE}/");
        let start = self.text.find(&prefix)? + prefix.len();
        let token: String = self.text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        Some(InvitationToken::from_str(&token).expect("a well-formed token"))
    }
}

/// Every message received, parsed, for `address`.
pub fn mails_to(received: &[Received], address: &str) -> Vec<Mail> {
    received
        .iter()
        .filter(|message| message.to.iter().any(|to| to == address))
        .map(Mail::parse)
        .collect()
}
