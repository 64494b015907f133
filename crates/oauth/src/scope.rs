//! The scopes this server grants.

/// The one scope an MCP client needs: use this server's tools, resources and prompts as
/// the signed-in user. Kept to one so consent stays legible; `offline_access` is not
/// listed because the MCP authorization spec says resource metadata SHOULD NOT.
pub const MCP: &str = "mcp";

/// Every scope the server understands, as published in both metadata documents.
pub const SUPPORTED: &[&str] = &[MCP];

/// The scopes in a space-separated request (RFC 6749 §3.3) that this server defines, in
/// order; the rest (`openid`, `offline_access`, anything unknown) is not ours to grant.
pub fn defined(requested: &str) -> impl Iterator<Item = &str> {
    requested
        .split(' ')
        .filter(|scope| SUPPORTED.contains(scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_defined_scopes_are_kept() {
        let kept: Vec<&str> = defined("openid  mcp profile offline_access mcp").collect();
        assert_eq!(kept, ["mcp", "mcp"]);
        assert_eq!(defined("").count(), 0);
    }
}
