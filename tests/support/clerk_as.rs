//! A mock of Clerk's own OAuth authorization server, for the resource-server mode: its
//! RFC 8414 metadata, dynamic registration, `/oauth/authorize` (which signs the user in
//! at once, checks PKCE's method and redirects with a code), `/oauth/token` (code with
//! PKCE, and refresh), the Backend API's `/v1/jwks` (two keys and a rotation) and the
//! opaque-token verify call, with failure injection on both, and the M2M tokens this
//! server mints as a Clerk machine (`/v1/m2m_tokens`) for the customer's app, which the
//! mock also plays (`/api/me` verifies them as an app would). Access tokens are real
//! RS256 JWTs with Clerk's header (`typ: at+jwt`) and claims, signed with the test keys
//! in `crates/clerk/tests/fixtures`, or opaque `oat_` tokens where a test asks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const SECRET_KEY: &str = "sk_test_mock_as";
pub const USER: &str = "user_2clerkas";
/// The secret key of the Clerk machine this server is, and that machine's id.
pub const MACHINE_SECRET_KEY: &str = "ak_test_mcp_server";
pub const MACHINE_ID: &str = "mch_mcp_server";

/// Which key the instance signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// `ins_key_1`, in both key sets.
    First,
    /// `ins_key_2`, published only after the rotation.
    Second,
    /// A key that is not the instance's.
    Attacker,
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        super::project_root()
            .join("crates/clerk/tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// Signs `claims` with `key` under `kid`, with header `typ` (Clerk's access tokens say
/// `at+jwt`; session, template and M2M tokens `JWT`).
pub fn sign(claims: &Value, typ: Option<&str>, kid: &str, key: Key, alg: Algorithm) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    header.typ = typ.map(str::to_owned);
    let pem = match key {
        Key::First => "instance-private.pem",
        Key::Second => "instance2-private.pem",
        Key::Attacker => "attacker-private.pem",
    };
    let encoding = match alg {
        // HMAC keyed with the instance's public key: the classic confusion attack.
        Algorithm::HS256 => EncodingKey::from_secret(fixture("instance-public.pem").as_bytes()),
        _ => EncodingKey::from_rsa_pem(fixture(pem).as_bytes()).unwrap(),
    };
    jsonwebtoken::encode(&header, claims, &encoding).unwrap()
}

/// A token with any header, unsigned: for algorithms the test keys cannot sign with.
pub fn forge(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(b"not-a-signature")
    )
}

pub fn now() -> u64 {
    super::unix_now()
}

/// What Clerk says about an opaque token at its verify endpoint.
#[derive(Debug, Clone)]
pub struct Opaque {
    pub answer: Value,
}

/// How the Backend API answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Up,
    /// 503 for every call.
    Down,
    /// No answer for longer than any deadline.
    Hang,
}

pub struct MockClerkAs {
    /// The Frontend API URL: issuer and authorization server.
    pub issuer: String,
    pub jwks_fetches: Arc<AtomicUsize>,
    pub verify_calls: Arc<AtomicUsize>,
    /// The `resource` of each authorization request (Claude's clients send none).
    pub resources: Arc<Mutex<Vec<Option<String>>>>,
    state: Arc<State>,
    _task: tokio::task::JoinHandle<()>,
}

struct State {
    issuer: Mutex<String>,
    rotated: AtomicBool,
    backend: Mutex<Backend>,
    /// Issue opaque `oat_` tokens instead of JWTs.
    opaque_tokens: AtomicBool,
    opaque: Mutex<HashMap<String, Opaque>>,
    clients: Mutex<HashMap<String, Value>>,
    codes: Mutex<HashMap<String, Value>>,
    counter: AtomicUsize,
    /// The body of each M2M token request, in order.
    m2m_requests: Mutex<Vec<Value>>,
    /// The `Authorization` header of each call to the app.
    app_calls: Mutex<Vec<String>>,
}

impl MockClerkAs {
    pub async fn start() -> Self {
        let state = Arc::new(State {
            issuer: Mutex::new(String::new()),
            rotated: AtomicBool::new(false),
            backend: Mutex::new(Backend::Up),
            opaque_tokens: AtomicBool::new(false),
            opaque: Mutex::new(HashMap::new()),
            clients: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
            counter: AtomicUsize::new(0),
            m2m_requests: Mutex::new(Vec::new()),
            app_calls: Mutex::new(Vec::new()),
        });
        let jwks_fetches = Arc::new(AtomicUsize::new(0));
        let verify_calls = Arc::new(AtomicUsize::new(0));
        let resources = Arc::new(Mutex::new(Vec::new()));
        let (s, j, v, r) = (
            state.clone(),
            jwks_fetches.clone(),
            verify_calls.clone(),
            resources.clone(),
        );
        let (addr, task) = super::serve(move |req| {
            let (s, j, v, r) = (s.clone(), j.clone(), v.clone(), r.clone());
            async move { answer(&s, &j, &v, &r, req).await }
        })
        .await;
        let issuer = format!("http://{addr}");
        *state.issuer.lock().unwrap() = issuer.clone();
        Self {
            issuer,
            jwks_fetches,
            verify_calls,
            resources,
            state,
            _task: task,
        }
    }

