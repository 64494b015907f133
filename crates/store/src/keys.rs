//! Every key the application writes, built in one place. Keys are a short prefix and an
//! identifier; Spin documents a 256-byte limit, which the identifiers we mint stay far
//! below. A record format that old code cannot read gets a new prefix.

/// A registered OAuth client (`cl:` + client id).
pub const CLIENT_PREFIX: &str = "cl:";

pub fn client(client_id: &str) -> String {
    format!("{CLIENT_PREFIX}{client_id}")
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

/// Prefixes of the records that expire and that the sweep removes once they have.
pub const EXPIRING_PREFIXES: [&str; 5] = [
    CLIENT_PREFIX,
    GRANT_PREFIX,
    CODE_PREFIX,
    SIGN_IN_PREFIX,
    CLIENT_METADATA_PREFIX,
];

/// A fetched Client ID Metadata Document, keyed by the SHA-256 of its URL (`cm:` +
/// hash): the validated client it describes, cached.
pub const CLIENT_METADATA_PREFIX: &str = "cm:";

pub fn client_metadata(url_hash: &str) -> String {
    format!("{CLIENT_METADATA_PREFIX}{url_hash}")
}

/// When the next sweep of expired records is due (its `exp`).
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
}
