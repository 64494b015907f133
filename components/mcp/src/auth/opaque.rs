//! Opaque `oat_` access tokens: Clerk's verify call, within a deadline, and its valid
//! answers cached by token hash for at most a minute and never past the token's
//! expiry, so that a revocation at Clerk takes effect within that minute. Refusals are
//! not cached: a refused request writes nothing.

use std::time::Duration;

use clerk::access_token::{AccessToken, Expectations, Refusal};
use clerk::opaque_token::{self, Verdict};
use platform::authorization::ClerkAuthorization;
use platform::fetch::{self, FetchError, Limits, Method};
use platform::kv::SpinKv;
use store::{Expiring, keys, record};

use super::clerk_issued::Unaccepted;

/// The longest Clerk's answer about a token is trusted without asking again.
pub const CACHE_SECS: u64 = 60;

/// One verify call, connection included.
const VERIFY_LIMITS: Limits = Limits {
    timeout: Duration::from_secs(5),
    max_body_bytes: 64 * 1024,
};

pub fn verify(
    token: &str,
    settings: &ClerkAuthorization,
    expected: &Expectations,
    kv: &SpinKv,
    now: u64,
) -> Result<AccessToken, Unaccepted> {
    let key = keys::clerk_token(&keys::digest(token.as_bytes()));
    if let Some(cached) = record::read::<AccessToken>(kv, &key, now).map_err(Unaccepted::Store)? {
        // The deployment may have stopped accepting audience-less tokens since.
        if cached.value.without_audience && !expected.accept_without_audience {
            return Err(Unaccepted::Refused(Refusal::NoAudience));
        }
        return Ok(cached.value);
    }
    let answer = ask_clerk(token, settings)?;
    match opaque_token::read_answer(answer.status, &answer.body, expected, now) {
        Verdict::Valid(verified) => {
            let cache = Expiring {
                expires_at: (now + CACHE_SECS).min(verified.expires_at),
                value: verified,
            };
            // A failed cache write costs a verify call next time, not this request.
            if let Err(e) = record::create(kv, &key, &cache) {
                eprintln!("mcp: caching Clerk's answer: {e}");
            }
            Ok(cache.value)
        }
        Verdict::Refused(refusal) => Err(Unaccepted::Refused(refusal)),
        Verdict::NoVerdict(why) => Err(Unaccepted::ClerkUnavailable(format!(
            "verifying an opaque access token: {why}"
        ))),
    }
}

fn ask_clerk(token: &str, settings: &ClerkAuthorization) -> Result<fetch::Fetched, Unaccepted> {
    let url = url::Url::parse(&format!(
        "{}/v1/oauth_applications/access_tokens/verify",
        settings.api_url.trim_end_matches('/')
    ))
    .map_err(|e| Unaccepted::ClerkUnavailable(format!("clerk_api_url: {e}")))?;
    let authorization = format!("Bearer {}", settings.secret_key);
    let headers = [
        ("authorization", authorization.as_str()),
        ("content-type", "application/json"),
        ("accept", "application/json"),
    ];
    let body = serde_json::json!({ "access_token": token }).to_string();
    fetch::send(
        &Method::Post,
        &url,
        &headers,
        Some(body.as_bytes()),
        VERIFY_LIMITS,
    )
    .map_err(|e| match e {
        FetchError::Denied => Unaccepted::Denied,
        other => Unaccepted::ClerkUnavailable(format!("verifying an opaque access token: {other}")),
    })
}
