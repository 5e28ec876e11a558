//! # roster-sqlite
//!
//! A [`Store`](roster::Store) for [roster] in one SQLite file: durable, no server to run, and
//! safe when many tasks, several connections or several processes use the same file.
//! SQLite is compiled in (rusqlite's `bundled` feature), so nothing needs to be installed.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use roster::Store;
//! use roster_sqlite::{SqliteOptions, SqliteStore, Synchronous};
//!
//! let dir = tempfile::tempdir()?;
//! // Safe defaults: WAL, synchronous = FULL, 5 s busy timeout, 4 readers.
//! let store = SqliteStore::open(dir.path().join("roster.db"))?;
//! // Or choose the settings:
//! let tuned = SqliteStore::open_with(
//!     dir.path().join("other.db"),
//!     SqliteOptions::default().synchronous(Synchronous::Normal),
//! )?;
//! // For tests: a private in-memory database.
//! let scratch: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory()?);
//! # let _ = (store, tuned, scratch);
//! # Ok(())
//! # }
//! ```
//!
//! ## How async calls reach SQLite
//!
//! SQLite calls block, and a commit with `synchronous = FULL` waits for the disk. The store
//! therefore never calls SQLite on an async worker thread: each call runs on Tokio's blocking
//! pool (`spawn_blocking`), and a Tokio runtime is required.
//!
//! - **One writer connection** runs every step, in group commits: the steps waiting for it go
//!   into one transaction, a savepoint each, and one commit. SQLite allows one writer per file at
//!   a time anyway; queueing steps in the process is cheaper than letting them fight over the
//!   file lock. Other processes on the same file queue on SQLite's lock instead, for up to the
//!   busy timeout.
//! - **A small pool of reader connections** (4 by default) serves reads. Under WAL a reader sees
//!   the last committed state and neither blocks nor waits for the writer, so reads go on while
//!   a change commits. Listings are one statement each; a read-only step runs its reads inside
//!   one read transaction, so it sees one consistent snapshot.
//! - **In memory** ([`SqliteStore::open_in_memory`]) there is one connection for everything,
//!   because each in-memory connection would see its own, empty database.
//!
//! A dedicated writer thread would serve as well; `spawn_blocking` was chosen because it needs no
//! thread of its own to start and stop, and tasks queueing for a connection of this store wait
//! without holding a thread (only SQLite's own wait for another process's lock does).
//!
//! ## Atomic, guarded changes
//!
//! [`Store::transact`](roster::Store::transact) runs each step in its savepoint of one
//! `BEGIN IMMEDIATE` transaction shared by its group.
//! Each expectation is a guarded `UPDATE projects SET version = version + 1 WHERE id = ? AND
//! version = ?`; no row means the project is gone (`NotFound`) or moved (`Conflict`). Then every
//! write of the change, in the documented order; the first error rolls everything back. Outbox
//! entries are rows of the same transaction as the state they announce, so a notice is queued if
//! and only if its change committed, and one that was not delivered before a crash is still
//! queued when the process starts again.
//!
//! Constraints back the core's rules as a second line: a unique token hash, at most one
//! stored-pending invitation per (project, canonical address) (a partial unique index), one
//! membership per (project, user), one user per canonical address, and foreign keys (enforced)
//! from a membership to its project and user and from an invitation to its project. Violations
//! become the contract's errors: `AlreadyExists` for the entity written, `NotFound(Project)` /
//! `NotFound(User)` for a missing parent. A database still busy after the busy timeout (another
//! process holding the write lock) is a retryable `StoreError::Backend`; any other SQLite
//! failure a permanent one. Updates of invitations and outbox entries write only the columns
//! that changed, so they leave alone the indexes that do not involve them.
//!
//! ## Settings
//!
//! See [`SqliteOptions`]. The defaults are chosen for safety:
//! - [`JournalMode::Wal`]: concurrent readers, and a crash at any point leaves the last
//!   committed state.
//! - [`Synchronous::Full`]: a change acknowledged by `apply` survives a power cut.
//!   [`Synchronous::Normal`] is faster (no `fsync` per commit under WAL) at the price of losing
//!   the last acknowledged changes, never consistency, on power loss.
//! - a busy timeout of 5 seconds, so writers in other processes wait for each other instead of
//!   failing.
//!
//! ## The file
//!
//! Tables: `accounts`, `account_administrators`, `projects`, `users`, `memberships`,
//! `invitations`, `audit_events`, `outbox`, and `roster_schema` (applied migrations). Ids are
//! 16-byte BLOBs (`hex(id)` in the `sqlite3` shell), instants INTEGER nanoseconds since the Unix
//! epoch (`datetime(created_at / 1e9, 'unixepoch')`), enums their lower-case names, addresses
//! both as typed and canonical. Invitation tokens are stored only as their SHA-256 hash; no
//! plaintext token is ever written. The schema is embedded and migrated on open, forward only;
//! a file from a newer version is refused with [`SqliteError::SchemaTooNew`].

#![forbid(unsafe_code)]

// First: the table descriptions define the column-list macros the statements use.
#[macro_use]
mod tables;
mod checkpoint;
mod codec;
mod error;
mod group;
mod lookup;
mod migrate;
mod options;
mod pool;
mod read;
#[macro_use]
mod sql;
mod store;
mod update;
mod write;

pub use error::SqliteError;
pub use migrate::SCHEMA_VERSION;
pub use migrate::{EmailCollision, EmailConflicts, RefusedEmail};
pub use options::{JournalMode, SqliteOptions, Synchronous};
pub use store::SqliteStore;

/// The rusqlite version this crate uses, whose [`rusqlite::Error`] is the source of
/// [`SqliteError`]s.
pub use rusqlite;
