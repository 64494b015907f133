//! Spin's Redis key-value backend (`type = "redis"` in a runtime config), laid out as
//! Spin 4.0.2's `spin-key-value-redis` lays it out: each key is the Redis key itself (no
//! label prefix), each value a Redis string (`GET`/`SET`/`DEL`/`EXISTS`, `KEYS *` for
//! listing), so a store written here reads the same through `spin up`. Errors reach the
//! component as Spin's do, as `Error::Other` with Redis's text (`NOPERM …` for a
//! command the ACL refuses). Where Spin's connection manager blocks while Redis is down,
//! this backend fails fast: a connection or command taking over a second is an error.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use redis::{Commands, Connection, RedisResult};

const TIMEOUT: Duration = Duration::from_secs(1);

pub struct RedisStore {
    client: redis::Client,
    /// One connection, made again after an I/O error.
    conn: Mutex<Option<Connection>>,
}

impl RedisStore {
    pub fn open(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("key-value store url {url:?}: {e}"))?;
        Ok(Self {
            client,
            conn: Mutex::new(None),
        })
    }

    fn with<T>(
        &self,
        command: impl FnOnce(&mut Connection) -> RedisResult<T>,
    ) -> Result<T, String> {
        let mut slot = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            let conn = self
                .client
                .get_connection_with_timeout(TIMEOUT)
                .map_err(|e| e.to_string())?;
            conn.set_read_timeout(Some(TIMEOUT))
                .map_err(|e| e.to_string())?;
            conn.set_write_timeout(Some(TIMEOUT))
                .map_err(|e| e.to_string())?;
            *slot = Some(conn);
        }
        let conn = slot.as_mut().expect("connected above");
        command(conn).map_err(|e| {
            if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() {
                *slot = None;
            }
            e.to_string()
        })
    }

    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.with(|c| c.get(key))
    }

    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.with(|c| c.set(key, value))
    }

    pub fn delete(&self, key: &str) -> Result<(), String> {
        self.with(|c| c.del(key))
    }

    pub fn exists(&self, key: &str) -> Result<bool, String> {
        self.with(|c| c.exists(key))
    }

    pub fn get_keys(&self) -> Result<Vec<String>, String> {
        let mut keys: Vec<String> = self.with(|c| c.keys("*"))?;
        keys.sort();
        Ok(keys)
    }

    /// `INCRBY`, as Spin's: Redis keeps the counter as its decimal text.
    pub fn increment(&self, key: &str, delta: i64) -> Result<i64, String> {
        self.with(|c| c.incr(key, delta))
    }

    /// As Spin 4.0.2's Redis backend sends it: `KEYS` with the keys as arguments (not
    /// `MGET`), which Redis refuses for more than one key and answers with key names
    /// for one. The project never calls it; this keeps the host from promising more.
    pub fn get_many(&self, keys: &[String]) -> Result<Vec<(String, Option<Vec<u8>>)>, String> {
        self.with(|c| {
            redis::cmd("KEYS")
                .arg(keys)
                .query::<Vec<(String, Option<Vec<u8>>)>>(c)
        })
    }

    /// `MSET`, as Spin's.
    pub fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), String> {
        self.with(|c| c.mset(entries))
    }

    /// One `DEL` with every key, as Spin's (so an empty list is Redis's error).
    pub fn delete_many(&self, keys: &[String]) -> Result<(), String> {
        self.with(|c| c.del(keys))
    }

    pub fn snapshot(&self) -> Result<BTreeMap<String, Vec<u8>>, String> {
        let mut entries = BTreeMap::new();
        for key in self.get_keys()? {
            if let Some(value) = self.get(&key)? {
                entries.insert(key, value);
            }
        }
        Ok(entries)
    }
}
