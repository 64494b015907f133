//! The test host behaves as Spin does: routing from `spin.toml`, the request Spin hands a
//! component, variables, outbound-host enforcement, the shared persistent key-value
//! store and streamed responses. Host features no real component uses yet are checked
//! through the `probe` fixture component.

#[path = "../support/mod.rs"]
mod support;

use std::sync::Arc;

use support::{App, Upstream, manifest_with, probe_wasm};

/// Two probe components (distinct ids, same wasm) with the store, one without it, and
/// one allowed to call a loopback port given by a variable.
fn probe_manifest() -> String {
    let wasm = probe_wasm();
    let wasm = wasm.display();
    manifest_with(&format!(
        r#"
[variables.greeting]
default = "hello"
[variables.upstream_port]
default = "1"

[[trigger.http]]
route = "/writer/..."
component = "probe-writer"
[[trigger.http]]
route = "/reader/..."
component = "probe-reader"
[[trigger.http]]
route = "/nokv/..."
component = "probe-nokv"

[component.probe-writer]
source = "{wasm}"
key_value_stores = ["default"]
allowed_outbound_hosts = ["http://127.0.0.1:{{{{ upstream_port }}}}"]
[component.probe-writer.variables]
greeting = "{{{{ greeting }}}}, world"

[component.probe-reader]
source = "{wasm}"
key_value_stores = ["default"]

[component.probe-nokv]
source = "{wasm}"
"#
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unrouted_path_is_not_found() {
    let app = App::start().await;
    for path in ["/index.html", "/nope", "/mcp/extra", "/tokens"] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_a_route_in_the_manifest_moves_it_in_the_host() {
    let moved =
        support::project_manifest().replace("route = \"/token\"", "route = \"/oauth/token\"");
    assert_ne!(
        moved,
        support::project_manifest(),
        "the manifest routes /token"
    );
    let app = App::start_with(moved, &[]).await;
    let form = [("grant_type", "authorization_code")];
    let old = app
        .client
        .post(app.url("/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 404);
    let new = app
        .client
        .post(app.url("/oauth/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    // The token component answers there: the client did not authenticate.
    assert_eq!(new.status(), 401);
    let body: serde_json::Value = new.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_receives_the_headers_spin_adds() {
    let app = App::start_with(probe_manifest(), &[]).await;
    let resp = app.get("/writer/headers?x=1").await;
    assert_eq!(resp.status(), 200);
    let headers: Vec<(String, String)> = resp.json().await.unwrap();
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let port = app.host.addr().port();
    assert_eq!(
        get("spin-full-url").unwrap(),
        format!("http://127.0.0.1:{port}/writer/headers?x=1")
    );
    assert_eq!(get("spin-path-info").unwrap(), "/headers");
    assert_eq!(get("spin-matched-route").unwrap(), "/writer/...");
    assert_eq!(get("spin-raw-component-route").unwrap(), "/writer/...");
    assert_eq!(get("spin-component-route").unwrap(), "/writer");
    assert_eq!(get("spin-base-path").unwrap(), "/");
    assert!(get("spin-client-addr").unwrap().starts_with("127.0.0.1:"));
    // wasi:http forbids `host` in incoming headers; the authority reaches the component
    // through spin-full-url (and the request's authority), as under Spin.
    assert_eq!(get("host"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_variables_expand_application_variables_and_overrides() {
    let app = App::start_with(probe_manifest(), &[]).await;
    let resp = app.get("/writer/var/greeting").await;
    assert_eq!(resp.text().await.unwrap(), "hello, world");
    let undeclared = app.get("/writer/var/app_url").await;
    assert_eq!(undeclared.status(), 404);
    assert!(undeclared.text().await.unwrap().contains("Undefined"));

    let app = App::start_with(probe_manifest(), &[("greeting", "goodbye")]).await;
    assert_eq!(
        app.get("/writer/var/greeting").await.text().await.unwrap(),
        "goodbye, world"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_requests_are_limited_to_allowed_hosts() {
    let allowed = Upstream::start(200, "pong").await;
    let other = Upstream::start(200, "should not be reached").await;
    let port = allowed.addr.port().to_string();
    let app = App::start_with(probe_manifest(), &[("upstream_port", &port)]).await;

    let ok = app
        .get(&format!("/writer/outbound?url={}", allowed.url("/ping")))
        .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "200 pong");

    let denied = app
        .get(&format!("/writer/outbound?url={}", other.url("/ping")))
        .await;
    assert_eq!(denied.status(), 502);
    assert!(denied.text().await.unwrap().contains("HttpRequestDenied"));
    assert_eq!(other.hits.load(std::sync::atomic::Ordering::SeqCst), 0);

    // A component with no allowed hosts may not call even the allowed one.
    let none = app
        .get(&format!("/reader/outbound?url={}", allowed.url("/ping")))
        .await;
    assert_eq!(none.status(), 502);
    assert_eq!(allowed.hits.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_value_is_shared_between_components_and_survives_a_restart() {
    let app = App::start_with(probe_manifest(), &[]).await;
    let put = app
        .client
        .put(app.url("/writer/kv/default/greeting"))
        .body("hi there")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    let read = app.get("/reader/kv/default/greeting").await;
    assert_eq!(read.status(), 200);
    assert_eq!(read.text().await.unwrap(), "hi there");
    assert_eq!(app.get("/reader/kv/default/missing").await.status(), 404);

    let dir = app.shutdown().await;
    let restarted = App::start_in(Arc::clone(&dir), probe_manifest(), &[]).await;
    let read = restarted.get("/reader/kv/default/greeting").await;
    assert_eq!(read.text().await.unwrap(), "hi there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_value_store_access_follows_the_manifest() {
    let app = App::start_with(probe_manifest(), &[]).await;
    let denied = app.get("/nokv/kv/default/x").await;
    assert_eq!(denied.status(), 403);
    assert_eq!(denied.text().await.unwrap(), "Error::AccessDenied");
    let ungranted = app.get("/writer/kv/other/x").await;
    assert_eq!(ungranted.text().await.unwrap(), "Error::AccessDenied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_label_without_a_backing_store_stops_the_app_from_starting() {
    // As in Spin: without runtime config only `default` exists.
    let manifest = probe_manifest().replace(
        "[component.probe-nokv]\n",
        "[component.probe-nokv]\nkey_value_stores = [\"sessions\"]\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_host::HostConfig::from_manifest_file(
        &support::project_root().join("spin.toml"),
        dir.path().join("kv.db"),
    )
    .unwrap();
    config.manifest = manifest;
    let error = test_host::Host::start(support::runtime(), config)
        .await
        .err()
        .expect("refused");
    assert!(format!("{error:#}").contains("sessions"), "{error:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_responses_arrive_while_the_component_is_still_writing() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let gated = Upstream::start_gated(200, "open", Some(gate.clone())).await;
    let port = gated.addr.port().to_string();
    let app = App::start_with(probe_manifest(), &[("upstream_port", &port)]).await;

    let mut resp = app
        .get(&format!("/writer/stream?gate={}", gated.url("/gate")))
        .await;
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    // The component is blocked on the gate, which opens only after we read the first
    // event: a host that buffered the body would never deliver it.
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), resp.chunk()).await;
    assert_eq!(
        first
            .expect("first event arrives before the body ends")
            .unwrap()
            .unwrap(),
        "data: first\n\n"
    );
    gate.notify_one();
    let mut rest = Vec::new();
    while let Some(chunk) = resp.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    assert_eq!(String::from_utf8(rest).unwrap(), "data: second 200\n\n");
}

#[test]
fn vendored_wit_matches_spin_sdk() {
    // The spin-sdk version the components build with, from the lockfile, and its
    // sources in cargo's registry cache (present: the components were just built).
    let lock = std::fs::read_to_string(support::project_root().join("Cargo.lock")).unwrap();
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"spin-sdk\""))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
        .map(|v| v.trim_end_matches('"').to_owned())
        .expect("spin-sdk in Cargo.lock");
    let cargo_home = std::env::var("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo")
        });
    let sdk_dir = std::fs::read_dir(cargo_home.join("registry/src"))
        .unwrap()
        .map(|entry| entry.unwrap().path().join(format!("spin-sdk-{version}")))
        .find(|dir| dir.is_dir())
        .expect("spin-sdk sources in the cargo registry");
    let vendored =
        std::fs::read_to_string(support::project_root().join("tests/wit/spin.wit")).unwrap();
    for file in ["key-value.wit", "variables.wit"] {
        let upstream =
            std::fs::read_to_string(sdk_dir.join("wit/deps/spin@2.0.0").join(file)).unwrap();
        assert!(
            vendored.contains(&upstream),
            "tests/wit/spin.wit differs from spin-sdk's {file}"
        );
    }
    for file in [
        "atomic.wit",
        "batch.wit",
        "store.wit",
        "watch.wit",
        "world.wit",
    ] {
        let upstream =
            std::fs::read_to_string(sdk_dir.join("wit/deps/keyvalue-2024-10-17").join(file))
                .unwrap();
        let vendored = std::fs::read_to_string(
            support::project_root()
                .join("tests/wit/deps/keyvalue")
                .join(file),
        )
        .unwrap();
        assert_eq!(
            vendored, upstream,
            "tests/wit/deps/keyvalue/{file} differs from spin-sdk's"
        );
    }
}

/// The relay component, whose `test:probe/greet` import the probe satisfies.
fn relay_manifest(dependencies: &str, inherit: bool) -> String {
    manifest_with(&format!(
        r#"
[variables.greeting]
default = "hello"

[[trigger.http]]
route = "/relay"
component = "relay"

[component.relay]
source = "target/wasm32-wasip2/release/relay.wasm"
dependencies_inherit_configuration = {inherit}
[component.relay.variables]
greeting = "{{{{ greeting }}}}"
[component.relay.dependencies]
{dependencies}
"#
    ))
}

const GREET_FROM_PROBE: &str =
    r#""test:probe/greet" = { path = "target/wasm32-wasip2/release/probe.wasm" }"#;

async fn start_error(manifest: String) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_host::HostConfig::from_manifest_file(
        &support::project_root().join("spin.toml"),
        dir.path().join("kv.db"),
    )
    .unwrap();
    config.manifest = manifest;
    let error = test_host::Host::start(support::runtime(), config)
        .await
        .err()
        .expect("the host refuses to start");
    format!("{error:#}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependency_satisfies_an_import_and_runs_with_the_parents_configuration() {
    let app = App::start_with(relay_manifest(GREET_FROM_PROBE, true), &[]).await;
    let resp = app.get("/relay?name=ann").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "hello, ann");

    let app = App::start_with(
        relay_manifest(GREET_FROM_PROBE, true),
        &[("greeting", "hi")],
    )
    .await;
    assert_eq!(
        app.get("/relay?name=bo").await.text().await.unwrap(),
        "hi, bo"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependency_wiring_errors_stop_the_app_from_starting() {
    // Without the dependency, the import is unsatisfied.
    let error = start_error(relay_manifest("", true)).await;
    assert!(
        error.contains("imports something the host does not provide"),
        "{error}"
    );

    // A name that matches none of the component's imports.
    let error = start_error(relay_manifest(
        r#""test:probe/other" = { path = "target/wasm32-wasip2/release/probe.wasm" }"#,
        true,
    ))
    .await;
    assert!(error.contains("doesn't match any imports"), "{error}");

    // A dependency that exports nothing of the kind.
    let error = start_error(relay_manifest(
        r#""test:probe/greet" = { path = "target/wasm32-wasip2/release/auth.wasm" }"#,
        true,
    ))
    .await;
    assert!(error.contains("doesn't export"), "{error}");

    // The probe uses Spin variables: Spin would deny them to a non-inheriting dependency,
    // even right after the same files were composed for an inheriting one.
    let _inheriting = App::start_with(relay_manifest(GREET_FROM_PROBE, true), &[]).await;
    let error = start_error(relay_manifest(GREET_FROM_PROBE, false)).await;
    assert!(
        error.contains("dependencies_inherit_configuration"),
        "{error}"
    );
}
