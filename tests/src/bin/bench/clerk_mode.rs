//! The resource-server mode (`authorization_server = "clerk"`): a `tools/call` with a
//! Clerk JWT access token (the JWKS cached in the store), and one that calls the app
//! with the cached M2M token. A loopback stand-in for Clerk's Backend API and the app
//! answers the JWKS, the one M2M mint and `/api/me`; the token is signed with the test
//! instance key in `crates/clerk/tests/fixtures`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path as FsPath;

use serde_json::json;
use test_host::{Host, HostConfig, Runtime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::{Options, Path, Row, measure};

const ISSUER: &str = "https://clerk.bench.example";

pub async fn run(
    runtime: &Runtime,
    root: &FsPath,
    manifest: &str,
    kv_path: &FsPath,
    options: &Options,
) -> anyhow::Result<Vec<Row>> {
    let fixtures = root.join("crates/clerk/tests/fixtures");
    let clerk = stand_in(std::fs::read_to_string(fixtures.join("jwks.json"))?).await?;
    let clerk_url = format!("http://{clerk}");
    let variables: BTreeMap<String, String> = [
        ("authorization_server", "clerk"),
        ("clerk_issuer", ISSUER),
        ("clerk_api_url", &clerk_url),
        ("clerk_secret_key", "sk_bench"),
        ("clerk_machine_secret_key", "ak_bench"),
        ("app_url", &clerk_url),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let host = Host::start(
        runtime,
        HostConfig {
            manifest: manifest.to_owned(),
            app_root: root.to_owned(),
            kv_path: kv_path.to_owned(),
            runtime_config: Default::default(),
            variables,
            read_env: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        },
    )
    .await?;
    let addr = host.addr();
    // The requests say `Host: 127.0.0.1`, so the resource is http://127.0.0.1/mcp.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let claims = json!({
        "iss": ISSUER, "sub": "user_bench", "client_id": "client_bench", "azp": "client_bench",
        "scope": "openid profile email", "aud": ["http://127.0.0.1/mcp"], "jti": "oat_bench",
        "iat": now, "nbf": now - 10, "exp": now + 3600,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("ins_key_1".into());
    header.typ = Some("at+jwt".into());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&std::fs::read(
        fixtures.join("instance-private.pem"),
    )?)?;
    let bearer = format!("Bearer {}", jsonwebtoken::encode(&header, &claims, &key)?);
    let call = |tool: &str| {
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{tool}","arguments":{},"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}}}}}}}}"#,
            if tool == "add" {
                r#"{"a":1,"b":2}"#
            } else {
                "{}"
            }
        )
    };
    let headers = |tool: &str| -> Vec<(String, String)> {
        [
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("authorization", bearer.as_str()),
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", tool),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
    };
    // Each call must succeed as a tool, not only as HTTP, before it is measured.
    for tool in ["add", "get_app_data"] {
        let named: Vec<(String, String)> = headers(tool);
        let named: Vec<(&str, &str)> = named
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let (status, _, body) =
            super::once(addr, super::request("POST", "/mcp", &named, &call(tool))).await?;
        anyhow::ensure!(
            status == 200
                && body.contains("structuredContent")
                && !body.contains(r#""isError":true"#),
            "{tool} in Clerk mode: {status} {body}"
        );
    }
    let paths = [
        Path::post("Clerk JWT, tools/call", "/mcp", headers("add"), call("add")),
        Path::post(
            "Clerk JWT, app call (M2M)",
            "/mcp",
            headers("get_app_data"),
            call("get_app_data"),
        ),
    ];
    let mut rows = Vec::new();
    for path in &paths {
        let row = measure(&host, addr, path, options).await?;
        anyhow::ensure!(row.status == 200, "{}: HTTP {}", row.name, row.status);
        rows.push(row);
    }
    host.shutdown().await;
    Ok(rows)
}

/// Clerk's Backend API and the customer's app, as far as the bench needs them: the
/// JWKS, an M2M token that lives five minutes, and the app's `/api/me`.
async fn stand_in(jwks: String) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let jwks = jwks.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut chunk = [0u8; 4096];
                // The whole request, body included: closing on unread bytes resets.
                let complete = |seen: &[u8]| {
                    let head_end = super::find(seen, b"\r\n\r\n")?;
                    let head = String::from_utf8_lossy(&seen[..head_end]).to_ascii_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    (seen.len() >= head_end + 4 + length).then_some(())
                };
                while complete(&seen).is_none() {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&seen);
                let path = head.split(' ').nth(1).unwrap_or_default();
                let body = match path {
                    "/v1/jwks" => jwks,
                    "/v1/m2m_tokens" => {
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_secs());
                        json!({ "token": "m2m.bench.token", "expiration": (now + 300) * 1000 })
                            .to_string()
                    }
                    _ => r#"{"user":"user_bench"}"#.to_owned(),
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    Ok(addr)
}
