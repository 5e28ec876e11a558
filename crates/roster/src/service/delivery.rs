//! Delivery of the outbox: right after a commit, and later by [`Roster::deliver_due`] for what
//! could not be sent then.
//!
//! Guarantee: at least once. An entry is leased (its `next_attempt_at` pushed forward) before it
//! is sent, so two workers do not send it at the same time; a process that dies mid-send leaves
//! the lease to run out and the entry is sent again. A token is never stored, so an entry sent
//! again gets a fresh one, rotated in the same change that takes the lease: the link in the last
//! email delivered for an invitation is the one that works.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{Plan, Queued, Roster};
use crate::error::{Denial, RosterError};
use crate::id::{NoticeId, UserId};
use crate::invitation::InvitationState;
use crate::notice::{DeliveryStatus, OutboxEntry, OutgoingNotice};
use crate::notifier::NotifyError;
use crate::policy;
use crate::store::{Change, Entity, InvitationWrite, OutboxWrite};
use crate::token::InvitationToken;

/// How a round of deliveries went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeliveryReport {
    /// Notices handed to the notifier successfully.
    pub delivered: usize,
    /// Notices that failed temporarily and are queued again with a backoff.
    pub retrying: usize,
    /// Notices that failed for good (permanent error or out of attempts).
    pub failed: usize,
    /// Notices dropped because their invitation closed or was sent again since.
    pub cancelled: usize,
}

impl DeliveryReport {
    fn merge(&mut self, other: DeliveryReport) {
        self.delivered += other.delivered;
        self.retrying += other.retrying;
        self.failed += other.failed;
        self.cancelled += other.cancelled;
    }

    /// How many notices the round looked at.
    pub fn total(&self) -> usize {
        self.delivered + self.retrying + self.failed + self.cancelled
    }
}

impl Roster {
    /// Sends the notices of a committed change and records how each went, in one write.
    pub(crate) async fn send_after_commit(&self, queued: Vec<Queued>) -> DeliveryReport {
        let mut report = DeliveryReport::default();
        if queued.is_empty() {
            return report;
        }
        let mut change = Change::default();
        for Queued { mut entry, token } in queued {
            let outgoing = OutgoingNotice {
                id: entry.id,
                notice: entry.notice.clone(),
                token,
            };
            let result = self.notifier().send(&outgoing).await;
            let now = self.now();
            match result {
                Ok(()) => {
                    entry.status = DeliveryStatus::Delivered;
                    entry.finished_at = Some(now);
                    entry.last_error = None;
                    report.delivered += 1;
                }
                Err(error) => {
                    self.record_failure(&mut entry, &error, now);
                    if entry.status == DeliveryStatus::Failed {
                        report.failed += 1;
                    } else {
                        report.retrying += 1;
                    }
                    tracing::warn!(notice = %entry.id, attempts = entry.attempts, error = %error, "delivery failed");
                }
            }
            change.outbox.push(OutboxWrite::Update(entry));
        }
        // If this write is lost the entries keep their lease and are sent again when it runs out:
        // at least once, never lost.
        if let Err(error) = self.store().apply(change).await {
            tracing::warn!(error = %error, "could not record delivery results");
        }
        report
    }

    fn record_failure(&self, entry: &mut OutboxEntry, error: &NotifyError, now: DateTime<Utc>) {
        let policy = &self.config().delivery;
        entry.last_error = Some(error.reason().to_owned());
        if !error.is_retryable() || entry.attempts >= policy.max_attempts {
            entry.status = DeliveryStatus::Failed;
            entry.finished_at = Some(now);
        } else {
            entry.status = DeliveryStatus::Queued;
            entry.next_attempt_at = now + self.backoff(entry.attempts);
        }
    }

