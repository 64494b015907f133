//! Removing expired records, found through the expiry index (`expiry`): no key is ever
//! listed, so what a sweep costs does not depend on how many records the store holds.
//!
//! Reads already treat an expired record as absent; the sweep reclaims the space. A cold
//! endpoint calls [`run_if_due`] once it has answered: that costs one read until a sweep
//! is due (hourly, or every [`CATCH_UP_SECS`] while the index has a backlog), and then at
//! most [`MAX_CALLS`] store calls.
//!
//! Deleting needs no compare-and-swap. An expired record is absent to every reader and
//! nobody rewrites it, except a `cm:` cache entry (keyed by its URL) refetched at that
//! moment: deleting the fresh copy costs one refetch, so it is not re-read. A record
//! found live was renewed into a later bucket and is indexed there.

use serde::{Deserialize, Serialize};

use crate::{Error, Kv, expiry, keys};

/// How often a sweep runs once the index has no backlog.
pub const INTERVAL_SECS: u64 = 60 * 60;
/// A sweep that ran out of budget is resumed this soon (by the next cold request).
pub const CATCH_UP_SECS: u64 = 10;
/// Store calls a sweep starts no more slots beyond.
pub const CALL_BUDGET: usize = 200;
/// The most store calls one sweep makes: the budget, then at most one bucket's counter
/// (two calls) and one slot with the records it names (an SSE outbox block names the
/// most), the batched delete and the schedule.
pub const MAX_CALLS: usize = CALL_BUDGET + 5 + keys::SSE_OUTBOX_BLOCK as usize;
/// Where a store's first sweep starts: early enough for records written before it.
const FIRST_LOOKBACK_BUCKETS: u64 = 24;

/// What a sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Report {
    /// Index slots read.
    pub slots: usize,
    /// Expired records deleted.
    pub removed: usize,
    /// Store calls made, the schedule's included.
    pub calls: usize,
    /// Whether every closed bucket has been swept (otherwise one resumes soon).
    pub complete: bool,
}

/// `cfg:sweep`: when the next sweep is due, and where it resumes. (`exp` is the name the
/// schedule had before the index, so an older store's schedule still reads.)
#[derive(Debug, Serialize, Deserialize)]
struct Schedule {
    #[serde(rename = "exp")]
    due: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bucket: Option<u64>,
    #[serde(default = "first_slot")]
    slot: i64,
}

fn first_slot() -> i64 {
    1
}

/// A position in the index: a bucket and the next slot to read in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    bucket: u64,
    slot: i64,
}

/// Only the `exp` of a record matters here; the rest is not parsed.
#[derive(Deserialize)]
struct ExpiryOnly {
    exp: u64,
    /// A grant's slot in its user's index (`user_grants`), which ends with it.
    #[serde(default)]
    user_slot: Option<String>,
}

/// Runs a sweep if one is due.
pub fn run_if_due(kv: &impl Kv, now: u64) -> Result<Option<Report>, Error> {
    let schedule = kv
        .get(keys::SWEEP)?
        .and_then(|bytes| serde_json::from_slice::<Schedule>(&bytes).ok());
    if schedule.as_ref().is_some_and(|s| now < s.due) {
        return Ok(None);
    }
    let cursor = schedule
        .and_then(|s| {
            s.bucket.map(|bucket| Cursor {
                bucket,
                slot: s.slot,
            })
        })
        .unwrap_or(Cursor {
            bucket: expiry::bucket_of(now).saturating_sub(FIRST_LOOKBACK_BUCKETS),
            slot: 1,
        });
    // Claim the sweep first, an hour out: instances arriving meanwhile skip rather than
    // pile on, and a sweep that fails retries only then (two that race both sweep the
    // same slots, which is harmless).
    write_schedule(kv, now + INTERVAL_SECS, cursor)?;
    let (mut report, cursor) = sweep(kv, now, cursor, CALL_BUDGET)?;
    let due = if report.complete {
        now + INTERVAL_SECS
    } else {
        now + CATCH_UP_SECS
    };
    write_schedule(kv, due, cursor)?;
    report.calls += 3;
    Ok(Some(report))
}

fn write_schedule(kv: &impl Kv, due: u64, cursor: Cursor) -> Result<(), Error> {
    let schedule = Schedule {
        due,
        bucket: Some(cursor.bucket),
        slot: cursor.slot,
    };
    let bytes = serde_json::to_vec(&schedule).map_err(|e| Error::Corrupt {
        key: keys::SWEEP.to_owned(),
        reason: e.to_string(),
    })?;
    kv.set(keys::SWEEP, &bytes)
}

