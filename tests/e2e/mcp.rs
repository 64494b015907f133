//! The real `mcp` component: unauthenticated requests get the challenge that starts a
//! client's OAuth discovery (RFC 9728 §5.1, MCP authorization).

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
    assert_ne!(
        resp.status(),
        401,
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
