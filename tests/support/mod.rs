//! Shared helpers for the end-to-end suites: start the real app (or a variant of its
//! manifest) in the test host, and small loopback servers for outbound traffic.

#![allow(dead_code)] // each suite uses a different subset

pub mod clerk;
pub mod clerk_as;
pub mod fill;
pub mod oauth;
pub mod redis;
pub mod sse;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use http_body_util::Full;
use test_host::{Host, HostConfig, Runtime};

/// One engine for the whole test binary, so each `.wasm` is compiled once.
static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| Runtime::new().expect("wasmtime engine"));

pub fn runtime() -> &'static Runtime {
    &RUNTIME
}

pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

pub fn project_manifest() -> String {
    std::fs::read_to_string(project_root().join("spin.toml")).unwrap()
}

/// The project's manifest with `mcp` built with the conformance suite's fixture tools,
/// resources and prompts (`mcp-conformance.wasm`, which `scripts/test` builds).
pub fn conformance_manifest() -> String {
    let production = "source = \"target/wasm32-wasip2/release/mcp.wasm\"";
    let manifest = project_manifest();
    assert!(
        manifest.contains(production),
        "spin.toml changed: update conformance_manifest"
    );
    manifest.replace(
        production,
        "source = \"target/wasm32-wasip2/release/mcp-conformance.wasm\"",
    )
}

/// The fixture component that exposes the host's Spin interfaces over HTTP.
pub fn probe_wasm() -> PathBuf {
    project_root().join("target/wasm32-wasip2/release/probe.wasm")
}

/// The project's manifest plus extra TOML (e.g. probe components), as one document.
pub fn manifest_with(extra: &str) -> String {
    format!("{}\n{extra}", project_manifest())
}

/// A host serving `manifest` (relative sources taken from the project root), with its
/// own key-value file in a temporary directory.
pub struct App {
    pub host: Host,
    /// The origin the app publishes (issuer, resource): `base_url` when the test sets
    /// it, otherwise the host's own URL.
    pub public_base: String,
    pub client: reqwest::Client,
    pub dir: Arc<tempfile::TempDir>,
    _no_listings: NoListings,
}

/// Fails the test when the app is dropped if any request listed the store's keys: no
/// request path may, since a listing's cost grows with the store (see `store::sweep`).
struct NoListings(Arc<test_host::kv::KvBackend>);

impl Drop for NoListings {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert_eq!(
                self.0.stats().listings,
                0,
                "a request listed the store's keys"
            );
        }
    }
}

impl App {
    pub async fn start() -> Self {
        Self::start_with(project_manifest(), &[]).await
    }

    pub async fn start_with(manifest: String, variables: &[(&str, &str)]) -> Self {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        Self::start_in(dir, manifest, variables).await
    }

    /// Starts on an existing directory, so a restarted host finds the same store.
    pub async fn start_in(
        dir: Arc<tempfile::TempDir>,
        manifest: String,
        variables: &[(&str, &str)],
    ) -> Self {
        Self::start_on(dir, manifest, variables, Default::default()).await
    }

    /// Starts with a runtime config (`spin up --runtime-config-file`), e.g. the store in
    /// Redis, so that several hosts can share it.
    pub async fn start_on(
        dir: Arc<tempfile::TempDir>,
        manifest: String,
        variables: &[(&str, &str)],
        runtime_config: test_host::runtime_config::RuntimeConfig,
    ) -> Self {
        let mut config = HostConfig {
            manifest,
            app_root: project_root(),
            kv_path: dir.path().join("kv.db"),
            runtime_config,
            variables: Default::default(),
            read_env: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        for (name, value) in variables {
            config = config.variable(name, *value);
        }
        let host = Host::start(&RUNTIME, config).await.expect("host starts");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let public_base = variables
            .iter()
            .find(|(name, _)| *name == "base_url")
            .map_or_else(|| host.url(), |(_, value)| (*value).to_owned());
        Self {
            _no_listings: NoListings(host.kv().clone()),
            host,
            public_base,
            client,
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.host.url())
    }

    /// `path` under the published origin (what tokens are bound to).
    pub fn public_url(&self, path: &str) -> String {
        format!("{}{path}", self.public_base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn shutdown(self) -> Arc<tempfile::TempDir> {
        self.host.shutdown().await;
        self.dir
    }
}

/// Serves `handler` over HTTP/1 on a fresh loopback port, until the task is dropped
/// or aborted: the one accept loop behind every mock server of the suites.
pub async fn serve<F, Fut>(handler: F) -> (SocketAddr, tokio::task::JoinHandle<()>)
where
    F: Fn(hyper::Request<hyper::body::Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = hyper::Response<Full<Bytes>>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let answer = handler(req);
                    async move { Ok::<_, std::convert::Infallible>(answer.await) }
                });
                let io = wasmtime_wasi_http::io::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    (addr, task)
}

/// A response with `status` and `body`.
pub fn response(status: u16, body: impl Into<Bytes>) -> hyper::Response<Full<Bytes>> {
    let mut resp = hyper::Response::new(Full::new(body.into()));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    resp
}

/// A loopback HTTP server answering every request with `status` and `body`, counting hits.
pub struct Upstream {
    pub addr: SocketAddr,
    pub hits: Arc<std::sync::atomic::AtomicUsize>,
    _task: tokio::task::JoinHandle<()>,
}

impl Upstream {
    pub async fn start(status: u16, body: &'static str) -> Self {
        Self::start_gated(status, body, None).await
    }

