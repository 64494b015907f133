//! Talking to the client in the middle of a request (2025-era sessions).
//!
//! Notifications go on the request's event stream. A request to the client (sampling,
//! elicitation) goes there too, but its answer arrives in a separate POST, possibly at
//! another instance; that instance stores it under `ma:<session>:<request id>` and this
//! one polls the store until it appears. The pending record is written first, so the
//! receiving side stores only answers to requests that were really sent.

use std::time::Duration;

use oauth::secret::Secret;
use platform::kv::SpinKv;
use platform::{clock, stream};
use protocol::context::{Peer, PeerError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::record::{self, Expiring};
use store::{Kv, keys};

use crate::reply::Reply;

/// How long a request to the client may wait for its answer. Elicitation waits on a
/// person filling in a form, so this is minutes, not seconds.
pub const ANSWER_WAIT: Duration = Duration::from_secs(300);

/// Polling starts fast (an SDK client answers sampling stubs in milliseconds) and
/// backs off to this interval.
const MAX_POLL: Duration = Duration::from_millis(250);

/// Between keep-alive comments on the stream while waiting.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A request sent to the client: pending until the answer is stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnswerRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// Request ids the server uses for its own requests; a client's answer names one.
const REQUEST_ID_PREFIX: &str = "srv-";

pub struct SessionPeer<'a> {
    pub reply: &'a Reply,
    pub kv: &'a SpinKv,
    pub session_hash: &'a str,
}

/// Sends a notification on the request's event stream (both revisions alike).
fn notify_on(reply: &Reply, method: &str, params: Value) -> bool {
    let message = json!({ "jsonrpc": "2.0", "method": method, "params": params });
    reply.event(&message).is_ok()
}

impl Peer for SessionPeer<'_> {
    fn notify(&self, method: &str, params: Value) -> bool {
        notify_on(self.reply, method, params)
    }

    fn request(&self, method: &str, params: Value) -> Result<Value, PeerError> {
        let pending = Pending::open(self.kv, self.session_hash)?;
        if self.reply.event(&pending.message(method, params)).is_err() {
            pending.withdraw(self.kv);
            return Err(PeerError::NoChannel);
        }
        // The stream is this request's own: a failed keep-alive means the client left.
        pending.wait(self.kv, || {
            self.reply
                .keep_alive()
                .map_err(|_| PeerError::Failed("the client disconnected".into()))
        })
    }
}

/// A request to the client whose answer is awaited in the store (`ma:`): opened
/// before the request is sent, so that only answers to requests really sent are kept.
pub struct Pending {
    id: String,
    key: String,
}

impl Pending {
    pub fn open(kv: &SpinKv, session_hash: &str) -> Result<Self, PeerError> {
        let failed = |e: &dyn std::fmt::Display| PeerError::Failed(e.to_string());
        let nonce = platform::random::bytes::<16>().map_err(|e| failed(&e))?;
        let id = format!(
            "{REQUEST_ID_PREFIX}{}",
            Secret::from_random(&nonce).expose()
        );
        let key = keys::mcp_answer(session_hash, &id);
        let pending = Expiring {
            expires_at: clock::now() + ANSWER_WAIT.as_secs() + 60,
            value: AnswerRecord {
                result: None,
                error: None,
            },
        };
        record::create(kv, &key, &pending).map_err(|e| failed(&e))?;
        Ok(Self { id, key })
    }

    /// The JSON-RPC request to send the client.
    pub fn message(&self, method: &str, params: Value) -> Value {
        json!({ "jsonrpc": "2.0", "id": self.id, "method": method, "params": params })
    }

    /// Gives up on a request that could not be sent.
    pub fn withdraw(self, kv: &SpinKv) {
        let _ = kv.delete(&self.key);
    }

    /// Polls the store for the answer, at most [`ANSWER_WAIT`]; `still_there` runs
    /// every [`KEEP_ALIVE`] and ends the wait when the client can no longer answer.
    pub fn wait(
        self,
        kv: &SpinKv,
        mut still_there: impl FnMut() -> Result<(), PeerError>,
    ) -> Result<Value, PeerError> {
        let outcome = self.poll(kv, &mut still_there);
        let _ = kv.delete(&self.key);
        outcome
    }

    fn poll(
        &self,
        kv: &SpinKv,
        still_there: &mut impl FnMut() -> Result<(), PeerError>,
    ) -> Result<Value, PeerError> {
        let started = std::time::Instant::now();
        let mut interval = Duration::from_millis(10);
        let mut last_check = started;
        while started.elapsed() < ANSWER_WAIT {
            stream::sleep(interval);
            interval = (interval * 2).min(MAX_POLL);
            let stored = record::read::<AnswerRecord>(kv, &self.key, clock::now())
                .map_err(|e| PeerError::Failed(e.to_string()))?;
            match stored.map(|r| r.value) {
                Some(AnswerRecord {
                    result: Some(result),
                    ..
                }) => return Ok(result),
                Some(AnswerRecord {
                    error: Some(error), ..
                }) => {
                    let message = error
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("no message")
                        .to_owned();
                    return Err(PeerError::Rejected(message));
                }
                Some(_) => {}
                None => return Err(PeerError::Failed("the request was withdrawn".into())),
            }
            if last_check.elapsed() >= KEEP_ALIVE {
                last_check = std::time::Instant::now();
                still_there()?;
            }
        }
        Err(PeerError::Timeout)
    }
}

/// Stores a client's answer for the instance waiting on it. Answers to requests that
/// are not pending (unknown, answered, or never sent) are dropped.
pub fn hand_over(
    kv: &SpinKv,
    session_hash: &str,
    id: &protocol::jsonrpc::Id,
    outcome: Result<Value, Value>,
) -> Result<(), store::Error> {
    let protocol::jsonrpc::Id::String(id) = id else {
        return Ok(());
    };
    if !id.starts_with(REQUEST_ID_PREFIX) {
        return Ok(());
    }
    let key = keys::mcp_answer(session_hash, id);
    let now = clock::now();
    let Some(mut pending) = record::read::<AnswerRecord>(kv, &key, now)? else {
        return Ok(());
    };
    if pending.value.result.is_some() || pending.value.error.is_some() {
        return Ok(());
    }
    match outcome {
        Ok(result) => pending.value.result = Some(result),
        Err(error) => pending.value.error = Some(error),
    }
    record::write(kv, &key, &pending)
}

/// The 2026-07-28 revision: notifications go on the request's stream, but the server
/// sends no requests of its own (a tool needing input says so in its result instead).
pub struct StatelessPeer<'a> {
    pub reply: &'a Reply,
}

impl Peer for StatelessPeer<'_> {
    fn notify(&self, method: &str, params: Value) -> bool {
        notify_on(self.reply, method, params)
    }

    fn request(&self, _: &str, _: Value) -> Result<Value, PeerError> {
        Err(PeerError::NoChannel)
    }
}
