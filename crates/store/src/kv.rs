//! The one storage abstraction: a component adapts Spin's store to it, tests use
//! [`MemoryKv`].

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use crate::Error;

/// A key-value store. Each call is one round trip to the backend, so callers keep their
/// count low on hot paths. Nothing lists keys: a listing's cost grows with the store
/// (see `sweep` for how expired records are found instead).
pub trait Kv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error>;
    fn set(&self, key: &str, value: &[u8]) -> Result<(), Error>;
    fn delete(&self, key: &str) -> Result<(), Error>;
    fn exists(&self, key: &str) -> Result<bool, Error>;
    /// Adds `delta` to the counter at `key` (absent counts as 0) in one step that
    /// concurrent callers on any instance cannot interleave, and returns the new value
    /// (`wasi:keyvalue/atomics.increment`). Counters are read only through this.
    fn increment(&self, key: &str, delta: i64) -> Result<i64, Error>;
    /// Deletes `keys` (at least one) in one round trip (`wasi:keyvalue/batch`).
    fn delete_many(&self, keys: &[String]) -> Result<(), Error>;
}

/// An in-memory store, for crate tests. It counts the calls made to it.
#[derive(Debug, Default)]
pub struct MemoryKv {
    entries: RefCell<BTreeMap<String, Vec<u8>>>,
    calls: Cell<usize>,
}

impl MemoryKv {
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of every entry, for asserting that a rejected request changed nothing.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        self.entries.borrow().clone()
    }

    /// Calls made so far (each a round trip on a real store).
    pub fn calls(&self) -> usize {
        self.calls.get()
    }

    fn count(&self) {
        self.calls.set(self.calls.get() + 1);
    }
}

impl Kv for MemoryKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.count();
        Ok(self.entries.borrow().get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), Error> {
        self.count();
        self.entries
            .borrow_mut()
            .insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), Error> {
        self.count();
        self.entries.borrow_mut().remove(key);
        Ok(())
    }

    fn exists(&self, key: &str) -> Result<bool, Error> {
        self.count();
        Ok(self.entries.borrow().contains_key(key))
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, Error> {
        self.count();
        let mut entries = self.entries.borrow_mut();
        let current = match entries.get(key) {
            None => 0,
            Some(bytes) => std::str::from_utf8(bytes)
                .ok()
                .and_then(|text| text.parse::<i64>().ok())
                .ok_or_else(|| Error::Backend(format!("{key:?} is not a counter")))?,
        };
        let next = current + delta;
        entries.insert(key.to_owned(), next.to_string().into_bytes());
        Ok(next)
    }

    fn delete_many(&self, keys: &[String]) -> Result<(), Error> {
        self.count();
        if keys.is_empty() {
            // As Redis's `DEL` with no key: callers must not send an empty batch.
            return Err(Error::Backend("delete_many with no keys".into()));
        }
        let mut entries = self.entries.borrow_mut();
        for key in keys {
            entries.remove(key);
        }
        Ok(())
    }
}
