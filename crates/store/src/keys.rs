//! Every key the application writes, built in one place. Keys are a short prefix and an
//! identifier; Spin documents a 256-byte limit, which the identifiers we mint stay far
//! below. A record format that old code cannot read gets a new prefix.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A registered OAuth client (`cl:` + client id).
pub const CLIENT_PREFIX: &str = "cl:";

/// Whether `client_id` is the URL of a Client ID Metadata Document rather than the id
/// of a registered client (which never contains `://`).
pub fn names_metadata_document(client_id: &str) -> bool {
    client_id.starts_with("https://") || client_id.starts_with("http://")
}

/// The record of a client: `cl:<client_id>` for a registered one, `cm:<sha256(url)>`
/// for one whose `client_id` is the URL of its metadata document (URLs can exceed the
/// store's key limit, and readers need not know which kind they hold).
pub fn client(client_id: &str) -> String {
    if names_metadata_document(client_id) {
        format!("{CLIENT_METADATA_PREFIX}{}", digest(client_id.as_bytes()))
    } else {
        format!("{CLIENT_PREFIX}{client_id}")
    }
}

/// A grant: one user's consent for one client (`gr:` + grant id).
pub const GRANT_PREFIX: &str = "gr:";

pub fn grant(grant_id: &str) -> String {
    format!("{GRANT_PREFIX}{grant_id}")
}

/// An authorization code, keyed by the SHA-256 of the code (`co:` + hash): the code
/// itself is never stored.
pub const CODE_PREFIX: &str = "co:";

pub fn code(code_hash: &str) -> String {
    format!("{CODE_PREFIX}{code_hash}")
}

/// A sign-in in progress at the customer's app, keyed by the SHA-256 of its id
/// (`si:` + hash); the id travels only inside the signed `state`.
pub const SIGN_IN_PREFIX: &str = "si:";

pub fn sign_in(id_hash: &str) -> String {
    format!("{SIGN_IN_PREFIX}{id_hash}")
}

/// An MCP session (2025-era revisions), keyed by the SHA-256 of its `Mcp-Session-Id`
/// (`ms:` + hash): the id itself is never stored.
pub const MCP_SESSION_PREFIX: &str = "ms:";

pub fn mcp_session(id_hash: &str) -> String {
    format!("{MCP_SESSION_PREFIX}{id_hash}")
}

/// A request the server sent a client on a session, and later the client's answer
/// (`ma:` + session hash + `:` + request id), handed from the instance that received
/// the answer to the one waiting for it.
pub const MCP_ANSWER_PREFIX: &str = "ma:";

pub fn mcp_answer(session_hash: &str, request_id: &str) -> String {
    format!("{MCP_ANSWER_PREFIX}{session_hash}:{request_id}")
}

/// A session of the HTTP+SSE transport, keyed by the SHA-256 of its `sessionId`
/// (`ss:` + hash). It lives while its `GET /sse` stream does.
pub const SSE_SESSION_PREFIX: &str = "ss:";

pub fn sse_session(id_hash: &str) -> String {
    format!("{SSE_SESSION_PREFIX}{id_hash}")
}

/// What a grant's client last negotiated in `initialize` over HTTP+SSE (`sc:` + grant
/// id), so that the session of a stream it reconnects starts from it: SDK clients
/// reconnect their event stream without sending `initialize` again.
pub const SSE_CLIENT_PREFIX: &str = "sc:";

pub fn sse_client(grant_id: &str) -> String {
    format!("{SSE_CLIENT_PREFIX}{grant_id}")
}

/// How many messages an SSE session's outbox has numbered (`sn:` + session hash; a
/// counter). Removed with the session.
pub const SSE_OUTBOX_COUNT_PREFIX: &str = "sn:";

pub fn sse_outbox_count(session_hash: &str) -> String {
    format!("{SSE_OUTBOX_COUNT_PREFIX}{session_hash}")
}

/// One message waiting for an SSE session's stream (`so:` + session hash + `:` + its
/// number): written by whichever instance handled a POST, read and deleted by the
/// instance holding the stream.
pub const SSE_OUTBOX_PREFIX: &str = "so:";

/// Outbox messages are indexed for the sweep this many numbers at a time, in one slot.
pub const SSE_OUTBOX_BLOCK: i64 = 16;

pub fn sse_outbox(session_hash: &str, number: i64) -> String {
    format!("{SSE_OUTBOX_PREFIX}{session_hash}:{number}")
}

/// The Clerk token last minted for a grant (`ut:` + grant id), until shortly before it
/// expires.
pub const UPSTREAM_TOKEN_PREFIX: &str = "ut:";

pub fn upstream_token(grant_id: &str) -> String {
    format!("{UPSTREAM_TOKEN_PREFIX}{grant_id}")
}

/// Who is minting a grant's Clerk token right now (`ul:` + grant id), so that
/// concurrent callers wait for that token instead of minting their own.
pub const UPSTREAM_LOCK_PREFIX: &str = "ul:";

