//! HTML pages: escaped text only, and one set of headers that keeps every page out of
//! frames and caches and lets its forms reach exactly where their submission goes.

use spin_sdk::http::Response;

/// Escapes text for an HTML text node or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).into_owned()
}

/// An HTML page without forms: `form-action 'none'`.
pub fn page(status: u16, title: &str, body_html: &str) -> Response {
    html_response(status, document(title, body_html), "'none'")
}

/// An HTML page whose forms post to this origin, and whose submissions may then be
/// redirected to `form_targets` (CSP source expressions, see [`csp_source`]).
///
/// Chromium applies `form-action` to every hop of the redirect chain that follows a
/// submission, so a form that posts here and is answered with a redirect to the client
/// (or to the customer's app) must name that destination too, or the browser blocks it.
pub fn form_page(status: u16, title: &str, body_html: &str, form_targets: &[String]) -> Response {
    let document = document(title, body_html);
    let mut sources = vec!["'self'"];
    sources.extend(form_targets.iter().map(String::as_str));
    sources.dedup();
    html_response(status, document, &sources.join(" "))
}

fn html_response(status: u16, document: String, form_action: &str) -> Response {
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .body(document)
        .build();
    for (name, value) in page_headers(form_action) {
        response.set_header(name, value);
    }
    response
}

fn document(title: &str, body_html: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><link rel=\"icon\" href=\"/favicon.ico\"><style>{STYLE}</style></head>\
         <body><main>{body_html}</main></body></html>",
        escape(title)
    )
}

/// The headers of every page: never cached, never framed (clickjacking on the consent
/// page), nothing loaded from elsewhere, no referrer leaking a query string.
fn page_headers(form_action: &str) -> [(&'static str, String); 5] {
    [
        ("cache-control", "no-store".to_owned()),
        ("x-frame-options", "DENY".to_owned()),
        (
            "content-security-policy",
            format!(
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; \
                 form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
            ),
        ),
        ("referrer-policy", "no-referrer".to_owned()),
        ("x-content-type-options", "nosniff".to_owned()),
    ]
}

/// The CSP source expression (CSP3 §2.3.1) that admits navigations to `uri`: its origin
/// (`https://app.example.com`, `http://127.0.0.1:8976`, the port kept, since loopback
/// clients listen on a port of their own), or, for a private-use scheme such as
/// `cursor://…`, the scheme alone (`cursor:`). A host that a host-source cannot spell
/// (an IPv6 literal) falls back to its scheme. `None` for what is not an absolute URI.
pub fn csp_source(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    let scheme = url.scheme();
    let scheme_only = || Some(format!("{scheme}:"));
    if !matches!(scheme, "http" | "https") {
        return scheme_only();
    }
    let (Some(url::Host::Domain(_) | url::Host::Ipv4(_)), Some(host)) =
        (url.host(), url.host_str())
    else {
        return scheme_only();
    };
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return scheme_only();
    }
    Some(match url.port() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

/// The page for a configuration problem: a bad Host is the client's (400), a bad
/// variable the operator's (500, detail in the log only).
pub fn config_error(error: &crate::config::ConfigError) -> Response {
    match error {
        crate::config::ConfigError::BadHost(_) => {
            error_page(400, "The Host header does not name a valid host.")
        }
        crate::config::ConfigError::UnservedHost => error_page(
            403,
            &format!("Not served: {}.", crate::config::UNSERVED_HOST),
        ),
        crate::config::ConfigError::InvalidVariable { .. } => {
            eprintln!("configuration error: {error}");
            error_page(
                500,
                "This server is not configured correctly. Please try again later.",
            )
        }
    }
}

/// 405 for a page, with the methods it does allow (RFC 9110 §15.5.6).
pub fn method_not_allowed(allow: &str) -> Response {
    let mut response = error_page(405, "This page cannot be used that way.");
    response.set_header("allow", allow);
    response
}

/// 413 for a form larger than any this page sends.
pub fn payload_too_large() -> Response {
    error_page(413, "The submitted form is too large.")
}

/// The page for a failed store call: 503 with `Retry-After` when the store itself failed
/// (the user can simply try again), 500 otherwise. Details are logged, never shown.
pub fn store_error(context: &str, error: &store::Error) -> Response {
    eprintln!("{context}: {error}");
    match error {
        store::Error::Backend(_) | store::Error::Late { .. } => unavailable_page(
            "This server cannot reach its storage right now. Please try again in a moment.",
        ),
        store::Error::Corrupt { .. } => {
            error_page(500, "Something went wrong on our side. Please try again.")
        }
    }
}

/// 503 while Clerk's Backend API cannot be asked for its signing keys: the sign-in is
/// left as it was, so reloading the page finishes it once Clerk answers again.
pub fn clerk_unreachable() -> Response {
    unavailable_page(
        "Clerk, which signs you in, could not be reached. Please reload this page in a moment.",
    )
}

/// 503 with `Retry-After`: something this server needs is down for a moment, and the
/// same request will do once it is back.
fn unavailable_page(message: &str) -> Response {
    let mut page = error_page(503, message);
    page.set_header(
        "retry-after",
        crate::response::STORE_RETRY_AFTER_SECS.to_string(),
    );
    page
}

/// A page explaining why a sign-in cannot continue.
pub fn error_page(status: u16, message: &str) -> Response {
    page(
        status,
        "Sign-in failed",
        &format!("<h1>Sign-in failed</h1><p>{}</p>", escape(message)),
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f6f7f9;color:#111;margin:0}\
main{max-width:28rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:12px;box-shadow:0 1px 4px #0002}\
main:has(pre){max-width:46rem}\
h1{font-size:1.3rem}h2{font-size:1.05rem;margin-top:1.6rem}code{background:#eef;padding:0 .25rem}\
pre{background:#f1f3f6;padding:.75rem;border-radius:8px;overflow-x:auto;user-select:all}pre code{background:none;padding:0}\
label{display:block;margin:1rem 0 .25rem}\
input[type=text]{width:100%;padding:.5rem;box-sizing:border-box}\
.actions{display:flex;gap:.75rem;margin-top:1.5rem}button{padding:.6rem 1.2rem;border-radius:8px;border:1px solid #999}\
button[value=approve]{background:#1f6feb;color:#fff;border-color:#1f6feb}\
.warning{background:#fff4d6;padding:.5rem .75rem;border-radius:8px}";

#[cfg(test)]
mod tests {
    use super::csp_source;

    #[test]
    fn redirect_destinations_become_csp_sources() {
        let cases = [
            (
                "http://127.0.0.1:8976/callback",
                Some("http://127.0.0.1:8976"),
            ),
            (
                "http://localhost:51234/oauth/callback?x=1",
                Some("http://localhost:51234"),
            ),
            (
                "https://claude.ai/api/mcp/auth_callback",
                Some("https://claude.ai"),
            ),
            (
                "https://app.example.com:8443/cb",
                Some("https://app.example.com:8443"),
            ),
            (
                "https://APP.example.com/cb",
                Some("https://app.example.com"),
            ),
            (
                "cursor://anysphere.cursor-retrieval/oauth/cb",
                Some("cursor:"),
            ),
            ("com.example.app:/oauth2redirect", Some("com.example.app:")),
            ("http://[::1]:8080/cb", Some("http:")),
            ("not a uri", None),
        ];
        for (uri, expected) in cases {
            assert_eq!(csp_source(uri).as_deref(), expected, "{uri}");
        }
    }
}
