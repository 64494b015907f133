//! The wall clock components read (`wasi:clocks/wall-clock`): the system's, moved
//! forward when a test needs records to expire without waiting for them. Every
//! instance of one host shares it; the monotonic clock (timeouts) is untouched.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wasmtime_wasi::HostWallClock;

#[derive(Debug, Default)]
pub struct HostClock {
    ahead_secs: AtomicU64,
}

impl HostClock {
    /// Moves the clock `secs` further ahead of the system's.
    pub fn advance(&self, secs: u64) {
        self.ahead_secs.fetch_add(secs, Ordering::SeqCst);
    }

    /// The time components see, in seconds since the Unix epoch.
    pub fn now_secs(&self) -> u64 {
        self.now().as_secs()
    }

    fn now(&self) -> Duration {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            + Duration::from_secs(self.ahead_secs.load(Ordering::SeqCst))
    }
}

/// One instance's view of a [`HostClock`].
pub struct WallClock(pub Arc<HostClock>);

impl HostWallClock for WallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        self.0.now()
    }
}
