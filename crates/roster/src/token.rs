//! Invitation tokens: 256 random bits handed out once, stored only as a SHA-256 hash.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::random::RandomSource;

const TOKEN_BYTES: usize = 32;

/// The secret in an invitation link. It is shown once (in the notice and the command's outcome)
/// and never stored: the store keeps only its [`TokenHash`]. `Debug` and `Display` redact it;
/// [`InvitationToken::expose_secret`] is the one way to read it, for building the link.
///
/// Not serializable on purpose: a token must never end up in a log or a database by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationToken([u8; TOKEN_BYTES]);

impl InvitationToken {
    /// Draws a fresh token of 256 random bits.
    pub fn generate(random: &dyn RandomSource) -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        random.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The token as URL-safe base64 (43 characters), for the invitation link.
    pub fn expose_secret(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// The hash under which the store knows this token.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0).into())
    }
}

impl fmt::Debug for InvitationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InvitationToken(<redacted>)")
    }
}

impl fmt::Display for InvitationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The text was not a token this library could have issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed invitation token")]
#[non_exhaustive]
pub struct MalformedToken;

impl FromStr for InvitationToken {
    type Err = MalformedToken;

    /// Parses the text of a link (as produced by [`InvitationToken::expose_secret`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s.trim())
            .map_err(|_| MalformedToken)?;
        bytes.try_into().map(Self).map_err(|_| MalformedToken)
    }
}

/// SHA-256 of a token: what the store indexes. A plain (unsalted, fast) hash is right here because
/// the token has 256 bits of entropy; there is nothing to brute-force.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Wraps stored hash bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The hash bytes, for storage.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    // Only a prefix: enough to tell hashes apart in a log, useless for anything else.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TokenHash({:02x}{:02x}{:02x}{:02x}…)",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    #[test]
    fn token_is_redacted_in_debug_and_display() {
        let token = InvitationToken::generate(&SeededRandom::new(1));
        let secret = token.expose_secret();
        assert_eq!(secret.len(), 43);
        assert!(!format!("{token:?}").contains(&secret));
        assert!(!format!("{token}").contains(&secret));
    }

    #[test]
    fn token_round_trips_through_its_link_text() {
        let token = InvitationToken::generate(&SeededRandom::new(2));
        let parsed: InvitationToken = token.expose_secret().parse().unwrap();
        assert_eq!(parsed, token);
        assert_eq!(parsed.hash(), token.hash());
    }

    #[test]
    fn malformed_tokens_are_refused() {
        assert_eq!("".parse::<InvitationToken>(), Err(MalformedToken));
        assert_eq!("abc".parse::<InvitationToken>(), Err(MalformedToken));
        assert_eq!("!!!!".parse::<InvitationToken>(), Err(MalformedToken));
    }

    #[test]
    fn different_tokens_hash_differently() {
        let random = SeededRandom::new(3);
        let (a, b) = (
            InvitationToken::generate(&random),
            InvitationToken::generate(&random),
        );
        assert_ne!(a, b);
        assert_ne!(a.hash(), b.hash());
    }
}
