//! Dynamic client registration (RFC 7591): what a client may register, and the record
//! and response that follow.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::redirect_uri::RedirectUri;
use crate::secret::{Secret, SecretHash};
use crate::token::GrantType;
use crate::{Error, scope};

/// Bounds on what one registration may store (each record lives in the shared store).
pub mod limits {
    /// Largest registration body accepted; real clients send well under 2 KiB.
    pub const BODY_BYTES: usize = 16 * 1024;
    pub const REDIRECT_URIS: usize = 10;
    pub const URI_CHARS: usize = 2048;
    pub const NAME_CHARS: usize = 200;
}

/// RFC 7591 §2 `token_endpoint_auth_method` values this server supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    /// A public client (native app, CLI, browser app): no secret; PKCE protects the code.
    None,
    ClientSecretBasic,
    ClientSecretPost,
}

impl TokenEndpointAuthMethod {
    pub const SUPPORTED: &[&str] = &["none", "client_secret_basic", "client_secret_post"];

    fn parse(value: &str) -> Option<Self> {
        match value {
            "none" => Some(Self::None),
            "client_secret_basic" => Some(Self::ClientSecretBasic),
            "client_secret_post" => Some(Self::ClientSecretPost),
            _ => None,
        }
    }
}

/// A validated registration request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRegistration {
    pub redirect_uris: Vec<RedirectUri>,
    pub auth_method: TokenEndpointAuthMethod,
    pub grant_types: Vec<GrantType>,
    pub client_name: Option<String>,
    pub client_uri: Option<String>,
    pub scope: String,
}

/// The client as stored (`cl:<client_id>`); see `docs/kv-schema.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRecord {
    pub redirect_uris: Vec<String>,
    pub auth_method: TokenEndpointAuthMethod,
    pub grant_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    pub scope: String,
    /// SHA-256 of the client secret; `None` for public clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<SecretHash>,
    pub issued_at: u64,
    /// For a client described by a metadata document: when the cached copy must be
    /// fetched again before the next authorization (tokens keep using this copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refetch_after: Option<u64>,
}

/// RFC 7591 §3.2.1 response body.
#[derive(Debug, Clone, Serialize)]
pub struct RegistrationResponse<'a> {
    pub client_id: &'a str,
    pub client_id_issued_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<&'a str>,
    /// 0: the secret itself does not expire (the client record does when unused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<u64>,
    pub redirect_uris: &'a [String],
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub grant_types: &'a [String],
    pub response_types: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<&'a str>,
    pub scope: &'a str,
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidClientMetadata(reason.into())
}

