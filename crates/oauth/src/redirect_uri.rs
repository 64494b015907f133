//! Redirect URIs: which a client may register (RFC 8252, OAuth 2.1 §2.3.1), and when a
//! request's `redirect_uri` matches a registered one (exact, OAuth 2.1 §4.1.3).

use url::{Host, Url};

use crate::Error;

/// Schemes that would run or read something in the browser rather than hand the code to
/// an app; never acceptable as a private-use redirect scheme.
const FORBIDDEN_SCHEMES: &[&str] = &[
    "javascript",
    "data",
    "file",
    "vbscript",
    "blob",
    "about",
    "ftp",
    "ws",
    "wss",
];

/// A redirect URI a client may register, kept exactly as the client wrote it so that
/// later comparisons are against the client's own string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Accepts `https` URIs, `http` URIs on a loopback host (any port, RFC 8252 §7.3),
    /// and private-use schemes such as `cursor://` (RFC 8252 §7.1). Fragments are refused
    /// (RFC 6749 §3.1.2), as is user info, which could disguise the real host.
    pub fn parse(value: &str) -> Result<Self, Error> {
        let invalid = |reason: &'static str| Error::InvalidRedirectUri { reason };
        let url = Url::parse(value).map_err(|_| invalid("not an absolute URI"))?;
        if url.fragment().is_some() {
            return Err(invalid("must not contain a fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("must not contain user info"));
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => return Err(invalid("http is allowed only for loopback hosts")),
            scheme if FORBIDDEN_SCHEMES.contains(&scheme) => {
                return Err(invalid("this scheme cannot receive a code"));
            }
            _ => {}
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a request's `redirect_uri` designates this registered URI: byte for byte
    /// (OAuth 2.1 §4.1.3, no normalisation that an attacker could exploit), except that a
    /// loopback IP literal may come with any port, since native apps pick a free port at
    /// run time (RFC 8252 §7.3).
    pub fn matches(&self, requested: &str) -> bool {
        if self.0 == requested {
            return true;
        }
        let (Ok(registered), Ok(requested)) = (Url::parse(&self.0), Url::parse(requested)) else {
            return false;
        };
        registered.scheme() == "http"
            && requested.scheme() == "http"
            && is_loopback_ip(&registered)
            && registered.host() == requested.host()
            && registered.path() == requested.path()
            && registered.query() == requested.query()
            && requested.fragment().is_none()
            && requested.username().is_empty()
            && requested.password().is_none()
            && without_port(&registered) == without_port(&requested)
    }

    /// The host shown on the consent page, so the user sees where the code will go.
    pub fn display_host(&self) -> String {
        match Url::parse(&self.0) {
            Ok(url) => match url.host_str() {
                Some(host) => host.to_owned(),
                None => format!("{}:", url.scheme()),
            },
            Err(_) => self.0.clone(),
        }
    }

    /// Whether the code goes to this machine (a loopback host).
    pub fn is_loopback(&self) -> bool {
        Url::parse(&self.0).is_ok_and(|url| is_loopback(&url))
    }
}

fn is_loopback_ip(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    }
}

fn is_loopback(url: &Url) -> bool {
    is_loopback_ip(url) || url.host() == Some(Host::Domain("localhost"))
}

fn without_port(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_port(None);
    url.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_uris_real_clients_register() {
        for uri in [
            "https://claude.ai/api/mcp/auth_callback",
            "http://127.0.0.1:6276/oauth/callback",
            "http://localhost:51234/oauth/callback",
            "http://[::1]:8080/cb",
            "cursor://anysphere.cursor-retrieval/oauth/user-mcp/callback",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(RedirectUri::parse(uri).is_ok(), "{uri}");
        }
    }

    #[test]
    fn refuses_unsafe_uris() {
        for uri in [
            "http://example.com/cb",
            "http://127.0.0.1.evil.example/cb",
            "https://example.com/cb#frag",
            "https://user@example.com/cb",
            "javascript:alert(1)",
            "data:text/html,x",
            "file:///etc/passwd",
            "/relative/cb",
            "",
        ] {
            assert!(RedirectUri::parse(uri).is_err(), "{uri}");
        }
    }

    #[test]
    fn matching_is_exact() {
        let r = RedirectUri::parse("https://app.example/cb?x=1").unwrap();
        assert!(r.matches("https://app.example/cb?x=1"));
        for other in [
            "https://app.example/cb?x=2",
            "https://app.example/cb?x=1&y=2",
            "https://app.example/cb/",
            "https://app.example/cB?x=1",
            "https://APP.example/cb?x=1",
            "https://app.example:443/cb?x=1",
            "https://app.example/cb?x=1#f",
            "https://app.example.evil/cb?x=1",
        ] {
            assert!(!r.matches(other), "{other}");
        }
    }

    #[test]
    fn loopback_ip_literals_may_change_port_only() {
        let r = RedirectUri::parse("http://127.0.0.1:6276/oauth/callback").unwrap();
        assert!(r.matches("http://127.0.0.1:51000/oauth/callback"));
        assert!(r.matches("http://127.0.0.1/oauth/callback"));
        assert!(!r.matches("http://127.0.0.1:51000/oauth/other"));
        assert!(!r.matches("http://127.0.0.2:6276/oauth/callback"));
        assert!(!r.matches("https://127.0.0.1:6276/oauth/callback"));
        // `localhost` is a name, not a literal: exact match only.
        let named = RedirectUri::parse("http://localhost:3000/cb").unwrap();
        assert!(!named.matches("http://localhost:3001/cb"));
    }

    #[test]
    fn display_host_names_where_the_code_goes() {
        assert_eq!(
            RedirectUri::parse("https://claude.ai/cb")
                .unwrap()
                .display_host(),
            "claude.ai"
        );
        assert_eq!(
            RedirectUri::parse("cursor://anysphere.cursor-retrieval/cb")
                .unwrap()
                .display_host(),
            "anysphere.cursor-retrieval"
        );
        assert_eq!(
            RedirectUri::parse("com.example.app:/cb")
                .unwrap()
                .display_host(),
            "com.example.app:"
        );
    }
}
