//! Who is calling: the bearer token checked by the configured authorization mode
//! (`platform::authorization`), and the same [`Authenticated`] caller whichever mode
//! produced it. Everything after this module (tools, sessions, the upstream helper)
//! only sees the caller.

mod challenge;
mod clerk_issued;
mod opaque;
mod self_issued;

use oauth::BaseUrl;
use oauth::secret::SecretHash;
use platform::authorization::AuthorizationServer;
use spin_sdk::http::{Request, Response};

pub use challenge::sign_in_again;

/// A caller whose token this endpoint accepts.
pub struct Authenticated {
    /// The Clerk user (or `local:<name>` in local development).
    pub user_id: String,
    /// The OAuth client the user approved.
    pub client_id: String,
    /// The Clerk session the user signed in with, when known.
    pub session_id: Option<String>,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The grant the token belongs to, when this server issued it: Clerk's tokens
    /// have none.
    pub grant_id: Option<String>,
    /// Where the challenge sends a client that must sign in again.
    pub base: BaseUrl,
    /// The endpoint's address of the resource (`/mcp` or `/sse`), whose metadata the
    /// challenge names.
    pub resource_path: &'static str,
    /// When the presented access token expires (Unix seconds).
    pub token_expires_at: u64,
}

impl Authenticated {
    /// What a client's state is kept under across its connections: its grant, or for
    /// Clerk's tokens the pair of user and client (hashed: ids stay out of keys).
    pub fn client_key(&self) -> String {
        match &self.grant_id {
            Some(grant_id) => grant_id.clone(),
            None => format!(
                "clerk.{}",
                SecretHash::of(&format!("{}\n{}", self.user_id, self.client_id))
            ),
        }
    }
}

/// The caller of the endpoint at `resource_path`, by the configured mode; otherwise the
/// response that refuses the request (a 401 challenge, 403, or 503 when what the check
/// needs is unavailable).
pub fn authenticate(
    req: &Request,
    base: &BaseUrl,
    resource_path: &'static str,
) -> Result<Authenticated, Response> {
    match AuthorizationServer::configured() {
        Ok(AuthorizationServer::SelfIssued) => self_issued::authenticate(req, base, resource_path),
        Ok(AuthorizationServer::Clerk(settings)) => {
            clerk_issued::authenticate(req, base, resource_path, &settings)
        }
        Err(e) => Err(crate::transport::config_error(&e)),
    }
}
