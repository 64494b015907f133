//! The token endpoint's request (RFC 6749 §4.1.3, §6).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use crate::registration::{ClientRecord, TokenEndpointAuthMethod};
use crate::{Error, form::FormParams};

/// The grant types this server will accept once their flows are in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
}

impl GrantType {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "authorization_code" => Some(GrantType::AuthorizationCode),
            "refresh_token" => Some(GrantType::RefreshToken),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
        }
    }
}

/// Grant types advertised in the authorization-server metadata.
pub const SUPPORTED_GRANT_TYPES: &[GrantType] =
    &[GrantType::AuthorizationCode, GrantType::RefreshToken];

/// Parses a token request far enough to know which grant it asks for.
pub fn parse_grant_type(params: &FormParams) -> Result<GrantType, Error> {
    let name = params.require("grant_type")?;
    GrantType::parse(name).ok_or_else(|| Error::UnsupportedGrantType(name.to_owned()))
}

/// How the client identified itself at the token or revocation endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: String,
    secret: Option<String>,
    method: TokenEndpointAuthMethod,
}

impl ClientCredentials {
    /// RFC 6749 §2.3.1: HTTP Basic (form-urlencoded id and secret) or `client_id` and
    /// `client_secret` in the body; §2.3: a client MUST NOT use more than one method.
    pub fn parse(authorization: Option<&str>, params: &FormParams) -> Result<Self, Error> {
        let basic = authorization
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .map(|(_, value)| value.trim());
        if let Some(encoded) = basic {
            if params.get("client_secret").is_some() {
                return Err(Error::MultipleClientAuthMethods);
            }
            let decoded = STANDARD
                .decode(encoded)
                .map_err(|_| Error::MalformedClientAuth)?;
            let decoded = String::from_utf8(decoded).map_err(|_| Error::MalformedClientAuth)?;
            let (id, secret) = decoded.split_once(':').ok_or(Error::MalformedClientAuth)?;
            let decode = |s: &str| {
                form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            let client_id = decode(id);
            if params
                .get("client_id")
                .is_some_and(|body_id| body_id != client_id)
            {
                return Err(Error::MalformedClientAuth);
            }
            return Ok(Self {
                client_id,
                secret: Some(decode(secret)),
                method: TokenEndpointAuthMethod::ClientSecretBasic,
            });
        }
        let client_id = params
            .require("client_id")
            .map_err(|_| Error::MissingClientAuth)?
            .to_owned();
        Ok(match params.get("client_secret") {
            Some(secret) => Self {
                client_id,
                secret: Some(secret.to_owned()),
                method: TokenEndpointAuthMethod::ClientSecretPost,
            },
            None => Self {
                client_id,
                secret: None,
                method: TokenEndpointAuthMethod::None,
            },
        })
    }

    /// The client must authenticate the way it registered, with the right secret.
    pub fn authenticate(&self, client: &ClientRecord) -> Result<(), Error> {
        if self.method != client.auth_method {
            return Err(Error::ClientAuthFailed);
        }
        match (&client.secret_hash, &self.secret) {
            (None, None) => Ok(()),
            (Some(hash), Some(secret)) if hash.matches(secret) => Ok(()),
            _ => Err(Error::ClientAuthFailed),
        }
    }
}

/// RFC 6749 §5.1 successful token response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(body: &str) -> FormParams {
        FormParams::parse(Some("application/x-www-form-urlencoded"), body.as_bytes()).unwrap()
    }

    fn client(method: TokenEndpointAuthMethod, secret: Option<&str>) -> ClientRecord {
        ClientRecord {
            redirect_uris: vec!["https://a.example/cb".into()],
            auth_method: method,
            grant_types: vec!["authorization_code".into()],
            client_name: None,
            client_uri: None,
            scope: "mcp".into(),
            secret_hash: secret.map(crate::secret::SecretHash::of),
            issued_at: 0,
            refetch_after: None,
        }
    }

    #[test]
    fn client_credentials_follow_rfc_6749_section_2_3() {
        use TokenEndpointAuthMethod::{ClientSecretBasic, ClientSecretPost};
        // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
        let basic = format!("Basic {}", STANDARD.encode("my%3Aapp:s%26cret"));
        let creds = ClientCredentials::parse(Some(&basic), &params("grant_type=x")).unwrap();
        assert_eq!(creds.client_id, "my:app");
        assert!(
            creds
                .authenticate(&client(ClientSecretBasic, Some("s&cret")))
                .is_ok()
        );
        assert_eq!(
            creds.authenticate(&client(ClientSecretBasic, Some("other"))),
            Err(Error::ClientAuthFailed)
        );
        assert_eq!(
            creds.authenticate(&client(ClientSecretPost, Some("s&cret"))),
            Err(Error::ClientAuthFailed)
        );

        let post = ClientCredentials::parse(None, &params("client_id=c&client_secret=s")).unwrap();
        assert!(
            post.authenticate(&client(ClientSecretPost, Some("s")))
                .is_ok()
        );
        let public = ClientCredentials::parse(None, &params("client_id=c")).unwrap();
        assert!(
            public
                .authenticate(&client(TokenEndpointAuthMethod::None, None))
                .is_ok()
        );
        assert_eq!(
            public.authenticate(&client(ClientSecretBasic, Some("s"))),
            Err(Error::ClientAuthFailed)
        );

        assert_eq!(
            ClientCredentials::parse(None, &params("grant_type=x")),
            Err(Error::MissingClientAuth)
        );
        assert_eq!(
            ClientCredentials::parse(Some(&basic), &params("client_secret=s")),
            Err(Error::MultipleClientAuthMethods)
        );
        assert_eq!(
            ClientCredentials::parse(Some("Basic !!!"), &params("")),
            Err(Error::MalformedClientAuth)
        );
    }

    #[test]
    fn recognises_the_two_grants() {
        assert_eq!(
            parse_grant_type(&params("grant_type=authorization_code")),
            Ok(GrantType::AuthorizationCode)
        );
        assert_eq!(
            parse_grant_type(&params("grant_type=refresh_token")),
            Ok(GrantType::RefreshToken)
        );
    }

    #[test]
    fn other_grants_are_unsupported_and_missing_is_invalid() {
        assert_eq!(
            parse_grant_type(&params("grant_type=password")),
            Err(Error::UnsupportedGrantType("password".into()))
        );
        assert_eq!(
            parse_grant_type(&params("code=x")),
            Err(Error::MissingParameter("grant_type"))
        );
    }
}