    /// Exponential backoff with "equal jitter": half the delay fixed, half random, so retries of
    /// many notices failing together spread out.
    fn backoff(&self, attempts: u32) -> Duration {
        let policy = &self.config().delivery;
        let doublings = attempts.saturating_sub(1).min(30);
        let full = policy
            .initial_backoff
            .checked_mul(1 << doublings)
            .unwrap_or(policy.max_backoff)
            .min(policy.max_backoff);
        let mut bytes = [0u8; 4];
        self.random().fill_bytes(&mut bytes);
        let fraction = f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX);
        let half = full / 2;
        let jitter_ms = (half.num_milliseconds() as f64 * fraction) as i64;
        half + Duration::milliseconds(jitter_ms)
    }

    /// Delivers notices that are due (queued after a failure, or left behind by a process that
    /// stopped before sending): up to [`DeliveryPolicy::batch_size`](crate::DeliveryPolicy::batch_size)
    /// of them, one at a time. Call it from a timer or cron job, or run a
    /// [`DeliveryWorker`](crate::DeliveryWorker).
    #[tracing::instrument(skip_all)]
    pub async fn deliver_due(&self) -> Result<DeliveryReport, RosterError> {
        let due = self
            .store()
            .due_notices(self.now(), self.config().delivery.batch_size)
            .await?;
        let mut report = DeliveryReport::default();
        for entry in due {
            report.merge(self.deliver_entry(entry.id).await?);
        }
        if report.total() > 0 {
            tracing::info!(?report, "delivered due notices");
        }
        Ok(report)
    }

    /// Takes the lease on one due entry (rotating its invitation's token if it carries a link) and
    /// sends it.
    async fn deliver_entry(&self, id: NoticeId) -> Result<DeliveryReport, RosterError> {
        let (cancelled, mut report) = self
            .transact_and_deliver(|| Box::pin(self.plan_redelivery(id)))
            .await?;
        if cancelled {
            report.cancelled += 1;
        }
        Ok(report)
    }

    /// Plans one redelivery; the outcome says whether the entry was cancelled instead.
    async fn plan_redelivery(&self, id: NoticeId) -> Result<Plan<bool>, RosterError> {
        let now = self.now();
        let store = self.store();
        let Some(mut entry) = store.outbox_entry(id).await? else {
            return Ok(Plan::new(Change::default(), false));
        };
        if entry.status != DeliveryStatus::Queued || entry.next_attempt_at > now {
            // Someone else took it meanwhile.
            return Ok(Plan::new(Change::default(), false));
        }
        let project = store
            .project(entry.notice.project)
            .await?
            .ok_or(RosterError::NotFound(Entity::Project))?;
        let mut change = Change::on_project(project.id, project.version);
        let mut token = None;
        if entry.notice.kind.carries_link() {
            let mut invitation = store
                .invitation(entry.notice.invitation)
                .await?
                .ok_or(RosterError::NotFound(Entity::Invitation))?;
            let closed = invitation.effective_state(now) != InvitationState::Pending;
            // A later send of the invitation queued its own, newer notice; sending this one would
            // announce an old role and expiry with a link that disables the newer one.
            let superseded = invitation.sends != entry.notice.send;
            if closed || superseded {
                entry.status = DeliveryStatus::Cancelled;
                entry.finished_at = Some(now);
                change.outbox.push(OutboxWrite::Update(entry));
                return Ok(Plan::new(change, true));
            }
            let fresh = InvitationToken::generate(self.random());
            invitation.token_hash = fresh.hash();
            change.invitations.push(InvitationWrite::Update(invitation));
            token = Some(fresh);
        }
        entry.attempts += 1;
        entry.next_attempt_at = now + self.config().delivery.lease;
        change.outbox.push(OutboxWrite::Update(entry.clone()));
        Ok(Plan {
            change,
            outcome: false,
            outgoing: vec![Queued { entry, token }],
        })
    }

    /// Puts a failed notice back in the queue (after fixing what made it fail, such as a
    /// mistyped address in the mail server's configuration) and tries to send it at once.
    /// Administrators of the notice's project only.
    ///
    /// Errors: [`RosterError::NotFound`], [`RosterError::Forbidden`],
    /// [`RosterError::NoticeNotRetryable`] unless the notice is `Failed`.
    #[tracing::instrument(skip_all, fields(actor = %actor, notice = %notice))]
    pub async fn requeue_notice(
        &self,
        actor: UserId,
        notice: NoticeId,
    ) -> Result<DeliveryReport, RosterError> {
        let store = self.store();
        let mut entry = store
            .outbox_entry(notice)
            .await?
            .ok_or(RosterError::NotFound(Entity::OutboxEntry))?;
        let scope = self.scope(entry.notice.project, Some(actor)).await?;
        if policy::require_manager(scope.actor_role).is_err() {
            return Err(RosterError::Forbidden(Denial::NotAnAdministrator));
        }
        if entry.status != DeliveryStatus::Failed {
            return Err(RosterError::NoticeNotRetryable);
        }
        let now = self.now();
        entry.status = DeliveryStatus::Queued;
        entry.attempts = 0;
        entry.next_attempt_at = now;
        entry.finished_at = None;
        // Guarded by the project version so a concurrent requeue of the same entry loses cleanly.
        let mut change = Change::on_project(scope.project.id, scope.project.version);
        change.outbox.push(OutboxWrite::Update(entry));
        store.apply(change).await?;
        self.deliver_entry(notice).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DeliveryPolicy, RosterConfig};
    use crate::service::tests::roster_with;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let roster = roster_with(RosterConfig {
            delivery: DeliveryPolicy {
                initial_backoff: Duration::seconds(10),
                max_backoff: Duration::seconds(100),
                ..DeliveryPolicy::default()
            },
            ..RosterConfig::default()
        });
        for (attempts, full) in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (40, 100)] {
            let delay = roster.backoff(attempts);
            assert!(
                delay >= Duration::seconds(full) / 2,
                "attempt {attempts}: {delay}"
            );
            assert!(
                delay <= Duration::seconds(full),
                "attempt {attempts}: {delay}"
            );
        }
    }
}
