//! Streamable HTTP: what each HTTP method means at `/mcp`, and the checks every POST
//! passes before its message is read.

use platform::kv::SpinKv;
use platform::{clock, config, response};
use protocol::context::{ClientCapabilities, Context};
use protocol::input::{self, Round};
use protocol::jsonrpc::{self, Error, Incoming, code};
use protocol::server::Server;
use protocol::{stateless, version};
use serde_json::{Map, Value, json};
use spin_sdk::http::{Method, Request, Response};

use crate::auth::Authenticated;
use crate::peer::{self, SessionPeer};
use crate::reply::Reply;
use crate::session::{self, Session, SessionRecord};

/// Largest message accepted (read no further); tool arguments are small.
pub const BODY_BYTES: usize = 1024 * 1024;

const SESSION_HEADER: &str = "mcp-session-id";

pub fn handle(req: &Request, server: &Server, caller: Authenticated, reply: Reply) {
    let stateless_client = header(req, "mcp-protocol-version") == Some(version::STATELESS);
    match req.method() {
        Method::Post => post(req, server, caller, reply),
        // Sessions belong to the 2025-era revisions; a 2026 client has none to end.
        Method::Delete if !stateless_client => delete(req, caller, reply),
        // No standalone stream: everything the server sends rides on the response to
        // the request it belongs to. The spec allows 405 here.
        _ => {
            let mut refusal = reject(
                405,
                code::INVALID_REQUEST,
                "use POST (or DELETE to end a session)",
            );
            refusal.set_header("allow", "POST, DELETE");
            reply.send(refusal);
        }
    }
}

fn post(req: &Request, server: &Server, caller: Authenticated, reply: Reply) {
    if let Err(refusal) = check_post(req) {
        return reply.send(refusal);
    }
    let incoming = match jsonrpc::parse(req.body()) {
        Ok(incoming) => incoming,
        Err((id, error)) => {
            return reply.send(response::json(400, &jsonrpc::error(id.as_ref(), &error)));
        }
    };
    let header_version = header(req, "mcp-protocol-version");
    let empty = Map::new();
    let params = match &incoming {
        Incoming::Request { params, .. } | Incoming::Notification { params, .. } => params,
        Incoming::Response { .. } => &empty,
    };
    match stateless::revision(header_version, params) {
        stateless::Revision::Sessions => {}
        stateless::Revision::Stateless => {
            return stateless_post(req, server, caller, reply, incoming);
        }
        stateless::Revision::Unsupported(requested) => {
            let error = stateless::unsupported_version(requested);
            let id = match &incoming {
                Incoming::Request { id, .. } => Some(id),
                _ => None,
            };
            return reply.send(response::json(400, &jsonrpc::error(id, &error)));
        }
    }
    let kv = match SpinKv::open_default() {
        Ok(kv) => kv,
        Err(e) => return reply.send(store_failure(&e)),
    };
    let incoming = match incoming {
        Incoming::Request { id, method, params } if method == "initialize" => {
            return initialize(&kv, server, caller, reply, (id, &method, &params));
        }
        other => other,
    };
    let Some(session_id) = header(req, SESSION_HEADER) else {
        return reply.send(reject(
            400,
            code::INVALID_REQUEST,
            "Mcp-Session-Id is required: send initialize first",
        ));
    };
    let session = match session::find(&kv, session_id, &caller.user_id, clock::now()) {
        Ok(Some(session)) => session,
        Ok(None) => {
            return reply.send(reject(
                404,
                code::INVALID_REQUEST,
                "no such session: send initialize again",
            ));
        }
        Err(e) => return reply.send(store_failure(&e)),
    };
    match incoming {
        Incoming::Request { id, method, params } => {
            in_session(&kv, server, session, caller, reply, (id, &method, &params));
        }
        Incoming::Response { id, outcome } => {
            if let Err(e) = peer::hand_over(&kv, &session.hash, &id, outcome) {
                return reply.send(store_failure(&e));
            }
            reply.send(accepted());
        }
        Incoming::Notification { .. } => reply.send(accepted()),
    }
}

/// Opens a session and answers `initialize` with its id.
fn initialize(
    kv: &SpinKv,
    server: &Server,
    caller: Authenticated,
    mut reply: Reply,
    (id, method, params): (jsonrpc::Id, &str, &Map<String, Value>),
) {
    let silent = protocol::context::Silent;
    let context = context(&caller, ClientCapabilities::default(), None, None, &silent);
    let result = match server.request(method, params, &context) {
        Ok(result) => result,
        Err(error) => return reply.finish(200, &jsonrpc::error(Some(&id), &error)),
    };
    let capabilities = ClientCapabilities::from_json(params.get("capabilities"));
    let record = SessionRecord {
        user_id: caller.user_id.clone(),
        protocol_version: result["protocolVersion"]
            .as_str()
            .unwrap_or(version::SUPPORTED[0])
            .to_owned(),
        sampling: capabilities.sampling,
        elicitation: capabilities.elicitation,
        roots: capabilities.roots,
        log_level: None,
    };
    match session::open(kv, record, clock::now()) {
        Ok(session_id) => reply.add_header("mcp-session-id", session_id.expose()),
        Err(e) => return reply.send(store_failure(&e)),
    }
    reply.finish(200, &jsonrpc::result(&id, result));
}

