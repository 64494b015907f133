//! The OAuth flow through the real components, in local development mode: register,
//! authorize with PKCE, consent and local sign-in, code exchange, refresh rotation,
//! replay detection and revocation; and every rejection along the way.

#[path = "../support/mod.rs"]
mod support;

use std::collections::HashMap;

use serde_json::Value;
use support::App;
use support::oauth::{self, Pkce, REDIRECT_URI};

fn location_params(resp: &reqwest::Response) -> (String, HashMap<String, String>) {
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let base = format!(
        "{}://{}{}",
        location.scheme(),
        location.authority(),
        location.path()
    );
    (base, location.query_pairs().into_owned().collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_sign_in_issues_tokens_that_refresh_and_rotate() {
    let app = App::start().await;
    let client = oauth::register_public(&app).await;
    let pkce = Pkce::new(1);

    // The consent page names the client (escaped) and where the code goes, and cannot be framed.
    let query = oauth::authorize_query(&app, &client, &pkce, &[]);
    let resp = app.get(&format!("/authorize?{query}")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-frame-options"], "DENY");
    assert!(
        resp.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-mcp_consent="), "{cookie}");
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Test &lt;Client&gt;") && !html.contains("Test <Client>"),
        "client name is escaped"
    );
    assert!(html.contains("127.0.0.1"), "the redirect host is shown");
    assert_eq!(
        app.host
            .kv_snapshot()
            .keys()
            // The client and, for the sweep, its expiry-index slot and counter.
            .filter(|k| !k.starts_with("cfg:") && !k.starts_with("xn:") && !k.starts_with("xs:"))
            .count(),
        1,
        "nothing stored before consent"
    );

    let code = oauth::authorize_locally(&app, &client, &pkce, "ada").await;
    let (status, tokens) = oauth::exchange(&app, &client, &code, &pkce).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "mcp");
    let expires_in = tokens["expires_in"].as_u64().unwrap();
    assert!((3590..=3600).contains(&expires_in), "{expires_in}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    for (key, value) in app.host.kv_snapshot() {
        let value = String::from_utf8_lossy(&value);
        assert!(
            !value.contains(&access) && !value.contains(&refresh) && !value.contains(&code),
            "token in the clear under {key}"
        );
    }

    // Refresh rotates; retrying the old token at once returns the very same new pair.
    let (status, rotated) = oauth::refresh(&app, &client, &refresh).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], tokens["refresh_token"]);
    let (status, retried) = oauth::refresh(&app, &client, &refresh).await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["refresh_token"], rotated["refresh_token"]);
    assert_eq!(retried["access_token"], rotated["access_token"]);

    // The new token rotates again.
    let (status, again) =
        oauth::refresh(&app, &client, rotated["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_refresh_token_revokes_the_grant() {
    let app = App::start().await;
    let (client, first) = oauth::sign_in_locally(&app, 2, "bob").await;
    let gen0 = first["refresh_token"].as_str().unwrap();
    let (_, second) = oauth::refresh(&app, &client, gen0).await;
    let gen1 = second["refresh_token"].as_str().unwrap();
    let (_, third) = oauth::refresh(&app, &client, gen1).await;
    let gen2 = third["refresh_token"].as_str().unwrap();

    // Generation 0 is two rotations old: a replay, whatever the clock says.
    let (status, error) = oauth::refresh(&app, &client, gen0).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The whole grant is gone: even the current token no longer works.
    let (status, error) = oauth::refresh(&app, &client, gen2).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_code_fails_and_revokes_what_it_issued() {
    let app = App::start().await;
    let client = oauth::register_public(&app).await;
    let pkce = Pkce::new(3);
    let code = oauth::authorize_locally(&app, &client, &pkce, "cy").await;
    let (status, tokens) = oauth::exchange(&app, &client, &code, &pkce).await;
    assert_eq!(status, 200);
    let (status, error) = oauth::exchange(&app, &client, &code, &pkce).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) =
        oauth::refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 400, "the grant of a reused code is revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_converge_on_one_refresh_token() {
    let app = App::start().await;
    let (client, tokens) = oauth::sign_in_locally(&app, 4, "dee").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let results =
        futures::future::join_all((0..8).map(|_| oauth::refresh(&app, &client, &refresh))).await;
    let new_tokens: std::collections::BTreeSet<String> = results
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            body["refresh_token"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        new_tokens.len(),
        1,
        "two different live refresh tokens: {new_tokens:?}"
    );
    let (status, body) = oauth::refresh(&app, &client, new_tokens.first().unwrap()).await;
    assert_eq!(status, 200, "the converged token works: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_refresh_token_ends_the_grant() {
    let app = App::start().await;
    let (client, tokens) = oauth::sign_in_locally(&app, 5, "eve").await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    for token in ["junk", refresh] {
        let resp = app
            .client
            .post(app.url("/revoke"))
            .form(&[("token", token), ("client_id", &client.id)])
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            200,
            "RFC 7009 §2.2 answers 200 for any token"
        );
    }
    let (status, error) = oauth::refresh(&app, &client, refresh).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_requests_that_cannot_be_trusted_are_shown_not_redirected() {
    let app = App::start().await;
    let client = oauth::register_public(&app).await;
    let pkce = Pkce::new(6);
    // (case, overrides)
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("unknown client", vec![("client_id", "mcp_unknown")]),
        ("missing client", vec![("client_id", "")]),
        (
            "unregistered redirect",
            vec![("redirect_uri", "https://evil.example/callback")],
        ),
        (
            "redirect off by a character",
            vec![("redirect_uri", "http://127.0.0.1:7777/callbacK")],
        ),
        (
            "open redirect via path",
            vec![("redirect_uri", "http://127.0.0.1:7777/callback/../../evil")],
        ),
    ];
    let before = app.host.kv_snapshot();
    for (case, overrides) in cases {
        let resp = app
            .get(&format!(
                "/authorize?{}",
                oauth::authorize_query(&app, &client, &pkce, &overrides)
            ))
            .await;
        assert_eq!(resp.status(), 400, "{case}");
        assert!(
            resp.headers().get("location").is_none(),
            "{case} must not redirect"
        );
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{case}"
        );
        assert_eq!(app.host.kv_snapshot(), before, "{case} changed the store");
    }
    let repeated = format!(
        "/authorize?{}&state=again",
        oauth::authorize_query(&app, &client, &pkce, &[])
    );
    assert_eq!(
        app.get(&repeated).await.status(),
        400,
        "a repeated parameter"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_authorization_requests_are_redirected_with_an_error() {
    let app = App::start().await;
    let client = oauth::register_public(&app).await;
    let pkce = Pkce::new(7);
    let other_path = app.url("/other");
    let cases: Vec<(&str, Vec<(&str, &str)>, &str)> = vec![
        (
            "no PKCE",
            vec![("code_challenge", ""), ("code_challenge_method", "")],
            "invalid_request",
        ),
        (
            "plain PKCE",
            vec![("code_challenge_method", "plain")],
            "invalid_request",
        ),
        (
            "token response type",
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (
            "another resource",
            vec![("resource", "https://other.example/mcp")],
            "invalid_target",
        ),
        (
            "a resource at another path of this server",
            vec![("resource", other_path.as_str())],
            "invalid_target",
        ),
    ];
    let before = app.host.kv_snapshot();
    for (case, overrides, error) in cases {
        let resp = app
            .get(&format!(
                "/authorize?{}",
                oauth::authorize_query(&app, &client, &pkce, &overrides)
            ))
            .await;
        assert_eq!(resp.status(), 302, "{case}");
        let (target, params) = location_params(&resp);
        assert_eq!(target, REDIRECT_URI, "{case}");
        assert_eq!(params["error"], error, "{case}");
        assert_eq!(params["state"], "st4te", "{case}");
        assert_eq!(params["iss"], app.host.url(), "{case}");
        assert_eq!(app.host.kv_snapshot(), before, "{case} changed the store");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_submissions_are_checked() {
    let app = App::start().await;
    let client = oauth::register_public(&app).await;
    let pkce = Pkce::new(8);
    let form = oauth::open_consent(&app, &oauth::authorize_query(&app, &client, &pkce, &[])).await;
    assert!(form.html.contains("Sign in locally as"));
    let before = app.host.kv_snapshot();

    let no_cookie = app
        .client
        .post(app.url("/authorize"))
        .form(&[
            ("ticket", form.ticket.as_str()),
            ("decision", "approve"),
            ("user", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_cookie.status(), 400, "missing consent cookie");

    let mut tampered = oauth::ConsentForm {
        ticket: form.ticket.replacen('e', "f", 1),
        cookie: form.cookie.clone(),
        html: String::new(),
    };
    if tampered.ticket == form.ticket {
        tampered.ticket.insert(0, 'x');
    }
    let resp =
        oauth::submit_consent(&app, &tampered, &[("decision", "approve"), ("user", "x")]).await;
    assert_eq!(resp.status(), 400, "tampered ticket");

    let resp = oauth::submit_consent(
        &app,
        &form,
        &[("decision", "approve"), ("user", "<script>")],
    )
    .await;
    assert_eq!(resp.status(), 400, "bad user name");

    let remote = app
        .client
        .post(app.url("/authorize"))
        .header("host", "mcp.example.com")
        .header("cookie", &form.cookie)
        .form(&[
            ("ticket", form.ticket.as_str()),
            ("decision", "approve"),
            ("user", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(remote.status(), 403, "local sign-in on a non-loopback host");
    assert!(remote.text().await.unwrap().contains("loopback"));
    assert_eq!(
        app.host.kv_snapshot(),
        before,
        "no rejected submission stored anything"
    );

    let denied = oauth::submit_consent(&app, &form, &[("decision", "deny")]).await;
    assert_eq!(denied.status(), 302);
    let (_, params) = location_params(&denied);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "st4te");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_exchange_rejections_change_nothing() {
    let app = App::start().await;
    let client = oauth::register_public(&app).await;
    let other = oauth::register_public(&app).await;
    let pkce = Pkce::new(9);
    let code = oauth::authorize_locally(&app, &client, &pkce, "fay").await;
    let wrong = Pkce::new(10);
    let resource = app.url("/mcp");
    // (case, form, status, error)
    let cases: Vec<(&str, Vec<(&str, &str)>, u16, &str)> = vec![
        (
            "wrong PKCE verifier",
            vec![("code_verifier", wrong.verifier.as_str())],
            400,
            "invalid_grant",
        ),
        (
            "missing verifier",
            vec![("code_verifier", "")],
            400,
            "invalid_request",
        ),
        (
            "code of another client",
            vec![("client_id", other.id.as_str())],
            400,
            "invalid_grant",
        ),
        (
            "different redirect_uri",
            vec![("redirect_uri", "http://127.0.0.1:7777/other")],
            400,
            "invalid_grant",
        ),
        (
            "missing redirect_uri",
            vec![("redirect_uri", "")],
            400,
            "invalid_request",
        ),
        (
            "another resource",
            vec![("resource", "https://other.example/mcp")],
            400,
            "invalid_target",
        ),
    ];
    let before = app.host.kv_snapshot();
    for (case, overrides, status, error) in cases {
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", &pkce.verifier),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", &client.id),
            ("resource", &resource),
        ];
        for (name, value) in &overrides {
            form.retain(|(k, _)| k != name);
            if !value.is_empty() {
                form.push((name, value));
            }
        }
        let (got, body) = oauth::token(&app, &form).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(error)),
            "{case}: {body}"
        );
        assert_eq!(app.host.kv_snapshot(), before, "{case} changed the store");
    }
    // After all that, the code still works for its rightful client.
    let (status, body) = oauth::exchange(&app, &client, &code, &pkce).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        oauth::refresh(&app, &other, body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "refresh token of another client"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confidential_clients_must_authenticate_as_registered() {
    let app = App::start().await;
    let reg: Value = app
        .client
        .post(app.url("/register"))
        .json(&serde_json::json!({ "redirect_uris": [REDIRECT_URI], "grant_types": ["authorization_code", "refresh_token"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client = oauth::Client {
        id: reg["client_id"].as_str().unwrap().into(),
        secret: reg["client_secret"].as_str().map(Into::into),
    };
    let pkce = Pkce::new(11);
    let code = oauth::authorize_locally(&app, &client, &pkce, "gus").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("code_verifier", pkce.verifier.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ];
    let post = |auth: Option<(String, String)>, extra: Vec<(&'static str, String)>| {
        let mut req = app.client.post(app.url("/token"));
        if let Some((id, secret)) = auth {
            req = req.basic_auth(id, Some(secret));
        }
        let mut body: Vec<(&str, String)> = form.iter().map(|(k, v)| (*k, v.to_string())).collect();
        body.extend(extra);
        req.form(&body).send()
    };
    let secret = client.secret.clone().unwrap();
    let wrong = post(Some((client.id.clone(), "wrong".into())), vec![])
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().contains_key("www-authenticate"));
    let as_post = post(
        None,
        vec![
            ("client_id", client.id.clone()),
            ("client_secret", secret.clone()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        as_post.status(),
        401,
        "registered for client_secret_basic, not client_secret_post"
    );
    let public = post(None, vec![("client_id", client.id.clone())])
        .await
        .unwrap();
    assert_eq!(public.status(), 401, "no secret");
    let ok = post(Some((client.id.clone(), secret)), vec![])
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_signs_users_in_does_not_expire() {
    let app = App::start().await;
    let client = oauth::register_public(&app).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Age the registration to ten days before expiry, through the store file itself.
    let store =
        test_host::kv::KvBackend::open(&app.dir.path().join("kv.db"), &Default::default()).unwrap();
    let key = format!("cl:{}", client.id);
    let mut record: Value =
        serde_json::from_slice(&store.get("default", &key).unwrap().unwrap()).unwrap();
    record["exp"] = (now + 10 * 86_400).into();
    store
        .set("default", &key, &serde_json::to_vec(&record).unwrap())
        .unwrap();

    let pkce = Pkce::new(12);
    let code = oauth::authorize_locally(&app, &client, &pkce, "hal").await;
    let (status, body) = oauth::exchange(&app, &client, &code, &pkce).await;
    assert_eq!(status, 200, "{body}");
    let renewed: Value = serde_json::from_slice(&app.host.kv_snapshot()[&key]).unwrap();
    assert!(
        renewed["exp"].as_u64().unwrap() >= now + 90 * 86_400,
        "{renewed}"
    );
    assert_eq!(
        renewed["redirect_uris"], record["redirect_uris"],
        "only the expiry changed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_resource_and_with_foreign_scopes_gets_our_resource_and_scope() {
    let app = App::start().await;
    let client = oauth::register_public(&app).await;
    let pkce = Pkce::new(40);
    // As Claude Code asks: no `resource`, scopes copied from OIDC servers.
    let query = oauth::authorize_query(
        &app,
        &client,
        &pkce,
        &[
            ("resource", ""),
            ("scope", "openid profile email offline_access"),
        ],
    );
    assert!(!query.contains("resource="));
    let form = oauth::open_consent(&app, &query).await;
    assert!(
        form.html.contains("<code>mcp</code>") && !form.html.contains("openid"),
        "the consent page shows what will be granted"
    );
    let resp = oauth::submit_consent(&app, &form, &[("decision", "approve"), ("user", "cc")]).await;
    let (_, params) = location_params(&resp);
    let (status, tokens) = oauth::token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &params["code"]),
            ("code_verifier", &pkce.verifier),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", &client.id),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(
        tokens["scope"], "mcp",
        "RFC 6749 §5.1: the granted scope is named"
    );
    let access = tokens["access_token"].as_str().unwrap();
    let resp = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(access)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"cc","version":"1"}}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "the token is for our resource");
    // A refresh naming foreign scopes (and no resource) narrows nothing and widens nothing.
    let (status, refreshed) = oauth::token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", &client.id),
            ("scope", "openid mcp"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(refreshed["scope"], "mcp");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_request_naming_another_resource_is_refused_and_spends_nothing() {
    let app = App::start().await;
    let client = oauth::register_public(&app).await;
    let pkce = Pkce::new(41);
    let code = oauth::authorize_locally(&app, &client, &pkce, "eve").await;
    let before = app.host.kv_snapshot();
    let (status, error) = oauth::token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", &pkce.verifier),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", &client.id),
            ("resource", "https://other.example/mcp"),
        ],
    )
    .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_target"))
    );
    assert_eq!(app.host.kv_snapshot(), before, "the code is not spent");
    let (status, tokens) = oauth::exchange(&app, &client, &code, &pkce).await;
    assert_eq!(status, 200, "{tokens}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consent_form_may_lead_only_to_the_client_it_names() {
    let app = App::start().await;
    // (redirect URI registered and used, the form-action it must allow)
    let cases = [
        ("http://127.0.0.1:7777/callback", "http://127.0.0.1:7777"),
        (
            "https://client.example.com/oauth/cb",
            "https://client.example.com",
        ),
        ("cursor://anysphere.cursor-retrieval/oauth/cb", "cursor:"),
    ];
    for (seed, (redirect, source)) in cases.into_iter().enumerate() {
        let reg: Value = app
            .client
            .post(app.url("/register"))
            .json(&serde_json::json!({
                "client_name": "c", "redirect_uris": [redirect], "token_endpoint_auth_method": "none",
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let client = oauth::Client {
            id: reg["client_id"].as_str().unwrap().to_owned(),
            secret: None,
        };
        let pkce = Pkce::new(50 + seed as u8);
        let query = oauth::authorize_query(&app, &client, &pkce, &[("redirect_uri", redirect)]);
        let resp = app.get(&format!("/authorize?{query}")).await;
        assert_eq!(resp.status(), 200, "{redirect}");
        let csp = resp.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains(&format!("form-action 'self' {source};")),
            "{redirect}: {csp}"
        );
        for kept in [
            "default-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(kept), "{csp}");
        }
    }
}
