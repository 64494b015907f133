//! The Spin host interfaces (`fermyon:spin/key-value`, `fermyon:spin/variables`) over
//! this host's store and variables, from the WIT that ships in spin-sdk (`tests/wit/`);
//! `wasi:keyvalue` is implemented in `wasi_keyvalue.rs`.

use wasmtime::component::Resource;

use crate::state::RequestState;
use crate::variables::LookupError;

wasmtime::component::bindgen!({
    path: "wit",
    world: "host",
    with: {
        "fermyon:spin/key-value.store": OpenStore,
        "wasi:keyvalue/store.bucket": crate::wasi_keyvalue::OpenBucket,
        "wasi:keyvalue/atomics.cas": crate::wasi_keyvalue::NoCas,
    },
    // Spin's host calls are async: an instance waiting on the store yields, so the
    // task serving its connection can send a response the instance has already handed
    // over (a sweep runs after its answer). The store calls here block, so each first
    // yields (`kv_yield`), which gives that task its turn.
    imports: { default: async },
});

/// Lets the other tasks of this worker run before a store call blocks it, as waiting
/// on Spin's asynchronous store would, and waits out a stall the test set.
pub async fn kv_yield(kv: &crate::kv::KvBackend) {
    tokio::task::yield_now().await;
    let stall = kv.stall();
    if !stall.is_zero() {
        tokio::time::sleep(stall).await;
    }
}

use fermyon::spin::{key_value, variables};

/// An opened store: its label, checked against the component's `key_value_stores`.
pub struct OpenStore {
    label: String,
}

fn other(e: impl std::fmt::Display) -> key_value::Error {
    key_value::Error::Other(e.to_string())
}

/// What a component sees while the store refuses commands: Spin's Redis backend turns a
/// refused command (`NOPERM` from Redis's ACL) into `Error::Other` with Redis's text.
fn refused() -> key_value::Error {
    key_value::Error::Other(
        "NOPERM this user has no permissions to run this command (refused by the test host)".into(),
    )
}

impl key_value::Host for RequestState {}

impl key_value::HostStore for RequestState {
    async fn open(&mut self, label: String) -> Result<Resource<OpenStore>, key_value::Error> {
        // Spin checks the component's grant first, then whether the store exists.
        if !self.component.key_value_stores.contains(&label) {
            return Err(key_value::Error::AccessDenied);
        }
        if !self.kv.is_defined(&label) {
            return Err(key_value::Error::NoSuchStore);
        }
        self.table
            .push(OpenStore { label })
            .map_err(|_| key_value::Error::StoreTableFull)
    }

    async fn get(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> Result<Option<Vec<u8>>, key_value::Error> {
        crate::spin_host::kv_yield(&self.kv).await;
        if self.kv.refusing() {
            return Err(refused());
        }
        let label = &self.table.get(&store).map_err(other)?.label;
        self.kv.get(label, &key).map_err(other)
    }

    async fn set(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), key_value::Error> {
        crate::spin_host::kv_yield(&self.kv).await;
        if self.kv.refusing() {
            return Err(refused());
        }
        let label = &self.table.get(&store).map_err(other)?.label;
        self.kv.set(label, &key, &value).map_err(other)
    }

    async fn delete(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> Result<(), key_value::Error> {
        crate::spin_host::kv_yield(&self.kv).await;
        if self.kv.refusing() {
            return Err(refused());
        }
        let label = &self.table.get(&store).map_err(other)?.label;
        self.kv.delete(label, &key).map_err(other)
    }

    async fn exists(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> Result<bool, key_value::Error> {
        crate::spin_host::kv_yield(&self.kv).await;
        if self.kv.refusing() {
            return Err(refused());
        }
        let label = &self.table.get(&store).map_err(other)?.label;
        self.kv.exists(label, &key).map_err(other)
    }

    async fn get_keys(
        &mut self,
        store: Resource<OpenStore>,
    ) -> Result<Vec<String>, key_value::Error> {
        crate::spin_host::kv_yield(&self.kv).await;
        if self.kv.refusing() {
            return Err(refused());
        }
        let label = &self.table.get(&store).map_err(other)?.label;
        self.kv.get_keys(label).map_err(other)
    }

    async fn drop(&mut self, store: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}

impl variables::Host for RequestState {
    async fn get(&mut self, name: String) -> Result<String, variables::Error> {
        self.component.variables.get(&name).map_err(|e| match e {
            LookupError::InvalidName(m) => variables::Error::InvalidName(m),
            LookupError::Undefined(m) => variables::Error::Undefined(m),
        })
    }
}

/// Adds the Spin interfaces to a linker.
pub fn add_to_linker(
    linker: &mut wasmtime::component::Linker<RequestState>,
) -> wasmtime::Result<()> {
    Host_::add_to_linker::<_, wasmtime::component::HasSelf<RequestState>>(linker, |state| state)
}
