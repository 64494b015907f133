//! The browser side of OAuth: discovery metadata, client registration, `/authorize`
//! with its consent page, and `/callback` from the customer's Clerk app.

mod routes;

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    match req.path() {
        // RFC 9728 §3.1: the path-inserted form for resource `/mcp`, and the root form
        // that some clients try first; both describe the one protected resource.
        "/.well-known/oauth-protected-resource" | "/.well-known/oauth-protected-resource/mcp" => {
            routes::metadata::protected_resource(&req)
        }
        "/.well-known/oauth-authorization-server" => routes::metadata::authorization_server(&req),
        "/register" => routes::sweep::after(routes::register::handle(&req)),
        "/authorize" => routes::sweep::after(routes::authorize::handle(&req)),
        "/callback" => routes::callback::handle(&req),
        _ => platform::response::not_found(),
    }
}
