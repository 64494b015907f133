//! Discovery through the real `auth` component: RFC 9728 protected-resource metadata
//! (path-inserted and root) and RFC 8414 authorization-server metadata.

#[path = "../support/mod.rs"]
mod support;

use serde_json::{Value, json};
use support::App;

async fn json_at(app: &App, path: &str) -> Value {
    let resp = app.get(path).await;
    assert_eq!(resp.status(), 200, "{path}");
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    resp.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_urls_derive_from_the_request_host_by_default() {
    let app = App::start().await;
    let origin = app.host.url();
    let prm = json_at(&app, "/.well-known/oauth-protected-resource/mcp").await;
    assert_eq!(
        prm,
        json!({
            "resource": format!("{origin}/mcp"),
            "authorization_servers": [origin],
            "scopes_supported": ["mcp"],
            "bearer_methods_supported": ["header"],
            "resource_name": "MCP server",
        })
    );
    // The root form describes the same resource.
    assert_eq!(
        json_at(&app, "/.well-known/oauth-protected-resource").await,
        prm
    );

    let asm = json_at(&app, "/.well-known/oauth-authorization-server").await;
    assert_eq!(asm["issuer"], origin);
    assert_eq!(asm["authorization_endpoint"], format!("{origin}/authorize"));
    assert_eq!(asm["token_endpoint"], format!("{origin}/token"));
    assert_eq!(asm["registration_endpoint"], format!("{origin}/register"));
    assert_eq!(asm["response_types_supported"], json!(["code"]));
    assert_eq!(asm["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(asm["authorization_response_iss_parameter_supported"], true);
    // RFC 9728 §3.3 / MCP: the PRM's authorization server is byte-identical to the issuer.
    assert_eq!(prm["authorization_servers"][0], asm["issuer"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base_url_variable_overrides_the_request_host() {
    let app = App::start_with(
        support::project_manifest(),
        &[("base_url", "https://mcp.example.com/")],
    )
    .await;
    let prm = json_at(&app, "/.well-known/oauth-protected-resource/mcp").await;
    assert_eq!(prm["resource"], "https://mcp.example.com/mcp");
    assert_eq!(
        prm["authorization_servers"],
        json!(["https://mcp.example.com"])
    );
    let asm = json_at(&app, "/.well-known/oauth-authorization-server").await;
    assert_eq!(asm["issuer"], "https://mcp.example.com");
    assert_eq!(asm["token_endpoint"], "https://mcp.example.com/token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_url_with_a_path_is_a_configuration_error() {
    let app = App::start_with(
        support::project_manifest(),
        &[("base_url", "https://mcp.example.com/prefix")],
    )
    .await;
    let resp = app.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(resp.status(), 500);
    let body = resp.text().await.unwrap();
    assert_eq!(
        body, r#"{"error":"server_error"}"#,
        "the detail goes to the log, not the client"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_header_that_is_not_an_authority_is_rejected() {
    let app = App::start().await;
    let resp = app
        .client
        .get(app.url("/.well-known/oauth-authorization-server"))
        .header("host", "evil.example@127.0.0.1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

/// A GET (or a form POST) to `path` with `host` as the Host header.
async fn with_host(app: &App, method: &str, path: &str, host: &str) -> reqwest::Response {
    let req = match method {
        "POST" => app
            .client
            .post(app.url(path))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")]),
        _ => app.client.get(app.url(path)),
    };
    req.header("host", host).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_base_url_only_loopback_hosts_are_served() {
    let app = App::start().await;
    let port = app.host.addr().port();
    let discovery = [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-authorization-server",
    ];
    for path in discovery {
        for host in [
            "evil.example",
            "evil.example:80",
            "127.0.0.2",
            "10.0.0.1",
            "[::2]",
        ] {
            let resp = with_host(&app, "GET", path, host).await;
            assert_eq!(resp.status(), 403, "{path} for {host}");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"], "invalid_request", "{path} for {host}");
            let description = body["error_description"].as_str().unwrap();
            assert!(description.contains("base_url"), "{description}");
            assert!(!description.contains("evil"), "the Host is not echoed");
        }
        // Every name of this machine still works, with any port.
        for host in [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("LOCALHOST:{port}"),
            format!("[::1]:{port}"),
        ] {
            let resp = with_host(&app, "GET", path, &host).await;
            assert_eq!(resp.status(), 200, "{path} for {host}");
            let body = resp.text().await.unwrap();
            assert!(body.contains(&host.to_ascii_lowercase()), "{body}");
        }
    }
    // The pages and the token endpoint refuse it too, each in its own shape.
    let page = with_host(&app, "GET", "/authorize?client_id=x", "evil.example").await;
    assert_eq!(page.status(), 403);
    assert!(page.text().await.unwrap().contains("base_url"));
    let door = with_host(&app, "GET", "/", "evil.example").await;
    assert_eq!(door.status(), 403);
    let token = with_host(&app, "POST", "/token", "evil.example").await;
    assert_eq!(token.status(), 403);
    assert_eq!(
        token.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_base_url_any_host_gets_the_configured_origin_never_its_own() {
    let app = App::start_with(
        support::project_manifest(),
        &[("base_url", "https://mcp.example.com")],
    )
    .await;
    let resp = with_host(
        &app,
        "GET",
        "/.well-known/oauth-authorization-server",
        "evil.example",
    )
    .await;
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    assert!(body.contains("https://mcp.example.com"), "{body}");
    assert!(!body.contains("evil.example"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_well_known_paths_and_other_methods_are_refused() {
    let app = App::start().await;
    assert_eq!(
        app.get("/.well-known/oauth-protected-resource/other")
            .await
            .status(),
        404
    );
    let post = app
        .client
        .post(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
    assert_eq!(post.headers()["allow"], "GET, HEAD");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_front_door_describes_the_deployment_as_json_to_programs() {
    let app = App::start_with(
        support::project_manifest(),
        &[("base_url", "https://mcp.example.com")],
    )
    .await;
    let door: Value = app
        .client
        .get(app.url("/"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mcp = "https://mcp.example.com/mcp";
    assert_eq!(door["mcp_url"], mcp);
    assert_eq!(door["sse_url"], "https://mcp.example.com/sse");
    assert_eq!(door["mode"], "local_development");
    assert_eq!(
        door["protected_resource_metadata"],
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    );
    assert_eq!(door["authorization_server"], "https://mcp.example.com");
    let clients = &door["clients"];
    assert_eq!(
        clients["claude_code"],
        format!("claude mcp add --transport http clerk-mcp {mcp}")
    );
    assert_eq!(
        clients["claude_desktop"]["mcpServers"]["clerk-mcp"]["args"],
        json!(["-y", "mcp-remote", mcp])
    );
    assert_eq!(clients["cursor"]["mcpServers"]["clerk-mcp"]["url"], mcp);
    assert_eq!(
        clients["vscode"]["servers"]["clerk-mcp"],
        json!({"type": "http", "url": mcp})
    );
    let text = door.to_string();
    assert!(!text.contains("secret"), "no secrets on the front door");

    // Browsers (and curl) get the page; anything but GET is refused.
    let page = app
        .client
        .get(app.url("/"))
        .header("accept", "text/html,*/*")
        .send()
        .await
        .unwrap();
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let post = app.client.post(app.url("/")).send().await.unwrap();
    assert_eq!(post.status(), 405);
    let icon = app.get("/favicon.ico").await;
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
}
