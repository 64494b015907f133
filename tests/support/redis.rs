//! A private `redis-server` (Debian's `redis-server` package) on a free loopback port,
//! persisting nothing unless asked; stopped when dropped. `.ci/run` installs the package.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use test_host::runtime_config::{RuntimeConfig, StoreConfig};

pub struct RedisServer {
    child: Child,
    pub port: u16,
    /// Where an append-only file keeps the data across a kill, for servers that persist.
    persist_in: Option<PathBuf>,
}

impl RedisServer {
    /// A server that keeps nothing on disk.
    pub fn start() -> Self {
        Self::launch(free_port(), None)
    }

    /// A server that writes every command to an append-only file in `dir` before
    /// answering, so that a killed and restarted server has all its data back.
    pub fn start_persistent(dir: &Path) -> Self {
        Self::launch(free_port(), Some(dir.to_owned()))
    }

    fn launch(port: u16, persist_in: Option<PathBuf>) -> Self {
        let binary = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let mut command = Command::new(&binary);
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--protected-mode", "yes"]);
        match &persist_in {
            Some(dir) => command
                .args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
                .arg(dir),
            None => command.args(["--appendonly", "no"]),
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{binary} could not start ({e}): apt-get install redis-server, or set REDIS_SERVER")
            });
        let server = Self {
            child,
            port,
            persist_in,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.command(&["PING"]).as_deref() != Ok("PONG") {
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// Kills the server outright (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port (with its data, if it persists).
    pub fn restart(&mut self) {
        self.kill();
        *self = Self::launch(self.port, self.persist_in.clone());
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A runtime config with the `default` store in this server, as
    /// `runtime-config/redis.toml` sets it up.
    pub fn runtime_config(&self) -> RuntimeConfig {
        let mut config = RuntimeConfig::default();
        config
            .key_value_stores
            .insert("default".into(), StoreConfig::Redis { url: self.url() });
        config
    }

    /// Runs one command; the reply as text (errors as `Err`).
    pub fn command(&self, args: &[&str]) -> Result<String, String> {
        let client = redis::Client::open(self.url()).map_err(|e| e.to_string())?;
        let mut conn = client
            .get_connection_with_timeout(Duration::from_secs(1))
            .map_err(|e| e.to_string())?;
        let mut cmd = redis::cmd(args[0]);
        for arg in &args[1..] {
            cmd.arg(*arg);
        }
        let value: redis::Value = cmd.query(&mut conn).map_err(|e| e.to_string())?;
        Ok(match value {
            redis::Value::SimpleString(s) => s,
            redis::Value::Okay => "OK".into(),
            redis::Value::BulkString(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            redis::Value::Int(n) => n.to_string(),
            other => format!("{other:?}"),
        })
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
