//! Clerk session tokens: RS256 JWTs signed with the instance's key.

pub use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use crate::Error;
use crate::rs256::Undecodable;

/// Clock skew tolerated on `exp` and `nbf` (Clerk's own SDKs allow a few seconds).
pub const LEEWAY_SECS: u64 = 5;

/// What a verified token must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectations {
    /// The instance's Frontend API URL, the tokens' `iss`.
    pub issuer: String,
    /// Origins the token may have been issued to (`azp`): the app's own origin(s).
    pub authorized_parties: Vec<String>,
}

/// The signed-in user, from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub user_id: String,
    pub session_id: String,
}

#[derive(Debug, Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    sid: Option<String>,
    azp: Option<String>,
    exp: Option<u64>,
    nbf: Option<u64>,
}

/// The key that must have signed the token: a configured PEM public key (no network),
/// or the instance's JWKS.
pub enum Keys<'a> {
    Pem(&'a str),
    Jwks(&'a JwkSet),
}

/// Why [`Keys`] hold no key for a token.
pub(crate) enum KeyProblem {
    /// The set has no key of the token's `kid`.
    Unknown(String),
    /// The PEM key or the set's key cannot be used.
    Bad(String),
}

impl From<KeyProblem> for Error {
    fn from(problem: KeyProblem) -> Self {
        match problem {
            KeyProblem::Unknown(kid) => Error::UnknownKey(kid),
            KeyProblem::Bad(why) => Error::BadKeySet(why),
        }
    }
}

impl Keys<'_> {
    /// The key that must have signed a token whose header names `kid`: the PEM key
    /// whatever the `kid`, or the set's key of that id. Shared by every verifier of
    /// the instance's tokens.
    pub(crate) fn decoding_key(&self, kid: Option<&str>) -> Result<DecodingKey, KeyProblem> {
        match self {
            Keys::Pem(pem) => DecodingKey::from_rsa_pem(pem.as_bytes())
                .map_err(|e| KeyProblem::Bad(e.to_string())),
            Keys::Jwks(set) => {
                let kid = kid.unwrap_or_default();
                let jwk = set
                    .find(kid)
                    .ok_or_else(|| KeyProblem::Unknown(kid.to_owned()))?;
                DecodingKey::from_jwk(jwk).map_err(|e| KeyProblem::Bad(e.to_string()))
            }
        }
    }
}

/// The `kid` a token names, so the caller can refresh a cached JWKS when it is unknown.
pub fn key_id(token: &str) -> Result<Option<String>, Error> {
    crate::crypto::install();
    Ok(jsonwebtoken::decode_header(token)
        .map_err(|_| Error::Malformed)?
        .kid)
}

/// Verifies a Clerk session token: RS256 only (the header's `alg` is never trusted to
/// pick another, which is how `none` and HMAC-confusion forgeries are shut out), the
/// signature, `exp`/`nbf` against `now` with a small leeway, `iss`, `azp`, and that it
/// names a user and a session.
pub fn verify(
    token: &str,
    keys: Keys<'_>,
    expected: &Expectations,
    now: u64,
) -> Result<SessionUser, Error> {
    crate::crypto::install();
    let header = jsonwebtoken::decode_header(token).map_err(|_| Error::Malformed)?;
    if header.alg != Algorithm::RS256 {
        return Err(Error::AlgorithmNotAllowed(format!("{:?}", header.alg)));
    }
    let key = keys.decoding_key(header.kid.as_deref())?;
    let claims: Claims = crate::rs256::decode(token, &key).map_err(|e| match e {
        Undecodable::BadSignature => Error::BadSignature,
        Undecodable::AlgorithmMismatch => Error::AlgorithmNotAllowed("mismatch".into()),
        Undecodable::Malformed => Error::Malformed,
    })?;

    let exp = claims.exp.ok_or(Error::Malformed)?;
    if now >= exp + LEEWAY_SECS {
        return Err(Error::Expired);
    }
    if claims.nbf.is_some_and(|nbf| now + LEEWAY_SECS < nbf) {
        return Err(Error::NotYetValid);
    }
    let issuer = claims.iss.unwrap_or_default();
    if issuer.trim_end_matches('/') != expected.issuer.trim_end_matches('/') {
        return Err(Error::WrongIssuer(issuer));
    }
    // Clerk sets `azp` to the origin of the page that requested the token. A token
    // without one cannot be tied to the app, so it is refused too.
    let azp = claims.azp.unwrap_or_default();
    if !expected
        .authorized_parties
        .iter()
        .any(|p| p.trim_end_matches('/') == azp.trim_end_matches('/'))
    {
        return Err(Error::WrongAuthorizedParty(azp));
    }
    match (claims.sub, claims.sid) {
        (Some(user_id), Some(session_id)) if !user_id.is_empty() && !session_id.is_empty() => {
            Ok(SessionUser {
                user_id,
                session_id,
            })
        }
        _ => Err(Error::MissingSession),
    }
}

/// Parses a JWKS document (Clerk's `/v1/jwks` answer).
pub fn parse_jwks(json: &[u8]) -> Result<JwkSet, Error> {
    serde_json::from_slice(json).map_err(|e| Error::BadKeySet(e.to_string()))
}
