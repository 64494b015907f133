//! The real `mcp` component: unauthenticated requests get the challenge that starts a
//! client's OAuth discovery (RFC 9728 §5.1, MCP authorization); authenticated ones are
//! answered as JSON-RPC: `initialize`, `ping`, `tools/list`, `tools/call`.

#[path = "../support/mod.rs"]
mod support;

use support::App;

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

async fn post_mcp(app: &App, authorization: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(INITIALIZE);
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_without_token_gets_a_challenge_naming_the_resource_metadata() {
    let app = App::start().await;
    let resp = post_mcp(&app, None).await;
    assert_eq!(resp.status(), 401);
    let prm_url = app.url("/.well-known/oauth-protected-resource/mcp");
    let challenge = resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    // RFC 6750 §3.1: no error code when no credentials were sent.
    assert_eq!(
        challenge,
        format!(r#"Bearer resource_metadata="{prm_url}", scope="mcp""#)
    );

    // The named document is served, and names this endpoint as the resource.
    let prm: serde_json::Value = app
        .client
        .get(&prm_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prm["resource"], app.url("/mcp"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_with_an_unknown_token_gets_invalid_token() {
    let app = App::start().await;
    let resp = post_mcp(&app, Some("Bearer not-a-token-we-issued")).await;
    assert_eq!(resp.status(), 401);
    let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with(r#"Bearer error="invalid_token", "#),
        "{challenge}"
    );
    assert!(challenge.contains(&format!(
        r#"resource_metadata="{}""#,
        app.url("/.well-known/oauth-protected-resource/mcp")
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_on_mcp_requires_authentication() {
    let app = App::start().await;
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let resp = app
            .client
            .request(method.clone(), app.url("/mcp"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{method}");
        assert!(resp.headers().contains_key("www-authenticate"), "{method}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenge_uses_the_configured_base_url() {
    let app = App::start_with(
        support::project_manifest(),
        &[("base_url", "https://mcp.example.com")],
    )
    .await;
    let resp = post_mcp(&app, None).await;
    assert_eq!(
        resp.headers()["www-authenticate"],
        r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp""#
    );
}

/// Runs the local sign-in flow and returns (client, access token, refresh token).
async fn signed_in(app: &App) -> (support::oauth::Client, String, String) {
    let (client, tokens) = support::oauth::sign_in_locally(app, 21, "mia").await;
    let token = |name: &str| tokens[name].as_str().unwrap().to_owned();
    (client, token("access_token"), token("refresh_token"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issued_token_is_accepted_with_one_store_read_and_no_write() {
    let app = App::start().await;
    let (_, access, _) = signed_in(&app).await;
    app.host.reset_kv_stats();
    let resp = post_mcp(&app, Some(&format!("Bearer {access}"))).await;
    assert_eq!(
        resp.status(),
        200,
        "a freshly issued token must be accepted at once"
    );
    assert!(resp.headers().get("www-authenticate").is_none());
    assert_eq!(
        app.host.kv_stats(),
        test_host::kv::KvStats {
            reads: 1,
            writes: 0
        }
    );
    app.host.reset_kv_stats();
    let call = rpc(
        &app,
        &access,
        r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}"#,
    )
    .await;
    assert_eq!(call["result"]["structuredContent"]["sum"], 3.0);
    assert_eq!(
        app.host.kv_stats(),
        test_host::kv::KvStats {
            reads: 1,
            writes: 0
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_misused_and_foreign_tokens_are_refused() {
    let app = App::start().await;
    let (_, access, refresh) = signed_in(&app).await;
    let refused = |resp: reqwest::Response| {
        assert_eq!(resp.status(), 401);
        let challenge = resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            challenge.starts_with(r#"Bearer error="invalid_token""#),
            "{challenge}"
        );
    };
    // The MAC no longer matches a later expiry.
    let parts: Vec<&str> = access.split('.').collect();
    let stretched = format!(
        "{}.{}.{}",
        parts[0],
        parts[1].parse::<u64>().unwrap() + 3600,
        parts[2]
    );
    refused(post_mcp(&app, Some(&format!("Bearer {stretched}"))).await);
    // A refresh token is not an access token.
    refused(post_mcp(&app, Some(&format!("Bearer {refresh}"))).await);
    // Not a bearer header at all.
    refused(post_mcp(&app, Some(&format!("Basic {access}"))).await);

    // The same token at a server whose resource is another URL (same store).
    let dir = app.shutdown().await;
    let elsewhere = App::start_in(
        dir.clone(),
        support::project_manifest(),
        &[("base_url", "https://other.example")],
    )
    .await;
    refused(post_mcp(&elsewhere, Some(&format!("Bearer {access}"))).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_grant_ends_its_access_tokens() {
    let app = App::start().await;
    let (client, access, refresh) = signed_in(&app).await;
    assert_ne!(
        post_mcp(&app, Some(&format!("Bearer {access}")))
            .await
            .status(),
        401
    );
    let resp = app
        .client
        .post(app.url("/revoke"))
        .form(&[
            ("token", refresh.as_str()),
            ("client_id", client.id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = post_mcp(&app, Some(&format!("Bearer {access}"))).await;
    assert_eq!(resp.status(), 401);
}

/// POSTs one JSON-RPC message with `token`; returns the JSON reply (asserting 200).
async fn rpc(app: &App, token: &str, body: &str) -> serde_json::Value {
    let resp = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{body}");
    assert_eq!(resp.headers()["content-type"], "application/json");
    resp.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialize_ping_and_tools_work_for_the_signed_in_user() {
    let app = App::start().await;
    let (client, access, _) = signed_in(&app).await;
    let init = rpc(&app, &access, INITIALIZE).await;
    assert_eq!(init["id"], 1);
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(init["result"]["serverInfo"]["name"], "mcp");
    let newest = rpc(
        &app,
        &access,
        r#"{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2024-01-01","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
    )
    .await;
    assert_eq!(newest["result"]["protocolVersion"], "2025-11-25");

    let note = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(&access)
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(note.status(), 202);
    assert!(note.bytes().await.unwrap().is_empty());

    let ping = rpc(
        &app,
        &access,
        r#"{"jsonrpc":"2.0","id":"p","method":"ping"}"#,
    )
    .await;
    assert_eq!(
        ping,
        serde_json::json!({"jsonrpc":"2.0","id":"p","result":{}})
    );

    let list = rpc(
        &app,
        &access,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#,
    )
    .await;
    let tools = list["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["whoami", "add"]);
    assert_eq!(
        tools[1]["inputSchema"]["required"],
        serde_json::json!(["a", "b"])
    );
    assert_eq!(
        tools[1]["outputSchema"]["properties"]["sum"]["type"],
        "number"
    );

    let me = rpc(
        &app,
        &access,
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#,
    )
    .await;
    let me = &me["result"]["structuredContent"];
    assert_eq!(me["user_id"], "local:mia");
    assert_eq!(me["client_id"], client.id.as_str());
    assert_eq!(me["scope"], "mcp");

    let bad = rpc(
        &app,
        &access,
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"add","arguments":{"a":"one"}}}"#,
    )
    .await;
    assert_eq!(bad["result"]["isError"], true, "{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_unsupported_requests_get_json_rpc_errors() {
    let app = App::start().await;
    let (_, access, _) = signed_in(&app).await;
    let oversized = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#,
        "x".repeat(1024 * 1024)
    );
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    // (case, content type, MCP-Protocol-Version, body, status, JSON-RPC code)
    let cases: Vec<(&str, &str, Option<&str>, String, u16, i64)> = vec![
        (
            "invalid JSON",
            "application/json",
            None,
            "{".into(),
            400,
            -32700,
        ),
        (
            "a batch",
            "application/json",
            None,
            format!("[{ping}]"),
            400,
            -32600,
        ),
        (
            "wrong jsonrpc",
            "application/json",
            None,
            r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#.into(),
            400,
            -32600,
        ),
        (
            "params not an object",
            "application/json",
            None,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":[]}"#.into(),
            400,
            -32602,
        ),
        (
            "unknown method",
            "application/json",
            None,
            r#"{"jsonrpc":"2.0","id":1,"method":"nope/nothing"}"#.into(),
            200,
            -32601,
        ),
        (
            "unknown tool",
            "application/json",
            None,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}}"#.into(),
            200,
            -32602,
        ),
        (
            "wrong content type",
            "text/plain",
            None,
            ping.into(),
            415,
            -32600,
        ),
        (
            "unsupported protocol version",
            "application/json",
            Some("1999-01-01"),
            ping.into(),
            400,
            -32600,
        ),
        (
            "too large",
            "application/json",
            None,
            oversized,
            413,
            -32600,
        ),
    ];
    for (case, content_type, version, body, status, code) in cases {
        let mut req = app
            .client
            .post(app.url("/mcp"))
            .bearer_auth(&access)
            .header("content-type", content_type)
            .body(body);
        if let Some(version) = version {
            req = req.header("mcp-protocol-version", version);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), status, "{case}");
        let reply: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(reply["error"]["code"], code, "{case}: {reply}");
        assert_eq!(reply["jsonrpc"], "2.0", "{case}");
    }
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let resp = app
            .client
            .request(method.clone(), app.url("/mcp"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 405, "{method}");
        assert_eq!(resp.headers()["allow"], "POST");
    }
}
