//! The answers that refuse a bearer token (RFC 6750 §3, RFC 9728 §5.1), the same in
//! every mode: each names the endpoint's protected-resource metadata, which says where
//! to sign in.

use oauth::BaseUrl;
use oauth::bearer;
use oauth::challenge::{BearerChallenge, BearerError};
use platform::audit;
use spin_sdk::http::{Request, Response};

use super::Authenticated;

/// The challenge for a caller whose grant was revoked while serving the request (the
/// user's Clerk session ended): the client signs in again.
pub fn sign_in_again(caller: &Authenticated) -> Response {
    challenge(
        &caller.base,
        caller.resource_path,
        Some("the sign-in has ended (the session was revoked); sign in again"),
        oauth::scope::MCP,
    )
}

/// The request's bearer token, or the challenge that refuses it: without credentials
/// no error code (RFC 6750 §3.1), with some other scheme `invalid_token`.
pub fn bearer_token<'a>(
    req: &'a Request,
    base: &BaseUrl,
    resource_path: &str,
    scope: &str,
) -> Result<&'a str, Response> {
    let header = req.header("authorization").and_then(|v| v.as_str());
    match bearer::parse_authorization(header) {
        Ok(Some(token)) => Ok(token),
        Ok(None) => Err(challenge(base, resource_path, None, scope)),
        Err(_) => {
            audit::event("token_refused").reason("not_bearer").emit();
            Err(challenge(
                base,
                resource_path,
                Some("the Authorization header is not a bearer token"),
                scope,
            ))
        }
    }
}

/// 401: no token (`invalid_token` is `None`, RFC 6750 §3.1), or one that is refused.
pub fn challenge(
    base: &BaseUrl,
    resource_path: &str,
    invalid_token: Option<&str>,
    scope: &str,
) -> Response {
    respond(
        base,
        resource_path,
        invalid_token.map(|_| BearerError::InvalidToken),
        invalid_token,
        scope,
        r#"{"error":"unauthorized","error_description":"authorization required"}"#.to_owned(),
    )
}

/// 403 `insufficient_scope`: a valid token without every scope in `needed`.
pub fn insufficient_scope(base: &BaseUrl, resource_path: &str, needed: &str) -> Response {
    let description = format!("the access token lacks a scope this endpoint needs: {needed}");
    let body = serde_json::json!({
        "error": "insufficient_scope",
        "error_description": description,
    });
    respond(
        base,
        resource_path,
        Some(BearerError::InsufficientScope),
        Some(&description),
        needed,
        body.to_string(),
    )
}

/// A `WWW-Authenticate: Bearer` challenge pointing at the protected resource metadata.
fn respond(
    base: &BaseUrl,
    resource_path: &str,
    error: Option<BearerError>,
    description: Option<&str>,
    scope: &str,
    body: String,
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
