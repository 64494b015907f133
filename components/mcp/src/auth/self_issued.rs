//! Tokens this server issued (the default mode): one key-value read (the grant), no
//! writes.

use oauth::BaseUrl;
use oauth::bearer;
use oauth::grant::{self, GrantRecord};
use platform::{audit, clock, kv::SpinKv};
use spin_sdk::http::{Request, Response};
use store::{keys, record};

use super::Authenticated;
use super::challenge::{bearer_token, challenge, insufficient_scope};

/// Tokens are bound to the canonical `/mcp` resource whichever address the client
/// asked for, so this check is the same at every endpoint; only the challenge differs,
/// naming the endpoint's own metadata.
pub fn authenticate(
    req: &Request,
    base: &BaseUrl,
    resource_path: &'static str,
) -> Result<Authenticated, Response> {
    let token = bearer_token(req, base, resource_path, oauth::scope::MCP)?;
    // The audit line names the class of refusal, never the token.
    let invalid = |reason: &'static str| {
        audit::event("token_refused").reason(reason).emit();
        challenge(
            base,
            resource_path,
            Some("the access token is invalid, expired or revoked"),
            oauth::scope::MCP,
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
        return Err(insufficient_scope(
            base,
            resource_path,
            &oauth::scope::SUPPORTED.join(" "),
        ));
    }
    let grant = stored.value;
    Ok(Authenticated {
        user_id: grant.user_id,
        client_id: grant.client_id,
        session_id: grant.session_id,
        scope: grant.scope,
        grant_id: Some(presented.grant_id.to_owned()),
        base: base.clone(),
        resource_path,
        token_expires_at: claims.expires_at,
    })
}
