//! The authorization request (RFC 6749 §4.1.1, OAuth 2.1 §4.1.1, RFC 7636, RFC 8707).
//!
//! Validation runs in two stages because errors are delivered in two ways (RFC 6749
//! §4.1.2.1): until the client and its redirect URI are verified, an error must be shown
//! to the user and never redirected (or we would be an open redirector); after that, it
//! goes back to the client's redirect URI with `state` and `iss`.

use crate::form::FormParams;
use crate::pkce::CodeChallenge;
use crate::redirect_uri;
use crate::registration::ClientRecord;
use crate::{BaseUrl, Error};

/// Query parameters of `GET /authorize`, each present at most once (RFC 6749 §3.1),
/// an empty value counting as absent: the shared form rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizeQuery(FormParams);

impl AuthorizeQuery {
    pub fn parse(query: &str) -> Result<Self, Error> {
        FormParams::parse_query(query).map(Self)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name)
    }

    /// The `client_id`, needed to look the client up before anything else.
    pub fn client_id(&self) -> Result<&str, Error> {
        self.0.require("client_id")
    }
}

/// A redirect URI verified against the client's registration: only now may errors be
/// sent to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRedirect {
    pub uri: String,
    pub state: Option<String>,
}

/// Stage one: the request's `redirect_uri` designates one the client registered.
///
/// OAuth 2.1 §4.1.1: `redirect_uri` may be omitted only when exactly one is registered.
/// Failures here are rendered, never redirected.
pub fn verify_redirect(
    query: &AuthorizeQuery,
    client: &ClientRecord,
) -> Result<VerifiedRedirect, Error> {
    let uri = match query.get("redirect_uri") {
        Some(requested) => client
            .redirect_uris
            .iter()
            .find_map(|registered| redirect_uri::redirect_target(registered, requested))
            .ok_or(Error::RedirectUriMismatch)?,
        None => match client.redirect_uris.as_slice() {
            [only] => only.clone(),
            _ => return Err(Error::MissingParameter("redirect_uri")),
        },
    };
    Ok(VerifiedRedirect {
        uri,
        state: query.get("state").map(str::to_owned),
    })
}

/// A fully validated authorization request, ready for the consent page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect: VerifiedRedirect,
    pub code_challenge: CodeChallenge,
    /// Granted scopes, space-separated: what was asked for, within the registration.
    pub scope: String,
    /// The canonical MCP resource the tokens will be bound to.
    pub resource: String,
}

/// Stage two: everything else. Failures here are redirected to the verified URI.
pub fn validate(
    query: &AuthorizeQuery,
    client_id: &str,
    client: &ClientRecord,
    redirect: VerifiedRedirect,
    base: &BaseUrl,
) -> Result<AuthorizationRequest, (Error, VerifiedRedirect)> {
    let check = || -> Result<(CodeChallenge, String, String), Error> {
        match query.get("response_type") {
            Some("code") => {}
            Some(other) => return Err(Error::UnsupportedResponseType(other.to_owned())),
            None => return Err(Error::MissingParameter("response_type")),
        }
        let challenge = CodeChallenge::parse(
            query.get("code_challenge"),
            query.get("code_challenge_method"),
        )?;
        let scope = granted_scope(query.get("scope"), &client.scope)?;
        let resource = verify_resource(query.get("resource"), base)?;
        Ok((challenge, scope, resource))
    };
    match check() {
        Ok((code_challenge, scope, resource)) => Ok(AuthorizationRequest {
            client_id: client_id.to_owned(),
            redirect,
            code_challenge,
            scope,
            resource,
        }),
        Err(e) => Err((e, redirect)),
    }
}

/// The scopes granted for a request (RFC 6749 §3.3, which lets the server grant fewer
/// than asked and say so in the token response): every requested scope this server
/// defines, each of which the client must have registered; scopes it does not define
/// (`openid`, `profile`, `email`, `offline_access`, which clients copy from other
/// servers) are ignored. Nothing recognisable requested means all registered scopes.
/// Refresh tokens go to every client registered for the refresh grant, so dropping
/// `offline_access` takes nothing away.
fn granted_scope(requested: Option<&str>, registered: &str) -> Result<String, Error> {
    let registered: Vec<&str> = registered.split(' ').collect();
    let mut granted = Vec::new();
    for scope in crate::scope::defined(requested.unwrap_or_default()) {
        if !registered.contains(&scope) {
            return Err(Error::InvalidScope(scope.to_owned()));
        }
        if !granted.contains(&scope) {
            granted.push(scope);
        }
    }
    Ok(if granted.is_empty() {
        registered.join(" ")
    } else {
        granted.join(" ")
    })
}

