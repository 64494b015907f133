//! Protocol versions: the 2025-era revisions negotiated by `initialize`, and the
//! stateless 2026-07-28 revision that names its version on every request.

/// The stateless revision: no `initialize`, no sessions; every request carries its
/// version, client info and capabilities in `_meta`.
pub const STATELESS: &str = "2026-07-28";

/// Every revision this server speaks, newest first (`server/discover`'s list).
pub const ALL: [&str; 4] = [STATELESS, "2025-11-25", "2025-06-18", "2025-03-26"];

/// The revisions `initialize` negotiates, newest first.
pub const SUPPORTED: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];

/// What a client that sends no `MCP-Protocol-Version` header speaks (2025-06-18 §
/// "Protocol Version Header": assume 2025-03-26).
pub const ASSUMED_WITHOUT_HEADER: &str = "2025-03-26";

pub fn is_supported(version: &str) -> bool {
    SUPPORTED.contains(&version)
}

/// The version to answer `initialize` with: the client's, when we speak it, otherwise
/// our newest (the client then decides whether it can go on).
pub fn negotiate(requested: Option<&str>) -> &'static str {
    SUPPORTED
        .iter()
        .find(|v| Some(**v) == requested)
        .copied()
        .unwrap_or(SUPPORTED[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clients_version_wins_when_supported() {
        assert_eq!(negotiate(Some("2025-06-18")), "2025-06-18");
        assert_eq!(negotiate(Some("2025-03-26")), "2025-03-26");
        assert_eq!(negotiate(Some("2024-11-05")), "2025-11-25");
        assert_eq!(negotiate(None), "2025-11-25");
        assert!(!is_supported("2099-01-01"));
    }
}
