//! Fresh Clerk tokens for the customer's API, minted from the Clerk session a grant was
//! signed in with, cached in the store and minted by one caller at a time
//! (`store::upstream`). Only tools that call the app reach this code, through `mcp`'s
//! `app_request`: a request that calls no tool pays nothing for it. When Clerk is the
//! authorization server there is no session of ours to mint from, and [`machine`] mints
//! an M2M token naming the user instead.

mod machine;

pub use clerk::machine_token::OnBehalfOf;
pub use machine::token_on_behalf_of;

use std::time::Duration;

use clerk::backend::{self, MintError};
use oauth::grant::GrantRecord;
use oauth::secret::Secret;
use platform::config::{self, MintSettings};
use platform::fetch::{self, FetchError, Limits, Method};
use platform::kv::SpinKv;
use platform::{clock, stream};
use store::upstream::{self, Failure, Timing};
use store::{Kv, keys, record};

/// A Clerk JWT for a grant's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamToken {
    /// The JWT, for `Authorization: Bearer`.
    pub jwt: String,
    /// When it expires, in seconds since the Unix epoch.
    pub expires_at: u64,
}

/// Why no token could be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Clerk says the session ended or was revoked (or the grant is gone): the grant has
    /// been revoked, and the user must sign in again.
    SessionRevoked,
    /// Clerk or the store failed or did not answer in time; nothing was revoked, and a
    /// later call may succeed. The text says what happened, without secrets.
    Unavailable(String),
    /// Clerk refused the request itself, or a variable it needs is wrong: a setting to
    /// fix, not a moment to wait out. The text says which, without secrets.
    Refused(String),
    /// No Clerk secret key is configured (local development mode), or, when Clerk is
    /// the authorization server, no machine secret key.
    NotConfigured,
}

/// One answer from Clerk, including the connection.
const MINT_LIMITS: Limits = Limits {
    timeout: Duration::from_secs(5),
    max_body_bytes: 64 * 1024,
};

/// How long a caller waits for another caller's mint: a little longer than one mint.
const WAIT_FOR_OTHERS: Duration = Duration::from_secs(6);

/// A token valid for at least a little while longer, from the cache when there is one,
/// otherwise minted (at most once per expiry for concurrent callers).
pub fn token_for_grant(grant_id: &str) -> Result<UpstreamToken, TokenError> {
    let Some(settings) = config::mint_settings() else {
        return Err(TokenError::NotConfigured);
    };
    let kv = SpinKv::open_default().map_err(unavailable)?;
    let now = clock::now();
    let grant =
        record::read::<GrantRecord>(&kv, &keys::grant(grant_id), now).map_err(unavailable)?;
    // A grant signed in locally has no Clerk session to mint from: it must sign in
    // through Clerk now that Clerk is configured.
    let Some(session_id) = grant.and_then(|g| g.value.session_id) else {
        return Err(TokenError::SessionRevoked);
    };
    let nonce = platform::random::bytes::<16>().map_err(unavailable)?;
    let owner = Secret::from_random(&nonce);
    let timing = Timing {
        now: &clock::now,
        sleep: &stream::sleep,
        wait: WAIT_FOR_OTHERS,
    };
    match upstream::get_or_mint(&kv, grant_id, owner.expose(), &timing, || {
        mint(&settings, &session_id)
    }) {
        Ok(token) => Ok(UpstreamToken {
            jwt: token.jwt,
            expires_at: token.token_expires_at,
        }),
        Err(Failure::Mint(Minting::Clerk(MintError::SessionGone))) => {
            revoke(&kv, grant_id);
            Err(TokenError::SessionRevoked)
        }
        Err(Failure::Mint(e)) => Err(TokenError::Unavailable(e.to_string())),
        Err(Failure::Store(e)) => Err(unavailable(e)),
    }
}

/// Local development mode only (no Clerk secret key): a short-lived HS256 token for the
/// grant's user, signed with this server's signing key and marked
/// `"iss": "clerk-mcp-development"`, so the example tools run end to end. Never a Clerk
/// token; an app must not accept it in production.
pub fn development_token(grant_id: &str) -> Result<UpstreamToken, TokenError> {
    if config::mint_settings().is_some() {
        return Err(TokenError::Unavailable(
            "Clerk is configured: development tokens are off".into(),
        ));
    }
    let kv = SpinKv::open_default().map_err(unavailable)?;
    let now = clock::now();
    let Some(grant) =
        record::read::<GrantRecord>(&kv, &keys::grant(grant_id), now).map_err(unavailable)?
    else {
        return Err(TokenError::SessionRevoked);
    };
    let key = config::server_key(&kv).map_err(unavailable)?;
    let (jwt, expires_at) =
        clerk::development::token(&key, &grant.value.user_id, now).map_err(unavailable)?;
    Ok(UpstreamToken { jwt, expires_at })
}

#[derive(Debug, thiserror::Error)]
enum Minting {
    #[error(transparent)]
    Clerk(#[from] MintError),
    #[error("Clerk did not answer: {0}")]
    Fetch(#[from] FetchError),
    #[error("the Clerk session id or clerk_jwt_template cannot be used in a URL")]
    BadPath,
}

fn mint(settings: &MintSettings, session_id: &str) -> Result<(String, u64), Minting> {
    let path =
        backend::mint_path(session_id, settings.template.as_deref()).ok_or(Minting::BadPath)?;
    let url = backend_url(&settings.api_url, &path).ok_or(Minting::BadPath)?;
    let answer = post(&url, &settings.secret_key, b"{}")?;
    Ok(backend::read_minted(answer.status, &answer.body)?)
}

/// `path` at the Backend API (`clerk_api_url`); `None` when they make no URL.
fn backend_url(api_url: &str, path: &str) -> Option<url::Url> {
    url::Url::parse(api_url)
        .and_then(|base| base.join(path))
        .ok()
}

/// One mint request: `body` as JSON, authorized by `key` (the instance's secret key or
/// the machine's), within [`MINT_LIMITS`].
fn post(url: &url::Url, key: &str, body: &[u8]) -> Result<fetch::Fetched, FetchError> {
    let authorization = format!("Bearer {key}");
    fetch::send(
        &Method::Post,
        url,
        &[
            ("authorization", &authorization),
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ],
        Some(body),
        MINT_LIMITS,
    )
}

/// Ends the grant whose Clerk session is gone: its tokens stop working at once, and
/// its refresh token with them.
fn revoke(kv: &SpinKv, grant_id: &str) {
    if let Err(e) = kv
        .delete(&keys::grant(grant_id))
        .and_then(|()| upstream::forget(kv, grant_id))
    {
        eprintln!("upstream: the grant could not be revoked: {e}");
    }
}

fn unavailable(e: impl std::fmt::Display) -> TokenError {
    eprintln!("upstream: {e}");
    TokenError::Unavailable("the token store is unavailable".into())
}
