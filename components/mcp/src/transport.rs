//! Streamable HTTP, the POST side: one JSON-RPC message per request, answered as
//! `application/json` (or 202 for notifications and responses).

use platform::response;
use protocol::jsonrpc::{self, Error, code};
use protocol::server::{Server, ServerInfo};
use protocol::tool::Context;
use protocol::version;
use spin_sdk::http::{Method, Request, Response};

use crate::auth::Authenticated;
use crate::tools;

/// Largest message accepted; tool arguments are small.
const BODY_BYTES: usize = 1024 * 1024;

pub fn handle(req: &Request, caller: Authenticated) -> Response {
    if *req.method() != Method::Post {
        // No standalone SSE stream and no sessions to delete (yet): 405, as the spec allows.
        let mut refusal = reject(405, code::INVALID_REQUEST, "use POST");
        refusal.set_header("allow", "POST");
        return refusal;
    }
    if req.body().len() > BODY_BYTES {
        return reject(413, code::INVALID_REQUEST, "the message is too large");
    }
    let content_type = req.header("content-type").and_then(|v| v.as_str());
    if !oauth::form::is_media_type(content_type, "application/json") {
        return reject(
            415,
            code::INVALID_REQUEST,
            "the body must be application/json",
        );
    }
    if let Some(requested) = req.header("mcp-protocol-version").and_then(|v| v.as_str())
        && !version::is_supported(requested)
    {
        return reject(
            400,
            code::INVALID_REQUEST,
            &format!(
                "unsupported MCP-Protocol-Version {requested:?}; supported: {}",
                version::SUPPORTED.join(", ")
            ),
        );
    }
    let incoming = match jsonrpc::parse(req.body()) {
        Ok(incoming) => incoming,
        Err((id, error)) => return response::json(400, &jsonrpc::error(id.as_ref(), &error)),
    };
    let context = Context {
        user_id: caller.grant.user_id,
        session_id: caller.grant.session_id,
        client_id: caller.grant.client_id,
        scope: caller.grant.scope,
    };
    let server = Server {
        info: ServerInfo {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        tools: tools::registry(),
    };
    match server.handle(incoming, &context) {
        Some(reply) => response::json(200, &reply),
        None => Response::builder().status(202).body(Vec::new()).build(),
    }
}

/// A JSON-RPC error with no id, for requests refused before their message is read.
fn reject(status: u16, code: i64, message: &str) -> Response {
    response::json(status, &jsonrpc::error(None, &Error::new(code, message)))
}
