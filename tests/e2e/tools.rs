//! What `tools/list` tells clients about each tool, from the real component: the
//! annotations clients use to decide how to present and confirm a call, and schemas
//! that JSON Schema 2020-12 and the strict subsets of OpenAI, Gemini and the MCP
//! Inspector accept (`clients/schema-check.mjs`, which is shown to catch what it must
//! on `clients/fixtures/unportable-tools.json`), and the Inspector's own `--strict`.

#[path = "../support/mod.rs"]
mod support;

use serde_json::{Value, json};
use support::App;

async fn tools_list(app: &App) -> Value {
    let (_, tokens) = support::oauth::sign_in_locally(app, 60, "lin").await;
    let body = json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/list",
        "params": { "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        }},
    });
    let resp = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/list")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    answer["result"].clone()
}

async fn schema_findings(list: &Value) -> Vec<Value> {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), list.to_string()).unwrap();
    let (ok, stdout, stderr) =
        support::node("schema-check.mjs", &[file.path().to_str().unwrap()]).await;
    assert!(ok, "schema-check failed:\n{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    report["findings"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_says_what_it_does_to_the_world() {
    let app = App::start().await;
    let list = tools_list(&app).await;
    let annotations = |name: &str| {
        let tool = list["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} is listed"));
        assert_eq!(tool["title"], tool["annotations"]["title"], "{name}");
        let mut hints = tool["annotations"].clone();
        hints.as_object_mut().unwrap().remove("title");
        hints
    };
    let hints = |read_only, destructive, idempotent, open_world| {
        json!({
            "readOnlyHint": read_only, "destructiveHint": destructive,
            "idempotentHint": idempotent, "openWorldHint": open_world,
        })
    };
    assert_eq!(annotations("whoami"), hints(true, false, true, false));
    assert_eq!(annotations("add"), hints(true, false, true, false));
    assert_eq!(annotations("get_app_data"), hints(true, false, true, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_published_schema_passes_json_schema_and_the_strict_client_subsets() {
    let app = App::start().await;
    let list = tools_list(&app).await;
    let findings = schema_findings(&list).await;
    assert!(findings.is_empty(), "{findings:#?}");
    let tool = |name: &str| {
        list["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        tool("whoami")["inputSchema"],
        json!({"type": "object", "properties": {}, "additionalProperties": false}),
        "a tool without arguments"
    );
    let add = tool("add")["inputSchema"].clone();
    assert_eq!(add["required"], json!(["a", "b"]));
    assert_eq!(
        add["properties"]["a"],
        json!({"type": "number", "description": "The first addend."})
    );
    let whoami_out = tool("whoami")["outputSchema"].clone();
    assert_eq!(
        whoami_out["properties"]["session_id"]["anyOf"],
        json!([{"type": "string"}, {"type": "null"}]),
        "nullable as anyOf, not a type array"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mcp_inspectors_own_strict_lint_finds_nothing() {
    let app = App::start().await;
    let (_, tokens) = support::oauth::sign_in_locally(&app, 61, "ines").await;
    let (ok, stdout, stderr) = support::node(
        "inspector-strict.mjs",
        &[&app.url("/mcp"), tokens["access_token"].as_str().unwrap()],
    )
    .await;
    assert!(ok, "{stdout}\n{stderr}");
    let run: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(run["exit"], 0, "{run}");
    assert_eq!(
        run["tools"],
        json!(["whoami", "add", "get_app_data"]),
        "{run}"
    );
    assert_eq!(run["findings"], json!([]), "{run}");

    // The same lint does report the schemas strict clients refuse.
    let fixture = support::project_root().join("tests/clients/fixtures/unportable-tools.json");
    let (ok, stdout, stderr) = support::node(
        "inspector-strict.mjs",
        &["--serve", fixture.to_str().unwrap()],
    )
    .await;
    assert!(ok, "{stdout}\n{stderr}");
    let run: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(run["exit"], 6, "an error-severity finding: {run}");
    let rules: Vec<&str> = run["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|tool| tool["findings"].as_array().unwrap())
        .filter_map(|finding| finding["rule"].as_str())
        .collect();
    assert!(
        rules.contains(&"type-union") && rules.contains(&"boolean-schema"),
        "{run}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_check_catches_what_strict_clients_refuse() {
    let fixture = support::project_root().join("tests/clients/fixtures/unportable-tools.json");
    let list: Value = serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    let findings = schema_findings(&list).await;
    let found = |tool: &str, rule: &str, needle: &str| {
        findings.iter().any(|f| {
            f["tool"] == tool
                && f["rule"] == rule
                && f["message"].as_str().unwrap().contains(needle)
        })
    };
    let expected = [
        ("loose_object", "openai", "additionalProperties: false"),
        ("loose_object", "openai", "need properties"),
        ("schemars_defaults", "openai", "format double"),
        ("schemars_defaults", "openai", "must be required"),
        ("schemars_defaults", "openai", "boolean schemas"),
        ("schemars_defaults", "gemini", "single type"),
        ("schemars_defaults", "gemini", "keyword const"),
        ("schemars_defaults", "inspector", "type-union"),
        ("schemars_defaults", "inspector", "boolean-schema"),
        ("no_object_root", "openai", "root must not be anyOf"),
        ("no_object_root", "mcp", "object schema"),
        ("not_a_schema", "json-schema-2020-12", ""),
    ];
    for (tool, rule, needle) in expected {
        assert!(
            found(tool, rule, needle),
            "{tool} {rule} {needle}: {findings:#?}"
        );
    }
}