    /// Like `start`, but each answer waits for `gate` to be notified.
    pub async fn start_gated(
        status: u16,
        body: &'static str,
        gate: Option<Arc<tokio::sync::Notify>>,
    ) -> Self {
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = hits.clone();
        let (addr, task) = serve(move |_req| {
            let (counter, gate) = (counter.clone(), gate.clone());
            async move {
                if let Some(gate) = gate {
                    gate.notified().await;
                }
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                response(status, Bytes::from_static(body.as_bytes()))
            }
        })
        .await;
        Self {
            addr,
            hits,
            _task: task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// One answer of a [`Site`].
#[derive(Clone)]
pub struct Page {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering (a slow server).
    pub delay: Option<std::time::Duration>,
}

impl Page {
    pub fn json(body: &serde_json::Value) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string().into_bytes(),
            delay: None,
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.to_owned()));
        self
    }
}

type Pages = std::collections::HashMap<String, Page>;

/// A loopback web server whose pages a test sets and changes, counting requests per path.
pub struct Site {
    pub addr: SocketAddr,
    pages: Arc<std::sync::Mutex<Pages>>,
    hits: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
    _task: tokio::task::JoinHandle<()>,
}

impl Site {
    pub async fn start() -> Self {
        let pages = Arc::new(std::sync::Mutex::new(Pages::new()));
        let hits = Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
        let (served, counted) = (pages.clone(), hits.clone());
        let (addr, task) = serve(move |req| {
            let path = req.uri().path().to_owned();
            *counted.lock().unwrap().entry(path.clone()).or_insert(0) += 1;
            let page = served.lock().unwrap().get(&path).cloned();
            async move {
                let page = page.unwrap_or(Page {
                    status: 404,
                    headers: vec![],
                    body: b"not found".to_vec(),
                    delay: None,
                });
                if let Some(delay) = page.delay {
                    tokio::time::sleep(delay).await;
                }
                let mut resp = response(page.status, page.body);
                for (name, value) in page.headers {
                    resp.headers_mut().insert(name, value.parse().unwrap());
                }
                resp
            }
        })
        .await;
        Self {
            addr,
            pages,
            hits,
            _task: task,
        }
    }

    pub fn put(&self, path: &str, page: Page) {
        self.pages.lock().unwrap().insert(path.to_owned(), page);
    }

    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Runs `tests/clients/<script>` with Node.js; returns its exit status, stdout, stderr.
pub async fn node(script: &str, args: &[&str]) -> (bool, String, String) {
    let output = tokio::process::Command::new("node")
        .arg(project_root().join("tests/clients").join(script))
        .args(args)
        .output()
        .await
        .expect("node must be installed (the test command installs the clients' packages)");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs a client script that prints one JSON summary, with `options` as its argument;
/// fails the test, showing everything it printed, unless it succeeds.
pub async fn node_json(script: &str, options: &serde_json::Value) -> serde_json::Value {
    let (ok, stdout, stderr) = node(script, &[&options.to_string()]).await;
    assert!(ok, "{script} {options} failed:\n{stdout}\n{stderr}");
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{script}: {e}: {stdout}"))
}

/// The value of query parameter `name` in `url`, if there is one.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// This machine's Unix time in seconds (the host clock the components see starts there).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A port free on loopback right now, for a client that must know its own port first.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
