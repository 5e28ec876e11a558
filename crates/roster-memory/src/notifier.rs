//! [`RecordingNotifier`]: a [`Notifier`] that keeps what it is asked to send, and can be told to
//! fail.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use roster::{Email, InvitationToken, Notifier, NotifyError, OutgoingNotice};

/// How a [`RecordingNotifier`] fails when told to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// Answers [`NotifyError::Temporary`]: the outbox keeps the notice queued and retries it.
    Temporary,
    /// Answers [`NotifyError::Permanent`]: the outbox marks the notice failed.
    Permanent,
}

impl Failure {
    fn to_error(self) -> NotifyError {
        match self {
            Failure::Temporary => NotifyError::temporary("simulated temporary failure"),
            Failure::Permanent => NotifyError::permanent("simulated permanent failure"),
        }
    }
}

/// A [`Notifier`] that delivers nothing and records every notice it is handed, tokens included,
/// so tests and demos can read "the email" and follow its link. It can also be told to fail, to
/// exercise the outbox's retries.
///
/// Clones share one record: keep a clone, hand another to the service.
///
/// ```
/// use std::sync::Arc;
/// use roster::{Email, InviteRequest, PasswordPolicy, Role, Roster, RosterConfig};
/// use roster_memory::{InMemoryStore, RecordingNotifier};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let notifier = RecordingNotifier::new();
/// let roster = Roster::builder(Arc::new(InMemoryStore::new()), Arc::new(notifier.clone()))
///     .config(RosterConfig::default().passwords(PasswordPolicy::insecure_fast_for_tests()))
///     .build()
///     .expect("a valid configuration");
/// let admin = roster.register("admin@example.com", "correct horse battery").await?;
/// let account = roster.create_account(admin.id, "Acme").await?;
/// let project = roster.create_project(admin.id, account.id, "Website").await?;
/// roster
///     .invite(admin.id, project.id, &[InviteRequest::new("Ann@Example.com", Role::USER)])
///     .await?;
///
/// // The invitation email was "sent": read it, and follow its link.
/// let ann = Email::parse("ann@example.com")?;
/// assert_eq!(notifier.messages_to(&ann).len(), 1);
/// let token = notifier.last_token_to(&ann).expect("the invitation carries a link");
/// assert_eq!(roster.preview(&token).await?.project_name, "Website");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
pub struct RecordingNotifier {
    record: Arc<Mutex<Record>>,
}

#[derive(Default)]
struct Record {
    messages: Vec<OutgoingNotice>,
    attempts: usize,
    /// Fails every send while set.
    failing: Option<Failure>,
    /// Fails this many sends (never zero) before `failing` is consulted.
    fail_next: Option<(usize, Failure)>,
}

impl Record {
    /// Counts an attempt and decides its fate: the failure to answer, or `None` to record it.
    fn attempt(&mut self) -> Option<Failure> {
        self.attempts += 1;
        match self.fail_next {
            Some((remaining, failure)) => {
                self.fail_next = (remaining > 1).then_some((remaining - 1, failure));
                Some(failure)
            }
            None => self.failing,
        }
    }
}

impl RecordingNotifier {
    /// A notifier that records every send and fails none.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every notice sent successfully so far, oldest first.
    pub fn messages(&self) -> Vec<OutgoingNotice> {
        self.record().messages.clone()
    }

    /// The notices sent successfully to `to` (compared by canonical address), oldest first.
    pub fn messages_to(&self, to: &Email) -> Vec<OutgoingNotice> {
        self.record()
            .messages
            .iter()
            .filter(|message| message.notice.to == *to)
            .cloned()
            .collect()
    }

    /// The token of the newest notice delivered to `to` that carried one: the link that works now,
    /// since a resend rotates the token.
    pub fn last_token_to(&self, to: &Email) -> Option<InvitationToken> {
        self.record()
            .messages
            .iter()
            .rev()
            .filter(|message| message.notice.to == *to)
            .find_map(|message| message.token.clone())
    }

    /// Forgets the recorded notices (the attempt count and failure modes stay).
    pub fn clear(&self) {
        self.record().messages.clear();
    }

    /// Makes every send fail with `failure` until [`RecordingNotifier::succeed`].
    pub fn fail_with(&self, failure: Failure) {
        self.record().failing = Some(failure);
    }

    /// Makes the next `n` sends fail with `failure`; later sends behave as before.
    pub fn fail_next(&self, n: usize, failure: Failure) {
        self.record().fail_next = (n > 0).then_some((n, failure));
    }

    /// Stops failing: cancels [`fail_with`](RecordingNotifier::fail_with) and any remaining
    /// [`fail_next`](RecordingNotifier::fail_next).
    pub fn succeed(&self) {
        let mut record = self.record();
        record.failing = None;
        record.fail_next = None;
    }

