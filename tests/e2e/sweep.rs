//! A store that stays bounded: expired records are found through the expiry index, not
//! by listing keys, in sweeps of bounded cost that run after a cold request's answer;
//! and a registration that never signs anyone in expires soon. Every test drives the
//! real components; the host's clock is moved forward instead of waiting.

#[path = "../support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use store::sweep::{CALL_BUDGET, INTERVAL_SECS, MAX_CALLS};
use support::oauth::{self, Pkce};
use support::redis::RedisServer;
use support::{App, fill};

const HOUR: u64 = 3_600;
const DAY: u64 = 24 * HOUR;
/// Every kind of record that expires; grants also keep an upstream token and lock.
const KINDS: [&str; 7] = ["cl", "gr", "co", "si", "cm", "ms", "ma"];

/// The app with its store in `redis`.
async fn on_redis(redis: &RedisServer) -> App {
    App::start_on(
        Arc::new(tempfile::tempdir().unwrap()),
        support::project_manifest(),
        &[],
        redis.runtime_config(),
    )
    .await
}

async fn settle(app: &App) {
    assert!(
        app.host.settle(Duration::from_secs(30)).await,
        "a component kept running"
    );
}

/// Registers a client (a cold request, so it may sweep) and waits for its sweep.
async fn cold_request(app: &App) -> oauth::Client {
    let client = oauth::register_public(app).await;
    settle(app).await;
    client
}

