//! Sessions of the 2025-era revisions (`Mcp-Session-Id`), kept in the key-value store so
//! that any instance can serve any request of a session.
//!
//! The id is 32 random bytes; the store keys the record by the id's SHA-256, so a
//! leaked store does not yield usable ids. A session belongs to the user who opened
//! it: another user presenting its id gets 404, as if it did not exist.

use oauth::secret::{Secret, SecretHash};
use platform::kv::SpinKv;
use protocol::context::ClientCapabilities;
use protocol::logging::Level;
use serde::{Deserialize, Serialize};
use store::record::{self, Expiring};
use store::{Kv, keys};

/// How long a session lives after `initialize`. Clients open a new one when it is gone
/// (404), so this bounds the store's size more than it limits anyone.
pub const LIFETIME_SECS: u64 = 24 * 60 * 60;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    pub user_id: String,
    pub protocol_version: String,
    #[serde(default)]
    pub sampling: bool,
    #[serde(default)]
    pub elicitation: bool,
    #[serde(default)]
    pub roots: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
}

impl SessionRecord {
    pub fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities {
            sampling: self.sampling,
            elicitation: self.elicitation,
            roots: self.roots,
        }
    }

    pub fn log_level(&self) -> Option<Level> {
        self.log_level.as_deref().and_then(Level::parse)
    }
}

/// A session found for the caller.
pub struct Session {
    /// The hash of the id: the store key's suffix, and the scope of handed-over answers.
    pub hash: String,
    /// Where the record is kept (`ms:` or, for the HTTP+SSE transport, `ss:`).
    pub key: String,
    pub record: Expiring<SessionRecord>,
}

/// Opens a session for `user_id`; returns the id to send in `Mcp-Session-Id`.
pub fn open(kv: &SpinKv, record: SessionRecord, now: u64) -> Result<Secret, store::Error> {
    open_under(kv, keys::mcp_session, record, now + LIFETIME_SECS).map(|(id, _)| id)
}

/// Opens a session kept under `key_of(hash)` until `expires_at`: its id and its hash.
pub fn open_under(
    kv: &SpinKv,
    key_of: fn(&str) -> String,
    record: SessionRecord,
    expires_at: u64,
) -> Result<(Secret, String), store::Error> {
    let random = platform::random::bytes::<32>()
        .map_err(|e| store::Error::Backend(format!("random: {e}")))?;
    let id = Secret::from_random(&random);
    let hash = id.hash().to_string();
    let stored = Expiring {
        expires_at,
        value: record,
    };
    record::create(kv, &key_of(&hash), &stored)?;
    Ok((id, hash))
}

/// The caller's session `id`, or `None` when there is none for this user (unknown,
/// ended, expired, or someone else's).
pub fn find(
    kv: &SpinKv,
    id: &str,
    user_id: &str,
    now: u64,
) -> Result<Option<Session>, store::Error> {
    find_under(kv, keys::mcp_session, id, user_id, now)
}

/// [`find`] for sessions kept under `key_of(hash)`.
pub fn find_under(
    kv: &SpinKv,
    key_of: fn(&str) -> String,
    id: &str,
    user_id: &str,
    now: u64,
) -> Result<Option<Session>, store::Error> {
    let hash = SecretHash::of(id).to_string();
    let key = key_of(&hash);
    let found = record::read::<SessionRecord>(kv, &key, now)?;
    Ok(found
        .filter(|record| record.value.user_id == user_id)
        .map(|record| Session { hash, key, record }))
}

/// Stores a changed session (its log level, or what `initialize` negotiated).
pub fn save(kv: &SpinKv, session: &Session) -> Result<(), store::Error> {
    record::write(kv, &session.key, &session.record)
}

/// Ends a session.
pub fn end(kv: &SpinKv, session: &Session) -> Result<(), store::Error> {
    kv.delete(&session.key)
}
