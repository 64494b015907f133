//! `GET /sse`: opens a session bound to the caller's user, announces where to POST, then
//! relays the session's outbox until the client leaves or the stream's lifetime ends.
//! Either way the session ends with the stream, so a POST for it then gets 404.
//!
//! Cost: the outbox is polled every 10 ms after a message, backing off to 250 ms, and
//! to 1 s once nothing has come for a minute; an idle stream therefore reads the store
//! about once a second (plus one counter read per [`outbox::HOLE_PATIENCE`]) and writes
//! nothing. A heartbeat comment goes to the client every `sse_heartbeat`.

use std::time::{Duration, Instant};

use platform::kv::SpinKv;
use platform::{clock, config, stream};
use protocol::jsonrpc::code;
use spin_sdk::http::{Request, Response, ResponseOutparam};
use store::Kv;
use store::keys;

use super::message;
use super::outbox::{self, Reader};
use crate::auth::Authenticated;
use crate::session::{self, SessionRecord};
use crate::transport::{self, header, reject};

/// The revision this transport was defined in, assumed until `initialize` says more.
pub const HTTP_SSE_VERSION: &str = "2024-11-05";

/// How long a session outlives its stream's lifetime in the store, should the stream's
/// instance die without ending it: long enough for a POST in flight to finish.
const SESSION_GRACE_SECS: u64 = 60;

const FIRST_POLL: Duration = Duration::from_millis(10);
const BUSY_POLL: Duration = Duration::from_millis(250);
const IDLE_POLL: Duration = Duration::from_secs(1);
/// Quiet this long, a stream polls at [`IDLE_POLL`].
const IDLE_AFTER: Duration = Duration::from_secs(60);

/// A stream whose session is stored, not yet answered.
pub struct Stream {
    kv: SpinKv,
    session_hash: String,
    session_id: oauth::secret::Secret,
    settings: config::SseSettings,
}

/// Why a stream ended.
enum Ended {
    Lifetime,
    ClientLeft,
}

impl Stream {
    /// Checks the request and stores the session; the refusal to send otherwise.
    pub fn open(req: &Request, caller: &Authenticated) -> Result<Self, Response> {
        if let Some(accept) = header(req, "accept")
            && !oauth::form::accepts(accept, "text/event-stream")
        {
            return Err(reject(
                406,
                code::INVALID_REQUEST,
                "Accept must allow text/event-stream",
            ));
        }
        let settings = config::sse_settings().map_err(|e| transport::config_error(&e))?;
        let kv = SpinKv::open_default().map_err(|e| transport::store_failure(&e))?;
        let record = SessionRecord {
            user_id: caller.grant.user_id.clone(),
            protocol_version: HTTP_SSE_VERSION.to_owned(),
            sampling: false,
            elicitation: false,
            roots: false,
            log_level: None,
        };
        let expires_at = clock::now() + settings.stream_lifetime.as_secs() + SESSION_GRACE_SECS;
        let (session_id, session_hash) =
            session::open_under(&kv, keys::sse_session, record, expires_at)
                .map_err(|e| transport::store_failure(&e))?;
        Ok(Self {
            kv,
            session_hash,
            session_id,
            settings,
        })
    }

    /// Answers with the stream and relays the outbox until the stream ends; then ends
    /// the session.
    pub fn serve(self, out: ResponseOutparam, common_headers: &[(String, String)]) {
        // A relative URL: clients resolve it against the stream's own, same origin.
        let endpoint = format!(
            "event: endpoint\ndata: {}?sessionId={}\n\n",
            message::PATH,
            self.session_id.expose()
        );
        let mut reader = Reader::new(&self.session_hash);
        let ended = match stream::open_events(out, common_headers, endpoint.as_bytes()) {
            Ok(mut writer) => {
                let ended = self.relay(&mut writer, &mut reader);
                if let Ended::Lifetime = ended {
                    let _ = writer.write(b": the stream's lifetime is over; reconnect\n\n");
                }
                writer.finish();
                ended
            }
            Err(stream::Closed) => Ended::ClientLeft,
        };
        let mut doomed = reader.leftovers(&self.kv);
        doomed.push(keys::sse_session(&self.session_hash));
        if let Err(e) = self.kv.delete_many(&doomed) {
            // The session expires on its own shortly after the lifetime.
            eprintln!("mcp sse: ending a session: {e}");
        }
        if let Ended::ClientLeft = ended {
            eprintln!("mcp sse: the client left; session ended");
        }
    }

    fn relay(&self, writer: &mut stream::BodyWriter, reader: &mut Reader) -> Ended {
        let started = Instant::now();
        let mut last_message = started;
        let mut last_write = started;
        let mut interval = FIRST_POLL;
        loop {
            if started.elapsed() >= self.settings.stream_lifetime {
                return Ended::Lifetime;
            }
            stream::sleep(interval);
            match reader.take(&self.kv) {
                Ok(Some(message)) => {
                    let event = format!("event: message\ndata: {message}\n\n");
                    if writer.write(event.as_bytes()).is_err() {
                        return Ended::ClientLeft;
                    }
                    last_message = Instant::now();
                    last_write = last_message;
                    interval = FIRST_POLL;
                    continue;
                }
                Ok(None) => {}
                // The store is down: keep the stream and try again (the heartbeat still
                // tells whether the client is there).
                Err(e) => eprintln!("mcp sse: reading the outbox: {e}"),
            }
            interval = if last_message.elapsed() >= IDLE_AFTER {
                IDLE_POLL
            } else {
                (interval * 2).min(BUSY_POLL)
            };
            if last_write.elapsed() >= self.settings.heartbeat {
                if writer.write(b": heartbeat\n\n").is_err() {
                    return Ended::ClientLeft;
                }
                last_write = Instant::now();
            }
        }
    }
}

/// Whether the session `session_hash` still has its stream (a tool waiting on the
/// client gives up once it has not).
pub fn is_open(kv: &SpinKv, session_hash: &str) -> Result<bool, store::Error> {
    kv.exists(&keys::sse_session(session_hash))
}

/// Leaves `message` for the session's stream.
pub fn send(kv: &SpinKv, session: &session::Session, message: &serde_json::Value) -> bool {
    match outbox::push(kv, &session.hash, session.record.expires_at, message) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("mcp sse: leaving a message for the stream: {e}");
            false
        }
    }
}
