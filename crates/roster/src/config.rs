//! Configuration: limits, delivery schedule, password policy.

use chrono::Duration;

/// Limits that answer with [`RosterError::LimitReached`](crate::RosterError::LimitReached) (or a
/// per-row [`InviteOutcome::LimitReached`](crate::InviteOutcome::LimitReached)), never a silent drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// How long an invitation link works after it was (last) sent. Default: 7 days.
    pub invitation_lifetime: Duration,
    /// How many invitation emails one person may send in any rolling 24 hours, across all
    /// projects. First sends, refreshes and resends each count against the person who made
    /// them, whoever sends the same invitation later: a colleague's resend never gives budget
    /// back. Default: off. [`Limits::portal`] sets 5.
    pub invitations_per_inviter_per_day: Option<u32>,
    /// How many invitations a project may have pending at once. Default: off.
    pub pending_invitations_per_project: Option<u32>,
    /// How many rows one `invite` call may carry. Default: 10,000.
    pub rows_per_invite: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            invitation_lifetime: Duration::days(7),
            invitations_per_inviter_per_day: None,
            pending_invitations_per_project: None,
            rows_per_invite: 10_000,
        }
    }
}

impl Limits {
    /// The limits of the cloud portal roster follows: invitation links that work for 24 hours,
    /// and 5 invitations per inviter per rolling 24 hours; no cap on a project's pending
    /// invitations, and the default of 10,000 rows per call.
    pub fn portal() -> Self {
        Limits {
            invitation_lifetime: chrono::Duration::hours(24),
            invitations_per_inviter_per_day: Some(5),
            ..Limits::default()
        }
    }
}

/// How notices are retried when the notifier fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Delay before the first retry; doubled after each failure, with jitter. Default: 30 s.
    pub initial_backoff: Duration,
    /// The longest delay between two attempts. Default: 1 hour.
    pub max_backoff: Duration,
    /// How long an attempt in flight keeps the entry from being picked up by another worker. A
    /// process that dies mid-attempt has its notices picked up again after this. Default: 5 min.
    pub lease: Duration,
    /// How many due notices one pass of the worker takes. Default: 100.
    pub batch_size: usize,
    /// How many notices are sent at once, by a delivery pass and right after a command that
    /// queued several (a bulk invitation). A mail server is slow per message but handles several
    /// connections well; keep it at or below the notifier's connection pool. `0` counts as 1.
    /// Default: 4.
    pub concurrency: usize,
    /// How soon after a send its outcome is written when no command comes along to carry it
    /// (see [`Roster::flush`](crate::Roster::flush)). Until then the entry stays leased, so keep
    /// it well below `lease`. Default: 200 ms.
    pub record_delay: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        DeliveryPolicy {
            initial_backoff: Duration::seconds(30),
            max_backoff: Duration::hours(1),
            lease: Duration::minutes(5),
            batch_size: 100,
            concurrency: 4,
            record_delay: Duration::milliseconds(200),
        }
    }
}

/// How passwords are checked and hashed (argon2id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Shortest accepted password, in characters. Default: 8.
    pub min_length: usize,
    /// Longest accepted password, in bytes (bounds hashing work). Default: 1,024.
    pub max_length: usize,
    /// argon2 memory cost in KiB. Default: 19,456 (OWASP's recommendation).
    pub memory_kib: u32,
    /// argon2 iterations. Default: 2.
    pub iterations: u32,
    /// argon2 parallelism. Default: 1.
    pub parallelism: u32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            max_length: 1024,
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl PasswordPolicy {
    /// The cheapest argon2 settings: for tests and demos only, never for real passwords.
    pub fn insecure_fast_for_tests() -> Self {
        PasswordPolicy {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
            ..PasswordPolicy::default()
        }
    }
}

/// Everything configurable about a [`Roster`](crate::Roster).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RosterConfig {
    /// Limits on invitations.
    pub limits: Limits,
    /// Retry schedule of the outbox.
    pub delivery: DeliveryPolicy,
    /// Password rules and hashing cost.
    pub passwords: PasswordPolicy,
}
