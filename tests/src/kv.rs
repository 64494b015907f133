//! The key-value store shared by every component, persisted in SQLite the way Spin's
//! default store is (one table, keyed by store label and key), so a host restart on the
//! same file loses nothing. Statements are prepared once per connection (`prepare_cached`),
//! as Spin's SQLite backend prepares them.
//!
//! It also counts operations per store, so tests can assert how many reads and writes a
//! request cost (the hot-path budget of the MCP endpoint).

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use rusqlite::{Connection, OptionalExtension, params};

/// The only store label this host provides, as `spin up` does without runtime config.
pub const DEFAULT_STORE: &str = "default";

pub struct KvBackend {
    conn: Mutex<Connection>,
    /// While set, every command from a component fails, as a Redis that refuses them.
    refusing: std::sync::atomic::AtomicBool,
    reads: AtomicU64,
    writes: AtomicU64,
}

/// Operation counts since the host started (or since [`KvBackend::reset_stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KvStats {
    /// `get`, `exists` and `get-keys` calls.
    pub reads: u64,
    /// `set` and `delete` calls.
    pub writes: u64,
}

impl KvBackend {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
        // WAL lets a second host process (e.g. a CLI host beside a test) read while one writes.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS spin_key_value (
                store TEXT NOT NULL,
                key   TEXT NOT NULL,
                value BLOB NOT NULL,
                PRIMARY KEY (store, key)
            )",
        )?;
        Ok(Self {
            conn: Mutex::new(conn),
            refusing: std::sync::atomic::AtomicBool::new(false),
            reads: AtomicU64::new(0),
            writes: AtomicU64::new(0),
        })
    }

    /// Makes every command a component sends fail (or succeed again): a store outage, as
    /// when Redis's ACL refuses commands. The host's own test helpers keep working.
    pub fn set_refusing(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    pub fn refusing(&self) -> bool {
        self.refusing.load(Ordering::SeqCst)
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable; keep serving.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, store: &str, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.conn()
            .prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
            .query_row(params![store, key], |row| row.get(0))
            .optional()
    }

    pub fn set(&self, store: &str, key: &str, value: &[u8]) -> rusqlite::Result<()> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.conn()
            .prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![store, key, value])
            .map(drop)
    }

    pub fn delete(&self, store: &str, key: &str) -> rusqlite::Result<()> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.conn()
            .prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
            .execute(params![store, key])
            .map(drop)
    }

    pub fn exists(&self, store: &str, key: &str) -> rusqlite::Result<bool> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.conn()
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2)",
            )?
            .query_row(params![store, key], |row| row.get(0))
    }

    pub fn get_keys(&self, store: &str) -> rusqlite::Result<Vec<String>> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?;
        stmt.query_map(params![store], |row| row.get(0))?.collect()
    }

    /// Every entry of a store, without counting as reads: for tests that assert a
    /// rejected request changed nothing, or that a secret is not stored in the clear.
    pub fn snapshot(
        &self,
        store: &str,
    ) -> rusqlite::Result<std::collections::BTreeMap<String, Vec<u8>>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT key, value FROM spin_key_value WHERE store = ?1")?;
        let rows = stmt.query_map(params![store], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect()
    }

    pub fn stats(&self) -> KvStats {
        KvStats {
            reads: self.reads.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
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
        {
            let kv = KvBackend::open(&path).unwrap();
            kv.set("default", "k", b"v1").unwrap();
            kv.set("default", "k", b"v2").unwrap();
            kv.set("other", "k", b"x").unwrap();
            kv.set("default", "gone", b"x").unwrap();
            kv.delete("default", "gone").unwrap();
            assert_eq!(
                kv.stats(),
                KvStats {
                    reads: 0,
                    writes: 5
                }
            );
        }
        let kv = KvBackend::open(&path).unwrap();
        assert_eq!(kv.get("default", "k").unwrap().as_deref(), Some(&b"v2"[..]));
        assert_eq!(kv.get("default", "gone").unwrap(), None);
        assert!(kv.exists("other", "k").unwrap());
        assert_eq!(kv.get_keys("default").unwrap(), vec!["k".to_owned()]);
        assert_eq!(
            kv.stats(),
            KvStats {
                reads: 4,
                writes: 0
            }
        );
    }
}
