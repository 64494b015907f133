//! `POST /sse/message?sessionId=…`: one JSON-RPC message for a session. It is checked
//! and its session found before the `202 Accepted`; it is handled after it, and what
//! the server has to say goes to the session's stream through its outbox.

use platform::clock;
use platform::kv::SpinKv;
use protocol::context::{ClientCapabilities, Peer, PeerError};
use protocol::jsonrpc::{self, Error, Incoming, code};
use protocol::server::Server;
use serde_json::{Map, Value, json};
use spin_sdk::http::{Request, Response};
use store::keys;

use super::stream::{self, HTTP_SSE_VERSION};
use crate::auth::Authenticated;
use crate::peer::{self, Pending};
use crate::session::{self, Session};
use crate::transport::{self, reject};

pub const PATH: &str = "/sse/message";

/// A message accepted for a live session of the caller's.
pub struct Accepted {
    kv: SpinKv,
    session: Session,
    incoming: Incoming,
}

/// The checks before `202`: media type, session id, a well-formed message, and the
/// caller's own live session. A refused message writes nothing.
pub fn accept(req: &Request, caller: &Authenticated) -> Result<Accepted, Response> {
    if !oauth::form::is_media_type(transport::header(req, "content-type"), "application/json") {
        return Err(reject(
            415,
            code::INVALID_REQUEST,
            "the body must be application/json",
        ));
    }
    let Some(session_id) = session_id(req.query()) else {
        return Err(reject(
            400,
            code::INVALID_REQUEST,
            "the query must name one sessionId: POST to the URL the stream's endpoint event names",
        ));
    };
    let incoming = jsonrpc::parse(req.body()).map_err(|(id, error)| {
        platform::response::json(400, &jsonrpc::error(id.as_ref(), &error))
    })?;
    let kv = SpinKv::open_default().map_err(|e| transport::store_failure(&e))?;
    let session = session::find_under(
        &kv,
        keys::sse_session,
        &session_id,
        &caller.user_id,
        clock::now(),
    )
    .map_err(|e| transport::store_failure(&e))?
    .ok_or_else(|| {
        reject(
            404,
            code::INVALID_REQUEST,
            "no such session: its stream has ended; open GET /sse again",
        )
    })?;
    Ok(Accepted {
        kv,
        session,
        incoming,
    })
}

/// The `sessionId` query parameter, by the rules every query here follows (given once).
fn session_id(query: &str) -> Option<String> {
    let query = oauth::form::FormParams::parse_query(query).ok()?;
    query.get("sessionId").map(str::to_owned)
}

impl Accepted {
    /// Handles the message after the `202`: a request's response goes to the stream; an
    /// answer to the server's own request goes to the instance waiting for it.
    pub fn handle(self, server: &Server, caller: &Authenticated) {
        let Self {
            kv,
            mut session,
            incoming,
        } = self;
        match incoming {
            Incoming::Request { id, method, params } => {
                let outcome = answer(&kv, &mut session, server, caller, &method, &params);
                let message = match outcome {
                    Ok(result) => jsonrpc::result(&id, result),
                    Err(error) => jsonrpc::error(Some(&id), &error),
                };
                stream::send(&kv, &session, &message);
            }
            Incoming::Response { id, outcome } => {
                if let Err(e) = peer::hand_over(&kv, &session.hash, &id, outcome) {
                    eprintln!("mcp sse: handing over an answer: {e}");
                }
            }
            Incoming::Notification { .. } => {}
        }
    }
}

/// The result of one request. `initialize` and `logging/setLevel` change the session;
/// everything else is the server's, with the stream as its channel to the client.
fn answer(
    kv: &SpinKv,
    session: &mut Session,
    server: &Server,
    caller: &Authenticated,
    method: &str,
    params: &Map<String, Value>,
) -> Result<Value, Error> {
    match method {
        "initialize" => {
            let silent = protocol::context::Silent;
            let context = transport::context(caller, Default::default(), None, None, &silent);
            let mut result = server.request(method, params, &context)?;
            // The transport's own revision, for a client that asks for it; the 2025
            // revisions are negotiated as at `/mcp`.
            let requested = params.get("protocolVersion").and_then(Value::as_str);
            if requested == Some(HTTP_SSE_VERSION) {
                result["protocolVersion"] = json!(HTTP_SSE_VERSION);
            }
            let capabilities = ClientCapabilities::from_json(params.get("capabilities"));
            let record = &mut session.record.value;
            record.protocol_version = result["protocolVersion"]
                .as_str()
                .unwrap_or(HTTP_SSE_VERSION)
                .to_owned();
            record.sampling = capabilities.sampling;
            record.elicitation = capabilities.elicitation;
            record.roots = capabilities.roots;
            save(kv, session, caller)?;
            Ok(result)
        }
        "logging/setLevel" => {
            let level = protocol::logging::requested_level(params)?;
            session.record.value.log_level = Some(level.as_str().to_owned());
            save(kv, session, caller)?;
            Ok(json!({}))
        }
        _ => {
            let progress_token = params
                .get("_meta")
                .and_then(|m| m.get("progressToken"))
                .cloned();
            let record = &session.record.value;
            let peer = StreamPeer { kv, session };
            let context = transport::context(
                caller,
                record.capabilities(),
                record.log_level(),
                progress_token,
                &peer,
            );
            server.request(method, params, &context)
        }
    }
}

/// Stores a changed session, unless its stream ended meanwhile: a blind write would
/// bring an ended session back for POSTs that nobody reads. What the client negotiated
/// is also kept for its grant, for the sessions of its reconnects.
fn save(kv: &SpinKv, session: &Session, caller: &Authenticated) -> Result<(), Error> {
    let failed = |e: store::Error| {
        eprintln!("mcp sse: {e}");
        Error::new(code::INTERNAL_ERROR, "the session could not be stored")
    };
    if !stream::is_open(kv, &session.hash).map_err(failed)? {
        return Err(Error::new(
            code::INVALID_REQUEST,
            "the session's stream has ended; open GET /sse again",
        ));
    }
    session::save(kv, session).map_err(failed)?;
    if let Err(e) = stream::remember_client(kv, &caller.client_key(), &session.record.value) {
        // Only a reconnect without `initialize` would miss it.
        eprintln!("mcp sse: remembering what the client negotiated: {e}");
    }
    Ok(())
}

/// Talking to the client while handling its request: everything goes through the
/// outbox to the stream; the answer to a request of ours arrives in another POST.
struct StreamPeer<'a> {
    kv: &'a SpinKv,
    session: &'a Session,
}

impl Peer for StreamPeer<'_> {
    fn notify(&self, method: &str, params: Value) -> bool {
        let message = json!({ "jsonrpc": "2.0", "method": method, "params": params });
        stream::send(self.kv, self.session, &message)
    }

    fn request(&self, method: &str, params: Value) -> Result<Value, PeerError> {
        let pending = Pending::open(self.kv, &self.session.hash)?;
        if !stream::send(self.kv, self.session, &pending.message(method, params)) {
            pending.withdraw(self.kv);
            return Err(PeerError::NoChannel);
        }
        // The stream is another request's: once it has ended, nobody can answer.
        pending.wait(self.kv, || {
            match stream::is_open(self.kv, &self.session.hash) {
                Ok(true) => Ok(()),
                Ok(false) => Err(PeerError::Failed("the client's stream has ended".into())),
                Err(e) => Err(PeerError::Failed(e.to_string())),
            }
        })
    }
}
