//! The connections page's credentials, kept stateless: a sealed pass in a `__Host-`
//! cookie once the user has signed in, and a sealed `state` for the hop through the
//! customer's app, bound to a cookie nonce as the consent ticket is.
//!
//! Each seal is `<BASE64URL(JSON)>.<BASE64URL(HMAC)>` under the server key, with its
//! purpose in the MAC, so a consent ticket or sign-in state can never pass for a pass.
//! The pass carries a random CSRF token that the page's forms repeat: a cookie alone
//! does not prove that the page sent a request (`SameSite` cookies ride along between
//! the ports of one host, and our pages send no referrer).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::Sha256;

use crate::secret::SecretHash;

/// The signed-in user's pass.
pub const PASS_COOKIE: &str = "__Host-mcp_connections";
/// The nonce that binds a sign-in through the app to this browser.
pub const SIGN_IN_COOKIE: &str = "__Host-mcp_connections_sign_in";
/// How long a pass lasts: long enough to look and revoke, short enough that a shared
/// browser forgets it.
pub const PASS_SECS: u64 = 15 * 60;
/// How long the hop through the app may take.
pub const SIGN_IN_SECS: u64 = 10 * 60;

const PASS_PURPOSE: &[u8] = b"connections-pass|";
const STATE_PURPOSE: &[u8] = b"connections-sign-in|";

/// Who is signed in to the page, until when, and the token its forms must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pass {
    pub user_id: String,
    pub csrf: String,
    pub expires_at: u64,
}

impl Pass {
    pub fn seal(&self, key: &[u8]) -> String {
        seal(PASS_PURPOSE, self, key)
    }

    /// The pass in a cookie, if it is ours and still valid.
    pub fn open(sealed: &str, key: &[u8], now: u64) -> Option<Self> {
        let pass: Self = open(PASS_PURPOSE, sealed, key)?;
        (now < pass.expires_at).then_some(pass)
    }

    /// Whether a form's CSRF token is this pass's (compared without early exit).
    pub fn allows(&self, presented: Option<&str>) -> bool {
        presented.is_some_and(|presented| SecretHash::of(&self.csrf).matches(presented))
    }
}

/// A sign-in through the app in progress: the hash of the nonce in this browser's cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIn {
    pub nonce_hash: SecretHash,
    pub expires_at: u64,
}

impl PendingSignIn {
    pub fn new(nonce: &str, expires_at: u64) -> Self {
        Self {
            nonce_hash: SecretHash::of(nonce),
            expires_at,
        }
    }

    /// The `state` handed to the app.
    pub fn seal(&self, key: &[u8]) -> String {
        seal(STATE_PURPOSE, self, key)
    }

    /// Whether `state` came back to the browser that started the sign-in, in time.
    pub fn open(state: &str, key: &[u8], cookie_nonce: Option<&str>, now: u64) -> bool {
        open::<Self>(STATE_PURPOSE, state, key).is_some_and(|pending| {
            now < pending.expires_at
                && cookie_nonce.is_some_and(|nonce| pending.nonce_hash.matches(nonce))
        })
    }
}

fn mac(purpose: &[u8], payload: &str, key: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(purpose);
    mac.update(payload.as_bytes());
    mac
}

fn seal(purpose: &[u8], value: &impl Serialize, key: &[u8]) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default());
    let tag = URL_SAFE_NO_PAD.encode(mac(purpose, &payload, key).finalize().into_bytes());
    format!("{payload}.{tag}")
}

fn open<T: DeserializeOwned>(purpose: &[u8], sealed: &str, key: &[u8]) -> Option<T> {
    let (payload, tag) = sealed.split_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    mac(purpose, payload, key).verify_slice(&tag).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &[u8] = &[7; 32];

    fn pass() -> Pass {
        Pass {
            user_id: "user_1".into(),
            csrf: "c".repeat(43),
            expires_at: 1_000,
        }
    }

    #[test]
    fn a_pass_opens_until_it_expires_and_only_with_our_key() {
        let sealed = pass().seal(KEY);
        assert_eq!(Pass::open(&sealed, KEY, 999), Some(pass()));
        assert_eq!(Pass::open(&sealed, KEY, 1_000), None);
        assert_eq!(Pass::open(&sealed, &[8; 32], 999), None);
        let (payload, tag) = sealed.split_once('.').unwrap();
        let other = URL_SAFE_NO_PAD.encode(br#"{"user_id":"user_2","csrf":"x","expires_at":9999}"#);
        assert_eq!(Pass::open(&format!("{other}.{tag}"), KEY, 999), None);
        assert_eq!(Pass::open(payload, KEY, 999), None);
    }

    #[test]
    fn a_sign_in_state_is_not_a_pass_and_binds_the_browser() {
        let state = PendingSignIn::new("nonce", 1_000).seal(KEY);
        assert_eq!(Pass::open(&state, KEY, 0), None);
        assert!(PendingSignIn::open(&state, KEY, Some("nonce"), 999));
        assert!(!PendingSignIn::open(&state, KEY, Some("other"), 999));
        assert!(!PendingSignIn::open(&state, KEY, None, 999));
        assert!(!PendingSignIn::open(&state, KEY, Some("nonce"), 1_000));
        assert!(!PendingSignIn::open(
            &pass().seal(KEY),
            KEY,
            Some("nonce"),
            0
        ));
    }

    #[test]
    fn forms_must_repeat_the_pass_csrf_token() {
        let pass = pass();
        assert!(pass.allows(Some(&"c".repeat(43))));
        assert!(!pass.allows(Some("c")));
        assert!(!pass.allows(None));
    }

    proptest! {
        #[test]
        fn anything_in_the_cookie_or_state_opens_or_is_refused_without_panicking(text in ".{0,300}") {
            prop_assert_eq!(Pass::open(&text, KEY, 0), None);
            prop_assert!(!PendingSignIn::open(&text, KEY, Some("n"), 0));
        }
    }
}
