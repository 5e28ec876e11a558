//! Password hashing with argon2id, salted from the injected random source.

use argon2::password_hash::{
    PasswordHash as PhcHash, PasswordHasher as _, PasswordVerifier as _, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::config::PasswordPolicy;
use crate::error::RosterError;
use crate::random::RandomSource;
use crate::user::PasswordHash;

/// Checks a password against the policy's length bounds.
pub(crate) fn check_length(policy: &PasswordPolicy, password: &str) -> Result<(), RosterError> {
    let chars = password.chars().count();
    if chars < policy.min_length || password.len() > policy.max_length {
        return Err(RosterError::PasswordLength {
            min: policy.min_length,
            max: policy.max_length,
        });
    }
    Ok(())
}

/// The policy's argon2 costs, as argon2 takes them (or its refusal of them).
pub(crate) fn argon2_params(policy: &PasswordPolicy) -> Result<Params, argon2::Error> {
    Params::new(
        policy.memory_kib,
        policy.iterations,
        policy.parallelism,
        None,
    )
}

/// Hashes a password with the policy's cost.
pub(crate) fn hash(
    policy: &PasswordPolicy,
    random: &dyn RandomSource,
    password: &str,
) -> Result<PasswordHash, RosterError> {
    hash_with_salt(policy, salt(random), password)
}

/// A fresh salt for [`hash_with_salt`].
pub(crate) fn salt(random: &dyn RandomSource) -> [u8; 16] {
    let mut salt = [0u8; 16];
    random.fill_bytes(&mut salt);
    salt
}

/// [`hash`] with a salt drawn beforehand, so the slow part can run on another thread.
pub(crate) fn hash_with_salt(
    policy: &PasswordPolicy,
    salt: [u8; 16],
    password: &str,
) -> Result<PasswordHash, RosterError> {
    let params =
        argon2_params(policy).map_err(|e| RosterError::PasswordHashing(e.to_string().into()))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| RosterError::PasswordHashing(e.to_string().into()))?;
    let phc = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| RosterError::PasswordHashing(e.to_string().into()))?;
    Ok(PasswordHash::from_phc(phc.to_string()))
}

/// Whether `password` matches `stored`. The cost parameters come from the stored hash, so hashes
/// made under an older policy keep working.
pub(crate) fn verify(stored: &PasswordHash, password: &str) -> bool {
    PhcHash::new(stored.as_phc())
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let policy = PasswordPolicy::insecure_fast_for_tests();
        let hashed = hash(&policy, &SeededRandom::new(1), "correct horse").unwrap();
        assert!(hashed.as_phc().starts_with("$argon2id$"));
        assert!(verify(&hashed, "correct horse"));
        assert!(!verify(&hashed, "correct horsE"));
        assert!(!verify(&PasswordHash::from_phc("garbage"), "correct horse"));
    }

    #[test]
    fn salts_differ_so_equal_passwords_hash_differently() {
        let policy = PasswordPolicy::insecure_fast_for_tests();
        let random = SeededRandom::new(2);
        assert_ne!(
            hash(&policy, &random, "same-pass").unwrap(),
            hash(&policy, &random, "same-pass").unwrap()
        );
    }

    #[test]
    fn length_bounds_are_enforced() {
        let policy = PasswordPolicy::default().min_length(3).max_length(5);
        assert!(check_length(&policy, "abc").is_ok());
        assert!(check_length(&policy, "ab").is_err());
        assert!(check_length(&policy, "abcdef").is_err());
        // Counted in characters at the bottom, so three accented letters pass.
        assert!(check_length(&policy.min_length(3).max_length(64), "äöü").is_ok());
    }
}