fn in_session(
    kv: &SpinKv,
    server: &Server,
    mut session: Session,
    caller: Authenticated,
    reply: Reply,
    (id, method, params): (jsonrpc::Id, &str, &Map<String, Value>),
) {
    if method == "logging/setLevel" {
        let outcome = protocol::logging::requested_level(params).and_then(|level| {
            session.record.value.log_level = Some(level.as_str().to_owned());
            session::save(kv, &session)
                .map(|()| json!({}))
                .map_err(|e| {
                    eprintln!("mcp session: {e}");
                    Error::new(code::INTERNAL_ERROR, "the level could not be stored")
                })
        });
        return reply.finish(200, &answer(&id, outcome));
    }
    let peer = SessionPeer {
        reply: &reply,
        kv,
        session_hash: &session.hash,
    };
    let progress_token = params
        .get("_meta")
        .and_then(|m| m.get("progressToken"))
        .cloned();
    let record = &session.record.value;
    let context = context(
        &caller,
        record.capabilities(),
        record.log_level(),
        progress_token,
        &peer,
    );
    let outcome = server.request(method, params, &context);
    let sign_in_again = context.must_sign_in();
    drop(context);
    conclude(reply, &caller, sign_in_again, 200, &answer(&id, outcome));
}

/// A request of the stateless revision: no session, no store access beyond the token's
/// grant; everything the server needs to know is in the request.
fn stateless_post(
    req: &Request,
    server: &Server,
    caller: Authenticated,
    reply: Reply,
    incoming: Incoming,
) {
    let Incoming::Request { id, method, params } = incoming else {
        // Notifications and answers need no reply; with no sessions there is nothing
        // waiting for an answer.
        return reply.send(accepted());
    };
    let refuse =
        |status: u16, error: &Error| response::json(status, &jsonrpc::error(Some(&id), error));
    let meta = match stateless::check(&RequestHeaders(req), &method, &params) {
        Ok(meta) => meta,
        Err((status, error)) => return reply.send(refuse(status, &error)),
    };
    if !stateless::is_method(&method) {
        let error = Error::new(
            code::METHOD_NOT_FOUND,
            format!(
                "method {method:?} is not part of protocol version {}",
                version::STATELESS
            ),
        );
        return reply.send(refuse(404, &error));
    }
    if method == "tools/call"
        && let Some(name) = params.get("name").and_then(Value::as_str)
        && let Some(declared) = server.tools.param_headers(name)
        && let Err((status, error)) = stateless::check_param_headers(
            &RequestHeaders(req),
            &declared,
            &protocol::tool::arguments(&params),
        )
    {
        return reply.send(refuse(status, &error));
    }
    let key = request_state_key;
    let round = if input::may_ask(&method) {
        match Round::open(&caller.user_id, &method, &params, &key, clock::now()) {
            Ok(round) => Some(round),
            Err(error) => return reply.send(refuse(400, &error)),
        }
    } else {
        None
    };
    let peer = peer::StatelessPeer { reply: &reply };
    let context = Context {
        log_level: meta.log_level,
        progress_token: meta.progress_token,
        round,
        ..context(&caller, meta.capabilities, None, None, &peer)
    };
    let outcome = if method == "server/discover" {
        Ok(stateless::discover(server))
    } else {
        server.request(&method, &params, &context)
    };
    let sign_in_again = context.must_sign_in();
    drop(context);
    let outcome = outcome
        .map(|result| stateless::finish(&method, result))
        .map_err(stateless::finish_error);
    let status = outcome.as_ref().err().map_or(200, stateless::status);
    conclude(reply, &caller, sign_in_again, status, &answer(&id, outcome));
}

/// Sends a handled request's answer, or the challenge when the handler found the user's
/// sign-in gone and nothing has been streamed yet (after that, the answer's error says so).
fn conclude(
    reply: Reply,
    caller: &Authenticated,
    sign_in_again: bool,
    status: u16,
    message: &Value,
) {
    if sign_in_again && reply.is_unsent() {
        return reply.send(crate::auth::sign_in_again(caller));
    }
    reply.finish(status, message);
}

