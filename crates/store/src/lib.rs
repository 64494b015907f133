//! Records in the key-value store all components share.
//!
//! Spin's store has no TTL and no compare-and-swap, so every record carries its own
//! expiry ([`Expiring`]) and reads treat an expired record as absent. Keys are built only
//! in [`keys`]; the layout is documented in `docs/kv-schema.md`.

pub mod error;
pub mod keys;
pub mod kv;
pub mod record;
pub mod server_key;
pub mod sweep;
pub mod upstream;

pub use error::Error;
pub use kv::{Kv, MemoryKv};
pub use record::Expiring;
