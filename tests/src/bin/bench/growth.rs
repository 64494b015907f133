//! Store growth: the hot path and the sweep on a Redis store that holds 0, 100k and 1M
//! records, each size on a fresh `redis-server`. The store is filled the way clients
//! that register on every connect leave it (a client, a grant and a code per connect, 9
//! of 10 expired, indexed as the components index them), then measured: `tools/call`
//! alone and while sweeps run, a registration with no sweep due and one that sweeps
//! (its answer, and how long the instance stays busy after it), and the slowest command
//! Redis ran meanwhile. Ratios are to the empty store of the same run.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use store::{expiry, keys};
use test_host::kv::DEFAULT_STORE;
use test_host::{Host, HostConfig, Runtime};

use crate::{Connection, login, percentiles, ratio};

#[path = "../../../support/fill.rs"]
#[allow(dead_code)]
mod fill;
#[path = "../../../support/redis.rs"]
#[allow(dead_code)]
mod redis_server;
use redis_server::RedisServer;

pub struct GrowthOptions {
    pub sizes: Vec<usize>,
    pub requests: usize,
    pub sweeps: usize,
}

const DAY: u64 = 24 * 3600;

pub async fn run(
    runtime: &Runtime,
    root: &Path,
    manifest: &str,
    options: &GrowthOptions,
) -> anyhow::Result<Value> {
    let mut sizes = Vec::new();
    for &records in &options.sizes {
        sizes.push(measure_size(runtime, root, manifest, records, options).await?);
    }
    let empty = sizes.first().cloned().unwrap_or(Value::Null);
    let p = |v: &Value, what: &str, q: &str| v[what][q].as_f64().unwrap_or(0.0);
    for size in &mut sizes {
        size["vs_empty"] = json!({
            "tools_call_p99": ratio(p(size, "tools_call_ms", "p99"), p(&empty, "tools_call_ms", "p99")),
            "tools_call_during_sweeps_p99": ratio(
                p(size, "tools_call_during_sweeps_ms", "p99"),
                p(&empty, "tools_call_during_sweeps_ms", "p99"),
            ),
            "sweeping_register_busy_p50": ratio(
                p(size, "sweeping_register_busy_ms", "p50"),
                p(&empty, "sweeping_register_busy_ms", "p50"),
            ),
        });
    }
    Ok(Value::Array(sizes))
}

