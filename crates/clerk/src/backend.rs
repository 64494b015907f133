//! Minting session tokens with the Clerk Backend API:
//! `POST /v1/sessions/{session_id}/tokens[/{template}]` with the secret key, answered
//! `{"object":"token","jwt":"…"}`. This module builds the path and reads the answer;
//! the caller sends the request.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

/// Why no token was minted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MintError {
    /// The session ended, was revoked, or never existed: the user must sign in again.
    #[error("Clerk reports the session is no longer active")]
    SessionGone,
    /// Clerk refused the request itself (a wrong secret key or template): a
    /// configuration problem, not the user's.
    #[error(
        "Clerk refused to mint a token (HTTP {0}); check clerk_secret_key and clerk_jwt_template"
    )]
    Refused(u16),
    #[error("Clerk is unavailable (HTTP {0})")]
    Unavailable(u16),
    #[error("Clerk's answer is not a token")]
    Malformed,
}

/// The path that mints a token for `session_id`: the session token itself, or the JWT
/// template named `template`. `None` for ids and names that cannot be Clerk's (they
/// would change the path).
pub fn mint_path(session_id: &str, template: Option<&str>) -> Option<String> {
    let safe = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if !safe(session_id) {
        return None;
    }
    match template {
        None => Some(format!("/v1/sessions/{session_id}/tokens")),
        Some(name) if safe(name) => Some(format!("/v1/sessions/{session_id}/tokens/{name}")),
        Some(_) => None,
    }
}

#[derive(Deserialize)]
struct Minted {
    jwt: String,
}

#[derive(Deserialize)]
struct Claims {
    exp: u64,
}

/// The minted JWT and its expiry (Unix seconds), from Clerk's answer. The token is
/// Clerk's, fetched over TLS with our secret key, so its expiry is read, not verified;
/// the app verifies the token.
pub fn read_minted(status: u16, body: &[u8]) -> Result<(String, u64), MintError> {
    match status {
        200 | 201 => {}
        // 404: no such session; 410: gone; 422: not active any more.
        404 | 410 | 422 => return Err(MintError::SessionGone),
        400..=499 => return Err(MintError::Refused(status)),
        _ => return Err(MintError::Unavailable(status)),
    }
    let minted: Minted = serde_json::from_slice(body).map_err(|_| MintError::Malformed)?;
    let payload = minted.jwt.split('.').nth(1).ok_or(MintError::Malformed)?;
    let claims = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|json| serde_json::from_slice::<Claims>(&json).ok())
        .ok_or(MintError::Malformed)?;
    Ok((minted.jwt, claims.exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(claims))
    }

    #[test]
    fn paths_name_the_session_and_template_and_nothing_else() {
        assert_eq!(
            mint_path("sess_1", None).unwrap(),
            "/v1/sessions/sess_1/tokens"
        );
        assert_eq!(
            mint_path("sess_1", Some("api-v1")).unwrap(),
            "/v1/sessions/sess_1/tokens/api-v1"
        );
        for (session, template) in [
            ("../x", None),
            ("sess_1", Some("a/b")),
            ("", None),
            ("s?", None),
        ] {
            assert_eq!(mint_path(session, template), None, "{session} {template:?}");
        }
    }

    #[test]
    fn answers_become_a_token_or_the_reason_there_is_none() {
        let body = format!(
            r#"{{"object":"token","jwt":"{}"}}"#,
            jwt(r#"{"exp":1700,"sid":"s"}"#)
        );
        let (token, exp) = read_minted(200, body.as_bytes()).unwrap();
        assert_eq!(exp, 1700);
        assert!(token.starts_with("e30."));
        assert_eq!(read_minted(404, b"{}"), Err(MintError::SessionGone));
        assert_eq!(read_minted(401, b"{}"), Err(MintError::Refused(401)));
        assert_eq!(read_minted(503, b""), Err(MintError::Unavailable(503)));
        assert_eq!(read_minted(200, b"{}"), Err(MintError::Malformed));
        let no_exp = format!(r#"{{"jwt":"{}"}}"#, jwt(r#"{"sub":"u"}"#));
        assert_eq!(
            read_minted(200, no_exp.as_bytes()),
            Err(MintError::Malformed)
        );
    }
}
