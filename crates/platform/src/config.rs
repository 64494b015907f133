//! Per-request configuration from Spin variables.

use oauth::{BaseUrl, base_url::BaseUrlError};
use spin_sdk::{http::Request, variables};

/// Header Spin sets to the full URL of the request, scheme included.
const SPIN_FULL_URL: &str = "spin-full-url";

#[derive(Debug)]
pub enum ConfigError {
    /// A variable holds a value we cannot use; the message names it.
    InvalidVariable { name: &'static str, reason: String },
    /// The request's `Host` cannot form an origin (and no `base_url` is configured).
    BadHost(BaseUrlError),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::InvalidVariable { name, reason } => {
                write!(f, "variable `{name}`: {reason}")
            }
            ConfigError::BadHost(e) => write!(f, "request Host header: {e}"),
        }
    }
}

/// Reads an optional variable: absent or empty both mean "not set".
fn optional_variable(name: &'static str) -> Option<String> {
    variables::get(name).ok().filter(|v| !v.trim().is_empty())
}

/// The public origin of this server: the `base_url` variable when set (what a deployment
/// behind a proxy or custom domain should do), otherwise the scheme and authority of the
/// URL the request was made to, which is right for `spin up` on 127.0.0.1.
///
/// The request's authority comes from `spin-full-url`, which Spin builds from the Host
/// header: components never see `Host` itself (wasi:http forbids it).
pub fn base_url(req: &Request) -> Result<BaseUrl, ConfigError> {
    if let Some(configured) = optional_variable("base_url") {
        return BaseUrl::parse(&configured).map_err(|e| ConfigError::InvalidVariable {
            name: "base_url",
            reason: e.to_string(),
        });
    }
    let full_url = req
        .header(SPIN_FULL_URL)
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let (scheme, rest) = full_url.split_once("://").unwrap_or(("http", ""));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    BaseUrl::from_scheme_and_host(scheme, authority).map_err(ConfigError::BadHost)
}

/// The host (with port) the request was addressed to, from `spin-full-url`.
pub fn request_authority(req: &Request) -> &str {
    let full_url = req
        .header(SPIN_FULL_URL)
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let rest = full_url.split_once("://").map_or("", |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or_default()
}

/// The client's address as Spin reports it (`spin-client-addr`).
pub fn client_addr(req: &Request) -> Option<&str> {
    req.header("spin-client-addr").and_then(|v| v.as_str())
}

/// The key that signs consent tickets: the `signing_secret` variable when set (so that
/// a deployment controls and can rotate it), otherwise one generated once and kept in
/// the store.
pub fn server_key(kv: &crate::kv::SpinKv) -> Result<Vec<u8>, store::Error> {
    if let Some(secret) = optional_variable("signing_secret") {
        return Ok(secret.into_bytes());
    }
    store::server_key::load_or_create(kv, || {
        crate::random::bytes::<32>().map_err(|e| store::Error::Backend(format!("random: {e}")))
    })
}
