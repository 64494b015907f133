//! Clerk's webhooks at `/webhooks/clerk`, signed as Svix signs them, against the real
//! `token` component: events that end access end exactly the grants they concern (their
//! refresh tokens `invalid_grant`, their access tokens 401 at `/mcp`), every refused
//! delivery changes nothing in the store, and a delivery that fails midway is not
//! remembered, so that Svix's retry does the work.

#[path = "../support/mod.rs"]
mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use sha2::Sha256;
use support::App;
use support::clerk::{self, MockClerk};
use support::oauth;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET: &str = "whsec_c2VjcmV0LXR3by1mb3ItYW5vdGhlci1lbmRwb2ludA==";

fn now() -> u64 {
    support::unix_now()
}

/// `v1,<signature>` of a delivery, as Svix computes it.
fn sign(secret: &str, id: &str, timestamp: u64, body: &str) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// One delivery: its headers (any may be left out) and body.
struct Delivery {
    id: Option<String>,
    timestamp: Option<String>,
    signature: Option<String>,
    body: String,
}

impl Delivery {
    /// A delivery of `event`, signed with `SECRET` now.
    fn signed(id: &str, event: &Value) -> Self {
        let body = event.to_string();
        let timestamp = now();
        Self {
            id: Some(id.into()),
            timestamp: Some(timestamp.to_string()),
            signature: Some(sign(SECRET, id, timestamp, &body)),
            body,
        }
    }
}

