//! A mock of the two things the sign-in talks to: Clerk's Backend API (`/v1/jwks`, which
//! demands the secret key) and the customer's app (`/auth/mcp`, which, like the app in
//! the seed, redirects to `callback_url` with `clerk_token` and `state`). Session tokens
//! are real RS256 JWTs signed with the test key in `crates/clerk/tests/fixtures`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

pub const SECRET_KEY: &str = "sk_test_mock";
pub const ISSUER: &str = "https://clerk.app.example";

fn fixture(name: &str) -> String {
    let path = super::project_root()
        .join("crates/clerk/tests/fixtures")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// Session-token claims as Clerk issues them for the mock app's origin.
pub fn claims(app_origin: &str) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({
        "iss": ISSUER, "sub": "user_2abc", "sid": "sess_2xyz", "azp": app_origin,
        "iat": now, "nbf": now - 5, "exp": now + 60,
    })
}

/// Signs `claims` with the instance key (`kid` ins_key_1), or the attacker key.
pub fn sign(claims: &Value, attacker: bool, kid: &str, alg: Algorithm) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    let key = match alg {
        Algorithm::HS256 => EncodingKey::from_secret(fixture("instance-public.pem").as_bytes()),
        _ => EncodingKey::from_rsa_pem(
            fixture(if attacker {
                "attacker-private.pem"
            } else {
                "instance-private.pem"
            })
            .as_bytes(),
        )
        .unwrap(),
    };
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// How the mock answers `POST /v1/sessions/{id}/tokens[/{template}]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mint {
    /// A token living this many seconds (after a short delay, as over a network).
    Lasting(u64),
    /// 404: the session ended.
    SessionGone,
    /// 503.
    Down,
    /// No answer for longer than any timeout.
    Hang,
}

/// How the mock app answers `GET /api/me`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppAnswer {
    Me,
    Fails,
    Hangs,
}

/// What the upstream side of the mock saw and how it answers.
pub struct Upstream {
    pub mint: Mutex<Mint>,
    pub app: Mutex<AppAnswer>,
    /// The paths of the mint requests, in order.
    pub mints: Mutex<Vec<String>>,
    /// The `Authorization` header of each call to the app.
    pub app_calls: Mutex<Vec<String>>,
}

impl Upstream {
    pub fn mint_count(&self) -> usize {
        self.mints.lock().unwrap().len()
    }
}

pub struct MockClerk {
    pub origin: String,
    pub upstream: Arc<Upstream>,
    /// The `clerk_token` the app hands back on its next sign-in.
    pub next_token: Arc<Mutex<String>>,
    pub jwks_fetches: Arc<AtomicUsize>,
    /// While set, the Backend API's `/v1/jwks` answers 503 (Clerk unavailable).
    pub jwks_down: Arc<std::sync::atomic::AtomicBool>,
    /// The query strings `/auth/mcp` received.
    pub sign_ins: Arc<Mutex<Vec<String>>>,
    _task: tokio::task::JoinHandle<()>,
}

