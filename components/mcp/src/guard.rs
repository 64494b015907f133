//! DNS-rebinding protection: which `Host` and `Origin` may reach the endpoint (the
//! admitted origins then get the CORS headers of `platform::cors`).
//!
//! A page on another site can make a browser send requests here (and, with DNS
//! rebinding, under a name that resolves to this server). So the `Host` must name this
//! server, and an `Origin`, when a browser sends one, must be this server's or one the
//! operator allowed (`allowed_origins`).

use url::Url;

/// Host names that all mean "this machine".
const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// Who may call, from the server's own URL and the operator's extra origins.
pub struct Policy {
    base: Url,
    /// Whether `base` is the configured `base_url`; otherwise it was derived from the
    /// very Host header under test, and only loopback hosts are trusted.
    configured: bool,
    allowed_origins: Vec<String>,
}

/// Why a request was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Host,
    Origin,
}

impl Policy {
    /// `allowed_origins` is a comma- or space-separated list of origins
    /// (`https://app.example.com`), as the variable holds it.
    pub fn new(base: &str, configured: bool, allowed_origins: &str) -> Option<Self> {
        Some(Self {
            base: Url::parse(base).ok()?,
            configured,
            allowed_origins: allowed_origins
                .split([',', ' '])
                .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|o| !o.is_empty())
                .collect(),
        })
    }

    /// Checks the request's authority (`Host`) and `Origin`. `Ok(Some(origin))` when a
    /// browser origin is allowed and must get CORS headers.
    pub fn check<'a>(
        &self,
        authority: &str,
        origin: Option<&'a str>,
    ) -> Result<Option<&'a str>, Refusal> {
        if !self.is_this_host(host_name(authority)) {
            return Err(Refusal::Host);
        }
        match origin {
            None => Ok(None),
            Some(origin) if self.allows_origin(origin) => Ok(Some(origin)),
            Some(_) => Err(Refusal::Origin),
        }
    }

    fn base_host(&self) -> String {
        match self.base.host() {
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            Some(host) => host.to_string(),
            None => String::new(),
        }
    }

    fn base_is_loopback(&self) -> bool {
        LOOPBACK.contains(&self.base_host().as_str())
    }

    fn is_this_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        if !self.configured {
            // Without `base_url` this is a development server on loopback (`spin up`);
            // a deployment names itself through `base_url`.
            return LOOPBACK.contains(&host.as_str());
        }
        host == self.base_host() || (self.base_is_loopback() && LOOPBACK.contains(&host.as_str()))
    }

    fn allows_origin(&self, origin: &str) -> bool {
        let normalized = origin.trim_end_matches('/').to_ascii_lowercase();
        if self.allowed_origins.contains(&normalized) {
            return true;
        }
        let Ok(url) = Url::parse(origin) else {
            return false; // includes the opaque origin "null"
        };
        if url.origin() == self.base.origin() {
            return true;
        }
        // A server on loopback is a development server: tools on the same machine
        // (an inspector in the browser) may call it, pages from elsewhere may not.
        let host = match url.host() {
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            Some(host) => host.to_string(),
            None => return false,
        };
        self.base_is_loopback() && LOOPBACK.contains(&host.as_str())
    }
}

/// The host part of an authority (`host:port`, `[v6]:port`).
fn host_name(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.split_inclusive(']').next().unwrap_or(authority);
    }
    authority.split(':').next().unwrap_or(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_must_name_this_server() {
        let policy = Policy::new("https://mcp.example.com", true, "").unwrap();
        assert_eq!(policy.check("mcp.example.com", None), Ok(None));
        assert_eq!(policy.check("MCP.example.com:443", None), Ok(None));
        assert_eq!(policy.check("evil.example.com", None), Err(Refusal::Host));
        assert_eq!(policy.check("localhost:3000", None), Err(Refusal::Host));
    }

    #[test]
    fn loopback_names_are_interchangeable_on_a_loopback_server() {
        let policy = Policy::new("http://127.0.0.1:3000", true, "").unwrap();
        for host in ["localhost:3000", "127.0.0.1:9", "[::1]:3000"] {
            assert_eq!(policy.check(host, None), Ok(None), "{host}");
        }
        assert_eq!(policy.check("evil.example.com", None), Err(Refusal::Host));
        assert_eq!(
            policy.check("localhost:3000", Some("http://localhost:6274")),
            Ok(Some("http://localhost:6274"))
        );
        assert_eq!(
            policy.check("localhost:3000", Some("http://evil.example.com")),
            Err(Refusal::Origin)
        );
    }

    #[test]
    fn without_base_url_only_loopback_hosts_are_served() {
        // The base was derived from the request, so it always "matches" its Host.
        let policy = Policy::new("http://evil.example.com", false, "").unwrap();
        assert_eq!(policy.check("evil.example.com", None), Err(Refusal::Host));
        let policy = Policy::new("http://localhost:3000", false, "").unwrap();
        assert_eq!(policy.check("localhost:3000", None), Ok(None));
    }

    #[test]
    fn origins_must_be_ours_or_allowed() {
        let policy = Policy::new(
            "https://mcp.example.com",
            true,
            "https://inspector.example.org, https://other.example/",
        )
        .unwrap();
        let host = "mcp.example.com";
        assert!(policy.check(host, Some("https://mcp.example.com")).is_ok());
        assert!(
            policy
                .check(host, Some("https://inspector.example.org"))
                .is_ok()
        );
        assert!(policy.check(host, Some("https://other.example")).is_ok());
        for bad in [
            "https://evil.example.com",
            "http://mcp.example.com",
            "null",
            "http://localhost:6274",
        ] {
            assert_eq!(policy.check(host, Some(bad)), Err(Refusal::Origin), "{bad}");
        }
    }
}
