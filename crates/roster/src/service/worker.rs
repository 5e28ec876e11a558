//! A background task that drains the outbox (feature `worker`, on by default; needs tokio).

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Roster;

/// Runs [`Roster::deliver_due`] on a tokio task every `interval` (at once again while full batches
/// keep coming). Stop it with [`DeliveryWorker::shutdown`], which lets the pass in flight finish:
/// nothing is cut mid-send by a shutdown. Dropping the handle without shutting down leaves the
/// task running until the runtime stops.
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
}
