//! The bridge between async callers and blocking SQLite connections.
//!
//! One writer connection, behind an async mutex, applies every change; a fixed set of reader
//! connections, handed out under a semaphore, serves reads. The short reads a command makes
//! before it writes use the writer instead when it is idle (see
//! `Connections::read_short`). Waiting for either happens in the
//! async world (no thread is parked while a task queues), and the SQLite call itself runs on
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

    /// Runs `work`, a few index lookups, on the writer connection if it is idle, else on a
    /// reader. `work` sees committed data only.
    ///
    /// For the reads a command makes right before it writes, which then finds the pages it
    /// changes in the writer's cache: read on a reader, they would be read from the file twice
    /// (a reader starting after another connection's commit also drops its whole cache). Taking
    /// the writer only when idle, and only for short work, delays a change arriving meanwhile
    /// by the time the work takes plus the wait for a blocking-pool thread, normally
    /// microseconds.
    pub(crate) async fn read_short<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
    {
        match self.writer.clone().try_lock_owned() {
            Ok(conn) => blocking(move || work(&conn)).await,
            Err(_) => self.read(work).await,
        }
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
