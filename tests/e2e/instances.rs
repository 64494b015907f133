//! Two instances of the app on one real `redis-server` (the `default` store configured as
//! `runtime-config/redis.toml` configures it), behind one public origin: a user's
//! requests may land on either, and every guarantee holds as on one instance.

#[path = "../support/mod.rs"]
mod support;

use std::sync::Arc;

use ::oauth::lifetimes::REFRESH_GRACE_SECS;

use serde_json::{Value, json};
use support::App;
use support::clerk::{Mint, MockClerk, get_app_data};
use support::oauth::{self, Pkce};
use support::redis::RedisServer;

/// The origin a load balancer in front of both instances would publish.
const PUBLIC_BASE: &str = "http://localhost:1";
const SIGNING_SECRET: &str = "one-signing-secret-shared-by-every-instance-0123456789";

async fn instance(redis: &RedisServer) -> App {
    App::start_on(
        Arc::new(tempfile::tempdir().unwrap()),
        support::project_manifest(),
        &[
            ("base_url", PUBLIC_BASE),
            ("signing_secret", SIGNING_SECRET),
        ],
        redis.runtime_config(),
    )
    .await
}

/// An instance whose `mcp` has the conformance fixtures (tools that ask the client).
async fn conformance_instance(redis: &RedisServer) -> App {
    App::start_on(
        Arc::new(tempfile::tempdir().unwrap()),
        support::conformance_manifest(),
        &[
            ("base_url", PUBLIC_BASE),
            ("signing_secret", SIGNING_SECRET),
        ],
        redis.runtime_config(),
    )
    .await
}

async fn two_instances() -> (RedisServer, App, App) {
    let redis = RedisServer::start();
    let a = instance(&redis).await;
    let b = instance(&redis).await;
    (redis, a, b)
}

/// POSTs a JSON-RPC message to `/mcp` of `app`.
async fn mcp(app: &App, token: &str, session: Option<&str>, message: &Value) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .json(message);
    if let Some(session) = session {
        req = req
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-06-18");
    }
    req.send().await.unwrap()
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}})
}

fn add(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 2, "b": 3}}})
}

