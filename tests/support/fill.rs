//! Filling the store the way the components fill it, for tests that need more records
//! than requests could write in reasonable time.

use store::{expiry, keys};
use test_host::Host;
use test_host::kv::DEFAULT_STORE;

/// Writes `slots` (each a group of records written together, as consent writes a grant
/// and its code) that expire at `expires_at`, indexed as `store::record::create` indexes
/// them: one counter increment for all of them, then batches of writes.
pub fn plant(host: &Host, slots: &[Vec<(String, Vec<u8>)>], expires_at: u64) {
    let kv = host.kv();
    let bucket = expiry::bucket_of(expires_at);
    let last = kv
        .increment(
            DEFAULT_STORE,
            &keys::expiry_count(bucket),
            slots.len() as i64,
        )
        .unwrap();
    let first = last - slots.len() as i64 + 1;
    let mut batch: Vec<(String, Vec<u8>)> = Vec::new();
    for (n, records) in slots.iter().enumerate() {
        let names: Vec<&str> = records.iter().map(|(k, _)| k.as_str()).collect();
        batch.push((
            keys::expiry_slot(bucket, first + n as i64),
            names.join("\n").into_bytes(),
        ));
        batch.extend(records.iter().cloned());
        if batch.len() >= 2_000 {
            kv.set_many(DEFAULT_STORE, &std::mem::take(&mut batch))
                .unwrap();
        }
    }
    if !batch.is_empty() {
        kv.set_many(DEFAULT_STORE, &batch).unwrap();
    }
}

/// A record body as the components write it: its expiry beside its fields.
pub fn body(expires_at: u64) -> Vec<u8> {
    format!(r#"{{"exp":{expires_at},"planted":true}}"#).into_bytes()
}

/// Makes the next cold request sweep, keeping where the sweep resumes.
pub fn make_sweep_due(host: &Host) {
    let kv = host.kv();
    let mut schedule: serde_json::Value = kv
        .get(DEFAULT_STORE, keys::SWEEP)
        .unwrap()
        .map(|bytes| serde_json::from_slice(&bytes).unwrap())
        .unwrap_or_else(|| serde_json::json!({}));
    schedule["exp"] = 0.into();
    kv.set(
        DEFAULT_STORE,
        keys::SWEEP,
        &serde_json::to_vec(&schedule).unwrap(),
    )
    .unwrap();
}
