//! Spin's key-value store behind the `store::Kv` trait.

use spin_sdk::key_value::Store;

/// The one store the components share (`key_value_stores = ["default"]` in spin.toml).
pub struct SpinKv(Store);

impl SpinKv {
    pub fn open_default() -> Result<Self, store::Error> {
        Store::open_default()
            .map(Self)
            .map_err(|e| store::Error::Backend(format!("{e:?}")))
    }
}

impl store::Kv for SpinKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, store::Error> {
        self.0
            .get(key)
            .map_err(|e| store::Error::Backend(format!("{e:?}")))
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), store::Error> {
        self.0
            .set(key, value)
            .map_err(|e| store::Error::Backend(format!("{e:?}")))
    }

    fn delete(&self, key: &str) -> Result<(), store::Error> {
        self.0
            .delete(key)
            .map_err(|e| store::Error::Backend(format!("{e:?}")))
    }

    fn keys(&self) -> Result<Vec<String>, store::Error> {
        self.0
            .get_keys()
            .map_err(|e| store::Error::Backend(format!("{e:?}")))
    }
}