    /// The variables that make the app a resource server for this mock, calling the
    /// mock's app with M2M tokens.
    pub fn variables(&self) -> Vec<(&'static str, String)> {
        vec![
            ("authorization_server", "clerk".into()),
            ("clerk_issuer", self.issuer.clone()),
            ("clerk_api_url", self.issuer.clone()),
            ("clerk_secret_key", SECRET_KEY.into()),
            ("clerk_machine_secret_key", MACHINE_SECRET_KEY.into()),
            ("app_url", self.issuer.clone()),
        ]
    }

    /// The bodies of the M2M token requests so far.
    pub fn m2m_requests(&self) -> Vec<Value> {
        self.state.m2m_requests.lock().unwrap().clone()
    }

    /// The `Authorization` headers the app received so far.
    pub fn app_calls(&self) -> Vec<String> {
        self.state.app_calls.lock().unwrap().clone()
    }

    /// Publishes `ins_key_2` beside `ins_key_1` from now on.
    pub fn rotate(&self) {
        self.state.rotated.store(true, Ordering::SeqCst);
    }

    pub fn set_backend(&self, backend: Backend) {
        *self.state.backend.lock().unwrap() = backend;
    }

    pub fn issue_opaque_tokens(&self, opaque: bool) {
        self.state.opaque_tokens.store(opaque, Ordering::SeqCst);
    }

    /// Has the verify endpoint answer `answer` (with status 200) for `token`.
    pub fn know_opaque(&self, token: &str, answer: Value) {
        self.state
            .opaque
            .lock()
            .unwrap()
            .insert(token.to_owned(), Opaque { answer });
    }

    /// The verify endpoint's answer for a live opaque token, as Clerk publishes it.
    pub fn opaque_answer(&self, token_id: &str, scopes: &[&str]) -> Value {
        let now = now();
        json!({
            "object": "clerk_idp_oauth_access_token",
            "id": token_id,
            "client_id": "clerk_client_opaque",
            "subject": USER,
            "scopes": scopes,
            "revoked": false,
            "revocation_reason": null,
            "expired": false,
            "expiration": (now + 86_400) * 1000,
            "created_at": now * 1000,
            "updated_at": now * 1000,
        })
    }

    /// Access-token claims as Clerk issues them for `client_id`, for `resource`.
    pub fn access_claims(&self, resource: Option<&str>, scope: &str) -> Value {
        claims(&self.issuer, "clerk_client_test", resource, scope)
    }

    /// A valid access token for `resource` (or none), signed with `ins_key_1`.
    pub fn access_token(&self, resource: Option<&str>, scope: &str) -> String {
        sign(
            &self.access_claims(resource, scope),
            Some("at+jwt"),
            "ins_key_1",
            Key::First,
            Algorithm::RS256,
        )
    }
}

fn claims(issuer: &str, client_id: &str, resource: Option<&str>, scope: &str) -> Value {
    let now = now();
    let mut claims = json!({
        "iss": issuer, "sub": USER, "client_id": client_id, "azp": client_id,
        "sid": "sess_2clerkas", "scope": scope, "jti": format!("oat_{now}"),
        "iat": now, "nbf": now - 10, "exp": now + 86_400,
    });
    if let Some(resource) = resource {
        claims["aud"] = json!([resource]);
    }
    claims
}

type Answer = hyper::Response<Full<Bytes>>;

fn json_response(status: u16, body: &Value) -> Answer {
    let mut resp = super::response(status, body.to_string());
    resp.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    resp
}

