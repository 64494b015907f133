//! `WWW-Authenticate: Bearer …` challenges (RFC 6750 §3, RFC 9728 §5.1).

use std::fmt::Write;

/// RFC 6750 §3.1 error codes for a protected-resource response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    InvalidRequest,
    InvalidToken,
    InsufficientScope,
}

impl BearerError {
    pub const fn as_str(self) -> &'static str {
        match self {
            BearerError::InvalidRequest => "invalid_request",
            BearerError::InvalidToken => "invalid_token",
            BearerError::InsufficientScope => "insufficient_scope",
        }
    }

    /// 400 for a malformed request, 401 for a bad token, 403 for missing scope.
    pub const fn status(self) -> u16 {
        match self {
            BearerError::InvalidRequest => 400,
            BearerError::InvalidToken => 401,
            BearerError::InsufficientScope => 403,
        }
    }
}

/// A Bearer challenge naming where the client discovers how to get a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerChallenge<'a> {
    /// `None` when the request carried no credentials at all: RFC 6750 §3.1 says the
    /// response SHOULD NOT then include an error code.
    pub error: Option<BearerError>,
    pub description: Option<&'a str>,
    pub resource_metadata: &'a str,
    pub scope: &'a str,
}

impl BearerChallenge<'_> {
    /// The HTTP status this challenge is sent with.
    pub fn status(&self) -> u16 {
        self.error.map_or(401, BearerError::status)
    }

    /// The `WWW-Authenticate` header value. Quoted strings cannot carry `"` or `\`
    /// unescaped (RFC 9110 §5.6.4), so they are escaped.
    pub fn header_value(&self) -> String {
        let mut out = String::from("Bearer ");
        let mut params: Vec<(&str, &str)> = Vec::with_capacity(4);
        if let Some(error) = self.error {
            params.push(("error", error.as_str()));
        }
        if let Some(description) = self.description {
            params.push(("error_description", description));
        }
        params.push(("resource_metadata", self.resource_metadata));
        params.push(("scope", self.scope));
        for (i, (name, value)) in params.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(
                out,
                "{name}=\"{}\"",
                value.replace('\\', "\\\\").replace('"', "\\\"")
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRM: &str = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";

    #[test]
    fn no_credentials_challenge_has_no_error_code() {
        let c = BearerChallenge {
            error: None,
            description: None,
            resource_metadata: PRM,
            scope: "mcp",
        };
        assert_eq!(c.status(), 401);
        assert_eq!(
            c.header_value(),
            format!(r#"Bearer resource_metadata="{PRM}", scope="mcp""#)
        );
    }

    #[test]
    fn invalid_token_challenge_names_the_error() {
        let c = BearerChallenge {
            error: Some(BearerError::InvalidToken),
            description: Some(r#"bad "token""#),
            resource_metadata: PRM,
            scope: "mcp",
        };
        assert_eq!(c.status(), 401);
        assert_eq!(
            c.header_value(),
            format!(
                r#"Bearer error="invalid_token", error_description="bad \"token\"", resource_metadata="{PRM}", scope="mcp""#
            )
        );
    }

    #[test]
    fn insufficient_scope_is_403() {
        let c = BearerChallenge {
            error: Some(BearerError::InsufficientScope),
            description: None,
            resource_metadata: PRM,
            scope: "mcp",
        };
        assert_eq!(c.status(), 403);
    }
}