/// Walks closed buckets from `cursor` until about `budget` calls are spent, deleting the
/// expired records their slots name, then the slots (and a finished bucket's counter)
/// in one batch. Returns where the next sweep resumes.
fn sweep(
    kv: &impl Kv,
    now: u64,
    mut cursor: Cursor,
    budget: usize,
) -> Result<(Report, Cursor), Error> {
    let mut report = Report::default();
    let mut doomed: Vec<String> = Vec::new();
    let mut count: Option<i64> = None;
    loop {
        if !expiry::is_closed(cursor.bucket, now) {
            report.complete = true;
            break;
        }
        if report.calls >= budget {
            break;
        }
        let slots = match count {
            Some(slots) => slots,
            None => {
                let counter = keys::expiry_count(cursor.bucket);
                report.calls += 1;
                // `exists` first: reading an absent counter through `increment` would
                // create it, and most buckets of a quiet store are empty.
                let slots = if kv.exists(&counter)? {
                    report.calls += 1;
                    kv.increment(&counter, 0)?
                } else {
                    0
                };
                count = Some(slots);
                slots
            }
        };
        if cursor.slot > slots {
            if slots > 0 {
                doomed.push(keys::expiry_count(cursor.bucket));
            }
            cursor = Cursor {
                bucket: cursor.bucket + 1,
                slot: 1,
            };
            count = None;
            continue;
        }
        let slot_key = keys::expiry_slot(cursor.bucket, cursor.slot);
        report.calls += 1;
        report.slots += 1;
        if let Some(names) = kv.get(&slot_key)? {
            for key in expiry::slot_keys(&names) {
                report.calls += 1;
                match expired(kv.get(key)?, now) {
                    Some(Expired::Yes { user_slot }) => {
                        report.removed += 1;
                        doomed.push(key.to_owned());
                        doomed.extend(user_slot);
                    }
                    Some(Expired::No) => continue,
                    None => {}
                }
                // Gone or expired: what is kept under its id goes with it.
                doomed.extend(keys::companions(key));
            }
        }
        doomed.push(slot_key);
        cursor.slot += 1;
    }
    if !doomed.is_empty() {
        report.calls += 1;
        kv.delete_many(&doomed)?;
    }
    Ok((report, cursor))
}

enum Expired {
    /// Expired, with the index slot that goes with it, if any.
    Yes {
        user_slot: Option<String>,
    },
    No,
}

