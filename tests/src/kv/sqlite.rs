//! Spin's SQLite key-value backend (the `default` store of `spin up`, and `type = "spin"`
//! in a runtime config): one table keyed by store label and key, so a host restart on the
//! same file loses nothing. Statements are prepared once per connection
//! (`prepare_cached`), as Spin's backend prepares them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;
use std::rc::Rc;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, named_params, params};

pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
        // WAL lets a second host process (e.g. a CLI host beside a test) read while one writes.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // `key IN rarray(…)`, as Spin's batch operations query.
        rusqlite::vtab::array::load_module(&conn)?;
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
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable; keep serving.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, store: &str, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
        self.conn()
            .prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
            .query_row(params![store, key], |row| row.get(0))
            .optional()
    }

    pub fn set(&self, store: &str, key: &str, value: &[u8]) -> rusqlite::Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![store, key, value])
            .map(drop)
    }

    pub fn delete(&self, store: &str, key: &str) -> rusqlite::Result<()> {
        self.conn()
            .prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
            .execute(params![store, key])
            .map(drop)
    }

    pub fn exists(&self, store: &str, key: &str) -> rusqlite::Result<bool> {
        self.conn()
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2)",
            )?
            .query_row(params![store, key], |row| row.get(0))
    }

    pub fn get_keys(&self, store: &str) -> rusqlite::Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?;
        stmt.query_map(params![store], |row| row.get(0))?.collect()
    }

    /// As Spin's: read, add and write back in one transaction; the counter is 8
    /// little-endian bytes (Spin panics on any other value; this host reports it).
    pub fn increment(&self, store: &str, key: &str, delta: i64) -> rusqlite::Result<i64> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let current: Option<Vec<u8>> = tx
            .prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
            .query_row(params![store, key], |row| row.get(0))
            .optional()?;
        let current = match current {
            None => 0,
            Some(bytes) => i64::from_le_bytes(bytes.try_into().map_err(|_| {
                rusqlite::Error::InvalidParameterName(format!("{key:?} is not a counter"))
            })?),
        };
        let next = current + delta;
        tx.prepare_cached(
            "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
        )?
        .execute(params![store, key, next.to_le_bytes()])?;
        tx.commit()?;
        Ok(next)
    }

    /// As Spin's: the keys that exist, with their values (absent keys are left out).
    pub fn get_many(
        &self,
        store: &str,
        keys: &[String],
    ) -> rusqlite::Result<Vec<(String, Option<Vec<u8>>)>> {
        let keys = Rc::new(keys.iter().cloned().map(Value::from).collect::<Vec<_>>());
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT key, value FROM spin_key_value WHERE store = :name AND key IN rarray(:keys)",
        )?;
        stmt.query_map(named_params! {":name": store, ":keys": keys}, |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect()
    }

    /// As Spin's: one transaction.
    pub fn set_many(&self, store: &str, entries: &[(String, Vec<u8>)]) -> rusqlite::Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for (key, value) in entries {
            tx.prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![store, key, value])?;
        }
        tx.commit()
    }

    /// As Spin's: one statement.
    pub fn delete_many(&self, store: &str, keys: &[String]) -> rusqlite::Result<()> {
        let keys = Rc::new(keys.iter().cloned().map(Value::from).collect::<Vec<_>>());
        self.conn()
            .prepare_cached(
                "DELETE FROM spin_key_value WHERE store = :name AND key IN rarray(:keys)",
            )?
            .execute(named_params! {":name": store, ":keys": keys})
            .map(drop)
    }

    pub fn snapshot(&self, store: &str) -> rusqlite::Result<BTreeMap<String, Vec<u8>>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT key, value FROM spin_key_value WHERE store = ?1")?;
        let rows = stmt.query_map(params![store], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect()
    }
}
