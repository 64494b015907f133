//! `allowed_outbound_hosts`, enforced as Spin enforces it: a request to anything not
//! listed fails inside the component with `HttpRequestDenied`.

use anyhow::{Context, bail, ensure};

use crate::variables::AppVariables;

/// One `<scheme>://<host>[:<port>]` entry, `*` allowed in each part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// `*.example.com`, stored as `.example.com`.
    Subdomain(String),
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Range(u16, u16),
}

impl AllowedHost {
    pub fn parse(entry: &str) -> anyhow::Result<Self> {
        let entry = entry.trim();
        let (scheme, rest) = entry
            .split_once("://")
            .with_context(|| format!("{entry:?} has no scheme (e.g. 'https://')"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        ensure!(
            !rest.contains('/'),
            "{entry:?} has a path, which allowed hosts may not have"
        );
        // An IPv6 literal keeps its brackets; the port follows the last `:` after them.
        let (host, port) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains(']') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        let scheme = match scheme {
            "*" => None,
            s if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphabetic()) => {
                Some(s.to_ascii_lowercase())
            }
            s => bail!("{entry:?}: invalid scheme {s:?}"),
        };
        let host = match host {
            "*" => HostPattern::Any,
            "self" | "self.alt" => {
                bail!("{entry:?}: `self` requests are not supported by the test host")
            }
            h if h.starts_with("*.") && !h[2..].contains('*') => {
                HostPattern::Subdomain(h[1..].to_ascii_lowercase())
            }
            h if !h.is_empty() && !h.contains('*') => HostPattern::Exact(h.to_ascii_lowercase()),
            h => bail!("{entry:?}: invalid host {h:?} (wildcards only as `*` or `*.domain`)"),
        };
        let port = match port {
            Some("*") => PortPattern::Any,
            Some(p) => match p.split_once("..") {
                Some((a, b)) => PortPattern::Range(
                    a.parse()
                        .with_context(|| format!("{entry:?}: bad port range"))?,
                    b.parse::<u16>()
                        .with_context(|| format!("{entry:?}: bad port range"))?
                        .saturating_sub(1),
                ),
                None => {
                    let p: u16 = p
                        .parse()
                        .with_context(|| format!("{entry:?}: port {p:?} is not a number"))?;
                    PortPattern::Range(p, p)
                }
            },
            None => {
                let p = scheme
                    .as_deref()
                    .and_then(well_known_port)
                    .with_context(|| {
                        format!("{entry:?}: no port given and the scheme has no default")
                    })?;
                PortPattern::Range(p, p)
            }
        };
        Ok(Self { scheme, host, port })
    }

    fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.scheme.as_deref().is_none_or(|s| s == scheme)
            && match &self.host {
                HostPattern::Any => true,
                HostPattern::Subdomain(suffix) => host.ends_with(suffix.as_str()),
                HostPattern::Exact(h) => h == host,
            }
            && match self.port {
                PortPattern::Any => true,
                PortPattern::Range(lo, hi) => (lo..=hi).contains(&port),
            }
    }
}

fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// A component's resolved `allowed_outbound_hosts`.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts(Vec<AllowedHost>);

impl AllowedHosts {
    /// Parses the manifest entries after expanding `{{ variable }}` templates.
    pub fn resolve(entries: &[String], vars: &AppVariables) -> anyhow::Result<Self> {
        entries
            .iter()
            .map(|entry| AllowedHost::parse(&vars.expand(entry)?))
            .collect::<anyhow::Result<_>>()
            .map(Self)
    }

    /// Whether a request to this URL may leave the component.
    pub fn allows(&self, uri: &http::Uri) -> bool {
        let Some(scheme) = uri.scheme_str() else {
            return false;
        };
        let Some(host) = uri.host() else { return false };
        let Some(port) = uri.port_u16().or_else(|| well_known_port(scheme)) else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        self.0
            .iter()
            .any(|allowed| allowed.allows(scheme, &host, port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(entries: &[&str], url: &str) -> bool {
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        AllowedHosts::resolve(&entries, &AppVariables::default())
            .unwrap()
            .allows(&url.parse().unwrap())
    }

    #[test]
    fn default_ports_follow_the_scheme() {
        assert!(allows(
            &["https://api.clerk.com"],
            "https://api.clerk.com/v1/x"
        ));
        assert!(!allows(
            &["https://api.clerk.com"],
            "https://api.clerk.com:8443/"
        ));
        assert!(!allows(&["https://api.clerk.com"], "http://api.clerk.com/"));
    }

    #[test]
    fn explicit_ports_ranges_and_wildcards() {
        assert!(allows(
            &["http://127.0.0.1:3001"],
            "http://127.0.0.1:3001/a"
        ));
        assert!(!allows(
            &["http://127.0.0.1:3001"],
            "http://127.0.0.1:3002/a"
        ));
        assert!(allows(&["http://localhost:*"], "http://localhost:9/"));
        assert!(allows(
            &["http://localhost:3000..3002"],
            "http://localhost:3001/"
        ));
        assert!(!allows(
            &["http://localhost:3000..3002"],
            "http://localhost:3002/"
        ));
        assert!(allows(&["https://*.clerk.com"], "https://api.clerk.com/"));
        assert!(!allows(
            &["https://*.clerk.com"],
            "https://clerk.com.evil.example/"
        ));
        assert!(allows(&["*://*:*"], "http://anything.example:1/"));
        assert!(!allows(&[], "http://127.0.0.1/"));
    }

    #[test]
    fn malformed_entries_are_errors() {
        for bad in [
            "api.clerk.com",
            "https://a.com/path",
            "https://a*.com",
            "ftp://a.com",
            "https://a.com:x",
        ] {
            assert!(AllowedHost::parse(bad).is_err(), "{bad}");
        }
    }
}
