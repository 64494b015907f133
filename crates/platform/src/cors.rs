//! The one CORS policy (Fetch standard §3.2), shared by every component: which browser
//! programs (the MCP Inspector's web UI, SDK clients in a page) may read our answers.
//!
//! Never credentials: nothing here is authorised by cookies, so no answer carries
//! `Access-Control-Allow-Credentials`, and a browser refuses any credentialed request.
//! `/authorize` and `/callback` never call into this module (RFC 9700 §4.16: the
//! authorization endpoint is for top-level navigation only).

use spin_sdk::http::{Method, Request, Response};

/// Which origin an endpoint admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allow<'a> {
    /// Any origin (`*`): endpoints that carry no ambient credentials, so a foreign page
    /// learns nothing it could not fetch itself (discovery, registration, tokens).
    AnyOrigin,
    /// This one origin, echoed back (`/mcp`, whose guard decided it may call).
    Origin(&'a str),
}

/// Request headers that MCP clients send, always allowed (MCP Streamable HTTP, the
/// 2026-07-28 standard request headers).
const ALLOWED_HEADERS: &str = "Authorization, Content-Type, Accept, MCP-Protocol-Version, \
     Mcp-Session-Id, Mcp-Method, Mcp-Name, Last-Event-ID";

/// Response headers a browser program needs to read: the challenge that starts OAuth
/// discovery, the session id and the negotiated revision.
const EXPOSED_HEADERS: &str = "WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version";

/// How long a browser may reuse a preflight (Chromium caps it at two hours).
const MAX_AGE_SECS: &str = "7200";

/// `Mcp-Param-*` names echoed from one preflight, and how long each may be: enough for
/// any tool's header arguments, too few to make the answer large.
const MAX_PARAM_HEADERS: usize = 32;
const MAX_HEADER_NAME: usize = 128;

/// Whether the request is a preflight (`OPTIONS` naming the method to come).
pub fn is_preflight(req: &Request) -> bool {
    *req.method() == Method::Options
}

/// `204` answering a preflight: `methods` (e.g. `"GET, POST"`), the MCP request headers
/// plus every `Mcp-Param-*` header the page asked for that is a valid header name.
pub fn preflight(req: &Request, allow: Allow, methods: &str) -> Response {
    let requested = req
        .header("access-control-request-headers")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let mut response = Response::builder()
        .status(204)
        .header("allow", format!("{methods}, OPTIONS"))
        .body(Vec::new())
        .build();
    apply(&mut response, allow);
    response.set_header("access-control-allow-methods", methods);
    response.set_header("access-control-allow-headers", allowed_headers(requested));
    response.set_header("access-control-max-age", MAX_AGE_SECS);
    response
}

/// Adds the headers an actual (non-preflight) answer needs for `allow`.
pub fn apply(response: &mut Response, allow: Allow) {
    for (name, value) in headers(allow) {
        response.set_header(name, value);
    }
}

/// The headers of an actual answer for `allow`, for answers built piece by piece.
pub fn headers(allow: Allow) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("access-control-expose-headers", EXPOSED_HEADERS.to_owned()),
        (
            "access-control-allow-origin",
            match allow {
                Allow::AnyOrigin => "*".to_owned(),
                Allow::Origin(origin) => origin.to_owned(),
            },
        ),
    ];
    if let Allow::Origin(_) = allow {
        // The answer differs by Origin: caches must not hand one origin's to another.
        headers.push(("vary", "Origin".to_owned()));
    }
    headers
}

/// [`ALLOWED_HEADERS`] and the requested `Mcp-Param-*` names (a tool's header
/// arguments, which no fixed list can name).
fn allowed_headers(requested: &str) -> String {
    let mut allowed = ALLOWED_HEADERS.to_owned();
    let params = requested
        .split(',')
        .map(str::trim)
        .filter(|name| is_param_header(name))
        .take(MAX_PARAM_HEADERS);
    for name in params {
        allowed.push_str(", ");
        allowed.push_str(name);
    }
    allowed
}

/// `Mcp-Param-<name>` where the whole is an RFC 9110 §5.6.2 token.
fn is_param_header(name: &str) -> bool {
    const PREFIX: &str = "mcp-param-";
    name.len() > PREFIX.len()
        && name.len() <= MAX_HEADER_NAME
        && name.as_bytes()[..PREFIX.len()].eq_ignore_ascii_case(PREFIX.as_bytes())
        && name.bytes().all(is_tchar)
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_param_headers_are_allowed_when_they_are_tokens() {
        let allowed = allowed_headers("content-type, mcp-param-region, Mcp-Param-Tenant_Id");
        assert!(allowed.starts_with(ALLOWED_HEADERS));
        assert!(
            allowed.ends_with(", mcp-param-region, Mcp-Param-Tenant_Id"),
            "{allowed}"
        );
        for refused in [
            "mcp-param-",
            "mcp-param-a b",
            "mcp-param-é",
            "x-mcp-param-a",
            "mcp-param-a\"b",
        ] {
            assert!(!is_param_header(refused), "{refused}");
        }
        assert!(is_param_header("MCP-PARAM-Region"));
        assert_eq!(allowed_headers(""), ALLOWED_HEADERS);
    }

    #[test]
    fn param_headers_are_bounded() {
        let many: Vec<String> = (0..100).map(|i| format!("mcp-param-h{i}")).collect();
        let allowed = allowed_headers(&many.join(","));
        assert_eq!(allowed.matches("mcp-param-").count(), MAX_PARAM_HEADERS);
        let long = format!("mcp-param-{}", "a".repeat(MAX_HEADER_NAME));
        assert_eq!(allowed_headers(&long), ALLOWED_HEADERS);
    }

    #[test]
    fn one_origin_varies_any_origin_does_not() {
        let any = headers(Allow::AnyOrigin);
        assert!(any.contains(&("access-control-allow-origin", "*".into())));
        assert!(!any.iter().any(|(n, _)| *n == "vary"));
        let one = headers(Allow::Origin("http://localhost:6274"));
        assert!(one.contains(&(
            "access-control-allow-origin",
            "http://localhost:6274".into()
        )));
        assert!(one.contains(&("vary", "Origin".into())));
        assert!(
            !one.iter()
                .chain(&any)
                .any(|(n, _)| n.contains("credentials"))
        );
    }
}
