//! Local development mode's stand-in for a Clerk token: without Clerk there is no session
//! to mint from, so tools call the app with a token this server signs itself (HS256 with
//! its signing key), clearly marked so that no app mistakes it for Clerk's.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde::Serialize;

/// The `iss` of every development token.
pub const ISSUER: &str = "clerk-mcp-development";

/// How long a development token lives, like a Clerk session token.
pub const LIFETIME_SECS: u64 = 60;

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'static str,
    sub: &'a str,
    iat: u64,
    exp: u64,
    /// Says it again, for apps that look for a flag rather than an issuer.
    development: bool,
}

/// A development token for `user_id` and its expiry.
pub fn token(key: &[u8], user_id: &str, now: u64) -> Result<(String, u64), String> {
    crate::crypto::install();
    let exp = now + LIFETIME_SECS;
    let claims = Claims {
        iss: ISSUER,
        sub: user_id,
        iat: now,
        exp,
        development: true,
    };
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("development".into());
    encode(&header, &claims, &EncodingKey::from_secret(key))
        .map(|jwt| (jwt, exp))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, decode};

    #[test]
    fn a_development_token_verifies_with_the_key_and_says_what_it_is() {
        let (jwt, exp) = token(b"secret", "local:ada", 1_000).unwrap();
        assert_eq!(exp, 1_060);
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.set_issuer(&[ISSUER]);
        let data =
            decode::<serde_json::Value>(&jwt, &DecodingKey::from_secret(b"secret"), &validation)
                .unwrap();
        assert_eq!(data.claims["sub"], "local:ada");
        assert_eq!(data.claims["development"], true);
        assert!(
            decode::<serde_json::Value>(&jwt, &DecodingKey::from_secret(b"other"), &validation)
                .is_err()
        );
    }
}
