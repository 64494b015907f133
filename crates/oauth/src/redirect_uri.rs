//! Redirect URIs: which a client may register (RFC 8252, OAuth 2.1 §2.3.1), and where a
//! request's `redirect_uri` sends the code (exact match, OAuth 2.1 §4.1.3).

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
    ///
    /// The URI must be exactly the string a strict parser serialises back: a parser
    /// drops control characters and spaces, resolves dot segments and rewrites hosts
    /// (`127.1`, upper case), so a URI that parses to something else than it says would
    /// be checked as one string and used as another. Percent-encoding must be normal too
    /// (upper-case hex, RFC 3986 §6.2.2.1; no escaped unreserved character, §6.2.2.2).
    pub fn parse(value: &str) -> Result<Self, Error> {
        let invalid = |reason: &'static str| Error::InvalidRedirectUri { reason };
        let url = Url::parse(value).map_err(|_| invalid("not an absolute URI"))?;
        if url.as_str() != value {
            return Err(invalid(
                "must be in canonical form (no spaces or control characters, no dot \
                 segments, lower-case scheme and host, no default port; a bare origin \
                 ends with /)",
            ));
        }
        if !has_normal_percent_encoding(value) {
            return Err(invalid(
                "percent-encoding must use upper-case hex and only for reserved characters",
            ));
        }
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

/// Where a request's `redirect_uri` sends the code, if it designates the registered
/// URI `registered`: the registered string itself, byte for byte (OAuth 2.1 §4.1.3, no
/// normalisation an attacker could exploit), or, for a loopback IP literal, the
/// registered string with another port, since native apps pick a free port at run time
/// (RFC 8252 §7.3). The result is always built from the registered string, never taken
/// from the request.
pub fn redirect_target(registered: &str, requested: &str) -> Option<String> {
    if registered == requested {
        return Some(registered.to_owned());
    }
    let registered_url = Url::parse(registered).ok()?;
    if registered_url.scheme() != "http" || !is_loopback_ip(&registered_url) {
        return None;
    }
    let requested_url = Url::parse(requested).ok()?;
    let mut target = registered_url;
    target.set_port(requested_url.port()).ok()?;
    // Only the port differs: the requested string is the registered one with its port.
    (target.as_str() == requested).then(|| target.into())
}

/// RFC 3986 §6.2.2: `%XX` with upper-case hex, and never for an unreserved character.
fn has_normal_percent_encoding(value: &str) -> bool {
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |b: u8| b.is_ascii_digit() || (b'A'..=b'F').contains(&b);
            let (Some(&high), Some(&low)) = (bytes.get(i + 1), bytes.get(i + 2)) else {
                return false;
            };
            if !hex(high) || !hex(low) {
                return false;
            }
            let decoded = u8::from_str_radix(&value[i + 1..i + 3], 16).unwrap_or(0);
            if decoded.is_ascii_alphanumeric() || b"-._~".contains(&decoded) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
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

    /// Registration: (URI, accepted). A URI is accepted only as its canonical self.
    #[test]
    fn only_canonical_uris_register() {
        let cases: &[(&str, bool)] = &[
            ("http://127.0.0.1:8976/callback", true),
            ("http://127.0.0.1:8976/callback\u{0}", false),
            ("\u{0}http://127.0.0.1:8976/callback", false),
            ("http://127.0.0.1:8976/call\u{0}back", false),
            ("http://127.0.0.1:8976/callback\r\n", false),
            ("http://127.0.0.1:8976/call\r\nback", false),
            ("http://127.0.0.1:8976/call\tback", false),
            (" http://127.0.0.1:8976/callback", false),
            ("http://127.0.0.1:8976/callback ", false),
            ("http://127.0.0.1:8976/call back", false),
            ("http://127.0.0.1:8976/x/../callback", false),
            ("http://127.0.0.1:8976/./callback", false),
            ("http://127.1:8976/callback", false),
            ("http://0x7f.0.0.1:8976/callback", false),
            ("http://[::1]:8976/callback", true),
            ("http://[0:0:0:0:0:0:0:1]:8976/callback", false),
            ("http://localhost:8976/callback", true),
            ("http://LOCALHOST:8976/callback", false),
            ("HTTP://127.0.0.1:8976/callback", false),
            ("http://localhost:3000", false),
            ("http://localhost:3000/", true),
            ("https://app.example/cb%2Fx", true),
            ("https://app.example/cb%2fx", false),
            ("https://app.example/c%62", false),
            ("https://app.example/cb%", false),
            ("https://app.example/cb%zz", false),
            ("https://app.example:443/cb", false),
            ("https://app.example:8443/cb", true),
            ("https://app.example/cb#", false),
            ("https://user:pw@app.example/cb", false),
            ("https://app.example/cb?x=1&y=%20", true),
            ("cursor://anysphere.cursor-retrieval/oauth/cb", true),
        ];
        for (uri, accepted) in cases {
            assert_eq!(RedirectUri::parse(uri).is_ok(), *accepted, "{uri:?}");
        }
    }

    #[test]
    fn matching_is_exact() {
        let registered = "https://app.example/cb?x=1";
        assert_eq!(
            redirect_target(registered, registered).as_deref(),
            Some(registered)
        );
        for other in [
            "https://app.example/cb?x=2",
            "https://app.example/cb?x=1&y=2",
            "https://app.example/cb/",
            "https://app.example/cB?x=1",
            "https://APP.example/cb?x=1",
            "https://app.example:443/cb?x=1",
            "https://app.example:8443/cb?x=1",
            "https://app.example/cb?x=1#f",
            "https://app.example.evil/cb?x=1",
            "https://app.example/cb?x=1\u{0}",
        ] {
            assert_eq!(redirect_target(registered, other), None, "{other}");
        }
    }

    #[test]
    fn loopback_ip_literals_may_change_port_only() {
        let registered = "http://127.0.0.1:6276/oauth/callback";
        let target = |requested: &str| redirect_target(registered, requested);
        assert_eq!(
            target("http://127.0.0.1:51000/oauth/callback").as_deref(),
            Some("http://127.0.0.1:51000/oauth/callback")
        );
        assert_eq!(
            target("http://127.0.0.1/oauth/callback").as_deref(),
            Some("http://127.0.0.1/oauth/callback"),
            "the default port is a port too"
        );
        for refused in [
            "http://127.0.0.1:51000/oauth/other",
            "http://127.0.0.2:6276/oauth/callback",
            "https://127.0.0.1:6276/oauth/callback",
            "http://127.1:51000/oauth/callback",
            "http://127.1:51000/x/../oauth/callback",
            "http://127.0.0.1:51000/x/../oauth/callback",
            "http://localhost:6276/oauth/callback",
            "http://[::1]:6276/oauth/callback",
            "http://127.0.0.1:51000/oauth/callback\u{0}",
            "http://127.0.0.1:51000/oauth/%63allback",
            "http://127.0.0.1:51000/oauth/callback?",
        ] {
            assert_eq!(target(refused), None, "{refused}");
        }
        let v6 = "http://[::1]:8080/cb";
        assert_eq!(
            redirect_target(v6, "http://[::1]:9090/cb").as_deref(),
            Some("http://[::1]:9090/cb")
        );
        // `localhost` is a name, not a literal: exact match only.
        assert_eq!(
            redirect_target("http://localhost:3000/cb", "http://localhost:3001/cb"),
            None
        );
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
