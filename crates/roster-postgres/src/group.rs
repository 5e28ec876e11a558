//! Group commit: the writing steps of one instance on one project, queued in [`Queues`], run one
//! after another in a single transaction that takes the project's row lock once and commits
//! once.
//!
//! One task per busy project runs them ([`PostgresStore::drive`]), so a caller that goes away
//! takes nobody's transaction with it. Within the transaction each step sees the writes of the
//! steps before it, exactly as if each had committed alone, in that order:
//!
//! - The first step of a transaction runs as a step alone does: `BEGIN`, its locks, its delivery
//!   records and its reads in one batch; its decision; its writes in the next. A later step's
//!   batch starts with the writes of the step before it, then `SAVEPOINT` and its own reads,
//!   so a step costs one round trip, and the transaction one more for its `COMMIT`.
//! - A step that is refused (by its decision, or by the server when its writes fail) is rolled
//!   back to its savepoint, and the others go on; without one, the transaction is rolled back
//!   and the next step opens another. A refused step's writes are in no batch a later step
//!   reads after, so no decision ever saw them.
//! - The last step's writes travel with the `COMMIT`. If they fail, the commit becomes a
//!   rollback: that step has its answer, and the others run again in a new transaction (each
//!   decision is called once per attempt, as the contract allows).
//! - Nobody hears an outcome before the commit: a refusal may rest on a write of an earlier
//!   step that the commit could still lose.
//! - A joining step takes its other locks without waiting (see [`Locking::Joined`]); one that
//!   would have to wait goes back to the head of the queue and opens the next transaction.
//! - A transaction holds at most [`MOST_STEPS`] steps: it keeps the row lock that much longer
//!   for others, and more subtransactions than PostgreSQL caches per backend (64) would slow
//!   down every snapshot on the server.

use deadpool_postgres::ClientWrapper;
use roster::{Change, ProjectId, StoreError};

use crate::error::{connection_lost, lock_unavailable, shared};
use crate::gather::{self, Locking};
use crate::pipeline::{Failure, Pipeline};
use crate::queue::Waiter;
use crate::store::{PostgresStore, end};
use crate::write;

/// The most steps one transaction runs.
const MOST_STEPS: usize = 32;

const BEGIN: &str = "BEGIN ISOLATION LEVEL READ COMMITTED";
const SAVEPOINT: &str = "SAVEPOINT step";
const RELEASE: &str = "RELEASE SAVEPOINT step";
const ROLLBACK_STEP: &str = "ROLLBACK TO SAVEPOINT step";

/// A step of the running transaction, with its outcome once decided.
struct Member {
    waiter: Waiter,
    outcome: Option<Result<(), StoreError>>,
}

/// How an attempt at the transaction ended.
enum Ended {
    /// It committed: every member has its outcome.
    Committed,
    /// It rolled back, having answered the step that made it (see the module documentation): the
    /// members left go again.
    Again,
}

/// A failure of the transaction as a whole, and whether its commit had been sent.
struct Lost {
    error: StoreError,
    committing: bool,
}

/// Where a batch's statements come from, to tell whose a failure is.
struct Batch {
    pipeline: Pipeline,
    /// The previous step's writes: the member, their positions, and whether it has a savepoint.
    writes: Option<(usize, std::ops::Range<usize>, bool)>,
}

impl Batch {
    fn new() -> Self {
        Batch {
            pipeline: Pipeline::default(),
            writes: None,
        }
    }
}

/// Where the running transaction stands.
#[derive(Clone, Copy)]
struct Transaction {
    /// `BEGIN` has been sent or is in the batch.
    open: bool,
    /// A step succeeded in it (and it holds the project's row lock): the next one joins it.
    joined: bool,
}

impl PostgresStore {
    /// Runs the steps queued on `project` until none is left.
    pub(crate) async fn drive(self, project: ProjectId) {
        while let Some(first) = self.queues.next_or_finish(project) {
            self.run_group(project, first).await;
        }
    }

