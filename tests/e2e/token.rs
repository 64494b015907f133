//! The real `token` component: well-formed RFC 6749 §5.2 errors, never cached.

#[path = "../support/mod.rs"]
mod support;

use serde_json::Value;
use support::App;

async fn post_token(
    app: &App,
    content_type: &str,
    body: &'static str,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let resp = app
        .client
        .post(app.url("/token"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, resp.json().await.unwrap(), headers)
}

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_requests_get_rfc_6749_errors() {
    let app = App::start().await;
    // (case, content type, body, expected error)
    let cases = [
        (
            "authorization_code before grants exist",
            FORM,
            "grant_type=authorization_code&code=x",
            "unsupported_grant_type",
        ),
        (
            "refresh_token before grants exist",
            FORM,
            "grant_type=refresh_token&refresh_token=x",
            "unsupported_grant_type",
        ),
        (
            "unknown grant",
            FORM,
            "grant_type=password&username=a",
            "unsupported_grant_type",
        ),
        ("missing grant_type", FORM, "code=x", "invalid_request"),
        ("empty grant_type", FORM, "grant_type=", "invalid_request"),
        (
            "repeated grant_type",
            FORM,
            "grant_type=refresh_token&grant_type=authorization_code",
            "invalid_request",
        ),
        (
            "JSON body",
            "application/json",
            r#"{"grant_type":"authorization_code"}"#,
            "invalid_request",
        ),
        (
            "invalid UTF-8 escape",
            FORM,
            "grant_type=%FF",
            "unsupported_grant_type",
        ),
    ];
    for (case, content_type, body, expected) in cases {
        let (status, json, headers) = post_token(&app, content_type, body).await;
        assert_eq!(status, 400, "{case}");
        assert_eq!(json["error"], expected, "{case}");
        assert!(json["error_description"].is_string(), "{case}");
        assert_eq!(headers["cache-control"], "no-store", "{case}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_only_accepts_post() {
    let app = App::start().await;
    let resp = app.get("/token").await;
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST");
}
