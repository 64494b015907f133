//! The browser side of OAuth: discovery metadata, client registration, `/authorize`
//! with its consent page, `/callback` from the customer's Clerk app, and the front door
//! at `/`.

mod routes;

use platform::cors::{self, Allow};
use spin_sdk::http::{Request, Response, ResponseOutparam};
use spin_sdk::http_component;

/// Every answer leaves through `platform::stream::send`: with `Content-Length`, in one
/// write (spin-sdk's own glue sends the head first, then the body).
#[http_component]
fn handle(req: Request, out: ResponseOutparam) {
    platform::stream::send(out, answer(&req));
}

fn answer(req: &Request) -> Response {
    // Programs in browsers (the Inspector's web UI, SDK clients in a page) discover and
    // register from other origins. `/authorize`, `/callback` and the pages are for
    // top-level navigation only and carry no CORS headers.
    let cross_origin = match req.path() {
        // RFC 9728 §3.1: the path-inserted form for resource `/mcp`, and the root form
        // that some clients try first; both describe the one protected resource.
        "/.well-known/oauth-protected-resource"
        | "/.well-known/oauth-protected-resource/mcp"
        | "/.well-known/oauth-authorization-server" => Some("GET, HEAD"),
        "/register" => Some("POST"),
        _ => None,
    };
    if let Some(methods) = cross_origin {
        if cors::is_preflight(req) {
            return cors::preflight(req, Allow::AnyOrigin, methods);
        }
        let mut response = route(req);
        cors::apply(&mut response, Allow::AnyOrigin);
        return response;
    }
    route(req)
}

fn route(req: &Request) -> Response {
    match req.path() {
        "/.well-known/oauth-protected-resource" | "/.well-known/oauth-protected-resource/mcp" => {
            routes::metadata::protected_resource(req)
        }
        "/.well-known/oauth-authorization-server" => routes::metadata::authorization_server(req),
        "/register" => routes::sweep::after(routes::register::handle(req)),
        "/authorize" => routes::sweep::after(routes::authorize::handle(req)),
        "/callback" => routes::callback::handle(req),
        "/" => routes::home::handle(req),
        "/favicon.ico" => routes::home::favicon(req),
        _ => platform::response::not_found(),
    }
}