pub fn upstream_lock(grant_id: &str) -> String {
    format!("{UPSTREAM_LOCK_PREFIX}{grant_id}")
}

/// How many grants a user's index has numbered (`un:` + SHA-256 of the user id; a
/// counter, see `user_grants`). Kept while the user exists.
pub const USER_GRANT_COUNT_PREFIX: &str = "un:";

/// One entry of a user's grant index (`ug:` + user hash + `:` + slot): a grant id.
pub const USER_GRANT_SLOT_PREFIX: &str = "ug:";

/// BASE64URL of the SHA-256 of `bytes`: how identifiers too long or too sensitive for a
/// key are named.
pub fn digest(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(bytes))
}

/// The hash under which a user's index is kept (user ids can be long in local mode).
pub fn user_hash(user_id: &str) -> String {
    digest(user_id.as_bytes())
}

pub fn user_grant_count(user_hash: &str) -> String {
    format!("{USER_GRANT_COUNT_PREFIX}{user_hash}")
}

pub fn user_grant_slot(user_hash: &str, slot: i64) -> String {
    format!("{USER_GRANT_SLOT_PREFIX}{user_hash}:{slot}")
}

/// A Clerk webhook delivery already processed (`wh:` + SHA-256 of its `svix-id`), kept a
/// little longer than Svix's 5-minute timestamp window so that a retry is recognised.
pub const WEBHOOK_PREFIX: &str = "wh:";

pub fn webhook_delivery(id_hash: &str) -> String {
    format!("{WEBHOOK_PREFIX}{id_hash}")
}

/// Clerk's answer about a valid opaque OAuth access token (`ct:` + SHA-256 of the
/// token), in the resource-server mode: kept at most a minute, never past the token's
/// expiry, so that a revocation at Clerk takes effect within that minute.
pub const CLERK_TOKEN_PREFIX: &str = "ct:";

pub fn clerk_token(token_hash: &str) -> String {
    format!("{CLERK_TOKEN_PREFIX}{token_hash}")
}

/// Prefixes of the records that expire and that the sweep removes once they have
/// (`scripts/reclaim` removes the expired ones written before the expiry index).
pub const EXPIRING_PREFIXES: [&str; 14] = [
    CLIENT_PREFIX,
    GRANT_PREFIX,
    CODE_PREFIX,
    SIGN_IN_PREFIX,
    CLIENT_METADATA_PREFIX,
    MCP_SESSION_PREFIX,
    MCP_ANSWER_PREFIX,
    SSE_SESSION_PREFIX,
    SSE_OUTBOX_PREFIX,
    SSE_CLIENT_PREFIX,
    UPSTREAM_TOKEN_PREFIX,
    UPSTREAM_LOCK_PREFIX,
    WEBHOOK_PREFIX,
    CLERK_TOKEN_PREFIX,
];

/// The records kept beside a record under its id, removed with it by the sweep: a
/// grant's Clerk token and lock and its SSE client state, an SSE session's outbox counter.
pub fn companions(key: &str) -> Vec<String> {
    if let Some(grant_id) = key.strip_prefix(GRANT_PREFIX) {
        return vec![
            upstream_token(grant_id),
            upstream_lock(grant_id),
            sse_client(grant_id),
        ];
    }
    if let Some(session_hash) = key.strip_prefix(SSE_SESSION_PREFIX) {
        return vec![sse_outbox_count(session_hash)];
    }
    Vec::new()
}

/// How many slots expiry bucket `bucket` has handed out (a counter; see `expiry`).
pub fn expiry_count(bucket: u64) -> String {
    format!("xn:{bucket}")
}

/// One slot of an expiry bucket: the keys of records that expire in it.
pub fn expiry_slot(bucket: u64, slot: i64) -> String {
    format!("xs:{bucket}:{slot}")
}

/// A client described by a fetched Client ID Metadata Document, keyed by the SHA-256
/// of its URL (`cm:` + hash; see [`client`]).
pub const CLIENT_METADATA_PREFIX: &str = "cm:";

/// When the next sweep of expired records is due, and where in the expiry index it
/// resumes.
pub const SWEEP: &str = "cfg:sweep";

/// Clerk's JWKS, cached so that a sign-in rarely needs an upstream call.
pub const CLERK_JWKS: &str = "cfg:clerk-jwks";

/// The server's generated signing key, when no `signing_secret` variable is set.
pub const SERVER_KEY: &str = "cfg:server-key";

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_prefixed_and_short() {
        let key = super::client("mcp_0123456789abcdefghijkl");
        assert_eq!(key, "cl:mcp_0123456789abcdefghijkl");
        assert!(key.len() < 256);
    }

    #[test]
    fn url_client_ids_are_hashed_into_their_own_prefix() {
        let long = format!("https://client.example.com/{}", "a".repeat(2000));
        let key = super::client(&long);
        assert!(key.starts_with("cm:"));
        assert_eq!(key.len(), 3 + 43);
        assert_ne!(key, super::client("https://client.example.com/b"));
    }
}
