//! The one parser for the `Cookie` request header.

use spin_sdk::http::Request;

/// The value of cookie `name`, if the request carries it (RFC 6265 §4.2.1 `a=b; c=d`).
pub fn get(req: &Request, name: &str) -> Option<String> {
    let header = req.header("cookie")?.as_str()?;
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

/// `Set-Cookie` for a `__Host-` cookie: Secure, host-only, path `/` (required by the
/// prefix), HttpOnly and SameSite=Lax so it rides along the top-level redirects of the
/// sign-in but not cross-site subrequests.
pub fn host_cookie(name: &str, value: &str, max_age_secs: u64) -> String {
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}")
}

/// `Set-Cookie` that removes a `__Host-` cookie.
pub fn clear_host_cookie(name: &str) -> String {
    host_cookie(name, "", 0)
}
