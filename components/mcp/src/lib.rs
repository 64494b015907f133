//! The MCP endpoint. Every request must carry an access token this server issued for
//! this resource; without one, the RFC 9728 challenge starts the client's OAuth
//! discovery.

mod auth;

use platform::{config, response};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    let base = match config::base_url(&req) {
        Ok(base) => base,
        Err(e) => return response::config_error(&e),
    };
    match auth::authenticate(&req, &base) {
        Ok(_user) => not_implemented(),
        Err(rejection) => rejection,
    }
}

/// Authenticated, but the MCP methods are not served yet: a JSON-RPC error (internal
/// error code, no id) with 501, so clients see a clear refusal rather than a 401 loop.
fn not_implemented() -> Response {
    Response::builder()
        .status(501)
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"MCP methods are not implemented yet"}}"#)
        .build()
}
