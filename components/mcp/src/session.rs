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
    pub record: Expiring<SessionRecord>,
}

impl Session {
    pub fn key(&self) -> String {
        keys::mcp_session(&self.hash)
    }
}

/// Opens a session for `user_id`; returns the id to send in `Mcp-Session-Id`.
pub fn open(kv: &SpinKv, record: SessionRecord, now: u64) -> Result<Secret, store::Error> {
    let random = platform::random::bytes::<32>()
        .map_err(|e| store::Error::Backend(format!("random: {e}")))?;
    let id = Secret::from_random(&random);
    let stored = Expiring {
        expires_at: now + LIFETIME_SECS,
        value: record,
    };
    record::create(kv, &keys::mcp_session(&id.hash().to_string()), &stored)?;
    Ok(id)
}

/// The caller's session `id`, or `None` when there is none for this user (unknown,
/// ended, expired, or someone else's).
pub fn find(
    kv: &SpinKv,
    id: &str,
    user_id: &str,
    now: u64,
) -> Result<Option<Session>, store::Error> {
    let hash = SecretHash::of(id).to_string();
    let found = record::read::<SessionRecord>(kv, &keys::mcp_session(&hash), now)?;
    Ok(found
        .filter(|record| record.value.user_id == user_id)
        .map(|record| Session { hash, record }))
}

/// Stores a changed session (its log level).
pub fn save(kv: &SpinKv, session: &Session) -> Result<(), store::Error> {
    record::write(kv, &session.key(), &session.record)
}

/// Ends a session.
pub fn end(kv: &SpinKv, session: &Session) -> Result<(), store::Error> {
    kv.delete(&session.key())
}
