//! `POST /register` through the real `auth` component (RFC 7591): what clients get back,
//! what the store keeps, and that every rejection leaves the store untouched.

#[path = "../support/mod.rs"]
mod support;

use serde_json::{Value, json};
use support::App;

async fn register(
    app: &App,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.client
        .post(app.url("/register"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

fn stored_client(app: &App, client_id: &str) -> Value {
    let entries = app.host.kv_snapshot();
    serde_json::from_slice(&entries[&format!("cl:{client_id}")]).unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_client_registers_as_the_typescript_sdk_does() {
    let app = App::start().await;
    let body = json!({
        "client_name": "MCP Inspector",
        "redirect_uris": ["http://localhost:6274/oauth/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": "mcp"
    });
    let resp = register(&app, "application/json", body.to_string()).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let reg: Value = resp.json().await.unwrap();
    let client_id = reg["client_id"].as_str().unwrap();
    assert!(
        client_id.starts_with("mcp_") && client_id.len() == 26,
        "{client_id}"
    );
    assert_eq!(
        reg["redirect_uris"],
        json!(["http://localhost:6274/oauth/callback"])
    );
    assert_eq!(reg["token_endpoint_auth_method"], "none");
    assert_eq!(
        reg["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(reg["response_types"], json!(["code"]));
    assert_eq!(reg["client_name"], "MCP Inspector");
    assert_eq!(reg["scope"], "mcp");
    assert!(reg.get("client_secret").is_none());

    let stored = stored_client(&app, client_id);
    // Provisional until its first code exchange: a sign-in and its code, 20 minutes.
    let expires = stored["exp"].as_u64().unwrap();
    let provisional = 20 * 60;
    assert!(
        (now() + provisional - 5..=now() + provisional + 5).contains(&expires),
        "{stored}"
    );
    assert_eq!(stored["auth_method"], "none");
    assert!(stored.get("secret_hash").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confidential_client_secret_is_returned_once_and_stored_only_as_a_hash() {
    let app = App::start().await;
    let resp = register(
        &app,
        "application/json; charset=utf-8",
        r#"{"redirect_uris":["https://app.example/cb"]}"#,
    )
    .await;
    assert_eq!(resp.status(), 201);
    let reg: Value = resp.json().await.unwrap();
    assert_eq!(
        reg["token_endpoint_auth_method"], "client_secret_basic",
        "the RFC 7591 default"
    );
    let secret = reg["client_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 43);
    assert_eq!(reg["client_secret_expires_at"], 0);

    for (key, value) in app.host.kv_snapshot() {
        assert!(
            !String::from_utf8_lossy(&value).contains(secret),
            "secret in the clear under {key}"
        );
    }
    let stored = stored_client(&app, reg["client_id"].as_str().unwrap());
    assert_eq!(
        stored["secret_hash"],
        json!(oauth::secret::SecretHash::of(secret))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_registration_gets_its_own_client_id() {
    let app = App::start().await;
    let body = r#"{"redirect_uris":["http://127.0.0.1:9/cb"],"token_endpoint_auth_method":"none"}"#;
    let a: Value = register(&app, "application/json", body)
        .await
        .json()
        .await
        .unwrap();
    let b: Value = register(&app, "application/json", body)
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(a["client_id"], b["client_id"]);
    let clients = app
        .host
        .kv_snapshot()
        .into_keys()
        .filter(|k| k.starts_with("cl:"));
    assert_eq!(clients.count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_registrations_change_nothing() {
    let app = App::start().await;
    let ok_uris = r#""redirect_uris":["https://app.example/cb"]"#;
    let oversized = format!(r#"{{{ok_uris},"client_name":"{}"}}"#, "x".repeat(17 * 1024));
    // (case, content type, body, status, error)
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        (
            "form body",
            "application/x-www-form-urlencoded",
            "redirect_uris=https://a.example/cb".into(),
            400,
            "invalid_client_metadata",
        ),
        (
            "no content type",
            "",
            format!("{{{ok_uris}}}"),
            400,
            "invalid_client_metadata",
        ),
        (
            "malformed JSON",
            "application/json",
            "{\"redirect_uris\":".into(),
            400,
            "invalid_client_metadata",
        ),
        (
            "JSON array",
            "application/json",
            "[]".into(),
            400,
            "invalid_client_metadata",
        ),
        (
            "no redirect_uris",
            "application/json",
            r#"{"client_name":"x"}"#.into(),
            400,
            "invalid_redirect_uri",
        ),
        (
            "http on a public host",
            "application/json",
            r#"{"redirect_uris":["http://evil.example/cb"]}"#.into(),
            400,
            "invalid_redirect_uri",
        ),
        (
            "javascript: URI",
            "application/json",
            r#"{"redirect_uris":["javascript:alert(1)"]}"#.into(),
            400,
            "invalid_redirect_uri",
        ),
        (
            "fragment",
            "application/json",
            r#"{"redirect_uris":["https://a.example/cb#f"]}"#.into(),
            400,
            "invalid_redirect_uri",
        ),
        (
            "unsupported auth method",
            "application/json",
            format!(r#"{{{ok_uris},"token_endpoint_auth_method":"private_key_jwt"}}"#),
            400,
            "invalid_client_metadata",
        ),
        (
            "implicit grant",
            "application/json",
            format!(r#"{{{ok_uris},"grant_types":["implicit"]}}"#),
            400,
            "invalid_client_metadata",
        ),
        (
            "token response type",
            "application/json",
            format!(r#"{{{ok_uris},"response_types":["token"]}}"#),
            400,
            "invalid_client_metadata",
        ),
        (
            "oversized body",
            "application/json",
            oversized,
            413,
            "invalid_request",
        ),
    ];
    let before = app.host.kv_snapshot();
    for (case, content_type, body, status, error) in cases {
        let resp = register(&app, content_type, body).await;
        assert_eq!(resp.status(), status, "{case}");
        assert_eq!(resp.headers()["cache-control"], "no-store", "{case}");
        let json: Value = resp.json().await.unwrap();
        assert_eq!(json["error"], error, "{case}");
        assert_eq!(app.host.kv_snapshot(), before, "{case} changed the store");
    }
    let get = app.get("/register").await;
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
}
