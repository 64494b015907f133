//! Building Spin responses from the library crates' results.

use serde::Serialize;
use spin_sdk::http::Response;

use crate::config::ConfigError;

/// A JSON response. Metadata documents and errors alike are small, so they are
/// serialised in one go.
pub fn json<T: Serialize>(status: u16, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body)
            .build(),
        Err(_) => server_error(),
    }
}

/// Seconds a client is told to wait (`Retry-After`) while the key-value store is
/// unavailable: long enough for a Redis failover or reconnect, short enough that a user
/// barely notices.
pub const STORE_RETRY_AFTER_SECS: u32 = 5;

/// An RFC 6749 §5.2 error. Token responses and their errors must not be cached
/// (RFC 6749 §5.1), so `no-store` goes on every one; a store outage adds `Retry-After`.
pub fn oauth_error(error: &oauth::Error) -> Response {
    let mut response = Response::builder()
        .status(error.status())
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .header("pragma", "no-cache")
        .body(error.body())
        .build();
    if error.code() == oauth::ErrorCode::TemporarilyUnavailable {
        response.set_header("retry-after", STORE_RETRY_AFTER_SECS.to_string());
    }
    response
}

/// The answer for a failed store call at a JSON endpoint: 503 `temporarily_unavailable`
/// with `Retry-After` when the store itself failed, 500 `server_error` when a record
/// could not be read (logged either way, never sent).
pub fn store_error(context: &str, error: &store::Error) -> Response {
    eprintln!("{context}: {error}");
    match error {
        store::Error::Backend(_) | store::Error::Late { .. } => {
            oauth_error(&oauth::Error::StoreUnavailable)
        }
        store::Error::Corrupt { .. } => oauth_error(&oauth::Error::ServerError),
    }
}

/// 405 with the methods the route does allow (RFC 9110 §15.5.6).
pub fn method_not_allowed(allow: &str) -> Response {
    Response::builder()
        .status(405)
        .header("allow", allow)
        .header("content-type", "application/json")
        .body(r#"{"error":"method_not_allowed"}"#)
        .build()
}

pub fn not_found() -> Response {
    Response::builder()
        .status(404)
        .header("content-type", "application/json")
        .body(r#"{"error":"not_found"}"#)
        .build()
}

/// A configuration problem: the operator must fix it, the client cannot. A bad Host is
/// the client's fault (400); a bad variable is ours (500, detail in the log only).
pub fn config_error(error: &ConfigError) -> Response {
    match error {
        ConfigError::BadHost(_) => Response::builder()
            .status(400)
            .header("content-type", "application/json")
            .body(r#"{"error":"invalid_request","error_description":"the Host header is not a valid host"}"#)
            .build(),
        ConfigError::UnservedHost => {
            let body = serde_json::json!({
                "error": "invalid_request",
                "error_description": crate::config::UNSERVED_HOST,
            });
            json(403, &body)
        }
        ConfigError::InvalidVariable { .. } => {
            eprintln!("configuration error: {error}");
            server_error()
        }
    }
}

pub fn server_error() -> Response {
    Response::builder()
        .status(500)
        .header("content-type", "application/json")
        .body(r#"{"error":"server_error"}"#)
        .build()
}

/// A JSON body that must not be cached: it carries a secret or an OAuth error.
pub fn no_store_json<T: Serialize>(status: u16, value: &T) -> Response {
    let mut response = json(status, value);
    response.set_header("cache-control", "no-store");
    response.set_header("pragma", "no-cache");
    response
}

/// 413 for a body over the endpoint's limit, shaped like the endpoint's other errors.
pub fn payload_too_large() -> Response {
    Response::builder()
        .status(413)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(r#"{"error":"invalid_request","error_description":"the request body is too large"}"#)
        .build()
}

/// Whether `value` can be sent as a header value (RFC 9110 §5.5: visible ASCII and
/// spaces; a control character would make the host refuse the whole response).
pub fn is_header_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b' ' || b == b'\t' || (0x21..0x7f).contains(&b))
}

/// A redirect the browser follows at once (OAuth responses use 302, RFC 6749 §4.1.2).
/// A location that cannot be a header value becomes a page saying so, not an empty 500.
pub fn redirect(location: &str) -> Response {
    if !is_header_value(location) {
        return crate::html::error_page(400, "The client's redirect URI cannot be used.");
    }
    Response::builder()
        .status(302)
        .header("location", location)
        .header("cache-control", "no-store")
        .body(Vec::new())
        .build()
}

/// A redirect that also removes a `__Host-` cookie (the end of a sign-in).
pub fn redirect_clearing_cookie(location: &str, cookie: &str) -> Response {
    let mut response = redirect(location);
    response.set_header("set-cookie", crate::cookies::clear_host_cookie(cookie));
    response
}
