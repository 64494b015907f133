//! Bearer tokens on protected-resource requests (RFC 6750 §2.1): the one parser for the
//! `Authorization` header, and the checks that make a token valid for this resource.

use crate::Error;
use crate::grant::{self, AccessTokenClaims, GrantRecord};

/// The token in `Authorization: Bearer <token>`. `Ok(None)` when the header is absent
/// (the client has not tried to authenticate); an error when it is present but not a
/// bearer token. MCP authorization forbids tokens in the query string, so there is no
/// other place to look.
pub fn parse_authorization(header: Option<&str>) -> Result<Option<&str>, Error> {
    let Some(header) = header else {
        return Ok(None);
    };
    let (scheme, token) = header.trim().split_once(' ').ok_or(Error::InvalidToken)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(Error::InvalidToken);
    }
    Ok(Some(token))
}

/// Validates an access token against its (live) grant: the MAC, the expiry, and the
/// audience. MCP authorization: a server MUST accept only tokens issued for itself
/// (RFC 8707), so a token bound to another resource is invalid here.
pub fn verify(
    token: &grant::PresentedToken<'_>,
    grant: &GrantRecord,
    expected_resource: &str,
    now: u64,
) -> Result<AccessTokenClaims, Error> {
    let claims = grant.verify_access_token(token, now)?;
    if grant.resource != expected_resource {
        return Err(Error::InvalidToken);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_header_forms() {
        assert_eq!(parse_authorization(None), Ok(None));
        assert_eq!(parse_authorization(Some("Bearer abc")), Ok(Some("abc")));
        assert_eq!(parse_authorization(Some("bearer  abc ")), Ok(Some("abc")));
        for bad in ["Basic abc", "Bearer", "Bearer ", "Bearer a b", "abc"] {
            assert_eq!(
                parse_authorization(Some(bad)),
                Err(Error::InvalidToken),
                "{bad:?}"
            );
        }
    }
}
