//! Role keys: what memberships and invitations store. What a key means (its rank, whether it
//! manages members, its permissions) is the [`RoleCatalog`](crate::RoleCatalog)'s to say.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The stable key of a role, as stored on memberships and invitations: 1 to
/// [`Role::MAX_LEN`] bytes of lower-case ASCII letters, digits, `_`, `-` and `.`, starting with a
/// letter. A small `Copy` value with no allocation.
///
/// A key says nothing by itself: the service's [`RoleCatalog`](crate::RoleCatalog) gives it a
/// display name, a rank and its rights, and a key the catalog no longer has grants nothing.
/// Keys deliberately have no order: compare ranks through the catalog.
///
/// ```
/// use roster::Role;
///
/// const ENGINEER: Role = Role::from_static("engineer");
/// assert_eq!(ENGINEER.as_str(), "engineer");
/// assert_eq!(Role::new("engineer").unwrap(), ENGINEER);
/// assert!(Role::new("Engineer").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Role {
    len: u8,
    bytes: [u8; Role::MAX_LEN],
}

/// Why a string is not a role key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoleKeyError {
    /// The key is empty.
    #[error("a role key cannot be empty")]
    Empty,
    /// The key is longer than [`Role::MAX_LEN`] bytes.
    #[error("a role key has at most {max} bytes, this one has {len}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// [`Role::MAX_LEN`].
        max: usize,
    },
    /// The key has a character outside `a-z`, `0-9`, `_`, `-`, `.`, or does not start with a
    /// letter.
    #[error("a role key is lower-case letters, digits, '_', '-' and '.', starting with a letter")]
    BadCharacter,
}

const fn check(key: &[u8]) -> Result<(), RoleKeyError> {
    if key.is_empty() {
        return Err(RoleKeyError::Empty);
    }
    if key.len() > Role::MAX_LEN {
        return Err(RoleKeyError::TooLong {
            len: key.len(),
            max: Role::MAX_LEN,
        });
    }
    if !key[0].is_ascii_lowercase() {
        return Err(RoleKeyError::BadCharacter);
    }
    let mut i = 0;
    while i < key.len() {
        let byte = key[i];
        if !(byte.is_ascii_lowercase()
            || byte.is_ascii_digit()
            || byte == b'_'
            || byte == b'-'
            || byte == b'.')
        {
            return Err(RoleKeyError::BadCharacter);
        }
        i += 1;
    }
    Ok(())
}

impl Role {
    /// The longest key, in bytes.
    pub const MAX_LEN: usize = 32;

    /// Default catalog: may look at the project, change nothing.
    pub const OBSERVER: Role = Role::from_static("observer");
    /// Default catalog: may use the project.
    pub const USER: Role = Role::from_static("user");
    /// Default catalog: may invite, resend, revoke, change roles and remove members.
    pub const ADMINISTRATOR: Role = Role::from_static("administrator");
    /// Default catalog: held on the account, an Administrator of every project of it; never
    /// granted by invitation.
    pub const ACCOUNT_ADMINISTRATOR: Role = Role::from_static("account_administrator");

    /// The key `key`, for constants. Panics (at compile time, in a `const`) if it is not a
    /// valid key; use [`Role::new`] for keys from input.
    pub const fn from_static(key: &'static str) -> Role {
        match Role::from_bytes(key.as_bytes()) {
            Ok(role) => role,
            Err(_) => panic!("not a role key: see `Role` for the allowed characters"),
        }
    }

    /// The key `key`, if valid.
    pub fn new(key: &str) -> Result<Role, RoleKeyError> {
        Role::from_bytes(key.as_bytes())
    }

    const fn from_bytes(key: &[u8]) -> Result<Role, RoleKeyError> {
        if let Err(error) = check(key) {
            return Err(error);
        }
        let mut bytes = [0; Role::MAX_LEN];
        let mut i = 0;
        while i < key.len() {
            bytes[i] = key[i];
            i += 1;
        }
        Ok(Role {
            len: key.len() as u8,
            bytes,
        })
    }

    /// The key, as stored.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever copied in, so this cannot fail; the fallback keeps it panic-free.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }

    /// Parses a stored key: [`Role::new`], for decoders that only need to know it failed.
    pub fn from_name(key: &str) -> Option<Role> {
        Role::new(key).ok()
    }
}

impl fmt::Debug for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Role({})", self.as_str())
    }
}

/// The key. For people, show the catalog's display name
/// ([`RoleCatalog::display_name`](crate::RoleCatalog::display_name)).
impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = RoleKeyError;

    fn from_str(key: &str) -> Result<Role, RoleKeyError> {
        Role::new(key)
    }
}

impl Serialize for Role {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Role, D::Error> {
        let key = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Role::new(&key).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        assert_eq!(Role::new(""), Err(RoleKeyError::Empty));
        assert!(matches!(
            Role::new(&"a".repeat(33)),
            Err(RoleKeyError::TooLong { len: 33, max: 32 })
        ));
        assert!(Role::new(&"a".repeat(32)).is_ok());
        for bad in ["Admin", "1st", "_x", "a b", "é", "a\n", "a'b"] {
            assert_eq!(Role::new(bad), Err(RoleKeyError::BadCharacter), "{bad:?}");
        }
        assert_eq!(
            Role::new("purge_prefetch.api-web").unwrap().as_str(),
            "purge_prefetch.api-web"
        );
    }

    #[test]
    fn the_default_keys_are_the_stored_names() {
        assert_eq!(Role::OBSERVER.as_str(), "observer");
        assert_eq!(Role::USER.as_str(), "user");
        assert_eq!(Role::ADMINISTRATOR.as_str(), "administrator");
        assert_eq!(
            Role::ACCOUNT_ADMINISTRATOR.as_str(),
            "account_administrator"
        );
    }

    #[test]
    fn serde_round_trips_and_refuses_bad_keys() {
        let json = serde_json::to_string(&Role::ADMINISTRATOR).unwrap();
        assert_eq!(json, "\"administrator\"");
        assert_eq!(
            serde_json::from_str::<Role>(&json).unwrap(),
            Role::ADMINISTRATOR
        );
        assert!(serde_json::from_str::<Role>("\"Root\"").is_err());
    }
}
