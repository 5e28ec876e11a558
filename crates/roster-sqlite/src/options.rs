//! How a [`SqliteStore`](crate::SqliteStore) opens its file: journal mode, durability, how long
//! to wait for a busy database, how many reader connections to keep.

use std::time::Duration;

/// SQLite's journal mode: how a transaction is made atomic on disk.
///
/// Persistent in the file for [`JournalMode::Wal`]; the other modes are per connection.
/// Ignored by [`SqliteStore::open_in_memory`](crate::SqliteStore::open_in_memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum JournalMode {
    /// Write-ahead log (the default). Readers never block the writer and the writer never blocks
    /// readers, which is what lets the store serve reads from several connections while a change
    /// is being applied. Needs a file system with shared memory (not a network file system).
    #[default]
    Wal,
    /// Rollback journal, deleted after each transaction (SQLite's own default). Readers and the
    /// writer exclude each other, so concurrent reads wait for commits (up to the busy timeout).
    Delete,
    /// Rollback journal, truncated instead of deleted after each transaction.
    Truncate,
}

impl JournalMode {
    /// The value of `PRAGMA journal_mode`.
    pub fn as_str(self) -> &'static str {
        match self {
            JournalMode::Wal => "wal",
            JournalMode::Delete => "delete",
            JournalMode::Truncate => "truncate",
        }
    }
}

/// SQLite's `synchronous` setting: how hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Synchronous {
    /// Every commit is on disk before `apply` returns (the default): a power cut loses nothing
    /// that was acknowledged. Costs one `fsync` per change.
    #[default]
    Full,
    /// In WAL mode, commits are synced at checkpoints only: the database stays consistent after a
    /// power cut, but the last changes acknowledged before it may be lost (a process crash loses
    /// nothing). Faster for many small changes; choose it when losing the last second of
    /// invitations to a power cut is acceptable. In rollback-journal modes it can corrupt the
    /// file on power loss, so keep `Full` there.
    Normal,
    /// Like `Full`, and also syncs the directory after deleting a rollback journal. Only matters
    /// in [`JournalMode::Delete`].
    Extra,
}

impl Synchronous {
    /// The value of `PRAGMA synchronous`.
    pub fn as_str(self) -> &'static str {
        match self {
            Synchronous::Full => "full",
            Synchronous::Normal => "normal",
            Synchronous::Extra => "extra",
        }
    }
}

/// Settings for [`SqliteStore::open_with`](crate::SqliteStore::open_with). Start from
/// [`SqliteOptions::default`] and change what you need, with the chaining setters or the fields:
///
/// ```
/// use std::time::Duration;
/// use roster_sqlite::{SqliteOptions, Synchronous};
///
/// let options = SqliteOptions::default()
///     .synchronous(Synchronous::Normal)
///     .busy_timeout(Duration::from_secs(10))
///     .readers(8);
/// assert_eq!(options.readers, 8);
/// ```
///
/// The defaults favour safety over speed: WAL journal, `synchronous = FULL`, a 5 second busy
/// timeout and four reader connections.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// The journal mode (default [`JournalMode::Wal`]).
    pub journal_mode: JournalMode,
    /// How hard commits wait for the disk (default [`Synchronous::Full`]).
    pub synchronous: Synchronous,
    /// How long a connection waits for a lock held by another connection or process before
    /// giving up (default 5 seconds). Writers queue behind each other within this time; past it
    /// a call fails with a retryable [`StoreError`](roster::StoreError).
    pub busy_timeout: Duration,
    /// How many connections serve reads beside the one writer (default 4). With 0, reads share
    /// the writer connection and wait while a change is being applied.
    pub readers: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            journal_mode: JournalMode::Wal,
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(5),
            readers: 4,
        }
    }
}

impl SqliteOptions {
    /// Sets [`SqliteOptions::journal_mode`].
    #[must_use]
    pub fn journal_mode(mut self, mode: JournalMode) -> Self {
        self.journal_mode = mode;
        self
    }

    /// Sets [`SqliteOptions::synchronous`].
    #[must_use]
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// Sets [`SqliteOptions::busy_timeout`].
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Sets [`SqliteOptions::readers`].
    #[must_use]
    pub fn readers(mut self, readers: usize) -> Self {
        self.readers = readers;
        self
    }
}
