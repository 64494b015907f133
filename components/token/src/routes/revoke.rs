//! `POST /revoke` (RFC 7009). Tokens are derived from their grant, so revoking either
//! kind of token ends the grant: the refresh token and every access token with it.

use oauth::grant;
use platform::{clock, grants, kv::SpinKv, response};
use spin_sdk::http::{Request, Response};
use store::{keys, record};

use super::{Failure, authenticated_client};

pub fn handle(req: &Request) -> Response {
    match revoke(req) {
        // RFC 7009 §2.2: 200 whether or not the token was valid, so the endpoint tells a
        // prober nothing about which tokens exist.
        Ok(()) => response::no_store_json(200, &serde_json::json!({})),
        Err(failure) => failure.into_response(),
    }
}

fn revoke(req: &Request) -> Result<(), Failure> {
    let kv = SpinKv::open_for_client()?;
    let now = clock::now();
    let (params, credentials, _client) = authenticated_client(req, &kv, now)?;
    let token = params.require("token")?;
    let presented = grant::parse_refresh_token(token).or_else(|_| grant::parse_access_token(token));
    let Ok(presented) = presented else {
        return Ok(());
    };
    let key = keys::grant(presented.grant_id);
    let Some(stored) = record::read::<grant::GrantRecord>(&kv, &key, now)? else {
        return Ok(());
    };
    // Only the client the grant belongs to may end it, and only with a genuine token.
    let genuine = stored.value.check_refresh(&presented, now).is_ok()
        || stored.value.verify_access_token(&presented, now).is_ok();
    if stored.value.client_id == credentials.client_id && genuine {
        grants::end(&kv, presented.grant_id, &stored.value, "client")?;
    }
    Ok(())
}
