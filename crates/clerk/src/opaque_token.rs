//! Clerk's answer about an opaque OAuth access token (`oat_…`), from
//! `POST /v1/oauth_applications/access_tokens/verify`, read into the same verdict as a
//! JWT's. A 200 is not a verdict by itself: the body carries `revoked` and `expired`
//! flags (and an expired JWT sent there answers `{"active": false}`); 404 means Clerk
//! does not know the token. The published answer names no audience, so such tokens fall
//! under the audience-less rule; when an answer does carry `aud`, it is checked.

use serde::Deserialize;

use crate::access_token::{
    AccessToken, Audience, Expectations, Refusal, check_audience, identified, space_separated,
};

/// The token prefix Clerk gives opaque access tokens.
pub const PREFIX: &str = "oat_";

/// What the verify call's answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid(AccessToken),
    Refused(Refusal),
    /// Not an answer about the token (a server error, our secret key refused, a body
    /// that is not Clerk's): nothing is known yet, and a retry may succeed.
    NoVerdict(String),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scopes {
    List(Vec<String>),
    Spaced(String),
}

#[derive(Debug, Deserialize)]
struct Answer {
    object: Option<String>,
    active: Option<bool>,
    subject: Option<String>,
    client_id: Option<String>,
    scopes: Option<Scopes>,
    #[serde(default)]
    revoked: bool,
    #[serde(default)]
    expired: bool,
    expiration: Option<u64>,
    aud: Option<Audience>,
}

/// Clerk writes some timestamps in milliseconds: anything past the year 5000 in
/// seconds is read as milliseconds.
pub(crate) fn seconds(timestamp: u64) -> u64 {
    if timestamp > 100_000_000_000 {
        timestamp / 1000
    } else {
        timestamp
    }
}

/// Reads the verify call's answer (`status`, `body`) at `now`.
pub fn read_answer(status: u16, body: &[u8], expected: &Expectations, now: u64) -> Verdict {
    match status {
        200 => {}
        // Clerk knows no such token (or finds it malformed).
        400 | 404 | 422 => return Verdict::Refused(Refusal::Unknown),
        401 | 403 => {
            return Verdict::NoVerdict(format!(
                "Clerk refused the secret key ({status}): check clerk_secret_key"
            ));
        }
        status => return Verdict::NoVerdict(format!("Clerk answered {status}")),
    }
    let Ok(answer) = serde_json::from_slice::<Answer>(body) else {
        return Verdict::NoVerdict("Clerk's answer is not a token verification".into());
    };
    if answer.active == Some(false) {
        return Verdict::Refused(Refusal::Expired);
    }
    if answer.object.as_deref() != Some("clerk_idp_oauth_access_token") {
        return Verdict::NoVerdict("Clerk's answer is not about an OAuth access token".into());
    }
    if answer.revoked {
        return Verdict::Refused(Refusal::Revoked);
    }
    let expires_at = answer.expiration.map(seconds);
    if answer.expired || expires_at.is_some_and(|exp| exp <= now) {
        return Verdict::Refused(Refusal::Expired);
    }
    let Some(expires_at) = expires_at else {
        return Verdict::Refused(Refusal::NoExpiry);
    };
    let named = answer.aud.map(Audience::into_list).unwrap_or_default();
    let without_audience = match check_audience(&named, expected) {
        Ok(without) => without,
        Err(refusal) => return Verdict::Refused(refusal),
    };
    let (user_id, client_id) = match identified(answer.subject, answer.client_id) {
        Ok(who) => who,
        Err(refusal) => return Verdict::Refused(refusal),
    };
    let scopes = match answer.scopes {
        None => Vec::new(),
        Some(Scopes::List(list)) => list.into_iter().filter(|s| !s.is_empty()).collect(),
        Some(Scopes::Spaced(spaced)) => space_separated(&spaced),
    };
    Verdict::Valid(AccessToken {
        user_id,
        client_id,
        scopes,
        session_id: None,
        expires_at,
        without_audience,
    })
}
