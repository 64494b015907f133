//! The consent step, kept stateless until the user decides.
//!
//! The consent page carries the validated request as a sealed ticket (JSON + HMAC under
//! the server key), bound to a random nonce whose hash is in the ticket and whose value
//! is in a `__Host-` cookie. Submitting the form therefore proves the same browser saw
//! this page (CSRF) and nothing is stored before consent (MCP security best practices:
//! state is stored only after consent).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::Error;
use crate::authorize::{AuthorizationRequest, VerifiedRedirect};
use crate::secret::SecretHash;

/// The cookie that binds the consent form to the browser that loaded it.
pub const COOKIE_NAME: &str = "__Host-mcp_consent";

/// What the consent form carries back, sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentTicket {
    pub client_id: String,
    pub redirect_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub code_challenge: String,
    pub scope: String,
    pub resource: String,
    /// Whether the request named its redirect URI (then /token must repeat it).
    pub redirect_uri_given: bool,
    pub expires_at: u64,
    /// SHA-256 (BASE64URL) of the cookie nonce.
    pub nonce_hash: SecretHash,
}

impl ConsentTicket {
    pub fn new(
        request: &AuthorizationRequest,
        redirect_uri_given: bool,
        nonce: &str,
        expires_at: u64,
    ) -> Self {
        Self {
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect.uri.clone(),
            state: request.redirect.state.clone(),
            code_challenge: request.code_challenge.as_str().to_owned(),
            scope: request.scope.clone(),
            resource: request.resource.clone(),
            redirect_uri_given,
            expires_at,
            nonce_hash: SecretHash::of(nonce),
        }
    }

    /// `<BASE64URL(JSON)>.<BASE64URL(HMAC)>`, for a hidden form field.
    pub fn seal(&self, key: &[u8]) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default());
        let tag = URL_SAFE_NO_PAD.encode(sign(key, payload.as_bytes()));
        format!("{payload}.{tag}")
    }

    /// Opens a sealed ticket: the signature, the expiry, and the cookie nonce must all
    /// check out. Every failure reads the same to the user.
    pub fn open(
        sealed: &str,
        key: &[u8],
        cookie_nonce: Option<&str>,
        now: u64,
    ) -> Result<Self, Error> {
        let (payload, tag) = sealed.split_once('.').ok_or(Error::InvalidConsent)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| Error::InvalidConsent)?;
        let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| Error::InvalidConsent)?;
        mac.update(payload.as_bytes());
        mac.verify_slice(&tag).map_err(|_| Error::InvalidConsent)?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| Error::InvalidConsent)?;
        let ticket: Self = serde_json::from_slice(&json).map_err(|_| Error::InvalidConsent)?;
        if now >= ticket.expires_at {
            return Err(Error::InvalidConsent);
        }
        if !ticket.is_bound_to(cookie_nonce) {
            return Err(Error::InvalidConsent);
        }
        Ok(ticket)
    }

    /// Whether the consent cookie the browser sent is the one set with this ticket's page.
    pub fn is_bound_to(&self, cookie_nonce: Option<&str>) -> bool {
        cookie_nonce.is_some_and(|nonce| self.nonce_hash.matches(nonce))
    }

    /// Where errors (and the user's refusal) go, now that the ticket vouches for it.
    pub fn redirect(&self) -> VerifiedRedirect {
        VerifiedRedirect {
            uri: self.redirect_uri.clone(),
            state: self.state.clone(),
        }
    }
}

fn sign(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn ticket() -> ConsentTicket {
        ConsentTicket {
            client_id: "mcp_c".into(),
            redirect_uri: "http://127.0.0.1:5000/cb".into(),
            state: Some("s".into()),
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            scope: "mcp".into(),
            resource: "https://mcp.example.com/mcp".into(),
            redirect_uri_given: true,
            expires_at: 1_600,
            nonce_hash: SecretHash::of("nonce"),
        }
    }

    #[test]
    fn a_sealed_ticket_opens_with_its_cookie_before_expiry() {
        let sealed = ticket().seal(KEY);
        assert_eq!(
            ConsentTicket::open(&sealed, KEY, Some("nonce"), 1_599).unwrap(),
            ticket()
        );
    }

    #[test]
    fn every_tampering_fails_the_same_way() {
        let sealed = ticket().seal(KEY);
        let (payload, tag) = sealed.split_once('.').unwrap();
        let mut forged = ticket();
        forged.redirect_uri = "https://evil.example/cb".into();
        let forged_payload = forged.seal(KEY).split_once('.').unwrap().0.to_owned();
        let cases = [
            (
                format!("{forged_payload}.{tag}"),
                Some("nonce"),
                0,
                "payload swapped",
            ),
            (format!("{payload}.AAAA"), Some("nonce"), 0, "bad tag"),
            (payload.to_owned(), Some("nonce"), 0, "no tag"),
            (sealed.clone(), None, 0, "missing cookie"),
            (sealed.clone(), Some("other"), 0, "cookie of another page"),
            (sealed.clone(), Some("nonce"), 1_600, "expired"),
        ];
        for (value, cookie, now, case) in cases {
            assert_eq!(
                ConsentTicket::open(&value, KEY, cookie, now),
                Err(Error::InvalidConsent),
                "{case}"
            );
        }
        assert_eq!(
            ConsentTicket::open(&sealed, b"another key", Some("nonce"), 0),
            Err(Error::InvalidConsent)
        );
    }
}
