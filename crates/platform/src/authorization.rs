//! Who is the authorization server: this server (the default), or Clerk's own OAuth
//! server, with this server a resource server only. The mode is decided here, from the
//! `authorization_server` variable, and nowhere else.

use crate::config::{ConfigError, DEFAULT_CLERK_API_URL, flag, optional_variable};

/// The scopes the protected-resource metadata offers in Clerk mode when
/// `clerk_oauth_scopes` is unset. Clients that register from that list (Claude.ai)
/// register every scope they later ask for: `openid` among them, or Clerk refuses the
/// authorization with `invalid_scope`.
pub const DEFAULT_CLERK_SCOPES: &str = "openid profile email";

pub enum AuthorizationServer {
    /// This server issues the tokens; users sign in through the customer's Clerk app.
    SelfIssued,
    /// Clerk's OAuth server issues them; this server checks them.
    Clerk(ClerkAuthorization),
}

/// The resource-server mode's settings.
pub struct ClerkAuthorization {
    /// The instance's Frontend API URL: the authorization server clients are sent to,
    /// and the exact `iss` of its tokens.
    pub issuer: String,
    /// Backend API origin (JWKS, opaque-token verification) and the secret key.
    pub api_url: String,
    pub secret_key: String,
    /// The instance's PEM public key (`clerk_jwt_key`), when set: JWT access tokens are
    /// checked against it alone, without the JWKS (no store read, no call to Clerk).
    pub jwt_key: Option<String>,
    /// What the protected-resource metadata offers (`clerk_oauth_scopes`).
    pub scopes_supported: Vec<String>,
    /// What a token must carry to be served (`clerk_required_scopes`); none by default.
    pub required_scopes: Vec<String>,
    /// Whether a token naming no audience is served (`clerk_accept_tokens_without_audience`).
    pub accept_without_audience: bool,
}

impl AuthorizationServer {
    /// The configured mode. Clerk mode needs `clerk_issuer` and `clerk_secret_key`.
    pub fn configured() -> Result<Self, ConfigError> {
        match mode().as_deref() {
            None | Some("self") => Ok(Self::SelfIssued),
            Some("clerk") => Ok(Self::Clerk(ClerkAuthorization::configured()?)),
            Some(_) => Err(ConfigError::InvalidVariable {
                name: "authorization_server",
                reason: "must be \"self\" or \"clerk\"".into(),
            }),
        }
    }

    /// Whether this server's own authorization endpoints (`/authorize`, `/token`, …)
    /// are closed: in Clerk mode, and also while the variable holds anything but
    /// "self", so that a mistyped mode never opens them.
    pub fn own_endpoints_closed() -> bool {
        !matches!(mode().as_deref(), None | Some("self"))
    }
}

/// The `authorization_server` variable, trimmed; `None` when unset.
fn mode() -> Option<String> {
    optional_variable("authorization_server").map(|mode| mode.trim().to_owned())
}

/// `clerk_issuer` as the closed endpoints name it, when it is set.
fn clerk_issuer_hint() -> Option<String> {
    optional_variable("clerk_issuer").map(|issuer| issuer.trim_end_matches('/').to_owned())
}

/// Why this server's own authorization endpoints refuse in Clerk mode, naming where
/// clients sign in instead.
pub fn closed_endpoint_message() -> String {
    let at = clerk_issuer_hint()
        .map(|issuer| format!(" at {issuer}"))
        .unwrap_or_default();
    format!(
        "this server is a resource server only (authorization_server = \"clerk\"): clients sign in with Clerk{at}, as its protected-resource metadata says"
    )
}

/// The JSON answer of a closed endpoint (`/register`, `/token`, `/revoke`, the RFC 8414
/// document): 404, since the endpoint does not exist in this mode, with an RFC 6749
/// §5.2-shaped body saying where to sign in. Nothing is read or written first.
pub fn closed_endpoint() -> spin_sdk::http::Response {
    let mut response = crate::response::json(
        404,
        &serde_json::json!({
            "error": "invalid_request",
            "error_description": closed_endpoint_message(),
        }),
    );
    response.set_header("cache-control", "no-store");
    response
}

/// The page a browser gets at a closed page (`/authorize`, `/callback`, `/connections`).
pub fn closed_page() -> spin_sdk::http::Response {
    let at = clerk_issuer_hint()
        .map(|i| format!(" at <code>{}</code>", crate::html::escape(&i)))
        .unwrap_or_default();
    crate::html::page(
        404,
        "Sign in with Clerk",
        &format!(
            "<h1>Sign in with Clerk</h1><p>This server does not sign anyone in: Clerk does{at}. \
             Connect your MCP client to this server's <code>/mcp</code> address and it will \
             send you there.</p>"
        ),
    )
}

impl ClerkAuthorization {
    fn configured() -> Result<Self, ConfigError> {
        let required = |name: &'static str, what: &str| {
            optional_variable(name).ok_or_else(|| ConfigError::InvalidVariable {
                name,
                reason: format!("required when authorization_server is \"clerk\" ({what})"),
            })
        };
        let issuer = required("clerk_issuer", "the Frontend API URL, the tokens' `iss`")?;
        url::Url::parse(&issuer)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
            .ok_or(ConfigError::InvalidVariable {
                name: "clerk_issuer",
                reason: "must be the Frontend API URL, such as https://clerk.example.com".into(),
            })?;
        let secret_key = required("clerk_secret_key", "to fetch the JWKS and verify tokens")?;
        let accept_without_audience = flag("clerk_accept_tokens_without_audience")?;
        Ok(Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
            api_url: optional_variable("clerk_api_url")
                .unwrap_or_else(|| DEFAULT_CLERK_API_URL.into()),
            secret_key,
            jwt_key: optional_variable("clerk_jwt_key"),
            scopes_supported: scopes(
                &optional_variable("clerk_oauth_scopes")
                    .unwrap_or_else(|| DEFAULT_CLERK_SCOPES.into()),
            ),
            required_scopes: scopes(
                &optional_variable("clerk_required_scopes").unwrap_or_default(),
            ),
            accept_without_audience,
        })
    }
}

/// A space- or comma-separated list of scopes.
fn scopes(list: &str) -> Vec<String> {
    list.split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::scopes;

    #[test]
    fn scope_lists_take_spaces_or_commas() {
        assert_eq!(
            scopes("openid profile,email  "),
            ["openid", "profile", "email"]
        );
        assert!(scopes(" , ").is_empty());
    }
}
