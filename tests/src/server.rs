//! Serving the app over HTTP: route by the manifest, add the headers Spin adds, and run a
//! fresh instance of the matched component for every request, streaming its response.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use wasmtime::Store;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;

use crate::kv::KvBackend;
use crate::routes::{RouteMatch, Router};
use crate::state::{ComponentConfig, RequestState};

pub type Body = UnsyncBoxBody<Bytes, anyhow::Error>;

/// A pre-instantiated component: linking is done once, each request only instantiates.
pub struct LoadedComponent {
    pub pre: ProxyPre<RequestState>,
    pub config: Arc<ComponentConfig>,
}

/// Everything needed to answer a request; shared by all connections.
pub struct AppRuntime {
    pub router: Router,
    pub components: HashMap<String, LoadedComponent>,
    pub kv: Arc<KvBackend>,
    pub clock: Arc<crate::clock::HostClock>,
    /// What the components write to stderr.
    pub log: crate::log::ComponentLog,
    /// Component instances still running, including those that already answered and
    /// work on (a sweep after the response, a stream).
    pub running: Arc<std::sync::atomic::AtomicUsize>,
}

/// Counts one running instance for as long as it lives.
struct Running(Arc<std::sync::atomic::AtomicUsize>);

impl Running {
    fn start(count: &Arc<std::sync::atomic::AtomicUsize>) -> Self {
        count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Self(count.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl AppRuntime {
    async fn handle(
        self: Arc<Self>,
        mut req: Request<Incoming>,
        client: SocketAddr,
    ) -> Response<Body> {
        let path = req.uri().path().to_owned();
        let Some(route) = self.router.route(&path) else {
            return plain(StatusCode::NOT_FOUND, "Not Found");
        };
        let Some(component) = self.components.get(&route.component) else {
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "component not loaded");
        };
        // RFC 9112 §3.2: a request without Host gets 400 (and a component needs an authority).
        let Some(host) = req
            .headers()
            .get(hyper::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
        else {
            return plain(StatusCode::BAD_REQUEST, "missing Host header");
        };
        add_spin_headers(&mut req, &host, &route, client);
        let running = Running::start(&self.running);
        let log = self.log.clone();
        match run_component(
            component,
            self.kv.clone(),
            self.clock.clone(),
            log,
            running,
            req,
        )
        .await
        {
            Ok(response) => response,
            Err(e) => {
                eprintln!("component {:?} failed: {e:?}", route.component);
                plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
        }
    }
}

/// The headers Spin's HTTP trigger adds to every request it passes to a component.
fn add_spin_headers(
    req: &mut Request<Incoming>,
    host: &str,
    route: &RouteMatch,
    client: SocketAddr,
) {
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let values = [
        ("spin-full-url", format!("http://{host}{path_and_query}")),
        ("spin-path-info", route.path_info.clone()),
        ("spin-matched-route", route.raw_route.clone()),
        ("spin-base-path", "/".to_owned()),
        ("spin-raw-component-route", route.raw_route.clone()),
        ("spin-component-route", route.component_route.clone()),
        ("spin-client-addr", client.to_string()),
    ];
    let headers = req.headers_mut();
    for (name, value) in values {
        if let Ok(value) = hyper::header::HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

async fn run_component(
    component: &LoadedComponent,
    kv: Arc<KvBackend>,
    clock: Arc<crate::clock::HostClock>,
    log: crate::log::ComponentLog,
    running: Running,
    req: Request<Incoming>,
) -> anyhow::Result<Response<Body>> {
    let mut store = Store::new(
        component.pre.engine(),
        RequestState::new(component.config.clone(), kv, clock, log),
    );
    store.set_epoch_deadline(crate::engine::EPOCH_DEADLINE);
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let req = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, req)?;
    let out = store.data_mut().http().new_response_outparam(sender)?;
    let pre = component.pre.clone();
    // The guest keeps running after it has sent the response head, writing the body
    // (SSE) while the client reads it; so it runs in its own task.
    let task = tokio::spawn(async move {
        let _running = running;
        let proxy = pre.instantiate_async(&mut store).await?;
        proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, req, out)
            .await
    });
    match receiver.await {
        Ok(Ok(response)) => {
            Ok(response.map(|body| body.map_err(anyhow::Error::from).boxed_unsync()))
        }
        Ok(Err(code)) => anyhow::bail!("component answered with error {code:?}"),
        Err(_) => match task.await {
            Ok(Ok(())) => anyhow::bail!("component returned without setting a response"),
            Ok(Err(e)) => Err(anyhow::Error::from(e).context("component trapped")),
            Err(e) => Err(anyhow::Error::from(e).context("component task failed")),
        },
    }
}

pub fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let body = Full::new(Bytes::from_static(text.as_bytes()))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
}

/// A running server; dropping it (or [`Server::shutdown`]) stops it.
pub struct Server {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    pub async fn start(runtime: Arc<AppRuntime>, addr: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    accepted = listener.accept() => {
                        let Ok((stream, client)) = accepted else { continue };
                        let runtime = runtime.clone();
                        connections.spawn(async move {
                            let service = hyper::service::service_fn(move |req| {
                                let runtime = runtime.clone();
                                async move { Ok::<_, std::convert::Infallible>(runtime.handle(req, client).await) }
                            });
                            let _ = hyper::server::conn::http1::Builder::new()
                                .keep_alive(true)
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
            // Close open connections (an SSE stream would otherwise keep the host alive).
            connections.abort_all();
            while connections.join_next().await.is_some() {}
        });
        Ok(Self {
            addr,
            stop,
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, closes open connections, and waits until that is done.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
