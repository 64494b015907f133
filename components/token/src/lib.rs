//! The token endpoint (code exchange, refresh rotation), revocation, and Clerk's
//! webhooks, which revoke too.

mod routes;

/// Where Clerk delivers its webhooks (the endpoint's URL in the Clerk dashboard).
const WEBHOOK_PATH: &str = "/webhooks/clerk";

use platform::authorization::{self, AuthorizationServer};
use platform::cors::{self, Allow};
use platform::request::{self, BodyError};
use platform::response;
use spin_sdk::http::{IncomingRequest, Method, Request, Response, ResponseOutparam};
use spin_sdk::http_component;

/// The request is read here, its form capped at `FORM_BYTES`, and every answer leaves
/// through `platform::stream::send`: with `Content-Length`, in one write.
#[http_component]
fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    if request::path(&incoming) == WEBHOOK_PATH {
        // Server to server: no CORS, and its own body limit.
        let response = match request::read(incoming, routes::webhook::BODY_BYTES) {
            Ok(req) if *req.method() == Method::Post => routes::webhook::handle(&req),
            Ok(_) => response::method_not_allowed("POST"),
            Err(BodyError::TooLarge) => response::payload_too_large(),
            Err(BodyError::Unreadable) => response::oauth_error(&oauth::Error::UnreadableBody),
        };
        return platform::stream::send(out, response);
    }
    let mut response = match request::read(incoming, routes::FORM_BYTES) {
        Ok(req) => answer(&req),
        Err(BodyError::TooLarge) => response::payload_too_large(),
        Err(BodyError::Unreadable) => response::oauth_error(&oauth::Error::UnreadableBody),
    };
    // Both endpoints serve programs in browsers too (the Inspector's web UI): no ambient
    // credentials ride on them, so any origin may call.
    cors::apply(&mut response, Allow::AnyOrigin);
    platform::stream::send(out, response);
}

fn answer(req: &Request) -> Response {
    if cors::is_preflight(req) {
        return cors::preflight(req, Allow::AnyOrigin, "POST");
    }
    // With Clerk as the authorization server, clients get their tokens there.
    if AuthorizationServer::own_endpoints_closed() {
        return authorization::closed_endpoint();
    }
    if *req.method() != Method::Post {
        return response::method_not_allowed("POST");
    }
    match req.path() {
        "/revoke" => routes::revoke::handle(req),
        _ => routes::token::handle(req),
    }
}
