//! The expiry index: where the sweep finds expired records without listing keys.
//!
//! Time is cut into hourly buckets; bucket `h` holds the records whose expiry falls in
//! `((h - 1) * 3600, h * 3600]`. Writing a record that expires adds its key to the bucket
//! of its expiry: `increment(xn:<h>, 1)` numbers a slot that no other writer, on any
//! instance, gets, and `xs:<h>:<n>` names the key (or the keys written together, which
//! expire together). A bucket is swept once it has closed, with a grace period for
//! instances whose clocks run behind; nothing is added to it after that, so the sweep
//! can walk its slots `1..=count` and then forget it (see `sweep`).
//!
//! A record that is renewed into a later bucket is indexed again there; its old slot
//! finds it live and is dropped. The index is written before the record, so a failure
//! between the two leaves at worst a slot naming nothing, never a record nobody finds.

use crate::{Error, Kv, keys};

/// The width of a bucket.
pub const BUCKET_SECS: u64 = 60 * 60;

/// A bucket is swept this long after it closes: writers whose clocks lag by less than
/// this still add to a bucket before the sweep walks it.
pub const CLOSE_GRACE_SECS: u64 = 5 * 60;

/// The bucket a record expiring at `expires_at` belongs to.
pub fn bucket_of(expires_at: u64) -> u64 {
    expires_at.div_ceil(BUCKET_SECS)
}

/// Whether bucket `bucket` is closed at `now`, so that nothing more is added to it.
pub fn is_closed(bucket: u64, now: u64) -> bool {
    bucket * BUCKET_SECS + CLOSE_GRACE_SECS <= now
}

/// Whether renewing a record from `old` to `new` expiry needs a new slot.
pub fn moves(old: u64, new: u64) -> bool {
    bucket_of(old) != bucket_of(new)
}

/// Indexes `record_keys`, which all expire at `expires_at`: one increment and one write.
pub fn track(kv: &impl Kv, record_keys: &[&str], expires_at: u64) -> Result<(), Error> {
    let bucket = bucket_of(expires_at);
    let slot = kv.increment(&keys::expiry_count(bucket), 1)?;
    kv.set(
        &keys::expiry_slot(bucket, slot),
        record_keys.join("\n").as_bytes(),
    )
}

/// The keys a slot names (written by [`track`]).
pub fn slot_keys(value: &[u8]) -> impl Iterator<Item = &str> {
    std::str::from_utf8(value)
        .unwrap_or("")
        .split('\n')
        .filter(|key| !key.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryKv;

    #[test]
    fn buckets_end_on_the_hour_and_close_after_the_grace() {
        assert_eq!(bucket_of(1), 1);
        assert_eq!(bucket_of(3600), 1);
        assert_eq!(bucket_of(3601), 2);
        assert!(!is_closed(1, 3600 + CLOSE_GRACE_SECS - 1));
        assert!(is_closed(1, 3600 + CLOSE_GRACE_SECS));
        assert!(!moves(3601, 7200));
        assert!(moves(3600, 3601));
    }

    #[test]
    fn each_write_gets_its_own_slot() {
        let kv = MemoryKv::new();
        track(&kv, &["gr:a", "co:a"], 3601).unwrap();
        track(&kv, &["cl:b"], 7200).unwrap();
        let stored = kv.snapshot();
        assert_eq!(stored["xn:2"], b"2");
        assert_eq!(stored["xs:2:1"], b"gr:a\nco:a");
        assert_eq!(stored["xs:2:2"], b"cl:b");
        assert_eq!(
            slot_keys(&stored["xs:2:1"]).collect::<Vec<_>>(),
            ["gr:a", "co:a"]
        );
        assert_eq!(kv.calls(), 4);
    }
}
