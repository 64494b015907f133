//! `/connections` in real Chromium (`clients/chromium-connections.mjs`) against the real
//! `auth` component: a user signs in (locally, and through the Clerk app), sees exactly
//! the clients they approved, revokes one, and its next MCP call gets the 401 challenge
//! and its refresh token `invalid_grant`, while the other client and other users keep
//! working; a form posted from another origin of the same host with the user's cookie
//! is refused, and so is the page in a frame.

#[path = "../support/mod.rs"]
mod support;

use serde_json::{Value, json};
use support::App;
use support::clerk::{self, MockClerk};
use support::oauth::{self, Client, Pkce};

/// An approved client of a locally signed-in `user`: the client and its tokens.
async fn approve_locally(app: &App, name: &str, seed: u8, user: &str) -> (Client, Value) {
    let client = oauth::register_named(app, name).await;
    let pkce = Pkce::new(seed);
    let code = oauth::authorize_locally(app, &client, &pkce, user).await;
    let (status, tokens) = oauth::exchange(app, &client, &code, &pkce).await;
    assert_eq!(status, 200, "{tokens}");
    (client, tokens)
}

/// Whether a client's tokens still work: `initialize` at `/mcp`, and a refresh.
async fn works(app: &App, client: &Client, tokens: &Value) -> bool {
    let resp = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
        .send()
        .await
        .unwrap();
    let mcp = resp.status().as_u16();
    assert!(mcp == 200 || (mcp == 401 && resp.headers().contains_key("www-authenticate")));
    let (status, body) =
        oauth::refresh(app, client, tokens["refresh_token"].as_str().unwrap()).await;
    assert!(status == 200 || body["error"] == "invalid_grant", "{body}");
    assert_eq!(
        mcp == 200,
        status == 200,
        "the access and refresh tokens disagree"
    );
    status == 200
}

