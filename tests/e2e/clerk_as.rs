//! The resource-server mode (`authorization_server = "clerk"`): Clerk's own OAuth server
//! issues the tokens, against a mock of it on loopback, and the real components check
//! them: discovery sends clients to Clerk, this server's own authorization endpoints
//! are closed, and every class of token that is not an access token for this resource
//! is refused with nothing written.

#[path = "../support/mod.rs"]
mod support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use support::App;
use support::clerk_as::{self, Backend, Key, MockClerkAs, USER};

async fn app_for(mock: &MockClerkAs, extra: &[(&str, &str)]) -> App {
    let mut vars = mock.variables();
    for (name, value) in extra {
        vars.retain(|(n, _)| n != name);
        vars.push((name, (*value).to_owned()));
    }
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    App::start_with(support::project_manifest(), &vars).await
}

/// A 2026-07-28 `tools/call` of `name` with `arguments`.
async fn call(app: &App, token: &str, name: &str, arguments: Value) -> reqwest::Response {
    let body = json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {
            "name": name, "arguments": arguments,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        },
    });
    app.client
        .post(app.url("/mcp"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", name)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

fn snapshot(app: &App) -> std::collections::BTreeMap<String, Vec<u8>> {
    app.host.kv().snapshot("default").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_sends_clients_to_clerk_and_our_own_endpoints_are_closed() {
    let mock = MockClerkAs::start().await;
    let app = app_for(&mock, &[]).await;

    let unauthenticated = app
        .client
        .post(app.url("/mcp"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let challenge = unauthenticated.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    let prm_url = app.public_url("/.well-known/oauth-protected-resource/mcp");
    assert!(
        challenge.contains(&format!(r#"resource_metadata="{prm_url}""#)),
        "{challenge}"
    );
    assert!(
        challenge.contains(r#"scope="openid profile email""#),
        "{challenge}"
    );

    for (path, resource) in [
        ("/.well-known/oauth-protected-resource/mcp", "/mcp"),
        ("/.well-known/oauth-protected-resource", "/mcp"),
        ("/.well-known/oauth-protected-resource/sse", "/sse"),
    ] {
        let prm: Value = app.get(path).await.json().await.unwrap();
        assert_eq!(prm["resource"], app.public_url(resource), "{path}");
        assert_eq!(prm["authorization_servers"], json!([mock.issuer]), "{path}");
        assert_eq!(
            prm["scopes_supported"],
            json!(["openid", "profile", "email"]),
            "{path}"
        );
    }

    // Nothing of this server's own authorization server answers, and nothing is
    // written: each names the mode and where clients sign in. (The metadata requests
    // above carry the sweep in this mode, after their answer: wait for it first.)
    support::oauth::settle(&app).await;
    let before = snapshot(&app);
    app.host.reset_kv_stats();
    let closed: Vec<(reqwest::Method, &str, Option<&str>)> = vec![
        (
            reqwest::Method::GET,
            "/.well-known/oauth-authorization-server",
            None,
        ),
        (
            reqwest::Method::POST,
            "/register",
            Some(r#"{"redirect_uris":["http://127.0.0.1:7777/cb"]}"#),
        ),
        (
            reqwest::Method::POST,
            "/token",
            Some("grant_type=authorization_code&code=x"),
        ),
        (reqwest::Method::POST, "/revoke", Some("token=x")),
    ];
    for (method, path, body) in closed {
        let mut req = app.client.request(method, app.url(path));
        if let Some(body) = body {
            let content_type = if body.starts_with('{') {
                "application/json"
            } else {
                "application/x-www-form-urlencoded"
            };
            req = req.header("content-type", content_type).body(body);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 404, "{path}");
        let error: Value = resp.json().await.unwrap();
        assert_eq!(error["error"], "invalid_request", "{path}");
        let description = error["error_description"].as_str().unwrap();
        assert!(
            description.contains(r#"authorization_server = "clerk""#)
                && description.contains(&mock.issuer),
            "{path}: {description}"
        );
    }
    for path in [
        "/authorize?response_type=code&client_id=x",
        "/callback?state=x",
        "/connections",
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 404, "{path}");
        let page = resp.text().await.unwrap();
        assert!(
            page.contains("Sign in with Clerk") && page.contains(&mock.issuer),
            "{path}: {page}"
        );
    }
    assert_eq!(app.host.kv_stats().writes, 0);
    assert_eq!(snapshot(&app), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_access_token_serves_the_tools_reading_the_store_once_and_writing_nothing() {
    let mock = MockClerkAs::start().await;
    let app = app_for(&mock, &[]).await;
    let resource = app.public_url("/mcp");
    let token = mock.access_token(Some(&resource), "openid profile email");

    // The first request fetches the JWKS and caches it.
    let resp = call(&app, &token, "whoami", json!({})).await;
    assert_eq!(resp.status(), 200);
    let reply: Value = resp.json().await.unwrap();
    assert_eq!(reply["result"]["structuredContent"]["user_id"], USER);
    assert_eq!(
        reply["result"]["structuredContent"]["client_id"],
        "clerk_client_test"
    );
    assert_eq!(mock.jwks_fetches.load(Ordering::SeqCst), 1);

    app.host.reset_kv_stats();
    let resp = call(&app, &token, "add", json!({"a": 2, "b": 3})).await;
    assert_eq!(resp.status(), 200);
    let reply: Value = resp.json().await.unwrap();
    assert_eq!(reply["result"]["structuredContent"]["sum"], 5.0);
    assert_eq!(
        app.host.kv_stats(),
        test_host::kv::KvStats {
            reads: 1,
            writes: 0,
            listings: 0,
        },
        "a request with a valid JWT reads the cached JWKS and nothing else"
    );
    assert_eq!(mock.jwks_fetches.load(Ordering::SeqCst), 1);

    // A token for the /sse address of the same resource is served too.
    let sse_token = mock.access_token(Some(&app.public_url("/sse")), "openid");
    assert_eq!(
        call(&app, &sse_token, "add", json!({"a": 1, "b": 1}))
            .await
            .status(),
        200
    );
}

/// `get_app_data`'s answer (the app's JSON), or the tool error's text.
async fn app_data(app: &App, token: &str) -> Result<Value, String> {
    let resp = call(app, token, "get_app_data", json!({})).await;
    assert_eq!(resp.status(), 200);
    let reply: Value = resp.json().await.unwrap();
    if reply["result"]["isError"] == true {
        return Err(reply["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .to_owned());
    }
    Ok(reply["result"]["structuredContent"]["data"].clone())
}

/// The keys of the app tokens' cache and locks in the store.
fn upstream_keys(app: &App) -> Vec<String> {
    snapshot(app)
        .into_keys()
        .filter(|k| k.starts_with("ut:") || k.starts_with("ul:"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_call_the_app_with_an_m2m_token_naming_the_user_never_the_clients_token() {
    let mock = MockClerkAs::start().await;
    let app = app_for(&mock, &[]).await;
    let resource = app.public_url("/mcp");
    let token = mock.access_token(Some(&resource), "openid profile email");

    // The app verified the token (instance signature, iss, exp, aud = the app, sub =
    // this server's machine) and read the user from it.
    let data = app_data(&app, &token).await.unwrap();
    assert_eq!(
        data,
        json!({
            "user": USER, "client": "clerk_client_test",
            "scope": "openid profile email", "plan": "pro",
        })
    );
    assert_eq!(
        mock.m2m_requests(),
        [json!({
            "token_format": "jwt",
            "seconds_until_expiration": 300,
            "claims": {
                "aud": mock.issuer,
                "user_id": USER,
                "mcp_client_id": "clerk_client_test",
                "mcp_scope": "openid profile email",
            },
        })]
    );

    // Reused while it lives: the second call reads the JWKS and the cached token,
    // writes nothing and mints nothing.
    app.host.reset_kv_stats();
    app_data(&app, &token).await.unwrap();
    assert_eq!(mock.m2m_requests().len(), 1);
    assert_eq!(
        app.host.kv_stats(),
        test_host::kv::KvStats {
            reads: 2,
            writes: 0,
            listings: 0,
        }
    );
    let calls = mock.app_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0], calls[1]);
    assert!(calls[0].starts_with("Bearer ey"), "{}", calls[0]);
    assert!(
        !calls[0].contains(&token),
        "the client's token reached the app"
    );

    // Another scope is another set of claims, so another token.
    let narrower = mock.access_token(Some(&resource), "openid");
    assert_eq!(app_data(&app, &narrower).await.unwrap()["scope"], "openid");
    assert_eq!(mock.m2m_requests().len(), 2);

    // Concurrent calls for one user, client and scope share one mint (two when a
    // claim on the lock lands late).
    let concurrent = mock.access_token(Some(&resource), "profile");
    let replies = futures::future::join_all((0..10).map(|_| app_data(&app, &concurrent))).await;
    for reply in &replies {
        assert_eq!(reply.as_ref().unwrap()["scope"], "profile", "{reply:?}");
    }
    let minted = mock.m2m_requests().len() - 2;
    assert!(
        (1..=2).contains(&minted),
        "10 concurrent calls minted {minted} times"
    );
    assert!(upstream_keys(&app).iter().all(|k| k.starts_with("ut:m2m.")));

    // The lifetime is a variable.
    let app = app_for(&mock, &[("clerk_m2m_token_lifetime", "90s")]).await;
    let token = mock.access_token(Some(&app.public_url("/mcp")), "openid");
    app_data(&app, &token).await.unwrap();
    assert_eq!(
        mock.m2m_requests().last().unwrap()["seconds_until_expiration"],
        90
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_usable_machine_key_or_with_clerk_down_the_app_call_is_a_clear_tool_error() {
    let mock = MockClerkAs::start().await;
    let cases = [
        (
            "clerk_machine_secret_key",
            "",
            "needs clerk_machine_secret_key",
        ),
        ("clerk_machine_secret_key", "ak_revoked", "HTTP 401"),
        ("clerk_m2m_token_lifetime", "5s", "clerk_m2m_token_lifetime"),
    ];
    for (name, value, says) in cases {
        let app = app_for(&mock, &[(name, value)]).await;
        let token = mock.access_token(Some(&app.public_url("/mcp")), "openid");
        let error = app_data(&app, &token).await.unwrap_err();
        assert!(error.contains(says), "{name}={value:?}: {error}");
        assert!(!error.contains(clerk_as::MACHINE_SECRET_KEY), "{error}");
        assert!(!error.contains("ak_revoked"), "{error}");
        assert!(upstream_keys(&app).is_empty(), "{name}={value:?}");
        // The rest of the server is unaffected.
        assert_eq!(
            call(&app, &token, "add", json!({"a": 1, "b": 1}))
                .await
                .status(),
            200
        );
    }
    assert!(mock.m2m_requests().is_empty());
    assert!(
        mock.app_calls().is_empty(),
        "the app is never called without a token of ours"
    );

    // Clerk down or hanging while the JWKS is cached: the tools that do not call the
    // app still work, the app call says to try again, within the mint's deadline.
    let app = app_for(&mock, &[]).await;
    let token = mock.access_token(Some(&app.public_url("/mcp")), "openid");
    assert_eq!(call(&app, &token, "whoami", json!({})).await.status(), 200);
    for backend in [Backend::Down, Backend::Hang] {
        mock.set_backend(backend);
        let started = Instant::now();
        let error = app_data(&app, &token).await.unwrap_err();
        assert!(error.contains("try again later"), "{backend:?}: {error}");
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{:?}",
            started.elapsed()
        );
        assert!(upstream_keys(&app).is_empty());
    }
    mock.set_backend(Backend::Up);
    assert_eq!(app_data(&app, &token).await.unwrap()["user"], USER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_token_that_is_not_an_access_token_for_this_resource_is_refused_writing_nothing() {
    let mock = MockClerkAs::start().await;
    let app = app_for(&mock, &[]).await;
    let resource = app.public_url("/mcp");
    let issuer = mock.issuer.clone();
    let now = clerk_as::now();
    let good = mock.access_claims(Some(&resource), "openid profile email");
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = good.clone();
        change(&mut claims);
        claims
    };
    let at = |claims: &Value| {
        clerk_as::sign(
            claims,
            Some("at+jwt"),
            "ins_key_1",
            Key::First,
            Algorithm::RS256,
        )
    };
    let typed = |claims: &Value, typ: &str| {
        clerk_as::sign(claims, Some(typ), "ins_key_1", Key::First, Algorithm::RS256)
    };
    // Warm the key cache, so that each row below costs what it would in steady state.
    assert_eq!(
        call(&app, &at(&good), "add", json!({"a": 1, "b": 1}))
            .await
            .status(),
        200
    );

    mock.know_opaque("oat_revoked", {
        let mut a = mock.opaque_answer("oat_id_r", &["openid"]);
        a["revoked"] = json!(true);
        a["revocation_reason"] = json!("revoked by the user");
        a["aud"] = json!([resource]);
        a
    });
    mock.know_opaque("oat_expired", {
        let mut a = mock.opaque_answer("oat_id_e", &["openid"]);
        a["expired"] = json!(true);
        a["expiration"] = json!((now - 60) * 1000);
        a["aud"] = json!([resource]);
        a
    });
    mock.know_opaque("oat_inactive", json!({"active": false}));
    mock.know_opaque("oat_elsewhere", {
        let mut a = mock.opaque_answer("oat_id_x", &["openid"]);
        a["aud"] = json!(["https://other.example/mcp"]);
        a
    });
    mock.know_opaque(
        "oat_no_audience",
        mock.opaque_answer("oat_id_n", &["openid"]),
    );

    let rows: Vec<(&str, String, &str)> = vec![
        (
            "wrong iss",
            at(&with(&|c| c["iss"] = json!("https://clerk.other.example"))),
            "invalid_token",
        ),
        (
            "aud of another resource",
            at(&with(&|c| c["aud"] = json!(["https://other.example/mcp"]))),
            "invalid_token",
        ),
        (
            "no aud",
            at(&with(&|c| {
                c.as_object_mut().unwrap().remove("aud");
            })),
            "names no audience",
        ),
        (
            "empty aud",
            at(&with(&|c| c["aud"] = json!([]))),
            "names no audience",
        ),
        (
            "no exp",
            at(&with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            })),
            "invalid_token",
        ),
        (
            "expired",
            at(&with(&|c| c["exp"] = json!(now - 60))),
            "has expired",
        ),
        (
            "nbf ahead",
            at(&with(&|c| c["nbf"] = json!(now + 120))),
            "invalid_token",
        ),
        (
            "no typ",
            clerk_as::sign(&good, None, "ins_key_1", Key::First, Algorithm::RS256),
            "not an OAuth access token",
        ),
        (
            "alg none",
            clerk_as::forge(
                &json!({"alg": "none", "typ": "at+jwt", "kid": "ins_key_1"}),
                &good,
            ),
            "invalid_token",
        ),
        (
            "HS256 keyed with the public key",
            clerk_as::sign(
                &good,
                Some("at+jwt"),
                "ins_key_1",
                Key::First,
                Algorithm::HS256,
            ),
            "invalid_token",
        ),
        (
            "ES256",
            clerk_as::forge(
                &json!({"alg": "ES256", "typ": "at+jwt", "kid": "ins_key_1"}),
                &good,
            ),
            "invalid_token",
        ),
        (
            "RS384",
            clerk_as::sign(
                &good,
                Some("at+jwt"),
                "ins_key_1",
                Key::First,
                Algorithm::RS384,
            ),
            "invalid_token",
        ),
        (
            "session token",
            typed(
                &json!({
                    "iss": issuer, "sub": USER, "sid": "sess_1", "azp": "https://app.example",
                    "iat": now, "nbf": now - 5, "exp": now + 60,
                }),
                "JWT",
            ),
            "not an OAuth access token",
        ),
        (
            "JWT-template token",
            typed(
                &json!({
                    "iss": issuer, "sub": USER, "aud": resource, "azp": "https://app.example",
                    "client_id": "x", "scope": "openid", "iat": now, "nbf": now - 5, "exp": now + 60,
                }),
                "JWT",
            ),
            "not an OAuth access token",
        ),
        (
            "M2M token",
            typed(
                &json!({
                    "iss": issuer, "sub": "mch_worker", "aud": [resource], "jti": "mt_1",
                    "iat": now, "nbf": now - 5, "exp": now + 60,
                }),
                "JWT",
            ),
            "not an OAuth access token",
        ),
        (
            "id_token",
            typed(
                &json!({
                    "iss": issuer, "sub": USER, "aud": "clerk_client_test", "nonce": "n",
                    "iat": now, "exp": now + 60,
                }),
                "JWT",
            ),
            "not an OAuth access token",
        ),
        (
            "foreign key under a known kid",
            clerk_as::sign(
                &good,
                Some("at+jwt"),
                "ins_key_1",
                Key::Attacker,
                Algorithm::RS256,
            ),
            "invalid_token",
        ),
        (
            "no user",
            at(&with(&|c| {
                c.as_object_mut().unwrap().remove("sub");
            })),
            "invalid_token",
        ),
        ("opaque, revoked", "oat_revoked".into(), "was revoked"),
        ("opaque, expired", "oat_expired".into(), "has expired"),
        ("opaque, inactive", "oat_inactive".into(), "has expired"),
        ("opaque, unknown", "oat_unknown".into(), "invalid_token"),
        (
            "opaque, another audience",
            "oat_elsewhere".into(),
            "another resource",
        ),
        (
            "opaque, no audience",
            "oat_no_audience".into(),
            "names no audience",
        ),
        ("not a JWT", "garbage".into(), "invalid_token"),
    ];
    let before = snapshot(&app);
    for (case, token, says) in &rows {
        app.host.reset_kv_stats();
        let resp = call(&app, token, "add", json!({"a": 1, "b": 1})).await;
        assert_eq!(resp.status(), 401, "{case}");
        let challenge = resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            challenge.contains(r#"error="invalid_token""#),
            "{case}: {challenge}"
        );
        assert!(challenge.contains(says), "{case}: {challenge}");
        assert_eq!(app.host.kv_stats().writes, 0, "{case} wrote to the store");
    }
    assert_eq!(snapshot(&app), before, "a refused token changed the store");
    assert_eq!(
        mock.jwks_fetches.load(Ordering::SeqCst),
        1,
        "no row refetched the keys: none named an unknown kid"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audience_less_tokens_pass_only_with_the_variable_and_opaque_answers_are_cached() {
    let mock = MockClerkAs::start().await;
    let app = app_for(&mock, &[("clerk_accept_tokens_without_audience", "true")]).await;
    let token = mock.access_token(None, "openid");
    assert_eq!(
        call(&app, &token, "add", json!({"a": 1, "b": 2}))
            .await
            .status(),
        200
    );
    // Another resource's audience is still refused.
    let elsewhere = mock.access_token(Some("https://other.example/mcp"), "openid");
    assert_eq!(
        call(&app, &elsewhere, "add", json!({"a": 1, "b": 2}))
            .await
            .status(),
        401
    );

    mock.know_opaque(
        "oat_live",
        mock.opaque_answer("oat_id_live", &["openid", "profile"]),
    );
    let resp = call(&app, "oat_live", "whoami", json!({})).await;
    assert_eq!(resp.status(), 200);
    let reply: Value = resp.json().await.unwrap();
    assert_eq!(reply["result"]["structuredContent"]["user_id"], USER);
    assert_eq!(mock.verify_calls.load(Ordering::SeqCst), 1);
    // Cached by the token's hash: the next request asks Clerk nothing, and the token
    // itself is nowhere in the store.
    app.host.reset_kv_stats();
    assert_eq!(
        call(&app, "oat_live", "add", json!({"a": 1, "b": 2}))
            .await
            .status(),
        200
    );
    assert_eq!(mock.verify_calls.load(Ordering::SeqCst), 1);
    assert_eq!(app.host.kv_stats().writes, 0);
    let stored = snapshot(&app);
    assert!(
        stored.keys().any(|k| k.starts_with("ct:")),
        "{:?}",
        stored.keys()
    );
    for (key, value) in &stored {
        assert!(!key.contains("oat_live") && !String::from_utf8_lossy(value).contains("oat_live"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_token_without_the_required_scopes_gets_403_naming_them() {
    let mock = MockClerkAs::start().await;
    let app = app_for(&mock, &[("clerk_required_scopes", "mcp:tools profile")]).await;
    let resource = app.public_url("/mcp");
    app.host.reset_kv_stats();
    let resp = call(
        &app,
        &mock.access_token(Some(&resource), "openid profile"),
        "add",
        json!({"a": 1, "b": 1}),
    )
    .await;
    assert_eq!(resp.status(), 403);
    let challenge = resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(
        challenge.contains(r#"scope="mcp:tools profile""#),
        "{challenge}"
    );
    let error: Value = resp.json().await.unwrap();
    assert_eq!(error["error"], "insufficient_scope");
    // The only write is the key cache, filled on the first use of the keys.
    let written: Vec<String> = snapshot(&app).into_keys().collect();
    assert_eq!(written, ["cfg:clerk-jwks"]);
    let resp = call(
        &app,
        &mock.access_token(Some(&resource), "openid profile mcp:tools"),
        "add",
        json!({"a": 1, "b": 1}),
    )
    .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_fetched_once_and_an_unknown_kid_is_refused_after_one_refetch() {
    let mock = MockClerkAs::start().await;
    let app = app_for(&mock, &[]).await;
    let resource = app.public_url("/mcp");
    let claims = mock.access_claims(Some(&resource), "openid");
    let first = mock.access_token(Some(&resource), "openid");
    assert_eq!(
        call(&app, &first, "add", json!({"a": 1, "b": 1}))
            .await
            .status(),
        200
    );
    assert_eq!(mock.jwks_fetches.load(Ordering::SeqCst), 1);

    // Clerk rotates: a token signed with the new key names a kid the cache lacks.
    mock.rotate();
    let second = clerk_as::sign(
        &claims,
        Some("at+jwt"),
        "ins_key_2",
        Key::Second,
        Algorithm::RS256,
    );
    // Within the refetch floor the cache is not refetched: the token waits for it.
    assert_eq!(
        call(&app, &second, "add", json!({"a": 1, "b": 1}))
            .await
            .status(),
        401
    );
    assert_eq!(mock.jwks_fetches.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        call(&app, &second, "add", json!({"a": 1, "b": 1}))
            .await
            .status(),
        200
    );
    assert_eq!(mock.jwks_fetches.load(Ordering::SeqCst), 2);
    // Both keys now serve from the cache.
    assert_eq!(
        call(&app, &first, "add", json!({"a": 1, "b": 1}))
            .await
            .status(),
        200
    );
    assert_eq!(
        call(&app, &second, "add", json!({"a": 1, "b": 1}))
            .await
            .status(),
        200
    );
    assert_eq!(mock.jwks_fetches.load(Ordering::SeqCst), 2);

    // A kid Clerk never published: one refetch, then refused, nothing written.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let unknown = clerk_as::sign(
        &claims,
        Some("at+jwt"),
        "ins_key_9",
        Key::Second,
        Algorithm::RS256,
    );
    let before = snapshot(&app);
    app.host.reset_kv_stats();
    let resp = call(&app, &unknown, "add", json!({"a": 1, "b": 1})).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(mock.jwks_fetches.load(Ordering::SeqCst), 3);
    assert_eq!(app.host.kv_stats().writes, 0);
    assert_eq!(snapshot(&app), before);
    // And again: still refused, still nothing written (an unchanged key set is not
    // written back, so each such request asks Clerk once; see docs/kv-schema.md).
    app.host.reset_kv_stats();
    assert_eq!(
        call(&app, &unknown, "add", json!({"a": 1, "b": 1}))
            .await
            .status(),
        401
    );
    assert_eq!(app.host.kv_stats().writes, 0);
    assert_eq!(snapshot(&app), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_pem_key_jwts_are_checked_without_the_jwks_or_the_store() {
    let mock = MockClerkAs::start().await;
    let pem = std::fs::read_to_string(
        support::project_root().join("crates/clerk/tests/fixtures/instance-public.pem"),
    )
    .unwrap();
    let app = app_for(&mock, &[("clerk_jwt_key", &pem)]).await;
    let resource = app.public_url("/mcp");
    let claims = mock.access_claims(Some(&resource), "openid");

    app.host.reset_kv_stats();
    let token = mock.access_token(Some(&resource), "openid");
    let resp = call(&app, &token, "whoami", json!({})).await;
    assert_eq!(resp.status(), 200);
    let reply: Value = resp.json().await.unwrap();
    assert_eq!(reply["result"]["structuredContent"]["user_id"], USER);
    assert_eq!(
        app.host.kv_stats(),
        test_host::kv::KvStats {
            reads: 0,
            writes: 0,
            listings: 0,
        },
        "with the PEM key a valid JWT costs no store call"
    );

    // Only that key: another key of the instance (say, after a rotation the operator
    // has not copied yet), a foreign key under the known `kid`, and the instance's
    // other token classes are all refused, and Clerk is never asked for its JWKS.
    let before = snapshot(&app);
    let refused = [
        (
            "the rotated key",
            clerk_as::sign(
                &claims,
                Some("at+jwt"),
                "ins_key_2",
                Key::Second,
                Algorithm::RS256,
            ),
        ),
        (
            "a foreign key",
            clerk_as::sign(
                &claims,
                Some("at+jwt"),
                "ins_key_1",
                Key::Attacker,
                Algorithm::RS256,
            ),
        ),
        (
            "a session token",
            clerk_as::sign(
                &claims,
                Some("JWT"),
                "ins_key_1",
                Key::First,
                Algorithm::RS256,
            ),
        ),
        (
            "HS256 keyed with the PEM",
            clerk_as::sign(
                &claims,
                Some("at+jwt"),
                "ins_key_1",
                Key::First,
                Algorithm::HS256,
            ),
        ),
    ];
    for (case, token) in refused {
        let resp = call(&app, &token, "whoami", json!({})).await;
        assert_eq!(resp.status(), 401, "{case}");
        let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains("invalid_token"), "{case}: {challenge}");
    }
    assert_eq!(mock.jwks_fetches.load(Ordering::SeqCst), 0);
    assert_eq!(snapshot(&app), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_down_is_503_within_the_deadline_and_service_resumes_when_it_is_back() {
    let mock = MockClerkAs::start().await;
    let app = app_for(&mock, &[]).await;
    let resource = app.public_url("/mcp");
    let token = mock.access_token(Some(&resource), "openid");
    mock.know_opaque("oat_live", {
        let mut a = mock.opaque_answer("oat_id_live", &["openid"]);
        a["aud"] = json!([resource]);
        a
    });

    for backend in [Backend::Down, Backend::Hang] {
        mock.set_backend(backend);
        for presented in [token.as_str(), "oat_live"] {
            let started = Instant::now();
            app.host.reset_kv_stats();
            let resp = call(&app, presented, "add", json!({"a": 1, "b": 1})).await;
            assert_eq!(resp.status(), 503, "{backend:?} {presented}");
            assert!(
                started.elapsed() < Duration::from_secs(8),
                "{backend:?}: {:?}",
                started.elapsed()
            );
            assert!(resp.headers().get("retry-after").is_some());
            assert!(
                resp.headers().get("www-authenticate").is_none(),
                "no sign-in loop"
            );
            let error: Value = resp.json().await.unwrap();
            assert!(
                error["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("Clerk cannot be reached"),
                "{error}"
            );
            assert_eq!(app.host.kv_stats().writes, 0);
        }
    }
    mock.set_backend(Backend::Up);
    assert_eq!(
        call(&app, &token, "add", json!({"a": 1, "b": 1}))
            .await
            .status(),
        200
    );
    assert_eq!(
        call(&app, "oat_live", "add", json!({"a": 1, "b": 1}))
            .await
            .status(),
        200
    );
}

/// The TypeScript SDK's OAuth client against the mock Clerk: discovery from our 401,
/// registration and sign-in at Clerk, then tools at our `/mcp` over a 2025-era session
/// and 2026-07-28 requests; with JWT access tokens, then with opaque ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_signs_in_at_clerk_and_uses_the_tools_over_both_eras() {
    let mock = MockClerkAs::start().await;
    let app = app_for(&mock, &[]).await;
    let summary = support::node_json(
        "sdk-clerk-as-flow.mjs",
        &json!({ "origin": app.host.url(), "issuer": mock.issuer }),
    )
    .await;
    assert_eq!(summary["authorization_server"], mock.issuer, "{summary}");
    assert_eq!(summary["user_id"], USER, "{summary}");
    assert_eq!(summary["sum"], 5.0, "{summary}");
    assert_eq!(summary["stateless_sum"], 9.0, "{summary}");
    assert!(
        summary["tools"]
            .as_array()
            .unwrap()
            .contains(&json!("whoami"))
    );
    assert!(
        summary["scope"].as_str().unwrap().contains("openid"),
        "{summary}"
    );
    // The SDK sends `resource`, so Clerk's token names this server.
    assert_eq!(
        mock.resources.lock().unwrap().clone(),
        [Some(app.public_url("/mcp"))]
    );
    assert_app_saw_only_m2m_tokens(&mock, &summary);

    mock.issue_opaque_tokens(true);
    let summary = support::node_json(
        "sdk-clerk-as-flow.mjs",
        &json!({ "origin": app.host.url(), "issuer": mock.issuer }),
    )
    .await;
    assert!(summary["access_token_prefix"] == "oat_", "{summary}");
    assert_eq!(summary["user_id"], USER, "{summary}");
    assert_eq!(summary["stateless_sum"], 9.0, "{summary}");
    assert_app_saw_only_m2m_tokens(&mock, &summary);
}

/// The SDK's `get_app_data` reached the app as the user, and the app never saw the
/// client's access token: only M2M tokens this server minted.
fn assert_app_saw_only_m2m_tokens(mock: &MockClerkAs, summary: &Value) {
    assert_eq!(summary["app_error"], Value::Null, "{summary}");
    assert_eq!(summary["app_user"], USER, "{summary}");
    let access_token = summary["access_token"].as_str().unwrap();
    let calls = mock.app_calls();
    assert!(!calls.is_empty());
    assert!(
        calls.iter().all(|c| !c.contains(access_token)),
        "the client's token reached the app"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_closed_pages_show_in_chromium_without_csp_or_console_problems() {
    let mock = MockClerkAs::start().await;
    let app = app_for(&mock, &[]).await;
    let options = json!({
        "origin": app.host.url(),
        "paths": ["/authorize?response_type=code&client_id=x", "/callback?state=x", "/connections", "/"],
    });
    let shown = support::node_json("chromium-pages.mjs", &options).await;
    let pages = shown["pages"].as_array().unwrap();
    for page in &pages[..3] {
        assert_eq!(page["problems"], json!([]), "{page}");
        assert_eq!(page["status"], 404, "{page}");
        assert_eq!(page["title"], "Sign in with Clerk", "{page}");
        assert!(
            page["text"].as_str().unwrap().contains(&mock.issuer),
            "{page}"
        );
    }
    let front = &pages[3];
    assert_eq!(front["problems"], json!([]), "{front}");
    assert_eq!(front["status"], 200);
    let text = front["text"].as_str().unwrap();
    assert!(
        text.contains("Clerk is the authorization server") && text.contains(&mock.issuer),
        "{text}"
    );
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
    assert_eq!(door["mode"], "clerk_authorization_server");
    assert_eq!(door["authorization_server"], mock.issuer);
}

/// The HTTP+SSE transport takes Clerk's tokens too: the session is bound to the Clerk
/// user, another user's token cannot post to it, and the stream ends when the token
/// that opened it expires (Clerk's JWTs cannot be revoked early, so nothing else would).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_token_opens_an_sse_stream_bound_to_its_user_until_it_expires() {
    use support::sse::{self, Event, Stream};

    let mock = MockClerkAs::start().await;
    let app = app_for(&mock, &[]).await;
    let resource = app.public_url("/sse");
    let mut claims = mock.access_claims(Some(&resource), "openid");
    claims["exp"] = json!(clerk_as::now() + 7);
    let token = clerk_as::sign(
        &claims,
        Some("at+jwt"),
        "ins_key_1",
        Key::First,
        Algorithm::RS256,
    );
    let mut stream = Stream::open(&app, &token).await;

    let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}});
    assert_eq!(
        sse::post(&app, &stream.endpoint, &token, &call)
            .await
            .status(),
        202
    );
    let reply = stream.message().await;
    assert_eq!(
        reply["result"]["structuredContent"]["user_id"], USER,
        "{reply}"
    );

    let mut someone_else = mock.access_claims(Some(&resource), "openid");
    someone_else["sub"] = json!("user_2other");
    let other = clerk_as::sign(
        &someone_else,
        Some("at+jwt"),
        "ins_key_1",
        Key::First,
        Algorithm::RS256,
    );
    assert_eq!(
        sse::post(&app, &stream.endpoint, &other, &call)
            .await
            .status(),
        404
    );

    // The token expires 7 s after it was minted: the stream ends then, cleanly.
    let started = Instant::now();
    loop {
        match stream.next_within(Duration::from_secs(15)).await {
            None => break,
            Some(Event::Comment(_)) => continue,
            Some(other) => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "{:?}",
        started.elapsed()
    );
    // Its session ended with it (the token is still within its 5 s of leeway).
    assert_eq!(
        sse::post(&app, &stream.endpoint, &token, &call)
            .await
            .status(),
        404
    );
}
