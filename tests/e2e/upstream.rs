//! Tools calling the customer's API as the user: `get_app_data` through the real `mcp`
//! component, which gets Clerk tokens through the `upstream` crate it links, against a
//! mock Clerk Backend API and a mock app.

#[path = "../support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::App;
use support::clerk::{self, AppAnswer, Mint, MockClerk, get_app_data};

/// The app in Clerk mode against `mock`, minting from the JWT template `api`.
async fn clerk_app(mock: &MockClerk, extra: &[(&str, &str)]) -> App {
    let mut vars = mock.variables();
    vars.push(("clerk_jwt_template", "api".into()));
    vars.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    App::start_with(support::project_manifest(), &vars).await
}

async fn signed_in(app: &App, mock: &MockClerk, seed: u8) -> (String, String) {
    let (_, tokens) = signed_in_client(app, mock, seed).await;
    (tokens.0, tokens.1)
}

async fn signed_in_client(
    app: &App,
    mock: &MockClerk,
    seed: u8,
) -> (support::oauth::Client, (String, String)) {
    mock.set_valid_token();
    let (client, tokens) = clerk::sign_in(app, seed).await;
    let token = |name: &str| tokens[name].as_str().unwrap().to_owned();
    (client, (token("access_token"), token("refresh_token")))
}

