//! Tokens Clerk's own authorization server issued (the resource-server mode): JWT
//! access tokens checked against the instance's JWKS (one key-value read, no writes)
//! or its PEM public key (`clerk_jwt_key`: no read at all),
//! opaque `oat_` tokens through Clerk's verify call (`opaque`). Either way the token
//! must be for this resource, and carry `clerk_required_scopes`.

use clerk::access_token::{self, AccessToken, Expectations, Refusal};
use clerk::session::Keys;
use oauth::BaseUrl;
use platform::authorization::ClerkAuthorization;
use platform::clerk_keys::{self, KeysError};
use platform::{audit, clock, kv::SpinKv};
use spin_sdk::http::{Request, Response};

use super::Authenticated;
use super::challenge::{bearer_token, challenge, insufficient_scope};
use super::opaque;

/// Why a token could not be accepted.
pub enum Unaccepted {
    Refused(Refusal),
    /// What the check needs (the JWKS, Clerk's verify call) is unavailable: nothing is
    /// known about the token, so the client must not be sent to sign in again.
    ClerkUnavailable(String),
    Store(store::Error),
    /// The manifest does not let this component reach the Backend API.
    Denied,
}

pub fn authenticate(
    req: &Request,
    base: &BaseUrl,
    resource_path: &'static str,
    settings: &ClerkAuthorization,
) -> Result<Authenticated, Response> {
    let offered = settings.scopes_supported.join(" ");
    let token = bearer_token(req, base, resource_path, &offered)?;
    let expected = Expectations {
        issuer: settings.issuer.clone(),
        resources: oauth::base_url::RESOURCE_PATHS
            .iter()
            .map(|path| base.join(path))
            .collect(),
        accept_without_audience: settings.accept_without_audience,
    };
    let now = clock::now();
    let kv = SpinKv::open_default().map_err(|e| crate::transport::store_failure(&e))?;
    let verified = if token.starts_with(clerk::opaque_token::PREFIX) {
        opaque::verify(token, settings, &expected, &kv, now)
    } else {
        verify_jwt(token, settings, &expected, &kv, now)
    };
    let token = match verified {
        Ok(token) => token,
        Err(Unaccepted::Refused(refusal)) => {
            audit::event("token_refused")
                .reason(reason(&refusal))
                .emit();
            return Err(challenge(
                base,
                resource_path,
                Some(description(&refusal)),
                &offered,
            ));
        }
        Err(Unaccepted::ClerkUnavailable(why)) => return Err(clerk_unavailable(&why)),
        Err(Unaccepted::Store(e)) => return Err(crate::transport::store_failure(&e)),
        Err(Unaccepted::Denied) => {
            eprintln!("mcp: clerk_api_url is not an allowed outbound host of this component");
            return Err(crate::transport::reject(
                500,
                protocol::jsonrpc::code::INTERNAL_ERROR,
                "this server is not configured correctly",
            ));
        }
    };
    let lacks_a_scope = settings
        .required_scopes
        .iter()
        .any(|needed| !token.scopes.contains(needed));
    if lacks_a_scope {
        audit::event("token_refused")
            .user(&token.user_id)
            .client(&token.client_id)
            .reason("insufficient_scope")
            .emit();
        return Err(insufficient_scope(
            base,
            resource_path,
            &settings.required_scopes.join(" "),
        ));
    }
    Ok(Authenticated {
        scope: token.scopes.join(" "),
        user_id: token.user_id,
        client_id: token.client_id,
        session_id: token.session_id,
        grant_id: None,
        base: base.clone(),
        resource_path,
        token_expires_at: token.expires_at,
    })
}

/// A JWT access token: the configured PEM key, or else the cached JWKS (refetched once
/// for a `kid` it lacks).
fn verify_jwt(
    token: &str,
    settings: &ClerkAuthorization,
    expected: &Expectations,
    kv: &SpinKv,
    now: u64,
) -> Result<AccessToken, Unaccepted> {
    if let Some(pem) = &settings.jwt_key {
        return access_token::verify(token, Keys::Pem(pem), expected, now)
            .map_err(Unaccepted::Refused);
    }
    let kid = access_token::key_id(token)
        .map_err(Unaccepted::Refused)?
        .unwrap_or_default();
    let keys = clerk_keys::for_key(&settings.api_url, &settings.secret_key, kv, &kid, now)
        .map_err(|e| match e {
            KeysError::Store(e) => Unaccepted::Store(e),
            KeysError::Denied => Unaccepted::Denied,
            KeysError::Unreachable(_) => Unaccepted::ClerkUnavailable(e.to_string()),
        })?;
    access_token::verify(token, Keys::Jwks(&keys), expected, now).map_err(Unaccepted::Refused)
}

/// 503 with `Retry-After`: never a 401, which would send the client into a sign-in
/// loop while Clerk is down.
fn clerk_unavailable(why: &str) -> Response {
    eprintln!("mcp: {why}");
    let mut response = crate::transport::reject(
        503,
        protocol::jsonrpc::code::INTERNAL_ERROR,
        "Clerk cannot be reached to check the access token; try again shortly",
    );
    response.set_header("retry-after", "5");
    response
}

/// The audit line's class of refusal.
fn reason(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::Malformed => "malformed",
        Refusal::Algorithm(_) => "algorithm",
        Refusal::NotAnAccessToken(_) => "not_an_access_token",
        Refusal::UnknownKey(_) => "unknown_key",
        Refusal::BadSignature => "bad_signature",
        Refusal::NoExpiry => "no_expiry",
        Refusal::Expired => "expired",
        Refusal::NotYetValid => "not_yet_valid",
        Refusal::WrongIssuer(_) => "wrong_issuer",
        Refusal::WrongAudience => "wrong_audience",
        Refusal::NoAudience => "no_audience",
        Refusal::MissingSubject => "missing_subject",
        Refusal::Unknown => "unknown",
        Refusal::Revoked => "revoked",
        Refusal::BadKeySet(_) => "bad_key_set",
    }
}

/// What the client is told: fixed text per class, never a value from the token.
fn description(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::NoAudience => {
            "the access token names no audience: have the client send `resource` (JWT access tokens in the Clerk dashboard), or set clerk_accept_tokens_without_audience (see the README)"
        }
        Refusal::WrongAudience => "the access token is for another resource",
        Refusal::WrongIssuer(_) => {
            "the access token was not issued by this server's Clerk instance"
        }
        Refusal::NotAnAccessToken(_) => "the token is not an OAuth access token",
        Refusal::Expired => "the access token has expired",
        Refusal::Revoked => "the access token was revoked",
        _ => "the access token is invalid, expired or revoked",
    }
}