async fn deliver(app: &App, delivery: &Delivery) -> (u16, Value) {
    let mut req = app
        .client
        .post(app.url("/webhooks/clerk"))
        .header("content-type", "application/json")
        .body(delivery.body.clone());
    for (name, value) in [
        ("svix-id", &delivery.id),
        ("svix-timestamp", &delivery.timestamp),
        ("svix-signature", &delivery.signature),
    ] {
        if let Some(value) = value {
            req = req.header(name, value);
        }
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn user_deleted(user_id: &str) -> Value {
    json!({"type": "user.deleted", "object": "event", "timestamp": now() * 1000,
        "instance_id": "ins_1", "event_attributes": {},
        "data": {"deleted": true, "id": user_id, "object": "user"}})
}

fn session_event(kind: &str, user_id: &str, session_id: &str) -> Value {
    json!({"type": kind, "object": "event", "timestamp": now() * 1000,
        "instance_id": "ins_1", "event_attributes": {},
        "data": {"id": session_id, "object": "session", "user_id": user_id,
            "client_id": "client_1", "status": "ended", "last_active_at": now() * 1000}})
}

fn user_updated(user_id: &str, banned: bool) -> Value {
    json!({"type": "user.updated", "object": "event", "timestamp": now() * 1000,
        "instance_id": "ins_1", "event_attributes": {},
        "data": {"id": user_id, "object": "user", "banned": banned, "locked": false,
            "first_name": "Ada", "email_addresses": []}})
}

async fn app_with_webhooks(mock: &MockClerk) -> App {
    let mut vars = mock.variables();
    vars.push(("clerk_webhook_secret", SECRET.into()));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    App::start_with(support::project_manifest(), &vars).await
}

/// A signed-in client of `user` through Clerk session `session`: its client and tokens.
struct Signed {
    client: oauth::Client,
    refresh: String,
    access: String,
}

async fn sign_in(app: &App, mock: &MockClerk, seed: u8, user: &str, session: &str) -> Signed {
    let mut claims = clerk::claims(&mock.origin);
    claims["sub"] = json!(user);
    claims["sid"] = json!(session);
    // Valid for a while, for tests that move the host clock on.
    claims["exp"] = json!(now() + 600);
    mock.set_token(clerk::sign(&claims, false, "ins_key_1", Algorithm::RS256));
    let (client, tokens) = clerk::sign_in(app, seed).await;
    Signed {
        client,
        refresh: tokens["refresh_token"].as_str().unwrap().to_owned(),
        access: tokens["access_token"].as_str().unwrap().to_owned(),
    }
}

/// Whether `signed`'s grant still works: its access token at `/mcp` and its refresh
/// token at `/token` (which rotates it, so `signed` keeps the new one).
async fn still_works(app: &App, signed: &mut Signed) -> bool {
    let (status, _, challenge) = clerk::get_app_data(app, &signed.access).await;
    let mcp_ok = status == 200;
    assert!(mcp_ok || (status == 401 && challenge.is_some()), "{status}");
    let (status, body) = oauth::refresh(app, &signed.client, &signed.refresh).await;
    let refresh_ok = status == 200;
    if refresh_ok {
        signed.refresh = body["refresh_token"].as_str().unwrap().to_owned();
        signed.access = body["access_token"].as_str().unwrap().to_owned();
    } else {
        assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")));
    }
    assert_eq!(mcp_ok, refresh_ok, "the access and refresh tokens disagree");
    mcp_ok
}

fn keys_with_prefix(app: &App, prefix: &str) -> usize {
    app.host
        .kv_snapshot()
        .keys()
        .filter(|k| k.starts_with(prefix))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_user_loses_every_grant_and_no_one_else_does() {
    let mock = MockClerk::start().await;
    let app = app_with_webhooks(&mock).await;
    let mut ada_one = sign_in(&app, &mock, 1, "user_ada", "sess_a1").await;
    let mut ada_two = sign_in(&app, &mock, 2, "user_ada", "sess_a2").await;
    let mut bob = sign_in(&app, &mock, 3, "user_bob", "sess_b1").await;
    assert_eq!(keys_with_prefix(&app, "ug:"), 3, "one index slot per grant");

    let delivery = Delivery::signed("msg_1", &user_deleted("user_ada"));
    let (status, body) = deliver(&app, &delivery).await;
    assert_eq!((status, &body["ended"]), (200, &json!(2)), "{body}");
    assert!(!still_works(&app, &mut ada_one).await);
    assert!(!still_works(&app, &mut ada_two).await);
    assert!(still_works(&app, &mut bob).await);
    assert_eq!(keys_with_prefix(&app, "ug:"), 1, "Bob's slot stays");
    assert_eq!(keys_with_prefix(&app, "un:"), 1, "Bob's counter stays");

    // Svix's retry of the same delivery (the same bytes, not a rebuilt event whose
    // timestamp may have moved on): answered 2xx, nothing more happens.
    let before = app.host.kv_snapshot();
    let (status, body) = deliver(&app, &delivery).await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("already processed"))
    );
    assert_eq!(app.host.kv_snapshot(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_session_loses_its_grants_only() {
    let mock = MockClerk::start().await;
    let app = app_with_webhooks(&mock).await;
    for (i, kind) in ["session.ended", "session.revoked", "session.removed"]
        .into_iter()
        .enumerate()
    {
        let seed = u8::try_from(10 * i).unwrap();
        let (ending, other) = (format!("sess_end_{i}"), format!("sess_keep_{i}"));
        let mut in_ending = sign_in(&app, &mock, seed + 1, "user_ada", &ending).await;
        let mut also_in_ending = sign_in(&app, &mock, seed + 2, "user_ada", &ending).await;
        let mut in_other = sign_in(&app, &mock, seed + 3, "user_ada", &other).await;
        let event = session_event(kind, "user_ada", &ending);
        let (status, body) = deliver(&app, &Delivery::signed(&format!("msg_{i}"), &event)).await;
        assert_eq!((status, &body["ended"]), (200, &json!(2)), "{kind}: {body}");
        assert!(!still_works(&app, &mut in_ending).await, "{kind}");
        assert!(!still_works(&app, &mut also_in_ending).await, "{kind}");
        assert!(
            still_works(&app, &mut in_other).await,
            "{kind}: another session"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_ends_the_users_grants_and_other_updates_change_nothing() {
    let mock = MockClerk::start().await;
    let app = app_with_webhooks(&mock).await;
    let mut ada = sign_in(&app, &mock, 1, "user_ada", "sess_a1").await;

    let before = app.host.kv_snapshot();
    let (status, _) = deliver(
        &app,
        &Delivery::signed("msg_1", &user_updated("user_ada", false)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app.host.kv_snapshot(), before, "an update without a ban");
    let created = json!({"type": "user.created", "object": "event", "data": {"id": "user_new"}});
    let (status, _) = deliver(&app, &Delivery::signed("msg_2", &created)).await;
    assert_eq!(
        status, 200,
        "an event we do not act on still counts as delivered"
    );
    assert_eq!(app.host.kv_snapshot(), before, "an unknown event");
    assert!(still_works(&app, &mut ada).await);

    let (status, body) = deliver(
        &app,
        &Delivery::signed("msg_3", &user_updated("user_ada", true)),
    )
    .await;
    assert_eq!((status, &body["ended"]), (200, &json!(1)), "{body}");
    assert!(!still_works(&app, &mut ada).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_deliveries_get_their_status_and_change_nothing() {
    let mock = MockClerk::start().await;
    let app = app_with_webhooks(&mock).await;
    let mut ada = sign_in(&app, &mock, 1, "user_ada", "sess_a1").await;
    // Processed once, so that its id is remembered.
    let first = Delivery::signed("msg_seen", &user_deleted("user_nobody"));
    assert_eq!(deliver(&app, &first).await.0, 200);

    let event = user_deleted("user_ada");
    let body = event.to_string();
    let t = now();
    let with = |id: &str, timestamp: u64, signature: String| Delivery {
        id: Some(id.into()),
        timestamp: Some(timestamp.to_string()),
        signature: Some(signature),
        body: body.clone(),
    };
    let cases: Vec<(&str, Delivery, u16, &str)> = vec![
        (
            "forged signature",
            with("msg_1", t, format!("v1,{}", STANDARD.encode([7u8; 32]))),
            401,
            "invalid_signature",
        ),
        (
            "another secret",
            with("msg_1", t, sign(OTHER_SECRET, "msg_1", t, &body)),
            401,
            "invalid_signature",
        ),
        (
            "6 minutes old",
            with("msg_1", t - 360, sign(SECRET, "msg_1", t - 360, &body)),
            401,
            "invalid_signature",
        ),
        (
            "6 minutes ahead",
            with("msg_1", t + 360, sign(SECRET, "msg_1", t + 360, &body)),
            401,
            "invalid_signature",
        ),
        (
            "signed for another svix-id",
            with("msg_1", t, sign(SECRET, "msg_2", t, &body)),
            401,
            "invalid_signature",
        ),
        (
            "a v2 entry only",
            with(
                "msg_1",
                t,
                sign(SECRET, "msg_1", t, &body).replacen("v1,", "v2,", 1),
            ),
            401,
            "invalid_signature",
        ),
        (
            "no svix-signature",
            Delivery {
                signature: None,
                ..with("msg_1", t, String::new())
            },
            400,
            "invalid_request",
        ),
        (
            "no svix-id",
            Delivery {
                id: None,
                ..with("msg_1", t, String::new())
            },
            400,
            "invalid_request",
        ),
        (
            "no svix-timestamp",
            Delivery {
                timestamp: None,
                ..with("msg_1", t, String::new())
            },
            400,
            "invalid_request",
        ),
        (
            "a remembered id with another body",
            with("msg_seen", t, sign(SECRET, "msg_seen", t, &body)),
            409,
            "conflict",
        ),
    ];
    let signed_raw = |id: &str, raw: &str| Delivery {
        id: Some(id.into()),
        timestamp: Some(t.to_string()),
        signature: Some(sign(SECRET, id, t, raw)),
        body: raw.into(),
    };
    let malformed = [
        ("not JSON", signed_raw("msg_m1", "not json")),
        (
            "not an event",
            signed_raw(
                "msg_m2",
                r#"{"type":"user.deleted","object":"user","data":{"id":"user_ada"}}"#,
            ),
        ),
        (
            "no user id",
            signed_raw(
                "msg_m3",
                r#"{"type":"user.deleted","object":"event","data":{"deleted":true}}"#,
            ),
        ),
    ];

    let before = app.host.kv_snapshot();
    for (what, delivery, status, error) in &cases {
        let (got, body) = deliver(&app, delivery).await;
        assert_eq!(
            (got, body["error"].as_str().unwrap_or("")),
            (*status, *error),
            "{what}: {body}"
        );
    }
    for (what, delivery) in &malformed {
        let (got, body) = deliver(&app, delivery).await;
        assert_eq!(
            (got, &body["error"]),
            (400, &json!("invalid_event")),
            "{what}: {body}"
        );
    }
    assert_eq!(
        app.host.kv_snapshot(),
        before,
        "a refused delivery changed the store"
    );
    assert!(still_works(&app, &mut ada).await);

    // One wrong and one right signature: Svix sends several after a secret rotation.
    let rotated = with(
        "msg_9",
        t,
        format!(
            "v1,{} {}",
            STANDARD.encode([7u8; 32]),
            sign(SECRET, "msg_9", t, &body)
        ),
    );
    let (status, body) = deliver(&app, &rotated).await;
    assert_eq!((status, &body["ended"]), (200, &json!(1)), "{body}");
    assert!(!still_works(&app, &mut ada).await);

    // Other methods, and bodies past the limit.
    let get = app
        .client
        .get(app.url("/webhooks/clerk"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    let huge = app
        .client
        .post(app.url("/webhooks/clerk"))
        .body(vec![b' '; 300 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_secret_the_endpoint_is_off_and_says_which_variable_turns_it_on() {
    let mock = MockClerk::start().await;
    let app = clerk::app(&mock).await;
    let before = app.host.kv_snapshot();
    let (status, body) = deliver(&app, &Delivery::signed("msg_1", &user_deleted("user_ada"))).await;
    assert_eq!(status, 404);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("clerk_webhook_secret")
    );
    assert_eq!(app.host.kv_snapshot(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_that_fails_midway_is_not_remembered_and_its_retry_does_the_work() {
    let mock = MockClerk::start().await;
    let app = app_with_webhooks(&mock).await;
    let mut ada_one = sign_in(&app, &mock, 1, "user_ada", "sess_a1").await;
    let mut ada_two = sign_in(&app, &mock, 2, "user_ada", "sess_a2").await;
    let mut bob = sign_in(&app, &mock, 3, "user_bob", "sess_b1").await;
    let delivery = Delivery::signed("msg_1", &user_deleted("user_ada"));

    // The store fails after 0, 1, 2, … commands, until the delivery gets through: each
    // failure answers 503 (so Svix retries) and is not remembered as processed.
    let mut failed_after_ending = false;
    let mut commands = 0;
    loop {
        app.host.set_store_refusing_after(commands);
        let (status, body) = deliver(&app, &delivery).await;
        app.host.set_store_refusing(false);
        if status == 200 {
            assert_eq!(body["status"], "processed", "{body}");
            break;
        }
        assert_eq!(
            (status, &body["error"]),
            (503, &json!("temporarily_unavailable")),
            "{body}"
        );
        assert_eq!(
            keys_with_prefix(&app, "wh:"),
            0,
            "a failed delivery was remembered"
        );
        let grants_left = keys_with_prefix(&app, "gr:");
        failed_after_ending |= grants_left == 1;
        commands += 1;
        assert!(commands < 50, "the delivery never got through");
    }
    assert!(
        failed_after_ending,
        "no failure came after the grants had ended"
    );
    assert_eq!(keys_with_prefix(&app, "wh:"), 1);
    assert!(!still_works(&app, &mut ada_one).await);
    assert!(!still_works(&app, &mut ada_two).await);
    assert!(still_works(&app, &mut bob).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_keeps_the_users_index_and_a_late_retry_spares_grants_made_after_it() {
    let mock = MockClerk::start().await;
    let app = app_with_webhooks(&mock).await;
    let mut before_ban = sign_in(&app, &mock, 1, "user_ada", "sess_a1").await;
    let ban = user_updated("user_ada", true);
    // Unbanned, the user signs in again later; Svix's retry of the ban arrives after.
    app.host.advance_clock(120);
    let mut after_unban = sign_in(&app, &mock, 2, "user_ada", "sess_a2").await;
    let (status, body) = deliver(&app, &Delivery::signed("msg_1", &ban)).await;
    assert_eq!((status, &body["ended"]), (200, &json!(1)), "{body}");
    assert!(!still_works(&app, &mut before_ban).await);
    assert!(
        still_works(&app, &mut after_unban).await,
        "made after the ban"
    );
    assert_eq!(keys_with_prefix(&app, "un:"), 1, "a ban is not a deletion");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_from_before_the_index_is_indexed_at_its_next_refresh() {
    let mock = MockClerk::start().await;
    let app = app_with_webhooks(&mock).await;
    let mut signed = sign_in(&app, &mock, 1, "user_ada", "sess_a1").await;
    // Make it a grant as an older version stored it: no slot, no index.
    let snapshot = app.host.kv_snapshot();
    let (grant_key, grant) = snapshot
        .iter()
        .find(|(k, _)| k.starts_with("gr:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap();
    let mut old: Value = serde_json::from_slice(&grant).unwrap();
    old.as_object_mut().unwrap().remove("user_slot");
    app.host.kv_put(&grant_key, old.to_string().as_bytes());
    for key in snapshot
        .keys()
        .filter(|k| k.starts_with("ug:") || k.starts_with("un:"))
    {
        app.host.kv_delete(key);
    }
    assert!(
        still_works(&app, &mut signed).await,
        "the refresh indexes it"
    );
    assert_eq!(keys_with_prefix(&app, "ug:"), 1);
    let (status, body) = deliver(&app, &Delivery::signed("msg_1", &user_deleted("user_ada"))).await;
    assert_eq!((status, &body["ended"]), (200, &json!(1)), "{body}");
    assert!(!still_works(&app, &mut signed).await);
}
