//! Group commit: the writer takes every step waiting for it into one `BEGIN IMMEDIATE`
//! transaction, one savepoint per step, and commits once; only then does it answer each.
//!
//! A step alone never waits for company: the first step to arrive while the writer is idle
//! starts a drain on the blocking pool at once, and whatever arrives while that transaction runs
//! forms the next group. A step that fails (a constraint, a refused write, a panicking decision)
//! is rolled back to its savepoint and answered with its error, leaving the others of its group
//! untouched; each step reads what the steps before it in the group wrote. Other processes
//! sharing the file wait on SQLite's write lock (the busy timeout) instead of conflicting.

use std::sync::{Arc, Mutex, PoisonError};

use roster::StoreError;
use roster::store::{Step, lookup};
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::DbError;
use crate::lookup::InTransaction;
use crate::write;

/// The most steps one transaction takes: bounds how long a step waits behind its group.
const MAX_GROUP: usize = 256;

/// A step waiting for the writer, and where its answer goes.
pub(crate) struct Job {
    step: Step,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// Steps waiting for the writer, and whether a drain is running to take them.
#[derive(Default)]
pub(crate) struct Queue {
    jobs: Vec<Job>,
    draining: bool,
}

/// The writer's queue, shared between the callers and the drain.
#[derive(Default, Clone)]
pub(crate) struct Group {
    queue: Arc<Mutex<Queue>>,
}

impl Group {
    /// Runs `step` in the next group on `writer`.
    pub(crate) async fn transact(
        &self,
        writer: &Arc<tokio::sync::Mutex<Connection>>,
        step: Step,
    ) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let lead = {
            let mut queue = self.lock();
            queue.jobs.push(Job { step, reply });
            !std::mem::replace(&mut queue.draining, true)
        };
        if lead {
            let drain = Drain {
                group: self.clone(),
                finished: false,
            };
            let writer = writer.clone();
            // Detached: the drain finishes (and answers) even if this caller goes away.
            drop(tokio::task::spawn_blocking(move || {
                let mut conn = writer.blocking_lock();
                drain.run(&mut conn);
            }));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::backend("the writer stopped before answering")))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The one running drain of a queue. Dropped, even unrun (a runtime shutting down) or by a
/// panic, it lets the next step start a drain and fails the steps it leaves behind.
struct Drain {
    group: Group,
    /// Set once the drain has handed the queue back; from then on another drain may own it.
    finished: bool,
}

impl Drain {
    fn run(mut self, conn: &mut Connection) {
        loop {
            let jobs = {
                let mut queue = self.group.lock();
                if queue.jobs.is_empty() {
                    queue.draining = false;
                    self.finished = true;
                    return;
                }
                let take = queue.jobs.len().min(MAX_GROUP);
                queue.jobs.drain(..take).collect::<Vec<_>>()
            };
            commit(conn, jobs);
        }
    }
}

impl Drop for Drain {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Unrun or cut short: this drain still owns the queue. Whatever waits is answered by
        // dropping its reply, and the next step starts a drain of its own.
        let mut queue = self.group.lock();
        queue.jobs.clear();
        queue.draining = false;
    }
}

/// Runs `jobs` in one transaction and answers each.
fn commit(conn: &mut Connection, jobs: Vec<Job>) {
    // A transaction left open by a panic in an earlier group would make BEGIN fail.
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    if let Err(error) = conn.execute_batch("BEGIN IMMEDIATE") {
        answer_all_failed(jobs.into_iter().map(|job| job.reply), &error);
        return;
    }
    let mut answers = Vec::with_capacity(jobs.len());
    for mut job in jobs {
        let result = in_savepoint(conn, &mut job.step);
        answers.push((job.reply, result));
    }
    if let Err(error) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        answer_all_failed(answers.into_iter().map(|(reply, _)| reply), &error);
        return;
    }
    for (reply, result) in answers {
        // A caller that went away no longer needs its answer; its step is committed all the same.
        let _ = reply.send(result);
    }
}

/// One step inside its own savepoint: kept whole, or rolled back whole.
fn in_savepoint(conn: &Connection, step: &mut Step) -> Result<(), StoreError> {
    conn.execute_batch("SAVEPOINT step")
        .map_err(DbError::from)?;
    let result = run_step(conn, step);
    let end = match &result {
        Ok(()) => conn.execute_batch("RELEASE step"),
        Err(_) => conn.execute_batch("ROLLBACK TO step; RELEASE step"),
    };
    end.map_err(DbError::from)?;
    result
}

fn run_step(conn: &Connection, step: &mut Step) -> Result<(), StoreError> {
    if !step.deliveries.is_empty() {
        write::write_change(conn, &step.deliveries_change())?;
    }
    let snapshot = lookup::gather(&mut InTransaction(conn), &step.read)?;
    let change = step.decide(snapshot)?;
    write::write_change(conn, &change)?;
    Ok(())
}

/// A read-only step, on a reader: inside one deferred transaction, so everything it reads comes
/// from one snapshot, without waiting for the writer.
pub(crate) fn look(conn: &Connection, mut step: Step) -> Result<(), DbError> {
    let tx = conn.unchecked_transaction()?;
    let snapshot = lookup::gather(&mut InTransaction(&tx), &step.read)?;
    let change = step.decide(snapshot)?;
    // Only reads happened: ending the transaction releases the snapshot.
    tx.commit()?;
    if !change.is_empty() {
        return Err(StoreError::backend("a read-only step decided to write").into());
    }
    Ok(())
}

/// Answers every step of a group whose transaction failed as a whole.
fn answer_all_failed(
    replies: impl Iterator<Item = oneshot::Sender<Result<(), StoreError>>>,
    error: &rusqlite::Error,
) {
    for reply in replies {
        let _ = reply.send(Err(same_failure(error)));
    }
}

/// `error` as each step of a failed group hears it: retryable when SQLite was busy or locked.
fn same_failure(error: &rusqlite::Error) -> StoreError {
    let message = format!("the group's transaction failed: {error}");
    if crate::error::is_busy(error) {
        StoreError::transient(message)
    } else {
        StoreError::backend(message)
    }
}
