//! How answers are framed on the wire, read from a raw keep-alive socket (no
//! `TCP_NODELAY`, like Python's `http.client`): every answer whose body is known leaves
//! with `Content-Length` and no chunked encoding, from each component, so that no
//! response ends in a small trailing segment that waits for the client's delayed ACK;
//! an SSE answer still streams, its first event arriving while the tool still works.

#[path = "../support/mod.rs"]
mod support;

use std::time::Duration;

use support::App;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One answer as it came off the socket.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a response head (and, given its `Content-Length`, its body) from `socket`,
/// leaving the connection open for the next request.
async fn read_answer(socket: &mut TcpStream) -> Answer {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before the head");
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buffer[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.trim().to_owned(), value.trim().to_owned())
        })
        .collect();
    let mut answer = Answer {
        status,
        headers,
        body: buffer[head_end + 4..].to_vec(),
    };
    let length: usize = answer
        .header("content-length")
        .map_or(0, |v| v.parse().unwrap());
    while answer.body.len() < length {
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed inside the body");
        answer.body.extend_from_slice(&chunk[..n]);
    }
    answer
}

fn request(app: &App, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
        app.host.addr(),
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_known_body_leaves_with_content_length_and_no_chunking() {
    let app = App::start().await;
    let (_, tokens) = support::oauth::sign_in_locally(&app, 70, "kai").await;
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let json = ("content-type", "application/json");
    let accept = ("accept", "application/json, text/event-stream");
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    // (component, request, status)
    let cases = [
        (
            "auth",
            request(
                &app,
                "GET",
                "/.well-known/oauth-protected-resource/mcp",
                &[],
                "",
            ),
            200,
        ),
        (
            "auth",
            request(&app, "GET", "/", &[("accept", "text/html")], ""),
            200,
        ),
        (
            "auth",
            request(&app, "GET", "/authorize?client_id=nobody", &[], ""),
            400,
        ),
        (
            "auth",
            request(&app, "POST", "/register", &[json], "{}"),
            400,
        ),
        (
            "token",
            request(
                &app,
                "POST",
                "/token",
                &[("content-type", "application/x-www-form-urlencoded")],
                "grant_type=refresh_token",
            ),
            401,
        ),
        (
            "mcp",
            request(
                &app,
                "POST",
                "/mcp",
                &[json, accept],
                r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            ),
            401,
        ),
        (
            "mcp",
            request(
                &app,
                "POST",
                "/mcp",
                &[
                    json,
                    accept,
                    ("authorization", &bearer),
                    ("mcp-protocol-version", "2026-07-28"),
                    ("mcp-method", "tools/call"),
                    ("mcp-name", "add"),
                ],
                call,
            ),
            200,
        ),
    ];
    // All on one keep-alive connection, as MCP clients hold theirs.
    let mut socket = TcpStream::connect(app.host.addr()).await.unwrap();
    for (component, request, status) in cases {
        socket.write_all(request.as_bytes()).await.unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(10), read_answer(&mut socket))
            .await
            .unwrap_or_else(|_| panic!("{component}: no complete answer to {request}"));
        let what = format!("{component} {}", request.lines().next().unwrap());
        assert_eq!(answer.status, status, "{what}");
        assert!(
            answer.header("transfer-encoding").is_none(),
            "{what} is chunked"
        );
        let length = answer.header("content-length");
        assert_eq!(
            length.map(|l| l.parse::<usize>().unwrap()),
            Some(answer.body.len()),
            "{what}: Content-Length"
        );
        assert!(!answer.body.is_empty(), "{what} has a body");
    }
    // A preflight has no body and, as a 204, no Content-Length either (RFC 9110 §8.6).
    let preflight = request(
        &app,
        "OPTIONS",
        "/token",
        &[
            ("origin", "https://a.example"),
            ("access-control-request-method", "POST"),
        ],
        "",
    );
    socket.write_all(preflight.as_bytes()).await.unwrap();
    let answer = read_answer(&mut socket).await;
    assert_eq!(answer.status, 204);
    assert!(answer.header("transfer-encoding").is_none());
    assert!(answer.header("content-length").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_stream_still_arrives_event_by_event() {
    let app = App::start_with(support::conformance_manifest(), &[]).await;
    let (_, tokens) = support::oauth::sign_in_locally(&app, 71, "sam").await;
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"test_tool_with_progress","arguments":{},"_meta":{"progressToken":"p1","io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    let call = request(
        &app,
        "POST",
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("authorization", &bearer),
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "test_tool_with_progress"),
        ],
        body,
    );
    let mut socket = TcpStream::connect(app.host.addr()).await.unwrap();
    socket.write_all(call.as_bytes()).await.unwrap();
    let answer = read_answer(&mut socket).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("text/event-stream"));
    assert!(
        answer.header("content-length").is_none(),
        "a stream has no known length"
    );
    // The first progress event comes with the head (or right after it); the tool then
    // works on for two more steps, so the result cannot be there yet.
    let mut received = answer.body;
    while !String::from_utf8_lossy(&received).contains("notifications/progress") {
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await.unwrap();
        assert!(n > 0);
        received.extend_from_slice(&chunk[..n]);
    }
    let first = String::from_utf8_lossy(&received).into_owned();
    assert!(
        !first.contains("\"result\""),
        "the result came with the first event: {first}"
    );
    // The rest follows, ending with the result.
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while !String::from_utf8_lossy(&rest).contains("\"result\"") {
            let mut chunk = [0u8; 4096];
            let n = socket.read(&mut chunk).await.unwrap();
            assert!(n > 0);
            rest.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("the result arrives");
    assert_eq!(
        String::from_utf8_lossy(&rest)
            .matches("notifications/progress")
            .count(),
        2,
        "two more progress events before the result"
    );
}
