//! A background task that drains the outbox (feature `worker`, on by default; needs tokio).

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Roster;

/// Runs [`Roster::deliver_due`] on a tokio task every `interval` (at once again while full batches
/// keep coming). Stop it with [`DeliveryWorker::shutdown`], which lets the pass in flight finish:
/// every send it started ends (delivered, failed, or cut at the send deadline) and is recorded. Where a stop must not
/// wait for a slow mail server, [`DeliveryWorker::shutdown_timeout`] bounds the wait and then
/// abandons the pass: the notices it had leased are sent again (with fresh links) once their
/// lease runs out, so nothing is lost, though a send cut after the server took the message
/// arrives twice. Dropping the handle without shutting down leaves the task running until the
/// runtime stops.
#[derive(Debug)]
pub struct DeliveryWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl DeliveryWorker {
    /// Starts the worker on the current tokio runtime.
    pub fn spawn(roster: Roster, interval: Duration) -> DeliveryWorker {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let batch = roster.config().delivery.batch_size;
            loop {
                let full_batch = match roster.deliver_due().await {
                    Ok(report) => report.total() >= batch,
                    Err(error) => {
                        tracing::warn!(error = %error, "delivery pass failed");
                        false
                    }
                };
                if *stopped.borrow() {
                    break;
                }
                if full_batch {
                    continue;
                }
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = stopped.changed() => break,
                }
            }
        });
        DeliveryWorker { stop, task }
    }

    /// Asks the worker to stop after its current pass and waits for it.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            tracing::warn!(error = %error, "delivery worker ended abnormally");
        }
    }

    /// Asks the worker to stop after its current pass and waits at most `timeout` for it; then
    /// abandons the pass (see [`DeliveryWorker`] for what happens to its notices). Returns whether
    /// the worker stopped on its own in time.
    pub async fn shutdown_timeout(self, timeout: Duration) -> bool {
        let _ = self.stop.send(true);
        let mut task = self.task;
        match tokio::time::timeout(timeout, &mut task).await {
            Ok(Ok(())) => true,
            Ok(Err(error)) => {
                tracing::warn!(error = %error, "delivery worker ended abnormally");
                true
            }
            Err(_) => {
                tracing::warn!(
                    ?timeout,
                    "delivery worker did not stop in time; its leased notices will be sent again"
                );
                task.abort();
                // Wait for the abort so nothing of the pass runs after this returns.
                let _ = task.await;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;

    use super::*;
    use crate::notice::OutgoingNotice;
    use crate::notifier::{Notifier, NotifyError};
    use crate::service::delivery::tests::{FakeOutbox, entries, policy, roster_on};

    /// Sends that take `delay` (forever if `None`), counting those started and finished.
    struct SlowNotifier {
        delay: Option<Duration>,
        started: AtomicUsize,
        finished: AtomicUsize,
    }

    impl SlowNotifier {
        fn new(delay: Option<Duration>) -> Arc<Self> {
            Arc::new(SlowNotifier {
                delay,
                started: AtomicUsize::new(0),
                finished: AtomicUsize::new(0),
            })
        }

        async fn wait_until_started(&self) {
            while self.started.load(Ordering::SeqCst) == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }

    #[async_trait]
    impl Notifier for SlowNotifier {
        async fn send(&self, _: &OutgoingNotice) -> Result<(), NotifyError> {
            self.started.fetch_add(1, Ordering::SeqCst);
            match self.delay {
                Some(delay) => tokio::time::sleep(delay).await,
                None => std::future::pending().await,
            }
            self.finished.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    fn worker_for(notifier: Arc<SlowNotifier>) -> DeliveryWorker {
        let store = FakeOutbox::due(entries(3)).store();
        let roster = roster_on(store, notifier, policy(3, 100));
        DeliveryWorker::spawn(roster, Duration::from_secs(3600))
    }

    #[tokio::test]
    async fn shutdown_waits_for_the_sends_in_flight() {
        let notifier = SlowNotifier::new(Some(Duration::from_millis(30)));
        let worker = worker_for(notifier.clone());
        notifier.wait_until_started().await;
        worker.shutdown().await;
        assert_eq!(notifier.finished.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn shutdown_timeout_reports_a_pass_that_finished_in_time() {
        let notifier = SlowNotifier::new(Some(Duration::from_millis(30)));
        let worker = worker_for(notifier.clone());
        notifier.wait_until_started().await;
        assert!(worker.shutdown_timeout(Duration::from_secs(10)).await);
        assert_eq!(notifier.finished.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn shutdown_timeout_abandons_a_pass_stuck_in_a_send() {
        let notifier = SlowNotifier::new(None);
        let worker = worker_for(notifier.clone());
        notifier.wait_until_started().await;
        assert!(!worker.shutdown_timeout(Duration::from_millis(20)).await);
        assert_eq!(notifier.finished.load(Ordering::SeqCst), 0);
    }
}
