//! M2M tokens naming the user, for the customer's API when Clerk is the authorization
//! server: `POST /v1/m2m_tokens` with the machine secret key (`ak_…`) of the Clerk
//! machine this server is, asking for a JWT (`token_format: "jwt"`, verifiable by the app
//! without a call to Clerk) whose custom claims say for whom it acts. Clerk signs it with
//! the instance key, `sub` = this server's machine id (`mch_…`); the app checks `sub` and
//! `aud`, then reads `user_id`. This module builds the request body and reads the
//! answer; the caller sends the request.

use serde::Deserialize;
use serde_json::json;

/// For whom a token is minted: the user the MCP request came from, the OAuth client
/// that sent it and the scopes the user granted that client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnBehalfOf<'a> {
    pub user_id: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
}

/// Why no token was minted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MachineMintError {
    /// Clerk refused the request itself (a wrong or revoked machine secret key, M2M
    /// tokens not enabled, claims it does not take): a configuration problem.
    #[error(
        "Clerk refused to mint an M2M token (HTTP {0}); check clerk_machine_secret_key and the machine in the Clerk dashboard"
    )]
    Refused(u16),
    #[error("Clerk is unavailable (HTTP {0})")]
    Unavailable(u16),
    #[error("Clerk's answer is not an M2M token")]
    Malformed,
}

/// The JSON body asking for a JWT for `who`, for the app at `audience`, living
/// `lifetime_secs`. Field names are the Backend API's (snake case).
pub fn request_body(who: &OnBehalfOf, audience: &str, lifetime_secs: u64) -> Vec<u8> {
    json!({
        "token_format": "jwt",
        "seconds_until_expiration": lifetime_secs,
        "claims": {
            "aud": audience,
            "user_id": who.user_id,
            "mcp_client_id": who.client_id,
            "mcp_scope": who.scope,
        },
    })
    .to_string()
    .into_bytes()
}

#[derive(Deserialize)]
struct Minted {
    token: String,
    expiration: Option<u64>,
}

/// The minted token and its expiry (Unix seconds), from Clerk's answer (`status`,
/// `body`). The token is Clerk's, fetched over TLS with our machine key, so its expiry
/// is read from the answer, not verified; the app verifies the token. An answer with no
/// expiry, or one already past at `now`, is not usable here.
pub fn read_minted(status: u16, body: &[u8], now: u64) -> Result<(String, u64), MachineMintError> {
    match status {
        200 | 201 => {}
        // Too many requests is Clerk's to recover from, not a setting to fix.
        429 => return Err(MachineMintError::Unavailable(status)),
        400..=499 => return Err(MachineMintError::Refused(status)),
        _ => return Err(MachineMintError::Unavailable(status)),
    }
    let minted: Minted = serde_json::from_slice(body).map_err(|_| MachineMintError::Malformed)?;
    let usable = |c: char| c.is_ascii_graphic();
    if minted.token.is_empty() || !minted.token.chars().all(usable) {
        return Err(MachineMintError::Malformed);
    }
    let expires_at = minted
        .expiration
        .map(crate::opaque_token::seconds)
        .filter(|&at| at > now)
        .ok_or(MachineMintError::Malformed)?;
    Ok((minted.token, expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn the_request_asks_for_a_jwt_naming_the_user_client_scope_and_app() {
        let who = OnBehalfOf {
            user_id: "user_2abc",
            client_id: "oauth_client_1",
            scope: "openid profile",
        };
        let body: Value =
            serde_json::from_slice(&request_body(&who, "https://app.example.com", 300)).unwrap();
        assert_eq!(
            body,
            json!({
                "token_format": "jwt",
                "seconds_until_expiration": 300,
                "claims": {
                    "aud": "https://app.example.com",
                    "user_id": "user_2abc",
                    "mcp_client_id": "oauth_client_1",
                    "mcp_scope": "openid profile",
                },
            })
        );
    }
}
