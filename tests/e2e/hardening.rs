//! Requests as an attacker sends them, through the real components: bodies over each
//! endpoint's limit refused before they are read, bodies that cannot be read, redirect
//! URIs that parse to something else than they say, an approval whose redirect cannot
//! be sent, and a bad Host; each answered in its endpoint's own shape (OAuth JSON,
//! JSON-RPC, an HTML page), never a 5xx, and writing nothing.

#[path = "../support/mod.rs"]
mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::App;
use support::oauth::{self, Pkce};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The shape an endpoint answers errors in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    OAuth,
    JsonRpc,
    Page,
}

/// Each endpoint's body limit, as the README states it.
fn limit(path: &str) -> usize {
    match path {
        "/token" | "/revoke" | "/register" => 16 * 1024,
        "/authorize" => 8 * 1024,
        "/mcp" => 1024 * 1024,
        _ => 0,
    }
}

/// (path, method, content type, shape)
const BODY_ENDPOINTS: [(&str, &str, &str, Shape); 5] = [
    (
        "/token",
        "POST",
        "application/x-www-form-urlencoded",
        Shape::OAuth,
    ),
    (
        "/revoke",
        "POST",
        "application/x-www-form-urlencoded",
        Shape::OAuth,
    ),
    ("/register", "POST", "application/json", Shape::OAuth),
    (
        "/authorize",
        "POST",
        "application/x-www-form-urlencoded",
        Shape::Page,
    ),
    ("/mcp", "POST", "application/json", Shape::JsonRpc),
];