/// The key that seals `requestState`, read only by requests that carry or receive one.
fn request_state_key() -> Result<Vec<u8>, String> {
    let kv = SpinKv::open_default().map_err(|e| e.to_string())?;
    let server_key = config::server_key(&kv).map_err(|e| e.to_string())?;
    Ok(input::state_key(&server_key))
}

/// A request's headers, as the stateless checks read them.
struct RequestHeaders<'a>(&'a Request);

impl stateless::Headers for RequestHeaders<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        header(self.0, name)
    }
}

fn delete(req: &Request, caller: Authenticated, reply: Reply) {
    let Some(session_id) = header(req, SESSION_HEADER) else {
        return reply.send(reject(
            400,
            code::INVALID_REQUEST,
            "Mcp-Session-Id is required",
        ));
    };
    let kv = match SpinKv::open_default() {
        Ok(kv) => kv,
        Err(e) => return reply.send(store_failure(&e)),
    };
    match session::find(&kv, session_id, &caller.user_id, clock::now()) {
        Ok(Some(session)) => match session::end(&kv, &session) {
            Ok(()) => reply.send(Response::builder().status(204).body(Vec::new()).build()),
            Err(e) => reply.send(store_failure(&e)),
        },
        Ok(None) => reply.send(reject(404, code::INVALID_REQUEST, "no such session")),
        Err(e) => reply.send(store_failure(&e)),
    }
}

pub fn context<'a>(
    caller: &Authenticated,
    client_capabilities: ClientCapabilities,
    log_level: Option<protocol::logging::Level>,
    progress_token: Option<Value>,
    peer: &'a dyn protocol::context::Peer,
) -> Context<'a> {
    Context {
        user_id: caller.user_id.clone(),
        session_id: caller.session_id.clone(),
        client_id: caller.client_id.clone(),
        grant_id: caller.grant_id.clone(),
        scope: caller.scope.clone(),
        log_level,
        progress_token,
        client_capabilities,
        peer,
        round: None,
        halt: Default::default(),
    }
}

/// The checks on a POST before its body is parsed: media types (its size was checked
/// as it was read).
fn check_post(req: &Request) -> Result<(), Response> {
    if !oauth::form::is_media_type(header(req, "content-type"), "application/json") {
        return Err(reject(
            415,
            code::INVALID_REQUEST,
            "the body must be application/json",
        ));
    }
    if let Some(accept) = header(req, "accept")
        && !oauth::form::accepts(accept, "application/json")
        && !oauth::form::accepts(accept, "text/event-stream")
    {
        return Err(reject(
            406,
            code::INVALID_REQUEST,
            "Accept must allow application/json or text/event-stream",
        ));
    }
    Ok(())
}

pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.header(name).and_then(|v| v.as_str())
}

fn answer(id: &jsonrpc::Id, outcome: Result<Value, Error>) -> Value {
    match outcome {
        Ok(result) => jsonrpc::result(id, result),
        Err(error) => jsonrpc::error(Some(id), &error),
    }
}

pub fn accepted() -> Response {
    Response::builder().status(202).body(Vec::new()).build()
}

/// A JSON-RPC error with no id, for requests refused before their message is read.
pub fn reject(status: u16, code: i64, message: &str) -> Response {
    response::json(status, &jsonrpc::error(None, &Error::new(code, message)))
}

/// A failed store call, as JSON-RPC: 503 with `Retry-After` while the store itself is
/// unavailable (never a 401 or 404, which would make the client drop its token or
/// session), 500 when a record could not be read. Details are logged, never sent.
pub fn store_failure(e: &store::Error) -> Response {
    eprintln!("mcp: {e}");
    match e {
        store::Error::Backend(_) | store::Error::Late { .. } => {
            let mut response = reject(
                503,
                code::INTERNAL_ERROR,
                "the key-value store is unavailable; try again shortly",
            );
            response.set_header(
                "retry-after",
                platform::response::STORE_RETRY_AFTER_SECS.to_string(),
            );
            response
        }
        store::Error::Corrupt { .. } => reject(500, code::INTERNAL_ERROR, "internal error"),
    }
}

/// A configuration problem, as JSON-RPC: a bad Host is the client's (400), a bad
/// variable the operator's (500, detail in the log only).
pub fn config_error(error: &config::ConfigError) -> Response {
    match error {
        config::ConfigError::UnservedHost => reject(
            403,
            code::INVALID_REQUEST,
            "the Host header does not name this server (a deployment sets base_url to its public origin)",
        ),
        config::ConfigError::BadHost(_) => reject(
            400,
            code::INVALID_REQUEST,
            "the Host header is not a valid host",
        ),
        config::ConfigError::InvalidVariable { .. } => {
            eprintln!("mcp: configuration error: {error}");
            reject(
                500,
                code::INTERNAL_ERROR,
                "this server is not configured correctly",
            )
        }
    }
}
