//! The audit trail: one JSON line per security event in the components' stderr (Spin's
//! log), for a whole sequence of sign-ins, refreshes, a replay, refused tokens, a
//! revocation and a webhook, each naming the user, client and grant it concerns; and not
//! one log line of the run carries a token, code, cookie or secret.

#[path = "../support/mod.rs"]
mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use support::App;
use support::clerk::{self, MockClerk};
use support::oauth::{self, Pkce};

const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const USER: &str = "user_2abc";

/// What one Clerk sign-in handed out, all of it secret.
struct SignIn {
    client: oauth::Client,
    cookie: String,
    ticket: String,
    state: String,
    code: String,
    verifier: String,
    access: String,
    refresh: String,
}

async fn sign_in(app: &App, seed: u8) -> SignIn {
    let client = oauth::register_public(app).await;
    let pkce = Pkce::new(seed);
    let clerk::AppHop { form, to_app, back } =
        clerk::approve_through_app(app, &client, &pkce).await;
    let state = query_param(&to_app, "state");
    let code = query_param(&back_from_callback(app, &back, &form.cookie).await, "code");
    let (status, tokens) = oauth::exchange(app, &client, &code, &pkce).await;
    assert_eq!(status, 200, "{tokens}");
    SignIn {
        client,
        cookie: form.cookie,
        ticket: form.ticket,
        state,
        code,
        verifier: pkce.verifier,
        access: tokens["access_token"].as_str().unwrap().to_owned(),
        refresh: tokens["refresh_token"].as_str().unwrap().to_owned(),
    }
}

/// Where our `/callback` sends the browser (the client, with a code or an error).
async fn back_from_callback(app: &App, callback: &str, cookie: &str) -> String {
    let resp = app
        .client
        .get(callback)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    resp.headers()["location"].to_str().unwrap().to_owned()
}

