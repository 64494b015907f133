//! Removing expired records.
//!
//! Reads already treat an expired record as absent; the sweep reclaims the space. Spin's
//! store can only list every key, so the sweep is kept off hot paths: a cold endpoint
//! (client registration, the consent page) calls [`run_if_due`], which costs one read
//! until a sweep is due (hourly), and then examines a bounded number of records.

use serde::{Deserialize, Serialize};

use crate::{Error, Expiring, Kv, keys, record};

/// How often a sweep runs.
pub const INTERVAL_SECS: u64 = 60 * 60;
/// A sweep that ran out of budget is resumed this soon (by the next cold request).
pub const CATCH_UP_SECS: u64 = 60;
/// Records one sweep examines at most, so the request that runs it stays fast.
pub const BUDGET: usize = 500;

/// What a sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Report {
    /// Expiring records read.
    pub examined: usize,
    pub removed: usize,
    /// Whether every expiring record was examined (otherwise one resumes soon).
    pub complete: bool,
}

/// Only the `exp` of a record matters here; the rest is not parsed.
#[derive(Deserialize)]
struct ExpiryOnly {
    exp: u64,
}

#[derive(Serialize, Deserialize)]
struct Schedule {}

/// Runs a sweep if one is due. `start` picks where in the key listing to begin (pass a
/// random number) so that successive budget-limited sweeps cover every record.
pub fn run_if_due(kv: &impl Kv, now: u64, start: usize) -> Result<Option<Report>, Error> {
    if record::read::<Schedule>(kv, keys::SWEEP, now)?.is_some() {
        return Ok(None);
    }
    // Claim the next hour first: instances arriving meanwhile skip rather than pile on
    // (two that race both sweep, which is harmless).
    schedule(kv, now + INTERVAL_SECS)?;
    let report = sweep(kv, now, start, BUDGET)?;
    if !report.complete {
        schedule(kv, now + CATCH_UP_SECS)?;
    }
    Ok(Some(report))
}

fn schedule(kv: &impl Kv, at: u64) -> Result<(), Error> {
    record::write(
        kv,
        keys::SWEEP,
        &Expiring {
            expires_at: at,
            value: Schedule {},
        },
    )
}

/// Deletes expired records among at most `budget` expiring ones, starting at `start`.
///
/// Deleting needs no compare-and-swap: an expired record is absent to every reader, and
/// ids are random, so nobody rewrites it; the one exception, a `cm:` record refetched
/// under its URL's key, is re-read just before the delete.
fn sweep(kv: &impl Kv, now: u64, start: usize, budget: usize) -> Result<Report, Error> {
    let candidates: Vec<String> = kv
        .keys()?
        .into_iter()
        .filter(|k| keys::EXPIRING_PREFIXES.iter().any(|p| k.starts_with(p)))
        .collect();
    let mut report = Report {
        complete: candidates.len() <= budget,
        ..Report::default()
    };
    let offset = if candidates.is_empty() {
        0
    } else {
        start % candidates.len()
    };
    let (tail, head) = candidates.split_at(offset);
    for key in head.iter().chain(tail).take(budget) {
        report.examined += 1;
        let Some(bytes) = kv.get(key)? else { continue };
        // A record we cannot read is left for a person to look at, never guessed away.
        let Ok(ExpiryOnly { exp }) = serde_json::from_slice(&bytes) else {
            continue;
        };
        // Re-read just before deleting: a `cm:` key (derived from a URL, not random)
        // may have been rewritten by a fresh fetch meanwhile.
        if now >= exp && kv.get(key)?.as_deref() == Some(bytes.as_slice()) {
            kv.delete(key)?;
            report.removed += 1;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryKv;

    fn put(kv: &MemoryKv, key: &str, exp: u64) {
        kv.set(key, format!(r#"{{"exp":{exp},"x":1}}"#).as_bytes())
            .unwrap();
    }

    #[test]
    fn expired_records_go_and_live_ones_stay() {
        let kv = MemoryKv::new();
        put(&kv, "cl:old", 99);
        put(&kv, "cl:new", 101);
        put(&kv, "gr:old", 100);
        put(&kv, "co:old", 1);
        put(&kv, "si:old", 1);
        put(&kv, "cm:old", 1);
        put(&kv, "cfg:clerk-jwks", 1); // not swept: configuration
        kv.set("gr:corrupt", b"not json").unwrap();
        let report = run_if_due(&kv, 100, 0).unwrap().unwrap();
        assert_eq!(report.removed, 5);
        assert!(report.complete);
        let left: Vec<String> = kv.snapshot().into_keys().collect();
        assert_eq!(
            left,
            ["cfg:clerk-jwks", "cfg:sweep", "cl:new", "gr:corrupt"]
        );
    }

    #[test]
    fn a_sweep_runs_at_most_hourly() {
        let kv = MemoryKv::new();
        assert!(run_if_due(&kv, 1_000, 0).unwrap().is_some());
        put(&kv, "co:old", 1);
        assert_eq!(run_if_due(&kv, 1_000 + INTERVAL_SECS - 1, 0).unwrap(), None);
        assert!(kv.get("co:old").unwrap().is_some());
        let report = run_if_due(&kv, 1_000 + INTERVAL_SECS, 0).unwrap().unwrap();
        assert_eq!(report.removed, 1);
    }

    #[test]
    fn a_large_store_is_swept_in_budgeted_rounds_from_any_start() {
        let kv = MemoryKv::new();
        for i in 0..10 {
            put(&kv, &format!("co:{i}"), 1);
        }
        let first = sweep(&kv, 100, 7, 4).unwrap();
        assert_eq!(
            (first.examined, first.removed, first.complete),
            (4, 4, false)
        );
        // Starting at 7 of 10 wraps around: co:7, co:8, co:9, co:0.
        let left: Vec<String> = kv.snapshot().into_keys().collect();
        assert_eq!(left, ["co:1", "co:2", "co:3", "co:4", "co:5", "co:6"]);
        let second = sweep(&kv, 100, 3, 10).unwrap();
        assert_eq!((second.removed, second.complete), (6, true));
    }

    #[test]
    fn an_unfinished_sweep_resumes_soon() {
        let kv = MemoryKv::new();
        for i in 0..(BUDGET + 1) {
            put(&kv, &format!("co:{i:04}"), 1);
        }
        let report = run_if_due(&kv, 100, 0).unwrap().unwrap();
        assert!(!report.complete);
        assert_eq!(run_if_due(&kv, 100 + CATCH_UP_SECS - 1, 0).unwrap(), None);
        let rest = run_if_due(&kv, 100 + CATCH_UP_SECS, 0).unwrap().unwrap();
        assert_eq!(rest.removed, 1);
        assert!(rest.complete);
    }
}
