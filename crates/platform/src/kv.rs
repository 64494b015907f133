//! Spin's key-value store behind the `store::Kv` trait: `fermyon:spin/key-value` for
//! reads and writes, and the same store through `wasi:keyvalue` for the counter and
//! batch calls that interface alone has (opened only when a request first needs one).

use std::cell::OnceCell;

use spin_sdk::key_value::Store;
use spin_sdk::wit::wasi::keyvalue::{atomics, batch, store as wasi_store};

/// The one store the components share (`key_value_stores = ["default"]` in spin.toml).
pub struct SpinKv {
    store: Store,
    bucket: OnceCell<wasi_store::Bucket>,
}

const LABEL: &str = "default";

fn backend(e: impl std::fmt::Debug) -> store::Error {
    store::Error::Backend(format!("{e:?}"))
}

impl SpinKv {
    pub fn open_default() -> Result<Self, store::Error> {
        Ok(Self {
            store: Store::open(LABEL).map_err(backend)?,
            bucket: OnceCell::new(),
        })
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
        self.store.get(key).map_err(backend)
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), store::Error> {
        self.store.set(key, value).map_err(backend)
    }

    fn delete(&self, key: &str) -> Result<(), store::Error> {
        self.store.delete(key).map_err(backend)
    }

    fn exists(&self, key: &str) -> Result<bool, store::Error> {
        self.store.exists(key).map_err(backend)
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, store::Error> {
        atomics::increment(self.bucket()?, key, delta).map_err(backend)
    }

    fn delete_many(&self, keys: &[String]) -> Result<(), store::Error> {
        batch::delete_many(self.bucket()?, keys).map_err(backend)
    }
}
