//! Delivery of the outbox: right after a commit, and later by [`Roster::deliver_due`] for what
//! could not be sent then.
//!
//! Guarantee: at least once. An entry is leased (its `next_attempt_at` pushed forward) before it
//! is sent, so two workers do not send it at the same time; a process that dies mid-send leaves
//! the lease to run out and the entry is sent again. A token is never stored, so an entry sent
//! again gets a fresh one, rotated in the same change that takes the lease: the link in the last
//! email delivered for an invitation is the one that works.
//!
//! Sends run [`DeliveryPolicy::concurrency`](crate::DeliveryPolicy::concurrency) at a time. Each
//! ends by [`DeliveryPolicy::send_deadline`](crate::DeliveryPolicy::send_deadline), which roster
//! enforces by dropping the notifier's future (a cut send is a temporary failure; a notifier
//! must stop sending when its future is dropped, see [`Notifier`](crate::Notifier)). No send
//! starts later than one deadline after the lease was taken, so every send ends within two; the
//! configuration is refused unless the lease outlasts two deadlines and the record delay. So on
//! a Tokio runtime, where records are written `record_delay` after the send, a send has ended and
//! been recorded before its lease can run out and another pass rotate the token and send again:
//! an email that arrives carries the newest link, or one a later email replaces. (Without a
//! runtime, records wait for the next command or [`Roster::flush`]; one that outlives its lease
//! is dropped, never written over a later pass's, and the notice is sent again.) A pass always
//! finishes the sends it started before it returns; a process stopped in the middle leaves its
//! leased entries to be sent again once the lease runs out.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use futures_timer::Delay;
use futures_util::future::{self, Either, FutureExt, Shared};
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

use super::{Plan, ProjectScope, Queued, Roster, lock, wrong_snapshot};
use crate::clock::later;
use crate::error::RosterError;
use crate::id::{InvitationId, NoticeId, UserId};
use crate::invitation::InvitationState;
use crate::notice::{DeliveryStatus, Notice, OutboxEntry, OutgoingNotice};
use crate::notifier::NotifyError;
use crate::policy;
use crate::store::{
    Change, Entity, InvitationWrite, NoticeContext, OutboxQuery, OutboxWrite, Read, Snapshot, Step,
};
use crate::token::InvitationToken;

/// How a round of deliveries went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeliveryReport {
    /// Notices handed to the notifier successfully.
    pub delivered: usize,
    /// Notices queued again: failed temporarily (or cut at the send deadline) and backing off,
    /// or, after a command, not begun before its time for mail ran out and due at once.
    pub retrying: usize,
    /// Notices that failed for good (a permanent refusal; temporary failures are retried).
    pub failed: usize,
    /// Notices dropped because their invitation closed or was sent again since.
    pub cancelled: usize,
}

/// The outbox at a glance, for monitoring: what waits, for how long, and what needs a person
/// (see [`Roster::delivery_status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutboxStatus {
    /// Notices waiting to go out: not tried yet, in flight, or retrying after a temporary
    /// failure. Temporary failures stay here however long they last.
    pub queued: u64,
    /// Of the queued, those with a failed attempt on record (a notice re-queued after a
    /// permanent failure keeps its last error, and counts here until it goes out).
    pub retrying: u64,
    /// When the oldest queued notice was written; `None` when nothing is queued. How long mail
    /// has been held up is the clock's time minus this.
    pub oldest_queued_at: Option<DateTime<Utc>>,
    /// Notices a server refused for good: listed by [`Roster::notices`], sent again by
    /// [`Roster::requeue_notice`] once the cause is fixed.
    pub failed: u64,
}

/// How a send went, to be written, and until when the lease it was sent under holds.
#[derive(Debug, Clone)]
/// How the notices of one command fared right after its commit.
pub(crate) struct Sent {
    pub(crate) report: DeliveryReport,
    /// Each notice's status after its attempt, by the invitation it is about (a map: a bulk
    /// invite looks up each of its thousands of rows).
    pub(crate) statuses: HashMap<InvitationId, DeliveryStatus>,
}

impl Sent {
    /// The status of the notice about `invitation`, if the command sent one.
    pub(crate) fn status_of(&self, invitation: InvitationId) -> Option<DeliveryStatus> {
        self.statuses.get(&invitation).copied()
    }
}

