//! Records in the key-value store all components share.
//!
//! Spin's store has no TTL, so every record carries its own expiry ([`Expiring`]) and
//! reads treat an expired record as absent; the [`expiry`] index lets the [`sweep`]
//! find expired records without listing keys. Keys are built only in [`keys`]; the
//! layout is documented in `docs/kv-schema.md`.

pub mod deadline;
pub mod error;
pub mod expiry;
pub mod keys;
pub mod kv;
pub mod record;
pub mod server_key;
pub mod sweep;
pub mod upstream;
pub mod user_grants;

pub use error::Error;
pub use kv::{Kv, MemoryKv};
pub use record::Expiring;
