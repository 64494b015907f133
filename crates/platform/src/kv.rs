//! Spin's key-value store behind the `store::Kv` trait: `fermyon:spin/key-value` for
//! reads and writes, and the same store through `wasi:keyvalue` for the counter and
//! batch calls that interface alone has (opened only when a request first needs one).

use std::cell::OnceCell;
use std::time::Instant;

use spin_sdk::key_value::Store;
use spin_sdk::wit::wasi::keyvalue::{atomics, batch, store as wasi_store};
use store::deadline::{CLIENT_PATIENCE, Deadline};

/// The one store the components share (`key_value_stores = ["default"]` in spin.toml).
pub struct SpinKv {
    store: Store,
    bucket: OnceCell<wasi_store::Bucket>,
    /// Set for a request a client is waiting on (see `store::deadline`).
    deadline: Option<(Instant, Deadline)>,
}

const LABEL: &str = "default";

fn backend(e: impl std::fmt::Debug) -> store::Error {
    store::Error::Backend(format!("{e:?}"))
}

impl SpinKv {
    /// The store, for work no client waits on (a sweep after the answer, or a tool that
    /// waits minutes for the client's answer).
    pub fn open_default() -> Result<Self, store::Error> {
        Ok(Self {
            store: Store::open(LABEL).map_err(backend)?,
            bucket: OnceCell::new(),
            deadline: None,
        })
    }

    /// The store, for a request that spends or issues credentials: once it has waited
    /// `CLIENT_PATIENCE` from here without writing, every further call fails with
    /// `store::Error::Late` and nothing is written, so the client's retry still works.
    pub fn open_for_client() -> Result<Self, store::Error> {
        let opened = Instant::now();
        let mut kv = Self::open_default()?;
        kv.deadline = Some((opened, Deadline::new(CLIENT_PATIENCE)));
        Ok(kv)
    }

    fn admit(&self) -> Result<(), store::Error> {
        match &self.deadline {
            Some((opened, deadline)) => deadline.admit(opened.elapsed()),
            None => Ok(()),
        }
    }

    /// Admits a write and marks the request as having written.
    fn admit_write(&self) -> Result<(), store::Error> {
        self.admit()?;
        if let Some((_, deadline)) = &self.deadline {
            deadline.wrote();
        }
        Ok(())
    }

    fn bucket(&self) -> Result<&wasi_store::Bucket, store::Error> {
        if let Some(bucket) = self.bucket.get() {
            return Ok(bucket);
        }
        let bucket = wasi_store::open(LABEL).map_err(backend)?;
        Ok(self.bucket.get_or_init(|| bucket))
    }
}

impl store::Kv for SpinKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, store::Error> {
        self.admit()?;
        self.store.get(key).map_err(backend)
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), store::Error> {
        self.admit_write()?;
        self.store.set(key, value).map_err(backend)
    }

    fn delete(&self, key: &str) -> Result<(), store::Error> {
        self.admit_write()?;
        self.store.delete(key).map_err(backend)
    }

    fn exists(&self, key: &str) -> Result<bool, store::Error> {
        self.admit()?;
        self.store.exists(key).map_err(backend)
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, store::Error> {
        self.admit_write()?;
        atomics::increment(self.bucket()?, key, delta).map_err(backend)
    }

    fn delete_many(&self, keys: &[String]) -> Result<(), store::Error> {
        self.admit_write()?;
        batch::delete_many(self.bucket()?, keys).map_err(backend)
    }
}
