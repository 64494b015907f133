//! The token endpoint (code exchange, refresh rotation) and revocation, and the
//! `clerk-mcp:upstream/tokens` export that `mcp` imports for fresh Clerk tokens.

mod routes;
mod upstream;

use platform::cors::{self, Allow};
use spin_sdk::http::{Method, Request, Response, ResponseOutparam};
use spin_sdk::http_component;

/// Every answer leaves through `platform::stream::send`: with `Content-Length`, in one
/// write (spin-sdk's own glue sends the head first, then the body).
#[http_component]
fn handle(req: Request, out: ResponseOutparam) {
    platform::stream::send(out, answer(&req));
}

fn answer(req: &Request) -> Response {
    // Both endpoints serve programs in browsers too (the Inspector's web UI): no ambient
    // credentials ride on them, so any origin may call.
    if cors::is_preflight(req) {
        return cors::preflight(req, Allow::AnyOrigin, "POST");
    }
    let mut response = if *req.method() != Method::Post {
        platform::response::method_not_allowed("POST")
    } else {
        match req.path() {
            "/revoke" => routes::revoke::handle(req),
            _ => routes::token::handle(req),
        }
    };
    cors::apply(&mut response, Allow::AnyOrigin);
    response
}