fn assert_page_behaved(run: &Value) {
    assert_eq!(run["problems"], json!([]), "{run}");
    assert_eq!(run["revoke_status"], 303, "{run}");
    // The pass cookie as a `__Host-` cookie must be.
    let pass = run["cookie"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "__Host-mcp_connections")
        .unwrap_or_else(|| panic!("no pass cookie: {run}"));
    assert_eq!(
        (
            &pass["httpOnly"],
            &pass["secure"],
            &pass["sameSite"],
            &pass["path"]
        ),
        (&json!(true), &json!(true), &json!("Lax"), &json!("/")),
        "{run}"
    );
    // Another origin's form, with the cookie but without the page's token.
    assert_eq!(run["forged_status"], 403, "{run}");
    assert!(
        run["forged_text"]
            .as_str()
            .unwrap()
            .contains("did not come from the connections page"),
        "{run}"
    );
    // Framed by another origin: Chromium shows an error instead of the page.
    assert_eq!(run["frame_shows_page"], false, "{run}");
    assert!(
        !run["frame_url"]
            .as_str()
            .unwrap_or("")
            .contains("/connections"),
        "{run}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_signs_in_locally_sees_their_clients_and_revokes_one_in_chromium() {
    let app = App::start().await;
    let (first, first_tokens) = approve_locally(&app, "Client One", 51, "ada").await;
    let (second, second_tokens) = approve_locally(&app, "Client Two", 52, "ada").await;
    let (bob, bob_tokens) = approve_locally(&app, "Bob's Client", 53, "bob").await;

    let run = support::node_json(
        "chromium-connections.mjs",
        &json!({"origin": app.host.url(), "user": "ada", "revoke": "Client One"}),
    )
    .await;
    assert_eq!(run["sign_in_page"], "Connected clients", "{run}");
    assert_eq!(run["before"], json!(["Client One", "Client Two"]), "{run}");
    assert_eq!(run["after"], json!(["Client Two"]), "{run}");
    assert_eq!(run["after_attacks"], json!(["Client Two"]), "{run}");
    assert!(run["text"].as_str().unwrap().contains("local:ada"), "{run}");
    assert_page_behaved(&run);

    assert!(
        !works(&app, &first, &first_tokens).await,
        "the revoked client"
    );
    assert!(
        works(&app, &second, &second_tokens).await,
        "the other client"
    );
    assert!(works(&app, &bob, &bob_tokens).await, "another user");
    let log = app.host.component_log();
    let revoked: Vec<Value> = log
        .lines()
        .filter(|l| l.starts_with(r#"{"audit":"grant_revoked""#))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(revoked.len(), 1, "{log}");
    assert_eq!(
        (
            &revoked[0]["user"],
            &revoked[0]["client"],
            &revoked[0]["grant"],
            &revoked[0]["reason"]
        ),
        (
            &json!("local:ada"),
            &json!(first.id),
            &run["revoked_grant"],
            &json!("user")
        )
    );
    assert!(log.contains(r#"{"audit":"connections_sign_in""#), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_signs_in_through_the_clerk_app_and_revokes_a_client_in_chromium() {
    let mock = MockClerk::start().await;
    mock.set_valid_token();
    let app = clerk::app(&mock).await;
    let (first, first_tokens) = clerk::sign_in(&app, 61).await;
    let (second, second_tokens) = clerk::sign_in(&app, 62).await;
    let sign_ins_before = mock.sign_ins.lock().unwrap().len();

    // Both clients registered as "Test <Client>": the page escapes the name, and
    // revoking "the first of that name" leaves the other.
    let run = support::node_json(
        "chromium-connections.mjs",
        &json!({"origin": app.host.url(), "revoke": "Test <Client>"}),
    )
    .await;
    assert_eq!(
        mock.sign_ins.lock().unwrap().len(),
        sign_ins_before + 1,
        "the page's sign-in went through the app's /auth/mcp"
    );
    assert_eq!(
        run["before"],
        json!(["Test <Client>", "Test <Client>"]),
        "{run}"
    );
    assert_eq!(run["after"], json!(["Test <Client>"]), "{run}");
    assert!(run["text"].as_str().unwrap().contains("user_2abc"), "{run}");
    assert_page_behaved(&run);

    let ended = [
        works(&app, &first, &first_tokens).await,
        works(&app, &second, &second_tokens).await,
    ];
    assert_eq!(
        ended.iter().filter(|w| !**w).count(),
        1,
        "exactly one client revoked: {ended:?}"
    );
}

/// A form posted to `/connections` with `cookie`; the status and the page's text.
async fn post_form(app: &App, cookie: Option<&str>, form: &[(&str, &str)]) -> (u16, String) {
    let mut req = app.client.post(app.url("/connections")).form(form);
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_forms_and_sign_ins_change_nothing() {
    let app = App::start().await;
    let (_, _) = approve_locally(&app, "Client One", 71, "ada").await;
    let (bob_client, bob_tokens) = approve_locally(&app, "Bob's Client", 72, "bob").await;
    let bob_grant = bob_tokens["access_token"].as_str().unwrap()[7..]
        .split('.')
        .next()
        .unwrap()
        .to_owned();
    // Ada's pass, as the sign-in form gives it.
    let resp = app
        .client
        .post(app.url("/connections"))
        .form(&[("action", "sign_in"), ("user", "ada")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let set_cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    let pass = set_cookie.split(';').next().unwrap().to_owned();
    let page = app
        .client
        .get(app.url("/connections"))
        .header("cookie", &pass)
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    let csrf = oauth::hidden_value(&html, "csrf");
    oauth::settle(&app).await;

    let before = app.host.kv_snapshot();
    let forged_pass = format!(
        "__Host-mcp_connections={}x",
        &pass["__Host-mcp_connections=".len()..]
    );
    let cases: Vec<(&str, Option<&str>, Vec<(&str, &str)>, u16, &str)> = vec![
        ("no action", Some(&pass), vec![], 400, "action"),
        (
            "an unknown action",
            Some(&pass),
            vec![("action", "delete_everything")],
            400,
            "action",
        ),
        (
            "revoke without a pass",
            None,
            vec![("action", "revoke"), ("grant", &bob_grant), ("csrf", &csrf)],
            403,
            "has ended",
        ),
        (
            "revoke with a forged pass",
            Some(&forged_pass),
            vec![("action", "revoke"), ("grant", &bob_grant), ("csrf", &csrf)],
            403,
            "has ended",
        ),
        (
            "revoke without the token",
            Some(&pass),
            vec![("action", "revoke"), ("grant", &bob_grant)],
            403,
            "did not come from",
        ),
        (
            "revoke with another token",
            Some(&pass),
            vec![("action", "revoke"), ("grant", &bob_grant), ("csrf", "x")],
            403,
            "did not come from",
        ),
        (
            "another user's grant",
            Some(&pass),
            vec![("action", "revoke"), ("grant", &bob_grant), ("csrf", &csrf)],
            404,
            "no such connection",
        ),
        (
            "a grant that does not exist",
            Some(&pass),
            vec![("action", "revoke"), ("grant", "nope"), ("csrf", &csrf)],
            404,
            "no such connection",
        ),
        (
            "a grant id that is not one",
            Some(&pass),
            vec![("action", "revoke"), ("grant", "../../x"), ("csrf", &csrf)],
            404,
            "no such connection",
        ),
        (
            "a bad local user name",
            None,
            vec![("action", "sign_in"), ("user", "<script>")],
            400,
            "user name",
        ),
    ];
    for (what, cookie, form, status, says) in &cases {
        let (got, text) = post_form(&app, *cookie, form).await;
        assert_eq!(got, *status, "{what}: {text}");
        assert!(text.contains(says), "{what}: {text}");
    }
    let put = app
        .client
        .put(app.url("/connections"))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 405);
    assert_eq!(put.headers()["allow"], "GET, POST");
    let huge = app
        .client
        .post(app.url("/connections"))
        .body(vec![b'a'; 64 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    // Local sign-in is for loopback only, as at consent.
    let foreign = app
        .client
        .post(app.url("/connections"))
        .header("host", "mcp.example.com")
        .form(&[("action", "sign_in"), ("user", "ada")])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    assert_eq!(
        app.host.kv_snapshot(),
        before,
        "a refused form changed the store"
    );
    assert!(
        works(&app, &bob_client, &bob_tokens).await,
        "Bob's grant is intact"
    );
}
