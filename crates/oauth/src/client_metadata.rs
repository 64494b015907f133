//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, the MCP
//! 2025-11-25 authorization spec's preferred registration): a client whose `client_id`
//! is an https URL publishes its metadata at that URL, and this server fetches it instead
//! of requiring `/register`.
//!
//! Fetching a URL a stranger chose is a server-side request forgery risk, so the URL is
//! vetted here before anything is sent: https only, canonical form, no credentials, and
//! no literal address in a private, loopback or link-local range. Names that resolve to
//! such addresses cannot be checked from inside a component; the deployment closes that
//! gap (`allowed_outbound_hosts` limits the port, and Spin's runtime configuration can
//! block private networks; see the README).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use serde_json::Value;
use url::{Host, Url};

use crate::Error;
use crate::registration::{ClientRegistration, TokenEndpointAuthMethod};

/// The draft suggests about 5 KB; real documents are a few hundred bytes.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// From request to last byte: the user is waiting on the consent page.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest client_id URL accepted (it is also shown to the user).
pub const MAX_URL_CHARS: usize = 2048;

/// How long a fetched document is trusted before it is fetched again: the server's
/// `Cache-Control: max-age`, within these bounds, or an hour without one.
pub const MIN_CACHE_SECS: u64 = 60;
pub const DEFAULT_CACHE_SECS: u64 = 60 * 60;
pub const MAX_CACHE_SECS: u64 = 24 * 60 * 60;

/// Vets a URL `client_id` before it is fetched. `allow_private_hosts` (local
/// development only) also admits `http` and loopback or private hosts.
pub fn document_url(client_id: &str, allow_private_hosts: bool) -> Result<Url, Error> {
    let refuse = Error::ClientIdUrl;
    if client_id.len() > MAX_URL_CHARS {
        return Err(refuse("it is too long"));
    }
    let url = Url::parse(client_id).map_err(|_| refuse("it is not a valid URL"))?;
    // The document's own client_id must equal this string exactly, and the user sees
    // it: a URL the parser would rewrite (dot segments, case, default port) is refused
    // rather than silently meaning something else.
    if url.as_str() != client_id {
        return Err(refuse("it is not in canonical form"));
    }
    match url.scheme() {
        "https" => {}
        "http" if allow_private_hosts => {}
        _ => return Err(refuse("it must use https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("it must not contain credentials"));
    }
    if url.fragment().is_some() {
        return Err(refuse("it must not contain a fragment"));
    }
    if url.path() == "/" {
        return Err(refuse("it must have a path"));
    }
    if !allow_private_hosts && is_private_host(&url) {
        return Err(refuse("it names a private, loopback or local host"));
    }
    Ok(url)
}

fn is_private_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            // Single-label names and internal-only suffixes name hosts inside a network.
            !name.contains('.')
                || [
                    ".localhost",
                    ".local",
                    ".internal",
                    ".svc",
                    ".lan",
                    ".home.arpa",
                ]
                .iter()
                .any(|suffix| name.ends_with(suffix))
        }
        Some(Host::Ipv4(ip)) => !is_public_v4(ip),
        Some(Host::Ipv6(ip)) => !is_public_v6(ip),
        None => true,
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (RFC 6598)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking (RFC 2544)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 192 && b == 88 && ip.octets()[2] == 99) // 6to4 relay anycast
        || a >= 240) // reserved
}

/// Only global unicast (`2000::/3`) is public, minus the ranges that embed or reach an
/// IPv4 address (6to4, Teredo) and documentation; everything else (mapped, compatible
/// and NAT64 forms, ULA, link- and site-local) can lead into a private network.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let [first, second, ..] = ip.segments();
    let global_unicast = first & 0xe000 == 0x2000;
    let six_to_four = first == 0x2002;
    let teredo = first == 0x2001 && second == 0;
    let documentation = first == 0x2001 && second == 0x0db8;
    global_unicast && !six_to_four && !teredo && !documentation
}

