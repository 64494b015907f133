//! Sign-in through the customer's Clerk app (the seed's `/auth/mcp` contract), against a
//! mock Clerk and app on loopback, through the real components and the outbound-host
//! rules of spin.toml.

#[path = "../support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use jsonwebtoken::Algorithm;
use support::App;
use support::clerk::{self, MockClerk};
use support::oauth::{self, ConsentForm, Pkce, REDIRECT_URI};

fn query_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// Consent and approve: returns the consent form (for its cookie) and where the browser
/// was sent (the app's sign-in URL).
async fn approve(app: &App, client: &oauth::Client, pkce: &Pkce) -> (ConsentForm, String) {
    let form = oauth::open_consent(app, &oauth::authorize_query(app, client, pkce, &[])).await;
    assert!(
        !form.html.contains("Sign in locally"),
        "no local sign-in in Clerk mode"
    );
    let resp = oauth::submit_consent(app, &form, &[("decision", "approve")]).await;
    assert_eq!(resp.status(), 302);
    (
        form,
        resp.headers()["location"].to_str().unwrap().to_owned(),
    )
}

/// The app's hop: where it sends the browser back to (our /callback).
async fn through_app(app: &App, sign_in_url: &str) -> String {
    let resp = app.client.get(sign_in_url).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    resp.headers()["location"].to_str().unwrap().to_owned()
}