/// RFC 8707 §2 / MCP authorization: `resource` names this server's MCP endpoint (at
/// `/mcp`, or its HTTP+SSE address `/sse`); an upper-case scheme or host, or a trailing
/// slash, still designates the same resource. Either way the grant is bound to the
/// canonical `/mcp` URL, so a token works at both endpoints.
///
/// The MCP spec says clients MUST send it, but Claude Code, the claude.ai connector and
/// Codex do not. This authorization server guards exactly one resource, so an absent
/// `resource` can only mean it (RFC 8707 §2 lets the server apply a default): the grant
/// is bound to it either way, and a `resource` naming anything else is `invalid_target`.
pub fn verify_resource(requested: Option<&str>, base: &BaseUrl) -> Result<String, Error> {
    let canonical = base.mcp_resource();
    let Some(requested) = requested else {
        return Ok(canonical);
    };
    let same = url::Url::parse(requested).ok().is_some_and(|url| {
        url.query().is_none()
            && url.fragment().is_none()
            && url.origin().ascii_serialization() == base.issuer()
            && crate::base_url::RESOURCE_PATHS.contains(&url.path().trim_end_matches('/'))
    });
    if same {
        Ok(canonical)
    } else {
        Err(Error::InvalidResource)
    }
}

/// The successful authorization response (RFC 6749 §4.1.2, RFC 9207 `iss`).
pub fn success_redirect_url(redirect: &VerifiedRedirect, code: &str, issuer: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("code", code);
    if let Some(state) = &redirect.state {
        query.append_pair("state", state);
    }
    query.append_pair("iss", issuer);
    append_query(&redirect.uri, &query.finish())
}

fn append_query(uri: &str, query: &str) -> String {
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{query}")
}

