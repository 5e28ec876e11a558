//! The bridge between async callers and blocking SQLite connections.
//!
//! One writer connection runs every step, in group commits (see `group`); a fixed set of reader
//! connections, handed out under a semaphore, serves the listings. Waiting for a reader happens
//! in the async world (no thread is parked while a task queues), and SQLite itself runs on
//! Tokio's blocking pool, so a slow `fsync` never stalls the runtime's workers.
//!
//! An in-memory database has no readers: separate in-memory connections would each see their own
//! empty database, so reads go through the writer connection too.

use std::sync::{Arc, Mutex, PoisonError};

use roster::StoreError;
use roster::store::Step;
use rusqlite::Connection;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::DbError;
use crate::group::Group;

/// The connections of one store.
pub(crate) struct Connections {
    writer: Arc<tokio::sync::Mutex<Connection>>,
    readers: Option<Readers>,
    group: Group,
}

/// Reader connections not in use, and one permit per connection.
struct Readers {
    permits: Arc<Semaphore>,
    idle: Arc<Mutex<Vec<Connection>>>,
}

/// A reader connection on loan; it goes back to the idle list when dropped, even if the work on
/// it panicked, and only then is its permit released.
struct Lease {
    conn: Option<Connection>,
    idle: Arc<Mutex<Vec<Connection>>>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(conn);
        }
    }
}

impl Connections {
    /// `writer` applies changes; `readers` (which may be empty) serve reads.
    pub(crate) fn new(writer: Connection, readers: Vec<Connection>) -> Self {
        let readers = (!readers.is_empty()).then(|| Readers {
            permits: Arc::new(Semaphore::new(readers.len())),
            idle: Arc::new(Mutex::new(readers)),
        });
        Connections {
            writer: Arc::new(tokio::sync::Mutex::new(writer)),
            readers,
            group: Group::default(),
        }
    }

    /// Runs `step` on the writer, in the next group commit (see `group`).
    pub(crate) async fn transact(&self, step: Step) -> Result<(), StoreError> {
        self.group.transact(&self.writer, step).await
    }

    /// Runs `work` on the writer connection, alone.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    {
        let mut conn = self.writer.clone().lock_owned().await;
        blocking(move || work(&mut conn)).await
    }

    /// Runs `work` on a reader connection (the writer's, for an in-memory database). `work`
    /// sees committed data only.
    pub(crate) async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
    {
        let Some(readers) = &self.readers else {
            return self.write(move |conn| work(conn)).await;
        };
        let permit = readers
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(StoreError::backend)?;
        let conn = readers
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let Some(conn) = conn else {
            // One connection per permit: a permit without a connection is a bug here.
            return Err(StoreError::backend("no idle reader behind a permit"));
        };
        let lease = Lease {
            conn: Some(conn),
            idle: readers.idle.clone(),
            _permit: permit,
        };
        blocking(move || {
            let lease = lease;
            match &lease.conn {
                Some(conn) => work(conn),
                None => Err(StoreError::backend("reader lease without a connection").into()),
            }
        })
        .await
    }
}

/// Runs `work` on Tokio's blocking pool.
async fn blocking<T, F>(work: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, DbError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(StoreError::from),
        Err(join) => Err(StoreError::backend(join)),
    }
}
