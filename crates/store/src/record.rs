//! Records with their own expiry.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{Error, Kv};

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

pub fn write<T: Serialize>(kv: &impl Kv, key: &str, record: &Expiring<T>) -> Result<(), Error> {
    let bytes = serde_json::to_vec(record).map_err(|e| Error::Corrupt {
        key: key.to_owned(),
        reason: e.to_string(),
    })?;
    kv.set(key, &bytes)
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
    fn unreadable_records_are_reported_not_guessed() {
        let kv = MemoryKv::new();
        kv.set("n:1", b"not json").unwrap();
        assert!(matches!(
            read::<Note>(&kv, "n:1", 0),
            Err(Error::Corrupt { .. })
        ));
    }
}
