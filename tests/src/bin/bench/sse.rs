//! The HTTP+SSE transport's round trip: a message POSTed to `/sse/message` until its
//! response arrives on the `/sse` stream, sequentially, with the store calls both sides
//! make per message (the stream's polling included).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use test_host::Host;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Connection, find, percentiles};

pub async fn run(
    host: &Host,
    addr: SocketAddr,
    access: &str,
    messages: usize,
) -> anyhow::Result<Value> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!(
                "GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer {access}\r\n\r\n"
            )
            .as_bytes(),
        )
        .await?;
    let mut seen = Vec::new();
    let endpoint = loop {
        read_more(&mut stream, &mut seen).await?;
        let text = String::from_utf8_lossy(&seen).into_owned();
        if let Some(at) = text.find("event: endpoint\ndata: ") {
            let rest = &text[at + "event: endpoint\ndata: ".len()..];
            if let Some(end) = rest.find('\n') {
                let endpoint = rest[..end].to_owned();
                seen.clear();
                break endpoint;
            }
        }
    };
    let mut relay = Relay {
        stream,
        seen,
        poster: Connection::open(addr).await?,
        endpoint,
        access: access.to_owned(),
    };
    // Indexing the first block, and warming up.
    for id in 1..=20 {
        relay.round_trip(id).await?;
    }
    host.reset_kv_stats();
    let mut latencies = Vec::with_capacity(messages);
    for id in 0..messages {
        latencies.push(relay.round_trip(1000 + id).await?);
    }
    let stats = host.kv_stats();
    let per = |n: u64| ((n as f64 / messages.max(1) as f64) * 100.0).round() / 100.0;
    Ok(json!({
        "messages": messages,
        "round_trip_ms": percentiles(&mut latencies),
        "kv_reads_per_message": per(stats.reads),
        "kv_writes_per_message": per(stats.writes),
    }))
}

/// An open stream, and a connection to POST its messages on.
struct Relay {
    stream: TcpStream,
    seen: Vec<u8>,
    poster: Connection,
    endpoint: String,
    access: String,
}

impl Relay {
    /// POSTs `tools/call` with `id` and waits for its response on the stream.
    async fn round_trip(&mut self, id: usize) -> anyhow::Result<Duration> {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"add","arguments":{{"a":1,"b":2}}}}}}"#
        );
        let request = format!(
            "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n{body}",
            self.endpoint,
            self.access,
            body.len()
        );
        let started = Instant::now();
        let status = self.poster.exchange(request.as_bytes()).await?;
        if status != 202 {
            bail!("POST {} answered {status}", self.endpoint);
        }
        let marker = format!(r#""id":{id}"#);
        loop {
            if let Some(at) = find(&self.seen, marker.as_bytes())
                && find(&self.seen[at..], b"\n\n").is_some()
            {
                self.seen.clear();
                return Ok(started.elapsed());
            }
            read_more(&mut self.stream, &mut self.seen).await?;
        }
    }
}

async fn read_more(stream: &mut TcpStream, seen: &mut Vec<u8>) -> anyhow::Result<()> {
    let mut chunk = [0u8; 16 * 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
        .await
        .context("the stream sent nothing for 10 s")??;
    if n == 0 {
        bail!("the stream closed");
    }
    seen.extend_from_slice(&chunk[..n]);
    Ok(())
}
