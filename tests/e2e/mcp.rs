//! The real `mcp` component: unauthenticated requests get the challenge that starts a
//! client's OAuth discovery (RFC 9728 §5.1, MCP authorization); authenticated ones are
//! answered as JSON-RPC: `initialize`, `ping`, `tools/list`, `tools/call`.

#[path = "../support/mod.rs"]
mod support;

use support::App;

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

async fn post_mcp(app: &App, authorization: Option<&str>) -> reqwest::Response {
    post_mcp_to(app, None, authorization).await
}

/// POSTs `initialize`, with `host` as the Host header when given.
async fn post_mcp_to(
    app: &App,
    host: Option<&str>,
    authorization: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(INITIALIZE);
    if let Some(host) = host {
        req = req.header("host", host);
    }
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
    let resp = post_mcp_to(&app, Some("mcp.example.com"), None).await;
    assert_eq!(
        resp.headers()["www-authenticate"],
        r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp""#
    );
}

/// Runs the local sign-in flow and returns (client, access token, refresh token).
/// The store key and record of the (only) grant.
fn stored_grant(app: &App) -> (String, Vec<u8>) {
    app.host
        .kv_snapshot()
        .into_iter()
        .find(|(key, _)| key.starts_with("gr:"))
        .expect("the sign-in stored a grant")
}