fn tool_error_text(reply: &Value) -> String {
    assert_eq!(reply["result"]["isError"], true, "{reply}");
    reply["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn has_grant(app: &App) -> usize {
    app.host
        .kv_snapshot()
        .keys()
        .filter(|k| k.starts_with("gr:"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_call_the_app_with_a_clerk_token_minted_once_per_lifetime() {
    let mock = MockClerk::start().await;
    let app = clerk_app(&mock, &[]).await;
    let (access, _) = signed_in(&app, &mock, 51).await;
    // Lives 12 s: cached until 10 s before that, so for about 2 s.
    *mock.upstream.mint.lock().unwrap() = Mint::Lasting(12);

    let (status, reply, _) = get_app_data(&app, &access).await;
    assert_eq!(status, 200);
    assert_eq!(
        reply["result"]["structuredContent"]["data"],
        json!({"user": "user_2abc", "plan": "pro"}),
        "{reply}"
    );
    assert_eq!(
        *mock.upstream.mints.lock().unwrap(),
        ["/v1/sessions/sess_2xyz/tokens/api"],
        "minted for the grant's session, from the configured template"
    );
    let sent = mock.upstream.app_calls.lock().unwrap()[0].clone();
    assert!(
        sent.starts_with("Bearer eyJ") && sent.ends_with("clerk-signature-1"),
        "{sent}"
    );
    assert!(!sent.contains(&access), "the MCP token never goes upstream");

    // Within the token's lifetime: the cached token, no second mint.
    let (status, _, _) = get_app_data(&app, &access).await;
    assert_eq!(status, 200);
    assert_eq!(mock.upstream.mint_count(), 1);
    assert_eq!(mock.upstream.app_calls.lock().unwrap()[1], sent);

    // Past it: a new token.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (status, _, _) = get_app_data(&app, &access).await;
    assert_eq!(status, 200);
    assert_eq!(mock.upstream.mint_count(), 2);
    assert!(mock.upstream.app_calls.lock().unwrap()[2].ends_with("clerk-signature-2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_with_an_expired_token_share_one_mint() {
    let mock = MockClerk::start().await;
    let app = clerk_app(&mock, &[]).await;
    let (access, _) = signed_in(&app, &mock, 52).await;
    *mock.upstream.mint.lock().unwrap() = Mint::Lasting(11);
    assert_eq!(get_app_data(&app, &access).await.0, 200);
    tokio::time::sleep(Duration::from_secs(2)).await;
    *mock.upstream.mint.lock().unwrap() = Mint::Lasting(60);

    let calls = (0..20).map(|_| get_app_data(&app, &access));
    let replies = futures::future::join_all(calls).await;
    for (status, reply, _) in &replies {
        assert_eq!(*status, 200, "{reply}");
        assert_eq!(reply["result"]["isError"], false, "{reply}");
    }
    let new_mints = mock.upstream.mint_count() - 1;
    assert!(
        (1..=2).contains(&new_mints),
        "20 concurrent calls minted {new_mints} times"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_clerk_session_revokes_the_grant_and_challenges_the_client() {
    let mock = MockClerk::start().await;
    let app = clerk_app(&mock, &[]).await;
    let (client, (access, refresh)) = signed_in_client(&app, &mock, 53).await;
    let (other_access, _) = signed_in(&app, &mock, 54).await;
    assert_eq!(has_grant(&app), 2);
    *mock.upstream.mint.lock().unwrap() = Mint::SessionGone;

    let (status, _, challenge) = get_app_data(&app, &access).await;
    assert_eq!(status, 401);
    let challenge = challenge.expect("a WWW-Authenticate challenge");
    assert!(
        challenge.starts_with(r#"Bearer error="invalid_token""#),
        "{challenge}"
    );
    assert!(challenge.contains("resource_metadata="), "{challenge}");
    assert!(mock.upstream.app_calls.lock().unwrap().is_empty());

    // The grant is gone: its refresh token fails, its access token is refused.
    let (status, body) = support::oauth::refresh(&app, &client, &refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert_eq!(get_app_data(&app, &access).await.0, 401);
    // Another grant is untouched.
    assert_eq!(has_grant(&app), 1);
    *mock.upstream.mint.lock().unwrap() = Mint::Lasting(60);
    assert_eq!(get_app_data(&app, &other_access).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_or_app_failures_are_tool_errors_that_revoke_nothing() {
    let mock = MockClerk::start().await;
    let app = clerk_app(&mock, &[("app_timeout", "1s")]).await;
    let (access, _) = signed_in(&app, &mock, 55).await;

    *mock.upstream.mint.lock().unwrap() = Mint::Down;
    let (status, reply, _) = get_app_data(&app, &access).await;
    assert_eq!(status, 200);
    let text = tool_error_text(&reply);
    assert!(text.contains("Clerk is unavailable (HTTP 503)"), "{text}");

    *mock.upstream.mint.lock().unwrap() = Mint::Hang;
    let started = Instant::now();
    let (_, reply, _) = get_app_data(&app, &access).await;
    let text = tool_error_text(&reply);
    assert!(text.contains("Clerk did not answer"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    *mock.upstream.mint.lock().unwrap() = Mint::Lasting(60);
    *mock.upstream.app.lock().unwrap() = AppAnswer::Fails;
    let text = tool_error_text(&get_app_data(&app, &access).await.1);
    assert!(text.contains("the app failed (HTTP 500)"), "{text}");

    *mock.upstream.app.lock().unwrap() = AppAnswer::Hangs;
    let started = Instant::now();
    let text = tool_error_text(&get_app_data(&app, &access).await.1);
    assert!(text.contains("did not answer within 1s"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    assert_eq!(has_grant(&app), 1, "nothing was revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_clerk_the_app_gets_a_marked_development_token() {
    let mock = MockClerk::start().await;
    let app = App::start_with(
        support::project_manifest(),
        &[("app_url", mock.origin.as_str())],
    )
    .await;
    let (_, tokens) = support::oauth::sign_in_locally(&app, 56, "ada").await;
    let access = tokens["access_token"].as_str().unwrap();
    let (status, reply, _) = get_app_data(&app, access).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["result"]["isError"], false, "{reply}");
    assert_eq!(mock.upstream.mint_count(), 0);
    let sent = mock.upstream.app_calls.lock().unwrap()[0].clone();
    let jwt = sent.strip_prefix("Bearer ").unwrap();
    use base64::Engine as _;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["iss"], "clerk-mcp-development");
    assert_eq!(claims["development"], true);
    assert_eq!(claims["sub"], "local:ada");
}
