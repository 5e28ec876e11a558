//! Real email for [`roster`]: an SMTP [`Notifier`](roster::Notifier) that turns notices
//! into `multipart/alternative` messages (plain text and HTML) and sends them through any SMTP
//! server, with TLS (STARTTLS or implicit), credentials and a connection pool.
//!
//! - A new person gets an invitation with a link to accept and create a password; an existing
//!   user gets an access notice with a link to accept; a revoked invitation gets a notice that the
//!   link no longer works.
//! - The text comes from [`Templates`]: good-looking English by default, overridable per kind of
//!   notice, per part (subject, text, HTML) and per language, with fallback to the default
//!   language. Everything user-supplied is escaped in HTML, and nothing user-supplied can add a
//!   header (line breaks in names are flattened).
//! - Failures say whether retrying can help, and roster's outbox acts on it: temporary ones are
//!   retried with exponential backoff and jitter, permanent ones are marked failed with the
//!   server's reason and listed by [`Roster::notices`](roster::Roster::notices).
//!
//! ```no_run
//! use std::sync::Arc;
//! use roster::{DeliveryWorker, Roster, Store};
//! use roster_smtp::{SmtpConfig, SmtpNotifier};
//!
//! # async fn demo(store: Arc<dyn Store>) -> Result<(), Box<dyn std::error::Error>> {
//! let config: SmtpConfig = "smtp://mailer:secret@mail.example.com:587?tls=starttls".parse()?;
//! let notifier = SmtpNotifier::builder(
//!     config,
//!     "no-reply@portal.example.com",
//!     "https://portal.example.com/invitations",
//! )
//! .from_name("Example Portal")
//! .build()?;
//! notifier.check_connection().await?;
//! let roster = Roster::new(store, Arc::new(notifier));
//! // Retries what could not be sent right after a command (or run `deliver_pending` from cron).
//! let worker = DeliveryWorker::spawn(roster.clone(), std::time::Duration::from_secs(30));
//! // ... serve ...
//! worker.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Delivery guarantee: at least once
//!
//! This crate does not queue anything itself: it sends what roster's outbox hands it. The outbox
//! writes each notice in the same transaction as the change it announces, sends it right after
//! the commit, and keeps it queued when the send fails, so an SMTP outage delays mail but never
//! loses it: [`Roster::deliver_due`](roster::Roster::deliver_due) (on a timer, or through a
//! [`DeliveryWorker`](roster::DeliveryWorker)) or
//! [`Roster::deliver_pending`](roster::Roster::deliver_pending) (from cron) sends it later.
//!
//! A notice is sent twice only when a delivery is cut after the server took the message but
//! before its answer arrived (a dropped connection, a timeout, a process killed mid-send): the
//! outbox cannot know the message went out, and sends it again. Links stay safe: every send of
//! an invitation carries a fresh token and disables the previous one, so **the link in the last
//! email delivered for an invitation is the one that works**. No send outlives the lease that
//! protects it: roster cuts each send at
//! [`DeliveryPolicy::send_deadline`](roster::DeliveryPolicy::send_deadline), which it checks
//! against the lease, and a notifier whose send was cut retires its connection pool, so the
//! next message starts on a clean connection. Keep [`SmtpConfig::timeout`] (each step) below
//! the deadline (the whole send).
//!
//! # Testing against a local server
//!
//! Any SMTP server on 127.0.0.1 will do, for example Python's `aiosmtpd`, which prints every
//! message it receives:
//!
//! ```sh
//! python3 -m venv /tmp/smtpd && /tmp/smtpd/bin/pip install aiosmtpd
//! /tmp/smtpd/bin/python -m aiosmtpd -n -l 127.0.0.1:2525
//! ```
//!
//! and `smtp://127.0.0.1:2525?tls=none` as the configuration.

mod classify;
mod config;
mod error;
mod message;
mod notifier;
mod templates;

pub use config::{ConfigError, Credentials, Security, SmtpConfig};
pub use error::BuildError;
pub use message::LinkBase;
pub use notifier::{SmtpNotifier, SmtpNotifierBuilder};
pub use templates::{BUILTIN_LANGUAGE, Part, TemplateError, Templates, kind_name};