/// What a fetch returned, as far as validation cares.
pub struct FetchedDocument<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// Validates a fetched document for `client_id`: served with 200 as JSON, naming itself
/// as `client_id`, holding no secret, and valid client metadata (with the `client_name`
/// and `redirect_uris` MCP requires) for a public client.
pub fn parse_document(
    client_id: &str,
    fetched: &FetchedDocument<'_>,
) -> Result<ClientRegistration, Error> {
    let invalid = |reason: &str| Error::ClientMetadataInvalid(reason.to_owned());
    if fetched.status != 200 {
        // Redirects are not followed: the document must live at the client_id itself.
        return Err(Error::ClientMetadataUnavailable);
    }
    if !crate::form::is_media_type(fetched.content_type, "application/json") {
        return Err(invalid("it must be served as application/json"));
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(fetched.body) else {
        return Err(invalid("it is not a JSON object"));
    };
    if fields.get("client_id").and_then(Value::as_str) != Some(client_id) {
        return Err(invalid("its client_id must be the URL it is served from"));
    }
    if fields.contains_key("client_secret") || fields.contains_key("client_secret_expires_at") {
        return Err(invalid("it must not contain a client secret"));
    }
    let registration = ClientRegistration::from_metadata(&fields, TokenEndpointAuthMethod::None)
        .map_err(|e| Error::ClientMetadataInvalid(e.to_string()))?;
    if registration.client_name.is_none() {
        return Err(invalid("it must have a client_name"));
    }
    if registration.auth_method != TokenEndpointAuthMethod::None {
        return Err(invalid(
            "token_endpoint_auth_method must be \"none\": a published document cannot hold a secret",
        ));
    }
    Ok(registration)
}

/// Seconds to trust a document served with `cache_control`.
pub fn cache_lifetime(cache_control: Option<&str>) -> u64 {
    let mut lifetime = DEFAULT_CACHE_SECS;
    for directive in cache_control.unwrap_or_default().split(',') {
        let directive = directive.trim().to_ascii_lowercase();
        if directive == "no-store" || directive == "no-cache" {
            return MIN_CACHE_SECS;
        }
        if let Some(seconds) = directive.strip_prefix("max-age=") {
            lifetime = seconds.trim_matches('"').parse().unwrap_or(MIN_CACHE_SECS);
        }
    }
    lifetime.clamp(MIN_CACHE_SECS, MAX_CACHE_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "https://client.example.com/oauth/client.json";

    #[test]
    fn public_https_urls_with_a_path_are_accepted() {
        for url in [
            ID,
            "https://client.example.com:8443/meta",
            "https://93.184.216.34/client",
            "https://[2606:2800:220:1::]/client",
            "https://client.example.com/meta?v=2",
        ] {
            assert!(document_url(url, false).is_ok(), "{url}");
        }
    }

    #[test]
    fn unsafe_or_ambiguous_urls_are_refused_before_any_fetch() {
        for (url, why) in [
            ("http://client.example.com/meta", "must use https"),
            ("https://client.example.com/", "must have a path"),
            ("https://client.example.com", "canonical"),
            ("https://Client.Example.com/meta", "canonical"),
            ("https://client.example.com:443/meta", "canonical"),
            ("https://client.example.com/a/../meta", "canonical"),
            ("https://client.example.com/./meta", "canonical"),
            ("https://user:pw@client.example.com/meta", "credentials"),
            ("https://client.example.com/meta#x", "fragment"),
            ("https://localhost/meta", "private"),
            ("https://api.localhost/meta", "private"),
            ("https://127.0.0.1/meta", "private"),
            ("https://10.1.2.3/meta", "private"),
            ("https://172.16.0.1/meta", "private"),
            ("https://192.168.1.1/meta", "private"),
            ("https://169.254.169.254/latest/meta-data", "private"),
            ("https://100.64.0.1/meta", "private"),
            ("https://0.0.0.0/meta", "private"),
            ("https://[::1]/meta", "private"),
            ("https://[fd00::1]/meta", "private"),
            ("https://[fe80::1]/meta", "private"),
            ("https://[::ffff:a00:1]/meta", "private"), // ::ffff:10.0.0.1
            ("https://[::a9fe:a9fe]/meta", "private"),  // IPv4-compatible 169.254.169.254
            ("https://[64:ff9b::a9fe:a9fe]/meta", "private"), // NAT64
            ("https://[2002:a00:1::]/meta", "private"), // 6to4 of 10.0.0.1
            ("https://[2001::1]/meta", "private"),      // Teredo
            ("https://[fec0::1]/meta", "private"),      // site-local
            ("https://192.0.0.8/meta", "private"),
            ("https://intranet/meta", "private"),
            ("https://kubernetes.default.svc/meta", "private"),
            ("https://printer.local/meta", "private"),
            ("https://metadata.google.internal/meta", "private"),
            ("ftp://client.example.com/meta", "must use https"),
            ("not a url", "not a valid URL"),
        ] {
            let error = document_url(url, false).unwrap_err();
            assert!(error.to_string().contains(why), "{url}: {error}");
            assert_eq!(error.code(), crate::ErrorCode::InvalidClient);
        }
        let long = format!("https://client.example.com/{}", "a".repeat(MAX_URL_CHARS));
        assert!(document_url(&long, false).is_err());
    }

    #[test]
    fn local_development_admits_loopback_and_http() {
        assert!(document_url("http://127.0.0.1:4000/client.json", true).is_ok());
        assert!(document_url("https://localhost/meta", true).is_ok());
        // Still canonical, still with a path, still no credentials.
        assert!(document_url("http://127.0.0.1:4000/", true).is_err());
        assert!(document_url("http://u@127.0.0.1:4000/m", true).is_err());
    }

    fn document(json: Value) -> Vec<u8> {
        json.to_string().into_bytes()
    }

    fn parse(status: u16, content_type: &str, body: &[u8]) -> Result<ClientRegistration, Error> {
        parse_document(
            ID,
            &FetchedDocument {
                status,
                content_type: Some(content_type),
                body,
            },
        )
    }

    #[test]
    fn a_valid_document_is_a_public_client() {
        let body = document(serde_json::json!({
            "client_id": ID,
            "client_name": "Example Client",
            "redirect_uris": ["http://127.0.0.1:3000/callback", "https://client.example.com/cb"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "logo_uri": "https://client.example.com/logo.png",
        }));
        let client = parse(200, "application/json; charset=utf-8", &body).unwrap();
        assert_eq!(client.auth_method, TokenEndpointAuthMethod::None);
        assert_eq!(client.client_name.as_deref(), Some("Example Client"));
        assert_eq!(client.redirect_uris.len(), 2);
        // Without token_endpoint_auth_method, a document describes a public client.
        let minimal = document(serde_json::json!({
            "client_id": ID, "client_name": "C", "redirect_uris": ["https://client.example.com/cb"],
        }));
        assert_eq!(
            parse(200, "application/json", &minimal)
                .unwrap()
                .auth_method,
            TokenEndpointAuthMethod::None
        );
    }

    #[test]
    fn unacceptable_documents_say_why() {
        let ok = serde_json::json!({
            "client_id": ID, "client_name": "C", "redirect_uris": ["https://client.example.com/cb"],
        });
        let with = |key: &str, value: Value| {
            let mut doc = ok.clone();
            doc[key] = value;
            document(doc)
        };
        let cases: Vec<(u16, &str, Vec<u8>, &str)> = vec![
            (
                404,
                "application/json",
                document(ok.clone()),
                "could not be fetched",
            ),
            (
                302,
                "application/json",
                document(ok.clone()),
                "could not be fetched",
            ),
            (200, "text/html", document(ok.clone()), "application/json"),
            (200, "application/json", b"[1,2]".to_vec(), "JSON object"),
            (200, "application/json", b"{".to_vec(), "JSON object"),
            (
                200,
                "application/json",
                with("client_id", "https://evil.example/meta".into()),
                "client_id must be the URL",
            ),
            (
                200,
                "application/json",
                with("client_secret", "s3cret".into()),
                "client secret",
            ),
            (
                200,
                "application/json",
                with("client_name", Value::Null),
                "client_name",
            ),
            (
                200,
                "application/json",
                with("token_endpoint_auth_method", "client_secret_basic".into()),
                "must be \"none\"",
            ),
            (
                200,
                "application/json",
                with("redirect_uris", serde_json::json!([])),
                "redirect_uris",
            ),
            (
                200,
                "application/json",
                with("redirect_uris", serde_json::json!(["javascript:alert(1)"])),
                "redirect_uri",
            ),
            (
                200,
                "application/json",
                with("grant_types", serde_json::json!(["client_credentials"])),
                "not supported",
            ),
        ];
        for (status, content_type, body, why) in cases {
            let error = parse(status, content_type, &body).unwrap_err();
            assert!(error.to_string().contains(why), "{why}: {error}");
            assert_eq!(error.code(), crate::ErrorCode::InvalidClient, "{why}");
        }
    }

    #[test]
    fn cache_lifetime_follows_cache_control_within_bounds() {
        assert_eq!(cache_lifetime(None), DEFAULT_CACHE_SECS);
        assert_eq!(cache_lifetime(Some("public, max-age=600")), 600);
        assert_eq!(cache_lifetime(Some("max-age=5")), MIN_CACHE_SECS);
        assert_eq!(cache_lifetime(Some("max-age=99999999")), MAX_CACHE_SECS);
        assert_eq!(cache_lifetime(Some("no-store")), MIN_CACHE_SECS);
        assert_eq!(
            cache_lifetime(Some("max-age=600, No-Cache")),
            MIN_CACHE_SECS
        );
        assert_eq!(cache_lifetime(Some("max-age=soon")), MIN_CACHE_SECS);
    }
}
