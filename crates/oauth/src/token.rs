//! The token endpoint's request (RFC 6749 §4.1.3, §6).

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

#[cfg(test)]
mod tests {
    use super::*;

    fn params(body: &str) -> FormParams {
        FormParams::parse(Some("application/x-www-form-urlencoded"), body.as_bytes()).unwrap()
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
