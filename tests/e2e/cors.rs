//! The one CORS policy, as each component answers it: discovery, registration, `/token`
//! and `/revoke` admit any origin; `/mcp` only the origins its guard admits; the
//! authorization endpoint, `/callback` and the pages none. Never credentials.
//! (What Chromium makes of these answers is `browser.rs`.)

#[path = "../support/mod.rs"]
mod support;

use support::App;

const PAGE: &str = "https://inspector.example.org";

async fn preflight(app: &App, path: &str, method: &str, headers: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url(path))
        .header("origin", PAGE)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", headers)
        .send()
        .await
        .unwrap()
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).map(|v| v.to_str().unwrap())
}

fn assert_no_credentials(resp: &reqwest::Response, what: &str) {
    assert!(
        header(resp, "access-control-allow-credentials").is_none(),
        "{what} allows credentials"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_without_ambient_credentials_answer_preflights_from_any_origin() {
    let app = App::start().await;
    // (path, method asked for, methods allowed)
    let cases = [
        (
            "/.well-known/oauth-protected-resource/mcp",
            "GET",
            "GET, HEAD",
        ),
        ("/.well-known/oauth-protected-resource", "GET", "GET, HEAD"),
        (
            "/.well-known/oauth-authorization-server",
            "GET",
            "GET, HEAD",
        ),
        ("/register", "POST", "POST"),
        ("/token", "POST", "POST"),
        ("/revoke", "POST", "POST"),
    ];
    let before = app.host.kv_snapshot();
    for (path, method, allowed) in cases {
        let resp = preflight(&app, path, method, "content-type, mcp-protocol-version").await;
        assert_eq!(resp.status(), 204, "{path}");
        assert_eq!(
            header(&resp, "access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
        assert_eq!(
            header(&resp, "access-control-allow-methods"),
            Some(allowed),
            "{path}"
        );
        let headers = header(&resp, "access-control-allow-headers").unwrap();
        for needed in ["Authorization", "Content-Type", "MCP-Protocol-Version"] {
            assert!(headers.contains(needed), "{path}: {headers}");
        }
        assert!(header(&resp, "access-control-max-age").is_some(), "{path}");
        assert_no_credentials(&resp, path);
    }
    assert_eq!(app.host.kv_snapshot(), before, "a preflight writes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_and_errors_alike_are_readable_from_any_origin() {
    let app = App::start().await;
    let metadata = app
        .client
        .get(app.url("/.well-known/oauth-authorization-server"))
        .header("origin", PAGE)
        .send()
        .await
        .unwrap();
    assert_eq!(metadata.status(), 200);
    assert_eq!(header(&metadata, "access-control-allow-origin"), Some("*"));
    let refused = app
        .client
        .post(app.url("/register"))
        .header("origin", PAGE)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(header(&refused, "access-control-allow-origin"), Some("*"));
    let token_error = app
        .client
        .post(app.url("/token"))
        .header("origin", PAGE)
        .form(&[("grant_type", "authorization_code")])
        .send()
        .await
        .unwrap();
    assert_eq!(token_error.status(), 401, "no client: invalid_client");
    assert_eq!(
        header(&token_error, "access-control-allow-origin"),
        Some("*")
    );
    assert_no_credentials(&token_error, "/token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_preflights_allow_the_tool_header_arguments_a_page_asks_for() {
    let app = App::start_with(support::project_manifest(), &[("allowed_origins", PAGE)]).await;
    let resp = preflight(
        &app,
        "/mcp",
        "POST",
        "authorization, content-type, mcp-session-id, mcp-param-region, mcp-param-bad name, x-other",
    )
    .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&resp, "access-control-allow-origin"), Some(PAGE));
    assert_eq!(header(&resp, "vary"), Some("Origin"));
    assert_eq!(
        header(&resp, "access-control-allow-methods"),
        Some("GET, POST, DELETE")
    );
    let headers = header(&resp, "access-control-allow-headers").unwrap();
    for needed in [
        "Authorization",
        "Content-Type",
        "Accept",
        "MCP-Protocol-Version",
        "Mcp-Session-Id",
        "Mcp-Method",
        "Mcp-Name",
        "Last-Event-ID",
        "mcp-param-region",
    ] {
        assert!(headers.contains(needed), "{needed}: {headers}");
    }
    assert!(
        !headers.contains("bad name") && !headers.contains("x-other"),
        "{headers}"
    );
    assert_no_credentials(&resp, "/mcp");
    let exposed = header(&resp, "access-control-expose-headers").unwrap();
    for name in ["WWW-Authenticate", "Mcp-Session-Id", "MCP-Protocol-Version"] {
        assert!(exposed.contains(name), "{exposed}");
    }
    // An origin the guard does not admit gets no CORS at all.
    let foreign = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/mcp"))
        .header("origin", "https://evil.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    assert!(header(&foreign, "access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authorization_endpoint_and_the_pages_carry_no_cors_headers() {
    let app = App::start().await;
    for path in ["/authorize", "/callback", "/"] {
        let resp = preflight(&app, path, "GET", "").await;
        assert!(
            header(&resp, "access-control-allow-origin").is_none(),
            "{path} answered a preflight with CORS"
        );
        let resp = app
            .client
            .get(app.url(path))
            .header("origin", PAGE)
            .send()
            .await
            .unwrap();
        assert!(
            header(&resp, "access-control-allow-origin").is_none(),
            "{path} is readable cross-origin"
        );
    }
}
