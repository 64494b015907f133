//! Authorization codes (RFC 6749 §4.1.2): single use, short-lived, stored by hash.

use serde::{Deserialize, Serialize};

/// The code as stored (`co:<sha256(code)>`); see `docs/kv-schema.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRecord {
    pub grant_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    /// Whether the authorization request named `redirect_uri`; then the token request
    /// must repeat it (RFC 6749 §4.1.3).
    pub redirect_uri_given: bool,
    pub code_challenge: String,
    /// Set when the code is exchanged. A second exchange finds it set and revokes the
    /// grant (RFC 6749 §4.1.2: a reused code SHOULD revoke what it issued).
    #[serde(default)]
    pub used: bool,
}
