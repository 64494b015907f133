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
    /// No `base_url` is configured and the request's `Host` is not loopback: without
    /// `base_url` this is a development server, and a Host from outside would end up in
    /// the issuer, resource and redirect URLs it publishes (a shared cache or a proxy that
    /// passes Host through could then serve poisoned discovery documents).
    UnservedHost,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::InvalidVariable { name, reason } => {
                write!(f, "variable `{name}`: {reason}")
            }
            ConfigError::BadHost(e) => write!(f, "request Host header: {e}"),
            ConfigError::UnservedHost => f.write_str(UNSERVED_HOST),
        }
    }
}

/// Clerk's Backend API, when `clerk_api_url` is unset.
pub(crate) const DEFAULT_CLERK_API_URL: &str = "https://api.clerk.com";

/// Reads an optional variable: absent or empty both mean "not set".
pub(crate) fn optional_variable(name: &'static str) -> Option<String> {
    variables::get(name).ok().filter(|v| !v.trim().is_empty())
}

/// The signing secret of the Clerk webhook endpoint (`whsec_…`), if webhooks are on.
pub fn clerk_webhook_secret() -> Option<String> {
    optional_variable("clerk_webhook_secret")
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
    let base = BaseUrl::from_scheme_and_host(scheme, authority).map_err(ConfigError::BadHost)?;
    if !is_loopback(authority) {
        return Err(ConfigError::UnservedHost);
    }
    Ok(base)
}

/// Why a request for a non-loopback Host is refused while `base_url` is empty, as the
/// client and the operator are told.
pub const UNSERVED_HOST: &str = "this server answers only loopback hosts (localhost, 127.0.0.1, [::1]) until the base_url variable names its public origin";

/// Whether an authority (`host[:port]`) names this machine.
pub fn is_loopback(authority: &str) -> bool {
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or(authority)
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .any(|loopback| host.eq_ignore_ascii_case(loopback))
}

/// The host (with port) the request was addressed to, from `spin-full-url`.
/// Whether the `base_url` variable is set (otherwise the base comes from the request).
pub fn base_url_is_configured() -> bool {
    optional_variable("base_url").is_some()
}

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

/// Whether Client ID Metadata Documents may be fetched over `http` and from loopback or
/// private hosts (`allow_private_client_metadata`): for local development only.
pub fn allow_private_client_metadata() -> Result<bool, ConfigError> {
    flag("allow_private_client_metadata")
}

/// Browser origins besides this server's own that may call the MCP endpoint
/// (`allowed_origins`, comma-separated), as the variable holds them.
pub fn allowed_origins() -> String {
    optional_variable("allowed_origins").unwrap_or_default()
}

/// A `"true"`/`"false"` variable; absent means false.
pub(crate) fn flag(name: &'static str) -> Result<bool, ConfigError> {
    match optional_variable(name).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ConfigError::InvalidVariable {
            name,
            reason: "must be \"true\" or \"false\"".into(),
        }),
    }
}

