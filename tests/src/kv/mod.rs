//! The key-value stores the components open by label: `default` in SQLite as `spin up`
//! keeps it, unless a runtime config (`runtime_config.rs`) defines it and other labels,
//! in SQLite or Redis. Every store counts the operations components send, so tests can
//! assert how many reads and writes a request cost (the hot-path budget of `/mcp`), and
//! can be made to refuse them (a store outage) or to answer them late (a store that
//! stalls, as Spin's Redis client does while it reconnects).

mod redis;
mod sqlite;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use crate::runtime_config::StoreConfig;
use redis::RedisStore;
use sqlite::SqliteStore;

/// The store every Spin app has, as `spin up` provides it without runtime config.
pub const DEFAULT_STORE: &str = "default";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvStats {
    /// `get`, `exists`, `get-keys`/`list-keys` and `get-many` calls.
    pub reads: u64,
    /// `set`, `delete`, `increment`, `set-many` and `delete-many` calls.
    pub writes: u64,
    /// Key listings (`get-keys`, `list-keys`) since the host started, never reset: the
    /// one operation whose cost grows with the store, counted apart so that tests can
    /// assert no request path lists.
    pub listings: u64,
}

enum Backend {
    Sqlite(SqliteStore),
    Redis(RedisStore),
}

pub struct KvBackend {
    stores: BTreeMap<String, Backend>,
    /// While set, every command from a component fails, as a Redis that refuses them.
    refusing: AtomicBool,
    /// When not negative: how many more commands succeed before the store refuses them
    /// all (a failure in the middle of a request).
    refuse_after: AtomicI64,
    /// How long each command from a component waits before it runs, in milliseconds.
    stall_ms: AtomicU64,
    reads: AtomicU64,
    writes: AtomicU64,
    listings: AtomicU64,
}

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl KvBackend {
    /// `default` in SQLite at `default_path` unless `configured` names it; every label
    /// `configured` names, as it says.
    pub fn open(
        default_path: &Path,
        configured: &BTreeMap<String, StoreConfig>,
    ) -> anyhow::Result<Self> {
        let mut stores = BTreeMap::new();
        if !configured.contains_key(DEFAULT_STORE) {
            stores.insert(
                DEFAULT_STORE.to_owned(),
                Backend::Sqlite(SqliteStore::open(default_path)?),
            );
        }
        for (label, config) in configured {
            let backend = match config {
                StoreConfig::Spin { path } => {
                    Backend::Sqlite(SqliteStore::open(path.as_deref().unwrap_or(default_path))?)
                }
                StoreConfig::Redis { url } => Backend::Redis(RedisStore::open(url)?),
            };
            stores.insert(label.clone(), backend);
        }
        Ok(Self {
            stores,
            refusing: AtomicBool::new(false),
            refuse_after: AtomicI64::new(-1),
            stall_ms: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            listings: AtomicU64::new(0),
        })
    }

    pub fn is_defined(&self, label: &str) -> bool {
        self.stores.contains_key(label)
    }

    fn store(&self, label: &str) -> Result<&Backend, String> {
        self.stores
            .get(label)
            .ok_or_else(|| format!("no key-value store {label:?}"))
    }

    /// Makes every command a component sends fail (or succeed again): a store outage, as
    /// when Redis's ACL refuses commands. The host's own test helpers keep working.
    pub fn set_refusing(&self, refusing: bool) {
        self.refuse_after.store(-1, Ordering::SeqCst);
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    /// Lets the next `commands` commands from components succeed, then refuses every
    /// one until `set_refusing(false)`: a store that fails in the middle of a request.
    pub fn set_refusing_after(&self, commands: u32) {
        self.refusing.store(false, Ordering::SeqCst);
        self.refuse_after
            .store(i64::from(commands), Ordering::SeqCst);
    }

    /// Whether to refuse the command a component is sending now (each command asks once).
    pub fn refusing(&self) -> bool {
        if self.refusing.load(Ordering::SeqCst) {
            return true;
        }
        match self.refuse_after.load(Ordering::SeqCst) {
            left if left < 0 => false,
            0 => {
                self.refusing.store(true, Ordering::SeqCst);
                true
            }
            _ => {
                self.refuse_after.fetch_sub(1, Ordering::SeqCst);
                false
            }
        }
    }

    /// Makes every command a component sends wait `stall` before it runs (and then
    /// succeed): a store that stalls, as Spin's Redis client blocks every call while it
    /// reconnects. Zero ends the stall; calls already waiting finish their wait.
    pub fn set_stall(&self, stall: Duration) {
        let ms = u64::try_from(stall.as_millis()).unwrap_or(u64::MAX);
        self.stall_ms.store(ms, Ordering::SeqCst);
    }

    pub fn stall(&self) -> Duration {
        Duration::from_millis(self.stall_ms.load(Ordering::SeqCst))
    }

    pub fn get(&self, label: &str, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        match self.store(label)? {
            Backend::Sqlite(db) => db.get(label, key).map_err(text),
            Backend::Redis(redis) => redis.get(key),
        }
    }

    pub fn set(&self, label: &str, key: &str, value: &[u8]) -> Result<(), String> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        match self.store(label)? {
            Backend::Sqlite(db) => db.set(label, key, value).map_err(text),
            Backend::Redis(redis) => redis.set(key, value),
        }
    }

    pub fn delete(&self, label: &str, key: &str) -> Result<(), String> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        match self.store(label)? {
            Backend::Sqlite(db) => db.delete(label, key).map_err(text),
            Backend::Redis(redis) => redis.delete(key),
        }
    }

    pub fn exists(&self, label: &str, key: &str) -> Result<bool, String> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        match self.store(label)? {
            Backend::Sqlite(db) => db.exists(label, key).map_err(text),
            Backend::Redis(redis) => redis.exists(key),
        }
    }

    pub fn get_keys(&self, label: &str) -> Result<Vec<String>, String> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.listings.fetch_add(1, Ordering::Relaxed);
        match self.store(label)? {
            Backend::Sqlite(db) => db.get_keys(label).map_err(text),
            Backend::Redis(redis) => redis.get_keys(),
        }
    }

    /// `wasi:keyvalue/atomics.increment`: adds `delta` to the counter at `key` (absent
    /// counts as 0) in one atomic step, and returns the new value.
    pub fn increment(&self, label: &str, key: &str, delta: i64) -> Result<i64, String> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        match self.store(label)? {
            Backend::Sqlite(db) => db.increment(label, key, delta).map_err(text),
            Backend::Redis(redis) => redis.increment(key, delta),
        }
    }

    /// `wasi:keyvalue/batch.get-many`, as each Spin backend implements it.
    pub fn get_many(
        &self,
        label: &str,
        keys: &[String],
    ) -> Result<Vec<(String, Option<Vec<u8>>)>, String> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        match self.store(label)? {
            Backend::Sqlite(db) => db.get_many(label, keys).map_err(text),
            Backend::Redis(redis) => redis.get_many(keys),
        }
    }

    pub fn set_many(&self, label: &str, entries: &[(String, Vec<u8>)]) -> Result<(), String> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        match self.store(label)? {
            Backend::Sqlite(db) => db.set_many(label, entries).map_err(text),
            Backend::Redis(redis) => redis.set_many(entries),
        }
    }

    pub fn delete_many(&self, label: &str, keys: &[String]) -> Result<(), String> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        match self.store(label)? {
            Backend::Sqlite(db) => db.delete_many(label, keys).map_err(text),
            Backend::Redis(redis) => redis.delete_many(keys),
        }
    }

    /// Every entry of a store, without counting as reads: for tests that assert a
    /// rejected request changed nothing, or that a secret is not stored in the clear.
    pub fn snapshot(&self, label: &str) -> Result<BTreeMap<String, Vec<u8>>, String> {
        match self.store(label)? {
            Backend::Sqlite(db) => db.snapshot(label).map_err(text),
            Backend::Redis(redis) => redis.snapshot(),
        }
    }

    pub fn stats(&self) -> KvStats {
        KvStats {
            reads: self.reads.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            listings: self.listings.load(Ordering::Relaxed),
        }
    }

    pub fn reset_stats(&self) {
        self.reads.store(0, Ordering::Relaxed);
        self.writes.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_survive_reopening_and_stores_are_separate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.db");
        let other = BTreeMap::from([("other".to_owned(), StoreConfig::Spin { path: None })]);
        {
            let kv = KvBackend::open(&path, &other).unwrap();
            kv.set("default", "k", b"v1").unwrap();
            kv.set("default", "k", b"v2").unwrap();
            kv.set("other", "k", b"x").unwrap();
            kv.set("default", "gone", b"x").unwrap();
            kv.delete("default", "gone").unwrap();
            assert_eq!(
                kv.stats(),
                KvStats {
                    reads: 0,
                    writes: 5,
                    listings: 0,
                }
            );
        }
        let kv = KvBackend::open(&path, &other).unwrap();
        assert_eq!(kv.get("default", "k").unwrap().as_deref(), Some(&b"v2"[..]));
        assert_eq!(kv.get("default", "gone").unwrap(), None);
        assert!(kv.exists("other", "k").unwrap());
        assert_eq!(kv.get_keys("default").unwrap(), vec!["k".to_owned()]);
        assert_eq!(
            kv.stats(),
            KvStats {
                reads: 4,
                writes: 0,
                listings: 1,
            }
        );
        assert!(!kv.is_defined("missing"));
        assert!(kv.get("missing", "k").is_err());
    }

    #[test]
    fn counters_and_batches_on_sqlite_as_spin_stores_them() {
        let dir = tempfile::tempdir().unwrap();
        let kv = KvBackend::open(&dir.path().join("kv.db"), &BTreeMap::new()).unwrap();
        assert_eq!(kv.increment("default", "n", 1).unwrap(), 1);
        assert_eq!(kv.increment("default", "n", 2).unwrap(), 3);
        // Spin's SQLite backend keeps a counter as 8 little-endian bytes.
        assert_eq!(kv.get("default", "n").unwrap().unwrap(), 3i64.to_le_bytes());
        let entries = vec![
            ("a".to_owned(), b"1".to_vec()),
            ("b".to_owned(), b"2".to_vec()),
        ];
        kv.set_many("default", &entries).unwrap();
        let keys = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
        assert_eq!(
            kv.get_many("default", &keys).unwrap(),
            vec![
                ("a".to_owned(), Some(b"1".to_vec())),
                ("b".to_owned(), Some(b"2".to_vec()))
            ]
        );
        kv.delete_many("default", &keys).unwrap();
        assert_eq!(kv.get("default", "a").unwrap(), None);
        assert_eq!(kv.get("default", "b").unwrap(), None);
        assert!(kv.get("default", "n").unwrap().is_some());
    }
}