async fn sum_of(resp: reqwest::Response) -> Value {
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["result"]["structuredContent"]["sum"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_whose_steps_land_on_different_instances_works() {
    let (_redis, a, b) = two_instances().await;
    // Registered on A, consent shown by A and approved on B, code exchanged on A.
    let client = oauth::register_public(&a).await;
    let pkce = Pkce::new(61);
    let form = oauth::open_consent(&a, &oauth::authorize_query(&a, &client, &pkce, &[])).await;
    let approved =
        oauth::submit_consent(&b, &form, &[("decision", "approve"), ("user", "ines")]).await;
    assert_eq!(approved.status(), 302);
    let location = url::Url::parse(approved.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let (status, tokens) = oauth::exchange(&a, &client, &code, &pkce).await;
    assert_eq!(status, 200, "{tokens}");
    // The access token works at B; a refresh on B rotates what A then honours.
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(mcp(&b, access, None, &initialize()).await.status(), 200);
    let (status, refreshed) =
        oauth::refresh(&b, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{refreshed}");
    let (status, refreshed_again) =
        oauth::refresh(&a, &client, refreshed["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{refreshed_again}");

    // The code is spent for both: its reuse on B is refused, and, as a replay, revokes
    // the grant on both.
    let (status, again) = oauth::exchange(&b, &client, &code, &pkce).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let latest = refreshed_again["access_token"].as_str().unwrap();
    assert_eq!(mcp(&a, latest, None, &initialize()).await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_opened_on_one_instance_is_used_and_ended_on_the_other() {
    let (_redis, a, b) = two_instances().await;
    let (_, tokens) = oauth::sign_in_locally(&a, 62, "jon").await;
    let access = tokens["access_token"].as_str().unwrap();

    let opened = mcp(&a, access, None, &initialize()).await;
    assert_eq!(opened.status(), 200);
    let session = opened.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        sum_of(mcp(&b, access, Some(&session), &add(2)).await).await,
        5.0
    );
    assert_eq!(
        sum_of(mcp(&a, access, Some(&session), &add(3)).await).await,
        5.0
    );

    let ended = b
        .client
        .delete(b.url("/mcp"))
        .bearer_auth(access)
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 204);
    for app in [&a, &b] {
        let gone = mcp(app, access, Some(&session), &add(4)).await;
        assert_eq!(gone.status(), 404, "the ended session is gone everywhere");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_split_across_instances_converge_on_one_refresh_token() {
    let (_redis, a, b) = two_instances().await;
    let (client, tokens) = oauth::sign_in_locally(&a, 63, "kim").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let results = futures::future::join_all((0..8).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        oauth::refresh(app, &client, &refresh)
    }))
    .await;
    let live: std::collections::BTreeSet<String> = results
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            body["refresh_token"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(live.len(), 1, "two different live refresh tokens: {live:?}");
    let next = live.first().unwrap();
    let (status, newest) = oauth::refresh(&b, &client, next).await;
    assert_eq!(
        status, 200,
        "the converged token works on the other instance: {newest}"
    );
    let newest_refresh = newest["refresh_token"].as_str().unwrap();
    let newest_access = newest["access_token"].as_str().unwrap();

    // The previous token again on A within the grace window: the same pair, no harm.
    let (status, retried) = oauth::refresh(&a, &client, next).await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["refresh_token"], newest["refresh_token"]);

    // Past the grace window it is a replay: the grant ends, on both instances.
    a.host.advance_clock(REFRESH_GRACE_SECS + 1);
    b.host.advance_clock(REFRESH_GRACE_SECS + 1);
    let (status, replayed) = oauth::refresh(&a, &client, next).await;
    assert_eq!((status, &replayed["error"]), (400, &json!("invalid_grant")));
    for app in [&a, &b] {
        let (status, body) = oauth::refresh(app, &client, newest_refresh).await;
        assert_eq!(
            (status, &body["error"]),
            (400, &json!("invalid_grant")),
            "the live refresh token after the replay: {body}"
        );
        let resp = mcp(app, newest_access, None, &initialize()).await;
        assert_eq!(resp.status(), 401, "the access token after the replay");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_is_laid_out_as_spins_redis_backend_lays_it_out() {
    let (redis, a, _b) = two_instances().await;
    let client = oauth::register_public(&a).await;
    // Spin's Redis backend stores each key as itself (no label prefix) and each value as
    // a Redis string: the client record is readable with a plain GET.
    let key = format!("cl:{}", client.id);
    let keys = redis.command(&["KEYS", "cl:*"]).unwrap();
    assert!(keys.contains(&key), "{keys}");
    let stored: Value = serde_json::from_str(&redis.command(&["GET", &key]).unwrap()).unwrap();
    assert!(stored.is_object(), "{stored}");
    let size: usize = redis.command(&["DBSIZE"]).unwrap().parse().unwrap();
    assert_eq!(a.host.kv_snapshot().len(), size);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_refusing_commands_gives_503s_and_nothing_changes_until_it_accepts_them_again() {
    let (redis, a, b) = two_instances().await;
    let (client, tokens) = oauth::sign_in_locally(&a, 64, "lea").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let before = a.host.kv_snapshot();

    // Redis's ACL now refuses every command but AUTH and the ones that restore it.
    redis
        .command(&[
            "ACL", "SETUSER", "default", "-@all", "+acl", "+ping", "+auth", "+hello",
        ])
        .unwrap();
    let (status, body) = oauth::refresh(&b, &client, &refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("temporarily_unavailable"))
    );
    let refused = mcp(&a, &access, None, &initialize()).await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().get("www-authenticate").is_none());
    assert_eq!(refused.headers()["retry-after"], "5");

    redis
        .command(&["ACL", "SETUSER", "default", "+@all"])
        .unwrap();
    assert_eq!(
        a.host.kv_snapshot(),
        before,
        "a refused request wrote nothing"
    );
    let (status, body) = oauth::refresh(&b, &client, &refresh).await;
    assert_eq!(
        status, 200,
        "the same refresh token works once Redis is back: {body}"
    );
    assert_eq!(mcp(&a, &access, None, &initialize()).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tool_calls_on_both_instances_share_one_clerk_mint() {
    let redis = RedisServer::start();
    let mock = MockClerk::start().await;
    let mut vars = mock.variables();
    vars.extend([
        ("base_url", PUBLIC_BASE.to_owned()),
        ("signing_secret", SIGNING_SECRET.to_owned()),
    ]);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let start = || {
        App::start_on(
            Arc::new(tempfile::tempdir().unwrap()),
            support::project_manifest(),
            &vars,
            redis.runtime_config(),
        )
    };
    let (a, b) = (start().await, start().await);

    // Signed in through Clerk: consent on A; the app sends the browser back to the public
    // origin, which the load balancer routes to B.
    mock.set_valid_token();
    let (_, tokens) = support::clerk::sign_in_across(&a, &b, 65).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();

    // A first token that expires at once, then 20 calls split across A and B.
    *mock.upstream.mint.lock().unwrap() = Mint::Lasting(11);
    assert_eq!(get_app_data(&b, &access).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    *mock.upstream.mint.lock().unwrap() = Mint::Lasting(60);
    let calls = (0..20).map(|i| get_app_data(if i % 2 == 0 { &a } else { &b }, &access));
    for (status, reply, _) in futures::future::join_all(calls).await {
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply["result"]["isError"], false, "{reply}");
    }
    let new_mints = mock.upstream.mint_count() - 1;
    assert!(
        (1..=2).contains(&new_mints),
        "20 concurrent calls on two instances minted {new_mints} times"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tools_question_streamed_by_one_instance_is_answered_through_the_other() {
    let redis = RedisServer::start();
    let (a, b) = (
        conformance_instance(&redis).await,
        conformance_instance(&redis).await,
    );
    let (_, tokens) = oauth::sign_in_locally(&a, 66, "max").await;
    let access = tokens["access_token"].as_str().unwrap();
    let mut init = initialize();
    init["params"]["capabilities"] = json!({ "elicitation": {} });
    let opened = mcp(&a, access, None, &init).await;
    assert_eq!(opened.status(), 200);
    let session = opened.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();

    // A holds the stream of the tool call; the question arrives on it.
    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "test_elicitation", "arguments": {"message": "Who are you?"}}});
    let mut stream = mcp(&a, access, Some(&session), &call).await;
    assert_eq!(stream.status(), 200);
    let mut seen = String::new();
    let question: Value = loop {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), stream.chunk())
            .await
            .expect("the question arrives")
            .unwrap()
            .expect("the stream stays open until the answer");
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(event) = seen
            .split("\n\n")
            .filter_map(|event| event.lines().find_map(|l| l.strip_prefix("data: ")))
            .filter_map(|data| serde_json::from_str::<Value>(data).ok())
            .find(|m| m["method"] == "elicitation/create")
        {
            break event;
        }
    };

    // The client's answer goes to B, which hands it over through Redis.
    let answer = json!({"jsonrpc": "2.0", "id": question["id"], "result": {
        "action": "accept", "content": {"username": "max", "email": "max@example.com"}}});
    let handed = mcp(&b, access, Some(&session), &answer).await;
    assert_eq!(handed.status(), 202);

    let rest = tokio::time::timeout(std::time::Duration::from_secs(10), stream.text())
        .await
        .expect("the tool finishes")
        .unwrap();
    let all = seen + rest.as_str();
    assert!(
        all.contains("User response: action=accept") && all.contains("max@example.com"),
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sse_stream_on_one_instance_carries_the_answers_to_messages_posted_to_the_other() {
    let redis = RedisServer::start();
    let (a, b) = (
        conformance_instance(&redis).await,
        conformance_instance(&redis).await,
    );
    let (_, tokens) = oauth::sign_in_locally(&a, 67, "nia").await;
    let access = tokens["access_token"].as_str().unwrap();
    let mut stream = support::sse::Stream::open(&a, access).await;
    let mut init = initialize();
    init["params"]["capabilities"] = json!({ "elicitation": {} });
    let posted = support::sse::post(&b, &stream.endpoint, access, &init).await;
    assert_eq!(posted.status(), 202);
    assert_eq!(
        stream.message().await["result"]["protocolVersion"],
        "2025-06-18"
    );
    assert_eq!(
        support::sse::post(&b, &stream.endpoint, access, &add(2))
            .await
            .status(),
        202
    );
    assert_eq!(
        stream.message().await["result"]["structuredContent"]["sum"],
        5.0
    );

    // A tool run by B asks on A's stream; the answer, POSTed to A, reaches B's tool.
    let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "test_elicitation", "arguments": {"message": "Who are you?"}}});
    assert_eq!(
        support::sse::post(&b, &stream.endpoint, access, &call)
            .await
            .status(),
        202
    );
    let question = stream.message().await;
    assert_eq!(question["method"], "elicitation/create");
    let answer = json!({"jsonrpc": "2.0", "id": question["id"], "result": {
        "action": "accept", "content": {"username": "nia", "email": "nia@example.com"}}});
    assert_eq!(
        support::sse::post(&a, &stream.endpoint, access, &answer)
            .await
            .status(),
        202
    );
    let result = stream.message().await;
    assert_eq!(result["id"], 3);
    assert!(result.to_string().contains("nia@example.com"), "{result}");
}

/// The host clock two hours on, plus a minute.
fn exp_after_two_hours(app: &App) -> u64 {
    app.host.now() + 2 * 3600 + 60
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweeps_running_on_both_instances_at_once_delete_only_expired_records() {
    let (_redis, a, b) = two_instances().await;
    let (client, tokens) = oauth::sign_in_locally(&a, 67, "nia").await;
    assert!(a.host.settle(std::time::Duration::from_secs(10)).await);
    let exp = a.host.now() + 60;
    let slots: Vec<Vec<(String, Vec<u8>)>> = (0..400)
        .map(|i| {
            ["co", "gr", "si", "cl", "cm", "ms", "ma"]
                .map(|p| (format!("{p}:expired{i}"), support::fill::body(exp)))
                .to_vec()
        })
        .collect();
    support::fill::plant(&a.host, &slots, exp);
    let expired: Vec<&String> = slots.iter().flatten().map(|(k, _)| k).collect();
    // What is still live once the clocks have moved on (the sign-in's code is not).
    let still_live = |value: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(value)
            .ok()
            .and_then(|record| record["exp"].as_u64())
            .is_none_or(|exp| exp > exp_after_two_hours(&a))
    };
    let live_before: std::collections::BTreeSet<String> = a
        .host
        .kv_snapshot()
        .into_iter()
        .filter(|(k, v)| {
            !k.contains("expired") && !k.starts_with("x") && k != "cfg:sweep" && still_live(v)
        })
        .map(|(k, _)| k)
        .collect();
    // Both instances' clocks move on, and both find the sweep due at once.
    a.host.advance_clock(2 * 3600);
    b.host.advance_clock(2 * 3600);
    let mut registered = Vec::new();
    for _ in 0..40 {
        support::fill::make_sweep_due(&a.host);
        let (one, two) = tokio::join!(oauth::register_public(&a), oauth::register_public(&b));
        registered.extend([one, two]);
        for app in [&a, &b] {
            assert!(app.host.settle(std::time::Duration::from_secs(10)).await);
        }
    }
    let after = a.host.kv_snapshot();
    for key in expired {
        assert!(!after.contains_key(key), "{key} survived both sweeps");
    }
    for key in &live_before {
        assert!(after.contains_key(key), "{key} was swept while live");
    }
    for client in registered {
        assert!(after.contains_key(&format!("cl:{}", client.id)));
    }
    // Everything live still works.
    let (status, body) =
        oauth::refresh(&b, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_redis_gives_503s_and_once_restarted_everything_works_without_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let mut redis = RedisServer::start_persistent(data.path());
    let a = instance(&redis).await;
    let b = instance(&redis).await;
    let (client, tokens) = oauth::sign_in_locally(&a, 68, "oda").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let access = tokens["access_token"].as_str().unwrap().to_owned();

    redis.kill();
    // The host fails fast where Spin would wait for its reconnection; either way the
    // answer is a 503 that keeps the client's credentials.
    let (status, body) = oauth::refresh(&b, &client, &refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("temporarily_unavailable"))
    );
    let refused = mcp(&a, &access, None, &initialize()).await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().get("www-authenticate").is_none());
    let registration = a
        .client
        .post(a.url("/register"))
        .json(
            &json!({"redirect_uris": [oauth::REDIRECT_URI], "token_endpoint_auth_method": "none"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(registration.status(), 503);

    redis.restart();
    let (status, body) = oauth::refresh(&b, &client, &refresh).await;
    assert_eq!(
        status, 200,
        "the same refresh token works on the restarted Redis: {body}"
    );
    assert_eq!(mcp(&a, &access, None, &initialize()).await.status(), 200);
}
