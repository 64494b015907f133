//! Wall-clock time, read here once and passed to the library crates.

/// Seconds since the Unix epoch (WASI wall clock under Spin).
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
