//! The official MCP conformance suite's server scenarios against the real `mcp`
//! component, with its fixture set turned on and a token from the real OAuth flow
//! (added to each request by `tests/clients/conformance-server.mjs`).

#[path = "../support/mod.rs"]
mod support;

use support::App;

/// Runs the suite of `revision` ("2025" or "2026"); returns its output. The 2026 run
/// succeeds only when its failures are exactly those of
/// `tests/clients/conformance-2026-baseline.yml` (no regression, no stale entry).
async fn run_suite(revision: &str) -> String {
    let app = App::start_with(
        support::project_manifest(),
        &[("conformance_fixtures", "true")],
    )
    .await;
    let (_, tokens) = support::oauth::sign_in_locally(&app, 31, "conformance").await;
    let token = tokens["access_token"].as_str().unwrap();
    let script = support::project_root().join("tests/clients/conformance-server.mjs");
    let output = tokio::process::Command::new("node")
        .arg(&script)
        .arg(app.host.url())
        .arg(revision)
        .env("MCP_TOKEN", token)
        .output()
        .await
        .expect("node must be installed to run the conformance suite");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "conformance suite failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_2025_server_suite_passes_every_scenario() {
    let stdout = run_suite("2025").await;
    println!("{stdout}");
    // One line per scenario: all 30 of the active suite ran, none failed.
    let scenarios = stdout
        .lines()
        .filter(|l| l.contains(" passed, ") && !l.starts_with("Total"))
        .count();
    assert_eq!(scenarios, 30, "{stdout}");
    assert!(stdout.contains(", 0 failed"), "{stdout}");
    let total = stdout
        .lines()
        .find(|l| l.starts_with("Total: "))
        .unwrap_or_default();
    assert!(total.ends_with(" passed, 0 failed"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_2026_server_suite_matches_its_baseline() {
    let stdout = run_suite("2026").await;
    println!("{stdout}");
    // The stateless core: discovery, headers, errors, tools, resources, prompts, caching.
    for scenario in [
        "completion-complete",
        "tools-list",
        "tools-call-with-progress",
        "server-sse-multiple-streams",
        "resources-templates-read",
        "sep-2164-resource-not-found",
        "prompts-get-with-args",
        "dns-rebinding-protection",
        "caching",
        "http-header-validation",
        "input-required-result-unsupported-methods",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!(" {scenario}: ")))
            .unwrap_or_else(|| panic!("{scenario} did not run:\n{stdout}"));
        assert!(line.ends_with(", 0 failed"), "{line}");
    }
    assert!(
        stdout.contains("server-stateless: 23 passed, 2 failed"),
        "{stdout}"
    );
}