impl ClientRegistration {
    /// Parses and validates a registration body (RFC 7591 §2). Unknown metadata is
    /// ignored, as §2 requires; known metadata of the wrong type is an error.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
            return Err(invalid("the body must be a JSON object"));
        };
        // RFC 7591 §2: the default is client_secret_basic.
        Self::from_metadata(&fields, TokenEndpointAuthMethod::ClientSecretBasic)
    }

    /// Validates client metadata (a registration body, or a Client ID Metadata
    /// Document), with `default_auth` when `token_endpoint_auth_method` is absent.
    pub fn from_metadata(
        fields: &serde_json::Map<String, Value>,
        default_auth: TokenEndpointAuthMethod,
    ) -> Result<Self, Error> {
        let string = |name: &str| -> Result<Option<&str>, Error> {
            match fields.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(invalid(format!("{name} must be a string"))),
            }
        };
        let strings = |name: &str| -> Result<Option<Vec<&str>>, Error> {
            match fields.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .ok_or_else(|| invalid(format!("{name} must be an array of strings")))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some),
                Some(_) => Err(invalid(format!("{name} must be an array of strings"))),
            }
        };

        let uris = strings("redirect_uris")?.unwrap_or_default();
        if uris.is_empty() {
            return Err(Error::InvalidRedirectUri {
                reason: "redirect_uris must list at least one URI",
            });
        }
        if uris.len() > limits::REDIRECT_URIS || uris.iter().any(|u| u.len() > limits::URI_CHARS) {
            return Err(Error::InvalidRedirectUri {
                reason: "redirect_uris has too many or too long entries",
            });
        }
        let redirect_uris = uris
            .into_iter()
            .map(RedirectUri::parse)
            .collect::<Result<Vec<_>, _>>()?;

        let auth_method = match string("token_endpoint_auth_method")? {
            None => default_auth,
            Some(m) => TokenEndpointAuthMethod::parse(m).ok_or_else(|| {
                invalid(format!("token_endpoint_auth_method {m:?} is not supported"))
            })?,
        };

        let grant_types = match strings("grant_types")? {
            None => vec![GrantType::AuthorizationCode],
            Some(names) => names
                .into_iter()
                .map(|g| {
                    GrantType::parse(g)
                        .ok_or_else(|| invalid(format!("grant type {g:?} is not supported")))
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        // RFC 7591 §2.1: response type `code` goes with the authorization_code grant,
        // the only way this server issues tokens.
        if !grant_types.contains(&GrantType::AuthorizationCode) {
            return Err(invalid("grant_types must include authorization_code"));
        }
        if let Some(types) = strings("response_types")?
            && types.iter().any(|t| *t != "code")
        {
            return Err(invalid("only the response type \"code\" is supported"));
        }

        let client_name = match string("client_name")?.map(str::trim) {
            None | Some("") => None,
            Some(name)
                if name.chars().count() > limits::NAME_CHARS
                    || name.chars().any(char::is_control) =>
            {
                return Err(invalid(
                    "client_name is too long or contains control characters",
                ));
            }
            Some(name) => Some(name.to_owned()),
        };
        let client_uri = match string("client_uri")? {
            None => None,
            Some(uri)
                if uri.len() <= limits::URI_CHARS
                    && uri.starts_with("https://")
                    && url::Url::parse(uri).is_ok() =>
            {
                Some(uri.to_owned())
            }
            Some(_) => return Err(invalid("client_uri must be an https URL")),
        };
        Ok(Self {
            redirect_uris,
            auth_method,
            grant_types,
            client_name,
            client_uri,
            scope: registered_scope(string("scope")?),
        })
    }

    /// The record to store and, for confidential clients, the secret hashed in it.
    pub fn into_record(self, issued_at: u64, secret: Option<&Secret>) -> ClientRecord {
        ClientRecord {
            redirect_uris: self
                .redirect_uris
                .iter()
                .map(|u| u.as_str().to_owned())
                .collect(),
            auth_method: self.auth_method,
            grant_types: self
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            client_name: self.client_name,
            client_uri: self.client_uri,
            scope: self.scope,
            secret_hash: secret.map(Secret::hash),
            issued_at,
            refetch_after: None,
        }
    }
}

impl ClientRecord {
    /// Whether the client registered for `grant` (RFC 7591 `grant_types`).
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.iter().any(|g| g == grant.as_str())
    }

    /// The response that returns the registered metadata (and the secret, this once).
    pub fn response<'a>(
        &'a self,
        client_id: &'a str,
        secret: Option<&'a Secret>,
    ) -> RegistrationResponse<'a> {
        RegistrationResponse {
            client_id,
            client_id_issued_at: self.issued_at,
            client_secret: secret.map(Secret::expose),
            client_secret_expires_at: secret.map(|_| 0),
            redirect_uris: &self.redirect_uris,
            token_endpoint_auth_method: self.auth_method,
            grant_types: &self.grant_types,
            response_types: ["code"],
            client_name: self.client_name.as_deref(),
            client_uri: self.client_uri.as_deref(),
            scope: &self.scope,
        }
    }
}