async fn measure_size(
    runtime: &Runtime,
    root: &Path,
    manifest: &str,
    records: usize,
    options: &GrowthOptions,
) -> anyhow::Result<Value> {
    let redis = RedisServer::start();
    let dir = crate::tempdir()?;
    let host = Host::start(
        runtime,
        HostConfig {
            manifest: manifest.to_owned(),
            app_root: root.to_owned(),
            kv_path: dir.join("kv.db"),
            runtime_config: redis.runtime_config(),
            variables: Default::default(),
            read_env: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        },
    )
    .await?;
    let addr = host.addr();
    let tokens = login(addr).await?;
    let access = tokens["access_token"].as_str().context("no access token")?;
    let oldest = fill(&host, records)?;
    // The sweep resumes at the oldest filled hour, not yet due.
    set_schedule(&host, host.now() + 3600, oldest)?;
    let keys_before = dbsize(&redis)?;
    redis_command(
        &redis,
        &["CONFIG", "SET", "slowlog-log-slower-than", "1000"],
    )?;
    redis_command(&redis, &["CONFIG", "SET", "slowlog-max-len", "100000"])?;
    redis_command(&redis, &["SLOWLOG", "RESET"])?;
    redis_command(&redis, &["CONFIG", "RESETSTAT"])?;

    let call = tools_call(access);
    let mut connection = Connection::open(addr).await?;
    for _ in 0..options.requests.min(50) {
        connection.exchange(&call).await?;
    }
    let mut hot = Vec::with_capacity(options.requests);
    for _ in 0..options.requests {
        let started = Instant::now();
        let status = connection.exchange(&call).await?;
        anyhow::ensure!(status == 200, "tools/call answered {status}");
        hot.push(started.elapsed());
    }

    let (mut plain_answer, mut plain_busy) =
        registrations(&host, addr, options.sweeps, false).await?;
    let (mut sweep_answer, mut sweep_busy) =
        registrations(&host, addr, options.sweeps, true).await?;
    let removed_per_sweep =
        keys_before.saturating_sub(dbsize(&redis)?) as f64 / options.sweeps.max(1) as f64;

    // tools/call on one connection while another registers with a sweep due each time.
    let stop = Arc::new(AtomicBool::new(false));
    let caller = {
        let (call, stop) = (call.clone(), stop.clone());
        tokio::spawn(async move {
            let mut connection = Connection::open(addr).await?;
            let mut samples = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let started = Instant::now();
                connection.exchange(&call).await?;
                samples.push(started.elapsed());
            }
            anyhow::Ok(samples)
        })
    };
    let mut registering = Connection::open(addr).await?;
    for _ in 0..options.sweeps {
        fill::make_sweep_due(&host);
        register(&mut registering).await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let during = percentiles(&mut caller.await??);

    let (slowest_us, over_10ms) = slowlog(&redis)?;
    let listings = command_calls(&redis, "keys")? + command_calls(&redis, "scan")?;
    host.shutdown().await;
    let (plain_busy, sweep_busy) = (percentiles(&mut plain_busy), percentiles(&mut sweep_busy));
    let p50 = |v: &Value| v["p50"].as_f64().unwrap_or(0.0);
    let sweep_extra_busy_ms = ((p50(&sweep_busy) - p50(&plain_busy)) * 100.0).round() / 100.0;
    Ok(json!({
        "records": records,
        "tools_call_ms": percentiles(&mut hot),
        "tools_call_during_sweeps_ms": during,
        "sweep_extra_busy_ms": sweep_extra_busy_ms,
        "register_ms": percentiles(&mut plain_answer),
        "register_busy_ms": plain_busy,
        "sweeping_register_ms": percentiles(&mut sweep_answer),
        "sweeping_register_busy_ms": sweep_busy,
        "keys_removed_per_sweep": removed_per_sweep.round(),
        "redis_slowest_command_us": slowest_us,
        "redis_commands_over_10ms": over_10ms,
        "redis_key_listings": listings,
    }))
}

/// `n` registrations, each on its own; how long each answer took, and how long until the
/// instance that answered it was done (the sweep runs after the answer).
async fn registrations(
    host: &Host,
    addr: SocketAddr,
    n: usize,
    sweep_due: bool,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let mut connection = Connection::open(addr).await?;
    let mut answers = Vec::new();
    let mut busy = Vec::new();
    for _ in 0..n {
        if sweep_due {
            fill::make_sweep_due(host);
        }
        let started = Instant::now();
        register(&mut connection).await?;
        answers.push(started.elapsed());
        anyhow::ensure!(
            host.settle(Duration::from_secs(60)).await,
            "an instance kept running"
        );
        busy.push(started.elapsed());
    }
    Ok((answers, busy))
}

/// A registration, answered on a keep-alive `connection` (so the answer is timed by its
/// length, not by the instance closing the connection once its sweep is done).
async fn register(connection: &mut Connection) -> anyhow::Result<()> {
    let body = json!({
        "redirect_uris": [crate::REDIRECT_URI],
        "token_endpoint_auth_method": "none",
        "client_name": "growth",
    });
    let request = crate::Path::post(
        "register",
        "/register",
        vec![("content-type".into(), "application/json".into())],
        body.to_string(),
    );
    let status = connection.exchange(&request.request).await?;
    anyhow::ensure!(status == 201, "registration answered {status}");
    Ok(())
}

/// The stateless `tools/call` of the hot-path table.
fn tools_call(access: &str) -> Vec<u8> {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    let headers = [
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("authorization", &format!("Bearer {access}")),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "add"),
    ];
    crate::Path::post(
        "tools/call",
        "/mcp",
        headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body.into(),
    )
    .request
}

