//! [`ProjectQueue`]: the steps of one instance that lock the same project wait their turn here,
//! in the process, rather than each holding a pooled connection and a server backend while it
//! waits on the project's row lock.
//!
//! The row lock alone keeps every rule (instances still queue on it); this only keeps an
//! instance's own waiters off the server. Without it, 8 instances of 8 tasks on one project
//! kept 32 backends waiting on one row on a 2-core machine, and the time the lock was held
//! (two round trips and a decision) grew with the scheduling of all of them: throughput fell
//! as instances were added.

use std::hash::{BuildHasher, Hash};

use roster::ProjectId;
use roster::store::{Read, Step};
use tokio::sync::{Mutex, MutexGuard};

/// How many queues the projects are spread over: enough that projects busy at the same time
/// rarely share one (sharing only makes them take turns, as one project's steps do).
const STRIPES: usize = 1024;

/// Per-project turns for the writing steps of one store (one instance).
pub(crate) struct ProjectQueue {
    stripes: Box<[Mutex<()>]>,
    hasher: std::collections::hash_map::RandomState,
}

impl ProjectQueue {
    pub(crate) fn new() -> Self {
        ProjectQueue {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// Waits for the turn of `project` (see [`project_of`]); no turn to wait for without one.
    pub(crate) async fn turn(&self, project: Option<ProjectId>) -> Option<MutexGuard<'_, ()>> {
        let project = project?;
        let mut state = self.hasher.build_hasher();
        project.hash(&mut state);
        let at = (std::hash::Hasher::finish(&state) as usize) % self.stripes.len();
        Some(self.stripes[at].lock().await)
    }
}

/// The project whose row lock a writing step takes first, when the step names it (a step found
/// through an invitation or an outbox entry learns its project only on the server, and waits
/// there alone).
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
