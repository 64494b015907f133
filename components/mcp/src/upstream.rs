//! Calling the customer's API as the signed-in user: [`app_request`] attaches a fresh
//! Clerk token (from the `upstream` crate, minted only when a tool calls the app: a
//! session token, or an M2M token naming the user when Clerk is the authorization
//! server), never the MCP client's own token, and turns every failure into a tool error
//! the model can read.

use platform::config;
use platform::fetch::{self, FetchError, Limits};
use protocol::tool::{Context, ToolError};
use serde_json::Value;

pub use platform::fetch::Method;

use upstream::TokenError;

/// The most of an app's answer a tool reads.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// `method path` at the app (`app_url`), with `body` as JSON, as the user of `cx`.
/// `path` is absolute ("/api/me") and stays under `app_url`: `..`, `//host` and full
/// URLs are refused. Returns the app's JSON answer (or its text as a JSON string).
pub fn app_request(
    cx: &Context,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, ToolError> {
    let app = config::app_url().map_err(|e| ToolError(e.to_string()))?;
    let url = platform::app_path::resolve(&app, path)
        .ok_or_else(|| ToolError(format!("{path:?} is not a path under app_url")))?;
    let token = upstream_token(cx, &app)?;
    let timeout = config::app_timeout().map_err(|e| ToolError(e.to_string()))?;
    let authorization = format!("Bearer {token}");
    let encoded = body.map(Value::to_string);
    let mut headers = vec![
        ("authorization", authorization.as_str()),
        ("accept", "application/json"),
    ];
    if encoded.is_some() {
        headers.push(("content-type", "application/json"));
    }
    let limits = Limits {
        timeout,
        max_body_bytes: MAX_ANSWER_BYTES,
    };
    let answer = fetch::send(
        &method,
        &url,
        &headers,
        encoded.as_deref().map(str::as_bytes),
        limits,
    )
    .map_err(|e| match e {
        FetchError::Timeout(after) => ToolError(format!("the app did not answer within {after:?}")),
        FetchError::Denied => ToolError("app_url is not an allowed outbound host".into()),
        FetchError::TooLarge(limit) => {
            ToolError(format!("the app's answer is larger than {limit} bytes"))
        }
        FetchError::Failed(detail) => {
            eprintln!("mcp upstream: {detail}");
            ToolError("the app could not be reached".into())
        }
    })?;
    let text = String::from_utf8_lossy(&answer.body);
    match answer.status {
        200..=299 => {
            Ok(serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.into_owned())))
        }
        401 | 403 => Err(ToolError(format!(
            "the app refused the request (HTTP {}): the user may lack access",
            answer.status
        ))),
        404 => Err(ToolError(format!("the app has nothing at {path}"))),
        status @ 400..=499 => Err(ToolError(format!(
            "the app rejected the request (HTTP {status})"
        ))),
        status => Err(ToolError(format!(
            "the app failed (HTTP {status}); try again later"
        ))),
    }
}

/// A token for the app: a fresh Clerk token, or in local development mode a marked
/// development token. When the user's Clerk session is gone the grant has been revoked,
/// and the request ends with the challenge that makes the client sign in again.
fn upstream_token(cx: &Context, app: &url::Url) -> Result<String, ToolError> {
    // A token Clerk issued (the resource-server mode) has no grant to mint from.
    let Some(grant_id) = &cx.grant_id else {
        return machine_token(cx, app);
    };
    let outcome = match upstream::token_for_grant(grant_id) {
        Err(TokenError::NotConfigured) => upstream::development_token(grant_id),
        other => other,
    };
    match outcome {
        Ok(token) => Ok(token.jwt),
        Err(TokenError::SessionRevoked) => {
            cx.require_sign_in();
            Err(ToolError(
                "the user's sign-in has ended; they must sign in again".into(),
            ))
        }
        Err(TokenError::NotConfigured) => Err(ToolError("Clerk is not configured".into())),
        Err(e) => Err(not_minted(e)),
    }
}

/// When Clerk is the authorization server: an M2M token naming the user, minted by
/// this server as a Clerk machine (the client's own token is never passed on: MCP
/// forbids token passthrough).
fn machine_token(cx: &Context, app: &url::Url) -> Result<String, ToolError> {
    let who = upstream::OnBehalfOf {
        user_id: &cx.user_id,
        client_id: &cx.client_id,
        scope: &cx.scope,
    };
    match upstream::token_on_behalf_of(&who, app.as_str().trim_end_matches('/')) {
        Ok(token) => Ok(token.jwt),
        Err(TokenError::NotConfigured) => Err(ToolError(
            "calling the app when Clerk is the authorization server needs clerk_machine_secret_key (the secret key of a Clerk machine for this server); see the README".into(),
        )),
        Err(e) => Err(not_minted(e)),
    }
}

fn not_minted(e: TokenError) -> ToolError {
    match e {
        TokenError::Refused(why) => ToolError(format!("no token for the app could be had: {why}")),
        TokenError::Unavailable(why) => ToolError(format!(
            "no token for the app could be had ({why}); try again later"
        )),
        TokenError::SessionRevoked | TokenError::NotConfigured => {
            ToolError("no token for the app could be had".into())
        }
    }
}