/// The sweep's schedule, read alone (a snapshot of a full store costs seconds).
fn schedule(app: &App) -> Value {
    let bytes = app.host.kv().get("default", "cfg:sweep").unwrap().unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Sweeps until a sweep completes, one cold request per sweep; asserts each request
/// stayed within the sweep's budget of store calls (plus the registration's own).
async fn sweep_until_complete(app: &App) -> usize {
    let mut sweeps = 0;
    loop {
        fill::make_sweep_due(&app.host);
        app.host.reset_kv_stats();
        cold_request(app).await;
        let stats = app.host.kv_stats();
        // The registration itself: one increment and two writes.
        let calls = (stats.reads + stats.writes) as usize;
        assert!(calls <= MAX_CALLS + 3, "a sweep made {calls} store calls");
        sweeps += 1;
        if schedule(app)["exp"].as_u64().unwrap() >= app.host.now() + INTERVAL_SECS - 60 {
            return sweeps;
        }
        assert!(sweeps < 10_000, "the sweep never completes");
    }
}

/// `slots` index slots of two records each, of every kind in turn, expiring at `exp`;
/// each grant also gets an upstream token kept under its id. Returns the keys.
fn plant(app: &App, tag: &str, slots: usize, exp: u64) -> Vec<String> {
    let mut keys = Vec::new();
    let mut planted = Vec::new();
    let mut companions = Vec::new();
    for n in 0..slots {
        let slot: Vec<(String, Vec<u8>)> = (0..2)
            .map(|i| {
                let kind = KINDS[(2 * n + i) % KINDS.len()];
                let key = format!("{kind}:{tag}{n}-{i}");
                if kind == "gr" {
                    companions.push((format!("ut:{tag}{n}-{i}"), fill::body(exp + DAY)));
                }
                keys.push(key.clone());
                (key, fill::body(exp))
            })
            .collect();
        planted.push(slot);
    }
    fill::plant(&app.host, &planted, exp);
    app.host.kv().set_many("default", &companions).unwrap();
    keys
}

async fn a_full_store_is_swept_within_budget(app: App) {
    let (client, tokens) = oauth::sign_in_locally(&app, 90, "ada").await;
    settle(&app).await;
    let now = app.host.now();
    let expired = plant(&app, "old", 50_000, now + 60);
    let live = plant(&app, "live", 50, now + 10 * DAY);
    app.host.advance_clock(2 * HOUR);

    let sweeps = sweep_until_complete(&app).await;
    // 150,000 index reads at about CALL_BUDGET a sweep.
    assert!(
        sweeps >= 150_000 / CALL_BUDGET,
        "{sweeps} sweeps did more than their budget allows"
    );
    let stored: BTreeMap<String, Vec<u8>> = app.host.kv_snapshot();
    let survivors: Vec<&String> = expired.iter().filter(|k| stored.contains_key(*k)).collect();
    assert!(
        survivors.is_empty(),
        "{} expired records left",
        survivors.len()
    );
    assert!(
        !stored.keys().any(|k| k.starts_with("ut:old")),
        "upstream tokens of swept grants left"
    );
    for key in &live {
        assert!(stored.contains_key(key), "{key} swept while live");
    }
    // The index of the swept hour is gone with it.
    let swept_bucket = store::expiry::bucket_of(now + 60);
    assert!(!stored.keys().any(
        |k| k.starts_with(&format!("xs:{swept_bucket}:")) || *k == format!("xn:{swept_bucket}")
    ));
    let (status, body) =
        oauth::refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_expired_records_in_sqlite_are_swept_within_budget() {
    a_full_store_is_swept_within_budget(App::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_expired_records_in_redis_are_swept_within_budget() {
    let redis = RedisServer::start();
    let app = on_redis(&redis).await;
    a_full_store_is_swept_within_budget(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_records_are_swept_after_cold_requests_only() {
    let app = App::start().await;
    let (client, tokens) = oauth::sign_in_locally(&app, 62, "ada").await;
    settle(&app).await;
    let live_grant = app
        .host
        .kv_snapshot()
        .into_keys()
        .find(|k| k.starts_with("gr:"))
        .unwrap();
    let expired = plant(&app, "x", 7, app.host.now() + 60);
    app.host.advance_clock(2 * HOUR);
    fill::make_sweep_due(&app.host);
    let present = |key: &str| app.host.kv_snapshot().contains_key(key);

    // A sweep is due, but token refreshes and MCP requests never run it.
    let (status, _) =
        oauth::refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    app.client
        .post(app.url("/mcp"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    // A rejected request changes nothing, not even for housekeeping.
    let resp = app.get("/authorize?client_id=nobody").await;
    assert_eq!(resp.status(), 400);
    settle(&app).await;
    for key in &expired {
        assert!(present(key), "{key} swept by a hot or refused request");
    }

    // The consent page is a cold path: it sweeps, after its answer.
    oauth::open_consent(
        &app,
        &oauth::authorize_query(&app, &client, &Pkce::new(63), &[]),
    )
    .await;
    settle(&app).await;
    for key in &expired {
        assert!(!present(key), "{key} not swept");
    }
    assert!(present(&live_grant));
    assert!(present(&format!("cl:{}", client.id)));
    let due = schedule(&app)["exp"].as_u64().unwrap();
    assert!(
        due >= app.host.now() + INTERVAL_SECS - 60,
        "next sweep at {due}"
    );

    // Within the hour, registration (the other cold path) only reads the schedule.
    app.host.reset_kv_stats();
    cold_request(&app).await;
    assert_eq!(app.host.kv_stats().reads, 1, "one read of the schedule");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_that_never_sign_in_expire_with_their_sign_in() {
    let app = App::start_with(
        support::project_manifest(),
        &[("sign_in_lifetime", "10m"), ("code_lifetime", "10m")],
    )
    .await;
    // One client that signs a user in, among 10,000 that only register.
    let (kept, tokens) = oauth::sign_in_locally(&app, 91, "ada").await;
    let registered: Vec<String> = futures::future::join_all((0..8).map(|_| async {
        let mut ids = Vec::new();
        for _ in 0..1_250 {
            ids.push(oauth::register_public(&app).await.id);
        }
        ids
    }))
    .await
    .into_iter()
    .flatten()
    .collect();
    settle(&app).await;
    assert_eq!(registered.len(), 10_000);
    let client_keys = |app: &App| {
        app.host
            .kv_snapshot()
            .into_keys()
            .filter(|k| k.starts_with("cl:"))
            .count()
    };
    assert_eq!(client_keys(&app), 10_001);

    // Their provisional lifetime (a sign-in and its code: 20 minutes) passes, and the
    // hour they expire in closes: sweeping leaves only the client in use, and the one
    // registration each sweep itself makes.
    app.host.advance_clock(20 * 60 + 2 * HOUR);
    let sweeps = sweep_until_complete(&app).await;
    assert_eq!(client_keys(&app), 1 + sweeps);
    let resp = app
        .get(&format!(
            "/authorize?{}",
            oauth::authorize_query(
                &app,
                &oauth::Client {
                    id: registered[0].clone(),
                    secret: None
                },
                &Pkce::new(92),
                &[]
            )
        ))
        .await;
    assert_eq!(
        resp.status(),
        400,
        "a provisional client outlived its sign-in"
    );

    // The client that signed in lives its full 90 days from its last use: on day 89
    // (its grant long expired) it can still start a sign-in, and not on day 91.
    app.host.advance_clock(89 * DAY - 20 * 60 - 2 * HOUR);
    sweep_until_complete(&app).await;
    oauth::open_consent(
        &app,
        &oauth::authorize_query(&app, &kept, &Pkce::new(93), &[]),
    )
    .await;
    let (status, _) = oauth::refresh(&app, &kept, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 400, "the grant lives 30 days, not the client's 90");
    app.host.advance_clock(2 * DAY);
    sweep_until_complete(&app).await;
    let resp = app
        .get(&format!(
            "/authorize?{}",
            oauth::authorize_query(&app, &kept, &Pkce::new(94), &[])
        ))
        .await;
    assert_eq!(resp.status(), 400);
    assert!(
        !app.host
            .kv_snapshot()
            .contains_key(&format!("cl:{}", kept.id))
    );
}

/// Runs `scripts/reclaim` with `args`; what it printed.
fn reclaim(args: &[&str]) -> String {
    let output = std::process::Command::new(support::project_root().join("scripts/reclaim"))
        .args(args)
        .output()
        .expect("scripts/reclaim runs");
    assert!(
        output.status.success(),
        "scripts/reclaim {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Records from before the index are named by no slot, so no sweep finds them:
/// `scripts/reclaim` deletes the expired ones without Spin listing a key, and keeps
/// live records, settings, other applications' keys and values that are not records.
async fn unindexed_records_are_reclaimed_by_the_script(app: App, target: &[&str]) {
    let (client, tokens) = oauth::sign_in_locally(&app, 90, "ada").await;
    settle(&app).await;
    let now = app.host.now();
    let (mut expired, mut live, mut records) = (Vec::new(), Vec::new(), Vec::new());
    for kind in KINDS.iter().chain(&["ut", "ul"]) {
        for i in 0..300 {
            let key = format!("{kind}:legacy{i}");
            // One in three lives on; the rest expired a minute ago.
            let (list, exp) = if i % 3 == 0 {
                (&mut live, now + DAY)
            } else {
                (&mut expired, now - 60)
            };
            list.push(key.clone());
            records.push((key, fill::body(exp)));
        }
    }
    let kept = [
        ("cfg:legacy".to_owned(), fill::body(1)),
        ("other:legacy".to_owned(), fill::body(1)),
        ("gr:not-a-record".to_owned(), b"\x00\xff".to_vec()),
        ("co:no-expiry".to_owned(), br#"{"used":true}"#.to_vec()),
    ];
    records.extend(kept.iter().cloned());
    app.host.kv().set_many("default", &records).unwrap();
    let before = app.host.kv_snapshot().len();

    assert_eq!(
        reclaim(target),
        format!("reclaimed {} expired records", expired.len())
    );
    let stored = app.host.kv_snapshot();
    assert_eq!(stored.len(), before - expired.len());
    assert!(expired.iter().all(|key| !stored.contains_key(key)));
    assert!(live.iter().all(|key| stored.contains_key(key)));
    assert!(kept.iter().all(|(key, _)| stored.contains_key(key)));
    // The signed-in client's records are live, so its tokens still work.
    let (status, body) =
        oauth::refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(reclaim(target), "reclaimed 0 expired records");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unindexed_records_in_sqlite_are_reclaimed_by_the_script() {
    let app = App::start().await;
    let db = app.dir.path().join("kv.db");
    let db = db.to_str().unwrap().to_owned();
    unindexed_records_are_reclaimed_by_the_script(app, &["sqlite", &db]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unindexed_records_in_redis_are_reclaimed_by_the_script() {
    let redis = RedisServer::start();
    let app = on_redis(&redis).await;
    let url = redis.url();
    unindexed_records_are_reclaimed_by_the_script(app, &["redis", &url]).await;
}