async fn callback(app: &App, url: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(url);
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_sign_in_completes_through_the_app_and_names_the_clerk_user() {
    let mock = MockClerk::start().await;
    let app = clerk::app(&mock).await;
    mock.set_valid_token();
    let client = oauth::register_public(&app).await;
    let pkce = Pkce::new(31);

    let (form, sign_in_url) = approve(&app, &client, &pkce).await;
    assert!(
        sign_in_url.starts_with(&format!("{}/auth/mcp?", mock.origin)),
        "{sign_in_url}"
    );
    let params = query_of(&sign_in_url);
    assert_eq!(params["callback_url"], app.url("/callback"));
    assert_eq!(params["client_name"], "Test <Client>");
    assert!(!params["state"].is_empty());

    let back = through_app(&app, &sign_in_url).await;
    let resp = callback(&app, &back, Some(&form.cookie)).await;
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    let result = query_of(&location);
    assert_eq!(result["state"], "st4te");
    assert_eq!(result["iss"], app.host.url());
    let (status, tokens) = oauth::exchange(&app, &client, &result["code"], &pkce).await;
    assert_eq!(status, 200, "{tokens}");

    let grants: Vec<serde_json::Value> = app
        .host
        .kv_snapshot()
        .iter()
        .filter(|(k, _)| k.starts_with("gr:"))
        .map(|(_, v)| serde_json::from_slice(v).unwrap())
        .collect();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0]["user_id"], "user_2abc");
    assert_eq!(grants[0]["session_id"], "sess_2xyz");

    // A second sign-in verifies against the cached JWKS: no second fetch.
    let pkce = Pkce::new(32);
    let (form, sign_in_url) = approve(&app, &client, &pkce).await;
    let back = through_app(&app, &sign_in_url).await;
    assert_eq!(
        callback(&app, &back, Some(&form.cookie)).await.status(),
        302
    );
    assert_eq!(mock.jwks_fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_clerk_tokens_go_back_as_access_denied_and_grant_nothing() {
    let mock = MockClerk::start().await;
    let app = clerk::app(&mock).await;
    let client = oauth::register_public(&app).await;
    let good = clerk::claims(&mock.origin);
    let with = |field: &str, value: serde_json::Value| {
        let mut c = good.clone();
        c[field] = value;
        c
    };
    let now = good["iat"].as_u64().unwrap();
    let cases: Vec<(&str, String)> = vec![
        (
            "expired",
            clerk::sign(
                &with("exp", (now - 60).into()),
                false,
                "ins_key_1",
                Algorithm::RS256,
            ),
        ),
        (
            "wrong issuer",
            clerk::sign(
                &with("iss", "https://clerk.evil.example".into()),
                false,
                "ins_key_1",
                Algorithm::RS256,
            ),
        ),
        (
            "wrong azp",
            clerk::sign(
                &with("azp", "https://evil.example".into()),
                false,
                "ins_key_1",
                Algorithm::RS256,
            ),
        ),
        (
            "bad signature",
            clerk::sign(&good, true, "ins_key_1", Algorithm::RS256),
        ),
        (
            "unknown kid",
            clerk::sign(&good, true, "rotated_away", Algorithm::RS256),
        ),
        (
            "HS256 with the public key",
            clerk::sign(&good, false, "ins_key_1", Algorithm::HS256),
        ),
        ("alg none", {
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            format!(
                "{}.{}.",
                b64.encode(br#"{"alg":"none","kid":"ins_key_1"}"#),
                b64.encode(good.to_string())
            )
        }),
        ("no token", String::new()),
    ];
    for (case, token) in cases {
        mock.set_token(token);
        let (form, sign_in_url) = approve(&app, &client, &Pkce::new(33)).await;
        let back = through_app(&app, &sign_in_url).await;
        let resp = callback(&app, &back, Some(&form.cookie)).await;
        assert_eq!(resp.status(), 302, "{case}");
        let result = query_of(resp.headers()["location"].to_str().unwrap());
        assert_eq!(result["error"], "access_denied", "{case}");
        assert_eq!(result["state"], "st4te", "{case}");
        assert!(!result.contains_key("code"), "{case}");
        let entries = app.host.kv_snapshot();
        assert!(
            !entries
                .keys()
                .any(|k| k.starts_with("gr:") || k.starts_with("co:")),
            "{case} issued something"
        );
        assert!(
            !entries.keys().any(|k| k.starts_with("si:")),
            "{case}: the sign-in is spent"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_state_is_signed_single_use_and_bound_to_the_browser() {
    let mock = MockClerk::start().await;
    let app = clerk::app(&mock).await;
    mock.set_valid_token();
    let client = oauth::register_public(&app).await;
    let (form, sign_in_url) = approve(&app, &client, &Pkce::new(34)).await;
    let back = through_app(&app, &sign_in_url).await;
    let state = query_of(&back)["state"].clone();

    let tampered = back.replace(&state[..6], "AAAAAA");
    assert_eq!(
        callback(&app, &tampered, Some(&form.cookie)).await.status(),
        400,
        "tampered state"
    );
    let no_cookie = callback(&app, &back, None).await;
    assert_eq!(no_cookie.status(), 400, "missing consent cookie");
    let other_cookie = callback(&app, &back, Some("__Host-mcp_consent=someone-else")).await;
    assert_eq!(other_cookie.status(), 400, "another browser's cookie");

    // None of those spent the sign-in: the real browser still completes it, once.
    assert_eq!(
        callback(&app, &back, Some(&form.cookie)).await.status(),
        302
    );
    let replay = callback(&app, &back, Some(&form.cookie)).await;
    assert_eq!(replay.status(), 400, "state reused");
    assert!(replay.text().await.unwrap().contains("already used"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_sign_in_is_refused_and_issues_nothing() {
    let mock = MockClerk::start().await;
    let app = clerk::app(&mock).await;
    mock.set_valid_token();
    let client = oauth::register_public(&app).await;
    let (form, sign_in_url) = approve(&app, &client, &Pkce::new(35)).await;
    let back = through_app(&app, &sign_in_url).await;

    // The user took longer than the sign-in lifetime at the app.
    let store =
        test_host::kv::KvBackend::open(&app.dir.path().join("kv.db"), &Default::default()).unwrap();
    let (key, value) = app
        .host
        .kv_snapshot()
        .into_iter()
        .find(|(k, _)| k.starts_with("si:"))
        .unwrap();
    let mut transaction: serde_json::Value = serde_json::from_slice(&value).unwrap();
    transaction["exp"] = 1.into();
    store
        .set("default", &key, &serde_json::to_vec(&transaction).unwrap())
        .unwrap();
    let before = app.host.kv_snapshot();

    let resp = callback(&app, &back, Some(&form.cookie)).await;
    assert_eq!(resp.status(), 400, "expired state");
    assert!(resp.text().await.unwrap().contains("expired"));
    assert_eq!(app.host.kv_snapshot(), before, "no grant, no code");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwks_fetch_obeys_allowed_outbound_hosts() {
    // The same mock, but Clerk's API origin is not the one spin.toml allows for `auth`:
    // the fetch fails inside the component and the sign-in is refused, not crashed.
    let mock = MockClerk::start().await;
    let elsewhere = MockClerk::start().await;
    let mut vars = mock.variables();
    vars.retain(|(k, _)| *k != "clerk_api_url");
    let auth_hosts =
        r#"allowed_outbound_hosts = ["{{ clerk_api_url }}", "{{ client_metadata_hosts }}"]"#;
    let project = support::project_manifest();
    assert!(
        project.contains(auth_hosts),
        "spin.toml changed: update this test"
    );
    let manifest = project.replace(
        auth_hosts,
        r#"allowed_outbound_hosts = ["https://api.clerk.com"]"#,
    );
    let mut vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    vars.push(("clerk_api_url", elsewhere.origin.as_str()));
    let app = App::start_with(manifest, &vars).await;
    mock.set_valid_token();
    let client = oauth::register_public(&app).await;
    let (form, sign_in_url) = approve(&app, &client, &Pkce::new(35)).await;
    let back = through_app(&app, &sign_in_url).await;
    let resp = callback(&app, &back, Some(&form.cookie)).await;
    assert_eq!(resp.status(), 302);
    assert_eq!(
        query_of(resp.headers()["location"].to_str().unwrap())["error"],
        "access_denied"
    );
    assert_eq!(
        elsewhere.jwks_fetches.load(Ordering::SeqCst),
        0,
        "the denied request never left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_unreachable_at_the_callback_is_a_503_page_and_the_reload_finishes_the_sign_in() {
    let mock = MockClerk::start().await;
    mock.set_valid_token();
    let app = clerk::app(&mock).await;
    let client = oauth::register_public(&app).await;
    let pkce = Pkce::new(42);
    let hop = clerk::approve_through_app(&app, &client, &pkce).await;
    oauth::settle(&app).await;

    mock.jwks_down.store(true, Ordering::SeqCst);
    let before = app.host.kv_snapshot();
    let resp = callback(&app, &hop.back, Some(&hop.form.cookie)).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "5");
    assert!(
        resp.headers().get("location").is_none(),
        "the client is not told of a failure"
    );
    let page = resp.text().await.unwrap();
    assert!(page.contains("could not be reached"), "{page}");
    assert_eq!(app.host.kv_snapshot(), before, "the sign-in was not spent");

    // Clerk is back: the browser's reload finishes the sign-in.
    mock.jwks_down.store(false, Ordering::SeqCst);
    let resp = callback(&app, &hop.back, Some(&hop.form.cookie)).await;
    assert_eq!(resp.status(), 302);
    let code =
        support::query_param(resp.headers()["location"].to_str().unwrap(), "code").expect("a code");
    let (status, tokens) = oauth::exchange(&app, &client, &code, &pkce).await;
    assert_eq!(status, 200, "{tokens}");
}
