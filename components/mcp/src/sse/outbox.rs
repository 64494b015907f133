//! A session's outbox: the messages POST handlers leave for the instance holding the
//! session's stream.
//!
//! Each message gets a number from `increment(sn:<session>)`, which no other writer on
//! any instance gets, and is written to `so:<session>:<n>`. The stream reads slot after
//! slot in order, deleting each once it is on the wire. No compare-and-swap, no lists:
//! one message costs its writer two store calls and the stream two.
//!
//! A writer that dies between numbering its message and writing it leaves a hole. The
//! stream, finding its next slot empty for [`HOLE_PATIENCE`], reads the counter; if the
//! slot has been numbered, it waits [`HOLE_PATIENCE`] more from that reading and only
//! then skips the slot. So only a writer that took longer than that between numbering
//! and writing is skipped (its message, should it ever arrive, expires with the session).
//!
//! Messages expire with their session. The sweep finds them through the expiry index,
//! which names them a block of `SSE_OUTBOX_BLOCK` (16) numbers at a time, written by
//! the writer of each block's first message: indexing adds two calls per block, not per
//! message.

use std::time::{Duration, Instant};

use platform::kv::SpinKv;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::record::{self, Expiring};
use store::{Kv, keys};

/// How long the next slot may stay empty before the stream reads the counter, and how
/// long a numbered slot may then stay empty before it is skipped.
pub const HOLE_PATIENCE: Duration = Duration::from_secs(5);

#[derive(Debug, Serialize, Deserialize)]
struct Slot {
    message: Value,
}

/// Leaves `message` for the stream of the session `session_hash`, until `expires_at`
/// (the session's own expiry).
pub fn push(
    kv: &SpinKv,
    session_hash: &str,
    expires_at: u64,
    message: &Value,
) -> Result<(), store::Error> {
    let number = kv.increment(&keys::sse_outbox_count(session_hash), 1)?;
    if (number - 1) % keys::SSE_OUTBOX_BLOCK == 0 {
        let block: Vec<String> = (number..number + keys::SSE_OUTBOX_BLOCK)
            .map(|n| keys::sse_outbox(session_hash, n))
            .collect();
        let names: Vec<&str> = block.iter().map(String::as_str).collect();
        record::index(kv, &names, expires_at);
    }
    let slot = Expiring {
        expires_at,
        value: Slot {
            message: message.clone(),
        },
    };
    record::write(kv, &keys::sse_outbox(session_hash, number), &slot)
}

/// The stream's side: the next message, in order.
pub struct Reader {
    session_hash: String,
    next: i64,
    /// Since when the next slot has been found empty.
    empty_since: Option<Instant>,
    /// When the counter showed the next slot numbered, while it was still empty.
    numbered_at: Option<Instant>,
}

impl Reader {
    pub fn new(session_hash: &str) -> Self {
        Self {
            session_hash: session_hash.to_owned(),
            next: 1,
            empty_since: None,
            numbered_at: None,
        }
    }

    /// Takes the next message, if it has arrived: one read, and a delete when it has.
    /// A slot that cannot be read is logged and skipped rather than blocking the stream.
    pub fn take(&mut self, kv: &SpinKv) -> Result<Option<Value>, store::Error> {
        let key = keys::sse_outbox(&self.session_hash, self.next);
        let Some(bytes) = kv.get(&key)? else {
            self.check_for_hole(kv)?;
            return Ok(None);
        };
        kv.delete(&key)?;
        self.advance();
        match serde_json::from_slice::<Expiring<Slot>>(&bytes) {
            Ok(slot) => Ok(Some(slot.value.message)),
            Err(e) => {
                eprintln!("mcp sse: outbox slot {key} unreadable, skipped: {e}");
                Ok(None)
            }
        }
    }

    fn advance(&mut self) {
        self.next += 1;
        self.empty_since = None;
        self.numbered_at = None;
    }

    /// Called with the next slot just found empty.
    fn check_for_hole(&mut self, kv: &SpinKv) -> Result<(), store::Error> {
        if let Some(numbered_at) = self.numbered_at {
            if numbered_at.elapsed() >= HOLE_PATIENCE {
                eprintln!(
                    "mcp sse: outbox slot {} was numbered but never written; skipped",
                    self.next
                );
                self.advance();
            }
            return Ok(());
        }
        let since = *self.empty_since.get_or_insert_with(Instant::now);
        if since.elapsed() < HOLE_PATIENCE {
            return Ok(());
        }
        self.empty_since = Some(Instant::now());
        if self.numbered(kv)? >= self.next {
            self.numbered_at = Some(Instant::now());
        }
        Ok(())
    }

    /// Whether every message numbered so far has been taken.
    pub fn is_drained(&self, kv: &SpinKv) -> Result<bool, store::Error> {
        Ok(self.numbered(kv)? < self.next)
    }

    /// How many messages have been numbered so far.
    fn numbered(&self, kv: &SpinKv) -> Result<i64, store::Error> {
        kv.increment(&keys::sse_outbox_count(&self.session_hash), 0)
    }

    /// What ending the session removes: the counter and every message not yet taken.
    pub fn leftovers(&self, kv: &SpinKv) -> Vec<String> {
        let numbered = self.numbered(kv).unwrap_or(self.next - 1);
        let mut doomed: Vec<String> = (self.next..=numbered)
            .map(|n| keys::sse_outbox(&self.session_hash, n))
            .collect();
        doomed.push(keys::sse_outbox_count(&self.session_hash));
        doomed
    }
}
