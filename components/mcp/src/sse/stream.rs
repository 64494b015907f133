//! `GET /sse`: opens a session bound to the caller's user, announces where to POST, then
//! relays the session's outbox until the stream ends: the client leaves, the stream's
//! lifetime (or the access token that opened it) runs out, or the grant ends. The
//! session ends with the stream, so a POST for it then gets 404.
//!
//! Cost: the outbox is polled every 10 ms after a message, backing off to 250 ms, and
//! to 1 s once nothing has come for a minute; an idle stream therefore reads the store
//! about once a second, reads the counter once per [`outbox::HOLE_PATIENCE`], and at
//! each heartbeat (`sse_heartbeat`) checks that its session and grant are still there.

use std::time::{Duration, Instant};

use oauth::grant::GrantRecord;
use platform::kv::SpinKv;
use platform::{clock, config, stream};
use protocol::jsonrpc::code;
use spin_sdk::http::{Request, Response, ResponseOutparam};
use store::record::{self, Expiring};
use store::{Kv, keys};

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
/// At its end, a stream still sends what POSTs already accepted leave in its outbox, for
/// at most this long.
const DRAIN: Duration = Duration::from_secs(2);

/// A stream whose session is stored, not yet answered.
pub struct Stream {
    kv: SpinKv,
    session_hash: String,
    session_id: oauth::secret::Secret,
    /// The grant behind the stream, when this server issued the token.
    grant_id: Option<String>,
    settings: config::SseSettings,
    /// How long this stream may live: its lifetime, or less if the token expires first.
    lifetime: Duration,
}

/// Why a stream ended.
enum Ended {
    /// Its lifetime, or its access token's, ran out.
    Lifetime,
    ClientLeft,
    /// The session was ended or the grant revoked while it ran.
    Revoked,
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
        let now = clock::now();
        let record = match record::read::<SessionRecord>(
            &kv,
            &keys::sse_client(&caller.client_key()),
            now,
        ) {
            Ok(Some(last)) => SessionRecord {
                user_id: caller.user_id.clone(),
                ..last.value
            },
            Ok(None) => SessionRecord {
                user_id: caller.user_id.clone(),
                protocol_version: HTTP_SSE_VERSION.to_owned(),
                sampling: false,
                elicitation: false,
                roots: false,
                log_level: None,
            },
            Err(e) => return Err(transport::store_failure(&e)),
        };
        let lifetime = settings.stream_lifetime.min(Duration::from_secs(
            caller.token_expires_at.saturating_sub(now),
        ));
        let expires_at = now + lifetime.as_secs() + SESSION_GRACE_SECS;
        let (session_id, session_hash) =
            session::open_under(&kv, keys::sse_session, record, expires_at)
                .map_err(|e| transport::store_failure(&e))?;
        // Every message is numbered with `increment`: a store without atomics could
        // open the stream but never carry an answer on it, so it fails here instead.
        if let Err(e) = kv.increment(&keys::sse_outbox_count(&session_hash), 0) {
            let _ = kv.delete(&keys::sse_session(&session_hash));
            eprintln!("mcp sse: the store's atomic counters are needed for /sse");
            return Err(transport::store_failure(&e));
        }
        Ok(Self {
            kv,
            session_hash,
            session_id,
            grant_id: caller.grant_id.clone(),
            settings,
            lifetime,
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
                if !matches!(ended, Ended::ClientLeft) {
                    self.close(&mut writer, &mut reader, &ended);
                }
                // Everything is gone before the client sees the end.
                self.forget(&reader);
                writer.finish();
                ended
            }
            Err(stream::Closed) => {
                self.forget(&reader);
                Ended::ClientLeft
            }
        };
        match ended {
            Ended::ClientLeft => eprintln!("mcp sse: the client left; session ended"),
            Ended::Revoked => eprintln!("mcp sse: the session or its grant ended; stream closed"),
            Ended::Lifetime => {}
        }
    }

    /// Deletes the session, its counter and whatever it was never sent.
    fn forget(&self, reader: &Reader) {
        let mut doomed = reader.leftovers(&self.kv);
        doomed.push(keys::sse_session(&self.session_hash));
        if let Err(e) = self.kv.delete_many(&doomed) {
            // The session expires on its own shortly after the lifetime.
            eprintln!("mcp sse: ending a session: {e}");
        }
    }

    /// Ends a stream the client is still reading: the session goes first, so that no
    /// new POST is accepted for it; what accepted POSTs have left is sent (for at most
    /// [`DRAIN`]); then a last comment says why the stream ends.
    fn close(&self, writer: &mut stream::BodyWriter, reader: &mut Reader, ended: &Ended) {
        if let Err(e) = self.kv.delete(&keys::sse_session(&self.session_hash)) {
            eprintln!("mcp sse: ending a session: {e}");
        }
        let started = Instant::now();
        while started.elapsed() < DRAIN {
            match reader.take(&self.kv) {
                Ok(Some(message)) => {
                    if writer.write(&event(&message)).is_err() {
                        return;
                    }
                }
                Ok(None) if reader.is_drained(&self.kv).unwrap_or(true) => break,
                Ok(None) => stream::sleep(FIRST_POLL),
                Err(_) => break,
            }
        }
        let why: &[u8] = match ended {
            Ended::Revoked => b": the sign-in or the session has ended\n\n",
            _ => b": the stream's lifetime is over; reconnect\n\n",
        };
        let _ = writer.write(why);
    }

    fn relay(&self, writer: &mut stream::BodyWriter, reader: &mut Reader) -> Ended {
        let started = Instant::now();
        let mut last_message = started;
        let mut last_write = started;
        let mut interval = FIRST_POLL;
        loop {
            if started.elapsed() >= self.lifetime {
                return Ended::Lifetime;
            }
            stream::sleep(interval);
            match reader.take(&self.kv) {
                Ok(Some(message)) => {
                    if writer.write(&event(&message)).is_err() {
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
                if !self.still_authorized() {
                    return Ended::Revoked;
                }
            }
        }
    }

    /// Whether the session and the grant behind the stream still exist: a revoked
    /// grant, or a session ended elsewhere, ends the stream within a heartbeat. A store
    /// that cannot answer keeps the stream (the next heartbeat asks again). Clerk's
    /// tokens have no grant here: their expiry bounds the stream's lifetime instead.
    fn still_authorized(&self) -> bool {
        let now = clock::now();
        let session = self.kv.exists(&keys::sse_session(&self.session_hash));
        let grant = match &self.grant_id {
            Some(grant_id) => record::read::<GrantRecord>(&self.kv, &keys::grant(grant_id), now)
                .map(|g| g.is_some()),
            None => Ok(true),
        };
        !matches!(session, Ok(false)) && !matches!(grant, Ok(false))
    }
}

/// Remembers what a client negotiated, for the sessions of its reconnects (under
/// `Authenticated::client_key`).
pub fn remember_client(
    kv: &SpinKv,
    client_key: &str,
    record: &SessionRecord,
) -> Result<(), store::Error> {
    let stored = Expiring {
        expires_at: clock::now() + CLIENT_STATE_SECS,
        value: record.clone(),
    };
    record::create(kv, &keys::sse_client(client_key), &stored)
}

/// How long a client's negotiated state is kept after its last `initialize`.
const CLIENT_STATE_SECS: u64 = 24 * 60 * 60;

fn event(message: &serde_json::Value) -> Vec<u8> {
    format!("event: message\ndata: {message}\n\n").into_bytes()
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
