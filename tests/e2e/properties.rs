//! Property tests over every endpoint (proptest): generated bodies, query strings and
//! headers, sent to the real components, never get a 5xx, always get an answer in the
//! endpoint's own shape, and when refused change nothing in the store.

#[path = "../support/mod.rs"]
mod support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use support::App;

/// The shape of an endpoint's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// JSON; errors are RFC 6749 §5.2 `{"error": …}`.
    OAuth,
    /// JSON-RPC 2.0 (or an empty 202, or the 401 challenge).
    JsonRpc,
    /// HTML pages, or a redirect.
    Page,
}

#[derive(Debug, Clone)]
struct Endpoint {
    method: &'static str,
    path: &'static str,
    shape: Shape,
}

const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "POST",
        path: "/token",
        shape: Shape::OAuth,
    },
    Endpoint {
        method: "POST",
        path: "/revoke",
        shape: Shape::OAuth,
    },
    Endpoint {
        method: "POST",
        path: "/register",
        shape: Shape::OAuth,
    },
    Endpoint {
        method: "GET",
        path: "/.well-known/oauth-protected-resource/mcp",
        shape: Shape::OAuth,
    },
    Endpoint {
        method: "GET",
        path: "/authorize",
        shape: Shape::Page,
    },
    Endpoint {
        method: "POST",
        path: "/authorize",
        shape: Shape::Page,
    },
    Endpoint {
        method: "GET",
        path: "/callback",
        shape: Shape::Page,
    },
    Endpoint {
        method: "GET",
        path: "/",
        shape: Shape::Page,
    },
    Endpoint {
        method: "POST",
        path: "/mcp",
        shape: Shape::JsonRpc,
    },
    Endpoint {
        method: "GET",
        path: "/sse",
        shape: Shape::JsonRpc,
    },
    Endpoint {
        method: "POST",
        path: "/sse/message",
        shape: Shape::JsonRpc,
    },
    Endpoint {
        method: "GET",
        path: "/.well-known/oauth-protected-resource/sse",
        shape: Shape::OAuth,
    },
];

