//! Session tokens from the customer's app, verified with a configured PEM key or the
//! instance JWKS (`platform::clerk_keys`, shared with the resource-server mode).

use clerk::session::{self, Keys};
use platform::clerk_keys::{self, KeysError};
use platform::config::ClerkSettings;
use platform::kv::SpinKv;

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
    let secret = settings
        .secret_key
        .as_deref()
        .ok_or_else(|| Unverified::Token("no clerk_secret_key to fetch the JWKS with".into()))?;
    let set =
        clerk_keys::for_key(&settings.api_url, secret, kv, &kid, now).map_err(|e| match e {
            KeysError::Store(e) => Unverified::Store(e),
            KeysError::Denied => Unverified::Token(format!("{e} (allowed_outbound_hosts)")),
            KeysError::Unreachable(_) => Unverified::ClerkUnreachable(e.to_string()),
        })?;
    session::verify(token, Keys::Jwks(&set), &settings.expectations, now).map_err(|e| refused(&e))
}
