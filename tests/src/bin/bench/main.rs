//! `bench`: the hot paths against the test host, in one run, printed as a table and as
//! JSON. Run by hand (`./scripts/bench`), never as a timed test; `--smoke` runs it for
//! about a second, which is all the test command does with it.
//!
//! ```text
//! bench [--requests N] [--seconds S] [--connections C] [--growth SIZES] [--smoke] [--json FILE]
//! ```
//!
//! `--growth 0,100000,1000000` (the default; `none` skips it) also measures the hot path
//! and the sweep on Redis stores of those sizes (see `growth`). The resource-server mode
//! (Clerk's tokens) has rows of its own (see `clerk_mode`).
//!
//! Every client here is a keep-alive HTTP/1.1 connection that does not set
//! `TCP_NODELAY`, as Python's `http.client` and `httpx` do, so a response that leaves in
//! several small writes shows the delayed-ACK stall it causes under Spin.

mod clerk_mode;
mod growth;
mod sse;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use test_host::{Host, HostConfig, Runtime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT_URI: &str = "http://127.0.0.1:7777/callback";

struct Options {
    requests: usize,
    seconds: f64,
    connections: usize,
    logins: usize,
    json: Option<PathBuf>,
    growth: growth::GrowthOptions,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut options = Options {
        requests: 1000,
        seconds: 3.0,
        connections: 16,
        logins: 20,
        json: None,
        growth: growth::GrowthOptions {
            sizes: vec![0, 100_000, 1_000_000],
            requests: 1000,
            sweeps: 20,
        },
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--requests" => options.requests = value()?.parse()?,
            "--seconds" => options.seconds = value()?.parse()?,
            "--connections" => options.connections = value()?.parse()?,
            "--json" => options.json = Some(value()?.into()),
            "--growth" => {
                let sizes = value()?;
                options.growth.sizes = if sizes == "none" {
                    Vec::new()
                } else {
                    sizes
                        .split(',')
                        .map(|n| n.trim().parse())
                        .collect::<Result<_, _>>()?
                };
            }
            "--smoke" => {
                options.requests = 20;
                options.seconds = 0.1;
                options.logins = 2;
                options.growth = growth::GrowthOptions {
                    sizes: vec![0, 300, 3_000],
                    requests: 20,
                    sweeps: 3,
                };
            }
            other => bail!("unknown argument {other:?}"),
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("project root")?
        .to_owned();
    let release = root.join("target/wasm32-wasip2/release");
    let manifest = format!(
        "{}\n[[trigger.http]]\nroute = \"/floor/...\"\ncomponent = \"floor\"\n\
         [component.floor]\nsource = \"{}\"\n",
        std::fs::read_to_string(root.join("spin.toml"))?,
        release.join("probe.wasm").display()
    );
    let dir = tempdir()?;
    let runtime = Runtime::new()?;
    let host = Host::start(
        &runtime,
        HostConfig {
            manifest,
            app_root: root.clone(),
            kv_path: dir.join("kv.db"),
            runtime_config: Default::default(),
            variables: Default::default(),
            read_env: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        },
    )
    .await?;
    let addr = host.addr();

    // The full login, register → authorize (consent, local sign-in) → token.
    let mut logins = Vec::new();
    let mut tokens = Value::Null;
    for _ in 0..options.logins.max(1) {
        let started = Instant::now();
        tokens = login(addr).await?;
        logins.push(started.elapsed());
    }
    let access = tokens["access_token"]
        .as_str()
        .context("login gave no access token")?
        .to_owned();
    let session = open_session(addr, &access).await?;

    let bearer = format!("Bearer {access}");
    let add = |meta: bool| {
        let meta = if meta {
            r#","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#
        } else {
            ""
        };
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"add","arguments":{{"a":1,"b":2}}{meta}}}}}"#
        )
    };
    let json_headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        (
            "accept".to_owned(),
            "application/json, text/event-stream".to_owned(),
        ),
    ];
    let with = |extra: &[(&str, &str)]| {
        let mut headers = json_headers.clone();
        headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        headers
    };
    let paths = vec![
        Path::get("floor (probe)", "/floor/headers"),
        Path::get("PRM GET", "/.well-known/oauth-protected-resource/mcp"),
        Path::post(
            "401 challenge",
            "/mcp",
            with(&[]),
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.into(),
        ),
        Path::post(
            "tools/call, stateless",
            "/mcp",
            with(&[
                ("authorization", &bearer),
                ("mcp-protocol-version", "2026-07-28"),
                ("mcp-method", "tools/call"),
                ("mcp-name", "add"),
            ]),
            add(true),
        ),
        Path::post(
            "tools/call, 2025 session",
            "/mcp",
            with(&[
                ("authorization", &bearer),
                ("mcp-protocol-version", "2025-06-18"),
                ("mcp-session-id", &session),
            ]),
            add(false),
        ),
    ];

    let mut rows = Vec::new();
    for path in &paths {
        rows.push(measure(&host, addr, path, &options).await?);
    }
    let sse = sse::run(&host, addr, &access, options.requests.min(500)).await?;
    let floor = rows[0].clone();
    let components: Vec<Value> = [
        ("auth", "auth"),
        ("token", "token"),
        ("mcp", "mcp"),
        ("floor", "probe"),
    ]
    .into_iter()
    .map(|(id, file)| {
        let bytes = std::fs::metadata(release.join(format!("{file}.wasm")))
            .map(|m| m.len())
            .unwrap_or(0);
        (id, bytes)
    })
    .map(|(id, bytes)| json!({ "component": id, "bytes": bytes }))
    .collect();
    let mut instantiation = Vec::new();
    for id in ["auth", "token", "mcp", "floor"] {
        let mean = host.instantiate_time(id, 50).await?;
        instantiation.push(json!({ "component": id, "micros": mean.as_micros() as u64 }));
    }

    host.shutdown().await;
    let manifest_text = std::fs::read_to_string(root.join("spin.toml"))?;
    rows.extend(
        clerk_mode::run(
            &runtime,
            &root,
            &manifest_text,
            &dir.join("clerk-mode.db"),
            &options,
        )
        .await?,
    );
    let store_growth = growth::run(
        &runtime,
        &root,
        &std::fs::read_to_string(root.join("spin.toml"))?,
        &options.growth,
    )
    .await?;

    let login_ms = percentiles(&mut logins);
    let report = json!({
        "paths": rows.iter().map(|r| r.to_json(&floor)).collect::<Vec<_>>(),
        "login_ms": login_ms,
        "sse": sse,
        "components": components,
        "instantiate": instantiation,
        "store_growth": store_growth,
        "options": {
            "requests": options.requests, "seconds": options.seconds,
            "connections": options.connections, "logins": options.logins,
        },
    });
    print_table(&rows, &floor, &report);
    growth::print_table(&report["store_growth"]);
    println!("{report}");
    if let Some(file) = options.json {
        std::fs::write(file, serde_json::to_vec_pretty(&report)?)?;
    }
    Ok(())
}

