pub mod revoke;
pub mod token;
pub mod webhook;

use oauth::form::FormParams;
use oauth::registration::ClientRecord;
use oauth::token::ClientCredentials;
use platform::kv::SpinKv;
use store::{Expiring, keys, record};

/// Token and revocation requests are small forms.
pub const FORM_BYTES: usize = 16 * 1024;

/// An OAuth error for the client, a store failure (503 while the store is unavailable,
/// so the client keeps its tokens and retries), or an internal failure (logged,
/// `server_error`).
pub enum Failure {
    OAuth(oauth::Error),
    Store(store::Error),
    Internal(String),
}

impl From<oauth::Error> for Failure {
    fn from(e: oauth::Error) -> Self {
        Failure::OAuth(e)
    }
}

impl From<store::Error> for Failure {
    fn from(e: store::Error) -> Self {
        Failure::Store(e)
    }
}

impl From<platform::config::ConfigError> for Failure {
    fn from(e: platform::config::ConfigError) -> Self {
        Failure::Internal(e.to_string())
    }
}

impl Failure {
    pub fn into_response(self) -> spin_sdk::http::Response {
        match self {
            Failure::OAuth(e) => {
                let mut resp = platform::response::oauth_error(&e);
                // RFC 6749 §5.2: a failed Basic authentication answers with a challenge.
                if e.code() == oauth::ErrorCode::InvalidClient {
                    resp.set_header("www-authenticate", "Basic realm=\"token\"");
                }
                resp
            }
            Failure::Store(e) => platform::response::store_error("token endpoint", &e),
            Failure::Internal(reason) => {
                eprintln!("token endpoint: {reason}");
                platform::response::oauth_error(&oauth::Error::ServerError)
            }
        }
    }
}

/// Parses the form and authenticates the client against its registration.
pub fn authenticated_client(
    req: &spin_sdk::http::Request,
    kv: &SpinKv,
    now: u64,
) -> Result<(FormParams, ClientCredentials, Expiring<ClientRecord>), Failure> {
    let content_type = req.header("content-type").and_then(|v| v.as_str());
    let params = FormParams::parse(content_type, req.body())?;
    let authorization = req.header("authorization").and_then(|v| v.as_str());
    let credentials = ClientCredentials::parse(authorization, &params)?;
    let client = record::read::<ClientRecord>(kv, &keys::client(&credentials.client_id), now)?
        .ok_or(oauth::Error::ClientAuthFailed)?;
    credentials.authenticate(&client.value)?;
    Ok((params, credentials, client))
}

/// Puts a grant that has no slot in its user's index there (one written before the
/// index existed, or whose indexing failed at sign-in), before the write that renews
/// it, so that webhooks and the connections page find every grant that lives on. A
/// failure is logged and retried at the next renewal.
pub fn ensure_indexed(kv: &impl store::Kv, grant_id: &str, grant: &mut oauth::grant::GrantRecord) {
    if grant.user_slot.is_some() {
        return;
    }
    match store::user_grants::add(kv, &grant.user_id, grant_id) {
        Ok(slot) => grant.user_slot = Some(slot),
        Err(e) => {
            eprintln!("user index: {e}; grant {grant_id} stays unindexed until its next renewal")
        }
    }
}
