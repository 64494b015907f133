//! What one request's component instance owns: its WASI context, its slice of the
//! manifest (variables, stores, outbound hosts) and the shared key-value store.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::clock::{HostClock, WallClock};
use crate::kv::KvBackend;
use crate::log::ComponentLog;
use crate::outbound::AllowedHosts;
use crate::variables::ComponentVariables;

/// A component's configuration from the manifest, resolved once when the host starts.
#[derive(Debug)]
pub struct ComponentConfig {
    pub id: String,
    pub key_value_stores: Vec<String>,
    pub variables: ComponentVariables,
    pub allowed_hosts: AllowedHosts,
}

pub struct RequestState {
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub table: ResourceTable,
    pub hooks: OutboundHooks,
    pub component: Arc<ComponentConfig>,
    pub kv: Arc<KvBackend>,
}

impl RequestState {
    pub fn new(
        component: Arc<ComponentConfig>,
        kv: Arc<KvBackend>,
        clock: Arc<HostClock>,
        log: ComponentLog,
    ) -> Self {
        let wasi = WasiCtx::builder()
            .inherit_stdout()
            .stderr(log)
            .wall_clock(WallClock(clock))
            .build();
        let hooks = OutboundHooks {
            component: component.clone(),
        };
        Self {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks,
            component,
            kv,
        }
    }
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for RequestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// Outbound HTTP: checked against `allowed_outbound_hosts`, then sent for real.
pub struct OutboundHooks {
    component: Arc<ComponentConfig>,
}

type SendResult = wasmtime_wasi_http::Result<(
    http::Response<wasmtime_wasi_http::WasiBody>,
    Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
)>;

impl wasmtime_wasi_http::WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        if !self.component.allowed_hosts.allows(request.uri()) {
            eprintln!(
                "component {:?}: outbound request to {} denied (not in allowed_outbound_hosts)",
                self.component.id,
                request.uri()
            );
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        wasmtime_wasi_http::default_hooks().send_request(request, options, fut)
    }
}