#[derive(Clone)]
struct Path {
    name: &'static str,
    request: Vec<u8>,
}

impl Path {
    fn get(name: &'static str, path: &str) -> Self {
        Self {
            name,
            request: format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes(),
        }
    }

    fn post(name: &'static str, path: &str, headers: Vec<(String, String)>, body: String) -> Self {
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(&body);
        Self {
            name,
            request: head.into_bytes(),
        }
    }
}

#[derive(Clone)]
struct Row {
    name: &'static str,
    status: u16,
    latency_ms: Value,
    p50_ms: f64,
    throughput: f64,
    kv_reads: f64,
    kv_writes: f64,
}

impl Row {
    fn to_json(&self, floor: &Row) -> Value {
        json!({
            "path": self.name,
            "status": self.status,
            "sequential_ms": self.latency_ms,
            "throughput_rps": self.throughput.round(),
            "kv_reads_per_request": self.kv_reads,
            "kv_writes_per_request": self.kv_writes,
            "throughput_vs_floor": ratio(self.throughput, floor.throughput),
            "p50_vs_floor": ratio(self.p50_ms, floor.p50_ms),
        })
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        (a / b * 100.0).round() / 100.0
    } else {
        0.0
    }
}

/// Sequential latency on one keep-alive connection, key-value calls per request, then
/// throughput over `connections` connections for `seconds`.
async fn measure(
    host: &Host,
    addr: SocketAddr,
    path: &Path,
    options: &Options,
) -> anyhow::Result<Row> {
    let mut connection = Connection::open(addr).await?;
    let mut status = 0;
    for _ in 0..options.requests.min(50) {
        status = connection.exchange(&path.request).await?;
    }
    host.reset_kv_stats();
    let mut latencies = Vec::with_capacity(options.requests);
    for _ in 0..options.requests {
        let started = Instant::now();
        status = connection.exchange(&path.request).await?;
        latencies.push(started.elapsed());
    }
    let stats = host.kv_stats();
    let per = |n: u64| ((n as f64 / options.requests.max(1) as f64) * 100.0).round() / 100.0;
    let latency_ms = percentiles(&mut latencies);
    let p50_ms = latency_ms["p50"].as_f64().unwrap_or(0.0);

    let deadline = Instant::now() + Duration::from_secs_f64(options.seconds);
    let mut workers = Vec::new();
    for _ in 0..options.connections {
        let request = path.request.clone();
        workers.push(tokio::spawn(async move {
            let mut connection = Connection::open(addr).await?;
            let mut done = 0u64;
            while Instant::now() < deadline {
                connection.exchange(&request).await?;
                done += 1;
            }
            anyhow::Ok(done)
        }));
    }
    let started = Instant::now();
    let mut total = 0;
    for worker in workers {
        total += worker.await??;
    }
    let throughput = total as f64 / started.elapsed().as_secs_f64();
    Ok(Row {
        name: path.name,
        status,
        latency_ms,
        p50_ms,
        throughput,
        kv_reads: per(stats.reads),
        kv_writes: per(stats.writes),
    })
}