async fn signed_in(app: &App) -> (support::oauth::Client, String, String) {
    let (client, tokens) = support::oauth::sign_in_locally(app, 21, "mia").await;
    let token = |name: &str| tokens[name].as_str().unwrap().to_owned();
    (client, token("access_token"), token("refresh_token"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issued_token_is_accepted_and_a_session_call_reads_twice_and_writes_nothing() {
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
    // The grant is read; the new session is indexed for the sweep (an increment and
    // a slot) and written.
    assert_eq!(
        app.host.kv_stats(),
        test_host::kv::KvStats {
            reads: 1,
            writes: 3,
            listings: 0,
        }
    );
    let session = resp.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    app.host.reset_kv_stats();
    let call = rpc(
        &app,
        &access,
        Some(&session),
        r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}"#,
    )
    .await;
    assert_eq!(call["result"]["structuredContent"]["sum"], 3.0);
    // The grant and the session.
    assert_eq!(
        app.host.kv_stats(),
        test_host::kv::KvStats {
            reads: 2,
            writes: 0,
            listings: 0,
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
    // Genuinely signed with the grant's key, but expired a second ago.
    let (key, record) = stored_grant(&app);
    let grant: oauth::grant::GrantRecord = serde_json::from_slice(&record).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expired = grant.access_token(&key["gr:".len()..], now - 1).unwrap();
    refused(post_mcp(&app, Some(&format!("Bearer {expired}"))).await);
    let fresh = grant.access_token(&key["gr:".len()..], now + 60).unwrap();
    let resp = post_mcp(&app, Some(&format!("Bearer {fresh}"))).await;
    assert_eq!(resp.status(), 200, "the same key and a later expiry pass");

    // The same token at a server whose resource is another URL (same store).
    let dir = app.shutdown().await;
    let elsewhere = App::start_in(
        dir.clone(),
        support::project_manifest(),
        &[("base_url", "https://other.example")],
    )
    .await;
    refused(
        post_mcp_to(
            &elsewhere,
            Some("other.example"),
            Some(&format!("Bearer {access}")),
        )
        .await,
    );
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

/// POSTs one JSON-RPC message with `token` (and `session`); returns the response.
async fn send(app: &App, token: &str, session: Option<&str>, body: &str) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_owned());
    if let Some(session) = session {
        req = req.header("mcp-session-id", session);
    }
    req.send().await.unwrap()
}

/// POSTs one JSON-RPC message; returns the JSON reply (asserting 200 and JSON).
async fn rpc(app: &App, token: &str, session: Option<&str>, body: &str) -> serde_json::Value {
    let resp = send(app, token, session, body).await;
    assert_eq!(resp.status(), 200, "{body}");
    assert_eq!(resp.headers()["content-type"], "application/json");
    resp.json().await.unwrap()
}

/// Opens a session; returns its id.
async fn open_session(app: &App, token: &str) -> String {
    let resp = send(app, token, None, INITIALIZE).await;
    assert_eq!(resp.status(), 200);
    resp.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialize_ping_and_tools_work_for_the_signed_in_user() {
    let app = App::start().await;
    let (client, access, _) = signed_in(&app).await;
    let resp = send(&app, &access, None, INITIALIZE).await;
    let session = resp.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    // 32 random bytes, unpadded base64url.
    assert_eq!(session.len(), 43, "{session}");
    let init: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(init["id"], 1);
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(init["result"]["serverInfo"]["name"], "mcp");
    // Without the fixtures there are no resources or prompts to announce.
    assert!(init["result"]["capabilities"]["tools"].is_object());
    assert!(init["result"]["capabilities"].get("resources").is_none());
    let newest = rpc(
        &app,
        &access,
        None,
        r#"{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2024-01-01","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
    )
    .await;
    assert_eq!(newest["result"]["protocolVersion"], "2025-11-25");

    let session = Some(session.as_str());
    let note = send(
        &app,
        &access,
        session,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    )
    .await;
    assert_eq!(note.status(), 202);
    assert!(note.bytes().await.unwrap().is_empty());

    let ping = rpc(
        &app,
        &access,
        session,
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
        session,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#,
    )
    .await;
    let tools = list["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["whoami", "add", "get_app_data"]);
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
        session,
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
        session,
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"add","arguments":{"a":"one"}}}"#,
    )
    .await;
    assert_eq!(bad["result"]["isError"], true, "{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_required_bound_to_their_user_and_end_on_delete() {
    let app = App::start().await;
    let (_, mia, _) = signed_in(&app).await;
    let (_, tokens) = support::oauth::sign_in_locally(&app, 22, "noah").await;
    let noah = tokens["access_token"].as_str().unwrap().to_owned();
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let session = open_session(&app, &mia).await;

    // A request other than initialize needs a session.
    let missing = send(&app, &mia, None, ping).await;
    assert_eq!(missing.status(), 400);
    let missing: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(missing["error"]["code"], -32600);

    // Unknown ids and other users' sessions do not exist.
    app.host.reset_kv_stats();
    for (token, id) in [(&mia, "not-a-session"), (&noah, session.as_str())] {
        let resp = send(&app, token, Some(id), ping).await;
        assert_eq!(resp.status(), 404, "{id}");
    }
    assert_eq!(app.host.kv_stats().writes, 0);
    // Deleting someone else's session is refused the same way, and leaves it alone.
    let delete = |token: String, id: String| {
        app.client
            .delete(app.url("/mcp"))
            .bearer_auth(token)
            .header("mcp-session-id", id)
            .send()
    };
    assert_eq!(
        delete(noah.clone(), session.clone())
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(send(&app, &mia, Some(&session), ping).await.status(), 200);

    // The store holds the session under its hash, never the id itself.
    let stored = app.host.kv_snapshot();
    assert!(stored.keys().any(|k| k.starts_with("ms:")));
    assert!(!stored.keys().any(|k| k.contains(&session)));

    // DELETE ends it: afterwards it is 404, like an unknown one.
    assert_eq!(
        delete(mia.clone(), session.clone()).await.unwrap().status(),
        204
    );
    assert_eq!(send(&app, &mia, Some(&session), ping).await.status(), 404);
    assert_eq!(
        delete(mia.clone(), session.clone()).await.unwrap().status(),
        404
    );
    let no_id = app
        .client
        .delete(app.url("/mcp"))
        .bearer_auth(&mia)
        .send()
        .await
        .unwrap();
    assert_eq!(no_id.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_hosts_and_origins_are_refused_and_allowed_origins_get_cors() {
    let app = App::start_with(
        support::project_manifest(),
        &[("allowed_origins", "https://inspector.example.org")],
    )
    .await;
    let (_, access, _) = signed_in(&app).await;
    let bearer = format!("Bearer {access}");
    // DNS rebinding: a foreign Host, with or without a token.
    for authorization in [None, Some(bearer.as_str())] {
        let resp = post_mcp_to(&app, Some("evil.example.com"), authorization).await;
        assert_eq!(resp.status(), 403);
    }
    // A loopback server lets every loopback name past the guard; the token, though,
    // was issued for the resource at 127.0.0.1, not at localhost.
    let port = app.host.addr().port();
    let resp = post_mcp_to(&app, Some(&format!("localhost:{port}")), Some(&bearer)).await;
    assert_eq!(resp.status(), 401);

    let with_origin = |origin: &'static str| {
        app.client
            .post(app.url("/mcp"))
            .bearer_auth(&access)
            .header("origin", origin)
            .header("content-type", "application/json")
            .body(INITIALIZE)
            .send()
    };
    let refused = with_origin("https://evil.example.com").await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let allowed = with_origin("https://inspector.example.org").await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://inspector.example.org"
    );
    let exposed = allowed.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(exposed.contains("Mcp-Session-Id") && exposed.contains("WWW-Authenticate"));

    // The preflight needs no token; a 401 carries the CORS headers so the browser
    // can read the challenge.
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/mcp"))
        .header("origin", "https://inspector.example.org")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let allowed_headers = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(
        allowed_headers.contains("Authorization") && allowed_headers.contains("Mcp-Session-Id")
    );
    let challenge = app
        .client
        .post(app.url("/mcp"))
        .header("origin", "https://inspector.example.org")
        .header("content-type", "application/json")
        .body(INITIALIZE)
        .send()
        .await
        .unwrap();
    assert_eq!(challenge.status(), 401);
    assert_eq!(
        challenge.headers()["access-control-allow-origin"],
        "https://inspector.example.org"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_unsupported_requests_get_json_rpc_errors() {
    let app = App::start().await;
    let (_, access, _) = signed_in(&app).await;
    let session = open_session(&app, &access).await;
    let oversized = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#,
        "x".repeat(1024 * 1024)
    );
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    // (case, content type, accept, MCP-Protocol-Version, body, status, JSON-RPC code)
    type Case<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, String, u16, i64);
    let json = "application/json";
    let both = "application/json, text/event-stream";
    let cases: Vec<Case> = vec![
        ("invalid JSON", json, both, None, "{".into(), 400, -32700),
        ("a batch", json, both, None, format!("[{ping}]"), 400, -32600),
        (
            "wrong jsonrpc",
            json,
            both,
            None,
            r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#.into(),
            400,
            -32600,
        ),
        (
            "params not an object",
            json,
            both,
            None,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":[]}"#.into(),
            400,
            -32602,
        ),
        (
            "unknown method",
            json,
            both,
            None,
            r#"{"jsonrpc":"2.0","id":1,"method":"nope/nothing"}"#.into(),
            200,
            -32601,
        ),
        (
            "unknown tool",
            json,
            both,
            None,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}}"#.into(),
            200,
            -32602,
        ),
        (
            "bad log level",
            json,
            both,
            None,
            r#"{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"loud"}}"#
                .into(),
            200,
            -32602,
        ),
        (
            "unknown resource",
            json,
            both,
            None,
            r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"test://nothing"}}"#
                .into(),
            200,
            -32002,
        ),
        ("wrong content type", "text/plain", both, None, ping.into(), 415, -32600),
        ("unacceptable Accept", json, "text/html", None, ping.into(), 406, -32600),
        (
            "unsupported protocol version",
            json,
            both,
            Some("1999-01-01"),
            ping.into(),
            400,
            -32022,
        ),
        ("too large", json, both, None, oversized, 413, -32600),
    ];
    for (case, content_type, accept, version, body, status, code) in cases {
        let mut req = app
            .client
            .post(app.url("/mcp"))
            .bearer_auth(&access)
            .header("mcp-session-id", &session)
            .header("content-type", content_type)
            .header("accept", accept)
            .body(body);
        if let Some(version) = version {
            req = req.header("mcp-protocol-version", version);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), status, "{case}");
        let reply: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(reply["error"]["code"], code, "{case}: {reply}");
        assert_eq!(reply["jsonrpc"], "2.0", "{case}");
        if case == "unsupported protocol version" {
            assert_eq!(reply["error"]["data"]["requested"], "1999-01-01");
            assert_eq!(
                reply["error"]["data"]["supported"][0], "2026-07-28",
                "{reply}"
            );
        }
    }
    // No standalone stream: GET is 405 and names what is allowed.
    let resp = app
        .client
        .get(app.url("/mcp"))
        .bearer_auth(&access)
        .header("mcp-session-id", &session)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST, DELETE");
}