    /// Runs `first` and the steps that queue behind it, to at most [`MOST_STEPS`], in one
    /// transaction, and answers each. As with a step alone, a connection found closed before
    /// the `COMMIT` was sent is replaced and the whole transaction tried again.
    async fn run_group(&self, project: ProjectId, first: Waiter) {
        let mut members = vec![Member {
            waiter: first,
            outcome: None,
        }];
        let mut tries = self.pool_size() + 1;
        'connection: loop {
            tries -= 1;
            let session = match self.session().await {
                Ok(session) => session,
                Err(error) => return answer_all(members, error),
            };
            loop {
                for member in &mut members {
                    member.outcome = None;
                }
                match self.attempt(session.client(), project, &mut members).await {
                    Ok(Ended::Committed) => {
                        session.keep();
                        for member in members {
                            let outcome = member.outcome.unwrap_or_else(|| {
                                Err(StoreError::backend(
                                    "a step of the transaction went undecided",
                                ))
                            });
                            member.waiter.answer(outcome);
                        }
                        return;
                    }
                    Ok(Ended::Again) if members.is_empty() => {
                        session.keep();
                        return;
                    }
                    Ok(Ended::Again) => continue,
                    Err(Lost { error, committing }) => {
                        if connection_lost(&error) {
                            if !committing && tries > 0 {
                                // Dropping the session closes what is left of the connection.
                                continue 'connection;
                            }
                            return answer_all(members, error);
                        }
                        // Rolled back, or closed if even that fails; `end` hands the error back.
                        if let Err(error) = end(session, Err::<(), _>(error)).await {
                            answer_all(members, error);
                        }
                        return;
                    }
                }
            }
        }
    }

    /// One attempt at the transaction: the members in order, then any that queue meanwhile.
    async fn attempt(
        &self,
        client: &ClientWrapper,
        project: ProjectId,
        members: &mut Vec<Member>,
    ) -> Result<Ended, Lost> {
        let mut batch = Batch::new();
        let mut tx = Transaction {
            open: false,
            joined: false,
        };
        // Once a step has gone back to the queue, no more join: it opens the next transaction.
        let mut taking = true;
        let mut at = 0;
        loop {
            if at == members.len()
                && taking
                && members.len() < MOST_STEPS
                && let Some(waiter) = self.queues.next(project)
            {
                members.push(Member {
                    waiter,
                    outcome: None,
                });
            }
            if at == members.len() {
                return finish(client, batch, tx, members).await;
            }
            let locking = if tx.joined {
                Locking::Joined
            } else {
                Locking::Wait
            };
            let (prelude, plan) = match gather::prelude(&members[at].waiter.step, locking) {
                Ok(prelude) => prelude,
                Err(error) => {
                    members[at].outcome = Some(Err(error));
                    at += 1;
                    continue;
                }
            };
            if !tx.open {
                batch.pipeline.command(BEGIN);
                tx.open = true;
            }
            if tx.joined {
                batch.pipeline.command(SAVEPOINT);
            }
            let reads_at = batch.pipeline.append(prelude);
            let sent = std::mem::replace(&mut batch, Batch::new());
            let rows = match sent.pipeline.run_at(client).await {
                Ok(rows) => rows,
                Err(Failure { at: failed, error }) => {
                    if connection_lost(&error) {
                        return Err(Lost {
                            error,
                            committing: false,
                        });
                    }
                    if let Some((member, writes, savepoint)) = sent.writes
                        && writes.contains(&failed)
                    {
                        // The previous step's writes were refused; this step goes again.
                        members[member].outcome = Some(Err(error));
                        undo(&mut batch.pipeline, &mut tx, savepoint);
                        continue;
                    }
                    if failed < reads_at {
                        // `BEGIN`, `SAVEPOINT` or a rollback failed: the transaction did.
                        return Err(Lost {
                            error,
                            committing: false,
                        });
                    }
                    let joined = tx.joined;
                    if joined && lock_unavailable(&error) {
                        let member = members.remove(at);
                        self.queues.put_back(project, member.waiter);
                        taking = false;
                    } else {
                        members[at].outcome = Some(Err(error));
                        at += 1;
                    }
                    undo(&mut batch.pipeline, &mut tx, joined);
                    continue;
                }
            };
            let savepoint = tx.joined;
            let step = &mut members[at].waiter.step;
            let decided = gather::snapshot(plan, &rows[reads_at..]).and_then(|s| step.decide(s));
            match decided.and_then(|change| writes(&change)) {
                Ok(writes) => {
                    let start = batch.pipeline.append(writes);
                    let range = start..batch.pipeline.len();
                    if savepoint {
                        batch.pipeline.command(RELEASE);
                    }
                    batch.writes = Some((at, range, savepoint));
                    tx.joined = true;
                    members[at].outcome = Some(Ok(()));
                }
                Err(refusal) => {
                    members[at].outcome = Some(Err(refusal));
                    undo(&mut batch.pipeline, &mut tx, savepoint);
                }
            }
            at += 1;
        }
    }
}

/// A change's writes as a batch of their own, or the refusal known before sending them.
fn writes(change: &Change) -> Result<Pipeline, StoreError> {
    let mut p = Pipeline::default();
    match write::add_change(&mut p, change)? {
        Some(refusal) => Err(refusal),
        None => Ok(p),
    }
}

/// Adds what undoes a step that did not go through: back to its savepoint, or, when it opened
/// the transaction, the whole of it.
fn undo(p: &mut Pipeline, tx: &mut Transaction, savepoint: bool) {
    if savepoint {
        p.command(ROLLBACK_STEP);
        p.command(RELEASE);
    } else {
        p.command("ROLLBACK");
        *tx = Transaction {
            open: false,
            joined: false,
        };
    }
}

/// Sends what is left with the `COMMIT` (or the rollback that closed the transaction).
async fn finish(
    client: &ClientWrapper,
    mut batch: Batch,
    tx: Transaction,
    members: &mut Vec<Member>,
) -> Result<Ended, Lost> {
    if tx.open {
        batch.pipeline.command("COMMIT");
    }
    if batch.pipeline.len() == 0 {
        return Ok(Ended::Committed);
    }
    match batch.pipeline.run_at(client).await {
        Ok(_) => Ok(Ended::Committed),
        Err(Failure { at, error }) => match batch.writes {
            Some((member, writes, _)) if writes.contains(&at) && !connection_lost(&error) => {
                let culprit = members.remove(member);
                culprit.waiter.answer(Err(error));
                Ok(Ended::Again)
            }
            _ => Err(Lost {
                error,
                committing: tx.open,
            }),
        },
    }
}

/// Answers every member with `error`, the failure of the transaction they shared.
fn answer_all(members: Vec<Member>, error: StoreError) {
    let count = members.len();
    for (member, error) in members.into_iter().zip(shared(error, count)) {
        member.waiter.answer(Err(error));
    }
}
