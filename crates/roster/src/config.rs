//! Configuration: limits, delivery schedule, password policy.
//!
//! The structs are `#[non_exhaustive]`, so new settings are not breaking changes: start from
//! `Default` (or a preset) and change what you need with the setters, or assign the public
//! fields. [`RosterBuilder::build`](crate::RosterBuilder::build) checks the whole configuration
//! ([`RosterConfig::validate`]) and refuses one that could not keep its promises.
//!
//! ```
//! use chrono::Duration;
//! use roster::{DeliveryPolicy, Limits, RosterConfig};
//!
//! let config = RosterConfig::default()
//!     .limits(Limits::portal().rows_per_invite(100))
//!     .delivery(DeliveryPolicy::default().send_deadline(Duration::seconds(20)));
//! assert!(config.validate().is_ok());
//! let broken = config.delivery(DeliveryPolicy::default().lease(Duration::seconds(10)));
//! assert_eq!(broken.validate().unwrap_err().field(), "delivery.lease");
//! ```

use chrono::Duration;

/// Chainable setters, one per field, each documented by the field it sets.
macro_rules! setters {
    ($ty:ident { $($field:ident: $value:ty),* $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("Sets [`", stringify!($field), "`](Self::", stringify!($field), ").")]
                #[must_use]
                pub fn $field(mut self, $field: $value) -> Self {
                    self.$field = $field;
                    self
                }
            )*
        }
    };
}

/// Limits that answer with [`RosterError::LimitReached`](crate::RosterError::LimitReached) (or a
/// per-row [`InviteOutcome::LimitReached`](crate::InviteOutcome::LimitReached)), never a silent drop.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
pub struct DeliveryPolicy {
    /// Delay before the first retry; doubled after each failure, with jitter. Default: 30 s.
    pub initial_backoff: Duration,
    /// The longest delay between two attempts. Default: 1 hour.
    pub max_backoff: Duration,
    /// How long an attempt in flight keeps the entry from being picked up by another worker. A
    /// process that dies mid-attempt has its notices picked up again after this. Default: 5 min.
    pub lease: Duration,
    /// The longest one send may take (connecting, every command, the message), enforced by
    /// roster around the notifier: a send cut by it is a temporary failure, retried later. A
    /// command starts no send after one deadline (what is left goes to the delivery worker), so
    /// it waits for its mail at most two. Must leave the lease room: `lease` must be at least
    /// twice `send_deadline` plus `record_delay`, so that a send, however slow, ends and is
    /// recorded before anyone else may take its notice. At least 1 s. Default: 30 s.
    pub send_deadline: Duration,
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
            send_deadline: Duration::seconds(30),
            batch_size: 100,
            concurrency: 4,
            record_delay: Duration::milliseconds(200),
        }
    }
}

/// How passwords are checked and hashed (argon2id).
///
/// Hashing runs on Tokio's blocking pool inside a Tokio runtime (the `worker` feature), never
/// on an async worker. In a debug build argon2 is slow unless optimized: add
/// `[profile.dev.package.argon2]` and `[profile.dev.package.blake2]` with `opt-level = 3` to
/// the service's `Cargo.toml` (a dependency's profile settings do not reach its users).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
pub struct RosterConfig {
    /// Limits on invitations.
    pub limits: Limits,
    /// Retry schedule of the outbox.
    pub delivery: DeliveryPolicy,
    /// Password rules and hashing cost.
    pub passwords: PasswordPolicy,
}

setters!(Limits {
    invitation_lifetime: Duration,
    invitations_per_inviter_per_day: Option<u32>,
    pending_invitations_per_project: Option<u32>,
    rows_per_invite: usize,
});

setters!(DeliveryPolicy {
    initial_backoff: Duration,
    max_backoff: Duration,
    lease: Duration,
    send_deadline: Duration,
    batch_size: usize,
    concurrency: usize,
    record_delay: Duration,
});

setters!(PasswordPolicy {
    min_length: usize,
    max_length: usize,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
});

setters!(RosterConfig {
    limits: Limits,
    delivery: DeliveryPolicy,
    passwords: PasswordPolicy,
});