fn query_param(url: &str, name: &str) -> String {
    support::query_param(url, name).unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// The grant id inside a token (`mcp_at_<grant>.<n>.<mac>`).
fn grant_of(token: &str) -> String {
    token[7..].split('.').next().unwrap().to_owned()
}

async fn refresh(app: &App, signed: &SignIn, token: &str) -> (u16, Value) {
    oauth::refresh(app, &signed.client, token).await
}

async fn mcp_status(app: &App, token: &str) -> u16 {
    clerk::get_app_data(app, token).await.0
}

fn audit_lines(app: &App) -> Vec<Value> {
    app.host
        .component_log()
        .lines()
        .filter(|line| line.starts_with(r#"{"audit":"#))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

async fn deliver_user_deleted(app: &App, user: &str) -> u16 {
    let body = json!({"type": "user.deleted", "object": "event",
        "data": {"deleted": true, "id": user, "object": "user"}})
    .to_string();
    let (id, t) = ("msg_audit", support::unix_now());
    let key = STANDARD.decode(&WEBHOOK_SECRET[6..]).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{t}.{body}").as_bytes());
    let signature = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    app.client
        .post(app.url("/webhooks/clerk"))
        .header("svix-id", id)
        .header("svix-timestamp", t.to_string())
        .header("svix-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_sequence_is_audited_and_no_log_line_carries_a_secret() {
    let mock = MockClerk::start().await;
    mock.set_valid_token();
    let mut vars = mock.variables();
    vars.push(("clerk_webhook_secret", WEBHOOK_SECRET.into()));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = App::start_with(support::project_manifest(), &vars).await;
    let mut secrets: Vec<String> = vec![
        WEBHOOK_SECRET.into(),
        clerk::SECRET_KEY.into(),
        mock.next_token.lock().unwrap().clone(),
    ];

    // A sign-in, its refreshes (one retried), and a replay that ends the grant.
    let first = sign_in(&app, 1).await;
    let (_, r1) = refresh(&app, &first, &first.refresh).await;
    let (_, retried) = refresh(&app, &first, &first.refresh).await;
    let r1_token = r1["refresh_token"].as_str().unwrap();
    let (_, r2) = refresh(&app, &first, r1_token).await;
    let (status, _) = refresh(&app, &first, &first.refresh).await;
    assert_eq!(status, 400, "a replay");
    assert_eq!(mcp_status(&app, "mcp_at_not-a-token").await, 401);
    assert_eq!(
        mcp_status(&app, &first.access).await,
        401,
        "the ended grant"
    );
    for body in [&r1, &retried, &r2] {
        secrets.push(body["access_token"].as_str().unwrap().into());
        secrets.push(body["refresh_token"].as_str().unwrap().into());
    }

    // A second, revoked by its client; a third, ended by a webhook.
    let second = sign_in(&app, 2).await;
    let resp = app
        .client
        .post(app.url("/revoke"))
        .form(&[
            ("token", second.refresh.as_str()),
            ("client_id", &second.client.id),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let third = sign_in(&app, 3).await;
    assert_eq!(deliver_user_deleted(&app, USER).await, 200);

    // A denied consent, and a sign-in whose Clerk token is refused.
    let client = oauth::register_public(&app).await;
    let pkce = Pkce::new(4);
    let form = oauth::open_consent(&app, &oauth::authorize_query(&app, &client, &pkce, &[])).await;
    oauth::submit_consent(&app, &form, &[("decision", "deny")]).await;
    mock.set_token("not-a-clerk-token".into());
    let clerk::AppHop { form, back, .. } = clerk::approve_through_app(&app, &client, &pkce).await;
    let refused = back_from_callback(&app, &back, &form.cookie).await;
    assert!(refused.contains("error=access_denied"), "{refused}");
    oauth::settle(&app).await;

    let lines = audit_lines(&app);
    let events: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            let reason = l["reason"].as_str().unwrap_or("").to_owned();
            (l["audit"].as_str().unwrap().to_owned(), reason)
        })
        .collect();
    let expected: Vec<(&str, &str)> = vec![
        ("consent_approved", ""),
        ("sign_in", ""),
        ("code_exchanged", ""),
        ("refresh", ""),
        ("refresh", "retry"),
        ("refresh", ""),
        ("grant_revoked", "replay"),
        ("token_refused", "malformed"),
        ("token_refused", "no_grant"),
        ("consent_approved", ""),
        ("sign_in", ""),
        ("code_exchanged", ""),
        ("grant_revoked", "client"),
        ("consent_approved", ""),
        ("sign_in", ""),
        ("code_exchanged", ""),
        ("clerk_user_gone", ""),
        ("grant_revoked", "webhook"),
        ("consent_denied", ""),
        ("consent_approved", ""),
        ("sign_in_refused", "clerk_token"),
    ];
    let expected: Vec<(String, String)> = expected
        .into_iter()
        .map(|(a, r)| (a.to_owned(), r.to_owned()))
        .collect();
    assert_eq!(events, expected);

    // Each line names what it concerns.
    let grants = [&first, &second, &third].map(|s| grant_of(&s.access));
    let clients = [&first, &second, &third].map(|s| s.client.id.clone());
    let concerning = |line: &Value, n: usize| {
        assert_eq!(line["client"], json!(clients[n]), "{line}");
        if line["audit"] != "consent_approved" {
            assert_eq!(line["user"], USER, "{line}");
            assert_eq!(line["grant"], json!(grants[n]), "{line}");
        }
        assert!(line["at"].as_u64().unwrap() > 1_700_000_000, "{line}");
    };
    for (range, n) in [(0..7, 0), (9..13, 1), (13..16, 2)] {
        for i in range {
            concerning(&lines[i], n);
        }
    }
    concerning(&lines[17], 2);
    assert_eq!(lines[1]["session"], "sess_2xyz");
    assert_eq!(lines[16]["user"], USER);
    assert_eq!(lines[18]["client"], json!(client.id));

    // Not one log line of the run holds a secret: tokens, codes, PKCE verifiers,
    // consent cookies, tickets, sign-in state, Clerk's tokens and keys.
    for signed in [&first, &second, &third] {
        secrets.extend([
            signed.access.clone(),
            signed.refresh.clone(),
            signed.code.clone(),
            signed.verifier.clone(),
            signed.ticket.clone(),
            signed.state.clone(),
            signed.cookie.split_once('=').unwrap().1.to_owned(),
        ]);
    }
    let log = app.host.component_log();
    assert!(log.lines().count() > expected.len(), "the log was captured");
    for secret in &secrets {
        assert!(secret.len() >= 10, "too short to search for: {secret}");
        assert!(
            !log.contains(secret.as_str()),
            "a log line holds a secret:\n{log}"
        );
    }
}
