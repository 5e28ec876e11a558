//! # roster-memory
//!
//! An in-memory [`Store`](roster::Store) for [roster], and a [`Notifier`](roster::Notifier)
//! that records what it would have sent.
//!
//! - [`InMemoryStore`] keeps every account, project, user, membership, invitation, audit event
//!   and outbox entry in memory behind one lock. It honours the whole `Store` contract (atomic
//!   changes, version preconditions, uniqueness) and answers every read a command makes through
//!   an index, so it is fast enough for large data sets too.
//! - [`RecordingNotifier`] delivers nothing: it keeps each notice (with its token) so a test or
//!   a demo can read "the email" and follow its link, and can be told to fail.
//!
//! ## When to use it
//!
//! In tests and demos; and in a single-process service that can accept losing every invitation
//! and membership on restart. Anything else wants a persistent store (`roster-sqlite`, or
//! `roster-postgres` for several instances) and a real notifier (`roster-smtp`).
//!
//! ## Example
//!
//! ```
//! use std::sync::Arc;
//! use roster::{ManualClock, PasswordPolicy, Roster, RosterConfig, SeededRandom};
//! use roster_memory::{InMemoryStore, RecordingNotifier};
//!
//! let store = Arc::new(InMemoryStore::new());
//! let notifier = RecordingNotifier::new();
//! let clock = Arc::new(ManualClock::new("2026-01-01T00:00:00Z".parse().unwrap()));
//! let roster = Roster::builder(store.clone(), Arc::new(notifier.clone()))
//!     .clock(clock.clone())
//!     .random(Arc::new(SeededRandom::new(42)))
//!     .config(RosterConfig::default().passwords(PasswordPolicy::insecure_fast_for_tests()))
//!     .build()
//!     .expect("a valid configuration");
//! // `roster` now runs every command against `store`; `notifier` shows what was sent.
//! assert!(notifier.messages().is_empty());
//! # let _ = roster;
//! ```

#![forbid(unsafe_code)]

mod apply;
mod keys;
mod lookup;
mod notifier;
mod state;
mod store;
mod undo;

#[cfg(test)]
mod unit_tests;

pub use notifier::{Failure, RecordingNotifier};
pub use store::InMemoryStore;
