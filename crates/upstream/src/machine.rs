//! The app's token when Clerk is the authorization server. There is no Clerk session of
//! ours to mint a session token from, and the MCP client's token is never passed on
//! (MCP forbids token passthrough), so this server, a Clerk machine, mints an M2M JWT
//! naming the user (`clerk::machine_token`). It is cached and minted by one caller at a
//! time exactly as the session tokens are (`store::upstream`), under a key per user,
//! client and scope.

use clerk::machine_token::{self, MachineMintError, OnBehalfOf};
use oauth::secret::{Secret, SecretHash};
use platform::config::{self, MachineTokenSettings};
use platform::fetch::FetchError;
use platform::kv::SpinKv;
use platform::{clock, stream};
use store::upstream::{self, Failure, Timing};

use crate::{TokenError, UpstreamToken, WAIT_FOR_OTHERS, unavailable};

/// An M2M token for the app at `audience` acting for `who`: from the cache while it has
/// a little while left, otherwise minted (once for concurrent callers).
/// [`TokenError::NotConfigured`] when no machine secret key is set.
pub fn token_on_behalf_of(who: &OnBehalfOf, audience: &str) -> Result<UpstreamToken, TokenError> {
    let settings = match config::machine_token_settings() {
        Ok(Some(settings)) => settings,
        Ok(None) => return Err(TokenError::NotConfigured),
        Err(e) => return Err(TokenError::Refused(e.to_string())),
    };
    let kv = SpinKv::open_default().map_err(unavailable)?;
    let nonce = platform::random::bytes::<16>().map_err(unavailable)?;
    let owner = Secret::from_random(&nonce);
    let timing = Timing {
        now: &clock::now,
        sleep: &stream::sleep,
        wait: WAIT_FOR_OTHERS,
    };
    match upstream::get_or_mint(&kv, &cache_id(who), owner.expose(), &timing, || {
        mint(&settings, who, audience)
    }) {
        Ok(token) => Ok(UpstreamToken {
            jwt: token.jwt,
            expires_at: token.token_expires_at,
        }),
        Err(Failure::Mint(Minting::Clerk(e @ MachineMintError::Refused(_)))) => {
            Err(TokenError::Refused(e.to_string()))
        }
        Err(Failure::Mint(e)) => Err(TokenError::Unavailable(e.to_string())),
        Err(Failure::Store(e)) => Err(unavailable(e)),
    }
}

/// Where the token is cached: one per user, client and scope (the claims it carries),
/// hashed so that ids stay out of keys, and marked so that it never meets a grant id.
fn cache_id(who: &OnBehalfOf) -> String {
    let named = format!("{}\n{}\n{}", who.user_id, who.client_id, who.scope);
    format!("m2m.{}", SecretHash::of(&named))
}

#[derive(Debug, thiserror::Error)]
enum Minting {
    #[error(transparent)]
    Clerk(#[from] MachineMintError),
    #[error("Clerk did not answer: {0}")]
    Fetch(#[from] FetchError),
    #[error("clerk_api_url is not a URL")]
    BadUrl,
}

fn mint(
    settings: &MachineTokenSettings,
    who: &OnBehalfOf,
    audience: &str,
) -> Result<(String, u64), Minting> {
    let url = crate::backend_url(&settings.api_url, "/v1/m2m_tokens").ok_or(Minting::BadUrl)?;
    let body = machine_token::request_body(who, audience, settings.lifetime.as_secs());
    let answer = crate::post(&url, &settings.machine_secret_key, &body)?;
    Ok(machine_token::read_minted(
        answer.status,
        &answer.body,
        clock::now(),
    )?)
}
