//! # roster-postgres
//!
//! A [`Store`](roster::Store) for [roster] on PostgreSQL, for services that run several
//! instances against one database. Every rule of the core (one pending invitation per address,
//! one membership per acceptance, a manager left in every project, the per-inviter and
//! per-project limits) holds while instances race.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use roster::Store;
//! use roster_postgres::{PostgresOptions, PostgresStore};
//!
//! let store = PostgresStore::connect("postgres://roster@db.internal/app").await?;
//! // Or choose the settings:
//! let tuned = PostgresStore::connect_with(
//!     PostgresOptions::new("postgres://roster@db.internal/app")?
//!         .pool_size(16)
//!         .statement_timeout(Duration::from_secs(5))
//!         .schema("tenant_a")?,
//! )
//! .await?;
//! tuned.check().await?; // readiness
//! let store: Arc<dyn Store> = Arc::new(store);
//! # let _ = store;
//! # Ok(())
//! # }
//! ```
//!
//! ## Isolation, locks, and why they suffice
//!
//! [`Store::transact`](roster::Store::transact) runs each writing step in one `READ COMMITTED`
//! transaction:
//!
//! 1. `BEGIN`, then the step's **project row lock** (`SELECT … FOR NO KEY UPDATE` on
//!    `projects`, found through the invitation or outbox entry when the step names one of
//!    those). Every change to a project's members and invitations is decided under this lock,
//!    so changes to one project are serialized: they queue, and none fails because another was
//!    busy. Different projects never wait for each other. `NO KEY UPDATE` does not block the
//!    key-share locks that foreign-key checks of other inserts take.
//! 2. Only when the step counts what its actor sent in any project (the per-inviter limit), the
//!    **actor's user row lock**, always after the project's: two steps of one inviter in two
//!    projects then queue on it, and the lock order (project, then user) is the same for every
//!    step, so they cannot deadlock. Steps that read an account or a user alone lock that row.
//! 3. The step's delivery records and its reads. Under `READ COMMITTED` each statement sees what
//!    was committed before it started; the reads start after the locks are granted, so they see
//!    every change committed by the step that held the lock before. Nothing they read can
//!    change until the commit: each of it belongs to the locked project (its members, its
//!    invitations, their counts), or to the locked actor (what they sent), or is protected by a
//!    unique index (users by address, tokens).
//! 4. The decision (in the process, no I/O), then the change in the documented order:
//!    expectations as guarded version bumps, accounts, projects, users, memberships,
//!    invitations, audit events, outbox entries; then `COMMIT`.
//!
//! A project's version lives in `project_versions`, one row per version, not in the `projects`
//! row: a bump inserts the next version and deletes the one it supersedes, so the row the
//! project's steps lock is never rewritten. Steps queued on that lock pin the server's oldest
//! snapshot while they wait, and a row updated by every step then gathers dead versions that
//! every lookup walks; measured with 8 instances on one project, that halved throughput. Of two
//! bumps from one version that did not meet at the lock, the second finds the primary key taken
//! and inserts nothing, reported as `StoreError::Conflict`.
//!
//! Unique indexes are the second line: one user per canonical address, one membership per
//! project and user, one token hash, and the partial unique index of one *pending* invitation
//! per project and canonical address. A violation (SQLSTATE 23505) is mapped, by the table whose
//! constraint refused, to `StoreError::AlreadyExists` of that entity; a missing parent (23503)
//! to `NotFound`. Serialization failures and deadlocks (40001, 40P01), lock and statement
//! timeouts, a server shutting down and every connection failure are retryable
//! `StoreError::Backend`s; everything else is permanent. A connection that fails or whose call
//! is cancelled half way is closed rather than returned to the pool, and the server rolls its
//! transaction back: every change is all or nothing. A step whose pooled connection turns out
//! dead (the server restarted) before its `COMMIT` was sent is tried once more on a fresh
//! connection; after the commit was sent, the outcome is unknown and the step answers a
//! retryable error instead.
//!
//! Within one instance (one `PostgresStore` and its clones), writing steps that name their
//! project queue in the process, and one task runs them, several to a transaction (group
//! commit: one row lock and one `COMMIT` for many steps, each behind a savepoint), rather than
//! each waiting as a backend on the row lock; the lock still orders instances, and is what the
//! rules rest on.
//!
//! Read-only steps (previews, permission checks) run in a `REPEATABLE READ READ ONLY`
//! transaction without locks: one consistent snapshot, never waiting for writers. Listings are
//! one statement each.
//!
//! ## Round trips
//!
//! Statements are pipelined: a batch is sent at once and answered in order. A writing step
//! costs **two** round trips: (`BEGIN`, locks, delivery records, reads) and (the change's
//! writes, `COMMIT`). Writes that must find their row raise an error from the database when
//! they do not (`roster_found`, `roster_bumped` in the schema), so a refusal aborts the
//! transaction and the pipelined `COMMIT` becomes a rollback. A step that reads nothing (a
//! change applied as it is) costs **one**, as does a read-only step and every listing. Each
//! context is one joined statement: a bulk invite of 10,000 addresses reads them in one
//! `unnest`, and writes a run of rows into one table as one `INSERT … SELECT FROM unnest`.
//! Statements are prepared once per pooled connection and planned once
//! (`plan_cache_mode = force_generic_plan`: every statement is keyed, so its best plan does
//! not depend on the values). The plans that could depend on statistics (an address's pending
//! invitation among thousands) are held by a test that reads them from the server.
//!
//! ## Distributed PostgreSQL-compatible databases
//!
//! The design relies on row locks (`SELECT … FOR NO KEY UPDATE`), partial unique indexes,
//! data-modifying CTEs with a PL/pgSQL guard function, and, for migrations only, a
//! transaction-level advisory lock (`pg_advisory_xact_lock`). **YugabyteDB** (YSQL) supports
//! all of them and should run the store unchanged. **CockroachDB** has row locks (`FOR UPDATE`;
//! `FOR NO KEY UPDATE` is accepted as `FOR UPDATE`), partial unique indexes and PL/pgSQL
//! functions (23.1 and later), runs transactions as `SERIALIZABLE` (retryable 40001 errors are
//! mapped as such) but has no advisory locks: migrating there needs instances started one at a
//! time. Neither is tested here; the suite runs against PostgreSQL.
//!
//! ## The schema
//!
//! Tables (in the configured schema, `roster` by default, reached through each connection's
//! `search_path`): `accounts`, `account_administrators`, `projects`, `project_versions`, `users`,
//! `memberships`, `invitations`, `audit_events`, `outbox`, and `roster_schema` (applied migrations), as the
//! SQLite store has them. Ids are `uuid`, instants `bigint` nanoseconds since the Unix epoch
//! (exact, as on SQLite), roles `text` keys of the host's catalog without a CHECK, so catalogs
//! change without migrations. No plaintext token is ever stored. A schema written by a newer
//! version is refused with [`PostgresError::SchemaTooNew`], untouched.
//!
//! ## Features
//!
//! - `tls`: [`PostgresOptions::tls`] connects through rustls (`ring`), verified against the
//!   webpki roots or the authorities given to [`PostgresOptions::tls_root_certificates`].

#![forbid(unsafe_code)]

#[macro_use]
mod pipeline;
mod batch;
mod codec;
mod error;
mod gather;
mod group;
mod migrate;
mod options;
mod queue;
mod read;
#[macro_use]
mod sql;
mod store;
mod write;

pub use error::PostgresError;
pub use migrate::SCHEMA_VERSION;
pub use options::PostgresOptions;
pub use store::PostgresStore;