/// Sends `head` (and `body`) on a fresh connection and reads the whole answer, which
/// must come within 10 s and close or complete.
async fn raw(app: &App, head: &str, body: &[u8]) -> (u16, String, String) {
    let mut socket = TcpStream::connect(app.host.addr()).await.unwrap();
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    let read = async {
        loop {
            let mut chunk = [0u8; 8192];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
            }
            if complete(&answer) {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap_or_else(|_| panic!("no answer to {head}"));
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

/// Whether `answer` holds a whole response with a Content-Length body.
fn complete(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    head.to_ascii_lowercase()
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|l| l.trim().parse::<usize>().ok())
        .is_some_and(|length| body.len() >= length)
}

fn assert_shape(shape: Shape, head: &str, body: &str, what: &str) {
    match shape {
        Shape::OAuth => {
            let json: Value =
                serde_json::from_str(body).unwrap_or_else(|_| panic!("{what}: {body}"));
            assert!(json["error"].is_string(), "{what}: {body}");
            assert!(json.get("jsonrpc").is_none(), "{what}: {body}");
        }
        Shape::JsonRpc => {
            let json: Value =
                serde_json::from_str(body).unwrap_or_else(|_| panic!("{what}: {body}"));
            assert_eq!(json["jsonrpc"], "2.0", "{what}: {body}");
            assert!(json["error"]["code"].is_i64(), "{what}: {body}");
        }
        Shape::Page => {
            assert!(head.contains("content-type: text/html"), "{what}: {head}");
            assert!(body.contains("<h1>"), "{what}: {body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_body_over_the_limit_is_refused_without_being_read() {
    let app = App::start().await;
    let before = app.host.kv_snapshot();
    for (path, method, content_type, shape) in BODY_ENDPOINTS {
        // Declared, none sent: an endpoint that tried to read it would hang.
        for declared in [limit(path) + 1, 268_435_456] {
            let head = format!(
                "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\n\
                 Content-Length: {declared}\r\nConnection: close\r\n\r\n",
                app.host.addr()
            );
            let (status, head, body) = raw(&app, &head, b"").await;
            assert_eq!(status, 413, "{path} {declared}: {head}{body}");
            assert_shape(shape, &head, &body, path);
        }
    }
    assert_eq!(app.host.kv_snapshot(), before, "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_body_over_the_limit_is_refused_after_limit_plus_one_bytes() {
    let app = App::start().await;
    let before = app.host.kv_snapshot();
    for (path, method, content_type, shape) in BODY_ENDPOINTS {
        // Chunked, so the length is not known in advance: 2 MiB in 64 KiB chunks.
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            app.host.addr()
        );
        let chunk = format!("10000\r\n{}\r\n", "a".repeat(0x10000));
        let body = chunk.repeat(32) + "0\r\n\r\n";
        let (status, head, body) = raw(&app, &head, body.as_bytes()).await;
        assert_eq!(status, 413, "{path}: {head}{body}");
        assert_shape(shape, &head, &body, path);
    }
    assert_eq!(app.host.kv_snapshot(), before, "nothing written");
}

/// This process's resident memory, in bytes (the host runs in it).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_256_mb_body_leaves_the_hosts_memory_where_it_was() {
    let app = App::start().await;
    // Warm up: the component compiled and instantiated once.
    let warm = app.client.post(app.url("/token")).send().await.unwrap();
    assert!(warm.status().is_client_error());
    let before = resident_bytes();
    let socket = TcpStream::connect(app.host.addr()).await.unwrap();
    let head = format!(
        "POST /token HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.host.addr()
    );
    let (mut reader, mut writer) = socket.into_split();
    let sender = tokio::spawn(async move {
        let chunk = format!("100000\r\n{}\r\n", "a".repeat(0x100000));
        if writer.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        // 256 chunks of 1 MiB; the server stops reading long before the end.
        for _ in 0..256 {
            if writer.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), reader.read_to_end(&mut answer)).await;
    sender.abort();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    let grown = resident_bytes().saturating_sub(before);
    assert!(grown < 64 * 1024 * 1024, "the host grew by {grown} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_cannot_be_read_is_a_400_in_the_endpoints_shape() {
    let app = App::start().await;
    let before = app.host.kv_snapshot();
    for (path, method, content_type, shape) in BODY_ENDPOINTS {
        // The reproducer: a chunk size that is not hexadecimal.
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            app.host.addr()
        );
        let (status, head, body) = raw(&app, &head, b"zz\r\nabc\r\n0\r\n\r\n").await;
        assert_eq!(status, 400, "{path}: {head}{body}");
        assert_shape(shape, &head, &body, path);
        assert!(
            !body.contains("ErrorCode"),
            "{path}: no host error text: {body}"
        );
    }
    assert_eq!(app.host.kv_snapshot(), before, "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_host_is_answered_in_each_endpoints_shape() {
    let app = App::start().await;
    // (path, method, shape)
    let cases = [
        ("/mcp", "POST", Shape::JsonRpc),
        ("/token", "POST", Shape::OAuth),
        (
            "/.well-known/oauth-authorization-server",
            "GET",
            Shape::OAuth,
        ),
        ("/authorize", "GET", Shape::Page),
        ("/", "GET", Shape::Page),
    ];
    for (path, method, shape) in cases {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: user@evil.example\r\nContent-Type: application/json\r\n\
             Content-Length: 2\r\nConnection: close\r\n\r\n"
        );
        let (status, head, body) = raw(&app, &head, b"{}").await;
        assert!(
            (400..500).contains(&status),
            "{path}: {status} {head}{body}"
        );
        assert_shape(shape, &head, &body, path);
    }
}

/// Registers a public client for `redirect`, or returns the registration's error.
async fn register(app: &App, redirect: &str) -> Result<oauth::Client, Value> {
    let resp = app
        .client
        .post(app.url("/register"))
        .json(&json!({ "redirect_uris": [redirect], "token_endpoint_auth_method": "none" }))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    oauth::settle(app).await;
    if status == 201 {
        Ok(oauth::Client {
            id: body["client_id"].as_str().unwrap().to_owned(),
            secret: None,
        })
    } else {
        assert_eq!(status, 400, "{body}");
        Err(body)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_takes_only_redirect_uris_that_say_what_they_parse_to() {
    let app = App::start().await;
    let base = "http://127.0.0.1:8976/callback";
    let mut refused = vec![
        format!("{base}\u{0}"),
        format!("\u{1}{base}"),
        format!("{base}\r\n"),
        "http://127.0.0.1:8976/call\r\nback".to_owned(),
        "http://127.0.0.1:8976/call\tback".to_owned(),
        format!(" {base}"),
        format!("{base} "),
        "http://127.0.0.1:8976/x/../callback".to_owned(),
        "http://127.0.0.1:8976/%2e%2e/callback".to_owned(),
        "http://127.1:8976/callback".to_owned(),
        "http://[0:0::1]:8976/callback".to_owned(),
        "HTTP://127.0.0.1:8976/callback".to_owned(),
        "http://127.0.0.1:8976/%63allback".to_owned(),
        "http://127.0.0.1:8976/cb%2f".to_owned(),
        "https://app.example:443/cb".to_owned(),
        "https://app.example/cb#top".to_owned(),
        "https://user@app.example/cb".to_owned(),
        "http://app.example:8080/cb".to_owned(),
    ];
    // A control character at every position of the URI.
    for at in 0..=base.len() {
        refused.push(format!("{}\u{7}{}", &base[..at], &base[at..]));
    }
    let before = app.host.kv_snapshot();
    for uri in &refused {
        let error = register(&app, uri)
            .await
            .err()
            .unwrap_or_else(|| panic!("{uri:?} registered"));
        assert_eq!(error["error"], "invalid_redirect_uri", "{uri:?}");
    }
    assert_eq!(app.host.kv_snapshot(), before, "refusals wrote nothing");
    for uri in [
        base,
        "http://[::1]:8976/callback",
        "http://localhost:8976/callback",
        "https://app.example:8443/cb",
        "https://app.example/cb%2F",
        "cursor://anysphere.cursor-retrieval/oauth/callback",
    ] {
        assert!(register(&app, uri).await.is_ok(), "{uri}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_redirects_only_to_a_registered_string() {
    let app = App::start().await;
    let client = register(&app, "http://127.0.0.1:8976/callback")
        .await
        .unwrap();
    let pkce = Pkce::new(80);
    let before = app.host.kv_snapshot();
    for requested in [
        "http://127.0.0.1:8976/callback\u{0}",
        "http://127.0.0.1:8976/callback ",
        "http://127.1:8976/x/../callback",
        "http://127.0.0.1:8976/x/../callback",
        "http://127.0.0.1:8976/%63allback",
        "http://localhost:8976/callback",
        "http://[::1]:8976/callback",
        "https://127.0.0.1:8976/callback",
        "http://127.0.0.1:8976/callback#x",
        "http://user@127.0.0.1:8976/callback",
    ] {
        let query = oauth::authorize_query(&app, &client, &pkce, &[("redirect_uri", requested)]);
        let resp = app.get(&format!("/authorize?{query}")).await;
        assert_eq!(resp.status(), 400, "{requested:?}");
        assert!(
            resp.headers().get("location").is_none(),
            "{requested:?} redirected"
        );
        assert!(
            resp.text().await.unwrap().contains("Sign-in failed"),
            "{requested:?}"
        );
    }
    assert_eq!(app.host.kv_snapshot(), before);
    // Only the port of a loopback literal may differ, and the code goes to the
    // registered string with that port.
    let query = oauth::authorize_query(
        &app,
        &client,
        &pkce,
        &[("redirect_uri", "http://127.0.0.1:51234/callback")],
    );
    let form = oauth::open_consent(&app, &query).await;
    let resp =
        oauth::submit_consent(&app, &form, &[("decision", "approve"), ("user", "ana")]).await;
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("http://127.0.0.1:51234/callback?code="),
        "{location}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_whose_redirect_cannot_be_sent_writes_nothing() {
    let app = App::start().await;
    // A client stored before redirect URIs had to be canonical, with a NUL in one.
    let client = register(&app, "http://127.0.0.1:8976/callback")
        .await
        .unwrap();
    let key = format!("cl:{}", client.id);
    let mut stored: Value = serde_json::from_slice(&app.host.kv_snapshot()[&key]).unwrap();
    let legacy = "http://127.0.0.1:8976/callback\u{0}";
    stored["redirect_uris"] = json!([legacy]);
    app.host.kv_put(&key, stored.to_string().as_bytes());
    let pkce = Pkce::new(81);
    let query = oauth::authorize_query(&app, &client, &pkce, &[("redirect_uri", legacy)]);
    let form = oauth::open_consent(&app, &query).await;
    let before = app.host.kv_snapshot();
    let resp =
        oauth::submit_consent(&app, &form, &[("decision", "approve"), ("user", "ana")]).await;
    assert_eq!(resp.status(), 400);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(
        app.host.kv_snapshot(),
        before,
        "no grant or code left behind"
    );
    // Denying is refused the same way, as a page, not an empty 500.
    let resp = oauth::submit_consent(&app, &form, &[("decision", "deny")]).await;
    assert_eq!(resp.status(), 400);
}
