//! The public origin the server is reached at, from which every absolute URL it
//! publishes (issuer, endpoints, resource identifier) is derived.

use std::fmt;

use url::Url;

/// Path of the MCP endpoint; the protected resource is `{origin}/mcp`.
pub const MCP_PATH: &str = "/mcp";

/// Path of the HTTP+SSE endpoint (2024-11-05). It is a second address of the same
/// protected resource: clients derive the resource they ask a token for from the URL
/// they were given, so a client told `/sse` asks for `{origin}/sse`, and the grant is
/// bound to the canonical `{origin}/mcp` either way (see `authorize::verify_resource`).
pub const SSE_PATH: &str = "/sse";

/// Every path a client may name as this server's resource.
pub const RESOURCE_PATHS: [&str; 2] = [MCP_PATH, SSE_PATH];

/// A validated `http(s)` origin: scheme, host and optional port, nothing else.
///
/// It is the OAuth issuer as-is (RFC 8414 §2: no query or fragment), so it carries no
/// trailing slash and clients can compare it byte for byte with `authorization_servers`.
#[derive(Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    #[error("{0:?} is not an absolute URL")]
    NotAUrl(String),
    #[error("{0:?} must use http or https")]
    Scheme(String),
    #[error("{0:?} must be an origin only (no path, query, fragment or user info)")]
    NotAnOrigin(String),
}

impl BaseUrl {
    /// Parses a configured value such as `https://mcp.example.com`. A single trailing
    /// slash is tolerated because people type it; anything beyond the origin is refused
    /// rather than silently dropped, since the issuer would then differ from what the
    /// operator meant.
    pub fn parse(value: &str) -> Result<Self, BaseUrlError> {
        let url = Url::parse(value.trim()).map_err(|_| BaseUrlError::NotAUrl(value.into()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(BaseUrlError::Scheme(value.into()));
        }
        let has_extras = url.path() != "/"
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
            || url.host_str().is_none();
        if has_extras {
            return Err(BaseUrlError::NotAnOrigin(value.into()));
        }
        // `Url` normalises case, IDNA and default ports; its origin serialisation is the
        // canonical form (RFC 3986 §6.2.2), with no trailing slash.
        Ok(Self(url.origin().ascii_serialization()))
    }

    /// Builds the origin a request was addressed to, from its scheme and `Host` header.
    pub fn from_scheme_and_host(scheme: &str, host: &str) -> Result<Self, BaseUrlError> {
        // A Host header is attacker-chosen text: it must be a bare authority, so that
        // nothing but a host and port can reach the URLs we publish.
        if host.is_empty() || host.contains(['/', '?', '#', '@', '\\', ' ']) {
            return Err(BaseUrlError::NotAnOrigin(host.into()));
        }
        Self::parse(&format!("{scheme}://{host}"))
    }

    /// The issuer identifier (RFC 8414 §2).
    pub fn issuer(&self) -> &str {
        &self.0
    }

    /// An absolute URL for a path on this origin; `path` starts with `/`.
    pub fn join(&self, path: &str) -> String {
        debug_assert!(path.starts_with('/'));
        format!("{}{path}", self.0)
    }

    /// The canonical URI of the MCP endpoint: the protected resource (RFC 8707 §2,
    /// MCP authorization "Canonical Server URI": no trailing slash).
    pub fn mcp_resource(&self) -> String {
        self.join(MCP_PATH)
    }

    /// The path-inserted RFC 9728 metadata URL for the MCP resource, the one the 401
    /// challenge names.
    pub fn protected_resource_metadata_url(&self) -> String {
        self.metadata_url_for(MCP_PATH)
    }

    /// The RFC 9728 metadata URL for the resource at `path` (one of [`RESOURCE_PATHS`]):
    /// the challenge at each endpoint names the document whose `resource` is that
    /// endpoint's own URL, which is what clients check it against.
    pub fn metadata_url_for(&self, path: &str) -> String {
        self.join(&format!("/.well-known/oauth-protected-resource{path}"))
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_is_canonicalised_without_trailing_slash() {
        let cases = [
            ("https://mcp.example.com", "https://mcp.example.com"),
            ("https://mcp.example.com/", "https://mcp.example.com"),
            ("HTTPS://MCP.Example.COM:443/", "https://mcp.example.com"),
            ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
            ("http://[::1]:3000", "http://[::1]:3000"),
            ("  https://a.example  ", "https://a.example"),
        ];
        for (input, expected) in cases {
            assert_eq!(BaseUrl::parse(input).unwrap().issuer(), expected, "{input}");
        }
    }

    #[test]
    fn anything_beyond_an_origin_is_refused() {
        for input in [
            "https://a.example/prefix",
            "https://a.example/?x=1",
            "https://a.example/#frag",
            "https://user:pw@a.example",
        ] {
            assert!(
                matches!(BaseUrl::parse(input), Err(BaseUrlError::NotAnOrigin(_))),
                "{input}"
            );
        }
        assert!(matches!(
            BaseUrl::parse("ftp://a.example"),
            Err(BaseUrlError::Scheme(_))
        ));
        assert!(matches!(
            BaseUrl::parse("a.example"),
            Err(BaseUrlError::NotAUrl(_))
        ));
        assert!(matches!(BaseUrl::parse(""), Err(BaseUrlError::NotAUrl(_))));
    }

    #[test]
    fn host_header_must_be_a_bare_authority() {
        let ok = BaseUrl::from_scheme_and_host("http", "localhost:3000").unwrap();
        assert_eq!(ok.issuer(), "http://localhost:3000");
        for host in [
            "",
            "evil.example/path",
            "a@evil.example",
            "a.example?x",
            "a b",
            "a\\b",
        ] {
            assert!(
                BaseUrl::from_scheme_and_host("http", host).is_err(),
                "{host:?}"
            );
        }
    }

    #[test]
    fn derived_urls_are_absolute() {
        let base = BaseUrl::parse("https://mcp.example.com").unwrap();
        assert_eq!(base.mcp_resource(), "https://mcp.example.com/mcp");
        assert_eq!(
            base.protected_resource_metadata_url(),
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(base.join("/token"), "https://mcp.example.com/token");
    }
}