/// Fills the store with `records` records, a client, a grant and a code per connect, in
/// the index as the components write them: the client in a slot of its own, the grant
/// and its code sharing one. Nine connects in ten expired within the last 20 hours
/// (their hours closed); the tenth lives on. Returns the oldest hour filled.
fn fill(host: &Host, records: usize) -> anyhow::Result<u64> {
    let now = host.now();
    let connects = records / 3;
    let oldest = expiry::bucket_of(now - 21 * 3600);
    let body = fill::body;
    // Slots grouped by the expiry they share.
    let mut groups: std::collections::BTreeMap<u64, Vec<Vec<(String, Vec<u8>)>>> =
        Default::default();
    for n in 0..connects {
        let (client_exp, grant_exp) = if n % 10 == 9 {
            (now + 90 * DAY, now + 30 * DAY)
        } else {
            let exp = now - 2 * 3600 - (n as u64 % 19) * 3600;
            (exp, exp)
        };
        groups
            .entry(client_exp)
            .or_default()
            .push(vec![(format!("cl:growth{n}"), body(client_exp))]);
        groups.entry(grant_exp).or_default().push(vec![
            (format!("gr:growth{n}"), body(grant_exp)),
            (format!("co:growth{n}"), body(grant_exp)),
        ]);
    }
    for (exp, slots) in groups {
        fill::plant(host, &slots, exp);
    }
    Ok(oldest)
}

fn set_schedule(host: &Host, due: u64, bucket: u64) -> anyhow::Result<()> {
    let schedule = json!({ "exp": due, "bucket": bucket, "slot": 1 });
    host.kv()
        .set(DEFAULT_STORE, keys::SWEEP, &serde_json::to_vec(&schedule)?)
        .map_err(anyhow::Error::msg)?;
    Ok(())
}

fn redis_command(redis: &RedisServer, args: &[&str]) -> anyhow::Result<String> {
    redis
        .command(args)
        .map_err(|e| anyhow::anyhow!("redis {}: {e}", args.join(" ")))
}

fn dbsize(redis: &RedisServer) -> anyhow::Result<u64> {
    Ok(redis_command(redis, &["DBSIZE"])?.parse()?)
}

/// The slowest command in the slow log (every command over 1 ms is in it), in µs, and
/// how many took over 10 ms.
fn slowlog(redis: &RedisServer) -> anyhow::Result<(u64, u64)> {
    let client = redis::Client::open(redis.url())?;
    let mut conn = client.get_connection_with_timeout(Duration::from_secs(5))?;
    // Each entry: id, timestamp, duration in µs, then the command and more.
    let log: Vec<redis::Value> = redis::cmd("SLOWLOG").arg("GET").arg(-1).query(&mut conn)?;
    let entries: Vec<u64> = log
        .iter()
        .filter_map(|entry| match entry {
            redis::Value::Array(fields) => match fields.get(2) {
                Some(redis::Value::Int(us)) => Some(*us as u64),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let slowest = entries.iter().copied().max().unwrap_or(0);
    Ok((
        slowest,
        entries.iter().filter(|&&us| us > 10_000).count() as u64,
    ))
}

/// How many times Redis ran `command` since the last `CONFIG RESETSTAT`.
fn command_calls(redis: &RedisServer, command: &str) -> anyhow::Result<u64> {
    let info = redis_command(redis, &["INFO", "commandstats"])?;
    let prefix = format!("cmdstat_{command}:calls=");
    Ok(info
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0))
}

pub fn print_table(sizes: &Value) {
    let Some(sizes) = sizes.as_array().filter(|s| !s.is_empty()) else {
        return;
    };
    println!(
        "\nstore growth (Redis)      {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>6}",
        "call p99",
        "x empty",
        "busy p50",
        "sweep p50",
        "+sweep",
        "reg p99",
        "removed",
        "max cmd",
        "listed"
    );
    for size in sizes {
        let ms = |what: &str, q: &str| size[what][q].as_f64().unwrap_or(0.0);
        println!(
            "{:<25} {:>8.2} {:>8.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>8} {:>6}µs {:>6}",
            format!("{} records", size["records"]),
            ms("tools_call_ms", "p99"),
            size["vs_empty"]["tools_call_p99"].as_f64().unwrap_or(0.0),
            ms("register_busy_ms", "p50"),
            ms("sweeping_register_busy_ms", "p50"),
            size["sweep_extra_busy_ms"].as_f64().unwrap_or(0.0),
            ms("sweeping_register_ms", "p99"),
            size["keys_removed_per_sweep"],
            size["redis_slowest_command_us"],
            size["redis_key_listings"],
        );
    }
}
