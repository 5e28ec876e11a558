//! Typed identifiers: UUID v7 newtypes, so ids sort by creation time and one kind of id can never be
//! passed where another is expected.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::random::RandomSource;

/// The last id handed out by this process, so ids made in the same millisecond still sort in the
/// order they were made (listings promise creation order).
static LAST_ID: Mutex<u128> = Mutex::new(0);

/// Builds a UUID v7 from the injected clock reading and random source, never from the system.
/// Within one process ids are strictly increasing: an id that would not sort after the previous
/// one becomes the previous one plus one (in the random bits, which keeps it a valid v7).
pub(crate) fn new_v7(now: DateTime<Utc>, random: &dyn RandomSource) -> Uuid {
    let mut bytes = [0u8; 10];
    random.fill_bytes(&mut bytes);
    let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    let candidate = uuid::Builder::from_unix_timestamp_millis(millis, &bytes)
        .into_uuid()
        .as_u128();
    let mut last = LAST_ID
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let id = if candidate > *last {
        candidate
    } else {
        *last + 1
    };
    *last = id;
    Uuid::from_u128(id)
}

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps an existing UUID (for example one read back from storage).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// A new time-ordered id from the given clock reading and random source.
            pub fn generate(now: DateTime<Utc>, random: &dyn RandomSource) -> Self {
                Self(new_v7(now, random))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }
    };
}

define_id!(
    /// Identifies an [`Account`](crate::Account), the tenant that owns projects.
    AccountId
);
define_id!(
    /// Identifies a [`Project`](crate::Project).
    ProjectId
);
define_id!(
    /// Identifies a [`User`](crate::User), registered or only invited.
    UserId
);
define_id!(
    /// Identifies an [`Invitation`](crate::Invitation).
    InvitationId
);
define_id!(
    /// Identifies an [`AuditEvent`](crate::AuditEvent).
    EventId
);
define_id!(
    /// Identifies an [`OutboxEntry`](crate::OutboxEntry), one notice waiting for or past delivery.
    NoticeId
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;
    use chrono::TimeZone;

    #[test]
    fn ids_carry_the_clock_reading() {
        // Later than any other id this test binary makes, so no earlier id sorts after it.
        let now = Utc.with_ymd_and_hms(2400, 1, 1, 0, 0, 0).unwrap();
        let id = ProjectId::generate(now, &SeededRandom::new(7));
        let (seconds, _) = id.as_uuid().get_timestamp().unwrap().to_unix();
        assert_eq!(i64::try_from(seconds).unwrap(), now.timestamp());
        assert_eq!(id.as_uuid().get_version_num(), 7);
    }

    #[test]
    fn a_clock_going_backwards_does_not_break_the_order() {
        let random = SeededRandom::new(8);
        let late = Utc.with_ymd_and_hms(2300, 1, 1, 0, 0, 0).unwrap();
        let first = UserId::generate(late, &random);
        let second = UserId::generate(late - chrono::Duration::days(1), &random);
        assert!(first < second);
    }

    #[test]
    fn ids_made_in_one_millisecond_keep_their_order() {
        let random = SeededRandom::new(9);
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        let ids: Vec<EventId> = (0..1000).map(|_| EventId::generate(now, &random)).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(ids.iter().all(|id| id.as_uuid().get_version_num() == 7));
    }

    #[test]
    fn ids_round_trip_through_text() {
        let random = SeededRandom::new(1);
        let id = UserId::generate(Utc::now(), &random);
        assert_eq!(id.to_string().parse::<UserId>().unwrap(), id);
        assert!(format!("{id:?}").starts_with("UserId("));
    }
}
