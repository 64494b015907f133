//! A test host for this Spin application: it runs the very `.wasm` components `spin
//! build` produces, routed and configured by the very `spin.toml` users deploy, under
//! wasmtime, over real HTTP on loopback.
//!
//! What it shares with Spin: manifest v2 parsing, HTTP routing (Spin's own router crate),
//! the `spin-*` request headers, one fresh instance per request, application and
//! component variables (defaults, `SPIN_VARIABLE_*`, overrides), `allowed_outbound_hosts`
//! enforcement, and one `default` key-value store persisted in SQLite. Behaviour it does
//! not share with Spin is a bug here.

pub mod clock;
pub mod compose;
pub mod engine;
pub mod kv;
pub mod log;
pub mod manifest;
pub mod outbound;
pub mod routes;
pub mod runtime_config;
pub mod server;
pub mod spin_host;
pub mod state;
pub mod variables;
pub mod wasi_keyvalue;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use anyhow::{Context, bail};
use wasmtime::component::{Component, Linker};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use kv::{KvBackend, KvStats};
use manifest::Manifest;
use outbound::AllowedHosts;
use routes::Router;
use server::{AppRuntime, LoadedComponent, Server};
use state::{ComponentConfig, RequestState};
use variables::{AppVariables, ComponentVariables};

/// The wasmtime engine and compiled components, kept across hosts so that a test suite
/// that starts many hosts compiles each `.wasm` once.
pub struct Runtime {
    engine: wasmtime::Engine,
    compiled: Mutex<HashMap<CompileKey, (Vec<SystemTime>, Component)>>,
}

impl Runtime {
    pub fn new() -> anyhow::Result<Self> {
        let engine = engine::spin_like()?;
        Ok(Self {
            engine,
            compiled: Mutex::new(HashMap::new()),
        })
    }

    /// Compiles a component, composed with its dependencies if it has any, or reuses the
    /// compilation if none of the files changed.
    fn component(
        &self,
        id: &str,
        source: &Path,
        dependencies: &[compose::Dependency],
        inherit_configuration: bool,
    ) -> anyhow::Result<Component> {
        let files: Vec<PathBuf> = std::iter::once(source.to_owned())
            .chain(dependencies.iter().map(|d| d.path.clone()))
            .collect();
        let stamps = files
            .iter()
            .map(|path| {
                std::fs::metadata(path)
                    .and_then(|m| m.modified())
                    .with_context(|| {
                        format!("{} not found: build the components first", path.display())
                    })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let key = CompileKey {
            files,
            wiring: format!(
                "inherit={inherit_configuration} {:?}",
                dependencies
                    .iter()
                    .map(|d| (&d.name, &d.export))
                    .collect::<Vec<_>>()
            ),
        };
        let mut compiled = self.compiled.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((when, component)) = compiled.get(&key)
            && *when == stamps
        {
            return Ok(component.clone());
        }
        let read = |path: &Path| {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))
        };
        let mut bytes = read(source)?;
        if !dependencies.is_empty() {
            let loaded = dependencies
                .iter()
                .map(|d| Ok((d.clone(), read(&d.path)?)))
                .collect::<anyhow::Result<Vec<_>>>()?;
            bytes = compose::compose(id, &bytes, &loaded, inherit_configuration)
                .with_context(|| format!("composing component {id:?} with its dependencies"))?;
        }
        let component = Component::from_binary(&self.engine, &bytes)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("compiling {}", source.display()))?;
        compiled.insert(key, (stamps, component.clone()));
        Ok(component)
    }
}

/// Everything a compiled component depends on besides file contents: the files, and how
/// dependencies are wired (names, exports, configuration inheritance), so a manifest that
/// wires the same files differently is composed and checked anew.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CompileKey {
    files: Vec<PathBuf>,
    wiring: String,
}

