//! The injected clock: expiry, rolling limits and retry schedules are all decided against it.

use std::fmt;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Tells the current time. The service never reads the system clock itself.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to: for tests of expiry and rate limits.
///
/// ```
/// use roster::{Clock, ManualClock};
/// let clock = ManualClock::new("2026-01-01T00:00:00Z".parse().unwrap());
/// clock.advance(chrono::Duration::days(8));
/// assert_eq!(clock.now().to_rfc3339(), "2026-01-09T00:00:00+00:00");
/// ```
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(start))
    }

    /// Moves the clock forward (or backward, with a negative duration).
    pub fn advance(&self, by: Duration) {
        *self.lock() += by;
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: DateTime<Utc>) {
        *self.lock() = to;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DateTime<Utc>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&*self.lock()).finish()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.lock()
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

/// `at + by`, or the latest instant `chrono` can hold if that is past it: configured durations
/// and injected clocks may be anything their types allow, and no command may panic on them.
pub(crate) fn later(at: DateTime<Utc>, by: chrono::TimeDelta) -> DateTime<Utc> {
    at.checked_add_signed(by)
        .unwrap_or(if by < chrono::TimeDelta::zero() {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        })
}

/// `at - by`, saturating as [`later`] does.
pub(crate) fn earlier(at: DateTime<Utc>, by: chrono::TimeDelta) -> DateTime<Utc> {
    at.checked_sub_signed(by)
        .unwrap_or(if by < chrono::TimeDelta::zero() {
            DateTime::<Utc>::MAX_UTC
        } else {
            DateTime::<Utc>::MIN_UTC
        })
}

#[cfg(test)]
mod saturating_tests {
    use chrono::{DateTime, TimeDelta, Utc};

    use super::{earlier, later};

    #[test]
    fn times_saturate_instead_of_overflowing() {
        let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(later(now, TimeDelta::hours(1)), now + TimeDelta::hours(1));
        assert_eq!(later(now, TimeDelta::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(later(now, TimeDelta::MIN), DateTime::<Utc>::MIN_UTC);
        assert_eq!(earlier(now, TimeDelta::hours(1)), now - TimeDelta::hours(1));
        assert_eq!(
            earlier(DateTime::<Utc>::MIN_UTC, TimeDelta::hours(24)),
            DateTime::<Utc>::MIN_UTC
        );
        assert_eq!(earlier(now, TimeDelta::MIN), DateTime::<Utc>::MAX_UTC);
    }
}
