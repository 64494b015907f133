//! The MCP endpoints: Streamable HTTP at `/mcp`, and the HTTP+SSE transport at `/sse`
//! (`sse`). Every request must come to this server's host (DNS-rebinding protection)
//! and carry an access token this server issued for this resource; without one, the
//! RFC 9728 challenge starts the client's OAuth discovery.

mod auth;
#[cfg(feature = "conformance")]
mod fixtures;
mod guard;
mod peer;
mod reply;
mod session;
mod sse;
mod tools;
mod transport;
mod upstream;

use platform::cors::{self, Allow};
use platform::request::{self, BodyError};
use platform::{config, stream};
use protocol::jsonrpc::code::{INTERNAL_ERROR, INVALID_REQUEST};
use protocol::prompt::Prompts;
use protocol::resource::Resources;
use protocol::server::{Server, ServerInfo};
use spin_sdk::http::{IncomingRequest, Response, ResponseOutparam};
use spin_sdk::http_component;

use crate::reply::Reply;

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    // The message is read here, at most `BODY_BYTES` of it: nothing larger is buffered.
    let req = match request::read(incoming, transport::BODY_BYTES) {
        Ok(req) => req,
        Err(BodyError::TooLarge) => {
            let refused = transport::reject(413, INVALID_REQUEST, "the message is too large");
            return stream::send(out, refused);
        }
        Err(BodyError::Unreadable) => {
            let refused = transport::reject(400, INVALID_REQUEST, "the body could not be read");
            return stream::send(out, refused);
        }
    };
    let base = match config::base_url(&req) {
        Ok(base) => base,
        Err(e) => return stream::send(out, transport::config_error(&e)),
    };
    let Some(policy) = guard::Policy::new(
        base.issuer(),
        config::base_url_is_configured(),
        &config::allowed_origins(),
    ) else {
        let refused = transport::reject(
            500,
            INTERNAL_ERROR,
            "this server is not configured correctly",
        );
        return stream::send(out, refused);
    };
    let origin = transport::header(&req, "origin");
    let cors_origin = match policy.check(config::request_authority(&req), origin) {
        Ok(origin) => origin,
        Err(refusal) => {
            let reason = match refusal {
                guard::Refusal::Host => {
                    "the Host header does not name this server (a deployment sets base_url to its public origin)"
                }
                guard::Refusal::Origin => "requests from this Origin are not allowed",
            };
            let refused = transport::reject(403, INVALID_REQUEST, reason);
            return stream::send(out, refused);
        }
    };
    // The DNS-rebinding guard admitted this origin, so it gets CORS (no token needed
    // for a preflight); a request without `Origin` is not from a browser program.
    let cors = cors_origin.map(Allow::Origin);
    let endpoint = sse::Endpoint::of(req.path());
    if cors::is_preflight(&req) {
        let methods = endpoint.map_or("GET, POST, DELETE", sse::Endpoint::methods);
        let preflight = match cors {
            Some(allow) => cors::preflight(&req, allow, methods),
            None => Response::builder()
                .status(204)
                .header("allow", format!("{methods}, OPTIONS"))
                .body(Vec::new())
                .build(),
        };
        return stream::send(out, preflight);
    }
    let common_headers: Vec<(String, String)> = cors
        .map(cors::headers)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    if let Some(endpoint) = endpoint {
        return sse::handle(&req, endpoint, &base, &server(), common_headers, out);
    }
    let streams = transport::header(&req, "accept")
        .is_some_and(|accept| oauth::form::accepts(accept, "text/event-stream"));
    let reply = Reply::new(out, streams, common_headers);
    match auth::authenticate(&req, &base, oauth::base_url::MCP_PATH) {
        Ok(caller) => transport::handle(&req, &server(), caller, reply),
        Err(rejection) => reply.send(rejection),
    }
}

/// The server: the tools of `tools/`, and the conformance fixtures in the suite's build.
fn server() -> Server {
    let server = Server {
        info: ServerInfo {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        tools: tools::registry(),
        resources: Resources::new(),
        prompts: Prompts::new(),
    };
    #[cfg(feature = "conformance")]
    let server = fixtures::add(server);
    server
}
