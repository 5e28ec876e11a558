//! Versions: the compare-and-swap token of optimistic concurrency.

use serde::{Deserialize, Serialize};

/// How many changes an entity (a project or a user) has gone through. The service reads it, decides,
/// and asks the store to apply its change only if the version is still the one it read; every
/// applied change bumps it by one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Version(pub u64);

impl Version {
    /// The version of a freshly created entity.
    pub const INITIAL: Version = Version(0);

    /// The version after one more change.
    pub fn next(self) -> Version {
        Version(self.0 + 1)
    }
}
