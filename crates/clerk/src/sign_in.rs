//! The hop through the customer's app: we send the browser to
//! `{app_url}/auth/mcp?state=…&callback_url=…&client_name=…`; the app, once Clerk has
//! signed the user in, sends it to `callback_url?clerk_token=…&state=…`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Error;

/// The `state` we hand the app: a transaction id and its HMAC under the server key, so a
/// state we did not mint is refused before any lookup.
pub fn seal_state(transaction_id: &str, key: &[u8]) -> String {
    format!(
        "{transaction_id}.{}",
        URL_SAFE_NO_PAD.encode(tag(transaction_id, key))
    )
}

/// The transaction id inside a state we minted.
pub fn open_state<'a>(state: &'a str, key: &[u8]) -> Result<&'a str, Error> {
    let (id, presented) = state.split_once('.').ok_or(Error::BadState)?;
    let presented = URL_SAFE_NO_PAD
        .decode(presented)
        .map_err(|_| Error::BadState)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| Error::BadState)?;
    mac.update(b"sign-in|");
    mac.update(id.as_bytes());
    mac.verify_slice(&presented).map_err(|_| Error::BadState)?;
    Ok(id)
}

fn tag(transaction_id: &str, key: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"sign-in|");
    mac.update(transaction_id.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The app's sign-in URL, exactly as the app's `/auth/mcp` route expects it.
pub fn app_sign_in_url(
    app_url: &str,
    state: &str,
    callback_url: &str,
    client_name: &str,
) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("state", state)
        .append_pair("callback_url", callback_url)
        .append_pair("client_name", client_name)
        .finish();
    format!("{}/auth/mcp?{query}", app_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_forgeries_fail() {
        let key = b"k".repeat(32);
        let state = seal_state("tx123", &key);
        assert_eq!(open_state(&state, &key), Ok("tx123"));
        assert_eq!(
            open_state(&state.replace("tx123", "tx124"), &key),
            Err(Error::BadState)
        );
        assert_eq!(open_state("tx123", &key), Err(Error::BadState));
        assert_eq!(open_state(&state, b"other"), Err(Error::BadState));
    }

    #[test]
    fn app_url_carries_the_seed_contract() {
        assert_eq!(
            app_sign_in_url(
                "https://app.example/",
                "s.t",
                "https://mcp.example/callback",
                "Claude & co"
            ),
            "https://app.example/auth/mcp?state=s.t&callback_url=https%3A%2F%2Fmcp.example%2Fcallback&client_name=Claude+%26+co"
        );
    }
}
