//! Every key the application writes, built in one place. Keys are a short prefix and an
//! identifier; Spin documents a 256-byte limit, which the identifiers we mint stay far
//! below. A record format that old code cannot read gets a new prefix.

/// A registered OAuth client (`cl:` + client id).
pub const CLIENT_PREFIX: &str = "cl:";

pub fn client(client_id: &str) -> String {
    format!("{CLIENT_PREFIX}{client_id}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_prefixed_and_short() {
        let key = super::client("mcp_0123456789abcdefghijkl");
        assert_eq!(key, "cl:mcp_0123456789abcdefghijkl");
        assert!(key.len() < 256);
    }
}
