//! The Clerk instance's signing keys (its JWKS, from the Backend API), cached in the
//! store for an hour under one key and shared by every verifier: session tokens at the
//! sign-in, OAuth access tokens in the resource-server mode. A token naming a key the
//! cache lacks triggers one refetch (Clerk rotated its keys), at most once every
//! `REFETCH_FLOOR_SECS`, so that made-up `kid`s cannot turn each request into a call
//! to Clerk; a refetch that brings nothing new writes nothing.

use std::time::Duration;

use clerk::session::{self, JwkSet};
use serde::{Deserialize, Serialize};
use store::{Expiring, keys, record};

use crate::fetch::{self, FetchError, Limits, Method};
use crate::kv::SpinKv;

const JWKS_CACHE_SECS: u64 = 60 * 60;

/// The least time between two fetches of the JWKS.
pub const REFETCH_FLOOR_SECS: u64 = 5;

/// One JWKS fetch, connection included.
const FETCH_LIMITS: Limits = Limits {
    timeout: Duration::from_secs(5),
    max_body_bytes: 256 * 1024,
};

#[derive(Serialize, Deserialize)]
struct CachedJwks {
    json: String,
}

/// Why no key set could be had.
#[derive(Debug)]
pub enum KeysError {
    Store(store::Error),
    /// Clerk did not answer, in time or at all, or answered with an error: nothing is
    /// known about the token yet, and a retry may succeed.
    Unreachable(String),
    /// The manifest does not let this component call the Backend API: a configuration
    /// error, which no retry fixes.
    Denied,
}

impl std::fmt::Display for KeysError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeysError::Store(e) => write!(f, "{e}"),
            KeysError::Unreachable(why) => write!(f, "fetching Clerk's JWKS: {why}"),
            KeysError::Denied => {
                f.write_str("fetching Clerk's JWKS: clerk_api_url is not an allowed outbound host")
            }
        }
    }
}

/// The key set to verify a token naming `kid` with: the cached one when it has `kid`,
/// otherwise a fresh one (which may still lack it: the verifier then refuses the token).
pub fn for_key(
    api_url: &str,
    secret_key: &str,
    kv: &SpinKv,
    kid: &str,
    now: u64,
) -> Result<JwkSet, KeysError> {
    let cached = record::read::<CachedJwks>(kv, keys::CLERK_JWKS, now).map_err(KeysError::Store)?;
    let parsed = cached.as_ref().and_then(|c| {
        session::parse_jwks(c.value.json.as_bytes())
            .ok()
            .map(|set| (set, c.expires_at.saturating_sub(JWKS_CACHE_SECS)))
    });
    if let Some((set, fetched_at)) = parsed
        && (set.find(kid).is_some() || now < fetched_at + REFETCH_FLOOR_SECS)
    {
        return Ok(set);
    }
    let json = fetch(api_url, secret_key)?;
    let set = session::parse_jwks(json.as_bytes())
        .map_err(|e| KeysError::Unreachable(format!("the answer is not a JWKS ({e})")))?;
    let unchanged = cached.as_ref().is_some_and(|c| c.value.json == json);
    if !unchanged {
        let cache = Expiring {
            expires_at: now + JWKS_CACHE_SECS,
            value: CachedJwks { json },
        };
        // A failed cache write costs a fetch next time, not this request.
        let _ = record::write(kv, keys::CLERK_JWKS, &cache);
    }
    Ok(set)
}

fn fetch(api_url: &str, secret_key: &str) -> Result<String, KeysError> {
    let url = url::Url::parse(&format!("{}/v1/jwks", api_url.trim_end_matches('/')))
        .map_err(|e| KeysError::Unreachable(format!("clerk_api_url: {e}")))?;
    let authorization = format!("Bearer {secret_key}");
    let headers = [
        ("authorization", authorization.as_str()),
        ("accept", "application/json"),
    ];
    let answer =
        fetch::send(&Method::Get, &url, &headers, None, FETCH_LIMITS).map_err(|e| match e {
            FetchError::Denied => KeysError::Denied,
            other => KeysError::Unreachable(other.to_string()),
        })?;
    if answer.status != 200 {
        return Err(KeysError::Unreachable(format!(
            "the Backend API answered {}",
            answer.status
        )));
    }
    String::from_utf8(answer.body)
        .map_err(|_| KeysError::Unreachable("the answer is not UTF-8".into()))
}