    /// How many times `send` was called, failed sends included.
    pub fn attempts(&self) -> usize {
        self.record().attempts
    }

    // A test that panicked while holding the lock must not hide what was recorded from the
    // assertions that follow.
    fn record(&self) -> MutexGuard<'_, Record> {
        self.record
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for RecordingNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let record = self.record();
        f.debug_struct("RecordingNotifier")
            .field("messages", &record.messages.len())
            .field("attempts", &record.attempts)
            .field("failing", &record.failing)
            .field("fail_next", &record.fail_next)
            .finish()
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn send(&self, notice: &OutgoingNotice) -> Result<(), NotifyError> {
        let mut record = self.record();
        match record.attempt() {
            Some(failure) => Err(failure.to_error()),
            None => {
                record.messages.push(notice.clone());
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use roster::{InvitationId, Notice, NoticeId, NoticeKind, ProjectId, Role, SeededRandom};

    use super::*;

    fn email(text: &str) -> Email {
        Email::parse(text).unwrap()
    }

    fn outgoing(to: &str, token: Option<InvitationToken>) -> OutgoingNotice {
        let random = SeededRandom::new(3);
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        OutgoingNotice {
            id: NoticeId::generate(now, &random),
            notice: Notice {
                kind: NoticeKind::Invitation,
                to: email(to),
                invitation: InvitationId::generate(now, &random),
                project: ProjectId::generate(now, &random),
                project_name: "Website".into(),
                account_name: "Acme".into(),
                role: Role::USER,
                role_name: "User".into(),
                inviter: email("admin@example.com"),
                sent_by: roster::UserId::generate(now, &random),
                expires_at: now,
                send: 1,
                language: None,
            },
            token,
        }
    }

    fn token(seed: u64) -> InvitationToken {
        InvitationToken::generate(&SeededRandom::new(seed))
    }

    #[tokio::test]
    async fn records_successful_sends_in_order_and_shares_them_between_clones() {
        let notifier = RecordingNotifier::new();
        let handed_out = notifier.clone();
        handed_out
            .send(&outgoing("ann@example.com", None))
            .await
            .unwrap();
        handed_out
            .send(&outgoing("bob@example.com", None))
            .await
            .unwrap();

        let recipients: Vec<String> = notifier
            .messages()
            .iter()
            .map(|message| message.notice.to.canonical().to_owned())
            .collect();
        assert_eq!(recipients, ["ann@example.com", "bob@example.com"]);
        assert_eq!(notifier.attempts(), 2);

        notifier.clear();
        assert!(notifier.messages().is_empty());
        assert_eq!(notifier.attempts(), 2);
    }

    #[tokio::test]
    async fn finds_messages_and_the_newest_token_by_canonical_address() {
        let notifier = RecordingNotifier::new();
        notifier
            .send(&outgoing("Ann@Example.com", Some(token(1))))
            .await
            .unwrap();
        notifier
            .send(&outgoing("ann@example.com", Some(token(2))))
            .await
            .unwrap();
        notifier
            .send(&outgoing("ANN@example.com", None))
            .await
            .unwrap();
        notifier
            .send(&outgoing("bob@example.com", Some(token(3))))
            .await
            .unwrap();

        let ann = email("ann@EXAMPLE.com");
        assert_eq!(notifier.messages_to(&ann).len(), 3);
        assert_eq!(notifier.last_token_to(&ann), Some(token(2)));
        assert_eq!(notifier.last_token_to(&email("carol@example.com")), None);
    }

    #[tokio::test]
    async fn fail_with_fails_every_send_until_succeed() {
        let notifier = RecordingNotifier::new();
        notifier.fail_with(Failure::Permanent);
        for _ in 0..3 {
            let error = notifier
                .send(&outgoing("ann@example.com", None))
                .await
                .unwrap_err();
            assert!(!error.is_retryable());
        }
        notifier.succeed();
        notifier
            .send(&outgoing("ann@example.com", None))
            .await
            .unwrap();

        assert_eq!(notifier.messages().len(), 1);
        assert_eq!(notifier.attempts(), 4);
    }

    #[tokio::test]
    async fn fail_next_fails_only_that_many_sends() {
        let notifier = RecordingNotifier::new();
        notifier.fail_next(2, Failure::Temporary);
        let mut outcomes = Vec::new();
        for _ in 0..3 {
            let sent = notifier.send(&outgoing("ann@example.com", None)).await;
            outcomes.push(sent.map_err(|error| error.is_retryable()));
        }

        assert_eq!(outcomes, [Err(true), Err(true), Ok(())]);
        assert_eq!(notifier.messages().len(), 1);
        assert_eq!(notifier.attempts(), 3);
    }
}
