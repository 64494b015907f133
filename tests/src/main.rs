//! `test-host`: serve the app from `spin.toml` the way `spin up` would, for curl, MCP
//! clients and conformance suites on a machine without the Spin CLI.
//!
//! ```text
//! test-host [--manifest spin.toml] [--listen 127.0.0.1:3000] [--kv .spin/sqlite_key_value.db]
//!           [--runtime-config-file runtime-config/redis.toml] [--variable name=value]...
//! ```
//! `SPIN_VARIABLE_<NAME>` environment variables are honoured as by `spin up`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use test_host::runtime_config::RuntimeConfig;
use test_host::{Host, HostConfig, Runtime};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut manifest = PathBuf::from("spin.toml");
    let mut listen: SocketAddr = "127.0.0.1:3000".parse()?;
    let mut kv: Option<PathBuf> = None;
    let mut variables = Vec::new();
    let mut runtime_config: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--manifest" | "-f" => manifest = value()?.into(),
            "--listen" => {
                listen = value()?
                    .parse()
                    .context("--listen takes an address like 127.0.0.1:3000")?
            }
            "--kv" => kv = Some(value()?.into()),
            "--runtime-config-file" => runtime_config = Some(value()?.into()),
            "--variable" => {
                let pair = value()?;
                let (name, v) = pair
                    .split_once('=')
                    .context("--variable takes name=value")?;
                variables.push((name.to_owned(), v.to_owned()));
            }
            "--help" | "-h" => {
                println!(
                    "usage: test-host [--manifest spin.toml] [--listen ADDR] [--kv FILE] [--runtime-config-file FILE] [--variable name=value]..."
                );
                return Ok(());
            }
            other => bail!("unknown argument {other:?} (see --help)"),
        }
    }
    let app_root = manifest.parent().map(PathBuf::from).unwrap_or_default();
    let kv = kv.unwrap_or_else(|| app_root.join(".spin/sqlite_key_value.db"));
    let mut config = HostConfig::from_manifest_file(&manifest, kv)?;
    config.listen = listen;
    config.read_env = true;
    if let Some(path) = runtime_config {
        config.runtime_config = RuntimeConfig::read(&path)?;
    }
    for (name, value) in variables {
        config = config.variable(&name, value);
    }
    let runtime = Runtime::new()?;
    let host = Host::start(&runtime, config).await?;
    println!("Serving {}", host.url());
    tokio::signal::ctrl_c().await?;
    host.shutdown().await;
    Ok(())
}
