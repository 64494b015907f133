//! The real `token` component's request checks: well-formed RFC 6749 §5.2 errors, never
//! cached, before any grant is looked at. Grant behaviour is in `flows.rs`.

#[path = "../support/mod.rs"]
mod support;

use serde_json::Value;
use support::App;

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_token_requests_get_rfc_6749_errors() {
    let app = App::start().await;
    let client = support::oauth::register_public(&app).await;
    let id = client.id.as_str();
    // (case, content type, body, status, error)
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        (
            "no client identification",
            FORM,
            "grant_type=authorization_code&code=x".into(),
            401,
            "invalid_client",
        ),
        (
            "unknown client",
            FORM,
            "grant_type=authorization_code&code=x&client_id=mcp_nobody".into(),
            401,
            "invalid_client",
        ),
        (
            "unknown grant",
            FORM,
            format!("grant_type=password&username=a&client_id={id}"),
            400,
            "unsupported_grant_type",
        ),
        (
            "missing grant_type",
            FORM,
            format!("code=x&client_id={id}"),
            400,
            "invalid_request",
        ),
        (
            "repeated grant_type",
            FORM,
            format!("grant_type=refresh_token&grant_type=authorization_code&client_id={id}"),
            400,
            "invalid_request",
        ),
        (
            "JSON body",
            "application/json",
            format!(r#"{{"grant_type":"authorization_code","client_id":"{id}"}}"#),
            400,
            "invalid_request",
        ),
        (
            "missing code",
            FORM,
            format!("grant_type=authorization_code&client_id={id}&code_verifier=x"),
            400,
            "invalid_request",
        ),
        (
            "unknown code",
            FORM,
            format!(
                "grant_type=authorization_code&client_id={id}&code=nope&code_verifier={}",
                "a".repeat(43)
            ),
            400,
            "invalid_grant",
        ),
        (
            "malformed refresh token",
            FORM,
            format!("grant_type=refresh_token&client_id={id}&refresh_token=junk"),
            400,
            "invalid_grant",
        ),
        (
            "oversized body",
            FORM,
            format!(
                "grant_type=authorization_code&client_id={id}&pad={}",
                "x".repeat(17 * 1024)
            ),
            413,
            "invalid_request",
        ),
    ];
    let before = app.host.kv_snapshot();
    for (case, content_type, body, status, error) in cases {
        let resp = app
            .client
            .post(app.url("/token"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), status, "{case}");
        assert_eq!(resp.headers()["cache-control"], "no-store", "{case}");
        let json: Value = resp.json().await.unwrap();
        assert_eq!(json["error"], error, "{case}");
        assert!(json["error_description"].is_string(), "{case}");
        assert_eq!(app.host.kv_snapshot(), before, "{case} changed the store");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_only_accepts_post() {
    let app = App::start().await;
    for path in ["/token", "/revoke"] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 405, "{path}");
        assert_eq!(resp.headers()["allow"], "POST", "{path}");
    }
}
