//! HTML pages: escaped text only, and headers that keep them out of frames and caches.

use spin_sdk::http::Response;

/// Escapes text for an HTML text node or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).into_owned()
}

/// An HTML response that cannot be framed (clickjacking on the consent page), loads
/// nothing from elsewhere, posts forms only to this origin, and is never cached.
pub fn page(status: u16, title: &str, body_html: &str) -> Response {
    let document = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>{body_html}</main></body></html>",
        escape(title)
    );
    Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .header("x-frame-options", "DENY")
        .header(
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
        .header("referrer-policy", "no-referrer")
        .header("x-content-type-options", "nosniff")
        .body(document)
        .build()
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
h1{font-size:1.3rem}code{background:#eef;padding:0 .25rem}label{display:block;margin:1rem 0 .25rem}\
input[type=text]{width:100%;padding:.5rem;box-sizing:border-box}\
.actions{display:flex;gap:.75rem;margin-top:1.5rem}button{padding:.6rem 1.2rem;border-radius:8px;border:1px solid #999}\
button[value=approve]{background:#1f6feb;color:#fff;border-color:#1f6feb}\
.warning{background:#fff4d6;padding:.5rem .75rem;border-radius:8px}";
