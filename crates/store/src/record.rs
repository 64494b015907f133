//! Records with their own expiry.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{Error, Kv, expiry};

/// A stored value and the Unix time (seconds) after which it no longer exists.
///
/// The expiry sits beside the value's own fields (`{"exp":…, …}`), so one JSON object per
/// key stays readable in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiring<T> {
    #[serde(rename = "exp")]
    pub expires_at: u64,
    #[serde(flatten)]
    pub value: T,
}

impl<T> Expiring<T> {
    pub fn is_live(&self, now: u64) -> bool {
        now < self.expires_at
    }
}

/// Reads a record, treating an expired one as absent.
pub fn read<T: DeserializeOwned>(
    kv: &impl Kv,
    key: &str,
    now: u64,
) -> Result<Option<Expiring<T>>, Error> {
    let Some(bytes) = kv.get(key)? else {
        return Ok(None);
    };
    let record: Expiring<T> = serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
        key: key.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(record.is_live(now).then_some(record))
}

/// Writes a record in place, its expiry unchanged or in the same expiry bucket (see
/// [`renew`] otherwise, and [`create`] for a new one).
pub fn write<T: Serialize>(kv: &impl Kv, key: &str, record: &Expiring<T>) -> Result<(), Error> {
    let bytes = serde_json::to_vec(record).map_err(|e| Error::Corrupt {
        key: key.to_owned(),
        reason: e.to_string(),
    })?;
    kv.set(key, &bytes)
}

/// Writes a new record and indexes it for the sweep (the index first).
pub fn create<T: Serialize>(kv: &impl Kv, key: &str, record: &Expiring<T>) -> Result<(), Error> {
    index(kv, &[key], record.expires_at);
    write(kv, key, record)
}

/// Writes a record whose expiry moved from `previous_expiry`, indexing it again only
/// if it moved to another bucket (so renewals within an hour cost no extra writes).
pub fn renew<T: Serialize>(
    kv: &impl Kv,
    key: &str,
    previous_expiry: u64,
    record: &Expiring<T>,
) -> Result<(), Error> {
    if expiry::moves(previous_expiry, record.expires_at) {
        index(kv, &[key], record.expires_at);
    }
    write(kv, key, record)
}

/// Indexes records written together that expire together, in one slot.
///
/// A failure is logged, not returned: the record is still written and read as usual,
/// and only its reclaiming is lost (to `scripts/reclaim`). So a host whose store lacks
/// atomics keeps working; in an outage, the record's own write fails right after.
pub fn index(kv: &impl Kv, keys: &[&str], expires_at: u64) {
    if let Err(e) = expiry::track(kv, keys, expires_at) {
        eprintln!(
            "expiry index: {e}; the sweep will not find {}",
            keys.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryKv;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    struct Note {
        text: String,
    }

    #[test]
    fn expired_records_read_as_absent() {
        let kv = MemoryKv::new();
        let record = Expiring {
            expires_at: 100,
            value: Note { text: "hi".into() },
        };
        write(&kv, "n:1", &record).unwrap();
        assert_eq!(read::<Note>(&kv, "n:1", 99).unwrap(), Some(record));
        assert_eq!(read::<Note>(&kv, "n:1", 100).unwrap(), None);
        assert_eq!(read::<Note>(&kv, "n:2", 0).unwrap(), None);
    }

    #[test]
    fn expiry_is_stored_beside_the_fields() {
        let kv = MemoryKv::new();
        write(
            &kv,
            "n:1",
            &Expiring {
                expires_at: 7,
                value: Note { text: "x".into() },
            },
        )
        .unwrap();
        assert_eq!(kv.snapshot()["n:1"], br#"{"exp":7,"text":"x"}"#);
    }

    #[test]
    fn new_records_are_indexed_and_renewals_only_when_their_bucket_moves() {
        let kv = MemoryKv::new();
        let mut record = Expiring {
            expires_at: 3_601,
            value: Note { text: "x".into() },
        };
        create(&kv, "n:1", &record).unwrap();
        record.expires_at = 7_200;
        renew(&kv, "n:1", 3_601, &record).unwrap();
        record.expires_at = 7_201;
        renew(&kv, "n:1", 7_200, &record).unwrap();
        let stored = kv.snapshot();
        let slots: Vec<(&str, &[u8])> = stored
            .iter()
            .filter(|(k, _)| k.starts_with("xs:"))
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        assert_eq!(slots, [("xs:2:1", &b"n:1"[..]), ("xs:3:1", b"n:1")]);
    }

    #[test]
    fn unreadable_records_are_reported_not_guessed() {
        let kv = MemoryKv::new();
        kv.set("n:1", b"not json").unwrap();
        assert!(matches!(
            read::<Note>(&kv, "n:1", 0),
            Err(Error::Corrupt { .. })
        ));
    }
}