pub(crate) struct Record {
    pub(crate) entry: OutboxEntry,
    pub(crate) lease_ends: DateTime<Utc>,
}

impl Record {
    /// The entries of `records`, as a step carries them.
    pub(crate) fn entries(records: &[Record]) -> Vec<OutboxEntry> {
        records.iter().map(|record| record.entry.clone()).collect()
    }
}

/// How many failed entries [`Roster::delivery_status`] reads at a time.
const STATUS_PAGE: usize = 500;

fn count(items: usize) -> u64 {
    u64::try_from(items).unwrap_or(u64::MAX)
}

/// What taking the lease on a due entry came to.
enum Lease {
    /// Nothing to send: gone, no longer queued, or leased by someone else meanwhile.
    Gone,
    /// Cancelled instead: its invitation closed or was sent again since.
    Cancelled,
    /// Leased to this process: send it.
    Taken(Box<Queued>),
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
    /// Sends the notices of a committed change, up to
    /// [`DeliveryPolicy::concurrency`](crate::DeliveryPolicy::concurrency) at once. How each
    /// went is recorded by a flush scheduled soon after on a Tokio runtime, in one batch with
    /// every other record of that moment (or, with no runtime, by the next command), never in
    /// a foreground commit of its own.
    ///
    /// Bounded by [`DeliveryPolicy::send_deadline`](crate::DeliveryPolicy::send_deadline): each
    /// send is cut once it has run that long (a temporary failure, retried later), and no send
    /// starts after the first deadline has passed (those left are queued and due for the
    /// delivery worker). So a command waits for its mail at most two deadlines.
    pub(crate) async fn send_after_commit(&self, queued: Vec<Queued>) -> DeliveryReport {
        self.send_after_commit_each(queued).await.report
    }

    /// [`Roster::send_after_commit`], also telling where each notice stands after its attempt,
    /// by the invitation it is about.
    pub(crate) async fn send_after_commit_each(&self, queued: Vec<Queued>) -> Sent {
        let mut report = DeliveryReport::default();
        if queued.is_empty() {
            return Sent {
                report,
                statuses: HashMap::new(),
            };
        }
        // Timers run on a thread of futures-timer's own, so deadlines hold on any executor;
        // each one set or dropped wakes that thread, so none is set that cannot matter. When
        // every send starts at once, none starts late: the shared deadline is only needed when
        // some must wait for a slot.
        let stop = (queued.len() > self.concurrency()).then(|| self.deadline().shared());
        let records: Vec<Record> = stream::iter(queued)
            .map(|queued| self.send_one(queued, stop.clone()))
            .buffer_unordered(self.concurrency())
            .collect()
            .await;
        let mut statuses = HashMap::with_capacity(records.len());
        for Record { entry, .. } in &records {
            match entry.status {
                DeliveryStatus::Delivered => report.delivered += 1,
                DeliveryStatus::Failed => report.failed += 1,
                _ => report.retrying += 1,
            }
            statuses
                .entry(entry.notice.invitation)
                .or_insert(entry.status);
        }
        self.keep_deliveries(records);
        Sent { report, statuses }
    }

    /// Takes the delivery records waiting to be written, leaving out those whose lease ran out
    /// meanwhile (a flush that kept failing, or no runtime and no command for that long):
    /// another pass may have taken such a notice since, and writing the record would overwrite
    /// what that pass wrote. Left out, the notice is sent again: at least once, never lost.
    pub(crate) fn take_deliveries(&self) -> Vec<Record> {
        let now = self.now();
        let mut records = std::mem::take(&mut *lock(&self.inner.deliveries));
        records.retain(|record| {
            let in_time = now < record.lease_ends;
            if !in_time {
                tracing::warn!(notice = %record.entry.id, "a delivery record outlived its lease and is dropped; the notice will be sent again");
            }
            in_time
        });
        records
    }

