//! OAuth access tokens issued by Clerk's own authorization server, checked for this
//! resource: the verifier of the resource-server mode, where MCP clients sign in at
//! Clerk directly and present Clerk's JWTs here.
//!
//! The instance's key also signs session tokens, JWT-template tokens, M2M tokens and
//! id_tokens; only the header's `typ` (`at+jwt`, RFC 9068) tells an access token apart,
//! so a token without it never passes, whatever its claims. RS256 only. `iss` must be
//! the instance's Frontend API URL exactly; `aud`, when present, must name this
//! resource; a token without `aud` (Clerk adds it only when the client sent `resource`)
//! passes only where the deployment allows it, since it is valid at every resource server
//! of the instance.
//!
//! Nothing here fetches or reads a clock: callers pass the JWKS and `now`.

use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};

use crate::rs256::Undecodable;
use crate::session::{KeyProblem, Keys};

/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 5;

/// The `typ` values of an RFC 9068 access token (compared case-insensitively).
const ACCESS_TOKEN_TYPES: [&str; 2] = ["at+jwt", "application/at+jwt"];

/// What a token must match to be valid here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectations {
    /// The instance's Frontend API URL, byte for byte (a trailing slash aside).
    pub issuer: String,
    /// Every URL of this protected resource (`…/mcp`, `…/sse`): an `aud` naming one of
    /// them is for this server.
    pub resources: Vec<String>,
    /// Whether a token without `aud` is accepted.
    pub accept_without_audience: bool,
}

/// A verified access token: who, through which client, with which scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessToken {
    pub user_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    /// The Clerk session the user signed in with, when the token names one.
    pub session_id: Option<String>,
    pub expires_at: u64,
    /// The token named no audience (accepted because the deployment allows that).
    pub without_audience: bool,
}

/// Why a token was refused. Each is logged; the client gets one `invalid_token`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the access token is not a well-formed JWT")]
    Malformed,
    #[error("the access token uses algorithm {0}, not RS256")]
    Algorithm(String),
    #[error("the token's typ is {0:?}, not an access token's (at+jwt)")]
    NotAnAccessToken(Option<String>),
    #[error("no key {0:?} in Clerk's JWKS")]
    UnknownKey(String),
    #[error("the access token's signature is invalid")]
    BadSignature,
    #[error("the access token has no expiry")]
    NoExpiry,
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is not valid yet")]
    NotYetValid,
    #[error("the access token was issued by {0:?}")]
    WrongIssuer(String),
    #[error("the access token is for another resource")]
    WrongAudience,
    #[error(
        "the access token names no audience; turn on JWT access tokens with resource indicators, or accept such tokens (see the README)"
    )]
    NoAudience,
    #[error("the access token names no user or client")]
    MissingSubject,
    #[error("Clerk does not know the access token")]
    Unknown,
    #[error("the access token was revoked")]
    Revoked,
    #[error("Clerk's key set cannot be used: {0}")]
    BadKeySet(String),
}

impl From<KeyProblem> for Refusal {
    fn from(problem: KeyProblem) -> Self {
        match problem {
            KeyProblem::Unknown(kid) => Refusal::UnknownKey(kid),
            KeyProblem::Bad(why) => Refusal::BadKeySet(why),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub(crate) fn into_list(self) -> Vec<String> {
        match self {
            Audience::One(one) => vec![one],
            Audience::Many(many) => many,
        }
    }
}

#[derive(Debug, Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    client_id: Option<String>,
    azp: Option<String>,
    sid: Option<String>,
    aud: Option<Audience>,
    scope: Option<String>,
    exp: Option<u64>,
    nbf: Option<u64>,
}

/// The audience rule, for JWTs and for Clerk's answers about opaque tokens alike: an
/// audience must name this resource; none at all passes only where the deployment
/// allows it. `Ok(true)` when the token named no audience.
pub fn check_audience(named: &[String], expected: &Expectations) -> Result<bool, Refusal> {
    if named.is_empty() {
        return if expected.accept_without_audience {
            Ok(true)
        } else {
            Err(Refusal::NoAudience)
        };
    }
    let ours = named.iter().any(|aud| {
        expected
            .resources
            .iter()
            .any(|r| r.trim_end_matches('/') == aud.trim_end_matches('/'))
    });
    if ours {
        Ok(false)
    } else {
        Err(Refusal::WrongAudience)
    }
}

/// The user and client a token names, both required and non-empty.
pub(crate) fn identified(
    user: Option<String>,
    client: Option<String>,
) -> Result<(String, String), Refusal> {
    match (
        user.filter(|u| !u.is_empty()),
        client.filter(|c| !c.is_empty()),
    ) {
        (Some(user), Some(client)) => Ok((user, client)),
        _ => Err(Refusal::MissingSubject),
    }
}

/// The scopes of a space-separated `scope` value.
pub(crate) fn space_separated(scope: &str) -> Vec<String> {
    scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The `kid` a token names, so that the caller refetches a cached JWKS once when it
/// is unknown.
pub fn key_id(token: &str) -> Result<Option<String>, Refusal> {
    crate::crypto::install();
    Ok(jsonwebtoken::decode_header(token)
        .map_err(|_| Refusal::Malformed)?
        .kid)
}

/// Verifies a Clerk OAuth access token for this resource, against the instance's JWKS
/// or a configured PEM public key.
pub fn verify(
    token: &str,
    keys: Keys<'_>,
    expected: &Expectations,
    now: u64,
) -> Result<AccessToken, Refusal> {
    crate::crypto::install();
    let header = jsonwebtoken::decode_header(token).map_err(|_| Refusal::Malformed)?;
    // The header's `alg` never picks the algorithm: `none` and HMAC keyed with the
    // public key are refused here, as is every other family.
    if header.alg != Algorithm::RS256 {
        return Err(Refusal::Algorithm(format!("{:?}", header.alg)));
    }
    let is_access_token = header.typ.as_deref().is_some_and(|typ| {
        ACCESS_TOKEN_TYPES
            .iter()
            .any(|t| t.eq_ignore_ascii_case(typ))
    });
    if !is_access_token {
        return Err(Refusal::NotAnAccessToken(header.typ));
    }
    let key = keys.decoding_key(header.kid.as_deref())?;
    let claims: Claims = crate::rs256::decode(token, &key).map_err(|e| match e {
        Undecodable::BadSignature => Refusal::BadSignature,
        Undecodable::AlgorithmMismatch => Refusal::Algorithm("mismatch".into()),
        Undecodable::Malformed => Refusal::Malformed,
    })?;

    let exp = claims.exp.ok_or(Refusal::NoExpiry)?;
    if now >= exp + LEEWAY_SECS {
        return Err(Refusal::Expired);
    }
    if claims.nbf.is_some_and(|nbf| now + LEEWAY_SECS < nbf) {
        return Err(Refusal::NotYetValid);
    }
    let issuer = claims.iss.unwrap_or_default();
    if issuer.trim_end_matches('/') != expected.issuer.trim_end_matches('/') {
        return Err(Refusal::WrongIssuer(issuer));
    }
    let named = claims.aud.map(Audience::into_list).unwrap_or_default();
    let without_audience = check_audience(&named, expected)?;
    let (user_id, client_id) = identified(claims.sub, claims.client_id.or(claims.azp))?;
    Ok(AccessToken {
        user_id,
        client_id,
        scopes: space_separated(&claims.scope.unwrap_or_default()),
        session_id: claims.sid.filter(|s| !s.is_empty()),
        expires_at: exp,
        without_audience,
    })
}
