//! How long a request waits for the store before it gives up without changing anything.
//!
//! A store that stalls (Redis failing over, Spin's client reconnecting) does not fail a
//! call: the call returns when the store does, possibly minutes later, long after the
//! client has stopped waiting. A request that then went on to spend a code, rotate a
//! refresh token or consume a sign-in would leave the client, whose retry carries the
//! old credential, locked out. So a request that has run past [`CLIENT_PATIENCE`]
//! before its first write makes no further store call: it fails with [`Error::Late`]
//! (answered as `503`), having written nothing. Once a request has written, it finishes:
//! stopping between two writes of one change would leave half of it.

use std::cell::Cell;
use std::time::Duration;

use crate::Error;

/// How long a client is taken to wait for an OAuth endpoint. Past it an answer is likely
/// unread, and a `503` nobody reads costs nothing: the retry finds the credential intact.
pub const CLIENT_PATIENCE: Duration = Duration::from_secs(10);

/// One request's deadline: how long it may wait, and whether it has begun writing.
pub struct Deadline {
    patience: Duration,
    wrote: Cell<bool>,
}

impl Deadline {
    pub fn new(patience: Duration) -> Self {
        Self {
            patience,
            wrote: Cell::new(false),
        }
    }

    /// Before each store call, `elapsed` into the request: refuses once the request is
    /// past its patience, unless it has already written.
    pub fn admit(&self, elapsed: Duration) -> Result<(), Error> {
        if self.wrote.get() || elapsed <= self.patience {
            return Ok(());
        }
        Err(Error::Late {
            waited_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        })
    }

    /// After a write was sent (the store may have applied it even if the call failed).
    pub fn wrote(&self) {
        self.wrote.set(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn calls_within_the_patience_are_admitted() {
        let deadline = Deadline::new(secs(10));
        assert_eq!(deadline.admit(secs(0)), Ok(()));
        assert_eq!(
            deadline.admit(secs(10)),
            Ok(()),
            "exactly the patience is in time"
        );
    }

    #[test]
    fn a_request_past_its_patience_before_writing_is_refused_every_further_call() {
        let deadline = Deadline::new(secs(10));
        let late = Err(Error::Late { waited_ms: 11_000 });
        assert_eq!(deadline.admit(secs(11)), late);
        assert_eq!(deadline.admit(secs(11)), late);
    }

    #[test]
    fn a_request_that_has_written_finishes_whatever_the_time() {
        let deadline = Deadline::new(secs(10));
        deadline.admit(secs(0)).unwrap();
        deadline.wrote();
        assert_eq!(deadline.admit(secs(600)), Ok(()));
    }
}
