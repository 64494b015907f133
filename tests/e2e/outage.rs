//! A store outage, as when Redis refuses commands: every endpoint that needs the store
//! answers 503 with `Retry-After` in its own shape (OAuth JSON, JSON-RPC, an HTML page),
//! never a 401 or `invalid_grant` that would make a client drop its credentials; nothing
//! changes; and once the store is back, the very same requests succeed without a restart.
//! A store that stalls instead (Spin's Redis client blocks while it reconnects) gets the
//! same answer from a request that waited past a client's patience before writing.

#[path = "../support/mod.rs"]
mod support;

use std::time::Duration;

use serde_json::Value;
use support::App;
use support::clerk::{self, MockClerk};
use support::oauth::{self, Pkce};

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

/// The parts of an answer an outage test checks.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    www_authenticate: bool,
    content_type: String,
    body: String,
}

async fn answer(resp: reqwest::Response) -> Answer {
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    Answer {
        status: resp.status().as_u16(),
        retry_after: header("retry-after"),
        www_authenticate: header("www-authenticate").is_some(),
        content_type: header("content-type").unwrap_or_default(),
        body: resp.text().await.unwrap(),
    }
}

fn json(answer: &Answer) -> Value {
    serde_json::from_str(&answer.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", answer.body))
}

/// What an OAuth endpoint answers while the store is down.
fn assert_oauth_unavailable(what: &str, answer: &Answer) {
    assert_eq!(answer.status, 503, "{what}: {}", answer.body);
    assert_eq!(answer.retry_after.as_deref(), Some("5"), "{what}");
    assert!(!answer.www_authenticate, "{what}");
    let body = json(answer);
    assert_eq!(body["error"], "temporarily_unavailable", "{what}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("key-value store"),
        "{what}: {body}"
    );
}

async fn post_mcp(app: &App, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .bearer_auth(token)
        .body(INITIALIZE)
        .send()
        .await
        .unwrap()
}

async fn register(app: &App) -> reqwest::Response {
    app.client
        .post(app.url("/register"))
        .json(&serde_json::json!({
            "client_name": "during the outage",
            "redirect_uris": [oauth::REDIRECT_URI],
            "token_endpoint_auth_method": "none",
        }))
        .send()
        .await
        .unwrap()
}

async fn revoke(app: &App, client_id: &str, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/revoke"))
        .form(&[("token", token), ("client_id", client_id)])
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_503_while_the_store_refuses_and_works_again_after() {
    let app = App::start().await;
    let (client, tokens) = oauth::sign_in_locally(&app, 91, "olga").await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    // A second sign-in's code, issued before the outage and exchanged during it.
    let pkce = Pkce::new(92);
    let code = oauth::authorize_locally(&app, &client, &pkce, "olga").await;
    let authorize_query = oauth::authorize_query(&app, &client, &Pkce::new(93), &[]);

    let before = app.host.kv_snapshot();
    app.host.set_store_refusing(true);

    let (status, body) = oauth::refresh(&app, &client, &refresh).await;
    assert_eq!(status, 503, "refresh: {body}");
    assert_eq!(body["error"], "temporarily_unavailable");
    let exchange = app
        .client
        .post(app.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", &pkce.verifier),
            ("redirect_uri", oauth::REDIRECT_URI),
            ("client_id", &client.id),
        ])
        .send()
        .await
        .unwrap();
    let exchange = answer(exchange).await;
    assert_oauth_unavailable("code exchange", &exchange);
    assert_oauth_unavailable("registration", &answer(register(&app).await).await);
    assert_oauth_unavailable(
        "revocation",
        &answer(revoke(&app, &client.id, &refresh).await).await,
    );

    // /mcp speaks JSON-RPC, and a store outage is not an authentication failure.
    let mcp = answer(post_mcp(&app, &access).await).await;
    assert_eq!(mcp.status, 503, "{}", mcp.body);
    assert_eq!(mcp.retry_after.as_deref(), Some("5"));
    assert!(
        !mcp.www_authenticate,
        "a 503 must not send the client to sign in"
    );
    let body = json(&mcp);
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["error"]["code"], -32603);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("key-value store")
    );

    // The consent page is a page: it says to try again, with Retry-After.
    let page = answer(
        app.client
            .get(app.url(&format!("/authorize?{authorize_query}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, 503, "{}", page.body);
    assert_eq!(page.retry_after.as_deref(), Some("5"));
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );
    assert!(page.body.contains("try again"), "{}", page.body);

    // What needs no store keeps working.
    let metadata = app.get("/.well-known/oauth-protected-resource/mcp").await;
    assert_eq!(metadata.status(), 200);

    app.host.set_store_refusing(false);
    assert_eq!(
        app.host.kv_snapshot(),
        before,
        "the outage changed the store"
    );

    // The store is back: the same refresh token, code and access token work.
    let (status, refreshed) = oauth::refresh(&app, &client, &refresh).await;
    assert_eq!(status, 200, "{refreshed}");
    let (status, exchanged) = oauth::exchange(&app, &client, &code, &pkce).await;
    assert_eq!(status, 200, "{exchanged}");
    assert_eq!(post_mcp(&app, &access).await.status(), 200);
    assert_eq!(register(&app).await.status(), 201);
}

/// Longer than `store::deadline::CLIENT_PATIENCE` (10 s): one stalled call is enough.
const PAST_PATIENCE: Duration = Duration::from_secs(11);

async fn token_answer(app: &App, form: &[(&str, &str)]) -> Answer {
    let resp = app
        .client
        .post(app.url("/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    answer(resp).await
}

async fn exchange_code(app: &App, client: &oauth::Client, code: &str, pkce: &Pkce) -> Answer {
    token_answer(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", &pkce.verifier),
            ("redirect_uri", oauth::REDIRECT_URI),
            ("client_id", &client.id),
        ],
    )
    .await
}

async fn refresh_answer(app: &App, client: &oauth::Client, refresh: &str) -> Answer {
    token_answer(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", &client.id),
        ],
    )
    .await
}

fn assert_page_unavailable(what: &str, page: &Answer) {
    assert_eq!(page.status, 503, "{what}: {}", page.body);
    assert_eq!(page.retry_after.as_deref(), Some("5"), "{what}");
    assert!(page.content_type.starts_with("text/html"), "{what}");
    assert!(page.body.contains("try again"), "{what}: {}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_waited_past_a_clients_patience_spends_nothing_and_its_retry_works() {
    let app = App::start().await;
    let (client, tokens) = oauth::sign_in_locally(&app, 94, "petra").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let pkce = Pkce::new(95);
    let code = oauth::authorize_locally(&app, &client, &pkce, "petra").await;
    let consent_pkce = Pkce::new(96);
    let consent = oauth::open_consent(
        &app,
        &oauth::authorize_query(&app, &client, &consent_pkce, &[]),
    )
    .await;

    // A slow store alone is no reason to refuse: a refresh whose calls each wait 1 s
    // stays within the patience and rotates as usual.
    app.host.set_store_stall(Duration::from_secs(1));
    let slow = refresh_answer(&app, &client, &refresh).await;
    app.host.set_store_stall(Duration::ZERO);
    assert_eq!(slow.status, 200, "{}", slow.body);
    let refresh = json(&slow)["refresh_token"].as_str().unwrap().to_owned();
    oauth::settle(&app).await;

    let before = app.host.kv_snapshot();
    app.host.set_store_stall(PAST_PATIENCE);
    let approve = [("decision", "approve"), ("user", "petra")];
    let (refreshed, exchanged, approved) = tokio::join!(
        refresh_answer(&app, &client, &refresh),
        exchange_code(&app, &client, &code, &pkce),
        async { answer(oauth::submit_consent(&app, &consent, &approve).await).await },
    );
    app.host.set_store_stall(Duration::ZERO);
    assert_oauth_unavailable("late refresh", &refreshed);
    assert_oauth_unavailable("late code exchange", &exchanged);
    assert_page_unavailable("late consent", &approved);
    oauth::settle(&app).await;
    assert_eq!(
        app.host.kv_snapshot(),
        before,
        "a request past the patience wrote to the store"
    );

    // The clients' retries carry the same refresh token, code and consent form.
    let retried = refresh_answer(&app, &client, &refresh).await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    let (status, exchanged) = oauth::exchange(&app, &client, &code, &pkce).await;
    assert_eq!(status, 200, "{exchanged}");
    let resp = oauth::submit_consent(&app, &consent, &approve).await;
    assert_eq!(resp.status(), 302, "{}", resp.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_that_waited_past_a_clients_patience_keeps_its_sign_in_for_the_reload() {
    let mock = MockClerk::start().await;
    mock.set_valid_token();
    let app = clerk::app(&mock).await;
    let client = oauth::register_public(&app).await;
    let pkce = Pkce::new(97);
    let clerk::AppHop { form, back, .. } = clerk::approve_through_app(&app, &client, &pkce).await;
    let callback = back.replacen(&app.public_base, &app.host.url(), 1);
    let visit_callback = || async {
        app.client
            .get(&callback)
            .header("cookie", &form.cookie)
            .send()
            .await
            .unwrap()
    };
    oauth::settle(&app).await;

    let before = app.host.kv_snapshot();
    app.host.set_store_stall(PAST_PATIENCE);
    let late = answer(visit_callback().await).await;
    app.host.set_store_stall(Duration::ZERO);
    assert_page_unavailable("late callback", &late);
    oauth::settle(&app).await;
    assert_eq!(app.host.kv_snapshot(), before, "the late callback wrote");

    // The browser's reload finishes the sign-in with the very same transaction.
    let resp = visit_callback().await;
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let code = support::query_param(&location, "code")
        .unwrap_or_else(|| panic!("the reload ends with a code: {location}"));
    let (status, tokens) = oauth::exchange(&app, &client, &code, &pkce).await;
    assert_eq!(status, 200, "{tokens}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_whose_store_fails_before_it_spends_the_sign_in_can_be_reloaded() {
    let mock = MockClerk::start().await;
    mock.set_valid_token();
    let app = clerk::app(&mock).await;
    let client = oauth::register_public(&app).await;
    let pkce = Pkce::new(98);
    let clerk::AppHop { form, back, .. } = clerk::approve_through_app(&app, &client, &pkce).await;
    let callback = back.replacen(&app.public_base, &app.host.url(), 1);
    oauth::settle(&app).await;
    let sign_ins = |app: &App| {
        app.host
            .kv_snapshot()
            .keys()
            .filter(|k| k.starts_with("si:"))
            .count()
    };

    // The store fails after 0, 1, 2, … commands: every failure before the sign-in is
    // spent (the server key, the sign-in, Clerk's cached keys) is a 503 page that
    // leaves it for the reload.
    let mut failures_before_spending = 0;
    for commands in 0.. {
        app.host.set_store_refusing_after(commands);
        let resp = app
            .client
            .get(&callback)
            .header("cookie", &form.cookie)
            .send()
            .await
            .unwrap();
        app.host.set_store_refusing(false);
        if resp.status() != 503 || sign_ins(&app) == 0 {
            break;
        }
        assert_page_unavailable("callback", &answer(resp).await);
        failures_before_spending += 1;
    }
    assert!(
        failures_before_spending >= 3,
        "the reads of the key, the sign-in and Clerk's keys each fail without spending it: {failures_before_spending}"
    );
}
