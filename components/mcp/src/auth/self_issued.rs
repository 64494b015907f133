//! Bearer authentication of MCP requests: one key-value read (the grant), no writes.

use oauth::BaseUrl;
use oauth::bearer;
use oauth::challenge::{BearerChallenge, BearerError};
use oauth::grant::{self, GrantRecord};
use platform::{audit, clock, kv::SpinKv};
use spin_sdk::http::{Request, Response};
use store::{keys, record};

/// Who is calling: the grant the token belongs to.
pub struct Authenticated {
    pub grant_id: String,
    pub grant: GrantRecord,
    /// Where the challenge sends a client that must sign in again.
    pub base: BaseUrl,
    /// The endpoint's address of the resource (`/mcp` or `/sse`), whose metadata the
    /// challenge names.
    pub resource_path: &'static str,
    /// When the presented access token expires (Unix seconds).
    pub token_expires_at: u64,
}

/// The challenge for a caller whose grant was revoked while serving the request (the
/// user's Clerk session ended): the client signs in again.
pub fn sign_in_again(caller: &Authenticated) -> Response {
    challenge(
        &caller.base,
        caller.resource_path,
        Some("the sign-in has ended (the session was revoked); sign in again"),
    )
}

/// The caller of the endpoint at `resource_path`. Tokens are bound to the canonical
/// `/mcp` resource whichever address the client asked for, so this check is the same at
/// every endpoint; only the challenge differs, naming the endpoint's own metadata.
pub fn authenticate(
    req: &Request,
    base: &BaseUrl,
    resource_path: &'static str,
) -> Result<Authenticated, Response> {
    let header = req.header("authorization").and_then(|v| v.as_str());
    let token = match bearer::parse_authorization(header) {
        Ok(Some(token)) => token,
        // RFC 6750 §3.1: no error code when no credentials were sent.
        Ok(None) => return Err(challenge(base, resource_path, None)),
        Err(_) => {
            audit::event("token_refused").reason("not_bearer").emit();
            return Err(challenge(
                base,
                resource_path,
                Some("the Authorization header is not a bearer token"),
            ));
        }
    };
    // The audit line names the class of refusal, never the token.
    let invalid = |reason: &'static str| {
        audit::event("token_refused").reason(reason).emit();
        challenge(
            base,
            resource_path,
            Some("the access token is invalid, expired or revoked"),
        )
    };
    let presented = grant::parse_access_token(token).map_err(|_| invalid("malformed"))?;
    let kv = SpinKv::open_default().map_err(|e| crate::transport::store_failure(&e))?;
    let now = clock::now();
    let stored = record::read::<GrantRecord>(&kv, &keys::grant(presented.grant_id), now)
        .map_err(|e| crate::transport::store_failure(&e))?
        .ok_or_else(|| invalid("no_grant"))?;
    let claims = bearer::verify(&presented, &stored.value, &base.mcp_resource(), now)
        .map_err(|_| invalid("invalid_or_expired"))?;
    // Every scope this endpoint needs; a token without one of them is valid but not
    // enough (RFC 6750 §3.1), and the challenge names what to ask for.
    let granted: Vec<&str> = stored.value.scope.split(' ').collect();
    if !oauth::scope::SUPPORTED
        .iter()
        .all(|needed| granted.contains(needed))
    {
        audit::for_grant("token_refused", presented.grant_id, &stored.value)
            .reason("insufficient_scope")
            .emit();
        return Err(insufficient_scope(base, resource_path));
    }
    Ok(Authenticated {
        grant_id: presented.grant_id.to_owned(),
        grant: stored.value,
        base: base.clone(),
        resource_path,
        token_expires_at: claims.expires_at,
    })
}

fn insufficient_scope(base: &BaseUrl, resource_path: &str) -> Response {
    let needed = oauth::scope::SUPPORTED.join(" ");
    respond(
        base,
        resource_path,
        Some(BearerError::InsufficientScope),
        Some("the access token lacks a scope this endpoint needs"),
        &needed,
        r#"{"error":"insufficient_scope","error_description":"the access token lacks a scope this endpoint needs"}"#,
    )
}

fn challenge(base: &BaseUrl, resource_path: &str, invalid_token: Option<&str>) -> Response {
    respond(
        base,
        resource_path,
        invalid_token.map(|_| BearerError::InvalidToken),
        invalid_token,
        oauth::scope::MCP,
        r#"{"error":"unauthorized","error_description":"authorization required"}"#,
    )
}

/// A `WWW-Authenticate: Bearer` challenge pointing at the protected resource metadata.
fn respond(
    base: &BaseUrl,
    resource_path: &str,
    error: Option<BearerError>,
    description: Option<&str>,
    scope: &str,
    body: &'static str,
) -> Response {
    let resource_metadata = base.metadata_url_for(resource_path);
    let challenge = BearerChallenge {
        error,
        description,
        resource_metadata: &resource_metadata,
        scope,
    };
    Response::builder()
        .status(challenge.status())
        .header("www-authenticate", challenge.header_value())
        .header("content-type", "application/json")
        .body(body)
        .build()
}
