//! PKCE (RFC 7636), S256 only.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::Error;

/// RFC 7636 §4.1: a verifier is 43 to 128 unreserved characters.
const VERIFIER_LEN: std::ops::RangeInclusive<usize> = 43..=128;
/// BASE64URL of a SHA-256 digest, unpadded, is always 43 characters.
const S256_CHALLENGE_LEN: usize = 43;

/// A validated S256 code challenge, as stored with an authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// Parses `code_challenge` and `code_challenge_method` from an authorization request.
    ///
    /// OAuth 2.1 §4.1.1 makes PKCE mandatory, and RFC 7636 §4.2 `plain` offers no
    /// protection against a leaked code, so only `S256` is accepted; an absent method
    /// would mean `plain` (RFC 7636 §4.3) and is refused too.
    pub fn parse(challenge: Option<&str>, method: Option<&str>) -> Result<Self, Error> {
        let challenge = challenge.ok_or(Error::MissingParameter("code_challenge"))?;
        match method {
            Some("S256") => {}
            Some(other) => return Err(Error::UnsupportedChallengeMethod(other.to_owned())),
            None => return Err(Error::MissingParameter("code_challenge_method")),
        }
        if challenge.len() != S256_CHALLENGE_LEN || !challenge.bytes().all(is_base64url) {
            return Err(Error::MalformedCodeChallenge);
        }
        Ok(Self(challenge.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// RFC 7636 §4.6: `BASE64URL(SHA256(verifier)) == challenge`, compared in constant
    /// time so response timing reveals nothing about the stored challenge.
    pub fn verify(&self, verifier: &str) -> Result<(), Error> {
        if !VERIFIER_LEN.contains(&verifier.len()) || !verifier.bytes().all(is_unreserved) {
            return Err(Error::MalformedCodeVerifier);
        }
        let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        if constant_time_eq(computed.as_bytes(), self.0.as_bytes()) {
            Ok(())
        } else {
            Err(Error::PkceMismatch)
        }
    }
}

/// RFC 3986 §2.3 unreserved characters, the verifier alphabet.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_7636_appendix_b_example_verifies() {
        let challenge = CodeChallenge::parse(Some(CHALLENGE), Some("S256")).unwrap();
        assert_eq!(challenge.verify(VERIFIER), Ok(()));
    }

    #[test]
    fn a_different_verifier_is_a_mismatch() {
        let challenge = CodeChallenge::parse(Some(CHALLENGE), Some("S256")).unwrap();
        let other = VERIFIER.replace('d', "e");
        assert_eq!(challenge.verify(&other), Err(Error::PkceMismatch));
    }

    #[test]
    fn plain_and_missing_methods_are_refused() {
        assert_eq!(
            CodeChallenge::parse(Some(CHALLENGE), Some("plain")),
            Err(Error::UnsupportedChallengeMethod("plain".into()))
        );
        assert_eq!(
            CodeChallenge::parse(Some(CHALLENGE), None),
            Err(Error::MissingParameter("code_challenge_method"))
        );
        assert_eq!(
            CodeChallenge::parse(None, Some("S256")),
            Err(Error::MissingParameter("code_challenge"))
        );
    }

    #[test]
    fn malformed_challenges_and_verifiers_are_refused() {
        for bad in [
            "short",
            &format!("{CHALLENGE}A"),
            &CHALLENGE.replace('E', "+"),
        ] {
            assert_eq!(
                CodeChallenge::parse(Some(bad), Some("S256")),
                Err(Error::MalformedCodeChallenge),
                "{bad}"
            );
        }
        let challenge = CodeChallenge::parse(Some(CHALLENGE), Some("S256")).unwrap();
        for bad in [
            "a".repeat(42),
            "a".repeat(129),
            format!("{}!", &VERIFIER[..43]),
        ] {
            assert_eq!(
                challenge.verify(&bad),
                Err(Error::MalformedCodeVerifier),
                "{bad}"
            );
        }
    }
}