/// The scopes a client is registered for: those it asked for that this server knows
/// (RFC 7591 §2 lets the server replace the requested value), or all of them when it
/// asked for none or for none we know. Unknown ones (often `offline_access`) are dropped
/// rather than refused, so such a client can still register.
fn registered_scope(requested: Option<&str>) -> String {
    let known: Vec<&str> = requested
        .unwrap_or_default()
        .split(' ')
        .filter(|s| scope::SUPPORTED.contains(s))
        .collect();
    if known.is_empty() {
        scope::SUPPORTED.join(" ")
    } else {
        known.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<ClientRegistration, Error> {
        ClientRegistration::parse(json.to_string().as_bytes())
    }

    #[test]
    fn what_the_typescript_sdk_sends_is_accepted() {
        let reg = parse(serde_json::json!({
            "client_name": "MCP Inspector",
            "redirect_uris": ["http://localhost:6274/oauth/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "scope": "mcp offline_access",
            "software_id": "ignored-unknown-field"
        }))
        .unwrap();
        assert_eq!(reg.auth_method, TokenEndpointAuthMethod::None);
        assert_eq!(
            reg.grant_types,
            [GrantType::AuthorizationCode, GrantType::RefreshToken]
        );
        assert_eq!(reg.scope, "mcp");
        assert_eq!(reg.client_name.as_deref(), Some("MCP Inspector"));
    }

    #[test]
    fn rfc_7591_defaults_apply() {
        let reg =
            parse(serde_json::json!({ "redirect_uris": ["https://app.example/cb"] })).unwrap();
        assert_eq!(reg.auth_method, TokenEndpointAuthMethod::ClientSecretBasic);
        assert_eq!(reg.grant_types, [GrantType::AuthorizationCode]);
        assert_eq!(reg.scope, "mcp");
    }

    #[test]
    fn bad_metadata_is_refused_with_the_right_code() {
        use crate::ErrorCode::{InvalidClientMetadata as Meta, InvalidRedirectUri as Uri};
        let cases = [
            ("not an object", serde_json::json!(["x"]), Meta),
            ("no redirect_uris", serde_json::json!({}), Uri),
            (
                "empty redirect_uris",
                serde_json::json!({ "redirect_uris": [] }),
                Uri,
            ),
            (
                "redirect_uris not strings",
                serde_json::json!({ "redirect_uris": [1] }),
                Meta,
            ),
            (
                "redirect_uris a string",
                serde_json::json!({ "redirect_uris": "https://a.example/cb" }),
                Meta,
            ),
            (
                "http non-loopback",
                serde_json::json!({ "redirect_uris": ["http://a.example/cb"] }),
                Uri,
            ),
            (
                "fragment",
                serde_json::json!({ "redirect_uris": ["https://a.example/cb#x"] }),
                Uri,
            ),
            (
                "too many",
                serde_json::json!({ "redirect_uris": vec!["https://a.example/cb"; 11] }),
                Uri,
            ),
            (
                "auth method",
                serde_json::json!({ "redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt" }),
                Meta,
            ),
            (
                "grant",
                serde_json::json!({ "redirect_uris": ["https://a.example/cb"], "grant_types": ["implicit"] }),
                Meta,
            ),
            (
                "no code grant",
                serde_json::json!({ "redirect_uris": ["https://a.example/cb"], "grant_types": ["refresh_token"] }),
                Meta,
            ),
            (
                "response type",
                serde_json::json!({ "redirect_uris": ["https://a.example/cb"], "response_types": ["token"] }),
                Meta,
            ),
            (
                "name type",
                serde_json::json!({ "redirect_uris": ["https://a.example/cb"], "client_name": 5 }),
                Meta,
            ),
            (
                "name control chars",
                serde_json::json!({ "redirect_uris": ["https://a.example/cb"], "client_name": "a\u{7}b" }),
                Meta,
            ),
            (
                "client_uri scheme",
                serde_json::json!({ "redirect_uris": ["https://a.example/cb"], "client_uri": "javascript:alert(1)" }),
                Meta,
            ),
        ];
        for (case, body, code) in cases {
            assert_eq!(parse(body).map(|_| ()).unwrap_err().code(), code, "{case}");
        }
        assert_eq!(
            ClientRegistration::parse(b"{not json").unwrap_err().code(),
            Meta
        );
    }

    #[test]
    fn record_keeps_only_the_secret_hash_and_response_shows_it_once() {
        let reg = parse(serde_json::json!({ "redirect_uris": ["https://a.example/cb"] })).unwrap();
        let secret = Secret::from_random(&[9u8; 32]);
        let record = reg.into_record(1_700_000_000, Some(&secret));
        let stored = serde_json::to_string(&record).unwrap();
        assert!(!stored.contains(secret.expose()));
        assert!(
            record
                .secret_hash
                .as_ref()
                .unwrap()
                .matches(secret.expose())
        );
        let response = serde_json::to_value(record.response("mcp_x", Some(&secret))).unwrap();
        assert_eq!(response["client_secret"], secret.expose());
        assert_eq!(response["client_secret_expires_at"], 0);
        assert_eq!(
            response["token_endpoint_auth_method"],
            "client_secret_basic"
        );
        assert_eq!(response["response_types"], serde_json::json!(["code"]));
    }
}
