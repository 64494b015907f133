//! The MCP endpoint. Every request must carry an access token this server issued for
//! this resource; without one, the RFC 9728 challenge starts the client's OAuth
//! discovery.

mod auth;
mod tools;
mod transport;

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
        Ok(caller) => transport::handle(&req, caller),
        Err(rejection) => rejection,
    }
}
