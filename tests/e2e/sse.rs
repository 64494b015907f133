//! The HTTP+SSE transport at `/sse` (2024-11-05), on the real `mcp` component: the
//! stream, its endpoint event, messages POSTed and answered on the stream, the same
//! sign-in as `/mcp`, every refusal (with nothing written), and how a stream ends.

#[path = "../support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::App;
use support::oauth;
use support::sse::{self, Event, Stream};

fn initialize(version: &str, capabilities: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": capabilities,
        "clientInfo": {"name": "sse-test", "version": "1"}}})
}

fn call(id: u64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}})
}

async fn signed_in(app: &App, seed: u8, user: &str) -> String {
    let (_, tokens) = oauth::sign_in_locally(app, seed, user).await;
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// POSTs `message` for `stream`'s session and returns what the stream answers.
async fn ask(app: &App, stream: &mut Stream, token: &str, message: &Value) -> Value {
    let accepted = sse::post(app, &stream.endpoint, token, message).await;
    assert_eq!(accepted.status(), 202, "{}", accepted.text().await.unwrap());
    stream.message().await
}

fn sse_keys(app: &App) -> Vec<String> {
    app.host
        .kv_snapshot()
        .into_keys()
        .filter(|k| k.starts_with("ss:") || k.starts_with("sn:") || k.starts_with("so:"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_initializes_lists_and_calls_tools_over_the_stream() {
    let app = App::start().await;
    let token = signed_in(&app, 1, "ada").await;
    let mut stream = Stream::open(&app, &token).await;
    assert!(
        stream.endpoint.starts_with("/sse/message?sessionId="),
        "{}",
        stream.endpoint
    );
    let session_id = stream.session_id();
    assert!(session_id.len() >= 43, "32 random bytes: {session_id}");

    // The transport's own revision is spoken when asked for; a 2025 one is negotiated.
    let init = ask(
        &app,
        &mut stream,
        &token,
        &initialize("2024-11-05", json!({})),
    )
    .await;
    assert_eq!(init["id"], 1);
    assert_eq!(init["result"]["protocolVersion"], "2024-11-05", "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "mcp");
    let accepted = sse::post(
        &app,
        &stream.endpoint,
        &token,
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(accepted.status(), 202);

    let listed = ask(
        &app,
        &mut stream,
        &token,
        &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .await;
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["whoami", "add", "get_app_data"]);
    let sum = ask(
        &app,
        &mut stream,
        &token,
        &call(3, "add", json!({"a": 2, "b": 3})),
    )
    .await;
    assert_eq!(sum["id"], 3);
    assert_eq!(sum["result"]["structuredContent"]["sum"], 5.0, "{sum}");
    let me = ask(&app, &mut stream, &token, &call(4, "whoami", json!({}))).await;
    assert!(me.to_string().contains("local:ada"), "{me}");
    // A bad request is answered on the stream, as JSON-RPC.
    let unknown = ask(
        &app,
        &mut stream,
        &token,
        &json!({"jsonrpc": "2.0", "id": 5, "method": "no/such"}),
    )
    .await;
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");

    // The session is stored by the hash of its id; the id itself is nowhere.
    let stored = app.host.kv_snapshot();
    let hash = ::oauth::secret::SecretHash::of(&session_id).to_string();
    assert!(stored.contains_key(&format!("ss:{hash}")));
    for (key, value) in &stored {
        assert!(!key.contains(&session_id), "{key}");
        assert!(
            !String::from_utf8_lossy(value).contains(&session_id),
            "{key}"
        );
    }
    // Every message was taken from the outbox as it went out.
    assert!(
        !stored.keys().any(|k| k.starts_with("so:")),
        "{:?}",
        sse_keys(&app)
    );

    // A 2025 revision is negotiated as at /mcp, on a second stream of the same user.
    let mut second = Stream::open(&app, &token).await;
    let init = ask(
        &app,
        &mut second,
        &token,
        &initialize("2025-06-18", json!({})),
    )
    .await;
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    assert_ne!(second.session_id(), session_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_challenge_at_sse_names_metadata_whose_resource_is_sse() {
    let app = App::start().await;
    let prm_url = app.url("/.well-known/oauth-protected-resource/sse");
    for resp in [
        app.client
            .get(app.url("/sse"))
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap(),
        app.client
            .post(app.url("/sse/message?sessionId=x"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(resp.status(), 401);
        assert_eq!(
            resp.headers()["www-authenticate"],
            format!(r#"Bearer resource_metadata="{prm_url}", scope="mcp""#).as_str()
        );
    }
    let invalid = app
        .client
        .get(app.url("/sse"))
        .bearer_auth("not-a-token-we-issued")
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 401);
    let challenge = invalid.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with(r#"Bearer error="invalid_token""#));
    assert!(challenge.contains(&prm_url), "{challenge}");

    // Same authorization server, the resource named as the client will derive it.
    let sse: Value = app
        .get("/.well-known/oauth-protected-resource/sse")
        .await
        .json()
        .await
        .unwrap();
    let mcp: Value = app
        .get("/.well-known/oauth-protected-resource/mcp")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sse["resource"], app.url("/sse"));
    assert_eq!(sse["authorization_servers"], mcp["authorization_servers"]);
    assert_eq!(sse["scopes_supported"], mcp["scopes_supported"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_asked_for_sse_works_at_both_endpoints_and_one_for_elsewhere_is_refused() {
    let app = App::start().await;
    let client = oauth::register_public(&app).await;
    let pkce = oauth::Pkce::new(7);
    let sse_resource = app.public_url("/sse");
    let query = oauth::authorize_query(&app, &client, &pkce, &[("resource", &sse_resource)]);
    let form = oauth::open_consent(&app, &query).await;
    let approved =
        oauth::submit_consent(&app, &form, &[("decision", "approve"), ("user", "bo")]).await;
    assert_eq!(approved.status(), 302);
    let location = approved.headers()["location"].to_str().unwrap().to_owned();
    let code = support::query_param(&location, "code").expect("a code");
    let (status, tokens) = oauth::token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", oauth::REDIRECT_URI),
            ("client_id", &client.id),
            ("code_verifier", &pkce.verifier),
            ("resource", &sse_resource),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let token = tokens["access_token"].as_str().unwrap();
    let grant: Value = app
        .host
        .kv_snapshot()
        .iter()
        .find(|(k, _)| k.starts_with("gr:"))
        .map(|(_, v)| serde_json::from_slice(v).unwrap())
        .unwrap();
    assert_eq!(
        grant["resource"],
        app.public_url("/mcp"),
        "one canonical resource"
    );

    let mut stream = Stream::open(&app, token).await;
    let init = ask(
        &app,
        &mut stream,
        token,
        &initialize("2025-03-26", json!({})),
    )
    .await;
    assert_eq!(init["result"]["protocolVersion"], "2025-03-26");
    let at_mcp = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(initialize("2025-06-18", json!({})).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(at_mcp.status(), 200);

    // A resource that is not this server's is refused before anything is stored.
    let before = app.host.kv_snapshot();
    for other in ["http://127.0.0.1:1/sse", &app.public_url("/sse/message")] {
        let query = oauth::authorize_query(&app, &client, &pkce, &[("resource", other)]);
        let resp = app.get(&format!("/authorize?{query}")).await;
        assert_eq!(resp.status(), 302, "{other}");
        let location = resp.headers()["location"].to_str().unwrap();
        assert_eq!(
            support::query_param(location, "error").as_deref(),
            Some("invalid_target"),
            "{other}"
        );
    }
    assert_eq!(app.host.kv_snapshot(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_is_spec_shaped_and_writes_nothing() {
    let app = App::start().await;
    let token = signed_in(&app, 2, "cy").await;
    let other_user = signed_in(&app, 3, "dee").await;
    let mut stream = Stream::open(&app, &token).await;
    let endpoint = stream.endpoint.clone();
    let ping = json!({"jsonrpc": "2.0", "id": 9, "method": "ping"});
    // Let the first messages settle, then nothing may change.
    let _ = ask(
        &app,
        &mut stream,
        &token,
        &initialize("2024-11-05", json!({})),
    )
    .await;
    let before = app.host.kv_snapshot();

    let send = |method: reqwest::Method, path: &str| {
        app.client
            .request(method, app.url(path))
            .bearer_auth(&token)
            .header("content-type", "application/json")
    };
    let cases: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        (
            "POST /sse",
            send(reqwest::Method::POST, "/sse").body(ping.to_string()),
            405,
        ),
        ("DELETE /sse", send(reqwest::Method::DELETE, "/sse"), 405),
        (
            "GET the message URL",
            send(reqwest::Method::GET, &endpoint),
            405,
        ),
        (
            "no sessionId",
            send(reqwest::Method::POST, "/sse/message").body(ping.to_string()),
            400,
        ),
        (
            "an unknown session",
            send(
                reqwest::Method::POST,
                "/sse/message?sessionId=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            )
            .body(ping.to_string()),
            404,
        ),
        (
            "another user's session",
            app.client
                .post(app.url(&endpoint))
                .bearer_auth(&other_user)
                .header("content-type", "application/json")
                .body(ping.to_string()),
            404,
        ),
        (
            "malformed JSON",
            send(reqwest::Method::POST, &endpoint).body("{\"jsonrpc\": \"2.0\", "),
            400,
        ),
        (
            "not JSON-RPC",
            send(reqwest::Method::POST, &endpoint).body("[1, 2]"),
            400,
        ),
        (
            "not application/json",
            send(reqwest::Method::POST, &endpoint)
                .header("content-type", "text/plain")
                .body(ping.to_string()),
            415,
        ),
        (
            "over the size limit",
            send(reqwest::Method::POST, &endpoint).body(format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#,
                "x".repeat(1024 * 1024)
            )),
            413,
        ),
        (
            "a foreign Host",
            send(reqwest::Method::POST, &endpoint)
                .header("host", "evil.example")
                .body(ping.to_string()),
            403,
        ),
        (
            "a foreign Origin",
            send(reqwest::Method::POST, &endpoint)
                .header("origin", "https://evil.example")
                .body(ping.to_string()),
            403,
        ),
        (
            "a stream from a foreign Origin",
            app.client
                .get(app.url("/sse"))
                .bearer_auth(&token)
                .header("origin", "https://evil.example"),
            403,
        ),
        (
            "a stream for a client that takes no events",
            app.client
                .get(app.url("/sse"))
                .bearer_auth(&token)
                .header("accept", "application/json"),
            406,
        ),
        (
            "no token",
            app.client
                .post(app.url(&endpoint))
                .header("content-type", "application/json")
                .body(ping.to_string()),
            401,
        ),
    ];
    for (case, request, status) in cases {
        let resp = request.send().await.unwrap();
        assert_eq!(resp.status(), status, "{case}");
        if status == 405 {
            let allow = resp.headers()["allow"].to_str().unwrap();
            assert!(allow == "GET" || allow == "POST", "{case}: {allow}");
        }
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status != 401 {
            assert_eq!(body["jsonrpc"], "2.0", "{case}: {body}");
            assert!(body["error"]["code"].is_i64(), "{case}: {body}");
        }
        assert_eq!(app.host.kv_snapshot(), before, "{case} wrote to the store");
    }
    // Nothing refused reached the stream: the next thing on it answers the next message.
    let pong = ask(&app, &mut stream, &token, &ping).await;
    assert_eq!(pong, json!({"jsonrpc": "2.0", "id": 9, "result": {}}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tools_question_goes_out_on_the_stream_and_the_posted_answer_reaches_it() {
    let app = App::start_with(support::conformance_manifest(), &[]).await;
    let token = signed_in(&app, 4, "eve").await;
    let mut stream = Stream::open(&app, &token).await;
    let capabilities = json!({"elicitation": {}, "sampling": {}});
    let init = ask(
        &app,
        &mut stream,
        &token,
        &initialize("2025-06-18", capabilities),
    )
    .await;
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");

    let accepted = sse::post(
        &app,
        &stream.endpoint,
        &token,
        &call(7, "test_elicitation", json!({"message": "Who are you?"})),
    )
    .await;
    assert_eq!(accepted.status(), 202);
    let question = stream.message().await;
    assert_eq!(question["method"], "elicitation/create", "{question}");
    assert!(question["id"].as_str().unwrap().starts_with("srv-"));
    let answer = json!({"jsonrpc": "2.0", "id": question["id"], "result": {
        "action": "accept", "content": {"username": "eve", "email": "eve@example.com"}}});
    assert_eq!(
        sse::post(&app, &stream.endpoint, &token, &answer)
            .await
            .status(),
        202
    );
    let result = stream.message().await;
    assert_eq!(result["id"], 7);
    let text = result.to_string();
    assert!(
        text.contains("action=accept") && text.contains("eve@example.com"),
        "{text}"
    );

    // Sampling the same way; an answer to a request never sent is dropped.
    let stray = json!({"jsonrpc": "2.0", "id": "srv-never-sent", "result": {}});
    assert_eq!(
        sse::post(&app, &stream.endpoint, &token, &stray)
            .await
            .status(),
        202
    );
    let accepted = sse::post(
        &app,
        &stream.endpoint,
        &token,
        &call(8, "test_sampling", json!({"prompt": "Say hi"})),
    )
    .await;
    assert_eq!(accepted.status(), 202);
    let question = stream.message().await;
    assert_eq!(question["method"], "sampling/createMessage", "{question}");
    let answer = json!({"jsonrpc": "2.0", "id": question["id"], "result": {
        "role": "assistant", "content": {"type": "text", "text": "hi from the model"},
        "model": "test-model", "stopReason": "endTurn"}});
    assert_eq!(
        sse::post(&app, &stream.endpoint, &token, &answer)
            .await
            .status(),
        202
    );
    let result = stream.message().await;
    assert_eq!(result["id"], 8);
    assert!(result.to_string().contains("hi from the model"), "{result}");
    let pending: Vec<String> = app
        .host
        .kv_snapshot()
        .into_keys()
        .filter(|k| k.starts_with("ma:"))
        .collect();
    assert!(pending.is_empty(), "{pending:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_leaves_is_noticed_within_the_heartbeat_and_its_session_ends() {
    let app = App::start_with(support::project_manifest(), &[("sse_heartbeat", "1s")]).await;
    let token = signed_in(&app, 5, "fay").await;
    let mut stream = Stream::open(&app, &token).await;
    let endpoint = stream.endpoint.clone();
    // An idle stream carries heartbeats at the configured interval.
    let started = Instant::now();
    assert!(matches!(stream.next().await, Some(Event::Comment(_))));
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(sse_keys(&app).len(), 2, "the session and its counter");

    drop(stream);
    let left = Instant::now();
    while !sse_keys(&app).is_empty() {
        assert!(
            left.elapsed() < Duration::from_secs(3),
            "the stream's instance did not notice the client leaving: {:?}",
            sse_keys(&app)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let late = sse::post(
        &app,
        &endpoint,
        &token,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
    )
    .await;
    assert_eq!(late.status(), 404);
    assert!(app.host.component_log().contains("the client left"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_ends_cleanly_at_its_lifetime_and_takes_its_session_along() {
    let app = App::start_with(
        support::project_manifest(),
        &[("sse_stream_lifetime", "5s"), ("sse_heartbeat", "2s")],
    )
    .await;
    let token = signed_in(&app, 6, "gil").await;
    let opened = Instant::now();
    let mut stream = Stream::open(&app, &token).await;
    let endpoint = stream.endpoint.clone();
    let pong = ask(
        &app,
        &mut stream,
        &token,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
    )
    .await;
    assert_eq!(pong["result"], json!({}));
    // Heartbeats, then a last comment, then the end of the body (not a reset).
    let mut comments = Vec::new();
    while let Some(event) = stream.next_within(Duration::from_secs(8)).await {
        match event {
            Event::Comment(text) => comments.push(text),
            other => panic!("{other:?}"),
        }
    }
    let lived = opened.elapsed();
    assert!(
        lived >= Duration::from_secs(5) && lived < Duration::from_secs(7),
        "{lived:?}"
    );
    assert!(
        comments.iter().filter(|c| *c == "heartbeat").count() >= 1,
        "{comments:?}"
    );
    assert!(
        comments.last().unwrap().contains("lifetime"),
        "{comments:?}"
    );
    assert!(sse_keys(&app).is_empty(), "{:?}", sse_keys(&app));
    let late = sse::post(
        &app,
        &endpoint,
        &token,
        &json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}),
    )
    .await;
    assert_eq!(late.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_out_of_range_stream_setting_is_a_configuration_error() {
    let app = App::start_with(support::project_manifest(), &[("sse_heartbeat", "5m")]).await;
    let token = signed_in(&app, 7, "hal").await;
    let before = app.host.kv_snapshot();
    let resp = app
        .client
        .get(app.url("/sse"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "this server is not configured correctly"
    );
    assert_eq!(app.host.kv_snapshot(), before);
    assert!(app.host.component_log().contains("sse_heartbeat"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_costs_its_poster_two_writes_and_the_stream_one() {
    let app = App::start().await;
    let token = signed_in(&app, 8, "ivo").await;
    let mut stream = Stream::open(&app, &token).await;
    // The session's first message also indexes its block of the outbox for the sweep.
    let _ = ask(
        &app,
        &mut stream,
        &token,
        &initialize("2024-11-05", json!({})),
    )
    .await;
    app.host.reset_kv_stats();
    let sum = ask(
        &app,
        &mut stream,
        &token,
        &call(2, "add", json!({"a": 1, "b": 1})),
    )
    .await;
    assert_eq!(sum["result"]["structuredContent"]["sum"], 2.0);
    // The POST: the grant and the session read, the message numbered and written; the
    // stream: its polls (reads only) and the delete of the message it sent.
    let stats = app.host.kv_stats();
    assert_eq!(stats.writes, 3, "{stats:?}");
    assert!(stats.reads >= 3, "{stats:?}");
    assert_eq!(stats.listings, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_numbered_but_never_written_holds_the_stream_back_only_briefly() {
    let app = App::start().await;
    let token = signed_in(&app, 9, "jo").await;
    let mut stream = Stream::open(&app, &token).await;
    let _ = ask(
        &app,
        &mut stream,
        &token,
        &initialize("2024-11-05", json!({})),
    )
    .await;
    // A poster numbered message 2 and died before writing it.
    let hash = ::oauth::secret::SecretHash::of(&stream.session_id()).to_string();
    app.host.kv_put(&format!("sn:{hash}"), &2i64.to_le_bytes());
    let posted = Instant::now();
    let accepted = sse::post(
        &app,
        &stream.endpoint,
        &token,
        &json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}),
    )
    .await;
    assert_eq!(accepted.status(), 202);
    let pong = loop {
        match stream.next_within(Duration::from_secs(20)).await {
            Some(Event::Named { data, .. }) => break serde_json::from_str::<Value>(&data).unwrap(),
            Some(Event::Comment(_)) => continue,
            None => panic!("the stream ended"),
        }
    };
    assert_eq!(pong["id"], 3);
    let waited = posted.elapsed();
    assert!(
        waited >= Duration::from_secs(9) && waited < Duration::from_secs(13),
        "skipped after the hole patience: {waited:?}"
    );
    assert!(
        app.host
            .component_log()
            .contains("numbered but never written")
    );
}

/// Reads the stream to its end; returns the comments it carried.
async fn comments_until_the_end(stream: &mut Stream, patience: Duration) -> Vec<String> {
    let mut comments = Vec::new();
    while let Some(event) = stream.next_within(patience).await {
        match event {
            Event::Comment(text) => comments.push(text),
            other => panic!("{other:?}"),
        }
    }
    comments
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_grant_ends_its_stream_within_a_heartbeat() {
    let app = App::start_with(support::project_manifest(), &[("sse_heartbeat", "1s")]).await;
    let (client, tokens) = oauth::sign_in_locally(&app, 10, "kim").await;
    let token = tokens["access_token"].as_str().unwrap();
    let mut stream = Stream::open(&app, token).await;
    let endpoint = stream.endpoint.clone();
    let revoked = app
        .client
        .post(app.url("/revoke"))
        .form(&[
            ("token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", client.id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let since = Instant::now();
    let comments = comments_until_the_end(&mut stream, Duration::from_secs(5)).await;
    assert!(
        since.elapsed() < Duration::from_secs(3),
        "{:?}",
        since.elapsed()
    );
    assert!(
        comments
            .last()
            .unwrap()
            .contains("sign-in or the session has ended"),
        "{comments:?}"
    );
    assert!(sse_keys(&app).is_empty(), "{:?}", sse_keys(&app));
    let late = sse::post(
        &app,
        &endpoint,
        token,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
    )
    .await;
    assert_eq!(late.status(), 401, "the token went with its grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_ends_when_the_token_that_opened_it_expires() {
    let app = App::start().await;
    let token = signed_in(&app, 11, "lou").await;
    // Five seconds before the token's hour is up.
    app.host.advance_clock(3600 - 5);
    let opened = Instant::now();
    let mut stream = Stream::open(&app, &token).await;
    let comments = comments_until_the_end(&mut stream, Duration::from_secs(20)).await;
    let lived = opened.elapsed();
    assert!(
        lived >= Duration::from_secs(4) && lived < Duration::from_secs(7),
        "{lived:?}"
    );
    assert!(
        comments.last().unwrap().contains("reconnect"),
        "{comments:?}"
    );
    assert!(sse_keys(&app).is_empty(), "{:?}", sse_keys(&app));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_reconnecting_without_initialize_keeps_what_it_negotiated() {
    let app = App::start_with(
        support::conformance_manifest(),
        &[("sse_stream_lifetime", "5s")],
    )
    .await;
    let token = signed_in(&app, 12, "max").await;
    let mut first = Stream::open(&app, &token).await;
    let capabilities = json!({"elicitation": {}});
    let init = ask(
        &app,
        &mut first,
        &token,
        &initialize("2025-06-18", capabilities),
    )
    .await;
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    let level = json!({"jsonrpc": "2.0", "id": 2, "method": "logging/setLevel", "params": {"level": "info"}});
    assert_eq!(
        ask(&app, &mut first, &token, &level).await["result"],
        json!({})
    );
    comments_until_the_end(&mut first, Duration::from_secs(10)).await;

    // As the SDK's event source does: a new stream, and no `initialize` on it.
    let mut second = Stream::open(&app, &token).await;
    let hash = ::oauth::secret::SecretHash::of(&second.session_id()).to_string();
    let session: Value =
        serde_json::from_slice(&app.host.kv_snapshot()[&format!("ss:{hash}")]).unwrap();
    assert_eq!(session["protocol_version"], "2025-06-18");
    assert_eq!(session["elicitation"], true);
    assert_eq!(session["log_level"], "info");
    let accepted = sse::post(
        &app,
        &second.endpoint,
        &token,
        &call(3, "test_elicitation", json!({"message": "Still there?"})),
    )
    .await;
    assert_eq!(accepted.status(), 202);
    assert_eq!(second.message().await["method"], "elicitation/create");
}
