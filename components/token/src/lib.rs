//! The token endpoint (code exchange, refresh rotation) and revocation, and the
//! `clerk-mcp:upstream/tokens` export that `mcp` imports for fresh Clerk tokens.

mod routes;
mod upstream;

use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    if *req.method() != Method::Post {
        return platform::response::method_not_allowed("POST");
    }
    match req.path() {
        "/revoke" => routes::revoke::handle(&req),
        _ => routes::token::handle(&req),
    }
}
