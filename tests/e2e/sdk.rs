//! The official TypeScript SDK's OAuth client (`@modelcontextprotocol/sdk`, pinned in
//! `tests/clients/package-lock.json`) completes the flow unattended against the real
//! components: once with local sign-in, once through Clerk (mock Clerk and app).

#[path = "../support/mod.rs"]
mod support;

use support::App;
use support::clerk::{self, MockClerk};

/// Runs `tests/clients/sdk-oauth-flow.mjs` against `app`; returns its JSON summary.
async fn run_sdk_client(app: &App) -> serde_json::Value {
    run_script(app, "sdk-oauth-flow.mjs").await
}

/// Runs a script of `tests/clients` against `app`; returns its JSON summary.
async fn run_script(app: &App, name: &str) -> serde_json::Value {
    let script = support::project_root().join("tests/clients").join(name);
    let output = tokio::process::Command::new("node")
        .arg(&script)
        .arg(app.host.url())
        .output()
        .await
        .expect(
            "node must be installed to run the SDK client (the test command installs its packages)",
        );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "SDK client failed:\n{stdout}\n{stderr}"
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_sdk_signs_in_locally_and_refreshes() {
    let app = App::start().await;
    let summary = run_sdk_client(&app).await;
    assert_eq!(summary["token_type"], "Bearer");
    assert_eq!(summary["scope"], "mcp");
    assert_eq!(summary["rotated"], true);
    assert_eq!(
        summary["tools"],
        serde_json::json!(["whoami", "add", "get_app_data"])
    );
    assert_eq!(summary["sum"], 5.0);
    assert_eq!(summary["user_id"], "local:sdk-user");
    // The SDK client over each 2025-era revision: negotiated, listed, called, ended.
    for version in ["2025-11-25", "2025-06-18", "2025-03-26"] {
        let run = &summary["versions"][version];
        assert_eq!(run["negotiated"], version, "{summary}");
        assert_eq!(run["tools"], 3, "{version}");
        assert_eq!(run["sum"], 2.0, "{version}");
        assert_eq!(
            run["ended"], true,
            "{version}: a deleted session still answered"
        );
    }
    let grants: Vec<serde_json::Value> = app
        .host
        .kv_snapshot()
        .iter()
        .filter(|(k, _)| k.starts_with("gr:"))
        .map(|(_, v)| serde_json::from_slice(v).unwrap())
        .collect();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0]["user_id"], "local:sdk-user");
    assert_eq!(grants[0]["refresh_generation"], 1);
}

/// The SDK's `SSEClientTransport` at `/sse`: the 401 there starts its OAuth flow, for
/// the resource `/sse`; the token then lists and calls tools, and an elicitation sent on
/// the stream is answered by the SDK's handler, at every revision the client may pin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_sdks_sse_transport_signs_in_and_calls_tools() {
    let app = App::start_with(support::conformance_manifest(), &[("sse_heartbeat", "1s")]).await;
    let summary = run_script(&app, "sdk-sse-flow.mjs").await;
    assert_eq!(summary["requested_resource"], app.url("/sse"), "{summary}");
    assert_eq!(summary["token_type"], "Bearer");
    assert_eq!(summary["scope"], "mcp");
    let tools = summary["tools"].as_array().unwrap();
    for tool in ["whoami", "add", "test_elicitation"] {
        assert!(
            tools.contains(&serde_json::json!(tool)),
            "{tool}: {summary}"
        );
    }
    assert_eq!(summary["sum"], 5.0);
    assert_eq!(summary["user_id"], "local:sse-user");
    assert_eq!(summary["elicitation"]["asked"], "Who are you?", "{summary}");
    let answered = summary["elicitation"]["result"].as_str().unwrap();
    assert!(
        answered.contains("action=accept") && answered.contains("sse-user@example.com"),
        "{answered}"
    );
    for version in ["2024-11-05", "2025-11-25", "2025-06-18", "2025-03-26"] {
        let run = &summary["versions"][version];
        assert_eq!(run["negotiated"], version, "{summary}");
        assert_eq!(run["sum"], 2.0, "{version}");
    }
    // Every stream the client closed takes its session along, within a heartbeat.
    let closed = std::time::Instant::now();
    loop {
        let left: Vec<String> = app
            .host
            .kv_snapshot()
            .into_keys()
            .filter(|k| k.starts_with("ss:") || k.starts_with("so:") || k.starts_with("sn:"))
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(closed.elapsed().as_secs() < 3, "{left:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// `mcp-remote --transport sse-only`, as Claude Desktop runs it, over stdio: its OAuth
/// flow from the 401 at `/sse` (browser step automated), then a tool call through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_remote_over_sse_signs_in_and_calls_a_tool() {
    mcp_remote_at_sse("sse-only").await;
}

/// Given the `/sse` URL with its default strategy (`http-first`), `mcp-remote` POSTs
/// there first, gets the 405, and falls back to the HTTP+SSE transport by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_remote_given_sse_with_its_default_strategy_falls_back_to_it() {
    mcp_remote_at_sse("http-first").await;
}

