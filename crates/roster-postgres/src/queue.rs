//! [`Queues`]: the writing steps of one instance wait here, per project, for the transaction that
//! runs them (see [`crate::group`]).
//!
//! Every writing step that names its project first takes that project's row lock, so steps on
//! one project run one at a time however they arrive. Rather than each holding a pooled
//! connection and a server backend while it waits on the row, an instance's steps for one
//! project queue here, and one task at a time runs them, several to a transaction. Without this,
//! 8 instances of 8 tasks on one project kept 32 backends waiting on one row on a 2-core
//! machine, and throughput fell as instances were added.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use roster::store::{Read, Step};
use roster::{ProjectId, StoreError};
use tokio::sync::oneshot;

/// A queued step and where its outcome goes.
pub(crate) struct Waiter {
    pub(crate) step: Step,
    answer: oneshot::Sender<Result<(), StoreError>>,
}

impl Waiter {
    /// Gives the step's caller its outcome (a caller that went away no longer needs it).
    pub(crate) fn answer(self, outcome: Result<(), StoreError>) {
        let _ = self.answer.send(outcome);
    }
}

/// The steps of one store (one instance) waiting, per project. A project is in the map while a
/// task runs its steps; that task takes them out, and removes the project once none is left.
#[derive(Default)]
pub(crate) struct Queues {
    waiting: Mutex<HashMap<ProjectId, VecDeque<Waiter>>>,
}

impl Queues {
    /// Queues `step` on `project`. Returns where its outcome will come, and whether no task was
    /// running the project's steps (the caller must then start one).
    pub(crate) fn join(
        &self,
        project: ProjectId,
        step: Step,
    ) -> (oneshot::Receiver<Result<(), StoreError>>, bool) {
        let (answer, outcome) = oneshot::channel();
        let waiter = Waiter { step, answer };
        let started = match self.lock().entry(project) {
            Entry::Occupied(mut queue) => {
                queue.get_mut().push_back(waiter);
                false
            }
            Entry::Vacant(place) => {
                place.insert(VecDeque::from([waiter]));
                true
            }
        };
        (outcome, started)
    }

    /// The next step waiting on `project`, if any.
    pub(crate) fn next(&self, project: ProjectId) -> Option<Waiter> {
        self.lock().get_mut(&project)?.pop_front()
    }

    /// The next step waiting on `project`; when there is none, the running task is done, and the
    /// next step to come starts another.
    pub(crate) fn next_or_finish(&self, project: ProjectId) -> Option<Waiter> {
        let mut waiting = self.lock();
        let next = waiting.get_mut(&project)?.pop_front();
        if next.is_none() {
            waiting.remove(&project);
        }
        next
    }

    /// Puts `waiter` back at the head of `project`'s queue, for the running task's next
    /// transaction.
    pub(crate) fn put_back(&self, project: ProjectId, waiter: Waiter) {
        self.lock().entry(project).or_default().push_front(waiter);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ProjectId, VecDeque<Waiter>>> {
        // Nothing panics while holding it; a poisoned map is still whole.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The project whose row lock a writing step takes first, when the step names it (a step found
/// through an invitation or an outbox entry learns its project only on the server, and runs
/// alone).
pub(crate) fn project_of(step: &Step) -> Option<ProjectId> {
    if step.read_only {
        return None;
    }
    match &step.read {
        Read::Project { project, .. } | Read::Member { project, .. } => Some(*project),
        Read::Invite(query) => Some(query.project),
        _ => None,
    }
}
