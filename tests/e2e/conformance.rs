//! The official MCP conformance suite's server scenarios against the real `mcp`
//! component, with its fixture set turned on and a token from the real OAuth flow
//! (added to each request by `tests/clients/conformance-server.mjs`).

#[path = "../support/mod.rs"]
mod support;

use support::App;

/// Runs the suite of `revision` ("2025" or "2026"); returns its output once the suite
/// exited successfully.
async fn run_suite(revision: &str) -> String {
    let app = App::start_with(support::conformance_manifest(), &[]).await;
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

/// Asserts that `scenarios` scenarios ran, none failed and none warned (the suite
/// appends ", N warnings" to a scenario's line).
fn assert_all_passed(stdout: &str, scenarios: usize) {
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(" passed, ") && !l.starts_with("Total"))
        .collect();
    assert_eq!(lines.len(), scenarios, "{stdout}");
    for line in lines {
        assert!(line.ends_with(", 0 failed"), "{line}");
    }
    let total = stdout
        .lines()
        .find(|l| l.starts_with("Total: "))
        .unwrap_or_default();
    assert!(total.ends_with(" passed, 0 failed"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_2025_server_suite_passes_every_scenario() {
    let stdout = run_suite("2025").await;
    println!("{stdout}");
    // The active suite of 0.1.16 has 30 server scenarios.
    assert_all_passed(&stdout, 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_2026_server_suite_passes_every_scenario() {
    let stdout = run_suite("2026").await;
    println!("{stdout}");
    // Every 2026-07-28 scenario of 0.2.0-alpha.12 but the tasks extension: 40, among
    // them the stateless core, the input-required results and header validation.
    assert_all_passed(&stdout, 40);
    for scenario in [
        "server-stateless",
        "input-required-result-multi-round",
        "input-required-result-tampered-state",
        "http-custom-header-server-validation",
        "json-schema-2020-12",
    ] {
        assert!(
            stdout.contains(&format!(" {scenario}: ")),
            "{scenario}: {stdout}"
        );
    }
}
