//! Record lifetimes (configurable through variables), through the real components; the
//! sweep that removes expired records is `sweep.rs`.

#[path = "../support/mod.rs"]
mod support;

use serde_json::Value;
use support::App;
use support::oauth::{self, Pkce};
use test_host::kv::KvBackend;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn record(app: &App, key: &str) -> Value {
    serde_json::from_slice(&app.host.kv_snapshot()[key]).unwrap()
}

fn keys_with(app: &App, prefix: &str) -> Vec<String> {
    app.host
        .kv_snapshot()
        .into_keys()
        .filter(|k| k.starts_with(prefix))
        .collect()
}

/// `exp` of `value` is `expected` seconds from `start`, give or take the test's runtime.
fn assert_expires_in(value: &Value, start: u64, expected: u64) {
    let exp = value["exp"].as_u64().unwrap();
    assert!(
        (start + expected..=now() + expected).contains(&exp),
        "exp {exp} is not {expected}s after {start}: {value}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lifetime_follows_its_variable() {
    let app = App::start_with(
        support::project_manifest(),
        &[
            ("code_lifetime", "2m"),
            ("sign_in_lifetime", "180"),
            ("access_token_lifetime", "5m"),
            ("grant_lifetime", "2d"),
            ("client_lifetime", "8 days"),
        ],
    )
    .await;
    let start = now();
    let client = oauth::register_public(&app).await;
    // Provisional until its first code exchange: a sign-in and its code.
    let client_key = format!("cl:{}", client.id);
    assert_expires_in(&record(&app, &client_key), start, 180 + 120);

    let pkce = Pkce::new(61);
    let form = oauth::open_consent(&app, &oauth::authorize_query(&app, &client, &pkce, &[])).await;
    assert!(form.cookie.starts_with("__Host-mcp_consent="));
    let resp = app
        .client
        .get(app.url(&format!(
            "/authorize?{}",
            oauth::authorize_query(&app, &client, &pkce, &[])
        )))
        .send()
        .await
        .unwrap();
    let set_cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("Max-Age=180"), "{set_cookie}");

    let resp =
        oauth::submit_consent(&app, &form, &[("decision", "approve"), ("user", "ada")]).await;
    assert_eq!(resp.status(), 302);
    let code_key = &keys_with(&app, "co:")[0];
    assert_expires_in(&record(&app, code_key), start, 120);
    let grant_key = &keys_with(&app, "gr:")[0];
    assert_expires_in(&record(&app, grant_key), start, 120);

    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let (status, tokens) = oauth::exchange(&app, &client, &code, &pkce).await;
    assert_eq!(status, 200, "{tokens}");
    let expires_in = tokens["expires_in"].as_u64().unwrap();
    assert!((295..=300).contains(&expires_in), "{tokens}");
    assert_expires_in(&record(&app, grant_key), start, 2 * 86_400);
    assert_expires_in(&record(&app, &client_key), start, 8 * 86_400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_lifetime_variable_is_a_server_error_that_stores_nothing() {
    let app = App::start_with(support::project_manifest(), &[("client_lifetime", "1d")]).await;
    let resp = app
        .client
        .post(app.url("/register"))
        .json(&serde_json::json!({ "redirect_uris": [oauth::REDIRECT_URI], "token_endpoint_auth_method": "none" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "server_error");
    assert!(keys_with(&app, "cl:").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_only_refreshes_is_renewed_too() {
    let app = App::start().await;
    let (client, tokens) = oauth::sign_in_locally(&app, 64, "ada").await;
    let key = format!("cl:{}", client.id);
    let store = KvBackend::open(&app.dir.path().join("kv.db"), &Default::default()).unwrap();
    let mut aged = record(&app, &key);
    aged["exp"] = (now() + 10 * 86_400).into();
    store
        .set("default", &key, &serde_json::to_vec(&aged).unwrap())
        .unwrap();
    let (status, _) =
        oauth::refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_expires_in(&record(&app, &key), now() - 5, 90 * 86_400);
}
