//! Real Chromium (headless, driven over the DevTools protocol by the scripts in
//! `tests/clients/chromium-*.mjs`) against the real components: the whole sign-in by the
//! TypeScript SDK's OAuth client with Chromium as its browser, in both modes and for
//! each kind of redirect; a denied consent; a client that sends no `resource`; a page
//! on another origin using discovery, registration, tokens and `/mcp`; and every page
//! we serve, held to no console error and no CSP violation.

#[path = "../support/mod.rs"]
mod support;

use serde_json::{Value, json};
use support::App;
use support::clerk::{self, MockClerk};

const REDIRECTS: [&str; 3] = ["loopback", "https", "scheme"];

async fn sign_in(app: &App, options: Value) -> Value {
    let mut options = options;
    options["origin"] = json!(app.host.url());
    support::node_json("chromium-sign-in.mjs", &options).await
}

fn assert_signed_in(run: &Value, user_id: &str) {
    assert_eq!(run["error"], Value::Null, "{run}");
    assert_eq!(run["state_returned"], true, "{run}");
    assert_eq!(
        run["tools"],
        json!(["whoami", "add", "get_app_data"]),
        "{run}"
    );
    assert_eq!(run["sum"], 5.0, "{run}");
    assert_eq!(run["user_id"], user_id, "{run}");
    assert_eq!(run["problems"], json!([]), "{run}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_signs_in_locally_for_loopback_https_and_private_scheme_redirects() {
    let app = App::start().await;
    for redirect in REDIRECTS {
        let run = sign_in(&app, json!({ "redirect": redirect })).await;
        assert_signed_in(&run, "local:chromium-user");
        assert_eq!(run["iss"], app.host.url(), "{run}");
        assert_eq!(run["scope"], "mcp", "{run}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_signs_in_through_the_clerk_app_for_each_kind_of_redirect() {
    let mock = MockClerk::start().await;
    mock.set_valid_token();
    let app = clerk::app(&mock).await;
    for redirect in REDIRECTS {
        let run = sign_in(&app, json!({ "redirect": redirect })).await;
        assert_signed_in(&run, "user_2abc");
    }
    assert_eq!(
        mock.sign_ins.lock().unwrap().len(),
        3,
        "each sign-in went through the app's /auth/mcp"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_consent_reaches_the_client_as_access_denied_in_both_modes() {
    let local = App::start().await;
    let mock = MockClerk::start().await;
    mock.set_valid_token();
    let with_clerk = clerk::app(&mock).await;
    for app in [&local, &with_clerk] {
        for redirect in REDIRECTS {
            let run = sign_in(app, json!({ "redirect": redirect, "decision": "deny" })).await;
            assert_eq!(run["error"], "access_denied", "{run}");
            assert_eq!(run["state_returned"], true, "{run}");
            assert_eq!(run["problems"], json!([]), "{run}");
        }
    }
    assert!(
        mock.sign_ins.lock().unwrap().is_empty(),
        "a denial never reaches the app"
    );
    for app in [&local, &with_clerk] {
        assert!(
            !app.host
                .kv_snapshot()
                .keys()
                .any(|k| k.starts_with("gr:") || k.starts_with("co:")),
            "a denial issues nothing"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_no_resource_and_asks_for_oidc_scopes_signs_in_and_calls_tools() {
    let app = App::start().await;
    // As Claude Code does: no `resource` on /authorize or /token, and scopes copied
    // from other servers.
    let run = sign_in(
        &app,
        json!({ "omitResource": true, "scope": "openid profile email offline_access" }),
    )
    .await;
    assert_eq!(run["authorize_had_resource"], false, "{run}");
    assert_eq!(run["token_had_resource"], false, "{run}");
    assert_signed_in(&run, "local:chromium-user");
    assert_eq!(
        run["scope"], "mcp",
        "only the scope this server defines is granted"
    );
    let grant = app
        .host
        .kv_snapshot()
        .into_iter()
        .find(|(k, _)| k.starts_with("gr:"))
        .map(|(_, v)| serde_json::from_slice::<Value>(&v).unwrap())
        .unwrap();
    assert_eq!(
        grant["resource"],
        app.url("/mcp"),
        "bound to our one resource"
    );
}

/// Runs the foreign-origin page on `127.0.0.2:<port>` (a loopback address, but not a
/// loopback *name*, so `/mcp` admits it only when `allowed_origins` lists it).
async fn foreign_page(allowed: bool) -> Value {
    let port = support::free_port();
    let page_origin = format!("http://127.0.0.2:{port}");
    let variables: Vec<(&str, &str)> = if allowed {
        vec![("allowed_origins", page_origin.as_str())]
    } else {
        vec![]
    };
    let app = App::start_with(support::project_manifest(), &variables).await;
    let options = json!({ "origin": app.host.url(), "pageHost": "127.0.0.2", "pagePort": port });
    let seen = support::node_json("chromium-cors.mjs", &options).await;
    assert_eq!(seen["pageOrigin"], page_origin);
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_on_another_origin_discovers_registers_gets_tokens_and_calls_mcp() {
    let seen = foreign_page(true).await;
    for document in ["prm", "prmRoot", "as"] {
        assert_eq!(
            seen["discovery"][document]["status"], 200,
            "{document}: {seen}"
        );
    }
    assert_eq!(seen["registration"]["status"], 201, "{seen}");
    assert_eq!(seen["token"]["status"], 200, "{seen}");
    assert_eq!(seen["token"]["has_access_token"], true, "{seen}");
    assert_eq!(
        seen["tokenError"],
        json!({"status": 400, "error": "invalid_grant"})
    );
    assert_eq!(seen["unauthenticated"]["status"], 401, "{seen}");
    assert!(
        seen["unauthenticated"]["www_authenticate"]
            .as_str()
            .is_some_and(|c| c.contains("resource_metadata=")),
        "the page can read the challenge: {seen}"
    );
    assert_eq!(seen["initialize"]["status"], 200, "{seen}");
    assert_eq!(
        seen["initialize"]["session_id"], true,
        "Mcp-Session-Id is exposed: {seen}"
    );
    for (call, sum) in [("sessionCall", 5.0), ("statelessCall", 9.0)] {
        assert_eq!(seen[call]["status"], 200, "{call}: {seen}");
        assert_eq!(seen[call]["sum"], sum, "{call}: {seen}");
    }
    assert_eq!(seen["credentialedMetadata"]["status"], "blocked", "{seen}");
    assert_eq!(seen["credentialedMcp"]["status"], "blocked", "{seen}");
    assert_eq!(seen["authorize"]["status"], "blocked", "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_keeps_its_origin_allowlist_while_discovery_and_tokens_admit_any_page() {
    let seen = foreign_page(false).await;
    assert_eq!(seen["discovery"]["prm"]["status"], 200, "{seen}");
    assert_eq!(seen["registration"]["status"], 201, "{seen}");
    assert_eq!(seen["token"]["status"], 200, "{seen}");
    for call in [
        "unauthenticated",
        "initialize",
        "sessionCall",
        "statelessCall",
    ] {
        assert_eq!(seen[call]["status"], "blocked", "{call}: {seen}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_we_serve_renders_in_chromium_without_problems() {
    let local = App::start().await;
    let screenshot = support::project_root().join("target/front-door.png");
    let _ = std::fs::remove_file(&screenshot);
    let options = json!({
        "origin": local.host.url(),
        "paths": [
            "/",
            "/authorize",
            "/authorize?client_id=mcp_unknown",
            "/callback?state=x",
            "/favicon.ico",
            "/connections",
            "/connections/callback?state=x",
        ],
        "screenshot": { "path": "/", "file": screenshot },
    });
    let shown = support::node_json("chromium-pages.mjs", &options).await;
    let pages = shown["pages"].as_array().unwrap();
    for page in pages {
        assert_eq!(page["problems"], json!([]), "{page}");
    }
    let front = &pages[0];
    assert_eq!(front["status"], 200);
    let text = front["text"].as_str().unwrap();
    let mcp_url = local.url("/mcp");
    for expected in [
        mcp_url.as_str(),
        &format!("claude mcp add --transport http clerk-mcp {mcp_url}"),
        "mcp-remote",
        "~/.cursor/mcp.json",
        ".vscode/mcp.json",
        "npx @modelcontextprotocol/inspector",
        "local development mode",
        &format!("connect at {}", local.url("/sse")),
    ] {
        assert!(
            text.contains(expected),
            "the front door shows {expected:?}:\n{text}"
        );
    }
    assert!(
        front["csp"]
            .as_str()
            .unwrap()
            .contains("form-action 'none'")
    );
    assert!(
        front["favicon"].as_u64().unwrap() >= 1,
        "the browser asked for the icon"
    );
    assert!(screenshot.exists(), "a screenshot of the front door");
    for (page, status) in pages[1..4].iter().zip([400, 400, 404]) {
        assert_eq!(page["status"], status, "{page}");
        assert_eq!(page["title"], "Sign-in failed", "{page}");
    }
    assert_eq!(pages[4]["status"], 200, "the favicon is served");
    assert_eq!(pages[5]["status"], 200, "the connections sign-in");
    assert_eq!(pages[5]["title"], "Connected clients");
    assert!(
        pages[5]["csp"]
            .as_str()
            .unwrap()
            .contains("form-action 'self'")
    );
    assert_eq!(
        pages[6]["status"], 404,
        "no Clerk sign-in to come back from"
    );

    // Clerk mode: its front door names the app, and a forged state is a page.
    let mock = MockClerk::start().await;
    let with_clerk = clerk::app(&mock).await;
    let options = json!({
        "origin": with_clerk.host.url(),
        "paths": [
            "/",
            "/callback?state=forged&clerk_token=x",
            "/connections/callback?state=forged&clerk_token=x",
        ],
    });
    let shown = support::node_json("chromium-pages.mjs", &options).await;
    let pages = shown["pages"].as_array().unwrap();
    for page in pages {
        assert_eq!(page["problems"], json!([]), "{page}");
    }
    let app_host = mock.origin.clone();
    assert!(
        pages[0]["text"].as_str().unwrap().contains(&app_host),
        "the Clerk front door names the app: {}",
        pages[0]
    );
    assert_eq!(pages[1]["status"], 400);
    assert_eq!(pages[2]["status"], 400, "a forged connections sign-in");
    assert_eq!(pages[2]["title"], "Sign-in failed");
}