impl MockClerk {
    pub async fn start() -> Self {
        let next_token = Arc::new(Mutex::new(String::new()));
        let jwks_fetches = Arc::new(AtomicUsize::new(0));
        let jwks_down = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sign_ins = Arc::new(Mutex::new(Vec::new()));
        let upstream = Arc::new(Upstream {
            mint: Mutex::new(Mint::Lasting(60)),
            app: Mutex::new(AppAnswer::Me),
            mints: Mutex::new(Vec::new()),
            app_calls: Mutex::new(Vec::new()),
        });
        let (token, fetches, seen) = (next_token.clone(), jwks_fetches.clone(), sign_ins.clone());
        let down = jwks_down.clone();
        let up = upstream.clone();
        let (addr, task) = super::serve(move |req| {
            let (token, fetches, seen) = (token.clone(), fetches.clone(), seen.clone());
            let down = down.clone();
            let up = up.clone();
            async move {
                let path = req.uri().path().to_owned();
                if path.starts_with("/v1/sessions/") {
                    return mint(&up, &req).await;
                }
                if path == "/api/me" {
                    return app_me(&up, &req).await;
                }
                match req.uri().path() {
                    "/v1/jwks" => {
                        let auth = req
                            .headers()
                            .get("authorization")
                            .and_then(|v| v.to_str().ok());
                        if auth != Some(&format!("Bearer {SECRET_KEY}")) {
                            return super::response(
                                401,
                                r#"{"errors":[{"code":"authentication_invalid"}]}"#,
                            );
                        }
                        if down.load(Ordering::SeqCst) {
                            return super::response(503, r#"{"errors":[]}"#);
                        }
                        fetches.fetch_add(1, Ordering::SeqCst);
                        super::response(200, fixture("jwks.json"))
                    }
                    "/auth/mcp" => {
                        let query = req.uri().query().unwrap_or_default().to_owned();
                        seen.lock().unwrap().push(query.clone());
                        let params: std::collections::HashMap<String, String> =
                            form_urlencoded::parse(query.as_bytes())
                                .into_owned()
                                .collect();
                        let callback = format!(
                            "{}?{}",
                            params["callback_url"],
                            form_urlencoded::Serializer::new(String::new())
                                .append_pair("clerk_token", &token.lock().unwrap())
                                .append_pair("state", &params["state"])
                                .finish()
                        );
                        let mut resp = super::response(302, Bytes::new());
                        resp.headers_mut()
                            .insert("location", callback.parse().unwrap());
                        resp
                    }
                    _ => super::response(404, Bytes::new()),
                }
            }
        })
        .await;
        let origin = format!("http://{addr}");
        Self {
            origin,
            upstream,
            next_token,
            jwks_fetches,
            jwks_down,
            sign_ins,
            _task: task,
        }
    }

    pub fn set_token(&self, token: String) {
        *self.next_token.lock().unwrap() = token;
    }

    /// Has the app hand back a valid session token (instance key, RS256) next time.
    pub fn set_valid_token(&self) {
        self.set_token(sign(
            &claims(&self.origin),
            false,
            "ins_key_1",
            Algorithm::RS256,
        ));
    }

    /// The variables that put the app in Clerk mode against this mock.
    pub fn variables(&self) -> Vec<(&'static str, String)> {
        vec![
            ("clerk_api_url", self.origin.clone()),
            ("clerk_secret_key", SECRET_KEY.into()),
            ("clerk_issuer", ISSUER.into()),
            ("app_url", self.origin.clone()),
        ]
    }
}

type Req = hyper::Request<hyper::body::Incoming>;

async fn mint(up: &Upstream, req: &Req) -> hyper::Response<http_body_util::Full<Bytes>> {
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    if req.method() != hyper::Method::POST || auth != Some(&format!("Bearer {SECRET_KEY}")) {
        return super::response(401, r#"{"errors":[{"code":"authentication_invalid"}]}"#);
    }
    let mode = *up.mint.lock().unwrap();
    if mode == Mint::Hang {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    }
    // As over a network: long enough for concurrent callers to pile up.
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let n = {
        let mut mints = up.mints.lock().unwrap();
        mints.push(req.uri().path().to_owned());
        mints.len()
    };
    match mode {
        Mint::Lasting(seconds) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            use base64::Engine as _;
            let claims =
                json!({ "sub": "user_2abc", "sid": "sess_2xyz", "exp": now + seconds, "n": n });
            let payload =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
            let jwt = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.clerk-signature-{n}");
            super::response(200, json!({ "object": "token", "jwt": jwt }).to_string())
        }
        Mint::SessionGone => super::response(
            404,
            r#"{"errors":[{"code":"resource_not_found","message":"not found"}]}"#,
        ),
        Mint::Down | Mint::Hang => super::response(503, "unavailable"),
    }
}

async fn app_me(up: &Upstream, req: &Req) -> hyper::Response<http_body_util::Full<Bytes>> {
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    up.app_calls.lock().unwrap().push(auth);
    let answer = *up.app.lock().unwrap();
    match answer {
        AppAnswer::Me => super::response(200, r#"{"user":"user_2abc","plan":"pro"}"#),
        AppAnswer::Fails => super::response(500, "boom"),
        AppAnswer::Hangs => {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            super::response(200, "{}")
        }
    }
}

/// The browser's part of a Clerk sign-in before our callback: the consent form (its
/// cookie binds the callback), where the approval sent the browser (the app's
/// `/auth/mcp`), and where the app sends it back (our `/callback`, on the public origin).
pub struct AppHop {
    pub form: super::oauth::ConsentForm,
    pub to_app: String,
    pub back: String,
}

/// Approves `client`'s consent page and takes the app's hop.
pub async fn approve_through_app(
    app: &super::App,
    client: &super::oauth::Client,
    pkce: &super::oauth::Pkce,
) -> AppHop {
    use super::oauth;
    let form = oauth::open_consent(app, &oauth::authorize_query(app, client, pkce, &[])).await;
    let resp = oauth::submit_consent(app, &form, &[("decision", "approve")]).await;
    let to_app = resp.headers()["location"].to_str().unwrap().to_owned();
    let resp = app.client.get(&to_app).send().await.unwrap();
    let back = resp.headers()["location"].to_str().unwrap().to_owned();
    AppHop { form, to_app, back }
}

/// Signs `user` in through the app in Clerk mode (consent, the app's hop, callback, code
/// exchange); returns the client and the token response.
pub async fn sign_in(app: &super::App, seed: u8) -> (super::oauth::Client, Value) {
    sign_in_across(app, app, seed).await
}

/// The same sign-in with the app's redirect back to the public origin routed, as a load
/// balancer would, to `back_at` (another instance on the same store).
pub async fn sign_in_across(
    app: &super::App,
    back_at: &super::App,
    seed: u8,
) -> (super::oauth::Client, Value) {
    use super::oauth;
    let client = oauth::register_public(app).await;
    let pkce = oauth::Pkce::new(seed);
    let hop = approve_through_app(app, &client, &pkce).await;
    let back = hop
        .back
        .replacen(&back_at.public_base, &back_at.host.url(), 1);
    let resp = back_at
        .client
        .get(&back)
        .header("cookie", &hop.form.cookie)
        .send()
        .await
        .unwrap();
    let location = resp.headers()["location"].to_str().unwrap();
    let code = super::query_param(location, "code").expect("the sign-in ends with a code");
    let (status, tokens) = oauth::exchange(app, &client, &code, &pkce).await;
    assert_eq!(status, 200, "{tokens}");
    (client, tokens)
}

/// `tools/call get_app_data` on 2026-07-28 (stateless): the HTTP status, the JSON body
/// (if any) and the `WWW-Authenticate` challenge (if any).
pub async fn get_app_data(app: &super::App, token: &str) -> (u16, Value, Option<String>) {
    let body = serde_json::json!({
        "jsonrpc": "2.0", "id": 9, "method": "tools/call",
        "params": {
            "name": "get_app_data", "arguments": {},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        },
    });
    let resp = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "get_app_data")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let reply = resp.json().await.unwrap_or(Value::Null);
    (status, reply, challenge)
}

/// The app in Clerk mode against `mock`.
pub async fn app(mock: &MockClerk) -> super::App {
    let vars = mock.variables();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    super::App::start_with(super::project_manifest(), &vars).await
}