/// How long each kind of record lives: the `*_lifetime` variables a component declares,
/// defaults for the rest.
pub fn lifetimes() -> Result<oauth::lifetimes::Lifetimes, ConfigError> {
    oauth::lifetimes::Lifetimes::from_variables(optional_variable).map_err(|e| {
        ConfigError::InvalidVariable {
            name: e.variable,
            reason: e.reason,
        }
    })
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

/// The server key, if there is one yet, for checking what it signed: nothing signed
/// can be valid before the key exists, so checking never creates it.
pub fn existing_server_key(kv: &crate::kv::SpinKv) -> Result<Option<Vec<u8>>, store::Error> {
    if let Some(secret) = optional_variable("signing_secret") {
        return Ok(Some(secret.into_bytes()));
    }
    store::server_key::load(kv)
}

/// How fresh Clerk tokens for the customer's API are minted: the Backend API origin, the
/// secret key, and the JWT template (`None`: Clerk's plain session token). `None` when
/// no secret key is set (local development mode).
pub struct MintSettings {
    pub api_url: String,
    pub secret_key: String,
    pub template: Option<String>,
}

pub fn mint_settings() -> Option<MintSettings> {
    Some(MintSettings {
        secret_key: optional_variable("clerk_secret_key")?,
        api_url: optional_variable("clerk_api_url")
            .unwrap_or_else(|| DEFAULT_CLERK_API_URL.to_owned()),
        template: optional_variable("clerk_jwt_template"),
    })
}

/// How M2M tokens naming the user are minted for the app when Clerk is the
/// authorization server: the Backend API origin, the machine secret key
/// (`clerk_machine_secret_key`, `ak_…`) and the tokens' lifetime.
pub struct MachineTokenSettings {
    pub api_url: String,
    pub machine_secret_key: String,
    pub lifetime: std::time::Duration,
}

/// `None` when no machine secret key is set (tools then cannot call the app in Clerk
/// mode); an error for a lifetime outside 30 seconds to an hour.
pub fn machine_token_settings() -> Result<Option<MachineTokenSettings>, ConfigError> {
    use std::time::Duration;
    let Some(machine_secret_key) = optional_variable("clerk_machine_secret_key") else {
        return Ok(None);
    };
    Ok(Some(MachineTokenSettings {
        api_url: optional_variable("clerk_api_url")
            .unwrap_or_else(|| DEFAULT_CLERK_API_URL.to_owned()),
        machine_secret_key: machine_secret_key.trim().to_owned(),
        lifetime: duration_variable(
            "clerk_m2m_token_lifetime",
            Duration::from_secs(5 * 60),
            Duration::from_secs(30)..=Duration::from_secs(60 * 60),
            "must be a duration from 30s to 1h, such as \"5m\"",
        )?,
    }))
}

/// The customer's app (`app_url`), whose API tools call as the user.
pub fn app_url() -> Result<url::Url, ConfigError> {
    let value = optional_variable("app_url").ok_or(ConfigError::InvalidVariable {
        name: "app_url",
        reason: "required to call the app".into(),
    })?;
    url::Url::parse(&value).map_err(|e| ConfigError::InvalidVariable {
        name: "app_url",
        reason: e.to_string(),
    })
}

/// How long a tool's call to the app may take (`app_timeout`, e.g. "10s", "500ms";
/// 10 seconds by default, at most two minutes).
pub fn app_timeout() -> Result<std::time::Duration, ConfigError> {
    const DEFAULT: std::time::Duration = std::time::Duration::from_secs(10);
    let Some(value) = optional_variable("app_timeout") else {
        return Ok(DEFAULT);
    };
    humantime::parse_duration(value.trim())
        .ok()
        .filter(|d| !d.is_zero() && *d <= std::time::Duration::from_secs(120))
        .ok_or(ConfigError::InvalidVariable {
            name: "app_timeout",
            reason: "must be a duration from 1ms to 120s, such as \"10s\"".into(),
        })
}

/// The HTTP+SSE transport's stream timing.
#[derive(Debug, Clone, Copy)]
pub struct SseSettings {
    /// The longest a `GET /sse` stream lives (`sse_stream_lifetime`, 1 hour by default,
    /// 5 seconds to 1 day). Below a host's own cap on a request's duration, it ends the
    /// stream cleanly first.
    pub stream_lifetime: std::time::Duration,
    /// Between heartbeat comments on an idle stream (`sse_heartbeat`, 15 seconds by
    /// default, 1 to 60 seconds): proxies keep the stream open, and a client that left is
    /// noticed within one interval.
    pub heartbeat: std::time::Duration,
}

pub fn sse_settings() -> Result<SseSettings, ConfigError> {
    use std::time::Duration;
    Ok(SseSettings {
        stream_lifetime: duration_variable(
            "sse_stream_lifetime",
            Duration::from_secs(60 * 60),
            Duration::from_secs(5)..=Duration::from_secs(24 * 60 * 60),
            "must be a duration from 5s to 1d, such as \"1h\"",
        )?,
        heartbeat: duration_variable(
            "sse_heartbeat",
            Duration::from_secs(15),
            Duration::from_secs(1)..=Duration::from_secs(60),
            "must be a duration from 1s to 60s, such as \"15s\"",
        )?,
    })
}

/// A duration variable (humantime syntax: "90s", "10m", "1h"), its default when unset.
fn duration_variable(
    name: &'static str,
    default: std::time::Duration,
    range: std::ops::RangeInclusive<std::time::Duration>,
    expected: &str,
) -> Result<std::time::Duration, ConfigError> {
    let Some(value) = optional_variable(name) else {
        return Ok(default);
    };
    humantime::parse_duration(value.trim())
        .ok()
        .filter(|d| range.contains(d))
        .ok_or(ConfigError::InvalidVariable {
            name,
            reason: expected.into(),
        })
}

/// How users sign in: through the customer's Clerk app, or (with no Clerk settings) the
/// local development sign-in.
pub enum SignIn {
    Local,
    Clerk(ClerkSettings),
}

pub struct ClerkSettings {
    /// The app whose `/auth/mcp` route signs the user in with Clerk.
    pub app_url: String,
    /// Clerk Backend API origin (JWKS) and its secret key.
    pub api_url: String,
    pub secret_key: Option<String>,
    /// A PEM public key to verify session tokens without any network call.
    pub jwt_key: Option<String>,
    pub expectations: clerk::session::Expectations,
}

/// Clerk mode is on when a secret key or a PEM key is configured; it then needs the
/// issuer, and the app's origin is the default authorized party.
pub fn sign_in() -> Result<SignIn, ConfigError> {
    let secret_key = optional_variable("clerk_secret_key");
    let jwt_key = optional_variable("clerk_jwt_key");
    if secret_key.is_none() && jwt_key.is_none() {
        return Ok(SignIn::Local);
    }
    let issuer = optional_variable("clerk_issuer").ok_or(ConfigError::InvalidVariable {
        name: "clerk_issuer",
        reason: "required when Clerk is configured (the Frontend API URL, the tokens' `iss`)"
            .into(),
    })?;
    let app_url = optional_variable("app_url").ok_or(ConfigError::InvalidVariable {
        name: "app_url",
        reason: "required when Clerk is configured".into(),
    })?;
    let authorized_parties = match optional_variable("clerk_authorized_parties") {
        Some(list) => list
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect(),
        None => vec![
            BaseUrl::parse(&app_url)
                .map(|b| b.issuer().to_owned())
                .map_err(|e| ConfigError::InvalidVariable {
                    name: "app_url",
                    reason: e.to_string(),
                })?,
        ],
    };
    Ok(SignIn::Clerk(ClerkSettings {
        app_url,
        api_url: optional_variable("clerk_api_url").unwrap_or_else(|| DEFAULT_CLERK_API_URL.into()),
        secret_key,
        jwt_key,
        expectations: clerk::session::Expectations {
            issuer,
            authorized_parties,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn only_this_machines_names_are_loopback() {
        for authority in [
            "localhost",
            "localhost:3000",
            "LocalHost:1",
            "127.0.0.1:80",
            "[::1]",
            "[::1]:8080",
        ] {
            assert!(is_loopback(authority), "{authority}");
        }
        for authority in [
            "evil.example",
            "localhost.evil.example",
            "127.0.0.2",
            "[::2]:1",
            "0.0.0.0",
            "",
            "[::1",
            "127.0.0.1.nip.io",
        ] {
            assert!(!is_loopback(authority), "{authority}");
        }
    }
}
