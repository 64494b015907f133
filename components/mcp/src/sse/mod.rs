//! The HTTP+SSE transport of the 2024-11-05 revision, for the clients still set up with
//! it (`mcp-remote --transport sse-only`, the Inspector's SSE transport, the SDK's
//! `SSEClientTransport`). `GET /sse` opens a session and holds a stream open; its first
//! event names where to POST messages (`/sse/message?sessionId=…`), and everything the
//! server sends (responses, notifications, its own requests) comes back on that stream.
//!
//! The stream and the POSTs may reach different instances. A POST's instance handles
//! the message and leaves what it sends in the session's outbox in the store
//! (`outbox`); the stream's instance polls the outbox and writes it out (`stream`).

mod message;
mod outbox;
mod stream;

use oauth::BaseUrl;
use platform::stream as http_stream;
use protocol::jsonrpc::code;
use protocol::server::Server;
use spin_sdk::http::{Method, Request, Response, ResponseOutparam};

use crate::auth;
use crate::transport::reject;

/// The two routes of the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /sse`: the stream.
    Stream,
    /// `POST /sse/message?sessionId=…`: one message for a session's stream.
    Message,
}

impl Endpoint {
    pub fn of(path: &str) -> Option<Self> {
        match path {
            oauth::base_url::SSE_PATH => Some(Self::Stream),
            message::PATH => Some(Self::Message),
            _ => None,
        }
    }

    /// The one method each route serves.
    pub fn methods(self) -> &'static str {
        match self {
            Self::Stream => "GET",
            Self::Message => "POST",
        }
    }

    fn method(self) -> Method {
        match self {
            Self::Stream => Method::Get,
            Self::Message => Method::Post,
        }
    }
}

/// Serves `req` at `endpoint`. The method is checked before the token: a POST to `/sse`
/// is how `mcp-remote` (and other `http-first` clients) probe for Streamable HTTP, and
/// its 405 sends them to this transport without a sign-in first.
pub fn handle(
    req: &Request,
    endpoint: Endpoint,
    base: &BaseUrl,
    server: &Server,
    headers: Vec<(String, String)>,
    out: ResponseOutparam,
) {
    let send = |out, mut response: Response| {
        for (name, value) in &headers {
            response.set_header(name.as_str(), value.as_str());
        }
        http_stream::send(out, response);
    };
    if *req.method() != endpoint.method() {
        let mut refusal = reject(
            405,
            code::INVALID_REQUEST,
            match endpoint {
                Endpoint::Stream => {
                    "GET opens the event stream; messages are POSTed to the URL its endpoint event names"
                }
                Endpoint::Message => "POST one JSON-RPC message",
            },
        );
        refusal.set_header("allow", endpoint.methods());
        return send(out, refusal);
    }
    let caller = match auth::authenticate(req, base, oauth::base_url::SSE_PATH) {
        Ok(caller) => caller,
        Err(challenge) => return send(out, challenge),
    };
    match endpoint {
        Endpoint::Stream => match stream::Stream::open(req, &caller) {
            Ok(opened) => opened.serve(out, &headers),
            Err(refusal) => send(out, refusal),
        },
        Endpoint::Message => match message::accept(req, &caller) {
            Ok(accepted) => {
                send(out, crate::transport::accepted());
                accepted.handle(server, &caller);
            }
            Err(refusal) => send(out, refusal),
        },
    }
}