/// How to start a host.
pub struct HostConfig {
    /// The manifest text, and the directory its relative paths are taken from.
    pub manifest: String,
    pub app_root: PathBuf,
    /// Where the `default` key-value store lives when the runtime config does not define
    /// it; the same file across restarts keeps the data.
    pub kv_path: PathBuf,
    /// `spin up --runtime-config-file`: key-value stores by label (SQLite or Redis).
    pub runtime_config: runtime_config::RuntimeConfig,
    /// Application variable values, as `spin up --variable` would give them.
    pub variables: BTreeMap<String, String>,
    /// Also read `SPIN_VARIABLE_*` from the process environment, as `spin up` does.
    pub read_env: bool,
    pub listen: SocketAddr,
}

impl HostConfig {
    /// A host for the manifest at `path`, on an ephemeral loopback port.
    pub fn from_manifest_file(path: &Path, kv_path: PathBuf) -> anyhow::Result<Self> {
        let manifest =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let app_root = path.parent().map(Path::to_owned).unwrap_or_default();
        Ok(Self {
            manifest,
            app_root,
            kv_path,
            runtime_config: Default::default(),
            variables: BTreeMap::new(),
            read_env: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        })
    }

    pub fn variable(mut self, name: &str, value: impl Into<String>) -> Self {
        self.variables.insert(name.to_owned(), value.into());
        self
    }
}

/// A running host.
pub struct Host {
    server: Server,
    runtime: Arc<AppRuntime>,
}

impl Host {
    pub async fn start(runtime: &Runtime, config: HostConfig) -> anyhow::Result<Self> {
        let manifest = Manifest::parse(&config.manifest)?;
        let app_root = &config.app_root;
        let env = |name: &str| {
            if config.read_env {
                std::env::var(name).ok()
            } else {
                None
            }
        };
        let app_variables = AppVariables::resolve(&manifest, &config.variables, env)?;

        let mut linker: Linker<RequestState> = Linker::new(&runtime.engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        spin_host::add_to_linker(&mut linker)?;

        let routed: std::collections::BTreeSet<&str> = manifest
            .trigger
            .http
            .iter()
            .map(|t| t.component.as_str())
            .collect();
        let mut components = HashMap::new();
        for id in routed {
            let decl = &manifest.component[id];
            let dependencies = compose::parse_dependencies(id, &decl.dependencies, app_root)?;
            if let Some(label) = decl.key_value_stores.iter().find(|l| {
                *l != kv::DEFAULT_STORE && !config.runtime_config.key_value_stores.contains_key(*l)
            }) {
                bail!(
                    "component {id:?}: key-value store {label:?} is not defined (only \"default\" exists without a runtime config defining it)"
                );
            }
            let component_config = ComponentConfig {
                id: id.to_owned(),
                key_value_stores: decl.key_value_stores.clone(),
                variables: ComponentVariables::resolve(&decl.variables, &app_variables)
                    .with_context(|| format!("component {id:?}"))?,
                allowed_hosts: AllowedHosts::resolve(&decl.allowed_outbound_hosts, &app_variables)
                    .with_context(|| format!("component {id:?}: allowed_outbound_hosts"))?,
            };
            let source = manifest.component_source(id, app_root)?;
            let component = runtime.component(
                id,
                &source,
                &dependencies,
                decl.dependencies_inherit_configuration,
            )?;
            let pre = linker
                .instantiate_pre(&component)
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!("component {id:?} imports something the host does not provide")
                })?;
            let pre = ProxyPre::new(pre)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component {id:?} is not an HTTP component"))?;
            components.insert(
                id.to_owned(),
                LoadedComponent {
                    pre,
                    config: Arc::new(component_config),
                },
            );
        }

