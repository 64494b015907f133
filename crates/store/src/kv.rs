//! The one storage abstraction: a component adapts Spin's store to it, tests use
//! [`MemoryKv`].

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::Error;

/// A key-value store. Each call is one round trip to the backend, so callers keep their
/// count low on hot paths.
pub trait Kv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error>;
    fn set(&self, key: &str, value: &[u8]) -> Result<(), Error>;
    fn delete(&self, key: &str) -> Result<(), Error>;
    /// Every key in the store: a full listing, for cold paths only (the sweep).
    fn keys(&self) -> Result<Vec<String>, Error>;
}

/// An in-memory store, for crate tests.
#[derive(Debug, Default)]
pub struct MemoryKv {
    entries: RefCell<BTreeMap<String, Vec<u8>>>,
}

impl MemoryKv {
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of every entry, for asserting that a rejected request changed nothing.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        self.entries.borrow().clone()
    }
}

impl Kv for MemoryKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.entries.borrow().get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), Error> {
        self.entries
            .borrow_mut()
            .insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), Error> {
        self.entries.borrow_mut().remove(key);
        Ok(())
    }

    fn keys(&self) -> Result<Vec<String>, Error> {
        Ok(self.entries.borrow().keys().cloned().collect())
    }
}
