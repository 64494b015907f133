//! The scopes this server grants.

/// The one scope an MCP client needs: use this server's tools, resources and prompts as
/// the signed-in user. Kept to one so consent stays legible; `offline_access` is not
/// listed because the MCP authorization spec says resource metadata SHOULD NOT.
pub const MCP: &str = "mcp";

/// Every scope the server understands, as published in both metadata documents.
pub const SUPPORTED: &[&str] = &[MCP];