        let app = Arc::new(AppRuntime {
            router: Router::build(&manifest)?,
            components,
            kv: Arc::new(KvBackend::open(
                &config.kv_path,
                &config.runtime_config.key_value_stores,
            )?),
            clock: Arc::default(),
            log: log::ComponentLog::default(),
            running: Arc::default(),
        });
        let server = Server::start(app.clone(), config.listen).await?;
        Ok(Self {
            server,
            runtime: app,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    pub fn kv_stats(&self) -> KvStats {
        self.runtime.kv.stats()
    }

    /// The `default` store's entries, read without touching the counters.
    pub fn kv_snapshot(&self) -> std::collections::BTreeMap<String, Vec<u8>> {
        self.runtime
            .kv
            .snapshot(kv::DEFAULT_STORE)
            .expect("reading the store")
    }

    /// Writes an entry of the `default` store directly, for tests that need a record
    /// the components would never write themselves.
    pub fn kv_put(&self, key: &str, value: &[u8]) {
        self.runtime
            .kv
            .set(kv::DEFAULT_STORE, key, value)
            .expect("writing the store")
    }

    /// Deletes an entry of the `default` store directly (a record as an older version
    /// left it, for instance).
    pub fn kv_delete(&self, key: &str) {
        self.runtime
            .kv
            .delete(kv::DEFAULT_STORE, key)
            .expect("writing the store")
    }

    /// What the components wrote to stderr (Spin's log) since the host started.
    pub fn component_log(&self) -> String {
        self.runtime.log.text()
    }

    /// Simulates a store outage: while `refusing`, every key-value command the components
    /// send fails as Spin reports a refused Redis command.
    pub fn set_store_refusing(&self, refusing: bool) {
        self.runtime.kv.set_refusing(refusing);
    }

    /// Simulates a store that fails mid-request: the next `commands` key-value commands
    /// succeed, then every one is refused until `set_store_refusing(false)`.
    pub fn set_store_refusing_after(&self, commands: u32) {
        self.runtime.kv.set_refusing_after(commands);
    }

    /// Simulates a stalled store: every key-value command the components send waits
    /// `stall` and then succeeds, as Spin's store calls do while its Redis client
    /// reconnects. `Duration::ZERO` ends it.
    pub fn set_store_stall(&self, stall: std::time::Duration) {
        self.runtime.kv.set_stall(stall);
    }

    /// Waits until no component instance is running (one that answered may still be
    /// working: a sweep runs after its response), for at most `limit`; whether none is.
    pub async fn settle(&self, limit: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        while self
            .runtime
            .running
            .load(std::sync::atomic::Ordering::SeqCst)
            > 0
        {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        true
    }

    /// Moves the components' wall clock `secs` ahead, so records expire without the
    /// test waiting for them.
    pub fn advance_clock(&self, secs: u64) {
        self.runtime.clock.advance(secs);
    }

    /// The time the components see, in seconds since the Unix epoch.
    pub fn now(&self) -> u64 {
        self.runtime.clock.now_secs()
    }

    /// The store the components share, for tests that fill or inspect it directly
    /// (its calls count in [`Host::kv_stats`]).
    pub fn kv(&self) -> &Arc<KvBackend> {
        &self.runtime.kv
    }

    pub fn reset_kv_stats(&self) {
        self.runtime.kv.reset_stats();
    }

    /// How long creating a fresh instance of `component` takes (what every request to it
    /// pays before its handler runs): the mean over `rounds` instantiations.
    pub async fn instantiate_time(
        &self,
        component: &str,
        rounds: u32,
    ) -> anyhow::Result<std::time::Duration> {
        let loaded = self
            .runtime
            .components
            .get(component)
            .with_context(|| format!("no component {component:?}"))?;
        let started = std::time::Instant::now();
        for _ in 0..rounds {
            let mut store = wasmtime::Store::new(
                loaded.pre.engine(),
                RequestState::new(
                    loaded.config.clone(),
                    self.runtime.kv.clone(),
                    self.runtime.clock.clone(),
                    self.runtime.log.clone(),
                ),
            );
            store.set_epoch_deadline(engine::EPOCH_DEADLINE);
            loaded.pre.instantiate_async(&mut store).await?;
        }
        Ok(started.elapsed() / rounds.max(1))
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