/// A configuration [`RosterBuilder::build`](crate::RosterBuilder::build) refuses: which setting,
/// and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A setting out of its range, or at odds with another.
    #[error("invalid setting `{field}`: {reason}")]
    Invalid {
        /// The setting, as a path from [`RosterConfig`] (`delivery.lease`).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl ConfigError {
    /// The setting refused, as a path from [`RosterConfig`] (`delivery.lease`).
    pub fn field(&self) -> &'static str {
        match self {
            ConfigError::Invalid { field, .. } => field,
        }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// Refuses a duration below `floor` (zero, or anything above it).
fn at_least(field: &'static str, value: Duration, floor: Duration) -> Result<(), ConfigError> {
    if value < floor {
        return Err(invalid(field, format!("{value} is below {floor}")));
    }
    Ok(())
}

impl RosterConfig {
    /// Checks every setting, and those that depend on each other, the way
    /// [`RosterBuilder::build`](crate::RosterBuilder::build) does.
    ///
    /// Refused: a zero or negative invitation lifetime or first backoff; a send deadline under a
    /// second; a record delay below zero; a longest backoff below the first; a lease shorter than twice
    /// the send deadline plus the record delay (a slow send could then outlive its lease, and a
    /// second send with a fresh token race it); zero rows per invite; a shortest password longer
    /// than the longest, or a longest of zero; argon2 costs argon2 itself refuses.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let tick = Duration::nanoseconds(1);
        let limits = &self.limits;
        at_least(
            "limits.invitation_lifetime",
            limits.invitation_lifetime,
            tick,
        )?;
        if limits.rows_per_invite == 0 {
            return Err(invalid(
                "limits.rows_per_invite",
                "an invite must allow one row",
            ));
        }
        let delivery = &self.delivery;
        at_least("delivery.initial_backoff", delivery.initial_backoff, tick)?;
        at_least(
            "delivery.max_backoff",
            delivery.max_backoff,
            delivery.initial_backoff,
        )?;
        // Below a second no SMTP exchange completes, and every notice would be cut forever.
        at_least(
            "delivery.send_deadline",
            delivery.send_deadline,
            Duration::seconds(1),
        )?;
        at_least(
            "delivery.record_delay",
            delivery.record_delay,
            Duration::zero(),
        )?;
        let needed = delivery
            .send_deadline
            .checked_add(&delivery.send_deadline)
            .and_then(|two| two.checked_add(&delivery.record_delay));
        match needed {
            Some(needed) if delivery.lease >= needed => {}
            _ => {
                return Err(invalid(
                    "delivery.lease",
                    format!(
                        "{} is shorter than twice the send deadline ({}) plus the record delay \
                         ({})",
                        delivery.lease, delivery.send_deadline, delivery.record_delay
                    ),
                ));
            }
        }
        let passwords = &self.passwords;
        if passwords.max_length == 0 {
            return Err(invalid("passwords.max_length", "no password would fit"));
        }
        if passwords.min_length > passwords.max_length {
            return Err(invalid(
                "passwords.min_length",
                format!(
                    "{} characters is more than the longest accepted password ({} bytes)",
                    passwords.min_length, passwords.max_length
                ),
            ));
        }
        crate::password::argon2_params(passwords).map_err(|error| {
            invalid("passwords", format!("argon2 refuses these costs: {error}"))
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_and_the_presets_are_valid() {
        RosterConfig::default().validate().unwrap();
        RosterConfig::default()
            .limits(Limits::portal())
            .passwords(PasswordPolicy::insecure_fast_for_tests())
            .validate()
            .unwrap();
    }

    #[test]
    fn each_refusal_names_its_setting() {
        let delivery = DeliveryPolicy::default();
        let cases = [
            (
                RosterConfig::default()
                    .limits(Limits::default().invitation_lifetime(Duration::zero())),
                "limits.invitation_lifetime",
            ),
            (
                RosterConfig::default().limits(Limits::default().rows_per_invite(0)),
                "limits.rows_per_invite",
            ),
            (
                RosterConfig::default()
                    .delivery(delivery.clone().initial_backoff(Duration::seconds(-1))),
                "delivery.initial_backoff",
            ),
            (
                RosterConfig::default().delivery(
                    delivery
                        .clone()
                        .initial_backoff(Duration::hours(2))
                        .max_backoff(Duration::hours(1)),
                ),
                "delivery.max_backoff",
            ),
            (
                RosterConfig::default().delivery(delivery.clone().send_deadline(Duration::zero())),
                "delivery.send_deadline",
            ),
            (
                // Positive, but below the floor of a second.
                RosterConfig::default()
                    .delivery(delivery.clone().send_deadline(Duration::milliseconds(500))),
                "delivery.send_deadline",
            ),
            (
                RosterConfig::default()
                    .delivery(delivery.clone().record_delay(Duration::milliseconds(-1))),
                "delivery.record_delay",
            ),
            (
                // 2 × 30 s + 200 ms is 60.2 s: a minute is not enough.
                RosterConfig::default().delivery(delivery.clone().lease(Duration::minutes(1))),
                "delivery.lease",
            ),
            (
                // Twice the longest deadline overflows: no lease can cover it.
                RosterConfig::default().delivery(
                    delivery
                        .clone()
                        .send_deadline(Duration::MAX)
                        .lease(Duration::MAX),
                ),
                "delivery.lease",
            ),
            (
                RosterConfig::default().passwords(PasswordPolicy::default().max_length(0)),
                "passwords.max_length",
            ),
            (
                RosterConfig::default()
                    .passwords(PasswordPolicy::default().min_length(100).max_length(50)),
                "passwords.min_length",
            ),
            (
                RosterConfig::default().passwords(PasswordPolicy::default().parallelism(0)),
                "passwords",
            ),
        ];
        for (config, field) in cases {
            let error = config.validate().expect_err(field);
            assert_eq!(error.field(), field, "{error}");
            assert!(error.to_string().contains(field), "{error}");
        }
    }

    #[test]
    fn the_lease_may_be_exactly_two_deadlines_and_the_record_delay() {
        let delivery = DeliveryPolicy::default()
            .send_deadline(Duration::seconds(10))
            .record_delay(Duration::seconds(1))
            .lease(Duration::seconds(21));
        RosterConfig::default()
            .delivery(delivery)
            .validate()
            .unwrap();
    }
}