/// One generated request.
#[derive(Debug, Clone)]
struct Case {
    endpoint: usize,
    query: String,
    content_type: Option<String>,
    authorization: Option<String>,
    extra: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Words that real requests carry, so that generated ones get past the first checks.
const WORDS: &[&str] = &[
    "grant_type",
    "authorization_code",
    "refresh_token",
    "code",
    "code_verifier",
    "client_id",
    "redirect_uri",
    "resource",
    "scope",
    "state",
    "response_type",
    "code_challenge",
    "code_challenge_method",
    "S256",
    "plain",
    "token",
    "ticket",
    "decision",
    "approve",
    "deny",
    "user",
    "mcp",
    "openid",
    "jsonrpc",
    "2.0",
    "id",
    "method",
    "params",
    "initialize",
    "tools/call",
    "tools/list",
    "name",
    "arguments",
    "redirect_uris",
    "client_name",
    "token_endpoint_auth_method",
    "none",
    "http://127.0.0.1:7777/callback",
    "https://a.example/cb",
    "clerk_token",
    "_meta",
    "sessionId",
    "ping",
    "notifications/initialized",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(WORDS).prop_map(str::to_owned),
        1 => "[ -~]{0,12}",
        1 => proptest::collection::vec(any::<u8>(), 0..8)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

fn form() -> impl Strategy<Value = String> {
    proptest::collection::vec((word(), word()), 0..6).prop_map(|pairs| {
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            form.append_pair(&k, &v);
        }
        form.finish()
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::from(n)),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((word(), inner), 0..5)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => form().prop_map(String::into_bytes),
        2 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => proptest::collection::vec(any::<u8>(), 0..256),
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![word(), "[ -~]{0,40}"]
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..ENDPOINTS.len(),
        form(),
        proptest::option::of(prop_oneof![
            Just("application/x-www-form-urlencoded".to_owned()),
            Just("application/json".to_owned()),
            Just("application/json; charset=utf-8".to_owned()),
            header_value(),
        ]),
        proptest::option::of(prop_oneof![
            header_value().prop_map(|v| format!("Bearer {v}")),
            header_value().prop_map(|v| format!("Basic {v}")),
            header_value(),
        ]),
        proptest::collection::vec(
            (
                proptest::sample::select(
                    &[
                        "mcp-protocol-version",
                        "mcp-session-id",
                        "mcp-method",
                        "mcp-name",
                        "accept",
                        "origin",
                        "cookie",
                        "mcp-param-region",
                    ][..],
                )
                .prop_map(str::to_owned),
                header_value(),
            ),
            0..4,
        ),
        body(),
    )
        .prop_map(
            |(endpoint, query, content_type, authorization, extra, body)| Case {
                endpoint,
                query,
                content_type,
                authorization,
                extra,
                body,
            },
        )
}

async fn check(app: &App, case: &Case) -> Result<(), String> {
    let endpoint = &ENDPOINTS[case.endpoint];
    let url = if (endpoint.method == "GET" || endpoint.path == "/sse/message")
        && !case.query.is_empty()
    {
        format!("{}?{}", app.url(endpoint.path), case.query)
    } else {
        app.url(endpoint.path)
    };
    let method = reqwest::Method::from_bytes(endpoint.method.as_bytes()).unwrap();
    let mut req = app.client.request(method, &url);
    if let Some(content_type) = &case.content_type {
        req = req.header("content-type", content_type);
    }
    if let Some(authorization) = &case.authorization {
        req = req.header("authorization", authorization);
    }
    for (name, value) in &case.extra {
        req = req.header(name, value);
    }
    if endpoint.method == "POST" {
        req = req.body(case.body.clone());
    }
    let before = app.host.kv_snapshot();
    let Ok(resp) = req.send().await else {
        // reqwest refused to build it (a header value it will not send): nothing sent.
        return Ok(());
    };
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let is_redirect = resp.headers().contains_key("location");
    let body = resp.bytes().await.map_err(|e| e.to_string())?;
    let what = format!("{} {} -> {status}", endpoint.method, endpoint.path);
    if status >= 500 {
        return Err(format!("{what}: {}", String::from_utf8_lossy(&body)));
    }
    let json = || serde_json::from_slice::<Value>(&body).ok();
    let shaped = match endpoint.shape {
        Shape::OAuth if status >= 400 => json().is_some_and(|j| j["error"].is_string()),
        // RFC 7009 §2.2: a revocation answers 200 with no body.
        Shape::OAuth => body.is_empty() || json().is_some(),
        Shape::JsonRpc if status == 202 || status == 204 => body.is_empty(),
        Shape::JsonRpc if status == 401 => true,
        Shape::JsonRpc => json().is_some_and(|j| j["jsonrpc"] == "2.0"),
        // The front door answers JSON to a client that asks for it.
        Shape::Page => {
            is_redirect
                || content_type.starts_with("text/html")
                || (endpoint.path == "/" && status == 200 && json().is_some())
        }
    };
    if !shaped {
        return Err(format!(
            "{what}: not in the endpoint's shape: {content_type} {}",
            String::from_utf8_lossy(&body)
        ));
    }
    if status >= 400 && app.host.kv_snapshot() != before {
        return Err(format!("{what}: a refused request changed the store"));
    }
    Ok(())
}

/// A runtime for driving the async client from proptest's synchronous runner.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn generated_requests_to_every_endpoint_get_shaped_answers_and_refusals_write_nothing() {
    let runtime = runtime();
    let app = runtime.block_on(App::start());
    let mut runner = TestRunner::new(Config {
        cases: 400,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&case(), |case| {
        runtime
            .block_on(check(&app, &case))
            .map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// One generated message for a live HTTP+SSE session, from its own user.
#[derive(Debug, Clone)]
struct Message {
    /// The query: the session's own (`None`) or a generated one.
    query: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

fn message() -> impl Strategy<Value = Message> {
    (
        proptest::option::weighted(0.3, form()),
        proptest::option::weighted(
            0.9,
            prop_oneof![Just("application/json".to_owned()), header_value(),],
        ),
        prop_oneof![
            body(),
            // Well-formed requests of every kind the session may be sent.
            (word(), json_value()).prop_map(|(method, params)| serde_json::json!({
                "jsonrpc": "2.0", "id": 1, "method": method, "params": params
            })
            .to_string()
            .into_bytes()),
        ],
    )
        .prop_map(|(query, content_type, body)| Message {
            query,
            content_type,
            body,
        })
}

/// Waits until the store has stopped changing and the outbox is empty.
async fn settle(app: &App) {
    loop {
        let first = app.host.kv_snapshot();
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        let second = app.host.kv_snapshot();
        if first == second && !second.keys().any(|k| k.starts_with("so:")) {
            return;
        }
    }
}

/// Messages POSTed to a live session's endpoint with a valid token: each is accepted
/// (202, empty) or refused as JSON-RPC with a 4xx, and a refused one writes nothing.
#[test]
fn generated_messages_for_a_live_sse_session_are_accepted_or_refused_cleanly() {
    let runtime = runtime();
    let app = runtime.block_on(App::start());
    let (token, endpoint) = runtime.block_on(async {
        let (_, tokens) = support::oauth::sign_in_locally(&app, 90, "prop").await;
        let token = tokens["access_token"].as_str().unwrap().to_owned();
        let stream = support::sse::Stream::open(&app, &token).await;
        let endpoint = stream.endpoint.clone();
        // Whatever the accepted messages produce is read off the stream, so that its
        // instance never waits on a full connection.
        tokio::spawn(async move {
            let mut response = stream.response;
            while let Ok(Some(_)) = response.chunk().await {}
        });
        (token, endpoint)
    });
    let mut runner = TestRunner::new(Config {
        cases: 200,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&message(), |message| {
        runtime
            .block_on(async {
                let path = match &message.query {
                    Some(query) => format!("/sse/message?{query}"),
                    None => endpoint.clone(),
                };
                let mut req = app
                    .client
                    .post(app.url(&path))
                    .bearer_auth(&token)
                    .body(message.body.clone());
                if let Some(content_type) = &message.content_type {
                    req = req.header("content-type", content_type);
                }
                let before = app.host.kv_snapshot();
                let Ok(resp) = req.send().await else {
                    return Ok(());
                };
                let status = resp.status().as_u16();
                let body = resp.bytes().await.map_err(|e| e.to_string())?;
                match status {
                    202 if body.is_empty() => {
                        // The message is handled after the 202: let its answer reach
                        // the stream before the next case takes its snapshot.
                        settle(&app).await;
                        Ok(())
                    }
                    400..=499 => {
                        let shaped = serde_json::from_slice::<Value>(&body)
                            .is_ok_and(|j| j["jsonrpc"] == "2.0" && j["error"]["code"].is_i64());
                        if !shaped {
                            Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
                        } else if app.host.kv_snapshot() != before {
                            Err(format!("{status}: a refused message changed the store"))
                        } else {
                            Ok(())
                        }
                    }
                    _ => Err(format!("{status}: {}", String::from_utf8_lossy(&body))),
                }
            })
            .map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