fn percentiles(samples: &mut [Duration]) -> Value {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples
            .get(i)
            .map_or(0.0, |d| (d.as_secs_f64() * 1e5).round() / 100.0)
    };
    json!({ "p50": at(0.5), "p90": at(0.9), "p99": at(0.99) })
}

fn print_table(rows: &[Row], floor: &Row, report: &Value) {
    println!(
        "{:<26} {:>6} {:>8} {:>8} {:>8} {:>10} {:>8} {:>6} {:>6}",
        "path", "status", "p50 ms", "p90 ms", "p99 ms", "req/s", "vs floor", "kv r", "kv w"
    );
    for row in rows {
        let ms = |q: &str| row.latency_ms[q].as_f64().unwrap_or(0.0);
        println!(
            "{:<26} {:>6} {:>8.2} {:>8.2} {:>8.2} {:>10.0} {:>8.2} {:>6} {:>6}",
            row.name,
            row.status,
            ms("p50"),
            ms("p90"),
            ms("p99"),
            row.throughput,
            ratio(row.throughput, floor.throughput),
            row.kv_reads,
            row.kv_writes
        );
    }
    println!(
        "full login (register, authorize, consent, token), ms: {}",
        report["login_ms"]
    );
    let sse = &report["sse"];
    println!(
        "/sse round trip (POST tools/call until its response is on the stream), ms: {}; store calls per message: {} reads, {} writes",
        sse["round_trip_ms"], sse["kv_reads_per_message"], sse["kv_writes_per_message"]
    );
    for (size, time) in report["components"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(report["instantiate"].as_array().into_iter().flatten())
    {
        println!(
            "component {:<6} {:>9} bytes, instantiate {:>6} µs",
            size["component"].as_str().unwrap_or_default(),
            size["bytes"],
            time["micros"]
        );
    }
}

/// A keep-alive HTTP/1.1 connection (no `TCP_NODELAY`) that reads whole answers.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        Ok(Self {
            stream: TcpStream::connect(addr).await?,
            buffer: Vec::new(),
        })
    }

    /// Sends `request` and reads its whole answer; returns the status.
    async fn exchange(&mut self, request: &[u8]) -> anyhow::Result<u16> {
        self.stream.write_all(request).await?;
        let head_end = loop {
            if let Some(at) = find(&self.buffer, b"\r\n\r\n") {
                break at;
            }
            self.fill().await?;
        };
        let head = String::from_utf8_lossy(&self.buffer[..head_end]).to_ascii_lowercase();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("no status")?;
        self.buffer.drain(..head_end + 4);
        if let Some(length) = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
        {
            while self.buffer.len() < length {
                self.fill().await?;
            }
            self.buffer.drain(..length);
        } else if head.contains("transfer-encoding: chunked") {
            loop {
                let line_end = loop {
                    if let Some(at) = find(&self.buffer, b"\r\n") {
                        break at;
                    }
                    self.fill().await?;
                };
                let size = usize::from_str_radix(
                    String::from_utf8_lossy(&self.buffer[..line_end]).trim(),
                    16,
                )?;
                while self.buffer.len() < line_end + 2 + size + 2 {
                    self.fill().await?;
                }
                self.buffer.drain(..line_end + 2 + size + 2);
                if size == 0 {
                    break;
                }
            }
        }
        Ok(status)
    }

    async fn fill(&mut self) -> anyhow::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed");
        }
        self.buffer.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One request on a fresh connection; returns the status, the headers (lower-case
/// names) and the body.
async fn once(
    addr: SocketAddr,
    request: String,
) -> anyhow::Result<(u16, Vec<(String, String)>, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").context("no head")?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .context("no status")?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok((status, headers, body.to_owned()))
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The whole local-development login a client performs; returns the token response.
async fn login(addr: SocketAddr) -> anyhow::Result<Value> {
    let registration = json!({
        "client_name": "bench", "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
    })
    .to_string();
    let (status, _, body) = once(
        addr,
        request(
            "POST",
            "/register",
            &[("content-type", "application/json")],
            &registration,
        ),
    )
    .await?;
    anyhow::ensure!(status == 201, "register: {status} {body}");
    let client_id = serde_json::from_str::<Value>(&body)?["client_id"]
        .as_str()
        .context("client_id")?
        .to_owned();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("state", "bench")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let (status, headers, page) = once(
        addr,
        request("GET", &format!("/authorize?{query}"), &[], ""),
    )
    .await?;
    anyhow::ensure!(status == 200, "consent page: {status} {page}");
    let cookie = header(&headers, "set-cookie")
        .and_then(|c| c.split(';').next())
        .context("consent cookie")?
        .to_owned();
    let ticket = page
        .split("name=\"ticket\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("consent ticket")?
        .replace("&amp;", "&");
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("ticket", &ticket)
        .append_pair("decision", "approve")
        .append_pair("user", "bench")
        .finish();
    let (status, headers, _) = once(
        addr,
        request(
            "POST",
            "/authorize",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("cookie", &cookie),
            ],
            &form,
        ),
    )
    .await?;
    anyhow::ensure!(status == 302, "approval: {status}");
    let location = url::Url::parse(header(&headers, "location").context("location")?)?;
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .context("code")?;
    let exchange = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("code_verifier", VERIFIER)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("client_id", &client_id)
        .finish();
    let (status, _, body) = once(
        addr,
        request(
            "POST",
            "/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            &exchange,
        ),
    )
    .await?;
    anyhow::ensure!(status == 200, "token: {status} {body}");
    Ok(serde_json::from_str(&body)?)
}

/// Opens a 2025-06-18 session; returns its id.
async fn open_session(addr: SocketAddr, access: &str) -> anyhow::Result<String> {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#;
    let bearer = format!("Bearer {access}");
    let (status, headers, answer) = once(
        addr,
        request(
            "POST",
            "/mcp",
            &[
                ("content-type", "application/json"),
                ("accept", "application/json, text/event-stream"),
                ("authorization", &bearer),
            ],
            body,
        ),
    )
    .await?;
    anyhow::ensure!(status == 200, "initialize: {status} {answer}");
    Ok(header(&headers, "mcp-session-id")
        .context("session id")?
        .to_owned())
}

/// A directory of its own for the store, under the system's temporary directory.
fn tempdir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("clerk-mcp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
