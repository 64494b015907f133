//! `wasi:keyvalue@0.2.0-draft2` (`store`, `atomics`, `batch`) over the same stores as
//! `fermyon:spin/key-value`, as Spin provides both: a bucket opened by label is the store
//! of that label, with the component's `key_value_stores` checked first. Compare-and-swap
//! is not provided (the project does not use it): `cas.new` answers an error.

use wasmtime::component::Resource;

use crate::spin_host::wasi::keyvalue::{atomics, batch, store};
use crate::state::RequestState;

/// An opened bucket: its store's label.
pub struct OpenBucket {
    label: String,
}

/// Never created: see the module comment.
pub enum NoCas {}

fn other(e: impl std::fmt::Display) -> store::Error {
    store::Error::Other(e.to_string())
}

/// As `spin_host::refused`: a store outage seen through Spin's Redis backend.
fn refused() -> store::Error {
    store::Error::Other(
        "NOPERM this user has no permissions to run this command (refused by the test host)".into(),
    )
}

impl RequestState {
    /// The label behind `bucket`, unless the store is refusing commands.
    fn bucket_label(&self, bucket: &Resource<OpenBucket>) -> Result<String, store::Error> {
        if self.kv.refusing() {
            return Err(refused());
        }
        Ok(self.table.get(bucket).map_err(other)?.label.clone())
    }
}

impl store::Host for RequestState {
    async fn open(&mut self, identifier: String) -> Result<Resource<OpenBucket>, store::Error> {
        if !self.component.key_value_stores.contains(&identifier) {
            return Err(store::Error::AccessDenied);
        }
        if !self.kv.is_defined(&identifier) {
            return Err(store::Error::NoSuchStore);
        }
        self.table
            .push(OpenBucket { label: identifier })
            .map_err(|_| store::Error::Other("store table full".into()))
    }
}

impl store::HostBucket for RequestState {
    async fn get(
        &mut self,
        bucket: Resource<OpenBucket>,
        key: String,
    ) -> Result<Option<Vec<u8>>, store::Error> {
        crate::spin_host::kv_yield(&self.kv).await;
        let label = self.bucket_label(&bucket)?;
        self.kv.get(&label, &key).map_err(other)
    }

    async fn set(
        &mut self,
        bucket: Resource<OpenBucket>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), store::Error> {
        crate::spin_host::kv_yield(&self.kv).await;
        let label = self.bucket_label(&bucket)?;
        self.kv.set(&label, &key, &value).map_err(other)
    }

    async fn delete(
        &mut self,
        bucket: Resource<OpenBucket>,
        key: String,
    ) -> Result<(), store::Error> {
        crate::spin_host::kv_yield(&self.kv).await;
        let label = self.bucket_label(&bucket)?;
        self.kv.delete(&label, &key).map_err(other)
    }

    async fn exists(
        &mut self,
        bucket: Resource<OpenBucket>,
        key: String,
    ) -> Result<bool, store::Error> {
        crate::spin_host::kv_yield(&self.kv).await;
        let label = self.bucket_label(&bucket)?;
        self.kv.exists(&label, &key).map_err(other)
    }

    /// As Spin 4.0.2: every key at once, and any cursor refused.
    async fn list_keys(
        &mut self,
        bucket: Resource<OpenBucket>,
        cursor: Option<String>,
    ) -> Result<store::KeyResponse, store::Error> {
        crate::spin_host::kv_yield(&self.kv).await;
        if cursor.is_some() {
            return Err(store::Error::Other(
                "list_keys: cursor not supported".into(),
            ));
        }
        let label = self.bucket_label(&bucket)?;
        let keys = self.kv.get_keys(&label).map_err(other)?;
        Ok(store::KeyResponse { keys, cursor: None })
    }

    async fn drop(&mut self, bucket: Resource<OpenBucket>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

impl atomics::Host for RequestState {
    async fn increment(
        &mut self,
        bucket: Resource<OpenBucket>,
        key: String,
        delta: i64,
    ) -> Result<i64, store::Error> {
        crate::spin_host::kv_yield(&self.kv).await;
        let label = self.bucket_label(&bucket)?;
        self.kv.increment(&label, &key, delta).map_err(other)
    }

    async fn swap(
        &mut self,
        cas: Resource<NoCas>,
        _value: Vec<u8>,
    ) -> Result<(), atomics::CasError> {
        match *self
            .table
            .get(&cas)
            .map_err(|e| atomics::CasError::StoreError(other(e)))? {}
    }
}

impl atomics::HostCas for RequestState {
    async fn new(
        &mut self,
        _bucket: Resource<OpenBucket>,
        _key: String,
    ) -> Result<Resource<NoCas>, store::Error> {
        Err(store::Error::Other(
            "compare-and-swap is not provided by the test host".into(),
        ))
    }

    async fn current(&mut self, cas: Resource<NoCas>) -> Result<Option<Vec<u8>>, store::Error> {
        match *self.table.get(&cas).map_err(other)? {}
    }

    async fn drop(&mut self, cas: Resource<NoCas>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

impl batch::Host for RequestState {
    async fn get_many(
        &mut self,
        bucket: Resource<OpenBucket>,
        keys: Vec<String>,
    ) -> Result<Vec<(String, Option<Vec<u8>>)>, store::Error> {
        crate::spin_host::kv_yield(&self.kv).await;
        let label = self.bucket_label(&bucket)?;
        self.kv.get_many(&label, &keys).map_err(other)
    }

    async fn set_many(
        &mut self,
        bucket: Resource<OpenBucket>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> Result<(), store::Error> {
        crate::spin_host::kv_yield(&self.kv).await;
        let label = self.bucket_label(&bucket)?;
        self.kv.set_many(&label, &key_values).map_err(other)
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<OpenBucket>,
        keys: Vec<String>,
    ) -> Result<(), store::Error> {
        crate::spin_host::kv_yield(&self.kv).await;
        let label = self.bucket_label(&bucket)?;
        self.kv.delete_many(&label, &keys).map_err(other)
    }
}