    /// The delivery records a command should carry: none while a flush is scheduled (it writes
    /// them all in one batch, whose rows share pages, so each command's commit stays as small
    /// as its own writes), all of them otherwise (no runtime to schedule one on).
    pub(crate) fn riding_deliveries(&self) -> Vec<Record> {
        if self
            .inner
            .flush_scheduled
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return Vec::new();
        }
        self.take_deliveries()
    }

    /// Keeps delivery records to be written with the next command, and makes sure one comes.
    /// Until they are written the entries keep their lease; a process that stops first leaves
    /// them to be sent again once it runs out: at least once, never lost.
    pub(crate) fn keep_deliveries(&self, records: Vec<Record>) {
        if records.is_empty() {
            return;
        }
        {
            let mut waiting = lock(&self.inner.deliveries);
            // Older records first: a newer record of the same entry is written after them.
            let newer = std::mem::replace(&mut *waiting, records);
            waiting.extend(newer);
        }
        self.schedule_flush();
    }

    /// Writes the delivery records still waiting, in a commit of their own. Commands write them
    /// as they go, and on a Tokio runtime a flush follows every send within
    /// [`DeliveryPolicy::record_delay`](crate::DeliveryPolicy::record_delay); call this before
    /// a process stops, so that nothing just sent is sent again after a restart.
    ///
    /// Errors: [`RosterError::Store`]; the records stay waiting.
    pub async fn flush(&self) -> Result<(), RosterError> {
        let deliveries = self.take_deliveries();
        if deliveries.is_empty() {
            return Ok(());
        }
        let step = Step::write(Change::default()).with_deliveries(Record::entries(&deliveries));
        if let Err(error) = self.store().transact(step).await {
            self.keep_deliveries(deliveries);
            return Err(error.into());
        }
        Ok(())
    }

    /// Spawns a flush after the record delay, unless one is scheduled already or there is no
    /// Tokio runtime (then the next command or delivery pass writes the records).
    fn schedule_flush(&self) {
        #[cfg(feature = "worker")]
        {
            use std::sync::atomic::Ordering;
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return;
            };
            if self.inner.flush_scheduled.swap(true, Ordering::AcqRel) {
                return;
            }
            let roster = self.clone();
            let delay = self
                .config()
                .delivery
                .record_delay
                .to_std()
                .unwrap_or_default();
            runtime.spawn(async move {
                // Waited out on the blocking pool: a runtime built without timers would panic
                // in `tokio::time::sleep`, and this must work on any runtime.
                let _ = tokio::task::spawn_blocking(move || std::thread::sleep(delay)).await;
                roster.inner.flush_scheduled.store(false, Ordering::Release);
                if let Err(error) = roster.flush().await {
                    tracing::warn!(error = %error, "could not record delivery results");
                }
            });
        }
    }

    /// Adds an outbox entry for `notice` to `change`, leased to this process for the send right
    /// after the commit, and returns what to send.
    pub(crate) fn enqueue(
        &self,
        change: &mut Change,
        notice: Notice,
        token: Option<InvitationToken>,
        now: DateTime<Utc>,
    ) -> Queued {
        let entry = OutboxEntry {
            id: NoticeId::generate(now, self.random()),
            notice,
            status: DeliveryStatus::Queued,
            attempts: 1,
            next_attempt_at: later(now, self.config().delivery.lease),
            last_error: None,
            created_at: now,
            finished_at: None,
        };
        change.outbox.push(OutboxWrite::Insert(entry.clone()));
        Queued { entry, token }
    }

    /// How many sends run at once (at least one).
    fn concurrency(&self) -> usize {
        self.config().delivery.concurrency.max(1)
    }

    /// A timer that fires one send deadline from now.
    fn deadline(&self) -> Delay {
        Delay::new(
            self.config()
                .delivery
                .send_deadline
                .to_std()
                .unwrap_or_default(),
        )
    }

    /// Hands one notice to the notifier unless `stop` has come; returns its entry updated with
    /// the outcome. A send still running a deadline after it began is dropped (cut) and fails
    /// temporarily.
    async fn send_one(&self, queued: Queued, stop: Option<Shared<Delay>>) -> Record {
        let Queued { mut entry, token } = queued;
        // The entry was written (or leased) with its lease's end as its due time.
        let lease_ends = entry.next_attempt_at;
        if stop.is_some_and(|stop| stop.now_or_never().is_some()) {
            // Never attempted: due at once for the worker, the attempt counted at enqueue undone.
            entry.attempts = entry.attempts.saturating_sub(1);
            entry.next_attempt_at = self.now();
            return Record { entry, lease_ends };
        }
        let outgoing = OutgoingNotice {
            id: entry.id,
            notice: entry.notice.clone(),
            token,
        };
        let mut send = std::pin::pin!(self.notifier().send(&outgoing));
        // A notifier that hands the notice on at once (to a queue, a test double) needs no
        // deadline: the timer is set only once the send has to wait.
        let result = match send.as_mut().now_or_never() {
            Some(result) => result,
            None => match future::select(send, self.deadline()).await {
                Either::Left((result, _)) => result,
                Either::Right(((), _)) => Err(NotifyError::temporary(format!(
                    "the send was cut at the send deadline ({} ms)",
                    self.config().delivery.send_deadline.num_milliseconds()
                ))),
            },
        };
        let now = self.now();
        match result {
            Ok(()) => {
                entry.status = DeliveryStatus::Delivered;
                entry.finished_at = Some(now);
                entry.last_error = None;
            }
            Err(error) => {
                self.record_failure(&mut entry, &error, now);
                tracing::warn!(notice = %entry.id, attempts = entry.attempts, error = %error, "delivery failed");
            }
        }
        Record { entry, lease_ends }
    }

    fn record_failure(&self, entry: &mut OutboxEntry, error: &NotifyError, now: DateTime<Utc>) {
        entry.last_error = Some(error.reason().to_owned());
        // Only a permanent refusal ends delivery: a temporary failure (an outage, however long)
        // backs off, capped, until the notice goes out or its invitation closes.
        if !error.is_retryable() {
            entry.status = DeliveryStatus::Failed;
            entry.finished_at = Some(now);
        } else {
            entry.status = DeliveryStatus::Queued;
            entry.next_attempt_at = later(now, self.backoff(entry.attempts));
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
        Duration::try_milliseconds(jitter_ms)
            .and_then(|jitter| half.checked_add(&jitter))
            .unwrap_or(full)
    }

    /// The whole outbox at a glance, across projects, for a health check or a metric: how many
    /// notices are queued (and how many of those are retrying, since when the oldest waits) and
    /// how many failed for good. Writes the delivery records this process holds first.
    ///
    /// It reads every queued entry and every failed one (the SQLite store keeps an index of
    /// each, so delivered history is not walked): cheap while mail flows, and proportional to
    /// the backlog during an outage.
    pub async fn delivery_status(&self) -> Result<OutboxStatus, RosterError> {
        self.flush().await?;
        let store = self.store();
        let queued = store
            .due_notices(DateTime::<Utc>::MAX_UTC, usize::MAX)
            .await?;
        let mut status = OutboxStatus {
            queued: count(queued.len()),
            retrying: count(
                queued
                    .iter()
                    .filter(|entry| entry.last_error.is_some())
                    .count(),
            ),
            oldest_queued_at: queued.iter().map(|entry| entry.created_at).min(),
            failed: 0,
        };
        let mut after = None;
        loop {
            let page = store
                .outbox(&OutboxQuery {
                    status: Some(DeliveryStatus::Failed),
                    after,
                    limit: STATUS_PAGE,
                    ..OutboxQuery::default()
                })
                .await?;
            status.failed += count(page.len());
            match page.last() {
                Some(last) if page.len() == STATUS_PAGE => after = Some(last.id),
                _ => return Ok(status),
            }
        }
    }

    /// Delivers notices that are due (queued after a failure, or left behind by a process that
    /// stopped before sending): up to [`DeliveryPolicy::batch_size`](crate::DeliveryPolicy::batch_size)
    /// of them, [`DeliveryPolicy::concurrency`](crate::DeliveryPolicy::concurrency) at a time. Call
    /// it from a timer, or run a [`DeliveryWorker`](crate::DeliveryWorker); for a cron job that
    /// should empty the queue, see [`Roster::deliver_pending`].
    ///
    /// Each notice is leased (and its link's token rotated) when a send slot frees up, right
    /// before it is sent, so a slow batch never holds leases it is not using. A store error on
    /// one notice does not stop the others: the pass finishes every send it started, then
    /// returns the first error (the notices it concerns stay due).
    #[tracing::instrument(skip_all)]
    pub async fn deliver_due(&self) -> Result<DeliveryReport, RosterError> {
        self.deliver_due_by(self.now())
            .await
            .map(|(report, _)| report)
    }

    /// Delivers every notice due now, batch after batch, until none is left; for cron-style use
    /// ("run every few minutes, exit when done"). Notices that fail again are re-queued with
    /// their backoff and are not retried within the same call, so it always ends. Returns the
    /// summed report, or the first error after finishing the batch it occurred in.
    #[tracing::instrument(skip_all)]
    pub async fn deliver_pending(&self) -> Result<DeliveryReport, RosterError> {
        // Everything due at the start: a notice re-queued during the call is due only later, so
        // every batch shrinks the set and the loop ends.
        let cutoff = self.now();
        let batch = self.config().delivery.batch_size.max(1);
        let mut total = DeliveryReport::default();
        loop {
            let (report, due) = self.deliver_due_by(cutoff).await?;
            total.merge(report);
            if due < batch {
                return Ok(total);
            }
        }
    }

    /// One pass over the notices due by `cutoff`; also tells how many were due.
    async fn deliver_due_by(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<(DeliveryReport, usize), RosterError> {
        let batch = self.config().delivery.batch_size.max(1);
        // What this process sent is recorded first, so the listing below is current.
        self.flush().await?;
        let due = self.store().due_notices(cutoff, batch).await?;
        let count = due.len();
        // Each lease is one step; the store commits the leases of overlapping sends together.
        let mut results = stream::iter(due)
            .map(|entry| self.deliver_entry(entry.id))
            .buffer_unordered(self.concurrency());
        let mut report = DeliveryReport::default();
        let mut first_error = None;
        // Drained to the end even after an error: dropping the stream would cut sends mid-way.
        while let Some(result) = results.next().await {
            match result {
                Ok(delivered) => report.merge(delivered),
                Err(error) => {
                    tracing::warn!(error = %error, "could not deliver a due notice");
                    first_error.get_or_insert(error);
                }
            }
        }
        if report.total() > 0 {
            tracing::info!(?report, "delivered due notices");
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok((report, count)),
        }
    }

    /// Takes the lease on one due entry and sends it.
    async fn deliver_entry(&self, id: NoticeId) -> Result<DeliveryReport, RosterError> {
        self.deliver_leased(self.lease(id).await).await
    }

    /// Sends what a lease took, and reports it.
    async fn deliver_leased(
        &self,
        leased: Result<Lease, RosterError>,
    ) -> Result<DeliveryReport, RosterError> {
        Ok(match leased? {
            Lease::Gone => DeliveryReport::default(),
            Lease::Cancelled => DeliveryReport {
                cancelled: 1,
                ..DeliveryReport::default()
            },
            Lease::Taken(queued) => self.send_after_commit(vec![*queued]).await,
        })
    }

    /// Takes the lease on one due entry, rotating its invitation's token if it carries a link;
    /// the caller sends it.
    async fn lease(&self, id: NoticeId) -> Result<Lease, RosterError> {
        let roster = self.clone();
        self.run(Read::Notice { id, actor: None }, move |snapshot| {
            roster.plan_lease(snapshot)
        })
        .await
    }

    /// Plans one lease (its outcome carries what to send, so nothing is sent on commit).
    fn plan_lease(&self, snapshot: Snapshot) -> Result<Plan<Lease>, RosterError> {
        let now = self.now();
        let Snapshot::Notice(context) = snapshot else {
            return Err(wrong_snapshot());
        };
        let Some(NoticeContext {
            mut entry,
            project,
            invitation,
        }) = context
        else {
            return Ok(Plan::new(Change::default(), Lease::Gone));
        };
        if entry.status != DeliveryStatus::Queued || entry.next_attempt_at > now {
            // Someone else took it meanwhile.
            return Ok(Plan::new(Change::default(), Lease::Gone));
        }
        let project = project.ok_or(RosterError::NotFound(Entity::Project))?;
        let mut change = Change::on_project(project.project.id, project.project.version);
        let mut token = None;
        if entry.notice.kind.carries_link() {
            let mut invitation = invitation.ok_or(RosterError::NotFound(Entity::Invitation))?;
            let closed = invitation.effective_state(now) != InvitationState::Pending;
            // A later send of the invitation queued its own, newer notice; sending this one would
            // announce an old role and expiry with a link that disables the newer one.
            let superseded = invitation.sends != entry.notice.send;
            if closed || superseded {
                entry.status = DeliveryStatus::Cancelled;
                entry.finished_at = Some(now);
                change.outbox.push(OutboxWrite::Update(entry));
                return Ok(Plan::new(change, Lease::Cancelled));
            }
            let fresh = InvitationToken::generate(self.random());
            invitation.token_hash = fresh.hash();
            change.invitations.push(InvitationWrite::Update(invitation));
            token = Some(fresh);
        }
        entry.attempts += 1;
        entry.next_attempt_at = later(now, self.config().delivery.lease);
        change.outbox.push(OutboxWrite::Update(entry.clone()));
        Ok(Plan::new(
            change,
            Lease::Taken(Box::new(Queued { entry, token })),
        ))
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
        let roster = self.clone();
        let read = Read::Notice {
            id: notice,
            actor: Some(actor),
        };
        self.run(read, move |snapshot| {
            let Snapshot::Notice(context) = snapshot else {
                return Err(wrong_snapshot());
            };
            let context = context.ok_or(RosterError::NotFound(Entity::OutboxEntry))?;
            let project = context
                .project
                .ok_or(RosterError::NotFound(Entity::Project))?;
            let scope = ProjectScope::new(roster.roles(), project, Some(actor));
            policy::require_manager(roster.roles(), scope.actor_role)?;
            let mut entry = context.entry;
            if entry.status != DeliveryStatus::Failed {
                return Err(RosterError::NoticeNotRetryable);
            }
            entry.status = DeliveryStatus::Queued;
            entry.attempts = 0;
            entry.next_attempt_at = roster.now();
            entry.finished_at = None;
            let mut change = Change::on_project(scope.project.id, scope.project.version);
            change.outbox.push(OutboxWrite::Update(entry));
            Ok(Plan::new(change, ()))
        })
        .await?;
        self.deliver_entry(notice).await
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;

    use super::*;
    use crate::account::Project;
    use crate::clock::ManualClock;
    use crate::config::{DeliveryPolicy, RosterConfig};
    use crate::email::Email;
    use crate::id::{AccountId, InvitationId, ProjectId};
    use crate::notice::{Notice, NoticeKind};
    use crate::notifier::Notifier;
    use crate::random::SeededRandom;
    use crate::role::Role;
    use crate::service::tests::roster_with;
    use crate::store::{MockStore, ProjectContext, StoreError};
    use crate::version::Version;

    pub(crate) fn start() -> DateTime<Utc> {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    /// A notifier whose sends take a few turns of the executor, counting how many overlap.
    #[derive(Default)]
    pub(crate) struct OverlapNotifier {
        in_flight: AtomicUsize,
        pub(crate) peak: AtomicUsize,
        pub(crate) sent: AtomicUsize,
    }

    #[async_trait]
    impl Notifier for OverlapNotifier {
        async fn send(&self, _: &OutgoingNotice) -> Result<(), NotifyError> {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            for _ in 0..5 {
                tokio::task::yield_now().await;
            }
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            self.sent.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    /// A queued, due revocation notice (no link: redelivering it reads no invitation).
    pub(crate) fn revocation(project: ProjectId, seed: u64) -> OutboxEntry {
        let random = SeededRandom::new(seed);
        OutboxEntry {
            id: NoticeId::generate(start(), &random),
            notice: Notice {
                kind: NoticeKind::Revocation,
                to: Email::parse("ann@example.com").unwrap(),
                invitation: InvitationId::generate(start(), &random),
                project,
                project_name: "Website".into(),
                account_name: "Acme".into(),
                role: Role::USER,
                role_name: "User".into(),
                inviter: Email::parse("boss@example.com").unwrap(),
                sent_by: UserId::generate(start(), &random),
                expires_at: start(),
                send: 1,
                language: None,
            },
            status: DeliveryStatus::Queued,
            attempts: 0,
            next_attempt_at: start(),
            last_error: None,
            created_at: start(),
            finished_at: None,
        }
    }

    /// A store holding `entries`, accepting every change. `due` answers the due-notices queries,
    /// one batch per call (recording the cutoff asked for); reading the entry `broken` fails.
    pub(crate) struct FakeOutbox {
        pub(crate) entries: Vec<OutboxEntry>,
        pub(crate) due: Vec<Vec<OutboxEntry>>,
        pub(crate) broken: Option<NoticeId>,
        pub(crate) cutoffs: Arc<Mutex<Vec<DateTime<Utc>>>>,
    }

    impl FakeOutbox {
        /// `entries`, all due in one batch.
        pub(crate) fn due(entries: Vec<OutboxEntry>) -> Self {
            FakeOutbox {
                due: vec![entries.clone()],
                entries,
                broken: None,
                cutoffs: Arc::default(),
            }
        }

        pub(crate) fn store(self) -> MockStore {
            let mut store = MockStore::new();
            let mut batches = self.due.into_iter();
            let cutoffs = self.cutoffs;
            store.expect_due_notices().returning(move |cutoff, _| {
                cutoffs.lock().unwrap().push(cutoff);
                Ok(batches.next().unwrap_or_default())
            });
            let (entries, broken) = (self.entries, self.broken);
            store.expect_transact().returning(move |mut step| {
                let snapshot = match &step.read {
                    Read::Notice { id, .. } => {
                        if Some(*id) == broken {
                            return Err(StoreError::backend(std::io::Error::other("disk on fire")));
                        }
                        let entry = entries.iter().find(|entry| entry.id == *id).cloned();
                        Snapshot::Notice(entry.map(|entry| NoticeContext {
                            project: Some(project_context(entry.notice.project)),
                            invitation: None,
                            entry,
                        }))
                    }
                    _ => Snapshot::Nothing,
                };
                step.decide(snapshot)?;
                Ok(())
            });
            store
        }
    }

    /// A project of an account with no administrators, for notices about it.
    fn project_context(id: ProjectId) -> ProjectContext {
        let account = AccountId::from_uuid(uuid::Uuid::nil());
        ProjectContext {
            project: Project {
                id,
                account,
                name: "Website".into(),
                created_at: start(),
                version: Version::INITIAL,
            },
            account: crate::account::Account {
                id: account,
                name: "Acme".into(),
                administrators: Vec::new(),
                created_at: start(),
                allowed_domains: Vec::new(),
            },
            actor: None,
            actor_membership: None,
        }
    }

    pub(crate) fn roster_on(
        store: MockStore,
        notifier: Arc<dyn Notifier>,
        delivery: DeliveryPolicy,
    ) -> Roster {
        Roster::builder(Arc::new(store), notifier)
            .clock(Arc::new(ManualClock::new(start())))
            .random(Arc::new(SeededRandom::new(7)))
            .config(RosterConfig::default().delivery(delivery))
            .build()
            .expect("a valid configuration")
    }

    pub(crate) fn entries(count: u64) -> Vec<OutboxEntry> {
        let project = ProjectId::generate(start(), &SeededRandom::new(99));
        (1..=count).map(|seed| revocation(project, seed)).collect()
    }

    pub(crate) fn policy(concurrency: usize, batch_size: usize) -> DeliveryPolicy {
        DeliveryPolicy::default()
            .concurrency(concurrency)
            .batch_size(batch_size)
    }

    #[tokio::test]
    async fn notices_sent_after_a_commit_go_out_up_to_the_concurrency_at_once() {
        let notifier = Arc::new(OverlapNotifier::default());
        let queued = entries(7);
        let store = FakeOutbox::due(Vec::new()).store();
        let roster = roster_on(store, notifier.clone(), policy(3, 100));
        let queued = queued
            .into_iter()
            .map(|entry| Queued { entry, token: None })
            .collect();
        let report = roster.send_after_commit(queued).await;
        assert_eq!(report.delivered, 7);
        assert_eq!(notifier.peak.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_pass_sends_due_notices_up_to_the_concurrency_at_once() {
        let notifier = Arc::new(OverlapNotifier::default());
        let store = FakeOutbox::due(entries(6)).store();
        let roster = roster_on(store, notifier.clone(), policy(4, 100));
        let report = roster.deliver_due().await.unwrap();
        assert_eq!(report.delivered, 6);
        assert_eq!(notifier.peak.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_concurrency_of_zero_still_sends_one_at_a_time() {
        let notifier = Arc::new(OverlapNotifier::default());
        let store = FakeOutbox::due(entries(3)).store();
        let roster = roster_on(store, notifier.clone(), policy(0, 100));
        assert_eq!(roster.deliver_due().await.unwrap().delivered, 3);
        assert_eq!(notifier.peak.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_store_error_on_one_notice_does_not_stop_the_others() {
        let notifier = Arc::new(OverlapNotifier::default());
        let due = entries(4);
        let store = FakeOutbox {
            broken: Some(due[1].id),
            ..FakeOutbox::due(due)
        }
        .store();
        let roster = roster_on(store, notifier.clone(), policy(2, 100));
        let error = roster.deliver_due().await.unwrap_err();
        let mut chain =
            std::iter::successors(Some(&error as &(dyn std::error::Error + 'static)), |e| {
                e.source()
            });
        assert!(chain.any(|e| e.to_string() == "disk on fire"));
        assert_eq!(notifier.sent.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn deliver_pending_drains_batch_after_batch_of_what_was_due_at_the_start() {
        let notifier = Arc::new(OverlapNotifier::default());
        let all = entries(5);
        let fake = FakeOutbox {
            due: vec![all[..2].to_vec(), all[2..4].to_vec(), all[4..].to_vec()],
            ..FakeOutbox::due(all)
        };
        let cutoffs = fake.cutoffs.clone();
        let roster = roster_on(fake.store(), notifier.clone(), policy(2, 2));
        let report = roster.deliver_pending().await.unwrap();
        assert_eq!(report.delivered, 5);
        // A short batch ends the drain: the third query was the last.
        assert_eq!(*cutoffs.lock().unwrap(), vec![start(); 3]);
    }

    #[tokio::test]
    async fn deliver_pending_with_nothing_due_asks_once() {
        let fake = FakeOutbox::due(Vec::new());
        let cutoffs = fake.cutoffs.clone();
        let roster = roster_on(
            fake.store(),
            Arc::new(OverlapNotifier::default()),
            policy(2, 2),
        );
        assert_eq!(roster.deliver_pending().await.unwrap().total(), 0);
        assert_eq!(cutoffs.lock().unwrap().len(), 1);
    }

    /// On a runtime built without timers (where `tokio::time::sleep` panics), the records of a
    /// send are still written soon after it, in a step of their own.
    #[test]
    fn records_are_flushed_on_a_runtime_without_timers() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let mut store = MockStore::new();
        let kept = recorded.clone();
        store.expect_transact().returning(move |step| {
            kept.lock().unwrap().extend(step.deliveries.clone());
            Ok(())
        });
        let delivery = DeliveryPolicy::default().record_delay(Duration::milliseconds(1));
        let roster = roster_on(store, Arc::new(OverlapNotifier::default()), delivery);
        // Leased, as a command's notices are: due again once the lease runs out.
        let queued = entries(2)
            .into_iter()
            .map(|mut entry| {
                entry.next_attempt_at = start() + Duration::minutes(5);
                Queued { entry, token: None }
            })
            .collect();
        runtime.block_on(async {
            assert_eq!(roster.send_after_commit(queued).await.delivered, 2);
            for _ in 0..1000 {
                if recorded.lock().unwrap().len() == 2 {
                    break;
                }
                tokio::task::yield_now().await;
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        });
        let recorded = recorded.lock().unwrap();
        assert_eq!(recorded.len(), 2, "both records were written");
        assert!(
            recorded
                .iter()
                .all(|e| e.status == DeliveryStatus::Delivered)
        );
    }

    /// A record whose lease ran out before it could be written is left out: another pass may
    /// have taken its notice since. One still in time is written.
    #[test]
    fn records_that_outlive_their_lease_are_dropped() {
        let clock = Arc::new(ManualClock::new(start()));
        let roster = Roster::builder(
            Arc::new(MockStore::new()),
            Arc::new(crate::notifier::MockNotifier::new()),
        )
        .clock(clock.clone())
        .build()
        .expect("a valid configuration");
        let [late, timely]: [OutboxEntry; 2] = entries(2).try_into().unwrap();
        let records = vec![
            Record {
                entry: late,
                lease_ends: start() + Duration::minutes(1),
            },
            Record {
                entry: timely.clone(),
                lease_ends: start() + Duration::minutes(10),
            },
        ];
        *lock(&roster.inner.deliveries) = records;
        clock.advance(Duration::minutes(1));
        let taken = roster.take_deliveries();
        assert_eq!(Record::entries(&taken), vec![timely]);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let roster = roster_with(
            RosterConfig::default().delivery(
                DeliveryPolicy::default()
                    .initial_backoff(Duration::seconds(10))
                    .max_backoff(Duration::seconds(100)),
            ),
        );
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
