//! A small OAuth client for the end-to-end suites: registers, walks the consent page as
//! a browser would (ticket from the HTML, cookie carried), and calls /token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::App;

pub const REDIRECT_URI: &str = "http://127.0.0.1:7777/callback";

pub struct Client {
    pub id: String,
    pub secret: Option<String>,
}

/// A PKCE pair (RFC 7636 §4.1, §4.2).
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new(seed: u8) -> Self {
        let verifier = URL_SAFE_NO_PAD.encode([seed; 32]);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Self {
            verifier,
            challenge,
        }
    }
}

pub async fn register_public(app: &App) -> Client {
    register_named(app, "Test <Client>").await
}

/// A public client named `name`, for both grant types.
pub async fn register_named(app: &App, name: &str) -> Client {
    let body = serde_json::json!({
        "client_name": name,
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
    });
    let reg: Value = app
        .client
        .post(app.url("/register"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    settle(app).await;
    Client {
        id: reg["client_id"].as_str().unwrap().to_owned(),
        secret: None,
    }
}

/// Waits for the instances still at work after answering: registration and the consent
/// page sweep after their answer, so a test reading the store waits for that first.
pub async fn settle(app: &App) {
    assert!(
        app.host.settle(std::time::Duration::from_secs(30)).await,
        "a component kept running"
    );
}

/// The authorization request's query for `client`, with `overrides` replacing or adding
/// parameters (an empty value removes one).
pub fn authorize_query(
    app: &App,
    client: &Client,
    pkce: &Pkce,
    overrides: &[(&str, &str)],
) -> String {
    let resource = app.public_url("/mcp");
    let mut params: Vec<(String, String)> = vec![
        ("response_type".into(), "code".into()),
        ("client_id".into(), client.id.clone()),
        ("redirect_uri".into(), REDIRECT_URI.into()),
        ("state".into(), "st4te".into()),
        ("code_challenge".into(), pkce.challenge.clone()),
        ("code_challenge_method".into(), "S256".into()),
        ("scope".into(), "mcp".into()),
        ("resource".into(), resource),
    ];
    for (name, value) in overrides {
        params.retain(|(k, _)| k != name);
        if !value.is_empty() {
            params.push((name.to_string(), value.to_string()));
        }
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &params {
        query.append_pair(k, v);
    }
    query.finish()
}

/// The consent page's sealed ticket and the cookie that goes with it.
pub struct ConsentForm {
    pub ticket: String,
    pub cookie: String,
    pub html: String,
}

pub async fn open_consent(app: &App, query: &str) -> ConsentForm {
    let resp = app.get(&format!("/authorize?{query}")).await;
    assert_eq!(resp.status(), 200, "consent page");
    let set_cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let html = resp.text().await.unwrap();
    settle(app).await;
    let ticket = hidden_value(&html, "ticket");
    ConsentForm {
        ticket,
        cookie,
        html,
    }
}

/// The value of the page's hidden form field `name` (the first one).
pub fn hidden_value(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no hidden field {name}: {html}"))
        .to_owned()
}

/// Submits the consent form; returns the response (a redirect on success).
pub async fn submit_consent(
    app: &App,
    form: &ConsentForm,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut body: Vec<(&str, &str)> = vec![("ticket", &form.ticket)];
    body.extend_from_slice(fields);
    app.client
        .post(app.url("/authorize"))
        .header("cookie", &form.cookie)
        .form(&body)
        .send()
        .await
        .unwrap()
}

/// Runs the browser part of the flow with local sign-in; returns the code.
pub async fn authorize_locally(app: &App, client: &Client, pkce: &Pkce, user: &str) -> String {
    let form = open_consent(app, &authorize_query(app, client, pkce, &[])).await;
    let resp = submit_consent(app, &form, &[("decision", "approve"), ("user", user)]).await;
    assert_eq!(resp.status(), 302);
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let params: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(params["state"], "st4te");
    assert_eq!(params["iss"], app.public_base);
    params["code"].clone()
}

pub async fn token(app: &App, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url("/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    (status, resp.json().await.unwrap())
}

pub async fn exchange(app: &App, client: &Client, code: &str, pkce: &Pkce) -> (u16, Value) {
    token(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", &pkce.verifier),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", &client.id),
            ("resource", &app.public_url("/mcp")),
        ],
    )
    .await
}

pub async fn refresh(app: &App, client: &Client, refresh_token: &str) -> (u16, Value) {
    token(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", &client.id),
        ],
    )
    .await
}

/// Registers a public client and runs the whole local flow; returns the client and the
/// token response.
pub async fn sign_in_locally(app: &App, seed: u8, user: &str) -> (Client, Value) {
    let client = register_public(app).await;
    let pkce = Pkce::new(seed);
    let code = authorize_locally(app, &client, &pkce, user).await;
    let (status, tokens) = exchange(app, &client, &code, &pkce).await;
    assert_eq!(status, 200, "{tokens}");
    (client, tokens)
}
