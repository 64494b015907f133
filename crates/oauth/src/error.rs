//! OAuth errors and their one mapping to the wire (RFC 6749 §5.2).

use serde::Serialize;

/// The `error` codes of RFC 6749 §5.2 (token endpoint) and RFC 7591 §3.2.2 (registration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Missing, repeated or malformed parameter, or otherwise malformed request.
    InvalidRequest,
    /// Client authentication failed (unknown client, bad secret, wrong method).
    InvalidClient,
    /// The code or refresh token is invalid, expired, revoked or issued to another client.
    InvalidGrant,
    /// The client may not use this grant type.
    UnauthorizedClient,
    /// The grant type is not supported by this server.
    UnsupportedGrantType,
    /// The requested scope is invalid, unknown or exceeds what was granted.
    InvalidScope,
    /// RFC 6749 §4.1.2.1: the response type is not supported.
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1: the user or the server refused the request.
    AccessDenied,
    /// RFC 8707 §2: the `resource` is not one this server issues tokens for.
    InvalidTarget,
    /// RFC 7591 §3.2.2: a registered redirect URI is unacceptable.
    InvalidRedirectUri,
    /// RFC 7591 §3.2.2: some other client metadata is unacceptable.
    InvalidClientMetadata,
    /// Something unexpected failed on our side; details are logged, never sent.
    ServerError,
    /// RFC 6749 §4.1.2.1: a temporary condition (the key-value store is unreachable);
    /// answered with 503 and `Retry-After`, so clients retry instead of dropping their
    /// credentials.
    TemporarilyUnavailable,
}