/// Where an error goes: the client's redirect URI (with `error`, `state`, `iss`), or,
/// before the redirect is verified, a page shown to the user.
pub fn error_redirect_url(error: &Error, redirect: &VerifiedRedirect, issuer: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("error", error.code().as_str());
    query.append_pair("error_description", &error.public_description());
    if let Some(state) = &redirect.state {
        query.append_pair("state", state);
    }
    query.append_pair("iss", issuer);
    append_query(&redirect.uri, &query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::registration::TokenEndpointAuthMethod;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn client(uris: &[&str]) -> ClientRecord {
        ClientRecord {
            redirect_uris: uris.iter().map(|s| s.to_string()).collect(),
            auth_method: TokenEndpointAuthMethod::None,
            grant_types: vec!["authorization_code".into()],
            client_name: None,
            client_uri: None,
            scope: "mcp".into(),
            secret_hash: None,
            issued_at: 0,
            refetch_after: None,
        }
    }

    fn base() -> BaseUrl {
        BaseUrl::parse("https://mcp.example.com").unwrap()
    }

    fn query(extra: &str) -> AuthorizeQuery {
        AuthorizeQuery::parse(&format!(
            "response_type=code&client_id=c1&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcb&state=s1\
             &code_challenge={CHALLENGE}&code_challenge_method=S256&resource=https%3A%2F%2Fmcp.example.com%2Fmcp{extra}"
        ))
        .unwrap()
    }

    fn run(q: &AuthorizeQuery, c: &ClientRecord) -> Result<AuthorizationRequest, Error> {
        let redirect = verify_redirect(q, c)?;
        validate(q, "c1", c, redirect, &base()).map_err(|(e, _)| e)
    }

    #[test]
    fn a_well_formed_request_validates() {
        let req = run(&query(""), &client(&["http://127.0.0.1:5000/cb"])).unwrap();
        assert_eq!(req.redirect.uri, "http://127.0.0.1:5000/cb");
        assert_eq!(req.redirect.state.as_deref(), Some("s1"));
        assert_eq!(req.scope, "mcp");
        assert_eq!(req.resource, "https://mcp.example.com/mcp");
    }

    #[test]
    fn redirect_uri_problems_are_never_redirected() {
        let c = client(&["http://127.0.0.1:5000/cb"]);
        let mismatch =
            AuthorizeQuery::parse("client_id=c1&redirect_uri=https%3A%2F%2Fevil.example%2Fcb")
                .unwrap();
        assert_eq!(
            verify_redirect(&mismatch, &c),
            Err(Error::RedirectUriMismatch)
        );
        let one_char =
            AuthorizeQuery::parse("client_id=c1&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcb2")
                .unwrap();
        assert_eq!(
            verify_redirect(&one_char, &c),
            Err(Error::RedirectUriMismatch)
        );
        let two = client(&["https://a.example/1", "https://a.example/2"]);
        let omitted = AuthorizeQuery::parse("client_id=c1").unwrap();
        assert_eq!(
            verify_redirect(&omitted, &two),
            Err(Error::MissingParameter("redirect_uri"))
        );
        assert_eq!(
            verify_redirect(&omitted, &client(&["https://a.example/1"]))
                .unwrap()
                .uri,
            "https://a.example/1"
        );
    }

    /// The base query with one parameter's value replaced.
    fn with(name: &str, value: &str) -> AuthorizeQuery {
        let mut q = query("");
        q.0.set(name, value);
        q
    }

    #[test]
    fn other_problems_are_redirected_with_their_codes() {
        let c = client(&["http://127.0.0.1:5000/cb"]);
        let cases = [
            (
                with("response_type", "token"),
                ErrorCode::UnsupportedResponseType,
            ),
            (with("response_type", ""), ErrorCode::InvalidRequest),
            (
                with("code_challenge_method", "plain"),
                ErrorCode::InvalidRequest,
            ),
            (with("code_challenge", ""), ErrorCode::InvalidRequest),
            (
                with("code_challenge", "too-short"),
                ErrorCode::InvalidRequest,
            ),
            (
                with("resource", "http://mcp.example.com/mcp"),
                ErrorCode::InvalidTarget,
            ),
            (
                with("resource", "https://other.example/mcp"),
                ErrorCode::InvalidTarget,
            ),
            (
                with("resource", "https://mcp.example.com/other"),
                ErrorCode::InvalidTarget,
            ),
        ];
        for (q, code) in cases {
            let redirect = verify_redirect(&q, &c).expect("redirect verified first");
            let (error, sent_to) = validate(&q, "c1", &c, redirect, &base()).unwrap_err();
            assert_eq!(error.code(), code, "{q:?}");
            assert_eq!(
                sent_to.state.as_deref(),
                Some("s1"),
                "state goes back with the error"
            );
        }
    }

    #[test]
    fn resource_variants_that_name_the_same_endpoint_are_accepted() {
        for r in [
            "https://mcp.example.com/mcp",
            "HTTPS://MCP.EXAMPLE.COM/mcp",
            "https://mcp.example.com/mcp/",
            "https://mcp.example.com/sse",
            "https://mcp.example.com/sse/",
        ] {
            assert_eq!(
                verify_resource(Some(r), &base()).unwrap(),
                "https://mcp.example.com/mcp",
                "{r}"
            );
        }
        assert_eq!(
            verify_resource(None, &base()).unwrap(),
            "https://mcp.example.com/mcp",
            "the one resource is the default"
        );
        for other in [
            "https://mcp.example.com/mcp?x=1",
            "https://mcp.example.com/sse/message",
            "https://mcp.example.com/",
            "https://other.example.com/sse",
        ] {
            assert_eq!(
                verify_resource(Some(other), &base()),
                Err(Error::InvalidResource),
                "{other}"
            );
        }
    }

    #[test]
    fn scopes_are_checked_against_the_registration() {
        assert_eq!(granted_scope(None, "mcp").unwrap(), "mcp");
        assert_eq!(
            granted_scope(Some("mcp offline_access"), "mcp").unwrap(),
            "mcp"
        );
        assert_eq!(granted_scope(Some("offline_access"), "mcp").unwrap(), "mcp");
        assert_eq!(
            granted_scope(Some("openid profile email offline_access"), "mcp").unwrap(),
            "mcp",
            "scopes this server does not define are ignored"
        );
        assert_eq!(granted_scope(Some("mcp admin mcp"), "mcp").unwrap(), "mcp");
        assert_eq!(granted_scope(Some(""), "mcp").unwrap(), "mcp");
    }

    #[test]
    fn a_defined_scope_the_client_did_not_register_is_refused() {
        assert_eq!(
            granted_scope(Some("openid mcp"), "other"),
            Err(Error::InvalidScope("mcp".into()))
        );
    }

    #[test]
    fn error_redirects_carry_state_and_issuer() {
        let redirect = VerifiedRedirect {
            uri: "http://127.0.0.1:5000/cb?x=1".into(),
            state: Some("a b".into()),
        };
        let url = error_redirect_url(
            &Error::InvalidScope("admin".into()),
            &redirect,
            "https://mcp.example.com",
        );
        assert!(
            url.starts_with("http://127.0.0.1:5000/cb?x=1&error=invalid_scope&"),
            "{url}"
        );
        assert!(
            url.contains("&state=a+b&iss=https%3A%2F%2Fmcp.example.com"),
            "{url}"
        );
    }

    #[test]
    fn success_redirects_carry_code_state_and_issuer() {
        let redirect = VerifiedRedirect {
            uri: "cursor://cb".into(),
            state: Some("xyz".into()),
        };
        assert_eq!(
            success_redirect_url(&redirect, "c0de", "http://127.0.0.1:3000"),
            "cursor://cb?code=c0de&state=xyz&iss=http%3A%2F%2F127.0.0.1%3A3000"
        );
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert_eq!(
            AuthorizeQuery::parse("state=a&state=b"),
            Err(Error::RepeatedParameter("state".into()))
        );
    }
}
