//! Clerk's signing keys: a configured PEM key, or the instance JWKS from the Backend API,
//! cached in the store for an hour and refetched once when a token names a key the cache
//! does not have (Clerk rotated its keys).

use clerk::session::JwkSet;
use clerk::session::{self, Keys};
use platform::config::ClerkSettings;
use platform::kv::SpinKv;
use serde::{Deserialize, Serialize};
use spin_sdk::http::{Method, Request, Response};
use store::{Expiring, keys, record};

const JWKS_CACHE_SECS: u64 = 60 * 60;

#[derive(Serialize, Deserialize)]
struct CachedJwks {
    json: String,
}

/// Why a token did not verify: the token itself (or Clerk's keys), or the store, which
/// says nothing about the token: the sign-in may simply be tried again.
pub enum Unverified {
    Token(String),
    Store(store::Error),
    /// Clerk's Backend API could not be asked for its keys (unreachable, or an error
    /// answer): nothing is known about the token yet.
    ClerkUnreachable(String),
}

/// Verifies `token` with the keys `settings` point to.
pub fn verify(
    token: &str,
    settings: &ClerkSettings,
    kv: &SpinKv,
    now: u64,
) -> Result<session::SessionUser, Unverified> {
    let refused = |e: &dyn std::fmt::Display| Unverified::Token(e.to_string());
    if let Some(pem) = &settings.jwt_key {
        return session::verify(token, Keys::Pem(pem), &settings.expectations, now)
            .map_err(|e| refused(&e));
    }
    let kid = session::key_id(token)
        .map_err(|e| refused(&e))?
        .unwrap_or_default();
    let cached =
        record::read::<CachedJwks>(kv, keys::CLERK_JWKS, now).map_err(Unverified::Store)?;
    let set = match cached.and_then(|c| session::parse_jwks(c.value.json.as_bytes()).ok()) {
        Some(set) if set.find(&kid).is_some() => set,
        _ => fetch(settings, kv, now)?,
    };
    session::verify(token, Keys::Jwks(&set), &settings.expectations, now).map_err(|e| refused(&e))
}

fn fetch(settings: &ClerkSettings, kv: &SpinKv, now: u64) -> Result<JwkSet, Unverified> {
    let unreachable = |e: String| Unverified::ClerkUnreachable(e);
    let secret = settings
        .secret_key
        .as_deref()
        .ok_or_else(|| Unverified::Token("no clerk_secret_key to fetch the JWKS with".into()))?;
    let request = Request::builder()
        .method(Method::Get)
        .uri(format!(
            "{}/v1/jwks",
            settings.api_url.trim_end_matches('/')
        ))
        .header("authorization", format!("Bearer {secret}"))
        .header("accept", "application/json")
        .build();
    let response: Response =
        spin_sdk::http::run(spin_sdk::http::send(request)).map_err(|e| match e {
            // The manifest does not let us call it: a configuration error, which no
            // reload fixes.
            spin_sdk::http::SendError::Http(spin_sdk::http::ErrorCode::HttpRequestDenied) => {
                Unverified::Token(format!(
                    "fetching Clerk's JWKS: {e} (allowed_outbound_hosts)"
                ))
            }
            e => unreachable(format!("fetching Clerk's JWKS: {e}")),
        })?;
    if *response.status() != 200 {
        return Err(unreachable(format!(
            "Clerk's JWKS endpoint answered {}",
            response.status()
        )));
    }
    let set = session::parse_jwks(response.body())
        .map_err(|e| unreachable(format!("Clerk's JWKS: {e}")))?;
    let json = String::from_utf8_lossy(response.body()).into_owned();
    let cache = Expiring {
        expires_at: now + JWKS_CACHE_SECS,
        value: CachedJwks { json },
    };
    // A failed cache write costs a fetch next time, not this sign-in.
    let _ = record::write(kv, keys::CLERK_JWKS, &cache);
    Ok(set)
}
