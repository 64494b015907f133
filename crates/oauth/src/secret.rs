//! Secrets we mint (client secrets, and later codes and tokens): shown to their owner
//! once, stored only as a SHA-256 hash, never printed.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A secret value. No `Display`, and `Debug` redacts it, so it cannot reach a log by
/// accident; [`Secret::expose`] is the one way to read it (to send it to its owner).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Encodes random bytes (from the platform's CSPRNG) as an unpadded BASE64URL string.
    pub fn from_random(bytes: &[u8]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> SecretHash {
        SecretHash::of(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The SHA-256 of a secret, BASE64URL-encoded: what the store keeps.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SecretHash(String);

impl std::fmt::Display for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl SecretHash {
    pub fn of(presented: &str) -> Self {
        Self(URL_SAFE_NO_PAD.encode(Sha256::digest(presented.as_bytes())))
    }

    /// Whether `presented` hashes to this value. Comparing digests of equal length
    /// byte by byte without early exit keeps timing independent of the stored value.
    pub fn matches(&self, presented: &str) -> bool {
        let other = Self::of(presented);
        self.0.len() == other.0.len()
            && self
                .0
                .bytes()
                .zip(other.0.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = Secret::from_random(&[7u8; 32]);
        assert!(!format!("{secret:?}").contains(secret.expose()));
    }

    #[test]
    fn hash_matches_only_the_same_secret() {
        let secret = Secret::from_random(&[1u8; 32]);
        let hash = secret.hash();
        assert!(hash.matches(secret.expose()));
        assert!(!hash.matches("something else"));
        assert_ne!(
            serde_json::to_string(&hash).unwrap(),
            format!("\"{}\"", secret.expose())
        );
    }

    #[test]
    fn sha256_known_answer() {
        // SHA-256("abc"), FIPS 180-2 B.1, in BASE64URL.
        assert_eq!(
            SecretHash::of("abc"),
            SecretHash("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0".into())
        );
    }
}
