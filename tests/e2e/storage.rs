//! Record lifetimes (configurable through variables) and the sweep that removes expired
//! records from the store, through the real components.

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
    assert_expires_in(
        &record(&app, &format!("cl:{}", client.id)),
        start,
        8 * 86_400,
    );

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
async fn expired_records_are_swept_on_cold_paths_only() {
    let app = App::start().await;
    let (client, tokens) = oauth::sign_in_locally(&app, 62, "ada").await;
    let live_grant = keys_with(&app, "gr:")[0].clone();
    let store = KvBackend::open(&app.dir.path().join("kv.db"), &Default::default()).unwrap();
    let expired = [
        "co:expired",
        "gr:expired",
        "si:expired",
        "cl:expired",
        "cm:expired",
    ];
    let plant = |due: bool| {
        for key in expired {
            store.set("default", key, br#"{"exp":1,"x":1}"#).unwrap();
        }
        if due {
            store.set("default", "cfg:sweep", br#"{"exp":1}"#).unwrap();
        }
    };

    // A sweep is due, but token refreshes and MCP requests never run it.
    plant(true);
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let (status, _) = oauth::refresh(&app, &client, refresh_token).await;
    assert_eq!(status, 200);
    app.client
        .post(app.url("/mcp"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    for key in expired {
        assert!(
            store.get("default", key).unwrap().is_some(),
            "{key} swept on a hot path"
        );
    }

    // A rejected request changes nothing, not even for housekeeping.
    let resp = app.get("/authorize?client_id=nobody").await;
    assert_eq!(resp.status(), 400);
    assert!(store.get("default", "co:expired").unwrap().is_some());
    // The consent page is a cold path: it sweeps.
    oauth::open_consent(
        &app,
        &oauth::authorize_query(&app, &client, &Pkce::new(63), &[]),
    )
    .await;
    for key in expired {
        assert!(
            store.get("default", key).unwrap().is_none(),
            "{key} not swept"
        );
    }
    assert!(store.get("default", &live_grant).unwrap().is_some());
    assert!(
        store
            .get("default", &format!("cl:{}", client.id))
            .unwrap()
            .is_some()
    );
    let schedule: Value =
        serde_json::from_slice(&store.get("default", "cfg:sweep").unwrap().unwrap()).unwrap();
    assert_expires_in(&schedule, now() - 5, 3600);

    // Within the hour, registration (the other cold path) only checks the schedule.
    plant(false);
    app.host.reset_kv_stats();
    oauth::register_public(&app).await;
    assert_eq!(app.host.kv_stats().reads, 1, "one read of the schedule");
    assert!(store.get("default", "co:expired").unwrap().is_some());

    // Once it is due again, registration sweeps too.
    store.set("default", "cfg:sweep", br#"{"exp":1}"#).unwrap();
    oauth::register_public(&app).await;
    for key in expired {
        assert!(
            store.get("default", key).unwrap().is_none(),
            "{key} not swept"
        );
    }
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