async fn mcp_remote_at_sse(strategy: &str) {
    let app = App::start().await;
    let port = support::free_port().to_string();
    let (ok, stdout, stderr) = support::node(
        "mcp-remote-sse.mjs",
        &[&app.host.url(), &port, "remote-user", strategy],
    )
    .await;
    assert!(ok, "mcp-remote failed:\n{stdout}\n{stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(summary["transport"], "SSEClientTransport", "{summary}");
    assert_eq!(summary["requested_resource"], app.url("/sse"));
    assert_eq!(summary["protocol_version"], "2024-11-05");
    assert_eq!(
        summary["tools"],
        serde_json::json!(["whoami", "add", "get_app_data"])
    );
    assert_eq!(summary["sum"], 42.0);
    assert_eq!(summary["user_id"], "local:remote-user");
    // The client mcp-remote registered redirects to its own loopback listener.
    let clients: Vec<serde_json::Value> = app
        .host
        .kv_snapshot()
        .iter()
        .filter(|(k, _)| k.starts_with("cl:"))
        .map(|(_, v)| serde_json::from_slice(v).unwrap())
        .collect();
    assert_eq!(clients.len(), 1);
    assert_eq!(
        clients[0]["redirect_uris"],
        serde_json::json!([format!("http://127.0.0.1:{port}/oauth/callback")])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_sdk_signs_in_through_clerk_and_refreshes() {
    let mock = MockClerk::start().await;
    mock.set_valid_token();
    let app = clerk::app(&mock).await;
    let summary = run_sdk_client(&app).await;
    assert_eq!(summary["rotated"], true);
    assert_eq!(summary["user_id"], "user_2abc");
    assert_eq!(
        mock.sign_ins.lock().unwrap().len(),
        1,
        "the sign-in went through the app's /auth/mcp"
    );
    let grant = app
        .host
        .kv_snapshot()
        .into_iter()
        .find(|(k, _)| k.starts_with("gr:"))
        .unwrap()
        .1;
    let grant: serde_json::Value = serde_json::from_slice(&grant).unwrap();
    assert_eq!(grant["user_id"], "user_2abc");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mcp_authorization_conformance_suite_passes() {
    let app = App::start().await;
    // A free port for the suite's callback server.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = support::project_root().join("tests/clients/conformance-authorization.mjs");
    let output = tokio::process::Command::new("node")
        .arg(&script)
        .arg(app.host.url())
        .arg(port.to_string())
        .output()
        .await
        .expect("node must be installed to run the conformance suite");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "conformance suite failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("authorization-code-grant: 1 passed, 0 failed"),
        "{stdout}"
    );
    // The metadata scenario's second check is client_id_metadata_document_supported.
    assert!(
        stdout.contains("authorization-server-metadata-endpoint: 2 passed, 0 failed"),
        "{stdout}"
    );
    assert!(stdout.contains("Total: 3 passed, 0 failed"), "{stdout}");
}