/// A 2026-07-28 request: no session; headers repeat the method and name.
fn stateless(
    app: &App,
    token: &str,
    method: &str,
    name: Option<&str>,
    params: serde_json::Value,
) -> reqwest::RequestBuilder {
    stateless_from(app, token, method, name, params, serde_json::json!({}))
}

/// A 2026-07-28 request from a client declaring `capabilities`.
fn stateless_from(
    app: &App,
    token: &str,
    method: &str,
    name: Option<&str>,
    params: serde_json::Value,
    capabilities: serde_json::Value,
) -> reqwest::RequestBuilder {
    let mut params = params;
    params["_meta"] = serde_json::json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": capabilities,
    });
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
    let mut req = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method)
        .body(body.to_string());
    if let Some(name) = name {
        req = req.header("mcp-name", name);
    }
    req
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stateless_tool_call_reads_the_grant_once_and_writes_nothing() {
    let app = App::start().await;
    let (_, access, _) = signed_in(&app).await;
    app.host.reset_kv_stats();
    let resp = stateless(
        &app,
        &access,
        "tools/call",
        Some("add"),
        serde_json::json!({"name": "add", "arguments": {"a": 4, "b": 5}}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("mcp-session-id").is_none());
    let reply: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(reply["result"]["structuredContent"]["sum"], 9.0);
    assert_eq!(reply["result"]["resultType"], "complete");
    assert_eq!(
        app.host.kv_stats(),
        test_host::kv::KvStats {
            reads: 1,
            writes: 0,
            listings: 0,
        }
    );

    let discover = stateless(
        &app,
        &access,
        "server/discover",
        None,
        serde_json::json!({}),
    )
    .send()
    .await
    .unwrap();
    let discover: serde_json::Value = discover.json().await.unwrap();
    assert_eq!(discover["result"]["supportedVersions"][0], "2026-07-28");
    assert_eq!(
        discover["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "mcp"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateless_requests_with_wrong_headers_or_removed_methods_are_refused() {
    let app = App::start().await;
    let (_, access, _) = signed_in(&app).await;
    let add = serde_json::json!({"name": "add", "arguments": {"a": 1, "b": 1}});
    // (case, request, status, JSON-RPC code)
    let cases = [
        (
            "Mcp-Name differs from the body",
            stateless(&app, &access, "tools/call", Some("whoami"), add.clone()),
            400,
            -32020,
        ),
        (
            "Mcp-Name missing",
            stateless(&app, &access, "tools/call", None, add.clone()),
            400,
            -32020,
        ),
        (
            "Mcp-Method differs from the body",
            stateless(&app, &access, "tools/call", Some("add"), add.clone())
                .header("mcp-method", "tools/list"),
            400,
            -32020,
        ),
        (
            "initialize is not part of 2026-07-28",
            stateless(&app, &access, "initialize", None, serde_json::json!({})),
            404,
            -32601,
        ),
        (
            "ping is not part of 2026-07-28",
            stateless(&app, &access, "ping", None, serde_json::json!({})),
            404,
            -32601,
        ),
    ];
    for (case, req, status, code) in cases {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), status, "{case}");
        let reply: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(reply["error"]["code"], code, "{case}: {reply}");
        assert_eq!(reply["id"], 7, "{case}: the error echoes the request id");
    }
    // No sessions on this revision, so nothing to DELETE.
    let resp = app
        .client
        .delete(app.url("/mcp"))
        .bearer_auth(&access)
        .header("mcp-protocol-version", "2026-07-28")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_the_mcp_scope_gets_403_insufficient_scope() {
    let app = App::start().await;
    let (_, access, _) = signed_in(&app).await;
    let (key, record) = stored_grant(&app);
    let mut grant: serde_json::Value = serde_json::from_slice(&record).unwrap();
    assert_eq!(grant["scope"], "mcp");
    grant["scope"] = serde_json::json!("profile");
    app.host.kv_put(&key, grant.to_string().as_bytes());

    let resp = post_mcp(&app, Some(&format!("Bearer {access}"))).await;
    assert_eq!(resp.status(), 403);
    let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with(r#"Bearer error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(challenge.contains(r#"scope="mcp""#), "{challenge}");
    assert!(challenge.contains("resource_metadata="), "{challenge}");
}

/// Calls a fixture tool on 2026-07-28 as a client that can elicit; returns the result.
async fn call_asking(
    app: &App,
    token: &str,
    tool: &str,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut params = serde_json::json!({ "name": tool, "arguments": {} });
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let capabilities = serde_json::json!({ "elicitation": {} });
    let resp = stateless_from(app, token, "tools/call", Some(tool), params, capabilities)
        .send()
        .await
        .unwrap();
    resp.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_required_rounds_carry_answers_in_a_state_bound_to_user_and_tool() {
    let app = App::start_with(support::conformance_manifest(), &[]).await;
    let (_, mia) = support::oauth::sign_in_locally(&app, 41, "mia").await;
    let (_, noor) = support::oauth::sign_in_locally(&app, 42, "noor").await;
    let mia = mia["access_token"].as_str().unwrap();
    let noor = noor["access_token"].as_str().unwrap();
    let tool = "test_input_required_result_multi_round";
    let accept = |field: &str, value: &str| serde_json::json!({ "action": "accept", "content": { field: value } });

    let first = call_asking(&app, mia, tool, serde_json::json!({})).await;
    assert_eq!(first["result"]["resultType"], "input_required", "{first}");
    assert_eq!(
        first["result"]["inputRequests"]["user_name"]["method"],
        "elicitation/create"
    );
    let state = first["result"]["requestState"].as_str().unwrap().to_owned();
    let answered = serde_json::json!({
        "requestState": state,
        "inputResponses": { "user_name": accept("name", "Ada") },
    });

    // The state is the user's and the tool's: another user, another tool, or a
    // changed state is invalid params, and nothing runs.
    for (token, tool, retry) in [
        (noor, tool, answered.clone()),
        (
            mia,
            "test_input_required_result_tampered_state",
            answered.clone(),
        ),
        (
            mia,
            tool,
            serde_json::json!({ "requestState": format!("{state}x"), "inputResponses": {} }),
        ),
    ] {
        let reply = call_asking(&app, token, tool, retry).await;
        assert_eq!(reply["error"]["code"], -32602, "{tool}: {reply}");
        assert_eq!(reply["id"], 7);
    }

    // Round two asks the next question and carries the first answer in a new state.
    // It reads the grant and the server key (once, to open one state and seal the
    // next), and writes nothing.
    app.host.reset_kv_stats();
    let second = call_asking(&app, mia, tool, answered).await;
    assert_eq!(
        app.host.kv_stats(),
        test_host::kv::KvStats {
            reads: 2,
            writes: 0,
            listings: 0,
        }
    );
    assert_eq!(second["result"]["resultType"], "input_required", "{second}");
    let inputs = second["result"]["inputRequests"].as_object().unwrap();
    assert_eq!(inputs.keys().collect::<Vec<_>>(), ["favorite_color"]);
    let next_state = second["result"]["requestState"].as_str().unwrap();
    assert_ne!(next_state, state);

    // Round three sends only the new answer; the state supplies the name.
    let third = call_asking(
        &app,
        mia,
        tool,
        serde_json::json!({
            "requestState": next_state,
            "inputResponses": { "favorite_color": accept("color", "teal") },
        }),
    )
    .await;
    assert_eq!(third["result"]["resultType"], "complete", "{third}");
    assert_eq!(third["result"]["content"][0]["text"], "Ada likes teal");

    // A client that cannot elicit is told which capability the tool needs.
    let resp = stateless(
        &app,
        mia,
        "tools/call",
        Some(tool),
        serde_json::json!({ "name": tool, "arguments": {} }),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 400);
    let reply: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(reply["error"]["code"], -32021);
    assert_eq!(
        reply["error"]["data"]["requiredCapabilities"],
        serde_json::json!({ "elicitation": {} })
    );
}