/// Whether a stored record has expired; `None` when there is no record. A record we
/// cannot read is left for a person to look at (counted as live), never guessed away.
fn expired(stored: Option<Vec<u8>>, now: u64) -> Option<Expired> {
    let bytes = stored?;
    Some(match serde_json::from_slice::<ExpiryOnly>(&bytes) {
        Ok(record) if now >= record.exp => Expired::Yes {
            user_slot: record.user_slot,
        },
        _ => Expired::No,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryKv, expiry::BUCKET_SECS, expiry::CLOSE_GRACE_SECS};

    const HOUR: u64 = BUCKET_SECS;

    fn put(kv: &MemoryKv, key: &str, exp: u64) {
        expiry::track(kv, &[key], exp).unwrap();
        kv.set(key, format!(r#"{{"exp":{exp},"x":1}}"#).as_bytes())
            .unwrap();
    }

    /// Sweeps until one completes, as catch-up sweeps would; the reports.
    fn sweep_all(kv: &MemoryKv, mut now: u64) -> Vec<Report> {
        let mut reports = Vec::new();
        loop {
            let report = run_if_due(kv, now).unwrap().expect("due");
            reports.push(report);
            if report.complete {
                return reports;
            }
            now += CATCH_UP_SECS;
        }
    }

    fn left(kv: &MemoryKv) -> Vec<String> {
        kv.snapshot().into_keys().collect()
    }

    #[test]
    fn an_expired_grant_takes_its_user_index_slot_and_a_live_one_keeps_it() {
        let kv = MemoryKv::new();
        let start = 100 * HOUR;
        assert!(run_if_due(&kv, start).unwrap().unwrap().complete);
        for (grant, exp) in [("old", start + 60), ("new", start + 10 * HOUR)] {
            let slot = crate::user_grants::add(&kv, "user_1", grant).unwrap();
            let key = format!("gr:{grant}");
            expiry::track(&kv, &[&key], exp).unwrap();
            let record = format!(r#"{{"exp":{exp},"user_slot":"{slot}"}}"#);
            kv.set(&key, record.as_bytes()).unwrap();
        }
        sweep_all(&kv, start + 2 * HOUR);
        let walked = crate::user_grants::walk(&kv, "user_1").unwrap();
        assert_eq!(walked.len(), 1);
        assert_eq!(walked[0].grant_id, "new");
        assert!(!kv.snapshot().contains_key("gr:old"));
    }

    #[test]
    fn expired_records_go_with_their_index_and_live_ones_stay() {
        let kv = MemoryKv::new();
        let start = 100 * HOUR;
        // First sweep: nothing indexed yet, but it sets the cursor.
        assert!(run_if_due(&kv, start).unwrap().unwrap().complete);
        put(&kv, "cl:old", start + 60);
        put(&kv, "co:old", start + 600);
        put(&kv, "gr:old", start + 600);
        kv.set("ut:old", b"{}").unwrap();
        put(&kv, "cl:new", start + 10 * HOUR);
        put(&kv, "gr:corrupt", start + 60);
        kv.set("gr:corrupt", b"not json").unwrap();
        kv.set("cfg:clerk-jwks", br#"{"exp":1}"#).unwrap(); // never indexed: configuration
        let now = start + 2 * HOUR;
        let reports = sweep_all(&kv, now);
        assert_eq!(reports.iter().map(|r| r.removed).sum::<usize>(), 3);
        assert_eq!(
            left(&kv),
            [
                "cfg:clerk-jwks",
                "cfg:sweep",
                "cl:new",
                "gr:corrupt",
                "xn:110",
                "xs:110:1"
            ]
        );
        assert!(reports.iter().all(|r| r.calls <= MAX_CALLS));
        // The live client's bucket goes once it closes.
        let later = sweep_all(&kv, start + 11 * HOUR + CLOSE_GRACE_SECS);
        assert_eq!(later.iter().map(|r| r.removed).sum::<usize>(), 1);
        assert_eq!(left(&kv), ["cfg:clerk-jwks", "cfg:sweep", "gr:corrupt"]);
    }

    #[test]
    fn an_abandoned_sse_session_goes_with_its_counter_and_its_outbox_block() {
        let kv = MemoryKv::new();
        let start = 100 * HOUR;
        assert!(run_if_due(&kv, start).unwrap().unwrap().complete);
        // A stream's instance died: its session, its counter, two messages never taken
        // (indexed as one block of numbers, most of them never written).
        let exp = start + 60;
        put(&kv, "ss:h", exp);
        kv.increment("sn:h", 2).unwrap();
        let block: Vec<String> = (1..=keys::SSE_OUTBOX_BLOCK)
            .map(|n| format!("so:h:{n}"))
            .collect();
        let names: Vec<&str> = block.iter().map(String::as_str).collect();
        expiry::track(&kv, &names, exp).unwrap();
        for key in &block[..2] {
            kv.set(key, format!(r#"{{"exp":{exp},"message":{{}}}}"#).as_bytes())
                .unwrap();
        }
        let reports = sweep_all(&kv, start + 2 * HOUR);
        assert_eq!(reports.iter().map(|r| r.removed).sum::<usize>(), 3);
        assert_eq!(left(&kv), ["cfg:sweep"]);
    }

    #[test]
    fn a_bucket_waits_for_its_grace_period() {
        let kv = MemoryKv::new();
        let start = 100 * HOUR;
        run_if_due(&kv, start).unwrap();
        put(&kv, "co:a", start + 60);
        let closes = (start / HOUR + 1) * HOUR + CLOSE_GRACE_SECS;
        kv.set("cfg:sweep", br#"{"exp":1,"bucket":100,"slot":1}"#)
            .unwrap();
        assert_eq!(run_if_due(&kv, closes - 1).unwrap().unwrap().removed, 0);
        kv.set("cfg:sweep", br#"{"exp":1,"bucket":100,"slot":1}"#)
            .unwrap();
        assert_eq!(run_if_due(&kv, closes).unwrap().unwrap().removed, 1);
    }

    #[test]
    fn a_renewed_record_is_kept_and_found_again_in_its_new_bucket() {
        let kv = MemoryKv::new();
        let start = 100 * HOUR;
        run_if_due(&kv, start).unwrap();
        put(&kv, "gr:a", start + 600);
        // Renewed a day out (as a refresh does): indexed again there.
        put(&kv, "gr:a", start + 24 * HOUR);
        sweep_all(&kv, start + 2 * HOUR);
        assert!(kv.get("gr:a").unwrap().is_some());
        assert!(!left(&kv).contains(&"xs:101:1".to_owned()));
        sweep_all(&kv, start + 25 * HOUR + CLOSE_GRACE_SECS);
        assert_eq!(kv.get("gr:a").unwrap(), None);
    }

    #[test]
    fn a_sweep_runs_at_most_hourly_when_caught_up() {
        let kv = MemoryKv::new();
        assert!(run_if_due(&kv, 1_000).unwrap().is_some());
        assert_eq!(run_if_due(&kv, 1_000 + INTERVAL_SECS - 1).unwrap(), None);
        assert!(run_if_due(&kv, 1_000 + INTERVAL_SECS).unwrap().is_some());
    }

    #[test]
    fn a_backlog_is_swept_in_budgeted_rounds_that_resume_soon() {
        let kv = MemoryKv::new();
        let start = 100 * HOUR;
        run_if_due(&kv, start).unwrap();
        for i in 0..1_000 {
            put(&kv, &format!("co:{i:04}"), start + 60 + i);
        }
        let now = start + 2 * HOUR;
        let first = run_if_due(&kv, now).unwrap().unwrap();
        assert!(!first.complete);
        assert!(first.calls <= MAX_CALLS, "{} calls", first.calls);
        assert_eq!(run_if_due(&kv, now + CATCH_UP_SECS - 1).unwrap(), None);
        let reports = sweep_all(&kv, now + CATCH_UP_SECS);
        assert_eq!(
            first.removed + reports.iter().map(|r| r.removed).sum::<usize>(),
            1_000
        );
        assert!(reports.iter().all(|r| r.calls <= MAX_CALLS));
        assert_eq!(left(&kv), ["cfg:sweep"]);
    }

    #[test]
    fn a_quiet_store_costs_one_call_per_empty_bucket() {
        let kv = MemoryKv::new();
        run_if_due(&kv, 100 * HOUR).unwrap();
        let before = kv.calls();
        let report = run_if_due(&kv, 110 * HOUR).unwrap().unwrap();
        assert!(report.complete);
        // The schedule read, its two writes, and one `exists` for each of 10 buckets.
        assert_eq!(kv.calls() - before, 3 + 10);
        assert_eq!(left(&kv), ["cfg:sweep"]);
    }

    #[test]
    fn a_schedule_from_before_the_index_still_reads() {
        let kv = MemoryKv::new();
        kv.set("cfg:sweep", br#"{"exp":1}"#).unwrap();
        let report = run_if_due(&kv, 100 * HOUR).unwrap().unwrap();
        assert!(report.complete);
    }

    /// A store whose batched deletes fail, as a store outage mid-sweep would.
    struct DeletesFail(MemoryKv);

    impl Kv for DeletesFail {
        fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
            self.0.get(key)
        }
        fn set(&self, key: &str, value: &[u8]) -> Result<(), Error> {
            self.0.set(key, value)
        }
        fn delete(&self, key: &str) -> Result<(), Error> {
            self.0.delete(key)
        }
        fn exists(&self, key: &str) -> Result<bool, Error> {
            self.0.exists(key)
        }
        fn increment(&self, key: &str, delta: i64) -> Result<i64, Error> {
            self.0.increment(key, delta)
        }
        fn delete_many(&self, _keys: &[String]) -> Result<(), Error> {
            Err(Error::Backend("connection reset".into()))
        }
    }

    #[test]
    fn a_failing_sweep_backs_off_for_an_hour_and_then_resumes_where_it_was() {
        let kv = DeletesFail(MemoryKv::new());
        let start = 100 * HOUR;
        run_if_due(&kv, start).unwrap();
        put(&kv.0, "co:gone", start + 60);
        let now = start + 2 * HOUR;
        assert!(run_if_due(&kv, now).is_err());
        // The claim holds: the requests of the next hour pay one read each, not a sweep.
        let before = kv.0.calls();
        assert_eq!(run_if_due(&kv, now + CATCH_UP_SECS).unwrap(), None);
        assert_eq!(run_if_due(&kv, now + INTERVAL_SECS - 1).unwrap(), None);
        assert_eq!(kv.0.calls() - before, 2);
        // Then it retries from the same place, and with the store back it finishes.
        assert!(run_if_due(&kv, now + INTERVAL_SECS).is_err());
        let report = run_if_due(&kv.0, now + 2 * INTERVAL_SECS).unwrap().unwrap();
        assert_eq!(report.removed, 1);
        assert_eq!(left(&kv.0), ["cfg:sweep"]);
    }
}