async fn answer(
    state: &State,
    jwks_fetches: &AtomicUsize,
    verify_calls: &AtomicUsize,
    resources: &Mutex<Vec<Option<String>>>,
    req: hyper::Request<hyper::body::Incoming>,
) -> Answer {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    // M2M tokens are minted with the machine's key, everything else with the instance's.
    let key = if path == "/v1/m2m_tokens" {
        MACHINE_SECRET_KEY
    } else {
        SECRET_KEY
    };
    let authorized = authorization == format!("Bearer {key}");
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let issuer = state.issuer.lock().unwrap().clone();
    let backend = *state.backend.lock().unwrap();
    let backend_call = matches!(
        path.as_str(),
        "/v1/jwks" | "/v1/oauth_applications/access_tokens/verify" | "/v1/m2m_tokens"
    );
    if backend_call {
        if !authorized {
            return json_response(
                401,
                &json!({"errors": [{"code": "authentication_invalid"}]}),
            );
        }
        match backend {
            Backend::Up => {}
            Backend::Down => return super::response(503, "unavailable"),
            Backend::Hang => {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                return super::response(503, "unavailable");
            }
        }
    }
    match path.as_str() {
        "/.well-known/oauth-authorization-server" | "/.well-known/openid-configuration" => {
            json_response(
                200,
                &json!({
                    "issuer": issuer,
                    "authorization_endpoint": format!("{issuer}/oauth/authorize"),
                    "token_endpoint": format!("{issuer}/oauth/token"),
                    "registration_endpoint": format!("{issuer}/oauth/register"),
                    "revocation_endpoint": format!("{issuer}/oauth/token/revoke"),
                    "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
                    "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
                    "response_types_supported": ["code"],
                    "grant_types_supported": ["authorization_code", "refresh_token"],
                    "code_challenge_methods_supported": ["S256"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
                    "scopes_supported": ["openid", "profile", "email", "public_metadata", "private_metadata"],
                }),
            )
        }
        "/v1/jwks" => {
            jwks_fetches.fetch_add(1, Ordering::SeqCst);
            let set = if state.rotated.load(Ordering::SeqCst) {
                "jwks-rotated.json"
            } else {
                "jwks.json"
            };
            super::response(200, fixture(set))
        }
        "/v1/oauth_applications/access_tokens/verify" => {
            verify_calls.fetch_add(1, Ordering::SeqCst);
            let asked: Value = serde_json::from_slice(&body).unwrap_or_default();
            let token = asked["access_token"].as_str().unwrap_or_default();
            match state.opaque.lock().unwrap().get(token) {
                Some(known) => json_response(200, &known.answer),
                None => json_response(
                    404,
                    &json!({"errors": [{"code": "resource_not_found", "message": "not found"}]}),
                ),
            }
        }
        "/v1/m2m_tokens" => {
            let asked: Value = serde_json::from_slice(&body).unwrap_or_default();
            state.m2m_requests.lock().unwrap().push(asked.clone());
            let lifetime = asked["seconds_until_expiration"].as_u64().unwrap_or(3600);
            let n = state.counter.fetch_add(1, Ordering::SeqCst);
            let now = now();
            let mut payload = json!({
                "iss": issuer, "sub": MACHINE_ID, "jti": format!("mt_{n}"),
                "iat": now, "nbf": now - 5, "exp": now + lifetime,
            });
            if let Some(claims) = asked["claims"].as_object() {
                for (name, value) in claims {
                    payload[name] = value.clone();
                }
            }
            let token = sign(
                &payload,
                Some("JWT"),
                "ins_key_1",
                Key::First,
                Algorithm::RS256,
            );
            json_response(
                201,
                &json!({
                    "object": "machine_to_machine_token", "id": format!("mt_{n}"),
                    "subject": MACHINE_ID, "scopes": [], "claims": asked["claims"],
                    "token": token, "revoked": false, "revocation_reason": null,
                    "expired": false, "expiration": (now + lifetime) * 1000,
                    "created_at": now * 1000, "updated_at": now * 1000,
                }),
            )
        }
        "/api/me" => {
            state.app_calls.lock().unwrap().push(authorization.clone());
            let token = authorization.strip_prefix("Bearer ").unwrap_or_default();
            match app_verifies(token, &issuer) {
                Some(claims) => json_response(
                    200,
                    &json!({
                        "user": claims["user_id"], "client": claims["mcp_client_id"],
                        "scope": claims["mcp_scope"], "plan": "pro",
                    }),
                ),
                None => json_response(401, &json!({"error": "unauthorized"})),
            }
        }
        "/oauth/register" => {
            let asked: Value = serde_json::from_slice(&body).unwrap_or_default();
            let n = state.counter.fetch_add(1, Ordering::SeqCst);
            let client_id = format!("clerk_client_{n}");
            let mut client = asked.clone();
            client["client_id"] = json!(client_id);
            client["client_id_issued_at"] = json!(now());
            client["token_endpoint_auth_method"] = json!("none");
            client["grant_types"] = json!(["authorization_code", "refresh_token"]);
            client["response_types"] = json!(["code"]);
            state
                .clients
                .lock()
                .unwrap()
                .insert(client_id, client.clone());
            json_response(201, &client)
        }
        "/oauth/authorize" => {
            let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            let client = state
                .clients
                .lock()
                .unwrap()
                .get(params.get("client_id").map_or("", String::as_str))
                .cloned();
            let Some(client) = client else {
                return super::response(400, "unknown client");
            };
            let redirect = params.get("redirect_uri").cloned().unwrap_or_default();
            let registered = client["redirect_uris"]
                .as_array()
                .is_some_and(|uris| uris.iter().any(|u| u == &json!(redirect)));
            if !registered
                || params.get("code_challenge_method").map(String::as_str) != Some("S256")
            {
                return super::response(400, "bad authorization request");
            }
            resources
                .lock()
                .unwrap()
                .push(params.get("resource").cloned());
            let n = state.counter.fetch_add(1, Ordering::SeqCst);
            let code = format!("code_{n}");
            state.codes.lock().unwrap().insert(
                code.clone(),
                json!({
                    "client_id": params["client_id"],
                    "redirect_uri": redirect,
                    "challenge": params.get("code_challenge"),
                    "resource": params.get("resource"),
                    "scope": params.get("scope").cloned().unwrap_or_else(|| "profile email".into()),
                }),
            );
            let mut location = url::Url::parse(&redirect).unwrap();
            location.query_pairs_mut().append_pair("code", &code);
            if let Some(state) = params.get("state") {
                location.query_pairs_mut().append_pair("state", state);
            }
            let mut resp = super::response(302, Bytes::new());
            resp.headers_mut()
                .insert("location", location.as_str().parse().unwrap());
            resp
        }
        "/oauth/token" => {
            if !content_type.starts_with("application/x-www-form-urlencoded") {
                return json_response(400, &json!({"error": "invalid_request"}));
            }
            let form: HashMap<String, String> =
                form_urlencoded::parse(&body).into_owned().collect();
            let grant = match form.get("grant_type").map(String::as_str) {
                Some("authorization_code") => {
                    let Some(code) = form
                        .get("code")
                        .and_then(|c| state.codes.lock().unwrap().remove(c))
                    else {
                        return json_response(400, &json!({"error": "invalid_grant"}));
                    };
                    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
                    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                    if code["challenge"] != json!(challenge)
                        || code["client_id"] != json!(form.get("client_id"))
                        || code["redirect_uri"] != json!(form.get("redirect_uri"))
                    {
                        return json_response(400, &json!({"error": "invalid_grant"}));
                    }
                    code
                }
                Some("refresh_token") => {
                    let Some(grant) = form
                        .get("refresh_token")
                        .and_then(|t| state.codes.lock().unwrap().remove(t))
                    else {
                        return json_response(400, &json!({"error": "invalid_grant"}));
                    };
                    grant
                }
                _ => return json_response(400, &json!({"error": "unsupported_grant_type"})),
            };
            let n = state.counter.fetch_add(1, Ordering::SeqCst);
            let scope = grant["scope"].as_str().unwrap_or_default().to_owned();
            let access_token = if state.opaque_tokens.load(Ordering::SeqCst) {
                let token = format!("oat_opaque_{n}");
                let mut answer = json!({
                    "object": "clerk_idp_oauth_access_token", "id": format!("oat_id_{n}"),
                    "client_id": grant["client_id"], "subject": USER,
                    "scopes": scope.split(' ').collect::<Vec<_>>(),
                    "revoked": false, "expired": false, "expiration": (now() + 86_400) * 1000,
                });
                if let Some(resource) = grant["resource"].as_str() {
                    answer["aud"] = json!([resource]);
                }
                state
                    .opaque
                    .lock()
                    .unwrap()
                    .insert(token.clone(), Opaque { answer });
                token
            } else {
                let key = if state.rotated.load(Ordering::SeqCst) {
                    (Key::Second, "ins_key_2")
                } else {
                    (Key::First, "ins_key_1")
                };
                sign(
                    &claims(
                        &issuer,
                        grant["client_id"].as_str().unwrap_or_default(),
                        grant["resource"].as_str(),
                        &scope,
                    ),
                    Some("at+jwt"),
                    key.1,
                    key.0,
                    Algorithm::RS256,
                )
            };
            let refresh_token = format!("rt_{n}");
            state
                .codes
                .lock()
                .unwrap()
                .insert(refresh_token.clone(), grant.clone());
            json_response(
                200,
                &json!({
                    "access_token": access_token,
                    "token_type": "Bearer",
                    "expires_in": 86_400,
                    "refresh_token": refresh_token,
                    "scope": scope,
                }),
            )
        }
        _ => super::response(404, Bytes::new()),
    }
}

/// What the customer's app checks before it serves an M2M token (README, "Calling your
/// app"): the instance's RS256 signature, `iss`, `exp`, `aud` = the app, and `sub` = the
/// machine id of this MCP server (no other machine of the instance may act for users).
/// The claims, when all hold.
fn app_verifies(token: &str, issuer: &str) -> Option<Value> {
    let key =
        jsonwebtoken::DecodingKey::from_rsa_pem(fixture("instance-public.pem").as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .ok()?
        .claims;
    (claims["sub"] == MACHINE_ID && claims["user_id"].is_string()).then_some(claims)
}