impl ErrorCode {
    /// The wire string, as in the JSON body and in error redirects.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::InvalidRedirectUri => "invalid_redirect_uri",
            ErrorCode::InvalidClientMetadata => "invalid_client_metadata",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    /// The HTTP status RFC 6749 §5.2 prescribes: 401 for a failed client
    /// authentication, 500 for our own failures, 503 while the store is unreachable,
    /// 400 otherwise.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidClient => 401,
            ErrorCode::ServerError => 500,
            ErrorCode::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

/// Why an OAuth request was refused. Each variant is a precise reason; several share a
/// public code and a deliberately plain description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the request body must be application/x-www-form-urlencoded")]
    WrongContentType,
    #[error("the request body is not valid form encoding")]
    MalformedForm,
    #[error("parameter {0:?} is repeated")]
    RepeatedParameter(String),
    #[error("parameter {0:?} is missing")]
    MissingParameter(&'static str),
    #[error("grant type {0:?} is not supported")]
    UnsupportedGrantType(String),
    #[error("redirect_uri does not match any registered for this client")]
    RedirectUriMismatch,
    #[error("response_type {0:?} is not supported; use \"code\"")]
    UnsupportedResponseType(String),
    #[error("scope {0:?} is not available to this client")]
    InvalidScope(String),
    #[error("resource must be this server's MCP endpoint")]
    InvalidResource,
    #[error("redirect_uri {reason}")]
    InvalidRedirectUri { reason: &'static str },
    #[error("{0}")]
    InvalidClientMetadata(String),
    #[error("code_challenge_method {0:?} is not supported; use S256")]
    UnsupportedChallengeMethod(String),
    #[error("code_challenge must be the 43-character BASE64URL of a SHA-256 digest")]
    MalformedCodeChallenge,
    #[error("code_verifier must be 43 to 128 unreserved characters")]
    MalformedCodeVerifier,
    /// The consent form is forged, expired, or not from this browser (cookie missing).
    #[error(
        "this sign-in request expired or did not come from this browser; start again from your app"
    )]
    InvalidConsent,
    /// The body could not be read (broken chunked encoding, a reset connection).
    #[error("the request body could not be read")]
    UnreadableBody,
    #[error("this client is not registered for that grant type")]
    UnauthorizedGrantType,
    #[error("internal error")]
    ServerError,
    /// The key-value store failed (unreachable, refusing commands): nothing was changed,
    /// and the same request may succeed shortly.
    #[error("the key-value store is unavailable; try again shortly")]
    StoreUnavailable,
    #[error("the client did not identify itself")]
    MissingClientAuth,
    #[error("the client used more than one authentication method")]
    MultipleClientAuthMethods,
    #[error("the Authorization header is not valid client authentication")]
    MalformedClientAuth,
    /// Unknown client, wrong secret, or a method other than the registered one.
    #[error("client authentication failed")]
    ClientAuthFailed,
    /// No registered client has this id (or it expired unused).
    #[error("unknown client_id; the application must register again")]
    UnknownClient,
    /// A URL `client_id` that must not be fetched (not https, private address, …).
    #[error("the client_id URL cannot be used: {0}")]
    ClientIdUrl(&'static str),
    /// The client's metadata document could not be fetched (details are logged).
    #[error("the client's metadata document could not be fetched")]
    ClientMetadataUnavailable,
    /// The client's metadata document was fetched but is not acceptable.
    #[error("the client's metadata document is not acceptable: {0}")]
    ClientMetadataInvalid(String),
    /// The local sign-in name is not acceptable.
    #[error("the user name may use letters, digits and . _ - @ (at most 64)")]
    InvalidLocalUser,
    /// Local sign-in was attempted from somewhere other than this machine.
    #[error(
        "local sign-in is accepted only on a loopback host from this machine; configure Clerk to sign in elsewhere"
    )]
    LocalSignInRefused,
    /// The sign-in state is forged, expired, already used, or from another browser.
    #[error(
        "this sign-in expired, was already used, or did not start in this browser; start again from your app"
    )]
    InvalidSignIn,
    /// Clerk's session token did not verify (details are logged).
    #[error("the sign-in could not be verified")]
    ClerkTokenRefused,
    /// `/callback` reached while no Clerk sign-in is configured.
    #[error("sign-in through Clerk is not configured on this server")]
    SignInNotConfigured,
    /// The user declined on the consent page.
    #[error("the user declined the request")]
    ConsentDenied,
    /// A presented access or refresh token is malformed, forged or expired.
    #[error("the token is invalid or expired")]
    InvalidToken,
    /// A stored grant cannot be used (its key does not decode); logged, never detailed.
    #[error("the grant record is unreadable")]
    CorruptGrant,
    /// The code is unknown, expired, used, or issued to another client or redirect URI.
    #[error("the authorization code is invalid")]
    InvalidCode,
    /// The refresh token was replayed; the grant has been revoked.
    #[error("the refresh token was already used")]
    RefreshReplayed,
    /// Reported as plain `invalid_grant`: the verifier does not match the code's challenge.
    #[error("the code_verifier does not match the code_challenge")]
    PkceMismatch,
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::WrongContentType
            | Error::MalformedForm
            | Error::RepeatedParameter(_)
            | Error::MissingParameter(_)
            | Error::UnsupportedChallengeMethod(_)
            | Error::MalformedCodeChallenge
            | Error::MalformedCodeVerifier => ErrorCode::InvalidRequest,
            Error::UnsupportedGrantType(_) => ErrorCode::UnsupportedGrantType,
            Error::InvalidRedirectUri { .. } => ErrorCode::InvalidRedirectUri,
            Error::RedirectUriMismatch => ErrorCode::InvalidRequest,
            Error::UnsupportedResponseType(_) => ErrorCode::UnsupportedResponseType,
            Error::InvalidScope(_) => ErrorCode::InvalidScope,
            Error::InvalidResource => ErrorCode::InvalidTarget,
            Error::InvalidClientMetadata(_) => ErrorCode::InvalidClientMetadata,
            Error::PkceMismatch
            | Error::InvalidToken
            | Error::InvalidCode
            | Error::RefreshReplayed => ErrorCode::InvalidGrant,
            Error::InvalidConsent | Error::InvalidLocalUser => ErrorCode::InvalidRequest,
            Error::UnknownClient
            | Error::ClientAuthFailed
            | Error::MissingClientAuth
            | Error::ClientIdUrl(_)
            | Error::ClientMetadataUnavailable
            | Error::ClientMetadataInvalid(_) => ErrorCode::InvalidClient,
            Error::MultipleClientAuthMethods
            | Error::MalformedClientAuth
            | Error::UnreadableBody => ErrorCode::InvalidRequest,
            Error::UnauthorizedGrantType => ErrorCode::UnauthorizedClient,
            Error::CorruptGrant | Error::ServerError => ErrorCode::ServerError,
            Error::StoreUnavailable => ErrorCode::TemporarilyUnavailable,
            Error::LocalSignInRefused | Error::ClerkTokenRefused => ErrorCode::AccessDenied,
            Error::InvalidSignIn | Error::SignInNotConfigured => ErrorCode::InvalidRequest,
            Error::ConsentDenied => ErrorCode::AccessDenied,
        }
    }

    pub fn status(&self) -> u16 {
        self.code().status()
    }

    /// What the client is told. Malformed requests are described precisely (the client
    /// can fix them); every `invalid_grant` reads the same, so that unknown, expired,
    /// reused and mismatched grants cannot be told apart by a guesser.
    pub fn public_description(&self) -> String {
        match self.code() {
            ErrorCode::InvalidGrant => {
                "the authorization grant is invalid, expired, revoked, or was issued to another client".to_owned()
            }
            _ => self.to_string(),
        }
    }

    /// The JSON body of RFC 6749 §5.2. Descriptions name the parameter at fault but
    /// never echo secret values.
    pub fn body(&self) -> String {
        #[derive(Serialize)]
        struct Body<'a> {
            error: ErrorCode,
            error_description: &'a str,
        }
        let description = self.public_description();
        serde_json::to_string(&Body {
            error: self.code(),
            error_description: &description,
        })
        .unwrap_or_else(|_| r#"{"error":"server_error"}"#.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_serialises_as_its_wire_string() {
        use ErrorCode::*;
        for code in [
            InvalidRequest,
            InvalidClient,
            InvalidGrant,
            UnauthorizedClient,
            UnsupportedGrantType,
            InvalidScope,
            UnsupportedResponseType,
            AccessDenied,
            InvalidTarget,
            InvalidRedirectUri,
            InvalidClientMetadata,
            ServerError,
            TemporarilyUnavailable,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn codes_serialise_as_rfc_strings() {
        let json = serde_json::to_string(&[
            ErrorCode::InvalidRequest,
            ErrorCode::UnsupportedGrantType,
            ErrorCode::InvalidTarget,
        ])
        .unwrap();
        assert_eq!(
            json,
            r#"["invalid_request","unsupported_grant_type","invalid_target"]"#
        );
    }

    #[test]
    fn statuses_follow_rfc_6749_section_5_2() {
        assert_eq!(ErrorCode::InvalidClient.status(), 401);
        assert_eq!(ErrorCode::InvalidGrant.status(), 400);
        assert_eq!(ErrorCode::ServerError.status(), 500);
        assert_eq!(ErrorCode::TemporarilyUnavailable.status(), 503);
    }

    #[test]
    fn invalid_grant_descriptions_do_not_say_why() {
        let body: serde_json::Value = serde_json::from_str(&Error::PkceMismatch.body()).unwrap();
        assert_eq!(body["error"], "invalid_grant");
        assert!(
            !body["error_description"]
                .as_str()
                .unwrap()
                .contains("verifier")
        );
    }

    #[test]
    fn body_carries_code_and_description() {
        let body: serde_json::Value =
            serde_json::from_str(&Error::UnsupportedGrantType("password".into()).body()).unwrap();
        assert_eq!(body["error"], "unsupported_grant_type");
        assert_eq!(
            body["error_description"],
            r#"grant type "password" is not supported"#
        );
    }
}
