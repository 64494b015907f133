//! Local development sign-in: with no Clerk configured, the consent page lets a developer
//! sign in under a name of their choosing, so `spin up` works with zero setup. It is an
//! open door, so it is accepted only when the request provably comes from this machine.

use std::net::{IpAddr, SocketAddr};

use crate::Error;

/// Longest local user name.
const NAME_CHARS: usize = 64;

/// Whether both the host the request was addressed to and the client's address (as Spin
/// reports it in `spin-client-addr`) are loopback. Checking only the Host header would
/// let anyone who can reach the port claim to be local; checking only the peer address
/// would trust a reverse proxy running on this machine.
pub fn is_allowed(request_host: &str, client_addr: Option<&str>) -> bool {
    let host = request_host
        .rsplit_once(':')
        .map_or(request_host, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                request_host
            }
        });
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host_is_loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    let client_is_loopback = client_addr
        .and_then(|a| a.parse::<SocketAddr>().ok())
        .is_some_and(|a| a.ip().is_loopback());
    host_is_loopback && client_is_loopback
}

/// The user id of a local sign-in: `local:<name>`, the prefix keeping local users apart
/// from Clerk user ids.
pub fn user_id(name: Option<&str>) -> Result<String, Error> {
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or(Error::MissingParameter("user"))?;
    let valid = name.chars().count() <= NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if valid {
        Ok(format!("local:{name}"))
    } else {
        Err(Error::InvalidLocalUser)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_host_and_loopback_client_are_allowed() {
        assert!(is_allowed("127.0.0.1:3000", Some("127.0.0.1:51000")));
        assert!(is_allowed("localhost:3000", Some("[::1]:51000")));
        assert!(is_allowed("[::1]:3000", Some("127.0.0.1:1")));
        assert!(
            !is_allowed("mcp.example.com", Some("127.0.0.1:1")),
            "a proxy on this machine"
        );
        assert!(
            !is_allowed("127.0.0.1:3000", Some("203.0.113.9:443")),
            "a forged Host"
        );
        assert!(!is_allowed("127.0.0.1:3000", None));
        assert!(!is_allowed("127.0.0.1.evil.example", Some("127.0.0.1:1")));
    }

    #[test]
    fn user_names_are_short_and_plain() {
        assert_eq!(user_id(Some(" ada ")).unwrap(), "local:ada");
        assert_eq!(user_id(Some("ada.l-1@dev")).unwrap(), "local:ada.l-1@dev");
        assert_eq!(user_id(None), Err(Error::MissingParameter("user")));
        assert_eq!(user_id(Some("  ")), Err(Error::MissingParameter("user")));
        assert_eq!(user_id(Some("<script>")), Err(Error::InvalidLocalUser));
        assert_eq!(user_id(Some(&"a".repeat(65))), Err(Error::InvalidLocalUser));
    }
}
